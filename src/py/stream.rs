//! `Client.open`: a response whose body is read chunk by chunk as Python asks, so a 1 GiB body
//! never sits in memory. The aiohttp-compatible `ClientResponse.content` is built on this.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::FutureExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyTuple};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::engine::pool::{Engine, LimitPermits};
use crate::py::errors::runtime_error;
use crate::py::fetch::url_text;
use crate::py::headers::{header_value, to_multidict_proxy, to_raw_pairs};
use crate::py::options::Kwargs;
use crate::request::error::{ErrorKind, FetchError, FetchResult};
use crate::request::options::RequestOptions;
use crate::request::send::{bounded, bounded_until, check_body_size, Hops, Sent, Step};
use crate::request::upload::RequestBody;
use crate::response::body::ReceivedBody;
use crate::response::decoding::BodyReader;
use crate::response::head::Head;
use crate::runtime::bridge;
use crate::runtime::pending::Pending;

/// A small body that arrived with the head is taken at once, without waiting, so reading it
/// costs no extra trip through the event loop.
const PREFETCH_LIMIT: usize = 64 * 1024;

/// A body declared (`Content-Length`) at most this long is collected in the open itself for as
/// long as it keeps arriving, so that `read()` finds it whole: the head and the body come back
/// to Python as one completion instead of two trips through its event loop. Also the most
/// (decoded) bytes so held. Larger bodies are read whole by `read_all`, which turns them into
/// `bytes` on the runtime thread (`ReceivedBody::handed_over`, from 256 KiB on): taken from
/// here they would be copied, and their chunks freed, on Python's thread.
const GATHER_LIMIT: u64 = 256 * 1024;

/// The unread rest of a body, with the connection-limit permits it holds until it has been
/// received whole (or failed): like aiohttp, a response whose body has all arrived no longer
/// counts against `limit`/`limit_per_host`, released or not.
struct Body {
    reader: BodyReader,
    permits: Option<LimitPermits>,
    read: u64,
    /// Chunks already received and not yet handed out; `finished` once the body has ended.
    prefetched: VecDeque<Bytes>,
    finished: bool,
    /// A read error met while prefetching, reported after the chunks received before it.
    failed: Option<FetchError>,
}

impl Body {
    /// Takes whatever body bytes are already here, without waiting, up to `PREFETCH_LIMIT`.
    /// `chunk()` is cancel-safe: a pending poll loses nothing.
    /// Errors and the size limit are reported by the reads, where the caller expects them.
    fn prefetch(&mut self, url: &str, engine: &Engine) {
        let mut taken = 0;
        while taken < PREFETCH_LIMIT && !self.finished && self.failed.is_none() {
            let timeouts = engine.config.timeouts();
            match self.reader.chunk(url, &timeouts).now_or_never() {
                Some(Ok(Some(chunk))) => {
                    taken += chunk.len();
                    self.prefetched.push_back(chunk);
                }
                Some(Ok(None)) => self.end(),
                Some(Err(e)) => {
                    self.failed = Some(e);
                    self.permits = None;
                }
                None => break,
            }
        }
    }

    /// The whole body has been received: its connection went back to the pool, so its slot
    /// of the connection limits is free for the next request.
    fn end(&mut self) {
        self.finished = true;
        self.permits = None;
    }

    /// Takes the body's chunks as they arrive, giving the connection's task a turn between
    /// takes, until it ends, stops arriving (a turn brought nothing: the open never waits on
    /// the network for a body) or `GATHER_LIMIT` bytes are held.
    async fn gather(&mut self, url: &str, engine: &Engine) {
        let mut seen = self.prefetched.len();
        while !self.finished && self.failed.is_none() {
            let held: usize = self.prefetched.iter().map(Bytes::len).sum();
            if held as u64 >= GATHER_LIMIT {
                break;
            }
            tokio::task::yield_now().await;
            self.prefetch(url, engine);
            if self.prefetched.len() == seen && !self.finished && self.failed.is_none() {
                break;
            }
            seen = self.prefetched.len();
        }
    }

