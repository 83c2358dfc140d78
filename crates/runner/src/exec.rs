//! Starting a job through the sandbox trampoline and watching it finish.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::watch;

use crate::mask::Masker;
use crate::sandbox::{SANDBOX_ARG, SPEC_VAR, SandboxSpec};

/// Longest line kept whole; longer lines are split.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Most log bytes kept per job; the rest is counted but not stored.
pub const MAX_LOG_BYTES: u64 = 64 * 1024 * 1024;

/// How long to wait for output after the job's process exited (background
/// processes that escaped the process group may hold the pipe open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// One job to run.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub sandbox: SandboxSpec,
    /// The job's whole environment (nothing is inherited).
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// The `dso` executable, which acts as the trampoline.
    pub trampoline: PathBuf,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// The job's program exited with this status (128 + n when killed by signal n).
    Exited(i32),
    /// The timeout passed; the process group was killed.
    TimedOut,
    /// The run was cancelled (Ctrl-C); the process group was killed.
    Cancelled,
    /// The trampoline could not be started.
    SpawnFailed(String),
}

impl JobEnd {
    pub fn succeeded(&self) -> bool {
        *self == JobEnd::Exited(0)
    }
}

/// What a finished job left.
#[derive(Debug)]
pub struct JobOutput {
    pub end: JobEnd,
    pub duration: Duration,
    /// The masked log, gzip-compressed.
    pub log_gzip: Vec<u8>,
    pub n_lines: u64,
    pub n_bytes: u64,
}

