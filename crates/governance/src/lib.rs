//! The PIM Governance domain (Table 1 performer 19): project planning tools,
//! planning ticketing tool, knowledge management, collaboration tools,
//! business experts, product management and the planning team.
//!
//! Status: no capability has landed here yet. Requirements repository,
//! backlog, traceability, the planning exchanges (OE6-OE27) and role-based
//! access decided by Cedar policy are planned (the governance issue).
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP, no other
//! domain crate as a dependency (cross-domain flows go through `dso-app`).
