//! The storage suite: every test runs against a fresh SQLite file and, when
//! `DSO_TEST_POSTGRES_URL` is set, against a fresh PostgreSQL database.

mod assurance;
mod events;
mod evidence;
mod governance;
mod operational;
mod runs;
mod schema;

use std::future::Future;

use dso_store::Store;
use dso_store::testing::TestDb;

/// Runs `body` once per available backend, each on its own new database.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Store, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = TestDb::sqlite();
    body(
        sqlite.store().await.expect("open sqlite"),
        sqlite.url.clone(),
    )
    .await;
    match TestDb::postgres().await {
        Some(pg) => {
            let store = pg.store().await.expect("open postgres");
            body(store.clone(), pg.url.clone()).await;
            store.close().await;
            pg.drop_now().await;
        }
        None => eprintln!(
            "note: {} unset, PostgreSQL half skipped",
            dso_store::testing::POSTGRES_URL_VAR
        ),
    }
}
