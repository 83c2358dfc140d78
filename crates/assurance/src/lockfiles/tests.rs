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
    let fast = super::toml_locks::fast_cargo_lock("Cargo.lock", &text, super::Detail::Full)
        .expect("cargo's own layout takes the fast path")
        .expect("parses");
    // For matching: the same packages, without checksums and dependencies.
    let matching = super::parse_with(
        LockKind::CargoLock,
        "Cargo.lock",
        &text,
        super::Detail::Matching,
    )
    .expect("parses");
    assert_eq!(matching.len(), fast.len());
    for (m, f) in matching.iter().zip(&fast) {
        assert_eq!(
            (&m.name, &m.version, &m.source, m.line),
            (&f.name, &f.version, &f.source, f.line)
        );
        assert!(m.hashes.is_empty() && m.dependencies.is_empty());
    }
    assert!(
        fast.iter().any(|p| !p.hashes.is_empty())
            && fast.iter().any(|p| !p.dependencies.is_empty())
    );
    // An unknown key sends the file to the TOML parser, which must agree.
    let slow_text = text.replacen("version = 3", "version = 3\nunknown-key = 1", 1);
    let slow_text = slow_text.replacen("[[package]]\n", "[[package]]\nfuture-field = \"x\"\n", 1);
    assert!(
        super::toml_locks::fast_cargo_lock("Cargo.lock", &slow_text, super::Detail::Full).is_none()
    );
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

/// `(name, version, source)` of a package.
type Origin = (String, String, Option<String>);

/// `(name, version, source)` of each package, in file order.
fn origins(packages: &[Package]) -> Vec<Origin> {
    packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.source.clone()))
        .collect()
}

fn o(name: &str, version: &str, source: Option<&str>) -> Origin {
    (name.into(), version.into(), source.map(str::to_owned))
}

const LODASH_GIT: &str = "2da024c3b4f9947a48517639de7560457cd4ec6c";
const IS_NUMBER_GIT: &str = "98e8ff1da1a89f93d1397a24d7413ed15421c139";

#[test]
fn yarn_git_file_and_link_sources() {
    let lodash_ssh = format!("git+ssh://git@github.com/lodash/lodash.git#{LODASH_GIT}");
    let is_number = format!("git+https://github.com/jonschlinkert/is-number.git#{IS_NUMBER_GIT}");
    let classic = read("handwritten/yarn-classic-git-file/yarn.lock");
    assert_eq!(
        origins(&classic),
        vec![
            // A `owner/repo#ref` spec, fetched as a commit archive.
            o("is-number", "7.0.0", Some(&is_number)),
            o("legacy", "2.0.1", None),
            // A folder has no `resolved`: the header says where it is.
            o("local-lib", "1.0.0", Some("file:../local-lib")),
            o("lodash", "4.17.11", None),
            o("lodash", "4.17.11", Some(&lodash_ssh)),
        ]
    );
    let lodash_line = classic[4].line.expect("line") - 1;
    let text = std::fs::read_to_string(data().join("handwritten/yarn-classic-git-file/yarn.lock"))
        .expect("fixture");
    assert!(
        text.lines()
            .nth(lodash_line)
            .is_some_and(|l| l.starts_with("\"lodash@git+ssh:"))
    );

    let berry = read("handwritten/yarn-berry-git-file/yarn.lock");
    assert_eq!(
        origins(&berry),
        vec![
            // The root workspace is the project itself: not a package.
            o("is-number", "7.0.0", Some(&is_number)),
            o("legacy", "2.0.1", None),
            // A patch over a registry release is that registry package.
            o("legacy", "2.0.1", None),
            o("linked-lib", "0.0.0-use.local", Some("link:../linked-lib")),
            o("local-lib", "1.0.0", Some("file:../local-lib")),
            o(
                "lodash",
                "4.17.11",
                Some(&format!(
                    "git+https://github.com/lodash/lodash.git#{LODASH_GIT}"
                ))
            ),
            o("lodash", "4.17.11", None),
            o("portal-lib", "0.0.0-use.local", Some("link:../portal-lib")),
        ]
    );
}

