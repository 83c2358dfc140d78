//! The PIM Design domain (Table 1 performer 16): architects, the requirements
//! repository and the architecture and modeling environment.
//!
//! Status: no capability has landed here yet. Product and DevSecOps
//! architecture documents (IE17, IE20), the threat model and the
//! attack-surface inventory per release are planned.
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP, no other
//! domain crate as a dependency.
