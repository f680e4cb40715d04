//! `fetch(url, **options)` from Python: the options parsed, the request run on the engine, the
//! result delivered as a `Response` (or the exception) on the event loop.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::engine::pool::{shared_engine, ClientConfig, Engine};
use crate::py::options::Kwargs;
use crate::py::response::Response;
use crate::request::options::RequestOptions;
use crate::request::send::execute;
use crate::runtime::bridge;
use crate::runtime::pending::Pending;

/// The URL argument as text; anything but `str` is a `TypeError`.
pub fn url_text(url: &Bound<'_, PyAny>) -> PyResult<String> {
    match url.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "a URL must be a str, got {}",
            url.get_type().name()?
        ))),
    }
}

/// `fetch(url, **options)`: one request, one future.
pub fn start_fetch<'py>(
    py: Python<'py>,
    engine: Arc<Engine>,
    url: &Bound<'py, PyAny>,
    kwargs: &Kwargs<'py>,
    function: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let raw = url_text(url)?;
    let options = RequestOptions::shared_from_kwargs(py, kwargs)?;
    kwargs.finish(function)?;
    let url = options.prepare_url(&raw).map_err(|e| e.into_pyerr(py))?;
    bridge::spawn_made_for_loop(
        py,
        "fetch",
        move || execute(engine, options, url),
        |py, result| match result {
            Ok(fetched) => Ok(Py::new(py, Response::new(fetched))?.into_any()),
            Err(error) => Err(error.into_pyerr(py)),
        },
    )
}

/// Fetch one URL and return the response with its body read.
///
/// ```python
/// response = await ferrofetch.fetch("http://127.0.0.1:8080/", timeout=10)
/// print(response.status, len(response.content), "bytes")
/// ```
///
/// Args:
///     url: an ``http://`` or ``https://`` URL, as a ``str``.
///     **options: any of :class:`ferrofetch.options.FetchOptions`: the request options
///         (``method``, ``headers``, ``data``/``json``, ``params``, ``timeout`` in seconds, default
///         300, ``follow_redirects``, ``max_redirects`` default 10 (redirects followed at most; 0
///         follows none), ``skip_auto_headers``, ``max_body_size`` in bytes,
///         default 128 MiB, ``decompress``) and the connection options (``verify``, ``ca_bundle``,
///         ``http2``, ``connect_timeout`` in seconds, default 30, ``read_timeout``, ``proxy``...),
///         which select one of the shared pools.
///
/// Returns:
///     A ``Pending`` to await (a coroutine to asyncio); made inside a running event loop, the
///     request starts at once.
///
/// Raises:
///     InvalidURL: the URL does not parse or has no host (also a ``ValueError``).
///     NonHttpUrlClientError: a scheme other than http or https.
///     ClientConnectorError: the connection could not be opened (see the error reference).
///     ServerTimeoutError: ``timeout`` ran out (an ``asyncio.TimeoutError``).
///     ClientPayloadError: the body was truncated or could not be decoded.
///     TypeError: an unknown option or a value of the wrong type.
// `ferrofetch.fetch` itself, with no Python wrapper around it (a call under `asyncio.gather` is
// dominated by per-call costs): the doc comment above is its docstring, in the API reference too.
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
        start_fetch(py, engine, url, &kwargs, "fetch")
    })
}
