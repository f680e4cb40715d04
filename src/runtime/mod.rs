//! The tokio runtime (its threads, fork and exit), the bridge into asyncio (the completion queue
//! and `Pending`, the awaitable it completes), and the scope a call hands down to its requests
//! (log level, events, the mock router's loop).

pub mod bridge;
pub mod pending;
pub mod scope;
pub mod workers;
