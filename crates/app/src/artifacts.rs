//! The content-addressed artifact store: `artifacts/sha256/ab/cdef...` in the workspace.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use sha2::Digest as _;

use crate::AppError;

/// The work-directory-relative files an `artifacts:` entry names: a file, a
/// directory (every file beneath it), or a glob (`*`, `**`, `?`).
///
/// Errors on an absolute path or one with `..`, and when nothing matches.
/// Symbolic links are never followed, so nothing outside the work directory
/// is ever stored.
pub fn expand(work: &Path, pattern: &str, what: &str) -> Result<Vec<String>, AppError> {
    let bad = |message: &str| AppError::Input {
        location: format!("{what} `{pattern}`"),
        message: message.to_owned(),
    };
    let rel = Path::new(pattern);
    if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(bad(
            "paths are relative to the work directory and may not contain `..`",
        ));
    }
    let mut out = Vec::new();
    if pattern.contains(['*', '?', '[']) {
        walk(work, work, &mut |rel| {
            if dso_devtest::glob::matches(pattern, rel) {
                out.push(rel.to_owned());
            }
        })?;
    } else {
        let path = work.join(rel);
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|_| bad("no such file or directory in the work directory"))?;
        if meta.is_dir() {
            walk(work, &path, &mut |rel| out.push(rel.to_owned()))?;
        } else if meta.is_file() {
            out.push(pattern.trim_start_matches("./").to_owned());
        } else {
            return Err(bad("not a regular file or directory"));
        }
    }
    if out.is_empty() {
        return Err(bad("matched no file in the work directory"));
    }
    out.sort();
    Ok(out)
}

fn walk(work: &Path, dir: &Path, found: &mut dyn FnMut(&str)) -> Result<(), AppError> {
    let entries = std::fs::read_dir(dir).map_err(|source| AppError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            walk(work, &path, found)?;
        } else if meta.is_file()
            && let Ok(rel) = path.strip_prefix(work)
        {
            found(&rel.to_string_lossy());
        }
    }
    Ok(())
}

/// Copies `file` into the store under its SHA-256 (once); returns (hex digest, size).
pub fn store_file(file: &Path, store_dir: &Path) -> Result<(String, u64), AppError> {
    let read_err = |source| AppError::Read {
        path: file.to_path_buf(),
        source,
    };
    let mut hasher = sha2::Sha256::new();
    let mut reader = std::fs::File::open(file).map_err(read_err)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex = hex::encode(hasher.finalize());
    let dest = object_path(store_dir, &hex);
    if !dest.exists() {
        let parent = dest.parent().expect("an object path always has a parent");
        std::fs::create_dir_all(parent).map_err(|source| AppError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
        // Copy then rename, so a crash never leaves a truncated object under its digest.
        let partial = parent.join(format!(".{hex}.partial"));
        std::fs::copy(file, &partial).map_err(|source| AppError::Write {
            path: partial.clone(),
            source,
        })?;
        std::fs::rename(&partial, &dest).map_err(|source| AppError::Write {
            path: dest.clone(),
            source,
        })?;
    }
    Ok((hex, size))
}

/// Where the object with digest `hex` lives.
pub fn object_path(store_dir: &Path, hex: &str) -> PathBuf {
    store_dir.join(&hex[..2]).join(&hex[2..])
}
