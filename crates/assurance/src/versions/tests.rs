//! Data-driven ordering tests: each list must be strictly increasing, each
//! pair in the equality tables equal.

use std::cmp::Ordering;

use super::{Ecosystem, cargo_satisfies, compare, npm_satisfies};

fn check_increasing(eco: Ecosystem, versions: &[&str]) {
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            assert_eq!(
                compare(&eco, a, b),
                Some(Ordering::Less),
                "{eco}: expected {a} < {b}"
            );
            assert_eq!(
                compare(&eco, b, a),
                Some(Ordering::Greater),
                "{eco}: expected {b} > {a}"
            );
        }
    }
}

fn check_equal(eco: Ecosystem, pairs: &[(&str, &str)]) {
    for (a, b) in pairs {
        assert_eq!(
            compare(&eco, a, b),
            Some(Ordering::Equal),
            "{eco}: expected {a} == {b}"
        );
    }
}

#[test]
fn semver_precedence_per_spec() {
    // SemVer 2.0 §11's own example, then release parts.
    check_increasing(
        Ecosystem::CratesIo,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0-0",
            "2.0.0",
        ],
    );
    check_equal(
        Ecosystem::CratesIo,
        &[("1.0.0+build.1", "1.0.0"), ("1.0", "1.0.0")],
    );
}

#[test]
fn go_versions_and_pseudo_versions() {
    check_increasing(
        Ecosystem::Go,
        &[
            "v0.0.0-20180101000000-aaaaaaaaaaaa",
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.1.0",
            "v1.2.3-pre",
            // A pseudo-version after a tag orders after the tag's pre-releases
            // and before the next patch.
            "v1.2.4-0.20200101000000-abcdefabcdef",
            "v1.2.4",
            "1.6.0",
            "v2.0.0+incompatible",
            "v2.1.0",
        ],
    );
    check_equal(
        Ecosystem::Go,
        &[("v1.6.0", "1.6.0"), ("v2.0.0+incompatible", "2.0.0")],
    );
}

#[test]
fn npm_ranges() {
    let cases = [
        ("^1.2.3", "1.9.0", true),
        ("^1.2.3", "2.0.0", false),
        ("^0.2.3", "0.3.0", false),
        ("~1.2.3", "1.2.9", true),
        ("~1.2.3", "1.3.0", false),
        (">=1.0.0 <2.0.0 || 3.x", "3.4.5", true),
        (">=1.0.0 <2.0.0 || 3.x", "2.5.0", false),
        ("1.2.x", "1.2.7", true),
        // Pre-releases only match a comparator on the same tuple.
        ("^1.2.3", "1.3.0-beta.1", false),
        (">=1.2.3-alpha.1 <1.2.4", "1.2.3-alpha.7", true),
        ("*", "0.0.1", true),
    ];
    for (range, version, expected) in cases {
        assert_eq!(
            npm_satisfies(range, version),
            Ok(expected),
            "{version} in {range}"
        );
    }
    assert!(npm_satisfies("^^1", "1.0.0").is_err());
    check_increasing(Ecosystem::Npm, &["0.9.9", "1.0.0-rc.1", "1.0.0", "1.0.10"]);
}

#[test]
fn cargo_requirements_as_rustsec_writes_them() {
    let cases = [
        (">= 0.9.1", "0.9.1", true),
        (">= 0.9.1", "0.9.0", false),
        (">= 1.2.3, < 1.3.0", "1.2.9", true),
        (">= 1.2.3, < 1.3.0", "1.3.0", false),
        ("^0.8.5", "0.8.9", true),
        ("^0.8.5", "0.9.0", false),
        ("< 0.1.0", "0.0.9", true),
        // RustSec compares pre-releases by precedence.
        (">= 1.0.0", "1.1.0-rc.1", true),
        (">= 1.1.0", "1.1.0-rc.1", false),
        ("=0.2.1", "0.2.1", true),
    ];
    for (req, version, expected) in cases {
        assert_eq!(
            cargo_satisfies(req, version),
            Ok(expected),
            "{version} in {req}"
        );
    }
    assert!(cargo_satisfies(">= 1.x.y", "1.0.0").is_err());
}

