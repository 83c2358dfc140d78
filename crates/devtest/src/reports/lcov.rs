//! LCOV tracefiles (`geninfo(1)` format), as written by lcov, coverage.py,
//! Istanbul/c8/nyc, grcov, cargo-llvm-cov and others.
//!
//! Records: `TN`, `SF`, `FN` (`line,name` or lcov 2's `line,end,name`),
//! `FNDA`, `FNF`, `FNH`, `FNL`/`FNA` (lcov 2.2 functions), `DA`
//! (`line,hits[,checksum]`), `BRDA` (`line,block,branch,taken`, `taken` is
//! `-` for a branch never evaluated), `BRF`, `BRH`, `LF`, `LH`,
//! `end_of_record`. Other upper-case `KEY:` records (`VER`, `MCDC`, ...)
//! are ignored, so newer files still parse.
//!
//! - The details win: `LF`/`LH`, `BRF`/`BRH` and `FNF`/`FNH` are recomputed
//!   from `DA`, `BRDA` and `FN`/`FNDA`; a declared total that disagrees adds
//!   a diagnostic. A record with no detail of a kind keeps its declared
//!   totals (summary-only tracefiles).
//! - A file that appears in several records (one per test name) is merged,
//!   as `lcov -a` does: line and function hits add up, a branch is hit when
//!   any record took it.
//! - A line that is not a record (garbage) adds a diagnostic naming it and
//!   is skipped; a text with no `SF:` record at all is not LCOV and fails.

use std::collections::HashMap;

use super::coverage::{CoverageReport, FileAccumulator};
use super::{Diagnostics, ReportError, capped_message, check_size, parse_count};

/// Parses an LCOV tracefile; see the module documentation for the rules.
///
/// Errors when the text is larger than
/// [`MAX_REPORT_BYTES`](super::MAX_REPORT_BYTES) or has non-blank lines but
/// no `SF:` record. Bad lines are skipped and reported in
/// [`CoverageReport::diagnostics`].
pub fn parse_lcov(file_name: &str, text: &str) -> Result<CoverageReport, ReportError> {
    check_size(file_name, text.len())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut diagnostics = Diagnostics::new(file_name);
    let mut files: Vec<FileAccumulator> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut current: Option<FileAccumulator> = None;
    let mut seen_file = false;
    let mut first_content_line = None;
    let mut line_no = 0u64;
    for raw in text.lines() {
        line_no += 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        first_content_line.get_or_insert(line_no);
        if line == "end_of_record" {
            match current.take() {
                Some(record) => {
                    check_declared(&record, line_no, &mut diagnostics);
                    merge(&mut files, &mut index, record);
                }
                None => diagnostics.push(line_no, "`end_of_record` without a file record"),
            }
            continue;
        }
        let record = line.split_once(':').filter(|(key, _)| {
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        });
        let Some((key, value)) = record else {
            let message = format!("not an LCOV record: `{}`", capped_message(line));
            diagnostics.push(line_no, message);
            continue;
        };
        let value = value.trim();
        match key {
            "TN" | "VER" => continue,
            "SF" => {
                if let Some(record) = current.take() {
                    diagnostics.push(
                        line_no,
                        "`SF:` before the `end_of_record` of the previous file",
                    );
                    merge(&mut files, &mut index, record);
                }
                seen_file = true;
                if value.is_empty() {
                    diagnostics.push(line_no, "`SF:` without a path");
                } else {
                    current = Some(FileAccumulator {
                        path: value.to_owned(),
                        ..FileAccumulator::default()
                    });
                }
                continue;
            }
            _ => {}
        }
        let Some(record) = current.as_mut() else {
            let known = matches!(
                key,
                "DA" | "FN"
                    | "FNDA"
                    | "FNF"
                    | "FNH"
                    | "FNL"
                    | "FNA"
                    | "BRDA"
                    | "BRF"
                    | "BRH"
                    | "LF"
                    | "LH"
            );
            if known {
                diagnostics.push(line_no, format!("`{key}:` outside a file record"));
            }
            continue;
        };
        if let Err(problem) = apply(record, key, value) {
            diagnostics.push(line_no, format!("`{key}:` {problem}"));
        }
    }
    if let Some(record) = current.take() {
        diagnostics.push(line_no, "the last file record has no `end_of_record`");
        merge(&mut files, &mut index, record);
    }
    if !seen_file && let Some(line) = first_content_line {
        return Err(ReportError::new(
            file_name,
            Some(line),
            "not an LCOV file: no `SF:` record",
        ));
    }
    Ok(CoverageReport {
        files: files.into_iter().map(FileAccumulator::finish).collect(),
        diagnostics: diagnostics.finish(),
    })
}

