//! Write transactions: a state change and the event that records it, together.
//!
//! Every state-changing use case appends its event in the same transaction
//! as the change, so the log never misses a change and never records one
//! that was rolled back. [`Store::begin_write`] takes the append lock first
//! (SQLite `BEGIN IMMEDIATE`, a PostgreSQL transaction-scoped advisory lock),
//! which serialises writers and keeps the chain gap-free.
//!
//! Area modules write SQL inside a [`WriteTx`] with the `with_tx!` macro,
//! which binds the concrete connection of either backend:
//!
//! ```ignore
//! let mut tx = store.begin_write().await?;
//! with_tx!(&mut tx, conn => sqlx::query("INSERT ...").bind(x).execute(&mut *conn).await?);
//! let appended = tx.append(&[event]).await?;
//! tx.commit().await?;
//! ```

use crate::{Pool, Store, StoreError};

/// The PostgreSQL advisory lock key that serialises writers ("dso-log" in ASCII).
const APPEND_LOCK_KEY: i64 = 0x64_73_6f_2d_6c_6f_67;

/// An open write transaction holding the append lock. Dropping it without
/// [`WriteTx::commit`] rolls everything back.
pub enum WriteTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's concrete connection.
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::WriteTx::Sqlite(t) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::WriteTx::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

impl Store {
    /// Starts a write transaction, waiting for the append lock.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        match &self.pool {
            // The connection's busy timeout (30 s) makes BEGIN IMMEDIATE wait
            // for another writer, in this process or another.
            Pool::Sqlite { transactions, .. } => Ok(WriteTx::Sqlite(
                transactions.begin_with("BEGIN IMMEDIATE").await?,
            )),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(APPEND_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                Ok(WriteTx::Postgres(tx))
            }
        }
    }
}

impl WriteTx {
    /// Commits the changes and the appended events together.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            WriteTx::Sqlite(tx) => tx.commit().await?,
            WriteTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
