//! Environments, releases, deployments, approvals, monitors, samples and
//! incidents, each change with its event, on both backends.

use dso_audit::{Actor, Event, NewEvent};
use dso_store::{
    ApprovalRecord, EnvironmentRecord, MonitorRecord, NewDeployment, NewIncident, NewRun,
    ReleaseRecord, SampleRecord, SloRecord,
};

use crate::each_backend;

fn event(ty: &str, subject: String) -> Event {
    let actor = Actor {
        user: "alice".into(),
        role: None,
    };
    Event::stamp(
        NewEvent {
            ty: ty.into(),
            subject: Some(subject),
            data: serde_json::json!({}),
        },
        "dso://t",
        &actor,
    )
    .unwrap()
}

fn env(name: &str) -> EnvironmentRecord {
    EnvironmentRecord {
        name: name.into(),
        protected: name == "production",
        approvals: 1,
        approver_role: "release-engineer".into(),
        target: r#"{"kind":"none"}"#.into(),
        strategy: r#"{"kind":"all-at-once"}"#.into(),
        health_checks: "[]".into(),
        created_at: "2026-11-27T09:00:00.000000Z".into(),
        updated_at: "2026-11-27T09:00:00.000000Z".into(),
    }
}

async fn a_run(store: &dso_store::Store) -> i64 {
    let run = NewRun {
        repo: "/src/app".into(),
        git_ref: "main".into(),
        commit_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        commit_author: "Ada".into(),
        commit_time: "2026-11-27T10:00:00+01:00".into(),
        commit_message: "m".into(),
        backlog_keys: vec![],
        pipeline_file: "jobs: {}".into(),
        queued_at: "2026-11-27T09:00:00.000000Z".into(),
        actor: "alice".into(),
        host: "h".into(),
        pid: None,
        jobs: vec![],
    };
    store
        .create_run(&run, |id| event("t.queued", format!("run-{id}")))
        .await
        .unwrap()
        .0
}

fn release(version: &str, run_id: i64) -> ReleaseRecord {
    ReleaseRecord {
        version: version.into(),
        run_id,
        service: "app".into(),
        repo: "/src/app".into(),
        commit_sha: "0123".into(),
        artifacts: "[]".into(),
        envelope: "{}".into(),
        created_at: format!("2026-11-27T10:00:0{version}.000000Z"),
        actor: "alice".into(),
        evidence: format!("{{\"gate\":\"{version}\"}}"),
    }
}

#[tokio::test]
async fn environments_releases_deployments_and_approvals() {
    each_backend(|store, _url| async move {
        let envs = [env("dev"), env("production")];
        let ev = || [event("env.created", "dev".into())];
        assert!(
            store
                .put_environments(&envs, true, &ev())
                .await
                .unwrap()
                .is_some()
        );
        // Creating again when absent-only writes nothing and appends nothing.
        let before = store.count_events().await.unwrap();
        assert!(
            store
                .put_environments(&envs[..1], true, &ev())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.count_events().await.unwrap(), before);
        let mut changed = env("dev");
        changed.protected = true;
        store
            .put_environments(&[changed], false, &ev())
            .await
            .unwrap()
            .unwrap();
        let listed = store.environments().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(store.environment("dev").await.unwrap().unwrap().protected);
        assert!(store.environment("nope").await.unwrap().is_none());

        let run = a_run(&store).await;
        let created = store
            .create_release(&release("1", run), &[event("r", "1".into())])
            .await
            .unwrap();
        assert_eq!(created.unwrap().len(), 1);
        assert!(
            store
                .create_release(&release("1", run), &[event("r", "1".into())])
                .await
                .unwrap()
                .is_none()
        );
        store
            .create_release(&release("2", run), &[event("r", "2".into())])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.release("1").await.unwrap().unwrap().run_id, run);
        let versions: Vec<String> = store
            .releases()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(versions, ["2", "1"]);

        let new = NewDeployment {
            env: "production".into(),
            version: "1".into(),
            service: "app".into(),
            kind: "deploy".into(),
            status: "pending-approval".into(),
            requested_by: "alice".into(),
            requested_at: "2026-11-27T11:00:00.000000Z".into(),
            previous_version: None,
            rollback_of: None,
            commits: vec!["0123".into()],
            detail: None,
            host: None,
            pid: None,
        };
        let (id, appended) = store
            .create_deployment(&new, |id| {
                vec![event("d.requested", format!("deployment-{id}"))]
            })
            .await
            .unwrap();
        assert_eq!(appended.len(), 1);
        store
            .add_approval(
                &ApprovalRecord {
                    deployment_id: id,
                    user: "bob".into(),
                    role: "release-engineer".into(),
                    at: "2026-11-27T11:01:00.000000Z".into(),
                },
                &[event("d.approved", format!("deployment-{id}"))],
            )
            .await
            .unwrap();
        assert_eq!(store.approvals(id).await.unwrap()[0].user, "bob");
        // Only one of two racing approvers moves it from pending to running.
        let claimed = store
            .claim_deployment(
                id,
                "pending-approval",
                "running",
                ("h", 42),
                &[event("d.started", "a".into())],
            )
            .await
            .unwrap();
        assert_eq!(claimed.unwrap().len(), 1);
        let before = store.count_events().await.unwrap();
        assert!(
            store
                .claim_deployment(
                    id,
                    "pending-approval",
                    "running",
                    ("h", 43),
                    &[event("d.started", "b".into())]
                )
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.count_events().await.unwrap(), before);
        assert_eq!(
            store.running_deployments("h").await.unwrap(),
            vec![(id, Some(42))]
        );
        assert!(store.running_deployments("other").await.unwrap().is_empty());
        assert!(store.has_unfinished_work("h").await.unwrap());
        assert!(!store.has_unfinished_work("other").await.unwrap());
        let ev = event("d.interrupted", "x".into());
        assert_eq!(
            store
                .mark_deployment_interrupted(id, "t", "gone", &ev)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .mark_deployment_interrupted(id, "t", "gone", &ev)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.deployment(id).await.unwrap().unwrap().status,
            "interrupted"
        );
        store
            .set_deployment_status(
                id,
                "succeeded",
                Some("s"),
                Some("f"),
                Some("ok"),
                &[event("svc", "x".into())],
            )
            .await
            .unwrap();
        let d = store.deployment(id).await.unwrap().unwrap();
        assert_eq!(
            (d.status.as_str(), d.started_at.as_deref(), d.commits.len()),
            ("succeeded", Some("s"), 1)
        );
        let (other, _) = store
            .create_deployment(
                &NewDeployment {
                    env: "dev".into(),
                    ..new.clone()
                },
                |_| vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            store.deployments(Some("production")).await.unwrap().len(),
            1
        );
        assert_eq!(
            store.deployments(None).await.unwrap().last().unwrap().id,
            other
        );
    })
    .await;
}

