//! Users, roles, tokens, the RBAC policy, requirements, backlog and
//! exchanges, driven through the real binary as a new user would.

use std::process::Output;

use crate::Dso;

fn as_token(dso: &Dso, token: &str, args: &[&str]) -> Output {
    dso.command(args)
        .env("DSO_TOKEN", token)
        .output()
        .expect("running dso")
}

fn ok_as(dso: &Dso, token: &str, args: &[&str]) -> String {
    let out = as_token(dso, token, args);
    assert!(
        out.status.success(),
        "dso {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails_as(dso: &Dso, token: &str, args: &[&str]) -> String {
    let out = as_token(dso, token, args);
    assert!(
        !out.status.success(),
        "dso {args:?} unexpectedly succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// Adds a user with roles and returns a new token for them.
fn user_with_token(dso: &Dso, name: &str, roles: &[&str]) -> String {
    let mut args = vec!["user", "add", name];
    for r in roles {
        args.extend(["--role", r]);
    }
    dso.ok(&args);
    dso.ok(&["token", "create", "--user", name])
        .trim()
        .to_owned()
}

fn events(dso: &Dso) -> Vec<serde_json::Value> {
    dso.json(&["audit", "log"]).as_array().unwrap().clone()
}

fn access_scenario(dso: &Dso) {
    let pat = user_with_token(dso, "pat", &["product-owner"]);
    let dev = user_with_token(dso, "dev", &["software-developer"]);
    let carol = user_with_token(dso, "carol", &["compliance"]);
    let ann = user_with_token(dso, "ann", &["architect"]);
    std::fs::write(dso.path().join("concept.md"), "# Concept\nWe build it.\n").unwrap();

    // A new user without the sending role is refused, with the message, and the refusal is logged.
    let err = fails_as(
        dso,
        &dev,
        &[
            "exchange",
            "send",
            "--item",
            "IE11",
            "--to",
            "architect",
            "concept.md",
        ],
    );
    assert!(
        err.contains("forbidden: dev (software-developer) may not exchange.send on exchange IE11 Product Concept (product-management → architect)"),
        "{err}"
    );
    // A role that may send exchanges, but not this one (Table 2).
    let err = fails_as(
        dso,
        &ann,
        &[
            "exchange",
            "send",
            "--item",
            "IE11",
            "--to",
            "architect",
            "concept.md",
        ],
    );
    assert!(
        err.contains("forbidden: ann (architect) may not exchange.send"),
        "{err}"
    );
    assert!(
        err.contains("Table 2: only the product-management (product-owner, program-manager)"),
        "{err}"
    );
    let denied: Vec<_> = events(dso)
        .into_iter()
        .filter(|e| e["type"] == "dev.cdeventsx.dso.access.denied.0.1.0")
        .collect();
    assert_eq!(denied.len(), 2);
    assert_eq!(denied[0]["actor"], "dev");
    assert_eq!(denied[0]["data"]["action"], "exchange.send");

    // The sender's role is checked, the receiver answers.
    let out = ok_as(
        dso,
        &pat,
        &[
            "exchange",
            "send",
            "--item",
            "IE11",
            "--to",
            "architect",
            "concept.md",
        ],
    );
    assert!(
        out.contains("sent DOC-1 (IE11 Product Concept v1, OE12) to architect"),
        "{out}"
    );
    let err = fails_as(dso, &pat, &["exchange", "ack", "DOC-1"]);
    assert!(
        err.contains("forbidden: pat (product-owner) may not exchange.respond"),
        "{err}"
    );
    ok_as(
        dso,
        &ann,
        &["exchange", "return", "DOC-1", "--note", "too vague"],
    );
    let err = fails_as(dso, &ann, &["exchange", "ack", "DOC-1"]);
    assert!(err.contains("already returned by ann"), "{err}");
    ok_as(
        dso,
        &pat,
        &[
            "exchange",
            "send",
            "--item",
            "IE11",
            "--to",
            "architect",
            "concept.md",
        ],
    );
    ok_as(dso, &ann, &["exchange", "ack", "DOC-2"]);
    let docs = dso.json(&["exchange", "list"]);
    assert_eq!(docs[1]["version"], 2);
    assert_eq!(docs[1]["state"], "acknowledged");
    assert_eq!(docs[1]["responder_role"], "architect");
    let sent = events(dso)
        .into_iter()
        .find(|e| e["type"] == "dev.cdeventsx.dso.exchange.sent.0.1.0")
        .unwrap();
    assert_eq!(
        (sent["actor"].as_str(), sent["actorrole"].as_str()),
        (Some("pat"), Some("product-owner"))
    );

    // Compliance reads everything and changes nothing.
    ok_as(dso, &carol, &["audit", "verify"]);
    ok_as(dso, &carol, &["exchange", "show", "DOC-1"]);
    ok_as(dso, &carol, &["user", "list"]);
    let err = fails_as(dso, &carol, &["backlog", "add", "--title", "x"]);
    assert!(
        err.contains("forbidden: carol (compliance) may not backlog.write on backlog"),
        "{err}"
    );
    // Pipelines: everyone with a role reads runs; secrets need secret.manage.
    ok_as(dso, &carol, &["runs"]);
    let err = fails_as(dso, &dev, &["secret", "list"]);
    assert!(
        err.contains("forbidden: dev (software-developer) may not secret.manage on secrets"),
        "{err}"
    );
    // A developer cannot read the audit log or manage users.
    fails_as(dso, &dev, &["audit", "log"]);
    let err = fails_as(dso, &dev, &["role", "grant", "dev", "security-engineer"]);
    assert!(err.contains("may not role.manage on user dev"), "{err}");
    // Claiming a role one does not hold is refused.
    dso.ok(&["role", "grant", "dev", "devops-engineer"]);
    ok_as(
        dso,
        &dev,
        &[
            "event",
            "emit",
            "--type",
            "x.built",
            "--role",
            "devops-engineer",
        ],
    );
    let err = fails_as(
        dso,
        &dev,
        &[
            "event",
            "emit",
            "--type",
            "x.built",
            "--role",
            "security-engineer",
        ],
    );
    assert!(
        err.contains("does not hold the role `security-engineer`"),
        "{err}"
    );

    // No token secret ever reaches the log.
    let log = serde_json::to_string(&events(dso)).unwrap();
    for token in [&pat, &dev, &carol, &ann] {
        let secret = token.rsplit('_').next().unwrap();
        assert_eq!(secret.len(), 64);
        assert!(!log.contains(secret), "a token secret is in the log");
    }
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
}

#[test]
fn access_on_sqlite() {
    access_scenario(&Dso::init());
}

#[test]
fn access_on_postgres() {
    Dso::on_postgres(|dso, _| access_scenario(&dso));
}

#[test]
fn expired_revoked_and_forged_tokens_are_refused() {
    let dso = Dso::init();
    let bob = user_with_token(&dso, "bob", &["software-developer"]);
    ok_as(&dso, &bob, &["backlog", "list"]);

    let expired = dso
        .ok(&[
            "token",
            "create",
            "--user",
            "bob",
            "--expires",
            "2020-01-01T00:00:00Z",
        ])
        .trim()
        .to_owned();
    let err = fails_as(&dso, &expired, &["backlog", "list"]);
    assert!(
        err.contains("token refused: the token expired at 2020-01-01T00:00:00.000000Z"),
        "{err}"
    );

    let id = bob.split('_').nth(1).unwrap();
    // Revoking by id; the owner may revoke anyone's.
    assert!(
        dso.ok(&["token", "revoke", id])
            .contains(&format!("revoked {id}"))
    );
    let err = fails_as(&dso, &bob, &["backlog", "list"]);
    assert!(
        err.contains("token refused: the token was revoked at"),
        "{err}"
    );

    // A well-formed token with a wrong secret, and garbage.
    let forged = format!("dso_{id}_{}", "0".repeat(64));
    let err = fails_as(&dso, &forged, &["backlog", "list"]);
    assert!(err.contains("token refused: the token is unknown"), "{err}");
    let err = fails_as(&dso, "hunter2", &["backlog", "list"]);
    assert!(
        err.contains("token refused: the token is malformed"),
        "{err}"
    );

    // --token works like DSO_TOKEN.
    let fresh = dso
        .ok(&["token", "create", "--user", "bob"])
        .trim()
        .to_owned();
    dso.ok(&["--token", &fresh, "backlog", "list"]);
    dso.ok(&["user", "disable", "bob"]);
    let err = dso.fails(&["--token", &fresh, "backlog", "list"]);
    assert!(err.contains("user bob is disabled"), "{err}");
    dso.ok(&["user", "enable", "bob"]);
    let statuses = |dso: &Dso| -> Vec<String> {
        dso.json(&["token", "list", "--all"])
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(statuses(&dso), ["revoked", "expired", "active"]);
    dso.ok(&["token", "revoke", "--user", "bob", "--all"]);
    assert_eq!(statuses(&dso), ["revoked", "revoked", "revoked"]);
    dso.fails(&["--token", &fresh, "backlog", "list"]);

    // Each refusal is an event naming the token id, never the token.
    let log = events(&dso);
    let refused: Vec<_> = log
        .iter()
        .filter(|e| e["type"] == "dev.cdeventsx.dso.token.refused.0.1.0")
        .collect();
    assert_eq!(refused.len(), 5, "{refused:?}");
    assert_eq!(
        refused[0]["data"]["reason"],
        "the token expired at 2020-01-01T00:00:00.000000Z"
    );
    let text = serde_json::to_string(&log).unwrap();
    for token in [&bob, &expired, &fresh, &forged] {
        assert!(!text.contains(token.rsplit('_').next().unwrap()));
    }
}

#[test]
fn read_only_tokens_and_own_tokens() {
    let dso = Dso::init();
    dso.ok(&["user", "add", "sam", "--role", "security-engineer"]);
    let ro = dso
        .ok(&["token", "create", "--user", "sam", "--scope", "read"])
        .trim()
        .to_owned();
    ok_as(&dso, &ro, &["audit", "log"]);
    let err = fails_as(&dso, &ro, &["backlog", "add", "--title", "x"]);
    assert!(
        err.contains("forbidden: sam (security-engineer) may not backlog.write"),
        "{err}"
    );
    // A user manages their own tokens but not others'.
    let all = dso
        .ok(&["token", "create", "--user", "sam"])
        .trim()
        .to_owned();
    let own = ok_as(&dso, &all, &["token", "create"]).trim().to_owned();
    assert!(own.starts_with("dso_"));
    let err = fails_as(&dso, &all, &["token", "create", "--user", "alice"]);
    assert!(
        err.contains("may not token.manage on tokens of user alice"),
        "{err}"
    );
    let mine = dso_json_as(&dso, &all, &["token", "list"]);
    assert_eq!(mine.as_array().unwrap().len(), 3);
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|t| t["user"] == "sam" && t.get("secret_hash").is_none())
    );
    // Passwords come from stdin and are stored as argon2id hashes.
    let mut child = dso
        .command(&["user", "passwd", "sam"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let users = dso.json(&["user", "list"]);
    assert_eq!(users[1]["has_password"], true);
    let log = serde_json::to_string(&events(&dso)).unwrap();
    assert!(!log.contains("correct horse"));
}

fn dso_json_as(dso: &Dso, token: &str, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&ok_as(dso, token, &args)).unwrap()
}

#[test]
fn rbac_policy_show_set_and_validation() {
    let dso = Dso::init();
    let shown = dso.ok(&["policy", "rbac", "show"]);
    assert!(shown.contains("@role(\"software-developer\")"));
    let matrix = dso.json(&["policy", "rbac", "show", "--matrix"]);
    assert_eq!(matrix.as_array().unwrap().len(), 41);
    assert!(
        dso.ok(&["policy", "rbac", "show", "--schema"])
            .contains("entity User in [Role]")
    );

    std::fs::write(
        dso.path().join("bad.cedar"),
        "permit(principal, action, resource)\nwhen { principal.nope };\n",
    )
    .unwrap();
    let err = dso.fails(&["policy", "rbac", "set", "bad.cedar"]);
    assert!(err.contains("bad.cedar:2:"), "{err}");

    std::fs::write(
        dso.path().join("lockout.cedar"),
        "forbid(principal, action, resource);\n",
    )
    .unwrap();
    let err = dso.fails(&["policy", "rbac", "set", "lockout.cedar"]);
    assert!(
        err.contains("would deny you (`alice`) policy.write"),
        "{err}"
    );

    // A policy where developers also write requirements.
    let text = format!(
        "{}\n@id(\"dev-req\")\n@role(\"software-developer\")\npermit(principal in Dso::Role::\"software-developer\", action == Dso::Action::\"requirement.write\", resource);\n",
        dso_governance::rbac::DEFAULT_POLICY
    );
    std::fs::write(dso.path().join("p.cedar"), text).unwrap();
    let dev = user_with_token(&dso, "dev", &["software-developer"]);
    fails_as(&dso, &dev, &["req", "add", "--title", "A"]);
    dso.ok(&["policy", "rbac", "set", "p.cedar"]);
    ok_as(&dso, &dev, &["req", "add", "--title", "A"]);
    // The stored policy is loaded from its compiled form; a compiled form
    // this dso cannot read (an older Cedar's, or none: a policy stored before
    // dso kept one) falls back to the text, which still grants the same.
    crate::audit::sqlite3(
        &dso,
        "UPDATE rbac_policies SET compiled_policies = '{\"staticPolicies\": 7}'",
    );
    ok_as(&dso, &dev, &["req", "add", "--title", "B"]);
    crate::audit::sqlite3(
        &dso,
        "UPDATE rbac_policies SET compiled_policies = NULL, compiled_actions = NULL",
    );
    ok_as(&dso, &dev, &["req", "add", "--title", "C"]);
    let updated = events(&dso)
        .into_iter()
        .find(|e| e["type"] == "dev.cdeventsx.dso.policy.updated.0.1.0")
        .unwrap();
    assert_eq!(updated["data"]["version"], 1);
}

#[test]
fn requirements_are_versioned_and_diffable() {
    let dso = Dso::init();
    dso.ok(&[
        "req",
        "add",
        "--title",
        "Platform",
        "--type",
        "nonfunctional",
    ]);
    dso.ok(&[
        "req",
        "add",
        "--title",
        "Log in",
        "--type",
        "security",
        "--priority",
        "high",
        "--parent",
        "REQ-1",
        "--text",
        "Users log in.\nWith a password.",
        "--arch-element",
        "auth",
    ]);
    dso.ok(&[
        "req",
        "edit",
        "REQ-2",
        "--text",
        "Users log in.\nWith a passkey.",
        "--status",
        "approved",
    ]);
    dso.ok(&["req", "edit", "REQ-2", "--arch-element", ""]);
    let history = dso.json(&["req", "history", "REQ-2"]);
    assert_eq!(history.as_array().unwrap().len(), 3);
    assert_eq!(history[1]["changes"][0]["field"], "status");
    assert_eq!(
        history[1]["changes"][1]["lines"],
        serde_json::json!([" Users log in.", "-With a password.", "+With a passkey."])
    );
    assert_eq!(history[2]["changes"][0]["field"], "arch_element");
    let shown = dso.json(&["req", "show", "REQ-2"]);
    assert_eq!(
        (shown["version"].as_i64(), shown["arch_element"].is_null()),
        (Some(3), true)
    );

    let err = dso.fails(&["req", "add", "--title", "X", "--type", "functionl"]);
    assert!(
        err.contains("field `type`: `functionl` is not one of functional, nonfunctional, security"),
        "{err}"
    );
    let err = dso.fails(&["req", "add", "--title", "X", "--parent", "REQ-9"]);
    assert!(err.contains("requirement `REQ-9` does not exist"), "{err}");
    let err = dso.fails(&["req", "edit", "REQ-2", "--status", "approved"]);
    assert!(err.contains("nothing to change"), "{err}");
    let err = dso.fails(&["req", "add", "--id", "REQ-1", "--title", "dup"]);
    assert!(err.contains("already exists"), "{err}");
    let updated = events(&dso)
        .into_iter()
        .filter(|e| e["type"] == "dev.cdeventsx.dso.requirement.updated.0.1.0")
        .count();
    assert_eq!(updated, 2);
}

#[test]
fn backlog_flow_moves_and_imports() {
    let dso = Dso::init();
    dso.ok(&["req", "add", "--title", "Log in"]);
    dso.ok(&[
        "backlog",
        "flow",
        "set",
        "--states",
        "todo,doing,done",
        "--transition",
        "todo:doing",
        "--transition",
        "doing:done",
        "--transition",
        "doing:todo",
    ]);
    dso.ok(&[
        "backlog",
        "add",
        "--title",
        "Login form",
        "--req",
        "REQ-1",
        "--estimate",
        "3",
        "--kind",
        "story",
    ]);
    dso.ok(&[
        "backlog",
        "add",
        "--title",
        "Fix crash",
        "--kind",
        "defect",
        "--depends-on",
        "BL-1",
    ]);
    let err = dso.fails(&["backlog", "move", "BL-1", "done"]);
    assert!(
        err.contains("the flow does not move todo to done; from todo it moves to doing"),
        "{err}"
    );
    dso.ok(&["backlog", "move", "BL-1", "doing"]);
    dso.ok(&["backlog", "move", "BL-1", "done"]);
    let log = events(&dso);
    let types: Vec<&str> = log.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "dev.cdevents.ticket.created.0.2.0")
            .count(),
        2
    );
    assert_eq!(types.last(), Some(&"dev.cdevents.ticket.closed.0.2.0"));
    let err = dso.fails(&["backlog", "flow", "set", "--states", "a,b"]);
    assert!(
        err.contains(
            "items would be left in states the flow does not have: BL-1 (done), BL-2 (todo)"
        ),
        "{err}"
    );

    std::fs::write(
        dso.path().join("items.csv"),
        "Title,Type,Status,Points,Requirements\nA,Bug,Doing,2,REQ-1\nB,story,Blocked,1,\n",
    )
    .unwrap();
    let out = dso.run(&["backlog", "import", "items.csv"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 items: BL-3, BL-4"));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("items.csv:3: status `Blocked` is not in the flow; placed in `todo`")
    );
    std::fs::write(dso.path().join("bad.csv"), "title,points\nA,1\nB,many\n").unwrap();
    let err = dso.fails(&["backlog", "import", "bad.csv"]);
    assert!(
        err.contains("bad.csv:3: field `estimate`: `many` is not a number"),
        "{err}"
    );

    std::fs::write(
        dso.path().join("jira.json"),
        r#"{"issues": [
          {"key": "PROJ-1", "fields": {"summary": "Story one", "issuetype": {"name": "Story"}, "status": {"name": "Done"}, "customfield_10016": 5}},
          {"key": "PROJ-2", "fields": {"summary": "Bug two", "issuetype": {"name": "Bug"}, "status": {"name": "To Do"},
            "issuelinks": [{"type": {"name": "Blocks"}, "inwardIssue": {"key": "PROJ-1"}}, {"type": {"name": "Blocks"}, "inwardIssue": {"key": "OTHER-9"}}]}}
        ]}"#,
    )
    .unwrap();
    assert!(
        dso.ok(&["backlog", "import", "jira.json"])
            .contains("imported 2 items: PROJ-1, PROJ-2")
    );
    let items = dso.json(&["backlog", "list", "--kind", "defect"]);
    let keys: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["BL-2", "BL-3", "PROJ-2"]);
    assert_eq!(items[2]["depends_on"], serde_json::json!(["PROJ-1"]));
    let done = dso.json(&["backlog", "list", "--state", "done"]);
    assert_eq!(done.as_array().unwrap().len(), 2);
    let err = dso.fails(&["backlog", "import", "jira.json"]);
    assert!(
        err.contains("jira.json: issues[0] (PROJ-1): field `key`: item `PROJ-1` already exists"),
        "{err}"
    );
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fixture: six requirements, items linked to five, commits mentioning
/// four items, a JUnit report and a mapping file; each requirement lands in
/// a known class.
#[test]
fn trace_classifies_every_requirement() {
    let dso = Dso::init();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trace");
    for n in 1..=6 {
        dso.ok(&["req", "add", "--title", &format!("Requirement {n}")]);
    }
    // REQ-1: commit + passing test named after it → verified.
    // REQ-2: commit + mapped failing test → failing.
    // REQ-3: item done, no commit, no test → untested.
    // REQ-4: item without commits → not implemented. REQ-5: nothing → not implemented.
    // REQ-6: commit + skipped test only → untested.
    for (req, title) in [
        ("REQ-1", "login"),
        ("REQ-2", "lockout"),
        ("REQ-3", "docs"),
        ("REQ-4", "later"),
        ("REQ-6", "audit"),
    ] {
        dso.ok(&["backlog", "add", "--title", title, "--req", req]);
    }
    for state in ["ready", "in-progress", "review", "done"] {
        dso.ok(&["backlog", "move", "BL-3", state]);
    }
    let repo = dso.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(
        &repo,
        &["commit", "-q", "--allow-empty", "-m", "BL-1: login form"],
    );
    git(
        &repo,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Lockout (BL-2)\n\nAlso touches BL-5, BL-12.",
        ],
    );
    git(
        &repo,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "chore: nothing linked",
        ],
    );
    git(
        &repo,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "audit trail for BL-5",
        ],
    );
    let out = dso.ok(&["trace", "link-commits", "--repo", "repo"]);
    assert!(out.contains("scanned 4 commits, linked 4"), "{out}");
    // Linking again adds nothing (and appends no event).
    assert!(
        dso.ok(&["trace", "link-commits", "--repo", "repo"])
            .contains("linked 0")
    );
    let map = fixtures.join("map.txt");
    assert!(
        dso.ok(&["trace", "map", map.to_str().unwrap()])
            .contains("mapped 1")
    );

    let junit = fixtures.join("junit.xml");
    let traces = dso.json(&["trace", "--junit", junit.to_str().unwrap()]);
    let got: Vec<(String, String)> = traces
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["requirement"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("REQ-1", "verified"),
        ("REQ-2", "failing"),
        ("REQ-3", "untested"),
        ("REQ-4", "not-implemented"),
        ("REQ-5", "not-implemented"),
        ("REQ-6", "untested"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert_eq!(
        traces[0]["tests"][0]["case"],
        "auth.test_REQ_1_login_with_password"
    );
    assert_eq!(traces[1]["commits"].as_array().unwrap().len(), 1);

    // One requirement, as a table.
    let out = dso.ok(&["trace", "REQ-1", "--junit", junit.to_str().unwrap()]);
    assert!(
        out.contains("verified") && out.contains("BL-1") && out.contains("1 row"),
        "{out}"
    );
    let err = dso.fails(&["trace", "REQ-99"]);
    assert!(err.contains("unknown requirement `REQ-99`"), "{err}");
    std::fs::write(
        dso.path().join("broken.xml"),
        "<testsuite>\n<testcase name='a'>\n</testsuite>",
    )
    .unwrap();
    let err = dso.fails(&["trace", "--junit", "broken.xml"]);
    assert!(err.contains("broken.xml:"), "{err}");
}

#[test]
fn gate_denies_a_critical_finding_until_accepted_and_again_after_expiry() {
    let dso = Dso::init();
    let input = |state: &str, now: &str| {
        serde_json::json!({
            "now": now,
            "findings": [{"id": "F-7", "tool": "sca", "title": "CVE-2026-1234 in left-pad", "severity": "critical",
                          "state": state, "accepted_until": "2026-07-01T00:00:00.000000Z"}],
            "secrets": [],
            "tests": [{"name": "unit.a", "outcome": "passed"}],
            "coverage": 85,
            "sbom": true
        })
        .to_string()
    };
    std::fs::write(
        dso.path().join("new.json"),
        input("new", "2026-06-01T00:00:00.000000Z"),
    )
    .unwrap();
    std::fs::write(
        dso.path().join("accepted.json"),
        input("accepted", "2026-06-01T00:00:00.000000Z"),
    )
    .unwrap();
    std::fs::write(
        dso.path().join("expired.json"),
        input("accepted", "2026-07-02T00:00:00.000000Z"),
    )
    .unwrap();

    let out = dso.run(&["gate", "eval", "--input", "new.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gate: deny"), "{text}");
    assert!(
        text.contains("no-unwaived-critical-high: critical finding F-7"),
        "{text}"
    );
    assert!(
        dso.ok(&["gate", "eval", "--input", "accepted.json"])
            .contains("gate: allow")
    );
    let out = dso.json_allow_failure(&["gate", "eval", "--input", "expired.json"]);
    assert_eq!(out["allow"], false);
    assert_eq!(out["violations"][0]["rule"], "no-expired-risk-acceptance");
    assert_eq!(out["violations"][0]["ids"], serde_json::json!(["F-7"]));

    let decisions: Vec<_> = events(&dso)
        .into_iter()
        .filter(|e| e["type"] == "dev.cdeventsx.dso.gate.evaluated.0.1.0")
        .map(|e| e["data"]["decision"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(decisions, ["deny", "allow", "deny"]);

    // Compliance reads but does not run gates.
    let carol = user_with_token(&dso, "carol", &["compliance"]);
    let err = fails_as(&dso, &carol, &["gate", "eval", "--input", "new.json"]);
    assert!(
        err.contains("forbidden: carol (compliance) may not pipeline.run on gate new.json"),
        "{err}"
    );
}

#[test]
fn policy_test_runs_rego_tests_and_reports_syntax_errors() {
    let dso = Dso::init();
    let out = dso.ok(&["policy", "test"]);
    assert!(out.contains("7 passed, 0 failed"), "{out}");
    std::fs::write(
        dso.path().join("mine.rego"),
        "package mine\n\ntest_ok if { 1 == 1 }\n\ntest_broken if { 1 == 2 }\n",
    )
    .unwrap();
    let out = dso.run(&["policy", "test", "mine.rego"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL data.mine.test_broken"));
    std::fs::write(
        dso.path().join("bad.rego"),
        "package bad\n\nallow if {\n  input.x ==\n}\n",
    )
    .unwrap();
    let err = dso.fails(&["policy", "test", "bad.rego"]);
    assert!(err.contains("bad.rego:"), "{err}");
}

/// A pipeline run's stored JUnit results and its commit (which mentions
/// PROJ-7) complete the chain: `dso trace --run 1`.
#[test]
fn trace_reads_a_pipeline_run() {
    let dso = Dso::init();
    dso.ok(&["req", "add", "--title", "Log in"]);
    dso.ok(&["req", "add", "--title", "Lock out"]);
    std::fs::write(
        dso.path().join("items.csv"),
        "key,title,requirements\nPROJ-7,Login,REQ-1\nPROJ-8,Lockout,REQ-2\n",
    )
    .unwrap();
    dso.ok(&["backlog", "import", "items.csv"]);
    let junit = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trace/junit.xml"),
    )
    .unwrap();
    let pipeline = r#"
jobs:
  test:
    activity: unit-test
    run: cp fixtures/junit.xml .
    reports: { junit: junit.xml }
    artifacts: [junit.xml]
"#;
    let repo = crate::pipeline::repo(&dso, pipeline, &[("fixtures/junit.xml", &junit)]);
    let (code, out, err) = crate::pipeline::run(&dso, &repo, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let traces = dso.json(&["trace", "--run", "1"]);
    assert_eq!(traces[0]["status"], "verified", "{traces}");
    assert_eq!(traces[0]["items"], serde_json::json!(["PROJ-7"]));
    assert_eq!(traces[0]["commits"].as_array().unwrap().len(), 1);
    assert_eq!(traces[1]["status"], "not-implemented", "{traces}");
    let err = dso.fails(&["trace", "--run", "9"]);
    assert!(err.contains("unknown run `9`"), "{err}");

    // A release made from the run is judged by that run's results: the same
    // classification; and a second run without tests leaves it unchanged.
    dso.ok(&["release", "create", "1.0.0", "--run", "1"]);
    std::fs::write(repo.join("fixtures/junit.xml"), "<testsuites/>\n").unwrap();
    crate::pipeline::git(&repo, &["commit", "-qam", "no tests"]);
    let (code, out, err) = crate::pipeline::run(&dso, &repo, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let by_release = dso.json(&["trace", "--release", "1.0.0"]);
    assert_eq!(by_release, traces);
    let by_run2 = dso.json(&["trace", "--run", "2"]);
    assert_eq!(by_run2[0]["status"], "untested", "{by_run2}");
    let out = dso.ok(&["trace", "--release", "1.0.0"]);
    assert!(out.contains("REQ-1") && out.contains("verified"), "{out}");
    let err = dso.fails(&["trace", "--release", "9.9.9"]);
    assert!(err.contains("unknown release `9.9.9`"), "{err}");
    let err = dso.fails(&["trace", "--release", "1.0.0", "--run", "1"]);
    assert!(err.contains("cannot be used with"), "{err}");

    // The gate over the same run: a failing test, no coverage, no SBOM.
    let decision = dso.json_allow_failure(&["gate", "eval", "--run", "1"]);
    assert_eq!(decision["allow"], false);
    let rules: Vec<&str> = decision["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["all-tests-pass", "coverage", "sbom-present"]);
    assert_eq!(
        decision["violations"][0]["ids"],
        serde_json::json!(["auth.lockout_after_five_failures"])
    );
}

/// Runs `scenario` in a workspace on PostgreSQL, when DSO_TEST_POSTGRES_URL is set.
fn on_postgres(scenario: fn(&Dso)) {
    Dso::on_postgres(|dso, _| scenario(&dso));
}

/// IE15, IE22, IE23 and IE24 travel on the routes derived from the process
/// flows: the sending performer's roles send, the receiving performer's
/// roles answer, anyone else is refused with the forbidden message.
fn flow_routes_scenario(dso: &Dso) {
    let pm = user_with_token(dso, "pia", &["project-manager"]);
    let po = user_with_token(dso, "pat", &["product-owner"]);
    let ann = user_with_token(dso, "ann", &["architect"]);
    let biz = user_with_token(dso, "bea", &["business-analyst"]);
    let dev = user_with_token(dso, "dev", &["software-developer"]);
    std::fs::write(
        dso.path().join("plan.md"),
        "# Product plan 2027\nQ1: MVP.\n",
    )
    .unwrap();
    let send = |token: &str, item: &str, to: &str| {
        as_token(
            dso,
            token,
            &["exchange", "send", "--item", item, "--to", to, "plan.md"],
        )
    };

    // IE23 Product Plan: from the Planning Engineer (P4-12) to Product Management.
    let out = send(&pm, "IE23", "product-management");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("IE23 Product Plan v1, P4-12/IE23/product-management"),
        "{stdout}"
    );
    // The product owner answers it; the architect may not (not its receiver).
    let err = fails_as(dso, &ann, &["exchange", "ack", "DOC-1"]);
    assert!(
        err.contains("forbidden: ann (architect) may not exchange.respond on exchange DOC-1"),
        "{err}"
    );
    assert!(
        err.contains(
            "the process flows: only the product-management (product-owner, program-manager)"
        ),
        "{err}"
    );
    ok_as(dso, &po, &["exchange", "ack", "DOC-1"]);

    // The wrong sender: a product owner may not send the product plan.
    let out = send(&po, "IE23", "architect");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("forbidden: pat (product-owner) may not exchange.send on exchange IE23 Product Plan (planning-engineer → architect)"),
        "{err}"
    );
    // A role with no exchange permission at all.
    let out = send(&dev, "IE15", "architect");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("forbidden: dev (software-developer) may not exchange.send on exchange IE15 Business Plan and Processes (business-expert → architect)"),
        "{err}"
    );
    // A receiver the flows do not name.
    let out = send(&pm, "IE22", "business-expert");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the model does not send IE22 (System Plans) to `business-expert`; it goes to architect or planning-engineer"),
        "{err}"
    );

    // IE15 from the Business Expert to the Architect, returned with a note;
    // IE22 to the Architect; IE24 from Product Management to Planning.
    let out = send(&biz, "IE15", "architect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok_as(
        dso,
        &ann,
        &["exchange", "return", "DOC-2", "--note", "no SLAs yet"],
    );
    assert!(send(&pm, "IE22", "architect").status.success());
    ok_as(dso, &ann, &["exchange", "ack", "DOC-3"]);
    assert!(send(&po, "IE24", "planning-engineer").status.success());
    ok_as(dso, &pm, &["exchange", "ack", "DOC-4"]);

    let docs = dso.json(&["exchange", "list"]);
    let got: Vec<(&str, &str, &str, &str)> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["item"].as_str().unwrap(),
                d["exchange"].as_str().unwrap(),
                d["state"].as_str().unwrap(),
                d["responder_role"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "IE23",
                "P4-12/IE23/product-management",
                "acknowledged",
                "product-owner"
            ),
            ("IE15", "P4-7/IE15/architect", "returned", "architect"),
            ("IE22", "P4-12/IE22/architect", "acknowledged", "architect"),
            (
                "IE24",
                "P4-11/IE24/planning-engineer",
                "acknowledged",
                "project-manager"
            ),
        ]
    );
    let evs = events(dso);
    let count = |ty: &str| evs.iter().filter(|e| e["type"] == ty).count();
    assert_eq!(count("dev.cdeventsx.dso.exchange.sent.0.1.0"), 4);
    assert_eq!(count("dev.cdeventsx.dso.exchange.acknowledged.0.1.0"), 3);
    assert_eq!(count("dev.cdeventsx.dso.exchange.returned.0.1.0"), 1);
    assert_eq!(count("dev.cdeventsx.dso.access.denied.0.1.0"), 3);
    let sent = evs
        .iter()
        .find(|e| e["type"] == "dev.cdeventsx.dso.exchange.sent.0.1.0")
        .unwrap();
    assert_eq!(sent["actorrole"], "project-manager");
    assert_eq!(sent["data"]["exchange"], "P4-12/IE23/product-management");
}

#[test]
fn flow_routes_on_sqlite() {
    flow_routes_scenario(&Dso::init());
}

#[test]
fn flow_routes_on_postgres() {
    on_postgres(flow_routes_scenario);
}

fn assurance_data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assurance/tests/data")
        .join(rel)
        .canonicalize()
        .expect("fixture exists")
}

