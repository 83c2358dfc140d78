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
    #[error("{0}")]
    Secrets(#[from] dso_assurance::secrets::SecretsError),
    #[error("{0}")]
    Sast(#[from] dso_assurance::sast::SastError),
    #[error("{0}")]
    Forbidden(dso_governance::rbac::Forbidden),
    #[error("token refused: {reason}")]
    Unauthenticated { reason: String },
    /// Internal: a refused token and the event recording it; `Context::open`
    /// appends the event and returns [`AppError::Unauthenticated`].
    #[error("token refused: {reason}")]
    TokenRefused {
        reason: String,
        event: Box<dso_audit::NewEvent>,
    },
    #[error("invalid policy:\n{0}")]
    Policy(dso_governance::rbac::PolicyError),
    #[error("{0}")]
    Conflict(String),
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
            AppError::Forbidden(f) => Some(match &f.reason {
                Some(reason) => format!("{reason}; `dso policy rbac show --matrix` lists what each role may do"),
                None => "a user with role management (the workspace owner or a system-administrator) can grant a role that allows it: `dso role grant USER ROLE`; `dso policy rbac show --matrix` lists what each role may do".into(),
            }),
            AppError::Unauthenticated { .. } | AppError::TokenRefused { .. } => Some(
                "create a new token with `dso token create` (as a user who may), or unset DSO_TOKEN / --token to act as the workspace owner".into(),
            ),
            AppError::Policy(_) => Some(
                "the policy must parse as Cedar and validate against the schema; `dso policy rbac show --schema` prints it".into(),
            ),
            AppError::ChainBroken(_) => Some(
                "the log was altered outside dso; restore the database from a backup and compare with `dso audit log`"
                    .into(),
            ),
            AppError::Secrets(dso_assurance::secrets::SecretsError::AllowList { .. }) => Some(
                "each .dsoignore line is a .gitignore-style path pattern or `fingerprint:<hex>` as printed by a scan"
                    .into(),
            ),
            AppError::Secrets(dso_assurance::secrets::SecretsError::Git { .. }) => {
                Some("--git-history needs a git repository and the `git` command on PATH".into())
            }
            AppError::Sast(dso_assurance::sast::SastError::Rule { .. }) => Some(
                "rules use the ast-grep YAML format (id, language, rule, message, severity); dso reads metadata.cwe (CWE-<n>) and metadata.disposition (confirmed | needs-review | informational)"
                    .into(),
            ),
            _ => None,
        }
    }
}
