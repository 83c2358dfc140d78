//! The event log use cases: emit, import, list, verify, checkpoint.

use std::io::BufRead;

use dso_audit::{ChainVerifier, Event, NewEvent, StoredEntry, VerifyReport};
pub use dso_store::{AppendedEntry, EventQuery};
use serde::Deserialize;

use dso_governance::rbac::{Action, Forbidden, Resource};

use crate::access::authorize;
use crate::{AppError, Context};

/// Event types dso itself emits outside CDEvents' vocabulary.
pub mod types {
    pub const WORKSPACE_CREATED: &str = "dev.cdeventsx.dso.workspace.created.0.1.0";
}

/// Stamps `events` as the acting user in `role`, appends them inside `tx`,
/// commits, and signs any checkpoint that falls due. Returns the last entry.
///
/// Use cases build their state change in `tx` first, so the change and its
/// event commit together.
pub async fn commit(
    ctx: &Context,
    mut tx: dso_store::WriteTx,
    role: Option<String>,
    events: Vec<NewEvent>,
) -> Result<AppendedEntry, AppError> {
    let source = ctx.workspace.event_source();
    let actor = dso_audit::Actor {
        user: ctx.actor.user.clone(),
        role: role.or_else(|| ctx.actor.role.clone()),
    };
    let stamped = events
        .into_iter()
        .map(|new| Event::stamp(new, &source, &actor))
        .collect::<Result<Vec<_>, _>>()?;
    let mut appended = tx.append(&stamped).await?;
    tx.commit().await?;
    seal(ctx, &appended).await?;
    appended.pop().ok_or_else(|| AppError::Input {
        location: "event log".into(),
        message: "a state change must append an event".into(),
    })
}

/// Events per transaction when importing.
pub const IMPORT_BATCH: usize = 500;

/// `dso event emit`: appends one event after checking that the acting user
/// may emit events and holds `role` when they claim to act in it.
pub async fn record(
    ctx: &Context,
    new: NewEvent,
    role: Option<&str>,
) -> Result<AppendedEntry, AppError> {
    let resource = Resource::one("event type", &new.ty);
    let granted = authorize(ctx, Action::EventEmit, &resource).await?;
    let role = claim_role(ctx, role, Action::EventEmit, &resource)
        .await?
        .or(granted);
    let actor = dso_audit::Actor {
        user: ctx.actor.user.clone(),
        role,
    };
    let event = Event::stamp(new, &ctx.workspace.event_source(), &actor)?;
    let mut appended = append(ctx, &[event]).await?;
    Ok(appended.remove(0))
}

/// Checks a `--role` claim: the user must hold the role (the owner may claim any).
async fn claim_role(
    ctx: &Context,
    role: Option<&str>,
    action: Action,
    resource: &Resource,
) -> Result<Option<String>, AppError> {
    let Some(role) = role else { return Ok(None) };
    let role = crate::model::role_id(role)?;
    let principal = &ctx.session.principal;
    if principal.superuser || principal.roles.contains(&role) {
        return Ok(Some(role));
    }
    let mut forbidden = Forbidden::new(principal, action.id(), resource);
    forbidden.reason = Some(format!(
        "{} does not hold the role `{role}` it claims",
        principal.user
    ));
    Err(crate::access::deny(ctx, forbidden).await)
}

/// Appends one event acting as `ctx.actor`, without an access check (for
/// events dso itself records); signs a checkpoint when due.
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
pub async fn import(
    ctx: &Context,
    name: &str,
    reader: impl BufRead,
    role: Option<&str>,
) -> Result<u64, AppError> {
    let resource = Resource::one("event file", name);
    let granted = authorize(ctx, Action::EventImport, &resource).await?;
    let role = claim_role(ctx, role, Action::EventImport, &resource)
        .await?
        .or(granted);
    let actor = dso_audit::Actor {
        user: ctx.actor.user.clone(),
        role,
    };
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
            &actor,
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
    authorize(ctx, Action::AuditRead, &Resource::kind("audit log")).await?;
    Ok(ctx.store.events(query).await?)
}

/// Replays the whole chain against every signed checkpoint.
pub async fn verify(ctx: &Context) -> Result<VerifyReport, AppError> {
    authorize(ctx, Action::AuditRead, &Resource::kind("audit log")).await?;
    verify_chain(ctx).await
}

async fn verify_chain(ctx: &Context) -> Result<VerifyReport, AppError> {
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
    authorize(ctx, Action::AuditCheckpoint, &Resource::kind("audit log")).await?;
    let report = verify_chain(ctx).await?;
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
