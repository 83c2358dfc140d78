//! The only crate in dso that speaks SQL.
//!
//! [`Store`] is one concrete API over two dialects: an SQLite file (the
//! embedded default) and PostgreSQL (for several servers on one database),
//! chosen by the URL given to [`Store::connect`]. Both run the same queries
//! (portable SQL with `$n` placeholders) and their own migrations
//! (`migrations/sqlite`, `migrations/postgres`); the test suite runs against
//! both and checks they behave the same.
//!
//! Architecture invariant: no other crate depends on sqlx, and no type of
//! this crate's API mentions sqlx.

mod assurance;
mod events;
mod evidence;
mod governance;
mod operational;
mod reports;
mod runs;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use assurance::{
    AdvisoryRecordRow, AdvisoryRow, AdvisorySourceRow, FindingQuery, FindingRow, PackageIndex,
    VexRow,
};
pub use events::{AppendedEntry, EventQuery};
pub use evidence::{GateDecisionRecord, NewGateDecision, RunSbomRecord};
pub use governance::{
    CommitLinkRow, DocumentRow, FindingItemRow, FlowRow, IdKind, ItemRow, RbacPolicyRow,
    RequirementRow, RequirementVersionRow, TokenRow, UserRow,
};
pub use operational::{
    ApprovalRecord, DeploymentRecord, EnvironmentRecord, IncidentRecord, MonitorRecord,
    NewDeployment, NewIncident, ReleaseRecord, SampleRecord, SloRecord, TimelineEntry,
};
pub use reports::{CoverageFileRecord, CoverageRecord, TestCaseRecord, TestSuiteRecord};
pub use runs::{
    ArtifactRecord, JobLog, JobUpdate, NewRun, NewRunJob, RunJobRecord, RunRecord, SecretRecord,
};
pub use tx::WriteTx;
pub(crate) use tx::with_tx;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL selects: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot open database `{url}`: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// A connection pool to the dso database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    /// Single statements run on `statements`, write transactions on
    /// `transactions`: one pool of several connections for a server (both
    /// fields), two for a command ([`Store::connect_for_command`]).
    Sqlite {
        statements: SqlitePool,
        transactions: SqlitePool,
        clients: Clients,
    },
    Postgres(PgPool),
}

