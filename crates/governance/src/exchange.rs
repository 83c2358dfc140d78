//! The operational exchanges of Table 2 as a flow between people.
//!
//! Table 2 names performers (Business Expert, Product Management, Planning
//! Engineer, Architect), not roles; [`PERFORMER_ROLES`] says which PIM roles
//! (Table 3) act as each. Sending an information element checks that the
//! sender holds a role of the sending performer and that the receiving
//! performer is the one Table 2 names for that item; acknowledging or
//! returning it checks that the responder holds a role of the receiver.

use dso_model::Exchange;

/// The PIM roles that act as each person-performer of the planning exchanges.
pub const PERFORMER_ROLES: &[(&str, &[&str])] = &[
    (
        "business-expert",
        &[
            "business-or-mission-domain-expert",
            "business-analyst",
            "executive",
            "owner",
        ],
    ),
    ("product-management", &["product-owner", "program-manager"]),
    ("planning-engineer", &["project-manager", "program-manager"]),
    (
        "architect",
        &[
            "architect",
            "infrastructure-architect",
            "security-architect",
        ],
    ),
];

/// The roles that act as `performer` (empty for a tool performer).
pub fn roles_of(performer: &str) -> &'static [&'static str] {
    PERFORMER_ROLES
        .iter()
        .find(|(p, _)| *p == performer)
        .map_or(&[], |(_, roles)| roles)
}

/// The states of a sent document.
pub const STATES: [&str; 3] = ["sent", "acknowledged", "returned"];

/// Why an exchange cannot be sent as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("`{0}` is not an information element exchanged between people in Table 2")]
    UnknownItem(String),
    #[error("Table 2 does not send {item} ({name}) to `{to}`")]
    WrongReceiver {
        item: String,
        name: String,
        to: String,
        /// The receivers Table 2 names for this item.
        receivers: Vec<String>,
    },
}

/// The information elements that can be sent: those of an exchange
/// between person-performers.
pub fn sendable_items() -> Vec<&'static str> {
    let mut items: Vec<&str> = dso_model::pim()
        .exchanges
        .iter()
        .filter(|x| !roles_of(&x.sender).is_empty())
        .map(|x| x.item.as_str())
        .collect();
    items.sort_by_key(|i| {
        i.trim_start_matches("IE")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    items.dedup();
    items
}

/// The Table 2 row that sends `item` (`IE11`) to the performer `to` (`architect`).
pub fn route(item: &str, to: &str) -> Result<&'static Exchange, RouteError> {
    let item = item.trim().to_uppercase();
    let rows: Vec<&Exchange> = dso_model::pim()
        .exchanges
        .iter()
        .filter(|x| x.item == item && !roles_of(&x.sender).is_empty())
        .collect();
    let first = rows
        .first()
        .ok_or_else(|| RouteError::UnknownItem(item.clone()))?;
    let wanted = to.trim().to_lowercase().replace([' ', '_'], "-");
    rows.iter()
        .find(|x| x.receiver == wanted)
        .copied()
        .ok_or_else(|| RouteError::WrongReceiver {
            item: item.clone(),
            name: first.name.clone(),
            to: to.to_owned(),
            receivers: rows.iter().map(|x| x.receiver.clone()).collect(),
        })
}

/// The first of `held` roles that acts as `performer`, if any.
pub fn acting_role<'a>(held: &'a [String], performer: &str) -> Option<&'a str> {
    let roles = roles_of(performer);
    held.iter().map(String::as_str).find(|r| roles.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{Action, Decision, Policy, Principal, Resource};

    #[test]
    fn every_mapped_role_is_a_pim_role_and_every_sender_is_mapped() {
        let pim = dso_model::pim();
        for (performer, roles) in PERFORMER_ROLES {
            assert!(pim.performers.iter().any(|p| p.id == *performer));
            for role in *roles {
                assert!(pim.roles.iter().any(|r| r.id == *role), "{role}");
            }
        }
        for x in &pim.exchanges {
            if x.item != "IE3" {
                assert!(!roles_of(&x.sender).is_empty(), "{}", x.id);
                assert!(!roles_of(&x.receiver).is_empty(), "{}", x.id);
            }
        }
    }

    #[test]
    fn the_policy_lets_exactly_the_mapped_roles_send_and_respond() {
        let policy = Policy::default_set();
        let mapped: Vec<&str> = PERFORMER_ROLES
            .iter()
            .flat_map(|(_, roles)| roles.iter().copied())
            .collect();
        for role in &dso_model::pim().roles {
            let p = Principal {
                user: "u".into(),
                roles: vec![role.id.clone()],
                superuser: false,
                read_only: false,
            };
            for action in [Action::ExchangeSend, Action::ExchangeRespond] {
                let allowed = matches!(
                    policy.decide(&p, action, &Resource::kind("exchange")),
                    Decision::Allow { .. }
                );
                assert_eq!(
                    allowed,
                    mapped.contains(&role.id.as_str()),
                    "{} {action}",
                    role.id
                );
            }
        }
    }

    #[test]
    fn routes_follow_table_2() {
        assert_eq!(route("IE11", "architect").unwrap().id, "OE12");
        assert_eq!(route("ie11", "Business Expert").unwrap().id, "OE14");
        let err = route("IE11", "planning-engineer").unwrap_err();
        assert!(
            matches!(&err, RouteError::WrongReceiver { receivers, .. } if receivers == &["architect", "business-expert"])
        );
        assert!(matches!(
            route("IE3", "version-control"),
            Err(RouteError::UnknownItem(_))
        ));
        assert!(matches!(
            route("IE99", "x"),
            Err(RouteError::UnknownItem(_))
        ));
        assert_eq!(
            sendable_items(),
            [
                "IE5", "IE8", "IE9", "IE10", "IE11", "IE12", "IE13", "IE17", "IE19", "IE20", "IE21"
            ]
        );
    }

    #[test]
    fn acting_role_picks_a_held_role_of_the_performer() {
        let held = vec!["compliance".to_owned(), "product-owner".to_owned()];
        assert_eq!(
            acting_role(&held, "product-management"),
            Some("product-owner")
        );
        assert_eq!(acting_role(&held, "architect"), None);
    }
}
