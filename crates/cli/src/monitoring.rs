//! `dso monitor`, `dso uptime`, `dso slo`, `dso alert`, `dso incident`, `dso usage`.

use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

use dso_app::monitoring::{self as mon, IncidentRecord, NewMonitor};
use dso_app::probe::ProbeSpec;
use dso_app::{Context, OpenOptions};

use crate::output::{Format, print_rows};
use crate::report;

async fn open(options: &OpenOptions) -> miette::Result<Context> {
    Context::open(options).await.map_err(report)
}

/// Parses `500ms`, `30s`, `5m`, `2h`, `30d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (500ms, 30s, 5m, 2h, 30d)"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        "d" => n.saturating_mul(86_400_000),
        _ => {
            return Err(format!(
                "`{text}` is not a duration (500ms, 30s, 5m, 2h, 30d)"
            ));
        }
    };
    if ms == 0 || ms > 3_650 * 86_400_000 {
        return Err(format!(
            "`{text}`: a duration is above zero and at most 3650d"
        ));
    }
    Ok(Duration::from_millis(ms))
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum MonitorCommand {
    /// Add (or replace) an HTTP or TCP probe of a service in an environment.
    Add {
        name: String,
        #[arg(long)]
        env: String,
        #[arg(long)]
        service: String,
        /// Probe with GET on this http:// URL (https:// is not supported yet).
        #[arg(
            long,
            value_name = "URL",
            conflicts_with = "tcp",
            required_unless_present = "tcp"
        )]
        http: Option<String>,
        /// Probe by opening a TCP connection to HOST:PORT.
        #[arg(long, value_name = "HOST:PORT")]
        tcp: Option<String>,
        /// The HTTP status a healthy service answers.
        #[arg(long, default_value_t = 200, requires = "http")]
        expect_status: u16,
        /// Text a healthy answer's body contains.
        #[arg(long, requires = "http")]
        expect_body: Option<String>,
        /// For https://: a PEM file of CA certificates to trust instead of
        /// the public (webpki) roots, for a service with a private CA.
        #[arg(long, value_name = "FILE", requires = "http")]
        ca_file: Option<std::path::PathBuf>,
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        interval: Duration,
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// List monitors.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Probe every monitor at its interval, store samples, open and resolve
    /// incidents. Runs until interrupted unless bounded.
    Run {
        /// Probe every monitor once and stop.
        #[arg(long, conflicts_with = "for_")]
        once: bool,
        /// Stop after this long (e.g. 10m).
        #[arg(long = "for", id = "for_", value_name = "DURATION", value_parser = parse_duration)]
        for_: Option<Duration>,
    },
}

