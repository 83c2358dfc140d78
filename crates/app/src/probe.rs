//! Probing a service: an HTTP GET or a TCP connect, each bounded by a
//! timeout. Used by deployment health checks and by `dso monitor run`.
//!
//! `http://` is spoken over a plain TCP stream. `https://` goes through
//! ureq with rustls on a blocking thread: the server's certificate is
//! verified against the Mozilla (webpki) roots, or, when a CA file is
//! given, against the certificates in that PEM file instead (a private CA
//! of internal services). Redirects are not followed, as over http://.

use std::path::{Path, PathBuf};
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
        /// https://: trust the CA certificates of this PEM file instead of
        /// the public roots.
        ca_file: Option<PathBuf>,
    },
    Tcp {
        address: String,
    },
}

/// Runs one probe within `timeout`.
pub async fn probe(spec: &ProbeSpec, timeout: Duration) -> ProbeResult {
    let start = Instant::now();
    let outcome = tokio::time::timeout(timeout, attempt(spec, timeout)).await;
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

async fn attempt(spec: &ProbeSpec, timeout: Duration) -> Result<String, String> {
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
            ca_file,
        } => {
            let parsed = dso_monitoring::http::parse_url(url)?;
            if parsed.https {
                let (url, ca) = (url.clone(), ca_file.clone());
                let (status, body) =
                    tokio::task::spawn_blocking(move || https_get(&url, ca.as_deref(), timeout))
                        .await
                        .map_err(|e| format!("the https probe stopped: {e}"))??;
                return judge(status, &body, *expect_status, expect_body.as_deref());
            }
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
            judge(status, &body, *expect_status, expect_body.as_deref())
        }
    }
}

fn judge(
    status: u16,
    body: &str,
    expect_status: u16,
    expect_body: Option<&str>,
) -> Result<String, String> {
    if status != expect_status {
        return Err(format!("HTTP {status}, expected {expect_status}"));
    }
    if let Some(want) = expect_body
        && !body.contains(want)
    {
        return Err(format!("HTTP {status} but the body lacks `{want}`"));
    }
    Ok(format!("HTTP {status}"))
}

/// The CA certificates of a PEM file, for `ca_file`.
fn read_ca(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("CA file {}: {e}", path.display()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("CA file {}: {e}", path.display())),
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "CA file {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// A blocking `GET` over TLS: the status and (at most [`MAX_RESPONSE`]
/// bytes of) the body. Certificate problems are named as such.
fn https_get(
    url: &str,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> Result<(u16, String), String> {
    use std::io::Read as _;
    let roots = match ca_file {
        Some(path) => ureq::tls::RootCerts::new_with_certs(&read_ca(path)?),
        None => ureq::tls::RootCerts::WebPki,
    };
    let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("dso-probe")
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| {
        let text = e.to_string();
        let certificate = text.contains("certificate")
            || text.contains("UnknownIssuer")
            || matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_));
        if certificate && ca_file.is_none() {
            format!(
                "TLS: {text} (the server's certificate does not chain to a public root; for a private CA give its certificate as the CA file)"
            )
        } else if certificate {
            format!("TLS: {text}")
        } else {
            format!("https: {text}")
        }
    })?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_RESPONSE as u64)
        .read_to_end(&mut body)
        .map_err(|e| format!("read: {e}"))?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::sync::Arc;

    use super::*;

    /// A test CA and a certificate it issued for 127.0.0.1 and localhost.
    struct Pki {
        ca_pem: String,
        leaf_der: Vec<u8>,
        leaf_key_der: Vec<u8>,
    }

    fn make_pki() -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "dso test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf_params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf_params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(std::net::IpAddr::V4(
                std::net::Ipv4Addr::LOCALHOST,
            )));
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        Pki {
            ca_pem: ca.pem(),
            leaf_der: leaf.der().to_vec(),
            leaf_key_der: leaf_key.serialize_der(),
        }
    }

    /// Serves `HTTP/1.1 200` with body `healthy` over TLS on 127.0.0.1
    /// until the test ends; returns the port.
    fn tls_server(pki: &Pki) -> u16 {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![rustls::pki_types::CertificateDer::from(
                    pki.leaf_der.clone(),
                )],
                rustls::pki_types::PrivateKeyDer::Pkcs8(pki.leaf_key_der.clone().into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let config = config.clone();
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut buf = [0u8; 4096];
                    // A client that refuses the certificate fails the handshake here.
                    if tls.read(&mut buf).is_err() {
                        return;
                    }
                    let _ = tls.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhealthy",
                    );
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        port
    }

    fn https(port: u16, ca_file: Option<PathBuf>, body: Option<&str>) -> ProbeSpec {
        ProbeSpec::Http {
            url: format!("https://127.0.0.1:{port}/health"),
            expect_status: 200,
            expect_body: body.map(str::to_owned),
            ca_file,
        }
    }

    #[tokio::test]
    async fn https_probes_verify_the_certificate_against_the_given_ca() {
        let pki = make_pki();
        let port = tls_server(&pki);
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &pki.ca_pem).unwrap();
        let timeout = Duration::from_secs(10);

        let ok = probe(&https(port, Some(ca.clone()), Some("healthy")), timeout).await;
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.detail, "HTTP 200");

        // The body is checked over TLS too.
        let wrong = probe(&https(port, Some(ca.clone()), Some("ready")), timeout).await;
        assert!(!wrong.ok);
        assert!(wrong.detail.contains("lacks `ready`"), "{wrong:?}");

        // Without the CA the public roots do not know the test CA: a clear failure.
        let refused = probe(&https(port, None, None), timeout).await;
        assert!(!refused.ok);
        assert!(refused.detail.starts_with("TLS: "), "{refused:?}");
        assert!(
            refused.detail.contains("certificate") && refused.detail.contains("CA file"),
            "{refused:?}"
        );

        // Another CA's certificate does not vouch for this server.
        let other = make_pki();
        let other_ca = dir.path().join("other.pem");
        std::fs::write(&other_ca, &other.ca_pem).unwrap();
        let refused = probe(&https(port, Some(other_ca), None), timeout).await;
        assert!(!refused.ok);
        assert!(refused.detail.starts_with("TLS: "), "{refused:?}");

        // A CA file that is not PEM, or missing, is named.
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let bad = probe(&https(port, Some(junk.clone()), None), timeout).await;
        assert!(!bad.ok);
        assert!(
            bad.detail.contains(&format!("CA file {}", junk.display())),
            "{bad:?}"
        );
        let missing = probe(
            &https(port, Some(dir.path().join("none.pem")), None),
            timeout,
        )
        .await;
        assert!(missing.detail.contains("none.pem"), "{missing:?}");

        // Plain http:// to the TLS port is not mistaken for success.
        let plain = ProbeSpec::Http {
            url: format!("http://127.0.0.1:{port}/health"),
            expect_status: 200,
            expect_body: None,
            ca_file: None,
        };
        assert!(!probe(&plain, Duration::from_secs(3)).await.ok);
    }
}
