//! The one error type of the application layer, each variant with help text.

use std::path::PathBuf;

/// Everything a use case can fail with. `help()` says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no dso workspace found in {searched} or any parent directory")]
    NoWorkspace { searched: PathBuf },
    #[error("a dso workspace already exists at {0}")]
    WorkspaceExists(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: invalid configuration: {message}")]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("signing key {path} is invalid: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("{0}")]
    Store(#[from] dso_store::StoreError),
    #[error("invalid event: {0}")]
    Event(#[from] dso_audit::EventError),
    #[error("{location}: {message}")]
    Input { location: String, message: String },
    #[error("unknown {kind} `{value}`")]
    Unknown {
        kind: &'static str,
        value: String,
        hint: Option<String>,
    },
    #[error("{} is invalid ({} {})", crate::pipeline::PIPELINE_FILE, .0.len(), if .0.len() == 1 { "error" } else { "errors" })]
    Pipeline(Vec<dso_devtest::Diagnostic>),
    #[error("release `{version}` failed the integrity check; deployment {deployment} refused: {}", .problems.join("; "))]
    IntegrityCheck {
        version: String,
        deployment: i64,
        problems: Vec<String>,
    },
    #[error("approval refused: {0}")]
    ApprovalRefused(dso_operational::approval::Refusal),
    #[error("environment `{env}` has no deploy target")]
    NoTarget { env: String },
    #[error("the audit chain is broken: {0}")]
    ChainBroken(dso_audit::Problem),
}

impl AppError {
    /// What the user can do about this error, if there is advice to give.
    pub fn help(&self) -> Option<String> {
        match self {
            AppError::NoWorkspace { .. } => Some(
                "run `dso init` to create one here, or point DSO_HOME (or --workspace) at an existing one".into(),
            ),
            AppError::WorkspaceExists(_) => Some("use the existing workspace, or choose another directory".into()),
            AppError::Key { .. } => Some(
                "the key file holds 64 hex characters (an ed25519 secret key); restore it from backup".into(),
            ),
            AppError::Store(dso_store::StoreError::Connect { .. }) => Some(
                "check --database / DSO_DATABASE_URL or [database] url in dso.toml, and that the server is running"
                    .into(),
            ),
            AppError::Unknown { hint, .. } => hint.clone(),
            AppError::IntegrityCheck { .. } => Some(
                "the release's artifacts or provenance changed after signing; rebuild and release a new version (`dso release verify VERSION` names what changed)".into(),
            ),
            AppError::ApprovalRefused(dso_operational::approval::Refusal::Requester { .. }) => Some(
                "another user holding the environment's approver role must approve (`dso approve DEPLOYMENT --user NAME`)".into(),
            ),
            AppError::ApprovalRefused(dso_operational::approval::Refusal::MissingRole { role, .. }) => Some(format!(
                "ask a user holding `{role}`, or grant it under [operational] roles in dso.toml"
            )),
            AppError::NoTarget { env } => Some(format!(
                "set one with `dso env set {env} --script COMMAND` or `--kubectl MANIFESTS`"
            )),
            AppError::ChainBroken(_) => Some(
                "the log was altered outside dso; restore the database from a backup and compare with `dso audit log`"
                    .into(),
            ),
            _ => None,
        }
    }
}
