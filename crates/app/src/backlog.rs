//! The backlog: `dso backlog add|edit|move|list|show|import|flow`.
//!
//! Items are tickets: their events are the CDEvents `ticket.created`,
//! `ticket.updated` and `ticket.closed` (when an item reaches the last
//! state of the flow), with the ticket's content as data.
//!
//! `dso backlog add --from-finding F-...` makes an item from a finding
//! (title and description from its rule, severity, location, advisory and
//! fixed version; kind `security` for a security finding, else `defect`)
//! and links the two, at most one item per finding; the item, the link and
//! the events (`ticket.created`, and `finding.ticketed` on the finding) are
//! written in one transaction.

use std::collections::BTreeSet;

use dso_audit::NewEvent;
use dso_governance::backlog::{self, Flow, ImportedItem};
use dso_governance::rbac::{Action, Resource};
use dso_store::{FindingItemRow, IdKind, ItemRow};
use serde::Serialize;

use crate::access::authorize;
use crate::events::commit;
use crate::{AppError, Context};

pub mod types {
    pub const TICKET_CREATED: &str = "dev.cdevents.ticket.created.0.2.0";
    pub const TICKET_UPDATED: &str = "dev.cdevents.ticket.updated.0.2.0";
    pub const TICKET_CLOSED: &str = "dev.cdevents.ticket.closed.0.2.0";
    pub const FLOW_UPDATED: &str = "dev.cdeventsx.dso.backlogflow.updated.0.1.0";
    /// A finding was turned into a backlog item (subject: the finding id).
    pub const FINDING_TICKETED: &str = "dev.cdeventsx.dso.finding.ticketed.0.1.0";
}

/// The prefix of keys dso gives new items.
pub const KEY_PREFIX: &str = "BL";

/// An item as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub key: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub state: String,
    pub estimate: Option<f64>,
    pub assignee: Option<String>,
    pub sprint: Option<String>,
    pub requirements: Vec<String>,
    pub depends_on: Vec<String>,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    /// The finding the item was made from (`--from-finding`).
    pub finding: Option<String>,
}

impl From<ItemRow> for ItemView {
    fn from(r: ItemRow) -> ItemView {
        ItemView {
            key: r.key,
            kind: r.kind,
            title: r.title,
            description: r.description,
            state: r.state,
            estimate: r.estimate,
            assignee: r.assignee,
            sprint: r.sprint,
            requirements: r.requirements,
            depends_on: r.depends_on,
            created_at: r.created_at,
            created_by: r.created_by,
            updated_at: r.updated_at,
            finding: None,
        }
    }
}

/// Fields of `dso backlog add` / `edit`; `None` leaves a field unchanged
/// (for `assignee` and `sprint`, `Some("")` clears it).
#[derive(Debug, Clone, Default)]
pub struct ItemFields {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub estimate: Option<f64>,
    pub assignee: Option<String>,
    pub sprint: Option<String>,
    /// Replace the requirement links.
    pub requirements: Option<Vec<String>>,
    /// Replace the dependencies.
    pub depends_on: Option<Vec<String>>,
}

/// The flow in force: the workspace's, else the default.
pub async fn flow(ctx: &Context) -> Result<Flow, AppError> {
    authorize(ctx, Action::BacklogRead, &Resource::kind("backlog flow")).await?;
    current_flow(ctx).await
}

pub(crate) async fn current_flow(ctx: &Context) -> Result<Flow, AppError> {
    match ctx.store.backlog_flow().await? {
        None => Ok(Flow::default_flow()),
        Some(row) => {
            let states: Vec<String> = serde_json::from_str(&row.states).map_err(stored)?;
            let transitions: Vec<(String, String)> =
                serde_json::from_str(&row.transitions).map_err(stored)?;
            Flow::new(states, transitions).map_err(|e| AppError::Input {
                location: format!("backlog flow version {}", row.version),
                message: e.0,
            })
        }
    }
}

