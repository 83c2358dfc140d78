//! Cross-reference checks over a parsed [`Pim`].
//!
//! [`Pim::validate`] reports every problem at once, one message per problem,
//! each naming the element and the offending id. It never stops early.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::types::{Pim, Process};
use crate::{ACTIVITY_SLUGS, PERFORMER_KINDS, REQUIREMENT_AREAS, ROLE_CATEGORIES, STEP_KINDS};

/// Collects problems while the checks run.
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, message: String) {
        self.0.push(message);
    }

    /// Reports ids that occur more than once among `ids`.
    fn unique<'a>(&mut self, kind: &str, ids: impl IntoIterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                self.push(format!("{kind} `{id}`: duplicate id"));
            }
        }
    }
}

/// Whether `id` looks like a PIM operational activity id (`P2`, `P2-4-1`).
fn is_activity_like(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('P') else {
        return false;
    };
    !rest.is_empty()
        && rest
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `item` looks like an information element id (`IE12`).
fn is_ie_like(item: &str) -> bool {
    item.strip_prefix("IE")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Pim {
    /// Every cross-reference problem in the model; empty when it is sound.
    ///
    /// Checks unique ids within each kind (and step ids within a process),
    /// that every reference resolves (attribute targets, performer domains,
    /// exchange items and performers, process parents, step transitions to
    /// steps of the same process, step performers, called processes and data,
    /// question roles, requirement parents, activity processes), that
    /// enumerated fields hold known values, that numbering is gapless, and
    /// that names agree where an element is referenced by id and name.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Problems(Vec::new());
        self.check_unique(&mut p);
        self.check_domains_and_performers(&mut p);
        self.check_exchanges(&mut p);
        for process in &self.processes {
            self.check_process(process, &mut p);
        }
        self.check_roles_and_questions(&mut p);
        self.check_capabilities(&mut p);
        self.check_requirements(&mut p);
        self.check_activities(&mut p);
        p.0
    }

    fn check_unique(&self, p: &mut Problems) {
        p.unique("domain", self.domains.iter().map(|x| x.id.as_str()));
        p.unique("performer", self.performers.iter().map(|x| x.id.as_str()));
        p.unique(
            "information element",
            self.information_elements.iter().map(|x| x.id.as_str()),
        );
        p.unique("exchange", self.exchanges.iter().map(|x| x.id.as_str()));
        p.unique("process", self.processes.iter().map(|x| x.id.as_str()));
        p.unique("role", self.roles.iter().map(|x| x.id.as_str()));
        p.unique("question", self.questions.iter().map(|x| x.id.as_str()));
        p.unique(
            "capability",
            self.capabilities.iter().map(|x| x.id.as_str()),
        );
        p.unique(
            "requirement",
            self.requirements.iter().map(|x| x.id.as_str()),
        );
        p.unique("activity", self.activities.iter().map(|x| x.id.as_str()));
        let numbers: Vec<String> = self
            .performers
            .iter()
            .map(|x| x.number.to_string())
            .collect();
        p.unique("performer number", numbers.iter().map(String::as_str));
        let numbers: Vec<String> = self.roles.iter().map(|x| x.number.to_string()).collect();
        p.unique("role number", numbers.iter().map(String::as_str));
    }

    fn check_domains_and_performers(&self, p: &mut Problems) {
        let performers: HashMap<&str, _> =
            self.performers.iter().map(|x| (x.id.as_str(), x)).collect();
        let domains: HashSet<&str> = self.domains.iter().map(|x| x.id.as_str()).collect();
        for domain in &self.domains {
            match performers.get(domain.performer.as_str()) {
                None => p.push(format!(
                    "domain `{}`: performer `{}` is not a performer",
                    domain.id, domain.performer
                )),
                Some(performer) if performer.kind != "domain" || performer.domain != domain.id => {
                    p.push(format!(
                        "domain `{}`: performer `{}` is not its domain performer",
                        domain.id, domain.performer
                    ));
                }
                Some(_) => {}
            }
        }
        for performer in &self.performers {
            let id = &performer.id;
            if !PERFORMER_KINDS.contains(&performer.kind.as_str()) {
                p.push(format!(
                    "performer `{id}`: unknown kind `{}`",
                    performer.kind
                ));
            }
            if !domains.contains(performer.domain.as_str()) {
                p.push(format!(
                    "performer `{id}`: domain `{}` is not a domain",
                    performer.domain
                ));
            }
            if performer.kind == "domain" && !self.domains.iter().any(|d| &d.performer == id) {
                p.push(format!(
                    "performer `{id}`: kind domain but no domain names it"
                ));
            }
            for attribute in &performer.attributes {
                if !performers.contains_key(attribute.performer.as_str()) {
                    p.push(format!(
                        "performer `{id}`: attribute `{}` targets `{}`, which is not a performer",
                        attribute.name, attribute.performer
                    ));
                }
            }
        }
    }

    fn check_exchanges(&self, p: &mut Problems) {
        let ies: HashMap<&str, &str> = self
            .information_elements
            .iter()
            .map(|x| (x.id.as_str(), x.name.as_str()))
            .collect();
        let performers: HashSet<&str> = self.performers.iter().map(|x| x.id.as_str()).collect();
        for exchange in &self.exchanges {
            let id = &exchange.id;
            match ies.get(exchange.item.as_str()) {
                None => p.push(format!(
                    "exchange `{id}`: item `{}` is not an information element",
                    exchange.item
                )),
                Some(name) if *name != exchange.name => p.push(format!(
                    "exchange `{id}`: name `{}` differs from item `{}` named `{name}`",
                    exchange.name, exchange.item
                )),
                Some(_) => {}
            }
            for (role, performer) in [
                ("sender", &exchange.sender),
                ("receiver", &exchange.receiver),
            ] {
                if !performers.contains(performer.as_str()) {
                    p.push(format!(
                        "exchange `{id}`: {role} `{performer}` is not a performer"
                    ));
                }
            }
        }
    }

    fn check_process(&self, process: &Process, p: &mut Problems) {
        let pid = &process.id;
        if let Some(parent) = &process.parent
            && self.process(parent).is_none()
        {
            p.push(format!(
                "process `{pid}`: parent `{parent}` is not a process"
            ));
        }
        p.unique(
            &format!("process `{pid}`: step"),
            process.steps.iter().map(|s| s.id.as_str()),
        );
        let kinds: HashMap<&str, &str> = process
            .steps
            .iter()
            .map(|s| (s.id.as_str(), s.kind.as_str()))
            .collect();
        if !process.steps.is_empty() && !process.steps.iter().any(|s| s.kind == "start") {
            p.push(format!("process `{pid}`: no start step"));
        }
        for step in &process.steps {
            let sid = &step.id;
            let kind = step.kind.as_str();
            if !STEP_KINDS.contains(&kind) {
                p.push(format!(
                    "process `{pid}` step `{sid}`: unknown kind `{kind}`"
                ));
            }
            for transition in &step.next {
                if !kinds.contains_key(transition.to.as_str()) {
                    p.push(format!(
                        "process `{pid}` step `{sid}`: transition to `{}`, which is not a step of `{pid}`",
                        transition.to
                    ));
                }
                for item in &transition.items {
                    if is_ie_like(item) && !self.information_elements.iter().any(|x| &x.id == item)
                    {
                        p.push(format!(
                            "process `{pid}` step `{sid}`: item `{item}` is not an information element"
                        ));
                    }
                }
            }
            let outgoing = step.next.len();
            let bad_degree = match kind {
                "end" | "data" => outgoing != 0,
                "decision" | "fork" => outgoing < 2,
                "merge" | "join" => outgoing != 1,
                _ => outgoing == 0,
            };
            if bad_degree {
                p.push(format!(
                    "process `{pid}` step `{sid}`: a {kind} step with {outgoing} outgoing flows"
                ));
            }
            if let Some(performer) = &step.performer
                && !self.performers.iter().any(|x| &x.id == performer)
            {
                p.push(format!(
                    "process `{pid}` step `{sid}`: performer `{performer}` is not a performer"
                ));
            }
            if let Some(called) = &step.process {
                if kind != "subprocess" {
                    p.push(format!(
                        "process `{pid}` step `{sid}`: calls `{called}` but is not a subprocess"
                    ));
                }
                if self.process(called).is_none() {
                    p.push(format!(
                        "process `{pid}` step `{sid}`: called process `{called}` is not a process"
                    ));
                }
            }
            for data in step.inputs.iter().chain(&step.outputs) {
                if kinds.get(data.as_str()) != Some(&"data") {
                    p.push(format!(
                        "process `{pid}` step `{sid}`: data `{data}` is not a data step of `{pid}`"
                    ));
                }
            }
            if matches!(kind, "activity" | "subprocess") && is_activity_like(sid) {
                match self.activity(sid) {
                    Some(activity) if activity.name != step.name => p.push(format!(
                        "process `{pid}` step `{sid}`: name `{}` differs from activity name `{}`",
                        step.name, activity.name
                    )),
                    Some(_) => {}
                    None if self.process(sid).is_some() => {}
                    None => p.push(format!(
                        "process `{pid}` step `{sid}`: not an activity or process id"
                    )),
                }
            }
        }
    }

    fn check_roles_and_questions(&self, p: &mut Problems) {
        for role in &self.roles {
            for category in std::iter::once(&role.category).chain(&role.other_categories) {
                if !ROLE_CATEGORIES.contains(&category.as_str()) {
                    p.push(format!("role `{}`: unknown category `{category}`", role.id));
                }
            }
            if role.critical && role.responsibilities.is_empty() {
                p.push(format!(
                    "role `{}`: critical role without responsibilities",
                    role.id
                ));
            }
        }
        let mut numbers: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for question in &self.questions {
            let qid = &question.id;
            match self.roles.iter().find(|r| r.id == question.role) {
                None => p.push(format!(
                    "question `{qid}`: role `{}` is not a role",
                    question.role
                )),
                Some(role) if !role.critical => p.push(format!(
                    "question `{qid}`: role `{}` is not a critical role",
                    question.role
                )),
                Some(_) => {}
            }
            let expected = format!("{}.q{}", question.role, question.number);
            if *qid != expected {
                p.push(format!("question `{qid}`: id should be `{expected}`"));
            }
            numbers
                .entry(question.role.as_str())
                .or_default()
                .push(question.number);
        }
        for (role, mut numbers) in numbers {
            numbers.sort_unstable();
            let expected: Vec<u32> = (1..).take(numbers.len()).collect();
            if numbers != expected {
                p.push(format!(
                    "role `{role}`: question numbers {numbers:?} are not 1..{}",
                    numbers.len()
                ));
            }
        }
    }

    fn check_capabilities(&self, p: &mut Problems) {
        for capability in &self.capabilities {
            let levels: Vec<u8> = capability.levels.iter().map(|l| l.level).collect();
            let expected: Vec<u8> = (1..).take(levels.len()).collect();
            if levels.is_empty() || levels != expected {
                p.push(format!(
                    "capability `{}`: levels {levels:?} are not 1..n",
                    capability.id
                ));
            }
        }
    }

    fn check_requirements(&self, p: &mut Problems) {
        let areas: HashMap<&str, &str> = REQUIREMENT_AREAS.into_iter().collect();
        for requirement in &self.requirements {
            let rid = &requirement.id;
            match areas.get(requirement.area.as_str()) {
                None => p.push(format!(
                    "requirement `{rid}`: unknown area `{}`",
                    requirement.area
                )),
                Some(prefix) if !rid.starts_with(prefix) => p.push(format!(
                    "requirement `{rid}`: id does not start with `{prefix}` of area `{}`",
                    requirement.area
                )),
                Some(_) => {}
            }
            if !(1..=4).contains(&requirement.level) {
                p.push(format!(
                    "requirement `{rid}`: maturity level {} is not 1..=4",
                    requirement.level
                ));
            }
            if let Some(parent_id) = &requirement.parent {
                match self.requirement(parent_id) {
                    None => p.push(format!(
                        "requirement `{rid}`: parent `{parent_id}` is not a requirement"
                    )),
                    Some(parent) => {
                        if parent.area != requirement.area
                            || !rid.starts_with(&format!("{parent_id}."))
                        {
                            p.push(format!(
                                "requirement `{rid}`: parent `{parent_id}` is not its container"
                            ));
                        }
                    }
                }
            }
        }
    }

    fn check_activities(&self, p: &mut Problems) {
        let mut slugs = HashSet::new();
        for activity in &self.activities {
            let aid = &activity.id;
            if !is_activity_like(aid) {
                p.push(format!("activity `{aid}`: not a PIM activity id"));
            }
            if let Some(process) = &activity.process
                && self.process(process).is_none()
            {
                p.push(format!(
                    "activity `{aid}`: process `{process}` is not a process"
                ));
            }
            if let Some(slug) = &activity.slug {
                if !ACTIVITY_SLUGS.contains(&slug.as_str()) {
                    p.push(format!("activity `{aid}`: unknown slug `{slug}`"));
                }
                if !slugs.insert(slug.as_str()) {
                    p.push(format!("activity `{aid}`: slug `{slug}` is used twice"));
                }
            }
        }
    }
}
