//! The assurance tables: advisory records, the merged view with its alias
//! and package indexes, and findings, on both backends.

use dso_store::{AdvisoryRecordRow, AdvisoryRow, AdvisorySourceRow, FindingQuery, FindingRow};

use crate::each_backend;

fn advisory(id: &str, aliases: &[&str], packages: &[(&str, &str)]) -> AdvisoryRow {
    let mut all: Vec<String> = vec![id.to_owned()];
    all.extend(aliases.iter().map(|a| (*a).to_owned()));
    AdvisoryRow {
        id: id.into(),
        severity: "high".into(),
        summary: format!("summary of {id}"),
        modified: None,
        data: format!("{{\"id\":\"{id}\"}}"),
        matching: format!("{{\"id\":\"{id}\",\"slim\":true}}"),
        aliases: all,
        packages: packages
            .iter()
            .map(|(e, n)| ((*e).to_owned(), (*n).to_owned()))
            .collect(),
    }
}

pub(crate) fn finding(id: &str, scope: &str, status: &str) -> FindingRow {
    FindingRow {
        id: id.into(),
        fingerprint: format!("{id}-fingerprint"),
        scope: scope.into(),
        scanner: "dso-sca".into(),
        rule: "RUSTSEC-2021-0003".into(),
        severity: "critical".into(),
        status: status.into(),
        file: Some("Cargo.lock".into()),
        line: Some(12),
        title: "t".into(),
        first_seen: "2026-11-27T00:00:00.000000Z".into(),
        last_seen: "2026-11-27T00:00:00.000000Z".into(),
        justification: None,
        approver: None,
        expires: None,
        data: "{}".into(),
    }
}

