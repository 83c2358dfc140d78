//! The PIM Monitoring domain (Table 1 performer 22): monitoring tools,
//! platform and engineers (Fig 19 Monitor Product).
//!
//! - [`http`]: the HTTP/1.1 pieces a probe needs (http:// only).
//! - [`incident`]: when a probe opens or resolves an incident, and the
//!   deployment an incident is attributed to.
//! - [`uptime`]: uptime from samples; SLOs and their error budget.
//! - [`alert`]: Alertmanager webhook and generic JSON alert intake.
//! - [`usage`]: abnormal usage (bursts, authentication failures) in access logs.
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP I/O, no clock:
//! callers pass times and results in.

pub mod alert;
pub mod http;
pub mod incident;
pub mod uptime;
pub mod usage;

#[cfg(test)]
mod tests;
