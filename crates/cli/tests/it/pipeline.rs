//! `dso run` and friends on real git repositories, jobs in the real sandbox.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Dso;

/// A product repository with one commit holding `pipeline` and `files`.
pub(crate) fn repo(dso: &Dso, pipeline: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = dso.path().join("product");
    std::fs::create_dir_all(dir.join(".dso")).unwrap();
    std::fs::write(dir.join(".dso/pipeline.yaml"), pipeline).unwrap();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(
        &dir,
        &["commit", "-q", "-m", "PROJ-7: add the pipeline (#3)"],
    );
    dir
}

pub(crate) fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Ada Lovelace",
            "-c",
            "user.email=ada@example.org",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `dso run` in the product repository; returns (exit code, stdout, stderr).
pub(crate) fn run(dso: &Dso, repo: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = dso
        .command(&[&["run", "--repo", repo.to_str().unwrap()], extra].concat())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn jobs(dso: &Dso, run: i64) -> serde_json::Value {
    dso.json(&["runs", "show", &run.to_string()])["jobs"].clone()
}

fn job<'a>(jobs: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    jobs.as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {jobs}"))
}

const DAG: &str = r#"
jobs:
  build:
    activity: build
    run: |
      mkdir -p out
      echo "v1" > out/app.bin
      echo "built $DSO_COMMIT_SHA"
    artifacts: [out/app.bin]
  test:
    needs: [build]
    activity: unit-test
    run: test "$(cat out/app.bin)" = v1 && echo tests passed
  lint:
    activity: sast-l1
    run: echo lint found something; exit 3
    allow_failure: true
  deploy:
    needs: [test, lint]
    activity: deploy
    run: echo deploying
"#;

