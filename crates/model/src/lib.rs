//! The SEI DevSecOps Platform-Independent Model (PIM): Operational and
//! Personnel, as data embedded in the binary.
//!
//! `data/pim.yaml` transcribes the paper's performers (Table 1), operational
//! exchanges (Table 2), roles (Table 3), the nine critical roles with their
//! responsibilities, goals and questions, and the process flows of its
//! figures, plus the PIM v2.1 activity ids, capabilities and system
//! requirements. [`pim`] parses it once; [`Pim::validate`] checks every cross
//! reference.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of the
//! pipeline engine, the store or the CLI. It only describes the model.

mod lookup;
mod types;
mod validate;

use std::sync::OnceLock;

pub use types::{
    Activity, Attribute, Capability, CapabilityLevel, Domain, Exchange, InformationElement,
    Performer, Pim, Process, Question, Requirement, Role, Step, Transition,
};

/// The pipeline-job vocabulary (`activity:` in `.dso/pipeline.yaml`); each
/// slug names exactly one PIM activity.
pub const ACTIVITY_SLUGS: [&str; 15] = [
    "build",
    "unit-test",
    "sast-l1",
    "sast-l2",
    "sca",
    "secrets",
    "sbom",
    "policy-gate",
    "validate",
    "deliver-staging",
    "dynamic-analysis",
    "pen-test",
    "release",
    "deploy",
    "monitor",
];

/// Values of [`Performer::kind`].
pub const PERFORMER_KINDS: [&str; 5] = ["domain", "tool", "platform", "person", "environment"];

/// Values of [`Step::kind`].
pub const STEP_KINDS: [&str; 10] = [
    "start",
    "end",
    "activity",
    "subprocess",
    "decision",
    "merge",
    "fork",
    "join",
    "event",
    "data",
];

/// Values of [`Role::category`].
pub const ROLE_CATEGORIES: [&str; 3] = ["Business or Mission", "Engineering", "Operational Users"];

/// Values of [`Requirement::area`] with their id prefixes.
pub const REQUIREMENT_AREAS: [(&str, &str); 7] = [
    ("governance", "Gov_"),
    ("requirements", "Req_"),
    ("architecture-and-design", "Arc_"),
    ("development", "Dev_"),
    ("test", "Tes_"),
    ("delivery", "Del_"),
    ("system-infrastructure", "Sys_"),
];

/// The model file, embedded at compile time.
const PIM_YAML: &str = include_str!("../data/pim.yaml");

/// Why a model document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The YAML is malformed or does not match the model's shape.
    #[error("invalid PIM document: {0}")]
    Yaml(#[from] serde_saphyr::Error),
}

/// The embedded model, parsed on first use.
///
/// # Panics
///
/// Panics if the embedded `data/pim.yaml` does not parse; the integration
/// test `embedded_model_parses` guards against shipping such a file.
pub fn pim() -> &'static Pim {
    static PIM: OnceLock<Pim> = OnceLock::new();
    PIM.get_or_init(|| {
        parse(PIM_YAML)
            .expect("embedded data/pim.yaml parses, as the test embedded_model_parses checks")
    })
}

/// Parses a model document. Does not validate it: see [`Pim::validate`].
pub fn parse(yaml: &str) -> Result<Pim, ModelError> {
    let mut pim: Pim = serde_saphyr::from_str(yaml)?;
    for question in &mut pim.questions {
        if question.name.is_empty() {
            question.name = question.text.clone();
        }
    }
    Ok(pim)
}

impl Pim {
    /// The pipeline slugs carried by activities, in model order.
    pub fn activity_slugs(&self) -> Vec<&str> {
        self.activities
            .iter()
            .filter_map(|a| a.slug.as_deref())
            .collect()
    }
}
