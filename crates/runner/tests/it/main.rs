//! The runner against the real kernel: sandbox, process groups, timeouts, masking.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dso_runner::{JobEnd, JobOutput, JobSpec, Masker, SandboxSpec, run_job};

struct Job {
    dir: tempfile::TempDir,
    spec: JobSpec,
    masker: Masker,
}

impl Job {
    fn new(script: &str) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let spec = JobSpec {
            sandbox: SandboxSpec {
                argv: vec!["bash".into(), "-c".into(), script.into()],
                workdir: work,
                writable: Vec::new(),
                network: false,
                isolate: true,
                cpu_seconds: None,
                memory_bytes: None,
            },
            env: vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())],
            timeout: Duration::from_secs(60),
            trampoline: PathBuf::from(env!("CARGO_BIN_EXE_dso-sandbox")),
        };
        Job {
            dir,
            spec,
            masker: Masker::none(),
        }
    }

    fn work(&self) -> &Path {
        &self.spec.sandbox.workdir
    }

    fn env(mut self, key: &str, value: &str) -> Job {
        self.spec.env.push((key.into(), value.into()));
        self
    }

    fn run(&self) -> (JobOutput, Vec<String>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (_tx, cancel) = tokio::sync::watch::channel(false);
        let mut lines = Vec::new();
        let out = rt.block_on(run_job(&self.spec, &self.masker, cancel, |l| {
            lines.push(l.to_owned())
        }));
        (out, lines)
    }
}

#[test]
fn output_is_captured_in_order_with_the_exit_status() {
    let (out, lines) = Job::new("echo one; echo two >&2; echo three; exit 3").run();
    assert_eq!(out.end, JobEnd::Exited(3));
    assert_eq!(lines, ["one", "two", "three"]);
    assert_eq!(out.n_lines, 3);
    assert_eq!(
        dso_runner::exec::read_log(&out.log_gzip).unwrap(),
        "one\ntwo\nthree\n"
    );
}

#[test]
fn the_environment_is_scrubbed() {
    // SAFETY: tests in this binary do not read this variable concurrently.
    unsafe { std::env::set_var("DSO_TEST_LEAK", "leaked") };
    let (out, lines) = Job::new("env").env("GIVEN", "yes").run();
    assert!(out.end.succeeded());
    assert!(lines.iter().any(|l| l == "GIVEN=yes"), "{lines:?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("DSO_TEST_LEAK") || l.contains("DSO_SANDBOX_SPEC")),
        "{lines:?}"
    );
}

#[test]
fn a_job_cannot_write_outside_its_directories() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("escaped");
    let job = Job::new(&format!(
        "echo ok > inside.txt && echo inside-ok; echo bad > {} && echo outside-ok; touch /etc/dso-escape && echo etc-ok; true",
        target.display()
    ));
    let (out, lines) = job.run();
    assert!(out.end.succeeded(), "{lines:?}");
    assert!(lines.contains(&"inside-ok".to_owned()), "{lines:?}");
    assert!(
        !lines.contains(&"outside-ok".to_owned()) && !target.exists(),
        "{lines:?}"
    );
    assert!(!lines.contains(&"etc-ok".to_owned()), "{lines:?}");
    assert_eq!(
        std::fs::read_to_string(job.work().join("inside.txt")).unwrap(),
        "ok\n"
    );
}

#[test]
fn extra_writable_directories_are_writable() {
    let mut job = Job::new("echo cached > \"$CACHE/file\" && echo wrote");
    let cache = job.dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    job.spec.sandbox.writable.push(cache.clone());
    let job = job.env("CACHE", cache.to_str().unwrap());
    let (out, lines) = job.run();
    assert!(out.end.succeeded(), "{lines:?}");
    assert_eq!(
        std::fs::read_to_string(cache.join("file")).unwrap(),
        "cached\n"
    );
}

fn tcp_script(port: u16) -> String {
    format!("if exec 3<>/dev/tcp/127.0.0.1/{port}; then echo connected; else echo refused; fi")
}

#[test]
fn no_network_unless_the_job_asks_for_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let (_, lines) = Job::new(&tcp_script(port)).run();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("refused"),
        "{lines:?}"
    );

    let mut job = Job::new(&tcp_script(port));
    job.spec.sandbox.network = true;
    let (_, lines) = job.run();
    assert_eq!(lines, ["connected"]);
}

fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(token) {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

fn hanging_job(token: &str, isolate: bool) -> (JobOutput, Vec<String>, Duration) {
    // A grandchild in the background, one that leaves the process group with
    // setsid, and a foreground process: all hang.
    let mut job = Job::new(&format!(
        "sleep {token} & (sleep {token} &) ; setsid sleep {token} & echo started; sleep {token}"
    ));
    job.spec.sandbox.isolate = isolate;
    job.spec.timeout = Duration::from_millis(700);
    let started = std::time::Instant::now();
    let (out, lines) = job.run();
    (out, lines, started.elapsed())
}

#[test]
fn a_hanging_job_is_killed_at_its_timeout_with_nothing_left_behind() {
    let token = &format!("3517.{}25", std::process::id());
    let (out, lines, elapsed) = hanging_job(token, true);
    assert_eq!(out.end, JobEnd::TimedOut);
    assert_eq!(lines.first().map(String::as_str), Some("started"));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(processes_with(token), Vec::<String>::new());
}

#[test]
fn without_isolation_the_process_group_is_still_killed() {
    let token = &format!("3517.{}75", std::process::id());
    let (out, _lines, _) = hanging_job(token, false);
    assert_eq!(out.end, JobEnd::TimedOut);
    std::thread::sleep(Duration::from_millis(200));
    // Only the `setsid` grandchild can escape a process group; kill it here
    // so the test leaves nothing behind, and check it is the only one.
    let left = processes_with(token);
    for p in &left {
        let pid: i32 = p.split(':').next().unwrap().parse().unwrap();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(left.len() <= 1, "{left:?}");
}

#[test]
fn secrets_are_masked_in_every_form() {
    let secret = "s3cr3t-Value/with+chars";
    let mut job = Job::new(
        "echo plain=$TOKEN; printf %s \"$TOKEN\" | base64 -w0; echo; \
         python3 -c 'import os,urllib.parse;print(urllib.parse.quote(os.environ[\"TOKEN\"], safe=\"\"))' 2>/dev/null || printf '%s\\n' 's3cr3t-Value%2Fwith%2Bchars'",
    )
    .env("TOKEN", secret);
    job.masker = Masker::new([secret]);
    let (out, lines) = job.run();
    assert!(out.end.succeeded(), "{lines:?}");
    let log = dso_runner::exec::read_log(&out.log_gzip).unwrap();
    assert_eq!(lines, ["plain=***", "***", "***"], "{log}");
    assert!(
        !log.contains("s3cr3t") && !log.contains("czNjcjN0"),
        "{log}"
    );
}

#[test]
fn a_missing_trampoline_is_a_spawn_failure() {
    let mut job = Job::new("true");
    job.spec.trampoline = PathBuf::from("/nonexistent/dso");
    let (out, _) = job.run();
    assert!(
        matches!(out.end, JobEnd::SpawnFailed(ref m) if m.contains("/nonexistent/dso")),
        "{:?}",
        out.end
    );
}

#[test]
fn a_missing_program_fails_with_the_setup_status() {
    let mut job = Job::new("true");
    job.spec.sandbox.argv = vec!["/nonexistent/program".into()];
    let (out, lines) = job.run();
    assert_eq!(out.end, JobEnd::Exited(dso_runner::sandbox::SETUP_FAILED));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot execute /nonexistent/program")),
        "{lines:?}"
    );
}

#[test]
fn long_lines_are_split_not_lost() {
    let (out, lines) = Job::new("head -c 150000 /dev/zero | tr '\\0' x; echo").run();
    assert!(out.end.succeeded());
    assert_eq!(lines.iter().map(String::len).sum::<usize>(), 150000);
    assert_eq!(lines[0].len(), dso_runner::exec::MAX_LINE_BYTES);
}

#[test]
fn masker_forms() {
    let m = Masker::new(["hunter2!", "ab", "line one\nline two"]);
    assert_eq!(
        m.mask("pw=hunter2! b64=aHVudGVyMiE= url=hunter2%21 short=ab"),
        "pw=*** b64=*** url=*** short=ab"
    );
    assert_eq!(
        m.mask("first: line one, second: line two"),
        "first: ***, second: ***"
    );
    assert_eq!(Masker::none().mask("hunter2!"), "hunter2!");
}

#[test]
fn cpu_and_memory_limits_apply_with_and_without_isolation() {
    for isolate in [true, false] {
        let mut job = Job::new("ulimit -t; ulimit -v");
        job.spec.sandbox.isolate = isolate;
        job.spec.sandbox.cpu_seconds = Some(77);
        job.spec.sandbox.memory_bytes = Some(4 * 1024 * 1024 * 1024);
        let (out, lines) = job.run();
        assert!(out.end.succeeded(), "{lines:?}");
        assert_eq!(lines, ["77", "4194304"], "isolate: {isolate}");
    }
}