/// Applies one record line to the open file record; errors with a phrase
/// to follow the record's key.
fn apply(record: &mut FileAccumulator, key: &str, value: &str) -> Result<(), String> {
    match key {
        "DA" => {
            let mut fields = value.split(',');
            let line = line_number(fields.next().unwrap_or_default())?;
            let hits = field::<u64>(fields.next(), "hit count")?;
            let entry = record.lines.entry(line).or_default();
            *entry = entry.saturating_add(hits);
        }
        "FN" => {
            let (line, rest) = value.split_once(',').ok_or("has no function name")?;
            line_number(line)?;
            // lcov 2 writes `FN:start,end,name`; a name may contain commas.
            let name = match rest.split_once(',') {
                Some((end, name)) if end.trim().bytes().all(|b| b.is_ascii_digit()) => name,
                _ => rest,
            };
            record.functions.entry(function_name(name)?).or_default();
        }
        "FNDA" => {
            let (hits, name) = value.split_once(',').ok_or("has no function name")?;
            let hits = field::<u64>(Some(hits), "hit count")?;
            let entry = record.functions.entry(function_name(name)?).or_default();
            *entry = entry.saturating_add(hits);
        }
        "FNA" => {
            let mut fields = value.splitn(3, ',');
            fields.next();
            let hits = field::<u64>(fields.next(), "hit count")?;
            let name = fields.next().ok_or("has no function name")?;
            let entry = record.functions.entry(function_name(name)?).or_default();
            *entry = entry.saturating_add(hits);
        }
        "BRDA" => {
            let (line, rest) = value.split_once(',').ok_or("needs 4 fields")?;
            let line = line_number(line)?;
            let (id, taken) = rest.rsplit_once(',').ok_or("needs 4 fields")?;
            if !id.contains(',') {
                return Err("needs 4 fields".to_owned());
            }
            let taken = match taken.trim() {
                "-" => 0,
                taken => field::<u64>(Some(taken), "taken count")?,
            };
            let hit = u32::from(taken > 0);
            let entry = record
                .branches
                .entry(format!("{line},{id}"))
                .or_insert((1, 0));
            entry.1 = entry.1.max(hit);
        }
        "LF" => record.declared.lines_found = Some(field(Some(value), "count")?),
        "LH" => record.declared.lines_hit = Some(field(Some(value), "count")?),
        "BRF" => record.declared.branches_found = Some(field(Some(value), "count")?),
        "BRH" => record.declared.branches_hit = Some(field(Some(value), "count")?),
        "FNF" => record.declared.functions_found = Some(field(Some(value), "count")?),
        "FNH" => record.declared.functions_hit = Some(field(Some(value), "count")?),
        // `FNL` (function line ranges) adds nothing `FNA` does not; unknown
        // keys are newer records.
        _ => {}
    }
    Ok(())
}

fn field<T: std::str::FromStr>(value: Option<&str>, what: &str) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("has no {what}"))?;
    parse_count(value).map_err(|problem| format!("{what} {problem}"))
}

fn line_number(value: &str) -> Result<u32, String> {
    match parse_count::<u32>(value) {
        Ok(0) => Err("line number is 0".to_owned()),
        Ok(line) => Ok(line),
        Err(problem) => Err(format!("line number {problem}")),
    }
}

fn function_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("has no function name".to_owned());
    }
    Ok(name.to_owned())
}

/// Adds a diagnostic for each declared total that disagrees with the
/// record's details.
fn check_declared(record: &FileAccumulator, line_no: u64, diagnostics: &mut Diagnostics<'_>) {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let declared = record.declared;
    let mut checks = Vec::new();
    if !record.lines.is_empty() {
        let hit = record.lines.values().filter(|&&hits| hits > 0).count();
        checks.push(("LF", declared.lines_found, count(record.lines.len()), "DA"));
        checks.push(("LH", declared.lines_hit, count(hit), "DA"));
    }
    if !record.branches.is_empty() {
        let (found, hit) = record
            .branches
            .values()
            .fold((0u32, 0u32), |(found, hit), &(f, h)| {
                (found.saturating_add(f), hit.saturating_add(h))
            });
        checks.push(("BRF", declared.branches_found, found, "BRDA"));
        checks.push(("BRH", declared.branches_hit, hit, "BRDA"));
    }
    if !record.functions.is_empty() {
        let hit = record.functions.values().filter(|&&hits| hits > 0).count();
        let found = count(record.functions.len());
        checks.push(("FNF", declared.functions_found, found, "FN"));
        checks.push(("FNH", declared.functions_hit, count(hit), "FN"));
    }
    for (key, declared, counted, detail) in checks {
        if let Some(declared) = declared
            && declared != counted
        {
            diagnostics.push(
                line_no,
                format!(
                    "`{}`: `{key}:{declared}` disagrees with its `{detail}:` records, \
                     which count {counted}; using {counted}",
                    record.path
                ),
            );
        }
    }
}

/// Adds a finished record to the files, merging it into an earlier record
/// of the same path.
fn merge(
    files: &mut Vec<FileAccumulator>,
    index: &mut HashMap<String, usize>,
    record: FileAccumulator,
) {
    let Some(&at) = index.get(&record.path) else {
        index.insert(record.path.clone(), files.len());
        files.push(record);
        return;
    };
    let Some(file) = files.get_mut(at) else {
        return;
    };
    for (line, hits) in record.lines {
        let entry = file.lines.entry(line).or_default();
        *entry = entry.saturating_add(hits);
    }
    for (id, (found, hit)) in record.branches {
        let entry = file.branches.entry(id).or_insert((found, 0));
        entry.1 = entry.1.max(hit);
    }
    for (name, hits) in record.functions {
        let entry = file.functions.entry(name).or_default();
        *entry = entry.saturating_add(hits);
    }
    let add = |a: Option<u32>, b: Option<u32>| match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    let (a, b) = (&mut file.declared, record.declared);
    a.lines_found = add(a.lines_found, b.lines_found);
    a.lines_hit = add(a.lines_hit, b.lines_hit);
    a.branches_found = add(a.branches_found, b.branches_found);
    a.branches_hit = add(a.branches_hit, b.branches_hit);
    a.functions_found = add(a.functions_found, b.functions_found);
    a.functions_hit = add(a.functions_hit, b.functions_hit);
}