#[test]
fn pnpm_git_file_and_link_sources() {
    let lodash_ssh = format!("git+ssh://git@github.com/lodash/lodash.git#{LODASH_GIT}");
    let is_number = format!("git+https://github.com/jonschlinkert/is-number.git#{IS_NUMBER_GIT}");
    let linked = o(
        "linked-lib",
        "link:../linked-lib",
        Some("link:../linked-lib"),
    );
    // v5 and v6 key git and folder packages by their origin and give the
    // name and version as fields.
    let v5 = read("handwritten/pnpm5-git-file/pnpm-lock.yaml");
    assert_eq!(
        origins(&v5),
        vec![
            o("legacy", "2.0.1", None),
            o("lodash", "4.17.11", None),
            o("react-dom", "17.0.2", None),
            o("local-lib", "1.0.0", Some("file:../local-lib")),
            o("lodash", "4.17.11", Some(&lodash_ssh)),
            o("is-number", "7.0.0", Some(&is_number)),
            linked.clone(),
        ]
    );
    let v6 = read("handwritten/pnpm6-git-file/pnpm-lock.yaml");
    let mut want_v6 = origins(&v5);
    want_v6.remove(2);
    assert_eq!(origins(&v6), want_v6);
    // v9 keys them `name@origin`; a folder entry has no version field.
    let v9 = read("handwritten/pnpm9-git-file/pnpm-lock.yaml");
    assert_eq!(
        origins(&v9),
        vec![
            o("is-number", "7.0.0", Some(&is_number)),
            o("legacy", "2.0.1", None),
            o("local-lib", "file:../local-lib", Some("file:../local-lib")),
            o("lodash", "4.17.11", None),
            o("lodash", "4.17.11", Some(&lodash_ssh)),
            // `tools` and `core` are importers (workspace projects): their
            // links are the project itself.
            linked,
        ]
    );
    let text = std::fs::read_to_string(data().join("handwritten/pnpm9-git-file/pnpm-lock.yaml"))
        .expect("fixture");
    let line = |p: &Package| text.lines().nth(p.line.expect("line") - 1).unwrap_or("");
    assert_eq!(
        line(&v9[4]).trim(),
        format!("lodash@git+ssh://git@github.com/lodash/lodash.git#{LODASH_GIT}:")
    );
    assert_eq!(line(&v9[5]).trim(), "linked-lib:");
}

