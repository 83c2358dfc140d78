//! Operational use cases: environments, signed releases, deployments with
//! the integrity check of Fig 18, approvals, health checks and rollback.
//!
//! A deployment runs in the process that makes it ready: `dso deploy` for
//! an unprotected environment, the `dso approve` that brings the last
//! approval for a protected one. Each state change is one store write with
//! its events; nothing is written while a deploy script runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dso_audit::{Event, NewEvent};
use dso_operational::deploy::{self, Past, status};
use dso_operational::env::{Environment, Health, HealthCheck, Strategy, Target};
use dso_operational::{approval, provenance};
pub use dso_store::{ApprovalRecord, DeploymentRecord, ReleaseRecord};
use dso_store::{EnvironmentRecord, NewDeployment};
use sha2::Digest as _;

use crate::{AppError, Context};

/// Event types of the Operational domain (CDEvents v0.5 where one exists).
pub mod types {
    pub const ENVIRONMENT_CREATED: &str = "dev.cdevents.environment.created.0.3.0";
    pub const ENVIRONMENT_MODIFIED: &str = "dev.cdevents.environment.modified.0.3.0";
    pub const RELEASE_CREATED: &str = "dev.cdeventsx.dso.release.created.0.1.0";
    pub const ARTIFACT_SIGNED: &str = "dev.cdevents.artifact.signed.0.3.0";
    pub const DEPLOYMENT_REQUESTED: &str = "dev.cdeventsx.dso.deployment.requested.0.1.0";
    pub const DEPLOYMENT_REFUSED: &str = "dev.cdeventsx.dso.deployment.refused.0.1.0";
    pub const DEPLOYMENT_APPROVED: &str = "dev.cdeventsx.dso.deployment.approved.0.1.0";
    pub const DEPLOYMENT_STARTED: &str = "dev.cdeventsx.dso.deployment.started.0.1.0";
    pub const DEPLOYMENT_FAILED: &str = "dev.cdeventsx.dso.deployment.failed.0.1.0";
    pub const DEPLOYMENT_INTERRUPTED: &str = "dev.cdeventsx.dso.deployment.interrupted.0.1.0";
    pub const SERVICE_DEPLOYED: &str = "dev.cdevents.service.deployed.0.3.0";
    pub const SERVICE_UPGRADED: &str = "dev.cdevents.service.upgraded.0.3.0";
    pub const SERVICE_ROLLEDBACK: &str = "dev.cdevents.service.rolledback.0.3.0";
}

/// A script or kubectl step may run this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

// ---------------------------------------------------------------- environments

/// Changes `dso env create` (and `dso env set`) make; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct EnvChanges {
    pub protected: Option<bool>,
    pub approvals: Option<u32>,
    pub approver_role: Option<String>,
    pub target: Option<Target>,
    pub strategy: Option<Strategy>,
    pub health_checks: Option<Vec<HealthCheck>>,
    pub health_timeout_s: Option<u32>,
    /// `Some(None)` clears it.
    pub health_retries: Option<Option<u32>>,
    /// A PEM file of CA certificates for https:// checks; `Some(None)` clears it.
    pub health_ca_file: Option<Option<String>>,
}

impl EnvChanges {
    /// The dso.toml keys these changes touch (`health` for the checks).
    fn keys(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        if self.protected.is_some() {
            k.push("protected");
        }
        if self.approvals.is_some() {
            k.push("approvals");
        }
        if self.approver_role.is_some() {
            k.push("approver_role");
        }
        if self.target.is_some() {
            k.push("target");
        }
        if self.strategy.is_some() {
            k.push("strategy");
        }
        if self.health_checks.is_some() {
            k.push("health.checks");
        }
        if self.health_timeout_s.is_some() {
            k.push("health.timeout");
        }
        if self.health_retries.is_some() {
            k.push("health.retries");
        }
        if self.health_ca_file.is_some() {
            k.push("health.ca_file");
        }
        k
    }
}

fn to_record(env: &Environment, created_at: &str, now: &str) -> EnvironmentRecord {
    EnvironmentRecord {
        name: env.name.clone(),
        protected: env.protected,
        approvals: i64::from(env.approvals),
        approver_role: env.approver_role.clone(),
        target: serde_json::to_string(&env.target).expect("a target always serialises"),
        strategy: serde_json::to_string(&env.strategy).expect("a strategy always serialises"),
        health_checks: serde_json::to_string(&env.health).expect("health always serialises"),
        created_at: created_at.to_owned(),
        updated_at: now.to_owned(),
    }
}

fn from_record(r: &EnvironmentRecord) -> Result<Environment, AppError> {
    let bad = |field: &str, err: serde_json::Error| AppError::Input {
        location: format!("environment `{}`", r.name),
        message: format!("stored {field} is invalid: {err}"),
    };
    Ok(Environment {
        name: r.name.clone(),
        protected: r.protected,
        approvals: u32::try_from(r.approvals).unwrap_or(0),
        approver_role: r.approver_role.clone(),
        target: serde_json::from_str(&r.target).map_err(|e| bad("target", e))?,
        strategy: serde_json::from_str(&r.strategy).map_err(|e| bad("strategy", e))?,
        health: serde_json::from_str(&r.health_checks).map_err(|e| bad("health checks", e))?,
    })
}

fn env_event(ctx: &Context, ty: &str, env: &Environment) -> Result<Event, AppError> {
    ctx.stamp(NewEvent {
        ty: ty.into(),
        subject: Some(env.name.clone()),
        data: serde_json::json!({
            "subject": { "id": env.name, "content": { "name": env.name } },
            "customData": env,
        }),
    })
}

