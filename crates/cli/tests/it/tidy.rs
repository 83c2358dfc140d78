//! Architecture invariants from ARCHITECTURE.md, checked on every `cargo test`.

use std::path::{Path, PathBuf};

const DOMAIN_CRATES: [&str; 7] = [
    "governance",
    "design",
    "devtest",
    "assurance",
    "operational",
    "monitoring",
    "analysis",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn manifest(krate: &str) -> toml::Table {
    let path = root().join("crates").join(krate).join("Cargo.toml");
    std::fs::read_to_string(&path).unwrap().parse().unwrap()
}

fn dependencies(krate: &str) -> Vec<String> {
    manifest(krate)
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map_or(Vec::new(), |t| t.keys().cloned().collect())
}

fn crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_store_speaks_sql() {
    for krate in crates() {
        let deps = dependencies(&krate);
        if krate != "store" {
            assert!(
                !deps.iter().any(|d| d.starts_with("sqlx")),
                "crate {krate} depends on sqlx"
            );
        }
    }
}

#[test]
fn only_the_server_speaks_http() {
    for krate in crates() {
        let deps = dependencies(&krate);
        if krate != "server" {
            for server_side in ["axum", "hyper", "tower", "tower-http"] {
                assert!(
                    !deps.iter().any(|d| d == server_side),
                    "crate {krate} depends on {server_side}"
                );
            }
        }
    }
}

#[test]
fn domain_crates_are_pure() {
    for krate in DOMAIN_CRATES {
        for dep in dependencies(krate) {
            let forbidden = [
                "sqlx",
                "axum",
                "hyper",
                "reqwest",
                "clap",
                "tokio",
                "dso-store",
                "dso-app",
                "dso-cli",
            ];
            assert!(
                !forbidden.contains(&dep.as_str()),
                "domain crate {krate} depends on {dep}"
            );
            let other_domain = DOMAIN_CRATES
                .iter()
                .any(|d| dep == format!("dso-{d}") && *d != krate);
            assert!(
                !other_domain,
                "domain crate {krate} depends on another domain crate, {dep}"
            );
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("bench"), &mut files);
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        assert!(
            first.starts_with("//!"),
            "{} does not start with a `//!` doc",
            file.display()
        );
    }
}

#[test]
fn no_should_panic_or_ignore() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Spelled in two pieces so that this file does not match itself.
        for banned in [concat!("#[", "should_panic"), concat!("#[", "ignore")] {
            assert!(!text.contains(banned), "{} uses {banned}]", file.display());
        }
    }
}
