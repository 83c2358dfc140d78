//! Who is acting and what they may do: users, PIM role grants, passwords
//! (argon2id), API tokens and the RBAC policy (Cedar).
//!
//! The CLI acts as the workspace owner (`[workspace] owner`, a superuser
//! created by `dso init`), or as the user of the API token in `DSO_TOKEN` /
//! `--token`. Every use case calls [`authorize`] before it changes or reads
//! anything; a denial is recorded as an `access.denied` event and returned
//! as [`AppError::Forbidden`].
//!
//! Tokens look like `dso_<id>_<secret>`: the id (12 hex digits) is public
//! and appears in listings and events; the secret (64 hex digits) is shown
//! once and stored only as its SHA-256 (a 256-bit random secret needs no
//! slow hash; passwords, which people choose, get argon2id).

use dso_audit::NewEvent;
use dso_governance::rbac::{Action, Decision, Forbidden, Policy, Principal, Resource};
use dso_store::{Store, TokenRow, UserRow};
use serde::Serialize;
use sha2::Digest as _;

use crate::events::{AppendedEntry, commit};
use crate::{AppError, Context};

/// Event types of this module.
pub mod types {
    pub const USER_CREATED: &str = "dev.cdeventsx.dso.user.created.0.1.0";
    pub const USER_DISABLED: &str = "dev.cdeventsx.dso.user.disabled.0.1.0";
    pub const USER_ENABLED: &str = "dev.cdeventsx.dso.user.enabled.0.1.0";
    pub const USER_PASSWORD_SET: &str = "dev.cdeventsx.dso.user.passwordset.0.1.0";
    pub const ROLE_GRANTED: &str = "dev.cdeventsx.dso.role.granted.0.1.0";
    pub const ROLE_REVOKED: &str = "dev.cdeventsx.dso.role.revoked.0.1.0";
    pub const TOKEN_CREATED: &str = "dev.cdeventsx.dso.token.created.0.1.0";
    pub const TOKEN_REVOKED: &str = "dev.cdeventsx.dso.token.revoked.0.1.0";
    pub const TOKEN_REFUSED: &str = "dev.cdeventsx.dso.token.refused.0.1.0";
    pub const ACCESS_DENIED: &str = "dev.cdeventsx.dso.access.denied.0.1.0";
    pub const POLICY_UPDATED: &str = "dev.cdeventsx.dso.policy.updated.0.1.0";
}

/// Token scopes: `all` (whatever the user's roles allow) or `read`.
pub const SCOPES: [&str; 2] = ["all", "read"];

/// How an open context authenticated.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    /// The public id of the token used, if any.
    pub token_id: Option<String>,
}

fn now() -> String {
    dso_audit::format_time(jiff::Timestamp::now())
}

/// True for user names: ASCII letters, digits, `.`, `_`, `-`, `@`; at most 64.
pub fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

fn check_user_name(name: &str) -> Result<(), AppError> {
    if valid_user_name(name) {
        Ok(())
    } else {
        Err(AppError::Input {
            location: "user name".into(),
            message: format!(
                "`{name}` is not a user name (letters, digits, `.`, `_`, `-`, `@`; at most 64)"
            ),
        })
    }
}

/// Loads the policy set with `dso policy rbac set`, if there is one (else
/// the default is in force): from its compiled form, else (stored before
/// dso kept one, or written by a dso whose Cedar no longer reads it) from
/// its text.
pub(crate) async fn load_stored_policy(store: &Store) -> Result<Option<Policy>, AppError> {
    let Some(row) = store.rbac_policy().await? else {
        return Ok(None);
    };
    if let Some((policies, actions)) = &row.compiled {
        let compiled = dso_governance::rbac::Compiled { policies, actions };
        if let Ok(policy) = Policy::from_compiled(&row.text, compiled) {
            return Ok(Some(policy));
        }
    }
    // Validated by `set_policy` before it was stored.
    Policy::parse_validated(&format!("rbac policy version {}", row.version), &row.text)
        .map(Some)
        .map_err(AppError::Policy)
}

