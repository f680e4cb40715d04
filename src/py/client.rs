//! The `Client` class that gives Python its own pool, its `PreparedOpen` requests, and the
//! module-level `fetch` and `fetch_all`, which use the shared pool for the options given.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::engine::pool::{shared_engine, ClientConfig, Engine, Pools};
use crate::py::errors::runtime_error;
use crate::py::headers::header_value;
use crate::py::options::Kwargs;
use crate::py::stream::{open_url, take_each_redirect};
use crate::request::error::FetchResult;
use crate::request::options::RequestOptions;
use crate::request::upload::RequestBody;
use crate::runtime::pending::Pending;

/// Connection pools of its own, with their settings (see `_core.pyi`).
#[pyclass(frozen, module = "ferrofetch")]
pub struct Client {
    pools: Pools,
    closed: AtomicBool,
}

impl Client {
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The pool for a request's connection settings: the client's own unless `kwargs` ask for
    /// others (`verify`, `ca_pem`, `connect_timeout`, `read_timeout`, `proxy`, `trust_env`).
    pub fn engine_for(&self, kwargs: &Kwargs<'_>) -> PyResult<Arc<Engine>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(runtime_error("this Client is closed"));
        }
        let config = self.pools.config().with_overrides(kwargs)?;
        let own = config == *self.pools.config();
        Ok(self.pools.engine((!own).then_some(config))?)
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (**options))]
    fn py_new(options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let kwargs = Kwargs::new(options);
        let config = ClientConfig::from_kwargs(&kwargs)?;
        let limit = kwargs
            .take("limit")?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or(0);
        let limit_per_host = kwargs
            .take("limit_per_host")?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or(0);
        kwargs.finish("Client")?;
        Ok(Client {
            pools: Pools::new(config, limit, limit_per_host)?,
            closed: AtomicBool::new(false),
        })
    }

    #[pyo3(signature = (url, **options))]
    fn fetch<'py>(
        &self,
        py: Python<'py>,
        url: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Pending::deferring_errors(py, "fetch", || {
            let kwargs = Kwargs::new(options);
            crate::py::fetch::start_fetch(
                py,
                self.engine_for(&kwargs)?,
                url,
                &kwargs,
                "Client.fetch",
            )
        })
    }

    #[pyo3(signature = (urls, **options))]
    fn fetch_all<'py>(
        &self,
        py: Python<'py>,
        urls: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Pending::deferring_errors(py, "fetch_all", || {
            let kwargs = Kwargs::new(options);
            crate::py::fetch_all::start_fetch_all(
                py,
                self.engine_for(&kwargs)?,
                urls,
                &kwargs,
                "Client.fetch_all",
            )
        })
    }

    #[pyo3(signature = (url, **options))]
    fn open<'py>(
        &self,
        py: Python<'py>,
        url: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Pending::deferring_errors(py, "open", || {
            let kwargs = Kwargs::new(options);
            crate::py::stream::start_open(py, self.engine_for(&kwargs)?, url, &kwargs)
        })
    }

    /// `open`'s options read once: a `PreparedOpen` (see `stream.rs`).
    #[pyo3(signature = (**options))]
    fn prepare<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PreparedOpen> {
        PreparedOpen::new(py, slf, &Kwargs::new(options))
    }

    /// Closes the pool; requests still in flight end with `ClientConnectionError`.
    fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.pools.close();
    }

    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn __repr__(&self) -> String {
        format!(
            "<ferrofetch.Client verify={} http2={:?} limit={} closed={}>",
            self.pools.config().verify,
            self.pools.config().http2,
            self.pools.limit(),
            self.closed.load(Ordering::Acquire)
        )
    }
}

