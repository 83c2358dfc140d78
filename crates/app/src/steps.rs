//! The built-in pipeline steps (`uses: dso/...`) and the security reports
//! (`reports: sarif/cyclonedx/spdx`) a run ingests.
//!
//! A built-in step runs in-process over the run's work directory, with the
//! lifecycle of a script job (`pipeline::execute_job` drives it): its lines
//! go to the job's masked log and to the live output. The scanners
//! (`dso/sca`, `dso/secrets`, `dso/sast`) record their findings under a
//! scope stable across runs of the same repository and job
//! (`pipeline:<repo>/<job>:<path>`), so a later run that no longer sees a
//! finding fixes it, and link the findings they saw to the run in the same
//! transaction; each writes its SARIF 2.1.0 log as a job artifact and
//! succeeds whatever it finds (the gate decides). `dso/sbom` stores its
//! document with the run and as an artifact. `dso/gate` evaluates the
//! policy gate over what the run stored and fails on deny.
//!
//! Scans and file reads that may not return (a FIFO where a `.gitignore`
//! or a policy file is expected waits for a writer) run on a detached
//! thread ([`crate::detached`]), so the job's `timeout:` and the run's
//! cancellation end the step, and `dso run` exits, whatever that thread
//! does; a step stores nothing until that work has returned.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use dso_assurance::findings::Finding;
use dso_audit::NewEvent;
use dso_devtest::{InputKind, Job, StepInput};
use dso_runner::{LogWriter, Masker};
use dso_store::{ArtifactRecord, RunSbomRecord};
use sha2::Digest as _;
use tokio::sync::mpsc;

use crate::pipeline::Progress;
use crate::{AppError, Context};

/// Event types of this module.
pub mod types {
    /// A run stored an SBOM (a step's document or a job's report).
    pub const SBOM_RECORDED: &str = "dev.cdeventsx.dso.sbom.recorded.0.1.0";
}

/// The built-in steps `uses:` may name.
pub const BUILTIN_STEPS: &[&str] = &["dso/sca", "dso/secrets", "dso/sast", "dso/sbom", "dso/gate"];

const SBOM_FORMATS: &[&str] = &["cyclonedx-json", "spdx-json"];

/// The `with` inputs of each built-in step.
pub const INPUTS: &[StepInput<'static>] = &[
    input("dso/sca", "path", InputKind::Path),
    input("dso/secrets", "path", InputKind::Path),
    input("dso/sast", "path", InputKind::Path),
    input("dso/sast", "rules", InputKind::Paths),
    input("dso/sast", "builtin", InputKind::OneOf(&["true", "false"])),
    input("dso/sbom", "path", InputKind::Path),
    input("dso/sbom", "format", InputKind::OneOf(SBOM_FORMATS)),
    input("dso/sbom", "output", InputKind::Path),
    input("dso/gate", "policies", InputKind::Path),
];

const fn input(
    step: &'static str,
    name: &'static str,
    kind: InputKind<'static>,
) -> StepInput<'static> {
    StepInput { step, name, kind }
}

/// A built-in step's log: masked lines, kept gzip-compressed like a script
/// job's and sent to the live output.
pub(crate) struct StepLog<'a> {
    log: LogWriter,
    masker: &'a Masker,
    progress: mpsc::UnboundedSender<Progress>,
    job: String,
}

impl<'a> StepLog<'a> {
    pub(crate) fn new(
        masker: &'a Masker,
        progress: mpsc::UnboundedSender<Progress>,
        job: &str,
    ) -> StepLog<'a> {
        StepLog {
            log: LogWriter::new(),
            masker,
            progress,
            job: job.to_owned(),
        }
    }

    /// The compressed log, its number of lines and of bytes.
    pub(crate) fn finish(self) -> (Vec<u8>, u64, u64) {
        self.log.finish()
    }

    pub(crate) fn line(&mut self, text: impl AsRef<str>) {
        for line in text.as_ref().lines() {
            let masked = self.masker.mask(line);
            self.log.push(&masked);
            let _ = self.progress.send(Progress::Line {
                job: self.job.clone(),
                text: masked,
            });
        }
    }
}

