//! Keyword options from Python, validated once per call into plain Rust values.
//!
//! One parser serves `fetch`, `fetch_all` and `Client.open`: each takes `**options` and pops what it
//! knows; whatever is left is an unexpected keyword, reported like Python reports one.

use bytes::Bytes;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};

use crate::engine::pool::{ClientConfig, Http2Mode};
use crate::py::headers::{header_map, text_pairs};
use crate::request::error::{ErrorKind, FetchError};
use crate::request::upload::RequestBody;

/// The default cap on a decoded response body held in memory: large enough for ordinary API and
/// page responses, small enough that a decompression bomb cannot exhaust memory.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 128 * 1024 * 1024;
/// aiohttp's `ClientTimeout(total=300)`.
pub const DEFAULT_TOTAL_TIMEOUT: f64 = 300.0;
/// aiohttp's `sock_connect=30`.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 30.0;
/// aiohttp's `keepalive_timeout`; reqwest's own default (90 s) outlives many servers' idle limits.
pub const DEFAULT_POOL_IDLE_TIMEOUT: f64 = 15.0;
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
pub const DEFAULT_CONCURRENCY: usize = 100;

/// Keyword arguments being consumed.
pub struct Kwargs<'py> {
    dict: Option<Bound<'py, PyDict>>,
}

impl<'py> Kwargs<'py> {
    pub fn new(dict: Option<&Bound<'py, PyDict>>) -> Self {
        Kwargs {
            dict: dict.cloned(),
        }
    }

    /// The value given for `name` (removing it), or `None` if it was not given at all.
    pub fn take(&self, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(dict) = &self.dict else {
            return Ok(None);
        };
        let value = dict.get_item(name)?;
        if value.is_some() {
            dict.del_item(name)?;
        }
        Ok(value)
    }

    fn take_as<T: for<'a> FromPyObject<'a, 'py>>(&self, name: &str, default: T) -> PyResult<T> {
        match self.take(name)? {
            Some(value) => value.extract::<T>().map_err(|_| {
                if value.is_instance_of::<pyo3::types::PyInt>() {
                    PyValueError::new_err(format!("{name} is out of range: {value}"))
                } else {
                    PyTypeError::new_err(format!(
                        "{name}: unexpected type {}",
                        value
                            .get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ))
                }
            }),
            None => Ok(default),
        }
    }

    /// Seconds as a duration; `None` means "no limit"; absent means `default`.
    fn take_seconds(&self, name: &str, default: Option<f64>) -> PyResult<Option<f64>> {
        let seconds = match self.take(name)? {
            None => default,
            Some(v) if v.is_none() => None,
            Some(v) => Some(v.extract::<f64>().map_err(|_| {
                PyTypeError::new_err(format!("{name} must be a number of seconds or None"))
            })?),
        };
        match seconds {
            Some(s) if !s.is_finite() || s < 0.0 => Err(PyValueError::new_err(format!(
                "{name} must be a non-negative number of seconds, got {s}"
            ))),
            other => Ok(other),
        }
    }

    /// Raises `TypeError` for any keyword nobody consumed.
    pub fn finish(&self, function: &str) -> PyResult<()> {
        if let Some(dict) = &self.dict {
            if let Some((key, _)) = dict.iter().next() {
                return Err(PyTypeError::new_err(format!(
                    "{function}() got an unexpected keyword argument {}",
                    key.repr()?
                )));
            }
        }
        Ok(())
    }
}

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
}

impl RequestOptions {
    pub fn from_kwargs(py: Python<'_>, kwargs: &Kwargs<'_>) -> PyResult<Self> {
        let method_text: String = kwargs.take_as("method", "GET".to_owned())?;
        let method = Method::from_bytes(method_text.to_ascii_uppercase().as_bytes()).map_err(|_| {
            PyValueError::new_err(format!(
                "invalid HTTP method {method_text:?}: a method is an HTTP token (letters, digits, no spaces or control characters)"
            ))
        })?;
        let mut headers = header_map(kwargs.take("headers")?.as_ref())?;
        let data = kwargs.take("data")?.filter(|d| !d.is_none());
        let json = kwargs.take("json")?.filter(|j| !j.is_none());
        let body = match (data, json) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "data and json cannot both be given: pass one body",
                ))
            }
            (Some(data), None) => match RequestBody::stream_from(&data)? {
                Some(stream) => Some(stream),
                None => Some(RequestBody::Bytes(body_from_data(&data, &mut headers)?)),
            },
            (None, Some(json)) => {
                let text: String = py
                    .import("json")?
                    .call_method1("dumps", (json,))?
                    .extract()?;
                default_content_type(&mut headers, "application/json");
                Some(RequestBody::Bytes(Bytes::from(text.into_bytes())))
            }
            (None, None) => None,
        };
        let params = text_pairs(kwargs.take("params")?.as_ref(), "params")?;
        let timeout = kwargs.take_seconds("timeout", Some(DEFAULT_TOTAL_TIMEOUT))?;
        let follow_redirects = kwargs.take_as("follow_redirects", true)?;
        let max_redirects = kwargs.take_as("max_redirects", DEFAULT_MAX_REDIRECTS)?;
        let max_body_size = match kwargs.take("max_body_size")? {
            None => Some(DEFAULT_MAX_BODY_SIZE),
            Some(v) if v.is_none() => None,
            Some(v) => Some(v.extract::<u64>().map_err(|_| {
                PyValueError::new_err(
                    "max_body_size must be a non-negative number of bytes or None",
                )
            })?),
        };
        let decompress = kwargs.take_as("decompress", true)?;
        Ok(RequestOptions {
            decompress,
            method,
            headers,
            body,
            params,
            timeout,
            follow_redirects,
            max_redirects,
            max_body_size,
        })
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

