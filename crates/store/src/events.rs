//! The event log tables: appending to the hash chain, reading it back, checkpoints.
//!
//! Appends serialise on one lock so that concurrent tasks and processes
//! extend a single gap-free chain: SQLite takes the write lock up front
//! (`BEGIN IMMEDIATE`), PostgreSQL a transaction-scoped advisory lock. Each
//! append is one transaction, so a process killed mid-way leaves either all
//! of a batch or none of it.

use dso_audit::{Checkpoint, Event, GENESIS_HASH, Hash, StoredEntry};
use sqlx::{QueryBuilder, Row};

use crate::{Store, StoreError, WriteTx, with_pool, with_tx};

/// Rows per INSERT statement; 11 parameters a row stays far below both
/// dialects' parameter limits.
const ROWS_PER_INSERT: usize = 400;

/// Where an appended event landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedEntry {
    pub seq: i64,
    pub id: String,
    pub hash: Hash,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Exact type, or a prefix when it ends in `*`.
    pub ty: Option<String>,
    pub subject: Option<String>,
    /// Only events at or after this RFC 3339 UTC time (fixed-width form).
    pub since: Option<String>,
    /// Only events with `seq` greater than this.
    pub after_seq: Option<i64>,
    pub limit: Option<i64>,
    pub newest_first: bool,
}

const COLUMNS: &str =
    "seq, id, source, type, subject, time, actor, actor_role, data, prev_hash, hash";

impl Store {
    /// Appends `events` to the chain in order, in one transaction.
    ///
    /// Returns where each landed. Errors leave the log unchanged.
    pub async fn append(&self, events: &[Event]) -> Result<Vec<AppendedEntry>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let appended = tx.append(events).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// The last entry's sequence number and stored hash, if the log is not empty.
    pub async fn head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let row: Option<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(HEAD_SQL)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Number of entries in the log.
    pub async fn count_events(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = with_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM events").fetch_one(pool).await?
        });
        Ok(n)
    }

    /// Lists entries matching `query`, oldest first unless `newest_first`.
    pub async fn events(&self, query: &EventQuery) -> Result<Vec<StoredEntry>, StoreError> {
        let build = |qb: &mut dyn FnMut(Clause)| {
            qb(Clause::Sql(format!(
                "SELECT {COLUMNS} FROM events WHERE 1 = 1"
            )));
            if let Some(ty) = &query.ty {
                match ty.strip_suffix('*') {
                    Some(prefix) => {
                        // NOTE: the length is a number we computed, safe to
                        // inline; bound, it would be a bigint that
                        // PostgreSQL's substr does not accept.
                        let n_chars = prefix.chars().count();
                        qb(Clause::Sql(format!(" AND substr(type, 1, {n_chars}) = ")));
                        qb(Clause::Text(prefix.to_owned()));
                    }
                    None => {
                        qb(Clause::Sql(" AND type = ".to_owned()));
                        qb(Clause::Text(ty.clone()));
                    }
                }
            }
            if let Some(subject) = &query.subject {
                qb(Clause::Sql(" AND subject = ".to_owned()));
                qb(Clause::Text(subject.clone()));
            }
            if let Some(since) = &query.since {
                qb(Clause::Sql(" AND time >= ".to_owned()));
                qb(Clause::Text(since.clone()));
            }
            if let Some(after) = query.after_seq {
                qb(Clause::Sql(" AND seq > ".to_owned()));
                qb(Clause::Int(after));
            }
            let order = if query.newest_first {
                " ORDER BY seq DESC"
            } else {
                " ORDER BY seq ASC"
            };
            qb(Clause::Sql(order.to_owned()));
            if let Some(limit) = query.limit {
                qb(Clause::Sql(" LIMIT ".to_owned()));
                qb(Clause::Int(limit.max(0)));
            }
        };
        let rows = with_pool!(self, pool => {
            let mut qb = QueryBuilder::new("");
            build(&mut |clause| match clause {
                Clause::Sql(sql) => {
                    qb.push(sql);
                }
                Clause::Text(text) => {
                    qb.push_bind(text);
                }
                Clause::Int(n) => {
                    qb.push_bind(n);
                }
            });
            qb.build().fetch_all(pool).await?.iter().map(entry_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Stores a signed checkpoint; a second one for the same entry is ignored.
    pub async fn add_checkpoint(&self, cp: &Checkpoint) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO checkpoints (seq, hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (seq) DO NOTHING",
            )
            .bind(cp.seq)
            .bind(&cp.hash)
            .bind(&cp.time)
            .bind(&cp.key_id)
            .bind(&cp.signature)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every checkpoint, by ascending `seq`.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<(i64, String, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT seq, hash, time, key_id, signature FROM checkpoints ORDER BY seq")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(seq, hash, time, key_id, signature)| Checkpoint {
                seq,
                hash,
                time,
                key_id,
                signature,
            })
            .collect())
    }
}

