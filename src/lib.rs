//! ferrofetch's native core: an async HTTP client on tokio + reqwest, driven from asyncio.
//! This file only declares the module; each concept lives in its own file.

mod body;
mod bridge;
mod client;
mod decoding;
mod errors;
mod fetch_all;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod options;
mod pending;
mod request;
mod response;
mod retry;
mod runtime;
mod server;
mod stream;
mod upload;

use pyo3::prelude::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
mod _core {
    use super::*;

    #[pymodule_export]
    use client::{fetch, fetch_all, Client};
    #[pymodule_export]
    use pending::Pending;
    #[pymodule_export]
    use response::{json_text, Response};
    #[pymodule_export]
    use runtime::{_after_fork_in_child, _shutdown, configure, runtime_info};
    #[pymodule_export]
    use server::LoopbackServer;
    #[pymodule_export]
    use stream::StreamResponse;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add("__version__", env!("CARGO_PKG_VERSION"))?;
        module.add("DEFAULT_MAX_BODY_SIZE", options::DEFAULT_MAX_BODY_SIZE)?;
        module.add("DEFAULT_USER_AGENT", client::DEFAULT_USER_AGENT)?;
        Ok(())
    }
}