/// Runs `spec`, passing each masked output line (stdout and stderr merged,
/// in order) to `on_line`. Ends at exit, timeout or when `cancel` becomes true,
/// always killing the whole process group before returning.
pub async fn run_job(
    spec: &JobSpec,
    masker: &Masker,
    mut cancel: watch::Receiver<bool>,
    mut on_line: impl FnMut(&str),
) -> JobOutput {
    let started = Instant::now();
    let mut log = LogWriter::new();
    let failed = |message: String, log: LogWriter| {
        let (log_gzip, n_lines, n_bytes) = log.finish();
        JobOutput {
            end: JobEnd::SpawnFailed(message),
            duration: started.elapsed(),
            log_gzip,
            n_lines,
            n_bytes,
        }
    };
    let (reader, writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(err) => return failed(format!("cannot create a pipe: {err}"), log),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(err) => return failed(format!("cannot duplicate a pipe: {err}"), log),
    };
    let mut cmd = if spec.sandbox.isolate {
        let spec_json =
            serde_json::to_string(&spec.sandbox).expect("a sandbox spec always serialises");
        let mut cmd = tokio::process::Command::new(&spec.trampoline);
        cmd.arg(SANDBOX_ARG)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .env(SPEC_VAR, spec_json);
        cmd
    } else {
        // Without isolation the trampoline would only set limits and start
        // the program: do that here and save a process start per job.
        let Some((program, args)) = spec.sandbox.argv.split_first() else {
            return failed("no program to run".into(), log);
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&spec.sandbox.workdir)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)));
        let (cpu, memory) = (spec.sandbox.cpu_seconds, spec.sandbox.memory_bytes);
        // SAFETY: the closure runs between fork and exec and makes only
        // async-signal-safe system calls (getrlimit, setrlimit, prctl); it
        // allocates nothing.
        unsafe {
            cmd.pre_exec(move || crate::sandbox::limit_self(cpu, memory));
        }
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .process_group(0)
        .kill_on_drop(true);
    let spawned = cmd.spawn();
    // The command holds our copies of the pipe's write end; drop them so
    // that the reader sees EOF once the job's processes are gone.
    drop(cmd);
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            return failed(
                format!("cannot start {}: {err}", spec.trampoline.display()),
                log,
            );
        }
    };
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    let kill_group = || {
        if let Some(pgid) = pgid {
            // ESRCH (nothing left) is the normal case after a clean exit.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    };

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(256);
    std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        loop {
            let mut line = Vec::new();
            match read_line_capped(&mut reader, &mut line, MAX_LINE_BYTES) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.blocking_send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let deadline = tokio::time::sleep(spec.timeout);
    tokio::pin!(deadline);
    let mut end: Option<JobEnd> = None;
    let mut exited_at: Option<Instant> = None;
    let mut output_done = false;
    while !(end.is_some() && output_done) {
        let grace = async {
            match exited_at {
                Some(t) => tokio::time::sleep(DRAIN_GRACE.saturating_sub(t.elapsed())).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            line = rx.recv(), if !output_done => match line {
                Some(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let masked = masker.mask(text.trim_end_matches(['\n', '\r']));
                    log.push(&masked);
                    on_line(&masked);
                }
                None => output_done = true,
            },
            status = child.wait(), if end.is_none() => {
                kill_group();
                exited_at = Some(Instant::now());
                end = Some(match status {
                    Ok(status) => JobEnd::Exited(exit_code(status)),
                    Err(err) => JobEnd::SpawnFailed(format!("waiting for the job: {err}")),
                });
            },
            _ = &mut deadline, if end.is_none() => {
                kill_group();
                let _ = child.wait().await;
                exited_at = Some(Instant::now());
                end = Some(JobEnd::TimedOut);
            },
            changed = cancel.changed(), if end.is_none() => {
                if changed.is_err() || *cancel.borrow() {
                    kill_group();
                    let _ = child.wait().await;
                    exited_at = Some(Instant::now());
                    end = Some(JobEnd::Cancelled);
                }
            },
            _ = grace, if !output_done => {
                log.push("[dso] output still open after the job exited; a background process escaped the process group");
                output_done = true;
            },
        }
    }
    let (log_gzip, n_lines, n_bytes) = log.finish();
    JobOutput {
        end: end.expect("the loop ends only once the job has ended"),
        duration: started.elapsed(),
        log_gzip,
        n_lines,
        n_bytes,
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Reads up to and including `\n`, but at most `cap` bytes. Returns bytes read.
fn read_line_capped(
    reader: &mut impl BufRead,
    out: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let room = cap - total;
        let window = &available[..available.len().min(room)];
        let (n, done) = match window.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (window.len(), window.len() == room),
        };
        out.extend_from_slice(&window[..n]);
        reader.consume(n);
        total += n;
        if done {
            return Ok(total);
        }
    }
}

/// Accumulates the masked log, gzip-compressed, up to [`MAX_LOG_BYTES`]
/// (public so that in-process built-in steps keep their log in the same form).
pub struct LogWriter {
    encoder: GzEncoder<Vec<u8>>,
    n_lines: u64,
    n_bytes: u64,
    truncated: bool,
}

impl Default for LogWriter {
    fn default() -> LogWriter {
        LogWriter::new()
    }
}

impl LogWriter {
    /// An empty log.
    pub fn new() -> LogWriter {
        LogWriter {
            encoder: GzEncoder::new(Vec::new(), Compression::fast()),
            n_lines: 0,
            n_bytes: 0,
            truncated: false,
        }
    }

    /// Appends one line (already masked), without its newline.
    pub fn push(&mut self, line: &str) {
        self.n_lines += 1;
        self.n_bytes += line.len() as u64 + 1;
        if self.n_bytes > MAX_LOG_BYTES {
            if !self.truncated {
                self.truncated = true;
                let _ = self
                    .encoder
                    .write_all(b"[dso] log truncated: the job printed more than 64 MiB\n");
            }
            return;
        }
        // Writing into a Vec cannot fail.
        let _ = self.encoder.write_all(line.as_bytes());
        let _ = self.encoder.write_all(b"\n");
    }

    /// The compressed log, its number of lines and of bytes.
    pub fn finish(self) -> (Vec<u8>, u64, u64) {
        let bytes = self.encoder.finish().unwrap_or_default();
        (bytes, self.n_lines, self.n_bytes)
    }
}

/// Decompresses a stored log.
pub fn read_log(gzip: &[u8]) -> std::io::Result<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzip).read_to_string(&mut text)?;
    Ok(text)
}

/// True when a process with this id exists (used to find runs whose `dso`
/// was killed).
pub fn process_alive(pid: i32) -> bool {
    match nix::sys::signal::kill(Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}
