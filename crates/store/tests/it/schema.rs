//! Migrations: up, down and up again leave the same schema, on both dialects.

use crate::each_backend;

#[tokio::test]
async fn migrations_are_reversible() {
    each_backend(|store, _url| async move {
        let up = store.table_names().await.unwrap();
        assert!(
            up.contains(&"events".to_owned()) && up.contains(&"checkpoints".to_owned()),
            "{up:?}"
        );
        store.migrate_down_all().await.unwrap();
        let down = store.table_names().await.unwrap();
        assert!(!down.contains(&"events".to_owned()), "{down:?}");
        store.migrate().await.unwrap();
        assert_eq!(store.table_names().await.unwrap(), up);
    })
    .await;
}

#[tokio::test]
async fn migrate_is_idempotent() {
    each_backend(|store, _url| async move {
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.count_events().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn unsupported_url_is_a_clear_error() {
    let err = dso_store::Store::connect("mysql://root@localhost/x")
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("unsupported database URL `mysql://root@localhost/x`"),
        "{err}"
    );
    assert_eq!(
        dso_store::redact_url("postgres://u:secret@h/db"),
        "postgres://u:***@h/db"
    );
}

#[tokio::test]
async fn migrate_if_behind_runs_the_migrator_only_when_the_schema_is_behind() {
    each_backend(|store, _url| async move {
        // Up to date: one query, no migration.
        assert!(!store.migrate_if_behind().await.unwrap());
        let up = store.table_names().await.unwrap();
        // Behind (every migration reverted, as a database older than every
        // migration would be): the migrator runs and restores the schema.
        store.migrate_down_all().await.unwrap();
        assert!(store.migrate_if_behind().await.unwrap());
        assert_eq!(store.table_names().await.unwrap(), up);
        assert!(!store.migrate_if_behind().await.unwrap());
    })
    .await;
}
