//! A workspace: a directory holding `dso.toml`, the SQLite database (by
//! default) and the audit signing key.
//!
//! Commands find their workspace from `DSO_HOME` (or `--workspace`), else by
//! walking up from the current directory to the first `dso.toml`.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AppError;

/// The file that marks a workspace.
pub const CONFIG_FILE: &str = "dso.toml";

/// The configuration written by `dso init`, documented key by key.
pub const CONFIG_TEMPLATE: &str = r#"# dso workspace configuration.
# Every key is optional; the value shown is the default.

[workspace]
# A short name; it appears in the `source` of every event (dso://NAME).
name = "{name}"
# The user the CLI acts as when no DSO_TOKEN is given.
owner = "{owner}"

[database]
# sqlite://PATH (relative to this file) or postgres://USER@HOST:PORT/DB.
# Overridden by --database and DSO_DATABASE_URL.
url = "sqlite://dso.db"

[audit]
# Sign a checkpoint of the hash chain every this many events (0: only on demand,
# with `dso audit checkpoint`).
checkpoint_every = 1000

[signing]
# The ed25519 key that signs audit checkpoints (64 hex characters, mode 0600).
key_file = "keys/audit-signing.key"

[runner]
# Run jobs in the sandbox: own PID and network namespaces, the file system
# read-only except the work directory, caches and the job's temporary
# directory, no TCP unless the job says `network: on` (Linux, Landlock).
sandbox = true
# Jobs run at once by `dso run` (overridden by --jobs).
jobs = 2
# CPU seconds a job may use (default: twice its timeout).
# cpu_seconds = 3600
# Address-space limit of a job in MiB (default: none).
# memory_mb = 16384
# Variables passed from dso's environment to every job; all others are
# scrubbed. HOME and TMPDIR are the run's own.
pass_env = ["PATH", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"]

[operational]
# An incident is attributed to the latest deployment to its environment that
# finished at most this many seconds before it was detected.
incident_window_s = 86400

[gate]
# Line coverage in percent a run needs to pass the default gate pack
# (0: coverage is not required; a run without coverage then passes).
coverage_min = 80

# Environments: deploy settings kept here win, key by key, over those stored
# with `dso env set` (which refuses to change a key set here). An environment
# named here is created when first read. `dso env show NAME` marks what comes
# from this file.
# [environments.staging]
# protected = false
# approvals = 0                      # above 0 implies protected
# approver_role = "release-engineer"
# strategy = "all-at-once"           # or "stepped", with steps = N
# [environments.staging.target]
# script = "./deploy.sh"             # or: kubectl = "k8s/", context = "..", namespace = ".."
# [environments.staging.health]
# timeout = 30                       # seconds the checks may take to pass
# retries = 5                        # give up on a check after this many retries
# ca_file = "certs/internal-ca.pem"  # CA for https:// checks, relative to this file
# [[environments.staging.health.checks]]
# http = "https://staging.internal:8443/health"
# expect_status = 200
# expect_body = "ok"
# [[environments.staging.health.checks]]
# tcp = "10.0.0.6:5432"
"#;

/// `dso.toml`, parsed.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub workspace: WorkspaceSection,
    pub database: DatabaseSection,
    pub audit: AuditSection,
    pub signing: SigningSection,
    pub runner: RunnerSection,
    pub operational: OperationalSection,
    pub gate: GateSection,
    /// `[environments.NAME]`: deploy settings kept in the file (see [`EnvConfig`]).
    pub environments: std::collections::BTreeMap<String, toml::Spanned<EnvConfig>>,
}

/// `[gate]`: settings the gate's input document carries under `config`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateSection {
    pub coverage_min: f64,
}

impl Default for GateSection {
    fn default() -> Self {
        GateSection { coverage_min: 80.0 }
    }
}

/// `[environments.NAME]` of dso.toml: an environment's deploy target,
/// strategy, health checks and protection, kept with the workspace's
/// configuration. Every key is optional. A key given here wins over the
/// value stored in the database (`dso env set`), which applies to the keys
/// not given; `dso env set` refuses to change a key the file sets. An
/// environment named here and not yet in the database is created (with its
/// `environment.created` event) the first time environments are read.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    pub protected: Option<bool>,
    /// Approvals a deployment needs; above 0 implies `protected`.
    pub approvals: Option<u32>,
    /// The PIM role an approver must hold.
    pub approver_role: Option<toml::Spanned<String>>,
    /// `all-at-once` or `stepped` (with `steps`).
    pub strategy: Option<toml::Spanned<String>>,
    pub steps: Option<toml::Spanned<u32>>,
    pub target: Option<toml::Spanned<TargetConfig>>,
    pub health: Option<HealthConfig>,
}

