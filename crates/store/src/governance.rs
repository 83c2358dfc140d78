//! Governance tables: users, role grants, API tokens, the RBAC policy,
//! requirements and their versions, backlog flow and items, exchanged
//! documents, and the trace links (commits, test cases).
//!
//! Reads are methods of [`Store`]; writes are methods of [`WriteTx`], so the
//! use case appends its event in the same transaction.

use crate::{Store, StoreError, WriteTx, with_pool, with_tx};

/// A user as stored, with the PIM roles granted to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    /// argon2id PHC string, when the user has a password.
    pub password_hash: Option<String>,
    pub superuser: bool,
    pub disabled: bool,
    pub created_at: String,
    pub created_by: String,
    /// PIM role ids, sorted.
    pub roles: Vec<String>,
}

/// An API token as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub user_name: String,
    pub secret_hash: String,
    pub scope: String,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The current requirement fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RequirementRow {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub kind: String,
    pub priority: String,
    pub acceptance: String,
    pub status: String,
    pub parent: Option<String>,
    pub arch_element: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One version of a requirement: a JSON snapshot of every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementVersionRow {
    pub version: i64,
    pub snapshot: String,
    pub changed_at: String,
    pub changed_by: String,
}

/// A Kanban flow: states in order and the allowed moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub version: i64,
    /// JSON list of state names.
    pub states: String,
    /// JSON list of `[from, to]`.
    pub transitions: String,
}

/// A backlog item with its links.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub key: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub state: String,
    pub estimate: Option<f64>,
    pub assignee: Option<String>,
    pub sprint: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    /// Requirement ids, sorted.
    pub requirements: Vec<String>,
    /// Keys of items this one depends on, sorted.
    pub depends_on: Vec<String>,
}

/// A sent exchange document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: String,
    pub item: String,
    pub exchange: String,
    pub version: i64,
    pub title: String,
    pub content: String,
    pub sha256: String,
    pub sender: String,
    pub sender_role: String,
    pub receiver: String,
    pub state: String,
    pub sent_at: String,
    pub responder: Option<String>,
    pub responder_role: Option<String>,
    pub response_note: Option<String>,
    pub responded_at: Option<String>,
}

/// A commit linked to a backlog item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLinkRow {
    pub item_key: String,
    pub sha: String,
    pub summary: String,
    pub run_id: Option<String>,
}

/// A finding turned into a backlog item (`dso backlog add --from-finding`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingItemRow {
    pub finding_id: String,
    pub item_key: String,
    pub linked_at: String,
    pub linked_by: String,
}

type FindingItemTuple = (String, String, String, String);

fn finding_item_from(
    (finding_id, item_key, linked_at, linked_by): FindingItemTuple,
) -> FindingItemRow {
    FindingItemRow {
        finding_id,
        item_key,
        linked_at,
        linked_by,
    }
}

