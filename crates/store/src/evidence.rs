//! A run's security evidence and the gate decisions over it: which findings
//! each job saw (`run_findings`), the SBOMs the run produced (`run_sboms`),
//! and every policy gate decision (`gate_decisions`).
//!
//! The findings themselves, with their triage state, live in the findings
//! table ([`crate::FindingRow`]); a run only records that it saw them.

use sqlx::Row;

use crate::assurance::{FINDING_COLUMNS, finding_from_row};
use crate::{FindingRow, Store, StoreError, WriteTx, with_pool, with_tx};

/// One SBOM document a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSbomRecord {
    pub run_id: i64,
    /// The job's index in the run.
    pub idx: i64,
    /// The report path, or the file name the step wrote.
    pub name: String,
    /// `cyclonedx-json` or `spdx-json`.
    pub format: String,
    /// Hex SHA-256 of `document`.
    pub sha256: String,
    pub components: i64,
    pub document: String,
}

/// A gate decision to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGateDecision {
    pub subject: String,
    pub run_id: Option<i64>,
    /// `allow` or `deny`.
    pub decision: String,
    /// JSON list of violations.
    pub violations: String,
    /// JSON list of policy names.
    pub policies: String,
    /// JSON of the evaluated input document.
    pub input: String,
    pub evaluated_at: String,
    pub actor: String,
}

/// A stored gate decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateDecisionRecord {
    pub id: i64,
    pub decision: NewGateDecision,
}

const GATE_COLUMNS: &str =
    "id, subject, run_id, decision, violations, policies, input, evaluated_at, actor";

fn gate_from_row<R>(row: &R) -> Result<GateDecisionRecord, sqlx::Error>
where
    R: Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    Ok(GateDecisionRecord {
        id: row.try_get("id")?,
        decision: NewGateDecision {
            subject: row.try_get("subject")?,
            run_id: row.try_get("run_id")?,
            decision: row.try_get("decision")?,
            violations: row.try_get("violations")?,
            policies: row.try_get("policies")?,
            input: row.try_get("input")?,
            evaluated_at: row.try_get("evaluated_at")?,
            actor: row.try_get("actor")?,
        },
    })
}

impl WriteTx {
    /// Records that job `idx` of run `run_id` saw these findings (which
    /// must exist); seeing one twice is recorded once.
    pub async fn link_run_findings(
        &mut self,
        run_id: i64,
        idx: i64,
        finding_ids: &[String],
    ) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            for id in finding_ids {
                sqlx::query(
                    "INSERT INTO run_findings (run_id, idx, finding_id) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(run_id)
                .bind(idx)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
        });
        Ok(())
    }

    /// Stores an SBOM a run produced, replacing one of the same job and name.
    pub async fn put_run_sbom(&mut self, sbom: &RunSbomRecord) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO run_sboms (run_id, idx, name, format, sha256, components, document) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (run_id, idx, name) DO UPDATE SET format = excluded.format, \
                 sha256 = excluded.sha256, components = excluded.components, document = excluded.document",
            )
            .bind(sbom.run_id)
            .bind(sbom.idx)
            .bind(&sbom.name)
            .bind(&sbom.format)
            .bind(&sbom.sha256)
            .bind(sbom.components)
            .bind(&sbom.document)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Stores a gate decision; returns its id.
    pub async fn add_gate_decision(&mut self, d: &NewGateDecision) -> Result<i64, StoreError> {
        let id: i64 = with_tx!(self, conn => {
            sqlx::query_scalar(
                "INSERT INTO gate_decisions (subject, run_id, decision, violations, policies, input, evaluated_at, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&d.subject)
            .bind(d.run_id)
            .bind(&d.decision)
            .bind(&d.violations)
            .bind(&d.policies)
            .bind(&d.input)
            .bind(&d.evaluated_at)
            .bind(&d.actor)
            .fetch_one(&mut *conn)
            .await?
        });
        Ok(id)
    }
}

impl Store {
    /// The findings run `run_id` saw, each with the index of the job that
    /// saw it (a finding seen by two jobs comes twice), in job order.
    pub async fn run_findings(&self, run_id: i64) -> Result<Vec<(i64, FindingRow)>, StoreError> {
        let rows = with_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT idx, {FINDING_COLUMNS} FROM run_findings JOIN findings ON finding_id = id \
                 WHERE run_id = $1 ORDER BY idx, id"
            )))
            .bind(run_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>("idx")?, finding_from_row(row)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    /// The SBOMs run `run_id` produced, in job order.
    pub async fn run_sboms(&self, run_id: i64) -> Result<Vec<RunSbomRecord>, StoreError> {
        let rows: Vec<(i64, i64, String, String, String, i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT run_id, idx, name, format, sha256, components, document FROM run_sboms \
                 WHERE run_id = $1 ORDER BY idx, name",
            )
            .bind(run_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(run_id, idx, name, format, sha256, components, document)| RunSbomRecord {
                    run_id,
                    idx,
                    name,
                    format,
                    sha256,
                    components,
                    document,
                },
            )
            .collect())
    }

    /// Gate decisions, newest first: those about run `run_id`, or all.
    pub async fn gate_decisions(
        &self,
        run_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<GateDecisionRecord>, StoreError> {
        let rows = with_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {GATE_COLUMNS} FROM gate_decisions"));
            if let Some(run_id) = run_id {
                qb.push(" WHERE run_id = ").push_bind(run_id);
            }
            qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit.max(0));
            qb.build().fetch_all(pool).await?.iter().map(gate_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// One gate decision.
    pub async fn gate_decision(&self, id: i64) -> Result<Option<GateDecisionRecord>, StoreError> {
        let row = with_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {GATE_COLUMNS} FROM gate_decisions WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(gate_from_row)
                .transpose()?
        });
        Ok(row)
    }
}