/// What a built-in step needs to know about its run and job.
pub(crate) struct StepEnv<'a> {
    pub(crate) ctx: &'a Context,
    pub(crate) run_id: i64,
    pub(crate) idx: i64,
    pub(crate) job: &'a Job,
    /// The run's checked-out work directory.
    pub(crate) work: PathBuf,
    /// Where the step writes files that are not part of the work tree.
    pub(crate) out_dir: PathBuf,
    /// The repository's name, for finding scopes and SBOM subjects.
    pub(crate) repo: String,
}

/// How a built-in step ended.
pub(crate) struct StepOutcome {
    /// False when the step decided the job fails (a gate's deny).
    pub(crate) ok: bool,
    /// Files the step stored as the job's artifacts.
    pub(crate) artifacts: Vec<ArtifactRecord>,
}

/// Runs built-in step `name` with inputs `with`. An error means the step
/// itself could not do its work (bad input, unreadable tree, store error).
pub(crate) async fn run(
    env: &StepEnv<'_>,
    name: &str,
    with: &BTreeMap<String, String>,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    check_inputs(env, name, with)?;
    match name {
        "dso/sca" => sca(env, with, log).await,
        "dso/secrets" => secrets(env, with, log).await,
        "dso/sast" => sast(env, with, log).await,
        "dso/sbom" => sbom(env, with, log).await,
        "dso/gate" => gate(env, with, log).await,
        other => Err(env.bad(format!(
            "unknown built-in step `{other}`; known steps: {}",
            BUILTIN_STEPS.join(", ")
        ))),
    }
}

impl StepEnv<'_> {
    fn bad(&self, message: String) -> AppError {
        AppError::Input {
            location: self.location(),
            message,
        }
    }

    /// Where input errors of this job are: `job `NAME``.
    fn location(&self) -> String {
        format!("job `{}`", self.job.name)
    }

    /// The finding scope of this job scanning `rel`.
    fn scope(&self, rel: &str) -> String {
        format!("pipeline:{}/{}:{rel}", self.repo, self.job.name)
    }

    /// `rel` (a `with` path) inside the work directory; errors when it
    /// leaves it (also through a symbolic link) or does not exist.
    fn inside(&self, input: &str, rel: &str) -> Result<PathBuf, AppError> {
        let rel_path = Path::new(rel);
        if rel_path.is_absolute()
            || rel_path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            return Err(self.bad(format!(
                "input `{input}`: path `{rel}` leaves the work directory"
            )));
        }
        let path = self.work.join(rel_path);
        let (Ok(real), Ok(root)) = (path.canonicalize(), self.work.canonicalize()) else {
            return Err(self.bad(format!(
                "input `{input}`: `{rel}` does not exist in the checked-out commit"
            )));
        };
        if !real.starts_with(&root) {
            return Err(self.bad(format!(
                "input `{input}`: path `{rel}` leaves the work directory"
            )));
        }
        Ok(path)
    }

    /// `text` with the work directory's absolute paths (and `file://`
    /// URIs of them) made relative.
    fn unrooted(&self, text: &str) -> String {
        let mut roots = vec![self.work.display().to_string()];
        if let Ok(real) = self.work.canonicalize() {
            roots.push(real.display().to_string());
        }
        let mut out = text.to_owned();
        for root in roots {
            let root = root.trim_end_matches('/');
            out = out
                .replace(&format!("file://{root}/"), "")
                .replace(&format!("{root}/"), "");
        }
        out
    }

    /// Writes `bytes` as `name` under the step's output directory and
    /// stores it as an artifact of the job.
    fn artifact(&self, name: &str, bytes: &[u8]) -> Result<ArtifactRecord, AppError> {
        std::fs::create_dir_all(&self.out_dir).map_err(|source| AppError::Write {
            path: self.out_dir.clone(),
            source,
        })?;
        let file = self.out_dir.join(name.replace('/', "_"));
        std::fs::write(&file, bytes).map_err(|source| AppError::Write {
            path: file.clone(),
            source,
        })?;
        let store_dir = self.ctx.workspace.root.join("artifacts").join("sha256");
        let (sha256, size) = crate::artifacts::store_file(&file, &store_dir)?;
        Ok(ArtifactRecord {
            run_id: self.run_id,
            idx: self.idx,
            path: name.to_owned(),
            sha256,
            size: size as i64,
        })
    }
}

