//! Lookups by id or name.
//!
//! Keys match case-insensitively, and spaces, hyphens and underscores are
//! interchangeable: "Security Engineer", "security_engineer" and
//! `security-engineer` all find the same role.

use crate::types::{Activity, Domain, Performer, Pim, Process, Question, Requirement, Role};

/// Lowercases `s` and maps spaces and underscores to hyphens.
fn normalize(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether `key` names one of `names` under [`normalize`].
fn matches<'a>(key: &str, names: impl IntoIterator<Item = &'a str>) -> bool {
    let key = normalize(key);
    names.into_iter().any(|name| normalize(name) == key)
}

impl Pim {
    /// The role whose id, name or alias is `key`.
    pub fn role(&self, key: &str) -> Option<&Role> {
        self.roles.iter().find(|r| {
            let names = [r.id.as_str(), r.name.as_str()];
            matches(
                key,
                names
                    .into_iter()
                    .chain(r.aliases.iter().map(String::as_str)),
            )
        })
    }

    /// The performer whose id or name is `key`.
    pub fn performer(&self, key: &str) -> Option<&Performer> {
        self.performers
            .iter()
            .find(|p| matches(key, [p.id.as_str(), p.name.as_str()]))
    }

    /// The domain whose id, name or performer id is `key`.
    pub fn domain(&self, key: &str) -> Option<&Domain> {
        self.domains
            .iter()
            .find(|d| matches(key, [d.id.as_str(), d.name.as_str(), d.performer.as_str()]))
    }

    /// The process with id `id`.
    pub fn process(&self, id: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.id == id)
    }

    /// The activity with id `id`.
    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.id == id)
    }

    /// The activity carrying pipeline slug `slug`.
    pub fn activity_by_slug(&self, slug: &str) -> Option<&Activity> {
        self.activities
            .iter()
            .find(|a| a.slug.as_deref() == Some(slug))
    }

    /// The requirement with id `id`.
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// The critical roles, in Table 3 order.
    pub fn critical_roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.iter().filter(|r| r.critical)
    }

    /// The questions of the role with id `role_id`, in model order.
    pub fn questions_of<'a>(&'a self, role_id: &'a str) -> impl Iterator<Item = &'a Question> {
        self.questions.iter().filter(move |q| q.role == role_id)
    }
}
