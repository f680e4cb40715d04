//! `fetch(url, **options)` from Python: the options parsed, the request run on the engine, the
//! result delivered as a `Response` (or the exception) on the event loop.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::engine::pool::Engine;
use crate::py::options::Kwargs;
use crate::py::response::Response;
use crate::request::options::RequestOptions;
use crate::request::send::execute;
use crate::runtime::bridge;

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
    let options = RequestOptions::from_kwargs(py, kwargs)?;
    kwargs.finish(function)?;
    let url = options.prepare_url(&raw).map_err(|e| e.into_pyerr(py))?;
    bridge::spawn_for_loop(
        py,
        "fetch",
        execute(engine, Arc::new(options), url),
        |py, result| match result {
            Ok(fetched) => Ok(Py::new(py, Response::new(fetched))?.into_any()),
            Err(error) => Err(error.into_pyerr(py)),
        },
    )
}
