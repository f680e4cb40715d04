//! The one place where engine errors become ferrofetch's Python exceptions.
//!
//! A [`FetchError`] becomes an instance of a `ferrofetch.exceptions` class only when it is
//! delivered on the event loop; each [`ErrorKind`] maps to one class.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use crate::engine::error::ConfigError;
use crate::request::error::{ErrorKind, FetchError};
use crate::runtime::workers::RuntimeError;

impl FetchError {
    /// The Python exception for this failure, an instance of a `ferrofetch.exceptions` class.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match build_exception(py, &self) {
            Ok(exception) => PyErr::from_value(exception),
            Err(err) => err,
        }
    }
}

fn exceptions_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || py.import("ferrofetch.exceptions").map(Bound::unbind))
        .map(|module| module.bind(py))
}

/// The class of `ferrofetch.exceptions` with this name.
pub fn exception_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    exceptions_module(py)?.getattr(name)
}

fn class_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidUrl => "InvalidUrlClientError",
        ErrorKind::NonHttpUrl => "NonHttpUrlClientError",
        ErrorKind::InvalidRedirectUrl => "InvalidUrlRedirectClientError",
        ErrorKind::NonHttpRedirectUrl => "NonHttpUrlRedirectClientError",
        ErrorKind::Connector => "ClientConnectorError",
        ErrorKind::ConnectorDns => "ClientConnectorDNSError",
        ErrorKind::ConnectorCertificate => "ClientConnectorCertificateError",
        ErrorKind::ConnectorSsl => "ClientConnectorSSLError",
        ErrorKind::ProxyConnection => "ClientProxyConnectionError",
        ErrorKind::ConnectionTimeout => "ConnectionTimeoutError",
        ErrorKind::SocketTimeout => "SocketTimeoutError",
        ErrorKind::TotalTimeout => "ServerTimeoutError",
        ErrorKind::ServerDisconnected => "ServerDisconnectedError",
        ErrorKind::ConnectionReset => "ClientConnectionResetError",
        ErrorKind::Connection | ErrorKind::Closed => "ClientConnectionError",
        ErrorKind::Payload => "ClientPayloadError",
        ErrorKind::BodyTooLarge => "BodyTooLargeError",
        ErrorKind::TooManyRedirects { .. } => "TooManyRedirects",
        ErrorKind::ProxyStatus { .. } => "ClientHttpProxyError",
        ErrorKind::BadResponse => "ClientResponseError",
        ErrorKind::Internal | ErrorKind::Raised(_) => "ClientError",
    }
}

fn build_exception<'py>(py: Python<'py>, error: &FetchError) -> PyResult<Bound<'py, PyAny>> {
    if let ErrorKind::Raised(raised) = &error.kind {
        return Ok(raised
            .0
            .clone_ref(py)
            .into_value(py)
            .into_bound(py)
            .into_any());
    }
    let class = exception_class(py, class_name(&error.kind))?;
    let kwargs = PyDict::new(py);
    match &error.kind {
        ErrorKind::InvalidUrl
        | ErrorKind::NonHttpUrl
        | ErrorKind::InvalidRedirectUrl
        | ErrorKind::NonHttpRedirectUrl => {
            return class.call1((error.url.as_deref(), error.message.as_str()));
        }
        ErrorKind::TooManyRedirects { status } | ErrorKind::ProxyStatus { status } => {
            kwargs.set_item("status", *status)?;
            kwargs.set_item("message", &error.message)?;
        }
        ErrorKind::BadResponse => {
            // aiohttp reports an unparsable response head as a 400 ClientResponseError.
            kwargs.set_item("status", 400)?;
            kwargs.set_item("message", &error.message)?;
        }
        _ => {
            kwargs.set_item("url", error.url.as_deref())?;
            return class.call((error.message.as_str(),), Some(&kwargs));
        }
    }
    kwargs.set_item("url", error.url.as_deref())?;
    class.call((), Some(&kwargs))
}

/// Settings that cannot make a pool: a `ValueError`, or the `OSError` subclass of the file that
/// cannot be read (`FileNotFoundError`, `PermissionError`), as Python's own `open` would raise.
impl From<ConfigError> for PyErr {
    fn from(error: ConfigError) -> PyErr {
        match error {
            ConfigError::Invalid(message) => PyValueError::new_err(message),
            ConfigError::File { ref source, .. } => {
                PyErr::from(std::io::Error::new(source.kind(), error.to_string()))
            }
        }
    }
}

impl From<RuntimeError> for PyErr {
    fn from(error: RuntimeError) -> PyErr {
        match error {
            RuntimeError::InvalidWorkerThreads(message) => PyValueError::new_err(message),
            RuntimeError::Unavailable(message) => PyRuntimeError::new_err(message),
        }
    }
}

/// A Python error for misuse of the engine itself (configuration after start, closed client).
pub fn runtime_error(message: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(message.into())
}
