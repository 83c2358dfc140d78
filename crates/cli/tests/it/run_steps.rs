//! Built-in pipeline steps (`uses: dso/sca`, `dso/secrets`, `dso/sast`,
//! `dso/sbom`, `dso/gate`) and security reports (`reports: sarif`,
//! `cyclonedx`) in `dso run`, on real repositories, real fixtures from the
//! assurance crate, and SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use crate::Dso;
use crate::pipeline::{git, repo, run};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assurance/tests/data")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(data(rel)).expect("fixture exists")
}

fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// An AWS access key id made at run time (no secret in the source).
fn aws_key() -> String {
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".chars().collect();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let body: String = (0..16)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            alphabet[(state % alphabet.len() as u64) as usize]
        })
        .collect();
    format!("AKIA{body}")
}

/// Serves the schemas the CycloneDX schema refers to, from the vendored copies.
struct Vendored;

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        match name {
            "spdx.schema.json" | "jsf-0.82.schema.json" => {
                Ok(json_file(&data(&format!("schemas/{name}"))))
            }
            _ => Err(format!("not vendored: {uri}").into()),
        }
    }
}

fn schema_errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

const SCANS: &str = r##"
jobs:
  sca:
    activity: sca
    uses: dso/sca
  secrets:
    activity: secrets
    uses: dso/secrets
  sast:
    activity: sast-l1
    uses: dso/sast
    with: { path: src, builtin: "true" }
  sbom:
    activity: sbom
    uses: dso/sbom
  semgrep:
    activity: sast-l1
    # Absolute file URIs, as many tools write them.
    run: |
      sed "s#\"uri\":\"#\"uri\":\"file://$PWD/#" fixtures/semgrep.sarif > semgrep.sarif
      grep -q "file://$PWD/app/handler.py" semgrep.sarif
      cp fixtures/bad.sarif bad.sarif
    reports:
      sarif: [semgrep.sarif, bad.sarif]
      cyclonedx: fixtures/app.cdx.json
"##;

/// The rows of `dso findings list --run RUN`.
fn run_findings(dso: &Dso, run: &str) -> Vec<serde_json::Value> {
    dso.json(&["findings", "list", "--run", run])
        .as_array()
        .expect("a list")
        .clone()
}

fn by_job<'a>(rows: &'a [serde_json::Value], job: &str) -> Vec<&'a serde_json::Value> {
    rows.iter().filter(|r| r["job"] == job).collect()
}

fn import_advisories(dso: &Dso) {
    for dir in ["rustsec", "ghsa"] {
        dso.ok(&[
            "advisories",
            "import",
            data(&format!("advisories/{dir}")).to_str().expect("utf-8"),
        ]);
    }
}