/// Every form of origin, one small lockfile each.
#[test]
fn npm_origin_forms() {
    let yarn = |text: &str| {
        let p = super::npm::parse_yarn_lock("yarn.lock", text).unwrap_or_else(|e| panic!("{e}"));
        origins(&p)
    };
    let berry = |entry: &str| {
        yarn(&format!(
            "__metadata:\n  version: 8\n  cacheKey: 10c0\n\n{entry}"
        ))
    };
    let pnpm = |text: &str| {
        let p =
            super::npm::parse_pnpm_lock("pnpm-lock.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        origins(&p)
    };
    let cases: Vec<(Vec<Origin>, Option<&str>)> = vec![
        // yarn classic, by `resolved`
        (
            yarn(
                "\"a@git+https://github.com/o/a.git#v1\":\n  version \"1.0.0\"\n  resolved \"git+https://github.com/o/a.git#abc\"\n",
            ),
            Some("git+https://github.com/o/a.git#abc"),
        ),
        (
            yarn(
                "\"a@git://github.com/o/a.git\":\n  version \"1.0.0\"\n  resolved \"git://github.com/o/a.git#abc\"\n",
            ),
            Some("git+git://github.com/o/a.git#abc"),
        ),
        (
            yarn(
                "\"a@gitlab:o/a#v1\":\n  version \"1.0.0\"\n  resolved \"https://gitlab.com/o/a/repository/archive.tar.gz?ref=abc\"\n",
            ),
            Some("git+https://gitlab.com/o/a.git#abc"),
        ),
        (
            yarn(
                "a@^1.0.0:\n  version \"1.0.0\"\n  resolved \"https://registry.yarnpkg.com/a/-/a-1.0.0.tgz#0123\"\n",
            ),
            None,
        ),
        // yarn classic, by the header when there is no `resolved`
        (
            yarn("\"a@github:o/a#v1\":\n  version \"1.0.0\"\n"),
            Some("git+https://github.com/o/a#v1"),
        ),
        (
            yarn("a@o/a#v1:\n  version \"1.0.0\"\n"),
            Some("git+https://github.com/o/a#v1"),
        ),
        (
            yarn("\"a@file:../a-1.0.0.tgz\":\n  version \"1.0.0\"\n"),
            Some("file:../a-1.0.0.tgz"),
        ),
        (
            yarn("\"a@link:../a\":\n  version \"0.0.0\"\n"),
            Some("link:../a"),
        ),
        // yarn berry
        (
            berry(
                "\"a@git@github.com:o/a.git\":\n  version: 1.0.0\n  resolution: \"a@git@github.com:o/a.git#commit=abc\"\n",
            ),
            Some("git+ssh://git@github.com/o/a.git#abc"),
        ),
        (
            berry(
                "\"a@https://github.com/o/a.git#workspace=w\":\n  version: 1.0.0\n  resolution: \"a@https://github.com/o/a.git#workspace=w&commit=abc\"\n",
            ),
            Some("git+https://github.com/o/a.git#workspace=w&commit=abc"),
        ),
        (
            berry(
                "\"a@https://bitbucket.org/o/a/get/abc.tar.gz\":\n  version: 1.0.0\n  resolution: \"a@https://bitbucket.org/o/a/get/abc.tar.gz\"\n",
            ),
            Some("git+https://bitbucket.org/o/a.git#abc"),
        ),
        (
            berry(
                "\"a@file:../a-1.0.0.tgz::locator=app%40workspace%3A.\":\n  version: 1.0.0\n  resolution: \"a@file:../a-1.0.0.tgz::locator=app%40workspace%3A.\"\n",
            ),
            Some("file:../a-1.0.0.tgz"),
        ),
        (
            berry(
                "\"a@patch:a@git@github.com%3Ao/a.git%23commit=abc#./a.patch::locator=app%40workspace%3A.\":\n  version: 1.0.0\n  resolution: \"a@patch:a@git@github.com%3Ao/a.git%23commit=abc#./a.patch::version=1.0.0&hash=1a2b3c&locator=app%40workspace%3A.\"\n",
            ),
            Some("git+ssh://git@github.com/o/a.git#abc"),
        ),
        (
            berry(
                "\"a@patch:a@npm%3A^1.0.0#~builtin<compat/a>\":\n  version: 1.0.0\n  resolution: \"a@patch:a@npm%3A1.0.0#~builtin<compat/a>::version=1.0.0&hash=1a2b3c\"\n",
            ),
            None,
        ),
        // pnpm
        (
            pnpm(
                "lockfileVersion: '9.0'\n\npackages:\n\n  a@https://codeload.github.com/o/a/tar.gz/abc:\n    resolution: {tarball: https://codeload.github.com/o/a/tar.gz/abc}\n    version: 1.0.0\n",
            ),
            Some("git+https://github.com/o/a.git#abc"),
        ),
        (
            pnpm(
                "lockfileVersion: '9.0'\n\npackages:\n\n  a@file:a-1.0.0.tgz:\n    resolution: {integrity: sha512-AAAA, tarball: file:a-1.0.0.tgz}\n    version: 1.0.0\n",
            ),
            Some("file:a-1.0.0.tgz"),
        ),
        (
            pnpm(
                "lockfileVersion: '9.0'\n\npackages:\n\n  a@git+https://github.com/o/a.git#abc:\n    resolution:\n      commit: abc\n      repo: https://github.com/o/a.git\n      type: git\n    version: 1.0.0\n",
            ),
            Some("git+https://github.com/o/a.git#abc"),
        ),
        (
            pnpm(
                "lockfileVersion: '6.0'\n\npackages:\n\n  /a@1.0.0:\n    resolution: {integrity: sha512-AAAA, tarball: https://npm.example.com/a/-/a-1.0.0.tgz}\n    dev: false\n",
            ),
            None,
        ),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(got.len(), 1, "case {i}: {got:?}");
        assert_eq!(got[0].0, "a", "case {i}: {got:?}");
        assert_eq!(got[0].2.as_deref(), *want, "case {i}: {got:?}");
    }
    // A workspace member other than the root is not a package either.
    assert!(
        berry("\"b@workspace:packages/b\":\n  version: 0.0.0-use.local\n  resolution: \"b@workspace:packages/b\"\n  languageName: unknown\n  linkType: soft\n").is_empty()
    );
}

#[test]
fn odd_yarn_and_pnpm_input_is_an_answer_not_a_panic() {
    use super::npm::{parse_pnpm_lock, parse_yarn_lock};
    // A name that starts with a multi-byte character.
    let p = parse_yarn_lock("yarn.lock", "é@^1.0.0:\n  version \"1.0.0\"\n").expect("parses");
    assert_eq!((p[0].name.as_str(), p[0].source.as_deref()), ("é", None));
    for text in [
        "__metadata:\n  version: 8\n\n\"a@patch:%\":\n  version: 1.0.0\n  resolution: \"a@patch:%E9%\"\n",
        "\"@\":\n  version \"1\"\n  resolved \"https://codeload.github.com/o\"\n",
        "a@x:\n  version \"1\"\n  resolved \"https://gitlab.com/o/r/repository/archive.tar.gz?ref=\"\n",
    ] {
        let _ = parse_yarn_lock("yarn.lock", text);
    }
    for text in [
        "lockfileVersion: '9.0'\npackages:\n  é@1.0.0:\n    resolution: {}\n",
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        version: link:../../..\n",
        "lockfileVersion: '9.0'\npackages:\n  a@git+x:\n    resolution: {type: git}\n    version: 1.0.0\n",
    ] {
        let _ = parse_pnpm_lock("pnpm-lock.yaml", text);
    }
    let err = parse_pnpm_lock("pnpm-lock.yaml", "lockfileVersion: x\n")
        .expect_err("not a version")
        .to_string();
    assert!(err.contains(":1: field `lockfileVersion`"), "{err}");
    let err = parse_pnpm_lock(
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  noversion:\n",
    )
    .expect_err("no version")
    .to_string();
    assert!(err.contains(":3: field `packages`"), "{err}");
}

/// Every lockfile fixture (the malformed ones excepted), parsed.
fn every_fixture() -> Vec<Package> {
    let mut out = Vec::new();
    let mut dirs = vec![data()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bad") {
                    dirs.push(path);
                }
                continue;
            }
            let name = path.file_name().expect("file").to_string_lossy();
            if let Some(kind) = detect(&name) {
                let text = std::fs::read_to_string(&path).expect("fixture");
                let file = path.display().to_string();
                out.extend(parse(kind, &file, &text).unwrap_or_else(|e| panic!("{e}")));
            }
        }
    }
    out
}

