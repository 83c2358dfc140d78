//! `dso req`: the requirements repository.

use std::process::ExitCode;

use dso_app::requirements::{self, NewRequirement};
use dso_app::{Context, OpenOptions};
use dso_governance::requirement::Patch;

use crate::output::{Format, print_rows};
use crate::report;

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum ReqCommand {
    /// Add a requirement (id REQ-n unless --id is given).
    Add {
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        title: String,
        /// The requirement text (or @FILE).
        #[arg(long, default_value = "")]
        text: String,
        /// functional, nonfunctional or security.
        #[arg(long = "type", default_value = "functional")]
        kind: String,
        /// low, medium, high or critical.
        #[arg(long, default_value = "medium")]
        priority: String,
        /// Acceptance criteria (or @FILE).
        #[arg(long, default_value = "")]
        acceptance: String,
        /// draft, approved, implemented, verified or obsolete.
        #[arg(long, default_value = "draft")]
        status: String,
        /// The requirement this one refines (a higher abstraction layer).
        #[arg(long)]
        parent: Option<String>,
        /// The architecture element that realises it.
        #[arg(long)]
        arch_element: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Change fields; each change is a new version. `--parent ""` clears a field.
    Edit {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        text: Option<String>,
        #[arg(long = "type")]
        kind: Option<String>,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        acceptance: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        arch_element: Option<String>,
    },
    /// List requirements.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one requirement.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Every version of a requirement, with what changed in each.
    History {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// `--text` and friends: literal text, or @FILE.
fn text_arg(value: String) -> miette::Result<String> {
    match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|err| miette::miette!("cannot read {path}: {err}")),
        None => Ok(value),
    }
}

pub async fn run(options: &OpenOptions, command: ReqCommand) -> miette::Result<ExitCode> {
    let ctx = Context::open(options).await.map_err(report)?;
    match command {
        ReqCommand::Add {
            id,
            title,
            text,
            kind,
            priority,
            acceptance,
            status,
            parent,
            arch_element,
            format,
        } => {
            let new = NewRequirement {
                id,
                title,
                text: text_arg(text)?,
                kind,
                priority,
                acceptance: text_arg(acceptance)?,
                status,
                parent,
                arch_element,
            };
            let req = requirements::add(&ctx, new).await.map_err(report)?;
            match format {
                Format::Json => print_json(&req),
                Format::Table => println!("added requirement {} (version 1)", req.requirement.id),
            }
        }
        ReqCommand::Edit {
            id,
            title,
            text,
            kind,
            priority,
            acceptance,
            status,
            parent,
            arch_element,
        } => {
            let patch = Patch {
                title,
                text: text.map(text_arg).transpose()?,
                kind,
                priority,
                acceptance: acceptance.map(text_arg).transpose()?,
                status,
                parent,
                arch_element,
            };
            let (req, changes) = requirements::edit(&ctx, &id, &patch)
                .await
                .map_err(report)?;
            println!(
                "{} is now version {} (changed: {})",
                req.requirement.id,
                req.version,
                changes
                    .iter()
                    .map(|c| c.field)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        ReqCommand::List { format } => {
            let rows: Vec<_> = requirements::list(&ctx)
                .await
                .map_err(report)?
                .iter()
                .map(json)
                .collect();
            print_rows(
                format,
                &[
                    "id", "title", "kind", "priority", "status", "parent", "version",
                ],
                &rows,
            );
        }
        ReqCommand::Show { id, format } => {
            let req = requirements::show(&ctx, &id).await.map_err(report)?;
            match format {
                Format::Json => print_json(&req),
                Format::Table => {
                    let r = &req.requirement;
                    println!("{}  {}", r.id, r.title);
                    println!(
                        "  type: {}  priority: {}  status: {}  version: {}",
                        r.kind, r.priority, r.status, req.version
                    );
                    if let Some(p) = &r.parent {
                        println!("  parent: {p}");
                    }
                    if let Some(a) = &r.arch_element {
                        println!("  architecture element: {a}");
                    }
                    if !r.text.is_empty() {
                        println!("\n{}", r.text);
                    }
                    if !r.acceptance.is_empty() {
                        println!("\nAcceptance criteria:\n{}", r.acceptance);
                    }
                }
            }
        }
        ReqCommand::History { id, format } => {
            let versions = requirements::history(&ctx, &id).await.map_err(report)?;
            match format {
                Format::Json => print_json(&versions),
                Format::Table => {
                    for v in &versions {
                        println!(
                            "version {}  {}  by {}",
                            v.version, v.changed_at, v.changed_by
                        );
                        if v.version == 1 {
                            println!("  created");
                        }
                        for c in &v.changes {
                            if c.lines.is_empty() {
                                println!("  {}: {:?} → {:?}", c.field, c.old, c.new);
                            } else {
                                println!("  {}:", c.field);
                                for line in &c.lines {
                                    println!("    {line}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("plain structs always serialise")
}

/// Prints one value as pretty JSON.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("plain structs always serialise")
    );
}
