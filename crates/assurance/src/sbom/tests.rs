//! SBOM output validated against the official CycloneDX 1.6 and SPDX 2.3
//! schemas, and read back.

use std::path::PathBuf;

use serde_json::Value;

use super::{cyclonedx, parse, parse_purl, spdx};
use crate::lockfiles::{Package, detect, parse as parse_lock};
use crate::versions::Ecosystem;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn schema(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(data(&format!("schemas/{name}"))).expect("schema"),
    )
    .expect("schema json")
}

/// Serves the schemas the CycloneDX schema refers to, from the vendored copies.
struct Vendored;

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        match name.as_str() {
            "spdx.schema.json" | "jsf-0.82.schema.json" => Ok(schema(&name)),
            _ => Err(format!("not vendored: {uri}").into()),
        }
    }
}

fn packages() -> Vec<Package> {
    let mut all = Vec::new();
    for rel in [
        "lockfiles/Cargo.lock",
        "lockfiles/package-lock.json",
        "lockfiles/poetry.lock",
        "lockfiles/go.sum",
    ] {
        let path = data(rel);
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("fixture");
        all.extend(parse_lock(detect(&name).expect("kind"), rel, &text).expect("parses"));
    }
    all
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn cyclonedx_validates_and_reads_back() {
    let validator = jsonschema::options()
        .with_retriever(Vendored)
        .build(&schema("cyclonedx-bom-1.6.schema.json"))
        .expect("the official schema compiles");
    let pk = packages();
    let bom = cyclonedx(
        &pk,
        "fixtures",
        "2026-11-27T00:00:00Z",
        "3e671687-395b-41f5-a30f-a58921a69b79",
        "0.0.0",
    );
    assert_eq!(errors(&validator, &bom), Vec::<String>::new());
    let comps = bom["components"].as_array().expect("components");
    assert_eq!(comps.len(), pk.len());
    let serde = comps.iter().find(|c| c["name"] == "serde").expect("serde");
    assert_eq!(serde["hashes"][0]["alg"], "SHA-256");
    assert!(
        serde["purl"]
            .as_str()
            .expect("purl")
            .starts_with("pkg:cargo/serde@")
    );
    // Dependency edges where the lockfile knows them (Cargo.lock: hyper -> tokio).
    let deps = bom["dependencies"].as_array().expect("dependencies");
    assert!(deps.iter().any(|d| {
        d["ref"]
            .as_str()
            .is_some_and(|r| r.starts_with("pkg:cargo/hyper@"))
            && d["dependsOn"].as_array().is_some_and(|a| {
                a.iter().any(|x| {
                    x.as_str()
                        .is_some_and(|x| x.starts_with("pkg:cargo/tokio@"))
                })
            })
    }));
    let (back, unknown) = parse("bom.json", &bom.to_string()).expect("reads back");
    assert_eq!(unknown, 0);
    assert_eq!(back.len(), pk.len());
    for (a, b) in back.iter().zip(&pk) {
        assert_eq!(
            (&a.ecosystem, a.version.as_str()),
            (&b.ecosystem, b.version.as_str())
        );
        assert_eq!(
            a.ecosystem.normalize_name(&a.name),
            b.ecosystem.normalize_name(&b.name)
        );
    }
    // The validator catches a broken document.
    let mut broken = bom.clone();
    broken["components"][0]["hashes"] = serde_json::json!([{"alg": "SHA-256", "content": "xyz"}]);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn spdx_validates_and_reads_back() {
    let validator = jsonschema::validator_for(&schema("spdx-2.3.schema.json")).expect("compiles");
    let pk = packages();
    let doc = spdx(
        &pk,
        "fixtures",
        "2026-11-27T00:00:00Z",
        "3e671687-395b-41f5-a30f-a58921a69b79",
        "0.0.0",
    );
    assert_eq!(errors(&validator, &doc), Vec::<String>::new());
    let (back, _) = parse("doc.spdx.json", &doc.to_string()).expect("reads back");
    assert_eq!(back.len(), pk.len());
    let rels = doc["relationships"].as_array().expect("relationships");
    assert!(rels.iter().any(|r| r["relationshipType"] == "DEPENDS_ON"));
    let mut broken = doc.clone();
    broken["packages"][0]["filesAnalyzed"] = "no".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn purls_parse_per_type() {
    let cases = [
        (
            "pkg:cargo/serde@1.0.0",
            Ecosystem::CratesIo,
            "serde",
            "1.0.0",
        ),
        (
            "pkg:npm/%40babel/core@7.12.3",
            Ecosystem::Npm,
            "@babel/core",
            "7.12.3",
        ),
        (
            "pkg:pypi/django@4.2?extension=whl",
            Ecosystem::PyPI,
            "django",
            "4.2",
        ),
        (
            "pkg:golang/golang.org/x/crypto@v0.17.0",
            Ecosystem::Go,
            "golang.org/x/crypto",
            "v0.17.0",
        ),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
        ),
        ("pkg:gem/rack@2.2.3", Ecosystem::RubyGems, "rack", "2.2.3"),
        (
            "pkg:composer/guzzlehttp/psr7@2.1.0",
            Ecosystem::Packagist,
            "guzzlehttp/psr7",
            "2.1.0",
        ),
    ];
    for (purl, eco, name, version) in cases {
        assert_eq!(
            parse_purl(purl),
            Some((eco, name.to_owned(), version.to_owned())),
            "{purl}"
        );
    }
    assert_eq!(parse_purl("pkg:deb/debian/curl@7.50.3-1"), None);
    assert_eq!(parse_purl("not a purl"), None);
}

#[test]
fn malformed_sboms_are_named() {
    for (text, needle) in [
        (
            "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.2\"}",
            "field `specVersion`",
        ),
        (
            "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"components\": 3}",
            "field `components`",
        ),
        (
            "{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [{\"SPDXID\": \"SPDXRef-a\"}]}",
            "packages[0].name",
        ),
        ("{\"hello\": 1}", "neither"),
        ("{\"bomFormat\": ", "bom.json:1"),
    ] {
        let err = parse("bom.json", text).expect_err(text).to_string();
        assert!(err.contains(needle), "`{err}` lacks `{needle}`");
    }
}
