//! The operational exchanges of Table 2, and the routes derived from the
//! process flows for IE15, IE22, IE23 and IE24
//! (`dso_governance::exchange::FLOW_ROUTES`): `dso exchange
//! send|ack|return|list|show`.
//!
//! A sent document is a typed (information element), versioned (per item)
//! text. Sending checks the policy (`exchange.send`) and the route: the
//! sender must hold a role of the sending performer and the receiver must
//! be a performer the route names. Acknowledging or returning checks
//! `exchange.respond` and that the responder holds a role of the receiver.
//! A refusal prints `forbidden: ...` and is recorded like any denial.

use dso_audit::NewEvent;
use dso_governance::exchange::{self, RouteError};
use dso_governance::rbac::{Action, Forbidden, Resource};
use dso_store::{DocumentRow, IdKind};
use serde::Serialize;
use sha2::Digest as _;

use crate::access::{authorize, deny};
use crate::events::commit;
use crate::{AppError, Context};

pub mod types {
    pub const EXCHANGE_SENT: &str = "dev.cdeventsx.dso.exchange.sent.0.1.0";
    pub const EXCHANGE_ACKNOWLEDGED: &str = "dev.cdeventsx.dso.exchange.acknowledged.0.1.0";
    pub const EXCHANGE_RETURNED: &str = "dev.cdeventsx.dso.exchange.returned.0.1.0";
}

/// The largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// A document as listed (without its content) or shown (with it).
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: String,
    pub item: String,
    pub item_name: String,
    pub exchange: String,
    pub version: i64,
    pub title: String,
    pub sha256: String,
    pub sender: String,
    pub sender_role: String,
    pub receiver: String,
    pub state: String,
    pub sent_at: String,
    pub responder: Option<String>,
    pub responder_role: Option<String>,
    pub response_note: Option<String>,
    pub responded_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

fn view(d: DocumentRow, with_content: bool) -> DocumentView {
    let item_name = dso_model::pim()
        .information_elements
        .iter()
        .find(|ie| ie.id == d.item)
        .map(|ie| ie.name.clone())
        .unwrap_or_default();
    DocumentView {
        id: d.id,
        item: d.item,
        item_name,
        exchange: d.exchange,
        version: d.version,
        title: d.title,
        sha256: d.sha256,
        sender: d.sender,
        sender_role: d.sender_role,
        receiver: d.receiver,
        state: d.state,
        sent_at: d.sent_at,
        responder: d.responder,
        responder_role: d.responder_role,
        response_note: d.response_note,
        responded_at: d.responded_at,
        content: with_content.then_some(d.content),
    }
}

/// Whether the acting user may act as `performer`: the owner may act as
/// anyone (in no particular role); others need one of its roles.
fn acting_role(ctx: &Context, performer: &str) -> Option<Option<String>> {
    let p = &ctx.session.principal;
    match exchange::acting_role(&p.roles, performer) {
        Some(role) => Some(Some(role.to_owned())),
        None if p.superuser => Some(None),
        None => None,
    }
}

async fn table2_denial(
    ctx: &Context,
    action: Action,
    resource: &Resource,
    performer: &str,
    exchange_id: &str,
) -> AppError {
    let mut forbidden = Forbidden::new(&ctx.session.principal, action.id(), resource);
    forbidden.reason = Some(format!(
        "{}: only the {performer} ({}) may do this",
        exchange::route_source(exchange_id),
        exchange::roles_of(performer).join(", ")
    ));
    deny(ctx, forbidden).await
}

