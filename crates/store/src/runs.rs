//! Pipeline runs, their jobs, logs and artifacts, and the secret store.
//!
//! Every change here is written together with the event that records it
//! (see `tx.rs`); the functions take those events ready-made from the app
//! layer, except [`Store::create_run`], whose event needs the new run's id.

use dso_audit::Event;
use sqlx::Row;

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

/// A run about to be queued, with its jobs.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub repo: String,
    pub git_ref: String,
    pub commit_sha: String,
    pub commit_author: String,
    pub commit_time: String,
    pub commit_message: String,
    pub backlog_keys: Vec<String>,
    pub pipeline_file: String,
    pub queued_at: String,
    pub actor: String,
    pub host: String,
    pub pid: Option<i64>,
    pub jobs: Vec<NewRunJob>,
}

#[derive(Debug, Clone)]
pub struct NewRunJob {
    pub idx: i64,
    pub name: String,
    pub activity: String,
    pub needs: Vec<String>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: i64,
    pub repo: String,
    pub git_ref: String,
    pub commit_sha: String,
    pub commit_author: String,
    pub commit_time: String,
    pub commit_message: String,
    pub backlog_keys: Vec<String>,
    pub status: String,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub actor: String,
    pub host: String,
    pub pid: Option<i64>,
}

/// A stored job of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunJobRecord {
    pub run_id: i64,
    pub idx: i64,
    pub name: String,
    pub activity: String,
    pub needs: Vec<String>,
    pub status: String,
    pub exit_code: Option<i64>,
    pub attempts: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub detail: Option<String>,
}

/// The new state of a job.
#[derive(Debug, Clone, Default)]
pub struct JobUpdate {
    pub status: String,
    pub exit_code: Option<i64>,
    pub attempts: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub detail: Option<String>,
}

/// One attempt's stored log.
#[derive(Debug, Clone)]
pub struct JobLog {
    pub attempt: i64,
    /// gzip of the masked log.
    pub data: Vec<u8>,
    pub n_lines: i64,
    pub n_bytes: i64,
}

/// An artifact kept by a job, by content address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRecord {
    pub run_id: i64,
    pub idx: i64,
    pub path: String,
    pub sha256: String,
    pub size: i64,
}

/// A stored, encrypted secret.
#[derive(Debug, Clone)]
pub struct SecretRecord {
    pub name: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub updated_at: String,
}

const RUN_COLUMNS: &str = "id, repo, git_ref, commit_sha, commit_author, commit_time, commit_message, backlog_keys, \
                           status, queued_at, started_at, finished_at, actor, host, pid";
const JOB_COLUMNS: &str = "run_id, idx, name, activity, needs, status, exit_code, attempts, started_at, finished_at, duration_ms, detail";

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

