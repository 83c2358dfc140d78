//! Tests of the SAST scanner: every built-in rule on a positive and a
//! negative snippet, real CPython files, user rules, suppression and SARIF.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::*;

fn builtin() -> &'static RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("the built-in pack loads"))
}

fn ids(lang: SastLang, path: &str, source: &str) -> BTreeSet<String> {
    scan_source(builtin(), lang, path, source)
        .into_iter()
        .map(|f| f.rule_id)
        .collect()
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sast")
        .join(rel)
}

/// (rule id, file name, code that must match, near miss that must not).
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "py-subprocess-shell-true",
        "a.py",
        "subprocess.run(cmd, shell=True)",
        "subprocess.run(['ls', path], shell=False)",
    ),
    (
        "py-os-system",
        "a.py",
        "os.system('rm -rf ' + path)",
        "os.path.join(a, b)\n# os.system(x) in a comment",
    ),
    (
        "py-eval",
        "a.py",
        "value = eval(user_input)",
        "value = ast.literal_eval(user_input)",
    ),
    (
        "py-exec",
        "a.py",
        "exec(code, namespace)",
        "executor.submit(job)",
    ),
    (
        "py-pickle-load",
        "a.py",
        "obj = pickle.loads(blob)",
        "data = json.loads(blob)",
    ),
    (
        "py-yaml-load-unsafe",
        "a.py",
        "cfg = yaml.load(stream)",
        "cfg = yaml.load(stream, Loader=yaml.SafeLoader)",
    ),
    (
        "py-sql-string-building",
        "a.py",
        "cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)",
        "cur.execute(\"SELECT * FROM users WHERE name = ?\", (name,))",
    ),
    (
        "py-weak-hash",
        "a.py",
        "token = hashlib.md5(password).hexdigest()",
        "etag = hashlib.md5(body, usedforsecurity=False).hexdigest()",
    ),
    (
        "py-tls-verify-disabled",
        "a.py",
        "requests.get(url, verify=False)",
        "requests.get(url, verify=True)",
    ),
    (
        "py-ssl-unverified-context",
        "a.py",
        "ctx = ssl._create_unverified_context()",
        "ctx = ssl.create_default_context()",
    ),
    (
        "py-hardcoded-password",
        "a.py",
        "DB_PASSWORD = 'hunter2-prod'",
        "DB_PASSWORD = os.environ['DB_PASSWORD']",
    ),
    (
        "py-tempfile-mktemp",
        "a.py",
        "path = tempfile.mktemp()",
        "fd, path = tempfile.mkstemp()",
    ),
    (
        "py-flask-debug",
        "a.py",
        "app.run(host='0.0.0.0', debug=True)",
        "app.run(host='127.0.0.1', debug=False)",
    ),
    (
        "js-eval",
        "a.js",
        "const v = eval(req.query.expr);",
        "const v = JSON.parse(req.query.expr);",
    ),
    (
        "js-child-process-exec",
        "a.js",
        "child_process.exec('ls ' + dir, cb);",
        "child_process.execFile('ls', [dir], cb);",
    ),
    (
        "js-spawn-shell-true",
        "a.js",
        "spawn(cmd, args, { shell: true });",
        "spawn(cmd, args, { shell: false });",
    ),
    (
        "js-tls-reject-unauthorized",
        "a.js",
        "https.request({ host, rejectUnauthorized: false });",
        "https.request({ host, rejectUnauthorized: true });",
    ),
    (
        "js-sql-string-building",
        "a.js",
        "db.query(`SELECT * FROM users WHERE id = ${id}`);",
        "db.query('SELECT * FROM users WHERE id = $1', [id]);",
    ),
    (
        "js-inner-html",
        "a.js",
        "el.innerHTML = userComment;",
        "el.innerHTML = '<b>static</b>';",
    ),
    (
        "js-document-write",
        "a.js",
        "document.write(location.hash);",
        "documentFragment.append(node);",
    ),
    (
        "js-weak-hash",
        "a.js",
        "crypto.createHash('md5').update(pw).digest('hex');",
        "crypto.createHash('sha256').update(pw).digest('hex');",
    ),
    (
        "js-hardcoded-secret",
        "a.js",
        "const apiKey = 'a8f5f167f44f4964e6c998dee827110c';",
        "const apiKey = process.env.API_KEY;",
    ),
    (
        "js-unsafe-deserialization",
        "a.js",
        "const obj = serialize.unserialize(req.body);",
        "const obj = JSON.parse(req.body);",
    ),
    (
        "go-exec-shell",
        "a.go",
        "package main\nfunc f() { exec.Command(\"sh\", \"-c\", cmd).Run() }",
        "package main\nfunc f() { exec.Command(\"ls\", \"-l\", dir).Run() }",
    ),
    (
        "go-tls-insecure-skip-verify",
        "a.go",
        "package main\nvar c = &tls.Config{InsecureSkipVerify: true}",
        "package main\nvar c = &tls.Config{InsecureSkipVerify: false}",
    ),
    (
        "go-weak-hash",
        "a.go",
        "package main\nfunc f() { h := md5.New(); _ = h }",
        "package main\nfunc f() { h := sha256.New(); _ = h }",
    ),
    (
        "go-sql-string-building",
        "a.go",
        "package main\nfunc f() { db.Query(fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)) }",
        "package main\nfunc f() { db.Query(\"SELECT * FROM t WHERE id = $1\", id) }",
    ),
    (
        "go-hardcoded-credential",
        "a.go",
        "package main\nconst dbPassword = \"s3cr3t-value\"",
        "package main\nconst dbPasswordEnv = \"DB\"\nvar timeout = \"30s\"",
    ),
    (
        "java-runtime-exec",
        "A.java",
        "class A { void f() throws Exception { Runtime.getRuntime().exec(cmd); } }",
        "class A { void f() { Runtime.getRuntime().availableProcessors(); } }",
    ),
    (
        "java-processbuilder-shell",
        "A.java",
        "class A { void f() { new ProcessBuilder(\"sh\", \"-c\", cmd).start(); } }",
        "class A { void f() { new ProcessBuilder(\"ls\", \"-l\", dir).start(); } }",
    ),
    (
        "java-sql-string-building",
        "A.java",
        "class A { void f() { stmt.executeQuery(\"SELECT * FROM t WHERE id = \" + id); } }",
        "class A { void f() { PreparedStatement p = conn.prepareStatement(\"SELECT * FROM t WHERE id = ?\"); } }",
    ),
    (
        "java-object-input-stream",
        "A.java",
        "class A { Object f(InputStream in) throws Exception { return new ObjectInputStream(in).readObject(); } }",
        "class A { void f(OutputStream out) throws Exception { new ObjectOutputStream(out); } }",
    ),
    (
        "java-weak-hash",
        "A.java",
        "class A { void f() throws Exception { MessageDigest.getInstance(\"MD5\"); } }",
        "class A { void f() throws Exception { MessageDigest.getInstance(\"SHA-256\"); } }",
    ),
    (
        "java-weak-cipher",
        "A.java",
        "class A { void f() throws Exception { Cipher.getInstance(\"DES/CBC/PKCS5Padding\"); } }",
        "class A { void f() throws Exception { Cipher.getInstance(\"AES/GCM/NoPadding\"); } }",
    ),
    (
        "java-trust-all-certificates",
        "A.java",
        "class T implements X509TrustManager { public void checkServerTrusted(X509Certificate[] c, String a) { } }",
        "class T implements X509TrustManager { public void checkServerTrusted(X509Certificate[] c, String a) throws CertificateException { delegate.checkServerTrusted(c, a); } }",
    ),
    (
        "java-hardcoded-password",
        "A.java",
        "class A { private String dbPassword = \"hunter2-prod\"; }",
        "class A { private String dbPassword = System.getenv(\"DB_PASSWORD\"); }",
    ),
    (
        "rs-tls-verification-disabled",
        "a.rs",
        "fn f() { let c = Client::builder().danger_accept_invalid_certs(true).build(); }",
        "fn f() { let c = Client::builder().danger_accept_invalid_certs(false).build(); }",
    ),
    (
        "rs-command-shell",
        "a.rs",
        "fn f() { Command::new(\"sh\").arg(\"-c\").arg(cmd).status(); }",
        "fn f() { Command::new(\"git\").arg(\"status\").status(); }",
    ),
    (
        "rs-weak-hash",
        "a.rs",
        "fn f() { let d = md5::compute(data); }",
        "fn f() { let d = Sha256::digest(data); }",
    ),
    (
        "rs-sql-format",
        "a.rs",
        "async fn f() { sqlx::query(&format!(\"SELECT * FROM t WHERE id = {id}\")).execute(&pool).await; }",
        "async fn f() { sqlx::query(\"SELECT * FROM t WHERE id = $1\").bind(id).execute(&pool).await; }",
    ),
    (
        "rs-hardcoded-credential",
        "a.rs",
        "const API_TOKEN: &str = \"tok-8f3a9c2d1e\";",
        "const API_TOKEN_ENV: &str = \"API\";\nlet timeout = \"30s\";",
    ),
];