#[test]
fn purls_percent_encode_versions_from_git_and_folders() {
    let v1 = read("handwritten/npm-v1-git-file/package-lock.json");
    let purl = |name: &str, packages: &[Package]| -> Vec<String> {
        packages
            .iter()
            .filter(|p| p.name == name)
            .map(Package::purl)
            .collect()
    };
    // `#` would start the subpath and `/` would end the version.
    assert!(
        purl("lodash", &v1).contains(&format!(
            "pkg:npm/lodash@github:lodash%2Flodash%23{LODASH_GIT}"
        )),
        "{:?}",
        purl("lodash", &v1)
    );
    assert_eq!(
        purl("local-lib", &v1),
        vec!["pkg:npm/local-lib@file:..%2Flocal-lib"]
    );
    let v9 = read("handwritten/pnpm9-git-file/pnpm-lock.yaml");
    assert_eq!(
        purl("local-lib", &v9),
        vec!["pkg:npm/local-lib@file:..%2Flocal-lib"]
    );
    assert_eq!(
        purl("linked-lib", &v9),
        vec!["pkg:npm/linked-lib@link:..%2Flinked-lib"]
    );
}

#[test]
fn purls_encode_names_and_namespaces_per_segment() {
    let cases = [
        // The npm scope's `@` is encoded; the `/` after it separates.
        (
            Ecosystem::Npm,
            "@types/node",
            "20.1.0",
            "pkg:npm/%40types/node@20.1.0",
        ),
        (
            Ecosystem::Go,
            "github.com/Azure/go-autorest",
            "v14.2.0+incompatible",
            "pkg:golang/github.com/Azure/go-autorest@v14.2.0%2Bincompatible",
        ),
        (
            Ecosystem::Maven,
            "org.apache.commons:commons-text",
            "1.10.0",
            "pkg:maven/org.apache.commons/commons-text@1.10.0",
        ),
        (
            Ecosystem::PyPI,
            "Django_REST.framework",
            "3.15.2",
            "pkg:pypi/django-rest-framework@3.15.2",
        ),
        // Space, `?`, `@`, `%`, `&`, `=` and non-ASCII are encoded; `:` and `~` stay.
        (
            Ecosystem::Npm,
            "é",
            "1.0 beta?x=1&y@z%:~",
            "pkg:npm/%C3%A9@1.0%20beta%3Fx%3D1%26y%40z%25:~",
        ),
    ];
    for (ecosystem, name, version, want) in cases {
        let p = Package::new(ecosystem.clone(), name, version, "f");
        assert_eq!(p.purl(), want, "{name} {version}");
        let (eco, back_name, back_version) =
            crate::sbom::parse_purl(&p.purl()).expect("dso reads its own purls");
        assert_eq!(
            (
                eco,
                ecosystem.normalize_name(&back_name),
                back_version.as_str()
            ),
            (ecosystem.clone(), ecosystem.normalize_name(name), version)
        );
    }
}

