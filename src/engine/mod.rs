//! The connection settings, the pool (one reqwest client) keyed by them, and its limits.

pub mod connections;
pub mod error;
pub mod pool;
pub mod resolve;
pub mod warmup;