#[tokio::test]
async fn monitors_samples_slos_and_incidents() {
    each_backend(|store, _url| async move {
        let m = MonitorRecord {
            name: "web".into(),
            env: "staging".into(),
            service: "app".into(),
            kind: "http".into(),
            target: "http://127.0.0.1:1/".into(),
            interval_ms: 1000,
            timeout_ms: 500,
            expect_status: Some(200),
            expect_body: None,
            created_at: "2026-11-27T09:00:00.000000Z".into(),
            ca_file: Some("/etc/dso/internal-ca.pem".into()),
        };
        store
            .put_monitor(&m, &[event("m", "web".into())])
            .await
            .unwrap();
        assert_eq!(store.monitors().await.unwrap(), vec![m.clone()]);
        // Replacing a monitor replaces its CA file too.
        let mut public = m.clone();
        public.ca_file = None;
        store
            .put_monitor(&public, &[event("m", "web".into())])
            .await
            .unwrap();
        assert_eq!(store.monitors().await.unwrap(), vec![public]);
        store
            .put_monitor(&m, &[event("m", "web".into())])
            .await
            .unwrap();
        for (i, ok) in [true, false, true].into_iter().enumerate() {
            let s = SampleRecord {
                monitor: "web".into(),
                at: format!("2026-11-27T10:00:0{i}.000000Z"),
                ok,
                latency_ms: 3,
                detail: None,
            };
            store.add_sample(&s, &[]).await.unwrap();
        }
        let all = store
            .samples(Some("staging"), None, "2026-11-27T10:00:01.000000Z")
            .await
            .unwrap();
        assert_eq!(all.iter().map(|s| s.ok).collect::<Vec<_>>(), [false, true]);
        assert!(
            store
                .samples(Some("prod"), None, "")
                .await
                .unwrap()
                .is_empty()
        );
        let slo = SloRecord {
            name: "avail".into(),
            env: "staging".into(),
            service: "app".into(),
            target: "99.9".into(),
            window_s: 3600,
            created_at: "x".into(),
        };
        store
            .put_slo(&slo, &[event("slo", "avail".into())])
            .await
            .unwrap();
        assert_eq!(store.slos().await.unwrap(), vec![slo]);

        let new = NewIncident {
            env: "staging".into(),
            service: "app".into(),
            source: "probe".into(),
            source_key: "web".into(),
            severity: "critical".into(),
            title: "web is down".into(),
            detected_at: "2026-11-27T10:00:01.000000Z".into(),
            deployment_id: None,
            actor: "dso-monitor".into(),
        };
        let (id, appended) = store
            .open_incident(&new, "probe failed", |id| {
                vec![event("i.detected", format!("incident-{id}"))]
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(appended.len(), 1);
        // A second failure of the same probe does not open another incident.
        assert!(
            store
                .open_incident(&new, "again", |_| vec![])
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store
                .open_incident_for("probe", "web")
                .await
                .unwrap()
                .unwrap()
                .id,
            id
        );
        store
            .add_incident_note(id, "2026-11-27T10:00:02.000000Z", "looking", "bob", &[])
            .await
            .unwrap();
        assert!(
            store
                .resolve_incident(
                    id,
                    "2026-11-27T10:00:03.000000Z",
                    "dso-monitor",
                    "recovered",
                    &[]
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .resolve_incident(id, "later", "x", "x", &[])
                .await
                .unwrap()
        );
        let (inc, timeline) = store.incident(id).await.unwrap().unwrap();
        assert_eq!(inc.status, "resolved");
        assert_eq!(
            inc.resolved_at.as_deref(),
            Some("2026-11-27T10:00:03.000000Z")
        );
        assert_eq!(
            timeline.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["detected", "note", "resolved"]
        );
        assert!(
            store
                .open_incident_for("probe", "web")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.incidents().await.unwrap().len(), 1);
    })
    .await;
}
