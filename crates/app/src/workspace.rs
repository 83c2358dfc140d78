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

/// Parses `dso.toml` text, naming the file, line and column of an error.
pub fn parse_config(path: &Path, text: &str) -> Result<Config, AppError> {
    toml::from_str(text).map_err(|err| {
        let (line, column) = err.span().map_or((1, 1), |span| line_col(text, span.start));
        AppError::Config {
            path: path.to_path_buf(),
            line,
            column,
            message: err.message().to_owned(),
        }
    })
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