fn stored(err: serde_json::Error) -> AppError {
    AppError::Input {
        location: "stored backlog flow".into(),
        message: err.to_string(),
    }
}

/// `dso backlog flow set`: states in order, and transitions (`from:to`);
/// without transitions, each state moves to its neighbours. Every item's
/// state must remain in the flow.
pub async fn set_flow(
    ctx: &Context,
    states: &[String],
    transitions: &[String],
) -> Result<Flow, AppError> {
    let role = authorize(
        ctx,
        Action::BacklogConfigure,
        &Resource::kind("backlog flow"),
    )
    .await?;
    let bad = |message: String| AppError::Input {
        location: "backlog flow".into(),
        message,
    };
    let flow = if transitions.is_empty() {
        let names: Vec<&str> = states.iter().map(String::as_str).collect();
        Flow::linear(&names)
    } else {
        let pairs = transitions
            .iter()
            .map(|t| {
                t.split_once(':')
                    .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                    .ok_or_else(|| bad(format!("transition `{t}`: write it as FROM:TO")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Flow::new(states.to_vec(), pairs)
    }
    .map_err(|e| bad(e.0))?;
    let stranded: BTreeSet<String> = ctx
        .store
        .backlog_items()
        .await?
        .into_iter()
        .filter(|i| !flow.has_state(&i.state))
        .map(|i| format!("{} ({})", i.key, i.state))
        .collect();
    if !stranded.is_empty() {
        return Err(bad(format!(
            "items would be left in states the flow does not have: {}",
            stranded.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let states_json = serde_json::to_string(&flow.states).expect("strings serialise");
    let transitions_json = serde_json::to_string(&flow.transitions).expect("strings serialise");
    let mut tx = ctx.store.begin_write().await?;
    let version = tx
        .set_backlog_flow(&states_json, &transitions_json, &now, &ctx.actor.user)
        .await?;
    let event = NewEvent {
        ty: types::FLOW_UPDATED.into(),
        subject: Some("backlog flow".into()),
        data: serde_json::json!({ "version": version, "states": flow.states, "transitions": flow.transitions }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(flow)
}

fn ticket(ctx: &Context, item: &ItemRow) -> serde_json::Value {
    serde_json::json!({
        "id": item.key,
        "source": ctx.workspace.event_source(),
        "content": {
            "summary": item.title,
            "ticketType": item.kind,
            "creator": item.created_by,
            "assignees": item.assignee.iter().collect::<Vec<_>>(),
            "milestone": item.sprint,
            "uri": format!("{}/backlog/{}", ctx.workspace.event_source(), item.key),
            "labels": [format!("state:{}", item.state)],
        },
        "state": item.state,
        "estimate": item.estimate,
        "requirements": item.requirements,
        "dependsOn": item.depends_on,
    })
}

fn unknown_item(key: &str) -> AppError {
    AppError::Unknown {
        kind: "backlog item",
        value: key.to_owned(),
        hint: Some("`dso backlog list` shows the items".into()),
    }
}

fn check_kind(kind: &str) -> Result<(), AppError> {
    if backlog::KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(AppError::Input {
            location: "--kind".into(),
            message: format!("`{kind}` is not one of {}", backlog::KINDS.join(", ")),
        })
    }
}

fn check_estimate(estimate: Option<f64>) -> Result<(), AppError> {
    match estimate {
        Some(e) if !e.is_finite() || e < 0.0 => Err(AppError::Input {
            location: "--estimate".into(),
            message: format!("`{e}` is not a non-negative number"),
        }),
        _ => Ok(()),
    }
}

/// Checks that linked requirements and dependencies exist (`pending` are
/// keys being created in the same import).
async fn check_links(
    ctx: &Context,
    location: &str,
    key: &str,
    requirements: &[String],
    depends_on: &[String],
    pending: &[String],
) -> Result<(), AppError> {
    let bad = |message: String| AppError::Input {
        location: location.to_owned(),
        message,
    };
    for r in requirements {
        if ctx.store.requirement(r).await?.is_none() {
            return Err(bad(format!("requirement `{r}` does not exist")));
        }
    }
    let known: Vec<String> = ctx
        .store
        .backlog_items()
        .await?
        .into_iter()
        .map(|i| i.key)
        .collect();
    for d in depends_on {
        if d == key {
            return Err(bad(format!("{key} cannot depend on itself")));
        }
        if !known.contains(d) && !pending.contains(d) {
            return Err(bad(format!("backlog item `{d}` does not exist")));
        }
    }
    Ok(())
}

/// `dso backlog add`.
pub async fn add(ctx: &Context, fields: ItemFields) -> Result<ItemView, AppError> {
    let role = authorize(ctx, Action::BacklogWrite, &Resource::kind("backlog")).await?;
    insert_new(ctx, role, fields, None).await
}

/// `dso backlog add --from-finding ID`: an item made from a finding (by id
/// or unique id prefix), linked to it. Fields given override what the
/// finding says; a finding that already has an item is refused, naming it.
pub async fn add_from_finding(
    ctx: &Context,
    finding: &str,
    fields: ItemFields,
) -> Result<ItemView, AppError> {
    let role = authorize(
        ctx,
        Action::FindingTicket,
        &Resource::one("finding", finding),
    )
    .await?;
    let row = ctx
        .store
        .finding(finding)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "finding",
            value: finding.to_owned(),
            hint: Some("list them with `dso findings list`".into()),
        })?;
    if let Some(link) = ctx.store.finding_item(&row.id).await? {
        return Err(already_ticketed(&row.id, &link.item_key));
    }
    let facts = finding_facts(&row);
    let (kind, title, description) = backlog::item_from_finding(&facts);
    let fields = ItemFields {
        kind: fields.kind.or_else(|| Some(kind.to_owned())),
        title: fields.title.or(Some(title)),
        description: fields.description.or(Some(description)),
        ..fields
    };
    insert_new(ctx, role, fields, Some(facts)).await
}

fn already_ticketed(finding: &str, key: &str) -> AppError {
    AppError::Conflict(format!(
        "finding {finding} already has backlog item {key} (`dso backlog show {key}`)"
    ))
}

/// The facts of a stored finding the backlog item needs.
fn finding_facts(row: &dso_store::FindingRow) -> backlog::FindingFacts {
    let data: Option<dso_assurance::findings::Finding> = serde_json::from_str(&row.data).ok();
    let prop = |k: &str| {
        data.as_ref()
            .and_then(|f| f.properties.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    backlog::FindingFacts {
        id: row.id.clone(),
        scanner: row.scanner.clone(),
        activity: data
            .as_ref()
            .map(|f| f.activity.clone())
            .unwrap_or_default(),
        rule: row.rule.clone(),
        severity: row.severity.clone(),
        title: row.title.clone(),
        file: row.file.clone(),
        line: row.line,
        package: data.as_ref().and_then(|f| f.package.clone()),
        version: data.as_ref().and_then(|f| f.version.clone()),
        aliases: data
            .as_ref()
            .and_then(|f| f.properties.get("aliases"))
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        fixed: prop("fixed"),
        cwes: data.map(|f| f.cwes).unwrap_or_default(),
    }
}

/// Checks and stores a new item in the flow's first state, with its events;
/// with `finding`, also the link to it and the `finding.ticketed` event.
async fn insert_new(
    ctx: &Context,
    role: Option<String>,
    fields: ItemFields,
    finding: Option<backlog::FindingFacts>,
) -> Result<ItemView, AppError> {
    let kind = fields.kind.unwrap_or_else(|| "story".into());
    check_kind(&kind)?;
    check_estimate(fields.estimate)?;
    let title = fields.title.unwrap_or_default();
    if title.trim().is_empty() || title.chars().any(char::is_control) {
        return Err(AppError::Input {
            location: "--title".into(),
            message: "give a one-line, non-empty title".into(),
        });
    }
    let requirements = fields.requirements.unwrap_or_default();
    let depends_on = fields.depends_on.unwrap_or_default();
    check_links(ctx, "backlog item", "", &requirements, &depends_on, &[]).await?;
    let flow = current_flow(ctx).await?;
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    let used = tx.ids_with_prefix(IdKind::BacklogItem, KEY_PREFIX).await?;
    let key = dso_governance::requirement::next_id(KEY_PREFIX, &used);
    let item = ItemRow {
        key: key.clone(),
        kind,
        title,
        description: fields.description.unwrap_or_default(),
        state: flow.initial().to_owned(),
        estimate: fields.estimate,
        assignee: fields.assignee.filter(|a| !a.is_empty()),
        sprint: fields.sprint.filter(|s| !s.is_empty()),
        created_at: now.clone(),
        created_by: ctx.actor.user.clone(),
        updated_at: now.clone(),
        requirements: dedup(requirements),
        depends_on: dedup(depends_on),
    };
    tx.save_item(&item, true).await?;
    let mut data = ticket(ctx, &item);
    let mut events = Vec::new();
    if let Some(f) = &finding {
        let link = FindingItemRow {
            finding_id: f.id.clone(),
            item_key: key.clone(),
            linked_at: now,
            linked_by: ctx.actor.user.clone(),
        };
        // Another process may have made one meanwhile: the transaction is
        // dropped (rolled back) and the existing item named.
        if let Some(existing) = tx.link_finding_item(&link).await? {
            return Err(already_ticketed(&f.id, &existing));
        }
        data["finding"] = f.id.clone().into();
        events.push(NewEvent {
            ty: types::FINDING_TICKETED.into(),
            subject: Some(f.id.clone()),
            data: serde_json::json!({
                "finding": f.id, "item": key, "kind": item.kind,
                "rule": f.rule, "severity": f.severity, "scanner": f.scanner,
            }),
        });
    }
    events.insert(
        0,
        NewEvent {
            ty: types::TICKET_CREATED.into(),
            subject: Some(key),
            data,
        },
    );
    commit(ctx, tx, role, events).await?;
    let mut view = ItemView::from(item);
    view.finding = finding.map(|f| f.id);
    Ok(view)
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// `dso backlog edit`.
pub async fn edit(ctx: &Context, key: &str, fields: ItemFields) -> Result<ItemView, AppError> {
    let role = authorize(
        ctx,
        Action::BacklogWrite,
        &Resource::one("backlog item", key),
    )
    .await?;
    let mut item = ctx
        .store
        .backlog_item(key)
        .await?
        .ok_or_else(|| unknown_item(key))?;
    if let Some(kind) = fields.kind {
        check_kind(&kind)?;
        item.kind = kind;
    }
    check_estimate(fields.estimate)?;
    if let Some(title) = fields.title {
        if title.trim().is_empty() || title.chars().any(char::is_control) {
            return Err(AppError::Input {
                location: "--title".into(),
                message: "give a one-line, non-empty title".into(),
            });
        }
        item.title = title;
    }
    if let Some(d) = fields.description {
        item.description = d;
    }
    if fields.estimate.is_some() {
        item.estimate = fields.estimate;
    }
    if let Some(a) = fields.assignee {
        item.assignee = Some(a).filter(|a| !a.is_empty());
    }
    if let Some(s) = fields.sprint {
        item.sprint = Some(s).filter(|s| !s.is_empty());
    }
    if let Some(r) = fields.requirements {
        item.requirements = dedup(r);
    }
    if let Some(d) = fields.depends_on {
        item.depends_on = dedup(d);
    }
    check_links(ctx, key, key, &item.requirements, &item.depends_on, &[]).await?;
    item.updated_at = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    tx.save_item(&item, false).await?;
    let event = NewEvent {
        ty: types::TICKET_UPDATED.into(),
        subject: Some(key.to_owned()),
        data: ticket(ctx, &item),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(ItemView::from(item))
}

/// `dso backlog move KEY STATE`: only along the flow's transitions.
pub async fn move_item(ctx: &Context, key: &str, state: &str) -> Result<ItemView, AppError> {
    let role = authorize(
        ctx,
        Action::BacklogWrite,
        &Resource::one("backlog item", key),
    )
    .await?;
    let mut item = ctx
        .store
        .backlog_item(key)
        .await?
        .ok_or_else(|| unknown_item(key))?;
    let flow = current_flow(ctx).await?;
    if !flow.has_state(state) {
        return Err(AppError::Input {
            location: key.to_owned(),
            message: format!(
                "`{state}` is not a state of the flow ({})",
                flow.states.join(" → ")
            ),
        });
    }
    if !flow.can_move(&item.state, state) {
        let next = flow.next_states(&item.state);
        return Err(AppError::Input {
            location: key.to_owned(),
            message: format!(
                "the flow does not move {} to {state}; from {} it moves to {}",
                item.state,
                item.state,
                if next.is_empty() {
                    "nowhere".to_owned()
                } else {
                    next.join(", ")
                }
            ),
        });
    }
    item.state = state.to_owned();
    item.updated_at = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    tx.save_item(&item, false).await?;
    let ty = if state == flow.closed() {
        types::TICKET_CLOSED
    } else {
        types::TICKET_UPDATED
    };
    let mut data = ticket(ctx, &item);
    if state == flow.closed() {
        data["content"]["resolution"] = "completed".into();
    }
    let event = NewEvent {
        ty: ty.into(),
        subject: Some(key.to_owned()),
        data,
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(ItemView::from(item))
}

/// `dso backlog list`, optionally filtered.
pub async fn list(
    ctx: &Context,
    state: Option<&str>,
    kind: Option<&str>,
    sprint: Option<&str>,
) -> Result<Vec<ItemView>, AppError> {
    authorize(ctx, Action::BacklogRead, &Resource::kind("backlog")).await?;
    Ok(ctx
        .store
        .backlog_items()
        .await?
        .into_iter()
        .filter(|i| state.is_none_or(|s| i.state == s))
        .filter(|i| kind.is_none_or(|k| i.kind == k))
        .filter(|i| sprint.is_none_or(|s| i.sprint.as_deref() == Some(s)))
        .map(ItemView::from)
        .collect())
}

/// `dso backlog show`.
pub async fn show(ctx: &Context, key: &str) -> Result<ItemView, AppError> {
    authorize(
        ctx,
        Action::BacklogRead,
        &Resource::one("backlog item", key),
    )
    .await?;
    let mut view = ctx
        .store
        .backlog_item(key)
        .await?
        .map(ItemView::from)
        .ok_or_else(|| unknown_item(key))?;
    view.finding = ctx.store.item_finding(key).await?.map(|l| l.finding_id);
    Ok(view)
}

/// The backlog item made from finding `finding_id` (an exact id), if any:
/// `dso findings show` prints it.
pub async fn item_of_finding(ctx: &Context, finding_id: &str) -> Result<Option<String>, AppError> {
    authorize(
        ctx,
        Action::BacklogRead,
        &Resource::one("finding", finding_id),
    )
    .await?;
    Ok(ctx
        .store
        .finding_item(finding_id)
        .await?
        .map(|l| l.item_key))
}

/// Import file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Jira,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub created: Vec<String>,
    /// Statuses not in the flow: the item was placed in the initial state.
    pub warnings: Vec<String>,
}

/// `dso backlog import FILE`: every item is checked before any is stored;
/// all are stored in one transaction, each with its `ticket.created` event.
pub async fn import(
    ctx: &Context,
    name: &str,
    text: &str,
    format: ImportFormat,
) -> Result<ImportReport, AppError> {
    let role = authorize(
        ctx,
        Action::BacklogWrite,
        &Resource::one("backlog import", name),
    )
    .await?;
    let parsed = match format {
        ImportFormat::Csv => backlog::parse_csv(name, text),
        ImportFormat::Jira => backlog::parse_jira(name, text),
    }
    .map_err(|e| AppError::Input {
        location: e.location,
        message: e.message,
    })?;
    let flow = current_flow(ctx).await?;
    let existing: Vec<String> = ctx
        .store
        .backlog_items()
        .await?
        .into_iter()
        .map(|i| i.key)
        .collect();
    let mut used = existing.clone();
    let mut keys = Vec::new();
    for item in &parsed {
        let key = match &item.key {
            Some(k) => {
                if !backlog::valid_key(k) {
                    return Err(AppError::Input {
                        location: item.location.clone(),
                        message: format!("field `key`: `{k}` is not an item key (like PROJ-12)"),
                    });
                }
                if used.contains(k) {
                    return Err(AppError::Input {
                        location: item.location.clone(),
                        message: format!("field `key`: item `{k}` already exists"),
                    });
                }
                k.clone()
            }
            None => dso_governance::requirement::next_id(KEY_PREFIX, &used),
        };
        used.push(key.clone());
        keys.push(key);
    }
    let mut warnings = Vec::new();
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let mut rows = Vec::new();
    for (item, key) in parsed.iter().zip(&keys) {
        // Jira links may point outside the export: keep only known items.
        let depends_on: Vec<String> = item
            .depends_on
            .iter()
            .filter(|d| format == ImportFormat::Csv || used.contains(d))
            .cloned()
            .collect();
        check_links(
            ctx,
            &item.location,
            key,
            &item.requirements,
            &depends_on,
            &keys,
        )
        .await?;
        let state = state_for(&flow, item, &mut warnings);
        rows.push(ItemRow {
            key: key.clone(),
            kind: item.kind.clone(),
            title: item.title.clone(),
            description: item.description.clone(),
            state,
            estimate: item.estimate,
            assignee: item.assignee.clone(),
            sprint: item.sprint.clone(),
            created_at: now.clone(),
            created_by: ctx.actor.user.clone(),
            updated_at: now.clone(),
            requirements: dedup(item.requirements.clone()),
            depends_on: dedup(depends_on),
        });
    }
    if rows.is_empty() {
        return Ok(ImportReport {
            created: Vec::new(),
            warnings,
        });
    }
    let mut tx = ctx.store.begin_write().await?;
    // Insert without dependencies first, so items may depend on later ones.
    for row in &rows {
        let mut bare = row.clone();
        bare.depends_on.clear();
        tx.save_item(&bare, true).await?;
    }
    for row in rows.iter().filter(|r| !r.depends_on.is_empty()) {
        tx.save_item(row, false).await?;
    }
    let events = rows
        .iter()
        .map(|row| NewEvent {
            ty: types::TICKET_CREATED.into(),
            subject: Some(row.key.clone()),
            data: {
                let mut d = ticket(ctx, row);
                d["importedFrom"] = name.into();
                d
            },
        })
        .collect();
    commit(ctx, tx, role, events).await?;
    Ok(ImportReport {
        created: keys,
        warnings,
    })
}

fn state_for(flow: &Flow, item: &ImportedItem, warnings: &mut Vec<String>) -> String {
    match &item.status {
        None => flow.initial().to_owned(),
        Some(status) => match flow.map_status(status) {
            Some(s) => s.to_owned(),
            None => {
                warnings.push(format!(
                    "{}: status `{status}` is not in the flow; placed in `{}`",
                    item.location,
                    flow.initial()
                ));
                flow.initial().to_owned()
            }
        },
    }
}