#[test]
fn a_run_executes_the_dag_and_records_everything() {
    let dso = Dso::init();
    let repo = repo(&dso, DAG, &[]);
    let (code, out, err) = run(&dso, &repo, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("run 1 queued")
            && out.contains("[test ] tests passed")
            && out.contains("run 1 success"),
        "{out}"
    );

    let show = dso.json(&["runs", "show", "1"]);
    assert_eq!(show["status"], "success");
    assert_eq!(show["commit"]["author"], "Ada Lovelace <ada@example.org>");
    assert_eq!(show["backlog_keys"], serde_json::json!(["PROJ-7", "#3"]));
    let jobs = &show["jobs"];
    assert_eq!(job(jobs, "build")["status"], "success");
    assert_eq!(job(jobs, "lint")["status"], "allowed_failure");
    assert_eq!(job(jobs, "lint")["exit_code"], 3);
    assert_eq!(
        job(jobs, "deploy")["needs"],
        serde_json::json!(["test", "lint"])
    );
    assert_eq!(job(jobs, "deploy")["status"], "success");

    let artifacts = dso.json(&["artifacts", "1"]);
    assert_eq!(artifacts[0]["path"], "out/app.bin");
    assert_eq!(artifacts[0]["sha256"], sha256_hex(b"v1\n"));
    let stored = PathBuf::from(artifacts[0]["stored_at"].as_str().unwrap());
    assert_eq!(std::fs::read(stored).unwrap(), b"v1\n");

    let logs = dso.ok(&["logs", "1", "build"]);
    assert!(logs.starts_with("built "), "{logs}");

    let types: Vec<String> = dso
        .json(&["audit", "log"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for t in [
        "dev.cdevents.pipelinerun.queued.0.3.0",
        "dev.cdevents.pipelinerun.started.0.3.0",
        "dev.cdevents.taskrun.started.0.3.0",
        "dev.cdevents.taskrun.finished.0.3.0",
        "dev.cdevents.build.finished.0.3.0",
        "dev.cdevents.artifact.packaged.0.3.0",
        "dev.cdevents.pipelinerun.finished.0.3.0",
    ] {
        assert!(types.contains(&t.to_owned()), "{t} missing from {types:?}");
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| t.contains("taskrun.started"))
            .count(),
        4
    );
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
    // The run's work directory is removed afterwards.
    assert!(!dso.path().join("runs/1/work").exists());
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    out.stdin.as_ref().unwrap().write_all(bytes).unwrap();
    let out = out.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn a_failed_job_skips_its_dependents_and_fails_the_run() {
    let dso = Dso::init();
    let pipeline = r#"
jobs:
  build: { activity: build, run: "echo compiling; exit 2" }
  test: { activity: unit-test, needs: [build], run: "echo never" }
  package: { activity: release, needs: [test], run: "echo never" }
  docs: { activity: validate, run: "echo docs ok" }
"#;
    let repo = repo(&dso, pipeline, &[]);
    let (code, out, err) = run(&dso, &repo, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[test] skipped: `build`, which it needs, did not succeed"),
        "{out}\n{err}"
    );
    let jobs = jobs(&dso, 1);
    assert_eq!(job(&jobs, "build")["detail"], "exited with status 2");
    assert_eq!(job(&jobs, "package")["status"], "skipped");
    assert_eq!(
        job(&jobs, "package")["detail"],
        "`test`, which it needs, did not succeed"
    );
    assert_eq!(job(&jobs, "docs")["status"], "success");
    assert!(!out.contains("never"));
    assert_eq!(dso.json(&["runs"])[0]["status"], "failed");
}

#[test]
fn retries_rerun_a_failing_job() {
    let dso = Dso::init();
    let pipeline = r#"
jobs:
  flaky:
    activity: unit-test
    retry: 2
    cache: [state]
    run: |
      n=$(cat "$DSO_CACHE_STATE/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$DSO_CACHE_STATE/n"
      echo "attempt $n"; test $n -ge 2
"#;
    let repo = repo(&dso, pipeline, &[]);
    let (code, out, _) = run(&dso, &repo, &[]);
    assert_eq!(code, 0, "{out}");
    let flaky = job(&jobs(&dso, 1), "flaky").clone();
    assert_eq!(
        (flaky["status"].as_str(), flaky["attempts"].as_i64()),
        (Some("success"), Some(2))
    );
    let logs = dso.ok(&["logs", "1", "flaky"]);
    assert!(
        logs.contains("== flaky (attempt 1)\nattempt 1\n== flaky (attempt 2)\nattempt 2\n"),
        "{logs}"
    );
}

#[test]
fn secrets_never_appear_in_output_logs_or_events() {
    let dso = Dso::init();
    let secret = "pa55-w0rd/s3cret+value";
    let mut set = dso
        .command(&["secret", "set", "DEPLOY_TOKEN"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        set.stdin
            .take()
            .unwrap()
            .write_all(secret.as_bytes())
            .unwrap();
    }
    assert!(set.wait().unwrap().success());
    let pipeline = r#"
jobs:
  leak:
    activity: deploy
    secrets: [DEPLOY_TOKEN]
    run: |
      echo "plain: $DEPLOY_TOKEN"
      echo "base64: $(printf %s "$DEPLOY_TOKEN" | base64 -w0)"
      echo "url: $(printf %s "$DEPLOY_TOKEN" | sed 's|/|%2F|g; s|+|%2B|g')"
      env | grep DEPLOY_TOKEN
      echo "$DEPLOY_TOKEN" >&2
"#;
    let repo = repo(&dso, pipeline, &[]);
    let (code, out, err) = run(&dso, &repo, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let logs = dso.ok(&["logs", "1"]);
    let events = dso.ok(&["audit", "log", "--format", "json"]);
    let db = std::fs::read(dso.db_path()).unwrap();
    let b64 = "cGE1NS13MHJkL3MzY3JldCt2YWx1ZQ==";
    let url = "pa55-w0rd%2Fs3cret%2Bvalue";
    for (what, text) in [
        ("terminal", format!("{out}{err}")),
        ("stored log", logs.clone()),
        ("event log", events),
    ] {
        for form in [secret, b64, url] {
            assert!(!text.contains(form), "{what} contains {form}:\n{text}");
        }
    }
    assert!(
        logs.contains("plain: ***") && logs.contains("base64: ***") && logs.contains("url: ***"),
        "{logs}"
    );
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is stored in plain text"
    );
    assert_eq!(dso.json(&["secret", "list"])[0]["name"], "DEPLOY_TOKEN");
}

#[test]
fn an_unknown_secret_is_a_clear_error() {
    let dso = Dso::init();
    let repo = repo(
        &dso,
        "jobs:\n  a: { activity: build, run: 'true', secrets: [NOPE] }\n",
        &[],
    );
    let (code, _, err) = run(&dso, &repo, &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unknown secret `NOPE`") && err.contains("dso secret set"),
        "{err}"
    );
}

/// A `sleep` argument no other test process on this machine uses: the
/// suites of several checkouts may run at the same time.
fn unique_sleep(base: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{base}.{}{:09}", std::process::id(), nanos)
}

fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(token) && !cmdline.contains("dso") {
                found.push(cmdline);
            }
        }
    }
    found
}

#[test]
fn a_hanging_job_is_killed_at_its_timeout_with_nothing_left_behind() {
    let dso = Dso::init();
    let token = unique_sleep(4711);
    let pipeline = format!(
        "jobs:\n  hang:\n    activity: unit-test\n    timeout: 1s\n    run: |\n      sleep {token} &\n      (sleep {token} &)\n      echo waiting\n      sleep {token}\n"
    );
    let repo = repo(&dso, &pipeline, &[]);
    let started = Instant::now();
    let (code, out, _) = run(&dso, &repo, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(job(&jobs(&dso, 1), "hang")["detail"], "timed out after 1s");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
fn jobs_have_no_network_unless_they_ask() {
    let dso = Dso::init();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "if (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo connected; else echo no-network; fi"
    );
    let pipeline = format!(
        "jobs:\n  offline: {{ activity: unit-test, run: '{script}' }}\n  online: {{ activity: unit-test, network: on, run: '{script}' }}\n  writer: {{ activity: build, run: 'touch /etc/dso-escape || echo read-only; touch ../escape || echo outside-denied; touch inside && echo inside-ok' }}\n"
    );
    let repo = repo(&dso, &pipeline, &[]);
    let (code, out, _) = run(&dso, &repo, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(dso.ok(&["logs", "1", "offline"]).trim(), "no-network");
    assert_eq!(dso.ok(&["logs", "1", "online"]).trim(), "connected");
    let writer = dso.ok(&["logs", "1", "writer"]);
    assert!(
        writer.contains("read-only")
            && writer.contains("outside-denied")
            && writer.contains("inside-ok"),
        "{writer}"
    );
    assert!(!Path::new("/etc/dso-escape").exists());
}

#[test]
fn a_sigkilled_run_is_marked_interrupted_and_leaves_no_job_behind() {
    let dso = Dso::init();
    let token = unique_sleep(5813);
    let repo = repo(
        &dso,
        &format!("jobs:\n  slow: {{ activity: build, run: 'echo go; sleep {token}' }}\n"),
        &[],
    );
    let mut child = dso
        .command(&["run", "--repo", repo.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while processes_with(&token).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        processes_with(&token),
        Vec::<String>::new(),
        "the job outlived its runner"
    );
    // The next dso invocation notices.
    let runs = dso.json(&["runs"]);
    assert_eq!(runs[0]["status"], "interrupted");
    assert_eq!(job(&jobs(&dso, 1), "slow")["status"], "cancelled");
    let finished = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdevents.pipelinerun.finished.0.3.0",
    ]);
    assert_eq!(
        finished[0]["data"]["subject"]["content"]["status"],
        "interrupted"
    );
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
}

#[test]
fn ctrl_c_cancels_the_run_and_kills_every_job() {
    let dso = Dso::init();
    let token = unique_sleep(6143);
    let repo = repo(
        &dso,
        &format!(
            "jobs:\n  slow: {{ activity: build, run: 'sleep {token}' }}\n  after: {{ activity: unit-test, needs: [slow], run: 'echo never' }}\n"
        ),
        &[],
    );
    let child = dso
        .command(&["run", "--repo", repo.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while processes_with(&token).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(processes_with(&token), Vec::<String>::new());
    let jobs = jobs(&dso, 1);
    assert_eq!(job(&jobs, "slow")["status"], "cancelled");
    assert_eq!(job(&jobs, "after")["status"], "cancelled");
    assert_eq!(dso.json(&["runs"])[0]["status"], "cancelled");
}

#[test]
fn an_invalid_pipeline_lists_every_error_and_runs_nothing() {
    let dso = Dso::init();
    let repo = repo(
        &dso,
        "jobs:\n  build:\n    activity: biuld\n    run: make\n    need: [test]\n",
        &[],
    );
    let (code, _, err) = run(&dso, &repo, &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains(".dso/pipeline.yaml:3:15") && err.contains("did you mean `build`"),
        "{err}"
    );
    assert!(
        err.contains(".dso/pipeline.yaml:5:5") && err.contains("did you mean `needs`"),
        "{err}"
    );
    assert!(err.contains("is invalid (2 errors)"), "{err}");
    assert!(dso.json(&["runs"]).as_array().unwrap().is_empty());

    let err = dso
        .command(&[
            "pipeline",
            "validate",
            repo.join(".dso/pipeline.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!err.status.success());
    std::fs::write(repo.join(".dso/pipeline.yaml"), DAG).unwrap();
    let ok = dso.ok(&[
        "pipeline",
        "validate",
        repo.join(".dso/pipeline.yaml").to_str().unwrap(),
    ]);
    assert!(
        ok.contains("valid, 4 jobs") && ok.contains("deploy (deploy) needs test, lint"),
        "{ok}"
    );
}

#[test]
fn not_a_repository_or_no_pipeline_file_is_a_clear_error() {
    let dso = Dso::init();
    let (code, _, err) = run(&dso, dso.path(), &[]);
    assert_ne!(code, 0);
    assert!(err.contains("not a git repository"), "{err}");
    let repo = repo(&dso, DAG, &[]);
    std::fs::remove_file(repo.join(".dso/pipeline.yaml")).unwrap();
    git(&repo, &["commit", "-qam", "remove pipeline"]);
    let (_, _, err) = run(&dso, &repo, &[]);
    assert!(
        err.contains("there is no .dso/pipeline.yaml in commit"),
        "{err}"
    );
    let (_, _, err) = run(&dso, &repo, &["--ref", "HEAD~1"]);
    assert!(
        !err.contains("there is no"),
        "the previous commit has one: {err}"
    );
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../devtest/tests/data/reports")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn test_and_coverage_reports_are_stored_per_run() {
    let dso = Dso::init();
    let junit = fixture("pytest-xunit2.xml");
    let lcov = fixture("coveragepy.lcov");
    let pipeline = r#"
jobs:
  test:
    activity: unit-test
    run: cp fixtures/junit.xml fixtures/coverage.lcov . && exit 1
    reports: { junit: junit.xml, lcov: coverage.lcov }
  missing:
    activity: unit-test
    run: "true"
    reports: { junit: nothing.xml }
"#;
    let repo = repo(
        &dso,
        pipeline,
        &[
            ("fixtures/junit.xml", &junit),
            ("fixtures/coverage.lcov", &lcov),
        ],
    );
    let (code, out, _) = run(&dso, &repo, &[]);
    // Reports are read from failed jobs too: that is when they matter most.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[missing] [dso] junit report `nothing.xml`: no such file or directory in the work directory"), "{out}");

    let show = dso.json(&["runs", "show", "1"]);
    let expected = match dso_devtest::reports::parse(
        dso_devtest::ReportKind::Junit,
        "junit.xml",
        junit.as_bytes(),
    )
    .unwrap()
    {
        dso_devtest::reports::ParsedReport::Tests(t) => t,
        other => panic!("{other:?}"),
    };
    let suites = show["test_suites"].as_array().unwrap();
    assert_eq!(suites.len(), expected.suites.len());
    let totals = expected.totals();
    let sum = |key: &str| suites.iter().map(|s| s[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (sum("tests"), sum("failures"), sum("errors"), sum("skipped")),
        (totals.tests, totals.failures, totals.errors, totals.skipped)
    );
    assert!(totals.failures > 0, "the fixture has a failing test");
    let failed: Vec<&str> = suites[0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(!failed.is_empty());

    let coverage = &show["coverage"][0];
    let expected = match dso_devtest::reports::parse(
        dso_devtest::ReportKind::Lcov,
        "coverage.lcov",
        lcov.as_bytes(),
    )
    .unwrap()
    {
        dso_devtest::reports::ParsedReport::Coverage(c) => c.totals(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (
            coverage["lines_found"].as_u64(),
            coverage["lines_hit"].as_u64()
        ),
        (Some(expected.lines_found), Some(expected.lines_hit))
    );
    assert_eq!(coverage["format"], "lcov");

    let events = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdevents.testsuiterun.finished.0.3.0",
    ]);
    assert_eq!(events.as_array().unwrap().len(), suites.len());
    assert_eq!(events[0]["data"]["subject"]["content"]["outcome"], "fail");
    assert_eq!(
        dso.json(&[
            "audit",
            "log",
            "--type",
            "dev.cdeventsx.dso.coverage.reported.0.1.0"
        ])
        .as_array()
        .unwrap()
        .len(),
        1
    );
}
