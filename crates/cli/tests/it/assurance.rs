//! `dso advisories`, `dso scan sca` and `dso findings` end to end, on the
//! assurance crate's real fixtures.

use std::path::{Path, PathBuf};

use crate::Dso;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assurance/tests/data")
        .join(rel)
        .canonicalize()
        .expect("fixture exists")
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn with_advisories() -> Dso {
    let dso = Dso::init();
    for dir in ["rustsec", "pypa", "go", "ghsa"] {
        dso.ok(&[
            "advisories",
            "import",
            arg(&data(&format!("advisories/{dir}"))),
        ]);
    }
    dso
}

#[test]
fn import_merges_aliases_and_reports_bad_files() {
    let dso = with_advisories();
    let a = dso.json(&["advisories", "show", "CVE-2021-25900"]);
    assert_eq!(a["id"], "RUSTSEC-2021-0003");
    let aliases: Vec<&str> = a["aliases"]
        .as_array()
        .expect("aliases")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(aliases.contains(&"GHSA-43w2-9j62-hq99"), "{aliases:?}");
    assert_eq!(a["severity"], "critical");
    let by_ghsa = dso.json(&["advisories", "show", "GHSA-43w2-9j62-hq99"]);
    assert_eq!(by_ghsa["id"], "RUSTSEC-2021-0003");
    // Withdrawn advisories are not there.
    let err = dso.fails(&["advisories", "show", "RUSTSEC-2022-0044"]);
    assert!(
        err.contains("unknown advisory `RUSTSEC-2022-0044`"),
        "{err}"
    );

    // Bad files are skipped, named with line and field; the good ones stay.
    let out = dso.run(&["advisories", "import", arg(&data("advisories/bad"))]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped 8 files"), "{stderr}");
    assert!(
        stderr.contains("missing-package-name.json:3: field `affected[0].package`"),
        "{stderr}"
    );
    let still = dso.json(&["advisories", "show", "RUSTSEC-2021-0003"]);
    assert_eq!(still["id"], "RUSTSEC-2021-0003");
    // One event per import, acting as the owner.
    let log = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdeventsx.dso.advisories.imported.0.1.0",
    ]);
    assert_eq!(log.as_array().expect("list").len(), 5);
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, to).expect("copy");
}

