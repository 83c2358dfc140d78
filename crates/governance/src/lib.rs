//! The PIM Governance domain (Table 1 performer 19): project planning tools,
//! planning ticketing tool, knowledge management, collaboration tools,
//! business experts, product management and the planning team.
//!
//! - [`rbac`]: who may do what, decided by Cedar policies over the 41 PIM roles.
//! - [`exchange`]: the planning exchanges of Table 2 and the roles that send them.
//! - [`requirement`]: requirements and their versioned, diffable history.
//! - [`backlog`]: backlog items on a configurable Kanban flow; CSV and Jira import.
//! - [`gate`]: policy gates as code (Rego): the default pack and its tests.
//! - [`trace`]: classifying requirements as verified, untested or not implemented.
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP, no other
//! domain crate as a dependency (cross-domain flows go through `dso-app`).

pub mod backlog;
pub mod exchange;
pub mod gate;
pub mod rbac;
pub mod requirement;
pub mod trace;
