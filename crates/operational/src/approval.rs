//! Who may approve a deployment to a protected environment.
//!
//! This is the one place dso decides it. Today a user's roles come from the
//! workspace (the owner and the `[operational] roles` stand-in of dso.toml);
//! when governance's RBAC lands, its policy answers [`check`]'s questions.

use crate::env::Environment;

/// Why an approval is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("`{user}` requested this deployment and cannot approve it")]
    Requester { user: String },
    #[error("`{user}` does not hold the approver role `{role}` of environment `{env}`")]
    MissingRole {
        user: String,
        role: String,
        env: String,
    },
    #[error("`{user}` already approved this deployment")]
    AlreadyApproved { user: String },
    #[error("the deployment is {status}, not waiting for approval")]
    NotPending { status: String },
}

/// Checks that `approver`, holding `roles`, may approve a deployment to
/// `env` requested by `requester` and already approved by `approved_by`.
pub fn check(
    env: &Environment,
    requester: &str,
    approver: &str,
    roles: &[String],
    approved_by: &[String],
) -> Result<(), Refusal> {
    if approver == requester {
        return Err(Refusal::Requester {
            user: approver.to_owned(),
        });
    }
    if !roles.iter().any(|r| r == &env.approver_role) {
        return Err(Refusal::MissingRole {
            user: approver.to_owned(),
            role: env.approver_role.clone(),
            env: env.name.clone(),
        });
    }
    if approved_by.iter().any(|u| u == approver) {
        return Err(Refusal::AlreadyApproved {
            user: approver.to_owned(),
        });
    }
    Ok(())
}
