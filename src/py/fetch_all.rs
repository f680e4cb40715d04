//! The bulk path: a whole batch is one call from Python and one completion back.
//!
//! Every URL is validated before anything is sent. The requests then run inside one task on the
//! runtime, at most `concurrency` in flight; results land in input order. Cancelling the Python
//! future drops that task, which drops every in-flight request and closes its connection.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use reqwest::Url;

use crate::engine::pool::Engine;
use crate::py::fetch::url_text;
use crate::py::options::{batch_options, Kwargs};
use crate::py::response::Response;
use crate::request::error::{FetchError, FetchResult};
use crate::request::options::RequestOptions;
use crate::request::send::{execute, Fetched};
use crate::request::upload::RequestBody;
use crate::runtime::bridge;

type Outcome = FetchResult<Fetched>;

pub fn start_fetch_all<'py>(
    py: Python<'py>,
    engine: Arc<Engine>,
    urls: &Bound<'py, PyAny>,
    kwargs: &Kwargs<'py>,
    function: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let options = RequestOptions::from_kwargs(py, kwargs)?;
    let (concurrency, return_exceptions) = batch_options(kwargs)?;
    kwargs.finish(function)?;
    if matches!(options.body, Some(RequestBody::Stream(_))) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "fetch_all sends the same body to every URL: pass bytes, str or form fields, not an async iterator",
        ));
    }
    if urls.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "urls must be an iterable of URLs, not a single str: use fetch() for one URL",
        ));
    }
    let mut prepared: Vec<Result<Url, FetchError>> = Vec::new();
    for item in urls.try_iter()? {
        let raw = url_text(&item?)?;
        match options.prepare_url(&raw) {
            Ok(url) => prepared.push(Ok(url)),
            Err(error) if return_exceptions => prepared.push(Err(error)),
            Err(error) => return Err(error.into_pyerr(py)),
        }
    }
    let batch = run_batch(
        engine,
        Arc::new(options),
        prepared,
        concurrency,
        return_exceptions,
    );
    bridge::spawn_for_loop(py, "fetch_all", batch, |py, result| {
        let outcomes = result.map_err(|error| error.into_pyerr(py))?;
        let list = PyList::empty(py);
        for outcome in outcomes {
            match outcome {
                Ok(fetched) => list.append(Py::new(py, Response::new(fetched))?)?,
                Err(error) => list.append(error.into_pyerr(py).into_value(py))?,
            }
        }
        Ok(list.into_any().unbind())
    })
}

async fn run_batch(
    engine: Arc<Engine>,
    options: Arc<RequestOptions>,
    prepared: Vec<Result<Url, FetchError>>,
    concurrency: usize,
    return_exceptions: bool,
) -> FetchResult<Vec<Outcome>> {
    let mut slots: Vec<Option<Outcome>> = Vec::with_capacity(prepared.len());
    let mut valid: Vec<(usize, Url)> = Vec::with_capacity(prepared.len());
    for (index, entry) in prepared.into_iter().enumerate() {
        match entry {
            Ok(url) => {
                valid.push((index, url));
                slots.push(None);
            }
            Err(error) => slots.push(Some(Err(error))),
        }
    }
    let mut in_flight = stream::iter(valid)
        .map(|(index, url)| {
            let engine = engine.clone();
            let options = options.clone();
            async move { (index, execute(engine, options, url).await) }
        })
        .buffer_unordered(concurrency);
    while let Some((index, outcome)) = in_flight.next().await {
        if !return_exceptions {
            if let Err(error) = outcome {
                // Returning drops `in_flight`, which cancels every request still running.
                return Err(error);
            }
        }
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(outcome);
        }
    }
    Ok(slots
        .into_iter()
        .map(|slot| {
            slot.unwrap_or_else(|| Err(FetchError::internal(None, "a batch slot was never filled")))
        })
        .collect())
}