#[test]
fn pep440_ordering_from_the_spec() {
    // PEP 440's "Summary of permitted suffixes and relative ordering".
    check_increasing(
        Ecosystem::PyPI,
        &[
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "2.0",
            // Epochs beat everything.
            "1!0.1",
            "1!1.0",
        ],
    );
    check_equal(
        Ecosystem::PyPI,
        &[
            ("1.0", "1.0.0"),
            ("1.0alpha1", "1.0a1"),
            ("1.0-beta.2", "1.0b2"),
            ("1.0c1", "1.0rc1"),
            ("1.0preview1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
            ("1.0rev1", "1.0.post1"),
            ("1.0.dev", "1.0.dev0"),
            ("v1.0", "1.0"),
            ("0!1.0", "1.0"),
            ("1.0a", "1.0a0"),
            ("1.0+ubuntu-1", "1.0+ubuntu.1"),
        ],
    );
    for bad in ["", "1.0.", "1.0+", "1.0foo", "abc", "1..0"] {
        assert_eq!(
            compare(&Ecosystem::PyPI, bad, "1.0"),
            None,
            "{bad:?} is not PEP 440"
        );
    }
    assert_eq!(super::pep440::normalize_name("Foo.Bar__baz"), "foo-bar-baz");
    // A name that is already normal is borrowed, and only such a name.
    for name in [
        "foo-bar-baz",
        "Foo",
        "foo_bar",
        "foo.bar",
        "-foo",
        "foo-",
        "foo--bar",
        " foo",
        "foo ",
        "",
        "zope.interface",
        "ruamel-yaml",
        "x1",
        "ünï-code",
        "ÄBC",
    ] {
        let normal = super::pep440::normalize_name(name);
        assert_eq!(
            super::pep440::is_normal_name(name),
            normal == name && !name.is_empty(),
            "{name:?}"
        );
        let via = super::Ecosystem::PyPI.normalize_name(name);
        assert_eq!(via, normal, "{name:?}");
        assert_eq!(
            matches!(via, std::borrow::Cow::Borrowed(_)),
            normal == name && !name.is_empty(),
            "{name:?}"
        );
    }
}

#[test]
fn maven_comparable_version_vectors() {
    // Maven's own ComparableVersionTest vectors (VERSIONS_QUALIFIER, VERSIONS_NUMBER).
    check_increasing(
        Ecosystem::Maven,
        &[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ],
    );
    check_increasing(
        Ecosystem::Maven,
        &[
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
            "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
            "11", "11.a", "11b", "11c", "11m",
        ],
    );
    // Maven's testVersionsEqual.
    check_equal(
        Ecosystem::Maven,
        &[
            ("1", "1"),
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1.0x", "1-x"),
            ("1.0.0x", "1-x"),
            ("1cr", "1rc"),
            ("1m3", "1milestone3"),
            ("1", "1ga"),
            ("1", "1release"),
            ("1", "1final"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1RC", "1rc"),
            ("1Sp", "1sp"),
        ],
    );
}

#[test]
fn rubygems_ordering() {
    check_increasing(
        Ecosystem::RubyGems,
        &[
            "0.9",
            "1.0.a",
            "1.0.a.2",
            "1.0.b1",
            "1.0.rc1",
            "1.0",
            "1.0.1",
            "1.1.pre",
            "1.1",
            "1.10",
            "2.0.0-rc1",
            "2.0.0",
        ],
    );
    check_equal(
        Ecosystem::RubyGems,
        &[("1.0", "1"), ("1.0.0", "1"), ("2.0.0-rc1", "2.0.0.pre.rc1")],
    );
    assert_eq!(compare(&Ecosystem::RubyGems, "junk!", "1"), None);
}

#[test]
fn ecosystems_parse_from_osv_names() {
    assert_eq!(Ecosystem::parse("PyPI"), Ecosystem::PyPI);
    assert_eq!(Ecosystem::parse("crates.io"), Ecosystem::CratesIo);
    assert_eq!(
        Ecosystem::parse("Debian:11"),
        Ecosystem::Other("Debian:11".into())
    );
    assert_eq!(
        compare(&Ecosystem::Other("Debian:11".into()), "1", "2"),
        None
    );
}
