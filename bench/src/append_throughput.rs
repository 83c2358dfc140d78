//! Event-log append throughput: events per second into the hash chain, on
//! SQLite and PostgreSQL, one event per transaction and in batches, and the
//! speed of verifying the chain afterwards.
//!
//! Usage: `append-throughput [--events N] [--batch B] [--postgres]`
//! (PostgreSQL needs DSO_TEST_POSTGRES_URL; a fresh database is created and dropped).
//! Prints one Markdown table row per measurement.

use std::time::Instant;

use dso_audit::{Actor, ChainVerifier, Event, KeyPair, NewEvent};
use dso_store::testing::TestDb;
use dso_store::{EventQuery, Store};

struct Args {
    n_events: usize,
    batch: usize,
    postgres: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        n_events: 100_000,
        batch: 1000,
        postgres: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => {
                args.n_events = it.next().and_then(|v| v.parse().ok()).expect("--events N")
            }
            "--batch" => args.batch = it.next().and_then(|v| v.parse().ok()).expect("--batch B"),
            "--postgres" => args.postgres = true,
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn events(n: usize) -> Vec<Event> {
    let actor = Actor {
        user: "bench".into(),
        role: Some("release-engineer".into()),
    };
    (0..n)
        .map(|i| {
            let new = NewEvent {
                ty: "dev.cdevents.taskrun.finished.0.2.0".into(),
                subject: Some(format!("run-{}", i / 10)),
                data: serde_json::json!({ "taskName": "build", "outcome": "success", "i": i }),
            };
            Event::stamp(new, "dso://bench", &actor).expect("valid event")
        })
        .collect()
}

async fn verify(store: &Store, key: &KeyPair) -> (u64, f64) {
    let started = Instant::now();
    let mut verifier = ChainVerifier::new(
        &key.public(),
        store.checkpoints().await.expect("checkpoints"),
    );
    let mut after = 0;
    loop {
        let page = store
            .events(&EventQuery {
                after_seq: Some(after),
                limit: Some(5000),
                ..Default::default()
            })
            .await
            .expect("read page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        page.iter().for_each(|e| verifier.push(e));
    }
    let report = verifier.finish();
    assert!(
        report.is_intact(),
        "chain broken after benchmark: {:?}",
        report.problem
    );
    (report.n_entries, started.elapsed().as_secs_f64())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = parse_args();
    let db = if args.postgres {
        TestDb::postgres()
            .await
            .expect("--postgres needs DSO_TEST_POSTGRES_URL")
    } else {
        TestDb::sqlite()
    };
    let backend = if args.postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let store = db.store().await.expect("open store");
    let key = KeyPair::from_secret([1u8; 32]);

    // Unbatched: one transaction per event, a tenth of the events.
    let single = events(args.n_events / 10);
    let started = Instant::now();
    for e in &single {
        store.append(std::slice::from_ref(e)).await.expect("append");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "| {backend} | unbatched (1 per transaction) | {} | {:.2} s | {:.0} events/s |",
        single.len(),
        secs,
        single.len() as f64 / secs
    );

    // Batched.
    let batched = events(args.n_events);
    let started = Instant::now();
    for chunk in batched.chunks(args.batch) {
        let appended = store.append(chunk).await.expect("append batch");
        let last = appended.last().expect("non-empty batch");
        store
            .add_checkpoint(&key.checkpoint(last.seq, &last.hash, "2026-11-27T00:00:00.000000Z"))
            .await
            .expect("checkpoint");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "| {backend} | batched ({} per transaction, checkpoint each) | {} | {:.2} s | {:.0} events/s |",
        args.batch,
        batched.len(),
        secs,
        batched.len() as f64 / secs
    );

    let (n, secs) = verify(&store, &key).await;
    println!(
        "| {backend} | verify whole chain | {n} | {secs:.2} s | {:.0} events/s |",
        n as f64 / secs
    );
    store.close().await;
    db.drop_now().await;
}
