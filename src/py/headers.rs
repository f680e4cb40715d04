//! Conversions of headers, parameters and form bodies between Python shapes and `http` types.
//!
//! Input accepts what aiohttp and httpx accept: a mapping (including multidict's multi-valued
//! ones, iterated through `items()`) or an iterable of `(name, value)` pairs. Anything that cannot
//! be sent as is (CR, LF, NUL, non-token names) is refused here, before a byte reaches the wire.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::response::head::value_text;

/// Iterates `(key, value)` pairs of a mapping or of an iterable of pairs.
pub fn pairs<'py>(
    obj: &Bound<'py, PyAny>,
) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    let py = obj.py();
    // A list or tuple of pairs is iterated as is: asking it for `items` first would raise and
    // swallow an AttributeError per request (the session sends its headers as a list).
    let items = if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.clone()
    } else if obj.hasattr(pyo3::intern!(py, "items"))? {
        obj.call_method0(pyo3::intern!(py, "items"))?
    } else {
        obj.clone()
    };
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
            item.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "expected a mapping or (name, value) pairs, got an item {}",
                    item.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
        out.push((key, value));
    }
    Ok(out)
}

fn text_or_bytes(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be str or bytes, got {}",
        obj.get_type().name()?
    )))
}

/// Headers given by the user, validated.
pub fn header_map(obj: Option<&Bound<'_, PyAny>>) -> PyResult<HeaderMap> {
    let mut map = HeaderMap::new();
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(map);
    };
    for (key, value) in pairs(obj)? {
        let name_bytes = text_or_bytes(&key, "header name")?;
        let name = HeaderName::from_bytes(&name_bytes).map_err(|_| {
            PyValueError::new_err(format!(
                "invalid header name {:?}: names are HTTP tokens (no spaces, CR, LF, NUL or separators)",
                String::from_utf8_lossy(&name_bytes)
            ))
        })?;
        let value_bytes = text_or_bytes(&value, "header value")?;
        let value = HeaderValue::from_bytes(&value_bytes).map_err(|_| {
            PyValueError::new_err(format!(
                "invalid value for header {name}: CR, LF, NUL and other control characters are not allowed"
            ))
        })?;
        map.append(name, value);
    }
    Ok(map)
}

fn scalar_text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} values must be str, int or float, not bool"
        )));
    }
    if obj.is_instance_of::<pyo3::types::PyInt>() || obj.is_instance_of::<pyo3::types::PyFloat>() {
        return Ok(obj.str()?.to_cow()?.into_owned());
    }
    Err(PyTypeError::new_err(format!(
        "{what} values must be str, int or float, got {}",
        obj.get_type().name()?
    )))
}

/// Query parameters or form fields as text pairs.
pub fn text_pairs(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<(String, String)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    pairs(obj)?
        .into_iter()
        .map(|(k, v)| Ok((scalar_text(&k, what)?, scalar_text(&v, what)?)))
        .collect()
}

fn multidict_classes(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    static CLASSES: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
    CLASSES.get_or_try_init(py, || {
        let module = py.import("multidict")?;
        Ok((
            module.getattr("CIMultiDict")?.unbind(),
            module.getattr("CIMultiDictProxy")?.unbind(),
        ))
    })
}

/// Response headers as aiohttp presents them: a read-only, case-insensitive multidict.
pub fn to_multidict_proxy(py: Python<'_>, headers: &HeaderMap) -> PyResult<Py<PyAny>> {
    let (dict_class, proxy_class) = multidict_classes(py)?;
    let items = PyList::empty(py);
    for (name, value) in headers {
        items.append(PyTuple::new(
            py,
            [name.as_str().to_owned(), value_text(value)],
        )?)?;
    }
    let dict = dict_class.bind(py).call1((items,))?;
    Ok(proxy_class.bind(py).call1((dict,))?.unbind())
}

/// Response headers as raw `(name, value)` byte pairs.
pub fn to_raw_pairs<'py>(py: Python<'py>, headers: &HeaderMap) -> PyResult<Bound<'py, PyTuple>> {
    let items: Vec<Bound<'py, PyTuple>> = headers
        .iter()
        .map(|(name, value)| {
            PyTuple::new(
                py,
                [
                    PyBytes::new(py, name.as_str().as_bytes()),
                    PyBytes::new(py, value.as_bytes()),
                ],
            )
        })
        .collect::<PyResult<_>>()?;
    PyTuple::new(py, items)
}

/// `text` as the value of a header the caller names in `what` ("a Cookie header"); a
/// `ValueError` when it holds characters no header value may (RFC 9110 §5.5).
pub fn header_value(text: &str, what: &str) -> PyResult<HeaderValue> {
    HeaderValue::from_str(text).map_err(|_| {
        PyValueError::new_err(format!(
            "{what} value cannot hold control characters: {text:?}"
        ))
    })
}