    /// The next chunk already here or from the network, counted against the size limit.
    async fn next(
        &mut self,
        limit: Option<u64>,
        url: &str,
        engine: &Engine,
    ) -> FetchResult<Option<Bytes>> {
        let chunk = match self.prefetched.pop_front() {
            Some(chunk) => Some(chunk),
            None if self.failed.is_some() => {
                return Err(self
                    .failed
                    .take()
                    .unwrap_or_else(|| FetchError::internal(Some(url), "a read error was lost")))
            }
            None if self.finished => None,
            None => match self.reader.chunk(url, &engine.config.timeouts()).await {
                Ok(None) => {
                    self.end();
                    None
                }
                Ok(chunk) => chunk,
                Err(error) => {
                    self.permits = None;
                    return Err(error);
                }
            },
        };
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            check_body_size(self.read, limit, url)?;
        }
        Ok(chunk)
    }
}

#[pyclass(frozen, module = "ferrofetch")]
pub struct StreamResponse {
    head: Head,
    content_length: Option<u64>,
    body: Arc<Mutex<Option<Body>>>,
    engine: Arc<Engine>,
    max_body_size: Option<u64>,
    timeout: Option<f64>,
    deadline: Option<Instant>,
    stop: CancellationToken,
    closed: AtomicBool,
    headers: PyOnceLock<Py<PyAny>>,
}

/// The next chunk, or `None` at the end; the body is released at the end or on any error.
async fn next_chunk(
    body: &Mutex<Option<Body>>,
    engine: &Engine,
    url: &str,
    limit: Option<u64>,
) -> FetchResult<Option<Bytes>> {
    let mut guard = body.lock().await;
    let Some(state) = guard.as_mut() else {
        return Ok(None);
    };
    let result = state.next(limit, url, engine).await;
    if !matches!(result, Ok(Some(_))) {
        // At the end or after an error the body (and its connection) is released.
        *guard = None;
    } else if state.prefetched.is_empty() {
        // Picks up what has arrived meanwhile, the end of the body included (hyper signals it
        // apart from the last bytes), so `finished` turns true without one more empty read.
        state.prefetch(url, engine);
    }
    result
}

impl StreamResponse {
    /// Runs a body read under what is left of the total timeout and the close signals.
    fn spawn_read<'py, T, F, C>(
        &self,
        py: Python<'py>,
        make: F,
        on_done: C,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: Send + 'static,
        F: FnOnce(
            Arc<Mutex<Option<Body>>>,
            Arc<Engine>,
            String,
            Option<u64>,
        ) -> futures::future::BoxFuture<'static, FetchResult<T>>,
        C: FnOnce(Python<'_>, FetchResult<T>) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        let engine = self.engine.clone();
        let url = self.head.url.clone();
        let stop = self.stop.clone();
        let remaining = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        let timeout = self.timeout;
        let work = make(
            self.body.clone(),
            engine.clone(),
            url.clone(),
            self.max_body_size,
        );
        bridge::spawn_for_loop(
            py,
            "read",
            async move {
                let limited = async {
                    match remaining {
                        Some(left) if left.is_zero() => {
                            Err(FetchError::total_timeout(&url, timeout.unwrap_or(0.0)))
                        }
                        Some(left) => tokio::time::timeout(left, work).await.unwrap_or_else(|_| {
                            Err(FetchError::total_timeout(&url, timeout.unwrap_or(0.0)))
                        }),
                        None => work.await,
                    }
                };
                tokio::select! {
                    biased;
                    () = stop.cancelled() => Err(FetchError::new(
                        ErrorKind::Connection,
                        Some(&url),
                        format!("the response was closed while its body was being read ({url})"),
                    )),
                    result = bounded(&engine, None, &url, limited) => result,
                }
            },
            on_done,
        )
    }
}

#[pymethods]
impl StreamResponse {
    #[getter]
    fn url(&self) -> &str {
        &self.head.url
    }

    #[getter]
    fn method(&self) -> &str {
        self.head.method.as_str()
    }

    #[getter]
    fn status(&self) -> u16 {
        self.head.status.as_u16()
    }

    #[getter]
    fn reason(&self) -> String {
        self.head.reason()
    }

    #[getter]
    fn headers(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.headers
            .get_or_try_init(py, || to_multidict_proxy(py, &self.head.headers))
            .map(|h| h.clone_ref(py))
    }

