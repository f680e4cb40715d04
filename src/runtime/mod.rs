//! The tokio runtime (its threads, fork and exit), the completion queue into asyncio, and the
//! scope a call hands down to its requests (log level, events, the mock router's loop).

pub mod bridge;
pub mod scope;
pub mod workers;