/// Creates dev, test, staging and production when the workspace has no
/// environment yet, and each environment dso.toml names that the database
/// does not have (one `environment.created` event each).
pub async fn ensure_defaults(ctx: &Context) -> Result<(), AppError> {
    let stored = ctx.store.environments().await?;
    if stored.is_empty() {
        let now = now();
        let envs = dso_operational::env::defaults();
        let records: Vec<_> = envs.iter().map(|e| to_record(e, &now, &now)).collect();
        let events = envs
            .iter()
            .map(|e| {
                env_event(
                    ctx,
                    types::ENVIRONMENT_CREATED,
                    &effective(ctx, e.clone())?.0,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Another process may have created them meanwhile: then nothing is written.
        if let Some(appended) = ctx.store.put_environments(&records, true, &events).await? {
            crate::events::seal(ctx, &appended).await?;
        }
    }
    let stored = ctx.store.environments().await?;
    for name in ctx.workspace.config.environments.keys() {
        if stored.iter().any(|r| &r.name == name) {
            continue;
        }
        let now = now();
        let base = Environment::new(name);
        let event = env_event(
            ctx,
            types::ENVIRONMENT_CREATED,
            &effective(ctx, base.clone())?.0,
        )?;
        if let Some(appended) = ctx
            .store
            .put_environments(&[to_record(&base, &now, &now)], true, &[event])
            .await?
        {
            crate::events::seal(ctx, &appended).await?;
        }
    }
    Ok(())
}

/// The environment in force: the stored settings with the keys of its
/// `[environments.NAME]` section in dso.toml applied over them (the file
/// wins), and the names of those keys.
pub fn effective(
    ctx: &Context,
    mut env: Environment,
) -> Result<(Environment, Vec<&'static str>), AppError> {
    let Some(section) = ctx.workspace.config.environments.get(&env.name) else {
        return Ok((env, Vec::new()));
    };
    let set = section
        .get_ref()
        .apply(&mut env, &ctx.workspace.root, section.span())
        .map_err(|(_, message)| AppError::Input {
            location: format!("dso.toml [environments.{}]", env.name),
            message,
        })?;
    Ok((env, set))
}

/// Every environment in force, by name (see [`effective`]).
pub async fn environments(ctx: &Context) -> Result<Vec<Environment>, AppError> {
    Ok(environments_with_sources(ctx)
        .await?
        .into_iter()
        .map(|(e, _)| e)
        .collect())
}

/// Every environment in force, by name, with the keys dso.toml sets.
pub async fn environments_with_sources(
    ctx: &Context,
) -> Result<Vec<(Environment, Vec<&'static str>)>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("environments"),
    )
    .await?;
    ensure_defaults(ctx).await?;
    ctx.store
        .environments()
        .await?
        .iter()
        .map(|r| effective(ctx, from_record(r)?))
        .collect()
}

/// One environment in force, or an error naming the known ones.
pub async fn environment(ctx: &Context, name: &str) -> Result<Environment, AppError> {
    Ok(environment_with_sources(ctx, name).await?.0)
}

/// One environment in force, with the keys dso.toml sets.
pub async fn environment_with_sources(
    ctx: &Context,
    name: &str,
) -> Result<(Environment, Vec<&'static str>), AppError> {
    ensure_defaults(ctx).await?;
    match ctx.store.environment(name).await? {
        Some(r) => effective(ctx, from_record(&r)?),
        None => Err(unknown_env(ctx, name).await),
    }
}

async fn unknown_env(ctx: &Context, name: &str) -> AppError {
    let known = ctx
        .store
        .environments()
        .await
        .map(|es| {
            es.into_iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    AppError::Unknown {
        kind: "environment",
        value: name.to_owned(),
        hint: Some(format!(
            "known environments: {known}; create one with `dso env create NAME`"
        )),
    }
}

/// Creates an environment (`create`), or changes an existing one.
pub async fn put_environment(
    ctx: &Context,
    name: &str,
    changes: &EnvChanges,
    create: bool,
) -> Result<Environment, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::Deploy,
        &dso_governance::rbac::Resource::kind("environment"),
    )
    .await?;
    dso_operational::env::check_name(name).map_err(|message| AppError::Input {
        location: "environment name".into(),
        message,
    })?;
    ensure_defaults(ctx).await?;
    let existing = ctx.store.environment(name).await?;
    if let Some(section) = ctx.workspace.config.environments.get(name) {
        let mut probe = Environment::new(name);
        let from_file = section
            .get_ref()
            .apply(&mut probe, &ctx.workspace.root, section.span())
            .unwrap_or_default();
        let touched = changes.keys();
        let clash: Vec<&str> = touched
            .iter()
            .copied()
            .filter(|k| {
                from_file
                    .iter()
                    .any(|f| f == k || f.starts_with(&format!("{k}.")))
            })
            .collect();
        if !clash.is_empty() {
            return Err(AppError::Input {
                location: format!("environment `{name}`"),
                message: format!(
                    "{} set in dso.toml [environments.{name}], which wins over `dso env set`; change it there",
                    clash.join(", ")
                ),
            });
        }
    }
    let (mut env, created_at) = match (&existing, create) {
        (Some(_), true) => {
            return Err(AppError::Input {
                location: format!("environment `{name}`"),
                message: "exists already; change it with `dso env set`".into(),
            });
        }
        (None, false) => return Err(unknown_env(ctx, name).await),
        (Some(r), false) => (from_record(r)?, r.created_at.clone()),
        (None, true) => (Environment::new(name), now()),
    };
    if let Some(p) = changes.protected {
        env.protected = p;
    }
    if let Some(n) = changes.approvals {
        env.approvals = n;
        if n > 0 && changes.protected.is_none() {
            env.protected = true;
        }
    }
    if let Some(role) = &changes.approver_role {
        if dso_model::pim().roles.iter().all(|r| &r.id != role) {
            return Err(AppError::Unknown {
                kind: "role",
                value: role.clone(),
                hint: Some("list the PIM roles with `dso model roles`".into()),
            });
        }
        env.approver_role = role.clone();
    }
    if let Some(t) = &changes.target {
        env.target = t.clone();
    }
    if let Some(s) = changes.strategy {
        env.strategy = s;
    }
    if let Some(c) = &changes.health_checks {
        env.health.checks = c.clone();
    }
    if let Some(t) = changes.health_timeout_s {
        env.health.timeout_s = t;
    }
    if let Some(r) = changes.health_retries {
        env.health.retries = r;
    }
    if let Some(ca) = &changes.health_ca_file {
        if let Some(path) = ca {
            check_ca_file(path).map_err(|message| AppError::Input {
                location: "--health-ca".into(),
                message,
            })?;
        }
        env.health.ca_file = ca.clone();
    }
    let ty = if create {
        types::ENVIRONMENT_CREATED
    } else {
        types::ENVIRONMENT_MODIFIED
    };
    let record = to_record(&env, &created_at, &now());
    let event = env_event(ctx, ty, &env)?;
    match ctx
        .store
        .put_environments(&[record], create, &[event])
        .await?
    {
        Some(appended) => crate::events::seal(ctx, &appended).await?,
        None => {
            return Err(AppError::Input {
                location: format!("environment `{name}`"),
                message: "was created by someone else meanwhile".into(),
            });
        }
    }
    Ok(env)
}

/// A CA file must exist and hold a PEM certificate.
fn check_ca_file(path: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    if text.contains("-----BEGIN CERTIFICATE-----") {
        Ok(())
    } else {
        Err(format!(
            "{path}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
        ))
    }
}

// -------------------------------------------------------------------- releases

/// One artifact of a release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseArtifact {
    pub path: String,
    pub sha256: String,
    pub size: i64,
}

/// A release as the use cases see it.
#[derive(Debug, Clone)]
pub struct Release {
    pub record: ReleaseRecord,
    pub artifacts: Vec<ReleaseArtifact>,
}

fn release_from(record: ReleaseRecord) -> Release {
    let artifacts = serde_json::from_str(&record.artifacts).unwrap_or_default();
    Release { record, artifacts }
}

/// Creates release `version` from successful run `run_id`: its artifacts
/// and their digests, a signed provenance statement, the events.
pub async fn create_release(
    ctx: &Context,
    version: &str,
    run_id: i64,
) -> Result<Release, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::ReleaseCreate,
        &dso_governance::rbac::Resource::kind("releases"),
    )
    .await?;
    check_version(version)?;
    let run = ctx
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "run",
            value: run_id.to_string(),
            hint: Some("list runs with `dso runs`".into()),
        })?;
    if run.status != "success" {
        return Err(AppError::Input {
            location: format!("run {run_id}"),
            message: format!("is {}; a release is made from a successful run", run.status),
        });
    }
    if ctx.store.release(version).await?.is_some() {
        return Err(release_exists(version));
    }
    let records = ctx.store.artifacts(run_id).await?;
    if records.is_empty() {
        return Err(AppError::Input {
            location: format!("run {run_id}"),
            message:
                "kept no artifacts (`artifacts:` in the pipeline file); there is nothing to release"
                    .into(),
        });
    }
    let mut artifacts: Vec<ReleaseArtifact> = Vec::new();
    for a in records {
        if artifacts.iter().all(|x| x.path != a.path) {
            artifacts.push(ReleaseArtifact {
                path: a.path,
                sha256: a.sha256,
                size: a.size,
            });
        }
    }
    let evidence = release_evidence(ctx, run_id).await?;
    let evidence_json = serde_json::to_string(&evidence).expect("evidence serialises");
    let mut byproducts = vec![(
        EVIDENCE_BYPRODUCT.to_owned(),
        provenance::sha256_hex(evidence_json.as_bytes()),
    )];
    for sbom in ctx.store.run_sboms(run_id).await? {
        byproducts.push((format!("sbom/{}", sbom.name), sbom.sha256));
    }
    for job in ctx.store.run_jobs(run_id).await? {
        for log in ctx.store.job_logs(run_id, job.idx).await? {
            byproducts.push((
                format!("logs/{}/attempt-{}.log.gz", job.name, log.attempt),
                provenance::sha256_hex(&log.data),
            ));
        }
    }
    let pipeline_file = ctx
        .store
        .run_pipeline_file(run_id)
        .await?
        .unwrap_or_default();
    let facts = provenance::ReleaseFacts {
        version: version.to_owned(),
        workspace_source: ctx.workspace.event_source(),
        run_id,
        repo: run.repo.clone(),
        git_ref: run.git_ref.clone(),
        commit_sha: run.commit_sha.clone(),
        pipeline_file,
        started_on: run.started_at.clone(),
        finished_on: run.finished_at.clone(),
        artifacts: artifacts
            .iter()
            .map(|a| (a.path.clone(), a.sha256.clone()))
            .collect(),
        byproducts,
    };
    let envelope = provenance::sign(&provenance::statement(&facts), &ctx.key.secret());
    let envelope_json = serde_json::to_string(&envelope).expect("an envelope always serialises");
    let service = Path::new(&run.repo)
        .file_name()
        .map_or_else(|| "service".into(), |n| n.to_string_lossy().into_owned());
    let record = ReleaseRecord {
        version: version.to_owned(),
        run_id,
        service: service.clone(),
        repo: run.repo.clone(),
        commit_sha: run.commit_sha.clone(),
        artifacts: serde_json::to_string(&artifacts).expect("artifacts always serialise"),
        envelope: envelope_json.clone(),
        created_at: now(),
        actor: ctx.actor.user.clone(),
        evidence: evidence_json,
    };
    let mut events = vec![ctx.stamp(NewEvent {
        ty: types::RELEASE_CREATED.into(),
        subject: Some(format!("release-{version}")),
        data: serde_json::json!({
            "subject": { "id": format!("release-{version}"), "content": {
                "version": version, "service": service, "run": format!("run-{run_id}"),
                "change": { "id": run.commit_sha },
                "provenance": { "sha256": provenance::sha256_hex(envelope_json.as_bytes()), "keyid": envelope.signatures[0].keyid },
            }},
            "customData": { "evidence": evidence },
        }),
    })?];
    for a in &artifacts {
        events.push(ctx.stamp(NewEvent {
            ty: types::ARTIFACT_SIGNED.into(),
            subject: Some(format!("sha256:{}", a.sha256)),
            data: serde_json::json!({
                "subject": { "id": purl(&service, version, &a.path), "content": { "signature": envelope.signatures[0].sig } },
                "customData": { "path": a.path, "sha256": a.sha256, "release": version },
            }),
        })?);
    }
    let appended = ctx
        .store
        .create_release(&record, &events)
        .await?
        .ok_or_else(|| release_exists(version))?;
    crate::events::seal(ctx, &appended).await?;
    Ok(Release { record, artifacts })
}

