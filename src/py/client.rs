//! The `Client` class that gives Python its own pool, and the module-level `fetch` and
//! `fetch_all`, which use the shared pool for the options given.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::engine::pool::{shared_engine, ClientConfig, Engine, Pools};
use crate::py::errors::runtime_error;
use crate::py::options::Kwargs;
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
    ) -> PyResult<crate::py::stream::PreparedOpen> {
        crate::py::stream::PreparedOpen::new(py, slf, &Kwargs::new(options))
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

/// Module-level `fetch`: the shared pool for the client-level options given.
#[pyfunction]
#[pyo3(signature = (url, **options))]
pub fn fetch<'py>(
    py: Python<'py>,
    url: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    Pending::deferring_errors(py, "fetch", || {
        let kwargs = Kwargs::new(options);
        let engine = shared_engine(ClientConfig::from_kwargs(&kwargs)?)?;
        crate::py::fetch::start_fetch(py, engine, url, &kwargs, "fetch")
    })
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