#[test]
fn builtin_pack_has_30_rules_each_with_cwe_and_disposition() {
    let rules = builtin().rules();
    assert!(rules.len() >= 30, "only {} rules", rules.len());
    let langs: BTreeSet<SastLang> = rules.iter().map(|r| r.language).collect();
    for lang in [
        SastLang::Rust,
        SastLang::Python,
        SastLang::JavaScript,
        SastLang::Go,
        SastLang::Java,
    ] {
        assert!(langs.contains(&lang), "no rule for {lang:?}");
    }
    for rule in rules {
        assert!(!rule.cwes.is_empty(), "{} has no CWE", rule.id);
        assert!(!rule.message.is_empty(), "{} has no message", rule.id);
        assert!(rule.origin.starts_with("builtin:"));
    }
    let dispositions: BTreeSet<Disposition> = rules.iter().map(|r| r.disposition).collect();
    assert!(
        dispositions.contains(&Disposition::Confirmed)
            && dispositions.contains(&Disposition::NeedsReview)
    );
}

#[test]
fn every_builtin_rule_matches_its_positive_and_not_its_negative() {
    let tested: BTreeSet<&str> = CASES.iter().map(|c| c.0).collect();
    let mut failures = Vec::new();
    for rule in builtin().rules() {
        if !tested.contains(rule.id.as_str()) {
            failures.push(format!("{}: no test case", rule.id));
        }
    }
    for (id, file, positive, negative) in CASES {
        let lang = SastLang::from_extension(Path::new(file)).expect("known extension");
        let found = ids(lang, file, positive);
        if !found.contains(*id) {
            failures.push(format!(
                "{id}: positive not matched (found {found:?}): {positive}"
            ));
        }
        let found = ids(lang, file, negative);
        if found.contains(*id) {
            failures.push(format!("{id}: negative matched: {negative}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn javascript_rules_also_run_on_typescript_and_tsx() {
    let ts = "const v: number = eval(input as string);";
    assert!(ids(SastLang::TypeScript, "a.ts", ts).contains("js-eval"));
    let tsx = "const C = () => { el.innerHTML = props.html; return <div/>; };";
    assert!(ids(SastLang::Tsx, "a.tsx", tsx).contains("js-inner-html"));
    // Listed once, as written.
    assert_eq!(
        builtin()
            .rules()
            .iter()
            .filter(|r| r.id == "js-eval")
            .count(),
        1
    );
}

#[test]
fn finding_positions_messages_and_fingerprints() {
    let source = "import os\n\ndef f(cmd):\n    os.system(cmd)\n";
    let findings = scan_source(builtin(), SastLang::Python, "pkg/f.py", source);
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!((f.line, f.column, f.end_line, f.end_column), (4, 5, 4, 19));
    assert_eq!(f.snippet, "os.system(cmd)");
    assert_eq!(f.cwes, ["CWE-78"]);
    assert_eq!(f.disposition, Disposition::NeedsReview);
    let shifted = scan_source(
        builtin(),
        SastLang::Python,
        "pkg/f.py",
        &format!("\n\n{source}"),
    );
    assert_eq!(shifted[0].fingerprint, f.fingerprint);
    assert_eq!(shifted[0].line, 6);
    let twice = scan_source(
        builtin(),
        SastLang::Python,
        "pkg/f.py",
        &format!("{source}    os.system(cmd)\n"),
    );
    assert_ne!(twice[0].fingerprint, twice[1].fingerprint);
}

#[test]
fn suppression_comments() {
    let source = "os.system(a)  # dso:allow reviewed\n# ast-grep-ignore: py-os-system\nos.system(b)\nos.system(c)\n";
    let lines: Vec<usize> = scan_source(builtin(), SastLang::Python, "a.py", source)
        .iter()
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, [4]);
}

#[test]
fn real_cpython_files() {
    let report =
        scan_path(&data("cpython-3.11.7"), builtin(), &SastConfig::default()).expect("scan");
    assert_eq!(report.n_files, 6);
    let found: Vec<(String, usize, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.rule_id.clone()))
        .collect();
    let expected: Vec<(String, usize, String)> = [
        ("_bootsubprocess.py", 80, "py-os-system"),
        ("mailcap.py", 191, "py-os-system"),
        ("mailcap.py", 281, "py-os-system"),
        ("pipes.py", 163, "py-os-system"),
        ("pipes.py", 171, "py-os-system"),
        ("pipes.py", 174, "py-os-system"),
        ("poplib.py", 335, "py-weak-hash"),
        ("rlcompleter.py", 155, "py-eval"),
    ]
    .iter()
    .map(|(p, l, r)| (p.to_string(), *l, r.to_string()))
    .collect();
    // Not matched: pipes.py:53 mentions os.popen() in a docstring, and
    // antigravity.py:15 calls md5 with usedforsecurity=False.
    assert_eq!(found, expected);
}

#[test]
fn real_ast_grep_rule_file_loads_and_matches_like_ast_grep() {
    let rules =
        RuleSet::load(false, &[data("ast-grep-py-dangerous.yml")]).expect("ast-grep rules load");
    assert_eq!(rules.rules().len(), 6);
    assert!(
        rules
            .rules()
            .iter()
            .all(|r| r.disposition == Disposition::NeedsReview && r.cwes.is_empty())
    );
    let report = scan_path(&data("cpython-3.11.7"), &rules, &SastConfig::default()).expect("scan");
    let per_rule: BTreeMap<&str, usize> =
        report.findings.iter().fold(BTreeMap::new(), |mut m, f| {
            *m.entry(f.rule_id.as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        per_rule,
        BTreeMap::from([("py-eval", 1), ("py-os-system", 6)])
    );
}

#[test]
fn user_rule_directories_and_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("team")).expect("mkdir");
    std::fs::write(
        dir.path().join("team/no-print.yaml"),
        "id: no-print\nlanguage: Python\nseverity: info\nmessage: print in library code\nmetadata: { cwe: CWE-532, disposition: informational }\nrule: { pattern: print($$$A) }\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a rule").expect("write");
    let rules = RuleSet::load(true, &[dir.path().to_owned()]).expect("load");
    assert_eq!(rules.rules().len(), builtin().rules().len() + 1);
    let findings = scan_source(&rules, SastLang::Python, "a.py", "print(x)\nos.system(y)\n");
    let got: Vec<(&str, Disposition)> = findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.disposition))
        .collect();
    assert_eq!(
        got,
        [
            ("no-print", Disposition::Informational),
            ("py-os-system", Disposition::NeedsReview)
        ]
    );

    let cases = [
        (
            "id: a\nlanguage: cobol\nrule: { pattern: x }\n",
            "unsupported language `cobol`",
        ),
        ("id: b\nlanguage: python\nrule: { patern: x }\n", "patern"),
        (
            "id: c\nlanguage: python\nmetadata: { disposition: maybe }\nrule: { pattern: x }\n",
            "expected confirmed, needs-review or informational",
        ),
        (
            "id: d\nlanguage: python\nmetadata: { cwe: 78 }\nrule: { pattern: x }\n",
            "CWE-<number>",
        ),
        (
            "id: py-eval\nlanguage: python\nrule: { pattern: eval($X) }\n",
            "defined twice",
        ),
        (
            "id: e\nlanguage: python\nrule: { kind: no_such_kind }\n",
            "rule `e`",
        ),
        ("id: f\nlanguage: python\nrule: [unclosed\n", "bad.yml"),
    ];
    for (text, expected) in cases {
        let path = dir.path().join("bad.yml");
        std::fs::write(&path, text).expect("write");
        let err = match RuleSet::load(true, &[path]) {
            Ok(_) => panic!("rule accepted: {text}"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("bad.yml") && err.contains(expected), "{err}");
    }
    assert!(matches!(
        RuleSet::load(true, &[dir.path().join("missing")]),
        Err(SastError::Read { .. })
    ));
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let report =
        scan_path(&data("cpython-3.11.7"), builtin(), &SastConfig::default()).expect("scan");
    let log =
        serde_json::to_value(sarif_log(builtin().rules(), &report.findings)).expect("serialises");
    crate::secrets::tests::validate_sarif(&log);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), report.findings.len());
    assert_eq!(results[0]["properties"]["disposition"], "needs-review");
    let rule = &log["runs"][0]["tool"]["driver"]["rules"]
        [results[0]["ruleIndex"].as_u64().expect("index") as usize];
    assert_eq!(rule["id"], results[0]["ruleId"]);
    assert_eq!(rule["properties"]["cwe"][0], "CWE-78");
}

