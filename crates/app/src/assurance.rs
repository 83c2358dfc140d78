//! Assurance use cases: the advisory database, software composition
//! analysis, SARIF import and the findings store with triage.
//!
//! Every state change is one transaction with its events: an advisory import
//! is one `advisories.imported` event; each finding transition (created,
//! reopened, fixed, triaged) is one event whose subject is the finding id.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use dso_assurance::advisories::load::load_path;
use dso_assurance::advisories::merge::merge;
use dso_assurance::advisories::{Advisory, InputError};
use dso_assurance::findings::vex::{self, Statement, VexStatus};
use dso_assurance::findings::{self, Finding, Known, Status, reconcile, short_id};
use dso_assurance::lockfiles::{self, LockKind, Package};
use dso_assurance::sca::{Index, NotMatched, ScaFinding, Target};
use dso_assurance::versions::Ecosystem;
use dso_audit::NewEvent;
use dso_store::{AdvisoryRecordRow, AdvisoryRow, AdvisorySourceRow, AppendedEntry, VexRow};
pub use dso_store::{FindingQuery, FindingRow};
use serde::Serialize;

use crate::{AppError, Context};

/// Event types of this area.
pub mod types {
    pub const ADVISORIES_IMPORTED: &str = "dev.cdeventsx.dso.advisories.imported.0.1.0";
    pub const FINDING_CREATED: &str = "dev.cdeventsx.dso.finding.created.0.1.0";
    pub const FINDING_REOPENED: &str = "dev.cdeventsx.dso.finding.reopened.0.1.0";
    pub const FINDING_FIXED: &str = "dev.cdeventsx.dso.finding.fixed.0.1.0";
    pub const FINDING_TRIAGED: &str = "dev.cdeventsx.dso.finding.triaged.0.1.0";
    pub const SBOM_IMPORTED: &str = "dev.cdeventsx.dso.sbom.imported.0.1.0";
    pub const VEX_IMPORTED: &str = "dev.cdeventsx.dso.vex.imported.0.1.0";
}

pub(crate) fn input(err: InputError) -> AppError {
    let location = match err.line {
        Some(line) => format!("{}:{line}", err.file),
        None => err.file.clone(),
    };
    let message = match &err.field {
        Some(f) => format!("field `{f}`: {}", err.message),
        None => err.message.clone(),
    };
    AppError::Input { location, message }
}

fn now() -> String {
    dso_audit::format_time(jiff::Timestamp::now())
}

/// Signs the checkpoints that fall due among `appended` entries.
async fn sign_due_checkpoints(ctx: &Context, appended: &[AppendedEntry]) -> Result<(), AppError> {
    crate::events::seal(ctx, appended).await
}

/// What an advisory import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub source: String,
    pub files: usize,
    pub records: usize,
    pub withdrawn: usize,
    /// Files that could not be read: `file:line: field: message`.
    pub skipped: Vec<String>,
    /// Vulnerabilities in the database after merging by alias.
    pub advisories: usize,
}

/// Imports advisories from a directory, an OSV `all.zip` or one file.
///
/// Bad files are skipped and reported; the others are imported. Records
/// replace earlier records with the same id, withdrawn ids are removed, and
/// the merged view is rebuilt over every record held.
pub async fn import_advisories(ctx: &Context, path: &Path) -> Result<ImportSummary, AppError> {
    authorize_advisory_import(ctx).await?;
    let loaded = load_path(path).map_err(input)?;
    import_loaded(ctx, path.display().to_string(), loaded, None).await
}

async fn authorize_advisory_import(ctx: &Context) -> Result<(), AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::FindingTriage,
        &dso_governance::rbac::Resource::kind("advisories"),
    )
    .await?;
    Ok(())
}

/// Stores loaded advisory records and rebuilds the merged view, with one
/// `advisories.imported` event; `fetched` (a sync's validators) is written
/// in the same transaction.
async fn import_loaded(
    ctx: &Context,
    source: String,
    loaded: dso_assurance::advisories::load::Loaded,
    fetched: Option<AdvisorySourceRow>,
) -> Result<ImportSummary, AppError> {
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    for r in ctx.store.advisory_records().await? {
        if let Ok(a) = serde_json::from_str::<Advisory>(&r.data) {
            by_id.insert(r.id, a);
        }
    }
    let mut new_rows = Vec::with_capacity(loaded.advisories.len());
    for a in &loaded.advisories {
        new_rows.push(AdvisoryRecordRow {
            id: a.id.clone(),
            source: a.sources.first().cloned().unwrap_or_default(),
            data: serde_json::to_string(a).expect("advisories serialise"),
        });
        by_id.insert(a.id.clone(), a.clone());
    }
    new_rows.dedup_by(|a, b| a.id == b.id);
    for id in &loaded.withdrawn {
        by_id.remove(id);
    }
    let merged = merge(by_id.into_values().collect());
    let rows: Vec<AdvisoryRow> = merged
        .iter()
        .map(|a| AdvisoryRow {
            id: a.id.clone(),
            severity: a.severity.as_str().into(),
            summary: a.summary.clone(),
            modified: a.modified.clone(),
            data: serde_json::to_string(a).expect("advisories serialise"),
            matching: serde_json::to_string(&Advisory {
                details: String::new(),
                references: Vec::new(),
                sources: Vec::new(),
                cvss_vectors: Vec::new(),
                ..a.clone()
            })
            .expect("advisories serialise"),
            aliases: a.ids().map(str::to_owned).collect(),
            packages: a
                .packages()
                .into_iter()
                .map(|(e, n)| (e.as_str().to_owned(), n))
                .collect(),
        })
        .collect();
    let summary = ImportSummary {
        source,
        files: loaded.files,
        records: loaded.advisories.len(),
        withdrawn: loaded.withdrawn.len(),
        skipped: loaded.skipped.iter().map(ToString::to_string).collect(),
        advisories: rows.len(),
    };
    let event = ctx.stamp(NewEvent {
        ty: types::ADVISORIES_IMPORTED.into(),
        subject: Some(summary.source.clone()),
        data: serde_json::json!({
            "source": summary.source,
            "files": summary.files,
            "records": summary.records,
            "withdrawn": loaded.withdrawn,
            "skipped": summary.skipped.len(),
            "advisories": summary.advisories,
        }),
    })?;
    let mut tx = ctx.store.begin_write().await?;
    tx.put_advisory_records(&new_rows, &loaded.withdrawn)
        .await?;
    tx.replace_advisories(&rows).await?;
    if let Some(row) = &fetched {
        tx.put_advisory_source(row).await?;
    }
    let appended = tx.append(&[event]).await?;
    tx.commit().await?;
    sign_due_checkpoints(ctx, &appended).await?;
    ctx.store.checkpoint_log().await?;
    Ok(summary)
}