/// A finding becomes a backlog item in one command: the item says what the
/// finding says, the two are linked both ways, a second item for the same
/// finding is refused naming the first, and only roles with
/// `finding.ticket` may do it.
fn finding_to_item_scenario(dso: &Dso) {
    let rustsec = assurance_data("advisories/rustsec");
    dso.ok(&["advisories", "import", rustsec.to_str().unwrap()]);
    let tree = tempfile::tempdir().unwrap();
    std::fs::copy(
        assurance_data("lockfiles/Cargo.lock"),
        tree.path().join("Cargo.lock"),
    )
    .unwrap();
    dso.ok(&["scan", "sca", tree.path().to_str().unwrap()]);
    let clippy = assurance_data("sarif/clippy/clippy.sarif");
    dso.ok(&["findings", "import", "--sarif", clippy.to_str().unwrap()]);
    let sca = dso.json(&["findings", "list", "--scanner", "dso-sca"]);
    let tokio = sca
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "RUSTSEC-2021-0124")
        .expect("the tokio advisory matches the fixture lockfile");
    let tokio_id = tokio["id"].as_str().unwrap().to_owned();
    let lints = dso.json(&["findings", "list", "--scanner", "clippy"]);
    let lint_ids: Vec<String> = lints
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(lint_ids.len() >= 2, "{lints}");

    let sam = user_with_token(dso, "sam", &["security-engineer"]);
    let dev = user_with_token(dso, "dev", &["software-developer"]);
    let carol = user_with_token(dso, "carol", &["compliance"]);
    let ops = user_with_token(dso, "ops", &["infrastructure-engineer"]);

    let err = fails_as(
        dso,
        &carol,
        &["backlog", "add", "--from-finding", &tokio_id],
    );
    assert!(
        err.contains(&format!(
            "forbidden: carol (compliance) may not finding.ticket on finding {tokio_id}"
        )),
        "{err}"
    );
    // backlog.write alone is not enough.
    let err = fails_as(dso, &ops, &["backlog", "add", "--from-finding", &tokio_id]);
    assert!(
        err.contains("forbidden: ops (infrastructure-engineer) may not finding.ticket"),
        "{err}"
    );

    let item: serde_json::Value = serde_json::from_str(&ok_as(
        dso,
        &sam,
        &[
            "backlog",
            "add",
            "--from-finding",
            &tokio_id,
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(item["key"], "BL-1");
    assert_eq!(item["kind"], "security");
    assert_eq!(item["finding"], tokio_id.as_str());
    let title = item["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!(
            "[{}] RUSTSEC-2021-0124: ",
            tokio["severity"].as_str().unwrap()
        )),
        "{title}"
    );
    let description = item["description"].as_str().unwrap();
    for want in [
        format!("Finding {tokio_id} (dso-sca, "),
        "/Cargo.lock:".to_owned(),
        "Package: tokio ".to_owned(),
        "Advisory: RUSTSEC-2021-0124".to_owned(),
        "Fixed in: 1.8.4".to_owned(),
    ] {
        assert!(description.contains(&want), "{want}\n{description}");
    }

    // A second item for the same finding is refused, naming the first; nothing is stored.
    let err = fails_as(
        dso,
        &dev,
        &[
            "backlog",
            "add",
            "--from-finding",
            &tokio_id,
            "--kind",
            "defect",
        ],
    );
    assert!(
        err.contains(&format!("finding {tokio_id} already has backlog item BL-1")),
        "{err}"
    );
    assert_eq!(dso.json(&["backlog", "list"]).as_array().unwrap().len(), 1);

    // Shown both ways.
    let out = dso.ok(&["backlog", "show", "BL-1"]);
    assert!(out.contains(&format!("finding: {tokio_id}")), "{out}");
    let shown = dso.json(&["findings", "show", &tokio_id]);
    assert_eq!(shown["backlog_item"], "BL-1");
    let history: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        history.contains(&"dev.cdeventsx.dso.finding.ticketed.0.1.0"),
        "{history:?}"
    );
    let out = dso.ok(&["findings", "show", &tokio_id]);
    assert!(out.contains("backlog_item   BL-1"), "{out}");

    // A lint is a defect; a unique id prefix works; flags override.
    let out = ok_as(
        dso,
        &dev,
        &["backlog", "add", "--from-finding", &lint_ids[0][..10]],
    );
    assert!(
        out.contains(&format!(
            "added BL-2 (defect, new) from finding {}",
            lint_ids[0]
        )),
        "{out}"
    );
    let item: serde_json::Value = serde_json::from_str(&ok_as(
        dso,
        &dev,
        &[
            "backlog",
            "add",
            "--from-finding",
            &lint_ids[1],
            "--kind",
            "tech-debt",
            "--title",
            "Tidy the unwraps",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(
        (item["kind"].as_str(), item["title"].as_str()),
        (Some("tech-debt"), Some("Tidy the unwraps"))
    );
    assert!(
        item["description"]
            .as_str()
            .unwrap()
            .contains("(clippy, severity")
    );
    let err = fails_as(
        dso,
        &dev,
        &["backlog", "add", "--from-finding", "F-000000000000"],
    );
    assert!(err.contains("unknown finding `F-000000000000`"), "{err}");
    // A plain item has no finding.
    dso.ok(&["backlog", "add", "--title", "Plain"]);
    assert!(dso.json(&["backlog", "show", "BL-4"])["finding"].is_null());

    // The events: ticket.created naming the finding, finding.ticketed on it, in the actor's role.
    let evs = events(dso);
    let created = evs
        .iter()
        .find(|e| e["type"] == "dev.cdevents.ticket.created.0.2.0" && e["subject"] == "BL-1")
        .unwrap();
    assert_eq!(created["data"]["finding"], tokio_id.as_str());
    assert_eq!(created["actorrole"], "security-engineer");
    let ticketed: Vec<&serde_json::Value> = evs
        .iter()
        .filter(|e| e["type"] == "dev.cdeventsx.dso.finding.ticketed.0.1.0")
        .collect();
    assert_eq!(ticketed.len(), 3);
    assert_eq!(ticketed[0]["subject"], tokio_id.as_str());
    assert_eq!(ticketed[0]["data"]["item"], "BL-1");
    assert!(dso.json(&["audit", "verify"])["problem"].is_null());
}

#[test]
fn finding_to_item_on_sqlite() {
    finding_to_item_scenario(&Dso::init());
}

#[test]
fn finding_to_item_on_postgres() {
    on_postgres(finding_to_item_scenario);
}