#[test]
fn scan_store_fix_reopen_and_triage() {
    let dso = with_advisories();
    let tree = tempfile::tempdir().expect("temp dir");
    let root = tree.path();
    copy(&data("lockfiles/Cargo.lock"), &root.join("Cargo.lock"));
    copy(
        &data("lockfiles/requirements.txt"),
        &root.join("py/requirements.txt"),
    );
    copy(
        &data("lockfiles/requirements.txt"),
        &root.join("vendored/requirements.txt"),
    );
    copy(
        &data("lockfiles/bad/bad-version.requirements.txt"),
        &root.join("broken/requirements.txt"),
    );
    std::fs::write(root.join(".gitignore"), "vendored/\n").expect("write");

    let out = dso.run(&["scan", "sca", arg(root), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken/requirements.txt:2: field `version`"),
        "the bad file is named and skipped: {stderr}"
    );
    let files: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert_eq!(files.len(), 2, "vendored/ is gitignored: {files:?}");
    let findings = report["findings"].as_array().expect("findings");
    let n = findings.len();
    assert!(findings.iter().any(|f| f["advisory"] == "RUSTSEC-2021-0124"
        && f["package"] == "tokio"
        && f["fixed"] == "1.8.4"));
    assert!(findings.iter().any(|f| f["package"] == "PyYAML"));
    assert_eq!(report["stored"]["new"], n);

    // Same scan again: nothing new.
    let again = dso.json(&["scan", "sca", arg(root)]);
    assert_eq!(again["stored"]["new"], 0);
    assert_eq!(again["stored"]["unchanged"], n);

    // The Python lockfile goes away: its findings are fixed...
    let py = root.join("py/requirements.txt");
    let text = std::fs::read_to_string(&py).expect("read");
    std::fs::remove_file(&py).expect("rm");
    let fixed = dso.json(&["scan", "sca", arg(root)]);
    let n_py = n - fixed["findings"].as_array().expect("findings").len();
    assert!(n_py > 0);
    assert_eq!(fixed["stored"]["fixed"], n_py);
    let listed = dso.json(&["findings", "list", "--status", "fixed"]);
    assert_eq!(listed.as_array().expect("list").len(), n_py);
    // ... and reopened when it comes back.
    std::fs::write(&py, text).expect("write");
    let back = dso.json(&["scan", "sca", arg(root)]);
    assert_eq!(back["stored"]["reopened"], n_py);

    // Triage one finding.
    let list = dso.json(&["findings", "list", "--scanner", "dso-sca"]);
    let id = list[0]["id"].as_str().expect("id").to_owned();
    let err = dso.fails(&[
        "findings",
        "triage",
        &id,
        "--status",
        "accepted_risk",
        "--justification",
        "not reachable",
    ]);
    assert!(err.contains("field `approver`"), "{err}");
    let err = dso.fails(&[
        "findings",
        "triage",
        &id,
        "--status",
        "accepted_risk",
        "--justification",
        "x",
        "--approver",
        "bob",
        "--expires",
        "2001-01-01",
    ]);
    assert!(err.contains("in the past"), "{err}");
    let err = dso.fails(&["findings", "triage", &id, "--status", "fixed"]);
    assert!(err.contains("cannot move"), "{err}");
    let done = dso.json(&[
        "findings",
        "triage",
        &id,
        "--status",
        "accepted_risk",
        "--justification",
        "not reachable",
        "--approver",
        "bob",
        "--expires",
        "2099-01-31",
    ]);
    assert_eq!(done["status"], "accepted_risk");
    assert_eq!(done["approver"], "bob");
    let shown = dso.json(&["findings", "show", &id]);
    let history = shown["history"].as_array().expect("history");
    let kinds: Vec<&str> = history
        .iter()
        .filter_map(|e| e["data"]["to"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"new"));
    assert_eq!(kinds.last(), Some(&"accepted_risk"));
    assert!(history.iter().all(|e| e["actor"] == "alice"));
    // The accepted risk survives a rescan.
    dso.ok(&["scan", "sca", arg(root)]);
    assert_eq!(
        dso.json(&["findings", "show", &id])["status"],
        "accepted_risk"
    );
    // Every transition is in the verified chain.
    dso.ok(&["audit", "verify"]);
}

#[test]
fn scan_outputs_sarif_and_fails_on_severity() {
    let dso = with_advisories();
    let lock = data("lockfiles/requirements.txt");
    let sarif: serde_json::Value = serde_json::from_str(&dso.ok(&[
        "scan",
        "sca",
        arg(&lock),
        "--format",
        "sarif",
        "--no-store",
    ]))
    .expect("sarif json");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("requirements.txt"))
    }));
    // PyPA records carry no CVSS: severity unknown, below any threshold.
    let out = dso.run(&["scan", "sca", arg(&lock), "--no-store", "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(0));
    // hyper 0.14.8 in the Cargo.lock has high-severity RustSec advisories.
    let cargo = data("lockfiles/Cargo.lock");
    let out = dso.run(&[
        "scan",
        "sca",
        arg(&cargo),
        "--no-store",
        "--fail-on",
        "high",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        dso.json(&["findings", "list"])
            .as_array()
            .expect("list")
            .is_empty()
    );
    // An empty database says so.
    let empty = Dso::init();
    let out = empty.run(&["scan", "sca", arg(&lock), "--no-store"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("advisory database is empty"));
}

#[test]
fn sarif_import_dedups_across_runs_and_line_shifts() {
    let dso = Dso::init();
    let first = dso.json(&[
        "findings",
        "import",
        "--sarif",
        arg(&data("sarif/semgrep/semgrep.sarif")),
    ]);
    assert_eq!(first["stored"]["new"], 5);
    assert_eq!(first["stored"]["scope"], "sarif:Semgrep OSS");
    let shifted = dso.json(&[
        "findings",
        "import",
        "--sarif",
        arg(&data("sarif/semgrep/semgrep-shifted.sarif")),
    ]);
    assert_eq!(shifted["stored"]["new"], 0);
    assert_eq!(shifted["stored"]["unchanged"], 5);
    let list = dso.json(&["findings", "list", "--scanner", "Semgrep OSS"]);
    assert_eq!(list.as_array().expect("list").len(), 5);
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .any(|f| f["location"] == "app/handler.py:12"),
        "lines follow the newest run: {list:#}"
    );
    let err = dso.fails(&[
        "findings",
        "import",
        "--sarif",
        arg(&data("sarif/bad/no-rule.sarif")),
    ]);
    assert!(
        err.contains("no-rule.sarif: field `runs[0].results[0].ruleId`"),
        "{err}"
    );
    assert_eq!(
        dso.json(&["findings", "list"])
            .as_array()
            .expect("list")
            .len(),
        5,
        "nothing stored is lost"
    );
}

#[test]
fn sbom_round_trip_scans_like_the_lockfiles() {
    let dso = with_advisories();
    let tree = tempfile::tempdir().expect("temp dir");
    copy(
        &data("lockfiles/Cargo.lock"),
        &tree.path().join("Cargo.lock"),
    );
    copy(
        &data("lockfiles/requirements.txt"),
        &tree.path().join("requirements.txt"),
    );
    for (format, file, key) in [
        ("cyclonedx-json", "bom.cdx.json", "bomFormat"),
        ("spdx-json", "bom.spdx.json", "spdxVersion"),
    ] {
        let out = dso.path().join(file);
        dso.ok(&[
            "sbom",
            arg(tree.path()),
            "--format",
            format,
            "-o",
            arg(&out),
        ]);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
        assert!(doc.get(key).is_some(), "{format}");
        let direct = dso.json(&["scan", "sca", arg(tree.path()), "--no-store"]);
        let via_sbom = dso.json(&["scan", "sca", "--sbom", arg(&out), "--no-store"]);
        let ids = |v: &serde_json::Value| {
            let mut ids: Vec<String> = v["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| format!("{} {} {}", f["package"], f["version"], f["advisory"]))
                .collect();
            ids.sort();
            ids
        };
        assert!(!ids(&direct).is_empty());
        assert_eq!(
            ids(&direct).len(),
            ids(&via_sbom).len(),
            "{format}: the SBOM carries every package"
        );
        let imported = dso.json(&["sbom", "import", arg(&out)]);
        assert_eq!(imported["unknown"], 0);
        assert!(
            imported["ecosystems"]["crates.io"]
                .as_u64()
                .is_some_and(|n| n > 0)
        );
    }
    let bad = dso.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.2\"}",
    )
    .expect("write");
    let err = dso.fails(&["sbom", "import", arg(&bad)]);
    assert!(err.contains("field `specVersion`"), "{err}");
}

#[test]
fn vex_not_affected_suppresses_and_exports() {
    let dso = with_advisories();
    let tree = tempfile::tempdir().expect("temp dir");
    copy(
        &data("lockfiles/Cargo.lock"),
        &tree.path().join("Cargo.lock"),
    );
    let before = dso.json(&["scan", "sca", arg(tree.path())]);
    let is_tokio_0124 =
        |f: &serde_json::Value| f["advisory"] == "RUSTSEC-2021-0124" && f["package"] == "tokio";
    assert!(
        before["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(is_tokio_0124)
    );
    let imported = dso.json(&["vex", "import", arg(&data("vex/not-affected.openvex.json"))]);
    assert_eq!(imported["not_affected"], 1);
    let after = dso.json(&["scan", "sca", arg(tree.path())]);
    assert!(
        !after["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(is_tokio_0124)
    );
    let suppressed = after["suppressed"].as_array().expect("suppressed");
    assert_eq!(suppressed.len(), 1);
    assert!(
        suppressed[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("vulnerable_code_not_in_execute_path")
    );
    let fps = dso.json(&["findings", "list", "--status", "false_positive"]);
    let fps = fps.as_array().expect("list");
    assert_eq!(fps.len(), 1);
    assert!(
        fps[0]["justification"]
            .as_str()
            .expect("justification")
            .starts_with("VEX not_affected")
    );
    // Exported as OpenVEX: the suppressed one is not_affected, the rest under investigation.
    let doc: serde_json::Value = serde_json::from_str(&dso.ok(&["vex", "export"])).expect("json");
    let statements = doc["statements"].as_array().expect("statements");
    assert_eq!(
        statements.len(),
        after["findings"].as_array().expect("f").len() + 1
    );
    let na: Vec<&serde_json::Value> = statements
        .iter()
        .filter(|s| s["status"] == "not_affected")
        .collect();
    assert_eq!(na.len(), 1);
    assert_eq!(na[0]["products"][0]["@id"], "pkg:cargo/tokio@1.5.0");
    let err = dso.fails(&["vex", "import", arg(&data("lockfiles/Cargo.lock"))]);
    assert!(err.contains("Cargo.lock"), "{err}");
}

#[test]
fn scan_reports_platform_limits_go_stdlib_and_unmatched_npm_sources() {
    let dso = with_advisories();
    // atty's windows-only advisory: reported with its limit, as cargo-audit does...
    let lock = data("lockfiles/platform/Cargo.lock");
    let all = dso.json(&["scan", "sca", arg(&lock), "--no-store"]);
    let findings = all["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{all:#}");
    assert_eq!(findings[0]["advisory"], "RUSTSEC-2021-0145");
    assert_eq!(findings[0]["os"], serde_json::json!(["windows"]));
    // ... and filtered out for another target, kept for windows.
    let linux = dso.json(&[
        "scan",
        "sca",
        arg(&lock),
        "--no-store",
        "--target-os",
        "linux",
    ]);
    assert_eq!(linux["findings"], serde_json::json!([]));
    let windows = dso.json(&[
        "scan",
        "sca",
        arg(&lock),
        "--no-store",
        "--target-os",
        "windows",
        "--target-arch",
        "x86_64",
    ]);
    assert_eq!(windows["findings"].as_array().expect("findings").len(), 1);
    let table = dso.ok(&["scan", "sca", arg(&lock), "--no-store", "--format", "table"]);
    assert!(table.contains("windows"), "{table}");

    // go.mod's `go 1.17`: the standard library's go/parser advisory.
    let go = dso.json(&["scan", "sca", arg(&data("lockfiles/go.mod")), "--no-store"]);
    let stdlib: Vec<&serde_json::Value> = go["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["package"] == "stdlib")
        .collect();
    assert_eq!(stdlib.len(), 1, "{go:#}");
    assert_eq!(stdlib[0]["advisory"], "GO-2022-0515");
    assert_eq!(stdlib[0]["fixed"], "1.17.12");

    // npm packages from git or a folder: listed as not matched, with why.
    let npm = data("lockfiles/handwritten/npm-git-file/package-lock.json");
    let report = dso.json(&["scan", "sca", arg(&npm), "--no-store"]);
    let found: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["advisory"].as_str())
        .collect();
    assert_eq!(found, vec!["GHSA-jf85-cpcp-j695"], "{report:#}");
    let skipped = report["not_matched"].as_array().expect("not_matched");
    assert_eq!(skipped.len(), 2, "{report:#}");
    assert!(
        skipped.iter().any(|s| s["package"] == "lodash"
            && s["source"].as_str().is_some_and(|x| x.starts_with("git+"))),
        "{report:#}"
    );
    let table = dso.ok(&["scan", "sca", arg(&npm), "--no-store", "--format", "table"]);
    assert!(
        table.contains("not matched: lodash 4.17.11") && table.contains("git repository"),
        "{table}"
    );
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 for `dso advisories sync`:
/// `/all.zip` (with an ETag and Last-Modified, answering 304 to a matching
/// `If-None-Match`), `/plain.zip` (the same bytes without validators),
/// `/corrupt.zip` (not a zip), anything else 404. Returns the base URL and
/// the request lines and conditional headers it received.
fn serve(zip: Vec<u8>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut if_none_match = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("if-none-match")
                {
                    if_none_match = Some(value.trim().to_owned());
                }
            }
            let path = request
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            log.lock().expect("log").push(format!(
                "{path} if-none-match={}",
                if_none_match.as_deref().unwrap_or("-")
            ));
            let etag = "\"v1-abc\"";
            let (status, headers, body): (&str, String, Vec<u8>) = match path.as_str() {
                "/all.zip" if if_none_match.as_deref() == Some(etag) => {
                    ("304 Not Modified", format!("ETag: {etag}\r\n"), Vec::new())
                }
                "/all.zip" => (
                    "200 OK",
                    format!("ETag: {etag}\r\nLast-Modified: Fri, 27 Nov 2026 10:00:00 GMT\r\n"),
                    zip.clone(),
                ),
                "/plain.zip" => ("200 OK", String::new(), zip.clone()),
                "/corrupt.zip" => ("200 OK", String::new(), b"PK\x03\x04 truncated".to_vec()),
                _ => ("404 Not Found", String::new(), b"no such file".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, seen)
}

/// An osv.dev-style `all.zip`: the committed Go and GHSA OSV fixtures, flat.
fn osv_zip() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut names = Vec::new();
    for dir in ["advisories/go", "advisories/ghsa"] {
        for entry in std::fs::read_dir(data(dir)).expect("fixture dir") {
            names.push(entry.expect("entry").path());
        }
    }
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        zip.write_all(&std::fs::read(&path).expect("fixture"))
            .expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

#[test]
fn advisories_sync_downloads_conditionally_and_keeps_the_database_on_errors() {
    let dso = Dso::init();
    let (base, seen) = serve(osv_zip());
    let url = format!("{base}/all.zip");
    let imported_events = |dso: &Dso| {
        dso.json(&[
            "audit",
            "log",
            "--type",
            "dev.cdeventsx.dso.advisories.imported.0.1.0",
        ])
        .as_array()
        .expect("list")
        .len()
    };

    let first = dso.json(&["advisories", "sync", "--url", &url]);
    assert_eq!(first[0]["status"], "imported", "{first:#}");
    assert_eq!(first[0]["import"]["records"], 10, "{first:#}");
    assert_eq!(first[0]["import"]["withdrawn"], 1, "{first:#}");
    assert_eq!(
        dso.json(&["advisories", "show", "GO-2020-0001"])["id"],
        "GO-2020-0001"
    );
    assert_eq!(imported_events(&dso), 1);

    // Unchanged: the conditional GET gets 304, nothing is imported.
    let again = dso.ok(&["advisories", "sync", "--url", &url]);
    assert!(again.contains("not modified"), "{again}");
    assert_eq!(
        seen.lock().expect("log").last().map(String::as_str),
        Some("/all.zip if-none-match=\"v1-abc\"")
    );
    assert_eq!(imported_events(&dso), 1);

    // A server without validators: the same bytes are not imported twice.
    let plain = format!("{base}/plain.zip");
    assert_eq!(
        dso.json(&["advisories", "sync", "--url", &plain])[0]["status"],
        "imported"
    );
    assert_eq!(
        dso.json(&["advisories", "sync", "--url", &plain])[0]["status"],
        "unchanged"
    );
    assert_eq!(imported_events(&dso), 2);

    // 404, a corrupt zip, a size over the limit: clear errors, nothing lost;
    // the good URL given with them is still synced (304 here).
    let err = dso.fails(&[
        "advisories",
        "sync",
        "--url",
        &format!("{base}/missing.zip"),
        "--url",
        &format!("{base}/corrupt.zip"),
        "--url",
        &url,
    ]);
    assert!(
        err.contains("/missing.zip: the server answered 404 Not Found"),
        "{err}"
    );
    assert!(err.contains("/corrupt.zip: not a zip archive"), "{err}");
    let err = dso.fails(&["advisories", "sync", "--url", &plain, "--max-mib", "0"]);
    assert!(err.contains("over the limit of 0"), "{err}");
    assert_eq!(imported_events(&dso), 2);
    assert_eq!(
        dso.json(&["advisories", "show", "GO-2020-0001"])["id"],
        "GO-2020-0001"
    );

    // Plain http only to loopback; other schemes never.
    let err = dso.fails(&["advisories", "sync", "--url", "http://example.com/all.zip"]);
    assert!(err.contains("only to a loopback host"), "{err}");
    let err = dso.fails(&["advisories", "sync", "--url", "ftp://127.0.0.1/all.zip"]);
    assert!(err.contains("unsupported scheme `ftp`"), "{err}");
}

#[test]
fn advisory_import_leaves_no_large_write_ahead_log() {
    let dso = with_advisories();
    let wal = dso.db_path().with_extension("db-wal");
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    // Without the checkpoint the import's pages stay in the log (the
    // process exits without closing its connections).
    assert_eq!(size, 0, "the import's log is folded into the database");
}
