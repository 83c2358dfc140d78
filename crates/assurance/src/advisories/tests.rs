//! Advisory loading and merging on real RustSec, PyPA and Go files.

use std::path::PathBuf;

use super::load::load_path;
use super::merge::merge;
use super::{Severity, cvss_score};
use crate::versions::Ecosystem;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/advisories")
        .join(rel)
}

#[test]
fn rustsec_layout_is_read_with_requirements_and_cvss() {
    let loaded = load_path(&data("rustsec")).expect("the fixture directory exists");
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert_eq!(loaded.withdrawn, vec!["RUSTSEC-2022-0044".to_owned()]);
    let a = loaded
        .advisories
        .iter()
        .find(|a| a.id == "RUSTSEC-2021-0003")
        .expect("smallvec's insert_many advisory");
    assert_eq!(a.affected[0].name, "smallvec");
    assert_eq!(a.affected[0].ecosystem, Ecosystem::CratesIo);
    let cargo = a.affected[0]
        .cargo
        .as_ref()
        .expect("RustSec keeps requirements");
    assert!(cargo.patched.iter().any(|p| p.contains("1.6.1")));
    assert!(a.aliases.contains(&"CVE-2021-25900".to_owned()));
    assert!(
        a.summary.contains("insert_many"),
        "title from the Markdown: {}",
        a.summary
    );
    // The toolchain collection never looks like the `cargo` crate.
    let toolchain = loaded
        .advisories
        .iter()
        .find(|a| a.affected[0].name == "cargo")
        .expect("rust/cargo advisories are loaded");
    assert_eq!(
        toolchain.affected[0].ecosystem,
        Ecosystem::Other("Rust-toolchain".into())
    );
    // Scored from the CVSS vector.
    let scored = loaded
        .advisories
        .iter()
        .filter(|a| a.cvss_score.is_some())
        .count();
    assert!(scored > 0);
}

#[test]
fn pypa_yaml_and_go_json_are_read_and_withdrawn_ignored() {
    let pypa = load_path(&data("pypa")).expect("fixture");
    assert!(pypa.skipped.is_empty(), "{:?}", pypa.skipped);
    assert_eq!(pypa.withdrawn, vec!["PYSEC-2023-73".to_owned()]);
    let yaml = pypa
        .advisories
        .iter()
        .find(|a| a.id == "PYSEC-2018-49")
        .expect("PyYAML load() advisory");
    assert_eq!(yaml.affected[0].ecosystem, Ecosystem::PyPI);
    assert!(!yaml.affected[0].ranges.is_empty());

    let go = load_path(&data("go")).expect("fixture");
    assert_eq!(go.withdrawn, vec!["GO-2022-0617".to_owned()]);
    assert_eq!(go.advisories.len(), 5);
    let gin = go
        .advisories
        .iter()
        .find(|a| a.id == "GO-2020-0001")
        .expect("gin advisory");
    assert_eq!(gin.affected[0].name, "github.com/gin-gonic/gin");
    assert_eq!(gin.affected[0].ecosystem, Ecosystem::Go);
}

#[test]
fn aliases_merge_across_databases_but_not_within_one() {
    let mut records = load_path(&data("rustsec")).expect("fixture").advisories;
    records.extend(load_path(&data("ghsa")).expect("fixture").advisories);
    let n_before = records.len();
    let merged = merge(records);
    assert_eq!(
        merged.len(),
        n_before - 1,
        "only the GHSA joins its RUSTSEC twin"
    );
    let a = merged
        .iter()
        .find(|a| a.ids().any(|id| id == "GHSA-43w2-9j62-hq99"))
        .expect("merged");
    assert_eq!(a.id, "RUSTSEC-2021-0003", "RUSTSEC is the primary id");
    assert!(a.aliases.contains(&"CVE-2021-25900".to_owned()));
    assert_eq!(a.cwes, vec!["CWE-787".to_owned()]);
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.sources.len(), 2);
}

