//! `dso scan secrets|sast`: scanners that need no workspace.
//!
//! Output is a table for people, JSON (the whole report) or SARIF 2.1.0 for
//! other tools and the findings store. Secrets are redacted in every format.
//! Exit code 0 after a completed scan, also with findings, unless
//! `--fail-on-findings` is given (then 1 when anything was found).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::output;

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum ScanCommand {
    /// `dso scan sca` (crates/cli/src/assurance.rs): it uses the workspace's advisories.
    #[command(flatten)]
    Sca(crate::assurance::ScanCommand),
    /// Detect secrets (provider tokens, private keys, hard-coded passwords).
    ///
    /// Honours .gitignore and a .dsoignore at PATH (path patterns and
    /// `fingerprint:<hex>` lines); a `dso:allow` comment on a line suppresses it.
    Secrets(SecretsArgs),
    /// Static analysis level 1: structural rules (ast-grep YAML format) for
    /// Rust, Python, JavaScript/TypeScript, Go and Java.
    ///
    /// Each finding carries its rule's CWE and default disposition
    /// (confirmed, needs-review, informational) for automatic adjudication.
    Sast(SastArgs),
}

/// `--format` of the scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ScanFormat {
    #[default]
    Table,
    Json,
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct SecretsArgs {
    /// The directory or file to scan (a repository with --git-history).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Scan every blob reachable from any git ref, each once, instead of the working tree.
    #[arg(long)]
    git_history: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    max_file_size: u64,
    #[arg(long, value_enum, default_value_t)]
    format: ScanFormat,
    /// Exit with status 1 when anything was found.
    #[arg(long)]
    fail_on_findings: bool,
}

#[derive(Debug, clap::Args)]
pub struct SastArgs {
    /// The directory or file to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A rule file or directory of *.yml rules to add (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Do not load the built-in rule pack (only --rules).
    #[arg(long)]
    no_builtin: bool,
    /// List the rules instead of scanning.
    #[arg(long)]
    list_rules: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 5 * 1024 * 1024)]
    max_file_size: u64,
    #[arg(long, value_enum, default_value_t)]
    format: ScanFormat,
    /// Exit with status 1 when a finding's disposition is confirmed or needs-review.
    #[arg(long)]
    fail_on_findings: bool,
}

pub async fn run(open: &dso_app::OpenOptions, command: ScanCommand) -> miette::Result<ExitCode> {
    match command {
        ScanCommand::Sca(command) => crate::assurance::run_scan(open, command).await,
        ScanCommand::Secrets(args) => secrets(args),
        ScanCommand::Sast(args) => sast(args),
    }
}

fn sast(args: SastArgs) -> miette::Result<ExitCode> {
    if args.list_rules {
        let rules =
            dso_app::scan::sast_rules(!args.no_builtin, &args.rules).map_err(crate::report)?;
        let rows: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "language": r.language,
                    "severity": r.severity,
                    "cwe": r.cwes,
                    "disposition": r.disposition,
                    "message": r.message,
                    "origin": r.origin,
                })
            })
            .collect();
        let format = if args.format == ScanFormat::Table {
            output::Format::Table
        } else {
            output::Format::Json
        };
        output::print_rows(
            format,
            &[
                "id",
                "language",
                "cwe",
                "disposition",
                "severity",
                "message",
            ],
            &rows,
        );
        return Ok(ExitCode::SUCCESS);
    }
    let req = dso_app::scan::SastScanRequest {
        path: args.path.clone(),
        builtin: !args.no_builtin,
        rules: args.rules.clone(),
        max_file_size: Some(args.max_file_size),
    };
    let scan = dso_app::scan::scan_sast(&req).map_err(crate::report)?;
    let report = &scan.report;
    match args.format {
        ScanFormat::Sarif => print_json(&dso_app::scan::sast_sarif(&scan)),
        ScanFormat::Json => print_json(
            &serde_json::to_value(report).expect("the report is plain data and serialises"),
        ),
        ScanFormat::Table => {
            let rows: Vec<serde_json::Value> = report
                .findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "rule": f.rule_id,
                        "location": format!("{}:{}:{}", f.path, f.line, f.column),
                        "cwe": f.cwes,
                        "disposition": f.disposition,
                        "code": f.snippet,
                    })
                })
                .collect();
            output::print_rows(
                output::Format::Table,
                &["rule", "location", "cwe", "disposition", "code"],
                &rows,
            );
            for skipped in &report.skipped {
                eprintln!("skipped {}: {}", skipped.path, skipped.reason);
            }
            let count = |d: dso_app::scan::Disposition| {
                report
                    .findings
                    .iter()
                    .filter(|f| f.disposition == d)
                    .count()
            };
            eprintln!(
                "scanned {} files ({:.1} MiB) with {} rules: {} confirmed, {} need review, {} informational",
                report.n_files,
                report.n_bytes as f64 / (1024.0 * 1024.0),
                report.n_rules,
                count(dso_app::scan::Disposition::Confirmed),
                count(dso_app::scan::Disposition::NeedsReview),
                count(dso_app::scan::Disposition::Informational),
            );
        }
    }
    let actionable = report
        .findings
        .iter()
        .any(|f| f.disposition != dso_app::scan::Disposition::Informational);
    Ok(exit(args.fail_on_findings, actionable))
}

fn secrets(args: SecretsArgs) -> miette::Result<ExitCode> {
    let req = dso_app::scan::SecretScanRequest {
        path: args.path.clone(),
        git_history: args.git_history,
        max_file_size: Some(args.max_file_size),
    };
    let report = dso_app::scan::scan_secrets(&req).map_err(crate::report)?;
    match args.format {
        ScanFormat::Sarif => print_json(&dso_app::scan::secrets_sarif(&report)),
        ScanFormat::Json => print_json(
            &serde_json::to_value(&report).expect("the report is plain data and serialises"),
        ),
        ScanFormat::Table => {
            let mut columns = vec!["rule", "location", "secret", "fingerprint"];
            if args.git_history {
                columns.push("commit");
            }
            let rows: Vec<serde_json::Value> = report
                .findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "rule": f.rule_id,
                        "location": format!("{}:{}:{}", f.path, f.line, f.column),
                        "secret": f.redacted,
                        "fingerprint": f.fingerprint,
                        "commit": f.commit.as_deref().map(|c| &c[..c.len().min(12)]),
                    })
                })
                .collect();
            output::print_rows(output::Format::Table, &columns, &rows);
            for skipped in &report.skipped {
                eprintln!("skipped {}: {}", skipped.path, skipped.reason);
            }
            eprintln!(
                "scanned {} files ({:.1} MiB), {} binary skipped, {} allowed by fingerprint: {} {}",
                report.n_files,
                report.n_bytes as f64 / (1024.0 * 1024.0),
                report.n_binary,
                report.n_allowed,
                report.findings.len(),
                if report.findings.len() == 1 {
                    "secret"
                } else {
                    "secrets"
                }
            );
        }
    }
    Ok(exit(args.fail_on_findings, !report.findings.is_empty()))
}

fn exit(fail_on_findings: bool, found: bool) -> ExitCode {
    if fail_on_findings && found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_json(value: &serde_json::Value) {
    use std::io::Write as _;
    let text = serde_json::to_string_pretty(value).expect("serde_json::Value always serialises");
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
