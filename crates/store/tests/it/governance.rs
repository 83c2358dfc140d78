//! Governance tables on both backends, and the RBAC matrix: each of the 41
//! PIM roles, granted to a user stored in the database and read back, is
//! allowed exactly the actions this file expects under the default policy.

use std::collections::BTreeMap;

use dso_governance::rbac::{Action, Decision, Policy, Principal, Resource};
use dso_store::{
    CommitLinkRow, DocumentRow, FindingItemRow, IdKind, ItemRow, RequirementRow, Store, TokenRow,
    UserRow,
};

use crate::each_backend;

const AT: &str = "2026-11-27T12:00:00.000000Z";

/// The reads every role has.
const PROJECT: &[&str] = &[
    "requirement.read",
    "backlog.read",
    "exchange.read",
    "trace.read",
    "pipeline.read",
];
/// The reads oversight roles add.
const OVERSIGHT: &[&str] = &["audit.read", "user.read", "policy.read"];
/// Allowed to everyone, with or without a role.
const SELF: &[&str] = &["token.self"];

/// The expected matrix: for each role, whether it has the oversight reads,
/// and the actions it may do beyond reading.
fn expected() -> BTreeMap<&'static str, (bool, Vec<&'static str>)> {
    let x = "exchange.send exchange.respond";
    let rows: [(&str, bool, String); 41] = [
        (
            "architect",
            false,
            format!("design.write requirement.write {x}"),
        ),
        ("business-analyst", false, format!("requirement.write {x}")),
        ("compliance", true, String::new()),
        ("contract-specialist", false, String::new()),
        ("executive", true, x.to_owned()),
        ("financier", false, String::new()),
        ("legal", true, String::new()),
        ("marketing", false, String::new()),
        ("owner", true, x.to_owned()),
        (
            "program-manager",
            true,
            format!("requirement.write backlog.write backlog.configure finding.ticket {x}"),
        ),
        (
            "project-manager",
            true,
            format!("backlog.write backlog.configure finding.ticket {x}"),
        ),
        ("sales", false, String::new()),
        ("supplier", false, String::new()),
        ("systems-analyst", false, "requirement.write".into()),
        ("relevant-stakeholders", false, String::new()),
        (
            "site-reliability-engineer",
            false,
            "backlog.write incident.manage rollback".into(),
        ),
        (
            "business-or-mission-domain-expert",
            false,
            format!("requirement.write {x}"),
        ),
        ("cyber-legal-advisor", true, String::new()),
        ("database-administrator", false, String::new()),
        (
            "devops-engineer",
            false,
            "backlog.write pipeline.run deploy rollback event.emit event.import secret.manage".into(),
        ),
        (
            "infrastructure-architect",
            false,
            format!("design.write {x}"),
        ),
        ("infrastructure-engineer", false, "backlog.write".into()),
        (
            "infrastructure-operator",
            false,
            "deploy rollback incident.manage".into(),
        ),
        (
            "network-operations-specialist",
            false,
            "incident.manage".into(),
        ),
        (
            "quality-assurance-engineer",
            true,
            "backlog.write pipeline.run".into(),
        ),
        (
            "security-architect",
            true,
            format!("design.write requirement.write policy.write finding.triage finding.ticket {x}"),
        ),
        (
            "system-administrator",
            true,
            "user.manage role.manage token.manage audit.checkpoint event.emit event.import secret.manage".into(),
        ),
        (
            "systems-engineer",
            false,
            "requirement.write backlog.write".into(),
        ),
        (
            "technical-support-specialist",
            false,
            "incident.manage".into(),
        ),
        ("test-engineer", false, "backlog.write pipeline.run".into()),
        (
            "user-experience",
            false,
            "design.write backlog.write".into(),
        ),
        ("customer", false, String::new()),
        ("external-user", false, String::new()),
        ("internal-user", false, String::new()),
        (
            "product-owner",
            false,
            format!("requirement.write backlog.write backlog.configure finding.ticket {x}"),
        ),
        ("subject-matter-expert", false, String::new()),
        ("devsecops-champion", true, "policy.write".into()),
        (
            "release-engineer",
            false,
            "backlog.write pipeline.run release.create deploy event.emit secret.manage".into(),
        ),
        (
            "software-developer",
            false,
            "backlog.write pipeline.run finding.ticket".into(),
        ),
        (
            "security-engineer",
            true,
            "backlog.write finding.triage finding.ticket risk.accept".into(),
        ),
        ("user", false, String::new()),
    ];
    rows.into_iter()
        .map(|(role, oversight, writes)| {
            let writes: Vec<&'static str> = writes
                .split_whitespace()
                .map(|w| {
                    Action::ALL
                        .iter()
                        .find(|a| a.id() == w)
                        .unwrap_or_else(|| panic!("unknown action {w}"))
                        .id()
                })
                .collect();
            (role, (oversight, writes))
        })
        .collect()
}