/// Checks `with` again at run time: matrix values are only known now, and
/// the pipeline file may have been validated with another list.
fn check_inputs(
    env: &StepEnv<'_>,
    name: &str,
    with: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    for (key, value) in with {
        let Some(input) = INPUTS.iter().find(|i| i.step == name && i.name == key) else {
            let accepted: Vec<&str> = INPUTS
                .iter()
                .filter(|i| i.step == name)
                .map(|i| i.name)
                .collect();
            return Err(env.bad(format!(
                "unknown input `{key}` for `{name}` (it accepts: {})",
                accepted.join(", ")
            )));
        };
        if let InputKind::OneOf(words) = input.kind
            && !words.contains(&value.as_str())
        {
            return Err(env.bad(format!(
                "input `{key}` is `{value}`; use one of: {}",
                words.join(", ")
            )));
        }
    }
    Ok(())
}

/// The `path` input (default `.`), resolved inside the work directory: a
/// directory or a regular file. Anything else (a FIFO, a device) is an
/// error, not a scan of nothing that would pass for a clean result.
fn scan_root(
    env: &StepEnv<'_>,
    with: &BTreeMap<String, String>,
) -> Result<(String, PathBuf), AppError> {
    let raw = with.get("path").map_or(".", String::as_str);
    let path = env.inside("path", raw)?;
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_dir() && !m.is_file()) {
        return Err(env.bad(format!(
            "input `path`: `{raw}` is not a directory or a regular file"
        )));
    }
    let rel = raw.trim_start_matches("./").trim_end_matches('/');
    if rel.is_empty() || rel == "." {
        return Ok((".".to_owned(), env.work.clone()));
    }
    Ok((rel.to_owned(), path))
}

/// A path relative to the scan root as a repository path.
fn repo_path(root_rel: &str, path: &str) -> String {
    if root_rel == "." {
        path.to_owned()
    } else {
        format!("{root_rel}/{path}")
    }
}

/// Runs work that may take long or block (a scan; a read, which on a FIFO
/// waits for a writer) off the async thread, so that the job's timeout and
/// the run's cancellation can abandon it ([`crate::detached`]).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    crate::detached::run("dso-step", f)
        .await
        .map_err(|reason| AppError::Input {
            location: "built-in step".into(),
            message: format!("the step's work failed: {reason}"),
        })?
}

/// Prints the counts by severity and one line per finding.
fn summarise(log: &mut StepLog<'_>, what: &str, findings: &[Finding]) {
    let mut counts: BTreeMap<u8, (&str, usize)> = BTreeMap::new();
    for f in findings {
        let rank = match f.severity.as_str() {
            "critical" => 0,
            "high" => 1,
            "medium" => 2,
            "low" => 3,
            "none" => 4,
            _ => 5,
        };
        counts.entry(rank).or_insert((f.severity.as_str(), 0)).1 += 1;
    }
    let by_severity: Vec<String> = counts
        .values()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    log.line(format!(
        "[dso] {what}: {} finding{}{}",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        if by_severity.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_severity.join(", "))
        }
    ));
    for f in findings {
        let place = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" {file}:{line}"),
            (Some(file), None) => format!(" {file}"),
            _ => String::new(),
        };
        log.line(format!(
            "  {} {}{place}: {}",
            f.severity.as_str(),
            f.rule,
            f.title
        ));
    }
}

