//! Who may do what: role-based access decided by Cedar policies.
//!
//! The schema (`policy/rbac.cedarschema`) is fixed and shipped with dso; the
//! policy set is data: the default (`policy/rbac.cedar`) or one set by the
//! workspace (`dso policy rbac set FILE`), always validated against the
//! schema first. A request is a [`Principal`] (a user, the PIM roles it
//! holds, whether it is the workspace owner, whether its token is
//! read-only), an [`Action`] and a [`Resource`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};

/// The Cedar schema every RBAC policy set is validated against.
pub const SCHEMA: &str = include_str!("../policy/rbac.cedarschema");
/// The default RBAC policy set.
pub const DEFAULT_POLICY: &str = include_str!("../policy/rbac.cedar");
/// The default policy set compiled (see [`Policy::compile`]): what every
/// command that opens a workspace without a policy of its own loads. A test
/// checks that it is what `rbac.cedar` and `rbac.cedarschema` compile to
/// (`UPDATE_EXPECT=1 cargo test -p dso-governance` rewrites it).
pub const DEFAULT_COMPILED: Compiled<'static> = Compiled {
    policies: include_str!("../policy/compiled/policies.json"),
    actions: include_str!("../policy/compiled/actions.json"),
};
/// The default policy set's decisions, computed from it by
/// [`Policy::decision_table`] (the same test checks and rewrites it).
pub const DEFAULT_DECISIONS: &str = include_str!("../policy/compiled/decisions.json");

/// A policy set in Cedar's JSON policy format and the schema's action
/// entities in Cedar's entity format: loads without Cedar's text parser or
/// schema builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiled<'a> {
    pub policies: &'a str,
    pub actions: &'a str,
}

macro_rules! actions {
    ($($variant:ident => $id:literal, $read:literal;)*) => {
        /// Everything dso asks the policy about; `id()` is the Cedar action id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),* }

        impl Action {
            /// Every action, in the order of the RBAC matrix.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The Cedar action id, e.g. `backlog.write`.
            pub fn id(self) -> &'static str {
                match self { $(Action::$variant => $id),* }
            }

            /// True for actions that change nothing.
            pub fn is_read(self) -> bool {
                match self { $(Action::$variant => $read),* }
            }
        }
    };
}

actions! {
    RequirementRead => "requirement.read", true;
    BacklogRead => "backlog.read", true;
    ExchangeRead => "exchange.read", true;
    TraceRead => "trace.read", true;
    PipelineRead => "pipeline.read", true;
    AuditRead => "audit.read", true;
    UserRead => "user.read", true;
    PolicyRead => "policy.read", true;
    RequirementWrite => "requirement.write", false;
    BacklogWrite => "backlog.write", false;
    BacklogConfigure => "backlog.configure", false;
    ExchangeSend => "exchange.send", false;
    ExchangeRespond => "exchange.respond", false;
    UserManage => "user.manage", false;
    RoleManage => "role.manage", false;
    TokenManage => "token.manage", false;
    TokenSelf => "token.self", false;
    PolicyWrite => "policy.write", false;
    EventEmit => "event.emit", false;
    EventImport => "event.import", false;
    AuditCheckpoint => "audit.checkpoint", false;
    PipelineRun => "pipeline.run", false;
    FindingTriage => "finding.triage", false;
    FindingTicket => "finding.ticket", false;
    RiskAccept => "risk.accept", false;
    ReleaseCreate => "release.create", false;
    Deploy => "deploy", false;
    Rollback => "rollback", false;
    IncidentManage => "incident.manage", false;
    DesignWrite => "design.write", false;
    SecretManage => "secret.manage", false;
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Action, String> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.id() == s)
            .ok_or_else(|| format!("unknown action `{s}`"))
    }
}

/// The user asking, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    /// PIM role ids the user holds.
    pub roles: Vec<String>,
    /// The workspace owner.
    pub superuser: bool,
    /// The request came with a read-only token.
    pub read_only: bool,
}