/// Two text columns.
type Pair = (String, String);
type UserTuple = (String, Option<String>, bool, bool, String, String);
type TokenTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);
type ReqTuple = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);
type ItemTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);
type DocTuple = (
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

macro_rules! user_cols {
    () => {
        "name, password_hash, superuser, disabled, created_at, created_by"
    };
}
macro_rules! token_cols {
    () => {
        "id, user_name, secret_hash, scope, created_at, created_by, expires_at, revoked_at"
    };
}
macro_rules! req_cols {
    () => {
        "id, version, title, body, kind, priority, acceptance, status, parent, arch_element, created_at, updated_at"
    };
}
macro_rules! item_cols {
    () => {
        "key, kind, title, description, state, estimate, assignee, sprint, created_at, created_by, updated_at"
    };
}
macro_rules! doc_cols {
    () => {
        "id, item, exchange, version, title, content, sha256, sender, sender_role, receiver, state, sent_at, responder, responder_role, response_note, responded_at"
    };
}

fn user_from(
    (name, password_hash, superuser, disabled, created_at, created_by): UserTuple,
    roles: Vec<String>,
) -> UserRow {
    UserRow {
        name,
        password_hash,
        superuser,
        disabled,
        created_at,
        created_by,
        roles,
    }
}

fn token_from(t: TokenTuple) -> TokenRow {
    TokenRow {
        id: t.0,
        user_name: t.1,
        secret_hash: t.2,
        scope: t.3,
        created_at: t.4,
        created_by: t.5,
        expires_at: t.6,
        revoked_at: t.7,
    }
}

fn req_from(t: ReqTuple) -> RequirementRow {
    RequirementRow {
        id: t.0,
        version: t.1,
        title: t.2,
        body: t.3,
        kind: t.4,
        priority: t.5,
        acceptance: t.6,
        status: t.7,
        parent: t.8,
        arch_element: t.9,
        created_at: t.10,
        updated_at: t.11,
    }
}

fn item_from(t: ItemTuple, requirements: Vec<String>, depends_on: Vec<String>) -> ItemRow {
    ItemRow {
        key: t.0,
        kind: t.1,
        title: t.2,
        description: t.3,
        state: t.4,
        estimate: t.5,
        assignee: t.6,
        sprint: t.7,
        created_at: t.8,
        created_by: t.9,
        updated_at: t.10,
        requirements,
        depends_on,
    }
}

fn doc_from(t: DocTuple) -> DocumentRow {
    DocumentRow {
        id: t.0,
        item: t.1,
        exchange: t.2,
        version: t.3,
        title: t.4,
        content: t.5,
        sha256: t.6,
        sender: t.7,
        sender_role: t.8,
        receiver: t.9,
        state: t.10,
        sent_at: t.11,
        responder: t.12,
        responder_role: t.13,
        response_note: t.14,
        responded_at: t.15,
    }
}

/// Pairs (key, value) grouped by key into a lookup.
fn group(pairs: Vec<(String, String)>) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map.values_mut().for_each(|v| v.sort());
    map
}

impl Store {
    /// The user named `name`, with its roles.
    pub async fn user(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        // One query: the user and its roles joined by U+001E (no role id
        // holds one), as every command reads them when it opens.
        type WithRoles = (
            String,
            Option<String>,
            bool,
            bool,
            String,
            String,
            Option<String>,
        );
        let row: Option<WithRoles> = with_pool!(self, pool => {
            sqlx::query_as(concat!(
                "SELECT ", user_cols!(), ", (SELECT string_agg(role, $2 ORDER BY role) \
                 FROM role_grants WHERE user_name = $1) FROM users WHERE name = $1"
            ))
            .bind(name)
            .bind("\u{1e}")
            .fetch_optional(pool)
            .await?
        });
        let Some((n, hash, superuser, disabled, created_at, created_by, roles)) = row else {
            return Ok(None);
        };
        let roles = roles.map_or_else(Vec::new, |r| r.split('\u{1e}').map(str::to_owned).collect());
        Ok(Some(user_from(
            (n, hash, superuser, disabled, created_at, created_by),
            roles,
        )))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let (rows, grants): (Vec<UserTuple>, Vec<(String, String)>) = with_pool!(self, pool => {
            (
                sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users ORDER BY name"))
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as("SELECT user_name, role FROM role_grants")
                    .fetch_all(pool)
                    .await?,
            )
        });
        let mut grants = group(grants);
        Ok(rows
            .into_iter()
            .map(|row| {
                let roles = grants.remove(&row.0).unwrap_or_default();
                user_from(row, roles)
            })
            .collect())
    }