    #[getter]
    fn raw_headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        to_raw_pairs(py, &self.head.headers)
    }

    /// Whether the response has a header of this name (any case), without converting the
    /// headers for Python.
    fn has_header(&self, name: &str) -> bool {
        self.head.headers.contains_key(name)
    }

    /// The headers the request sent for this response, as `(name, value)` pairs of text, when
    /// it was opened with `each_redirect=True` (a session's); else `None`.
    #[getter]
    fn request_headers<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let Some(headers) = &self.head.sent_headers else {
            return Ok(None);
        };
        let pairs: Vec<(&str, String)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), crate::response::head::value_text(value)))
            .collect();
        PyList::new(py, pairs).map(Some)
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        self.head.http_version()
    }

    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.head.history)
    }

    #[getter]
    fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    #[getter]
    fn elapsed(&self) -> f64 {
        self.head.started.elapsed().as_secs_f64()
    }

    /// The whole body if it has already arrived (small bodies come with the head), else `None`.
    /// Taking it consumes it, as reading would.
    fn take_complete_body<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        let mut guard = self.body.try_lock().ok()?;
        let state = guard.as_mut()?;
        let total: usize = state.prefetched.iter().map(Bytes::len).sum();
        let within_limit = self
            .max_body_size
            .is_none_or(|limit| state.read + total as u64 <= limit);
        if !state.finished || !within_limit {
            return None;
        }
        let mut body = ReceivedBody::default();
        for chunk in &state.prefetched {
            body.push(chunk.clone());
        }
        let bytes = body.to_pybytes(py).ok()?;
        *guard = None;
        Some(bytes)
    }

    fn read_chunk<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.spawn_read(
            py,
            |body, engine, url, limit| {
                Box::pin(async move { next_chunk(&body, &engine, &url, limit).await })
            },
            |py, result| match result {
                Ok(chunk) => Ok(PyBytes::new(py, chunk.as_deref().unwrap_or_default())
                    .into_any()
                    .unbind()),
                Err(error) => Err(error.into_pyerr(py)),
            },
        )
    }

    fn read_all<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.spawn_read(
            py,
            |body, engine, url, limit| {
                Box::pin(async move {
                    let mut received = ReceivedBody::default();
                    while let Some(chunk) = next_chunk(&body, &engine, &url, limit).await? {
                        received.push(chunk);
                    }
                    received
                        .handed_over()
                        .map_err(|e| FetchError::internal(Some(&url), &e.to_string()))
                })
            },
            |py, result| match result {
                Ok(received) => Ok(received.to_pybytes(py)?.into_any().unbind()),
                Err(error) => Err(error.into_pyerr(py)),
            },
        )
    }

    /// Stops reading: an unread body's connection is closed, not returned to the pool.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.stop.cancel();
        if let Ok(mut guard) = self.body.try_lock() {
            *guard = None;
        }
    }

    /// True once closed, or once its client was closed (which closes its connection).
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.engine.closing.is_cancelled()
    }

    /// `ServerTimeoutError` once the total timeout has passed, else nothing: the stream keeps
    /// the one deadline, and Python asks it before handing out bytes it already holds.
    fn check_deadline(&self, py: Python<'_>) -> PyResult<()> {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(FetchError::total_timeout(
                &self.head.url,
                self.timeout.unwrap_or(0.0),
            )
            .into_pyerr(py)),
            _ => Ok(()),
        }
    }

    /// True once the whole body has been received (handed out or waiting in the prefetch), or the
    /// body was released; false while more may come from the network (or a read is running).
    #[getter]
    fn finished(&self) -> bool {
        match self.body.try_lock() {
            Ok(guard) => guard.as_ref().is_none_or(|state| state.finished),
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<StreamResponse [{} {}] {}>",
            self.head.status.as_u16(),
            self.head.reason(),
            self.head.url
        )
    }
}

/// A body still coming from the network is dropped (and with it its connection, which cannot
/// be reused) as soon as the response is closed or its client is, even while a read is pending:
/// the server sees the close at once, as with aiohttp, instead of writing on until its body ends.
/// A body that has already arrived whole holds no connection and needs no watch.
fn close_when_given_up(body: &Arc<Mutex<Option<Body>>>, stop: &CancellationToken, engine: &Engine) {
    let finished = body
        .try_lock()
        .map(|guard| guard.as_ref().is_none_or(|state| state.finished))
        .unwrap_or(false);
    if finished {
        return;
    }
    let body = Arc::downgrade(body);
    let stop = stop.clone();
    let closing = engine.closing.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = closing.cancelled() => {}
        }
        // A pending read lets go of the body as soon as it sees the same signals.
        if let Some(body) = body.upgrade() {
            body.lock().await.take();
        }
    });
}

