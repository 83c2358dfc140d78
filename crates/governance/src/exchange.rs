//! The operational exchanges of Table 2 as a flow between people.
//!
//! Table 2 names performers (Business Expert, Product Management, Planning
//! Engineer, Architect), not roles; [`PERFORMER_ROLES`] says which PIM roles
//! (Table 3) act as each. Sending an information element checks that the
//! sender holds a role of the sending performer and that the receiving
//! performer is the one Table 2 names for that item; acknowledging or
//! returning it checks that the responder holds a role of the receiver.
//!
//! Four information elements of the model have no Table 2 exchange: IE15
//! Business Plan and Processes, IE22 System Plans, IE23 Product Plan and
//! IE24 Requirements. [`FLOW_ROUTES`] gives them routes derived from the
//! process flows (Figure 6 and the processes that consume its outputs);
//! each route names the step that produces the item, whose swimlane is the
//! sender, and the process or step that consumes it, whose performer is the
//! receiver. Table 2's routes are kept as they are.

use std::sync::LazyLock;

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

/// A route derived from the process flows for an item Table 2 does not
/// exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRoute {
    pub item: &'static str,
    pub sender: &'static str,
    pub receiver: &'static str,
    /// The step that produces the item; its swimlane is `sender`.
    pub produced_by: &'static str,
    /// The process (or step) that consumes it, acted on by `receiver`.
    pub consumed_by: &'static str,
    /// Why this pair, in one line.
    pub why: &'static str,
}

/// The routes of IE15, IE22, IE23 and IE24, derived from the model:
///
/// - Figure 6 (P4) produces IE15 in Develop Business Processes, Contracts,
///   and Agreements (P4-7, Business Expert lane) and IE22 and IE23 in
///   Conduct Increment Planning (P4-12, Planning Engineer lane); the
///   process note and Figure 5 (P30) send them to the System Main Flow
///   (P239; IE15, IE22) and the Product Under Development Main Flow (P2;
///   IE15, IE23).
/// - In P2 they enter Plan Product (P2-1), whose planning actions take
///   "business plan and processes" and "product plan": Design Product
///   (P2-1-2, the Architect's design work) and Plan Backlog and Tasks
///   (P2-1-7, the product backlog, Product Management's). In P239 they
///   enter Plan System (P239-2): designing policies, infrastructure and
///   software components (the Architect) and Plan System Backlog and Tasks
///   (the Planning Engineer).
/// - IE24 Requirements is produced by no step of the model. The one step
///   that writes requirements is Define Business Requirements (P4-6,
///   Business Expert), whose control flow goes to Develop Product Concept
///   (P4-9, Product Management); Product Management, whose last Figure 6
///   step is Define MVP (P4-11), passes the product's requirements to
///   Design Product (Architect; Arc_1 Requirements Mapping) and to Plan
///   Backlog and Tasks (P2-1-7-13: "associating backlog items and tasks to
///   relevant requirements", Planning Engineer; Gov_3.1.1).
pub const FLOW_ROUTES: &[FlowRoute] = &[
    FlowRoute {
        item: "IE15",
        sender: "business-expert",
        receiver: "product-management",
        produced_by: "P4-7",
        consumed_by: "P2-1-7",
        why: "Plan Backlog and Tasks takes business plan and processes",
    },
    FlowRoute {
        item: "IE15",
        sender: "business-expert",
        receiver: "architect",
        produced_by: "P4-7",
        consumed_by: "P2-1-2",
        why: "Design Product takes business plan and processes",
    },
    FlowRoute {
        item: "IE15",
        sender: "business-expert",
        receiver: "planning-engineer",
        produced_by: "P4-7",
        consumed_by: "P239-2",
        why: "the System Main Flow's Plan System takes business plan and processes",
    },
    FlowRoute {
        item: "IE22",
        sender: "planning-engineer",
        receiver: "architect",
        produced_by: "P4-12",
        consumed_by: "P239-2",
        why: "Plan System designs policies, infrastructure and software components",
    },
    FlowRoute {
        item: "IE22",
        sender: "planning-engineer",
        receiver: "planning-engineer",
        produced_by: "P4-12",
        consumed_by: "P239-2",
        why: "Plan System ends in Plan System Backlog and Tasks",
    },
    FlowRoute {
        item: "IE23",
        sender: "planning-engineer",
        receiver: "product-management",
        produced_by: "P4-12",
        consumed_by: "P2-1-7",
        why: "Plan Backlog and Tasks takes the product plan",
    },
    FlowRoute {
        item: "IE23",
        sender: "planning-engineer",
        receiver: "architect",
        produced_by: "P4-12",
        consumed_by: "P2-1-2",
        why: "Design Product takes the product plan",
    },
    FlowRoute {
        item: "IE24",
        sender: "business-expert",
        receiver: "product-management",
        produced_by: "P4-6",
        consumed_by: "P4-9",
        why: "Define Business Requirements flows into Develop Product Concept",
    },
    FlowRoute {
        item: "IE24",
        sender: "product-management",
        receiver: "architect",
        produced_by: "P4-11",
        consumed_by: "P2-1-2",
        why: "Design Product maps the architecture to the requirements (Arc_1)",
    },
    FlowRoute {
        item: "IE24",
        sender: "product-management",
        receiver: "planning-engineer",
        produced_by: "P4-11",
        consumed_by: "P2-1-7",
        why: "Plan Backlog and Tasks associates items to requirements (P2-1-7-13)",
    },
];

