//! The PIM Analysis domain (Table 1 performer 1): analysis tools, platform and
//! analytics engineers; the Derive Data process (Fig 20).
//!
//! Status: no capability has landed here yet. Metrics computed from the
//! event log (DORA, lead time per stage, vulnerabilities per activity, MTTR,
//! patch time) answering the 123 role questions are planned.
//!
//! Architecture invariant: metrics are pure functions over events; never ad-hoc counters.
