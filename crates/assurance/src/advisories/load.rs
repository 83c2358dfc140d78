//! Reading advisory files from a directory tree or an osv.dev `all.zip`.
//!
//! The format is chosen per file: `RUSTSEC-*.md` is RustSec, `*.json` OSV
//! JSON, `*.yaml`/`*.yml` OSV YAML. Other files (READMEs, licences) are not
//! advisories and are passed over silently. A file that fails to parse is
//! recorded as skipped with its file, line and field; the others are read.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::osv::{self, Parsed};
use super::{Advisory, InputError, rustsec};

/// What a load produced.
#[derive(Debug, Default)]
pub struct Loaded {
    pub advisories: Vec<Advisory>,
    /// Ids of withdrawn advisories (ignored).
    pub withdrawn: Vec<String>,
    /// Files that could not be read.
    pub skipped: Vec<InputError>,
    /// Advisory files looked at.
    pub files: usize,
}

impl Loaded {
    fn take(&mut self, result: Result<Vec<Parsed>, InputError>) {
        match result {
            Ok(items) => {
                for item in items {
                    match item {
                        Parsed::Advisory(a) => self.advisories.push(*a),
                        Parsed::Withdrawn(id) => self.withdrawn.push(id),
                    }
                }
            }
            Err(err) => self.skipped.push(err),
        }
    }
}

/// The kind of advisory file a name denotes, if any.
fn kind_of(name: &str) -> Option<&'static str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let collection = name.rsplit('/').nth(2).unwrap_or_default();
    if base.ends_with(".md")
        && (base.starts_with("RUSTSEC-") || collection == "crates" || collection == "rust")
    {
        Some("rustsec")
    } else if base.ends_with(".json") {
        Some("json")
    } else if base.ends_with(".yaml") || base.ends_with(".yml") {
        Some("yaml")
    } else {
        None
    }
}

/// Parses one file's text given its (display) name.
pub fn parse_file(name: &str, text: &str) -> Option<Result<Vec<Parsed>, InputError>> {
    Some(match kind_of(name)? {
        "rustsec" => {
            // `<db>/rust/<package>/RUSTSEC-*.md` is the toolchain collection.
            let toolchain = name
                .rsplit('/')
                .nth(2)
                .is_some_and(|collection| collection == "rust");
            rustsec::parse(name, text, toolchain).map(|p| vec![p])
        }
        "json" => osv::parse_json(name, text),
        _ => osv::parse_yaml(name, text),
    })
}

/// Loads every advisory under `path`: a directory (recursively, skipping
/// hidden directories), an `all.zip`, or a single file.
pub fn load_path(path: &Path) -> Result<Loaded, InputError> {
    let display = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputError::new(&display, e.to_string()))?;
    let mut loaded = Loaded::default();
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|e| InputError::new(&display, e.to_string()))?;
        files.sort();
        for file in files {
            let name = file.display().to_string();
            if kind_of(&name).is_none() {
                continue;
            }
            loaded.files += 1;
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    if let Some(result) = parse_file(&name, &text) {
                        loaded.take(result);
                    }
                }
                Err(e) => loaded.skipped.push(InputError::new(&name, e.to_string())),
            }
        }
    } else if display.ends_with(".zip") {
        let file =
            std::fs::File::open(path).map_err(|e| InputError::new(&display, e.to_string()))?;
        load_zip(&display, file, &mut loaded)?;
    } else {
        let text =
            std::fs::read_to_string(path).map_err(|e| InputError::new(&display, e.to_string()))?;
        loaded.files = 1;
        match parse_file(&display, &text) {
            Some(result) => loaded.take(result),
            None => {
                return Err(InputError::new(
                    &display,
                    "not an advisory file (expected RUSTSEC-*.md, *.json, *.yaml, or a directory or .zip of them)",
                ));
            }
        }
    }
    Ok(loaded)
}

/// Reads every advisory entry of a zip archive (osv.dev's `all.zip`).
pub fn load_zip(
    display: &str,
    reader: impl Read + std::io::Seek,
    loaded: &mut Loaded,
) -> Result<(), InputError> {
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|e| InputError::new(display, format!("not a zip archive: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(entry) => entry,
            Err(e) => {
                loaded
                    .skipped
                    .push(InputError::new(format!("{display}[{i}]"), e.to_string()));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = format!("{display}!{}", entry.name().unwrap_or_default());
        if kind_of(&name).is_none() {
            continue;
        }
        loaded.files += 1;
        let mut text = String::new();
        if let Err(e) = entry.read_to_string(&mut text) {
            loaded.skipped.push(InputError::new(&name, e.to_string()));
            continue;
        }
        if let Some(result) = parse_file(&name, &text) {
            loaded.take(result);
        }
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let ty = entry.file_type()?;
        if ty.is_dir() {
            if !hidden {
                walk(&path, out)?;
            }
        } else if ty.is_file() {
            out.push(path);
        }
    }
    Ok(())
}