impl Drop for StreamResponse {
    fn drop(&mut self) {
        // Ends the watch of `close_when_given_up`.
        self.stop.cancel();
    }
}

impl StreamResponse {
    /// The final response, its small body (see `GATHER_LIMIT`) collected while it keeps
    /// arriving, and what is still to come watched for the response's close.
    async fn gathered(self) -> Self {
        if self
            .content_length
            .is_some_and(|length| length <= GATHER_LIMIT)
        {
            if let Ok(mut guard) = self.body.try_lock() {
                if let Some(body) = guard.as_mut() {
                    body.gather(&self.head.url, &self.engine).await;
                }
            }
        }
        close_when_given_up(&self.body, &self.stop, &self.engine);
        self
    }

    /// The response of a hop whose head has arrived; its body is read on demand (see
    /// `gathered`), or dropped unread for a redirect hop handed to Python (`drain_small` has
    /// read a small one already).
    fn opened(
        engine: Arc<Engine>,
        mut sent: Sent,
        options: &RequestOptions,
        deadline: Option<Instant>,
        keep_body: bool,
    ) -> Self {
        let head = Head::take(&mut sent);
        let body = keep_body.then(|| {
            let mut body = Body {
                reader: BodyReader::new(
                    sent.response,
                    &head.headers,
                    options.decompress,
                    &head.url,
                ),
                permits: Some(sent.permits),
                read: 0,
                prefetched: VecDeque::new(),
                finished: false,
                failed: None,
            };
            body.prefetch(&head.url, &engine);
            body
        });
        let body = Arc::new(Mutex::new(body));
        let stop = CancellationToken::new();
        StreamResponse {
            content_length: head.content_length(),
            head,
            body,
            engine,
            max_body_size: options.max_body_size,
            timeout: options.timeout,
            deadline,
            stop,
            closed: AtomicBool::new(false),
            headers: PyOnceLock::new(),
        }
    }
}

/// A redirect a session follows itself, hop by hop, so that its cookie jar sees the hop: the
/// redirect's response (head only), where it leads, and the request paused until `follow()`.
#[pyclass(frozen, module = "ferrofetch")]
pub struct Redirect {
    response: Py<StreamResponse>,
    location: String,
    same_origin: bool,
    paused: std::sync::Mutex<Option<Box<Paused>>>,
}

struct Paused {
    engine: Arc<Engine>,
    options: Arc<RequestOptions>,
    hops: Hops,
    status: reqwest::StatusCode,
    next: reqwest::Url,
}

#[pymethods]
impl Redirect {
    /// The redirect's response: status, headers and URL; its body is not read.
    #[getter]
    fn response(&self, py: Python<'_>) -> Py<StreamResponse> {
        self.response.clone_ref(py)
    }

    /// The URL the redirect leads to (the request's fragment kept when it has none).
    #[getter]
    fn location(&self) -> &str {
        &self.location
    }

    /// Whether it stays on the origin (scheme, host, port) of the redirect's own URL.
    #[getter]
    fn same_origin(&self) -> bool {
        self.same_origin
    }

    /// The method the next hop sends: GET after a 303 (HEAD stays HEAD), and after a 301/302
    /// of a POST; the request's own otherwise (RFC 9110 §15.4).
    #[getter]
    fn method(&self) -> String {
        self.paused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|paused| paused.hops.next_method(paused.status).to_string())
            .unwrap_or_default()
    }

    /// Whether the next hop sends the request's body again (a 307/308, or a 301/302 of
    /// anything but POST).
    #[getter]
    fn keeps_body(&self) -> bool {
        self.paused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|paused| paused.hops.keeps_body(paused.status))
    }

    /// Sends the next hop with `cookie` as its `Cookie` (`None`: none), and `data` as its body
    /// when it keeps one (an async iterable given again: a streamed body is sent once per
    /// `data`); completes like `Client.open`. Raises `TooManyRedirects` past `max_redirects`.
    #[pyo3(signature = (cookie=None, data=None))]
    fn follow<'py>(
        &self,
        py: Python<'py>,
        cookie: Option<&str>,
        data: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Pending::deferring_errors(py, "open", || {
            let Some(mut paused) = self.paused.lock().unwrap_or_else(|p| p.into_inner()).take()
            else {
                return Err(runtime_error("this redirect was already followed"));
            };
            paused
                .hops
                .follow(&paused.options, paused.status, paused.next)
                .map_err(|e| e.into_pyerr(py))?;
            let cookie = cookie
                .map(|cookie| header_value(cookie, "a Cookie header"))
                .transpose()?;
            paused.hops.set_cookie(cookie);
            if let Some(data) = data {
                if let Some(body) = RequestBody::stream_from(data)? {
                    paused.hops.replace_body(body);
                }
            }
            open_hops(py, paused.engine, paused.options, paused.hops, true)
        })
    }

    fn __repr__(&self) -> String {
        format!("<Redirect to {}>", self.location)
    }
}