/// `[environments.NAME.target]`: `script = "COMMAND"`, or `kubectl =
/// "MANIFESTS"` with optional `context` and `namespace`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub script: Option<String>,
    pub kubectl: Option<String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// `[environments.NAME.health]`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// Seconds the checks may take to pass.
    pub timeout: Option<u32>,
    /// Retries per check before giving up (default: until the timeout).
    pub retries: Option<u32>,
    /// A PEM file of CA certificates for https:// checks (relative to dso.toml).
    pub ca_file: Option<toml::Spanned<String>>,
    /// `[[environments.NAME.health.checks]]`; replaces the stored checks.
    pub checks: Option<Vec<toml::Spanned<CheckConfig>>>,
}

/// One health check: `http = "http[s]://..."` (with `expect_status`,
/// `expect_body`) or `tcp = "HOST:PORT"`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    pub http: Option<String>,
    pub tcp: Option<String>,
    pub expect_status: Option<u16>,
    pub expect_body: Option<String>,
}

/// A problem in `[environments.NAME]`: where (a byte range of dso.toml) and what.
type Problem = (std::ops::Range<usize>, String);

impl EnvConfig {
    /// Applies the keys this section gives to `env` (the stored settings)
    /// and returns their names; `root` resolves a relative `ca_file`.
    pub fn apply(
        &self,
        env: &mut dso_operational::env::Environment,
        root: &Path,
        whole: std::ops::Range<usize>,
    ) -> Result<Vec<&'static str>, Problem> {
        use dso_operational::env::{HealthCheck, Strategy, Target};
        let mut set = Vec::new();
        if let Err(m) = dso_operational::env::check_name(&env.name) {
            return Err((whole, m));
        }
        if let Some(p) = self.protected {
            env.protected = p;
            set.push("protected");
        }
        if let Some(n) = self.approvals {
            env.approvals = n;
            if n > 0 && self.protected.is_none() {
                env.protected = true;
            }
            set.push("approvals");
        }
        if let Some(role) = &self.approver_role {
            if dso_model::pim()
                .roles
                .iter()
                .all(|r| r.id != *role.get_ref())
            {
                return Err((
                    role.span(),
                    format!(
                        "field `approver_role`: `{}` is not a PIM role (`dso model roles`)",
                        role.get_ref()
                    ),
                ));
            }
            env.approver_role = role.get_ref().clone();
            set.push("approver_role");
        }
        match (&self.strategy, &self.steps) {
            (None, None) => {}
            (Some(s), steps) if s.get_ref() == "all-at-once" => {
                if let Some(n) = steps {
                    return Err((
                        n.span(),
                        "field `steps`: only with strategy = \"stepped\"".into(),
                    ));
                }
                env.strategy = Strategy::AllAtOnce;
                set.push("strategy");
            }
            (Some(s), Some(n)) if s.get_ref() == "stepped" => {
                if !(2..=100).contains(n.get_ref()) {
                    return Err((n.span(), "field `steps`: give 2 to 100 steps".into()));
                }
                env.strategy = Strategy::Stepped {
                    steps: *n.get_ref(),
                };
                set.push("strategy");
            }
            (Some(s), None) if s.get_ref() == "stepped" => {
                return Err((
                    s.span(),
                    "field `strategy`: \"stepped\" needs `steps = N`".into(),
                ));
            }
            (Some(s), _) => {
                return Err((
                    s.span(),
                    format!(
                        "field `strategy`: `{}` is neither \"all-at-once\" nor \"stepped\"",
                        s.get_ref()
                    ),
                ));
            }
            (None, Some(n)) => {
                return Err((
                    n.span(),
                    "field `steps`: needs strategy = \"stepped\"".into(),
                ));
            }
        }
        if let Some(t) = &self.target {
            let c = t.get_ref();
            let bad = |m: &str| Err((t.span(), format!("field `target`: {m}")));
            env.target = match (&c.script, &c.kubectl) {
                (Some(_), Some(_)) => return bad("give `script` or `kubectl`, not both"),
                (None, None) => {
                    return bad("give `script = \"COMMAND\"` or `kubectl = \"MANIFESTS\"`");
                }
                (Some(command), None) => {
                    if c.context.is_some() || c.namespace.is_some() {
                        return bad("`context` and `namespace` go with `kubectl`");
                    }
                    if command.trim().is_empty() {
                        return bad("`script` is empty");
                    }
                    Target::Script {
                        command: command.clone(),
                    }
                }
                (None, Some(manifests)) => {
                    if manifests.trim().is_empty() {
                        return bad("`kubectl` is empty");
                    }
                    Target::Kubectl {
                        manifests: manifests.clone(),
                        context: c.context.clone(),
                        namespace: c.namespace.clone(),
                    }
                }
            };
            set.push("target");
        }
        if let Some(h) = &self.health {
            if let Some(t) = h.timeout {
                env.health.timeout_s = t;
                set.push("health.timeout");
            }
            if let Some(r) = h.retries {
                env.health.retries = Some(r);
                set.push("health.retries");
            }
            if let Some(ca) = &h.ca_file {
                if ca.get_ref().trim().is_empty() {
                    return Err((ca.span(), "field `ca_file`: empty path".into()));
                }
                env.health.ca_file = Some(root.join(ca.get_ref()).display().to_string());
                set.push("health.ca_file");
            }
            if let Some(checks) = &h.checks {
                let mut out = Vec::new();
                for c in checks {
                    let cc = c.get_ref();
                    let bad = |m: String| Err((c.span(), format!("health check: {m}")));
                    let check = match (&cc.http, &cc.tcp) {
                        (Some(url), None) => {
                            if !url.starts_with("http://") && !url.starts_with("https://") {
                                return bad(format!(
                                    "field `http`: `{url}` is not an http:// or https:// URL"
                                ));
                            }
                            if let Err(m) = dso_monitoring::http::parse_url(url) {
                                return bad(format!("field `http`: {m}"));
                            }
                            let status = cc.expect_status.unwrap_or(200);
                            if !(100..600).contains(&status) {
                                return bad(format!(
                                    "field `expect_status`: `{status}` is not an HTTP status"
                                ));
                            }
                            HealthCheck::Http {
                                url: url.clone(),
                                expect_status: status,
                                expect_body: cc.expect_body.clone(),
                            }
                        }
                        (None, Some(address)) => {
                            if cc.expect_status.is_some() || cc.expect_body.is_some() {
                                return bad(
                                    "`expect_status` and `expect_body` go with `http`".into()
                                );
                            }
                            match HealthCheck::parse(&format!("tcp://{address}")) {
                                Ok(c) => c,
                                Err(m) => return bad(format!("field `tcp`: {m}")),
                            }
                        }
                        _ => {
                            return bad(
                                "give `http = \"URL\"` or `tcp = \"HOST:PORT\"`, one of them"
                                    .into(),
                            );
                        }
                    };
                    out.push(check);
                }
                env.health.checks = out;
                set.push("health.checks");
            }
        }
        Ok(set)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OperationalSection {
    pub incident_window_s: u64,
}

impl Default for OperationalSection {
    fn default() -> Self {
        OperationalSection {
            incident_window_s: 86400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunnerSection {
    pub sandbox: bool,
    pub jobs: usize,
    pub cpu_seconds: Option<u64>,
    pub memory_mb: Option<u64>,
    pub pass_env: Vec<String>,
}

impl Default for RunnerSection {
    fn default() -> Self {
        RunnerSection {
            sandbox: true,
            jobs: 2,
            cpu_seconds: None,
            memory_mb: None,
            pass_env: vec![
                "PATH".into(),
                "RUSTUP_HOME".into(),
                "RUSTUP_TOOLCHAIN".into(),
            ],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkspaceSection {
    pub name: String,
    pub owner: String,
}

impl Default for WorkspaceSection {
    fn default() -> Self {
        WorkspaceSection {
            name: "dso".into(),
            owner: "owner".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    pub url: String,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        DatabaseSection {
            url: "sqlite://dso.db".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    pub checkpoint_every: u64,
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection {
            checkpoint_every: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSection {
    pub key_file: PathBuf,
}

impl Default for SigningSection {
    fn default() -> Self {
        SigningSection {
            key_file: PathBuf::from("keys/audit-signing.key"),
        }
    }
}

/// A found workspace: its directory and configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
}

impl Workspace {
    /// Finds the workspace: `explicit` (from DSO_HOME or --workspace) when
    /// given, else the nearest ancestor of `cwd` holding `dso.toml`.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<Workspace, AppError> {
        if let Some(dir) = explicit {
            if dir.join(CONFIG_FILE).is_file() {
                return Workspace::load(dir);
            }
            return Err(AppError::NoWorkspace {
                searched: dir.to_path_buf(),
            });
        }
        let mut dir = Some(cwd);
        while let Some(d) = dir {
            if d.join(CONFIG_FILE).is_file() {
                return Workspace::load(d);
            }
            dir = d.parent();
        }
        Err(AppError::NoWorkspace {
            searched: cwd.to_path_buf(),
        })
    }

    /// Loads `dir/dso.toml`; errors name the line and column of a bad key.
    pub fn load(dir: &Path) -> Result<Workspace, AppError> {
        let path = dir.join(CONFIG_FILE);
        let text = fs::read_to_string(&path).map_err(|source| AppError::Read {
            path: path.clone(),
            source,
        })?;
        let config = parse_config(&path, &text)?;
        Ok(Workspace {
            root: dir.to_path_buf(),
            config,
        })
    }

    /// The database URL: `override_url` if given, else the config's, with a
    /// relative SQLite path resolved against the workspace directory.
    pub fn database_url(&self, override_url: Option<&str>) -> String {
        let url = override_url.unwrap_or(&self.config.database.url);
        match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(path) if !path.starts_with('/') && !path.starts_with(':') => {
                format!("sqlite://{}", self.root.join(path).display())
            }
            _ => url.to_owned(),
        }
    }

    pub fn key_path(&self) -> PathBuf {
        self.root.join(&self.config.signing.key_file)
    }

    /// The `source` attribute of events from this workspace.
    pub fn event_source(&self) -> String {
        format!("dso://{}", self.config.workspace.name)
    }
}

/// Parses `dso.toml` text, naming the file, line and column of an error;
/// `[environments.NAME]` sections are checked field by field.
pub fn parse_config(path: &Path, text: &str) -> Result<Config, AppError> {
    let config: Config = toml::from_str(text).map_err(|err| {
        let (line, column) = err.span().map_or((1, 1), |span| line_col(text, span.start));
        AppError::Config {
            path: path.to_path_buf(),
            line,
            column,
            message: err.message().to_owned(),
        }
    })?;
    let root = path.parent().unwrap_or(Path::new("."));
    for (name, section) in &config.environments {
        let mut env = dso_operational::env::Environment::new(name);
        if let Err((span, message)) = section.get_ref().apply(&mut env, root, section.span()) {
            let (line, column) = line_col(text, span.start);
            return Err(AppError::Config {
                path: path.to_path_buf(),
                line,
                column,
                message: format!("[environments.{name}]: {message}"),
            });
        }
    }
    Ok(config)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// What `dso init` needs to know.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub name: String,
    pub owner: String,
    /// A database URL to record instead of the SQLite default.
    pub database_url: Option<String>,
}

/// Writes `dir/dso.toml` and the signing key; the caller creates the database.
///
/// Errors when `dir` already holds a workspace. The key file is created
/// with mode 0600 and never overwritten.
pub fn create(dir: &Path, options: &InitOptions) -> Result<Workspace, AppError> {
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        return Err(AppError::WorkspaceExists(dir.to_path_buf()));
    }
    fs::create_dir_all(dir).map_err(|source| AppError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut text = CONFIG_TEMPLATE
        .replace("{name}", &toml_escape(&options.name))
        .replace("{owner}", &toml_escape(&options.owner));
    if let Some(url) = &options.database_url {
        text = text.replace(
            "url = \"sqlite://dso.db\"",
            &format!("url = \"{}\"", toml_escape(url)),
        );
    }
    let config = parse_config(&config_path, &text)?;
    let workspace = Workspace {
        root: dir.to_path_buf(),
        config,
    };
    write_new_key(&workspace.key_path())?;
    fs::write(&config_path, text).map_err(|source| AppError::Write {
        path: config_path,
        source,
    })?;
    Ok(workspace)
}

fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn write_new_key(path: &Path) -> Result<(), AppError> {
    let write_err = |source| AppError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(write_err)?;
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|err| AppError::Key {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(write_err)?;
    writeln!(file, "{}", hex::encode(secret)).map_err(write_err)?;
    Ok(())
}

/// Reads the signing key written by `dso init`.
pub fn read_key(path: &Path) -> Result<dso_audit::KeyPair, AppError> {
    let text = fs::read_to_string(path).map_err(|source| AppError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret).map_err(|err| AppError::Key {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    Ok(dso_audit::KeyPair::from_secret(secret))
}
