//! What the Python side registers with `os.register_at_fork`.

use pyo3::prelude::*;

/// `os.register_at_fork(after_in_child=...)`: the parent's runtime threads do not exist in the
/// child. Its runtime and pools are forgotten, not dropped: dropping would wait on threads
/// that are gone. The next request builds fresh ones.
#[pyfunction]
pub fn _after_fork_in_child() {
    crate::runtime::workers::forget_after_fork();
    crate::engine::pool::forget_shared_clients();
}