/// The name under which a release's evidence is signed in its provenance.
pub const EVIDENCE_BYPRODUCT: &str = "evidence.json";

/// What a release carries besides its artifacts (issue: Fig 18's integrity
/// check covers it too): the run's SBOMs, the summary of the findings the
/// run saw in their triage state now, and the run's latest gate decision.
/// Refuses when that decision denies.
async fn release_evidence(ctx: &Context, run_id: i64) -> Result<serde_json::Value, AppError> {
    use std::collections::{BTreeMap, BTreeSet};

    let sboms: Vec<serde_json::Value> = ctx
        .store
        .run_sboms(run_id)
        .await?
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "format": s.format, "sha256": s.sha256, "components": s.components}))
        .collect();
    let findings = crate::gate::findings_seen(ctx, run_id).await?;
    let mut by_severity: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for f in &findings {
        *by_severity
            .entry(f.severity.clone())
            .or_default()
            .entry(f.status.clone())
            .or_default() += 1;
    }
    let total = findings.len();
    let gate = ctx.store.gate_decisions(Some(run_id), 1).await?.pop();
    if let Some(g) = &gate
        && g.decision.decision != "allow"
    {
        let violations: Vec<serde_json::Value> =
            serde_json::from_str(&g.decision.violations).unwrap_or_default();
        let rules: BTreeSet<&str> = violations
            .iter()
            .filter_map(|v| v["rule"].as_str())
            .collect();
        return Err(AppError::Input {
            location: format!("run {run_id}"),
            message: format!(
                "its latest gate decision ({}, {}) denies: {}; fix or triage the findings, then `dso gate eval --run {run_id}`",
                g.id,
                g.decision.evaluated_at,
                rules.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok(serde_json::json!({
        "sboms": sboms,
        "findings": { "total": total, "bySeverity": by_severity },
        "gate": gate.map(|g| serde_json::json!({
            "id": g.id,
            "decision": g.decision.decision,
            "evaluatedAt": g.decision.evaluated_at,
            "policies": serde_json::from_str::<serde_json::Value>(&g.decision.policies).unwrap_or_default(),
        })),
    }))
}

fn purl(service: &str, version: &str, path: &str) -> String {
    format!("pkg:generic/{service}@{version}?path={path}")
}

fn release_exists(version: &str) -> AppError {
    AppError::Input {
        location: format!("release `{version}`"),
        message: "exists already; releases are immutable, choose a new version".into(),
    }
}

fn check_version(version: &str) -> Result<(), AppError> {
    let ok = !version.is_empty()
        && version.len() <= 128
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if ok {
        Ok(())
    } else {
        Err(AppError::Input {
            location: format!("release version `{version}`"),
            message: "use letters, digits, `.`, `-`, `_` and `+` (at most 128)".into(),
        })
    }
}

/// Every release, newest first.
pub async fn releases(ctx: &Context) -> Result<Vec<Release>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("releases"),
    )
    .await?;
    Ok(ctx
        .store
        .releases()
        .await?
        .into_iter()
        .map(release_from)
        .collect())
}

/// One release.
pub async fn release(ctx: &Context, version: &str) -> Result<Release, AppError> {
    ctx.store
        .release(version)
        .await?
        .map(release_from)
        .ok_or_else(|| AppError::Unknown {
            kind: "release",
            value: version.to_owned(),
            hint: Some("list releases with `dso release list`".into()),
        })
}

fn store_dir(ctx: &Context) -> PathBuf {
    ctx.workspace.root.join("artifacts").join("sha256")
}

/// Hex SHA-256 of the object stored under `hex`, if it is there.
fn stored_digest(store: &Path, hex: &str) -> Option<String> {
    if hex.len() < 3 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    file_digest(&crate::artifacts::object_path(store, hex))
}

/// Hex SHA-256 of a file's bytes, if it can be read.
fn file_digest(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Some(hex::encode(hasher.finalize()))
}

/// The integrity check of Fig 18: the envelope's signature under the
/// workspace key, that it is this release's, and every signed artifact's
/// bytes in the content-addressed store. Empty when intact.
pub fn verify_release(ctx: &Context, release: &Release) -> Vec<provenance::Problem> {
    let store = store_dir(ctx);
    let mut problems = provenance::verify(
        &release.record.envelope,
        &release.record.version,
        &ctx.key.public(),
        |hex| stored_digest(&store, hex),
    );
    // The evidence (SBOM digests, findings summary, gate decision) is signed
    // as a byproduct; releases made before it existed have none.
    if let Ok((_, statement)) = provenance::open(&release.record.envelope)
        && let Some((name, expected)) = provenance::byproducts(&statement)
            .into_iter()
            .find(|(name, _)| name == EVIDENCE_BYPRODUCT)
    {
        let actual = provenance::sha256_hex(release.record.evidence.as_bytes());
        if actual != expected {
            problems.push(provenance::Problem::ByproductAltered {
                byproduct: name,
                expected,
                actual,
            });
        }
    }
    problems
}

// ----------------------------------------------------------------- deployments

/// What a deploy, approve or rollback did.
#[derive(Debug, Clone)]
pub struct DeployOutcome {
    /// The deployment asked for, as it ended (or waits).
    pub deployment: DeploymentRecord,
    /// Approvals still missing (0 once it ran).
    pub approvals_missing: u32,
    /// The automatic rollback that followed a failure, if any.
    pub rollback: Option<DeploymentRecord>,
    /// Why no automatic rollback happened after a failure.
    pub no_rollback: Option<String>,
}

fn subject(id: i64) -> String {
    format!("deployment-{id}")
}

fn deployment_event(
    ctx: &Context,
    ty: &str,
    d: &DeploymentRecord,
    extra: serde_json::Value,
) -> Result<Event, AppError> {
    let mut custom = serde_json::json!({
        "deployment": subject(d.id),
        "release": d.version,
        "kind": d.kind,
        "previousRelease": d.previous_version,
        "commits": d.commits,
    });
    if let (Some(map), serde_json::Value::Object(more)) = (custom.as_object_mut(), extra) {
        map.extend(more);
    }
    let content = if ty.starts_with("dev.cdevents.service.") {
        serde_json::json!({ "environment": { "id": d.env }, "artifactId": format!("pkg:generic/{}@{}", d.service, d.version) })
    } else {
        serde_json::json!({ "environment": { "id": d.env }, "release": d.version })
    };
    let id = if ty.starts_with("dev.cdevents.service.") {
        d.service.clone()
    } else {
        subject(d.id)
    };
    ctx.stamp(NewEvent {
        ty: ty.into(),
        subject: Some(subject(d.id)),
        data: serde_json::json!({ "subject": { "id": id, "content": content }, "customData": custom }),
    })
}

async fn history(ctx: &Context, env: &str) -> Result<Vec<Past>, AppError> {
    Ok(ctx
        .store
        .deployments(Some(env))
        .await?
        .into_iter()
        .map(|d| Past {
            id: d.id,
            version: d.version,
            status: d.status,
        })
        .collect())
}

async fn load_deployment(ctx: &Context, id: i64) -> Result<DeploymentRecord, AppError> {
    ctx.store
        .deployment(id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "deployment",
            value: id.to_string(),
            hint: Some("list deployments with `dso deployments`".into()),
        })
}