fn user(name: &str) -> UserRow {
    UserRow {
        name: name.into(),
        password_hash: None,
        superuser: false,
        disabled: false,
        created_at: AT.into(),
        created_by: "test".into(),
        roles: Vec::new(),
    }
}

async fn principal(store: &Store, name: &str) -> Principal {
    let row = store.user(name).await.unwrap().unwrap();
    Principal {
        user: row.name,
        roles: row.roles,
        superuser: row.superuser,
        read_only: false,
    }
}

#[tokio::test]
async fn rbac_matrix_41_roles_by_every_action() {
    let expected = expected();
    let pim = dso_model::pim();
    assert_eq!(expected.len(), pim.roles.len());
    each_backend(|store, _| {
        let expected = expected.clone();
        async move {
            let mut tx = store.begin_write().await.unwrap();
            for role in &pim.roles {
                let name = format!("u-{}", role.id);
                tx.insert_user(&user(&name)).await.unwrap();
                assert!(tx.grant_role(&name, &role.id, AT, "test").await.unwrap());
            }
            tx.insert_user(&user("nobody")).await.unwrap();
            tx.commit().await.unwrap();

            // The policy goes through the database too, with its compiled
            // form, which is what decides below.
            let policy_text = dso_governance::rbac::DEFAULT_POLICY;
            let (policies, actions) = Policy::parse("set", policy_text).unwrap().compile();
            let mut tx = store.begin_write().await.unwrap();
            assert_eq!(
                tx.set_rbac_policy(policy_text, (&policies, &actions), "sha", AT, "test")
                    .await
                    .unwrap(),
                1
            );
            tx.commit().await.unwrap();
            let row = store.rbac_policy().await.unwrap().unwrap();
            assert_eq!((row.version, row.text.as_str()), (1, policy_text));
            let (p, a) = row.compiled.as_ref().expect("the compiled form is stored");
            assert_eq!(
                (p.as_str(), a.as_str()),
                (policies.as_str(), actions.as_str())
            );
            let compiled = dso_governance::rbac::Compiled {
                policies: p,
                actions: a,
            };
            let policy = Policy::from_compiled(&row.text, compiled).unwrap();

            let mut mismatches = Vec::new();
            for role in &pim.roles {
                let p = principal(&store, &format!("u-{}", role.id)).await;
                assert_eq!(p.roles, std::slice::from_ref(&role.id));
                let (oversight, writes) = &expected[role.id.as_str()];
                for action in Action::ALL {
                    let want = PROJECT.contains(&action.id())
                        || SELF.contains(&action.id())
                        || (*oversight && OVERSIGHT.contains(&action.id()))
                        || writes.contains(&action.id());
                    let got = policy.decide(&p, *action, &Resource::kind("matrix"));
                    let allowed = matches!(got, Decision::Allow { .. });
                    if allowed != want {
                        mismatches.push(format!(
                            "{} {}: got {allowed}, want {want}",
                            role.id, action
                        ));
                    }
                    if let Decision::Allow { role: Some(r) } = &got {
                        assert_eq!(r, &role.id, "the granting role is the one held");
                    }
                }
            }
            assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

            // Without a role a user only manages their own tokens.
            let nobody = principal(&store, "nobody").await;
            for action in Action::ALL {
                let allowed = matches!(
                    policy.decide(&nobody, *action, &Resource::kind("matrix")),
                    Decision::Allow { .. }
                );
                assert_eq!(allowed, *action == Action::TokenSelf, "{action}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn users_roles_and_tokens_round_trip() {
    each_backend(|store, _| async move {
        let mut tx = store.begin_write().await.unwrap();
        let mut alice = user("alice");
        alice.password_hash = Some("$argon2id$x".into());
        tx.insert_user(&alice).await.unwrap();
        assert!(tx.user_exists("alice").await.unwrap());
        assert!(!tx.user_exists("bob").await.unwrap());
        assert!(
            tx.grant_role("alice", "security-engineer", AT, "t")
                .await
                .unwrap()
        );
        assert!(tx.grant_role("alice", "architect", AT, "t").await.unwrap());
        assert!(!tx.grant_role("alice", "architect", AT, "t").await.unwrap());
        assert!(tx.revoke_role("alice", "architect").await.unwrap());
        assert!(!tx.revoke_role("alice", "architect").await.unwrap());
        let token = TokenRow {
            id: "0123456789ab".into(),
            user_name: "alice".into(),
            secret_hash: "h".into(),
            scope: "read".into(),
            created_at: AT.into(),
            created_by: "t".into(),
            expires_at: Some("2027-01-01T00:00:00.000000Z".into()),
            revoked_at: None,
        };
        tx.insert_token(&token).await.unwrap();
        tx.commit().await.unwrap();

        let got = store.user("alice").await.unwrap().unwrap();
        assert_eq!(got.roles, ["security-engineer"]);
        // Several roles come back sorted; a user without roles has none.
        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.grant_role("alice", "architect", AT, "t").await.unwrap());
        assert!(tx.grant_role("alice", "tester", AT, "t").await.unwrap());
        tx.insert_user(&user("bob")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.user("alice").await.unwrap().unwrap().roles,
            ["architect", "security-engineer", "tester"]
        );
        assert!(store.user("bob").await.unwrap().unwrap().roles.is_empty());
        assert!(store.user("carol").await.unwrap().is_none());
        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.revoke_role("alice", "architect").await.unwrap());
        assert!(tx.revoke_role("alice", "tester").await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(got.password_hash.as_deref(), Some("$argon2id$x"));
        assert_eq!(store.users().await.unwrap().len(), 2);
        assert_eq!(
            store.token("0123456789ab").await.unwrap(),
            Some(token.clone())
        );
        assert_eq!(store.tokens(Some("alice")).await.unwrap().len(), 1);
        assert!(store.tokens(Some("bob")).await.unwrap().is_empty());
        assert_eq!(store.tokens(None).await.unwrap().len(), 1);

        let mut tx = store.begin_write().await.unwrap();
        let ids = vec!["0123456789ab".to_owned(), "nope".to_owned()];
        assert_eq!(tx.revoke_tokens(&ids, AT).await.unwrap(), ["0123456789ab"]);
        assert!(tx.revoke_tokens(&ids, AT).await.unwrap().is_empty());
        assert!(tx.set_user_disabled("alice", true).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .token("0123456789ab")
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .as_deref(),
            Some(AT)
        );
        assert!(store.user("alice").await.unwrap().unwrap().disabled);

        // A grant for a user that does not exist violates the foreign key.
        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.grant_role("ghost", "user", AT, "t").await.is_err());
    })
    .await;
}

fn requirement(id: &str, version: i64, title: &str) -> RequirementRow {
    RequirementRow {
        id: id.into(),
        version,
        title: title.into(),
        body: "text".into(),
        kind: "functional".into(),
        priority: "high".into(),
        acceptance: "ok".into(),
        status: "draft".into(),
        parent: None,
        arch_element: Some("auth".into()),
        created_at: AT.into(),
        updated_at: AT.into(),
    }
}

#[tokio::test]
async fn requirements_backlog_documents_and_links() {
    each_backend(|store, _| async move {
        let mut tx = store.begin_write().await.unwrap();
        tx.save_requirement(&requirement("REQ-1", 1, "Log in"), "{\"v\":1}", "a")
            .await
            .unwrap();
        tx.save_requirement(&requirement("REQ-1", 2, "Log in safely"), "{\"v\":2}", "b")
            .await
            .unwrap();
        assert_eq!(
            tx.ids_with_prefix(IdKind::Requirement, "REQ-")
                .await
                .unwrap(),
            ["REQ-1"]
        );
        tx.set_backlog_flow("[\"a\",\"b\"]", "[[\"a\",\"b\"]]", AT, "a")
            .await
            .unwrap();
        let item = ItemRow {
            key: "BL-1".into(),
            kind: "story".into(),
            title: "Login form".into(),
            description: String::new(),
            state: "a".into(),
            estimate: Some(2.5),
            assignee: Some("bob".into()),
            sprint: None,
            created_at: AT.into(),
            created_by: "a".into(),
            updated_at: AT.into(),
            requirements: vec!["REQ-1".into()],
            depends_on: Vec::new(),
        };
        tx.save_item(&item, true).await.unwrap();
        let mut second = item.clone();
        second.key = "BL-2".into();
        second.depends_on = vec!["BL-1".into()];
        tx.save_item(&second, true).await.unwrap();
        let mut moved = item.clone();
        moved.state = "b".into();
        moved.requirements = Vec::new();
        tx.save_item(&moved, false).await.unwrap();
        assert!(
            tx.link_commit(
                &CommitLinkRow {
                    item_key: "BL-1".into(),
                    sha: "abc".into(),
                    summary: "BL-1 form".into(),
                    run_id: None
                },
                AT
            )
            .await
            .unwrap()
        );
        assert!(
            !tx.link_commit(
                &CommitLinkRow {
                    item_key: "BL-1".into(),
                    sha: "abc".into(),
                    summary: "again".into(),
                    run_id: None
                },
                AT
            )
            .await
            .unwrap()
        );
        assert!(tx.map_test("REQ-1", "auth.login_ok").await.unwrap());
        // A finding gets at most one item: the second link names the first.
        tx.put_finding(&crate::assurance::finding(
            "F-aaaa11112222",
            "sca:/a",
            "new",
        ))
        .await
        .unwrap();
        let link = |key: &str| FindingItemRow {
            finding_id: "F-aaaa11112222".into(),
            item_key: key.into(),
            linked_at: AT.into(),
            linked_by: "sam".into(),
        };
        assert_eq!(tx.link_finding_item(&link("BL-2")).await.unwrap(), None);
        assert_eq!(
            tx.link_finding_item(&link("BL-1"))
                .await
                .unwrap()
                .as_deref(),
            Some("BL-2")
        );
        let doc = DocumentRow {
            id: "DOC-1".into(),
            item: "IE11".into(),
            exchange: "OE12".into(),
            version: 1,
            title: "Concept".into(),
            content: "We build".into(),
            sha256: "s".into(),
            sender: "pat".into(),
            sender_role: "product-owner".into(),
            receiver: "architect".into(),
            state: "sent".into(),
            sent_at: AT.into(),
            responder: None,
            responder_role: None,
            response_note: None,
            responded_at: None,
        };
        tx.insert_document(&doc).await.unwrap();
        assert_eq!(tx.latest_document_version("IE11").await.unwrap(), 1);
        assert!(
            tx.respond_document("DOC-1", "returned", "ann", "architect", Some("vague"), AT)
                .await
                .unwrap()
        );
        assert!(
            !tx.respond_document("DOC-1", "acknowledged", "ann", "architect", None, AT)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();

        let r = store.requirement("REQ-1").await.unwrap().unwrap();
        assert_eq!((r.version, r.title.as_str()), (2, "Log in safely"));
        let versions = store.requirement_versions("REQ-1").await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(versions[1].changed_by, "b");
        assert_eq!(store.requirements().await.unwrap().len(), 1);
        assert_eq!(store.backlog_flow().await.unwrap().unwrap().version, 1);
        assert_eq!(
            store.finding_item("F-aaaa11112222").await.unwrap(),
            Some(FindingItemRow {
                finding_id: "F-aaaa11112222".into(),
                item_key: "BL-2".into(),
                linked_at: AT.into(),
                linked_by: "sam".into(),
            })
        );
        assert_eq!(
            store
                .item_finding("BL-2")
                .await
                .unwrap()
                .map(|l| l.finding_id)
                .as_deref(),
            Some("F-aaaa11112222")
        );
        assert!(store.item_finding("BL-1").await.unwrap().is_none());
        assert!(store.finding_item("F-none").await.unwrap().is_none());
        let items = store.backlog_items().await.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].state, "b");
        assert!(items[0].requirements.is_empty());
        assert_eq!(items[0].estimate, Some(2.5));
        assert_eq!(items[1].depends_on, ["BL-1"]);
        assert_eq!(store.commit_links().await.unwrap()[0].summary, "BL-1 form");
        assert_eq!(
            store.requirement_tests().await.unwrap(),
            [("REQ-1".to_owned(), "auth.login_ok".to_owned())]
        );
        let d = store.document("DOC-1").await.unwrap().unwrap();
        assert_eq!(
            (d.state.as_str(), d.response_note.as_deref()),
            ("returned", Some("vague"))
        );
        assert_eq!(store.documents().await.unwrap().len(), 1);
    })
    .await;
}
