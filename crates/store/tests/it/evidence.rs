//! A run's evidence (findings seen, SBOMs) and gate decisions, on both backends.

use dso_store::{FindingRow, NewGateDecision, RunSbomRecord};

use crate::each_backend;
use crate::runs::{event, new_run};

fn finding(id: &str, severity: &str) -> FindingRow {
    FindingRow {
        id: id.into(),
        fingerprint: format!("{id}-fp"),
        scope: "pipeline:app/sca".into(),
        scanner: "dso-sca".into(),
        rule: "RUSTSEC-2021-0003".into(),
        severity: severity.into(),
        status: "new".into(),
        file: Some("Cargo.lock".into()),
        line: None,
        title: "t".into(),
        first_seen: "2026-11-27T00:00:00.000000Z".into(),
        last_seen: "2026-11-27T00:00:00.000000Z".into(),
        justification: None,
        approver: None,
        expires: None,
        data: "{}".into(),
    }
}

fn decision(run_id: Option<i64>, decision: &str) -> NewGateDecision {
    NewGateDecision {
        subject: format!("run/{}", run_id.unwrap_or(0)),
        run_id,
        decision: decision.into(),
        violations: "[]".into(),
        policies: "[\"default.rego\"]".into(),
        input: "{}".into(),
        evaluated_at: "2026-11-27T10:00:00.000000Z".into(),
        actor: "alice".into(),
    }
}

#[tokio::test]
async fn a_run_records_the_findings_and_sboms_it_saw() {
    each_backend(|store, _url| async move {
        let (run, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        let (other, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        let mut tx = store.begin_write().await.unwrap();
        tx.put_finding(&finding("F-1", "critical")).await.unwrap();
        tx.put_finding(&finding("F-2", "low")).await.unwrap();
        tx.link_run_findings(run, 1, &["F-2".into(), "F-1".into(), "F-1".into()])
            .await
            .unwrap();
        tx.link_run_findings(run, 0, &["F-1".into()]).await.unwrap();
        tx.link_run_findings(other, 0, &["F-2".into()])
            .await
            .unwrap();
        let sbom = RunSbomRecord {
            run_id: run,
            idx: 0,
            name: "sbom.cdx.json".into(),
            format: "cyclonedx-json".into(),
            sha256: "ab".into(),
            components: 3,
            document: "{\"bomFormat\":\"CycloneDX\"}".into(),
        };
        tx.put_run_sbom(&sbom).await.unwrap();
        tx.put_run_sbom(&RunSbomRecord {
            components: 4,
            ..sbom.clone()
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let seen: Vec<(i64, String)> = store
            .run_findings(run)
            .await
            .unwrap()
            .into_iter()
            .map(|(idx, f)| (idx, f.id))
            .collect();
        assert_eq!(
            seen,
            [(0, "F-1".into()), (1, "F-1".into()), (1, "F-2".into())]
        );
        assert_eq!(store.run_findings(other).await.unwrap().len(), 1);
        let sboms = store.run_sboms(run).await.unwrap();
        assert_eq!(sboms.len(), 1, "the second put replaced the first");
        assert_eq!(sboms[0].components, 4);
        assert!(store.run_sboms(other).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_link_to_an_unknown_finding_is_refused_and_nothing_is_kept() {
    each_backend(|store, _url| async move {
        let (run, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        let mut tx = store.begin_write().await.unwrap();
        tx.put_finding(&finding("F-1", "high")).await.unwrap();
        let err = tx.link_run_findings(run, 0, &["F-404".into()]).await;
        assert!(err.is_err(), "a foreign key names findings");
        drop(tx);
        assert!(store.run_findings(run).await.unwrap().is_empty());
        assert!(store.finding("F-1").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn gate_decisions_are_listed_newest_first_per_run() {
    each_backend(|store, _url| async move {
        let (run, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        let mut tx = store.begin_write().await.unwrap();
        let first = tx
            .add_gate_decision(&decision(Some(run), "deny"))
            .await
            .unwrap();
        let second = tx
            .add_gate_decision(&decision(Some(run), "allow"))
            .await
            .unwrap();
        let loose = tx.add_gate_decision(&decision(None, "deny")).await.unwrap();
        tx.commit().await.unwrap();
        assert!(first < second && second < loose);

        let for_run = store.gate_decisions(Some(run), 10).await.unwrap();
        let ids: Vec<i64> = for_run.iter().map(|d| d.id).collect();
        assert_eq!(ids, [second, first]);
        assert_eq!(for_run[0].decision.decision, "allow");
        assert_eq!(store.gate_decisions(None, 10).await.unwrap().len(), 3);
        assert_eq!(store.gate_decisions(None, 1).await.unwrap()[0].id, loose);
        let one = store.gate_decision(first).await.unwrap().unwrap();
        assert_eq!(one.decision, decision(Some(run), "deny"));
        assert!(store.gate_decision(loose + 100).await.unwrap().is_none());
    })
    .await;
}