#[tokio::test]
async fn advisories_are_found_by_alias_and_package() {
    each_backend(|store, _url| async move {
        let mut tx = store.begin_write().await.unwrap();
        tx.put_advisory_records(
            &[AdvisoryRecordRow {
                id: "RUSTSEC-2021-0003".into(),
                source: "a.md".into(),
                data: "{}".into(),
            }],
            &[],
        )
        .await
        .unwrap();
        tx.replace_advisories(&[
            advisory(
                "RUSTSEC-2021-0003",
                &["CVE-2021-25900", "GHSA-43w2-9j62-hq99", "CVE-2021-25900"],
                &[("crates.io", "smallvec"), ("crates.io", "smallvec")],
            ),
            advisory("PYSEC-2020-176", &["CVE-2019-20477"], &[("PyPI", "pyyaml")]),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.count_advisories().await.unwrap(), 2);
        let by_alias = store
            .advisory_by_any_id("GHSA-43w2-9j62-hq99")
            .await
            .unwrap();
        assert_eq!(by_alias.as_deref(), Some("{\"id\":\"RUSTSEC-2021-0003\"}"));
        assert!(
            store
                .advisory_by_any_id("CVE-0000-0000")
                .await
                .unwrap()
                .is_none()
        );
        let index = store.advisory_package_index("crates.io").await.unwrap();
        assert_eq!(
            index.entries().collect::<Vec<_>>(),
            vec![("smallvec", "RUSTSEC-2021-0003")]
        );
        let data = store
            .advisories_by_ids(&["PYSEC-2020-176".into(), "NOPE".into()])
            .await
            .unwrap();
        assert_eq!(
            data,
            vec!["{\"id\":\"PYSEC-2020-176\",\"slim\":true}".to_owned()]
        );
        // Several documents come back whole (also one with line breaks), in
        // id order, whatever the order asked; none found is empty.
        let mut tx = store.begin_write().await.unwrap();
        let mut pretty = advisory("GHSA-aaaa-bbbb-cccc", &[], &[("npm", "left-pad")]);
        pretty.matching = "{\n  \"id\": \"GHSA-aaaa-bbbb-cccc\",\n  \"s\": \"a\\nb\"\n}".into();
        tx.replace_advisories(&[
            advisory(
                "RUSTSEC-2021-0003",
                &["CVE-2021-25900"],
                &[("crates.io", "smallvec")],
            ),
            advisory("PYSEC-2020-176", &["CVE-2019-20477"], &[("PyPI", "pyyaml")]),
            pretty.clone(),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let data = store
            .advisories_by_ids(&[
                "RUSTSEC-2021-0003".into(),
                "NOPE".into(),
                "GHSA-aaaa-bbbb-cccc".into(),
                "PYSEC-2020-176".into(),
            ])
            .await
            .unwrap();
        assert_eq!(
            data,
            vec![
                pretty.matching.clone(),
                "{\"id\":\"PYSEC-2020-176\",\"slim\":true}".to_owned(),
                "{\"id\":\"RUSTSEC-2021-0003\",\"slim\":true}".to_owned(),
            ]
        );
        assert!(
            store
                .advisories_by_ids(&["NOPE".into()])
                .await
                .unwrap()
                .is_empty()
        );

        // Replacing the view drops what is no longer there; withdrawn records go.
        let mut tx = store.begin_write().await.unwrap();
        tx.put_advisory_records(&[], &["RUSTSEC-2021-0003".into()])
            .await
            .unwrap();
        tx.replace_advisories(&[advisory("PYSEC-2020-176", &[], &[("PyPI", "pyyaml")])])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(store.advisory_records().await.unwrap().is_empty());
        assert!(
            store
                .advisory_package_index("crates.io")
                .await
                .unwrap()
                .entries()
                .next()
                .is_none()
        );
        assert_eq!(store.count_advisories().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn findings_upsert_filter_and_prefix_lookup() {
    each_backend(|store, _url| async move {
        let mut tx = store.begin_write().await.unwrap();
        tx.put_finding(&finding("F-aaaa11112222", "sca:/a", "new"))
            .await
            .unwrap();
        tx.put_finding(&finding("F-bbbb11112222", "sca:/a", "confirmed"))
            .await
            .unwrap();
        tx.put_finding(&finding("F-bbbb33334444", "sca:/b", "new"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let in_a = store
            .findings(&FindingQuery {
                scope: Some("sca:/a".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(in_a.len(), 2);
        let new = store
            .findings(&FindingQuery {
                status: Some("new".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(new.len(), 2);
        // Unique prefix, ambiguous prefix, exact id.
        assert_eq!(
            store.finding("F-aaaa").await.unwrap().unwrap().id,
            "F-aaaa11112222"
        );
        assert!(store.finding("F-bbbb").await.unwrap().is_none());
        assert!(store.finding("F-bbbb3333").await.unwrap().is_some());
        // Upsert keeps first_seen and replaces the rest.
        let mut changed = finding("F-aaaa11112222", "sca:/a", "accepted_risk");
        changed.first_seen = "2030-01-01T00:00:00.000000Z".into();
        changed.approver = Some("bob".into());
        let mut tx = store.begin_write().await.unwrap();
        tx.put_finding(&changed).await.unwrap();
        tx.commit().await.unwrap();
        let row = store.finding("F-aaaa11112222").await.unwrap().unwrap();
        assert_eq!(row.status, "accepted_risk");
        assert_eq!(row.approver.as_deref(), Some("bob"));
        assert_eq!(row.first_seen, "2026-11-27T00:00:00.000000Z");
        assert_eq!(row.line, Some(12));
    })
    .await;
}

#[tokio::test]
async fn advisory_sources_remember_the_last_fetch_per_url() {
    each_backend(|store, _url| async move {
        let url = "https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip";
        assert_eq!(store.advisory_source(url).await.unwrap(), None);
        let mut row = AdvisorySourceRow {
            url: url.into(),
            etag: Some("\"abc\"".into()),
            last_modified: Some("Fri, 27 Nov 2026 10:00:00 GMT".into()),
            sha256: "00".repeat(32),
            bytes: 12_345_678_901,
            fetched_at: "2026-11-27T10:00:00.000000Z".into(),
        };
        let mut tx = store.begin_write().await.unwrap();
        tx.put_advisory_source(&row).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.advisory_source(url).await.unwrap(), Some(row.clone()));
        // A later fetch replaces it; other URLs are separate.
        row.etag = None;
        row.sha256 = "11".repeat(32);
        let mut tx = store.begin_write().await.unwrap();
        tx.put_advisory_source(&row).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.advisory_source(url).await.unwrap(), Some(row));
        assert_eq!(
            store.advisory_source("https://x/all.zip").await.unwrap(),
            None
        );
    })
    .await;
}
