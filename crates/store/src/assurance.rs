//! The assurance tables: advisory records, merged advisories with their
//! alias and package indexes, and the findings store.
//!
//! Rows carry their normalised content as JSON text (`data`); the other
//! columns are what queries filter and sort on. Writes happen inside a
//! [`WriteTx`] so that each state change lands with its event.

use sqlx::{QueryBuilder, Row};

use crate::{Store, StoreError, WriteTx, with_pool, with_tx};

/// Rows per multi-row INSERT (at most 5 parameters a row).
const ROWS_PER_INSERT: usize = 1000;
/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;
/// Between the JSON documents of one aggregated row (see `advisories_by_ids`).
const RECORD_SEPARATOR: &str = "\u{1e}";

/// The advisories of one ecosystem by package name, as stored: read
/// without a string per entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageIndex {
    /// `name<TAB>advisory id` lines.
    text: String,
}

impl PackageIndex {
    /// `(normalised name, advisory id)` pairs.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.text.lines().filter_map(|l| l.split_once('\t'))
    }
}

/// One imported advisory record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryRecordRow {
    pub id: String,
    pub source: String,
    pub data: String,
}

/// One merged advisory with its index entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryRow {
    pub id: String,
    pub severity: String,
    pub summary: String,
    pub modified: Option<String>,
    pub data: String,
    /// `data` without the prose a scan does not need.
    pub matching: String,
    /// Every id of the group, the primary one included.
    pub aliases: Vec<String>,
    /// (ecosystem, normalised name)
    pub packages: Vec<(String, String)>,
}

/// An advisory source `dso advisories sync` fetched: the validators the
/// server sent (for the next conditional GET) and the digest imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorySourceRow {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: String,
    pub bytes: i64,
    pub fetched_at: String,
}

/// One finding and its triage state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub id: String,
    pub fingerprint: String,
    pub scope: String,
    pub scanner: String,
    pub rule: String,
    pub severity: String,
    pub status: String,
    pub file: Option<String>,
    pub line: Option<i64>,
    pub title: String,
    pub first_seen: String,
    pub last_seen: String,
    pub justification: Option<String>,
    pub approver: Option<String>,
    pub expires: Option<String>,
    pub data: String,
}

/// Which findings to list.
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    pub scope: Option<String>,
    pub status: Option<String>,
    pub scanner: Option<String>,
    pub limit: Option<i64>,
}

pub(crate) const FINDING_COLUMNS: &str = "id, fingerprint, scope, scanner, rule, severity, status, file, line, title, \
     first_seen, last_seen, justification, approver, expires, data";

pub(crate) fn finding_from_row<R>(row: &R) -> Result<FindingRow, sqlx::Error>
where
    R: Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    Ok(FindingRow {
        id: row.try_get("id")?,
        fingerprint: row.try_get("fingerprint")?,
        scope: row.try_get("scope")?,
        scanner: row.try_get("scanner")?,
        rule: row.try_get("rule")?,
        severity: row.try_get("severity")?,
        status: row.try_get("status")?,
        file: row.try_get("file")?,
        line: row.try_get("line")?,
        title: row.try_get("title")?,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        justification: row.try_get("justification")?,
        approver: row.try_get("approver")?,
        expires: row.try_get("expires")?,
        data: row.try_get("data")?,
    })
}

