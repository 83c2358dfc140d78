//! Operational and Monitoring records: environments, releases, deployments
//! and approvals; monitors, samples, SLOs, incidents and their timelines.
//!
//! Every change is written together with the events the app layer made for
//! it (see `tx.rs`); where an event needs a new row's id, the function takes
//! a closure building the events from it.

use dso_audit::Event;

use crate::{AppendedEntry, Store, StoreError, with_pool, with_tx};

/// Writes with `$conn`, appends `$events`, commits; evaluates to `(body, appended)`.
macro_rules! write_with_events {
    ($store:expr, $events:expr, $conn:ident => $body:expr) => {{
        let mut tx = $store.begin_write().await?;
        let out = with_tx!(&mut tx, $conn => $body);
        let appended = tx.append($events).await?;
        tx.commit().await?;
        (out, appended)
    }};
}

/// A stored environment; `target`, `strategy` and `health_checks` are JSON
/// the operational domain defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRecord {
    pub name: String,
    pub protected: bool,
    pub approvals: i64,
    pub approver_role: String,
    pub target: String,
    pub strategy: String,
    pub health_checks: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A stored release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRecord {
    pub version: String,
    pub run_id: i64,
    pub service: String,
    pub repo: String,
    pub commit_sha: String,
    /// JSON list of `{path, sha256, size}`.
    pub artifacts: String,
    /// The DSSE envelope, JSON.
    pub envelope: String,
    pub created_at: String,
    pub actor: String,
    /// JSON: the run's SBOMs, findings summary and gate decision.
    pub evidence: String,
}

/// A deployment about to be recorded.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub env: String,
    pub version: String,
    pub service: String,
    pub kind: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    pub previous_version: Option<String>,
    pub rollback_of: Option<i64>,
    pub commits: Vec<String>,
    pub detail: Option<String>,
    /// The host and process running it (when it is created running).
    pub host: Option<String>,
    pub pid: Option<i64>,
}

/// A stored deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    pub id: i64,
    pub env: String,
    pub version: String,
    pub service: String,
    pub kind: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub previous_version: Option<String>,
    pub rollback_of: Option<i64>,
    pub commits: Vec<String>,
    pub detail: Option<String>,
}

/// One approval of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub deployment_id: i64,
    pub user: String,
    pub role: String,
    pub at: String,
}

/// A stored monitor (probe definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorRecord {
    pub name: String,
    pub env: String,
    pub service: String,
    pub kind: String,
    pub target: String,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    pub expect_status: Option<i64>,
    pub expect_body: Option<String>,
    pub created_at: String,
    /// https://: a PEM file of CA certificates trusted instead of the public roots.
    pub ca_file: Option<String>,
}

/// One probe result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    pub monitor: String,
    pub at: String,
    pub ok: bool,
    pub latency_ms: i64,
    pub detail: Option<String>,
}

/// A service level objective.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloRecord {
    pub name: String,
    pub env: String,
    pub service: String,
    /// Percent, as written ("99.9").
    pub target: String,
    pub window_s: i64,
    pub created_at: String,
}

/// An incident about to be opened.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub env: String,
    pub service: String,
    pub source: String,
    pub source_key: String,
    pub severity: String,
    pub title: String,
    pub detected_at: String,
    pub deployment_id: Option<i64>,
    pub actor: String,
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    pub id: i64,
    pub env: String,
    pub service: String,
    pub source: String,
    pub source_key: String,
    pub severity: String,
    pub title: String,
    pub status: String,
    pub detected_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub deployment_id: Option<i64>,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: String,
    pub kind: String,
    pub text: String,
    pub actor: String,
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

type DeploymentRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
);

const DEPLOYMENT_COLUMNS: &str = "id, env, version, service, kind, status, requested_by, requested_at, started_at, \
     finished_at, previous_version, rollback_of, commits, detail";

fn deployment(row: DeploymentRow) -> DeploymentRecord {
    DeploymentRecord {
        id: row.0,
        env: row.1,
        version: row.2,
        service: row.3,
        kind: row.4,
        status: row.5,
        requested_by: row.6,
        requested_at: row.7,
        started_at: row.8,
        finished_at: row.9,
        previous_version: row.10,
        rollback_of: row.11,
        commits: serde_json::from_str(&row.12).unwrap_or_default(),
        detail: row.13,
    }
}

