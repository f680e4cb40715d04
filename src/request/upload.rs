//! Request bodies: bytes sent as they are, or an async iterator of bytes streamed as it yields.
//!
//! A streamed body is pulled from Python one chunk at a time: each `__anext__()` runs on the
//! event loop that made the call (through pyo3-async-runtimes' `into_future_with_locals`) and the
//! chunk goes out with chunked transfer encoding, so an upload of any size never sits in memory.
//! Pulling a chunk takes the GIL briefly on the runtime thread; that is the price of streaming.
//!
//! The read timeout starts once the request has been sent (aiohttp's `sock_read`): a streamed
//! upload signals its end ([`Uploaded`]), and [`head_within`] waits for the response head under
//! the read timeout only from then on. reqwest's own read timeout starts with the request, so an
//! upload longer than the limit would fail; it is not used.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream;
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use pyo3_async_runtimes::TaskLocals;
use tokio_util::sync::CancellationToken;

use crate::request::error::UploadError;

/// An async iterator of bytes, bound to the event loop that will drive it.
pub struct Upload {
    iterator: Py<PyAny>,
    locals: TaskLocals,
}

/// The body of a request.
#[derive(Clone)]
pub enum RequestBody {
    Bytes(Bytes),
    /// Taken by the first send: a stream cannot be sent twice (nor replayed by a redirect).
    Stream(Arc<Mutex<Option<Upload>>>),
}

impl RequestBody {
    /// An async iterable (anything with `__aiter__`) as a streamed body, or `None`.
    pub fn stream_from(data: &Bound<'_, PyAny>) -> PyResult<Option<RequestBody>> {
        let py = data.py();
        if !data.hasattr(pyo3::intern!(py, "__aiter__"))? {
            return Ok(None);
        }
        let Some(event_loop) = crate::runtime::bridge::running_loop(py)? else {
            return Err(PyRuntimeError::new_err(
                "a streamed body (an async iterator) must be sent from a coroutine running on an event loop",
            ));
        };
        let iterator = data.call_method0(pyo3::intern!(py, "__aiter__"))?.unbind();
        let locals = TaskLocals::new(event_loop).copy_context(py)?;
        Ok(Some(RequestBody::Stream(Arc::new(Mutex::new(Some(
            Upload { iterator, locals },
        ))))))
    }

    /// The body for one send, with the signal of its end for a stream (a body of bytes is
    /// handed over whole at once); `None` if it was a stream already sent.
    pub fn to_reqwest(&self) -> Option<(reqwest::Body, Option<Uploaded>)> {
        match self {
            RequestBody::Bytes(bytes) => Some((reqwest::Body::from(bytes.clone()), None)),
            RequestBody::Stream(slot) => {
                let upload = slot.lock().unwrap_or_else(|p| p.into_inner()).take()?;
                let uploaded = Uploaded::default();
                Some((upload.into_body(uploaded.clone()), Some(uploaded)))
            }
        }
    }
}

/// Set once a streamed request body has yielded its last chunk (or failed).
#[derive(Clone, Default)]
pub struct Uploaded(CancellationToken);

/// Waits for the response head (`send`), under `read` counted from the end of the upload: at
/// once for a body sent whole or no body, when `uploaded` is set for a streamed one. `None`
/// once the read timeout has passed.
pub async fn head_within<T>(
    send: impl Future<Output = T>,
    uploaded: Option<Uploaded>,
    read: Option<Duration>,
) -> Option<T> {
    let Some(read) = read else {
        return Some(send.await);
    };
    let send = std::pin::pin!(send);
    let mut send = send;
    if let Some(uploaded) = uploaded {
        tokio::select! {
            biased;
            response = &mut send => return Some(response),
            () = uploaded.0.cancelled() => {}
        }
    }
    tokio::time::timeout(read, send).await.ok()
}

impl Upload {
    fn into_body(self, uploaded: Uploaded) -> reqwest::Body {
        let chunks = stream::unfold(Some(self), move |upload| {
            let uploaded = uploaded.clone();
            async move {
                let Some(upload) = upload else {
                    uploaded.0.cancel();
                    return None;
                };
                match upload.next_chunk().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(upload))),
                    Ok(None) => {
                        uploaded.0.cancel();
                        None
                    }
                    // One error ends the stream (and the request).
                    Err(error) => Some((Err(error), None)),
                }
            }
        });
        reqwest::Body::wrap_stream(chunks)
    }

    async fn next_chunk(&self) -> Result<Option<Bytes>, std::io::Error> {
        let pending = Python::attach(|py| {
            let next = self
                .iterator
                .bind(py)
                .call_method0(pyo3::intern!(py, "__anext__"))?;
            pyo3_async_runtimes::into_future_with_locals(&self.locals, next)
        })
        .map_err(upload_error)?;
        match pending.await {
            Ok(value) => Python::attach(|py| chunk_bytes(value.bind(py)))
                .map(Some)
                .map_err(upload_error),
            Err(err) if Python::attach(|py| err.is_instance_of::<PyStopAsyncIteration>(py)) => {
                Ok(None)
            }
            Err(err) => Err(upload_error(err)),
        }
    }
}

fn chunk_bytes(value: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Bytes::copy_from_slice(b.as_bytes()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Bytes::copy_from_slice(s.to_cow()?.as_bytes()));
    }
    if value.is_instance_of::<PyByteArray>() || value.is_instance_of::<PyMemoryView>() {
        let owned: Vec<u8> = value
            .py()
            .import("builtins")?
            .getattr("bytes")?
            .call1((value,))?
            .extract()?;
        return Ok(Bytes::from(owned));
    }
    Err(PyTypeError::new_err(format!(
        "a streamed body must yield bytes, got {}",
        value.get_type().name()?
    )))
}

fn upload_error(err: PyErr) -> std::io::Error {
    std::io::Error::other(UploadError(err.to_string()))
}