/// The default size limit of one download of `dso advisories sync` (MiB).
pub const SYNC_DEFAULT_MAX_MIB: u64 = 1024;

/// What `dso advisories sync` did with one URL.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOutcome {
    pub url: String,
    /// `imported`; `not_modified` (the server answered 304 to the
    /// conditional GET); `unchanged` (the same bytes as the last import).
    pub status: &'static str,
    /// Bytes downloaded (0 when not modified).
    pub bytes: u64,
    pub import: Option<ImportSummary>,
}

/// Downloads an osv.dev-style `all.zip` from `url` and imports it like
/// `dso advisories import` does (same merge and alias rules).
///
/// HTTPS only (plain HTTP only to a loopback host, for tests and local
/// mirrors); redirects must stay on HTTPS. The GET is conditional on the
/// ETag / Last-Modified the server sent last time, so an unchanged source is
/// neither downloaded nor imported again; a source whose bytes did not
/// change is not imported again either. The body streams to a temporary
/// file and may not exceed `max_bytes`. A download that fails (status, size,
/// network) or is not a zip archive changes nothing stored.
pub async fn sync_advisories(
    ctx: &Context,
    url: &str,
    max_bytes: u64,
) -> Result<SyncOutcome, AppError> {
    authorize_advisory_import(ctx).await?;
    check_sync_url(url)?;
    let prior = ctx.store.advisory_source(url).await?;
    let fetch_url = url.to_owned();
    let validators = prior.clone();
    let fetched =
        tokio::task::spawn_blocking(move || download(&fetch_url, validators.as_ref(), max_bytes))
            .await
            .map_err(|e| AppError::Input {
                location: url.to_owned(),
                message: format!("the download task failed: {e}"),
            })??;
    let Some(fetched) = fetched else {
        return Ok(SyncOutcome {
            url: url.to_owned(),
            status: "not_modified",
            bytes: 0,
            import: None,
        });
    };
    let row = AdvisorySourceRow {
        url: url.to_owned(),
        etag: fetched.etag,
        last_modified: fetched.last_modified,
        sha256: fetched.sha256,
        bytes: i64::try_from(fetched.bytes).unwrap_or(i64::MAX),
        fetched_at: now(),
    };
    if prior.as_ref().is_some_and(|p| p.sha256 == row.sha256) {
        // Same bytes as last time (a server without validators): remember
        // the new validators, import nothing.
        let mut tx = ctx.store.begin_write().await?;
        tx.put_advisory_source(&row).await?;
        tx.commit().await?;
        return Ok(SyncOutcome {
            url: url.to_owned(),
            status: "unchanged",
            bytes: fetched.bytes,
            import: None,
        });
    }
    let mut loaded = dso_assurance::advisories::load::Loaded::default();
    let file = fetched.file.reopen().map_err(|source| AppError::Read {
        path: fetched.file.path().to_owned(),
        source,
    })?;
    dso_assurance::advisories::load::load_zip(url, std::io::BufReader::new(file), &mut loaded)
        .map_err(input)?;
    let import = import_loaded(ctx, url.to_owned(), loaded, Some(row)).await?;
    Ok(SyncOutcome {
        url: url.to_owned(),
        status: "imported",
        bytes: fetched.bytes,
        import: Some(import),
    })
}

