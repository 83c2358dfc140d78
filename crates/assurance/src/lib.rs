//! The PIM Assurance domain (Table 1 performer 7): cyber security tools,
//! platform and engineers, at the centre of the operational structure (Fig 2).
//!
//! Parsing and matching are pure: no SQL, no HTTP, no async runtime.

pub mod advisories;
pub mod findings;
pub mod lockfiles;
pub mod sarif;
pub mod sast;
pub mod sbom;
pub mod sca;
pub mod secrets;
pub mod versions;