/// Works out who is acting: the user of `token`, else the workspace owner.
///
/// A refused token is recorded as a `token.refused` event (with the token
/// id, never the secret) and returned as [`AppError::Unauthenticated`].
pub(crate) async fn authenticate(
    store: &Store,
    owner: &str,
    token: Option<&str>,
) -> Result<(Session, Option<NewEvent>), AppError> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        let row = store.user(owner).await?;
        let principal = Principal {
            user: owner.to_owned(),
            roles: row.as_ref().map(|r| r.roles.clone()).unwrap_or_default(),
            // A workspace created before users existed has no owner row:
            // the owner named in dso.toml is still the superuser.
            superuser: row.as_ref().is_none_or(|r| r.superuser),
            read_only: false,
        };
        return Ok((
            Session {
                principal,
                token_id: None,
            },
            None,
        ));
    };
    let refuse = |id: Option<&str>, user: Option<&str>, reason: &str| {
        let event = NewEvent {
            ty: types::TOKEN_REFUSED.into(),
            subject: id.map(|i| format!("token {i}")),
            data: serde_json::json!({ "token_id": id, "user": user, "reason": reason }),
        };
        (
            AppError::Unauthenticated {
                reason: reason.to_owned(),
            },
            event,
        )
    };
    let Some((id, secret)) = parse_token(token) else {
        let (err, _) = refuse(None, None, "the token is malformed");
        // NOTE: nothing is recorded for a string that is not a token at
        // all: it may be a secret pasted by mistake.
        return Err(err);
    };
    let row = store.token(id).await?;
    let Some(row) = row.filter(|r| constant_time_eq(&r.secret_hash, &hash_secret(secret))) else {
        return Err(refused_err(refuse(Some(id), None, "the token is unknown")));
    };
    if let Some(at) = &row.revoked_at {
        let reason = format!("the token was revoked at {at}");
        return Err(refused_err(refuse(Some(id), Some(&row.user_name), &reason)));
    }
    if let Some(exp) = &row.expires_at
        && *exp <= now()
    {
        let reason = format!("the token expired at {exp}");
        return Err(refused_err(refuse(Some(id), Some(&row.user_name), &reason)));
    }
    let Some(user) = store.user(&row.user_name).await? else {
        return Err(refused_err(refuse(
            Some(id),
            None,
            "the token's user does not exist",
        )));
    };
    if user.disabled {
        let reason = format!("user {} is disabled", user.name);
        return Err(refused_err(refuse(Some(id), Some(&user.name), &reason)));
    }
    Ok((
        Session {
            principal: Principal {
                user: user.name.clone(),
                roles: user.roles.clone(),
                superuser: user.superuser,
                read_only: row.scope == "read",
            },
            token_id: Some(row.id),
        },
        None,
    ))
}

/// Carries the refusal event out with the error (see [`AppError::TokenRefused`]).
fn refused_err((err, event): (AppError, NewEvent)) -> AppError {
    match err {
        AppError::Unauthenticated { reason } => AppError::TokenRefused {
            reason,
            event: Box::new(event),
        },
        other => other,
    }
}

/// Splits `dso_<12 hex>_<64 hex>` into id and secret.
fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("dso_")?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    (hex(id, 12) && hex(secret, 64)).then_some((id, secret))
}

fn hash_secret(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.to_ascii_lowercase().as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn random_hex(n_bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; n_bytes];
    getrandom::fill(&mut buf).map_err(|err| AppError::Input {
        location: "random number generator".into(),
        message: err.to_string(),
    })?;
    Ok(hex::encode(buf))
}

/// Decides `action` on `resource` for the acting user.
///
/// Returns the PIM role the policy allowed it in (for the event's
/// `actorrole`). A denial is appended to the log as `access.denied` and
/// returned as [`AppError::Forbidden`].
pub async fn authorize(
    ctx: &Context,
    action: Action,
    resource: &Resource,
) -> Result<Option<String>, AppError> {
    match ctx.policy.decide(&ctx.session.principal, action, resource) {
        Decision::Allow { role } => Ok(role),
        Decision::Deny(forbidden) => Err(deny(ctx, forbidden).await),
    }
}