/// Refuses anything but `https://`, and `http://` to a loopback host.
fn check_sync_url(url: &str) -> Result<(), AppError> {
    let bad = |message: String| AppError::Input {
        location: url.to_owned(),
        message,
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("not a URL (expected https://HOST/PATH)".into()))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(bad("the URL has no host".into()));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(bad(
            "plain http is allowed only to a loopback host (localhost, 127.0.0.1, [::1]); use https"
                .into(),
        )),
        other => Err(bad(format!("unsupported scheme `{other}` (use https)"))),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A completed download.
struct Fetched {
    file: tempfile::NamedTempFile,
    bytes: u64,
    sha256: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// GETs `url` into a temporary file (`None`: 304 Not Modified).
fn download(
    url: &str,
    prior: Option<&AdvisorySourceRow>,
    max_bytes: u64,
) -> Result<Option<Fetched>, AppError> {
    use sha2::Digest as _;
    use std::io::{Read as _, Write as _};
    let fail = |message: String| AppError::Input {
        location: url.to_owned(),
        message,
    };
    let https = url.to_ascii_lowercase().starts_with("https://");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .https_only(https)
        .max_redirects(if https { 5 } else { 0 })
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .timeout_recv_response(Some(std::time::Duration::from_secs(60)))
        .timeout_recv_body(Some(std::time::Duration::from_secs(60 * 30)))
        .user_agent(concat!("dso/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(p) = prior {
        if let Some(etag) = &p.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(lm) = &p.last_modified {
            request = request.header("If-Modified-Since", lm);
        }
    }
    let mut response = request
        .call()
        .map_err(|e| fail(format!("download failed: {e}")))?;
    let status = response.status();
    if status.as_u16() == 304 {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(fail(format!(
            "the server answered {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        )));
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let etag = header("etag");
    let last_modified = header("last-modified");
    if let Some(len) = response.body().content_length()
        && len > max_bytes
    {
        return Err(fail(format!(
            "the file is {len} bytes, over the limit of {max_bytes} (raise --max-mib)"
        )));
    }
    let mut file = tempfile::NamedTempFile::new().map_err(|source| AppError::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut reader = response.body_mut().with_config().limit(max_bytes).reader();
    let mut hasher = sha2::Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let message = if e.to_string().contains("limit") {
                    format!("the download exceeds the limit of {max_bytes} bytes (raise --max-mib)")
                } else {
                    format!("download failed after {bytes} bytes: {e}")
                };
                return Err(fail(message));
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|source| AppError::Write {
                path: file.path().to_owned(),
                source,
            })?;
        bytes += n as u64;
    }
    file.flush().map_err(|source| AppError::Write {
        path: file.path().to_owned(),
        source,
    })?;
    Ok(Some(Fetched {
        file,
        bytes,
        sha256: hex::encode(hasher.finalize()),
        etag,
        last_modified,
    }))
}

/// The advisory with `id` as its id or one of its aliases.
pub async fn show_advisory(ctx: &Context, id: &str) -> Result<Advisory, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::one("advisory", id),
    )
    .await?;
    let data = ctx
        .store
        .advisory_by_any_id(id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "advisory",
            value: id.to_owned(),
            hint: Some("import a database first: `dso advisories import PATH`".into()),
        })?;
    serde_json::from_str(&data).map_err(|e| AppError::Input {
        location: format!("advisory {id}"),
        message: format!("stored advisory is unreadable: {e}"),
    })
}

/// One lockfile read by a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedFile {
    pub file: String,
    pub kind: LockKind,
    pub packages: usize,
}

/// How findings were stored.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordSummary {
    pub scope: String,
    pub new: usize,
    pub reopened: usize,
    pub fixed: usize,
    pub unchanged: usize,
    /// The ids of the findings this scan saw (stored, in scan order).
    #[serde(skip)]
    pub ids: Vec<String>,
}

/// The result of `dso scan sca`.
#[derive(Debug, Clone, Serialize)]
pub struct ScaReport {
    pub files: Vec<ScannedFile>,
    pub skipped: Vec<String>,
    pub packages: usize,
    pub advisories: i64,
    pub findings: Vec<ScaFinding>,
    /// Packages not matched by version (built from git or a local path), with why.
    pub not_matched: Vec<NotMatched>,
    /// Findings a VEX `not_affected` statement suppresses (not in `findings`).
    pub suppressed: Vec<Suppressed>,
    pub stored: Option<RecordSummary>,
}

/// An SCA finding suppressed by a VEX statement.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    pub finding: ScaFinding,
    pub reason: String,
}

/// Options of a composition scan.
#[derive(Debug, Clone, Default)]
pub struct ScaOptions {
    pub path: PathBuf,
    /// Store the findings (and fix the scope's absent ones).
    pub store: bool,
    /// Scan the packages of this SBOM instead of the lockfiles under `path`.
    pub sbom: Option<PathBuf>,
    /// The platform: advisories limited to other operating systems or
    /// architectures do not match (default: every platform, as cargo-audit).
    pub target: Target,
}

/// Matches packages against the stored advisories (only the advisories
/// that name one of the packages are loaded).
pub async fn match_packages(
    ctx: &Context,
    packages: &[Package],
    target: &Target,
) -> Result<Vec<ScaFinding>, AppError> {
    let mut by_eco: HashMap<&Ecosystem, HashSet<Cow<'_, str>>> = HashMap::new();
    for p in packages {
        by_eco
            .entry(&p.ecosystem)
            .or_default()
            .insert(p.ecosystem.normalize_name(&p.name));
    }
    // One row per ecosystem holds the whole name index; only the matching
    // advisories' JSON is then read.
    let mut ids: Vec<String> = Vec::new();
    for (eco, names) in &by_eco {
        let index = ctx.store.advisory_package_index(eco.as_str()).await?;
        for (name, id) in index.entries() {
            if names.contains(name) {
                ids.push(id.to_owned());
            }
        }
    }
    ids.sort();
    ids.dedup();
    let mut advisories = Vec::with_capacity(ids.len());
    for data in ctx.store.advisories_by_ids(&ids).await? {
        if let Ok(a) = serde_json::from_str::<Advisory>(&data) {
            advisories.push(a);
        }
    }
    Ok(Index::new(advisories).scan_for(packages, target))
}

