//! `Response`: a finished response with its body, as plain Rust data until Python asks.
//!
//! A batch of 100,000 responses is built without touching Python per response: headers become
//! a `CIMultiDictProxy` and the body a `bytes` object only on first access, then are cached.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Version};

use crate::py::errors::exception_class;
use crate::py::headers::{to_multidict_proxy, to_raw_pairs};
use crate::request::send::Fetched;
use crate::response::body::ReceivedBody;
use crate::response::head::Head;

/// The Python side of a response head.
impl Head {
    /// `ClientResponseError` for a status of 400 or more.
    pub fn raise_for_status(&self, py: Python<'_>, headers: Py<PyAny>) -> PyResult<()> {
        if self.status.as_u16() < 400 {
            return Ok(());
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item("status", self.status.as_u16())?;
        kwargs.set_item("message", self.reason())?;
        kwargs.set_item("headers", headers)?;
        kwargs.set_item("url", &self.url)?;
        let error = exception_class(py, "ClientResponseError")?.call((), Some(&kwargs))?;
        Err(PyErr::from_value(error))
    }
}

/// A completed response whose body has been read whole (see `_core.pyi`).
#[pyclass(frozen, module = "ferrofetch")]
pub struct Response {
    head: Head,
    body: std::sync::Mutex<Body>,
    elapsed: Duration,
    headers: PyOnceLock<Py<PyAny>>,
}

/// The body as received until `content` first asks, then only the `bytes` made of it: a body is
/// held once, not twice. Behind a plain lock taken under the GIL, not a `PyOnceLock`, whose first
/// initialisation (once per response) releases and retakes the GIL.
enum Body {
    Received(ReceivedBody),
    Bytes(Py<PyBytes>),
}

impl Response {
    /// The Python face of a finished request.
    pub fn new(fetched: Fetched) -> Self {
        let Fetched {
            head,
            body,
            elapsed,
        } = fetched;
        Response {
            elapsed,
            head,
            body: std::sync::Mutex::new(Body::Received(body)),
            headers: PyOnceLock::new(),
        }
    }
}

/// The version `Head::http_version` printed, read back (pickling).
fn parse_http_version(text: &str) -> PyResult<Version> {
    Ok(match text {
        "HTTP/0.9" => Version::HTTP_09,
        "HTTP/1.0" => Version::HTTP_10,
        "HTTP/1.1" => Version::HTTP_11,
        "HTTP/2" => Version::HTTP_2,
        "HTTP/3" => Version::HTTP_3,
        other => {
            return Err(PyValueError::new_err(format!(
                "cannot restore a Response with HTTP version {other:?}"
            )))
        }
    })
}

/// `bytes.decode(charset, errors)`, falling back to UTF-8 for a charset Python does not know.
pub fn decode_text<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyBytes>,
    charset: Option<&str>,
    errors: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let encoding = charset.unwrap_or("utf-8");
    match body.call_method1(pyo3::intern!(py, "decode"), (encoding, errors)) {
        Err(err) if err.is_instance_of::<pyo3::exceptions::PyLookupError>(py) => {
            body.call_method1(pyo3::intern!(py, "decode"), ("utf-8", errors))
        }
        other => other,
    }
}

/// A body as JSON text: decoded as `decode_text` does (strict), then one leading byte order mark
/// dropped. RFC 8259 §8.1 lets a parser ignore it, and requests and httpx do; Python's `json`
/// refuses it in a `str`. Every json path of ferrofetch goes through here.
#[pyfunction]
#[pyo3(signature = (body, encoding=None))]
pub fn json_text<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyBytes>,
    encoding: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    decode_text(py, body, encoding, "strict")?
        .call_method1(pyo3::intern!(py, "removeprefix"), ("\u{feff}",))
}

#[pymethods]
impl Response {
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
    fn ok(&self) -> bool {
        self.head.status.as_u16() < 400
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

    #[getter]
    fn content(&self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        let mut body = self.body.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = match &*body {
            Body::Bytes(bytes) => return Ok(bytes.clone_ref(py)),
            Body::Received(received) => received.to_pybytes(py)?.unbind(),
        };
        *body = Body::Bytes(bytes.clone_ref(py));
        Ok(bytes)
    }

    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let content = self.content(py)?;
        decode_text(
            py,
            content.bind(py),
            self.head.charset().as_deref(),
            "replace",
        )
    }

    #[getter]
    fn charset(&self) -> Option<String> {
        self.head.charset()
    }

    #[getter]
    fn content_type(&self) -> String {
        self.head.content_type()
    }

    #[getter]
    fn elapsed(&self) -> f64 {
        self.elapsed.as_secs_f64()
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        self.head.http_version()
    }

    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.head.history)
    }

    #[pyo3(signature = (**loads_kwargs))]
    fn json<'py>(
        &self,
        py: Python<'py>,
        loads_kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let content = self.content(py)?;
        let text = json_text(py, content.bind(py), self.head.charset().as_deref())?;
        py.import("json")?
            .getattr("loads")?
            .call((text,), loads_kwargs)
    }

    fn raise_for_status(&self, py: Python<'_>) -> PyResult<()> {
        self.head.raise_for_status(py, self.headers(py)?)
    }

    /// Pickling (multiprocessing, Dask): every attribute as a plain value, headers as the raw
    /// pairs received, and the body as the `bytes` that `content` returns.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let state = (
            &this.head.url,
            this.head.method.as_str(),
            this.head.status.as_u16(),
            this.head.reason.as_deref(),
            this.head.http_version(),
            to_raw_pairs(py, &this.head.headers)?,
            &this.head.history,
            this.content(py)?,
            // Whole nanoseconds: seconds as a float would not always come back to the same value.
            u64::try_from(this.elapsed.as_nanos()).unwrap_or(u64::MAX),
        );
        Ok((
            slf.get_type().getattr("_from_state")?,
            state.into_pyobject(py)?,
        ))
    }

    /// The inverse of `__reduce__`.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn _from_state(
        url: String,
        method: &str,
        status: u16,
        reason: Option<String>,
        http_version: &str,
        raw_headers: Vec<(Bound<'_, PyBytes>, Bound<'_, PyBytes>)>,
        history: Vec<String>,
        content: Py<PyBytes>,
        elapsed_ns: u64,
    ) -> PyResult<Self> {
        let invalid =
            |what: &str| PyValueError::new_err(format!("cannot restore a Response: {what}"));
        let mut headers = HeaderMap::with_capacity(raw_headers.len());
        for (name, value) in raw_headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("a header name"))?;
            let value =
                HeaderValue::from_bytes(value.as_bytes()).map_err(|_| invalid("a header value"))?;
            headers.append(name, value);
        }
        let head = Head {
            url,
            method: Method::from_bytes(method.as_bytes()).map_err(|_| invalid("the method"))?,
            status: StatusCode::from_u16(status).map_err(|_| invalid("the status"))?,
            reason,
            version: parse_http_version(http_version)?,
            headers,
            history,
            started: Instant::now(),
            sent_headers: None,
        };
        Ok(Response {
            head,
            body: std::sync::Mutex::new(Body::Bytes(content)),
            elapsed: Duration::from_nanos(elapsed_ns),
            headers: PyOnceLock::new(),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<Response [{} {}] {}>",
            self.head.status.as_u16(),
            self.head.reason(),
            self.head.url
        )
    }
}