#[test]
fn cvss_v3_and_v4_vectors_score() {
    assert_eq!(
        cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        Some(9.8)
    );
    let v4 = cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
        .expect("v4 parses");
    assert!(v4 >= 9.0, "{v4}");
    assert_eq!(cvss_score("CVSS:3.1/AV:X"), None);
    assert_eq!(Severity::from_score(5.3), Severity::Medium);
}

#[test]
fn bad_files_are_skipped_with_file_line_and_field() {
    let loaded = load_path(&data("bad")).expect("fixture");
    assert!(loaded.advisories.is_empty());
    assert_eq!(loaded.files, 8);
    assert_eq!(loaded.skipped.len(), 8, "{:#?}", loaded.skipped);
    let find = |name: &str| {
        loaded
            .skipped
            .iter()
            .find(|e| e.file.ends_with(name))
            .unwrap_or_else(|| panic!("{name} skipped"))
            .to_string()
    };
    let msg = find("missing-package-name.json");
    assert!(msg.contains(":3:"), "{msg}");
    assert!(msg.contains("affected[0].package"), "{msg}");
    assert!(msg.contains("name"), "{msg}");
    let msg = find("two-keys-in-one-event.json");
    assert!(msg.contains("affected[0].ranges[0].events[0]"), "{msg}");
    let msg = find("unknown-range-type.json");
    assert!(msg.contains("RANGE"), "{msg}");
    let msg = find("ranges-not-a-list.yaml");
    assert!(msg.contains(":6") || msg.contains(":5"), "{msg}");
    let msg = find("RUSTSEC-0000-0001.md");
    assert!(msg.contains("front matter"), "{msg}");
    let msg = find("RUSTSEC-0000-0002.md");
    assert!(
        msg.contains("1.x.y") && msg.contains("versions.patched"),
        "{msg}"
    );
    let msg = find("RUSTSEC-0000-0003.md");
    assert!(msg.contains("package"), "{msg}");
    assert!(msg.contains(":2") || msg.contains(":3"), "{msg}");
}

#[test]
fn a_zip_of_osv_files_loads_like_a_directory() {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for name in ["GO-2020-0001.json", "GO-2022-0617.json"] {
            let text = std::fs::read(data("go").join(name)).expect("fixture");
            zip.start_file(name, options).expect("zip entry");
            zip.write_all(&text).expect("zip write");
        }
        zip.start_file("broken.json", options).expect("zip entry");
        zip.write_all(b"{\"id\": 3}").expect("zip write");
        zip.finish().expect("zip finish");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("all.zip");
    std::fs::write(&path, buf.into_inner()).expect("write zip");
    let loaded = load_path(&path).expect("a zip loads");
    assert_eq!(loaded.advisories.len(), 1);
    assert_eq!(loaded.withdrawn.len(), 1);
    assert_eq!(loaded.skipped.len(), 1);
    assert!(loaded.skipped[0].file.ends_with("all.zip!broken.json"));
}

#[test]
fn platform_limits_are_read_from_rustsec_and_osv() {
    let loaded = load_path(&data("rustsec")).expect("fixture");
    let atty = loaded
        .advisories
        .iter()
        .find(|a| a.id == "RUSTSEC-2021-0145")
        .expect("atty's windows-only advisory");
    assert_eq!(atty.affected[0].os, vec!["windows".to_owned()]);
    assert!(atty.affected[0].arch.is_empty());
    // osv.dev's export of RustSec writes them under ecosystem_specific.affects.
    let osv = r#"{"id": "RUSTSEC-2021-0145", "affected": [{
        "package": {"ecosystem": "crates.io", "name": "atty"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}]}],
        "ecosystem_specific": {"affects": {"arch": ["x86"], "os": ["windows"], "functions": []}}
    }]}"#;
    let parsed = super::osv::parse_json("RUSTSEC-2021-0145.json", osv).expect("parses");
    let Some(super::osv::Parsed::Advisory(a)) = parsed.into_iter().next() else {
        panic!("an advisory");
    };
    assert_eq!(a.affected[0].os, vec!["windows".to_owned()]);
    assert_eq!(a.affected[0].arch, vec!["x86".to_owned()]);
}
