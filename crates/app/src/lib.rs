//! The use cases of dso: the API boundary that the CLI (and later the server) call.
//!
//! A use case loads what it needs, calls pure domain code, persists through
//! the store and records what happened in the event log. Its types are plain
//! structs with public fields; no sqlx, clap or HTTP type crosses this boundary.
//!
//! - [`workspace`]: finding, creating and configuring a workspace (`dso.toml`).
//! - [`access`]: users, roles, tokens, and the RBAC policy deciding every use case.
//! - [`context`]: an open workspace: config, store, signing key, acting user.
//! - [`events`]: emitting, importing and listing events; verifying the chain.
//! - [`model`]: querying the PIM as data.
//! - [`scan`]: secret detection and static analysis of code on disk.
//! - [`assurance`]: advisories, SCA, SBOM, OpenVEX, SARIF import and the findings store with triage.
//! - [`monitoring`]: monitors and `dso monitor run`, uptime, SLOs, alert intake, incidents.
//! - [`operational`]: environments, signed releases, deployments, approvals, rollback; [`probe`] HTTP and TCP probes.
//! - [`requirements`], [`backlog`], [`exchange`]: the Governance domain's repositories and flows.
//! - [`pipeline`]: `dso run`, runs, jobs, logs; [`artifacts`] their content-addressed store; [`secrets`] the secret store; [`git`] what a run reads from git.

pub mod access;
pub mod artifacts;
pub mod assurance;
pub mod backlog;
pub mod context;
mod detached;
pub mod error;
pub mod events;
pub mod exchange;
pub mod gate;
pub mod git;
pub mod metrics;
pub mod model;
pub mod monitoring;
pub mod operational;
pub mod pipeline;
pub mod probe;
pub mod requirements;
pub mod scan;
pub mod secrets;
pub mod steps;
pub mod trace;
pub mod workspace;

pub use context::{Context, OpenOptions};
pub use dso_store::redact_url;
pub use error::AppError;
