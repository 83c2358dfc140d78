//! Runs pipeline jobs on this machine.
//!
//! - [`sandbox`]: the trampoline that a job's process starts in. `dso`
//!   re-executes itself as `dso __sandbox` (single-threaded from the start,
//!   which `unshare` and Landlock need), puts the job in its own process
//!   group, applies CPU and memory limits, new PID and network namespaces,
//!   and a Landlock ruleset (the file system read-only except the work
//!   directory and the job's own writable directories; no TCP unless the job
//!   has `network: on`), then executes `bash`.
//! - [`exec`]: starts a job through the trampoline, streams its merged
//!   output line by line, enforces the timeout and cancellation by killing
//!   the whole process group, and keeps the masked log gzip-compressed.
//! - [`mask`]: replaces secret values, and their base64 and URL-encoded
//!   forms, in every line before anyone sees it.
//!
//! Architecture invariant: this crate knows nothing of the store, the event
//! log or the pipeline file; `dso-app` tells it what to run and records what
//! happened.

pub mod exec;
pub mod mask;
pub mod sandbox;

pub use exec::{JobEnd, JobOutput, JobSpec, LogWriter, run_job};
pub use mask::Masker;
pub use sandbox::{SANDBOX_ARG, SandboxSpec, trampoline_main};