impl Store {
    /// Every imported advisory record's JSON.
    pub async fn advisory_records(&self) -> Result<Vec<AdvisoryRecordRow>, StoreError> {
        let rows: Vec<(String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, source, data FROM advisory_records ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, source, data)| AdvisoryRecordRow { id, source, data })
            .collect())
    }

    /// What the last sync of `url` fetched, if it was ever synced.
    pub async fn advisory_source(
        &self,
        url: &str,
    ) -> Result<Option<AdvisorySourceRow>, StoreError> {
        type Row = (String, Option<String>, Option<String>, String, i64, String);
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT url, etag, last_modified, sha256, bytes, fetched_at \
                 FROM advisory_sources WHERE url = $1",
            )
            .bind(url)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(
            |(url, etag, last_modified, sha256, bytes, fetched_at)| AdvisorySourceRow {
                url,
                etag,
                last_modified,
                sha256,
                bytes,
                fetched_at,
            },
        ))
    }

    /// Number of merged advisories.
    pub async fn count_advisories(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = with_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM advisories").fetch_one(pool).await?
        });
        Ok(n)
    }

    /// The merged advisory that has `id` among its ids (primary or alias).
    pub async fn advisory_by_any_id(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT a.data FROM advisory_aliases x JOIN advisories a ON a.id = x.advisory_id \
                 WHERE x.alias = $1 ORDER BY a.id LIMIT 1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(d,)| d))
    }

    /// The package index of `ecosystem`, read from its one row.
    pub async fn advisory_package_index(
        &self,
        ecosystem: &str,
    ) -> Result<PackageIndex, StoreError> {
        let row: Option<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT entries FROM advisory_index WHERE ecosystem = $1")
                .bind(ecosystem)
                .fetch_optional(pool)
                .await?
        });
        Ok(PackageIndex {
            text: row.map(|(text,)| text).unwrap_or_default(),
        })
    }

    /// The matching JSON (no prose) of the merged advisories with these
    /// ids, in id order.
    ///
    /// Each chunk of ids comes back as one row, the documents joined by the
    /// ASCII record separator (U+001E, which JSON text cannot contain
    /// unescaped; RFC 7464 separates JSON texts with it): a row costs a
    /// message from SQLite's connection thread, and a scan reads hundreds
    /// of advisories.
    pub async fn advisories_by_ids(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let joined: Option<String> = with_pool!(self, pool => {
                let mut qb = QueryBuilder::new("SELECT string_agg(matching, ");
                qb.push_bind(RECORD_SEPARATOR);
                qb.push(" ORDER BY id) FROM advisories WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.as_str());
                }
                qb.push(")");
                qb.build().fetch_one(pool).await?.try_get::<Option<String>, _>(0)?
            });
            out.extend(
                joined
                    .iter()
                    .flat_map(|j| j.split(RECORD_SEPARATOR))
                    .map(str::to_owned),
            );
        }
        Ok(out)
    }

    /// Findings matching `query`, most severe and newest first.
    pub async fn findings(&self, query: &FindingQuery) -> Result<Vec<FindingRow>, StoreError> {
        let rows = with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {FINDING_COLUMNS} FROM findings WHERE 1 = 1"));
            if let Some(scope) = &query.scope {
                qb.push(" AND scope = ").push_bind(scope.clone());
            }
            if let Some(status) = &query.status {
                qb.push(" AND status = ").push_bind(status.clone());
            }
            if let Some(scanner) = &query.scanner {
                qb.push(" AND scanner = ").push_bind(scanner.clone());
            }
            qb.push(" ORDER BY first_seen DESC, id ASC");
            if let Some(limit) = query.limit {
                qb.push(" LIMIT ").push_bind(limit.max(0));
            }
            qb.build().fetch_all(pool).await?.iter().map(finding_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// The finding with this id, or the only one whose id starts with it.
    pub async fn finding(&self, id: &str) -> Result<Option<FindingRow>, StoreError> {
        let pattern = format!("{}%", id.replace(['%', '_'], ""));
        let rows = with_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id = $1 OR id LIKE $2 ORDER BY id LIMIT 2")))
                .bind(id)
                .bind(&pattern)
                .fetch_all(pool)
                .await?
                .iter()
                .map(finding_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        if let Some(exact) = rows.iter().find(|r| r.id == id) {
            return Ok(Some(exact.clone()));
        }
        Ok(if rows.len() == 1 {
            rows.into_iter().next()
        } else {
            None
        })
    }
}

impl Store {
    /// Every stored VEX statement's JSON.
    pub async fn vex_statements(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT data FROM vex_statements ORDER BY vulnerability, product")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(d,)| d).collect())
    }
}

/// One VEX statement about one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexRow {
    pub vulnerability: String,
    pub product: String,
    pub status: String,
    pub source: String,
    pub data: String,
}

impl WriteTx {
    /// Inserts VEX statements; a later statement on the same
    /// (vulnerability, product) replaces the earlier one.
    pub async fn put_vex_statements(&mut self, rows: &[VexRow]) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            for r in rows {
                sqlx::query(
                    "INSERT INTO vex_statements (vulnerability, product, status, source, data) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vulnerability, product) DO UPDATE \
                     SET status = excluded.status, source = excluded.source, data = excluded.data",
                )
                .bind(&r.vulnerability)
                .bind(&r.product)
                .bind(&r.status)
                .bind(&r.source)
                .bind(&r.data)
                .execute(&mut *conn)
                .await?;
            }
        });
        Ok(())
    }

    /// Records what a sync of `row.url` fetched (replacing the last one).
    pub async fn put_advisory_source(&mut self, row: &AdvisorySourceRow) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO advisory_sources (url, etag, last_modified, sha256, bytes, fetched_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (url) DO UPDATE \
                 SET etag = excluded.etag, last_modified = excluded.last_modified, \
                 sha256 = excluded.sha256, bytes = excluded.bytes, fetched_at = excluded.fetched_at",
            )
            .bind(&row.url)
            .bind(&row.etag)
            .bind(&row.last_modified)
            .bind(&row.sha256)
            .bind(row.bytes)
            .bind(&row.fetched_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Inserts or replaces advisory records; deletes the `withdrawn` ids.
    pub async fn put_advisory_records(
        &mut self,
        records: &[AdvisoryRecordRow],
        withdrawn: &[String],
    ) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            for chunk in withdrawn.chunks(IDS_PER_QUERY) {
                let mut qb = QueryBuilder::new("DELETE FROM advisory_records WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.as_str());
                }
                qb.push(")");
                qb.build().execute(&mut *conn).await?;
            }
            for chunk in records.chunks(ROWS_PER_INSERT) {
                let mut qb = QueryBuilder::new("INSERT INTO advisory_records (id, source, data) ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id.as_str()).push_bind(r.source.as_str()).push_bind(r.data.as_str());
                });
                qb.push(" ON CONFLICT (id) DO UPDATE SET source = excluded.source, data = excluded.data");
                qb.build().execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// Replaces the whole merged view (advisories, aliases, package index).
    pub async fn replace_advisories(&mut self, rows: &[AdvisoryRow]) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM advisory_packages").execute(&mut *conn).await?;
            sqlx::query("DELETE FROM advisory_index").execute(&mut *conn).await?;
            sqlx::query("DELETE FROM advisory_aliases").execute(&mut *conn).await?;
            sqlx::query("DELETE FROM advisories").execute(&mut *conn).await?;
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut qb = QueryBuilder::new("INSERT INTO advisories (id, severity, summary, modified, data, matching) ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id.as_str())
                        .push_bind(r.severity.as_str())
                        .push_bind(r.summary.as_str())
                        .push_bind(r.modified.as_deref())
                        .push_bind(r.data.as_str())
                        .push_bind(r.matching.as_str());
                });
                qb.build().execute(&mut *conn).await?;
            }
            let aliases: Vec<(&str, &str)> = rows
                .iter()
                .flat_map(|r| {
                    let mut ids: Vec<&str> = r.aliases.iter().map(String::as_str).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids.into_iter().map(move |a| (a, r.id.as_str()))
                })
                .collect();
            for chunk in aliases.chunks(ROWS_PER_INSERT) {
                let mut qb = QueryBuilder::new("INSERT INTO advisory_aliases (alias, advisory_id) ");
                qb.push_values(chunk, |mut b, (alias, id)| {
                    b.push_bind(*alias).push_bind(*id);
                });
                qb.build().execute(&mut *conn).await?;
            }
            let packages: Vec<(&str, &str, &str)> = rows
                .iter()
                .flat_map(|r| {
                    let mut p: Vec<(&str, &str)> =
                        r.packages.iter().map(|(e, n)| (e.as_str(), n.as_str())).collect();
                    p.sort_unstable();
                    p.dedup();
                    p.into_iter().map(move |(e, n)| (e, n, r.id.as_str()))
                })
                .collect();
            let mut blobs: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
            for (e, n, id) in &packages {
                let blob = blobs.entry(*e).or_default();
                blob.push_str(n);
                blob.push('\t');
                blob.push_str(id);
                blob.push('\n');
            }
            for (e, blob) in &blobs {
                sqlx::query("INSERT INTO advisory_index (ecosystem, entries) VALUES ($1, $2)")
                    .bind(*e)
                    .bind(blob.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
            for chunk in packages.chunks(ROWS_PER_INSERT) {
                let mut qb = QueryBuilder::new("INSERT INTO advisory_packages (ecosystem, name, advisory_id) ");
                qb.push_values(chunk, |mut b, (e, n, id)| {
                    b.push_bind(*e).push_bind(*n).push_bind(*id);
                });
                qb.build().execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// Inserts a finding or replaces the row with the same id.
    pub async fn put_finding(&mut self, f: &FindingRow) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO findings ({FINDING_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, scanner = excluded.scanner, \
                 rule = excluded.rule, severity = excluded.severity, status = excluded.status, \
                 file = excluded.file, line = excluded.line, title = excluded.title, \
                 last_seen = excluded.last_seen, justification = excluded.justification, \
                 approver = excluded.approver, expires = excluded.expires, data = excluded.data"
            )))
            .bind(&f.id)
            .bind(&f.fingerprint)
            .bind(&f.scope)
            .bind(&f.scanner)
            .bind(&f.rule)
            .bind(&f.severity)
            .bind(&f.status)
            .bind(&f.file)
            .bind(f.line)
            .bind(&f.title)
            .bind(&f.first_seen)
            .bind(&f.last_seen)
            .bind(&f.justification)
            .bind(&f.approver)
            .bind(&f.expires)
            .bind(&f.data)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }
}
