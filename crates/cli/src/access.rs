//! `dso user`, `dso role`, `dso token`, `dso policy rbac`: who may do what.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::{Context, OpenOptions, access};

use crate::output::{Format, print_rows};
use crate::report;

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum UserCommand {
    /// Add a user, optionally with PIM roles and a password (read from stdin).
    Add {
        name: String,
        /// A PIM role to grant (repeatable; id or name, see `dso model roles`).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Read the password from the first line of stdin (never from an argument).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with their roles.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Disable a user: their tokens are refused until enabled again.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Set a user's password, read from the first line of stdin.
    Passwd { name: String },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum RoleCommand {
    /// Grant a PIM role (see `dso model roles`) to a user.
    Grant { user: String, role: String },
    /// Revoke a PIM role from a user.
    Revoke { user: String, role: String },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and stored only as a hash.
    Create {
        /// For another user (needs token.manage); default: yourself.
        #[arg(long)]
        user: Option<String>,
        /// `all` (whatever the user's roles allow) or `read` (reads only).
        #[arg(long, default_value = "all")]
        scope: String,
        /// When it stops working: a duration (90d, 12h), a date (2027-01-31),
        /// an RFC 3339 time, or `never`.
        #[arg(long, default_value = "90d")]
        expires: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List tokens (ids, never secrets): yours, a user's, or everyone's.
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long, conflicts_with = "user")]
        all: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Revoke a token by id (or the whole token), or every token of a user.
    Revoke {
        /// The token id (from `dso token list`), or the whole token.
        #[arg(required_unless_present = "user", value_name = "TOKEN")]
        id: Option<String>,
        #[arg(long, requires = "all", conflicts_with = "id")]
        user: Option<String>,
        #[arg(long, requires = "user")]
        all: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum PolicyCommand {
    /// The RBAC policy (Cedar) that decides who may do what.
    #[command(subcommand)]
    Rbac(RbacCommand),
    /// Run the `test_` rules of the gate policies (Rego): the default pack,
    /// or the FILEs given.
    Test {
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum RbacCommand {
    /// Print the policy in force (or the schema, or the role × action matrix).
    Show {
        /// Print the Cedar schema policies are validated against.
        #[arg(long, conflicts_with = "matrix")]
        schema: bool,
        /// Print what each of the 41 PIM roles may do alone.
        #[arg(long)]
        matrix: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Replace the policy with FILE after validating it against the schema.
    Set { file: PathBuf },
}

async fn open(options: &OpenOptions) -> miette::Result<Context> {
    Context::open(options).await.map_err(report)
}

fn read_password() -> miette::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| miette::miette!("cannot read the password from stdin: {err}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("plain structs always serialise")
}

pub async fn run_user(options: &OpenOptions, command: UserCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        UserCommand::Add {
            name,
            roles,
            password_stdin,
        } => {
            let password = password_stdin.then(read_password).transpose()?;
            let user = access::add_user(&ctx, &name, password.as_deref(), &roles)
                .await
                .map_err(report)?;
            println!(
                "added user {} (roles: {})",
                user.name,
                if user.roles.is_empty() {
                    "none".to_owned()
                } else {
                    user.roles.join(", ")
                }
            );
        }
        UserCommand::List { format } => {
            let users = access::list_users(&ctx).await.map_err(report)?;
            let rows: Vec<_> = users.iter().map(json).collect();
            print_rows(
                format,
                &[
                    "name",
                    "roles",
                    "superuser",
                    "disabled",
                    "has_password",
                    "created_at",
                ],
                &rows,
            );
        }
        UserCommand::Disable { name } => {
            access::set_disabled(&ctx, &name, true)
                .await
                .map_err(report)?;
            println!("disabled user {name}");
        }
        UserCommand::Enable { name } => {
            access::set_disabled(&ctx, &name, false)
                .await
                .map_err(report)?;
            println!("enabled user {name}");
        }
        UserCommand::Passwd { name } => {
            let password = read_password()?;
            access::set_password(&ctx, &name, &password)
                .await
                .map_err(report)?;
            println!("password set for {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_role(options: &OpenOptions, command: RoleCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let (user, role, grant) = match command {
        RoleCommand::Grant { user, role } => (user, role, true),
        RoleCommand::Revoke { user, role } => (user, role, false),
    };
    let changed = access::set_role(&ctx, &user, &role, grant)
        .await
        .map_err(report)?;
    let role = dso_app::model::role_id(&role).map_err(report)?;
    match (grant, changed) {
        (true, true) => println!("granted {role} to {user}"),
        (true, false) => println!("{user} already holds {role}"),
        (false, true) => println!("revoked {role} from {user}"),
        (false, false) => println!("{user} does not hold {role}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_token(options: &OpenOptions, command: TokenCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        TokenCommand::Create {
            user,
            scope,
            expires,
            format,
        } => {
            let token = access::create_token(&ctx, user.as_deref(), &scope, Some(&expires))
                .await
                .map_err(report)?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&token).expect("a token serialises")
                ),
                Format::Table => {
                    println!("{}", token.token);
                    eprintln!(
                        "token {} for {} (scope {}, expires {}); it is shown only now: store it, e.g. in DSO_TOKEN",
                        token.view.id,
                        token.view.user,
                        token.view.scope,
                        token.view.expires_at.as_deref().unwrap_or("never")
                    );
                }
            }
        }
        TokenCommand::List { user, all, format } => {
            let tokens = access::list_tokens(&ctx, user.as_deref(), all)
                .await
                .map_err(report)?;
            let rows: Vec<_> = tokens.iter().map(json).collect();
            print_rows(
                format,
                &[
                    "id",
                    "user",
                    "scope",
                    "status",
                    "created_at",
                    "expires_at",
                    "revoked_at",
                ],
                &rows,
            );
        }
        TokenCommand::Revoke { id, user, .. } => {
            let revoked = access::revoke_tokens(&ctx, id.as_deref(), user.as_deref())
                .await
                .map_err(report)?;
            if revoked.is_empty() {
                println!("nothing to revoke");
            } else {
                println!("revoked {}", revoked.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_policy(options: &OpenOptions, command: PolicyCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let command = match command {
        PolicyCommand::Rbac(command) => command,
        PolicyCommand::Test { files, format } => {
            return crate::gate::test(options, &files, format).await;
        }
    };
    match command {
        RbacCommand::Show {
            schema,
            matrix,
            format,
        } => {
            if schema {
                access::show_policy(&ctx).await.map_err(report)?;
                print!("{}", dso_governance::rbac::SCHEMA);
            } else if matrix {
                let rows: Vec<serde_json::Value> = access::policy_matrix(&ctx)
                    .await
                    .map_err(report)?
                    .into_iter()
                    .map(|(role, actions)| {
                        serde_json::json!({
                            "role": role,
                            "actions": actions.iter().map(|a| a.id()).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                print_rows(format, &["role", "actions"], &rows);
            } else {
                let (version, text) = access::show_policy(&ctx).await.map_err(report)?;
                match version {
                    Some(v) => eprintln!("# workspace RBAC policy, version {v}"),
                    None => eprintln!("# the default RBAC policy"),
                }
                print!("{text}");
            }
        }
        RbacCommand::Set { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|err| miette::miette!("cannot read {}: {err}", file.display()))?;
            let appended = access::set_policy(&ctx, &file.display().to_string(), &text)
                .await
                .map_err(report)?;
            println!(
                "RBAC policy replaced from {} (event {})",
                file.display(),
                appended.seq
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
