//! Built-in steps (`uses: dso/...`) that cannot finish: their job's
//! `timeout:` ends them, Ctrl-C cancels them, nothing they had not finished
//! is stored, and `dso run` still exits promptly (SQLite and PostgreSQL).
//! FIFOs in the checkout do not stop the scanners, and links or FIFOs do
//! not redirect or block the file `dso/sbom` writes.
//!
//! What blocks is real, not a test hook: an earlier job of the run makes
//! named pipes (FIFOs) where a step reads configuration. The walkers of the
//! scanners open every directory's `.gitignore` (as ripgrep's walker does),
//! and `dso/gate` reads the policy file it is given; opening a FIFO for
//! reading waits for a writer, and none ever comes.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::Dso;
use crate::pipeline::{git, repo};

/// How long any `dso run` here may take before the test calls it hung.
const BOUND: Duration = Duration::from_secs(60);

fn data(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assurance/tests/data")
        .join(rel);
    std::fs::read_to_string(path).expect("fixture exists")
}

/// An AWS access key id made at run time (no secret in the source).
fn aws_key() -> String {
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".chars().collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let body: String = (0..16)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            alphabet[(state % alphabet.len() as u64) as usize]
        })
        .collect();
    format!("AKIA{body}")
}

/// Waits for `child` at most [`BOUND`]; kills it and fails the test if it
/// is still running then. Returns its exit code.
fn wait_bounded(child: &mut Child, what: &str) -> i32 {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for dso") {
            return status.code().unwrap_or(-1);
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: `dso run` still running after {BOUND:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `dso run` in `repo`; its stdout lines arrive on the receiver.
fn spawn_run(dso: &Dso, repo: &std::path::Path, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = dso
        .command(&[&["run", "--repo", repo.to_str().expect("utf-8")], extra].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting dso run");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Runs `dso run` to its end within [`BOUND`]; returns the exit code and stdout.
fn run_bounded(dso: &Dso, repo: &std::path::Path) -> (i32, String) {
    let (mut child, lines) = spawn_run(dso, repo, &["--jobs", "8"]);
    let code = wait_bounded(&mut child, "run");
    // The reader thread ends with the pipe.
    let out: Vec<String> = lines.iter().collect();
    (code, out.join("\n"))
}

fn jobs(dso: &Dso, run: &str) -> Vec<serde_json::Value> {
    dso.json(&["runs", "show", run])["jobs"]
        .as_array()
        .expect("jobs")
        .clone()
}

fn job<'a>(jobs: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    jobs.iter()
        .find(|j| j["job"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {jobs:?}"))
}

/// Events of `ty` about run `run` (subject `run-N` or `run-N/job`).
fn events(dso: &Dso, ty: &str, run: &str) -> Vec<serde_json::Value> {
    let subject = format!("run-{run}");
    dso.json(&["audit", "log", "--type", ty])
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| {
            e["subject"]
                .as_str()
                .is_some_and(|s| s == subject || s.starts_with(&format!("{subject}/")))
        })
        .cloned()
        .collect()
}

/// The gate decisions recorded for run `run` (their subject is `run/N`).
fn gate_decisions(dso: &Dso, run: i64) -> Vec<serde_json::Value> {
    dso.json(&["audit", "log", "--type", GATE_EVALUATED])
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["data"]["run"] == run)
        .cloned()
        .collect()
}

const TASKRUN_FINISHED: &str = "dev.cdevents.taskrun.finished.0.3.0";
const PIPELINERUN_FINISHED: &str = "dev.cdevents.pipelinerun.finished.0.3.0";
const GATE_EVALUATED: &str = "dev.cdeventsx.dso.gate.evaluated.0.1.0";
const SBOM_RECORDED: &str = "dev.cdeventsx.dso.sbom.recorded.0.1.0";

const STEPS: [&str; 5] = ["secrets", "sca", "sast", "sbom", "gate"];

/// The pipeline: `prepare` runs `prepare`, then every built-in step, each
/// with `timeout`; `release` needs them all; `docs` needs nothing.
fn pipeline(prepare: &str, timeout: &str) -> String {
    format!(
        r#"
jobs:
  prepare:
    activity: build
    run: {prepare}
  secrets: {{ needs: [prepare], activity: secrets, uses: dso/secrets, timeout: {timeout} }}
  sca: {{ needs: [prepare], activity: sca, uses: dso/sca, timeout: {timeout} }}
  sast: {{ needs: [prepare], activity: sast-l1, uses: dso/sast, timeout: {timeout} }}
  sbom: {{ needs: [prepare], activity: sbom, uses: dso/sbom, timeout: {timeout} }}
  gate:
    needs: [prepare]
    activity: policy-gate
    uses: dso/gate
    timeout: {timeout}
    with: {{ policies: policy.rego }}
  release:
    needs: [secrets, sca, sast, sbom, gate]
    activity: release
    run: echo released
  docs: {{ activity: validate, run: echo docs ok }}
"#
    )
}

/// Makes the FIFOs the steps block on.
const MAKE_FIFOS: &str = "mkfifo vendor/.gitignore policy.rego";
/// Makes regular files instead: the same steps then finish.
const MAKE_FILES: &str = "cp policy-src/allow.rego policy.rego";

const ALLOW: &str = "package dso.gate\n\nviolations contains v if {\n\tinput.coverage > 1000\n\tv := {\"rule\": \"never\", \"message\": \"unreachable\", \"ids\": []}\n}\n";

/// A product with a vulnerable lockfile, a leaked key and an `eval`: each
/// scanner that finishes stores something.
fn product(dso: &Dso, pipeline: &str, key: &str) -> std::path::PathBuf {
    repo(
        dso,
        pipeline,
        &[
            ("Cargo.lock", &data("lockfiles/Cargo.lock")),
            ("config/deploy.env", &format!("aws_access_key_id = {key}\n")),
            (
                "src/app.py",
                "import sys\n\n\ndef main():\n    return eval(sys.argv[1])\n",
            ),
            ("vendor/README", "third-party code goes here\n"),
            ("policy-src/allow.rego", ALLOW),
        ],
    )
}

fn import_advisories(dso: &Dso) {
    for dir in ["rustsec", "ghsa"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assurance/tests/data/advisories")
            .join(dir);
        dso.ok(&["advisories", "import", path.to_str().expect("utf-8")]);
    }
}

fn findings(dso: &Dso, args: &[&str]) -> Vec<serde_json::Value> {
    dso.json(&[&["findings", "list"], args].concat())
        .as_array()
        .expect("a list")
        .clone()
}

fn timeouts_end_blocked_steps(dso: &Dso) {
    import_advisories(dso);
    let key = aws_key();
    let repo = product(dso, &pipeline(MAKE_FIFOS, "1s"), &key);
    let started = Instant::now();
    let (code, out) = run_bounded(dso, &repo);
    assert_eq!(code, 1, "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );

    let jobs = jobs(dso, "1");
    assert_eq!(job(&jobs, "prepare")["status"], "success");
    assert_eq!(job(&jobs, "docs")["status"], "success");
    for step in STEPS {
        let j = job(&jobs, step);
        assert_eq!(
            (j["status"].as_str(), j["detail"].as_str()),
            (Some("failed"), Some("timed out after 1s")),
            "{j}"
        );
        assert!(
            j["duration_ms"].as_i64().is_some_and(|ms| ms >= 1000),
            "{j}"
        );
        let log = dso.ok(&["logs", "1", step]);
        assert!(
            log.contains("[dso] the step timed out after 1s"),
            "{step}: {log}"
        );
    }
    let release = job(&jobs, "release");
    assert_eq!(release["status"], "skipped");
    assert!(
        release["detail"]
            .as_str()
            .is_some_and(|d| d.ends_with("which it needs, did not succeed")),
        "{release}"
    );
    assert!(!out.contains("released"), "{out}");
    assert_eq!(dso.json(&["runs", "show", "1"])["status"], "failed");

    // Events: each step finished as a failure saying why; the run failed.
    let finished = events(dso, TASKRUN_FINISHED, "1");
    for step in STEPS {
        let content: Vec<&serde_json::Value> = finished
            .iter()
            .map(|e| &e["data"]["subject"]["content"])
            .filter(|c| c["taskName"] == step)
            .collect();
        assert_eq!(content.len(), 1, "{step}: {finished:?}");
        assert_eq!(content[0]["outcome"], "failure");
        assert_eq!(content[0]["errors"], "timed out after 1s");
    }
    let run_finished = events(dso, PIPELINERUN_FINISHED, "1");
    assert_eq!(
        run_finished[0]["data"]["subject"]["content"]["status"],
        "failed"
    );
    // Nothing a step had not finished is stored: no finding at all (run 1
    // is the first), no SBOM, no gate decision, no step artifact.
    assert_eq!(findings(dso, &[]), Vec::<serde_json::Value>::new());
    let show = dso.json(&["runs", "show", "1"]);
    assert_eq!(show["sboms"], serde_json::json!([]));
    assert_eq!(dso.json(&["artifacts", "1"]), serde_json::json!([]));
    assert!(gate_decisions(dso, 1).is_empty());
    assert!(events(dso, SBOM_RECORDED, "1").is_empty());
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());

    // The same steps over regular files finish and store what they find:
    // the emptiness above is the timeout's doing.
    std::fs::write(repo.join(".dso/pipeline.yaml"), pipeline(MAKE_FILES, "5m")).expect("write");
    git(&repo, &["commit", "-qam", "regular files"]);
    let (code, out) = run_bounded(dso, &repo);
    assert_eq!(code, 0, "{out}");
    let rows = findings(dso, &["--run", "2"]);
    for (step, rule) in [
        ("secrets", "aws-access-key-id"),
        ("sca", "RUSTSEC-2021-0079"),
        ("sast", "py-eval"),
    ] {
        assert!(
            rows.iter().any(|r| r["job"] == step && r["rule"] == rule),
            "{step} {rule}: {rows:?}"
        );
    }
    assert_eq!(dso.json(&["runs", "show", "2"])["sboms"][0]["job"], "sbom");
    assert_eq!(gate_decisions(dso, 2).len(), 1);
    assert_eq!(
        findings(dso, &["--run", "1"]),
        Vec::<serde_json::Value>::new()
    );
}

#[test]
fn a_blocked_builtin_step_times_out_and_stores_nothing_on_sqlite() {
    timeouts_end_blocked_steps(&Dso::init());
}

/// A workspace on a fresh PostgreSQL database, when the suite has one.
fn on_postgres(test: impl FnOnce(&Dso)) {
    Dso::on_postgres(|dso, _| test(&dso));
}

#[test]
fn a_blocked_builtin_step_times_out_and_stores_nothing_on_postgres() {
    on_postgres(timeouts_end_blocked_steps);
}

/// How many threads of process `pid` wait in the kernel for the other end
/// of a FIFO (`wait_for_partner`: an open for reading with no writer), and
/// whether the kernel names wait channels at all (it may hide them).
fn fifo_waiters(pid: u32) -> (usize, bool) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (0, false);
    };
    let channels: Vec<String> = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("wchan")).ok())
        .collect();
    let named = channels
        .iter()
        .any(|w| w.trim().starts_with(|c: char| c.is_ascii_alphabetic()));
    let waiting = channels
        .iter()
        .filter(|w| w.trim() == "wait_for_partner")
        .count();
    (waiting, named)
}