/// Who uses a [`Store`]: what its SQLite connections are shared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clients {
    /// A server answering many requests at once: a pool of connections.
    Many,
    /// One command of one user: its statements share one connection, opened
    /// at once; write transactions take others, opened on first use.
    ///
    /// A short command then opens one connection, not two or three: sqlx
    /// hands a connection back to its pool in a task after each query, so
    /// the next query of a pool of several finds none idle and opens
    /// another (a thread, a file and a parse of the whole schema each).
    One,
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
///
/// The body is compiled once per backend, so it must be portable SQL.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {{
        let out = match &$store.pool {
            $crate::Pool::Sqlite {
                statements: $pool, ..
            } => $body,
            $crate::Pool::Postgres($pool) => $body,
        };
        // sqlx hands a connection back to the pool in a task it spawns when
        // the query ends. Without this yield, the next query of a
        // single-threaded runtime finds no idle connection in a pool of
        // several and opens another one (see `Clients::One`).
        ::tokio::task::yield_now().await;
        out
    }};
}
pub(crate) use with_pool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database at `url`, creating an SQLite file if it is absent.
    ///
    /// Does not migrate; call [`Store::migrate`]. Errors on an unsupported
    /// URL or when the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, Clients::Many).await
    }

    /// [`Store::connect`] for one command of one user ([`Clients::One`]).
    pub async fn connect_for_command(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, Clients::One).await
    }

    /// Opens the database at `url` for `clients`.
    pub async fn connect_with(url: &str, clients: Clients) -> Result<Store, StoreError> {
        let connect_err = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let pool = match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url).map_err(connect_err)?;
                // WAL is a property of the database file: set it once, when
                // the file is created. Asking for it on every connection
                // takes a lock that cannot wait, and concurrent connections
                // then fail with "database is locked".
                let exists = options.get_filename().exists();
                let mut options = options.create_if_missing(true);
                if !exists {
                    options = options.journal_mode(SqliteJournalMode::Wal);
                }
                let options = options
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Other processes may hold the write lock for a while
                    // (a batch import); wait rather than fail.
                    .busy_timeout(Duration::from_secs(30))
                    // Read pages straight from a memory map instead of
                    // copying each into a freshly allocated page cache: a
                    // command that reads the advisory index and a few hundred
                    // advisories then takes far fewer page faults
                    // (bench/RESULTS.md). Writes still go through the WAL.
                    .pragma("mmap_size", "268435456");
                // A connection to a file cannot have gone away: no ping
                // (a round trip to the connection's thread) before each use.
                let pool = |max| {
                    SqlitePoolOptions::new()
                        .max_connections(max)
                        .test_before_acquire(false)
                };
                match clients {
                    Clients::Many => {
                        let pool = pool(4).connect_with(options).await.map_err(connect_err)?;
                        Pool::Sqlite {
                            statements: pool.clone(),
                            transactions: pool,
                            clients,
                        }
                    }
                    Clients::One => Pool::Sqlite {
                        statements: pool(1)
                            .connect_with(options.clone())
                            .await
                            .map_err(connect_err)?,
                        transactions: pool(3).connect_lazy_with(options),
                        clients,
                    },
                }
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await
                    .map_err(connect_err)?;
                Pool::Postgres(pool)
            }
        };
        Ok(Store { pool })
    }

    /// Brings the schema up to date (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite { transactions, .. } => SQLITE_MIGRATIONS.run(transactions).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Brings the schema up to date only when it is behind; returns whether
    /// the migrator ran.
    ///
    /// One query reads how many migrations were applied successfully and the
    /// highest version. When both equal this build's migrations, nothing else
    /// is done: every command that opens a workspace pays this one query
    /// instead of the migrator (which takes a lock and lists and checksums
    /// every applied migration). Otherwise (a new, older, half-migrated or
    /// newer database) the full migrator runs and reports what is wrong.
    /// The checksums of applied migrations are therefore checked only when
    /// the schema changes (and by [`Store::migrate`], which `dso init` runs).
    pub async fn migrate_if_behind(&self) -> Result<bool, StoreError> {
        let migrator = match &self.pool {
            Pool::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let ups = || {
            migrator
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
        };
        let expected_count = ups().count() as i64;
        let expected_max = ups().map(|m| m.version).max();
        let applied: Result<(i64, Option<i64>), sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*), MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await
        });
        if let Ok((count, max)) = applied
            && count == expected_count
            && max == expected_max
        {
            return Ok(false);
        }
        self.migrate().await?;
        Ok(true)
    }

    /// After a large write (an advisory import): folds SQLite's write-ahead
    /// log into the database file and empties it. A dso process exits
    /// without closing its pool, so the next process to open the database
    /// rebuilds the log's index by reading the whole log: 10 MB after an
    /// import of the RustSec database, paid by every later command until a
    /// checkpoint. Best effort (readers may keep part of the log); nothing
    /// to do on PostgreSQL.
    pub async fn checkpoint_log(&self) -> Result<(), StoreError> {
        if let Pool::Sqlite { statements, .. } = &self.pool {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(statements)
                .await?;
        }
        Ok(())
    }

    /// Reverts every migration (used by the reversibility test and `dso` maintenance).
    pub async fn migrate_down_all(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite { transactions, .. } => SQLITE_MIGRATIONS.undo(transactions, 0).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.undo(pool, 0).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Names of the user tables, sorted (for schema checks).
    pub async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let names: Vec<(String,)> = match &self.pool {
            Pool::Sqlite { statements: pool, .. } => {
                sqlx::query_as(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )
                .fetch_all(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
                )
                .fetch_all(pool)
                .await?
            }
        };
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    /// How many connections are open now (idle or in use).
    pub fn open_connections(&self) -> u32 {
        match &self.pool {
            Pool::Sqlite {
                statements,
                clients: Clients::Many,
                ..
            } => statements.size(),
            Pool::Sqlite {
                statements,
                transactions,
                ..
            } => statements.size() + transactions.size(),
            Pool::Postgres(pool) => pool.size(),
        }
    }

    /// Closes every connection, waiting for them to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite {
                statements,
                transactions,
                ..
            } => {
                statements.close().await;
                transactions.close().await;
            }
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Creates the database named by `url` (for PostgreSQL, through its
    /// maintenance database). Used by tests and `dso init`.
    pub async fn create_database(url: &str) -> Result<(), StoreError> {
        match Backend::of_url(url)? {
            Backend::Sqlite => sqlx::Sqlite::create_database(url).await?,
            Backend::Postgres => sqlx::Postgres::create_database(url).await?,
        }
        Ok(())
    }

    /// True when the database named by `url` exists.
    pub async fn database_exists(url: &str) -> Result<bool, StoreError> {
        Ok(match Backend::of_url(url)? {
            Backend::Sqlite => sqlx::Sqlite::database_exists(url).await?,
            Backend::Postgres => sqlx::Postgres::database_exists(url).await?,
        })
    }

    /// Drops the database named by `url`, closing other sessions on PostgreSQL.
    pub async fn drop_database(url: &str) -> Result<(), StoreError> {
        match Backend::of_url(url)? {
            Backend::Sqlite => sqlx::Sqlite::drop_database(url).await?,
            Backend::Postgres => sqlx::Postgres::force_drop_database(url).await?,
        }
        Ok(())
    }
}

/// Hides a password in a database URL before it is shown to anyone.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(feature = "test-support")]
pub mod testing;