/// [`FLOW_ROUTES`] as exchanges, with ids like `P4-7/IE15/architect`.
static FLOW_EXCHANGES: LazyLock<Vec<Exchange>> = LazyLock::new(|| {
    let pim = dso_model::pim();
    FLOW_ROUTES
        .iter()
        .map(|r| Exchange {
            id: format!("{}/{}/{}", r.produced_by, r.item, r.receiver),
            name: pim
                .information_elements
                .iter()
                .find(|ie| ie.id == r.item)
                .map(|ie| ie.name.clone())
                .unwrap_or_default(),
            item: r.item.to_owned(),
            sender: r.sender.to_owned(),
            receiver: r.receiver.to_owned(),
        })
        .collect()
});

/// Every route between people: Table 2's, then the derived ones.
pub fn routes() -> impl Iterator<Item = &'static Exchange> {
    dso_model::pim()
        .exchanges
        .iter()
        .filter(|x| !roles_of(&x.sender).is_empty())
        .chain(FLOW_EXCHANGES.iter())
}

/// Where the route with exchange id `id` comes from: `Table 2` or `the
/// process flows` (a route of [`FLOW_ROUTES`]).
pub fn route_source(id: &str) -> &'static str {
    if dso_model::pim().exchanges.iter().any(|x| x.id == id) {
        "Table 2"
    } else {
        "the process flows"
    }
}

/// The states of a sent document.
pub const STATES: [&str; 3] = ["sent", "acknowledged", "returned"];

/// Why an exchange cannot be sent as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error(
        "`{0}` is not an information element exchanged between people (Table 2 and the process flows)"
    )]
    UnknownItem(String),
    #[error("the model does not send {item} ({name}) to `{to}`")]
    WrongReceiver {
        item: String,
        name: String,
        to: String,
        /// The receivers Table 2 names for this item.
        receivers: Vec<String>,
    },
}

/// The information elements that can be sent: those of an exchange
/// between person-performers, in Table 2 or derived from the flows.
pub fn sendable_items() -> Vec<&'static str> {
    let mut items: Vec<&str> = routes().map(|x| x.item.as_str()).collect();
    items.sort_by_key(|i| {
        i.trim_start_matches("IE")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    items.dedup();
    items
}

/// The route that sends `item` (`IE11`) to the performer `to` (`architect`):
/// a Table 2 row, or for IE15, IE22, IE23 and IE24 a route of [`FLOW_ROUTES`].
pub fn route(item: &str, to: &str) -> Result<&'static Exchange, RouteError> {
    let item = item.trim().to_uppercase();
    let rows: Vec<&Exchange> = routes().filter(|x| x.item == item).collect();
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
                "IE5", "IE8", "IE9", "IE10", "IE11", "IE12", "IE13", "IE15", "IE17", "IE19",
                "IE20", "IE21", "IE22", "IE23", "IE24"
            ]
        );
        assert_eq!(
            route("IE23", "product-management").unwrap().id,
            "P4-12/IE23/product-management"
        );
        assert_eq!(
            route("IE23", "architect").unwrap().sender,
            "planning-engineer"
        );
        let err = route("IE22", "business-expert").unwrap_err();
        assert!(
            matches!(&err, RouteError::WrongReceiver { receivers, .. } if receivers == &["architect", "planning-engineer"]),
            "{err:?}"
        );
    }

    /// Every derived route follows the model: the item is an information
    /// element no Table 2 row exchanges; the producing step exists, in the
    /// sender's swimlane; the consumer is a process or step of the model;
    /// both performers are people dso maps to roles; every one of the four
    /// items is routed; the ids are unique.
    #[test]
    fn derived_routes_follow_the_process_flows() {
        let pim = dso_model::pim();
        let steps: Vec<&dso_model::Step> =
            pim.processes.iter().flat_map(|p| p.steps.iter()).collect();
        for r in FLOW_ROUTES {
            assert!(pim.information_elements.iter().any(|ie| ie.id == r.item));
            assert!(pim.exchanges.iter().all(|x| x.item != r.item), "{}", r.item);
            let producer = steps
                .iter()
                .find(|s| s.id == r.produced_by)
                .unwrap_or_else(|| panic!("no step {}", r.produced_by));
            assert_eq!(producer.performer.as_deref(), Some(r.sender), "{r:?}");
            assert!(
                pim.process(r.consumed_by).is_some() || steps.iter().any(|s| s.id == r.consumed_by),
                "{r:?}"
            );
            assert!(!roles_of(r.sender).is_empty() && !roles_of(r.receiver).is_empty());
        }
        let p4 = pim.process("P4").unwrap();
        assert!(
            p4.note
                .as_deref()
                .unwrap_or("")
                .contains("IE15 Business Plan and")
        );
        for item in ["IE15", "IE22", "IE23", "IE24"] {
            assert!(FLOW_ROUTES.iter().any(|r| r.item == item), "{item}");
        }
        let mut ids: Vec<String> = FLOW_EXCHANGES.iter().map(|x| x.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), FLOW_ROUTES.len());
        assert!(FLOW_EXCHANGES.iter().all(|x| !x.name.is_empty()));
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