/// `dso deploy VERSION --env ENV`: integrity check, then either waits for
/// approvals (protected environment) or deploys now, rolling back
/// automatically to the previous good release when it fails.
pub async fn deploy(
    ctx: &Context,
    version: &str,
    env_name: &str,
) -> Result<DeployOutcome, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::Deploy,
        &dso_governance::rbac::Resource::kind("deployments"),
    )
    .await?;
    let env = environment(ctx, env_name).await?;
    let release = release(ctx, version).await?;
    if env.target == Target::None {
        return Err(AppError::NoTarget { env: env.name });
    }
    let past = history(ctx, &env.name).await?;
    let previous = deploy::current(&past).map(|p| p.version.clone());
    let commits = match &previous {
        Some(prev) => {
            let from = ctx.store.release(prev).await?.map(|r| r.commit_sha);
            crate::git::commits_between(
                Path::new(&release.record.repo),
                from.as_deref(),
                &release.record.commit_sha,
            )
        }
        None => crate::git::commits_between(
            Path::new(&release.record.repo),
            None,
            &release.record.commit_sha,
        ),
    };
    let problems = verify_release(ctx, &release);
    let needed = env.approvals_needed();
    let new = NewDeployment {
        env: env.name.clone(),
        version: version.to_owned(),
        service: release.record.service.clone(),
        kind: "deploy".into(),
        status: if !problems.is_empty() {
            status::REFUSED.into()
        } else if needed > 0 {
            status::PENDING_APPROVAL.into()
        } else {
            status::RUNNING.into()
        },
        requested_by: ctx.actor.user.clone(),
        requested_at: now(),
        previous_version: previous,
        rollback_of: None,
        commits,
        detail: (!problems.is_empty()).then(|| describe(&problems)),
        host: Some(crate::pipeline::hostname()),
        pid: Some(i64::from(std::process::id())),
    };
    let (id, appended) = {
        let mut failed = None;
        let res = ctx
            .store
            .create_deployment(&new, |id| {
                let record = pending_record(id, &new);
                let mut events = Vec::new();
                let mut push = |ty: &str, extra| match deployment_event(ctx, ty, &record, extra) {
                    Ok(e) => events.push(e),
                    Err(e) => failed = Some(e),
                };
                push(
                    types::DEPLOYMENT_REQUESTED,
                    serde_json::json!({ "approvalsNeeded": needed }),
                );
                if !problems.is_empty() {
                    push(
                        types::DEPLOYMENT_REFUSED,
                        serde_json::json!({ "problems": problems }),
                    );
                }
                events
            })
            .await?;
        if let Some(e) = failed {
            return Err(e);
        }
        res
    };
    crate::events::seal(ctx, &appended).await?;
    if !problems.is_empty() {
        return Err(AppError::IntegrityCheck {
            version: version.to_owned(),
            deployment: id,
            problems: problems.iter().map(ToString::to_string).collect(),
        });
    }
    if needed > 0 {
        return Ok(DeployOutcome {
            deployment: load_deployment(ctx, id).await?,
            approvals_missing: needed,
            rollback: None,
            no_rollback: None,
        });
    }
    run_and_recover(ctx, &env, id).await
}

