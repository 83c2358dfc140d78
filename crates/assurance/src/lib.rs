//! The PIM Assurance domain (Table 1 performer 7): cyber security tools,
//! platform and engineers, at the centre of the operational structure (Fig 2).
//!
//! Status: no capability has landed here yet. Advisory import (OSV),
//! software composition analysis, SBOM (CycloneDX, SPDX), secret detection,
//! static analysis levels 1 and 2 (Figs 15-17) and the findings store with
//! triage and VEX are planned (the assurance issue).
//!
//! Architecture invariant: parsing and matching are pure; only a future
//! `exec/` module runs external analyzers. No SQL, no HTTP.

pub mod sast;
pub mod secrets;