    /// The token with public id `id`.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let row: Option<TokenTuple> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", token_cols!(), " FROM api_tokens WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(token_from))
    }

    /// Tokens of `user`, or of everyone, oldest first.
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        let rows: Vec<TokenTuple> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", token_cols!(), " FROM api_tokens WHERE $1 IS NULL OR user_name = $1 ORDER BY created_at, id"))
            .bind(user)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(token_from).collect())
    }

    /// The workspace's RBAC policy, if one was set: the latest version.
    pub async fn rbac_policy(&self) -> Result<Option<RbacPolicyRow>, StoreError> {
        let row: Option<(i64, String, Option<String>, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT version, text, compiled_policies, compiled_actions FROM rbac_policies \
                 ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(version, text, policies, actions)| RbacPolicyRow {
            version,
            text,
            compiled: policies.zip(actions),
        }))
    }

    pub async fn requirement(&self, id: &str) -> Result<Option<RequirementRow>, StoreError> {
        let row: Option<ReqTuple> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", req_cols!(), " FROM requirements WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(req_from))
    }

    /// Every requirement, by creation time then id.
    pub async fn requirements(&self) -> Result<Vec<RequirementRow>, StoreError> {
        let rows: Vec<ReqTuple> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", req_cols!(), " FROM requirements ORDER BY created_at, id"))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(req_from).collect())
    }

    /// Every version of a requirement, oldest first.
    pub async fn requirement_versions(
        &self,
        id: &str,
    ) -> Result<Vec<RequirementVersionRow>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT version, snapshot, changed_at, changed_by FROM requirement_versions \
                 WHERE requirement_id = $1 ORDER BY version",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(version, snapshot, changed_at, changed_by)| RequirementVersionRow {
                    version,
                    snapshot,
                    changed_at,
                    changed_by,
                },
            )
            .collect())
    }

    /// The current Kanban flow, if one was set.
    pub async fn backlog_flow(&self) -> Result<Option<FlowRow>, StoreError> {
        let row: Option<(i64, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT version, states, transitions FROM backlog_flows ORDER BY version DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(version, states, transitions)| FlowRow {
            version,
            states,
            transitions,
        }))
    }

    /// Every backlog item with its links, by creation time then key.
    pub async fn backlog_items(&self) -> Result<Vec<ItemRow>, StoreError> {
        let (rows, links, deps): (Vec<ItemTuple>, Vec<Pair>, Vec<Pair>) = with_pool!(self, pool => {
            (
                sqlx::query_as(concat!("SELECT ", item_cols!(), " FROM backlog_items ORDER BY created_at, key"))
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as("SELECT item_key, requirement_id FROM backlog_requirement_links")
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as("SELECT item_key, depends_on FROM backlog_dependencies")
                    .fetch_all(pool)
                    .await?,
            )
        });
        let (mut links, mut deps) = (group(links), group(deps));
        Ok(rows
            .into_iter()
            .map(|row| {
                let reqs = links.remove(&row.0).unwrap_or_default();
                let ds = deps.remove(&row.0).unwrap_or_default();
                item_from(row, reqs, ds)
            })
            .collect())
    }

    pub async fn backlog_item(&self, key: &str) -> Result<Option<ItemRow>, StoreError> {
        Ok(self
            .backlog_items()
            .await?
            .into_iter()
            .find(|i| i.key == key))
    }

    /// Exchange documents, oldest first.
    pub async fn documents(&self) -> Result<Vec<DocumentRow>, StoreError> {
        let rows: Vec<DocTuple> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", doc_cols!(), " FROM exchange_documents ORDER BY sent_at, id"))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(doc_from).collect())
    }

    pub async fn document(&self, id: &str) -> Result<Option<DocumentRow>, StoreError> {
        let row: Option<DocTuple> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", doc_cols!(), " FROM exchange_documents WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(doc_from))
    }

    /// Every commit link.
    pub async fn commit_links(&self) -> Result<Vec<CommitLinkRow>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT item_key, sha, summary, run_id FROM commit_links ORDER BY linked_at, item_key, sha")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(item_key, sha, summary, run_id)| CommitLinkRow {
                item_key,
                sha,
                summary,
                run_id,
            })
            .collect())
    }

    /// The backlog item made from finding `finding_id`, if any.
    pub async fn finding_item(
        &self,
        finding_id: &str,
    ) -> Result<Option<FindingItemRow>, StoreError> {
        let row: Option<FindingItemTuple> = with_pool!(self, pool => {
            sqlx::query_as("SELECT finding_id, item_key, linked_at, linked_by FROM finding_items WHERE finding_id = $1")
                .bind(finding_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(finding_item_from))
    }

    /// The finding backlog item `item_key` was made from, if any.
    pub async fn item_finding(&self, item_key: &str) -> Result<Option<FindingItemRow>, StoreError> {
        let row: Option<FindingItemTuple> = with_pool!(self, pool => {
            sqlx::query_as("SELECT finding_id, item_key, linked_at, linked_by FROM finding_items WHERE item_key = $1")
                .bind(item_key)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(finding_item_from))
    }

    /// Every (requirement id, test case) mapping.
    pub async fn requirement_tests(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT requirement_id, test_case FROM requirement_tests ORDER BY requirement_id, test_case")
                .fetch_all(pool)
                .await?
        }))
    }
}