type EnvRow = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn environment(row: EnvRow) -> EnvironmentRecord {
    EnvironmentRecord {
        name: row.0,
        protected: row.1 != 0,
        approvals: row.2,
        approver_role: row.3,
        target: row.4,
        strategy: row.5,
        health_checks: row.6,
        created_at: row.7,
        updated_at: row.8,
    }
}

type ReleaseRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn release(row: ReleaseRow) -> ReleaseRecord {
    ReleaseRecord {
        version: row.0,
        run_id: row.1,
        service: row.2,
        repo: row.3,
        commit_sha: row.4,
        artifacts: row.5,
        envelope: row.6,
        created_at: row.7,
        actor: row.8,
        evidence: row.9,
    }
}

type IncidentRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

const INCIDENT_COLUMNS: &str = "id, env, service, source, source_key, severity, title, status, detected_at, \
     resolved_at, resolved_by, deployment_id";

fn incident(row: IncidentRow) -> IncidentRecord {
    IncidentRecord {
        id: row.0,
        env: row.1,
        service: row.2,
        source: row.3,
        source_key: row.4,
        severity: row.5,
        title: row.6,
        status: row.7,
        detected_at: row.8,
        resolved_at: row.9,
        resolved_by: row.10,
        deployment_id: row.11,
    }
}

type MonitorRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
);

fn monitor(row: MonitorRow) -> MonitorRecord {
    MonitorRecord {
        name: row.0,
        env: row.1,
        service: row.2,
        kind: row.3,
        target: row.4,
        interval_ms: row.5,
        timeout_ms: row.6,
        expect_status: row.7,
        expect_body: row.8,
        created_at: row.9,
        ca_file: row.10,
    }
}

