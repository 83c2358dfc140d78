//! `dso event` and `dso audit`: writing to, reading and verifying the event log.

use std::io::{BufReader, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::{Context, OpenOptions, events};
use dso_audit::NewEvent;

use crate::output::{Format, print_rows};
use crate::report;

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum EventCommand {
    /// Append one event (for scripts and manual PIM exchanges).
    Emit {
        /// CloudEvents type: a CDEvents type such as
        /// dev.cdevents.pipelinerun.started.0.3.0, or dev.cdeventsx.dso.* for the rest.
        #[arg(long = "type", value_name = "TYPE")]
        ty: String,
        /// What the event is about (a run id, a requirement id, an exchange id).
        #[arg(long)]
        subject: Option<String>,
        /// The event data: JSON text, or @FILE to read it from a file (@- for stdin).
        #[arg(long, value_name = "JSON|@FILE")]
        data: Option<String>,
        /// The PIM role you act in (id or name, e.g. security-engineer).
        #[arg(long)]
        role: Option<String>,
    },
    /// Append events from a JSON-lines file of CloudEvents (`-` for stdin).
    ///
    /// Every line is validated first; nothing is appended if one is bad.
    /// Events are appended in transactions of 500.
    Import {
        file: PathBuf,
        /// The PIM role you act in.
        #[arg(long)]
        role: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum AuditCommand {
    /// List events, oldest first.
    Log {
        /// Only this type; a trailing * matches a prefix (dev.cdevents.pipelinerun.*).
        #[arg(long = "type", value_name = "TYPE")]
        ty: Option<String>,
        /// Only events about this subject.
        #[arg(long)]
        subject: Option<String>,
        /// Only events since a time (2026-11-27, 2026-11-27T13:00:00Z) or for
        /// a duration back from now (90s, 30m, 2h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// Show only the newest N (still listed oldest first).
        #[arg(long, short = 'n')]
        limit: Option<i64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Check the whole hash chain and every signed checkpoint.
    ///
    /// Exits 1 naming the first entry that was changed, removed, inserted
    /// or reordered, also when done by direct SQL on the database.
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Sign a checkpoint at the current head of the log now.
    Checkpoint,
}

async fn open(options: &OpenOptions) -> miette::Result<Context> {
    Context::open(options).await.map_err(report)
}

pub async fn run_event(options: &OpenOptions, command: EventCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        EventCommand::Emit {
            ty,
            subject,
            data,
            role,
        } => {
            let data = match data {
                None => serde_json::Value::Object(Default::default()),
                Some(text) => parse_data(&text)?,
            };
            let appended = events::record(&ctx, NewEvent { ty, subject, data }, role.as_deref())
                .await
                .map_err(report)?;
            println!("appended event {} ({})", appended.seq, appended.id);
        }
        EventCommand::Import { file, role } => {
            let role = role.as_deref();
            let n = if file.as_os_str() == "-" {
                events::import(&ctx, "<stdin>", std::io::stdin().lock(), role).await
            } else {
                let f = std::fs::File::open(&file)
                    .map_err(|err| miette::miette!("cannot read {}: {err}", file.display()))?;
                events::import(&ctx, &file.display().to_string(), BufReader::new(f), role).await
            }
            .map_err(report)?;
            println!("appended {n} events");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--data`: JSON text or @FILE; errors name the source and position.
fn parse_data(text: &str) -> miette::Result<serde_json::Value> {
    let (name, content) = match text.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|err| miette::miette!("cannot read stdin: {err}"))?;
            ("<stdin>".to_owned(), s)
        }
        Some(path) => {
            let s = std::fs::read_to_string(path)
                .map_err(|err| miette::miette!("cannot read {path}: {err}"))?;
            (path.to_owned(), s)
        }
        None => ("--data".to_owned(), text.to_owned()),
    };
    serde_json::from_str(&content).map_err(|err| {
        miette::miette!(
            help = "--data takes JSON, e.g. '{\"k\": 1}', or @FILE",
            "{name}:{}:{}: invalid JSON: {err}",
            err.line(),
            err.column()
        )
    })
}

pub async fn run_audit(options: &OpenOptions, command: AuditCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        AuditCommand::Log {
            ty,
            subject,
            since,
            limit,
            format,
        } => {
            let since = since.as_deref().map(parse_since).transpose()?;
            let query = dso_store_query(ty, subject, since, limit);
            let mut entries = events::log(&ctx, &query).await.map_err(report)?;
            entries.sort_by_key(|e| e.seq);
            let rows: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let mut event = match e.event() {
                        Ok(event) => {
                            serde_json::to_value(event).expect("an event always serialises")
                        }
                        // Shown as stored; `dso audit verify` says what is wrong.
                        Err(_) => serde_json::json!({ "id": e.id, "type": e.ty, "data": e.data }),
                    };
                    event["seq"] = e.seq.into();
                    event["hash"] = e.hash.clone().into();
                    event
                })
                .collect();
            print_rows(
                format,
                &["seq", "time", "type", "subject", "actor", "actorrole"],
                &rows,
            );
        }
        AuditCommand::Verify { format } => {
            let report = events::verify(&ctx).await.map_err(report)?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("a report serialises")
                ),
                Format::Table => match &report.problem {
                    None => println!(
                        "audit chain intact: {} entries, {} signed checkpoints, head {} {}",
                        report.n_entries, report.n_checkpoints, report.head_seq, report.head_hash
                    ),
                    Some(problem) => {
                        eprintln!(
                            "audit chain BROKEN at entry {} ({:?}): {}",
                            problem.seq, problem.kind, problem.detail
                        );
                        eprintln!("  {} entries before it verified", report.n_entries);
                    }
                },
            }
            if !report.is_intact() {
                return Ok(ExitCode::from(1));
            }
        }
        AuditCommand::Checkpoint => match events::checkpoint(&ctx).await.map_err(report)? {
            Some(cp) => println!(
                "signed checkpoint at entry {} {} (key {})",
                cp.seq, cp.hash, cp.key_id
            ),
            None => println!("the log is empty; nothing to sign"),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn dso_store_query(
    ty: Option<String>,
    subject: Option<String>,
    since: Option<String>,
    limit: Option<i64>,
) -> dso_app::events::EventQuery {
    dso_app::events::EventQuery {
        ty,
        subject,
        since,
        limit,
        newest_first: limit.is_some(),
        after_seq: None,
    }
}

/// `--since`: an RFC 3339 time, a date, or a duration back from now.
fn parse_since(text: &str) -> miette::Result<String> {
    let bad = || {
        miette::miette!(
            help = "use a time (2026-11-27T13:00:00Z), a date (2026-11-27) or a duration (90s, 30m, 2h, 7d)",
            "--since: cannot read `{text}`"
        )
    };
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(dso_audit::format_time(ts));
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        let ts = date
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_err(|_| bad())?
            .timestamp();
        return Ok(dso_audit::format_time(ts));
    }
    let duration = match text.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        Some(days) => jiff::SignedDuration::from_hours(days.checked_mul(24).ok_or_else(bad)?),
        None => text.parse::<jiff::SignedDuration>().map_err(|_| bad())?,
    };
    let ts = jiff::Timestamp::now()
        .checked_sub(duration)
        .map_err(|_| bad())?;
    Ok(dso_audit::format_time(ts))
}
