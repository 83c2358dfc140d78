//! The requirements repository: `dso req add|edit|list|show|history`.
//!
//! Every change is a new version holding a snapshot of every field, so the
//! history can be diffed version to version.

use dso_audit::NewEvent;
use dso_governance::rbac::{Action, Resource};
use dso_governance::requirement::{self, FieldChange, Patch, Requirement};
use dso_store::{IdKind, RequirementRow};
use serde::Serialize;

use crate::access::authorize;
use crate::events::commit;
use crate::{AppError, Context};

pub mod types {
    pub const REQUIREMENT_CREATED: &str = "dev.cdeventsx.dso.requirement.created.0.1.0";
    pub const REQUIREMENT_UPDATED: &str = "dev.cdeventsx.dso.requirement.updated.0.1.0";
}

/// A requirement as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementView {
    #[serde(flatten)]
    pub requirement: Requirement,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// One version in a requirement's history, with what changed from the previous one.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub version: i64,
    pub changed_at: String,
    pub changed_by: String,
    pub changes: Vec<FieldChange>,
}

/// What `dso req add` takes; `id` defaults to the next `REQ-n`.
#[derive(Debug, Clone, Default)]
pub struct NewRequirement {
    pub id: Option<String>,
    pub title: String,
    pub text: String,
    pub kind: String,
    pub priority: String,
    pub acceptance: String,
    pub status: String,
    pub parent: Option<String>,
    pub arch_element: Option<String>,
}

