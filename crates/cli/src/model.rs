//! `dso model`: the PIM as data.

use std::process::ExitCode;

use dso_app::model::{ModelFilter, ModelKind, elements};

use crate::output::{Format, print_rows};

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Which elements to list.
    #[arg(value_enum)]
    kind: Kind,
    /// questions: only those of this role (id or name, e.g. architect).
    #[arg(long)]
    role: Option<String>,
    /// requirements: only those of this maturity level (1-4).
    #[arg(long)]
    level: Option<u8>,
    /// performers: only those of this domain (id or name, e.g. assurance).
    #[arg(long)]
    domain: Option<String>,
    /// roles: only the nine critical roles.
    #[arg(long)]
    critical: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    Domains,
    Performers,
    InformationElements,
    Exchanges,
    Processes,
    Activities,
    Roles,
    Questions,
    Capabilities,
    Requirements,
}

impl Kind {
    fn model_kind(self) -> ModelKind {
        match self {
            Kind::Domains => ModelKind::Domains,
            Kind::Performers => ModelKind::Performers,
            Kind::InformationElements => ModelKind::InformationElements,
            Kind::Exchanges => ModelKind::Exchanges,
            Kind::Processes => ModelKind::Processes,
            Kind::Activities => ModelKind::Activities,
            Kind::Roles => ModelKind::Roles,
            Kind::Questions => ModelKind::Questions,
            Kind::Capabilities => ModelKind::Capabilities,
            Kind::Requirements => ModelKind::Requirements,
        }
    }

    /// The table columns; JSON output carries every field.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Domains => &["id", "name", "performer"],
            Kind::Performers => &["number", "id", "name", "kind", "domain"],
            Kind::InformationElements => &["id", "name"],
            Kind::Exchanges => &["id", "item", "name", "sender", "receiver"],
            Kind::Processes => &["id", "name", "parent", "figure", "steps"],
            Kind::Activities => &["id", "name", "process", "slug"],
            Kind::Roles => &["id", "name", "category", "critical"],
            Kind::Questions => &["role", "number", "text"],
            Kind::Capabilities => &["id", "name", "levels"],
            Kind::Requirements => &["id", "name", "level", "parent", "area"],
        }
    }
}

pub fn run(args: &ModelArgs) -> miette::Result<ExitCode> {
    let filter = ModelFilter {
        role: args.role.clone(),
        level: args.level,
        domain: args.domain.clone(),
        critical: args.critical,
    };
    let rows = elements(args.kind.model_kind(), &filter).map_err(crate::report)?;
    print_rows(args.format, args.kind.columns(), &rows);
    Ok(ExitCode::SUCCESS)
}
