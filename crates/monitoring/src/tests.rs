//! Tests of the monitoring domain.

use crate::http;

#[test]
fn urls_split_and_responses_parse() {
    let u = http::parse_url("http://127.0.0.1:8080/health?x=1").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("127.0.0.1", 8080, "/health?x=1")
    );
    let u = http::parse_url("http://example.org").unwrap();
    assert_eq!((u.port, u.path.as_str()), (80, "/"));
    let u = http::parse_url("http://h:1?q").unwrap();
    assert_eq!(u.path, "/?q");
    assert!(
        http::parse_url("https://x")
            .unwrap_err()
            .contains("not supported")
    );
    assert!(http::parse_url("ftp://x").is_err());
    assert!(http::parse_url("http://h:99999/").is_err());
    assert!(http::parse_url("http://u:p@h/").is_err());
    assert!(http::parse_url("http://h/a b").is_err());
    assert!(
        http::request(&http::parse_url("http://h:1/p").unwrap())
            .starts_with("GET /p HTTP/1.1\r\nHost: h:1\r\n")
    );
    assert_eq!(
        http::parse_response(b"HTTP/1.1 503 Service Unavailable\r\nA: b\r\n\r\ndown").unwrap(),
        (503, "down".into())
    );
    assert!(http::parse_response(b"SSH-2.0-OpenSSH").is_err());
    assert!(http::parse_response(b"HTTP/1.1 abc").is_err());
    assert!(http::parse_response(&[0xff, 0xfe]).is_err());
}
