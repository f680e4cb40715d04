//! `ferrofetch.configure`, `ferrofetch.runtime_info` and the `atexit` hook: the Python face of the
//! one tokio runtime (runtime/workers.rs).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::runtime::workers;

/// Sets the worker-thread count; only before the runtime has started.
#[pyfunction]
#[pyo3(signature = (*, worker_threads = None))]
pub fn configure(worker_threads: Option<usize>) -> PyResult<()> {
    Ok(workers::configure(worker_threads)?)
}

/// What the runtime is (or will be when it starts).
#[pyfunction]
pub fn runtime_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = workers::info()?;
    let dict = PyDict::new(py);
    dict.set_item("started", info.started)?;
    dict.set_item("worker_threads", info.worker_threads)?;
    dict.set_item("flavor", info.flavor())?;
    Ok(dict)
}

/// `atexit`: stop the runtime so no request outlives the interpreter.
#[pyfunction]
pub fn _shutdown() {
    workers::shutdown();
}
