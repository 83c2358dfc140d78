//! An open workspace: what every use case runs against.

use std::path::PathBuf;

use dso_audit::{Actor, KeyPair};
use dso_store::Store;

use crate::AppError;
use crate::workspace::{self, Workspace};

/// How to find and open the workspace.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The workspace directory (`--workspace` / `DSO_HOME`); else discovered from `cwd`.
    pub workspace: Option<PathBuf>,
    /// A database URL overriding the config (`--database` / `DSO_DATABASE_URL`).
    pub database_url: Option<String>,
    /// Where discovery starts.
    pub cwd: PathBuf,
    /// An API token (`--token` / `DSO_TOKEN`); without one the CLI acts as
    /// the workspace owner.
    pub token: Option<String>,
}

/// The workspace, its store and key, and the user acting.
pub struct Context {
    pub workspace: Workspace,
    pub store: Store,
    pub key: KeyPair,
    /// The acting user (events' `actor`); `role` is filled per use case.
    pub actor: Actor,
    /// Who is acting, as the policy sees them, and the token used.
    pub session: crate::access::Session,
    /// The RBAC policy in force.
    pub policy: dso_governance::rbac::Policy,
}

impl Context {
    /// Stamps `new` as an event from this workspace, caused by `self.actor`.
    pub fn stamp(&self, new: dso_audit::NewEvent) -> Result<dso_audit::Event, AppError> {
        Ok(dso_audit::Event::stamp(
            new,
            &self.workspace.event_source(),
            &self.actor,
        )?)
    }

    /// Finds the workspace, opens its database (migrating it when its schema
    /// is behind this build) and reads its key.
    pub async fn open(options: &OpenOptions) -> Result<Context, AppError> {
        let workspace = Workspace::discover(options.workspace.as_deref(), &options.cwd)?;
        let url = workspace.database_url(options.database_url.as_deref());
        // One user's command (or one server request): one connection for
        // its statements (`Clients::One`).
        let store = Store::connect_for_command(&url).await?;
        store.migrate_if_behind().await?;
        let key = workspace::read_key(&workspace.key_path())?;
        let owner = workspace.config.workspace.owner.clone();
        let stored_policy = crate::access::load_stored_policy(&store).await?;
        let (session, refused) =
            match crate::access::authenticate(&store, &owner, options.token.as_deref()).await {
                Ok((session, _)) => (session, None),
                Err(AppError::TokenRefused { reason, event }) => {
                    let user = event.data["user"].as_str().unwrap_or("unknown").to_owned();
                    let session = crate::access::Session {
                        principal: dso_governance::rbac::Principal {
                            user,
                            roles: Vec::new(),
                            superuser: false,
                            read_only: true,
                        },
                        token_id: None,
                    };
                    (session, Some((reason, *event)))
                }
                Err(err) => return Err(err),
            };
        let actor = Actor {
            user: session.principal.user.clone(),
            role: None,
        };
        let policy = match stored_policy {
            Some(policy) => policy,
            // Decides from its decision table: no Cedar policy is loaded.
            None => dso_governance::rbac::Policy::default_set(),
        };
        let ctx = Context {
            workspace,
            store,
            key,
            actor,
            session,
            policy,
        };
        if let Some((reason, event)) = refused {
            crate::events::emit(&ctx, event).await?;
            return Err(AppError::Unauthenticated { reason });
        }
        // A run whose dso process was killed is never left "running".
        if ctx
            .store
            .has_unfinished_work(&crate::pipeline::hostname())
            .await?
        {
            crate::pipeline::reap_interrupted(&ctx).await?;
            crate::operational::reap_interrupted(&ctx).await?;
        }
        Ok(ctx)
    }

    /// Creates a workspace in `dir` with its database, then opens it.
    ///
    /// For PostgreSQL the database must be reachable; it is created when absent.
    pub async fn init(
        dir: PathBuf,
        init: &workspace::InitOptions,
        database_override: Option<&str>,
    ) -> Result<Context, AppError> {
        let workspace = workspace::create(&dir, init)?;
        let url = workspace.database_url(database_override);
        if !Store::database_exists(&url).await? {
            Store::create_database(&url).await?;
        }
        let options = OpenOptions {
            workspace: Some(dir.clone()),
            database_url: database_override.map(str::to_owned),
            cwd: dir,
            token: None,
        };
        let ctx = Context::open(&options).await?;
        // The owner's user row (a superuser) is part of the workspace: one
        // state change, recorded by the one `workspace.created` event.
        let mut tx = ctx.store.begin_write().await?;
        crate::access::insert_owner(&ctx, &mut tx).await?;
        let event = dso_audit::NewEvent {
            ty: crate::events::types::WORKSPACE_CREATED.into(),
            subject: Some(ctx.workspace.config.workspace.name.clone()),
            data: serde_json::json!({
                "name": ctx.workspace.config.workspace.name,
                "owner": ctx.workspace.config.workspace.owner,
                "backend": format!("{:?}", ctx.store.backend()).to_lowercase(),
                "key_id": dso_audit::checkpoint::key_id(&ctx.key.public()),
            }),
        };
        crate::events::commit(&ctx, tx, None, vec![event]).await?;
        Ok(ctx)
    }
}