/// Reads every lockfile under `path`; unreadable or malformed ones are
/// returned as skipped (`file:line: field: message`).
pub fn read_tree(
    path: &Path,
    detail: lockfiles::Detail,
) -> (Vec<ScannedFile>, Vec<String>, Vec<Package>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut packages = Vec::new();
    for (path, kind) in lockfiles::discover(path) {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                skipped.push(format!("{name}: {e}"));
                continue;
            }
        };
        match lockfiles::parse_with(kind, &name, &text, detail) {
            Ok(found) => {
                files.push(ScannedFile {
                    file: name,
                    kind,
                    packages: found.len(),
                });
                if packages.is_empty() {
                    packages = found;
                } else {
                    packages.extend(found);
                }
            }
            Err(e) => skipped.push(e.to_string()),
        }
    }
    (files, skipped, packages)
}

/// Reads a CycloneDX or SPDX JSON document's packages (and how many
/// components had no usable purl).
pub fn read_sbom(file: &Path) -> Result<(Vec<Package>, usize), AppError> {
    let text = std::fs::read_to_string(file).map_err(|source| AppError::Read {
        path: file.to_owned(),
        source,
    })?;
    dso_assurance::sbom::parse(&file.display().to_string(), &text).map_err(input)
}

/// SBOM formats dso writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDxJson,
    SpdxJson,
}

/// Builds an SBOM of the lockfiles under `path`; also returns the skipped files.
pub fn generate_sbom(
    path: &Path,
    format: SbomFormat,
) -> Result<(serde_json::Value, Vec<String>), AppError> {
    if !path.exists() {
        return Err(AppError::Read {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        });
    }
    let (_files, skipped, packages) = read_tree(path, lockfiles::Detail::Full);
    let subject = path
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string());
    Ok((sbom_document(&packages, &subject, format), skipped))
}

/// The SBOM document of `packages` for `subject`, stamped now with a new
/// serial number and dso's version.
pub fn sbom_document(packages: &[Package], subject: &str, format: SbomFormat) -> serde_json::Value {
    let time = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let id = dso_audit::event::new_id();
    let version = env!("CARGO_PKG_VERSION");
    match format {
        SbomFormat::CycloneDxJson => {
            dso_assurance::sbom::cyclonedx(packages, subject, &time, &id, version)
        }
        SbomFormat::SpdxJson => dso_assurance::sbom::spdx(packages, subject, &time, &id, version),
    }
}

/// What an SBOM import read.
#[derive(Debug, Clone, Serialize)]
pub struct SbomImport {
    pub file: String,
    pub packages: usize,
    /// Components without a purl of a known ecosystem.
    pub unknown: usize,
    pub ecosystems: BTreeMap<String, usize>,
}

/// Reads an SBOM and records its import as an event (the packages can be
/// scanned with `dso scan sca --sbom FILE`).
pub async fn import_sbom(ctx: &Context, file: &Path) -> Result<SbomImport, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::FindingTriage,
        &dso_governance::rbac::Resource::kind("sboms"),
    )
    .await?;
    let (packages, unknown) = read_sbom(file)?;
    let summary = SbomImport {
        file: file.display().to_string(),
        packages: packages.len(),
        unknown,
        ecosystems: dso_assurance::sbom::count_by_ecosystem(&packages),
    };
    let event = ctx.stamp(NewEvent {
        ty: types::SBOM_IMPORTED.into(),
        subject: Some(summary.file.clone()),
        data: serde_json::to_value(&summary).expect("plain data serialises"),
    })?;
    let appended = ctx.store.append(&[event]).await?;
    sign_due_checkpoints(ctx, &appended).await?;
    Ok(summary)
}

/// `dso scan sca PATH`: discovers lockfiles, matches, stores the findings.
pub async fn scan_sca(ctx: &Context, options: &ScaOptions) -> Result<ScaReport, AppError> {
    scan_sca_read(ctx, options, read_sca_input(options)).await
}

/// What a composition scan reads from disk: the lockfiles under the path
/// (those that could not be read or parsed are `skipped`), or the SBOM.
#[derive(Debug, Default)]
pub struct ScaInput {
    pub files: Vec<ScannedFile>,
    pub skipped: Vec<String>,
    pub packages: Vec<Package>,
}

/// Reads the input of a composition scan. Needs no workspace, so the CLI
/// does it on another thread while the workspace opens.
pub fn read_sca_input(options: &ScaOptions) -> Result<ScaInput, AppError> {
    let target = options.sbom.as_ref().unwrap_or(&options.path);
    if !target.exists() {
        return Err(AppError::Read {
            path: target.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        });
    }
    Ok(match &options.sbom {
        Some(sbom) => {
            let (packages, _unknown) = read_sbom(sbom)?;
            ScaInput {
                packages,
                ..ScaInput::default()
            }
        }
        None => {
            let (files, skipped, packages) = read_tree(&options.path, lockfiles::Detail::Matching);
            ScaInput {
                files,
                skipped,
                packages,
            }
        }
    })
}

