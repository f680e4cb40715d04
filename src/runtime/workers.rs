//! The one process-wide tokio runtime: created on first use, configurable before that, rebuilt in
//! a forked child, stopped at interpreter exit.
//!
//! Default flavour: a `current_thread` runtime driven by one dedicated thread. On loopback and
//! small bodies it measured ~1.4x the throughput of the multi-thread scheduler at lower CPU per
//! request (see benchmarks/README.md); `worker_threads > 1` selects the multi-thread scheduler for
//! TLS-heavy work against many remote hosts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use futures::future::BoxFuture;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::runtime::Builder;
use tokio::sync::{oneshot, Notify};

use crate::py::errors::runtime_error;

const WORKER_THREADS_ENV: &str = "FERROFETCH_WORKER_THREADS";
/// getaddrinfo runs on the blocking pool; unbounded, a burst of DNS lookups grows it to hundreds
/// of threads.
const MAX_BLOCKING_THREADS: usize = 32;
/// How long in-flight work gets to wind down at interpreter exit before it is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(200);

struct Engine {
    worker_threads: usize,
    stop: Option<oneshot::Sender<()>>,
    submissions: Arc<Submissions>,
}

/// Work handed over from Python threads, spawned by one task on the runtime.
///
/// Spawning onto the runtime from another thread wakes it with a syscall every time; a call
/// burst (a `gather` of many `fetch`es) would pay one per request. Here only the call that finds
/// the queue empty wakes the runtime, and the dispatcher spawns the whole burst from inside.
#[derive(Default)]
struct Submissions {
    queue: Mutex<Vec<BoxFuture<'static, ()>>>,
    ready: Notify,
}

impl Submissions {
    async fn dispatch(self: Arc<Self>) {
        loop {
            self.ready.notified().await;
            let jobs = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
            for job in jobs {
                tokio::spawn(job);
            }
        }
    }
}

struct State {
    configured_workers: Option<usize>,
    engine: Option<Engine>,
    shut_down: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    configured_workers: None,
    engine: None,
    shut_down: false,
});

fn lock_state() -> std::sync::MutexGuard<'static, State> {
    // A poisoned lock only means a panic elsewhere while holding it; the state stays usable.
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn workers_from_env() -> PyResult<Option<usize>> {
    match std::env::var(WORKER_THREADS_ENV) {
        Ok(value) if !value.trim().is_empty() => match value.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{WORKER_THREADS_ENV} must be a positive integer, got {value:?}"
            ))),
        },
        _ => Ok(None),
    }
}

fn start_engine(worker_threads: usize) -> PyResult<Engine> {
    let mut builder = if worker_threads <= 1 {
        Builder::new_current_thread()
    } else {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(worker_threads);
        b
    };
    let runtime = builder
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_name("ferrofetch-worker")
        .build()
        .map_err(|e| runtime_error(format!("could not start the ferrofetch runtime: {e}")))?;
    let submissions = Arc::new(Submissions::default());
    runtime.spawn(submissions.clone().dispatch());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    // The driver thread runs a current_thread runtime's tasks (and merely parks for a
    // multi-thread one) until told to stop.
    thread::Builder::new()
        .name("ferrofetch-runtime".to_owned())
        .spawn(move || {
            let _ = runtime.block_on(stop_rx);
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        })
        .map_err(|e| {
            runtime_error(format!(
                "could not start the ferrofetch runtime thread: {e}"
            ))
        })?;
    Ok(Engine {
        worker_threads,
        stop: Some(stop_tx),
        submissions,
    })
}

/// Runs `f` on the engine, starting the runtime on first use.
fn with_engine<T>(f: impl FnOnce(&Engine) -> T) -> PyResult<T> {
    let mut state = lock_state();
    if let Some(engine) = &state.engine {
        return Ok(f(engine));
    }
    if state.shut_down {
        return Err(runtime_error(
            "the ferrofetch runtime has been shut down (the interpreter is exiting)",
        ));
    }
    let workers = match state.configured_workers {
        Some(n) => n,
        None => workers_from_env()?.unwrap_or(1),
    };
    let engine = start_engine(workers)?;
    let result = f(&engine);
    state.engine = Some(engine);
    Ok(result)
}

/// Runs `job` on the runtime (see [`Submissions`]).
pub fn submit(job: BoxFuture<'static, ()>) -> PyResult<()> {
    let submissions = with_engine(|engine| engine.submissions.clone())?;
    let was_empty = {
        let mut queue = submissions.queue.lock().unwrap_or_else(|p| p.into_inner());
        let was_empty = queue.is_empty();
        queue.push(job);
        was_empty
    };
    if was_empty {
        submissions.ready.notify_one();
    }
    Ok(())
}

/// Sets the worker-thread count; only before the runtime has started.
#[pyfunction]
#[pyo3(signature = (*, worker_threads = None))]
pub fn configure(worker_threads: Option<usize>) -> PyResult<()> {
    let mut state = lock_state();
    if state.engine.is_some() {
        return Err(runtime_error(
            "ferrofetch.configure() must be called before the first request: the runtime is already running",
        ));
    }
    if let Some(n) = worker_threads {
        if n == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "worker_threads must be at least 1",
            ));
        }
        state.configured_workers = Some(n);
    }
    Ok(())
}

/// What the runtime is (or will be when it starts).
#[pyfunction]
pub fn runtime_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let state = lock_state();
    let workers = match &state.engine {
        Some(engine) => engine.worker_threads,
        None => match state.configured_workers {
            Some(n) => n,
            None => workers_from_env()?.unwrap_or(1),
        },
    };
    let info = PyDict::new(py);
    info.set_item("started", state.engine.is_some())?;
    info.set_item("worker_threads", workers)?;
    info.set_item(
        "flavor",
        if workers <= 1 {
            "current_thread"
        } else {
            "multi_thread"
        },
    )?;
    Ok(info)
}

/// After fork: the parent's runtime threads do not exist in the child. Its runtime is
/// forgotten, not dropped: dropping would wait on threads that are gone. The next request
/// builds a fresh one.
pub fn forget_after_fork() {
    let mut state = lock_state();
    if let Some(engine) = state.engine.take() {
        std::mem::forget(engine);
    }
}

/// `atexit`: stop the runtime so no request outlives the interpreter.
#[pyfunction]
pub fn _shutdown() {
    let mut state = lock_state();
    state.shut_down = true;
    if let Some(mut engine) = state.engine.take() {
        if let Some(stop) = engine.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Counts forks seen by this process; pools made in an earlier generation are unusable.
static GENERATION: AtomicU64 = AtomicU64::new(0);

pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

pub fn bump_generation() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}
