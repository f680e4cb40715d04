//! One request on its way out: the engine's error type, the hop loop with its redirect rules and
//! total timeout, one hop sent (to the network or a mock router), retries of requests that never
//! reached the server, and request bodies.

pub mod error;
pub mod hop;
pub mod mock;
pub mod options;
pub mod retry;
pub mod send;
pub mod upload;