/// [`scan_sca`] of an input read beforehand with [`read_sca_input`]; its
/// error is reported only once the user is known to be allowed to scan.
pub async fn scan_sca_read(
    ctx: &Context,
    options: &ScaOptions,
    input: Result<ScaInput, AppError>,
) -> Result<ScaReport, AppError> {
    // Developers scan as part of running pipelines, security engineers as
    // part of triage: either permission allows a scan.
    let resource = dso_governance::rbac::Resource::kind("scans");
    let may_run = matches!(
        ctx.policy.decide(
            &ctx.session.principal,
            dso_governance::rbac::Action::PipelineRun,
            &resource
        ),
        dso_governance::rbac::Decision::Allow { .. }
    );
    if !may_run {
        crate::access::authorize(ctx, dso_governance::rbac::Action::FindingTriage, &resource)
            .await?;
    }
    let target = options.sbom.as_ref().unwrap_or(&options.path);
    let ScaInput {
        files,
        skipped,
        packages,
    } = input?;
    let (findings, suppressed) = sca_match(ctx, &packages, &options.target).await?;
    let stored = if options.store {
        let scope = format!(
            "sca:{}{}",
            if options.sbom.is_some() { "sbom:" } else { "" },
            target
                .canonicalize()
                .unwrap_or_else(|_| target.clone())
                .display()
        );
        let (normalised, suppress) = sca_to_store(&findings, &suppressed);
        Some(record_findings_with(ctx, &scope, normalised, &suppress, None).await?)
    } else {
        None
    };
    Ok(ScaReport {
        files,
        skipped,
        packages: packages.len(),
        advisories: ctx.store.count_advisories().await?,
        findings,
        not_matched: dso_assurance::sca::not_matched(&packages),
        suppressed,
        stored,
    })
}

/// Matches `packages` against the stored advisories and splits off the
/// findings a VEX `not_affected` statement suppresses.
pub async fn sca_match(
    ctx: &Context,
    packages: &[Package],
    target: &dso_assurance::sca::Target,
) -> Result<(Vec<ScaFinding>, Vec<Suppressed>), AppError> {
    let all = match_packages(ctx, packages, target).await?;
    // Statements can only suppress findings: none, nothing to read.
    let statements = if all.is_empty() {
        Vec::new()
    } else {
        vex_statements(ctx).await?
    };
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for f in all {
        match not_affected(&statements, &f) {
            Some(reason) => suppressed.push(Suppressed { finding: f, reason }),
            None => findings.push(f),
        }
    }
    Ok((findings, suppressed))
}

/// What a composition scan stores: every finding, and the fingerprints the
/// VEX statements suppress with their reasons (for [`record_findings_with`]).
pub fn sca_to_store(
    findings: &[ScaFinding],
    suppressed: &[Suppressed],
) -> (Vec<Finding>, HashMap<String, String>) {
    let mut normalised: Vec<Finding> = findings.iter().map(Finding::from_sca).collect();
    let mut suppress = HashMap::new();
    for s in suppressed {
        let f = Finding::from_sca(&s.finding);
        suppress.insert(f.fingerprint.clone(), s.reason.clone());
        normalised.push(f);
    }
    (normalised, suppress)
}

fn finding_row(f: &Finding, scope: &str, status: Status, time: &str) -> FindingRow {
    FindingRow {
        id: short_id(&f.fingerprint),
        fingerprint: f.fingerprint.clone(),
        scope: scope.to_owned(),
        scanner: f.scanner.clone(),
        rule: f.rule.clone(),
        severity: f.severity.as_str().into(),
        status: status.as_str().into(),
        file: f.file.clone(),
        line: f.line.map(|l| l as i64),
        title: f.title.clone(),
        first_seen: time.to_owned(),
        last_seen: time.to_owned(),
        justification: None,
        approver: None,
        expires: None,
        data: serde_json::to_string(f).expect("findings serialise"),
    }
}

fn transition_event(
    ctx: &Context,
    row: &FindingRow,
    from: Option<Status>,
    to: Status,
    extra: serde_json::Value,
) -> Result<dso_audit::Event, AppError> {
    let ty = match to {
        Status::New => types::FINDING_CREATED,
        Status::Reopened => types::FINDING_REOPENED,
        Status::Fixed => types::FINDING_FIXED,
        _ => types::FINDING_TRIAGED,
    };
    let mut data = serde_json::json!({
        "finding": row.id,
        "fingerprint": row.fingerprint,
        "scope": row.scope,
        "scanner": row.scanner,
        "rule": row.rule,
        "severity": row.severity,
        "file": row.file,
        "from": from.map(Status::as_str),
        "to": to.as_str(),
    });
    if let (Some(obj), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        obj.extend(more);
    }
    ctx.stamp(NewEvent {
        ty: ty.into(),
        subject: Some(row.id.clone()),
        data,
    })
}

/// Stores one scan's findings for `scope`: new ones created, known ones
/// refreshed, fixed ones reopened, and the scope's absent ones fixed. One
/// transaction; one event per transition.
pub async fn record_findings(
    ctx: &Context,
    scope: &str,
    seen: Vec<Finding>,
) -> Result<RecordSummary, AppError> {
    record_findings_with(ctx, scope, seen, &HashMap::new(), None).await
}