fn ctrl_c_cancels_blocked_steps(dso: &Dso) {
    let key = aws_key();
    let pipeline = format!(
        r#"
jobs:
  prepare: {{ activity: build, run: "{MAKE_FIFOS}" }}
  secrets: {{ needs: [prepare], activity: secrets, uses: dso/secrets, timeout: 10m }}
  gate:
    needs: [prepare]
    activity: policy-gate
    uses: dso/gate
    timeout: 10m
    with: {{ policies: policy.rego }}
  after: {{ needs: [secrets, gate], activity: release, run: echo never }}
"#
    );
    let repo = product(dso, &pipeline, &key);
    let (mut child, lines) = spawn_run(dso, &repo, &["--jobs", "4"]);
    // Both steps have started (and block) before the signal.
    let mut seen = Vec::new();
    let started = Instant::now();
    while !(seen
        .iter()
        .any(|l: &String| l.starts_with("[secrets] started"))
        && seen
            .iter()
            .any(|l| l.starts_with("[gate") && l.contains("started")))
    {
        match lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => seen.push(line),
            Err(_) if started.elapsed() > BOUND => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the steps never started: {seen:?}");
            }
            Err(_) => {}
        }
    }
    // Both are blocked opening their FIFO (the walker on vendor/.gitignore,
    // the gate on policy.rego) before the signal.
    let pid = child.id();
    let waiting_since = Instant::now();
    loop {
        let (waiting, named) = fifo_waiters(pid);
        if waiting >= 2 {
            break;
        }
        // Without wait channel names, give the steps time to get there.
        if !named && waiting_since.elapsed() > Duration::from_secs(2) {
            break;
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the steps never blocked on their FIFOs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let signalled = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("signal");
    let code = wait_bounded(&mut child, "cancel");
    let out: Vec<String> = seen.into_iter().chain(lines.iter()).collect();
    assert_eq!(code, 130, "{out:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(20),
        "{:?}",
        signalled.elapsed()
    );

    let jobs = jobs(dso, "1");
    for step in ["secrets", "gate"] {
        let j = job(&jobs, step);
        assert_eq!(j["status"], "cancelled", "{j}");
        let log = dso.ok(&["logs", "1", step]);
        assert!(log.contains("[dso] the step was cancelled"), "{log}");
    }
    assert_eq!(job(&jobs, "after")["status"], "cancelled");
    assert_eq!(dso.json(&["runs", "show", "1"])["status"], "cancelled");
    let finished = events(dso, TASKRUN_FINISHED, "1");
    for step in ["secrets", "gate"] {
        assert!(
            finished.iter().any(|e| {
                let c = &e["data"]["subject"]["content"];
                c["taskName"] == step && c["outcome"] == "cancel" && c["status"] == "cancelled"
            }),
            "{step}: {finished:?}"
        );
    }
    let run_finished = events(dso, PIPELINERUN_FINISHED, "1");
    assert_eq!(
        run_finished[0]["data"]["subject"]["content"]["outcome"],
        "cancel"
    );
    assert_eq!(findings(dso, &[]), Vec::<serde_json::Value>::new());
    assert!(gate_decisions(dso, 1).is_empty());
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
}

#[test]
fn ctrl_c_cancels_a_blocked_builtin_step_on_sqlite() {
    ctrl_c_cancels_blocked_steps(&Dso::init());
}

#[test]
fn ctrl_c_cancels_a_blocked_builtin_step_on_postgres() {
    on_postgres(ctrl_c_cancels_blocked_steps);
}

/// FIFOs where the scanners look for files (not their configuration) are
/// not files: the walks pass over them and the steps finish; one named as
/// the path to scan fails its job, saying so.
#[test]
fn fifos_in_the_checkout_do_not_stop_the_scanners() {
    let dso = Dso::init();
    let key = aws_key();
    let pipeline = r#"
jobs:
  prepare:
    activity: build
    run: mkfifo vendor/Cargo.lock vendor/leak.env vendor/lib.py vendor/requirements.txt
  secrets: { needs: [prepare], activity: secrets, uses: dso/secrets, timeout: 30s }
  sca: { needs: [prepare], activity: sca, uses: dso/sca, timeout: 30s }
  sast: { needs: [prepare], activity: sast-l1, uses: dso/sast, timeout: 30s }
  sbom: { needs: [prepare], activity: sbom, uses: dso/sbom, timeout: 30s }
  one: { needs: [prepare], activity: sca, uses: dso/sca, timeout: 30s, with: { path: vendor/Cargo.lock } }
"#;
    let repo = product(&dso, pipeline, &key);
    let (code, out) = run_bounded(&dso, &repo);
    assert_eq!(code, 1, "{out}");
    let jobs = jobs(&dso, "1");
    for j in &jobs {
        if j["job"] != "one" {
            assert_eq!(j["status"], "success", "{j}");
        }
    }
    // A FIFO named as the path to scan is an error, not a clean scan of nothing.
    let one = job(&jobs, "one");
    assert_eq!(
        (one["status"].as_str(), one["detail"].as_str()),
        (
            Some("failed"),
            Some(
                "job `one`: input `path`: `vendor/Cargo.lock` is not a directory or a regular file"
            )
        ),
        "{one}"
    );
    // The regular files are still scanned.
    let rows = findings(&dso, &["--run", "1"]);
    assert!(
        rows.iter()
            .any(|r| r["job"] == "secrets" && r["location"] == "config/deploy.env:1"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r["job"] == "sast" && r["location"] == "src/app.py:5"),
        "{rows:?}"
    );
    let sca = dso.ok(&["logs", "1", "sca"]);
    assert!(
        sca.contains("[dso] sca: 8 packages in 1 lockfile (Cargo.lock)"),
        "{sca}"
    );
}

/// `dso/sbom` writes its document itself, outside the sandbox: a symbolic
/// link in the commit must not send the write out of the work directory,
/// and a FIFO in place of the output must not block it.
#[test]
fn the_sbom_step_writes_only_regular_files_inside_the_work_directory() {
    let dso = Dso::init();
    let victim = dso.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").expect("write");
    let elsewhere = dso.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let pipeline = r#"
jobs:
  prepare: { activity: build, run: "mkfifo pipe.json" }
  linked: { activity: sbom, uses: dso/sbom, timeout: 30s }
  through-dir: { activity: sbom, uses: dso/sbom, timeout: 30s, with: { output: out/new/bom.json } }
  fifo: { needs: [prepare], activity: sbom, uses: dso/sbom, timeout: 30s, with: { output: pipe.json } }
  plain: { activity: sbom, uses: dso/sbom, timeout: 30s, with: { output: reports/bom.json } }
"#;
    let repo = repo(
        &dso,
        pipeline,
        &[("Cargo.lock", &data("lockfiles/Cargo.lock"))],
    );
    std::os::unix::fs::symlink(&victim, repo.join("sbom.cdx.json")).expect("symlink");
    std::os::unix::fs::symlink(&elsewhere, repo.join("out")).expect("symlink");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "links"]);
    let (code, out) = run_bounded(&dso, &repo);
    assert_eq!(code, 1, "{out}");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep me\n");
    assert_eq!(
        std::fs::read_dir(&elsewhere).expect("read").count(),
        0,
        "nothing is created through the link"
    );
    let jobs = jobs(&dso, "1");
    let detail = |name: &str| {
        let j = job(&jobs, name);
        assert_eq!(j["status"], "failed", "{j}");
        j["detail"].as_str().expect("detail").to_owned()
    };
    assert!(
        detail("linked")
            .contains("job `linked`: input `output`: `sbom.cdx.json` is a symbolic link"),
        "{jobs:?}"
    );
    assert!(
        detail("through-dir")
            .contains("input `output`: `out/new/bom.json` leaves the work directory"),
        "{jobs:?}"
    );
    assert!(
        detail("fifo").contains("input `output`: `pipe.json` exists and is not a regular file"),
        "{jobs:?}"
    );
    assert_eq!(job(&jobs, "plain")["status"], "success");
    let sboms = dso.json(&["runs", "show", "1"])["sboms"].clone();
    assert_eq!(sboms.as_array().map(Vec::len), Some(1), "{sboms}");
    assert_eq!(sboms[0]["name"], "reports/bom.json");
}

