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
    /// Act as this user instead of the owner (`--user` / `DSO_USER`): a
    /// stand-in until governance's accounts land; the user must be the owner
    /// or listed in `[operational] roles`.
    pub user: Option<String>,
}

/// The workspace, its store and key, and the user acting.
pub struct Context {
    pub workspace: Workspace,
    pub store: Store,
    pub key: KeyPair,
    pub actor: Actor,
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

    /// Finds the workspace, opens (and migrates) its database and reads its key.
    pub async fn open(options: &OpenOptions) -> Result<Context, AppError> {
        let workspace = Workspace::discover(options.workspace.as_deref(), &options.cwd)?;
        let url = workspace.database_url(options.database_url.as_deref());
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        let key = workspace::read_key(&workspace.key_path())?;
        let owner = &workspace.config.workspace.owner;
        let user = match &options.user {
            Some(u) if u != owner && !workspace.config.operational.roles.contains_key(u) => {
                return Err(AppError::Unknown {
                    kind: "user",
                    value: u.clone(),
                    hint: Some(format!(
                        "the owner `{owner}` or a user listed in [operational] roles of dso.toml"
                    )),
                });
            }
            Some(u) => u.clone(),
            None => owner.clone(),
        };
        let actor = Actor { user, role: None };
        let ctx = Context {
            workspace,
            store,
            key,
            actor,
        };
        // A run whose dso process was killed is never left "running".
        crate::pipeline::reap_interrupted(&ctx).await?;
        crate::operational::reap_interrupted(&ctx).await?;
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
            user: None,
        };
        let ctx = Context::open(&options).await?;
        crate::events::emit(
            &ctx,
            dso_audit::NewEvent {
                ty: crate::events::types::WORKSPACE_CREATED.into(),
                subject: Some(ctx.workspace.config.workspace.name.clone()),
                data: serde_json::json!({
                    "name": ctx.workspace.config.workspace.name,
                    "owner": ctx.workspace.config.workspace.owner,
                    "backend": format!("{:?}", ctx.store.backend()).to_lowercase(),
                    "key_id": dso_audit::checkpoint::key_id(&ctx.key.public()),
                }),
            },
        )
        .await?;
        Ok(ctx)
    }
}