#[test]
fn prefilter_requirements_are_conservative() {
    use super::prefilter::requirement;
    let req = |yaml: &str| {
        let value: serde_json::Value = serde_json::from_str(yaml).expect("json");
        requirement(&value)
    };
    let words = |ws: &[&str]| Some(ws.iter().map(|w| w.to_string()).collect::<Vec<_>>());
    assert_eq!(req(r#"{"pattern": "os.system($$$A)"}"#), words(&["system"]));
    assert_eq!(req(r#"{"pattern": "$F($$$A)"}"#), None);
    assert_eq!(req(r#"{"kind": "call"}"#), None);
    assert_eq!(
        req(r#"{"kind": "call", "has": {"has": {"regex": "^shell$"}}}"#),
        words(&["shell"])
    );
    assert_eq!(
        req(r#"{"any": [{"pattern": "os.system($A)"}, {"pattern": "os.popen($A)"}]}"#),
        words(&["popen", "system"])
    );
    assert_eq!(
        req(r#"{"any": [{"pattern": "os.system($A)"}, {"kind": "call"}]}"#),
        None
    );
    assert_eq!(req(r#"{"regex": "(?i)password"}"#), None);
    assert_eq!(req(r#"{"not": {"pattern": "eval($A)"}}"#), None);
    assert_eq!(
        req(r#"{"all": [{"kind": "call"}, {"pattern": "yaml.load($$$A)"}]}"#),
        words(&["yaml"])
    );
}

#[test]
fn prefilter_does_not_change_results_on_real_code() {
    // Every built-in rule's positive sample still matches with the filter on
    // (the filter is always on); here also check a file the filter must not skip.
    let source = "import subprocess\nsubprocess.call(x, shell=True)\n";
    assert!(ids(SastLang::Python, "a.py", source).contains("py-subprocess-shell-true"));
    assert_eq!(
        ids(SastLang::Python, "a.py", "print('nothing dangerous')\n"),
        BTreeSet::new()
    );
}