/// A policy that never ends: two nested loops over 100,000 numbers each
/// (10^10 steps) looking for a product below zero. It uses CPU, not
/// memory, and no input: only the timeout can end the step.
const ENDLESS: &str = "package dso.gate\n\nviolations contains v if {\n\tsome i in numbers.range(1, 100000)\n\tsome j in numbers.range(1, 100000)\n\ti * j < 0\n\tv := {\"rule\": \"never\", \"message\": \"unreachable\", \"ids\": []}\n}\n";

#[test]
fn a_gate_policy_that_never_ends_times_out_and_decides_nothing() {
    let dso = Dso::init();
    let pipeline = r#"
jobs:
  gate:
    activity: policy-gate
    uses: dso/gate
    timeout: 2s
    with: { policies: endless.rego }
  release:
    needs: [gate]
    activity: release
    run: echo released
"#;
    let repo = repo(&dso, pipeline, &[("endless.rego", ENDLESS)]);
    let started = Instant::now();
    let (code, out) = run_bounded(&dso, &repo);
    assert_eq!(code, 1, "{out}");
    // The run ends soon after the timeout, its evaluation abandoned.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let jobs = jobs(&dso, "1");
    let gate = job(&jobs, "gate");
    assert_eq!(
        (gate["status"].as_str(), gate["detail"].as_str()),
        (Some("failed"), Some("timed out after 2s")),
        "{gate}"
    );
    assert_eq!(job(&jobs, "release")["status"], "skipped");
    assert!(gate_decisions(&dso, 1).is_empty());
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
}