fn scans_end_to_end(dso: &Dso) {
    import_advisories(dso);
    let key = aws_key();
    let lock = read("lockfiles/Cargo.lock");
    // A CycloneDX report made by dso itself from the same lockfile.
    let cdx_dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(cdx_dir.path().join("Cargo.lock"), &lock).expect("write");
    let cdx = dso.ok(&["sbom", cdx_dir.path().to_str().expect("utf-8")]);
    let repo = repo(
        dso,
        SCANS,
        &[
            ("Cargo.lock", &lock),
            ("config/deploy.env", &format!("aws_access_key_id = {key}\n")),
            (
                "src/app.py",
                "import sys\n\n\ndef main():\n    return eval(sys.argv[1])\n",
            ),
            (
                "fixtures/semgrep.sarif",
                &read("sarif/semgrep/semgrep.sarif"),
            ),
            (
                "fixtures/bad.sarif",
                &read("sarif/bad/line-not-a-number.sarif"),
            ),
            ("fixtures/app.cdx.json", &cdx),
        ],
    );
    let (code, out, err) = run(dso, &repo, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    // Steps print like other jobs.
    assert!(out.contains("[sca"), "{out}");
    assert!(out.contains("[dso] sca: 8 packages in 1 lockfile"), "{out}");
    // A malformed report is a located warning; the job keeps its status.
    assert!(
        out.contains("[dso] report rejected: bad.sarif:2: field `runs[0].results[0].locations[0].physicalLocation.region.startLine`"),
        "{out}"
    );
    assert!(!out.contains(&key), "the key leaked into the output: {out}");

    let show = dso.json(&["runs", "show", "1"]);
    for job in show["jobs"].as_array().expect("jobs") {
        assert_eq!(job["status"], "success", "{job}");
    }

    // Every scanner's findings are stored and linked to the run.
    let rows = run_findings(dso, "1");
    let sca = by_job(&rows, "sca");
    assert!(
        sca.iter()
            .any(|r| r["rule"] == "RUSTSEC-2021-0079" && r["status"] == "new"),
        "hyper's advisory is found: {sca:?}"
    );
    let secrets = by_job(&rows, "secrets");
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    assert_eq!(secrets[0]["rule"], "aws-access-key-id");
    assert_eq!(
        secrets[0]["location"], "config/deploy.env:1",
        "paths are relative to the repository"
    );
    let sast = by_job(&rows, "sast");
    assert!(
        sast.iter()
            .any(|r| r["rule"] == "py-eval" && r["location"] == "src/app.py:5"),
        "{sast:?}"
    );
    let semgrep = by_job(&rows, "semgrep");
    let expected = dso_assurance_results("sarif/semgrep/semgrep.sarif");
    assert_eq!(semgrep.len(), expected, "{semgrep:?}");
    let tool = json_file(&data("sarif/semgrep/semgrep.sarif"))["runs"][0]["tool"]["driver"]["name"]
        .clone();
    assert!(semgrep.iter().all(|r| r["scanner"] == tool), "{semgrep:?}");
    assert!(
        semgrep
            .iter()
            .all(|r| r["scope"] == "pipeline:product/semgrep:semgrep.sarif")
    );

    // The secret is redacted in the log, which says what was found.
    let log = dso.ok(&["logs", "1", "secrets"]);
    assert!(
        log.contains("high aws-access-key-id config/deploy.env:1"),
        "{log}"
    );
    assert!(!log.contains(&key) && !log.contains(&key[4..]), "{log}");
    let sast_log = dso.ok(&["logs", "1", "sast"]);
    assert!(sast_log.contains("[dso] sast: 1 finding"), "{sast_log}");

    // SBOMs: the step's and the report, stored with the run.
    let sboms = show["sboms"].as_array().expect("sboms");
    assert_eq!(sboms.len(), 2, "{sboms:?}");
    let step_sbom = sboms.iter().find(|s| s["job"] == "sbom").expect("step");
    assert_eq!(step_sbom["name"], "sbom.cdx.json");
    assert_eq!(step_sbom["format"], "cyclonedx-json");
    assert_eq!(step_sbom["components"], 8);
    let report_sbom = sboms
        .iter()
        .find(|s| s["job"] == "semgrep")
        .expect("report");
    assert_eq!(report_sbom["name"], "fixtures/app.cdx.json");
    assert_eq!(report_sbom["components"], 8);

    // Artifacts: each scanner's SARIF log and the SBOM, valid against the
    // official schemas.
    let artifacts = dso.json(&["artifacts", "1"]);
    let stored = |path: &str| -> serde_json::Value {
        let a = artifacts
            .as_array()
            .expect("artifacts")
            .iter()
            .find(|a| a["path"] == path)
            .unwrap_or_else(|| panic!("no artifact {path} in {artifacts}"));
        json_file(Path::new(a["stored_at"].as_str().expect("stored_at")))
    };
    let cdx_validator = jsonschema::options()
        .with_retriever(Vendored)
        .build(&json_file(&data("schemas/cyclonedx-bom-1.6.schema.json")))
        .expect("the CycloneDX schema compiles");
    let bom = stored("sbom.cdx.json");
    assert_eq!(schema_errors(&cdx_validator, &bom), Vec::<String>::new());
    assert_eq!(bom["components"].as_array().expect("components").len(), 8);
    assert_eq!(bom["metadata"]["component"]["name"], "product");
    let sarif_validator =
        jsonschema::validator_for(&json_file(&data("schemas/sarif-schema-2.1.0.json")))
            .expect("the SARIF schema compiles");
    for name in ["sca.sarif", "secrets.sarif", "sast.sarif"] {
        let log = stored(name);
        assert_eq!(
            schema_errors(&sarif_validator, &log),
            Vec::<String>::new(),
            "{name}"
        );
        assert!(!log.to_string().contains(&key), "{name} holds the key");
    }

    // A second run without hyper: its finding is fixed, and no longer
    // linked to the new run; the other findings stay open.
    let hyper_id = sca
        .iter()
        .find(|r| r["rule"] == "RUSTSEC-2021-0079")
        .expect("found above")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let without: String = lock
        .split("\n[[package]]")
        .filter(|block| !block.contains("name = \"hyper\""))
        .collect::<Vec<_>>()
        .join("\n[[package]]");
    assert!(!without.contains("name = \"hyper\""));
    std::fs::write(repo.join("Cargo.lock"), without).expect("write");
    git(&repo, &["commit", "-qam", "drop hyper"]);
    let (code, out, err) = run(dso, &repo, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let finding = dso.json(&["findings", "show", &hyper_id]);
    assert_eq!(finding["status"], "fixed", "{finding}");
    let rows = run_findings(dso, "2");
    let sca2 = by_job(&rows, "sca");
    assert!(!sca2.is_empty());
    assert!(sca2.iter().all(|r| r["id"] != hyper_id.as_str()));
    assert!(sca2.iter().all(|r| r["status"] == "new"), "{sca2:?}");
    assert!(
        sca2.iter().all(|r| r["finding"]["package"] != "hyper"),
        "{sca2:?}"
    );
    // The report's findings are the same findings in both runs, although
    // each run had its own absolute paths.
    let semgrep2 = by_job(&rows, "semgrep");
    assert_eq!(semgrep2.len(), expected);
    assert!(
        semgrep2.iter().all(|r| r["status"] == "new"
            && r["location"]
                .as_str()
                .is_some_and(|l| l.starts_with("app/handler.py"))),
        "{semgrep2:?}"
    );
    // Run 1 still shows what it saw, with the finding's current status.
    let rows1 = run_findings(dso, "1");
    let old = rows1
        .iter()
        .find(|r| r["id"] == hyper_id.as_str())
        .expect("still linked to run 1");
    assert_eq!(old["status"], "fixed");
}

/// How many results of a SARIF fixture are findings.
fn dso_assurance_results(rel: &str) -> usize {
    let log = json_file(&data(rel));
    log["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|r| r["results"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["suppressions"].is_null() && r["kind"].is_null())
        .count()
}

#[test]
fn security_steps_store_findings_and_sboms_on_sqlite() {
    scans_end_to_end(&Dso::init());
}

#[test]
fn security_steps_store_findings_and_sboms_on_postgres() {
    Dso::on_postgres(|dso, _| scans_end_to_end(&dso));
}

#[test]
fn unknown_steps_and_inputs_are_located_errors() {
    let dso = Dso::init();
    let repo = repo(
        &dso,
        "jobs:\n  scan:\n    activity: sca\n    uses: dso/scan\n  sbom:\n    activity: sbom\n    uses: dso/sbom\n    with: { formt: spdx-json, format: xml, output: ../x.json }\n",
        &[],
    );
    let (code, _, err) = run(&dso, &repo, &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains(".dso/pipeline.yaml:4:11") && err.contains("unknown step `dso/scan`"),
        "{err}"
    );
    assert!(err.contains("did you mean `dso/sca`"), "{err}");
    assert!(
        err.contains(".dso/pipeline.yaml:8:13") && err.contains("unknown input `formt`"),
        "{err}"
    );
    assert!(err.contains("did you mean `format`"), "{err}");
    assert!(
        err.contains("input `format` of job `sbom` is `xml`")
            && err.contains("cyclonedx-json, spdx-json"),
        "{err}"
    );
    assert!(err.contains("path `../x.json` in input `output`"), "{err}");
    assert!(dso.json(&["runs"]).as_array().expect("runs").is_empty());
}

#[test]
fn a_step_path_missing_from_the_commit_fails_the_job_naming_it() {
    let dso = Dso::init();
    let repo = repo(
        &dso,
        "jobs:\n  scan:\n    activity: secrets\n    uses: dso/secrets\n    with: { path: nowhere }\n",
        &[("README", "hello\n")],
    );
    let (code, out, _) = run(&dso, &repo, &[]);
    assert_eq!(code, 1, "{out}");
    let show = dso.json(&["runs", "show", "1"]);
    let job = &show["jobs"][0];
    assert_eq!(job["status"], "failed");
    assert!(
        job["detail"]
            .as_str()
            .expect("detail")
            .contains("job `scan`: input `path`: `nowhere` does not exist"),
        "{job}"
    );
    let log = dso.ok(&["logs", "1", "scan"]);
    assert!(log.contains("[dso] error: job `scan`"), "{log}");

    // A symbolic link out of the work directory is refused too.
    std::os::unix::fs::symlink("/etc", repo.join("outside")).expect("symlink");
    std::fs::write(
        repo.join(".dso/pipeline.yaml"),
        "jobs:\n  scan:\n    activity: secrets\n    uses: dso/secrets\n    with: { path: outside }\n",
    )
    .expect("write");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "scan a link"]);
    let (code, out, _) = run(&dso, &repo, &[]);
    assert_eq!(code, 1, "{out}");
    let show = dso.json(&["runs", "show", "2"]);
    assert!(
        show["jobs"][0]["detail"]
            .as_str()
            .expect("detail")
            .contains("input `path`: path `outside` leaves the work directory"),
        "{show}"
    );
}

#[test]
fn the_gate_step_fails_on_deny_and_logs_its_violations() {
    let dso = Dso::init();
    let pipeline = r#"
jobs:
  sca:
    activity: sca
    uses: dso/sca
  gate:
    needs: [sca]
    activity: policy-gate
    uses: dso/gate
  custom-gate:
    needs: [sca]
    activity: policy-gate
    uses: dso/gate
    with: { policies: policy }
"#;
    let policy = "package dso.gate\n\nviolations contains v if {\n\tinput.coverage > 1000\n\tv := {\"rule\": \"never\", \"message\": \"unreachable\", \"ids\": []}\n}\n";
    let repo = repo(
        &dso,
        pipeline,
        &[
            ("Cargo.lock", &read("lockfiles/Cargo.lock")),
            ("policy/allow.rego", policy),
        ],
    );
    let (code, out, _) = run(&dso, &repo, &[]);
    assert_eq!(code, 1, "{out}");
    // No advisory database: a warning, not a silent pass.
    let sca_log = dso.ok(&["logs", "1", "sca"]);
    assert!(
        sca_log.contains("[dso] warning: the advisory database is empty"),
        "{sca_log}"
    );
    let show = dso.json(&["runs", "show", "1"]);
    let jobs = show["jobs"].as_array().expect("jobs");
    let status = |name: &str| {
        jobs.iter()
            .find(|j| j["job"] == name)
            .map(|j| j["status"].as_str().unwrap_or_default().to_owned())
            .expect("job")
    };
    assert_eq!(status("sca"), "success");
    assert_eq!(status("gate"), "failed");
    assert_eq!(status("custom-gate"), "success");
    assert_eq!(show["status"], "failed");
    let log = dso.ok(&["logs", "1", "gate"]);
    // The default pack denies a run without coverage and without an SBOM.
    let decision = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdeventsx.dso.gate.evaluated.0.1.0",
    ]);
    let denied = decision
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["data"]["decision"] == "deny")
        .expect("a deny decision");
    let violations = denied["data"]["violations"].as_array().expect("violations");
    assert!(!violations.is_empty());
    for v in violations {
        let line = format!(
            "  {}: {}",
            v["rule"].as_str().expect("rule"),
            v["message"].as_str().expect("message")
        );
        assert!(log.contains(&line), "{line} missing from {log}");
    }
    assert!(log.contains("[dso] gate: deny"), "{log}");
    let custom = dso.ok(&["logs", "1", "custom-gate"]);
    assert!(
        custom.contains("policies policy/allow.rego") && custom.contains("[dso] gate: allow"),
        "{custom}"
    );
}
