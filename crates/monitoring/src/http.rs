//! The pieces of HTTP/1.1 a probe needs: splitting an `http://` or
//! `https://` URL and reading a response's status line and body. The probe
//! speaks plain HTTP itself; `https://` goes through a TLS client in dso-app.

/// Where an `http://` or `https://` URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// `https://`: the probe must speak TLS.
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

/// Splits `http[s]://host[:port][/path]` (default port 80, or 443 for https).
pub fn parse_url(url: &str) -> Result<HttpUrl, String> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return Err(format!("`{url}` is not an http:// or https:// URL"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    if authority.contains('@') {
        return Err(format!("`{url}`: credentials in URLs are not supported"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("`{url}`: `{p}` is not a port"))?,
        ),
        _ => (authority, if https { 443 } else { 80 }),
    };
    if host.is_empty() || path.contains(['\r', '\n', ' ']) || host.contains(['\r', '\n', ' ']) {
        return Err(format!("`{url}` is not a valid URL"));
    }
    Ok(HttpUrl {
        https,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        path,
    })
}

/// The request a probe sends.
pub fn request(url: &HttpUrl) -> String {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: dso-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path, url.host, url.port
    )
}

/// The status code and body of a (possibly truncated) response.
pub fn parse_response(bytes: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err("the answer is not an HTTP response".into());
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| {
            format!(
                "malformed status line `{}`",
                status_line.chars().take(80).collect::<String>()
            )
        })?;
    Ok((status, body.to_owned()))
}