impl WriteTx {
    /// Adds a user (no roles).
    pub async fn insert_user(&mut self, user: &UserRow) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query(concat!("INSERT INTO users (", user_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(&user.name)
                .bind(&user.password_hash)
                .bind(user.superuser)
                .bind(user.disabled)
                .bind(&user.created_at)
                .bind(&user.created_by)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// True when the user exists (read inside the transaction).
    pub async fn user_exists(&mut self, name: &str) -> Result<bool, StoreError> {
        let row: Option<(String,)> = with_tx!(self, conn => {
            sqlx::query_as("SELECT name FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?
        });
        Ok(row.is_some())
    }

    pub async fn set_user_disabled(
        &mut self,
        name: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
                .bind(disabled)
                .bind(name)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn set_user_password(&mut self, name: &str, hash: &str) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
                .bind(hash)
                .bind(name)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Grants a role; false when already granted.
    pub async fn grant_role(
        &mut self,
        user: &str,
        role: &str,
        at: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO role_grants (user_name, role, granted_at, granted_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_name, role) DO NOTHING",
            )
            .bind(user)
            .bind(role)
            .bind(at)
            .bind(by)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Revokes a role; false when it was not granted.
    pub async fn revoke_role(&mut self, user: &str, role: &str) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query("DELETE FROM role_grants WHERE user_name = $1 AND role = $2")
                .bind(user)
                .bind(role)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn insert_token(&mut self, t: &TokenRow) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query(concat!("INSERT INTO api_tokens (", token_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                .bind(&t.id)
                .bind(&t.user_name)
                .bind(&t.secret_hash)
                .bind(&t.scope)
                .bind(&t.created_at)
                .bind(&t.created_by)
                .bind(&t.expires_at)
                .bind(&t.revoked_at)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// Revokes the tokens with these ids that are not revoked yet; returns those revoked.
    pub async fn revoke_tokens(
        &mut self,
        ids: &[String],
        at: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut revoked = Vec::new();
        for id in ids {
            let n = with_tx!(self, conn => {
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
            });
            if n == 1 {
                revoked.push(id.clone());
            }
        }
        Ok(revoked)
    }

    /// Stores a new RBAC policy version with its compiled form
    /// `(policies, actions)`; returns its number.
    pub async fn set_rbac_policy(
        &mut self,
        text: &str,
        compiled: (&str, &str),
        sha256: &str,
        at: &str,
        by: &str,
    ) -> Result<i64, StoreError> {
        with_tx!(self, conn => {
            let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM rbac_policies")
                .fetch_one(&mut *conn)
                .await?;
            let version = max.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO rbac_policies (version, text, compiled_policies, compiled_actions, sha256, set_at, set_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
                .bind(version)
                .bind(text)
                .bind(compiled.0)
                .bind(compiled.1)
                .bind(sha256)
                .bind(at)
                .bind(by)
                .execute(&mut *conn)
                .await?;
            Ok(version)
        })
    }

    /// Ids in `table`'s `column` that start with `prefix` (to number the next one).
    pub async fn ids_with_prefix(
        &mut self,
        kind: IdKind,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        let sql = match kind {
            IdKind::Requirement => "SELECT id FROM requirements",
            IdKind::BacklogItem => "SELECT key FROM backlog_items",
            IdKind::Document => "SELECT id FROM exchange_documents",
        };
        let rows: Vec<(String,)> = with_tx!(self, conn => {
            sqlx::query_as(sql).fetch_all(&mut *conn).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id,)| id)
            .filter(|id| id.starts_with(prefix))
            .collect())
    }

    /// Inserts or updates a requirement and records its version snapshot.
    pub async fn save_requirement(
        &mut self,
        r: &RequirementRow,
        snapshot: &str,
        by: &str,
    ) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            if r.version == 1 {
                sqlx::query(concat!("INSERT INTO requirements (", req_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
                .bind(&r.id).bind(r.version).bind(&r.title).bind(&r.body).bind(&r.kind)
                .bind(&r.priority).bind(&r.acceptance).bind(&r.status).bind(&r.parent)
                .bind(&r.arch_element).bind(&r.created_at).bind(&r.updated_at)
                .execute(&mut *conn)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE requirements SET version = $2, title = $3, body = $4, kind = $5, priority = $6, \
                     acceptance = $7, status = $8, parent = $9, arch_element = $10, updated_at = $11 WHERE id = $1",
                )
                .bind(&r.id).bind(r.version).bind(&r.title).bind(&r.body).bind(&r.kind)
                .bind(&r.priority).bind(&r.acceptance).bind(&r.status).bind(&r.parent)
                .bind(&r.arch_element).bind(&r.updated_at)
                .execute(&mut *conn)
                .await?;
            }
            sqlx::query(
                "INSERT INTO requirement_versions (requirement_id, version, snapshot, changed_at, changed_by) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&r.id)
            .bind(r.version)
            .bind(snapshot)
            .bind(&r.updated_at)
            .bind(by)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Stores a new Kanban flow version.
    pub async fn set_backlog_flow(
        &mut self,
        states: &str,
        transitions: &str,
        at: &str,
        by: &str,
    ) -> Result<i64, StoreError> {
        with_tx!(self, conn => {
            let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM backlog_flows")
                .fetch_one(&mut *conn)
                .await?;
            let version = max.unwrap_or(0) + 1;
            sqlx::query("INSERT INTO backlog_flows (version, states, transitions, set_at, set_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(version)
                .bind(states)
                .bind(transitions)
                .bind(at)
                .bind(by)
                .execute(&mut *conn)
                .await?;
            Ok(version)
        })
    }

    /// Inserts (`new`) or updates an item, replacing its links and dependencies.
    pub async fn save_item(&mut self, item: &ItemRow, new: bool) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            if new {
                sqlx::query(concat!("INSERT INTO backlog_items (", item_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                .bind(&item.key).bind(&item.kind).bind(&item.title).bind(&item.description)
                .bind(&item.state).bind(item.estimate).bind(&item.assignee).bind(&item.sprint)
                .bind(&item.created_at).bind(&item.created_by).bind(&item.updated_at)
                .execute(&mut *conn)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE backlog_items SET kind = $2, title = $3, description = $4, state = $5, estimate = $6, \
                     assignee = $7, sprint = $8, updated_at = $9 WHERE key = $1",
                )
                .bind(&item.key).bind(&item.kind).bind(&item.title).bind(&item.description)
                .bind(&item.state).bind(item.estimate).bind(&item.assignee).bind(&item.sprint)
                .bind(&item.updated_at)
                .execute(&mut *conn)
                .await?;
                sqlx::query("DELETE FROM backlog_requirement_links WHERE item_key = $1")
                    .bind(&item.key).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM backlog_dependencies WHERE item_key = $1")
                    .bind(&item.key).execute(&mut *conn).await?;
            }
            for req in &item.requirements {
                sqlx::query("INSERT INTO backlog_requirement_links (item_key, requirement_id) VALUES ($1, $2)")
                    .bind(&item.key).bind(req).execute(&mut *conn).await?;
            }
            for dep in &item.depends_on {
                sqlx::query("INSERT INTO backlog_dependencies (item_key, depends_on) VALUES ($1, $2)")
                    .bind(&item.key).bind(dep).execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    pub async fn insert_document(&mut self, d: &DocumentRow) -> Result<(), StoreError> {
        with_tx!(self, conn => {
            sqlx::query(concat!("INSERT INTO exchange_documents (", doc_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"))
            .bind(&d.id).bind(&d.item).bind(&d.exchange).bind(d.version).bind(&d.title)
            .bind(&d.content).bind(&d.sha256).bind(&d.sender).bind(&d.sender_role).bind(&d.receiver)
            .bind(&d.state).bind(&d.sent_at).bind(&d.responder).bind(&d.responder_role)
            .bind(&d.response_note).bind(&d.responded_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// The latest version number of `item` among sent documents (0 if none).
    pub async fn latest_document_version(&mut self, item: &str) -> Result<i64, StoreError> {
        let (max,): (Option<i64>,) = with_tx!(self, conn => {
            sqlx::query_as("SELECT MAX(version) FROM exchange_documents WHERE item = $1")
                .bind(item)
                .fetch_one(&mut *conn)
                .await?
        });
        Ok(max.unwrap_or(0))
    }

    /// Records the receiver's answer to a document still `sent`; false otherwise.
    pub async fn respond_document(
        &mut self,
        id: &str,
        state: &str,
        responder: &str,
        role: &str,
        note: Option<&str>,
        at: &str,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query(
                "UPDATE exchange_documents SET state = $2, responder = $3, responder_role = $4, \
                 response_note = $5, responded_at = $6 WHERE id = $1 AND state = 'sent'",
            )
            .bind(id).bind(state).bind(responder).bind(role).bind(note).bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Links a commit to an item; false when already linked.
    pub async fn link_commit(
        &mut self,
        link: &CommitLinkRow,
        at: &str,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO commit_links (item_key, sha, summary, linked_at, run_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (item_key, sha) DO NOTHING",
            )
            .bind(&link.item_key).bind(&link.sha).bind(&link.summary).bind(at).bind(&link.run_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Links a finding to the item made from it. When the finding already
    /// has an item, nothing is written and that item's key is returned.
    pub async fn link_finding_item(
        &mut self,
        link: &FindingItemRow,
    ) -> Result<Option<String>, StoreError> {
        let existing: Option<(String,)> = with_tx!(self, conn => {
            sqlx::query_as("SELECT item_key FROM finding_items WHERE finding_id = $1")
                .bind(&link.finding_id)
                .fetch_optional(&mut *conn)
                .await?
        });
        if let Some((key,)) = existing {
            return Ok(Some(key));
        }
        with_tx!(self, conn => {
            sqlx::query("INSERT INTO finding_items (finding_id, item_key, linked_at, linked_by) VALUES ($1, $2, $3, $4)")
                .bind(&link.finding_id).bind(&link.item_key).bind(&link.linked_at).bind(&link.linked_by)
                .execute(&mut *conn)
                .await?;
        });
        Ok(None)
    }

    /// Maps a test case to a requirement; false when already mapped.
    pub async fn map_test(
        &mut self,
        requirement: &str,
        test_case: &str,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO requirement_tests (requirement_id, test_case) VALUES ($1, $2) \
                 ON CONFLICT (requirement_id, test_case) DO NOTHING",
            )
            .bind(requirement).bind(test_case)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}

/// Which id space to number.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Requirement,
    BacklogItem,
    Document,
}

/// A stored RBAC policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacPolicyRow {
    pub version: i64,
    /// The policy as it was set.
    pub text: String,
    /// Its compiled form `(policies, actions)`; `None` for a policy stored
    /// before dso kept one.
    pub compiled: Option<(String, String)>,
}
