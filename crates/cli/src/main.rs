//! `dso`: the command line of the dso DevSecOps platform.
//!
//! This crate is glue: it parses arguments (clap), calls the use cases of
//! `dso-app`, and prints tables for people or JSON for scripts. Errors are
//! rendered by miette: one line of cause, then help.

mod access;
mod assurance;
mod audit;
mod backlog;
mod exchange;
mod gate;
mod model;
mod monitoring;
mod operational;
mod output;
mod pipeline;
mod req;
mod scan;
mod trace;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dso_app::{AppError, Context, OpenOptions};

/// dso: a self-hostable DevSecOps platform implementing the SEI DevSecOps
/// Platform-Independent Model (PIM).
///
/// Every exchange and activity is recorded as a CloudEvents event in a
/// tamper-evident, hash-chained log. Start with `dso init`, then explore the
/// model with `dso model` and the log with `dso audit`.
#[derive(Debug, Parser)]
#[command(name = "dso", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    /// The workspace directory (default: the nearest ancestor of the current
    /// directory holding dso.toml).
    #[arg(long, global = true, env = "DSO_HOME", value_name = "DIR")]
    workspace: Option<PathBuf>,

    /// The database URL, overriding dso.toml: sqlite://PATH or
    /// postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        global = true,
        env = "DSO_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,

    /// Act as the user of this API token instead of the workspace owner.
    #[arg(
        long,
        global = true,
        env = "DSO_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum Command {
    /// Create a workspace: dso.toml (documented defaults), the database and
    /// the audit signing key (mode 0600).
    Init(InitArgs),
    /// Query the PIM as data: domains, performers, exchanges, processes,
    /// roles, questions, capabilities, requirements.
    Model(model::ModelArgs),
    /// Append events to the log.
    #[command(subcommand)]
    Event(audit::EventCommand),
    /// Read and verify the tamper-evident event log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Scan a tree: software composition analysis (`sca`), secrets
    /// (`secrets`) and static analysis (`sast`; the last two need no workspace).
    #[command(subcommand)]
    Scan(scan::ScanCommand),
    /// Users of the workspace.
    #[command(subcommand)]
    User(access::UserCommand),
    /// Grant and revoke PIM roles (the 41 roles of `dso model roles`).
    #[command(subcommand)]
    Role(access::RoleCommand),
    /// API tokens: act as a user with DSO_TOKEN or --token.
    #[command(subcommand)]
    Token(access::TokenCommand),
    /// Policies as code: the RBAC policy (Cedar).
    #[command(subcommand)]
    Policy(access::PolicyCommand),
    /// The requirements repository, with versioned history.
    #[command(subcommand)]
    Req(req::ReqCommand),
    /// Backlog items on a Kanban flow; CSV and Jira import.
    #[command(subcommand)]
    Backlog(backlog::BacklogCommand),
    /// The planning exchanges of Table 2 (IE5, IE8-IE13, IE17, IE19-IE21).
    #[command(subcommand)]
    Exchange(exchange::ExchangeCommand),
    /// Traceability: requirement → backlog items → commits → test cases;
    /// classifies requirements as verified, failing, untested or not implemented.
    Trace(trace::TraceArgs),
    /// Policy gates as code (Rego): evaluate a gate over a run's evidence.
    #[command(subcommand)]
    Gate(gate::GateCommand),
    /// The advisory database: import OSV, RustSec, PyPA and Go advisories; show one.
    #[command(subcommand)]
    Advisories(assurance::AdvisoriesCommand),
    /// The findings store: list, show, triage, import SARIF.
    #[command(subcommand)]
    Findings(assurance::FindingsCommand),
    /// Software bill of materials: write CycloneDX or SPDX JSON from the
    /// lockfiles under PATH, or read one (`dso sbom import FILE`).
    Sbom(assurance::SbomArgs),
    /// OpenVEX: import statements (not_affected suppresses SCA findings), export findings.
    #[command(subcommand)]
    Vex(assurance::VexCommand),
    /// Run the pipeline (.dso/pipeline.yaml) of a commit, every job sandboxed.
    Run(pipeline::RunArgs),
    /// List pipeline runs, newest first; `dso runs show RUN` for one.
    Runs(pipeline::RunsArgs),
    /// Print the stored (masked) log of a run's jobs.
    Logs {
        run: i64,
        /// Only this job.
        job: Option<String>,
    },
    /// List the artifacts a run kept, with their SHA-256.
    Artifacts {
        run: i64,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Manage the secrets jobs may ask for (`secrets:` in the pipeline file).
    #[command(subcommand)]
    Secret(pipeline::SecretCommand),
    /// Work with pipeline files.
    #[command(subcommand)]
    Pipeline(pipeline::PipelineCommand),
    /// Manage deployment environments.
    #[command(subcommand)]
    Env(operational::EnvCommand),
    /// Make, list and verify signed releases.
    #[command(subcommand)]
    Release(operational::ReleaseCommand),
    /// Deploy a release to an environment (integrity check first).
    Deploy {
        #[arg(id = "release", value_name = "VERSION")]
        version: String,
        #[arg(long)]
        env: String,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Approve a deployment waiting on a protected environment; the last
    /// approval needed deploys.
    Approve {
        deployment: i64,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Deploy the release that ran before the current one.
    ///
    /// In a protected environment the rollback waits for the approvals a
    /// deployment needs (`dso approve ID` by another user with the approver
    /// role); the automatic rollback after a failed health check does not.
    Rollback {
        env: String,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Probes of services: add, list, run.
    #[command(subcommand)]
    Monitor(monitoring::MonitorCommand),
    /// Uptime per environment and service from the probes' samples.
    Uptime {
        /// Over this much time back from now.
        #[arg(long, default_value = "24h", value_parser = monitoring::parse_duration)]
        since: std::time::Duration,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Service level objectives and their error budget.
    #[command(subcommand)]
    Slo(monitoring::SloCommand),
    /// Alert intake.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Incidents: list, show (timeline), resolve, note.
    #[command(subcommand)]
    Incident(monitoring::IncidentCommand),
    /// Abnormal usage in access logs.
    #[command(subcommand)]
    Usage(UsageCommand),
    /// List deployments, newest first.
    Deployments {
        #[arg(long)]
        env: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Serve the HTTP API until interrupted: POST /api/v1/alerts
    /// (Alertmanager webhook or generic JSON), GET /metrics (Prometheus),
    /// GET /healthz. Requests act as their `Authorization: Bearer` token's
    /// user.
    Serve {
        /// The address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum AlertCommand {
    /// Read alerts (a Prometheus Alertmanager webhook payload or dso's
    /// generic JSON) from FILE or `-`: firing alerts open incidents,
    /// resolved ones resolve them.
    Ingest {
        file: String,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum UsageCommand {
    /// Read an access log, learn per-client and per-route rate baselines and
    /// open a security incident for each burst or run of authentication
    /// failures beyond them.
    Ingest(monitoring::UsageArgs),
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Where to create the workspace.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The workspace name, used in event sources (default: the directory name).
    #[arg(long)]
    name: Option<String>,
    /// The user the CLI acts as (default: $USER).
    #[arg(long)]
    owner: Option<String>,
}

fn main() -> ExitCode {
    // The sandbox trampoline must stay single-threaded: dispatch before
    // anything else (argument parsing included) runs.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == dso_runner::SANDBOX_ARG)
    {
        dso_runner::trampoline_main();
    }
    // Like other Unix filters, stop quietly when the reader goes away
    // (`dso model questions | head`) instead of panicking on EPIPE.
    // SAFETY: setting a signal disposition to its default has no handler to race with.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    let cli = Cli::parse();
    if !cli.command.runs_in_parallel() {
        one_malloc_arena();
    }
    miette::set_hook(Box::new(|_| {
        // Wrap long messages for people; keep one line per message for scripts and logs.
        let terminal = std::io::stderr().is_terminal();
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(terminal)
                .wrap_lines(terminal)
                .build(),
        )
    }))
    .ok();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a single-threaded tokio runtime only fails when the OS refuses threads or timers");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

impl Command {
    /// Commands whose threads allocate at once for long: the server, a
    /// pipeline run (its scanner steps) and the parallel scanners.
    fn runs_in_parallel(&self) -> bool {
        matches!(
            self,
            Command::Serve { .. }
                | Command::Run(_)
                | Command::Scan(scan::ScanCommand::Secrets(_) | scan::ScanCommand::Sast(_))
        )
    }
}

/// Makes every thread allocate from the main heap (glibc's `M_ARENA_MAX`).
///
/// A short command's few threads (its lockfile reader, one per SQLite
/// connection) would otherwise each get an arena of their own, and every
/// page a fresh arena touches is a page fault: about 100 of a short scan's
/// 1,400 (bench/RESULTS.md). Commands that [run in
/// parallel](Command::runs_in_parallel) keep the default: one arena for all
/// their threads made `dso scan secrets` about 8% slower.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc tunable; no other thread exists yet.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 1);
    }
}

async fn run(cli: Cli) -> miette::Result<ExitCode> {
    let cwd = std::env::current_dir()
        .map_err(|err| miette::miette!("cannot read the current directory: {err}"))?;
    let open = OpenOptions {
        workspace: cli.workspace.clone(),
        database_url: cli.database.clone(),
        cwd: cwd.clone(),
        token: cli.token.clone(),
    };
    match cli.command {
        Command::Init(args) => init(args, cli.database.as_deref(), &cwd).await,
        Command::Model(args) => model::run(&args),
        Command::Event(command) => audit::run_event(&open, command).await,
        Command::Audit(command) => audit::run_audit(&open, command).await,
        Command::Scan(command) => scan::run(&open, command).await,
        Command::User(command) => access::run_user(&open, command).await,
        Command::Role(command) => access::run_role(&open, command).await,
        Command::Token(command) => access::run_token(&open, command).await,
        Command::Policy(access::PolicyCommand::Test { files, format }) => {
            gate::test(&open, &files, format).await
        }
        Command::Policy(command) => access::run_policy(&open, command).await,
        Command::Req(command) => req::run(&open, command).await,
        Command::Backlog(command) => backlog::run(&open, command).await,
        Command::Exchange(command) => exchange::run(&open, command).await,
        Command::Trace(args) => trace::run(&open, args).await,
        Command::Gate(command) => gate::run(&open, command).await,
        Command::Advisories(command) => assurance::run_advisories(&open, command).await,
        Command::Findings(command) => assurance::run_findings(&open, command).await,
        Command::Sbom(args) => assurance::run_sbom(&open, args).await,
        Command::Vex(command) => assurance::run_vex(&open, command).await,
        Command::Run(args) => pipeline::run(&open, args).await,
        Command::Runs(args) => pipeline::runs(&open, args).await,
        Command::Logs { run, job } => pipeline::logs(&open, run, job).await,
        Command::Artifacts { run, format } => pipeline::artifacts(&open, run, format).await,
        Command::Secret(command) => pipeline::secret(&open, command).await,
        Command::Pipeline(command) => pipeline::validate(&cwd, command),
        Command::Env(command) => operational::env(&open, command).await,
        Command::Release(command) => operational::release(&open, command).await,
        Command::Deploy {
            version,
            env,
            format,
        } => operational::deploy(&open, version, env, format).await,
        Command::Approve { deployment, format } => {
            operational::approve(&open, deployment, format).await
        }
        Command::Rollback { env, format } => operational::rollback(&open, env, format).await,
        Command::Deployments { env, format } => operational::deployments(&open, env, format).await,
        Command::Monitor(command) => monitoring::monitor(&open, command).await,
        Command::Uptime { since, format } => monitoring::uptime(&open, since, format).await,
        Command::Slo(command) => monitoring::slo(&open, command).await,
        Command::Alert(AlertCommand::Ingest { file, format }) => {
            monitoring::alert_ingest(&open, file, format).await
        }
        Command::Incident(command) => monitoring::incident(&open, command).await,
        Command::Serve { listen } => serve(&open, listen).await,
        Command::Usage(UsageCommand::Ingest(args)) => monitoring::usage_ingest(&open, args).await,
    }
}

async fn init(
    args: InitArgs,
    database: Option<&str>,
    cwd: &std::path::Path,
) -> miette::Result<ExitCode> {
    let dir = if args.dir.is_absolute() {
        args.dir.clone()
    } else {
        cwd.join(&args.dir)
    };
    let name = args.name.unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "dso".into())
    });
    let owner = args
        .owner
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "owner".into());
    let options = dso_app::workspace::InitOptions {
        name,
        owner,
        database_url: database.map(str::to_owned),
    };
    let ctx = Context::init(dir.clone(), &options, None)
        .await
        .map_err(report)?;
    println!(
        "created workspace `{}` in {}",
        ctx.workspace.config.workspace.name,
        dir.display()
    );
    println!(
        "  config:   {}",
        dir.join(dso_app::workspace::CONFIG_FILE).display()
    );
    println!(
        "  database: {}",
        dso_app::redact_url(&ctx.workspace.database_url(None))
    );
    println!(
        "  key:      {} (keep it secret; it signs audit checkpoints)",
        ctx.workspace.key_path().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Turns an application error into a miette report with its help text.
pub(crate) fn report(err: AppError) -> miette::Report {
    if let AppError::Pipeline(diagnostics) = &err {
        for diagnostic in diagnostics {
            eprintln!("{diagnostic}");
        }
    }
    match err.help() {
        Some(help) => miette::miette!(help = help, "{err}"),
        None => miette::miette!("{err}"),
    }
}

/// `dso serve`: prints the address it listens on, then serves until SIGINT
/// or SIGTERM.
async fn serve(open: &OpenOptions, listen: std::net::SocketAddr) -> miette::Result<ExitCode> {
    // Open once up front so that a missing workspace or database is a
    // clear error now rather than at the first request.
    dso_app::Context::open(&OpenOptions {
        token: None,
        ..open.clone()
    })
    .await
    .map_err(report)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| miette::miette!("cannot listen on {listen}: {e}"))?;
    let addr = dso_server::local_addr(&listener).map_err(|e| miette::miette!("{e}"))?;
    println!("dso serves http://{addr}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let options = dso_server::ServeOptions {
        workspace: open.workspace.clone(),
        database_url: open.database_url.clone(),
        cwd: open.cwd.clone(),
    };
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    dso_server::serve(listener, options, shutdown)
        .await
        .map_err(|e| miette::miette!("serving on {addr}: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
