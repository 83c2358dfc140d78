//! Work that may take long or never return, run where a timeout or a
//! cancellation can abandon it.
//!
//! On a thread of its own, detached, rather than tokio's `spawn_blocking`:
//! a runtime waits for its blocking pool when it shuts down, so abandoned
//! work that never returns (a read of a FIFO, a Rego policy that loops)
//! would keep `dso run` from exiting after the run ended. An abandoned
//! thread stops when its work returns or with the process. Callers store
//! nothing until the work has returned, so abandoning it stores nothing.

/// Runs `f` on a new thread named `name` and waits for its result without
/// blocking the runtime. `Err` says why there is no result: the thread could
/// not start, or it panicked.
pub(crate) async fn run<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            // The receiver is gone when the work was abandoned.
            let _ = tx.send(f());
        })
        .map_err(|err| format!("cannot start a thread for it: {err}"))?;
    rx.await
        .map_err(|_| "it stopped unexpectedly (its thread panicked)".to_owned())
}
