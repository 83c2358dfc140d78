//! Lockfile parsing on real (and, where none was available, hand-written)
//! fixtures, and on one malformed file per defect.

use std::path::{Path, PathBuf};

use super::{LockKind, Package, detect, discover, parse};
use crate::versions::Ecosystem;

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lockfiles")
}

fn read(rel: &str) -> Vec<Package> {
    let path = data().join(rel);
    let name = path
        .file_name()
        .expect("file")
        .to_string_lossy()
        .into_owned();
    let kind = detect(&name).unwrap_or_else(|| panic!("{name} is a lockfile"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    parse(kind, rel, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn has(packages: &[Package], name: &str, version: &str) -> bool {
    packages
        .iter()
        .any(|p| p.name == name && p.version == version)
}

#[test]
fn cargo_lock_real() {
    let p = read("Cargo.lock");
    assert_eq!(p.len(), 8);
    assert!(has(&p, "smallvec", "1.6.1") || p.iter().any(|p| p.name == "smallvec"));
    let serde = p.iter().find(|p| p.name == "serde").expect("serde");
    assert_eq!(serde.ecosystem, Ecosystem::CratesIo);
    assert_eq!(serde.hashes[0].0, "SHA-256");
    assert_eq!(serde.hashes[0].1.len(), 64);
    assert!(serde.line.is_some());
    let line = serde.line.expect("line") - 1;
    let text = std::fs::read_to_string(data().join("Cargo.lock")).expect("fixture");
    assert_eq!(text.lines().nth(line), Some("[[package]]"));
    assert_eq!(serde.purl(), format!("pkg:cargo/serde@{}", serde.version));
}

#[test]
fn npm_package_lock_v3_real() {
    let p = read("package-lock.json");
    assert_eq!(
        p.len(),
        12,
        "the workspace link is not a package: {:?}",
        p.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
    assert!(has(&p, "undici", "6.21.0") || p.iter().any(|p| p.name == "undici"));
    let _ = ("{:#?}", p.iter().map(|p| &p.name).collect::<Vec<_>>());
    assert!(
        p.iter()
            .all(|p| p.ecosystem == Ecosystem::Npm && !p.version.is_empty())
    );
    assert!(p.iter().any(|p| {
        p.hashes
            .iter()
            .any(|(alg, h)| alg == "SHA-512" && h.len() == 128)
    }));
    // Scoped names keep their scope; nested node_modules keep the inner name.
    assert!(p.iter().all(|p| !p.name.contains("node_modules")));
}

#[test]
fn yarn_and_pnpm_forms() {
    for rel in [
        "handwritten/yarn-classic/yarn.lock",
        "handwritten/yarn-berry/yarn.lock",
    ] {
        let p = read(rel);
        assert_eq!(p.len(), 2, "{rel}: {p:#?}");
        assert!(has(&p, "lodash", "4.17.11"), "{rel}");
        assert!(
            has(&p, "@babel/code-frame", "7.12.13") || has(&p, "@types/node", "14.14.31"),
            "{rel}"
        );
    }
    let classic = read("handwritten/yarn-classic/yarn.lock");
    assert_eq!(classic[0].dependencies, vec!["@babel/highlight".to_owned()]);
    let v6 = read("handwritten/pnpm6/pnpm-lock.yaml");
    assert_eq!(v6.len(), 3);
    assert!(
        has(&v6, "react-dom", "17.0.2"),
        "peer suffix stripped: {v6:#?}"
    );
    assert!(has(&v6, "@types/node", "14.14.31"));
    let v9 = read("handwritten/pnpm9/pnpm-lock.yaml");
    assert_eq!(v9.len(), 2);
    assert!(has(&v9, "lodash", "4.17.11"));
}

#[test]
fn python_lockfiles() {
    let unpinned = super::python::parse_requirements(
        "r.txt",
        "# comment\n-r base.txt\nflask>=2.0\nrequests==2.*\nDjango[argon2]==4.2 ; python_version >= \"3.8\" \\\n    --hash=sha256:abcd\n",
    )
    .expect("parses");
    assert_eq!(unpinned.len(), 1, "{unpinned:#?}");
    assert_eq!(
        (unpinned[0].name.as_str(), unpinned[0].version.as_str()),
        ("Django", "4.2")
    );
    assert_eq!(
        unpinned[0].hashes,
        vec![("SHA-256".to_owned(), "abcd".to_owned())]
    );
    let r = read("requirements.txt");
    assert!(has(&r, "Django", "4.2"));
    assert!(has(&r, "PyYAML", "5.1"));
    assert!(r.iter().all(|p| p.line.is_some()));
    let poetry = read("poetry.lock");
    assert_eq!(poetry.len(), 5);
    assert!(poetry[0].hashes.iter().all(|(alg, _)| alg == "SHA-256"));
    assert!(poetry[0].dependencies.contains(&"idna".to_owned()));
    let pipfile = read("Pipfile.lock");
    assert!(pipfile.iter().any(|p| p.name == "pyasn1"), "{pipfile:#?}");
    assert!(pipfile.iter().all(|p| !p.version.starts_with('=')));
    let uv = read("handwritten/uv/uv.lock");
    assert_eq!(
        uv.len(),
        1,
        "the editable project itself has no version: {uv:#?}"
    );
    assert!(has(&uv, "pyyaml", "5.3"));
}

#[test]
fn go_maven_ruby_php() {
    let go = read("go.mod");
    assert_eq!(go.len(), 2, "x/crypto and the standard library: {go:#?}");
    assert_eq!(go[0].name, "golang.org/x/crypto");
    assert_eq!(go[0].version, "0.0.0-20211117183948-ae814b36b871");
    // `go 1.17` (line 3): the standard library, release 1.17.0.
    assert_eq!(
        (go[1].name.as_str(), go[1].version.as_str(), go[1].line),
        ("stdlib", "1.17.0", Some(3))
    );
    let sum = read("go.sum");
    assert_eq!(sum.len(), 1, "the /go.mod line is not a build dependency");
    let pom = read("handwritten/maven/pom.xml");
    assert_eq!(
        pom.len(),
        2,
        "the unversioned dependency is left out: {pom:#?}"
    );
    assert!(
        has(&pom, "org.apache.logging.log4j:log4j-core", "2.14.1"),
        "property resolved"
    );
    assert_eq!(pom[0].line, Some(11));
    let gradle = read("handwritten/gradle/gradle.lockfile");
    assert!(has(&gradle, "com.google.guava:guava", "30.1-jre"));
    assert_eq!(gradle.len(), 2);
    let gems = read("handwritten/ruby/Gemfile.lock");
    assert!(has(&gems, "nokogiri", "1.13.3"), "platform stripped");
    assert_eq!(gems[0].dependencies, vec!["racc".to_owned()]);
    assert_eq!(gems.len(), 3);
    let php = read("handwritten/php/composer.lock");
    assert!(has(&php, "guzzlehttp/psr7", "2.1.0"));
    assert_eq!(php[0].licenses, vec!["MIT".to_owned()]);
}

#[test]
fn discovery_respects_gitignore_and_go_sum_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write("Cargo.lock", "");
    write("web/package-lock.json", "{}");
    write("svc/go.mod", "module x\n");
    write("svc/go.sum", "");
    write("lib/go.sum", "");
    write("ignored/yarn.lock", "");
    write("node_modules/x/package-lock.json", "{}");
    write(".gitignore", "ignored/\n");
    let found: Vec<(String, LockKind)> = discover(root)
        .into_iter()
        .map(|(p, k)| {
            (
                p.strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string(),
                k,
            )
        })
        .collect();
    let names: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Cargo.lock",
            "lib/go.sum",
            "svc/go.mod",
            "web/package-lock.json"
        ]
    );
    assert_eq!(discover(&root.join("Cargo.lock")).len(), 1);
    assert!(discover(Path::new("/nonexistent/dso")).is_empty());
}

#[test]
fn malformed_lockfiles_name_file_line_and_field() {
    // (file, what the message must contain)
    let cases = [
        ("missing-version.Cargo.lock", ":7:"),
        ("missing-version.Cargo.lock", "version"),
        ("unterminated-string.Cargo.lock", ":2"),
        ("truncated.package-lock.json", ":2"),
        (
            "no-version.package-lock.json",
            "packages.node_modules/a.version",
        ),
        ("no-version.yarn.lock", ":1:"),
        ("header-without-colon.yarn.lock", ":1:"),
        ("no-lockfile-version.pnpm-lock.yaml", "lockfileVersion"),
        ("bad-version.requirements.txt", ":2: field `version`"),
        ("bad-name.requirements.txt", ":2: field `name`"),
        ("unknown-directive.go.mod", ":5:"),
        ("require-without-version.go.mod", ":4: field `require`"),
        ("two-fields.go.sum", ":1:"),
        ("unclosed.pom.xml", ":"),
        ("no-artifact.pom.xml", ":3: field `dependency`"),
        ("bad-coords.gradle.lockfile", ":1:"),
        ("bad-spec.Gemfile.lock", ":4: field `specs`"),
        ("no-version.composer.lock", "packages[0]"),
        (
            "version-not-string.Pipfile.lock",
            "default.requests.version",
        ),
        ("bare-version.poetry.lock", ":3"),
    ];
    for (file, needle) in cases {
        let path = data().join("bad").join(file);
        let text = std::fs::read_to_string(&path).expect("fixture");
        let kind = detect(file).unwrap_or_else(|| panic!("{file} detected"));
        let err = parse(kind, file, &text).expect_err(file).to_string();
        assert!(err.starts_with(file), "{err}");
        assert!(err.contains(needle), "{file}: `{err}` lacks `{needle}`");
    }
}

#[test]
fn cargo_lock_fast_path_agrees_with_the_toml_parser() {
    let text = std::fs::read_to_string(data().join("Cargo.lock")).expect("fixture");
    let fast = super::toml_locks::fast_cargo_lock("Cargo.lock", &text)
        .expect("cargo's own layout takes the fast path")
        .expect("parses");
    // An unknown key sends the file to the TOML parser, which must agree.
    let slow_text = text.replacen("version = 3", "version = 3\nunknown-key = 1", 1);
    let slow_text = slow_text.replacen("[[package]]\n", "[[package]]\nfuture-field = \"x\"\n", 1);
    assert!(super::toml_locks::fast_cargo_lock("Cargo.lock", &slow_text).is_none());
    let slow = parse(LockKind::CargoLock, "Cargo.lock", &slow_text).expect("parses");
    assert_eq!(fast.len(), slow.len());
    for (a, b) in fast.iter().zip(&slow) {
        assert_eq!(
            (&a.name, &a.version, &a.hashes, &a.dependencies, &a.source),
            (&b.name, &b.version, &b.hashes, &b.dependencies, &b.source)
        );
    }
}

#[test]
fn go_directive_and_toolchain_give_the_standard_library_version() {
    use super::other::{go_release, parse_go_mod};
    for (text, want) in [
        ("1.21", Some("1.21.0")),
        ("1.21.3", Some("1.21.3")),
        ("1.21rc2", Some("1.21.0-rc.2")),
        ("1.19beta1", Some("1.19.0-beta.1")),
        ("1", Some("1.0.0")),
        ("default", None),
        ("1.21.x", None),
        ("1.2.3.4", None),
        ("1.21alpha1", None),
        ("", None),
    ] {
        assert_eq!(go_release(text).as_deref(), want, "{text:?}");
    }
    let stdlib = |text: &str| {
        parse_go_mod("go.mod", text)
            .expect("parses")
            .into_iter()
            .find(|p| p.name == "stdlib")
            .map(|p| (p.version, p.line))
    };
    // The toolchain directive, when present, wins over the go directive.
    assert_eq!(
        stdlib("module m\n\ngo 1.21\n\ntoolchain go1.22.4\n"),
        Some(("1.22.4".into(), Some(5)))
    );
    assert_eq!(
        stdlib("module m\ngo 1.20\ntoolchain default\n"),
        Some(("1.20.0".into(), Some(2)))
    );
    // No go directive: no standard library version is known.
    assert_eq!(stdlib("module m\n"), None);
}