fn pending_record(id: i64, d: &NewDeployment) -> DeploymentRecord {
    DeploymentRecord {
        id,
        env: d.env.clone(),
        version: d.version.clone(),
        service: d.service.clone(),
        kind: d.kind.clone(),
        status: d.status.clone(),
        requested_by: d.requested_by.clone(),
        requested_at: d.requested_at.clone(),
        started_at: None,
        finished_at: None,
        previous_version: d.previous_version.clone(),
        rollback_of: d.rollback_of,
        commits: d.commits.clone(),
        detail: d.detail.clone(),
    }
}

fn describe(problems: &[provenance::Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The PIM roles the acting user holds: every role for the workspace owner
/// (a superuser), else those granted with `dso role grant`.
pub fn acting_roles(ctx: &Context) -> Vec<String> {
    let principal = &ctx.session.principal;
    if principal.superuser {
        return dso_model::pim()
            .roles
            .iter()
            .map(|r| r.id.clone())
            .collect();
    }
    principal.roles.clone()
}

/// `dso approve DEPLOYMENT`: records the acting user's approval; the last
/// approval needed deploys, or rolls back (in this process).
pub async fn approve(ctx: &Context, id: i64) -> Result<DeployOutcome, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::Deploy,
        &dso_governance::rbac::Resource::one("deployment", &id.to_string()),
    )
    .await?;
    let d = load_deployment(ctx, id).await?;
    if d.status != status::PENDING_APPROVAL {
        return Err(AppError::ApprovalRefused(approval::Refusal::NotPending {
            status: d.status,
        }));
    }
    let env = environment(ctx, &d.env).await?;
    let approved: Vec<String> = ctx
        .store
        .approvals(id)
        .await?
        .into_iter()
        .map(|a| a.user)
        .collect();
    let user = ctx.actor.user.clone();
    approval::check(&env, &d.requested_by, &user, &acting_roles(ctx), &approved)
        .map_err(AppError::ApprovalRefused)?;
    let record = ApprovalRecord {
        deployment_id: id,
        user: user.clone(),
        role: env.approver_role.clone(),
        at: now(),
    };
    let missing = env
        .approvals_needed()
        .saturating_sub(approved.len() as u32 + 1);
    let event = deployment_event(
        ctx,
        types::DEPLOYMENT_APPROVED,
        &d,
        serde_json::json!({ "approver": user, "role": env.approver_role, "approvalsMissing": missing }),
    )?;
    let appended = ctx.store.add_approval(&record, &[event]).await?;
    crate::events::seal(ctx, &appended).await?;
    if missing > 0 {
        return Ok(DeployOutcome {
            deployment: d,
            approvals_missing: missing,
            rollback: None,
            no_rollback: None,
        });
    }
    // Time passed since the request: check integrity again right before deploying.
    let release = release(ctx, &d.version).await?;
    let problems = verify_release(ctx, &release);
    if !problems.is_empty() {
        let event = deployment_event(
            ctx,
            types::DEPLOYMENT_REFUSED,
            &d,
            serde_json::json!({ "problems": problems }),
        )?;
        let appended = ctx
            .store
            .set_deployment_status(
                id,
                status::REFUSED,
                None,
                Some(&now()),
                Some(&describe(&problems)),
                &[event],
            )
            .await?;
        crate::events::seal(ctx, &appended).await?;
        return Err(AppError::IntegrityCheck {
            version: d.version,
            deployment: id,
            problems: problems.iter().map(ToString::to_string).collect(),
        });
    }
    let started = deployment_event(ctx, types::DEPLOYMENT_STARTED, &d, serde_json::json!({}))?;
    match ctx
        .store
        .claim_deployment(
            id,
            status::PENDING_APPROVAL,
            status::RUNNING,
            (&crate::pipeline::hostname(), i64::from(std::process::id())),
            &[started],
        )
        .await?
    {
        Some(appended) => crate::events::seal(ctx, &appended).await?,
        // Another approval completed it at the same moment and runs it.
        None => {
            return Ok(DeployOutcome {
                deployment: load_deployment(ctx, id).await?,
                approvals_missing: 0,
                rollback: None,
                no_rollback: None,
            });
        }
    }
    if d.kind == "rollback" {
        // A rollback by hand runs like an unprotected one: no rollback of the rollback.
        let done = execute(ctx, &env, load_deployment(ctx, id).await?).await?;
        return Ok(DeployOutcome {
            deployment: done,
            approvals_missing: 0,
            rollback: None,
            no_rollback: None,
        });
    }
    run_and_recover(ctx, &env, id).await
}

