//! `dso scan secrets` and `dso scan sast` end to end: formats, exit codes,
//! allow-lists, git history and errors, run through the real binary.

use super::Dso;

/// A GitHub-classic-shaped token built at run time (no secret in the source).
fn github_token(seed: u64) -> String {
    let chars: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .collect();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let body: String = (0..36)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chars[(state % chars.len() as u64) as usize]
        })
        .collect();
    format!("ghp_{body}")
}

fn write(dso: &Dso, rel: &str, text: &str) {
    let path = dso.path().join(rel);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn scan_secrets_formats_redact_and_exit_codes() {
    let dso = Dso::new();
    let token = github_token(7);
    write(&dso, "src/settings.py", &format!("GITHUB = '{token}'\n"));
    write(
        &dso,
        "Cargo.lock",
        "[[package]]\nname = \"a\"\nchecksum = \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n",
    );

    let table = dso.ok(&["scan", "secrets", "."]);
    assert!(
        table.contains("github-pat") && table.contains("src/settings.py:1:11"),
        "{table}"
    );
    assert!(table.contains("ghp_…"));

    let json = dso.json(&["scan", "secrets", "."]);
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["rule_id"], "github-pat");
    assert_eq!(findings[0]["cwe"], "CWE-798");
    assert_eq!(json["n_files"], 2);

    let sarif: serde_json::Value =
        serde_json::from_str(&dso.ok(&["scan", "secrets", ".", "--format", "sarif"]))
            .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "github-pat");

    for out in [table, json.to_string(), sarif.to_string()] {
        assert!(!out.contains(&token[..12]), "secret leaked: {out}");
    }

    let out = dso.run(&["scan", "secrets", ".", "--fail-on-findings"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(
        dso.path().join("src/settings.py"),
        format!("GITHUB = '{token}'  # dso:allow\n"),
    )
    .expect("write");
    let out = dso.run(&["scan", "secrets", ".", "--fail-on-findings"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn scan_secrets_git_history_finds_deleted_secrets() {
    let dso = Dso::new();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(dso.path())
            .args([
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@example.org",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    write(
        &dso,
        "deploy.sh",
        &format!("export GH={}\n", github_token(9)),
    );
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "oops"]);
    std::fs::write(dso.path().join("deploy.sh"), "export GH=$GH\n").expect("write");
    git(&["commit", "-q", "-am", "fix"]);

    assert_eq!(
        dso.json(&["scan", "secrets", "."])["findings"],
        serde_json::json!([])
    );
    let json = dso.json(&["scan", "secrets", ".", "--git-history"]);
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["path"], "deploy.sh");
    assert_eq!(findings[0]["commit"].as_str().map(str::len), Some(40));
}

#[test]
fn scan_secrets_errors_name_the_file_and_line() {
    let dso = Dso::new();
    write(&dso, ".dsoignore", "# ok\n*.pem\nfingerprint:zz\n");
    let err = dso.fails(&["scan", "secrets", "."]);
    assert!(err.contains(".dsoignore:3") && err.contains("zz"), "{err}");
    let err = dso.fails(&["scan", "secrets", "no/such/dir"]);
    assert!(err.contains("no/such/dir"), "{err}");
    let err = dso.fails(&["scan", "secrets", ".", "--git-history"]);
    assert!(err.contains("git"), "{err}");
}

#[test]
fn scan_sast_formats_user_rules_and_exit_codes() {
    let dso = Dso::new();
    write(
        &dso,
        "app/run.py",
        "import os, yaml\n\ndef run(cmd):\n    os.system(cmd)\n    return yaml.load(open('c.yml'))\n",
    );
    write(
        &dso,
        "web/a.ts",
        "export const f = (s: string) => eval(s);\n",
    );
    write(
        &dso,
        "svc/main.go",
        "package main\nimport \"crypto/tls\"\nvar c = &tls.Config{InsecureSkipVerify: true}\n",
    );
    write(&dso, "README.md", "os.system(x)\n");

    let json = dso.json(&["scan", "sast", "."]);
    let got: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_owned(),
                f["rule_id"].as_str().expect("rule").to_owned(),
                f["disposition"].as_str().expect("disposition").to_owned(),
            )
        })
        .collect();
    let expect = |p: &str, r: &str, d: &str| (p.to_owned(), r.to_owned(), d.to_owned());
    assert_eq!(
        got,
        [
            expect("app/run.py", "py-os-system", "needs-review"),
            expect("app/run.py", "py-yaml-load-unsafe", "confirmed"),
            expect("svc/main.go", "go-tls-insecure-skip-verify", "confirmed"),
            expect("web/a.ts", "js-eval", "needs-review"),
        ]
    );
    assert_eq!(json["n_files"], 3);

    let table = dso.ok(&["scan", "sast", "."]);
    assert!(
        table.contains("app/run.py:4:5") && table.contains("CWE-78"),
        "{table}"
    );

    let sarif: serde_json::Value =
        serde_json::from_str(&dso.ok(&["scan", "sast", ".", "--format", "sarif"]))
            .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(4)
    );

    assert_eq!(
        dso.run(&["scan", "sast", ".", "--fail-on-findings"])
            .status
            .code(),
        Some(1)
    );

    // User rules only: an informational rule does not fail the build.
    write(
        &dso,
        "rules/print.yml",
        "id: no-print\nlanguage: python\nseverity: info\nmessage: print\nmetadata: { cwe: CWE-532, disposition: informational }\nrule:\n  pattern: print($$$A)\n",
    );
    write(&dso, "lib/p.py", "print('hi')\n");
    let json = dso.json(&["scan", "sast", "lib", "--no-builtin", "--rules", "rules"]);
    assert_eq!(json["findings"][0]["rule_id"], "no-print");
    assert_eq!(json["n_rules"], 1);
    let out = dso.run(&[
        "scan",
        "sast",
        "lib",
        "--no-builtin",
        "--rules",
        "rules",
        "--fail-on-findings",
    ]);
    assert_eq!(out.status.code(), Some(0));

    let listed = dso.json(&["scan", "sast", "--list-rules"]);
    assert!(listed.as_array().map(Vec::len).unwrap_or(0) >= 30);
}

#[test]
fn scan_sast_bad_rules_name_the_file_and_line() {
    let dso = Dso::new();
    write(
        &dso,
        "rules/bad.yml",
        "id: x\nlanguage: python\nrule:\n  pattern: eval($A)\n  bogus: 1\n",
    );
    let err = dso.fails(&["scan", "sast", ".", "--rules", "rules"]);
    assert!(
        err.contains("rules/bad.yml: invalid rule: line 3 column 1: unknown field `bogus`"),
        "{err}"
    );
    let err = dso.fails(&["scan", "sast", "nowhere"]);
    assert!(err.contains("nowhere"), "{err}");
}
