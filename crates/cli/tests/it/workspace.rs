//! `dso init` and workspace discovery.

use crate::Dso;

#[test]
fn init_creates_config_database_and_private_key() {
    let dso = Dso::init();
    let config = std::fs::read_to_string(dso.path().join("dso.toml")).unwrap();
    assert!(
        config.contains("name = \"test\"") && config.contains("owner = \"alice\""),
        "{config}"
    );
    assert!(
        config.contains("checkpoint_every = 1000"),
        "documented defaults: {config}"
    );
    assert!(dso.db_path().is_file());
    let key = dso.path().join("keys/audit-signing.key");
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The creation itself is the first event.
    let log = dso.json(&["audit", "log"]);
    assert_eq!(log[0]["type"], "dev.cdeventsx.dso.workspace.created.0.1.0");
    assert_eq!(log[0]["actor"], "alice");
}

#[test]
fn init_refuses_an_existing_workspace() {
    let dso = Dso::init();
    let key_before = std::fs::read(dso.path().join("keys/audit-signing.key")).unwrap();
    let err = dso.fails(&["init", "."]);
    assert!(err.contains("a dso workspace already exists"), "{err}");
    assert_eq!(
        std::fs::read(dso.path().join("keys/audit-signing.key")).unwrap(),
        key_before
    );
}

#[test]
fn commands_find_the_workspace_upward_or_from_dso_home() {
    let dso = Dso::init();
    let sub = dso.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let out = dso
        .command(&["audit", "verify"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let elsewhere = tempfile::tempdir().unwrap();
    let out = dso
        .command(&["audit", "verify"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no dso workspace found"),
        "{err}"
    );
    assert!(err.contains("dso init"), "help names the fix: {err}");

    let out = dso
        .command(&["audit", "verify"])
        .current_dir(elsewhere.path())
        .env("DSO_HOME", dso.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_bad_config_names_file_line_and_key() {
    let dso = Dso::init();
    let path = dso.path().join("dso.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        config.replace("checkpoint_every = 1000", "checkpoint_evry = 1000"),
    )
    .unwrap();
    let err = dso.fails(&["audit", "verify"]);
    assert!(
        err.contains("dso.toml:18:1: invalid configuration"),
        "{err}"
    );
    assert!(err.contains("checkpoint_evry"), "{err}");
}

#[test]
fn help_lists_every_command() {
    let dso = Dso::new();
    let help = dso.ok(&["--help"]);
    for cmd in ["init", "model", "event", "audit"] {
        assert!(help.contains(cmd), "{help}");
    }
    let help = dso.ok(&["audit", "verify", "--help"]);
    assert!(help.contains("changed, removed, inserted"), "{help}");
}
