//! The PIM Monitoring domain (Table 1 performer 22): monitoring tools,
//! platform and engineers (Fig 19 Monitor Product).
//!
//! - [`http`]: the HTTP/1.1 pieces a probe needs (http:// only).
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP I/O, no clock:
//! callers pass times and results in.

pub mod http;

#[cfg(test)]
mod tests;
