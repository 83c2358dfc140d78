//! Matching real lockfiles against real (and hand-written OSV) advisories.

use std::path::PathBuf;

use super::{Index, ScaFinding, is_affected};
use crate::advisories::load::load_path;
use crate::advisories::merge::merge;
use crate::advisories::{Affected, Range, RangeEvent, RangeKind};
use crate::lockfiles::{detect, parse};
use crate::versions::Ecosystem;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn index() -> Index {
    let mut all = Vec::new();
    for dir in ["rustsec", "pypa", "go", "ghsa"] {
        all.extend(
            load_path(&root().join("advisories").join(dir))
                .expect("fixture")
                .advisories,
        );
    }
    Index::new(merge(all))
}

fn scan(rel: &str) -> Vec<ScaFinding> {
    let path = root().join("lockfiles").join(rel);
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(&path).expect("fixture");
    let packages = parse(detect(&name).expect("lockfile"), rel, &text).expect("parses");
    index().scan(&packages)
}

fn ids(findings: &[ScaFinding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{}@{} {}", f.package, f.version, f.advisory))
        .collect()
}

#[test]
fn cargo_lock_against_rustsec() {
    let f = scan("Cargo.lock");
    let ids = ids(&f);
    // vector 2021-05 pinned smallvec 1.6.1, the very version that fixed
    // RUSTSEC-2021-0003 (and its merged GHSA twin): not affected.
    assert!(!ids.iter().any(|i| i.starts_with("smallvec")), "{ids:#?}");
    for expected in [
        "chrono@0.4.19 RUSTSEC-2020-0159",
        "time@0.1.44 RUSTSEC-2020-0071",
        "tokio@1.5.0 RUSTSEC-2021-0124",
        "hyper@0.14.8 RUSTSEC-2021-0078",
    ] {
        assert!(ids.contains(&expected.to_owned()), "{expected}: {ids:#?}");
    }
    let tokio = f
        .iter()
        .find(|f| f.advisory == "RUSTSEC-2021-0124")
        .expect("found");
    assert_eq!(
        tokio.fixed.as_deref(),
        Some("1.8.4"),
        "smallest fix above 1.5.0"
    );
    assert!(tokio.aliases.iter().any(|a| a.starts_with("CVE-")));
    // Every finding is on a package of the lockfile with a RustSec id.
    assert!(
        f.iter().all(|f| f.advisory.starts_with("RUSTSEC-")),
        "{ids:#?}"
    );
    // The withdrawn `markdown` advisory is never reported.
    assert!(!ids.iter().any(|i| i.contains("RUSTSEC-2022-0044")));
}

#[test]
fn requirements_against_pypa() {
    let f = scan("requirements.txt");
    let ids = ids(&f);
    assert!(
        ids.contains(&"PyYAML@5.1 PYSEC-2020-176".to_owned()),
        "{ids:#?}"
    );
    assert!(
        ids.iter().any(|i| i.starts_with("Django@4.2 PYSEC-2023-")),
        "{ids:#?}"
    );
    assert!(
        ids.iter().any(|i| i.starts_with("sqlparse@0.3.1 ")),
        "{ids:#?}"
    );
    // PyYAML 5.1 is above PYSEC-2018-49's fix (5.1), so not affected by it.
    assert!(!ids.contains(&"PyYAML@5.1 PYSEC-2018-49".to_owned()));
    let yaml = f
        .iter()
        .find(|f| f.advisory == "PYSEC-2020-176")
        .expect("found");
    assert_eq!(yaml.fixed.as_deref(), Some("5.2b1"));
}

#[test]
fn go_pseudo_versions_against_go_vulndb() {
    let f = scan("go.mod");
    let ids = ids(&f);
    // x/crypto at a 2021-11 pseudo-version: fixed by a 2022-03 pseudo-version
    // (GO-2021-0356) and by 0.17.0 (GO-2023-2402); GO-2020-0012 was fixed in 2020.
    assert!(ids.iter().any(|i| i.ends_with("GO-2021-0356")), "{ids:#?}");
    assert!(ids.iter().any(|i| i.ends_with("GO-2023-2402")), "{ids:#?}");
    assert!(!ids.iter().any(|i| i.ends_with("GO-2020-0012")), "{ids:#?}");
}

#[test]
fn other_ecosystems_against_hand_written_osv() {
    for (rel, expect) in [
        (
            "handwritten/yarn-classic/yarn.lock",
            "lodash@4.17.11 GHSA-jf85-cpcp-j695",
        ),
        (
            "handwritten/yarn-berry/yarn.lock",
            "lodash@4.17.11 GHSA-jf85-cpcp-j695",
        ),
        (
            "handwritten/pnpm9/pnpm-lock.yaml",
            "lodash@4.17.11 GHSA-jf85-cpcp-j695",
        ),
        (
            "handwritten/maven/pom.xml",
            "org.apache.logging.log4j:log4j-core@2.14.1 GHSA-jfh8-c2jp-5v3q",
        ),
        (
            "handwritten/ruby/Gemfile.lock",
            "nokogiri@1.13.3 GHSA-v6gp-9mmm-c6p5",
        ),
        (
            "handwritten/php/composer.lock",
            "guzzlehttp/psr7@2.1.0 GHSA-wxmh-65f7-jcvw",
        ),
        ("handwritten/uv/uv.lock", "pyyaml@5.3 PYSEC-2020-96"),
    ] {
        let f = scan(rel);
        assert!(
            ids(&f).contains(&expect.to_owned()),
            "{rel}: {:#?}",
            ids(&f)
        );
    }
    // log4j 2.15.0 in the Gradle lockfile is fixed.
    assert!(scan("handwritten/gradle/gradle.lockfile").is_empty());
}

#[test]
fn osv_range_edge_cases() {
    let entry = |eco: Ecosystem, events: Vec<RangeEvent>, versions: Vec<&str>| Affected {
        ecosystem: eco,
        name: "p".into(),
        ranges: vec![Range {
            kind: RangeKind::Ecosystem,
            events,
        }],
        versions: versions.into_iter().map(str::to_owned).collect(),
        cargo: None,
        os: Vec::new(),
        arch: Vec::new(),
    };
    use RangeEvent::*;
    let two_windows = entry(
        Ecosystem::PyPI,
        vec![
            Introduced("4.0".into()),
            Fixed("4.3".into()),
            Introduced("5.0".into()),
            Fixed("5.2".into()),
        ],
        vec![],
    );
    for (v, want) in [
        ("3.9", false),
        ("4.0", true),
        ("4.3rc1", true),
        ("4.3", false),
        ("4.3.post1", false),
        ("5.1.dev0", true),
        ("5.2", false),
        ("1!4.1", false),
    ] {
        assert_eq!(is_affected(&two_windows, v), want, "PyPI {v}");
    }
    let last = entry(
        Ecosystem::Npm,
        vec![Introduced("0".into()), LastAffected("1.2.3".into())],
        vec![],
    );
    for (v, want) in [
        ("0.0.1", true),
        ("1.2.3", true),
        ("1.2.4-rc.1", false),
        ("1.2.4", false),
    ] {
        assert_eq!(is_affected(&last, v), want, "npm {v}");
    }
    let limited = entry(
        Ecosystem::Go,
        vec![Introduced("1.0.0".into()), Limit("1.5.0".into())],
        vec!["2.0.0"],
    );
    for (v, want) in [
        ("0.9.0", false),
        ("1.4.9", true),
        ("1.5.0", false),
        ("2.0.0", true),
    ] {
        assert_eq!(is_affected(&limited, v), want, "Go {v}");
    }
    let maven = entry(
        Ecosystem::Maven,
        vec![Introduced("2.0-beta9".into()), Fixed("2.3.1".into())],
        vec![],
    );
    for (v, want) in [
        ("2.0-alpha1", false),
        ("2.0-beta9", true),
        ("2.0-rc1", true),
        ("2.0", true),
        ("2.3", true),
        ("2.3.1", false),
    ] {
        assert_eq!(is_affected(&maven, v), want, "Maven {v}");
    }
    // A version that does not parse is never matched by a range.
    assert!(!is_affected(&two_windows, "not a version"));
}

#[test]
fn git_and_path_sources_are_not_registry_packages() {
    use crate::lockfiles::Package;
    let mut registry = Package::new(Ecosystem::CratesIo, "tokio", "1.5.0", "Cargo.lock");
    registry.source = Some("registry+https://github.com/rust-lang/crates.io-index".into());
    let mut git = registry.clone();
    git.source = Some("git+https://github.com/tokio-rs/tokio?rev=abc#abc".into());
    let index = index();
    assert!(!index.scan(&[registry]).is_empty());
    assert!(
        index.scan(&[git]).is_empty(),
        "cargo-audit skips git sources too"
    );
}

fn packages(rel: &str) -> Vec<crate::lockfiles::Package> {
    let path = root().join("lockfiles").join(rel);
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(&path).expect("fixture");
    parse(detect(&name).expect("lockfile"), rel, &text).expect("parses")
}

#[test]
fn npm_git_and_file_packages_are_not_matched_by_version() {
    use super::not_matched;
    for rel in [
        "handwritten/npm-git-file/package-lock.json",
        "handwritten/npm-v1-git-file/package-lock.json",
    ] {
        let pkgs = packages(rel);
        // Only the registry copy of lodash 4.17.11 is matched.
        let found = index().scan(&pkgs);
        assert_eq!(
            ids(&found),
            vec!["lodash@4.17.11 GHSA-jf85-cpcp-j695".to_owned()],
            "{rel}"
        );
        let skipped = not_matched(&pkgs);
        let mut names: Vec<(&str, &str)> = skipped
            .iter()
            .map(|s| (s.package.as_str(), s.source.as_deref().unwrap_or_default()))
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{rel}: {skipped:#?}");
        assert_eq!(names[0].0, "local-lib", "{rel}");
        assert!(
            names[0].1.starts_with("link:") || names[0].1.starts_with("file:"),
            "{rel}: {names:?}"
        );
        assert_eq!(names[1].0, "lodash", "{rel}");
        assert!(names[1].1.starts_with("git+"), "{rel}: {names:?}");
        let git = skipped.iter().find(|s| s.package == "lodash").expect("git");
        assert!(git.reason.contains("git repository"), "{}", git.reason);
    }
}

#[test]
fn go_standard_library_from_the_go_directive() {
    // go.mod says `go 1.17`: GO-2022-0515 (go/parser, fixed in 1.17.12) applies.
    let f = scan("go.mod");
    let stdlib: Vec<&ScaFinding> = f.iter().filter(|f| f.package == "stdlib").collect();
    assert_eq!(stdlib.len(), 1, "{:#?}", ids(&f));
    assert_eq!(stdlib[0].advisory, "GO-2022-0515");
    assert_eq!(stdlib[0].version, "1.17.0");
    assert_eq!(stdlib[0].fixed.as_deref(), Some("1.17.12"));
    assert_eq!(stdlib[0].line, Some(3));
    // A newer toolchain is not affected.
    let newer = parse(
        detect("go.mod").expect("lockfile"),
        "go.mod",
        "module m\ngo 1.17\ntoolchain go1.17.12\n",
    )
    .expect("parses");
    assert!(index().scan(&newer).is_empty());
}

#[test]
fn platform_limited_advisories_follow_cargo_audit() {
    use super::Target;
    let pkgs = packages("platform/Cargo.lock");
    // No target: reported, with the limit (cargo-audit reports it too).
    let all = index().scan(&pkgs);
    assert_eq!(ids(&all), vec!["atty@0.2.14 RUSTSEC-2021-0145".to_owned()]);
    assert_eq!(all[0].os, vec!["windows".to_owned()]);
    assert!(all[0].arch.is_empty());
    let on = |os: &str, arch: Option<&str>| {
        index().scan_for(
            &pkgs,
            &Target {
                os: Some(os.into()),
                arch: arch.map(str::to_owned),
            },
        )
    };
    assert!(on("linux", None).is_empty(), "windows-only");
    assert_eq!(on("Windows", Some("x86_64")).len(), 1, "no arch limit");
}

#[test]
fn yarn_and_pnpm_git_file_and_link_packages_are_not_matched_by_version() {
    use super::not_matched;
    for (rel, skipped_names) in [
        (
            "handwritten/yarn-classic-git-file/yarn.lock",
            vec!["is-number", "local-lib", "lodash"],
        ),
        (
            "handwritten/yarn-berry-git-file/yarn.lock",
            vec![
                "is-number",
                "linked-lib",
                "local-lib",
                "lodash",
                "portal-lib",
            ],
        ),
        (
            "handwritten/pnpm5-git-file/pnpm-lock.yaml",
            vec!["local-lib", "lodash", "is-number", "linked-lib"],
        ),
        (
            "handwritten/pnpm6-git-file/pnpm-lock.yaml",
            vec!["local-lib", "lodash", "is-number", "linked-lib"],
        ),
        (
            "handwritten/pnpm9-git-file/pnpm-lock.yaml",
            vec!["is-number", "local-lib", "lodash", "linked-lib"],
        ),
    ] {
        let pkgs = packages(rel);
        // lodash 4.17.11 is there twice, from git and from the registry:
        // only the registry copy is matched.
        let lodash: Vec<_> = pkgs.iter().filter(|p| p.name == "lodash").collect();
        assert_eq!(lodash.len(), 2, "{rel}");
        assert!(lodash.iter().all(|p| p.version == "4.17.11"), "{rel}");
        let found = index().scan(&pkgs);
        assert_eq!(
            ids(&found),
            vec!["lodash@4.17.11 GHSA-jf85-cpcp-j695".to_owned()],
            "{rel}"
        );
        let registry = lodash
            .iter()
            .find(|p| p.source.is_none())
            .expect("registry copy");
        assert_eq!(
            found[0].line, registry.line,
            "{rel}: the registry copy's line"
        );
        let skipped = not_matched(&pkgs);
        let names: Vec<&str> = skipped.iter().map(|s| s.package.as_str()).collect();
        assert_eq!(names, skipped_names, "{rel}: {skipped:#?}");
        for s in &skipped {
            let source = s.source.as_deref().unwrap_or_default();
            let want = if source.starts_with("git+") {
                "git repository"
            } else {
                assert!(
                    source.starts_with("file:") || source.starts_with("link:"),
                    "{rel}: {s:?}"
                );
                "local path"
            };
            assert!(s.reason.contains(want), "{rel}: {s:?}");
        }
    }
}

#[test]
fn a_local_copy_is_not_matched_and_a_patched_release_is() {
    use crate::lockfiles::npm::{parse_pnpm_lock, parse_yarn_lock};
    let yarn = parse_yarn_lock(
        "yarn.lock",
        "# yarn lockfile v1\n\n\n\"lodash@file:./vendor/lodash\":\n  version \"4.17.11\"\n\nlodash@^4.17.4:\n  version \"4.17.11\"\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.11.tgz#b39ea6229ef607ecd89e2c8df12536891cac9b8d\"\n",
    )
    .expect("parses");
    let found = index().scan(&yarn);
    assert_eq!(ids(&found), vec!["lodash@4.17.11 GHSA-jf85-cpcp-j695"]);
    assert_eq!(found[0].line, Some(7), "the registry entry, not the folder");
    let pnpm = parse_pnpm_lock(
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\n\npackages:\n\n  lodash@file:vendor/lodash:\n    resolution: {directory: vendor/lodash, type: directory}\n    version: 4.17.11\n",
    )
    .expect("parses");
    assert_eq!(pnpm[0].version, "4.17.11");
    assert!(index().scan(&pnpm).is_empty(), "{pnpm:?}");
    // yarn berry: a patch over the registry release is still that release.
    let berry = parse_yarn_lock(
        "yarn.lock",
        "__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"lodash@patch:lodash@npm%3A4.17.11#~/.yarn/patches/lodash-npm-4.17.11-0c5f8e1b2a.patch\":\n  version: 4.17.11\n  resolution: \"lodash@patch:lodash@npm%3A4.17.11#~/.yarn/patches/lodash-npm-4.17.11-0c5f8e1b2a.patch::version=4.17.11&hash=0e2d4c\"\n  languageName: node\n  linkType: hard\n",
    )
    .expect("parses");
    assert_eq!(berry[0].source, None);
    assert_eq!(
        ids(&index().scan(&berry)),
        vec!["lodash@4.17.11 GHSA-jf85-cpcp-j695"]
    );
}
