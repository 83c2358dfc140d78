//! Probing a service: an HTTP GET (http:// only, over a plain TCP stream)
//! or a TCP connect, each bounded by a timeout. Used by deployment health
//! checks and by `dso monitor run`.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// At most this much of a response is read.
const MAX_RESPONSE: usize = 64 * 1024;

/// What a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub ok: bool,
    pub latency_ms: i64,
    /// Why it failed, or what it saw (`HTTP 200`).
    pub detail: String,
}

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeSpec {
    Http {
        url: String,
        expect_status: u16,
        expect_body: Option<String>,
    },
    Tcp {
        address: String,
    },
}

/// Runs one probe within `timeout`.
pub async fn probe(spec: &ProbeSpec, timeout: Duration) -> ProbeResult {
    let start = Instant::now();
    let outcome = tokio::time::timeout(timeout, attempt(spec)).await;
    let latency_ms = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (ok, detail) = match outcome {
        Err(_) => (
            false,
            format!("no answer within {} ms", timeout.as_millis()),
        ),
        Ok(Err(detail)) => (false, detail),
        Ok(Ok(detail)) => (true, detail),
    };
    ProbeResult {
        ok,
        latency_ms,
        detail,
    }
}

async fn attempt(spec: &ProbeSpec) -> Result<String, String> {
    match spec {
        ProbeSpec::Tcp { address } => {
            TcpStream::connect(address.as_str())
                .await
                .map_err(|e| format!("connect {address}: {e}"))?;
            Ok("connected".into())
        }
        ProbeSpec::Http {
            url,
            expect_status,
            expect_body,
        } => {
            let parsed = dso_monitoring::http::parse_url(url)?;
            let mut stream = TcpStream::connect((parsed.host.as_str(), parsed.port))
                .await
                .map_err(|e| format!("connect {}:{}: {e}", parsed.host, parsed.port))?;
            stream
                .write_all(dso_monitoring::http::request(&parsed).as_bytes())
                .await
                .map_err(|e| format!("send: {e}"))?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let n = stream
                    .read(&mut chunk)
                    .await
                    .map_err(|e| format!("read: {e}"))?;
                if n == 0 || buf.len() >= MAX_RESPONSE {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let (status, body) = dso_monitoring::http::parse_response(&buf)?;
            if status != *expect_status {
                return Err(format!("HTTP {status}, expected {expect_status}"));
            }
            if let Some(want) = expect_body
                && !body.contains(want.as_str())
            {
                return Err(format!("HTTP {status} but the body lacks `{want}`"));
            }
            Ok(format!("HTTP {status}"))
        }
    }
}
