//! `dso event` and `dso audit`: the log as a user and an attacker meet it.

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Dso;

fn emit_n(dso: &Dso, n: usize) {
    for i in 0..n {
        dso.ok(&[
            "event",
            "emit",
            "--type",
            "dev.cdeventsx.dso.test.emitted.0.1.0",
            "--subject",
            &format!("s{i}"),
            "--data",
            &format!("{{\"i\":{i}}}"),
        ]);
    }
}

/// Runs SQL behind dso's back, as an administrator with file access would:
/// with the `sqlite3` shell (which `.ci/run` installs), or through sqlx on a
/// machine without it.
pub(crate) fn sqlite3(dso: &Dso, sql: &str) {
    match Command::new("sqlite3").arg(dso.db_path()).arg(sql).output() {
        Ok(out) => assert!(
            out.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            let url = format!("sqlite://{}", dso.db_path().display());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            });
        }
    }
}

#[test]
fn emitted_events_are_listed_and_verify() {
    let dso = Dso::init();
    let out = dso.ok(&[
        "event",
        "emit",
        "--type",
        "dev.cdevents.pipelinerun.started.0.2.0",
        "--subject",
        "run-1",
        "--data",
        r#"{"url":"x"}"#,
        "--role",
        "Release Engineer",
    ]);
    assert!(out.starts_with("appended event 2 ("), "{out}");
    let data = dso.path().join("data.json");
    std::fs::write(&data, r#"{"from":"file"}"#).unwrap();
    dso.ok(&[
        "event",
        "emit",
        "--type",
        "dev.cdeventsx.dso.exchange.sent.0.1.0",
        "--subject",
        "OE12",
        "--data",
        &format!("@{}", data.display()),
    ]);

    let log = dso.json(&["audit", "log", "--type", "dev.cdevents.pipelinerun.*"]);
    assert_eq!(log.as_array().unwrap().len(), 1);
    let e = &log[0];
    assert_eq!(
        (
            e["seq"].as_i64(),
            e["specversion"].as_str(),
            e["subject"].as_str()
        ),
        (Some(2), Some("1.0"), Some("run-1"))
    );
    assert_eq!(
        (e["actor"].as_str(), e["actorrole"].as_str()),
        (Some("alice"), Some("release-engineer"))
    );
    assert_eq!(e["source"], "dso://test");
    assert_eq!(e["data"]["url"], "x");
    let all = dso.json(&["audit", "log", "--since", "1h"]);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(
        dso.json(&["audit", "log", "--subject", "OE12"])[0]["data"]["from"],
        "file"
    );
    assert_eq!(dso.json(&["audit", "log", "-n", "1"])[0]["seq"], 3);
    assert!(
        dso.json(&["audit", "log", "--since", "2999-01-01"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    let report = dso.json(&["audit", "verify"]);
    assert_eq!(
        (report["n_entries"].as_u64(), report["problem"].is_null()),
        (Some(3), true)
    );
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored() {
    let dso = Dso::init();
    let err = dso.fails(&["event", "emit", "--type", "t", "--data", "{\"a\":"]);
    assert!(err.contains("--data:1:5: invalid JSON"), "{err}");
    let err = dso.fails(&["event", "emit", "--type", "has space"]);
    assert!(err.contains("contains whitespace"), "{err}");
    let err = dso.fails(&["event", "emit", "--type", "t", "--role", "wizard"]);
    assert!(err.contains("unknown role `wizard`"), "{err}");
    let err = dso.fails(&["audit", "log", "--since", "yesterday-ish"]);
    assert!(
        err.contains("--since: cannot read `yesterday-ish`"),
        "{err}"
    );

    let lines = dso.path().join("events.jsonl");
    std::fs::write(
        &lines,
        "{\"type\":\"a\"}\n{\"type\":\"b\",\"subjct\":\"x\"}\n",
    )
    .unwrap();
    let err = dso.fails(&["event", "import", lines.to_str().unwrap()]);
    assert!(
        err.contains("events.jsonl:2:") && err.contains("unknown field `subjct`"),
        "{err}"
    );
    std::fs::write(
        &lines,
        "{\"type\":\"a\"}\n\n{\"type\":\"b\",\"time\":\"noon\"}\n",
    )
    .unwrap();
    let err = dso.fails(&["event", "import", lines.to_str().unwrap()]);
    assert!(
        err.contains("events.jsonl:3: field `time`: `noon` is not an RFC 3339 time"),
        "{err}"
    );
    // Only the workspace creation is in the log.
    assert_eq!(dso.json(&["audit", "log"]).as_array().unwrap().len(), 1);
}

#[test]
fn import_keeps_cloudevents_identity() {
    let dso = Dso::init();
    let lines = dso.path().join("events.jsonl");
    std::fs::write(
        &lines,
        concat!(
            r#"{"specversion":"1.0","id":"ext-1","source":"https://ci.example/x","type":"dev.cdevents.build.finished.0.2.0","time":"2026-01-02T03:04:05Z","subject":"b1","data":{"ok":true}}"#,
            "\n",
            r#"{"type":"dev.cdeventsx.dso.note.0.1.0"}"#,
            "\n"
        ),
    )
    .unwrap();
    assert_eq!(
        dso.ok(&["event", "import", lines.to_str().unwrap()]).trim(),
        "appended 2 events"
    );
    let e = &dso.json(&["audit", "log", "--subject", "b1"])[0];
    assert_eq!(
        (e["id"].as_str(), e["source"].as_str()),
        (Some("ext-1"), Some("https://ci.example/x"))
    );
    assert_eq!(e["time"], "2026-01-02T03:04:05.000000Z");
}

#[test]
fn tampering_with_the_sqlite3_shell_is_detected() {
    let dso = Dso::init();
    emit_n(&dso, 30);
    assert!(
        dso.ok(&["audit", "verify"])
            .contains("audit chain intact: 31 entries")
    );
    dso.ok(&["audit", "checkpoint"]);

    sqlite3(
        &dso,
        "UPDATE events SET data = '{\"i\":999}' WHERE seq = 12",
    );
    let out = dso.run(&["audit", "verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("BROKEN at entry 12") && err.contains("changed"),
        "{err}"
    );
    let report = dso.json_allow_failure(&["audit", "verify"]);
    assert_eq!(
        (
            report["problem"]["seq"].as_i64(),
            report["problem"]["kind"].as_str()
        ),
        (Some(12), Some("changed"))
    );

    // Repair by hand is impossible without the chain; start over for the delete case.
    let dso = Dso::init();
    emit_n(&dso, 10);
    sqlite3(&dso, "DELETE FROM events WHERE seq = 5");
    let err = dso.fails(&["audit", "verify"]);
    assert!(
        err.contains("BROKEN at entry 5") && err.contains("removed"),
        "{err}"
    );
}

#[test]
fn a_forged_signing_key_breaks_checkpoint_verification() {
    let dso = Dso::init();
    emit_n(&dso, 3);
    dso.ok(&["audit", "checkpoint"]);
    std::fs::write(
        dso.path().join("keys/audit-signing.key"),
        format!("{}\n", "ab".repeat(32)),
    )
    .unwrap();
    let err = dso.fails(&["audit", "verify"]);
    assert!(err.contains("not signed by the workspace key"), "{err}");
}

#[test]
fn checkpoints_are_signed_every_n_events() {
    let dso = Dso::init();
    let path = dso.path().join("dso.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("checkpoint_every = 1000", "checkpoint_every = 4");
    std::fs::write(&path, config).unwrap();
    emit_n(&dso, 9);
    let report = dso.json(&["audit", "verify"]);
    assert_eq!(
        (
            report["n_entries"].as_u64(),
            report["n_checkpoints"].as_u64()
        ),
        (Some(10), Some(2))
    );
}

/// Writes `n` JSON lines of events.
fn events_file(dso: &Dso, n: usize) -> std::path::PathBuf {
    let path = dso.path().join("many.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..n {
        writeln!(f, r#"{{"type":"dev.cdeventsx.dso.test.bulk.0.1.0","subject":"s{}","data":{{"i":{i},"pad":"{}"}}}}"#, i % 97, "x".repeat(40)).unwrap();
    }
    path
}

/// Starts `dso event import` on many events, SIGKILLs it once some batches
/// are in, and checks that the chain verifies with whole batches only.
fn kill_mid_import(dso: &Dso) {
    let file = events_file(dso, 200_000);
    let mut child = dso
        .command(&["event", "import", file.to_str().unwrap()])
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let log = dso.json(&["audit", "log", "-n", "1"]);
        if log[0]["seq"].as_i64().unwrap_or(0) > 2000 || started.elapsed() > Duration::from_secs(60)
        {
            break;
        }
    }
    child.kill().expect("SIGKILL the importer");
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the importer must have been killed mid-way, not finished"
    );
    let report = dso.json(&["audit", "verify"]);
    assert!(report["problem"].is_null(), "{report}");
    let n = report["n_entries"].as_u64().unwrap();
    assert!(n > 1 && n < 200_001, "killed mid-way: {n}");
    assert_eq!(
        (n - 1) % 500,
        0,
        "only whole batches of 500 are stored, got {n} - 1"
    );
    // The log is still writable after the crash.
    dso.ok(&["event", "emit", "--type", "after.crash"]);
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
}

#[test]
fn sigkill_mid_import_leaves_an_intact_chain_on_sqlite() {
    kill_mid_import(&Dso::init());
}

#[test]
fn sigkill_mid_import_leaves_an_intact_chain_on_postgres() {
    Dso::on_postgres(|dso, url| {
        kill_mid_import(&dso);
        // Tampering by direct SQL, as a database administrator would with psql.
        let out = Command::new("psql")
            .arg(url)
            .args(["-c", "UPDATE events SET subject = 'forged' WHERE seq = 77"])
            .output()
            .expect("psql is installed");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = dso.fails(&["audit", "verify"]);
        assert!(err.contains("BROKEN at entry 77"), "{err}");
    });
}
