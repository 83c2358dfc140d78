//! Durations written as `30s`, `10m`, `1h30m`.

use std::time::Duration;

/// The longest accepted duration: one day.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a duration such as `30s`, `10m`, `2h` or `1h30m15s`.
///
/// Grammar: one or more `<digits><unit>` parts, units `h`, `m`, `s`, each at
/// most once and in that order, no spaces. Returns `Err` with a lowercase
/// reason when the text does not follow it, or when the result is zero or
/// longer than [`MAX_DURATION`].
pub fn parse(text: &str) -> Result<Duration, String> {
    if text.is_empty() {
        return Err("a duration must not be empty".to_owned());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut last_unit_rank = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let (rank, seconds) = match c {
            'h' => (1, 3600),
            'm' => (2, 60),
            's' => (3, 1),
            _ => return Err(format!("unexpected character `{c}`")),
        };
        if digits.is_empty() {
            return Err(format!("`{c}` must follow a number"));
        }
        if rank <= last_unit_rank {
            return Err("units must appear once each, in the order h, m, s".to_owned());
        }
        last_unit_rank = rank;
        let amount: u64 = digits
            .parse()
            .map_err(|_| "the number is too large".to_owned())?;
        total = amount
            .checked_mul(seconds)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| "the duration is too long".to_owned())?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err("the number has no unit".to_owned());
    }
    let duration = Duration::from_secs(total);
    if duration.is_zero() {
        return Err("a duration must be longer than zero".to_owned());
    }
    if duration > MAX_DURATION {
        return Err("a duration must be at most 24h".to_owned());
    }
    Ok(duration)
}
