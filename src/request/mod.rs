//! One request on its way out: the engine's error type, the hop loop with its redirect rules and
//! total timeout, retries of requests that never reached the server, and request bodies.

pub mod error;
pub mod retry;
pub mod send;
pub mod upload;
