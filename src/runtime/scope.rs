//! What one call from Python hands down to the requests it runs: whether the `ferrofetch`
//! logger takes DEBUG records (sampled once per call), the events its hops record, and, while a
//! mock router is installed, the event loop that answers for it.
//!
//! The level is read where `Logger.isEnabledFor` reads it, without calling it: the logger's
//! `disabled` flag, then the answer `logging` caches per level in `Logger._cache`, which it
//! empties whenever an answer can change (`setLevel` on any logger, `logging.disable`). Only when
//! that cache holds no answer is `isEnabledFor` called, and it fills the cache. A call therefore
//! costs three dictionary lookups (≈ 0.6k instructions), not a call into Python.
//!
//! The scope is a tokio task-local around the call's work, so every layer of a hop (the hop loop,
//! reqwest's retry policy) reaches it without a parameter. Its events go back to the event loop
//! with the call's completion and are logged there in one batch: a request never takes the GIL on
//! a runtime thread to log, and DEBUG events are not even formatted when DEBUG is off. A call with
//! DEBUG off and no mock router runs without a scope, since the task-local costs on every poll;
//! the rare warnings of such a call wait in [`LOOSE`] for the next completion on any event loop,
//! at the latest the call's own.

use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyType};
use pyo3_async_runtimes::TaskLocals;

tokio::task_local! {
    static SCOPE: Scope;
}

/// `logging`'s numeric levels.
#[derive(Clone, Copy)]
pub enum Level {
    Debug = 10,
    Warning = 30,
}

/// One thing the engine did, for the `ferrofetch` logger. `event` names it for filters
/// (`record.event`): "connection", "redirect", "retry", "timeout", "mock", "pool".
pub struct Event {
    level: Level,
    event: &'static str,
    message: String,
}

/// The events of one call, logged on the event loop by [`Events::emit`].
#[derive(Default)]
pub struct Events(Vec<Event>);

pub struct Scope {
    debug: bool,
    events: RefCell<Vec<Event>>,
    /// Set only while a mock router is installed: where its answers are computed.
    event_loop: Option<TaskLocals>,
}

/// `FERROFETCH_BENCH_NO_LOGGING=1`, for the benchmark only (benchmarks/README.md): calls read no
/// level (DEBUG is never on), so that logging off can be compared with logging absent.
static ABSENT: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("FERROFETCH_BENCH_NO_LOGGING").is_some_and(|v| v == "1"));

/// Warnings of calls that run without a scope, and whether there are any (read per completion).
static LOOSE: Mutex<Vec<Event>> = Mutex::new(Vec::new());
static LOOSE_PENDING: AtomicBool = AtomicBool::new(false);

/// `ferrofetch._logging`, where the logger lives.
fn logging_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || py.import("ferrofetch._logging").map(Bound::unbind))
        .map(|module| module.bind(py))
}

impl Scope {
    /// The scope of a call made now on `event_loop`: the logger's level is read here, once.
    /// `mocked`: a mock router is installed, so the call keeps its loop for it.
    pub fn for_call(
        py: Python<'_>,
        event_loop: &Bound<'_, PyAny>,
        mocked: bool,
    ) -> PyResult<Scope> {
        let debug = !*ABSENT
            && debug_on(py).unwrap_or_else(|err| {
                // Logging never fails a request.
                err.write_unraisable(py, None);
                false
            });
        let event_loop = if mocked {
            Some(TaskLocals::new(event_loop.clone()).copy_context(py)?)
        } else {
            None
        };
        Ok(Scope {
            debug,
            events: RefCell::new(Vec::new()),
            event_loop,
        })
    }

    /// Runs `work` inside this scope; its output comes back with the events it recorded. With
    /// DEBUG off and no mock router there is nothing to hand down, and no scope is entered.
    pub async fn run<F: Future>(self, work: F) -> (F::Output, Events) {
        if !self.debug && self.event_loop.is_none() {
            return (work.await, Events::default());
        }
        SCOPE
            .scope(self, async move {
                let output = work.await;
                let events = SCOPE
                    .try_with(|scope| scope.events.take())
                    .unwrap_or_default();
                (output, Events(events))
            })
            .await
    }
}

/// The `ferrofetch` logger, its class as first seen and its attributes (`__dict__`).
struct Logger {
    logger: Py<PyAny>,
    class: Py<PyType>,
    attributes: Option<Py<PyDict>>,
}

