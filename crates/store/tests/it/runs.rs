//! Pipeline runs, jobs, logs, artifacts and secrets, each change with its event.

use dso_audit::{Actor, Event, NewEvent};
use dso_store::{ArtifactRecord, JobLog, JobUpdate, NewRun, NewRunJob, SecretRecord};

use crate::each_backend;

pub(crate) fn event(ty: &str, subject: String) -> Event {
    let actor = Actor {
        user: "alice".into(),
        role: Some("software-developer".into()),
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

pub(crate) fn new_run() -> NewRun {
    NewRun {
        repo: "/src/app".into(),
        git_ref: "main".into(),
        commit_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        commit_author: "Ada <ada@example.org>".into(),
        commit_time: "2026-11-27T10:00:00+01:00".into(),
        commit_message: "ABC-12: fix parser (#7)".into(),
        backlog_keys: vec!["ABC-12".into(), "#7".into()],
        pipeline_file: "jobs: {}".into(),
        queued_at: "2026-11-27T09:00:00.000000Z".into(),
        actor: "alice".into(),
        host: "host-a".into(),
        pid: Some(4242),
        jobs: vec![
            NewRunJob {
                idx: 0,
                name: "build".into(),
                activity: "build".into(),
                needs: vec![],
            },
            NewRunJob {
                idx: 1,
                name: "test".into(),
                activity: "unit-test".into(),
                needs: vec!["build".into()],
            },
        ],
    }
}

#[tokio::test]
async fn a_run_is_stored_with_its_jobs_and_events() {
    each_backend(|store, _| async move {
        let (id, appended) = store
            .create_run(&new_run(), |id| {
                event("dev.cdevents.pipelinerun.queued.0.3.0", id.to_string())
            })
            .await
            .unwrap();
        assert_eq!(appended.len(), 1);
        let (id2, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        assert_eq!(id2, id + 1);
        let run = store.run(id).await.unwrap().unwrap();
        assert_eq!(
            (run.status.as_str(), run.backlog_keys.clone(), run.pid),
            (
                "queued",
                vec!["ABC-12".to_owned(), "#7".to_owned()],
                Some(4242)
            )
        );
        let logged = store.events(&Default::default()).await.unwrap();
        assert_eq!(logged[0].subject.as_deref(), Some(id.to_string().as_str()));

        store
            .set_run_status(
                id,
                "running",
                Some("2026-11-27T09:00:01.000000Z"),
                None,
                &[event("s", id.to_string())],
            )
            .await
            .unwrap();
        let update = JobUpdate {
            status: "success".into(),
            exit_code: Some(0),
            attempts: 1,
            started_at: Some("2026-11-27T09:00:01.000000Z".into()),
            finished_at: Some("2026-11-27T09:00:02.000000Z".into()),
            duration_ms: Some(1000),
            detail: None,
        };
        let log = JobLog {
            attempt: 1,
            data: vec![0x1f, 0x8b, 1, 2, 3],
            n_lines: 2,
            n_bytes: 10,
        };
        store
            .update_job(id, 0, &update, Some(&log), &[event("f", "build".into())])
            .await
            .unwrap();
        store
            .set_run_status(
                id,
                "success",
                None,
                Some("2026-11-27T09:00:03.000000Z"),
                &[event("e", id.to_string())],
            )
            .await
            .unwrap();

        let run = store.run(id).await.unwrap().unwrap();
        assert_eq!(
            (
                run.status.as_str(),
                run.started_at.as_deref(),
                run.finished_at.as_deref()
            ),
            (
                "success",
                Some("2026-11-27T09:00:01.000000Z"),
                Some("2026-11-27T09:00:03.000000Z")
            )
        );
        let jobs = store.run_jobs(id).await.unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(
            (
                jobs[0].status.as_str(),
                jobs[0].exit_code,
                jobs[0].duration_ms
            ),
            ("success", Some(0), Some(1000))
        );
        assert_eq!(
            (jobs[1].status.as_str(), jobs[1].needs.clone()),
            ("pending", vec!["build".to_owned()])
        );
        let logs = store.job_logs(id, 0).await.unwrap();
        assert_eq!(
            (logs.len(), logs[0].data.clone()),
            (1, vec![0x1f, 0x8b, 1, 2, 3])
        );
        assert_eq!(
            store
                .runs(10)
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            [id2, id]
        );
        assert_eq!(store.count_events().await.unwrap(), 5);
    })
    .await;
}

#[tokio::test]
async fn artifacts_are_recorded_by_content_address() {
    each_backend(|store, _| async move {
        let (id, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        let a = ArtifactRecord {
            run_id: id,
            idx: 0,
            path: "target/app".into(),
            sha256: "ab".repeat(32),
            size: 12,
        };
        store
            .add_artifacts(
                std::slice::from_ref(&a),
                &[event("dev.cdevents.artifact.packaged.0.3.0", "a".into())],
            )
            .await
            .unwrap();
        assert_eq!(store.artifacts(id).await.unwrap(), vec![a]);
    })
    .await;
}

#[tokio::test]
async fn unfinished_runs_are_marked_interrupted_once() {
    each_backend(|store, _| async move {
        let (id, _) = store
            .create_run(&new_run(), |id| event("q", id.to_string()))
            .await
            .unwrap();
        assert_eq!(
            store.unfinished_runs("host-a").await.unwrap(),
            vec![(id, Some(4242))]
        );
        assert!(store.unfinished_runs("host-b").await.unwrap().is_empty());
        assert!(store.has_unfinished_work("host-a").await.unwrap());
        assert!(!store.has_unfinished_work("host-b").await.unwrap());
        let appended = store
            .mark_interrupted(
                id,
                "2026-11-27T09:10:00.000000Z",
                &event("i", id.to_string()),
            )
            .await
            .unwrap();
        assert_eq!(appended.len(), 1);
        let again = store
            .mark_interrupted(
                id,
                "2026-11-27T09:11:00.000000Z",
                &event("i", id.to_string()),
            )
            .await
            .unwrap();
        assert!(again.is_empty());
        assert_eq!(store.run(id).await.unwrap().unwrap().status, "interrupted");
        assert!(
            store
                .run_jobs(id)
                .await
                .unwrap()
                .iter()
                .all(|j| j.status == "cancelled")
        );
        assert!(store.unfinished_runs("host-a").await.unwrap().is_empty());
        assert!(!store.has_unfinished_work("host-a").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn secrets_are_replaced_and_deleted() {
    each_backend(|store, _| async move {
        let s = |ct: u8| SecretRecord {
            name: "TOKEN".into(),
            nonce: vec![1; 24],
            ciphertext: vec![ct; 8],
            updated_at: "t".into(),
        };
        store
            .put_secret(&s(1), &event("set", "TOKEN".into()))
            .await
            .unwrap();
        store
            .put_secret(&s(2), &event("set", "TOKEN".into()))
            .await
            .unwrap();
        let all = store.secrets().await.unwrap();
        assert_eq!((all.len(), all[0].ciphertext.clone()), (1, vec![2; 8]));
        assert!(
            store
                .delete_secret("TOKEN", &event("del", "TOKEN".into()))
                .await
                .unwrap()
        );
        assert!(
            !store
                .delete_secret("TOKEN", &event("del", "TOKEN".into()))
                .await
                .unwrap()
        );
        assert_eq!(store.count_events().await.unwrap(), 3);
    })
    .await;
}