/// `Client.prepare(**options)`: `Client.open`'s options read once, for requests that differ
/// only in URL, method, `follow_redirects`, a `bytes` body and a `Cookie` (a session's usual
/// requests). Reading keyword options was a third of `Client.open`'s time on Python's thread.
#[pyclass(frozen, module = "ferrofetch")]
pub struct PreparedOpen {
    client: Py<Client>,
    engine: Arc<Engine>,
    options: RequestOptions,
    each_redirect: bool,
    /// The last URL opened, as given and as parsed: a session asks for the same URL over and
    /// over, and parsing it (host checks, IDNA) was a third of what is left of an open.
    last_url: std::sync::Mutex<Option<(String, reqwest::Url)>>,
}

impl PreparedOpen {
    pub fn new<'py>(
        py: Python<'py>,
        client: &Bound<'py, Client>,
        kwargs: &Kwargs<'py>,
    ) -> PyResult<Self> {
        let engine = client.get().engine_for(kwargs)?;
        let options = RequestOptions::from_kwargs(py, kwargs)?;
        let each_redirect = take_each_redirect(kwargs)?;
        kwargs.finish("Client.prepare")?;
        Ok(PreparedOpen {
            client: client.clone().unbind(),
            engine,
            options,
            each_redirect,
            last_url: std::sync::Mutex::new(None),
        })
    }
}

#[pymethods]
impl PreparedOpen {
    /// Completes like `Client.open(url, **options)` with these `method`, `follow_redirects`,
    /// `data` and `content_type`, and `cookie` added as a `Cookie` header.
    #[pyo3(signature = (url, method, follow_redirects, data=None, content_type=None, cookie=None))]
    #[allow(clippy::too_many_arguments)]
    fn open<'py>(
        &self,
        py: Python<'py>,
        url: &str,
        method: &str,
        follow_redirects: bool,
        data: Option<&Bound<'py, PyBytes>>,
        content_type: Option<&str>,
        cookie: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Pending::deferring_errors(py, "open", || {
            if self.client.get().is_closed() {
                return Err(runtime_error("this Client is closed"));
            }
            let mut options = self.options.clone();
            options.method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| {
                PyValueError::new_err(format!(
                    "invalid HTTP method {method:?}: a method is an HTTP token"
                ))
            })?;
            options.follow_redirects = follow_redirects;
            if let Some(data) = data {
                options.body = Some(RequestBody::Bytes(Bytes::copy_from_slice(data.as_bytes())));
            }
            if let Some(content_type) = content_type {
                options.content_type = Some(header_value(content_type, "content_type")?);
            }
            if let Some(cookie) = cookie {
                options.headers.append(
                    reqwest::header::COOKIE,
                    header_value(cookie, "a Cookie header")?,
                );
            }
            let parsed = self.parsed_url(url).map_err(|e| e.into_pyerr(py))?;
            open_url(py, self.engine.clone(), options, parsed, self.each_redirect)
        })
    }

    fn __repr__(&self) -> String {
        format!("<PreparedOpen {}>", self.options.method)
    }
}

impl PreparedOpen {
    /// `url` checked and parsed as `Client.open` does it (the prepared options' `params`
    /// included), or the last one again.
    fn parsed_url(&self, raw: &str) -> FetchResult<reqwest::Url> {
        let mut last = self.last_url.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((text, url)) = last.as_ref() {
            if text == raw {
                return Ok(url.clone());
            }
        }
        let url = self.options.prepare_url(raw)?;
        *last = Some((raw.to_owned(), url.clone()));
        Ok(url)
    }
}

/// Module-level `fetch_all`: the shared pool for the client-level options given.
#[pyfunction]
#[pyo3(signature = (urls, **options))]
pub fn fetch_all<'py>(
    py: Python<'py>,
    urls: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    Pending::deferring_errors(py, "fetch_all", || {
        let kwargs = Kwargs::new(options);
        let engine = shared_engine(ClientConfig::from_kwargs(&kwargs)?)?;
        crate::py::fetch_all::start_fetch_all(py, engine, urls, &kwargs, "fetch_all")
    })
}