/// `dso exchange send --item IE11 --to architect FILE`.
pub async fn send(
    ctx: &Context,
    item: &str,
    to: &str,
    title: Option<&str>,
    name: &str,
    content: &str,
) -> Result<DocumentView, AppError> {
    let route = exchange::route(item, to).map_err(|err| match &err {
        RouteError::UnknownItem(_) => AppError::Input {
            location: "--item".into(),
            message: format!("{err}; items: {}", exchange::sendable_items().join(", ")),
        },
        RouteError::WrongReceiver { receivers, .. } => AppError::Input {
            location: "--to".into(),
            message: format!("{err}; it goes to {}", receivers.join(" or ")),
        },
    })?;
    let resource = Resource::one(
        "exchange",
        &format!(
            "{} {} ({} → {})",
            route.item, route.name, route.sender, route.receiver
        ),
    );
    let granted = authorize(ctx, Action::ExchangeSend, &resource).await?;
    let Some(role) = acting_role(ctx, &route.sender) else {
        return Err(table2_denial(
            ctx,
            Action::ExchangeSend,
            &resource,
            &route.sender,
            &route.id,
        )
        .await);
    };
    if content.len() > MAX_DOCUMENT_BYTES {
        return Err(AppError::Input {
            location: name.to_owned(),
            message: format!("{} bytes; the limit is {MAX_DOCUMENT_BYTES}", content.len()),
        });
    }
    if content.trim().is_empty() {
        return Err(AppError::Input {
            location: name.to_owned(),
            message: "the document is empty".into(),
        });
    }
    let title = title
        .map(str::to_owned)
        .or_else(|| {
            content
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim_start_matches('#').trim().to_owned())
        })
        .unwrap_or_else(|| route.name.clone());
    let title: String = title
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let sha = hex::encode(sha2::Sha256::digest(content.as_bytes()));
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    let id = dso_governance::requirement::next_id(
        "DOC",
        &tx.ids_with_prefix(IdKind::Document, "DOC-").await?,
    );
    let version = tx.latest_document_version(&route.item).await? + 1;
    let row = DocumentRow {
        id: id.clone(),
        item: route.item.clone(),
        exchange: route.id.clone(),
        version,
        title,
        content: content.to_owned(),
        sha256: sha.clone(),
        sender: ctx.actor.user.clone(),
        sender_role: role.clone().unwrap_or_else(|| "workspace-owner".into()),
        receiver: route.receiver.clone(),
        state: "sent".into(),
        sent_at: now,
        responder: None,
        responder_role: None,
        response_note: None,
        responded_at: None,
    };
    tx.insert_document(&row).await?;
    let event = NewEvent {
        ty: types::EXCHANGE_SENT.into(),
        subject: Some(id),
        data: serde_json::json!({
            "exchange": route.id, "item": route.item, "name": route.name, "version": version,
            "title": row.title, "sha256": sha, "bytes": content.len(),
            "sender": route.sender, "receiver": route.receiver,
        }),
    };
    commit(ctx, tx, role.or(granted), vec![event]).await?;
    Ok(view(row, false))
}

/// `dso exchange ack|return DOC`: the receiver's answer.
pub async fn respond(
    ctx: &Context,
    id: &str,
    accept: bool,
    note: Option<&str>,
) -> Result<DocumentView, AppError> {
    let doc = ctx
        .store
        .document(id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "document",
            value: id.to_owned(),
            hint: Some("`dso exchange list` shows the documents".into()),
        })?;
    let resource = Resource::one(
        "exchange",
        &format!("{id} ({} v{} to {})", doc.item, doc.version, doc.receiver),
    );
    let granted = authorize(ctx, Action::ExchangeRespond, &resource).await?;
    let Some(role) = acting_role(ctx, &doc.receiver) else {
        return Err(table2_denial(
            ctx,
            Action::ExchangeRespond,
            &resource,
            &doc.receiver,
            &doc.exchange,
        )
        .await);
    };
    if doc.state != "sent" {
        return Err(AppError::Conflict(format!(
            "{id} was already {} by {}",
            doc.state,
            doc.responder.as_deref().unwrap_or("someone")
        )));
    }
    if !accept && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(AppError::Input {
            location: "--note".into(),
            message: "say why the document is returned".into(),
        });
    }
    let state = if accept { "acknowledged" } else { "returned" };
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let role_name = role.clone().unwrap_or_else(|| "workspace-owner".into());
    let mut tx = ctx.store.begin_write().await?;
    if !tx
        .respond_document(id, state, &ctx.actor.user, &role_name, note, &now)
        .await?
    {
        return Err(AppError::Conflict(format!("{id} was answered meanwhile")));
    }
    let event = NewEvent {
        ty: if accept {
            types::EXCHANGE_ACKNOWLEDGED
        } else {
            types::EXCHANGE_RETURNED
        }
        .into(),
        subject: Some(id.to_owned()),
        data: serde_json::json!({ "exchange": doc.exchange, "item": doc.item, "version": doc.version, "sha256": doc.sha256, "note": note }),
    };
    commit(ctx, tx, role.or(granted), vec![event]).await?;
    let doc = ctx
        .store
        .document(id)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("{id} vanished")))?;
    Ok(view(doc, false))
}

/// `dso exchange list`, optionally for one item.
pub async fn list(ctx: &Context, item: Option<&str>) -> Result<Vec<DocumentView>, AppError> {
    authorize(ctx, Action::ExchangeRead, &Resource::kind("exchanges")).await?;
    let item = item.map(|i| i.trim().to_uppercase());
    Ok(ctx
        .store
        .documents()
        .await?
        .into_iter()
        .filter(|d| item.as_ref().is_none_or(|i| d.item == *i))
        .map(|d| view(d, false))
        .collect())
}

/// `dso exchange show DOC`, with the content.
pub async fn show(ctx: &Context, id: &str) -> Result<DocumentView, AppError> {
    authorize(ctx, Action::ExchangeRead, &Resource::one("exchange", id)).await?;
    ctx.store
        .document(id)
        .await?
        .map(|d| view(d, true))
        .ok_or_else(|| AppError::Unknown {
            kind: "document",
            value: id.to_owned(),
            hint: Some("`dso exchange list` shows the documents".into()),
        })
}
