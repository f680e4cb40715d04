//! The Python-facing side: the `#[pyclass]` faces (`Client`, `Response`, `StreamResponse`), the
//! module functions, option parsing, and the one mapping of engine errors to Python exceptions.

pub mod client;
pub mod errors;
pub mod fetch;
pub mod fetch_all;
pub mod fork;
pub mod headers;
pub mod options;
pub mod response;
pub mod router;
pub mod runtime;
pub mod server;
pub mod stream;
