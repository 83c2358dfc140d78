//! Allow-lists: the `.dsoignore` file at the scan root.
//!
//! Each non-empty line that is not a `#` comment is either
//! `fingerprint:<hex>` (a finding's fingerprint, as printed by a scan) or a
//! path pattern with `.gitignore` semantics (`*.pem`, `/fixtures/`, `!keep.txt`).
//! The inline marker `dso:allow` on a line is handled by the detector.

use std::collections::HashSet;
use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::SecretsError;

/// The name of the allow-list file, read from the scan root.
pub const DSOIGNORE: &str = ".dsoignore";

/// Paths and fingerprints that are never reported.
#[derive(Debug, Clone)]
pub struct AllowList {
    paths: Gitignore,
    fingerprints: HashSet<String>,
}

impl AllowList {
    /// An allow-list that allows nothing.
    pub fn empty(root: &Path) -> AllowList {
        AllowList {
            paths: GitignoreBuilder::new(root)
                .build()
                .unwrap_or_else(|_| Gitignore::empty()),
            fingerprints: HashSet::new(),
        }
    }

    /// Reads `root/.dsoignore` if it exists. Errors name the line of a bad pattern.
    pub fn load(root: &Path) -> Result<AllowList, SecretsError> {
        let file = root.join(DSOIGNORE);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(AllowList::empty(root));
            }
            Err(source) => return Err(SecretsError::Read { path: file, source }),
        };
        AllowList::parse(root, &file, &text)
    }

    /// Parses allow-list text; `file` is used in error messages only.
    pub fn parse(root: &Path, file: &Path, text: &str) -> Result<AllowList, SecretsError> {
        let mut builder = GitignoreBuilder::new(root);
        let mut fingerprints = HashSet::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(fp) = line.strip_prefix("fingerprint:") {
                let fp = fp.trim();
                if fp.is_empty() || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(SecretsError::AllowList {
                        path: file.to_owned(),
                        line: idx + 1,
                        message: format!("fingerprint `{fp}` is not hexadecimal"),
                    });
                }
                fingerprints.insert(fp.to_ascii_lowercase());
                continue;
            }
            builder
                .add_line(None, line)
                .map_err(|err| SecretsError::AllowList {
                    path: file.to_owned(),
                    line: idx + 1,
                    message: format!("invalid path pattern `{line}`: {err}"),
                })?;
        }
        let paths = builder.build().map_err(|err| SecretsError::AllowList {
            path: file.to_owned(),
            line: 0,
            message: err.to_string(),
        })?;
        Ok(AllowList {
            paths,
            fingerprints,
        })
    }

    /// True when `rel_path` (relative to the root, `/`-separated) or one of
    /// its parent directories is allow-listed.
    pub fn allows_path(&self, rel_path: &str, is_dir: bool) -> bool {
        // The matcher asserts relative paths; an absolute one is outside the root.
        if rel_path.starts_with('/') {
            return false;
        }
        self.paths
            .matched_path_or_any_parents(rel_path, is_dir)
            .is_ignore()
    }

    /// True when the fingerprint is allow-listed.
    pub fn allows_fingerprint(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }
}
