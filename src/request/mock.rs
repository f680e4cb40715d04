//! The mock router of `ferrofetch.testing`: while one is installed, each hop is answered by it
//! in-process instead of by the network. The answer is turned into a `reqwest::Response` here,
//! at the one point where a hop is sent, so redirects, decoding, body limits, timeouts and error
//! mapping downstream stay exactly the engine's, whichever API made the request.
//!
//! The router itself (matching, recorded calls, callbacks) is Python: each hop crosses to the
//! event loop that made the call (captured in the call's scope) and awaits the router's answer
//! there, as a streamed upload pulls its chunks. When no router is installed, the only cost is
//! one atomic load per hop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::BodyExt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use reqwest::header::{HeaderValue, ACCEPT_ENCODING, USER_AGENT};
use reqwest::ResponseBuilderExt;

use crate::engine::pool::{Engine, DEFAULT_USER_AGENT};
use crate::request::error::{ErrorKind, FetchError, FetchResult, RaisedByPython};
use crate::runtime::scope;

static INSTALLED: AtomicBool = AtomicBool::new(false);
static ROUTER: Mutex<Option<Arc<Py<PyAny>>>> = Mutex::new(None);

/// Whether a router is installed (checked once per call and once per hop).
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Acquire)
}

/// Installs `router` (an async callable, see `ferrofetch.testing`), or removes it with `None`.
pub fn install(router: Option<Py<PyAny>>) {
    let mut slot = ROUTER.lock().unwrap_or_else(|p| p.into_inner());
    INSTALLED.store(router.is_some(), Ordering::Release);
    *slot = router.map(Arc::new);
}

fn router() -> Option<Arc<Py<PyAny>>> {
    ROUTER.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// What the router made of a hop.
pub enum Answer {
    Response(reqwest::Response),
    /// Not mocked: the hop goes to the network (the router's passthrough), body intact.
    Network(reqwest::Request),
}

/// `(status, reason, headers, body)`, as `ferrofetch.testing` hands a reply over.
type WireReply = (u16, Option<String>, Vec<(String, String)>, Vec<u8>);

/// The router's reply, as `ferrofetch.testing` normalises it.
struct Reply {
    status: u16,
    reason: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Asks the installed router for the response to `request`.
pub async fn answer(engine: &Engine, mut request: reqwest::Request) -> FetchResult<Answer> {
    let Some(router) = router() else {
        return Ok(Answer::Network(request));
    };
    let url = request.url().clone();
    let Some(locals) = scope::event_loop() else {
        return Err(FetchError::new(
            ErrorKind::Connection,
            Some(url.as_str()),
            format!("a mock router was installed while this request was in flight, so it cannot answer it ({url})"),
        ));
    };
    let body = take_body(engine, &mut request).await?;
    let mut headers = request.headers().clone();
    // What reqwest adds when it sends, so the recorded call shows what the server would see.
    if !headers.contains_key(USER_AGENT) {
        let agent = engine
            .config
            .user_agent
            .as_deref()
            .unwrap_or(DEFAULT_USER_AGENT);
        if let Ok(value) = HeaderValue::from_str(agent) {
            headers.insert(USER_AGENT, value);
        }
    }
    if !headers.contains_key(ACCEPT_ENCODING) {
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(crate::response::decoding::ACCEPT_ENCODING),
        );
    }
    let pending = Python::attach(|py| {
        let sent = PyList::empty(py);
        for (name, value) in &headers {
            sent.append((name.as_str(), crate::response::head::value_text(value)))?;
        }
        let call = router.bind(py).call1((
            request.method().as_str(),
            url.as_str(),
            sent,
            PyBytes::new(py, &body),
        ))?;
        pyo3_async_runtimes::into_future_with_locals(&locals, call)
    })
    .map_err(|e| raised(e, url.as_str()))?;
    let value = pending.await.map_err(|e| raised(e, url.as_str()))?;
    let reply = Python::attach(|py| -> PyResult<Option<Reply>> {
        let value = value.bind(py);
        if value.is_none() {
            return Ok(None);
        }
        let (status, reason, headers, body): WireReply = value.extract()?;
        Ok(Some(Reply {
            status,
            reason,
            headers,
            body,
        }))
    })
    .map_err(|e| raised(e, url.as_str()))?;
    scope::debug("mock", || match &reply {
        Some(reply) => format!(
            "{} {} answered by the mock router: {}",
            request.method(),
            crate::request::error::redact(url.as_str()),
            reply.status
        ),
        None => format!(
            "{} {} passed through the mock router to the network",
            request.method(),
            crate::request::error::redact(url.as_str())
        ),
    });
    match reply {
        None => Ok(Answer::Network(request)),
        Some(reply) => response(url, reply).map(Answer::Response),
    }
}

/// The request body, read whole (a streamed upload is pulled to its end, as a server would),
/// and put back for a hop that goes on to the network.
async fn take_body(engine: &Engine, request: &mut reqwest::Request) -> FetchResult<Bytes> {
    let Some(body) = request.body_mut().take() else {
        return Ok(Bytes::new());
    };
    if let Some(bytes) = body.as_bytes() {
        let bytes = Bytes::copy_from_slice(bytes);
        *request.body_mut() = Some(body);
        return Ok(bytes);
    }
    let collected = body
        .collect()
        .await
        .map_err(|e| FetchError::from_send(&e, request.url().as_str(), &engine.config.timeouts()))?
        .to_bytes();
    *request.body_mut() = Some(reqwest::Body::from(collected.clone()));
    Ok(collected)
}

fn response(url: reqwest::Url, reply: Reply) -> FetchResult<reqwest::Response> {
    let invalid = |what: String| {
        FetchError::new(
            ErrorKind::BadResponse,
            Some(url.as_str()),
            format!("the mock router's response for {url} is not valid HTTP: {what}"),
        )
    };
    let mut builder = http::Response::builder()
        .status(reply.status)
        .version(http::Version::HTTP_11)
        .url(url.clone());
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(reason) = reply.reason {
        let phrase = hyper::ext::ReasonPhrase::try_from(reason)
            .map_err(|e| invalid(format!("reason phrase: {e}")))?;
        builder = builder.extension(phrase);
    }
    let response = builder
        .body(Bytes::from(reply.body))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(reqwest::Response::from(response))
}

/// An exception of the router (a route's `exception`, a callback's, an unmatched request's) is
/// raised to the caller as it is.
fn raised(err: PyErr, url: &str) -> FetchError {
    FetchError::new(
        ErrorKind::Raised(RaisedByPython(Arc::new(err))),
        Some(url),
        format!("the mock router raised an exception for {url}"),
    )
}
