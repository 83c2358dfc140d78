//! `dso exchange`: the planning exchanges between people (Table 2, and the
//! routes of IE15, IE22, IE23 and IE24 derived from the process flows).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::exchange;
use dso_app::{Context, OpenOptions};

use crate::output::{Format, print_rows};
use crate::report;
use crate::req::{json, print_json};

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum ExchangeCommand {
    /// Send a document (an information element) to its receiver.
    ///
    /// You must hold a role of the sending performer; `--to` must be a
    /// receiver the model names for the item: Table 2 (`dso model
    /// exchanges`), or for IE15, IE22, IE23 and IE24 the routes derived from
    /// the process flows (docs/governance.md).
    Send {
        /// The information element, e.g. IE11 (Product Concept).
        #[arg(long)]
        item: String,
        /// The receiving performer, e.g. architect.
        #[arg(long)]
        to: String,
        /// A title (default: the document's first line).
        #[arg(long)]
        title: Option<String>,
        /// The document (`-` for stdin).
        file: PathBuf,
    },
    /// Acknowledge a document sent to a performer whose role you hold.
    Ack {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Return a document to its sender, saying why.
    Return {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// List sent documents.
    List {
        #[arg(long)]
        item: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a document with its content.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn run(options: &OpenOptions, command: ExchangeCommand) -> miette::Result<ExitCode> {
    let ctx = Context::open(options).await.map_err(report)?;
    match command {
        ExchangeCommand::Send {
            item,
            to,
            title,
            file,
        } => {
            let (name, content) = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|err| miette::miette!("cannot read stdin: {err}"))?;
                ("<stdin>".to_owned(), s)
            } else {
                let s = std::fs::read_to_string(&file)
                    .map_err(|err| miette::miette!("cannot read {}: {err}", file.display()))?;
                (file.display().to_string(), s)
            };
            let doc = exchange::send(&ctx, &item, &to, title.as_deref(), &name, &content)
                .await
                .map_err(report)?;
            println!(
                "sent {} ({} {} v{}, {}) to {}",
                doc.id, doc.item, doc.item_name, doc.version, doc.exchange, doc.receiver
            );
        }
        ExchangeCommand::Ack { id, note } => {
            let doc = exchange::respond(&ctx, &id, true, note.as_deref())
                .await
                .map_err(report)?;
            println!("acknowledged {}", doc.id);
        }
        ExchangeCommand::Return { id, note } => {
            let doc = exchange::respond(&ctx, &id, false, Some(&note))
                .await
                .map_err(report)?;
            println!("returned {} to {}", doc.id, doc.sender);
        }
        ExchangeCommand::List { item, format } => {
            let docs = exchange::list(&ctx, item.as_deref())
                .await
                .map_err(report)?;
            let rows: Vec<_> = docs.iter().map(json).collect();
            print_rows(
                format,
                &[
                    "id",
                    "item",
                    "item_name",
                    "version",
                    "exchange",
                    "title",
                    "sender",
                    "receiver",
                    "state",
                ],
                &rows,
            );
        }
        ExchangeCommand::Show { id, format } => {
            let doc = exchange::show(&ctx, &id).await.map_err(report)?;
            match format {
                Format::Json => print_json(&doc),
                Format::Table => {
                    println!(
                        "{}  {} {} v{} ({})  {}",
                        doc.id, doc.item, doc.item_name, doc.version, doc.exchange, doc.title
                    );
                    println!(
                        "  from {} ({}) to {}  at {}",
                        doc.sender, doc.sender_role, doc.receiver, doc.sent_at
                    );
                    println!("  state: {}", doc.state);
                    if let (Some(who), Some(at)) = (&doc.responder, &doc.responded_at) {
                        println!(
                            "  by {who} ({}) at {at}",
                            doc.responder_role.as_deref().unwrap_or("")
                        );
                    }
                    if let Some(n) = &doc.response_note {
                        println!("  note: {n}");
                    }
                    println!("  sha256: {}\n", doc.sha256);
                    println!("{}", doc.content.as_deref().unwrap_or_default());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
