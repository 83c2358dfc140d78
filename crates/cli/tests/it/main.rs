//! End-to-end tests of the `dso` binary, each in its own temporary workspace.

mod assurance;
mod audit;
mod gate_run;
mod governance;
mod model;
mod monitoring;
mod operational;
mod pipeline;
mod run_steps;
mod scan;
mod serve;
mod step_timeout;
mod tidy;
mod workspace;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory and a way to run `dso` in it.
pub struct Dso {
    pub dir: tempfile::TempDir,
    /// Extra global arguments (e.g. `--database URL`).
    pub global: Vec<String>,
}

impl Default for Dso {
    fn default() -> Dso {
        Dso::new()
    }
}

impl Dso {
    /// An empty directory; no workspace yet.
    pub fn new() -> Dso {
        Dso {
            dir: tempfile::tempdir().expect("temp dir"),
            global: Vec::new(),
        }
    }

    /// A directory with `dso init` done (on SQLite).
    pub fn init() -> Dso {
        let dso = Dso::new();
        dso.ok(&["init", ".", "--name", "test", "--owner", "alice"]);
        dso
    }

    /// Runs `test` with a workspace (owner `alice`) on a fresh PostgreSQL
    /// database, given with its URL, when `DSO_TEST_POSTGRES_URL` is set;
    /// says so and does nothing otherwise. The database is dropped after.
    pub fn on_postgres(test: impl FnOnce(Dso, &str)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let Some(db) = rt.block_on(dso_store::testing::TestDb::postgres()) else {
            eprintln!(
                "note: {} unset, PostgreSQL half skipped",
                dso_store::testing::POSTGRES_URL_VAR
            );
            return;
        };
        let mut dso = Dso::new();
        dso.global = vec!["--database".into(), db.url.clone()];
        dso.ok(&["init", ".", "--name", "pg", "--owner", "alice"]);
        test(dso, &db.url);
        rt.block_on(db.drop_now());
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dso"));
        cmd.current_dir(self.path())
            .env_remove("DSO_HOME")
            .env_remove("DSO_DATABASE_URL")
            .env_remove("DSO_TOKEN");
        cmd.args(&self.global).args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("running dso")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "dso {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "dso {args:?} unexpectedly succeeded:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Runs with `--format json` appended and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&args)).expect("valid JSON output")
    }

    pub fn db_path(&self) -> PathBuf {
        self.path().join("dso.db")
    }
}

impl Dso {
    /// Like [`Dso::json`] but for commands expected to exit non-zero.
    pub fn json_allow_failure(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        serde_json::from_slice(&self.run(&args).stdout).expect("valid JSON output")
    }
}
