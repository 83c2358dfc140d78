//! The PIM Operational domain (Table 1 performer 27): deployment tools,
//! operational platform, deployment and operation engineers, infrastructure team.
//!
//! Status: no capability has landed here yet. Environments, signed releases
//! (in-toto/SLSA provenance), deployments with the integrity check of Fig 18,
//! approvals and rollback are planned (the operational issue).
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP.
