//! Per-request options as plain Rust values, their defaults, and the URL a request starts from.
//!
//! Parsed from Python keywords by py/options.rs; read by the hop loop (send.rs), which never sees
//! a Python object.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::request::error::{ErrorKind, FetchError};
use crate::request::upload::RequestBody;

/// The default cap on a decoded response body held in memory: large enough for ordinary API and
/// page responses, small enough that a decompression bomb cannot exhaust memory.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 128 * 1024 * 1024;
/// aiohttp's `ClientTimeout(total=300)`.
pub const DEFAULT_TOTAL_TIMEOUT: f64 = 300.0;
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// Per-request options: everything that may differ between two requests on one pool.
#[derive(Clone)]
pub struct RequestOptions {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Option<RequestBody>,
    pub params: Vec<(String, String)>,
    pub timeout: Option<f64>,
    pub follow_redirects: bool,
    pub max_redirects: usize,
    pub max_body_size: Option<u64>,
    /// Undo the body's `Content-Encoding`; `false` hands out the bytes as they came.
    pub decompress: bool,
    /// Automatic headers not to add (lower-case names), as aiohttp's `skip_auto_headers`.
    pub skip_auto_headers: Vec<HeaderName>,
    /// The body's own media type, sent unless a `Content-Type` is given or skipped.
    pub content_type: Option<HeaderValue>,
}

impl RequestOptions {
    /// A GET with every option at its default.
    #[cfg(test)]
    pub fn default_for_tests() -> Self {
        RequestOptions {
            method: Method::GET,
            headers: HeaderMap::new(),
            body: None,
            params: Vec::new(),
            timeout: Some(DEFAULT_TOTAL_TIMEOUT),
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_body_size: Some(DEFAULT_MAX_BODY_SIZE),
            decompress: true,
            skip_auto_headers: Vec::new(),
            content_type: None,
        }
    }

    /// Parses and checks one URL, appending `params`. Only http and https with a host pass.
    pub fn prepare_url(&self, raw: &str) -> Result<Url, FetchError> {
        prepare_url(raw, &self.params)
    }
}

pub fn prepare_url(raw: &str, params: &[(String, String)]) -> Result<Url, FetchError> {
    let invalid = |why: &str| FetchError::new(ErrorKind::InvalidUrl, Some(raw), why.to_owned());
    // The URL parser silently drops tabs and newlines; a URL carrying them was not meant as is.
    if raw.chars().any(|c| c.is_control()) {
        return Err(invalid(
            "control characters (CR, LF, NUL, tab) are not allowed in a URL",
        ));
    }
    let mut url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::new(
                ErrorKind::NonHttpUrl,
                Some(raw),
                format!(
                    "scheme {other:?} is not supported: only http and https URLs can be fetched"
                ),
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    if !params.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_with_a_host_are_accepted() {
        assert!(prepare_url("http://127.0.0.1:8080/x", &[]).is_ok());
        assert!(prepare_url("https://example.test", &[]).is_ok());
        for (raw, kind) in [
            ("ftp://example.test/", ErrorKind::NonHttpUrl),
            ("file:///etc/passwd", ErrorKind::NonHttpUrl),
            ("javascript:alert(1)", ErrorKind::NonHttpUrl),
            ("not a url", ErrorKind::InvalidUrl),
            ("http://", ErrorKind::InvalidUrl),
            ("http://a.test/x\r\nInjected: yes", ErrorKind::InvalidUrl),
            ("http://a.test/\0", ErrorKind::InvalidUrl),
        ] {
            assert_eq!(prepare_url(raw, &[]).unwrap_err().kind, kind, "{raw:?}");
        }
    }

    #[test]
    fn params_are_appended_and_encoded() {
        let params = vec![
            ("q".to_owned(), "a b&c".to_owned()),
            ("n".to_owned(), "1".to_owned()),
        ];
        let url = prepare_url("http://a.test/s?x=1", &params).unwrap();
        assert_eq!(url.as_str(), "http://a.test/s?x=1&q=a+b%26c&n=1");
    }

    /// Random URL-ish strings (a fixed-seed generator, so a failure reproduces) never panic and
    /// either parse to an http(s) URL with a host or give a typed error.
    #[test]
    fn random_urls_never_panic() {
        const ALPHABET: &[u8] = b"http:s/\\?#@%[]:.-_~0123456789abcxyzXN \t\r\n\0\x7f\xc3\xa9";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as usize
        };
        let prefixes = [
            "http://",
            "https://",
            "",
            "ftp://",
            "http://[",
            "http://a@b@",
        ];
        for _ in 0..20_000 {
            let mut raw = prefixes[next() % prefixes.len()].as_bytes().to_vec();
            for _ in 0..(next() % 40) {
                raw.push(ALPHABET[next() % ALPHABET.len()]);
            }
            let raw = String::from_utf8_lossy(&raw).into_owned();
            match prepare_url(&raw, &[("k".to_owned(), raw.clone())]) {
                Ok(url) => {
                    assert!(matches!(url.scheme(), "http" | "https"), "{raw:?}");
                    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{raw:?}");
                }
                Err(error) => assert!(
                    matches!(error.kind, ErrorKind::InvalidUrl | ErrorKind::NonHttpUrl),
                    "{raw:?}"
                ),
            }
        }
    }

    #[test]
    fn idna_hosts_are_converted() {
        let url = prepare_url("http://bücher.example/", &[]).unwrap();
        assert_eq!(url.host_str(), Some("xn--bcher-kva.example"));
    }
}
