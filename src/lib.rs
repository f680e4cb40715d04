//! ferrofetch's native core: an async HTTP client on tokio + reqwest, driven from asyncio.
//! This file only registers the modules and the Python module; each concept lives in its folder.

mod engine;
#[doc(hidden)]
pub mod fuzzing;
mod py;
mod request;
mod response;
mod runtime;

use pyo3::prelude::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
mod _core {
    use super::*;

    #[pymodule_export]
    use py::client::{fetch_all, Client, PreparedOpen};
    #[pymodule_export]
    use py::fetch::fetch;
    #[pymodule_export]
    use py::fork::_after_fork_in_child;
    #[pymodule_export]
    use py::response::{json_text, Response};
    #[pymodule_export]
    use py::router::_install_router;
    #[pymodule_export]
    use py::runtime::{_shutdown, configure, runtime_info};
    #[pymodule_export]
    use py::server::LoopbackServer;
    #[pymodule_export]
    use py::stream::{Redirect, StreamResponse};
    #[pymodule_export]
    use runtime::pending::Pending;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add("__version__", env!("CARGO_PKG_VERSION"))?;
        module.add(
            "DEFAULT_MAX_BODY_SIZE",
            request::options::DEFAULT_MAX_BODY_SIZE,
        )?;
        module.add("DEFAULT_USER_AGENT", engine::pool::DEFAULT_USER_AGENT)?;
        Ok(())
    }
}