/// One piece of a dynamically built query, bound per dialect.
enum Clause {
    Sql(String),
    Text(String),
    Int(i64),
}

const HEAD_SQL: &str = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";

fn parse_head(row: Option<(i64, String)>) -> Result<(i64, Hash), StoreError> {
    match row {
        None => Ok((0, GENESIS_HASH)),
        Some((seq, hash)) => {
            // NOTE: appending after an entry whose stored hash is not
            // hex would bury the damage; refuse instead.
            let hash = dso_audit::chain::parse_hash(&hash).ok_or_else(|| {
                StoreError::Sql(sqlx::Error::Protocol(format!(
                    "the stored hash of entry {seq} is malformed; run `dso audit verify`"
                )))
            })?;
            Ok((seq, hash))
        }
    }
}

fn link_all(
    (mut seq, mut prev): (i64, Hash),
    events: &[Event],
) -> (Vec<StoredEntry>, Vec<AppendedEntry>) {
    let mut rows = Vec::with_capacity(events.len());
    let mut appended = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let (row, hash) = StoredEntry::link(seq, &prev, event);
        appended.push(AppendedEntry {
            seq,
            id: row.id.clone(),
            hash,
        });
        rows.push(row);
        prev = hash;
    }
    (rows, appended)
}

fn insert_rows<'a, DB>(rows: &'a [StoredEntry]) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("INSERT INTO events ({COLUMNS}) "));
    qb.push_values(rows, |mut b, row| {
        b.push_bind(row.seq)
            .push_bind(row.id.as_str())
            .push_bind(row.source.as_str())
            .push_bind(row.ty.as_str())
            .push_bind(row.subject.as_deref())
            .push_bind(row.time.as_str())
            .push_bind(row.actor.as_str())
            .push_bind(row.actor_role.as_deref())
            .push_bind(row.data.as_str())
            .push_bind(row.prev_hash.as_str())
            .push_bind(row.hash.as_str());
    });
    qb
}

fn entry_from_row<R>(row: &R) -> Result<StoredEntry, sqlx::Error>
where
    R: Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    Ok(StoredEntry {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        ty: row.try_get("type")?,
        subject: row.try_get("subject")?,
        time: row.try_get("time")?,
        actor: row.try_get("actor")?,
        actor_role: row.try_get("actor_role")?,
        data: row.try_get("data")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl WriteTx {
    /// Appends `events` to the chain inside this transaction.
    ///
    /// The append lock is already held, so the head read here stays the head
    /// until commit.
    pub async fn append(&mut self, events: &[Event]) -> Result<Vec<AppendedEntry>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        with_tx!(self, conn => {
            let head = parse_head(sqlx::query_as(HEAD_SQL).fetch_optional(&mut *conn).await?)?;
            let (rows, appended) = link_all(head, events);
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                insert_rows(chunk).build().execute(&mut *conn).await?;
            }
            Ok(appended)
        })
    }
}
