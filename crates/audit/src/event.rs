//! The CloudEvents 1.0 envelope that every dso event travels in.

use serde::{Deserialize, Serialize};

/// The largest `data` payload accepted, in bytes of JSON text.
///
/// Events are evidence, not blobs: artifacts and logs are stored elsewhere
/// and referenced by digest.
pub const MAX_DATA_BYTES: usize = 1024 * 1024;

/// Who caused an event: a platform user, and the PIM role they acted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user name (the workspace owner for local CLI use).
    pub user: String,
    /// The PIM role id the user acted in (`security-engineer`), when known.
    pub role: Option<String>,
}

/// An event as submitted, before the log gives it an id, a time and a place.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// CloudEvents `type`, e.g. `dev.cdevents.pipelinerun.started.0.3.0`.
    pub ty: String,
    /// CloudEvents `subject`: what the event is about (a run id, a requirement id).
    pub subject: Option<String>,
    /// CloudEvents `data`, always JSON.
    pub data: serde_json::Value,
}

/// A complete CloudEvents 1.0 envelope as stored in the log.
///
/// Serialises to the CloudEvents JSON format with two extension attributes,
/// `actor` and `actorrole`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub specversion: String,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    pub time: String,
    pub datacontenttype: String,
    pub data: serde_json::Value,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actorrole: Option<String>,
}

/// Why an event was refused before it reached the log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("event type is empty")]
    EmptyType,
    #[error("event type `{0}` contains whitespace or control characters")]
    BadType(String),
    #[error("event subject contains control characters")]
    BadSubject,
    #[error("event data is {0} bytes; the limit is {MAX_DATA_BYTES}")]
    DataTooLarge(usize),
    #[error("event source is empty")]
    EmptySource,
}

impl Event {
    /// Builds the envelope for `new`, with a fresh UUIDv7 id and the current
    /// UTC time at microsecond precision.
    ///
    /// Errors when the type, subject, source or data size is unacceptable.
    pub fn stamp(new: NewEvent, source: &str, actor: &Actor) -> Result<Event, EventError> {
        Self::stamp_at(
            new,
            source,
            actor,
            new_id(),
            format_time(jiff::Timestamp::now()),
        )
    }

    /// Like [`Event::stamp`] with an explicit id and time (used by importers).
    pub fn stamp_at(
        new: NewEvent,
        source: &str,
        actor: &Actor,
        id: String,
        time: String,
    ) -> Result<Event, EventError> {
        check_type(&new.ty)?;
        if source.trim().is_empty() {
            return Err(EventError::EmptySource);
        }
        if new
            .subject
            .as_deref()
            .is_some_and(|s| s.chars().any(char::is_control))
        {
            return Err(EventError::BadSubject);
        }
        let n_bytes = serde_json::to_string(&new.data)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        if n_bytes > MAX_DATA_BYTES {
            return Err(EventError::DataTooLarge(n_bytes));
        }
        Ok(Event {
            specversion: "1.0".to_owned(),
            id,
            source: source.to_owned(),
            ty: new.ty,
            subject: new.subject,
            time,
            datacontenttype: "application/json".to_owned(),
            data: new.data,
            actor: actor.user.clone(),
            actorrole: actor.role.clone(),
        })
    }
}

/// Checks a CloudEvents `type`: non-empty, no whitespace or control characters.
pub fn check_type(ty: &str) -> Result<(), EventError> {
    if ty.is_empty() {
        return Err(EventError::EmptyType);
    }
    if ty.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EventError::BadType(ty.to_owned()));
    }
    Ok(())
}

/// Formats a time the way the log stores it: RFC 3339 UTC with exactly six
/// fraction digits (`2026-11-27T13:05:26.123456Z`), so that text order is
/// time order.
pub fn format_time(ts: jiff::Timestamp) -> String {
    let dt = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1000
    )
}

/// A fresh event id: a UUIDv7, so ids sort roughly by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
