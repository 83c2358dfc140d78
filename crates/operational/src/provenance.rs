//! Release provenance: an in-toto Statement v1 with an SLSA provenance v1
//! predicate, in a DSSE envelope signed with the workspace's ed25519 key.
//!
//! The statement's subjects are the release's artifacts with their SHA-256;
//! the predicate names the builder (this workspace's runner), the run's
//! commit as resolved dependency, the pipeline file as the build definition
//! and the run's job logs as byproducts. [`verify`] checks the signature and
//! every subject's digest and names each thing that was altered.

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const BUILD_TYPE: &str = "https://dso.dev/pipeline-run/v1";

/// An in-toto resource descriptor (subject, dependency, byproduct).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default)]
    pub digest: std::collections::BTreeMap<String, String>,
}

/// in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub ty: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Provenance,
}

/// SLSA provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: String,
    pub external_parameters: serde_json::Value,
    pub internal_parameters: serde_json::Value,
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    pub builder: Builder,
    pub metadata: BuildMetadata,
    pub byproducts: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builder {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    pub invocation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload_type: String,
    /// Base64 of the statement's JSON.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: String,
}

/// What a release is built from: everything the statement records.
#[derive(Debug, Clone)]
pub struct ReleaseFacts {
    pub version: String,
    /// `dso://WORKSPACE`.
    pub workspace_source: String,
    pub run_id: i64,
    pub repo: String,
    pub git_ref: String,
    pub commit_sha: String,
    pub pipeline_file: String,
    pub started_on: Option<String>,
    pub finished_on: Option<String>,
    /// (path, sha256 hex) of each artifact.
    pub artifacts: Vec<(String, String)>,
    /// (name, sha256 hex) of each byproduct (job logs).
    pub byproducts: Vec<(String, String)>,
}

fn descriptor(name: &str, sha256: &str) -> ResourceDescriptor {
    ResourceDescriptor {
        name: Some(name.to_owned()),
        uri: None,
        digest: [("sha256".to_owned(), sha256.to_owned())].into(),
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The statement for a release.
pub fn statement(facts: &ReleaseFacts) -> Statement {
    Statement {
        ty: STATEMENT_TYPE.into(),
        subject: facts
            .artifacts
            .iter()
            .map(|(path, sha)| descriptor(path, sha))
            .collect(),
        predicate_type: SLSA_PROVENANCE_V1.into(),
        predicate: Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.into(),
                external_parameters: serde_json::json!({
                    "repository": facts.repo,
                    "ref": facts.git_ref,
                    "pipelineFile": ".dso/pipeline.yaml",
                    "release": facts.version,
                }),
                internal_parameters: serde_json::json!({ "runId": facts.run_id }),
                resolved_dependencies: vec![
                    ResourceDescriptor {
                        name: None,
                        uri: Some(format!("git+{}@{}", facts.repo, facts.git_ref)),
                        digest: [("gitCommit".to_owned(), facts.commit_sha.clone())].into(),
                    },
                    descriptor(
                        ".dso/pipeline.yaml",
                        &sha256_hex(facts.pipeline_file.as_bytes()),
                    ),
                ],
            },
            run_details: RunDetails {
                builder: Builder {
                    id: format!("{}/runner", facts.workspace_source),
                },
                metadata: BuildMetadata {
                    invocation_id: format!("{}/runs/{}", facts.workspace_source, facts.run_id),
                    started_on: facts.started_on.clone(),
                    finished_on: facts.finished_on.clone(),
                },
                byproducts: facts
                    .byproducts
                    .iter()
                    .map(|(name, sha)| descriptor(name, sha))
                    .collect(),
            },
        },
    }
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A short, stable key name: hex of the first 8 bytes of the key's SHA-256
/// (the same as the audit log's checkpoint key id).
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&sha2::Sha256::digest(key.as_bytes())[..8])
}

/// Signs `statement` with the workspace's secret key.
pub fn sign(statement: &Statement, secret: &[u8; 32]) -> Envelope {
    let key = SigningKey::from_bytes(secret);
    let payload = serde_json::to_vec(statement).expect("a statement always serialises");
    let signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    Envelope {
        payload_type: PAYLOAD_TYPE.into(),
        payload: b64.encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: key_id(&key.verifying_key()),
            sig: b64.encode(signature.to_bytes()),
        }],
    }
}

