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
use tokio::runtime::Builder;
use tokio::sync::{oneshot, Notify};

const WORKER_THREADS_ENV: &str = "FERROFETCH_WORKER_THREADS";
/// getaddrinfo runs on the blocking pool; unbounded, a burst of DNS lookups grows it to hundreds
/// of threads.
const MAX_BLOCKING_THREADS: usize = 32;
/// How long in-flight work gets to wind down at interpreter exit before it is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(200);

/// Why the runtime cannot run work, or cannot be configured as asked; py/errors.rs turns it into
/// the Python exception.
#[derive(Debug)]
pub enum RuntimeError {
    /// A worker-thread count that is not a positive integer (`ValueError`).
    InvalidWorkerThreads(String),
    /// Too late: the runtime has started, or the interpreter is exiting (`RuntimeError`).
    Unavailable(String),
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::InvalidWorkerThreads(message) | RuntimeError::Unavailable(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for RuntimeError {}

fn unavailable(message: impl Into<String>) -> RuntimeError {
    RuntimeError::Unavailable(message.into())
}

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

fn workers_from_env() -> Result<Option<usize>, RuntimeError> {
    match std::env::var(WORKER_THREADS_ENV) {
        Ok(value) if !value.trim().is_empty() => match value.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(RuntimeError::InvalidWorkerThreads(format!(
                "{WORKER_THREADS_ENV} must be a positive integer, got {value:?}"
            ))),
        },
        _ => Ok(None),
    }
}

fn start_engine(worker_threads: usize) -> Result<Engine, RuntimeError> {
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
        .map_err(|e| unavailable(format!("could not start the ferrofetch runtime: {e}")))?;
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
            unavailable(format!(
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
fn with_engine<T>(f: impl FnOnce(&Engine) -> T) -> Result<T, RuntimeError> {
    let mut state = lock_state();
    if let Some(engine) = &state.engine {
        return Ok(f(engine));
    }
    if state.shut_down {
        return Err(unavailable(
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
pub fn submit(job: BoxFuture<'static, ()>) -> Result<(), RuntimeError> {
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
pub fn configure(worker_threads: Option<usize>) -> Result<(), RuntimeError> {
    let mut state = lock_state();
    if state.engine.is_some() {
        return Err(unavailable(
            "ferrofetch.configure() must be called before the first request: the runtime is already running",
        ));
    }
    if let Some(n) = worker_threads {
        if n == 0 {
            return Err(RuntimeError::InvalidWorkerThreads(
                "worker_threads must be at least 1".to_owned(),
            ));
        }
        state.configured_workers = Some(n);
    }
    Ok(())
}

/// What the runtime is (or will be when it starts).
pub struct RuntimeInfo {
    pub started: bool,
    pub worker_threads: usize,
}

impl RuntimeInfo {
    /// tokio's name for the scheduler these threads run.
    pub fn flavor(&self) -> &'static str {
        if self.worker_threads <= 1 {
            "current_thread"
        } else {
            "multi_thread"
        }
    }
}

pub fn info() -> Result<RuntimeInfo, RuntimeError> {
    let state = lock_state();
    let worker_threads = match &state.engine {
        Some(engine) => engine.worker_threads,
        None => match state.configured_workers {
            Some(n) => n,
            None => workers_from_env()?.unwrap_or(1),
        },
    };
    Ok(RuntimeInfo {
        started: state.engine.is_some(),
        worker_threads,
    })
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

/// At interpreter exit: stop the runtime so no request outlives the interpreter.
pub fn shutdown() {
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
