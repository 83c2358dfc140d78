//! The element kinds of the PIM, as plain data with public fields.
//!
//! Every struct is `serde` (de)serializable and rejects unknown fields, so a
//! typo in `data/pim.yaml` fails to parse instead of being dropped. Optional
//! lists and flags default to empty/false and are skipped when serializing.

use serde::{Deserialize, Serialize};

/// The whole model: one list per element kind, in the order of `data/pim.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pim {
    /// The seven operational domains (Figure 2).
    pub domains: Vec<Domain>,
    /// Table 1, Performers Library.
    pub performers: Vec<Performer>,
    /// Data elements of the conceptual data model (IE ids).
    pub information_elements: Vec<InformationElement>,
    /// Table 2, Operational Connectivity.
    pub exchanges: Vec<Exchange>,
    /// Operational process flows (Figures 5-28) and containment-only stubs.
    pub processes: Vec<Process>,
    /// Table 3, Roles and Responsibilities, with the critical roles' details.
    pub roles: Vec<Role>,
    /// The numbered questions of the critical roles.
    pub questions: Vec<Question>,
    /// The ten capabilities of the strategic taxonomy.
    pub capabilities: Vec<Capability>,
    /// The system requirements, traced to maturity levels.
    pub requirements: Vec<Requirement>,
    /// Operational activities with their PIM ids.
    pub activities: Vec<Activity>,
}

/// An operational domain; each is also a performer of kind `domain`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// Kebab-case id, e.g. `development-and-test`.
    pub id: String,
    /// Name as printed, e.g. "Development and Test Domain".
    pub name: String,
    /// Id of the performer that stands for this domain.
    pub performer: String,
}

/// A row of Table 1, Performers Library.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performer {
    /// Kebab-case id, e.g. `cyber-security-engineer`.
    pub id: String,
    /// Name as printed (hyphenation removed).
    pub name: String,
    /// Row number in Table 1 (1-based).
    pub number: u32,
    /// One of [`crate::PERFORMER_KINDS`]; this model's classification.
    pub kind: String,
    /// Id of the domain the performer belongs to (a domain performer: itself).
    pub domain: String,
    /// The "name : Type" attributes of the row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
}

/// One "name : Type" attribute of a performer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// Attribute name as printed, e.g. "architects".
    pub name: String,
    /// Id of the performer the attribute's type names, e.g. `architect`.
    pub performer: String,
}

/// A data element (information element) of the conceptual data model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InformationElement {
    /// The PIM id, e.g. `IE3`.
    pub id: String,
    /// Name, e.g. "Code".
    pub name: String,
}

/// A row of Table 2, Operational Connectivity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// The PIM id, e.g. `OE1`.
    pub id: String,
    /// Name of the exchanged item, e.g. "Code".
    pub name: String,
    /// Id of the exchanged information element, e.g. `IE3`.
    pub item: String,
    /// Id of the sending performer.
    pub sender: String,
    /// Id of the receiving performer.
    pub receiver: String,
}

/// An operational process flow (an activity diagram or BPMN process).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// The PIM id, e.g. `P2`, `P2-4-1`, `P18.3`.
    pub id: String,
    /// Name, e.g. "Validate Product".
    pub name: String,
    /// The paper's figure, e.g. "Figure 14: Validate Product".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
    /// Id of the process whose flow calls this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Input parameters as labelled in the figure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Output parameters as labelled in the figure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// Notes, definitions and object flows the steps do not carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The nodes of the flow; empty for a containment-only stub.
    pub steps: Vec<Step>,
}

/// A node of a process flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the process: the PIM activity id (`P2-4-2`), the BPMN id
    /// (`P18.3.4`), or `<process id>.<name>` for unnumbered nodes.
    pub id: String,
    /// Name or label as printed.
    pub name: String,
    /// One of [`crate::STEP_KINDS`].
    pub kind: String,
    /// The flows leaving this node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<Transition>,
    /// Swimlane: id of the performer, where the figure has lanes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performer: Option<String>,
    /// For a `subprocess` step: id of the process it calls, if transcribed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Ids of `data` steps of the same process this node reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Ids of `data` steps of the same process this node writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// A BPMN manual task (hand icon).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// Annotation or BPMN event type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A flow from one step to another step of the same process.
///
/// In YAML either a bare step id or a map `{ to, when, items }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "TransitionRepr")]
pub struct Transition {
    /// Id of the target step.
    pub to: String,
    /// Guard or branch label as printed; `None` when the flow is unlabelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// What the flow conveys: IE ids, or data labels as printed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// The two YAML spellings of a [`Transition`].
#[derive(Deserialize)]
#[serde(untagged)]
enum TransitionRepr {
    To(String),
    Full(TransitionMap),
}

/// The map spelling of a [`Transition`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionMap {
    to: String,
    #[serde(default)]
    when: Option<String>,
    #[serde(default)]
    items: Vec<String>,
}

impl From<TransitionRepr> for Transition {
    fn from(repr: TransitionRepr) -> Self {
        match repr {
            TransitionRepr::To(to) => Transition {
                to,
                when: None,
                items: Vec::new(),
            },
            TransitionRepr::Full(map) => Transition {
                to: map.to,
                when: map.when,
                items: map.items,
            },
        }
    }
}

/// A row of Table 3, Roles and Responsibilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Kebab-case id, e.g. `security-engineer`.
    pub id: String,
    /// Name as printed, e.g. "Security Engineer".
    pub name: String,
    /// Row number in Table 3 (1-based).
    pub number: u32,
    /// One of [`crate::ROLE_CATEGORIES`].
    pub category: String,
    /// Further categories, when Table 3 lists several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_categories: Vec<String>,
    /// The category is not printed in Table 3 and was inferred.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub category_inferred: bool,
    /// Other names of the role (e.g. the Table 3 name of a critical role).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One of the nine critical roles.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub critical: bool,
    /// Responsibilities (critical roles only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsibilities: Vec<String>,
    /// Goals (critical roles only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<String>,
}

/// A numbered question of a critical role.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// `<role id>.q<number>`, e.g. `architect.q7`.
    pub id: String,
    /// Short name; defaults to the text.
    #[serde(default)]
    pub name: String,
    /// Id of the role that asks it.
    pub role: String,
    /// Number within the role (1-based).
    pub number: u32,
    /// The question as printed.
    pub text: String,
}

/// A capability of the strategic taxonomy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// Kebab-case id, e.g. `verification-and-validation`.
    pub id: String,
    /// Name, e.g. "Verification & Validation".
    pub name: String,
    /// Its levels, 1..n.
    pub levels: Vec<CapabilityLevel>,
}

/// A level of a capability.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityLevel {
    /// 1-based level.
    pub level: u8,
    /// Name, e.g. "Deployment Level 2".
    pub name: String,
    /// Description, where the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A system requirement.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The PIM id, e.g. `Gov_4.1`.
    pub id: String,
    /// Name, e.g. "Development Progress".
    pub name: String,
    /// Id of the containing requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Maturity level 1..=4.
    pub level: u8,
    /// One of [`crate::REQUIREMENT_AREAS`].
    pub area: String,
    /// Verbatim text, where the source prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// An operational activity with its PIM id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// The PIM id, e.g. `P2-4-1-1`.
    pub id: String,
    /// Name, e.g. "Perform Static Source Code Analysis Level 1".
    pub name: String,
    /// Id of the process that owns it in the PIM's containment tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Pipeline-job vocabulary, one of [`crate::ACTIVITY_SLUGS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
}