fn stored_line(log: &mut StepLog<'_>, stored: &crate::assurance::RecordSummary) {
    log.line(format!(
        "[dso] stored under {}: {} new, {} reopened, {} fixed, {} unchanged",
        stored.scope, stored.new, stored.reopened, stored.fixed, stored.unchanged
    ));
}

/// Records SARIF findings under `scope`, linked to the job; returns the summary.
async fn record(
    env: &StepEnv<'_>,
    scope: &str,
    findings: Vec<Finding>,
    suppress: &std::collections::HashMap<String, String>,
) -> Result<crate::assurance::RecordSummary, AppError> {
    crate::assurance::record_findings_with(
        env.ctx,
        scope,
        findings,
        suppress,
        Some((env.run_id, env.idx)),
    )
    .await
}

fn sarif_bytes(log: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec_pretty(log).expect("JSON values serialise")
}

async fn sca(
    env: &StepEnv<'_>,
    with: &BTreeMap<String, String>,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    let (rel, root) = scan_root(env, with)?;
    let work = env.work.clone();
    let (files, skipped, packages) = blocking(move || {
        let (mut files, skipped, mut packages) =
            crate::assurance::read_tree(&root, dso_assurance::lockfiles::Detail::Matching);
        for p in &mut packages {
            p.file = relative_to(&work, &p.file);
        }
        for f in &mut files {
            f.file = relative_to(&work, &f.file);
        }
        Ok((files, skipped, packages))
    })
    .await?;
    let n_advisories = env.ctx.store.count_advisories().await?;
    if n_advisories == 0 {
        log.line(
            "[dso] warning: the advisory database is empty, so no package can match; \
             import one with `dso advisories import PATH`",
        );
    }
    for s in &skipped {
        log.line(format!("[dso] skipped {}", relative_to(&env.work, s)));
    }
    log.line(format!(
        "[dso] sca: {} packages in {} lockfile{} ({}), {n_advisories} advisories",
        packages.len(),
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        files
            .iter()
            .map(|f| f.file.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let (findings, suppressed) =
        crate::assurance::sca_match(env.ctx, &packages, &Default::default()).await?;
    for s in &suppressed {
        log.line(format!(
            "[dso] {} in {} {} suppressed by VEX: {}",
            s.finding.advisory, s.finding.package, s.finding.version, s.reason
        ));
    }
    let normalised = crate::assurance::normalise_sca(&findings);
    summarise(log, "sca", &normalised);
    let sarif = dso_assurance::sarif::write(&normalised, env!("CARGO_PKG_VERSION"));
    let artifact = env.artifact("sca.sarif", &sarif_bytes(&sarif))?;
    let (to_store, suppress) = crate::assurance::sca_to_store(&findings, &suppressed);
    let stored = record(env, &env.scope(&rel), to_store, &suppress).await?;
    stored_line(log, &stored);
    Ok(StepOutcome {
        ok: true,
        artifacts: vec![artifact],
    })
}

/// `path` relative to the work directory when it lies inside it.
fn relative_to(work: &Path, path: &str) -> String {
    let work_text = work.display().to_string();
    path.strip_prefix(&work_text)
        .map(|rest| {
            let rest = rest.trim_start_matches('/');
            rest.strip_prefix("./").unwrap_or(rest).to_owned()
        })
        .unwrap_or_else(|| path.to_owned())
}

async fn secrets(
    env: &StepEnv<'_>,
    with: &BTreeMap<String, String>,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    let (rel, root) = scan_root(env, with)?;
    let request = crate::scan::SecretScanRequest {
        path: root,
        git_history: false,
        max_file_size: None,
    };
    let prefix = rel.clone();
    let report = blocking(move || {
        let mut report = crate::scan::scan_secrets(&request)?;
        for f in &mut report.findings {
            f.path = repo_path(&prefix, &f.path);
        }
        Ok(report)
    })
    .await?;
    log.line(format!(
        "[dso] secrets: {} files scanned, {} skipped, {} allowed by `dso:allow` or .dsoignore",
        report.n_files,
        report.skipped.len(),
        report.n_allowed
    ));
    let sarif = crate::scan::secrets_sarif(&report);
    sarif_outcome(env, "secrets", &rel, sarif, log).await
}

async fn sast(
    env: &StepEnv<'_>,
    with: &BTreeMap<String, String>,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    let (rel, root) = scan_root(env, with)?;
    let mut rules = Vec::new();
    if let Some(list) = with.get("rules") {
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            rules.push(env.inside("rules", part)?);
        }
    }
    let request = crate::scan::SastScanRequest {
        path: root,
        builtin: with.get("builtin").is_none_or(|b| b == "true"),
        rules,
        max_file_size: None,
    };
    let prefix = rel.clone();
    let scan = blocking(move || {
        let mut scan = crate::scan::scan_sast(&request)?;
        for f in &mut scan.report.findings {
            f.path = repo_path(&prefix, &f.path);
        }
        Ok(scan)
    })
    .await?;
    log.line(format!(
        "[dso] sast: {} rules over {} files, {} skipped",
        scan.report.n_rules,
        scan.report.n_files,
        scan.report.skipped.len()
    ));
    let sarif = crate::scan::sast_sarif(&scan);
    sarif_outcome(env, "sast", &rel, sarif, log).await
}

/// Stores a scanner's SARIF log as an artifact and its results as findings.
async fn sarif_outcome(
    env: &StepEnv<'_>,
    what: &str,
    rel: &str,
    sarif: serde_json::Value,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    let bytes = sarif_bytes(&sarif);
    let name = format!("{what}.sarif");
    let artifact = env.artifact(&name, &bytes)?;
    let text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
    let imported = dso_assurance::sarif::parse(&name, &text).map_err(crate::assurance::input)?;
    summarise(log, what, &imported.findings);
    let stored = record(
        env,
        &env.scope(rel),
        imported.findings,
        &std::collections::HashMap::new(),
    )
    .await?;
    stored_line(log, &stored);
    Ok(StepOutcome {
        ok: true,
        artifacts: vec![artifact],
    })
}

async fn sbom(
    env: &StepEnv<'_>,
    with: &BTreeMap<String, String>,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    let (_rel, root) = scan_root(env, with)?;
    let format = with
        .get("format")
        .map_or("cyclonedx-json", String::as_str)
        .to_owned();
    let default_output = if format == "spdx-json" {
        "sbom.spdx.json"
    } else {
        "sbom.cdx.json"
    };
    let output = with
        .get("output")
        .map_or(default_output, String::as_str)
        .trim_start_matches("./")
        .to_owned();
    let out_rel = Path::new(&output);
    if output.is_empty()
        || out_rel.is_absolute()
        || out_rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(env.bad(format!(
            "input `output`: `{output}` must be a file name inside the work directory"
        )));
    }
    let target = output_target(env, &output)?;
    let work = env.work.clone();
    let subject = env.repo.clone();
    let fmt = format.clone();
    let (doc, skipped, n_packages) = blocking(move || {
        let (_files, skipped, mut packages) =
            crate::assurance::read_tree(&root, dso_assurance::lockfiles::Detail::Full);
        for p in &mut packages {
            p.file = relative_to(&work, &p.file);
        }
        let format = if fmt == "spdx-json" {
            crate::assurance::SbomFormat::SpdxJson
        } else {
            crate::assurance::SbomFormat::CycloneDxJson
        };
        let doc = crate::assurance::sbom_document(&packages, &subject, format);
        Ok((doc, skipped, packages.len()))
    })
    .await?;
    for s in &skipped {
        log.line(format!("[dso] skipped {}", relative_to(&env.work, s)));
    }
    let text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|source| AppError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    write_beneath(&env.work, Path::new(&output), text.as_bytes()).map_err(|source| {
        AppError::Write {
            path: target.clone(),
            source,
        }
    })?;
    let artifact = env.artifact(&output, text.as_bytes())?;
    let record = RunSbomRecord {
        run_id: env.run_id,
        idx: env.idx,
        name: output.clone(),
        format: format.clone(),
        sha256: hex::encode(sha2::Sha256::digest(text.as_bytes())),
        components: n_packages as i64,
        document: text,
    };
    put_sboms(env.ctx, &env.job.name, &[record]).await?;
    log.line(format!(
        "[dso] sbom: {format} with {n_packages} components written to {output}"
    ));
    Ok(StepOutcome {
        ok: true,
        artifacts: vec![artifact],
    })
}

/// Where `dso/sbom` writes `output` (a relative path of normal
/// components) in the work directory. dso writes it itself, outside the
/// sandbox, so a symbolic link in the commit (or made by an earlier job)
/// must not send the write elsewhere: the nearest existing directory on the
/// way must resolve inside the work directory, and an existing `output`
/// must be a regular file (not a link; a FIFO would also block the write).
fn output_target(env: &StepEnv<'_>, output: &str) -> Result<PathBuf, AppError> {
    let target = env.work.join(output);
    let leaves = || {
        env.bad(format!(
            "input `output`: `{output}` leaves the work directory"
        ))
    };
    let root = env.work.canonicalize().map_err(|source| AppError::Read {
        path: env.work.clone(),
        source,
    })?;
    let mut existing = target.parent();
    while let Some(dir) = existing {
        if std::fs::symlink_metadata(dir).is_ok() {
            break;
        }
        existing = dir.parent();
    }
    match existing.map(Path::canonicalize) {
        Some(Ok(real)) if real.starts_with(&root) => {}
        _ => return Err(leaves()),
    }
    match std::fs::symlink_metadata(&target) {
        Ok(meta) if meta.file_type().is_symlink() => Err(env.bad(format!(
            "input `output`: `{output}` is a symbolic link; dso/sbom writes only regular files of the work directory"
        ))),
        Ok(meta) if !meta.is_file() => Err(env.bad(format!(
            "input `output`: `{output}` exists and is not a regular file"
        ))),
        _ => Ok(target),
    }
}

/// Writes `bytes` to `rel` under `root`, resolving the path in one step
/// that follows no symbolic link and never leaves `root` (Linux `openat2`,
/// `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`): a link swapped in after
/// [`output_target`]'s check cannot send the write elsewhere. Only a
/// regular file is written; a FIFO is opened without blocking and refused.
/// Where `openat2` is missing (Linux before 5.6), the checked path is
/// written as it is.
fn write_beneath(root: &Path, rel: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;

    use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
    use nix::sys::stat::Mode;

    let dir = std::fs::File::open(root)?;
    let how = OpenHow::new()
        .flags(
            OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_CLOEXEC,
        )
        .mode(Mode::from_bits_truncate(0o644))
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
    let mut file = match openat2(&dir, rel, how) {
        Ok(fd) => std::fs::File::from(fd),
        Err(nix::errno::Errno::ENOSYS) => return std::fs::write(root.join(rel), bytes),
        Err(nix::errno::Errno::ELOOP | nix::errno::Errno::EXDEV) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a symbolic link on the way, or a path that leaves the work directory",
            ));
        }
        Err(nix::errno::Errno::ENXIO) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO)",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    file.set_len(0)?;
    file.write_all(bytes)
}