/// Records a denial and turns it into the error to return.
pub async fn deny(ctx: &Context, forbidden: Forbidden) -> AppError {
    let event = NewEvent {
        ty: types::ACCESS_DENIED.into(),
        subject: Some(forbidden.resource.clone()),
        data: serde_json::json!({
            "user": forbidden.user,
            "roles": ctx.session.principal.roles,
            "action": forbidden.action,
            "resource": forbidden.resource,
            "reason": forbidden.reason,
            "token_id": ctx.session.token_id,
        }),
    };
    match crate::events::emit(ctx, event).await {
        Ok(_) => AppError::Forbidden(forbidden),
        Err(err) => err,
    }
}

/// A user as shown.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<String>,
    pub superuser: bool,
    pub disabled: bool,
    pub has_password: bool,
    pub created_at: String,
    pub created_by: String,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> UserView {
        UserView {
            name: u.name,
            roles: u.roles,
            superuser: u.superuser,
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
            created_by: u.created_by,
        }
    }
}

/// Hashes a password with argon2id (a fresh random salt, the PHC string form).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    use argon2::password_hash::PasswordHasher as _;
    if password.chars().count() < 8 {
        return Err(AppError::Input {
            location: "password".into(),
            message: "use at least 8 characters".into(),
        });
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|err| AppError::Input {
            location: "password".into(),
            message: err.to_string(),
        })
}

/// True when `password` matches the stored argon2 PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier as _;
    argon2::password_hash::phc::PasswordHash::new(phc).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Inserts the owner's user row (a superuser) at `dso init`, inside the
/// transaction that records the workspace's creation.
pub(crate) async fn insert_owner(
    ctx: &Context,
    tx: &mut dso_store::WriteTx,
) -> Result<(), AppError> {
    let owner = &ctx.workspace.config.workspace.owner;
    check_user_name(owner)?;
    if tx.user_exists(owner).await? {
        return Ok(());
    }
    tx.insert_user(&UserRow {
        name: owner.clone(),
        password_hash: None,
        superuser: true,
        disabled: false,
        created_at: now(),
        created_by: owner.clone(),
        roles: Vec::new(),
    })
    .await?;
    Ok(())
}

