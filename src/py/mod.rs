//! The Python-facing side: the `#[pyclass]` faces (`Client`, `Response`, `StreamResponse`,
//! `Pending`), option parsing, and the one mapping of engine errors to Python exceptions.

pub mod client;
pub mod errors;
pub mod fetch;
pub mod fetch_all;
pub mod fork;
pub mod headers;
pub mod options;
pub mod pending;
pub mod response;
pub mod router;
pub mod server;
pub mod stream;
