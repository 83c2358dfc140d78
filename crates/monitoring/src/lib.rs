//! The PIM Monitoring domain (Table 1 performer 22): monitoring tools,
//! platform and engineers.
//!
//! Status: no capability has landed here yet. HTTP/TCP probes, alert intake
//! (Alertmanager, generic JSON), incidents linked to deployments, uptime and
//! SLOs, and abnormal-usage detection are planned (Fig 19; the monitoring issue).
//!
//! Architecture invariant: pure domain logic; no SQL, no HTTP.
