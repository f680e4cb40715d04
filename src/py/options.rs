//! Keyword options from Python, validated once per call into plain Rust values.
//!
//! One parser serves `fetch`, `fetch_all` and `Client.open`: each takes `**options` and pops what it
//! knows; whatever is left is an unexpected keyword, reported like Python reports one.

use bytes::Bytes;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;

use crate::engine::pool::{
    ClientConfig, Http2Mode, DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_IDLE_TIMEOUT,
};
use crate::py::headers::{header_map, text_pairs};
use crate::request::options::{
    RequestOptions, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_REDIRECTS, DEFAULT_TOTAL_TIMEOUT,
};
use crate::request::upload::RequestBody;

/// Requests of one `fetch_all` in flight at once, as many as aiohttp's default connector `limit`.
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

    /// Whether `name` was given (and is not consumed yet).
    pub fn contains(&self, name: &str) -> PyResult<bool> {
        match &self.dict {
            Some(dict) => dict.contains(name),
            None => Ok(false),
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

impl RequestOptions {
    /// The request options of a call's keywords; absent ones take the defaults.
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
        let skip_auto_headers = match kwargs.take("skip_auto_headers")? {
            Some(names) if !names.is_none() => header_names(&names)?,
            _ => Vec::new(),
        };
        let content_type = match kwargs.take("content_type")? {
            Some(value) if !value.is_none() => {
                let text: String = value.extract()?;
                Some(HeaderValue::from_str(&text).map_err(|_| {
                    PyValueError::new_err(format!(
                        "invalid content_type {text:?}: control characters are not allowed"
                    ))
                })?)
            }
            _ => None,
        };
        Ok(RequestOptions {
            skip_auto_headers,
            content_type,
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
}

/// Header names (an iterable of `str`), lower-cased; a name that is no token is refused.
fn header_names(names: &Bound<'_, PyAny>) -> PyResult<Vec<HeaderName>> {
    let mut out = Vec::new();
    for name in names.try_iter()? {
        let text: String = name?.extract()?;
        out.push(HeaderName::from_bytes(text.as_bytes()).map_err(|_| {
            PyValueError::new_err(format!("invalid header name {text:?} in skip_auto_headers"))
        })?);
    }
    Ok(out)
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
            ca_pem: kwargs.take_as("ca_pem", None)?,
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

impl ClientConfig {
    /// These settings with the connection settings a request gives of its own.
    pub fn with_overrides(&self, kwargs: &Kwargs<'_>) -> PyResult<Self> {
        let mut config = self.clone();
        if let Some(verify) = kwargs.take("verify")? {
            config.verify = verify.extract()?;
        }
        if let Some(pem) = kwargs.take("ca_pem")? {
            config.ca_pem = pem.extract()?;
        }
        if kwargs.contains("connect_timeout")? {
            config.connect_timeout = kwargs
                .take_seconds("connect_timeout", None)?
                .map(f64::to_bits);
        }
        if kwargs.contains("read_timeout")? {
            config.read_timeout = kwargs.take_seconds("read_timeout", None)?.map(f64::to_bits);
        }
        if let Some(proxy) = kwargs.take("proxy")? {
            config.proxy = proxy.extract()?;
        }
        if let Some(trust_env) = kwargs.take("trust_env")? {
            config.trust_env = trust_env.extract()?;
        }
        Ok(config)
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