impl Store {
    /// Every environment, by name.
    pub async fn environments(&self) -> Result<Vec<EnvironmentRecord>, StoreError> {
        let rows: Vec<EnvRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, protected, approvals, approver_role, target, strategy, health_checks, created_at, updated_at \
                 FROM environments ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(environment).collect())
    }

    /// One environment, if it exists.
    pub async fn environment(&self, name: &str) -> Result<Option<EnvironmentRecord>, StoreError> {
        let row: Option<EnvRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, protected, approvals, approver_role, target, strategy, health_checks, created_at, updated_at \
                 FROM environments WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(environment))
    }

    /// Creates or replaces environments, with their events. Returns false
    /// (and writes nothing) when `only_if_absent` and one already exists.
    pub async fn put_environments(
        &self,
        envs: &[EnvironmentRecord],
        only_if_absent: bool,
        events: &[Event],
    ) -> Result<Option<Vec<AppendedEntry>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let ok = with_tx!(&mut tx, conn => {
            let mut ok = true;
            for env in envs {
                let n = if only_if_absent {
                    sqlx::query(
                        "INSERT INTO environments (name, protected, approvals, approver_role, target, strategy, health_checks, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING",
                    )
                } else {
                    sqlx::query(
                        "INSERT INTO environments (name, protected, approvals, approver_role, target, strategy, health_checks, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO UPDATE SET \
                         protected = excluded.protected, approvals = excluded.approvals, approver_role = excluded.approver_role, \
                         target = excluded.target, strategy = excluded.strategy, health_checks = excluded.health_checks, \
                         updated_at = excluded.updated_at",
                    )
                }
                .bind(&env.name)
                .bind(i64::from(env.protected))
                .bind(env.approvals)
                .bind(&env.approver_role)
                .bind(&env.target)
                .bind(&env.strategy)
                .bind(&env.health_checks)
                .bind(&env.created_at)
                .bind(&env.updated_at)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                ok &= n == 1;
            }
            ok
        });
        if !ok {
            return Ok(None);
        }
        let appended = tx.append(events).await?;
        tx.commit().await?;
        Ok(Some(appended))
    }

    /// Stores a release with its events; false (nothing written) when the
    /// version exists already.
    pub async fn create_release(
        &self,
        r: &ReleaseRecord,
        events: &[Event],
    ) -> Result<Option<Vec<AppendedEntry>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = with_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO releases (version, run_id, service, repo, commit_sha, artifacts, envelope, created_at, actor, evidence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (version) DO NOTHING",
            )
            .bind(&r.version)
            .bind(r.run_id)
            .bind(&r.service)
            .bind(&r.repo)
            .bind(&r.commit_sha)
            .bind(&r.artifacts)
            .bind(&r.envelope)
            .bind(&r.created_at)
            .bind(&r.actor)
            .bind(&r.evidence)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Ok(None);
        }
        let appended = tx.append(events).await?;
        tx.commit().await?;
        Ok(Some(appended))
    }

    /// One release, if it exists.
    pub async fn release(&self, version: &str) -> Result<Option<ReleaseRecord>, StoreError> {
        let row: Option<ReleaseRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT version, run_id, service, repo, commit_sha, artifacts, envelope, created_at, actor, evidence \
                 FROM releases WHERE version = $1",
            )
            .bind(version)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(release))
    }

    /// Every release, newest first.
    pub async fn releases(&self) -> Result<Vec<ReleaseRecord>, StoreError> {
        let rows: Vec<ReleaseRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT version, run_id, service, repo, commit_sha, artifacts, envelope, created_at, actor, evidence \
                 FROM releases ORDER BY created_at DESC, version DESC",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(release).collect())
    }

    /// Records a deployment with the events `make_events` builds from its id.
    pub async fn create_deployment(
        &self,
        d: &NewDeployment,
        make_events: impl FnOnce(i64) -> Vec<Event>,
    ) -> Result<(i64, Vec<AppendedEntry>), StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = with_tx!(&mut tx, conn => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO deployments (env, version, service, kind, status, requested_by, requested_at, \
                 previous_version, rollback_of, commits, detail, host, pid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            )
            .bind(&d.env)
            .bind(&d.version)
            .bind(&d.service)
            .bind(&d.kind)
            .bind(&d.status)
            .bind(&d.requested_by)
            .bind(&d.requested_at)
            .bind(&d.previous_version)
            .bind(d.rollback_of)
            .bind(json_list(&d.commits))
            .bind(&d.detail)
            .bind(&d.host)
            .bind(d.pid)
            .fetch_one(&mut *conn)
            .await?;
            id
        });
        let appended = tx.append(&make_events(id)).await?;
        tx.commit().await?;
        Ok((id, appended))
    }

    /// Sets a deployment's status (and start or finish time, detail), with its events.
    pub async fn set_deployment_status(
        &self,
        id: i64,
        status: &str,
        started_at: Option<&str>,
        finished_at: Option<&str>,
        detail: Option<&str>,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query(
                "UPDATE deployments SET status = $1, started_at = COALESCE($2, started_at), \
                 finished_at = COALESCE($3, finished_at), detail = COALESCE($4, detail) WHERE id = $5",
            )
            .bind(status)
            .bind(started_at)
            .bind(finished_at)
            .bind(detail)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        });
        Ok(appended)
    }

    /// Moves a deployment from status `from` to `to`, with its events, only
    /// if it is still in `from`; false (nothing written) otherwise. Two
    /// approvers finishing at once thus start one deployment, not two.
    pub async fn claim_deployment(
        &self,
        id: i64,
        from: &str,
        to: &str,
        (host, pid): (&str, i64),
        events: &[Event],
    ) -> Result<Option<Vec<AppendedEntry>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = with_tx!(&mut tx, conn => {
            sqlx::query("UPDATE deployments SET status = $1, host = $2, pid = $3 WHERE id = $4 AND status = $5")
                .bind(to)
                .bind(host)
                .bind(pid)
                .bind(id)
                .bind(from)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Ok(None);
        }
        let appended = tx.append(events).await?;
        tx.commit().await?;
        Ok(Some(appended))
    }

    /// Deployments running on `host`, with the pid of the process running them.
    pub async fn running_deployments(
        &self,
        host: &str,
    ) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let rows: Vec<(i64, Option<i64>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, pid FROM deployments WHERE status = 'running' AND host = $1 ORDER BY id")
                .bind(host)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Marks a running deployment interrupted, with its event; nothing
    /// (and no event) when it is no longer running.
    pub async fn mark_deployment_interrupted(
        &self,
        id: i64,
        at: &str,
        detail: &str,
        event: &Event,
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = with_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE deployments SET status = 'interrupted', finished_at = $1, detail = $2 WHERE id = $3 AND status = 'running'",
            )
            .bind(at)
            .bind(detail)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Ok(Vec::new());
        }
        let appended = tx.append(std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// One deployment, if it exists.
    pub async fn deployment(&self, id: i64) -> Result<Option<DeploymentRecord>, StoreError> {
        let sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1");
        let row: Option<DeploymentRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(deployment))
    }

    /// Deployments, oldest first; to one environment when `env` is given.
    pub async fn deployments(
        &self,
        env: Option<&str>,
    ) -> Result<Vec<DeploymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE ($1 IS NULL OR env = $1) ORDER BY id"
        );
        let rows: Vec<DeploymentRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(env).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(deployment).collect())
    }

    /// Records an approval with its events.
    pub async fn add_approval(
        &self,
        a: &ApprovalRecord,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query("INSERT INTO approvals (deployment_id, user_name, role, at) VALUES ($1, $2, $3, $4)")
                .bind(a.deployment_id)
                .bind(&a.user)
                .bind(&a.role)
                .bind(&a.at)
                .execute(&mut *conn)
                .await?;
        });
        Ok(appended)
    }

    /// The approvals of a deployment, in order.
    pub async fn approvals(&self, deployment_id: i64) -> Result<Vec<ApprovalRecord>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT deployment_id, user_name, role, at FROM approvals WHERE deployment_id = $1 ORDER BY at, user_name",
            )
            .bind(deployment_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(deployment_id, user, role, at)| ApprovalRecord {
                deployment_id,
                user,
                role,
                at,
            })
            .collect())
    }

    /// Creates or replaces a monitor, with its events.
    pub async fn put_monitor(
        &self,
        m: &MonitorRecord,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query(
                "INSERT INTO monitors (name, env, service, kind, target, interval_ms, timeout_ms, expect_status, expect_body, created_at, ca_file) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (name) DO UPDATE SET \
                 env = excluded.env, service = excluded.service, kind = excluded.kind, target = excluded.target, \
                 interval_ms = excluded.interval_ms, timeout_ms = excluded.timeout_ms, \
                 expect_status = excluded.expect_status, expect_body = excluded.expect_body, ca_file = excluded.ca_file",
            )
            .bind(&m.name)
            .bind(&m.env)
            .bind(&m.service)
            .bind(&m.kind)
            .bind(&m.target)
            .bind(m.interval_ms)
            .bind(m.timeout_ms)
            .bind(m.expect_status)
            .bind(&m.expect_body)
            .bind(&m.created_at)
            .bind(&m.ca_file)
            .execute(&mut *conn)
            .await?;
        });
        Ok(appended)
    }

    /// Every monitor, by name.
    pub async fn monitors(&self) -> Result<Vec<MonitorRecord>, StoreError> {
        let rows: Vec<MonitorRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, env, service, kind, target, interval_ms, timeout_ms, expect_status, expect_body, created_at, ca_file \
                 FROM monitors ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(monitor).collect())
    }

    /// Stores a probe result, with the events it causes (none for most samples).
    pub async fn add_sample(
        &self,
        s: &SampleRecord,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query("INSERT INTO samples (monitor, at, ok, latency_ms, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(&s.monitor)
                .bind(&s.at)
                .bind(i64::from(s.ok))
                .bind(s.latency_ms)
                .bind(&s.detail)
                .execute(&mut *conn)
                .await?;
        });
        Ok(appended)
    }

    /// Samples of the monitors of `env`/`service` (all when `None`) taken at or after `since`, oldest first.
    pub async fn samples(
        &self,
        env: Option<&str>,
        service: Option<&str>,
        since: &str,
    ) -> Result<Vec<SampleRecord>, StoreError> {
        let rows: Vec<(String, String, i64, i64, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.monitor, s.at, s.ok, s.latency_ms, s.detail FROM samples s JOIN monitors m ON m.name = s.monitor \
                 WHERE ($1 IS NULL OR m.env = $1) AND ($2 IS NULL OR m.service = $2) AND s.at >= $3 ORDER BY s.at, s.id",
            )
            .bind(env)
            .bind(service)
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(monitor, at, ok, latency_ms, detail)| SampleRecord {
                monitor,
                at,
                ok: ok != 0,
                latency_ms,
                detail,
            })
            .collect())
    }

    /// Creates or replaces an SLO, with its events.
    pub async fn put_slo(
        &self,
        s: &SloRecord,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query(
                "INSERT INTO slos (name, env, service, target, window_s, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (name) DO UPDATE SET env = excluded.env, service = excluded.service, \
                 target = excluded.target, window_s = excluded.window_s",
            )
            .bind(&s.name)
            .bind(&s.env)
            .bind(&s.service)
            .bind(&s.target)
            .bind(s.window_s)
            .bind(&s.created_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(appended)
    }

    /// Every SLO, by name.
    pub async fn slos(&self) -> Result<Vec<SloRecord>, StoreError> {
        let rows: Vec<(String, String, String, String, i64, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT name, env, service, target, window_s, created_at FROM slos ORDER BY name")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(name, env, service, target, window_s, created_at)| SloRecord {
                    name,
                    env,
                    service,
                    target,
                    window_s,
                    created_at,
                },
            )
            .collect())
    }

    /// Opens an incident unless one from the same source and key is open
    /// already; the events are built from the new id. `None` when one was open.
    pub async fn open_incident(
        &self,
        i: &NewIncident,
        first_entry: &str,
        make_events: impl FnOnce(i64) -> Vec<Event>,
    ) -> Result<Option<(i64, Vec<AppendedEntry>)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = with_tx!(&mut tx, conn => {
            let open: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM incidents WHERE status = 'open' AND source = $1 AND source_key = $2",
            )
            .bind(&i.source)
            .bind(&i.source_key)
            .fetch_optional(&mut *conn)
            .await?;
            if open.is_some() {
                None
            } else {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO incidents (env, service, source, source_key, severity, title, status, detected_at, deployment_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) RETURNING id",
                )
                .bind(&i.env)
                .bind(&i.service)
                .bind(&i.source)
                .bind(&i.source_key)
                .bind(&i.severity)
                .bind(&i.title)
                .bind(&i.detected_at)
                .bind(i.deployment_id)
                .fetch_one(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO incident_timeline (incident_id, entry_no, at, kind, text, actor) VALUES ($1, 1, $2, 'detected', $3, $4)",
                )
                .bind(id)
                .bind(&i.detected_at)
                .bind(first_entry)
                .bind(&i.actor)
                .execute(&mut *conn)
                .await?;
                Some(id)
            }
        });
        let Some(id) = id else {
            return Ok(None);
        };
        let appended = tx.append(&make_events(id)).await?;
        tx.commit().await?;
        Ok(Some((id, appended)))
    }

    /// The open incident from `source`/`key`, if any.
    pub async fn open_incident_for(
        &self,
        source: &str,
        key: &str,
    ) -> Result<Option<IncidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status = 'open' AND source = $1 AND source_key = $2"
        );
        let row: Option<IncidentRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(source).bind(key).fetch_optional(pool).await?
        });
        Ok(row.map(incident))
    }

    /// Resolves an open incident, with a timeline entry and its events;
    /// false (nothing written) when it is not open.
    pub async fn resolve_incident(
        &self,
        id: i64,
        at: &str,
        by: &str,
        text: &str,
        events: &[Event],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = with_tx!(&mut tx, conn => {
            let n = sqlx::query(
                "UPDATE incidents SET status = 'resolved', resolved_at = $1, resolved_by = $2 WHERE id = $3 AND status = 'open'",
            )
            .bind(at)
            .bind(by)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if n == 1 {
                insert_entry(&mut *conn, id, at, "resolved", text, by).await?;
            }
            n
        });
        if n == 0 {
            return Ok(false);
        }
        tx.append(events).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a note to an incident's timeline, with its events.
    pub async fn add_incident_note(
        &self,
        id: i64,
        at: &str,
        text: &str,
        actor: &str,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            insert_entry(&mut *conn, id, at, "note", text, actor).await?;
        });
        Ok(appended)
    }

    /// Incidents, newest first.
    pub async fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY id DESC");
        let rows: Vec<IncidentRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(incident).collect())
    }

    /// One incident and its timeline.
    pub async fn incident(
        &self,
        id: i64,
    ) -> Result<Option<(IncidentRecord, Vec<TimelineEntry>)>, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1");
        let row: Option<IncidentRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let entries: Vec<(String, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT at, kind, text, actor FROM incident_timeline WHERE incident_id = $1 ORDER BY entry_no")
                .bind(id)
                .fetch_all(pool)
                .await?
        });
        Ok(Some((
            incident(row),
            entries
                .into_iter()
                .map(|(at, kind, text, actor)| TimelineEntry {
                    at,
                    kind,
                    text,
                    actor,
                })
                .collect(),
        )))
    }
}

/// Appends a timeline entry numbered after the incident's last one.
async fn insert_entry<'c, C>(
    conn: C,
    id: i64,
    at: &str,
    kind: &str,
    text: &str,
    actor: &str,
) -> Result<(), sqlx::Error>
where
    C: sqlx::Executor<'c>,
    for<'q> <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
{
    sqlx::query(
        "INSERT INTO incident_timeline (incident_id, entry_no, at, kind, text, actor) \
         SELECT $1, COALESCE(MAX(entry_no), 0) + 1, $2, $3, $4, $5 FROM incident_timeline WHERE incident_id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(kind)
    .bind(text)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}
