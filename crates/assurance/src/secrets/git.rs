//! Every reachable blob of a git repository, scanned exactly once.
//!
//! Runs the `git` CLI (the only process this scanner starts):
//! `git rev-list --all --objects --in-commit-order` names each object once,
//! with the path it was first seen at, after the first commit (in rev-list
//! order, newest first) whose tree holds it; `git cat-file --batch` then
//! streams the objects' contents, and only blobs are scanned.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{
    AllowList, Detector, ScanConfig, SecretReport, SecretsError, SkippedFile, is_binary,
    scan_content,
};

/// Scans every blob reachable from any ref of the repository at `repo`.
/// Findings carry the commit and path the blob was first seen at.
pub fn scan_history(repo: &Path, config: &ScanConfig) -> Result<SecretReport, SecretsError> {
    let allow = AllowList::load(repo)?;
    let detector = Detector::default();
    let git_err = |message: String| SecretsError::Git {
        path: repo.to_owned(),
        message,
    };

    let listing = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-list", "--all", "--objects", "--in-commit-order"])
        .output()
        .map_err(|err| git_err(format!("cannot run git: {err}")))?;
    if !listing.status.success() {
        return Err(git_err(
            String::from_utf8_lossy(&listing.stderr).trim().to_owned(),
        ));
    }
    // Objects with a path (trees and blobs), in order, with the commit before them.
    let mut objects: Vec<(String, String)> = Vec::new();
    let mut commit_of: HashMap<String, String> = HashMap::new();
    let mut commit = String::new();
    for line in String::from_utf8_lossy(&listing.stdout).lines() {
        match line.split_once(' ') {
            None => commit = line.to_owned(),
            Some((_, "")) => {} // a commit's root tree
            Some((oid, path)) => {
                commit_of.insert(oid.to_owned(), commit.clone());
                objects.push((oid.to_owned(), path.to_owned()));
            }
        }
    }

    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| git_err(format!("cannot run git cat-file: {err}")))?;
    let mut stdin = child
        .stdin
        .take()
        .expect("stdin was configured as piped above");
    let stdout = child
        .stdout
        .take()
        .expect("stdout was configured as piped above");
    let requests: Vec<String> = objects.iter().map(|(oid, _)| oid.clone()).collect();
    // Write the requests on another thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || {
        for oid in requests {
            if writeln!(stdin, "{oid}").is_err() {
                break;
            }
        }
    });

    let mut report = SecretReport::default();
    let mut reader = BufReader::new(stdout);
    let mut header = String::new();
    for (oid, path) in &objects {
        header.clear();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return Err(git_err(format!("git cat-file stopped before object {oid}")));
        }
        let mut fields = header.split_whitespace();
        let (_, kind, size) = (fields.next(), fields.next(), fields.next());
        if kind == Some("missing") {
            continue;
        }
        let size: u64 = size.and_then(|s| s.parse().ok()).ok_or_else(|| {
            git_err(format!(
                "unexpected git cat-file header `{}`",
                header.trim()
            ))
        })?;
        // The content, then one newline.
        let mut content = Vec::new();
        let wanted = kind == Some("blob") && size <= config.max_file_size;
        if wanted {
            content.reserve(size as usize);
            (&mut reader)
                .take(size)
                .read_to_end(&mut content)
                .map_err(|err| git_err(format!("reading object {oid}: {err}")))?;
        } else {
            std::io::copy(&mut (&mut reader).take(size), &mut std::io::sink())
                .map_err(|err| git_err(format!("reading object {oid}: {err}")))?;
        }
        let mut newline = [0u8; 1];
        reader
            .read_exact(&mut newline)
            .map_err(|err| git_err(format!("reading object {oid}: {err}")))?;
        if kind != Some("blob") {
            continue;
        }
        if !wanted {
            report.skipped.push(SkippedFile {
                path: format!("{path}@{oid}"),
                reason: format!(
                    "larger than the {} byte limit ({size} bytes)",
                    config.max_file_size
                ),
            });
            continue;
        }
        if allow.allows_path(path, false) {
            continue;
        }
        if is_binary(&content) {
            report.n_binary += 1;
            continue;
        }
        let (mut findings, n_allowed) = scan_content(&detector, &allow, path, &content);
        for f in &mut findings {
            f.commit = commit_of.get(oid).cloned();
        }
        report.n_files += 1;
        report.n_bytes += content.len() as u64;
        report.n_allowed += n_allowed;
        report.findings.extend(findings);
    }
    writer
        .join()
        .map_err(|_| git_err("the request writer thread panicked".into()))?;
    let status = child
        .wait()
        .map_err(|err| git_err(format!("waiting for git cat-file: {err}")))?;
    if !status.success() {
        return Err(git_err(format!("git cat-file exited with {status}")));
    }
    report
        .findings
        .sort_by(|a, b| (&a.path, a.line, &a.commit).cmp(&(&b.path, b.line, &b.commit)));
    Ok(report)
}