/// [`record_findings`], where the findings whose fingerprints are keys of
/// `suppress` become (or stay) false positives with that justification:
/// one more `triaged` event each time one is moved there.
///
/// With `run` = `(run_id, job index)`, the findings seen are also linked to
/// that job of that run, in the same transaction as their events.
pub async fn record_findings_with(
    ctx: &Context,
    scope: &str,
    mut seen: Vec<Finding>,
    suppress: &HashMap<String, String>,
    run: Option<(i64, i64)>,
) -> Result<RecordSummary, AppError> {
    // One row per fingerprint.
    let mut unique = HashSet::new();
    seen.retain(|f| unique.insert(f.fingerprint.clone()));
    let held = ctx
        .store
        .findings(&FindingQuery {
            scope: Some(scope.to_owned()),
            ..Default::default()
        })
        .await?;
    // A fingerprint found under another scope stays one finding: it moves here.
    let mut held_by_fp: HashMap<String, FindingRow> = held
        .into_iter()
        .map(|r| (r.fingerprint.clone(), r))
        .collect();
    for f in &seen {
        if !held_by_fp.contains_key(&f.fingerprint)
            && let Some(row) = ctx.store.finding(&short_id(&f.fingerprint)).await?
            && row.fingerprint == f.fingerprint
        {
            held_by_fp.insert(row.fingerprint.clone(), row);
        }
    }
    let known: Vec<Known> = held_by_fp
        .values()
        .filter(|r| r.scope == scope)
        .map(|r| Known {
            fingerprint: r.fingerprint.clone(),
            status: Status::parse(&r.status).unwrap_or(Status::New),
            expires: r.expires.clone(),
        })
        .collect();
    let seen_fps: Vec<String> = seen
        .iter()
        .filter(|f| {
            // Findings held under another scope count as known to this one.
            held_by_fp
                .get(&f.fingerprint)
                .is_none_or(|r| r.scope == scope)
        })
        .map(|f| f.fingerprint.clone())
        .collect();
    let plan = reconcile(&known, &seen_fps, &now());
    let time = now();
    let by_fp: HashMap<&str, &Finding> = seen.iter().map(|f| (f.fingerprint.as_str(), f)).collect();
    let mut summary = RecordSummary {
        scope: scope.to_owned(),
        ..Default::default()
    };
    let mut writes: Vec<FindingRow> = Vec::new();
    let mut events = Vec::new();
    let mut transitioned = HashSet::new();
    for t in &plan.transitions {
        transitioned.insert(t.fingerprint.clone());
        let row = match (
            by_fp.get(t.fingerprint.as_str()),
            held_by_fp.get(&t.fingerprint),
        ) {
            (Some(f), Some(old)) => {
                let mut row = finding_row(f, scope, t.to, &time);
                row.first_seen = old.first_seen.clone();
                if t.to != Status::Reopened {
                    row.justification = old.justification.clone();
                    row.approver = old.approver.clone();
                    row.expires = old.expires.clone();
                }
                row
            }
            (Some(f), None) => finding_row(f, scope, t.to, &time),
            (None, Some(old)) => {
                let mut row = old.clone();
                row.status = t.to.as_str().into();
                row
            }
            (None, None) => continue,
        };
        match t.to {
            Status::New => summary.new += 1,
            Status::Reopened => summary.reopened += 1,
            Status::Fixed => summary.fixed += 1,
            _ => {}
        }
        events.push(transition_event(
            ctx,
            &row,
            t.from,
            t.to,
            serde_json::json!({}),
        )?);
        writes.push(row);
    }
    for f in &seen {
        if transitioned.contains(&f.fingerprint) {
            continue;
        }
        if let Some(old) = held_by_fp.get(&f.fingerprint) {
            let mut row = finding_row(
                f,
                scope,
                Status::parse(&old.status).unwrap_or(Status::New),
                &time,
            );
            row.first_seen = old.first_seen.clone();
            row.justification = old.justification.clone();
            row.approver = old.approver.clone();
            row.expires = old.expires.clone();
            summary.unchanged += 1;
            suppress_row(ctx, &mut row, suppress, &mut events)?;
            writes.push(row);
        }
    }
    summary.ids = seen
        .iter()
        .filter_map(|f| {
            writes
                .iter()
                .find(|row| row.fingerprint == f.fingerprint)
                .map(|row| row.id.clone())
        })
        .collect();
    let mut tx = ctx.store.begin_write().await?;
    for row in &writes {
        tx.put_finding(row).await?;
    }
    if let Some((run_id, idx)) = run {
        tx.link_run_findings(run_id, idx, &summary.ids).await?;
    }
    let appended = tx.append(&events).await?;
    tx.commit().await?;
    sign_due_checkpoints(ctx, &appended).await?;
    Ok(summary)
}

/// Moves `row` to false_positive when a VEX statement suppresses it.
fn suppress_row(
    ctx: &Context,
    row: &mut FindingRow,
    suppress: &HashMap<String, String>,
    events: &mut Vec<dso_audit::Event>,
) -> Result<(), AppError> {
    let Some(reason) = suppress.get(&row.fingerprint) else {
        return Ok(());
    };
    let from = Status::parse(&row.status).unwrap_or(Status::New);
    if from == Status::FalsePositive {
        return Ok(());
    }
    row.status = Status::FalsePositive.as_str().into();
    row.justification = Some(reason.clone());
    row.approver = None;
    row.expires = None;
    events.push(transition_event(
        ctx,
        row,
        Some(from),
        Status::FalsePositive,
        serde_json::json!({ "justification": reason, "vex": true }),
    )?);
    Ok(())
}

async fn vex_statements(ctx: &Context) -> Result<Vec<Statement>, AppError> {
    Ok(ctx
        .store
        .vex_statements()
        .await?
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect())
}

/// The reason of the first `not_affected` statement that covers `f`.
fn not_affected(statements: &[Statement], f: &ScaFinding) -> Option<String> {
    let purl = Package::new(f.ecosystem.clone(), &f.package, &f.version, &f.file).purl();
    let ids: Vec<&str> = std::iter::once(f.advisory.as_str())
        .chain(f.aliases.iter().map(String::as_str))
        .collect();
    statements
        .iter()
        .find(|s| s.status == VexStatus::NotAffected && s.applies(&ids, &purl))
        .map(Statement::reason)
}