pub async fn monitor(options: &OpenOptions, command: MonitorCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        MonitorCommand::Add {
            name,
            env,
            service,
            http,
            tcp,
            expect_status,
            expect_body,
            ca_file,
            interval,
            timeout,
        } => {
            let spec = match (http, tcp) {
                (Some(url), _) => ProbeSpec::Http {
                    url,
                    expect_status,
                    expect_body,
                    ca_file: match ca_file {
                        Some(p) => Some(
                            std::path::absolute(&p)
                                .map_err(|e| miette::miette!("--ca-file {}: {e}", p.display()))?,
                        ),
                        None => None,
                    },
                },
                (None, Some(address)) => ProbeSpec::Tcp { address },
                (None, None) => return Err(miette::miette!("give --http URL or --tcp HOST:PORT")),
            };
            let m = NewMonitor {
                name,
                env,
                service,
                spec,
                interval,
                timeout,
            };
            let r = mon::add_monitor(&ctx, &m).await.map_err(report)?;
            println!(
                "monitor `{}` probes {} {} every {} ms",
                r.name, r.kind, r.target, r.interval_ms
            );
        }
        MonitorCommand::List { format } => {
            let rows: Vec<_> = mon::monitors(&ctx)
                .await
                .map_err(report)?
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "name": m.name, "env": m.env, "service": m.service, "kind": m.kind, "target": m.target,
                        "interval_ms": m.interval_ms, "timeout_ms": m.timeout_ms, "expect_status": m.expect_status,
                        "expect_body": m.expect_body, "ca_file": m.ca_file,
                    })
                })
                .collect();
            print_rows(
                format,
                &[
                    "name",
                    "env",
                    "service",
                    "kind",
                    "target",
                    "interval_ms",
                    "timeout_ms",
                ],
                &rows,
            );
        }
        MonitorCommand::Run { once, for_ } => {
            let bound = if once {
                None
            } else {
                Some(for_.unwrap_or(Duration::from_secs(100 * 365 * 86_400)))
            };
            let n = mon::run(&ctx, bound, |r| {
                let state = if r.result.ok { "up" } else { "DOWN" };
                let mut line = format!(
                    "{} {state} {} ms: {}",
                    r.monitor, r.result.latency_ms, r.result.detail
                );
                if let Some(id) = r.opened {
                    line.push_str(&format!(" -> incident {id} opened"));
                }
                if let Some(id) = r.resolved {
                    line.push_str(&format!(" -> incident {id} resolved"));
                }
                println!("{line}");
            })
            .await
            .map_err(report)?;
            eprintln!("{n} probes");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn uptime(
    options: &OpenOptions,
    since: Duration,
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let from = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_millis(
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        ))
        .map_or_else(|_| String::new(), dso_audit::format_time);
    let rows: Vec<_> = mon::uptime_since(&ctx, &from)
        .await
        .map_err(report)?
        .iter()
        .map(|u| {
            serde_json::json!({
                "env": u.env, "service": u.service, "samples": u.uptime.samples, "ok": u.uptime.ok,
                "uptime_percent": u.uptime.percent.map(|p| (p * 1000.0).round() / 1000.0),
            })
        })
        .collect();
    print_rows(
        format,
        &["env", "service", "samples", "ok", "uptime_percent"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum SloCommand {
    /// Add (or replace) an availability objective over a rolling window.
    Add {
        name: String,
        #[arg(long)]
        env: String,
        #[arg(long)]
        service: String,
        /// Availability in percent, e.g. 99.9.
        #[arg(long)]
        target: String,
        #[arg(long, default_value = "30d", value_parser = parse_duration)]
        window: Duration,
    },
    /// List SLOs with their availability and error budget left.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn slo(options: &OpenOptions, command: SloCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        SloCommand::Add {
            name,
            env,
            service,
            target,
            window,
        } => {
            let s = mon::add_slo(&ctx, &name, &env, &service, &target, window)
                .await
                .map_err(report)?;
            println!(
                "SLO `{}`: {}% availability of {} in {} over {} s",
                s.name, s.target, s.service, s.env, s.window_s
            );
        }
        SloCommand::List { format } => {
            let round = |x: f64| (x * 1000.0).round() / 1000.0;
            let rows: Vec<_> = mon::slos(&ctx)
                .await
                .map_err(report)?
                .iter()
                .map(|(s, st)| {
                    serde_json::json!({
                        "name": s.name, "env": s.env, "service": s.service, "target_percent": st.target_percent,
                        "window_s": s.window_s, "samples": st.uptime.samples, "failures": st.failures,
                        "availability_percent": st.uptime.percent.map(round),
                        "budget_left_percent": round(st.budget_left_percent), "met": st.met,
                    })
                })
                .collect();
            print_rows(
                format,
                &[
                    "name",
                    "env",
                    "service",
                    "target_percent",
                    "availability_percent",
                    "budget_left_percent",
                    "met",
                ],
                &rows,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn alert_ingest(
    options: &OpenOptions,
    file: String,
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let (name, text) = if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(16 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| miette::miette!("cannot read standard input: {e}"))?;
        ("<stdin>".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| miette::miette!("cannot read {file}: {e}"))?;
        (file.clone(), text)
    };
    let r = mon::ingest_alerts(&ctx, &name, &text)
        .await
        .map_err(report)?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "alerts": r.alerts, "opened": r.opened, "resolved": r.resolved })
        ),
        Format::Table => println!(
            "{} alerts: {} incidents opened {:?}, {} resolved {:?}",
            r.alerts,
            r.opened.len(),
            r.opened,
            r.resolved.len(),
            r.resolved
        ),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum IncidentCommand {
    /// List incidents, newest first.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One incident and its timeline.
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Report an incident by hand (CDEvents incident.reported).
    Report {
        #[arg(long)]
        env: String,
        #[arg(long)]
        service: String,
        #[arg(long, default_value = "major")]
        severity: String,
        /// What is wrong.
        title: String,
    },
    /// Resolve an open incident by hand.
    Resolve {
        id: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// Add a note to an incident's timeline.
    Note { id: i64, text: String },
}

fn incident_row(i: &IncidentRecord) -> serde_json::Value {
    serde_json::json!({
        "id": i.id, "env": i.env, "service": i.service, "source": i.source, "source_key": i.source_key,
        "severity": i.severity, "title": i.title, "status": i.status, "detected_at": i.detected_at,
        "resolved_at": i.resolved_at, "resolved_by": i.resolved_by, "deployment": i.deployment_id,
    })
}

pub async fn incident(options: &OpenOptions, command: IncidentCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        IncidentCommand::List { format } => {
            let rows: Vec<_> = mon::incidents(&ctx)
                .await
                .map_err(report)?
                .iter()
                .map(incident_row)
                .collect();
            print_rows(
                format,
                &[
                    "id",
                    "env",
                    "service",
                    "severity",
                    "status",
                    "detected_at",
                    "resolved_at",
                    "deployment",
                    "title",
                ],
                &rows,
            );
        }
        IncidentCommand::Show { id, format } => {
            let (i, timeline) = mon::incident(&ctx, id).await.map_err(report)?;
            let entries: Vec<_> = timeline
                .iter()
                .map(|e| serde_json::json!({ "at": e.at, "kind": e.kind, "actor": e.actor, "text": e.text }))
                .collect();
            match format {
                Format::Json => {
                    let mut row = incident_row(&i);
                    row["timeline"] = entries.into();
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&row).expect("JSON values always serialise")
                    );
                }
                Format::Table => {
                    println!(
                        "incident {} [{}] {} in {}/{}: {}",
                        i.id, i.severity, i.status, i.env, i.service, i.title
                    );
                    if let Some(d) = i.deployment_id {
                        println!("attributed to deployment {d}");
                    }
                    print_rows(format, &["at", "kind", "actor", "text"], &entries);
                }
            }
        }
        IncidentCommand::Report {
            env,
            service,
            severity,
            title,
        } => {
            let id = mon::report_incident(&ctx, &env, &service, &severity, &title)
                .await
                .map_err(report)?;
            println!("incident {id} reported");
        }
        IncidentCommand::Resolve { id, note } => {
            let i = mon::resolve_by_hand(&ctx, id, note.as_deref())
                .await
                .map_err(report)?;
            println!(
                "incident {} resolved at {}",
                i.id,
                i.resolved_at.unwrap_or_default()
            );
        }
        IncidentCommand::Note { id, text } => {
            mon::note(&ctx, id, &text).await.map_err(report)?;
            println!("noted on incident {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// An access log (Common/Combined Log Format or JSON lines), or `-`.
    file: String,
    /// The environment the log is from.
    #[arg(long)]
    env: String,
    /// The service the log is from.
    #[arg(long, default_value = "web")]
    service: String,
    /// Requests are counted per client and per route in windows this long.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    window: Duration,
    /// A burst is this many times the baseline (median requests per window)...
    #[arg(long, default_value_t = 10.0)]
    burst_factor: f64,
    /// ...and at least this many requests in one window.
    #[arg(long, default_value_t = 30)]
    burst_min: u64,
    /// This many 401/403 answers to one client in one window is an incident.
    #[arg(long, default_value_t = 10)]
    auth_failures: u64,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn read_input(file: &str) -> miette::Result<(String, String)> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(256 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| miette::miette!("cannot read standard input: {e}"))?;
        Ok(("<stdin>".to_owned(), text))
    } else {
        let bytes = std::fs::read(file).map_err(|e| miette::miette!("cannot read {file}: {e}"))?;
        Ok((
            file.to_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }
}

pub async fn usage_ingest(options: &OpenOptions, args: UsageArgs) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    if !(args.burst_factor.is_finite() && args.burst_factor > 0.0) {
        return Err(miette::miette!("--burst-factor must be a positive number"));
    }
    let (name, text) = read_input(&args.file)?;
    let opts = mon::UsageOptions {
        env: args.env,
        service: args.service,
        thresholds: dso_monitoring::usage::Thresholds {
            window_ms: i64::try_from(args.window.as_millis()).unwrap_or(i64::MAX),
            burst_factor: args.burst_factor,
            burst_min: args.burst_min,
            auth_failures: args.auth_failures,
        },
    };
    let r = mon::ingest_usage(&ctx, &name, &text, &opts)
        .await
        .map_err(report)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "requests": r.requests, "skipped": r.skipped, "first_skipped": r.first_skipped,
                "findings": r.findings, "opened": r.opened,
            }))
            .expect("JSON values always serialise")
        ),
        Format::Table => {
            println!(
                "{} requests read, {} abnormal patterns, {} security incidents opened {:?}",
                r.requests,
                r.findings.len(),
                r.opened.len(),
                r.opened
            );
            for f in &r.findings {
                println!(
                    "  {:?} {}: peak {} per window (baseline {})",
                    f.kind, f.subject, f.peak, f.baseline
                );
            }
            if let Some(first) = &r.first_skipped {
                eprintln!("warning: {} lines skipped; first: {first}", r.skipped);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
