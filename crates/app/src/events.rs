//! The event log use cases: emit, import, list, verify, checkpoint.

use std::io::BufRead;

use dso_audit::{ChainVerifier, Event, NewEvent, StoredEntry, VerifyReport};
pub use dso_store::{AppendedEntry, EventQuery};
use serde::Deserialize;

use crate::{AppError, Context};

/// Event types dso itself emits outside CDEvents' vocabulary.
pub mod types {
    pub const WORKSPACE_CREATED: &str = "dev.cdeventsx.dso.workspace.created.0.1.0";
}

/// Events per transaction when importing.
pub const IMPORT_BATCH: usize = 500;

/// Appends one event acting as `ctx.actor`; signs a checkpoint when due.
pub async fn emit(ctx: &Context, new: NewEvent) -> Result<AppendedEntry, AppError> {
    let event = ctx.stamp(new)?;
    let mut appended = append(ctx, &[event]).await?;
    Ok(appended.remove(0))
}

/// Appends stamped events in one transaction, then signs the checkpoints
/// that fall due.
pub async fn append(ctx: &Context, events: &[Event]) -> Result<Vec<AppendedEntry>, AppError> {
    let appended = ctx.store.append(events).await?;
    seal(ctx, &appended).await?;
    Ok(appended)
}

/// Signs the checkpoints that fall due (every `audit.checkpoint_every`
/// entries) among `appended`. Every use case that appends events through its
/// own store write transaction calls this after the commit.
pub async fn seal(ctx: &Context, appended: &[AppendedEntry]) -> Result<(), AppError> {
    let every = ctx.workspace.config.audit.checkpoint_every as i64;
    if every > 0 {
        for entry in appended.iter().filter(|e| e.seq % every == 0) {
            let time = dso_audit::format_time(jiff::Timestamp::now());
            let cp = ctx.key.checkpoint(entry.seq, &entry.hash, &time);
            ctx.store.add_checkpoint(&cp).await?;
        }
    }
    Ok(())
}

/// One line of an import file: a CloudEvents JSON object. `type` is
/// required; `id`, `time` and `source` are kept when present, so events from
/// another system keep their identity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportLine {
    #[serde(rename = "type")]
    ty: String,
    subject: Option<String>,
    #[serde(default)]
    data: serde_json::Value,
    id: Option<String>,
    time: Option<String>,
    source: Option<String>,
    specversion: Option<String>,
    datacontenttype: Option<String>,
}

/// Reads JSON lines from `reader` (named `name` in errors), validates every
/// line, then appends them in transactions of [`IMPORT_BATCH`].
///
/// Nothing is appended if any line is invalid; the error names the line and
/// field. A process killed mid-way leaves whole batches only.
pub async fn import(ctx: &Context, name: &str, reader: impl BufRead) -> Result<u64, AppError> {
    let source = ctx.workspace.event_source();
    let mut events = Vec::new();
    for (idx, line) in reader.lines().enumerate() {
        let line_no = idx + 1;
        let location = format!("{name}:{line_no}");
        let line = line.map_err(|err| AppError::Input {
            location: location.clone(),
            message: err.to_string(),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: ImportLine = serde_json::from_str(&line).map_err(|err| AppError::Input {
            location: format!("{location}:{}", err.column()),
            message: err.to_string(),
        })?;
        if parsed.specversion.as_deref().is_some_and(|v| v != "1.0") {
            return Err(AppError::Input {
                location,
                message: "field `specversion`: only CloudEvents 1.0 is supported".into(),
            });
        }
        if parsed
            .datacontenttype
            .as_deref()
            .is_some_and(|v| v != "application/json")
        {
            return Err(AppError::Input {
                location,
                message: "field `datacontenttype`: only application/json is supported".into(),
            });
        }
        let time = match parsed.time {
            Some(text) => {
                let ts: jiff::Timestamp = text.parse().map_err(|err| AppError::Input {
                    location: location.clone(),
                    message: format!("field `time`: `{text}` is not an RFC 3339 time ({err})"),
                })?;
                dso_audit::format_time(ts)
            }
            None => dso_audit::format_time(jiff::Timestamp::now()),
        };
        let id = parsed.id.unwrap_or_else(dso_audit::event::new_id);
        let new = NewEvent {
            ty: parsed.ty,
            subject: parsed.subject,
            data: parsed.data,
        };
        let event = Event::stamp_at(
            new,
            parsed.source.as_deref().unwrap_or(&source),
            &ctx.actor,
            id,
            time,
        )
        .map_err(|err| AppError::Input {
            location,
            message: err.to_string(),
        })?;
        events.push(event);
    }
    for batch in events.chunks(IMPORT_BATCH) {
        append(ctx, batch).await?;
    }
    Ok(events.len() as u64)
}

/// Lists events; see [`EventQuery`].
pub async fn log(ctx: &Context, query: &EventQuery) -> Result<Vec<StoredEntry>, AppError> {
    Ok(ctx.store.events(query).await?)
}

/// Replays the whole chain against every signed checkpoint.
pub async fn verify(ctx: &Context) -> Result<VerifyReport, AppError> {
    let mut verifier = ChainVerifier::new(&ctx.key.public(), ctx.store.checkpoints().await?);
    let mut after = 0;
    while !verifier.failed() {
        let page = ctx
            .store
            .events(&EventQuery {
                after_seq: Some(after),
                limit: Some(5000),
                ..Default::default()
            })
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        page.iter().for_each(|entry| verifier.push(entry));
    }
    Ok(verifier.finish())
}

/// Signs a checkpoint at the current head (after verifying the chain up to
/// it: signing a broken chain would vouch for the damage).
pub async fn checkpoint(ctx: &Context) -> Result<Option<dso_audit::Checkpoint>, AppError> {
    let report = verify(ctx).await?;
    if let Some(problem) = report.problem {
        return Err(AppError::ChainBroken(problem));
    }
    if report.head_seq == 0 {
        return Ok(None);
    }
    let hash = dso_audit::chain::parse_hash(&report.head_hash)
        .expect("the verifier reports a well-formed hash");
    let cp = ctx.key.checkpoint(
        report.head_seq,
        &hash,
        &dso_audit::format_time(jiff::Timestamp::now()),
    );
    ctx.store.add_checkpoint(&cp).await?;
    Ok(Some(cp))
}