/// Whether the `ferrofetch` logger takes DEBUG records now: what `logger.isEnabledFor(DEBUG)`
/// answers, read from the state it reads (module documentation). Out of line so that
/// `benchmarks/logging_cost.py` can count its instructions apart.
#[inline(never)]
fn debug_on(py: Python<'_>) -> PyResult<bool> {
    static LOGGER: PyOnceLock<Logger> = PyOnceLock::new();
    let logger = LOGGER.get_or_try_init(py, || {
        let logger = logging_module(py)?.getattr("logger")?;
        let class = logger.get_type();
        // A subclass may answer isEnabledFor otherwise: then it is asked every time.
        let own = class.getattr("isEnabledFor")?.is(py
            .import("logging")?
            .getattr("Logger")?
            .getattr("isEnabledFor")?);
        let attributes = if own {
            logger
                .getattr("__dict__")?
                .cast_into::<PyDict>()
                .ok()
                .map(Bound::unbind)
        } else {
            None
        };
        Ok::<_, PyErr>(Logger {
            logger: logger.unbind(),
            class: class.unbind(),
            attributes,
        })
    })?;
    let bound = logger.logger.bind(py);
    if let Some(cached) = logger
        .attributes
        .as_ref()
        .filter(|_| bound.get_type().is(logger.class.bind(py)))
        .and_then(|attributes| cached_answer(attributes.bind(py)))
    {
        return Ok(cached);
    }
    bound
        .call_method1(intern!(py, "isEnabledFor"), (Level::Debug as u8,))?
        .is_truthy()
}

/// `isEnabledFor(DEBUG)` as `logging` has cached it, if it has: `None` sends the caller to the
/// method itself (cache emptied, or attributes not where CPython keeps them).
fn cached_answer(attributes: &Bound<'_, PyDict>) -> Option<bool> {
    let py = attributes.py();
    let disabled = attributes.get_item(intern!(py, "disabled")).ok()??;
    if disabled.is_truthy().ok()? {
        return Some(false);
    }
    let cache = attributes
        .get_item(intern!(py, "_cache"))
        .ok()??
        .cast_into::<PyDict>()
        .ok()?;
    let answer = cache.get_item(Level::Debug as u8).ok()??;
    answer.is_truthy().ok()
}

/// Whether DEBUG events are recorded by the call running on this task.
pub fn debug_enabled() -> bool {
    SCOPE.try_with(|scope| scope.debug).unwrap_or(false)
}

/// Records a DEBUG event; `message` is called only when DEBUG is on.
pub fn debug(event: &'static str, message: impl FnOnce() -> String) {
    let _ = SCOPE.try_with(|scope| {
        if scope.debug {
            scope.events.borrow_mut().push(Event {
                level: Level::Debug,
                event,
                message: message(),
            });
        }
    });
}

/// Records a WARNING event (rare: always recorded, filtered by the logger when emitted).
pub fn warning(event: &'static str, message: String) {
    let mut warning = Some(Event {
        level: Level::Warning,
        event,
        message,
    });
    let _ = SCOPE.try_with(|scope| scope.events.borrow_mut().extend(warning.take()));
    if let Some(warning) = warning {
        LOOSE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(warning);
        LOOSE_PENDING.store(true, Ordering::Release);
    }
}

/// The event loop of the running call, while a mock router is installed.
pub fn event_loop() -> Option<TaskLocals> {
    SCOPE
        .try_with(|scope| scope.event_loop.clone())
        .ok()
        .flatten()
}

impl Events {
    /// Logs the events on the `ferrofetch` logger, in one call into Python. Logging never fails
    /// a request: an error here is reported as unraisable.
    pub fn emit(mut self, py: Python<'_>) {
        if LOOSE_PENDING.load(Ordering::Relaxed) && LOOSE_PENDING.swap(false, Ordering::Acquire) {
            let loose = std::mem::take(&mut *LOOSE.lock().unwrap_or_else(PoisonError::into_inner));
            self.0.splice(0..0, loose);
        }
        if self.0.is_empty() {
            return;
        }
        let result = (|| -> PyResult<()> {
            let batch = PyList::empty(py);
            for Event {
                level,
                event,
                message,
            } in self.0
            {
                batch.append((level as u8, event, message))?;
            }
            logging_module(py)?.getattr("emit")?.call1((batch,))?;
            Ok(())
        })();
        if let Err(err) = result {
            err.write_unraisable(py, None);
        }
    }
}

/// Logs one event at once, from a thread that holds the GIL (outside any call's scope).
pub fn log_now(py: Python<'_>, level: Level, event: &'static str, message: String) {
    Events(vec![Event {
        level,
        event,
        message,
    }])
    .emit(py);
}
