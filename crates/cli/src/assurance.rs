//! `dso advisories`, `dso scan sca` and `dso findings`: the advisory
//! database, software composition analysis and the findings store.

use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::assurance::{self as uc, FindingStatus, ScaOptions, Triage};
use dso_app::{Context, OpenOptions};

use crate::output::{self, Format, print_rows};
use crate::report;

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum AdvisoriesCommand {
    /// Import advisories: a directory (RustSec advisory-db, PyPA
    /// advisory-database, Go vulndb, any OSV JSON/YAML), an osv.dev
    /// `all.zip`, or one file.
    ///
    /// Files that cannot be read are skipped and listed with their file,
    /// line and field; the rest are imported. Records with the same id
    /// replace earlier ones; records naming each other (CVE, GHSA, RUSTSEC,
    /// PYSEC, GO aliases) become one vulnerability; withdrawn ones are dropped.
    Import {
        path: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Download OSV zip archives (osv.dev's `all.zip` layout, e.g.
    /// https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip)
    /// and import them as `import` does.
    ///
    /// HTTPS only (plain http only to localhost/127.0.0.1/[::1]). The ETag
    /// and Last-Modified of each URL are remembered: the next sync asks the
    /// server for changes only, and an unchanged source is not imported
    /// again. A failed download, or a file that is not a zip archive,
    /// changes nothing; the other URLs are still synced, and the command
    /// exits 1.
    Sync {
        /// An OSV zip to fetch (repeat for several).
        #[arg(long = "url", value_name = "URL", required = true)]
        urls: Vec<String>,
        /// Refuse a download larger than this many MiB.
        #[arg(long, value_name = "MIB", default_value_t = uc::SYNC_DEFAULT_MAX_MIB)]
        max_mib: u64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one advisory, by its id or any alias (CVE-..., GHSA-...).
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum ScanCommand {
    /// Software composition analysis: find lockfiles under PATH (respecting
    /// .gitignore) and match every package against the imported advisories.
    ///
    /// Exits 1 when a finding is at or above --fail-on (default: never).
    Sca {
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: ScanFormat,
        /// Do not store the findings (by default they go to the findings
        /// store, and findings of an earlier scan of PATH that are gone are marked fixed).
        #[arg(long)]
        no_store: bool,
        /// Exit 1 when a finding has this severity or higher
        /// (low, medium, high, critical).
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<String>,
        /// Scan the packages of a CycloneDX (1.4-1.6) or SPDX 2.3 JSON SBOM instead.
        #[arg(long, value_name = "FILE", conflicts_with = "path")]
        sbom: Option<PathBuf>,
        /// Only report advisories that apply on this operating system
        /// (Rust's target_os names: linux, windows, macos...). By default,
        /// as cargo-audit, advisories limited to some platforms are reported
        /// with the limit shown.
        #[arg(long, value_name = "OS")]
        target_os: Option<String>,
        /// Only report advisories that apply on this CPU architecture
        /// (Rust's target_arch names: x86_64, x86, aarch64...).
        #[arg(long, value_name = "ARCH")]
        target_arch: Option<String>,
    },
}

/// `dso sbom PATH --format ...` or `dso sbom import FILE`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SbomArgs {
    #[command(subcommand)]
    command: Option<SbomCommand>,
    /// The tree (or lockfile) to describe.
    #[arg(default_value = ".")]
    path: PathBuf,
    #[arg(long, value_enum, default_value_t = SbomFormatArg::CyclonedxJson)]
    format: SbomFormatArg,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SbomFormatArg {
    CyclonedxJson,
    SpdxJson,
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum SbomCommand {
    /// Read a CycloneDX (1.4-1.6) or SPDX 2.3 JSON SBOM, summarise it and
    /// record the import (scan it with `dso scan sca --sbom FILE`).
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Output of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ScanFormat {
    #[default]
    Table,
    Json,
    Sarif,
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum FindingsCommand {
    /// List stored findings, newest first.
    List {
        /// new, confirmed, false_positive, accepted_risk, fixed, reopened.
        #[arg(long)]
        status: Option<String>,
        /// Only findings of this scanner (dso-sca, semgrep, clippy...).
        #[arg(long)]
        scanner: Option<String>,
        /// Only findings of this scope (sca:/path, sarif:semgrep...).
        #[arg(long)]
        scope: Option<String>,
        /// Only the findings pipeline run RUN saw (its `uses:` scanner steps
        /// and `sarif` reports), with their current status and the job that
        /// saw them.
        #[arg(long, value_name = "RUN", conflicts_with_all = ["status", "scanner", "scope"])]
        run: Option<i64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one finding (by id or unique id prefix) and its history.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Record a triage decision: confirmed, false_positive (needs
    /// --justification) or accepted_risk (needs --justification, --approver
    /// and --expires). The decision is an event acting as you.
    Triage {
        id: String,
        #[arg(long)]
        status: String,
        #[arg(long)]
        justification: Option<String>,
        #[arg(long)]
        approver: Option<String>,
        /// When an accepted risk lapses (2027-01-31 or an RFC 3339 time);
        /// a scan that still sees the finding after it reopens it.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import a SARIF 2.1.0 log from any tool (semgrep, clippy-sarif,
    /// CodeQL, dso's own scanners) into the findings store.
    Import {
        #[arg(long, value_name = "FILE")]
        sarif: PathBuf,
        /// The scope the log covers (default: sarif:<tool names>); findings of
        /// that scope missing from this log are marked fixed.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

async fn open(options: &OpenOptions) -> miette::Result<Context> {
    Context::open(options).await.map_err(report)
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("plain data serialises")
}

pub async fn run_advisories(
    options: &OpenOptions,
    command: AdvisoriesCommand,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        AdvisoriesCommand::Import { path, format } => {
            let s = uc::import_advisories(&ctx, &path).await.map_err(report)?;
            match format {
                Format::Json => println!("{}", json(&s)),
                Format::Table => {
                    println!(
                        "imported {} records from {} files in {} ({} withdrawn ignored); {} vulnerabilities in the database",
                        s.records, s.files, s.source, s.withdrawn, s.advisories
                    );
                    if !s.skipped.is_empty() {
                        eprintln!("skipped {} files:", s.skipped.len());
                        for line in &s.skipped {
                            eprintln!("  {line}");
                        }
                    }
                }
            }
        }
        AdvisoriesCommand::Sync {
            urls,
            max_mib,
            format,
        } => {
            let mut outcomes = Vec::new();
            let mut failed = false;
            for url in &urls {
                match uc::sync_advisories(&ctx, url, max_mib.saturating_mul(1 << 20)).await {
                    Ok(o) => {
                        if format == Format::Table {
                            match &o.import {
                                Some(s) => println!(
                                    "{}: imported {} records from {} files ({} bytes, {} withdrawn ignored); {} vulnerabilities in the database",
                                    o.url, s.records, s.files, o.bytes, s.withdrawn, s.advisories
                                ),
                                None if o.status == "not_modified" => {
                                    println!("{}: not modified since the last sync", o.url)
                                }
                                None => println!(
                                    "{}: unchanged since the last sync ({} bytes, same digest)",
                                    o.url, o.bytes
                                ),
                            }
                            if let Some(s) = &o.import
                                && !s.skipped.is_empty()
                            {
                                eprintln!("skipped {} files:", s.skipped.len());
                                for line in &s.skipped {
                                    eprintln!("  {line}");
                                }
                            }
                        }
                        outcomes.push(o);
                    }
                    Err(e) => {
                        failed = true;
                        eprintln!("{:?}", report(e));
                    }
                }
            }
            if format == Format::Json {
                println!("{}", json(&outcomes));
            }
            if failed {
                return Ok(ExitCode::from(1));
            }
        }
        AdvisoriesCommand::Show { id, format } => {
            let a = uc::show_advisory(&ctx, &id).await.map_err(report)?;
            match format {
                Format::Json => println!("{}", json(&a)),
                Format::Table => {
                    println!("{}  {}", a.id, a.summary);
                    if !a.aliases.is_empty() {
                        println!("aliases:   {}", a.aliases.join(", "));
                    }
                    let score = a.cvss_score.map(|s| format!(" ({s})")).unwrap_or_default();
                    println!("severity:  {}{score}", a.severity);
                    if let Some(kind) = &a.informational {
                        println!("kind:      informational ({kind})");
                    }
                    for v in &a.cvss_vectors {
                        println!("cvss:      {v}");
                    }
                    if !a.cwes.is_empty() {
                        println!("cwe:       {}", a.cwes.join(", "));
                    }
                    for e in &a.affected {
                        let mut what = Vec::new();
                        if let Some(c) = &e.cargo {
                            if !c.patched.is_empty() {
                                what.push(format!("patched {}", c.patched.join(" | ")));
                            }
                            if !c.unaffected.is_empty() {
                                what.push(format!("unaffected {}", c.unaffected.join(" | ")));
                            }
                        }
                        for r in &e.ranges {
                            let events: Vec<String> = r
                                .events
                                .iter()
                                .map(|ev| serde_json::to_string(ev).unwrap_or_default())
                                .collect();
                            what.push(format!("{:?} {}", r.kind, events.join(" ")));
                        }
                        if !e.versions.is_empty() {
                            what.push(format!("{} listed versions", e.versions.len()));
                        }
                        println!("affects:   {} {}: {}", e.ecosystem, e.name, what.join("; "));
                    }
                    for s in &a.sources {
                        println!("source:    {s}");
                    }
                    if !a.details.is_empty() {
                        println!("\n{}", a.details);
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_scan(options: &OpenOptions, command: ScanCommand) -> miette::Result<ExitCode> {
    // A composition scan reads and parses its lockfiles on another thread
    // while the workspace opens.
    let sca_input = match &command {
        ScanCommand::Sca {
            path,
            sbom,
            target_os,
            target_arch,
            no_store,
            ..
        } => {
            let options = ScaOptions {
                path: path.clone(),
                store: !no_store,
                sbom: sbom.clone(),
                target: dso_assurance::sca::Target {
                    os: target_os.clone(),
                    arch: target_arch.clone(),
                },
            };
            std::thread::spawn(move || {
                let input = uc::read_sca_input(&options);
                (options, input)
            })
        }
    };
    let ctx = open(options).await?;
    match command {
        ScanCommand::Sca {
            format, fail_on, ..
        } => {
            let threshold = match fail_on.as_deref() {
                None => None,
                Some(s) => Some(dso_assurance_severity(s).ok_or_else(|| {
                    miette::miette!(
                        help = "use low, medium, high or critical",
                        "unknown severity `{s}`"
                    )
                })?),
            };
            let (sca_options, input) = sca_input
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let report_ = uc::scan_sca_read(&ctx, &sca_options, input)
                .await
                .map_err(report)?;
            match format {
                ScanFormat::Json => output::print_json(&report_)?,
                ScanFormat::Sarif => {
                    let log = dso_assurance::sarif::write(
                        &uc::normalise_sca(&report_.findings),
                        env!("CARGO_PKG_VERSION"),
                    );
                    output::print_json(&log)?;
                }
                ScanFormat::Table => {
                    let rows: Vec<serde_json::Value> = report_
                        .findings
                        .iter()
                        .map(|f| {
                            serde_json::json!({
                                "package": f.package,
                                "version": f.version,
                                "ecosystem": f.ecosystem.as_str(),
                                "advisory": f.advisory,
                                "aliases": f.aliases.iter().filter(|a| a.starts_with("CVE-")).cloned().collect::<Vec<_>>(),
                                "severity": match &f.informational {
                                    Some(kind) => kind.clone(),
                                    None => f.severity.as_str().to_owned(),
                                },
                                "fixed": f.fixed,
                                "platforms": f.os.iter().chain(&f.arch).cloned().collect::<Vec<_>>().join(", "),
                                "file": match f.line {
                                    Some(l) => format!("{}:{l}", f.file),
                                    None => f.file.clone(),
                                },
                            })
                        })
                        .collect();
                    print_rows(
                        Format::Table,
                        &[
                            "package",
                            "version",
                            "ecosystem",
                            "advisory",
                            "aliases",
                            "severity",
                            "fixed",
                            "platforms",
                            "file",
                        ],
                        &rows,
                    );
                    println!(
                        "{} packages in {} lockfiles, {} advisories in the database",
                        report_.packages,
                        report_.files.len(),
                        report_.advisories
                    );
                    for n in &report_.not_matched {
                        println!(
                            "not matched: {} {} ({}): {}",
                            n.package,
                            n.version,
                            match n.line {
                                Some(l) => format!("{}:{l}", n.file),
                                None => n.file.clone(),
                            },
                            n.reason
                        );
                    }
                    for s in &report_.suppressed {
                        println!(
                            "suppressed: {} {} {} ({})",
                            s.finding.package, s.finding.version, s.finding.advisory, s.reason
                        );
                    }
                    if let Some(s) = &report_.stored {
                        println!(
                            "stored under {}: {} new, {} reopened, {} fixed, {} unchanged",
                            s.scope, s.new, s.reopened, s.fixed, s.unchanged
                        );
                    }
                }
            }
            if !report_.skipped.is_empty() {
                eprintln!("skipped {} files:", report_.skipped.len());
                for s in &report_.skipped {
                    eprintln!("  {s}");
                }
            }
            if report_.advisories == 0 {
                eprintln!(
                    "warning: the advisory database is empty; run `dso advisories import PATH` first"
                );
            }
            if let Some(t) = threshold
                && report_
                    .findings
                    .iter()
                    .any(|f| f.informational.is_none() && f.severity >= t)
            {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dso_assurance_severity(s: &str) -> Option<dso_assurance::advisories::Severity> {
    dso_assurance::advisories::Severity::parse(s)
}

fn finding_json(row: &dso_app::assurance::FindingRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "status": row.status,
        "severity": row.severity,
        "scanner": row.scanner,
        "rule": row.rule,
        "location": match (&row.file, row.line) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            (Some(f), None) => f.clone(),
            _ => String::new(),
        },
        "title": row.title,
        "scope": row.scope,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "justification": row.justification,
        "approver": row.approver,
        "expires": row.expires,
        "fingerprint": row.fingerprint,
        "finding": serde_json::from_str::<serde_json::Value>(&row.data).unwrap_or_default(),
    })
}

pub async fn run_findings(
    options: &OpenOptions,
    command: FindingsCommand,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        FindingsCommand::List {
            run: Some(run),
            format,
            ..
        } => {
            let rows: Vec<serde_json::Value> = uc::run_findings(&ctx, run)
                .await
                .map_err(report)?
                .iter()
                .map(|(job, row)| {
                    let mut value = finding_json(row);
                    value["job"] = job.clone().into();
                    value
                })
                .collect();
            match format {
                Format::Json => println!("{}", json(&rows)),
                Format::Table => print_rows(
                    Format::Table,
                    &[
                        "id", "job", "status", "severity", "scanner", "rule", "location", "title",
                    ],
                    &rows,
                ),
            }
        }
        FindingsCommand::List {
            status,
            scanner,
            scope,
            run: None,
            format,
        } => {
            if let Some(s) = &status
                && FindingStatus::parse(s).is_none()
            {
                return Err(miette::miette!(
                    help = "use new, confirmed, false_positive, accepted_risk, fixed or reopened",
                    "unknown status `{s}`"
                ));
            }
            let rows = uc::list_findings(
                &ctx,
                &dso_app::assurance::FindingQuery {
                    status: status.map(|s| s.replace('-', "_")),
                    scanner,
                    scope,
                    limit: None,
                },
            )
            .await
            .map_err(report)?;
            let rows: Vec<serde_json::Value> = rows.iter().map(finding_json).collect();
            match format {
                Format::Json => println!("{}", json(&rows)),
                Format::Table => print_rows(
                    Format::Table,
                    &[
                        "id", "status", "severity", "scanner", "rule", "location", "title",
                    ],
                    &rows,
                ),
            }
        }
        FindingsCommand::Show { id, format } => {
            let (row, history) = uc::show_finding(&ctx, &id).await.map_err(report)?;
            let mut value = finding_json(&row);
            value["backlog_item"] = dso_app::backlog::item_of_finding(&ctx, &row.id)
                .await
                .map_err(report)?
                .into();
            let events: Vec<serde_json::Value> = history
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "seq": e.seq,
                        "time": e.time,
                        "type": e.ty,
                        "actor": e.actor,
                        "data": serde_json::from_str::<serde_json::Value>(&e.data).unwrap_or_default(),
                    })
                })
                .collect();
            value["history"] = serde_json::Value::Array(events.clone());
            match format {
                Format::Json => println!("{}", json(&value)),
                Format::Table => {
                    for key in [
                        "id",
                        "status",
                        "severity",
                        "scanner",
                        "rule",
                        "location",
                        "title",
                        "scope",
                        "first_seen",
                        "last_seen",
                        "justification",
                        "approver",
                        "expires",
                        "backlog_item",
                        "fingerprint",
                    ] {
                        if let Some(v) = value.get(key).filter(|v| !v.is_null()) {
                            println!(
                                "{key:<14} {}",
                                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                            );
                        }
                    }
                    println!("history:");
                    for e in &events {
                        println!(
                            "  {} {} {} -> {} by {}",
                            e["time"].as_str().unwrap_or_default(),
                            e["type"]
                                .as_str()
                                .unwrap_or_default()
                                .trim_start_matches("dev.cdeventsx.dso."),
                            e["data"]["from"].as_str().unwrap_or("-"),
                            e["data"]["to"].as_str().unwrap_or("-"),
                            e["actor"].as_str().unwrap_or_default(),
                        );
                    }
                }
            }
        }
        FindingsCommand::Triage {
            id,
            status,
            justification,
            approver,
            expires,
            format,
        } => {
            let status = FindingStatus::parse(&status).ok_or_else(|| {
                miette::miette!(
                    help = "use confirmed, false_positive or accepted_risk",
                    "unknown status `{status}`"
                )
            })?;
            let row = uc::triage(
                &ctx,
                &id,
                &Triage {
                    status,
                    justification,
                    approver,
                    expires,
                },
            )
            .await
            .map_err(report)?;
            match format {
                Format::Json => println!("{}", json(&finding_json(&row))),
                Format::Table => println!("{} is now {}", row.id, row.status),
            }
        }
        FindingsCommand::Import {
            sarif,
            scope,
            format,
        } => {
            let s = uc::import_sarif(&ctx, &sarif, scope.as_deref())
                .await
                .map_err(report)?;
            match format {
                Format::Json => println!("{}", json(&s)),
                Format::Table => println!(
                    "imported {} results from {} ({}; {} passed over) under {}: {} new, {} reopened, {} fixed, {} unchanged",
                    s.results,
                    s.file,
                    s.tools.join(", "),
                    s.passed_over,
                    s.stored.scope,
                    s.stored.new,
                    s.stored.reopened,
                    s.stored.fixed,
                    s.stored.unchanged
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_sbom(options: &OpenOptions, args: SbomArgs) -> miette::Result<ExitCode> {
    match args.command {
        Some(SbomCommand::Import { file, format }) => {
            let ctx = open(options).await?;
            let s = uc::import_sbom(&ctx, &file).await.map_err(report)?;
            match format {
                Format::Json => println!("{}", json(&s)),
                Format::Table => {
                    let per: Vec<String> = s
                        .ecosystems
                        .iter()
                        .map(|(e, n)| format!("{e} {n}"))
                        .collect();
                    println!(
                        "read {} packages from {} ({}); {} components without a known purl",
                        s.packages,
                        s.file,
                        per.join(", "),
                        s.unknown
                    );
                }
            }
        }
        None => {
            let format = match args.format {
                SbomFormatArg::CyclonedxJson => uc::SbomFormat::CycloneDxJson,
                SbomFormatArg::SpdxJson => uc::SbomFormat::SpdxJson,
            };
            let (doc, skipped) = uc::generate_sbom(&args.path, format).map_err(report)?;
            let text = json(&doc);
            match &args.output {
                Some(file) => std::fs::write(file, text + "\n")
                    .map_err(|e| miette::miette!("cannot write {}: {e}", file.display()))?,
                None => println!("{text}"),
            }
            if !skipped.is_empty() {
                eprintln!("skipped {} files:", skipped.len());
                for s in &skipped {
                    eprintln!("  {s}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum VexCommand {
    /// Store an OpenVEX document's statements. From the next scan on, a
    /// `not_affected` statement turns the matching SCA finding into a false
    /// positive with the statement's justification.
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Write the stored SCA findings as an OpenVEX document.
    Export {
        /// Only findings of this scope (sca:/path).
        #[arg(long)]
        scope: Option<String>,
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub async fn run_vex(options: &OpenOptions, command: VexCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        VexCommand::Import { file, format } => {
            let s = uc::import_vex(&ctx, &file).await.map_err(report)?;
            match format {
                Format::Json => println!("{}", json(&s)),
                Format::Table => println!(
                    "stored {} statements from {} ({} not_affected)",
                    s.statements, s.file, s.not_affected
                ),
            }
        }
        VexCommand::Export { scope, output } => {
            let doc = uc::export_vex(&ctx, scope.as_deref())
                .await
                .map_err(report)?;
            let text = json(&doc);
            match output {
                Some(file) => std::fs::write(&file, text + "\n")
                    .map_err(|e| miette::miette!("cannot write {}: {e}", file.display()))?,
                None => println!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
