//! The pure parts of a deployment: its steps, the kubectl command line,
//! digest substitution in manifests, and the release a rollback returns to.

use crate::env::{Strategy, Target};

/// Deployment states as stored.
pub mod status {
    /// Waiting for approvals (protected environment).
    pub const PENDING_APPROVAL: &str = "pending-approval";
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    /// The target or a health check failed.
    pub const FAILED: &str = "failed";
    /// The integrity check failed; nothing ran.
    pub const REFUSED: &str = "refused";
}

/// How many times the target runs.
pub fn steps(strategy: Strategy) -> u32 {
    match strategy {
        Strategy::AllAtOnce => 1,
        Strategy::Stepped { steps } => steps.max(1),
    }
}

/// A past deployment to one environment, oldest first in a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Past {
    pub id: i64,
    pub version: String,
    pub status: String,
}

/// The release to return to when `failed_version` cannot stay: the newest
/// successful deployment of another version, if any.
pub fn rollback_target(history: &[Past], failed_version: &str) -> Option<String> {
    history
        .iter()
        .rev()
        .find(|d| d.status == status::SUCCEEDED && d.version != failed_version)
        .map(|d| d.version.clone())
}

/// The version currently deployed: the newest successful deployment.
pub fn current(history: &[Past]) -> Option<&Past> {
    history.iter().rev().find(|d| d.status == status::SUCCEEDED)
}

/// The command line applying manifests in `dir` with `kubectl`.
pub fn kubectl_command(target: &Target, dir: &str) -> Option<Vec<String>> {
    let Target::Kubectl {
        context, namespace, ..
    } = target
    else {
        return None;
    };
    let mut args = vec!["kubectl".to_owned()];
    if let Some(c) = context {
        args.extend(["--context".into(), c.clone()]);
    }
    if let Some(n) = namespace {
        args.extend(["--namespace".into(), n.clone()]);
    }
    args.extend(["apply".into(), "-f".into(), dir.to_owned()]);
    Some(args)
}

/// Replaces every `{{digest:PATH}}` in a manifest with `sha256:HEX` of the
/// release artifact at PATH. Unknown paths are returned as errors.
pub fn substitute_digests(text: &str, artifacts: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{digest:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{digest:".len()..];
        let Some(end) = after.find("}}") else {
            return Err("`{{digest:` without a closing `}}`".into());
        };
        let path = after[..end].trim();
        let Some((_, sha)) = artifacts.iter().find(|(p, _)| p == path) else {
            return Err(format!(
                "`{{{{digest:{path}}}}}` names no artifact of the release"
            ));
        };
        out.push_str("sha256:");
        out.push_str(sha);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
