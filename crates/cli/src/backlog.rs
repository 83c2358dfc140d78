//! `dso backlog`: items on a Kanban flow; CSV and Jira import.

use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::backlog::{self, ImportFormat, ItemFields};
use dso_app::{Context, OpenOptions};

use crate::output::{Format, print_rows};
use crate::report;
use crate::req::{json, print_json};

#[derive(Debug, clap::Args)]
pub struct FieldArgs {
    /// story, task, defect, security, tech-debt or patch.
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// Story points or hours: a non-negative number.
    #[arg(long)]
    estimate: Option<f64>,
    #[arg(long)]
    assignee: Option<String>,
    /// The increment or sprint.
    #[arg(long)]
    sprint: Option<String>,
    /// A requirement this item implements (repeatable; replaces the links on edit).
    #[arg(long = "req", value_name = "REQ")]
    requirements: Vec<String>,
    /// An item this one depends on (repeatable; replaces the list on edit).
    #[arg(long = "depends-on", value_name = "KEY")]
    depends_on: Vec<String>,
}

impl FieldArgs {
    fn fields(self) -> ItemFields {
        ItemFields {
            kind: self.kind,
            title: self.title,
            description: self.description,
            estimate: self.estimate,
            assignee: self.assignee,
            sprint: self.sprint,
            requirements: (!self.requirements.is_empty()).then_some(self.requirements),
            depends_on: (!self.depends_on.is_empty()).then_some(self.depends_on),
        }
    }
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum BacklogCommand {
    /// Add an item (key BL-n) in the flow's first state.
    ///
    /// With --from-finding, the item is made from a finding: title and
    /// description from its rule, severity, file:line, advisory and fixed
    /// version; kind `security` for a security finding, else `defect`
    /// (--kind and the other flags override). A finding gets one item.
    Add {
        /// Make the item from this finding (id or unique id prefix, `dso findings list`).
        #[arg(long = "from-finding", value_name = "FINDING")]
        from_finding: Option<String>,
        #[command(flatten)]
        fields: FieldArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Change an item's fields.
    Edit {
        key: String,
        #[command(flatten)]
        fields: FieldArgs,
    },
    /// Move an item to another state, along the flow's transitions.
    Move { key: String, state: String },
    /// List items.
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        sprint: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one item.
    Show {
        key: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import items from CSV (header row) or a Jira JSON export.
    Import {
        file: PathBuf,
        /// csv or jira (default: from the file extension, .csv or .json).
        #[arg(long = "from")]
        from: Option<String>,
    },
    /// The Kanban flow.
    #[command(subcommand)]
    Flow(FlowCommand),
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum FlowCommand {
    /// Print the states and transitions.
    Show {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Replace the flow: states in order (comma-separated) and optional
    /// FROM:TO transitions (default: each state to its neighbours).
    Set {
        #[arg(long, value_delimiter = ',', required = true)]
        states: Vec<String>,
        #[arg(long = "transition", value_name = "FROM:TO")]
        transitions: Vec<String>,
    },
}

pub async fn run(options: &OpenOptions, command: BacklogCommand) -> miette::Result<ExitCode> {
    let ctx = Context::open(options).await.map_err(report)?;
    match command {
        BacklogCommand::Add {
            from_finding,
            fields,
            format,
        } => {
            let item = match &from_finding {
                Some(f) => backlog::add_from_finding(&ctx, f, fields.fields()).await,
                None => backlog::add(&ctx, fields.fields()).await,
            }
            .map_err(report)?;
            match format {
                Format::Json => print_json(&item),
                Format::Table => match &item.finding {
                    Some(f) => println!(
                        "added {} ({}, {}) from finding {f}",
                        item.key, item.kind, item.state
                    ),
                    None => println!("added {} ({}, {})", item.key, item.kind, item.state),
                },
            }
        }
        BacklogCommand::Edit { key, fields } => {
            let item = backlog::edit(&ctx, &key, fields.fields())
                .await
                .map_err(report)?;
            println!("updated {}", item.key);
        }
        BacklogCommand::Move { key, state } => {
            let item = backlog::move_item(&ctx, &key, &state)
                .await
                .map_err(report)?;
            println!("moved {} to {}", item.key, item.state);
        }
        BacklogCommand::List {
            state,
            kind,
            sprint,
            format,
        } => {
            let items = backlog::list(&ctx, state.as_deref(), kind.as_deref(), sprint.as_deref())
                .await
                .map_err(report)?;
            let rows: Vec<_> = items.iter().map(json).collect();
            print_rows(
                format,
                &[
                    "key",
                    "kind",
                    "state",
                    "title",
                    "estimate",
                    "assignee",
                    "sprint",
                    "requirements",
                ],
                &rows,
            );
        }
        BacklogCommand::Show { key, format } => {
            let item = backlog::show(&ctx, &key).await.map_err(report)?;
            match format {
                Format::Json => print_json(&item),
                Format::Table => {
                    println!("{}  {}", item.key, item.title);
                    println!("  kind: {}  state: {}", item.kind, item.state);
                    if let Some(e) = item.estimate {
                        println!("  estimate: {e}");
                    }
                    if let Some(a) = &item.assignee {
                        println!("  assignee: {a}");
                    }
                    if let Some(s) = &item.sprint {
                        println!("  sprint: {s}");
                    }
                    if !item.requirements.is_empty() {
                        println!("  requirements: {}", item.requirements.join(", "));
                    }
                    if !item.depends_on.is_empty() {
                        println!("  depends on: {}", item.depends_on.join(", "));
                    }
                    if let Some(f) = &item.finding {
                        println!("  finding: {f}");
                    }
                    if !item.description.is_empty() {
                        println!("\n{}", item.description);
                    }
                }
            }
        }
        BacklogCommand::Import { file, from } => {
            let format = match from.as_deref() {
                Some("csv") => ImportFormat::Csv,
                Some("jira") => ImportFormat::Jira,
                Some(other) => {
                    return Err(miette::miette!(
                        help = "use --from csv or --from jira",
                        "--from: unknown format `{other}`"
                    ));
                }
                None => match file.extension().and_then(|e| e.to_str()) {
                    Some("csv") => ImportFormat::Csv,
                    Some("json") => ImportFormat::Jira,
                    _ => {
                        return Err(miette::miette!(
                            help = "name the format with --from csv or --from jira",
                            "{}: cannot tell the format from the extension",
                            file.display()
                        ));
                    }
                },
            };
            let text = std::fs::read_to_string(&file)
                .map_err(|err| miette::miette!("cannot read {}: {err}", file.display()))?;
            let report = backlog::import(&ctx, &file.display().to_string(), &text, format)
                .await
                .map_err(report)?;
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "imported {} items: {}",
                report.created.len(),
                report.created.join(", ")
            );
        }
        BacklogCommand::Flow(FlowCommand::Show { format }) => {
            let flow = backlog::flow(&ctx).await.map_err(report)?;
            match format {
                Format::Json => print_json(&flow),
                Format::Table => {
                    println!("states: {}", flow.states.join(" → "));
                    for s in &flow.states {
                        println!("  {s} → {}", flow.next_states(s).join(", "));
                    }
                }
            }
        }
        BacklogCommand::Flow(FlowCommand::Set {
            states,
            transitions,
        }) => {
            let flow = backlog::set_flow(&ctx, &states, &transitions)
                .await
                .map_err(report)?;
            println!(
                "backlog flow set: {} ({} transitions)",
                flow.states.join(" → "),
                flow.transitions.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