/// `dso rollback ENV`: deploys the release that ran before the current one;
/// to a protected environment, after the approvals a deployment needs.
pub async fn rollback(ctx: &Context, env_name: &str) -> Result<DeployOutcome, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::Rollback,
        &dso_governance::rbac::Resource::one("environment", env_name),
    )
    .await?;
    let env = environment(ctx, env_name).await?;
    let past = history(ctx, &env.name).await?;
    let Some(current) = deploy::current(&past).cloned() else {
        return Err(AppError::Input {
            location: format!("environment `{}`", env.name),
            message: "has no successful deployment to roll back".into(),
        });
    };
    let Some(target) = deploy::rollback_target(&past, &current.version) else {
        return Err(AppError::Input {
            location: format!("environment `{}`", env.name),
            message: format!(
                "runs `{}` and has no earlier good release to return to",
                current.version
            ),
        });
    };
    let needed = env.approvals_needed();
    if needed > 0 {
        return request_rollback(ctx, &env, &target, &current, needed).await;
    }
    let d = start_rollback(
        ctx,
        &env,
        &target,
        &current.version,
        current.id,
        "rollback by hand",
    )
    .await?;
    let d = execute(ctx, &env, d).await?;
    Ok(DeployOutcome {
        deployment: d,
        approvals_missing: 0,
        rollback: None,
        no_rollback: None,
    })
}

/// A rollback by hand to a protected environment: like a deployment there,
/// it waits for `needed` approvals (`dso approve`) by users holding the
/// approver role, never the requester. It puts back a release that was
/// approved before, but the decision to change production now is a new one.
///
/// The automatic rollback after a failed health check does not wait: the
/// deployment that failed was itself approved, and the rollback restores
/// the release that was running, approved, before it (PIM Del_4 Product
/// Recovery); waiting would leave the environment broken.
async fn request_rollback(
    ctx: &Context,
    env: &Environment,
    target: &str,
    current: &Past,
    needed: u32,
) -> Result<DeployOutcome, AppError> {
    let release = release(ctx, target).await?;
    let problems = verify_release(ctx, &release);
    let new = NewDeployment {
        env: env.name.clone(),
        version: target.to_owned(),
        service: release.record.service.clone(),
        kind: "rollback".into(),
        status: if problems.is_empty() {
            status::PENDING_APPROVAL.into()
        } else {
            status::REFUSED.into()
        },
        requested_by: ctx.actor.user.clone(),
        requested_at: now(),
        previous_version: Some(current.version.clone()),
        rollback_of: Some(current.id),
        commits: Vec::new(),
        detail: Some(if problems.is_empty() {
            "rollback by hand".to_owned()
        } else {
            describe(&problems)
        }),
        host: Some(crate::pipeline::hostname()),
        pid: Some(i64::from(std::process::id())),
    };
    let mut failed = None;
    let (id, appended) = ctx
        .store
        .create_deployment(&new, |id| {
            let record = pending_record(id, &new);
            let mut events = Vec::new();
            let mut push = |ty: &str, extra| match deployment_event(ctx, ty, &record, extra) {
                Ok(e) => events.push(e),
                Err(e) => failed = Some(e),
            };
            push(
                types::DEPLOYMENT_REQUESTED,
                serde_json::json!({
                    "approvalsNeeded": needed,
                    "reason": "rollback by hand",
                    "rollbackOf": subject(current.id),
                }),
            );
            if !problems.is_empty() {
                push(
                    types::DEPLOYMENT_REFUSED,
                    serde_json::json!({ "problems": problems }),
                );
            }
            events
        })
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    crate::events::seal(ctx, &appended).await?;
    if !problems.is_empty() {
        return Err(AppError::IntegrityCheck {
            version: target.to_owned(),
            deployment: id,
            problems: problems.iter().map(ToString::to_string).collect(),
        });
    }
    Ok(DeployOutcome {
        deployment: load_deployment(ctx, id).await?,
        approvals_missing: needed,
        rollback: None,
        no_rollback: None,
    })
}