/// `dso user add`: a new user, optionally with a password and roles.
pub async fn add_user(
    ctx: &Context,
    name: &str,
    password: Option<&str>,
    roles: &[String],
) -> Result<UserView, AppError> {
    check_user_name(name)?;
    let resource = Resource::one("user", name);
    let role = authorize(ctx, Action::UserManage, &resource).await?;
    let roles = roles
        .iter()
        .map(|r| crate::model::role_id(r))
        .collect::<Result<Vec<_>, _>>()?;
    if !roles.is_empty() {
        authorize(ctx, Action::RoleManage, &resource).await?;
    }
    let password_hash = password.map(hash_password).transpose()?;
    let at = now();
    let mut tx = ctx.store.begin_write().await?;
    if tx.user_exists(name).await? {
        return Err(AppError::Conflict(format!("user `{name}` already exists")));
    }
    let row = UserRow {
        name: name.to_owned(),
        password_hash,
        superuser: false,
        disabled: false,
        created_at: at.clone(),
        created_by: ctx.actor.user.clone(),
        roles: Vec::new(),
    };
    tx.insert_user(&row).await?;
    for r in &roles {
        tx.grant_role(name, r, &at, &ctx.actor.user).await?;
    }
    let event = NewEvent {
        ty: types::USER_CREATED.into(),
        subject: Some(format!("user {name}")),
        data: serde_json::json!({ "name": name, "superuser": false, "roles": roles, "password": row.password_hash.is_some() }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    let mut view = UserView::from(row);
    view.roles = roles;
    view.roles.sort();
    Ok(view)
}

/// `dso user list`.
pub async fn list_users(ctx: &Context) -> Result<Vec<UserView>, AppError> {
    authorize(ctx, Action::UserRead, &Resource::kind("users")).await?;
    Ok(ctx
        .store
        .users()
        .await?
        .into_iter()
        .map(UserView::from)
        .collect())
}

/// `dso user disable|enable`.
pub async fn set_disabled(ctx: &Context, name: &str, disabled: bool) -> Result<(), AppError> {
    let role = authorize(ctx, Action::UserManage, &Resource::one("user", name)).await?;
    let user = existing_user(ctx, name).await?;
    if user.superuser && disabled {
        return Err(AppError::Conflict(format!(
            "user `{name}` is the workspace owner and cannot be disabled"
        )));
    }
    let mut tx = ctx.store.begin_write().await?;
    tx.set_user_disabled(name, disabled).await?;
    let ty = if disabled {
        types::USER_DISABLED
    } else {
        types::USER_ENABLED
    };
    let event = NewEvent {
        ty: ty.into(),
        subject: Some(format!("user {name}")),
        data: serde_json::json!({ "name": name }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(())
}

/// `dso user passwd`: sets a user's password (your own needs no role).
pub async fn set_password(ctx: &Context, name: &str, password: &str) -> Result<(), AppError> {
    let resource = Resource::one("user", name);
    let role = if name == ctx.session.principal.user && !ctx.session.principal.read_only {
        None
    } else {
        authorize(ctx, Action::UserManage, &resource).await?
    };
    existing_user(ctx, name).await?;
    let hash = hash_password(password)?;
    let mut tx = ctx.store.begin_write().await?;
    tx.set_user_password(name, &hash).await?;
    let event = NewEvent {
        ty: types::USER_PASSWORD_SET.into(),
        subject: Some(format!("user {name}")),
        data: serde_json::json!({ "name": name }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(())
}

async fn existing_user(ctx: &Context, name: &str) -> Result<UserRow, AppError> {
    ctx.store
        .user(name)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "user",
            value: name.to_owned(),
            hint: Some("`dso user list` shows the users".into()),
        })
}

/// `dso role grant|revoke USER ROLE`. Returns false when nothing changed.
pub async fn set_role(
    ctx: &Context,
    user: &str,
    role_key: &str,
    grant: bool,
) -> Result<bool, AppError> {
    let role_id = crate::model::role_id(role_key)?;
    let acting = authorize(ctx, Action::RoleManage, &Resource::one("user", user)).await?;
    existing_user(ctx, user).await?;
    let mut tx = ctx.store.begin_write().await?;
    let changed = if grant {
        tx.grant_role(user, &role_id, &now(), &ctx.actor.user)
            .await?
    } else {
        tx.revoke_role(user, &role_id).await?
    };
    if !changed {
        return Ok(false);
    }
    let event = NewEvent {
        ty: if grant {
            types::ROLE_GRANTED
        } else {
            types::ROLE_REVOKED
        }
        .into(),
        subject: Some(format!("user {user}")),
        data: serde_json::json!({ "user": user, "role": role_id }),
    };
    commit(ctx, tx, acting, vec![event]).await?;
    Ok(true)
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenView {
    pub id: String,
    pub user: String,
    pub scope: String,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// active | expired | revoked
    pub status: String,
}

impl From<TokenRow> for TokenView {
    fn from(t: TokenRow) -> TokenView {
        let status = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.as_ref().is_some_and(|e| *e <= now()) {
            "expired"
        } else {
            "active"
        };
        TokenView {
            id: t.id,
            user: t.user_name,
            scope: t.scope,
            created_at: t.created_at,
            created_by: t.created_by,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            status: status.into(),
        }
    }
}

/// A token just created: the only time its secret is seen.
#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

/// Parses `--expires`: `never`, a duration from now (`90d`, `12h`, `30m`,
/// `45s`), a date (`2027-01-31`, midnight UTC) or an RFC 3339 time.
pub fn parse_expiry(text: &str) -> Result<Option<String>, AppError> {
    let bad = |message: String| AppError::Input {
        location: "--expires".into(),
        message,
    };
    let text = text.trim();
    if text == "never" {
        return Ok(None);
    }
    let now = jiff::Timestamp::now();
    let ts = if let Some((n, unit)) = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&i| i > 0 && i == text.len() - 1)
        .map(|i| text.split_at(i))
    {
        let n: i64 = n
            .parse()
            .map_err(|_| bad(format!("`{text}` is too large")))?;
        let secs = match unit {
            "s" => Some(n),
            "m" => n.checked_mul(60),
            "h" => n.checked_mul(3600),
            "d" => n.checked_mul(86_400),
            _ => None,
        }
        .ok_or_else(|| bad(format!("`{text}`: use s, m, h or d")))?;
        now.checked_add(jiff::SignedDuration::from_secs(secs))
            .map_err(|_| bad(format!("`{text}` is too far away")))?
    } else if let Ok(date) = text.parse::<jiff::civil::Date>() {
        date.at(0, 0, 0, 0)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_err(|err| bad(err.to_string()))?
            .timestamp()
    } else {
        text.parse::<jiff::Timestamp>().map_err(|_| {
            bad(format!(
                "`{text}` is not `never`, a duration (90d, 12h), a date (2027-01-31) or an RFC 3339 time"
            ))
        })?
    };
    Ok(Some(dso_audit::format_time(ts)))
}

/// `dso token create`: a token for yourself, or (with token.manage) another user.
pub async fn create_token(
    ctx: &Context,
    user: Option<&str>,
    scope: &str,
    expires: Option<&str>,
) -> Result<NewToken, AppError> {
    let me = ctx.session.principal.user.clone();
    let user = user.unwrap_or(&me).to_owned();
    let action = if user == me {
        Action::TokenSelf
    } else {
        Action::TokenManage
    };
    let role = authorize(ctx, action, &Resource::one("tokens of user", &user)).await?;
    if !SCOPES.contains(&scope) {
        return Err(AppError::Input {
            location: "--scope".into(),
            message: format!("`{scope}` is not one of {}", SCOPES.join(", ")),
        });
    }
    let expires_at = parse_expiry(expires.unwrap_or("90d"))?;
    let target = existing_user(ctx, &user).await?;
    if target.disabled {
        return Err(AppError::Conflict(format!("user `{user}` is disabled")));
    }
    let id = random_hex(6)?;
    let secret = random_hex(32)?;
    let row = TokenRow {
        id: id.clone(),
        user_name: user.clone(),
        secret_hash: hash_secret(&secret),
        scope: scope.to_owned(),
        created_at: now(),
        created_by: ctx.actor.user.clone(),
        expires_at,
        revoked_at: None,
    };
    let mut tx = ctx.store.begin_write().await?;
    tx.insert_token(&row).await?;
    let event = NewEvent {
        ty: types::TOKEN_CREATED.into(),
        subject: Some(format!("token {id}")),
        data: serde_json::json!({ "token_id": id, "user": user, "scope": scope, "expires_at": row.expires_at }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(NewToken {
        token: format!("dso_{id}_{secret}"),
        view: TokenView::from(row),
    })
}

/// `dso token list`: your tokens, or everyone's (`all`, with user.read).
pub async fn list_tokens(
    ctx: &Context,
    user: Option<&str>,
    all: bool,
) -> Result<Vec<TokenView>, AppError> {
    let me = ctx.session.principal.user.clone();
    let who = if all { None } else { Some(user.unwrap_or(&me)) };
    if who != Some(me.as_str()) {
        authorize(ctx, Action::UserRead, &Resource::kind("tokens")).await?;
    }
    Ok(ctx
        .store
        .tokens(who)
        .await?
        .into_iter()
        .map(TokenView::from)
        .collect())
}

/// `dso token revoke ID` or `--user U --all`. Returns the ids revoked.
pub async fn revoke_tokens(
    ctx: &Context,
    token: Option<&str>,
    user: Option<&str>,
) -> Result<Vec<String>, AppError> {
    let me = ctx.session.principal.user.clone();
    let (owner, ids) = match (token, user) {
        (Some(t), _) => {
            // Accept the id, or a whole token (its id is taken; the secret is not kept).
            let id = parse_token(t.trim())
                .map_or(t.trim(), |(id, _)| id)
                .to_owned();
            let row = ctx
                .store
                .token(&id)
                .await?
                .ok_or_else(|| AppError::Unknown {
                    kind: "token",
                    value: id.clone(),
                    hint: Some("`dso token list` shows token ids".into()),
                })?;
            (row.user_name, vec![id])
        }
        (None, Some(u)) => {
            let ids = ctx
                .store
                .tokens(Some(u))
                .await?
                .into_iter()
                .filter(|t| t.revoked_at.is_none())
                .map(|t| t.id)
                .collect();
            (u.to_owned(), ids)
        }
        (None, None) => {
            return Err(AppError::Input {
                location: "dso token revoke".into(),
                message: "name a token id, or --user USER --all".into(),
            });
        }
    };
    let action = if owner == me {
        Action::TokenSelf
    } else {
        Action::TokenManage
    };
    let role = authorize(ctx, action, &Resource::one("tokens of user", &owner)).await?;
    let mut tx = ctx.store.begin_write().await?;
    let revoked = tx.revoke_tokens(&ids, &now()).await?;
    if revoked.is_empty() {
        return Ok(revoked);
    }
    let event = NewEvent {
        ty: types::TOKEN_REVOKED.into(),
        subject: Some(format!("tokens of user {owner}")),
        data: serde_json::json!({ "user": owner, "token_ids": revoked }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(revoked)
}

/// `dso policy rbac show`: the policy text in force and whether it is the default.
pub async fn show_policy(ctx: &Context) -> Result<(Option<i64>, String), AppError> {
    authorize(ctx, Action::PolicyRead, &Resource::kind("rbac policy")).await?;
    Ok(match ctx.store.rbac_policy().await? {
        Some(row) => (Some(row.version), row.text),
        None => (None, dso_governance::rbac::DEFAULT_POLICY.to_owned()),
    })
}

/// The RBAC matrix of the policy in force: each role and what it may do alone.
pub async fn policy_matrix(ctx: &Context) -> Result<Vec<(String, Vec<Action>)>, AppError> {
    authorize(ctx, Action::PolicyRead, &Resource::kind("rbac policy")).await?;
    Ok(dso_governance::rbac::matrix(&ctx.policy))
}

/// `dso policy rbac set FILE`: validates `text` against the schema and makes
/// it the policy. Refuses a set that would deny the acting user
/// `policy.write` (so there is a way back).
pub async fn set_policy(ctx: &Context, name: &str, text: &str) -> Result<AppendedEntry, AppError> {
    let role = authorize(ctx, Action::PolicyWrite, &Resource::kind("rbac policy")).await?;
    let policy = Policy::parse(name, text).map_err(AppError::Policy)?;
    if let Decision::Deny(_) = policy.decide(
        &ctx.session.principal,
        Action::PolicyWrite,
        &Resource::kind("rbac policy"),
    ) {
        return Err(AppError::Conflict(format!(
            "{name} would deny you (`{}`) policy.write, leaving no way back; keep a permit for the owner (principal.superuser)",
            ctx.session.principal.user
        )));
    }
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let (policies, actions) = policy.compile();
    let mut tx = ctx.store.begin_write().await?;
    let version = tx
        .set_rbac_policy(text, (&policies, &actions), &sha, &now(), &ctx.actor.user)
        .await?;
    let event = NewEvent {
        ty: types::POLICY_UPDATED.into(),
        subject: Some("rbac policy".into()),
        data: serde_json::json!({ "kind": "rbac", "version": version, "sha256": sha, "policies": text.matches("permit").count() + text.matches("forbid").count() }),
    };
    commit(ctx, tx, role, vec![event]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_strictly() {
        let id = "0123456789ab";
        let secret = "a".repeat(64);
        let token = format!("dso_{id}_{secret}");
        assert_eq!(parse_token(&token), Some((id, secret.as_str())));
        assert_eq!(parse_token("dso_0123_abc"), None);
        assert_eq!(parse_token(&format!("xx_{id}_{secret}")), None);
        assert_eq!(parse_token(&format!("dso_{id}_{}z", &secret[1..])), None);
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong horse!", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn expiry_forms() {
        assert_eq!(parse_expiry("never").unwrap(), None);
        let in_a_day = parse_expiry("1d").unwrap().unwrap();
        assert!(in_a_day > now());
        assert_eq!(
            parse_expiry("2027-01-31").unwrap().unwrap(),
            "2027-01-31T00:00:00.000000Z"
        );
        assert_eq!(
            parse_expiry("2020-01-01T10:00:00Z").unwrap().unwrap(),
            "2020-01-01T10:00:00.000000Z"
        );
        for bad in ["soon", "5y", "d", "99999999999999999999d"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_names() {
        assert!(valid_user_name("alice") && valid_user_name("a.b-c_d@x"));
        assert!(!valid_user_name("") && !valid_user_name("-x") && !valid_user_name("a b"));
    }
}
