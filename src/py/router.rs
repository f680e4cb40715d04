//! `_core._install_router`: how `ferrofetch.testing` installs its mock router in the engine.

use pyo3::prelude::*;

/// Installs `router`, an async callable `(method, url, headers, body)` returning
/// `(status, reason, headers, body)` or `None` (to the network), or removes it with `None`.
#[pyfunction]
#[pyo3(signature = (router, /))]
pub fn _install_router(router: Option<Py<PyAny>>) {
    crate::request::mock::install(router);
}