/// Something wrong with a release, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    /// The envelope is not JSON, or its payload not a statement.
    Malformed { detail: String },
    /// No signature by the workspace key verifies over the payload.
    BadSignature,
    /// The statement is for another release.
    WrongRelease { statement: String },
    /// The artifact's stored bytes no longer have the signed digest.
    ArtifactAltered {
        artifact: String,
        expected: String,
        actual: String,
    },
    /// The artifact's bytes are gone from the store.
    ArtifactMissing { artifact: String, expected: String },
    /// A signed byproduct (the release's evidence) no longer has its digest.
    ByproductAltered {
        byproduct: String,
        expected: String,
        actual: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Malformed { detail } => {
                write!(f, "the provenance envelope is malformed: {detail}")
            }
            Problem::BadSignature => write!(
                f,
                "the provenance signature does not verify with the workspace key"
            ),
            Problem::WrongRelease { statement } => {
                write!(f, "the provenance statement is for release `{statement}`")
            }
            Problem::ArtifactAltered {
                artifact,
                expected,
                actual,
            } => write!(
                f,
                "artifact `{artifact}` was altered: signed sha256:{expected}, stored bytes hash to sha256:{actual}"
            ),
            Problem::ArtifactMissing { artifact, expected } => {
                write!(
                    f,
                    "artifact `{artifact}` (sha256:{expected}) is missing from the artifact store"
                )
            }
            Problem::ByproductAltered {
                byproduct,
                expected,
                actual,
            } => write!(
                f,
                "`{byproduct}` was altered: signed sha256:{expected}, stored content hashes to sha256:{actual}"
            ),
        }
    }
}

/// The statement inside an envelope, without checking the signature.
pub fn open(envelope_json: &str) -> Result<(Envelope, Statement), Problem> {
    let envelope: Envelope =
        serde_json::from_str(envelope_json).map_err(|e| Problem::Malformed {
            detail: e.to_string(),
        })?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&envelope.payload)
        .map_err(|e| Problem::Malformed {
            detail: format!("payload is not base64: {e}"),
        })?;
    let statement: Statement =
        serde_json::from_slice(&payload).map_err(|e| Problem::Malformed {
            detail: format!("payload is not an in-toto statement: {e}"),
        })?;
    if statement.ty != STATEMENT_TYPE || statement.predicate_type != SLSA_PROVENANCE_V1 {
        return Err(Problem::Malformed {
            detail: "not an in-toto v1 statement with an SLSA provenance v1 predicate".into(),
        });
    }
    Ok((envelope, statement))
}

/// The signed artifacts of a statement: (path, sha256 hex).
pub fn subjects(statement: &Statement) -> Vec<(String, String)> {
    statement
        .subject
        .iter()
        .map(|s| {
            (
                s.name.clone().unwrap_or_default(),
                s.digest.get("sha256").cloned().unwrap_or_default(),
            )
        })
        .collect()
}

/// The signed byproducts of a statement (job logs, SBOMs, the release's
/// evidence): (name, sha256 hex).
pub fn byproducts(statement: &Statement) -> Vec<(String, String)> {
    statement
        .predicate
        .run_details
        .byproducts
        .iter()
        .map(|b| {
            (
                b.name.clone().unwrap_or_default(),
                b.digest.get("sha256").cloned().unwrap_or_default(),
            )
        })
        .collect()
}

/// Verifies a release's envelope: the signature under `key`, that it is
/// for `version`, and each subject's digest against `actual(sha256)`, the
/// digest of the bytes the artifact store holds under that address (`None`
/// when absent). Returns every problem found; empty means intact.
pub fn verify(
    envelope_json: &str,
    version: &str,
    key: &VerifyingKey,
    mut actual: impl FnMut(&str) -> Option<String>,
) -> Vec<Problem> {
    let (envelope, statement) = match open(envelope_json) {
        Ok(pair) => pair,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(&envelope.payload).unwrap_or_default();
    let message = pae(&envelope.payload_type, &payload);
    let signed = envelope.payload_type == PAYLOAD_TYPE
        && envelope.signatures.iter().any(|s| {
            b64.decode(&s.sig)
                .ok()
                .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
                .is_some_and(|sig| key.verify(&message, &sig).is_ok())
        });
    if !signed {
        problems.push(Problem::BadSignature);
    }
    let stated = statement.predicate.build_definition.external_parameters["release"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if stated != version {
        problems.push(Problem::WrongRelease { statement: stated });
    }
    for (artifact, expected) in subjects(&statement) {
        match actual(&expected) {
            None => problems.push(Problem::ArtifactMissing { artifact, expected }),
            Some(hex) if hex != expected => problems.push(Problem::ArtifactAltered {
                artifact,
                expected,
                actual: hex,
            }),
            Some(_) => {}
        }
    }
    problems
}