#[test]
fn every_fixture_package_has_a_canonical_purl_that_reads_back() {
    let packages = every_fixture();
    assert!(packages.len() > 100, "{} packages", packages.len());
    for p in &packages {
        let purl = p.purl();
        let rest = purl.strip_prefix("pkg:").expect("scheme");
        // Only the permitted characters, and no separator but the type's
        // and the segments' `/` and the version's `@`.
        assert!(
            rest.bytes().all(|b| b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'-' | b'_' | b'~' | b':' | b'%' | b'/' | b'@')),
            "{purl}"
        );
        assert_eq!(rest.matches('@').count(), 1, "{purl}");
        let (eco, name, version) = crate::sbom::parse_purl(&purl)
            .unwrap_or_else(|| panic!("{purl} of {} does not read back", p.file));
        assert_eq!(eco, p.ecosystem, "{purl}");
        assert_eq!(
            p.ecosystem.normalize_name(&name),
            p.ecosystem.normalize_name(&p.name),
            "{purl}"
        );
        assert_eq!(version, p.version, "{purl}");
    }
}

/// `name@version` (or `name==version`) lines of an oracle file.
fn oracle(rel: &str, sep: &str) -> std::collections::BTreeSet<(String, String)> {
    std::fs::read_to_string(data().join(rel))
        .expect("oracle")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            // A scoped npm name starts with `@`: split at the last separator.
            let (n, v) = l.rsplit_once(sep).unwrap_or_else(|| panic!("{rel}: {l}"));
            (n.to_owned(), v.to_owned())
        })
        .collect()
}