/// What `open_hops` completes with.
enum Opened {
    Final(StreamResponse),
    Redirect(StreamResponse, Box<Paused>),
}

/// Sends the request's next hops up to a final response head, or up to the first redirect
/// when `each_redirect` (the session's cookie jar then sees it), under the one total deadline.
fn open_hops<'py>(
    py: Python<'py>,
    engine: Arc<Engine>,
    options: Arc<RequestOptions>,
    mut hops: Hops,
    each_redirect: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let work = async move {
        let url_text = crate::request::error::redact(hops.url().as_str());
        let deadline = hops.deadline;
        // Boxed apart: the sending future is several KB, and `work` is moved (copied) on
        // Python's thread before it runs; this way only its few captures are.
        let step = Box::pin(bounded_until(
            &engine,
            deadline,
            options.timeout,
            &url_text,
            async {
                loop {
                    match hops.send(&engine, &options).await? {
                        Step::Redirect { sent, next } if !each_redirect => {
                            let status = sent.response.status();
                            drop(sent);
                            hops.follow(&options, status, next)?;
                        }
                        step => return Ok(step),
                    }
                }
            },
        ))
        .await?;
        Ok(match step {
            Step::Final(sent) => Opened::Final(
                StreamResponse::opened(engine, sent, &options, deadline, true)
                    .gathered()
                    .await,
            ),
            Step::Redirect { sent, next } => {
                let status = sent.response.status();
                let response =
                    StreamResponse::opened(engine.clone(), sent, &options, deadline, false);
                Opened::Redirect(
                    response,
                    Box::new(Paused {
                        engine,
                        options,
                        hops,
                        status,
                        next,
                    }),
                )
            }
        })
    };
    bridge::spawn_for_loop(py, "open", work, |py, result| match result {
        Ok(Opened::Final(stream)) => Ok(Py::new(py, stream)?.into_any()),
        Ok(Opened::Redirect(stream, paused)) => {
            let location = paused.next.to_string();
            let same_origin = crate::request::send::same_origin(paused.hops.url(), &paused.next);
            let redirect = Redirect {
                response: Py::new(py, stream)?,
                location,
                same_origin,
                paused: std::sync::Mutex::new(Some(paused)),
            };
            Ok(Py::new(py, redirect)?.into_any())
        }
        Err(error) => Err(error.into_pyerr(py)),
    })
}

/// `Client.open(url, **options)`: completes with a `StreamResponse` once the head has arrived,
/// or with a `Redirect` at each redirect when `each_redirect=True`.
pub fn start_open<'py>(
    py: Python<'py>,
    engine: Arc<Engine>,
    url: &Bound<'py, PyAny>,
    kwargs: &Kwargs<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let raw = url_text(url)?;
    let options = RequestOptions::from_kwargs(py, kwargs)?;
    let each_redirect = take_each_redirect(kwargs)?;
    kwargs.finish("Client.open")?;
    open_with(py, engine, options, &raw, each_redirect)
}

pub fn take_each_redirect(kwargs: &Kwargs<'_>) -> PyResult<bool> {
    match kwargs.take("each_redirect")? {
        Some(flag) => flag.extract::<bool>(),
        None => Ok(false),
    }
}

fn open_with<'py>(
    py: Python<'py>,
    engine: Arc<Engine>,
    options: RequestOptions,
    raw: &str,
    each_redirect: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let url = options.prepare_url(raw).map_err(|e| e.into_pyerr(py))?;
    open_url(py, engine, options, url, each_redirect)
}

/// Opens `url`, already checked and parsed by `options.prepare_url`.
pub fn open_url<'py>(
    py: Python<'py>,
    engine: Arc<Engine>,
    options: RequestOptions,
    url: reqwest::Url,
    each_redirect: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut hops = Hops::new(&options, url);
    hops.keep_sent_headers = each_redirect;
    open_hops(py, engine, Arc::new(options), hops, each_redirect)
}
