//! The PIM Operational domain (Table 1 performer 27): deployment tools,
//! operational platform, deployment and operation engineers, infrastructure team.
//!
//! - [`env`]: environments, their deploy target, strategy and health checks,
//!   and the four defaults (dev, test, staging, production).
//! - [`provenance`]: the signed release statement: an in-toto Statement v1
//!   with an SLSA provenance v1 predicate in a DSSE envelope (ed25519), and
//!   its verification naming what was altered (Fig 18's integrity check).
//! - [`approval`]: who may approve a deployment to a protected environment
//!   (the one place role checks happen; governance's RBAC plugs in here).
//! - [`deploy`]: the steps of a deployment, the kubectl command line, and
//!   which release a rollback returns to.
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP, no processes.

pub mod approval;
pub mod deploy;
pub mod env;
pub mod provenance;

#[cfg(test)]
mod tests;
