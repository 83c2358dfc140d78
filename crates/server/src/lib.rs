//! The HTTP edge of dso: `dso serve`. The one crate that speaks HTTP.
//!
//! Routes:
//! - `GET /healthz`: `ok` while the process serves.
//! - `GET /metrics`: the Prometheus text exposition of
//!   [`dso_app::metrics::snapshot`] (findings, runs, deployments, incidents,
//!   gate decisions, events), read from the store at each scrape.
//! - `POST /api/v1/alerts`: alert intake, a Prometheus Alertmanager webhook
//!   payload or dso's generic JSON, as `dso alert ingest` reads them.
//!
//! Every route but `/healthz` needs `Authorization: Bearer <dso API token>`:
//! the request acts as the token's user and the RBAC policy decides, exactly
//! as a CLI command given `--token`. A request without a token is refused
//! (the server never acts as the workspace owner). Each request opens its
//! own [`Context`], so a token revoked or a policy changed takes effect at
//! the next request.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dso_app::{AppError, Context, OpenOptions};

/// Largest request body accepted (alert payloads are small).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Where the workspace is and how to reach its database.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub workspace: Option<PathBuf>,
    pub database_url: Option<String>,
    pub cwd: PathBuf,
}

/// Starts serving on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(options))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The routes, over a workspace.
pub fn router(options: ServeOptions) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/v1/alerts", post(alerts))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(options)
}

/// The address a listener bound, for printing.
pub fn local_addr(listener: &tokio::net::TcpListener) -> std::io::Result<SocketAddr> {
    listener.local_addr()
}

/// An error as the HTTP response a client can act on.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.1 });
        (self.0, axum::Json(body)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> ApiError {
        let status = match &err {
            AppError::Unauthenticated { .. } | AppError::TokenRefused { .. } => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Input { .. } | AppError::Unknown { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, err.to_string())
    }
}

/// Opens a context acting as the bearer token's user.
async fn open(options: &ServeOptions, headers: &HeaderMap) -> Result<Context, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "an `Authorization: Bearer <token>` header is needed (`dso token create`)".into(),
            )
        })?;
    let open = OpenOptions {
        workspace: options.workspace.clone(),
        database_url: options.database_url.clone(),
        cwd: options.cwd.clone(),
        token: Some(token.to_owned()),
    };
    Ok(Context::open(&open).await?)
}

/// Runs a use case to its end on a blocking-pool thread. The use cases'
/// futures hold sqlx borrows whose `Send` the compiler cannot prove for
/// every lifetime (the known higher-ranked lifetime limitation), so they
/// cannot be handed to axum's multi-threaded executor as they are; the
/// thread drives them with the runtime's handle instead.
async fn drive<T, F>(work: impl FnOnce() -> F + Send + 'static) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work()))
        .await
        .map_err(|e| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("request task: {e}"),
            )
        })?
}

async fn alerts(
    State(options): State<ServeOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let text = String::from_utf8(body.to_vec()).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("request body: not UTF-8 ({e})"),
        )
    })?;
    let report = drive(move || async move {
        let ctx = open(&options, &headers).await?;
        Ok(dso_app::monitoring::ingest_alerts(&ctx, "request body", &text).await?)
    })
    .await?;
    Ok(axum::Json(serde_json::json!({
        "alerts": report.alerts,
        "opened": report.opened,
        "resolved": report.resolved,
    })))
}

async fn metrics(
    State(options): State<ServeOptions>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let families = drive(move || async move {
        let ctx = open(&options, &headers).await?;
        Ok(dso_app::metrics::snapshot(&ctx).await?)
    })
    .await?;
    let text = exposition(&families).map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}"),
        )
    })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The OpenMetrics text of a snapshot (prometheus-client's encoder).
pub fn exposition(families: &[dso_app::metrics::Family]) -> Result<String, std::fmt::Error> {
    use prometheus_client::metrics::family::Family as PFamily;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::registry::Registry;

    type Labels = Vec<(String, String)>;
    let mut registry = Registry::default();
    for f in families {
        let family = PFamily::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        for (key, value) in &f.values {
            let labels: Labels = f
                .labels
                .iter()
                .zip(key)
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect();
            family.get_or_create(&labels).set(*value);
        }
        registry.register(f.name, f.help, family);
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}