fn parse_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Store {
    /// Stores a queued run and its pending jobs, with the event `make_event`
    /// builds from the new run's id. Returns the id.
    pub async fn create_run(
        &self,
        run: &NewRun,
        make_event: impl FnOnce(i64) -> Event,
    ) -> Result<(i64, Vec<AppendedEntry>), StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = with_tx!(&mut tx, conn => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO runs (repo, git_ref, commit_sha, commit_author, commit_time, commit_message, backlog_keys, \
                 pipeline_file, status, queued_at, actor, host, pid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11, $12) RETURNING id",
            )
            .bind(&run.repo)
            .bind(&run.git_ref)
            .bind(&run.commit_sha)
            .bind(&run.commit_author)
            .bind(&run.commit_time)
            .bind(&run.commit_message)
            .bind(json_list(&run.backlog_keys))
            .bind(&run.pipeline_file)
            .bind(&run.queued_at)
            .bind(&run.actor)
            .bind(&run.host)
            .bind(run.pid)
            .fetch_one(&mut *conn)
            .await?;
            for job in &run.jobs {
                sqlx::query(
                    "INSERT INTO run_jobs (run_id, idx, name, activity, needs, status, attempts) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', 0)",
                )
                .bind(id)
                .bind(job.idx)
                .bind(&job.name)
                .bind(&job.activity)
                .bind(json_list(&job.needs))
                .execute(&mut *conn)
                .await?;
            }
            id
        });
        let appended = tx.append(&[make_event(id)]).await?;
        tx.commit().await?;
        Ok((id, appended))
    }

    /// Sets a run's status (and start or finish time), with its events.
    pub async fn set_run_status(
        &self,
        id: i64,
        status: &str,
        started_at: Option<&str>,
        finished_at: Option<&str>,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query(
                "UPDATE runs SET status = $1, started_at = COALESCE($2, started_at), \
                 finished_at = COALESCE($3, finished_at) WHERE id = $4",
            )
            .bind(status)
            .bind(started_at)
            .bind(finished_at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        });
        Ok(appended)
    }

    /// Updates a job, stores an attempt's log if given, with its events.
    pub async fn update_job(
        &self,
        run_id: i64,
        idx: i64,
        update: &JobUpdate,
        log: Option<&JobLog>,
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            sqlx::query(
                "UPDATE run_jobs SET status = $1, exit_code = $2, attempts = $3, \
                 started_at = COALESCE($4, started_at), finished_at = $5, duration_ms = $6, detail = $7 \
                 WHERE run_id = $8 AND idx = $9",
            )
            .bind(&update.status)
            .bind(update.exit_code)
            .bind(update.attempts)
            .bind(&update.started_at)
            .bind(&update.finished_at)
            .bind(update.duration_ms)
            .bind(&update.detail)
            .bind(run_id)
            .bind(idx)
            .execute(&mut *conn)
            .await?;
            if let Some(log) = log {
                sqlx::query(
                    "INSERT INTO job_logs (run_id, idx, attempt, data, n_lines, n_bytes) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(run_id)
                .bind(idx)
                .bind(log.attempt)
                .bind(&log.data)
                .bind(log.n_lines)
                .bind(log.n_bytes)
                .execute(&mut *conn)
                .await?;
            }
        });
        Ok(appended)
    }

    /// Records artifacts kept by a job, with their events.
    pub async fn add_artifacts(
        &self,
        artifacts: &[ArtifactRecord],
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, events, conn => {
            for a in artifacts {
                sqlx::query(
                    "INSERT INTO artifacts (run_id, idx, path, sha256, size) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (run_id, idx, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
                )
                .bind(a.run_id)
                .bind(a.idx)
                .bind(&a.path)
                .bind(&a.sha256)
                .bind(a.size)
                .execute(&mut *conn)
                .await?;
            }
        });
        Ok(appended)
    }

    /// Runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1");
        let rows = with_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await?.iter().map(run_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// One run, if it exists.
    pub async fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
        let row = with_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?.as_ref().map(run_from_row).transpose()?
        });
        Ok(row)
    }

    /// The pipeline file a run ran.
    pub async fn run_pipeline_file(&self, id: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT pipeline_file FROM runs WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(|(f,)| f))
    }

    /// The jobs of a run, in pipeline order.
    pub async fn run_jobs(&self, run_id: i64) -> Result<Vec<RunJobRecord>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM run_jobs WHERE run_id = $1 ORDER BY idx");
        let rows = with_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_all(pool).await?.iter().map(job_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Every attempt's log of a job, by attempt.
    pub async fn job_logs(&self, run_id: i64, idx: i64) -> Result<Vec<JobLog>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT attempt, data, n_lines, n_bytes FROM job_logs WHERE run_id = $1 AND idx = $2 ORDER BY attempt")
                .bind(run_id)
                .bind(idx)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(attempt, data, n_lines, n_bytes)| JobLog {
                attempt,
                data,
                n_lines,
                n_bytes,
            })
            .collect())
    }

    /// The artifacts of a run, by job and path.
    pub async fn artifacts(&self, run_id: i64) -> Result<Vec<ArtifactRecord>, StoreError> {
        let rows: Vec<(i64, i64, String, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT run_id, idx, path, sha256, size FROM artifacts WHERE run_id = $1 ORDER BY idx, path")
                .bind(run_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(run_id, idx, path, sha256, size)| ArtifactRecord {
                run_id,
                idx,
                path,
                sha256,
                size,
            })
            .collect())
    }

    /// Runs still queued or running that were started on `host`, with their pid.
    /// Whether any run or deployment of `host` is unfinished: one query that
    /// lets every command skip [`Store::unfinished_runs`] and
    /// [`Store::running_deployments`] when, as almost always, nothing is.
    pub async fn has_unfinished_work(&self, host: &str) -> Result<bool, StoreError> {
        let (any,): (bool,) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT (EXISTS (SELECT 1 FROM runs WHERE status IN ('queued', 'running') AND host = $1) \
                 OR EXISTS (SELECT 1 FROM deployments WHERE status = 'running' AND host = $1))",
            )
            .bind(host)
            .fetch_one(pool)
            .await?
        });
        Ok(any)
    }

    pub async fn unfinished_runs(&self, host: &str) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let rows: Vec<(i64, Option<i64>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, pid FROM runs WHERE status IN ('queued', 'running') AND host = $1 ORDER BY id")
                .bind(host)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Marks an unfinished run and its unfinished jobs interrupted, with its
    /// event. Does nothing (and appends nothing) if the run already finished.
    pub async fn mark_interrupted(
        &self,
        id: i64,
        at: &str,
        event: &Event,
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = with_tx!(&mut tx, conn => {
            let res = sqlx::query(
                "UPDATE runs SET status = 'interrupted', finished_at = $1 WHERE id = $2 AND status IN ('queued', 'running')",
            )
            .bind(at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE run_jobs SET status = 'cancelled', detail = 'the run was interrupted' \
                 WHERE run_id = $1 AND status IN ('pending', 'running')",
            )
            .bind(id)
            .execute(&mut *conn)
            .await?;
            res.rows_affected()
        });
        if changed == 0 {
            return Ok(Vec::new());
        }
        let appended = tx.append(std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// Stores or replaces a secret, with its event.
    pub async fn put_secret(
        &self,
        secret: &SecretRecord,
        event: &Event,
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let ((), appended) = write_with_events!(self, std::slice::from_ref(event), conn => {
            sqlx::query(
                "INSERT INTO secrets (name, nonce, ciphertext, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, \
                 updated_at = excluded.updated_at",
            )
            .bind(&secret.name)
            .bind(&secret.nonce)
            .bind(&secret.ciphertext)
            .bind(&secret.updated_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(appended)
    }

    /// Every stored secret (still encrypted), by name.
    pub async fn secrets(&self) -> Result<Vec<SecretRecord>, StoreError> {
        let rows: Vec<(String, Vec<u8>, Vec<u8>, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT name, nonce, ciphertext, updated_at FROM secrets ORDER BY name").fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(name, nonce, ciphertext, updated_at)| SecretRecord {
                name,
                nonce,
                ciphertext,
                updated_at,
            })
            .collect())
    }

    /// Deletes a secret, with its event; false (and no event) when absent.
    pub async fn delete_secret(&self, name: &str, event: &Event) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = with_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM secrets WHERE name = $1").bind(name).execute(&mut *conn).await?.rows_affected()
        });
        if n == 0 {
            return Ok(false);
        }
        tx.append(std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(true)
    }
}

fn run_from_row<R>(row: &R) -> Result<RunRecord, sqlx::Error>
where
    R: Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    Ok(RunRecord {
        id: row.try_get("id")?,
        repo: row.try_get("repo")?,
        git_ref: row.try_get("git_ref")?,
        commit_sha: row.try_get("commit_sha")?,
        commit_author: row.try_get("commit_author")?,
        commit_time: row.try_get("commit_time")?,
        commit_message: row.try_get("commit_message")?,
        backlog_keys: parse_list(&row.try_get::<String, _>("backlog_keys")?),
        status: row.try_get("status")?,
        queued_at: row.try_get("queued_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        actor: row.try_get("actor")?,
        host: row.try_get("host")?,
        pid: row.try_get("pid")?,
    })
}

fn job_from_row<R>(row: &R) -> Result<RunJobRecord, sqlx::Error>
where
    R: Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    Ok(RunJobRecord {
        run_id: row.try_get("run_id")?,
        idx: row.try_get("idx")?,
        name: row.try_get("name")?,
        activity: row.try_get("activity")?,
        needs: parse_list(&row.try_get::<String, _>("needs")?),
        status: row.try_get("status")?,
        exit_code: row.try_get("exit_code")?,
        attempts: row.try_get("attempts")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        duration_ms: row.try_get("duration_ms")?,
        detail: row.try_get("detail")?,
    })
}