fn default_content_type(headers: &mut HeaderMap, value: &'static str) {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
    }
}

fn body_from_data(data: &Bound<'_, PyAny>, headers: &mut HeaderMap) -> PyResult<Bytes> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(Bytes::copy_from_slice(b.as_bytes()));
    }
    if data.is_instance_of::<PyByteArray>() || data.is_instance_of::<PyMemoryView>() {
        let b: Vec<u8> = data
            .call_method0("__bytes__")
            .or_else(|_| {
                data.py()
                    .import("builtins")?
                    .getattr("bytes")?
                    .call1((data,))
            })?
            .extract()?;
        return Ok(Bytes::from(b));
    }
    if let Ok(s) = data.cast::<PyString>() {
        default_content_type(headers, "text/plain; charset=utf-8");
        return Ok(Bytes::copy_from_slice(s.to_cow()?.as_bytes()));
    }
    let fields = text_pairs(Some(data), "data").map_err(|_| {
        PyTypeError::new_err(
            "data must be bytes, str, a mapping or (name, value) pairs of form fields",
        )
    })?;
    default_content_type(headers, "application/x-www-form-urlencoded");
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Ok(Bytes::from(encoded.into_bytes()))
}

impl ClientConfig {
    /// Client-level options; absent ones take the documented defaults.
    pub fn from_kwargs(kwargs: &Kwargs<'_>) -> PyResult<Self> {
        let http2 = match kwargs.take("http2")? {
            None => Http2Mode::Prefer,
            Some(v) => {
                if let Ok(flag) = v.extract::<bool>() {
                    if flag {
                        Http2Mode::Prefer
                    } else {
                        Http2Mode::Http1Only
                    }
                } else {
                    match v.extract::<String>().ok().as_deref() {
                        Some("prefer") => Http2Mode::Prefer,
                        Some("force") => Http2Mode::Force,
                        _ => {
                            return Err(PyValueError::new_err(
                                "http2 must be True, False, \"prefer\" or \"force\"",
                            ))
                        }
                    }
                }
            }
        };
        Ok(ClientConfig {
            verify: kwargs.take_as("verify", true)?,
            ca_bundle: kwargs.take_as("ca_bundle", None)?,
            client_cert: kwargs.take_as("client_cert", None)?,
            client_key: kwargs.take_as("client_key", None)?,
            http2,
            connect_timeout: kwargs
                .take_seconds("connect_timeout", Some(DEFAULT_CONNECT_TIMEOUT))?
                .map(f64::to_bits),
            read_timeout: kwargs.take_seconds("read_timeout", None)?.map(f64::to_bits),
            pool_idle_timeout: kwargs
                .take_seconds("pool_idle_timeout", Some(DEFAULT_POOL_IDLE_TIMEOUT))?
                .map(f64::to_bits),
            force_close: kwargs.take_as("force_close", false)?,
            proxy: kwargs.take_as("proxy", None)?,
            trust_env: kwargs.take_as("trust_env", false)?,
            user_agent: kwargs.take_as("user_agent", None)?,
        })
    }
}

/// `concurrency` and `return_exceptions`, the options only a batch has.
pub fn batch_options(kwargs: &Kwargs<'_>) -> PyResult<(usize, bool)> {
    let concurrency: usize = kwargs.take_as("concurrency", DEFAULT_CONCURRENCY)?;
    if concurrency == 0 {
        return Err(PyValueError::new_err("concurrency must be at least 1"));
    }
    let return_exceptions: bool = kwargs.take_as("return_exceptions", false)?;
    Ok((concurrency, return_exceptions))
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