fn names_and_versions(packages: &[Package]) -> std::collections::BTreeSet<(String, String)> {
    packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

#[test]
fn lockfiles_written_by_yarn_pnpm_and_uv_give_what_the_tools_installed() {
    // generated/README.md: each lockfile was written by the real tool, and
    // the oracle is what that tool installed (yarn, pnpm) or exported (uv).
    for (lockfile, installed, sep, n) in [
        (
            "generated/yarn1/yarn.lock",
            "generated/yarn1/installed.txt",
            "@",
            65,
        ),
        (
            "generated/pnpm9/pnpm-lock.yaml",
            "generated/pnpm9/installed.txt",
            "@",
            65,
        ),
        ("generated/uv/uv.lock", "generated/uv/exported.txt", "==", 8),
    ] {
        let packages = read(lockfile);
        let expected = oracle(installed, sep);
        assert_eq!(expected.len(), n, "{installed}");
        assert_eq!(
            packages.len(),
            n,
            "{lockfile}: one package per installed one"
        );
        assert_eq!(names_and_versions(&packages), expected, "{lockfile}");
        assert!(
            packages
                .iter()
                .all(|p| p.source.is_none() && p.line.is_some()),
            "{lockfile}: registry releases, each with its line"
        );
    }
    // The direct dependencies, at the versions the manifests pin.
    let yarn = read("generated/yarn1/yarn.lock");
    let berry = read("generated/yarn4/yarn.lock");
    let pnpm = read("generated/pnpm9/pnpm-lock.yaml");
    for (name, version) in [
        ("lodash", "4.17.15"),
        ("minimist", "1.2.0"),
        ("express", "4.16.0"),
        ("@babel/code-frame", "7.0.0"),
    ] {
        assert!(
            has(&yarn, name, version) && has(&pnpm, name, version),
            "{name}"
        );
    }
    let uv = read("generated/uv/uv.lock");
    assert!(has(&uv, "pyyaml", "5.3") && has(&uv, "jinja2", "2.10"));
    assert!(uv.iter().all(|p| p.ecosystem == Ecosystem::PyPI));
    // Integrity and wheel hashes are kept for SBOMs.
    assert!(yarn.iter().all(|p| !p.hashes.is_empty()));
    // yarn 4's `checksum` hashes the zip in yarn's own cache, not the
    // published tarball: it is no hash of the package and is not kept.
    assert!(berry.iter().all(|p| p.hashes.is_empty()));
    assert!(uv.iter().all(|p| !p.hashes.is_empty()));
}

#[test]
fn folder_sources_as_the_real_yarn_4_and_pnpm_9_write_them() {
    // generated/README.md: an app depending on lodash from the registry and
    // on sibling folders (`file:`, `link:`, yarn's `portal:`), installed by
    // the real tools. The hand-written fixtures use the same forms.
    let berry = read("generated/yarn4-folders/app/yarn.lock");
    assert_eq!(
        origins(&berry),
        vec![
            o("is-number", "7.0.0", None),
            o("linked-lib", "0.0.0-use.local", Some("link:../linked-lib")),
            o("local-lib", "1.0.0", Some("file:../local-lib")),
            o("lodash", "4.17.11", None),
            o("portal-lib", "0.0.0-use.local", Some("link:../portal-lib")),
        ]
    );
    // pnpm 9 writes the folder package without a `version:` (its reference
    // stands in for one) and the linked folder only under the importer:
    // both are packages from those folders, never matched as registry
    // releases.
    let pnpm = read("generated/pnpm9-folders/app/pnpm-lock.yaml");
    assert_eq!(
        origins(&pnpm),
        vec![
            o("is-number", "7.0.0", None),
            o("local-lib", "file:../local-lib", Some("file:../local-lib")),
            o("lodash", "4.17.11", None),
            o(
                "linked-lib",
                "link:../linked-lib",
                Some("link:../linked-lib")
            ),
        ]
    );
    assert!(
        pnpm.iter()
            .filter(|p| p.name.ends_with("-lib"))
            .all(Package::is_from_vcs_or_path)
    );
}