/// Stores SBOMs of a run, each with one `sbom.recorded` event, in one transaction.
async fn put_sboms(ctx: &Context, job: &str, records: &[RunSbomRecord]) -> Result<(), AppError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut events = Vec::new();
    for r in records {
        let subject = format!("run-{}/{job}", r.run_id);
        events.push(ctx.stamp(NewEvent {
            ty: types::SBOM_RECORDED.into(),
            subject: Some(subject.clone()),
            data: serde_json::json!({
                "subject": { "id": subject, "content": {
                    "run": format!("run-{}", r.run_id),
                    "job": job,
                    "name": r.name,
                    "format": r.format,
                    "sha256": r.sha256,
                    "components": r.components,
                }},
            }),
        })?);
    }
    let mut tx = ctx.store.begin_write().await?;
    for r in records {
        tx.put_run_sbom(r).await?;
    }
    let appended = tx.append(&events).await?;
    tx.commit().await?;
    crate::events::seal(ctx, &appended).await
}

async fn gate(
    env: &StepEnv<'_>,
    with: &BTreeMap<String, String>,
    log: &mut StepLog<'_>,
) -> Result<StepOutcome, AppError> {
    let pack = match with.get("policies") {
        Some(rel) => {
            let path = env.inside("policies", rel)?;
            let (work, rel, location) = (env.work.clone(), rel.clone(), env.location());
            blocking(move || read_pack(&work, &rel, path, location)).await?
        }
        None => Vec::new(),
    };
    if pack.is_empty() {
        log.line("[dso] gate: the default policy pack");
    } else {
        log.line(format!(
            "[dso] gate: policies {}",
            pack.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let input = crate::gate::run_input(env.ctx, env.run_id).await?;
    let (decision, _appended) =
        crate::gate::eval(env.ctx, &format!("run/{}", env.run_id), input, pack).await?;
    for v in &decision.violations {
        let ids = if v.ids.is_empty() {
            String::new()
        } else {
            format!(" [{}]", v.ids.join(", "))
        };
        log.line(format!("  {}: {}{ids}", v.rule, v.message));
    }
    log.line(format!(
        "[dso] gate: {} ({} violation{})",
        if decision.allow { "allow" } else { "deny" },
        decision.violations.len(),
        if decision.violations.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    Ok(StepOutcome {
        ok: decision.allow,
        artifacts: Vec::new(),
    })
}

/// The `.rego` files of `policies` (`path`, a directory or one file, as
/// `rel` names it), named by their repository path, like `dso gate eval
/// --policies` reads them; errors are located at `location` (the job).
/// It may block (a FIFO waits for a writer): [`blocking`] runs it.
fn read_pack(
    work: &Path,
    rel: &str,
    path: PathBuf,
    location: String,
) -> Result<Vec<(String, String)>, AppError> {
    let mut files = Vec::new();
    if path.is_dir() {
        let entries = std::fs::read_dir(&path).map_err(|source| AppError::Read {
            path: path.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "rego") && p.is_file() {
                files.push(p);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(AppError::Input {
                location,
                message: format!("input `policies`: `{rel}` holds no .rego file"),
            });
        }
    } else {
        files.push(path);
    }
    files
        .into_iter()
        .map(|f| {
            std::fs::read_to_string(&f)
                .map(|text| (relative_to(work, &f.display().to_string()), text))
                .map_err(|source| AppError::Read { path: f, source })
        })
        .collect()
}

/// Reads a job's `sarif`, `cyclonedx` and `spdx` reports: SARIF results
/// become findings (scope `pipeline:<repo>/<job>:<report path>`) linked to
/// the run, SBOMs are stored with the run. A missing or malformed report
/// is a `[dso]` warning (`warn`), never a change of the job's status, and
/// loses nothing stored before it.
pub(crate) async fn ingest_reports(
    env: &StepEnv<'_>,
    warn: &dyn Fn(String),
) -> Result<(), AppError> {
    use dso_devtest::ReportKind;
    let mut sboms = Vec::new();
    for report in &env.job.reports {
        if !matches!(
            report.kind,
            ReportKind::Sarif | ReportKind::Cyclonedx | ReportKind::Spdx
        ) {
            continue;
        }
        let files = match crate::artifacts::expand(
            &env.work,
            &report.path,
            &format!("{} report", report.kind.as_str()),
        ) {
            Ok(files) => files,
            Err(err) => {
                warn(err.to_string());
                continue;
            }
        };
        for file in files {
            let text = match std::fs::read_to_string(env.work.join(&file)) {
                Ok(text) => text,
                Err(err) => {
                    warn(format!("cannot read report {file}: {err}"));
                    continue;
                }
            };
            if report.kind == ReportKind::Sarif {
                // Tools often write absolute paths: make them repository
                // paths, so findings stay the same findings across runs.
                let text = env.unrooted(&text);
                let imported = match dso_assurance::sarif::parse(&file, &text) {
                    Ok(imported) => imported,
                    Err(err) => {
                        warn(format!("report rejected: {}", crate::assurance::input(err)));
                        continue;
                    }
                };
                let n = imported.findings.len();
                let stored = record(
                    env,
                    &env.scope(&file),
                    imported.findings,
                    &std::collections::HashMap::new(),
                )
                .await?;
                warn(format!(
                    "sarif report {file} ({}): {n} findings; {} new, {} reopened, {} fixed",
                    imported.tools.join(", "),
                    stored.new,
                    stored.reopened,
                    stored.fixed
                ));
                continue;
            }
            let (packages, unknown) = match dso_assurance::sbom::parse(&file, &text) {
                Ok(parsed) => parsed,
                Err(err) => {
                    warn(format!("report rejected: {}", crate::assurance::input(err)));
                    continue;
                }
            };
            let format = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(doc) if doc.get("spdxVersion").is_some() => "spdx-json",
                _ => "cyclonedx-json",
            };
            if (format == "spdx-json") != (report.kind == ReportKind::Spdx) {
                warn(format!(
                    "report {file} is declared `{}` but holds {format}; stored as {format}",
                    report.kind.as_str()
                ));
            }
            sboms.push(RunSbomRecord {
                run_id: env.run_id,
                idx: env.idx,
                name: file.clone(),
                format: format.into(),
                sha256: hex::encode(sha2::Sha256::digest(text.as_bytes())),
                components: (packages.len() + unknown) as i64,
                document: text,
            });
        }
    }
    put_sboms(env.ctx, &env.job.name, &sboms).await
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::write_beneath;

    #[test]
    fn writes_beneath_the_root_through_no_link_and_into_no_fifo() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("work");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("out")).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");

        // A regular file is created, then replaced whole.
        write_beneath(&root, Path::new("out/sbom.json"), b"first, longer").expect("writes");
        write_beneath(&root, Path::new("out/sbom.json"), b"second").expect("rewrites");
        assert_eq!(
            std::fs::read(root.join("out/sbom.json")).expect("read"),
            b"second"
        );

        // A link as the file, a link as a directory on the way, `..`: refused,
        // and nothing is written outside.
        std::os::unix::fs::symlink(outside.join("x.json"), root.join("link.json")).expect("ln");
        std::os::unix::fs::symlink(&outside, root.join("linkdir")).expect("ln");
        for rel in ["link.json", "linkdir/x.json", "../outside/x.json"] {
            let err = write_beneath(&root, Path::new(rel), b"x").expect_err(rel);
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{rel}: {err}");
        }
        assert_eq!(std::fs::read_dir(&outside).expect("ls").count(), 0);

        // A FIFO neither blocks the write nor receives it.
        nix::unistd::mkfifo(&root.join("fifo.json"), nix::sys::stat::Mode::S_IRWXU)
            .expect("mkfifo");
        let err = write_beneath(&root, Path::new("fifo.json"), b"x").expect_err("fifo");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    }
}
