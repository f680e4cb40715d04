//! The tokio runtime (its threads, fork and exit) and the completion queue into asyncio.

pub mod bridge;
pub mod workers;
