//! The few git facts a run needs, read with the `git` command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::AppError;

/// The commit a run builds, as recorded with the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub sha: String,
    pub author: String,
    pub time: String,
    pub message: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<String, AppError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|err| AppError::Input {
            location: "git".into(),
            message: format!("cannot run git: {err}"),
        })?;
    if !out.status.success() {
        return Err(AppError::Input {
            location: dir.display().to_string(),
            message: format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The top directory of the repository containing `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, AppError> {
    git(dir, &["rev-parse", "--show-toplevel"])
        .map(|s| PathBuf::from(s.trim()))
        .map_err(|_| AppError::Input {
            location: dir.display().to_string(),
            message: "not a git repository (dso runs the pipeline of a commit; use --repo PATH)"
                .into(),
        })
}

/// Resolves `git_ref` to a commit and reads its metadata.
pub fn commit(repo: &Path, git_ref: &str) -> Result<CommitInfo, AppError> {
    let spec = format!("{git_ref}^{{commit}}");
    let sha = git(repo, &["rev-parse", "--verify", "--quiet", &spec])
        .map_err(|_| AppError::Input {
            location: repo.display().to_string(),
            message: format!("`{git_ref}` does not name a commit"),
        })?
        .trim()
        .to_owned();
    let text = git(
        repo,
        &["show", "-s", "--format=%an <%ae>%x00%aI%x00%B", &sha],
    )?;
    let mut parts = text.splitn(3, '\0');
    Ok(CommitInfo {
        sha,
        author: parts.next().unwrap_or_default().to_owned(),
        time: parts.next().unwrap_or_default().to_owned(),
        message: parts.next().unwrap_or_default().trim_end().to_owned(),
    })
}

/// The branch and tag names `git_ref` stands for, for `if:` conditions.
pub fn ref_names(repo: &Path, git_ref: &str, sha: &str) -> (Option<String>, Option<String>) {
    let branch = if git_ref == "HEAD" {
        git(repo, &["symbolic-ref", "--quiet", "--short", "HEAD"])
            .ok()
            .map(|s| s.trim().to_owned())
    } else if git(
        repo,
        &[
            "show-ref",
            "--verify",
            "--quiet",
            &format!("refs/heads/{git_ref}"),
        ],
    )
    .is_ok()
    {
        Some(git_ref.trim_start_matches("refs/heads/").to_owned())
    } else {
        None
    };
    let tag = git(repo, &["tag", "--points-at", sha])
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned));
    (branch.filter(|b| !b.is_empty()), tag)
}

/// Paths changed by the commit (against its first parent; every path for a root commit).
pub fn changed_paths(repo: &Path, sha: &str) -> Vec<String> {
    git(
        repo,
        &[
            "diff-tree",
            "--no-commit-id",
            "--name-only",
            "-r",
            "--root",
            sha,
        ],
    )
    .map(|s| s.lines().map(str::to_owned).collect())
    .unwrap_or_default()
}

/// The content of `path` at commit `sha`, or `None` when absent.
pub fn file_at(repo: &Path, sha: &str, path: &str) -> Option<String> {
    git(repo, &["show", &format!("{sha}:{path}")]).ok()
}

/// Checks `sha` out of `repo` into the new directory `dest`.
pub fn checkout(repo: &Path, sha: &str, dest: &Path) -> Result<(), AppError> {
    let dest_str = dest.display().to_string();
    let repo_str = repo.display().to_string();
    git(
        repo,
        &[
            "clone",
            "--quiet",
            "--shared",
            "--no-checkout",
            &repo_str,
            &dest_str,
        ],
    )?;
    git(dest, &["checkout", "--quiet", "--detach", sha])?;
    Ok(())
}

/// Backlog keys a commit message mentions: `ABC-12` style and `#12` style, in order, once each.
pub fn backlog_keys(message: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if at_word_start && bytes[i] == b'#' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > 0 {
                push_unique(&mut keys, &message[i..i + 1 + digits]);
                i += 1 + digits;
                continue;
            }
        }
        if at_word_start && bytes[i].is_ascii_uppercase() {
            let letters = bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                .count();
            let dash = i + letters;
            if letters >= 2 && bytes.get(dash) == Some(&b'-') {
                let digits = bytes[dash + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let end = dash + 1 + digits;
                let boundary = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
                if digits > 0 && boundary {
                    push_unique(&mut keys, &message[i..end]);
                    i = end;
                    continue;
                }
            }
        }
        i += 1;
    }
    keys
}

fn push_unique(keys: &mut Vec<String>, key: &str) {
    if !keys.iter().any(|k| k == key) {
        keys.push(key.to_owned());
    }
}

/// The commits `to` brings over `from` (newest first): `git rev-list
/// from..to`, or `to` alone when there is no `from` or the repository cannot
/// be read any more.
pub fn commits_between(repo: &Path, from: Option<&str>, to: &str) -> Vec<String> {
    let Some(from) = from.filter(|f| *f != to) else {
        return vec![to.to_owned()];
    };
    let range = format!("{from}..{to}");
    match git(repo, &["rev-list", "--max-count=1000", &range]) {
        Ok(out) => out.lines().map(str::to_owned).collect(),
        Err(_) => vec![to.to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::backlog_keys;

    #[test]
    fn finds_backlog_keys() {
        let check = |msg: &str, expect: &[&str]| assert_eq!(backlog_keys(msg), expect, "{msg}");
        check(
            "ABC-12: fix parser (#7), see ABC-12 and XY2-3",
            &["ABC-12", "#7", "XY2-3"],
        );
        check(
            "no keys here: a-1, A-1 (one letter), x#3, ABC-, ABC-12x",
            &[],
        );
        check("#1\n\nCloses PROJ-100.", &["#1", "PROJ-100"]);
    }
}