/// What a VEX import stored.
#[derive(Debug, Clone, Serialize)]
pub struct VexImport {
    pub file: String,
    pub statements: usize,
    pub not_affected: usize,
}

/// Stores an OpenVEX document's statements; `not_affected` ones suppress
/// the matching SCA findings from the next scan on.
pub async fn import_vex(ctx: &Context, file: &Path) -> Result<VexImport, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::FindingTriage,
        &dso_governance::rbac::Resource::kind("vex"),
    )
    .await?;
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| AppError::Read {
        path: file.to_owned(),
        source,
    })?;
    let statements = vex::parse(&name, &text).map_err(input)?;
    let mut rows = Vec::new();
    for s in &statements {
        for product in &s.products {
            rows.push(VexRow {
                vulnerability: s.vulnerability.clone(),
                product: product.clone(),
                status: s.status.as_str().into(),
                source: name.clone(),
                data: serde_json::to_string(s).expect("statements serialise"),
            });
        }
    }
    let summary = VexImport {
        file: name,
        statements: statements.len(),
        not_affected: statements
            .iter()
            .filter(|s| s.status == VexStatus::NotAffected)
            .count(),
    };
    let event = ctx.stamp(NewEvent {
        ty: types::VEX_IMPORTED.into(),
        subject: Some(summary.file.clone()),
        data: serde_json::to_value(&summary).expect("plain data serialises"),
    })?;
    let mut tx = ctx.store.begin_write().await?;
    tx.put_vex_statements(&rows).await?;
    let appended = tx.append(&[event]).await?;
    tx.commit().await?;
    sign_due_checkpoints(ctx, &appended).await?;
    Ok(summary)
}

/// The stored SCA findings (of `scope`, or all) as an OpenVEX document:
/// false positives are `not_affected` (their justification as impact
/// statement), fixed ones `fixed`, accepted risks and confirmed ones
/// `affected`, new and reopened ones `under_investigation`.
pub async fn export_vex(ctx: &Context, scope: Option<&str>) -> Result<serde_json::Value, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("findings"),
    )
    .await?;
    let rows = ctx
        .store
        .findings(&FindingQuery {
            scope: scope.map(str::to_owned),
            scanner: Some("dso-sca".into()),
            ..Default::default()
        })
        .await?;
    let mut items = Vec::new();
    for r in rows {
        let Ok(f) = serde_json::from_str::<Finding>(&r.data) else {
            continue;
        };
        let (Some(package), Some(version)) = (&f.package, &f.version) else {
            continue;
        };
        let eco = f
            .properties
            .get("ecosystem")
            .and_then(|e| e.as_str())
            .map(Ecosystem::parse)
            .unwrap_or(Ecosystem::Other(String::new()));
        let purl = Package::new(eco, package, version, "").purl();
        let aliases: Vec<String> = f
            .properties
            .get("aliases")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let status = Status::parse(&r.status).unwrap_or(Status::New);
        let (vex_status, impact, action) = match status {
            Status::FalsePositive => (VexStatus::NotAffected, r.justification.clone(), None),
            Status::Fixed => (VexStatus::Fixed, None, None),
            Status::AcceptedRisk => (
                VexStatus::Affected,
                None,
                Some(format!(
                    "risk accepted by {} until {}: {}",
                    r.approver.clone().unwrap_or_default(),
                    r.expires.clone().unwrap_or_default(),
                    r.justification.clone().unwrap_or_default()
                )),
            ),
            Status::Confirmed => (
                VexStatus::Affected,
                None,
                Some(match f.properties.get("fixed").and_then(|x| x.as_str()) {
                    Some(v) => format!("upgrade to {v} or later"),
                    None => "no fixed version is known".into(),
                }),
            ),
            Status::New | Status::Reopened => (VexStatus::UnderInvestigation, None, None),
        };
        items.push(vex::Exported {
            vulnerability: f.rule.clone(),
            aliases,
            purl,
            status: vex_status,
            impact_statement: impact.or_else(|| {
                (vex_status == VexStatus::NotAffected).then(|| "triaged as a false positive".into())
            }),
            action_statement: action,
        });
    }
    items.sort_by(|a, b| (&a.vulnerability, &a.purl).cmp(&(&b.vulnerability, &b.purl)));
    items.dedup_by(|a, b| a.vulnerability == b.vulnerability && a.purl == b.purl);
    let id = format!("urn:uuid:{}", dso_audit::event::new_id());
    Ok(vex::write(&items, &id, &ctx.actor.user, &now()))
}

/// Lists stored findings.
pub async fn list_findings(
    ctx: &Context,
    query: &FindingQuery,
) -> Result<Vec<FindingRow>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("findings"),
    )
    .await?;
    Ok(ctx.store.findings(query).await?)
}

/// The findings run `run_id` saw, each with the name of the job that saw
/// it and its current status; errors when the run does not exist.
pub async fn run_findings(
    ctx: &Context,
    run_id: i64,
) -> Result<Vec<(String, FindingRow)>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::one("run", &run_id.to_string()),
    )
    .await?;
    if ctx.store.run(run_id).await?.is_none() {
        return Err(AppError::Unknown {
            kind: "run",
            value: run_id.to_string(),
            hint: Some("list runs with `dso runs`".into()),
        });
    }
    let jobs = ctx.store.run_jobs(run_id).await?;
    Ok(ctx
        .store
        .run_findings(run_id)
        .await?
        .into_iter()
        .map(|(idx, row)| {
            let job = jobs
                .iter()
                .find(|j| j.idx == idx)
                .map(|j| j.name.clone())
                .unwrap_or_default();
            (job, row)
        })
        .collect())
}

