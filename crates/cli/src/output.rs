//! Printing rows as a table for people or as JSON for scripts.

use comfy_table::{ContentArrangement, Table, presets};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// Writes `value` as pretty JSON and a newline to stdout through one buffer:
/// a scan's report (tens of kilobytes) is neither built as a string first
/// nor written a line at a time.
pub fn print_json(value: &impl serde::Serialize) -> miette::Result<()> {
    use std::io::Write as _;
    let fail = |e: &dyn std::fmt::Display| miette::miette!("cannot write to stdout: {e}");
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| fail(&e))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(|e| fail(&e))
}

/// Prints `rows` (JSON objects) as a table with `columns`, or as a JSON list.
pub fn print_rows(format: Format, columns: &[&str], rows: &[serde_json::Value]) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(rows).expect("serde_json::Value always serialises")
        ),
        Format::Table => {
            let mut table = Table::new();
            table
                .load_style(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic);
            if let Some((width, _)) = terminal_width() {
                table.set_width(width);
            }
            table.set_header(columns.iter().map(|c| c.to_uppercase()));
            for row in rows {
                table.add_row(columns.iter().map(|c| cell(row.get(*c))));
            }
            println!("{table}");
            println!(
                "{} {}",
                rows.len(),
                if rows.len() == 1 { "row" } else { "rows" }
            );
        }
    }
}

fn terminal_width() -> Option<(u16, u16)> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .map(|w| (w, 0))
}

/// A JSON value as table text: strings bare, lists joined, objects counted.
fn cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) => {
            if items.iter().all(|i| i.is_string() || i.is_number()) {
                items
                    .iter()
                    .map(|i| cell(Some(i)))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                format!("{} items", items.len())
            }
        }
        Some(serde_json::Value::Object(map)) => format!("{} fields", map.len()),
        Some(other) => other.to_string(),
    }
}