impl Principal {
    /// `security-engineer, software-developer`, `owner` or `no roles`, for messages.
    pub fn roles_label(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if self.superuser {
            parts.push("workspace owner");
        }
        parts.extend(self.roles.iter().map(String::as_str));
        if parts.is_empty() {
            "no roles".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What an action is done to: a kind (`requirement`) and, for one object, its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: String,
    pub id: Option<String>,
}

impl Resource {
    /// A whole kind: `requirements`, `users`.
    pub fn kind(kind: &str) -> Resource {
        Resource {
            kind: kind.to_owned(),
            id: None,
        }
    }

    /// One object: `requirement REQ-1`.
    pub fn one(kind: &str, id: &str) -> Resource {
        Resource {
            kind: kind.to_owned(),
            id: Some(id.to_owned()),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} {id}", self.kind),
            None => f.write_str(&self.kind),
        }
    }
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `role` is the PIM role of the policy that allowed it, when
    /// it names one (`@role`), else `None` (the owner, own tokens).
    Allow { role: Option<String> },
    /// Denied; the forbidden message.
    Deny(Forbidden),
}

/// A denied request: `forbidden: <user> (<roles>) may not <action> on <resource>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {user} ({roles}) may not {action} on {resource}")]
pub struct Forbidden {
    pub user: String,
    /// The roles label (see [`Principal::roles_label`]).
    pub roles: String,
    pub action: String,
    pub resource: String,
    /// Why, when more than "no policy permits it" (e.g. an exchange's Table 2 roles).
    pub reason: Option<String>,
}

impl Forbidden {
    pub fn new(principal: &Principal, action: &str, resource: &Resource) -> Forbidden {
        Forbidden {
            user: principal.user.clone(),
            roles: principal.roles_label(),
            action: action.to_owned(),
            resource: resource.to_string(),
            reason: None,
        }
    }
}

/// A problem in a policy set or its text, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// 1-based line and column in the policy text, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// A policy text that does not parse or does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_problems(.name, .problems))]
pub struct PolicyError {
    /// The file (or other name) the text came from.
    pub name: String,
    pub problems: Vec<PolicyProblem>,
}

fn render_problems(name: &str, problems: &[PolicyProblem]) -> String {
    problems
        .iter()
        .map(|p| match (p.line, p.column) {
            (Some(l), Some(c)) => format!("{name}:{l}:{c}: {}", p.message),
            (Some(l), None) => format!("{name}:{l}: {}", p.message),
            _ => format!("{name}: {}", p.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A validated RBAC policy set.
///
/// Decisions do not need the schema: it was checked when the policy was
/// validated, and all a decision takes from it, the action groups
/// (`"backlog.read"` is in `"project.read"`, in `"read"`), is kept as
/// `actions`. Building a Cedar schema and parsing policy text cost more than
/// everything else a short command does, so the default policy is loaded
/// from its compiled form ([`DEFAULT_COMPILED`]).
#[derive(Debug, Clone)]
pub struct Policy {
    text: String,
    /// Loaded on first use when `table` decides.
    cedar: OnceLock<Cedar>,
    /// The default policy's decisions ([`DEFAULT_DECISIONS`]): a command
    /// that only asks for a decision loads no Cedar policy at all.
    table: Option<DecisionTable>,
}

#[derive(Debug, Clone)]
struct Cedar {
    set: PolicySet,
    actions: Vec<Entity>,
}

/// What a policy decides for each action, as [`Policy::decision_table`]
/// computes it from Cedar's decisions for one principal at a time.
///
/// For the default policy (permits by role, by the owner flag and for
/// everyone; one forbid of writes for read-only tokens) it decides every
/// principal alike: a test compares it with Cedar for every role, every two
/// roles, no role, with and without owner and read-only.
type DecisionTable = BTreeMap<String, ActionDecisions>;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ActionDecisions {
    /// The roles that may, each alone (the policy's `@role` is the role).
    roles: Vec<String>,
    /// A principal with no role and no owner flag may.
    anyone: bool,
    /// The workspace owner may.
    owner: bool,
    /// The owner with a read-only token may (false: read-only tokens may not).
    read_only: bool,
}

fn schema() -> Schema {
    Schema::from_cedarschema_str(SCHEMA)
        .map(|(schema, _warnings)| schema)
        .expect("the shipped schema is tested to parse")
}

impl Policy {
    /// The default policy set. Decides from [`DEFAULT_DECISIONS`]; its
    /// Cedar form is loaded only when asked for ([`Policy::compile`]).
    pub fn default_set() -> Policy {
        Policy {
            text: DEFAULT_POLICY.to_owned(),
            cedar: OnceLock::new(),
            table: Some(
                serde_json::from_str(DEFAULT_DECISIONS)
                    .expect("the default decision table is tested to load"),
            ),
        }
    }

    fn cedar(&self) -> &Cedar {
        self.cedar.get_or_init(|| {
            Policy::from_compiled(DEFAULT_POLICY, DEFAULT_COMPILED)
                .expect("the compiled default policy is tested to load")
                .cedar
                .into_inner()
                .expect("a loaded policy holds its Cedar form")
        })
    }

    fn loaded(text: &str, set: PolicySet, actions: Vec<Entity>) -> Policy {
        Policy {
            text: text.to_owned(),
            cedar: OnceLock::from(Cedar { set, actions }),
            table: None,
        }
    }

    /// The decisions of this policy for one principal at a time, as JSON
    /// (what [`DEFAULT_DECISIONS`] holds for the default policy).
    pub fn decision_table(&self) -> String {
        let principal = |roles: Vec<String>, superuser, read_only| Principal {
            user: "decision-table".into(),
            roles,
            superuser,
            read_only,
        };
        let resource = Resource::kind("decision-table");
        let allowed = |who: &Principal, action| {
            matches!(
                self.decide_by_cedar(who, action, &resource),
                Decision::Allow { .. }
            )
        };
        let table: DecisionTable = Action::ALL
            .iter()
            .map(|&action| {
                let mut roles: Vec<String> = dso_model::pim()
                    .roles
                    .iter()
                    .filter(|r| {
                        self.decide_by_cedar(
                            &principal(vec![r.id.clone()], false, false),
                            action,
                            &resource,
                        ) == Decision::Allow {
                            role: Some(r.id.clone()),
                        }
                    })
                    .map(|r| r.id.clone())
                    .collect();
                roles.sort();
                let row = ActionDecisions {
                    roles,
                    anyone: allowed(&principal(Vec::new(), false, false), action),
                    owner: allowed(&principal(Vec::new(), true, false), action),
                    read_only: allowed(&principal(Vec::new(), true, true), action),
                };
                (action.id().to_owned(), row)
            })
            .collect();
        serde_json::to_string_pretty(&table).expect("plain data serialises") + "\n"
    }

    /// The policy set and the schema's action entities as JSON texts
    /// ([`Compiled`]: policies, actions).
    pub fn compile(&self) -> (String, String) {
        let policies = self
            .cedar()
            .set
            .clone()
            .to_json()
            .expect("a parsed policy set has a JSON form");
        let actions = Entities::from_entities(self.cedar().actions.iter().cloned(), None)
            .expect("the schema's action entities are distinct")
            .to_json_value()
            .expect("the schema's action entities have a JSON form");
        // Cedar writes both from hash maps: sorted, the same policy always
        // compiles to the same text.
        let mut actions = match actions {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        actions.sort_by_key(|a| a["uid"].to_string());
        let text = |v| serde_json::to_string_pretty(&sorted(v)).expect("JSON values serialise");
        (text(policies), text(serde_json::Value::Array(actions)))
    }

    /// Loads what [`Policy::compile`] wrote for the policy `text`.
    pub fn from_compiled(text: &str, compiled: Compiled<'_>) -> Result<Policy, PolicyError> {
        let fail = |message: String| PolicyError {
            name: "compiled rbac policy".into(),
            problems: vec![PolicyProblem {
                line: None,
                column: None,
                message,
            }],
        };
        let set = PolicySet::from_json_str(compiled.policies).map_err(|e| fail(e.to_string()))?;
        let actions = Entities::from_json_str(compiled.actions, None)
            .map_err(|e| fail(e.to_string()))?
            .into_iter()
            .collect();
        Ok(Policy::loaded(text, set, actions))
    }

    fn with_schema(text: &str, set: PolicySet, schema: &Schema) -> Policy {
        let actions = schema
            .action_entities()
            .expect("the shipped schema's actions are entities")
            .into_iter()
            .collect();
        Policy::loaded(text, set, actions)
    }

    /// Parses a policy that was validated before: the shipped default (a
    /// test validates it) or one stored by `dso policy rbac set` (which
    /// validates before storing). Skips the schema validation and the PIM
    /// role check, which cost more than the rest of opening a workspace; a
    /// stored policy that no longer fits the schema (after an upgrade of
    /// dso) names actions or types no request carries, so it can only fail
    /// to permit.
    pub fn parse_validated(name: &str, text: &str) -> Result<Policy, PolicyError> {
        let set = PolicySet::from_str(text).map_err(|errs| PolicyError {
            name: name.to_owned(),
            problems: errs
                .iter()
                .map(|e| problem(text, e, &e.to_string()))
                .collect(),
        })?;
        Ok(Policy::with_schema(text, set, &schema()))
    }

    /// Parses `text` (named `name` in errors) and validates it against the schema.
    ///
    /// Also refuses a `@role` annotation that names no PIM role.
    pub fn parse(name: &str, text: &str) -> Result<Policy, PolicyError> {
        let fail = |problems| PolicyError {
            name: name.to_owned(),
            problems,
        };
        let set = PolicySet::from_str(text).map_err(|errs| {
            fail(
                errs.iter()
                    .map(|e| problem(text, e, &e.to_string()))
                    .collect(),
            )
        })?;
        let schema = schema();
        let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        if !result.validation_passed() {
            return Err(fail(
                result
                    .validation_errors()
                    .map(|e| problem(text, e, &e.to_string()))
                    .collect(),
            ));
        }
        let pim = dso_model::pim();
        let bad_roles: Vec<PolicyProblem> = set
            .policies()
            .filter_map(|p| p.annotation("role").map(|r| (p, r)))
            .filter(|(_, r)| !pim.roles.iter().any(|role| role.id == *r))
            .map(|(_, r)| {
                let at = text.find(&format!("\"{r}\"")).map(|o| line_col(text, o));
                PolicyProblem {
                    line: at.map(|a| a.0),
                    column: at.map(|a| a.1),
                    message: format!("@role(\"{r}\") names no PIM role (see `dso model roles`)"),
                }
            })
            .collect();
        if !bad_roles.is_empty() {
            return Err(fail(bad_roles));
        }
        Ok(Policy::with_schema(text, set, &schema))
    }

    /// The policy text as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Decides whether `principal` may do `action` on `resource`.
    ///
    /// Never fails: a request the engine cannot evaluate is denied.
    pub fn decide(&self, principal: &Principal, action: Action, resource: &Resource) -> Decision {
        let deny = || Decision::Deny(Forbidden::new(principal, action.id(), resource));
        if let Some(table) = &self.table {
            let Some(row) = table.get(action.id()) else {
                return deny();
            };
            if principal.read_only && !row.read_only {
                return deny();
            }
            // The first granting role the principal holds, as below.
            if let Some(role) = row.roles.iter().find(|r| principal.roles.contains(r)) {
                return Decision::Allow {
                    role: Some(role.clone()),
                };
            }
            return if row.anyone || (principal.superuser && row.owner) {
                Decision::Allow { role: None }
            } else {
                deny()
            };
        }
        self.decide_by_cedar(principal, action, resource)
    }

    /// [`Policy::decide`] by the Cedar policy set, whatever the table says.
    fn decide_by_cedar(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Decision {
        let deny = || Decision::Deny(Forbidden::new(principal, action.id(), resource));
        let cedar = self.cedar();
        let Some(request) = self.request(principal, action, resource) else {
            return deny();
        };
        let Some(entities) = self.entities(principal) else {
            return deny();
        };
        let response = Authorizer::new().is_authorized(&request, &cedar.set, &entities);
        if response.decision() != CedarDecision::Allow {
            return deny();
        }
        // The role of the first permitting policy that names one, preferring
        // roles the user actually holds (a policy may name any role).
        let mut reasons: Vec<String> = response
            .diagnostics()
            .reason()
            .filter_map(|id| cedar.set.policy(id))
            .filter_map(|p| p.annotation("role").map(str::to_owned))
            .collect();
        reasons.sort();
        let role = reasons
            .iter()
            .find(|r| principal.roles.contains(r))
            .or(reasons.first())
            .cloned();
        Decision::Allow { role }
    }

    fn request(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Option<Request> {
        let context = Context::from_pairs([(
            "read_only".to_owned(),
            RestrictedExpression::new_bool(principal.read_only),
        )])
        .ok()?;
        Request::new(
            uid("User", &principal.user)?,
            uid("Action", action.id())?,
            uid("Object", &resource.to_string())?,
            context,
            None,
        )
        .ok()
    }

    fn entities(&self, principal: &Principal) -> Option<Entities> {
        let roles: HashSet<EntityUid> = principal
            .roles
            .iter()
            .filter_map(|r| uid("Role", r))
            .collect();
        let mut attrs = HashMap::new();
        attrs.insert(
            "superuser".to_owned(),
            RestrictedExpression::new_bool(principal.superuser),
        );
        let user = Entity::new(uid("User", &principal.user)?, attrs, roles.clone()).ok()?;
        let mut all = vec![user];
        all.extend(roles.into_iter().map(Entity::with_uid));
        all.extend(self.cedar().actions.iter().cloned());
        Entities::from_entities(all, None).ok()
    }
}

/// `value` with every object's keys in order (and entity parent lists sorted).
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v) {
                            ("parents", serde_json::Value::Array(mut items)) => {
                                items.sort_by_key(|p| p.to_string());
                                serde_json::Value::Array(items)
                            }
                            (_, v) => sorted(v),
                        };
                        (k, v)
                    })
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

fn uid(ty: &str, id: &str) -> Option<EntityUid> {
    let ty = EntityTypeName::from_str(&format!("Dso::{ty}")).ok()?;
    Some(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

fn problem(text: &str, diag: &dyn miette::Diagnostic, message: &str) -> PolicyProblem {
    let offset = diag
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset());
    let (line, column) = match offset {
        Some(o) => {
            let (l, c) = line_col(text, o);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    let help = diag.help().map(|h| format!(" ({h})")).unwrap_or_default();
    PolicyProblem {
        line,
        column,
        message: format!("{message}{help}"),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// One row of the RBAC matrix: a role and the actions it is allowed alone.
pub fn matrix(policy: &Policy) -> Vec<(String, Vec<Action>)> {
    dso_model::pim()
        .roles
        .iter()
        .map(|role| {
            let principal = Principal {
                user: format!("matrix-{}", role.id),
                roles: vec![role.id.clone()],
                superuser: false,
                read_only: false,
            };
            let allowed = Action::ALL
                .iter()
                .copied()
                .filter(|a| {
                    matches!(
                        policy.decide(&principal, *a, &Resource::kind("matrix")),
                        Decision::Allow { .. }
                    )
                })
                .collect();
            (role.id.clone(), allowed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[&str]) -> Principal {
        Principal {
            user: "alice".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            superuser: false,
            read_only: false,
        }
    }

    #[test]
    fn default_policy_validates_and_names_every_role_once() {
        // The full check, which `default_set` skips at run time.
        let policy = Policy::parse("rbac.cedar", DEFAULT_POLICY).expect("validates");
        assert_eq!(
            policy.cedar().set.policies().count(),
            Policy::default_set().cedar().set.policies().count()
        );
        let named: Vec<&str> = policy
            .cedar()
            .set
            .policies()
            .filter_map(|p| p.annotation("role"))
            .collect();
        let pim = dso_model::pim();
        assert_eq!(named.len(), pim.roles.len());
        for role in &pim.roles {
            assert!(
                named.contains(&role.id.as_str()),
                "{} has no policy",
                role.id
            );
        }
    }

    #[test]
    fn compiled_default_is_what_the_policy_and_schema_compile_to() {
        let parsed = Policy::parse("rbac.cedar", DEFAULT_POLICY).expect("validates");
        let (policies, actions) = parsed.compile();
        let decisions = parsed.decision_table();
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policy/compiled");
            std::fs::write(format!("{dir}/policies.json"), &policies).expect("writes");
            std::fs::write(format!("{dir}/actions.json"), &actions).expect("writes");
            std::fs::write(format!("{dir}/decisions.json"), &decisions).expect("writes");
            return;
        }
        assert!(
            policies == DEFAULT_COMPILED.policies
                && actions == DEFAULT_COMPILED.actions
                && decisions == DEFAULT_DECISIONS,
            "policy/compiled/ is stale: run `UPDATE_EXPECT=1 cargo test -p dso-governance`"
        );
    }

    #[test]
    fn compiled_and_parsed_policies_decide_alike() {
        // No role and every role alone, with and without superuser and
        // read-only; every two roles together: the validated text (Cedar),
        // its compiled form (Cedar without the schema) and the default
        // policy's decision table decide the same, with the same granting
        // role. (A Cedar decision takes milliseconds in a debug build: the
        // pairs are checked without the flags, which do not depend on roles.)
        let parsed = Policy::parse("rbac.cedar", DEFAULT_POLICY).expect("validates");
        let compiled = Policy::from_compiled(DEFAULT_POLICY, DEFAULT_COMPILED).expect("loads");
        let table = Policy::default_set();
        let pim = dso_model::pim();
        let mut role_sets: Vec<Vec<String>> = vec![Vec::new()];
        role_sets.extend(pim.roles.iter().map(|r| vec![r.id.clone()]));
        let singles = role_sets.len();
        for (i, a) in pim.roles.iter().enumerate() {
            for b in &pim.roles[i + 1..] {
                role_sets.push(vec![b.id.clone(), a.id.clone()]);
            }
        }
        let resources = [
            Resource::kind("scans"),
            Resource::one("requirement", "REQ-1"),
        ];
        let mut allowed = 0;
        let mut checked = 0;
        for (n, roles) in role_sets.iter().enumerate() {
            for superuser in [false, true] {
                for read_only in [false, true] {
                    if n >= singles && (superuser || read_only) {
                        continue;
                    }
                    let who = Principal {
                        user: "alice".into(),
                        roles: roles.clone(),
                        superuser,
                        read_only,
                    };
                    for action in Action::ALL {
                        let resource = &resources[allowed % 2];
                        let a = parsed.decide(&who, *action, resource);
                        let at = format!(
                            "{roles:?} superuser={superuser} read_only={read_only} {action}"
                        );
                        if n < singles {
                            assert_eq!(
                                a,
                                compiled.decide(&who, *action, resource),
                                "compiled: {at}"
                            );
                        }
                        assert_eq!(
                            a,
                            table.decide(&who, *action, resource),
                            "decision table: {at}"
                        );
                        allowed += usize::from(matches!(a, Decision::Allow { .. }));
                        checked += 1;
                    }
                }
            }
        }
        // Neither allows nothing nor everything.
        assert_eq!(checked, singles * 4 * 31 + (role_sets.len() - singles) * 31);
        assert!(
            allowed > checked / 4 && allowed < checked,
            "{allowed} of {checked} allowed"
        );
    }

    #[test]
    fn schema_actions_are_the_action_enum() {
        for action in Action::ALL {
            assert!(
                SCHEMA.contains(&format!("\"{}\"", action.id())),
                "{action} missing from the schema"
            );
        }
        assert_eq!(Action::ALL.len(), 31);
    }

    #[test]
    fn allowed_actions_carry_the_granting_role() {
        let policy = Policy::default_set();
        let dev = user(&["software-developer", "compliance"]);
        assert_eq!(
            policy.decide(&dev, Action::PipelineRun, &Resource::kind("pipeline")),
            Decision::Allow {
                role: Some("software-developer".into())
            }
        );
        assert_eq!(
            policy.decide(&dev, Action::AuditRead, &Resource::kind("audit log")),
            Decision::Allow {
                role: Some("compliance".into())
            }
        );
    }

    #[test]
    fn denial_message_names_user_roles_action_resource() {
        let policy = Policy::default_set();
        let Decision::Deny(f) = policy.decide(
            &user(&["compliance"]),
            Action::RequirementWrite,
            &Resource::one("requirement", "REQ-1"),
        ) else {
            panic!("compliance may not write requirements")
        };
        assert_eq!(
            f.to_string(),
            "forbidden: alice (compliance) may not requirement.write on requirement REQ-1"
        );
        let Decision::Deny(f) =
            policy.decide(&user(&[]), Action::BacklogRead, &Resource::kind("backlog"))
        else {
            panic!("a user without roles reads nothing")
        };
        assert_eq!(f.roles, "no roles");
    }

    #[test]
    fn superuser_may_everything_but_read_only_tokens_only_read() {
        let policy = Policy::default_set();
        let mut owner = user(&[]);
        owner.superuser = true;
        for action in Action::ALL {
            assert!(matches!(
                policy.decide(&owner, *action, &Resource::kind("x")),
                Decision::Allow { role: None }
            ));
        }
        owner.read_only = true;
        for action in Action::ALL {
            let allowed = matches!(
                policy.decide(&owner, *action, &Resource::kind("x")),
                Decision::Allow { .. }
            );
            assert_eq!(allowed, action.is_read(), "{action}");
        }
    }

    #[test]
    fn bad_policies_are_refused_with_line_and_column() {
        let err = Policy::parse(
            "p.cedar",
            "permit(principal, action, resource)\nwhen { true }\nfoo;",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("p.cedar:3:"), "{text}");

        let err = Policy::parse(
            "p.cedar",
            "permit(principal, action == Dso::Action::\"no.such\", resource);",
        )
        .unwrap_err();
        assert!(err.to_string().contains("p.cedar:1:"), "{err}");

        let err = Policy::parse(
            "p.cedar",
            "@role(\"wizard\")\npermit(principal, action, resource);",
        )
        .unwrap_err();
        assert!(err.to_string().contains("names no PIM role"), "{err}");
    }

    #[test]
    fn odd_user_names_are_denied_not_panicking() {
        let policy = Policy::default_set();
        let p = Principal {
            user: "\"; permit".into(),
            roles: vec!["not-a-role\"".into()],
            superuser: false,
            read_only: false,
        };
        assert!(matches!(
            policy.decide(&p, Action::BacklogRead, &Resource::one("x", "\u{0}")),
            Decision::Deny(_)
        ));
    }

    #[test]
    fn the_documented_matrix_is_the_default_policy() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/governance.md"),
        )
        .expect("docs/governance.md exists");
        let project = [
            "requirement.read",
            "backlog.read",
            "exchange.read",
            "trace.read",
            "pipeline.read",
        ];
        let oversight = ["audit.read", "user.read", "policy.read"];
        for (role, actions) in matrix(&Policy::default_set()) {
            let ids: Vec<&str> = actions.iter().map(|a| a.id()).collect();
            let reads = if oversight.iter().all(|o| ids.contains(o)) {
                "project + oversight"
            } else {
                "project"
            };
            let rest: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|a| !project.contains(a) && !oversight.contains(a) && *a != "token.self")
                .collect();
            let rest = if rest.is_empty() {
                "—".to_owned()
            } else {
                rest.join(", ")
            };
            let row = doc
                .lines()
                .find(|l| l.contains(&format!("| `{role}`")))
                .unwrap_or_else(|| panic!("docs/governance.md has no row for {role}"));
            assert!(
                row.ends_with(&format!("| {reads} | {rest} |")),
                "docs/governance.md row for {role} is `{row}`; the policy says {reads} | {rest}"
            );
        }
    }
}