/// One finding and its history (its events, oldest first).
pub async fn show_finding(
    ctx: &Context,
    id: &str,
) -> Result<(FindingRow, Vec<dso_audit::StoredEntry>), AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("finding"),
    )
    .await?;
    let row = ctx
        .store
        .finding(id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "finding",
            value: id.to_owned(),
            hint: Some("list them with `dso findings list`".into()),
        })?;
    let history = ctx
        .store
        .events(&dso_store::EventQuery {
            subject: Some(row.id.clone()),
            ..Default::default()
        })
        .await?;
    Ok((row, history))
}

/// A triage decision.
#[derive(Debug, Clone)]
pub struct Triage {
    pub status: Status,
    pub justification: Option<String>,
    pub approver: Option<String>,
    /// RFC 3339 time or a date (`2027-01-31`).
    pub expires: Option<String>,
}

/// Moves a finding to confirmed, false_positive or accepted_risk.
///
/// A false positive needs a justification; an accepted risk needs a
/// justification, an approver and an expiry in the future.
pub async fn triage(ctx: &Context, id: &str, decision: &Triage) -> Result<FindingRow, AppError> {
    let action = if decision.status == Status::AcceptedRisk {
        dso_governance::rbac::Action::RiskAccept
    } else {
        dso_governance::rbac::Action::FindingTriage
    };
    crate::access::authorize(
        ctx,
        action,
        &dso_governance::rbac::Resource::one("finding", id),
    )
    .await?;
    let (mut row, _) = show_finding(ctx, id).await?;
    let from = Status::parse(&row.status).unwrap_or(Status::New);
    let bad = |message: String| AppError::Input {
        location: format!("triage {}", row.id),
        message,
    };
    if !from.can_triage_to(decision.status) {
        return Err(bad(format!(
            "cannot move a `{}` finding to `{}` (triage sets confirmed, false_positive or accepted_risk on an open finding)",
            from.as_str(),
            decision.status.as_str()
        )));
    }
    let justification = decision
        .justification
        .clone()
        .filter(|j| !j.trim().is_empty());
    let mut expires = None;
    match decision.status {
        Status::FalsePositive if justification.is_none() => {
            return Err(bad(
                "field `justification`: a false positive needs one".into()
            ));
        }
        Status::AcceptedRisk => {
            if justification.is_none() {
                return Err(bad(
                    "field `justification`: an accepted risk needs one".into()
                ));
            }
            if decision
                .approver
                .as_deref()
                .is_none_or(|a| a.trim().is_empty())
            {
                return Err(bad("field `approver`: an accepted risk needs one".into()));
            }
            let text = decision
                .expires
                .as_deref()
                .ok_or_else(|| bad("field `expires`: an accepted risk needs an expiry".into()))?;
            let ts: jiff::Timestamp = text
                .parse()
                .or_else(|_| format!("{text}T00:00:00Z").parse::<jiff::Timestamp>())
                .map_err(|e| {
                    bad(format!(
                        "field `expires`: `{text}` is not a date or RFC 3339 time ({e})"
                    ))
                })?;
            if ts <= jiff::Timestamp::now() {
                return Err(bad(format!("field `expires`: `{text}` is in the past")));
            }
            expires = Some(dso_audit::format_time(ts));
        }
        _ => {}
    }
    row.status = decision.status.as_str().into();
    row.justification = justification;
    row.approver = if decision.status == Status::AcceptedRisk {
        decision.approver.clone()
    } else {
        None
    };
    row.expires = expires;
    let event = transition_event(
        ctx,
        &row,
        Some(from),
        decision.status,
        serde_json::json!({
            "justification": row.justification,
            "approver": row.approver,
            "expires": row.expires,
        }),
    )?;
    let mut tx = ctx.store.begin_write().await?;
    tx.put_finding(&row).await?;
    let appended = tx.append(&[event]).await?;
    tx.commit().await?;
    sign_due_checkpoints(ctx, &appended).await?;
    Ok(row)
}

/// The result of a SARIF import.
#[derive(Debug, Clone, Serialize)]
pub struct SarifImport {
    pub file: String,
    pub tools: Vec<String>,
    pub results: usize,
    pub passed_over: usize,
    pub stored: RecordSummary,
}

/// Imports a SARIF 2.1.0 log into the findings store. The scope defaults
/// to `sarif:<tool names>`, so the next log of the same tools fixes the
/// findings it no longer reports.
pub async fn import_sarif(
    ctx: &Context,
    file: &Path,
    scope: Option<&str>,
) -> Result<SarifImport, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::FindingTriage,
        &dso_governance::rbac::Resource::kind("findings"),
    )
    .await?;
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| AppError::Read {
        path: file.to_owned(),
        source,
    })?;
    let imported = dso_assurance::sarif::parse(&name, &text).map_err(input)?;
    let scope = scope
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sarif:{}", imported.tools.join(",")));
    let results = imported.findings.len();
    let stored = record_findings(ctx, &scope, imported.findings).await?;
    Ok(SarifImport {
        file: name,
        tools: imported.tools,
        results,
        passed_over: imported.passed_over,
        stored,
    })
}

/// SCA findings as normalised findings (for SARIF output).
pub fn normalise_sca(findings: &[ScaFinding]) -> Vec<Finding> {
    findings.iter().map(Finding::from_sca).collect()
}

pub use findings::Status as FindingStatus;
