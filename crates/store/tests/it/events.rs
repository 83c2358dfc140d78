//! The event log: appends extend one gap-free chain, also under concurrency.

use dso_audit::{Actor, ChainVerifier, Event, KeyPair, NewEvent, ProblemKind, VerifyReport};
use dso_store::{EventQuery, Store};

use crate::each_backend;

fn event(ty: &str, subject: &str, n: i64) -> Event {
    let actor = Actor {
        user: "alice".into(),
        role: Some("software-developer".into()),
    };
    let new = NewEvent {
        ty: ty.into(),
        subject: Some(subject.into()),
        data: serde_json::json!({ "n": n }),
    };
    Event::stamp(new, "dso://test", &actor).unwrap()
}

fn key() -> KeyPair {
    KeyPair::from_secret([3u8; 32])
}

async fn verify(store: &Store) -> VerifyReport {
    let key = key();
    let mut verifier = ChainVerifier::new(&key.public(), store.checkpoints().await.unwrap());
    let mut after = 0;
    loop {
        let page = store
            .events(&EventQuery {
                after_seq: Some(after),
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        page.iter().for_each(|e| verifier.push(e));
    }
    verifier.finish()
}

/// Runs raw SQL against the database behind the store's back, as an attacker would.
async fn tamper(url: &str, sql: &'static str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn append_returns_consecutive_positions() {
    each_backend(|store, _| async move {
        let first = store.append(&[event("t.a", "s", 1)]).await.unwrap();
        assert_eq!(first[0].seq, 1);
        let batch: Vec<Event> = (0..1000).map(|n| event("t.b", "s", n)).collect();
        let appended = store.append(&batch).await.unwrap();
        assert_eq!(
            appended.iter().map(|a| a.seq).collect::<Vec<_>>(),
            (2..=1001).collect::<Vec<_>>()
        );
        assert_eq!(store.count_events().await.unwrap(), 1001);
        let (head, hash) = store.head().await.unwrap().unwrap();
        assert_eq!((head, hash), (1001, hex::encode(appended[999].hash)));
        assert!(verify(&store).await.is_intact());
        assert!(store.append(&[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn stored_events_read_back_unchanged() {
    each_backend(|store, _| async move {
        let original = event("dev.cdevents.pipelinerun.started.0.2.0", "run-1", 7);
        store.append(std::slice::from_ref(&original)).await.unwrap();
        let read = store.events(&EventQuery::default()).await.unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].event().unwrap(), original);
    })
    .await;
}

#[tokio::test]
async fn concurrent_appends_keep_one_gap_free_chain() {
    each_backend(|store, url| async move {
        // 8 tasks on the shared pool and 4 on pools of their own (as separate
        // processes would be) append interleaved single events and batches.
        let mut tasks = Vec::new();
        for t in 0..12i64 {
            let store = if t < 8 {
                store.clone()
            } else {
                Store::connect(&url).await.unwrap()
            };
            tasks.push(tokio::spawn(async move {
                for i in 0..20i64 {
                    let batch: Vec<Event> = (0..(i % 3 + 1))
                        .map(|k| event("t.c", &format!("task{t}"), k))
                        .collect();
                    store.append(&batch).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        // 12 tasks x (7 x 1 + 7 x 2 + 6 x 3) events.
        assert_eq!(store.count_events().await.unwrap(), 12 * (7 + 14 + 18));
        let report = verify(&store).await;
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.head_seq, 12 * 39);
    })
    .await;
}

#[tokio::test]
async fn queries_filter_and_order() {
    each_backend(|store, _| async move {
        let events = [
            event("dev.cdevents.pipelinerun.started.0.2.0", "run-1", 1),
            event("dev.cdevents.pipelinerun.finished.0.2.0", "run-1", 2),
            event("dev.cdeventsx.dso.exchange.sent.0.1.0", "OE12", 3),
        ];
        store.append(&events).await.unwrap();
        let seqs = |v: Vec<dso_audit::StoredEntry>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        let q = |ty: Option<&str>, subject: Option<&str>| EventQuery {
            ty: ty.map(str::to_owned),
            subject: subject.map(str::to_owned),
            ..Default::default()
        };
        assert_eq!(
            seqs(
                store
                    .events(&q(Some("dev.cdevents.pipelinerun.*"), None))
                    .await
                    .unwrap()
            ),
            [1, 2]
        );
        assert_eq!(
            seqs(
                store
                    .events(&q(Some("dev.cdeventsx.dso.exchange.sent.0.1.0"), None))
                    .await
                    .unwrap()
            ),
            [3]
        );
        assert_eq!(
            seqs(store.events(&q(None, Some("run-1"))).await.unwrap()),
            [1, 2]
        );
        assert_eq!(
            seqs(store.events(&q(Some("nothing*"), None)).await.unwrap()),
            Vec::<i64>::new()
        );
        let newest = EventQuery {
            newest_first: true,
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(seqs(store.events(&newest).await.unwrap()), [3, 2]);
        let since = EventQuery {
            since: Some(events[1].time.clone()),
            ..Default::default()
        };
        assert_eq!(seqs(store.events(&since).await.unwrap()), [2, 3]);
        let future = EventQuery {
            since: Some("2999-01-01T00:00:00.000000Z".into()),
            ..Default::default()
        };
        assert!(store.events(&future).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn checkpoints_are_stored_once() {
    each_backend(|store, _| async move {
        let appended = store
            .append(&[event("t", "s", 1), event("t", "s", 2)])
            .await
            .unwrap();
        let cp = key().checkpoint(2, &appended[1].hash, "2026-11-27T00:00:00.000000Z");
        store.add_checkpoint(&cp).await.unwrap();
        store.add_checkpoint(&cp).await.unwrap();
        assert_eq!(store.checkpoints().await.unwrap(), vec![cp]);
        assert!(verify(&store).await.is_intact());
    })
    .await;
}

#[tokio::test]
async fn direct_sql_tampering_is_detected() {
    // Each case: a fresh log of 20 events with a checkpoint at 10, one
    // statement run behind the store's back, and the entry verify must name.
    let cases: [(&'static str, i64, ProblemKind); 5] = [
        (
            "UPDATE events SET data = '{\"n\":999}' WHERE seq = 5",
            5,
            ProblemKind::Changed,
        ),
        (
            "DELETE FROM events WHERE seq = 13",
            13,
            ProblemKind::Missing,
        ),
        (
            "UPDATE events SET actor = 'mallory' WHERE seq = 17",
            17,
            ProblemKind::Changed,
        ),
        (
            "UPDATE events SET seq = seq + 100 WHERE seq = 20",
            20,
            ProblemKind::Missing,
        ),
        (
            "DELETE FROM events WHERE seq > 8",
            9,
            ProblemKind::Truncated,
        ),
    ];
    for (sql, seq, kind) in cases {
        each_backend(|store, url| async move {
            let appended = store
                .append(&(1..=20).map(|n| event("t", "s", n)).collect::<Vec<_>>())
                .await
                .unwrap();
            store
                .add_checkpoint(&key().checkpoint(10, &appended[9].hash, "t"))
                .await
                .unwrap();
            assert!(verify(&store).await.is_intact());
            tamper(&url, sql).await;
            let problem = verify(&store)
                .await
                .problem
                .unwrap_or_else(|| panic!("undetected: {sql}"));
            assert_eq!((problem.seq, problem.kind), (seq, kind), "{sql}: {problem}");
        })
        .await;
    }
}

#[tokio::test]
async fn an_uncommitted_write_leaves_no_event() {
    each_backend(|store, _| async move {
        let mut tx = store.begin_write().await.unwrap();
        tx.append(&[event("t", "s", 1)]).await.unwrap();
        drop(tx);
        assert_eq!(store.count_events().await.unwrap(), 0);
        let mut tx = store.begin_write().await.unwrap();
        let appended = tx.append(&[event("t", "s", 2)]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(appended[0].seq, 1);
        assert!(verify(&store).await.is_intact());
    })
    .await;
}

/// A command's store (`Clients::One`) runs its statements on one connection
/// and its write transactions on another: a statement while a transaction
/// is open neither waits for it nor sees its rows, and many statements in a
/// row open no second connection.
#[tokio::test]
async fn a_command_store_runs_statements_on_one_connection_beside_its_transactions() {
    let db = dso_store::testing::TestDb::sqlite();
    db.store().await.unwrap().close().await;
    let store = Store::connect_for_command(&db.url).await.unwrap();
    assert_eq!(store.open_connections(), 1);
    for _ in 0..20 {
        assert_eq!(store.count_events().await.unwrap(), 0);
    }
    assert_eq!(
        store.open_connections(),
        1,
        "statements share one connection"
    );

    let mut tx = store.begin_write().await.unwrap();
    tx.append(&[event("t.c", "in-tx", 1), event("t.c", "in-tx", 2)])
        .await
        .unwrap();
    // The statement connection reads beside the open transaction.
    assert_eq!(store.count_events().await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(store.count_events().await.unwrap(), 2);
    assert_eq!(store.open_connections(), 2);

    // Many tasks of one command (a pipeline's jobs) share it.
    let mut tasks = Vec::new();
    for t in 0..8i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10i64 {
                store
                    .append(&[event("t.c", &format!("task{t}"), i)])
                    .await
                    .unwrap();
                store.events(&EventQuery::default()).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.count_events().await.unwrap(), 2 + 80);
    let report = verify(&store).await;
    assert!(report.is_intact(), "{report:?}");
    assert!(store.open_connections() <= 4);
}

/// The server's store (`Store::connect`) shares one pool of several
/// connections between statements and transactions.
#[tokio::test]
async fn a_server_store_shares_one_pool() {
    let db = dso_store::testing::TestDb::sqlite();
    let store = db.store().await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    tx.append(&[event("t.c", "in-tx", 1)]).await.unwrap();
    assert_eq!(store.count_events().await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(store.count_events().await.unwrap(), 1);
    assert!(store.open_connections() <= 4);
}
