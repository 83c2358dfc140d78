//! Uptime from probe samples, and SLOs with their error budget.

use serde::Serialize;

/// Availability over a set of samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Uptime {
    pub samples: u64,
    pub ok: u64,
    /// Percent of samples that passed; `None` without samples.
    pub percent: Option<f64>,
}

/// Counts passing samples.
pub fn uptime(samples: impl IntoIterator<Item = bool>) -> Uptime {
    let (mut n, mut ok) = (0u64, 0u64);
    for s in samples {
        n += 1;
        ok += u64::from(s);
    }
    Uptime {
        samples: n,
        ok,
        percent: (n > 0).then(|| ok as f64 * 100.0 / n as f64),
    }
}

/// An SLO's state over its window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SloStatus {
    pub target_percent: f64,
    pub uptime: Uptime,
    /// Failed samples the objective allows over the samples seen.
    pub allowed_failures: f64,
    pub failures: u64,
    /// Share of the error budget left, in percent (negative when overspent);
    /// 100 without samples.
    pub budget_left_percent: f64,
    pub met: bool,
}

/// Parses an availability objective in percent: `99.9`, `(0, 100]`.
pub fn parse_target(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(t) if t > 0.0 && t <= 100.0 => Ok(t),
        _ => Err(format!(
            "`{text}` is not an availability objective in percent (for example 99.9)"
        )),
    }
}

/// The SLO's status given its target and the window's samples.
pub fn slo(target_percent: f64, uptime: Uptime) -> SloStatus {
    let failures = uptime.samples - uptime.ok;
    let allowed = (100.0 - target_percent) / 100.0 * uptime.samples as f64;
    let budget_left_percent = if uptime.samples == 0 {
        100.0
    } else if allowed <= 0.0 {
        if failures == 0 {
            100.0
        } else {
            -100.0 * failures as f64
        }
    } else {
        (allowed - failures as f64) / allowed * 100.0
    };
    SloStatus {
        target_percent,
        uptime,
        allowed_failures: allowed,
        failures,
        budget_left_percent,
        met: uptime.percent.is_none_or(|p| p >= target_percent),
    }
}
