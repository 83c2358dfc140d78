//! Environments: where releases are deployed, how, and how their health is checked.

use serde::{Deserialize, Serialize};

/// The role whose holders may approve deployments unless an environment names another.
pub const DEFAULT_APPROVER_ROLE: &str = "release-engineer";

/// An environment and its deployment settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    /// Deployments need `approvals` approvals before they run.
    pub protected: bool,
    pub approvals: u32,
    /// The PIM role id (`dso model roles`) an approver must hold.
    pub approver_role: String,
    pub target: Target,
    pub strategy: Strategy,
    pub health: Health,
}

/// The health checks run after each deployment step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub checks: Vec<HealthCheck>,
    /// How long the checks may take to pass (they are retried until then).
    pub timeout_s: u32,
    /// At most this many retries per check (after the first attempt);
    /// `None`: retried until the timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// A PEM file of CA certificates that `https://` checks trust instead
    /// of the public roots (a private CA of internal services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            checks: Vec::new(),
            timeout_s: 30,
            retries: None,
            ca_file: None,
        }
    }
}

/// How a release is put in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// No target configured: deploying is refused until one is set.
    None,
    /// A bash command run with `DSO_RELEASE`, `DSO_ENV`, `DSO_ARTIFACT_DIR`
    /// (and `DSO_STEP`, `DSO_STEPS`).
    Script { command: String },
    /// `kubectl apply -f DIR` over the manifests in DIR (relative to the
    /// release's artifact directory), image digests substituted.
    Kubectl {
        manifests: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
    },
}

/// How a deployment proceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Strategy {
    /// The target runs once, then health is checked.
    AllAtOnce,
    /// The target runs `steps` times (`DSO_STEP` = 1..=steps); health is
    /// checked after each step and a failure stops the rollout.
    Stepped { steps: u32 },
}

/// A check that the deployed service is healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HealthCheck {
    /// `GET url` (http:// or https://) answers `expect_status`, and a body
    /// containing `expect_body` when given.
    Http {
        url: String,
        expect_status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_body: Option<String>,
    },
    /// A TCP connection to `address` (host:port) succeeds.
    Tcp { address: String },
}

impl HealthCheck {
    /// Parses `http[s]://host:port/path[#STATUS]` or `tcp://host:port`.
    pub fn parse(text: &str) -> Result<HealthCheck, String> {
        if let Some(address) = text.strip_prefix("tcp://") {
            check_address(address)?;
            return Ok(HealthCheck::Tcp {
                address: address.to_owned(),
            });
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            let (url, status) = match text.rsplit_once('#') {
                Some((url, status)) => (
                    url,
                    status
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (100..600).contains(s))
                        .ok_or_else(|| format!("`{status}` is not an HTTP status"))?,
                ),
                None => (text, 200),
            };
            return Ok(HealthCheck::Http {
                url: url.to_owned(),
                expect_status: status,
                expect_body: None,
            });
        }
        Err(format!(
            "`{text}` is neither http[s]://HOST:PORT/PATH[#STATUS] nor tcp://HOST:PORT"
        ))
    }

    /// The check as it was written.
    pub fn display(&self) -> String {
        match self {
            HealthCheck::Http {
                url,
                expect_status,
                expect_body,
            } => {
                let mut text = url.clone();
                if *expect_status != 200 {
                    text.push_str(&format!("#{expect_status}"));
                }
                if let Some(body) = expect_body {
                    text.push_str(&format!(" (body contains `{body}`)"));
                }
                text
            }
            HealthCheck::Tcp { address } => format!("tcp://{address}"),
        }
    }
}

fn check_address(address: &str) -> Result<(), String> {
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(format!("`{address}` is not HOST:PORT")),
    }
}

/// Checks an environment name: lowercase letters, digits and `-`, starting
/// with a letter, at most 63 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid environment name: use lowercase letters, digits and `-`, starting with a letter"
        ))
    }
}

impl Environment {
    /// An unprotected environment with no target yet.
    pub fn new(name: &str) -> Environment {
        Environment {
            name: name.to_owned(),
            protected: false,
            approvals: 0,
            approver_role: DEFAULT_APPROVER_ROLE.to_owned(),
            target: Target::None,
            strategy: Strategy::AllAtOnce,
            health: Health::default(),
        }
    }

    /// Approvals a deployment here needs before it runs.
    pub fn approvals_needed(&self) -> u32 {
        if self.protected {
            self.approvals.max(1)
        } else {
            0
        }
    }
}

/// The environments every workspace starts with: dev, test, staging, and a
/// protected production needing one approval from a release engineer.
pub fn defaults() -> Vec<Environment> {
    let mut production = Environment::new("production");
    production.protected = true;
    production.approvals = 1;
    ["dev", "test", "staging"]
        .into_iter()
        .map(Environment::new)
        .chain([production])
        .collect()
}