fn from_row(r: RequirementRow) -> RequirementView {
    RequirementView {
        requirement: Requirement {
            id: r.id,
            title: r.title,
            text: r.body,
            kind: r.kind,
            priority: r.priority,
            acceptance: r.acceptance,
            status: r.status,
            parent: r.parent,
            arch_element: r.arch_element,
        },
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn to_row(r: &Requirement, version: i64, created_at: &str, updated_at: &str) -> RequirementRow {
    RequirementRow {
        id: r.id.clone(),
        version,
        title: r.title.clone(),
        body: r.text.clone(),
        kind: r.kind.clone(),
        priority: r.priority.clone(),
        acceptance: r.acceptance.clone(),
        status: r.status.clone(),
        parent: r.parent.clone(),
        arch_element: r.arch_element.clone(),
        created_at: created_at.to_owned(),
        updated_at: updated_at.to_owned(),
    }
}

fn invalid(id: &str, err: requirement::FieldError) -> AppError {
    AppError::Input {
        location: format!("requirement {id}"),
        message: err.to_string(),
    }
}

fn unknown(id: &str) -> AppError {
    AppError::Unknown {
        kind: "requirement",
        value: id.to_owned(),
        hint: Some("`dso req list` shows the requirements".into()),
    }
}

fn snapshot(r: &Requirement) -> String {
    serde_json::to_string(r).expect("a requirement always serialises")
}

async fn check_parent(ctx: &Context, parent: Option<&str>) -> Result<(), AppError> {
    if let Some(p) = parent
        && ctx.store.requirement(p).await?.is_none()
    {
        return Err(AppError::Input {
            location: "--parent".into(),
            message: format!("requirement `{p}` does not exist"),
        });
    }
    Ok(())
}

/// `dso req add`.
pub async fn add(ctx: &Context, new: NewRequirement) -> Result<RequirementView, AppError> {
    let role = authorize(
        ctx,
        Action::RequirementWrite,
        &Resource::kind("requirements"),
    )
    .await?;
    check_parent(ctx, new.parent.as_deref()).await?;
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    let id = match new.id {
        Some(id) => id,
        None => requirement::next_id(
            "REQ",
            &tx.ids_with_prefix(IdKind::Requirement, "REQ-").await?,
        ),
    };
    let req = Requirement {
        id: id.clone(),
        title: new.title,
        text: new.text,
        kind: new.kind,
        priority: new.priority,
        acceptance: new.acceptance,
        status: new.status,
        parent: new.parent.filter(|p| !p.is_empty()),
        arch_element: new.arch_element.filter(|a| !a.is_empty()),
    };
    req.validate().map_err(|e| invalid(&id, e))?;
    if tx
        .ids_with_prefix(IdKind::Requirement, &id)
        .await?
        .contains(&id)
    {
        return Err(AppError::Conflict(format!(
            "requirement `{id}` already exists"
        )));
    }
    let row = to_row(&req, 1, &now, &now);
    tx.save_requirement(&row, &snapshot(&req), &ctx.actor.user)
        .await?;
    let event = NewEvent {
        ty: types::REQUIREMENT_CREATED.into(),
        subject: Some(id.clone()),
        data: serde_json::json!({ "requirement": req, "version": 1 }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(from_row(row))
}

/// `dso req edit`: a new version with the patch applied. Errors when
/// nothing would change.
pub async fn edit(
    ctx: &Context,
    id: &str,
    patch: &Patch,
) -> Result<(RequirementView, Vec<FieldChange>), AppError> {
    let role = authorize(
        ctx,
        Action::RequirementWrite,
        &Resource::one("requirement", id),
    )
    .await?;
    let current = ctx
        .store
        .requirement(id)
        .await?
        .ok_or_else(|| unknown(id))?;
    if let Some(p) = patch.parent.as_deref().filter(|p| !p.is_empty()) {
        check_parent(ctx, Some(p)).await?;
    }
    let old = from_row(current.clone());
    let new = old.requirement.apply(patch);
    new.validate().map_err(|e| invalid(id, e))?;
    let changes = requirement::diff(&old.requirement, &new);
    if changes.is_empty() {
        return Err(AppError::Input {
            location: format!("requirement {id}"),
            message: "nothing to change: every given field already has that value".into(),
        });
    }
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    let row = to_row(&new, current.version + 1, &current.created_at, &now);
    tx.save_requirement(&row, &snapshot(&new), &ctx.actor.user)
        .await?;
    let event = NewEvent {
        ty: types::REQUIREMENT_UPDATED.into(),
        subject: Some(id.to_owned()),
        data: serde_json::json!({
            "id": id,
            "version": row.version,
            "changed": changes.iter().map(|c| c.field).collect::<Vec<_>>(),
        }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok((from_row(row), changes))
}

/// `dso req list`.
pub async fn list(ctx: &Context) -> Result<Vec<RequirementView>, AppError> {
    authorize(
        ctx,
        Action::RequirementRead,
        &Resource::kind("requirements"),
    )
    .await?;
    Ok(ctx
        .store
        .requirements()
        .await?
        .into_iter()
        .map(from_row)
        .collect())
}

/// `dso req show`.
pub async fn show(ctx: &Context, id: &str) -> Result<RequirementView, AppError> {
    authorize(
        ctx,
        Action::RequirementRead,
        &Resource::one("requirement", id),
    )
    .await?;
    ctx.store
        .requirement(id)
        .await?
        .map(from_row)
        .ok_or_else(|| unknown(id))
}

/// `dso req history`: every version, each with its diff to the one before.
pub async fn history(ctx: &Context, id: &str) -> Result<Vec<VersionView>, AppError> {
    authorize(
        ctx,
        Action::RequirementRead,
        &Resource::one("requirement", id),
    )
    .await?;
    let versions = ctx.store.requirement_versions(id).await?;
    if versions.is_empty() {
        return Err(unknown(id));
    }
    let mut out = Vec::new();
    let mut previous: Option<Requirement> = None;
    for v in versions {
        let req: Requirement =
            serde_json::from_str(&v.snapshot).map_err(|err| AppError::Input {
                location: format!("requirement {id} version {}", v.version),
                message: format!("stored snapshot is not readable: {err}"),
            })?;
        let changes = match &previous {
            None => Vec::new(),
            Some(prev) => requirement::diff(prev, &req),
        };
        out.push(VersionView {
            version: v.version,
            changed_at: v.changed_at,
            changed_by: v.changed_by,
            changes,
        });
        previous = Some(req);
    }
    Ok(out)
}