/// Runs deployment `id` (status running) and, when it fails, rolls the
/// environment back to the previous good release.
async fn run_and_recover(
    ctx: &Context,
    env: &Environment,
    id: i64,
) -> Result<DeployOutcome, AppError> {
    let d = load_deployment(ctx, id).await?;
    let d = execute(ctx, env, d).await?;
    let mut outcome = DeployOutcome {
        deployment: d.clone(),
        approvals_missing: 0,
        rollback: None,
        no_rollback: None,
    };
    if d.status == status::FAILED {
        let past = history(ctx, &env.name).await?;
        match deploy::rollback_target(&past, &d.version) {
            Some(target) => {
                let reason = format!(
                    "automatic rollback: {}",
                    d.detail.clone().unwrap_or_default()
                );
                let rb = start_rollback(ctx, env, &target, &d.version, d.id, &reason).await?;
                outcome.rollback = Some(execute(ctx, env, rb).await?);
            }
            None => {
                outcome.no_rollback = Some("no earlier good release in this environment".into())
            }
        }
    }
    Ok(outcome)
}

async fn start_rollback(
    ctx: &Context,
    env: &Environment,
    target: &str,
    from_version: &str,
    rollback_of: i64,
    reason: &str,
) -> Result<DeploymentRecord, AppError> {
    let release = release(ctx, target).await?;
    let new = NewDeployment {
        env: env.name.clone(),
        version: target.to_owned(),
        service: release.record.service.clone(),
        kind: "rollback".into(),
        status: status::RUNNING.into(),
        requested_by: ctx.actor.user.clone(),
        requested_at: now(),
        previous_version: Some(from_version.to_owned()),
        rollback_of: Some(rollback_of),
        commits: Vec::new(),
        detail: Some(reason.to_owned()),
        host: Some(crate::pipeline::hostname()),
        pid: Some(i64::from(std::process::id())),
    };
    let mut failed = None;
    let (id, appended) = ctx
        .store
        .create_deployment(&new, |id| {
            match deployment_event(
                ctx,
                types::DEPLOYMENT_STARTED,
                &pending_record(id, &new),
                serde_json::json!({ "reason": reason, "rollbackOf": subject(rollback_of) }),
            ) {
                Ok(e) => vec![e],
                Err(e) => {
                    failed = Some(e);
                    Vec::new()
                }
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    crate::events::seal(ctx, &appended).await?;
    load_deployment(ctx, id).await
}

/// Runs a deployment's steps and health checks, then records how it ended
/// (service deployed/upgraded/rolledback, or deployment failed).
async fn execute(
    ctx: &Context,
    env: &Environment,
    d: DeploymentRecord,
) -> Result<DeploymentRecord, AppError> {
    let started_at = now();
    let release = release(ctx, &d.version).await?;
    let result = run_steps(ctx, env, &d, &release).await;
    let finished_at = now();
    let (new_status, ty, detail, extra) = match result {
        Ok(()) => {
            let ty = if d.kind == "rollback" {
                types::SERVICE_ROLLEDBACK
            } else if d.previous_version.is_some() {
                types::SERVICE_UPGRADED
            } else {
                types::SERVICE_DEPLOYED
            };
            (
                status::SUCCEEDED,
                ty,
                None,
                serde_json::json!({ "startedAt": started_at, "finishedAt": finished_at }),
            )
        }
        Err(reason) => (
            status::FAILED,
            types::DEPLOYMENT_FAILED,
            Some(reason.clone()),
            serde_json::json!({ "reason": reason, "startedAt": started_at, "finishedAt": finished_at }),
        ),
    };
    let mut done = d.clone();
    done.status = new_status.into();
    let event = deployment_event(ctx, ty, &done, extra)?;
    let appended = ctx
        .store
        .set_deployment_status(
            d.id,
            new_status,
            Some(&started_at),
            Some(&finished_at),
            detail.as_deref(),
            &[event],
        )
        .await?;
    crate::events::seal(ctx, &appended).await?;
    load_deployment(ctx, d.id).await
}

/// The deployment's directory in the workspace: its log and artifacts.
pub fn deployment_dir(ctx: &Context, id: i64) -> PathBuf {
    ctx.workspace.root.join("deployments").join(id.to_string())
}

async fn run_steps(
    ctx: &Context,
    env: &Environment,
    d: &DeploymentRecord,
    release: &Release,
) -> Result<(), String> {
    let dir = deployment_dir(ctx, d.id);
    let artifact_dir = dir.join("artifacts");
    materialize(ctx, release, &artifact_dir)?;
    let log_path = dir.join("deploy.log");
    let steps = deploy::steps(env.strategy);
    for step in 1..=steps {
        let (program, args) = match &env.target {
            Target::None => return Err(format!("environment `{}` has no deploy target", env.name)),
            Target::Script { command } => (
                "bash".to_owned(),
                vec![
                    "--noprofile".into(),
                    "--norc".into(),
                    "-eo".into(),
                    "pipefail".into(),
                    "-c".into(),
                    command.clone(),
                ],
            ),
            Target::Kubectl { manifests, .. } => {
                let out = dir.join("manifests");
                substitute_manifests(&artifact_dir.join(manifests), &out, release)?;
                let argv = deploy::kubectl_command(&env.target, &out.to_string_lossy())
                    .expect("a kubectl target always builds a command line");
                if which("kubectl").is_none() {
                    return Err(format!(
                        "kubectl is not installed (not found on PATH); the command would be: {}",
                        argv.join(" ")
                    ));
                }
                (argv[0].clone(), argv[1..].to_vec())
            }
        };
        run_command(
            &program,
            &args,
            &log_path,
            &[
                ("DSO_RELEASE", d.version.clone()),
                ("DSO_ENV", env.name.clone()),
                (
                    "DSO_ARTIFACT_DIR",
                    artifact_dir.to_string_lossy().into_owned(),
                ),
                ("DSO_DEPLOYMENT", d.id.to_string()),
                ("DSO_SERVICE", d.service.clone()),
                ("DSO_STEP", step.to_string()),
                ("DSO_STEPS", steps.to_string()),
            ],
        )
        .await
        .map_err(|e| {
            if steps > 1 {
                format!("step {step}/{steps}: {e}")
            } else {
                e
            }
        })?;
        check_health(&env.health).await.map_err(|e| {
            if steps > 1 {
                format!("step {step}/{steps}: {e}")
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// Copies the release's artifacts from the store to `dir`, checking each digest.
fn materialize(ctx: &Context, release: &Release, dir: &Path) -> Result<(), String> {
    let store = store_dir(ctx);
    // Deploy what the signed statement names, never the unsigned listing.
    for (path, sha) in signed_artifacts(release)? {
        let rel = Path::new(&path);
        let bad_path = rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if bad_path || sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("artifact `{path}` has an unusable path or digest"));
        }
        let dest = dir.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(crate::artifacts::object_path(&store, &sha), &dest)
            .map_err(|e| format!("artifact `{path}`: {e}"))?;
        // The store may change between the integrity check and the copy: check the copy.
        if file_digest(&dest).as_deref() != Some(sha.as_str()) {
            return Err(format!(
                "artifact `{path}` changed during the deployment: its bytes no longer hash to the signed sha256:{sha}"
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(())
}

/// The (path, sha256) pairs the release's signed statement names.
fn signed_artifacts(release: &Release) -> Result<Vec<(String, String)>, String> {
    provenance::open(&release.record.envelope)
        .map(|(_, statement)| provenance::subjects(&statement))
        .map_err(|p| p.to_string())
}

fn substitute_manifests(src: &Path, out: &Path, release: &Release) -> Result<(), String> {
    let pairs = signed_artifacts(release)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files: Vec<PathBuf> = if src.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(src)
            .map_err(|e| format!("{}: {e}", src.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
            })
            .collect();
        v.sort();
        v
    } else {
        vec![src.to_path_buf()]
    };
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "manifest {}: {e} (is it an artifact of the release?)",
                file.display()
            )
        })?;
        let text = deploy::substitute_digests(&text, &pairs)
            .map_err(|e| format!("manifest {}: {e}", file.display()))?;
        let name = file.file_name().map(|n| n.to_owned()).unwrap_or_default();
        std::fs::write(out.join(name), text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

async fn run_command(
    program: &str,
    args: &[String],
    log: &Path,
    env: &[(&str, String)],
) -> Result<(), String> {
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let err_file = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(err_file)
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    match tokio::time::timeout(STEP_TIMEOUT, child.wait()).await {
        Err(_) => Err(format!(
            "{program} ran longer than {} minutes",
            STEP_TIMEOUT.as_secs() / 60
        )),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Ok(Ok(s)) if s.success() => Ok(()),
        Ok(Ok(s)) => Err(format!(
            "{program} exited with {}; last output: {}",
            s.code()
                .map_or_else(|| "a signal".into(), |c| format!("status {c}")),
            tail(log)
        )),
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// Runs every check until all pass, or `health.timeout_s` runs out, or a
/// check failed `health.retries` times after its first attempt.
pub async fn check_health(health: &Health) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(u64::from(health.timeout_s));
    for check in &health.checks {
        let spec = match check {
            HealthCheck::Http {
                url,
                expect_status,
                expect_body,
            } => crate::probe::ProbeSpec::Http {
                url: url.clone(),
                expect_status: *expect_status,
                expect_body: expect_body.clone(),
                ca_file: health.ca_file.as_ref().map(PathBuf::from),
            },
            HealthCheck::Tcp { address } => crate::probe::ProbeSpec::Tcp {
                address: address.clone(),
            },
        };
        let mut attempts = 0u32;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let result = crate::probe::probe(
                &spec,
                left.clamp(Duration::from_millis(100), Duration::from_secs(5)),
            )
            .await;
            if result.ok {
                break;
            }
            attempts += 1;
            if let Some(retries) = health.retries
                && attempts > retries
            {
                return Err(format!(
                    "health check {} failed: {} ({attempts} attempt(s))",
                    check.display(),
                    result.detail,
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "health check {} failed: {} (for {} s)",
                    check.display(),
                    result.detail,
                    health.timeout_s
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

/// Marks `interrupted` every deployment left running on this host by a
/// `dso` process that no longer exists (killed, power loss). Called when a
/// workspace is opened, like `pipeline::reap_interrupted`.
pub async fn reap_interrupted(ctx: &Context) -> Result<Vec<i64>, AppError> {
    let mut reaped = Vec::new();
    for (id, pid) in ctx
        .store
        .running_deployments(&crate::pipeline::hostname())
        .await?
    {
        let alive = pid.is_some_and(|pid| {
            i32::try_from(pid).is_ok_and(|p| p > 0 && dso_runner::exec::process_alive(p))
        });
        if alive {
            continue;
        }
        let Some(d) = ctx.store.deployment(id).await? else {
            continue;
        };
        let detail = "the dso process running this deployment ended without finishing it";
        let event = deployment_event(
            ctx,
            types::DEPLOYMENT_INTERRUPTED,
            &d,
            serde_json::json!({ "reason": detail }),
        )?;
        let appended = ctx
            .store
            .mark_deployment_interrupted(id, &now(), detail, &event)
            .await?;
        crate::events::seal(ctx, &appended).await?;
        if !appended.is_empty() {
            reaped.push(id);
        }
    }
    Ok(reaped)
}

/// Deployments, oldest first; to one environment when given.
pub async fn deployments(
    ctx: &Context,
    env: Option<&str>,
) -> Result<Vec<DeploymentRecord>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("deployments"),
    )
    .await?;
    Ok(ctx.store.deployments(env).await?)
}

/// One deployment and its approvals.
pub async fn deployment(
    ctx: &Context,
    id: i64,
) -> Result<(DeploymentRecord, Vec<ApprovalRecord>), AppError> {
    let d = load_deployment(ctx, id).await?;
    let approvals = ctx.store.approvals(id).await?;
    Ok((d, approvals))
}

fn now() -> String {
    dso_audit::format_time(jiff::Timestamp::now())
}
