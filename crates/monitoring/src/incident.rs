//! When incidents open and resolve, and which deployment they belong to.

/// What a probe result means for its monitor's incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The probe failed and no incident is open: open one.
    Open,
    /// The probe passed and an incident is open: resolve it.
    Resolve,
    /// Nothing changes.
    Keep,
}

/// The transition a probe result causes, given whether an incident is open.
pub fn on_probe(ok: bool, incident_open: bool) -> Transition {
    match (ok, incident_open) {
        (false, false) => Transition::Open,
        (true, true) => Transition::Resolve,
        _ => Transition::Keep,
    }
}

/// A finished deployment, as attribution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub id: i64,
    pub env: String,
    /// Milliseconds since the Unix epoch.
    pub finished_ms: i64,
}

/// The deployment an incident in `env` detected at `detected_ms` is
/// attributed to: the latest deployment to `env` finished at or before the
/// detection and at most `window_ms` before it. `None` when there is none,
/// so change-failure counts never guess.
pub fn attribute(
    deployments: &[Finished],
    env: &str,
    detected_ms: i64,
    window_ms: i64,
) -> Option<i64> {
    deployments
        .iter()
        .filter(|d| {
            d.env == env && d.finished_ms <= detected_ms && detected_ms - d.finished_ms <= window_ms
        })
        .max_by_key(|d| (d.finished_ms, d.id))
        .map(|d| d.id)
}
