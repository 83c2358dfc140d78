//! A fresh database for each test, never a shared one.
//!
//! [`TestDb::sqlite`] makes a file in a new temporary directory.
//! [`TestDb::postgres`] creates a uniquely named database on the server at
//! `DSO_TEST_POSTGRES_URL` (any database URL on that server; its database
//! part is replaced) and drops it afterwards. Set `DSO_TEST_KEEP_DB=1` to
//! keep databases for debugging; their URLs are printed.

use crate::{Backend, Store, StoreError};

/// The environment variable that enables the PostgreSQL half of the suites.
pub const POSTGRES_URL_VAR: &str = "DSO_TEST_POSTGRES_URL";

/// A database that exists for the life of one test.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    dropped: bool,
}

impl TestDb {
    /// A new SQLite database file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("creating a temporary directory for a test database");
        let url = format!("sqlite://{}", dir.path().join("dso.db").display());
        TestDb {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            dropped: false,
        }
    }

    /// A new PostgreSQL database, or `None` when `DSO_TEST_POSTGRES_URL` is unset.
    ///
    /// Panics when the variable is set but the server cannot create the
    /// database: a misconfigured CI must fail, not skip.
    pub async fn postgres() -> Option<TestDb> {
        let base = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|v| !v.is_empty())?;
        let name = format!("dso_test_{}", uuid::Uuid::new_v4().simple());
        let url = replace_database(&base, &name);
        Store::create_database(&url).await.unwrap_or_else(|err| {
            panic!("cannot create test database {name} via {POSTGRES_URL_VAR}: {err}")
        });
        Some(TestDb {
            url,
            backend: Backend::Postgres,
            _dir: None,
            dropped: false,
        })
    }

    /// Connects and migrates.
    pub async fn store(&self) -> Result<Store, StoreError> {
        let store = Store::connect(&self.url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Drops the database now (PostgreSQL); SQLite files go with their directory.
    pub async fn drop_now(mut self) {
        self.dropped = true;
        if self.backend == Backend::Postgres
            && !keep()
            && let Err(err) = Store::drop_database(&self.url).await
        {
            eprintln!("warning: could not drop test database {}: {err}", self.url);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if keep() {
            eprintln!("kept test database {}", self.url);
            return;
        }
        if self.dropped || self.backend != Backend::Postgres {
            return;
        }
        // A test that panicked never reached `drop_now`; drop the database
        // from a fresh runtime on its own thread (we may be inside one).
        let url = self.url.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                let _ = rt.block_on(Store::drop_database(&url));
            }
        })
        .join();
    }
}

fn keep() -> bool {
    std::env::var("DSO_TEST_KEEP_DB").is_ok_and(|v| v == "1")
}

/// Replaces the database name (the path) of a PostgreSQL URL, keeping any query.
fn replace_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}
