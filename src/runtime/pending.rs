//! `Pending`: the awaitable every ferrofetch call returns, implemented in Rust.
//!
//! To asyncio it is a *coroutine* (`send`, `throw`, `close`, `__await__`): `asyncio.run`,
//! `create_task`, `TaskGroup`, `gather`, `wait_for` and `ensure_future` take it as they take
//! aiohttp's and httpx's calls. When awaited it yields *itself* as the future the task waits on
//! (`_asyncio_future_blocking`, `add_done_callback`, `result`, `cancel`, `get_loop`), so an
//! `await ferrofetch.fetch(url)` needs no `asyncio.Future`, no wrapper coroutine and no
//! callback of its own.
//!
//! Cancelling it (directly, or by cancelling the task awaiting it) aborts the Rust request at
//! once, which drops its connection. It is completed only on its event loop's thread, by the
//! bridge's drain callback, so its state needs no lock beyond pyo3's borrow flag.
//!
//! It lives beside the bridge, not with the `#[pyclass]` faces in py/: it is the asyncio half of the
//! completion mechanism (bridge.rs makes and completes it), knows nothing of HTTP, and every call
//! of every face returns one.

use futures::future::AbortHandle;
use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

enum Outcome {
    Pending,
    Ready(Py<PyAny>),
    Failed(PyErr),
    Cancelled(Option<Py<PyAny>>),
}

type Callback = (Py<PyAny>, Option<Py<PyAny>>);

/// Starts the work on the runtime for this `Pending`, bound to this event loop.
pub type Launch =
    Box<dyn FnOnce(&Bound<'_, Pending>, &Bound<'_, PyAny>) -> PyResult<AbortHandle> + Send>;

#[pyclass(module = "ferrofetch")]
pub struct Pending {
    /// Set when the work starts: at creation inside a running loop, else at the first await.
    event_loop: Option<Py<PyAny>>,
    /// In a mutex only because a pyclass must be `Sync`; it is used under the GIL alone.
    launch: std::sync::Mutex<Option<Launch>>,
    outcome: Outcome,
    callbacks: Vec<Callback>,
    /// `None` until the awaiting side first yields it (see the getter below).
    blocking: Option<bool>,
    abort: Option<AbortHandle>,
    what: &'static str,
}

fn asyncio_attr<'py>(py: Python<'py>, name: &'static str) -> PyResult<Bound<'py, PyAny>> {
    static ASYNCIO: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    ASYNCIO
        .get_or_try_init(py, || py.import("asyncio").map(Bound::unbind))?
        .bind(py)
        .getattr(name)
}

fn cancelled_error(py: Python<'_>, message: Option<&Py<PyAny>>) -> PyResult<PyErr> {
    let class = asyncio_attr(py, "CancelledError")?;
    let instance = match message {
        Some(m) => class.call1((m.clone_ref(py),))?,
        None => class.call0()?,
    };
    Ok(PyErr::from_value(instance))
}

fn invalid_state(py: Python<'_>, message: &str) -> PyErr {
    match asyncio_attr(py, "InvalidStateError").and_then(|c| c.call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

impl Pending {
    pub fn new(what: &'static str, launch: Launch) -> Self {
        Pending {
            event_loop: None,
            launch: std::sync::Mutex::new(Some(launch)),
            outcome: Outcome::Pending,
            callbacks: Vec::new(),
            blocking: None,
            abort: None,
            what,
        }
    }

    fn take_launch(&mut self) -> Option<Launch> {
        self.launch
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// A `Pending` that raises `error` when awaited: a call's bad arguments surface at the
    /// `await`, as they do for any coroutine (`gather(..., return_exceptions=True)` sees them).
    pub fn failed<'py>(
        py: Python<'py>,
        what: &'static str,
        error: PyErr,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pending = Pending {
            event_loop: None,
            launch: std::sync::Mutex::new(None),
            outcome: Outcome::Failed(error),
            callbacks: Vec::new(),
            blocking: None,
            abort: None,
            what,
        };
        Ok(Bound::new(py, pending)?.into_any())
    }

    /// Errors of `start` are raised by the `Pending` instead of by the call.
    pub fn deferring_errors<'py>(
        py: Python<'py>,
        what: &'static str,
        start: impl FnOnce() -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        start().or_else(|error| Self::failed(py, what, error))
    }

    /// Starts the work on the running loop if it has not started yet.
    pub fn ensure_started(this: &Bound<'_, Pending>) -> PyResult<()> {
        {
            let state = this.borrow();
            if state.event_loop.is_some() || !state.is_pending() {
                return Ok(());
            }
        }
        let event_loop = pyo3_async_runtimes::get_running_loop(this.py())?;
        Self::start_on(this, &event_loop)
    }

    /// Starts the work bound to `event_loop` (the running loop of this thread).
    pub fn start_on(this: &Bound<'_, Pending>, event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
        let Some(launch) = this.borrow_mut().take_launch() else {
            return Ok(());
        };
        let abort = launch(this, event_loop)?;
        let mut state = this.borrow_mut();
        state.event_loop = Some(event_loop.clone().unbind());
        state.abort = Some(abort);
        Ok(())
    }

    fn bound_loop<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyAny>> {
        match &self.event_loop {
            Some(event_loop) => Ok(event_loop.bind(py)),
            None => Err(PyRuntimeError::new_err(
                "this ferrofetch call has not started: await it inside a running event loop",
            )),
        }
    }

    pub fn is_pending(&self) -> bool {
        matches!(self.outcome, Outcome::Pending)
    }

    /// The stored outcome as a Python result (the value, or the exception to raise).
    fn outcome_result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.outcome {
            Outcome::Ready(value) => Ok(value.clone_ref(py)),
            Outcome::Failed(err) => Err(err.clone_ref(py)),
            Outcome::Cancelled(message) => Err(cancelled_error(py, message.as_ref())?),
            Outcome::Pending => Err(invalid_state(py, "Result is not ready.")),
        }
    }

    /// Sets the outcome (if still pending) and schedules the done callbacks on the loop, as
    /// `asyncio.Future` does.
    pub fn complete(this: &Bound<'_, Pending>, result: PyResult<Py<PyAny>>) -> PyResult<()> {
        let outcome = match result {
            Ok(value) => Outcome::Ready(value),
            Err(err) => Outcome::Failed(err),
        };
        Self::finish(this, outcome)
    }

    fn finish(this: &Bound<'_, Pending>, outcome: Outcome) -> PyResult<()> {
        let py = this.py();
        let (callbacks, event_loop) = {
            let mut state = this.borrow_mut();
            if !state.is_pending() {
                return Ok(());
            }
            state.outcome = outcome;
            state.abort = None;
            state.take_launch();
            (
                std::mem::take(&mut state.callbacks),
                state.event_loop.as_ref().map(|l| l.clone_ref(py)),
            )
        };
        // Callbacks exist only once started, so a loop is known whenever there are any.
        if let Some(event_loop) = event_loop {
            let event_loop = event_loop.bind(py);
            for (callback, context) in callbacks {
                schedule(event_loop, &callback, this, context.as_ref())?;
            }
        }
        Ok(())
    }

    /// One step of the awaiting side: yield ourselves while pending, else finish the await.
    fn step(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        Self::ensure_started(slf)?;
        let mut state = slf.borrow_mut();
        if state.is_pending() {
            state.blocking = Some(true);
            return Ok(slf.clone().into_any().unbind());
        }
        let value = state.outcome_result(py)?;
        Err(PyStopIteration::new_err((value,)))
    }
}

fn schedule(
    event_loop: &Bound<'_, PyAny>,
    callback: &Py<PyAny>,
    future: &Bound<'_, Pending>,
    context: Option<&Py<PyAny>>,
) -> PyResult<()> {
    let py = event_loop.py();
    let kwargs = PyDict::new(py);
    if let Some(context) = context {
        kwargs.set_item(pyo3::intern!(py, "context"), context)?;
    }
    event_loop.call_method(
        pyo3::intern!(py, "call_soon"),
        (callback, future),
        Some(&kwargs),
    )?;
    Ok(())
}

#[pymethods]
impl Pending {
    // --- the future protocol -------------------------------------------------------------

    /// `None` until the awaiting side yields it. Until then asyncio sees a coroutine, not a
    /// future: `ensure_future`, `gather` and `wait_for` wrap it in a task, so what they return
    /// is accepted everywhere a task is (`asyncio.wait` refuses objects that are both). Once
    /// yielded by an `await`, the task awaiting it sees a future and waits on it directly.
    #[getter(_asyncio_future_blocking)]
    fn asyncio_future_blocking(&self) -> Option<bool> {
        self.blocking
    }

    #[setter(_asyncio_future_blocking)]
    fn set_asyncio_future_blocking(&mut self, value: bool) {
        self.blocking = Some(value);
    }

    fn get_loop(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::ensure_started(slf)?;
        let state = slf.borrow();
        state.bound_loop(slf.py()).map(|l| l.clone().unbind())
    }

    fn done(&self) -> bool {
        !self.is_pending()
    }

    fn cancelled(&self) -> bool {
        matches!(self.outcome, Outcome::Cancelled(_))
    }

    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.outcome_result(py)
    }

    /// What asyncio's own futures expose for `gather` to build its `CancelledError`.
    #[getter]
    fn _cancel_message(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        match &self.outcome {
            Outcome::Cancelled(Some(message)) => Some(message.clone_ref(py)),
            _ => None,
        }
    }

    fn _make_cancelled_error(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let message = match &self.outcome {
            Outcome::Cancelled(message) => message.as_ref(),
            _ => None,
        };
        Ok(cancelled_error(py, message)?.into_value(py).into_any())
    }

    fn exception(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match &self.outcome {
            Outcome::Ready(_) => Ok(None),
            Outcome::Failed(err) => Ok(Some(err.clone_ref(py).into_value(py).into_any())),
            Outcome::Cancelled(message) => Err(cancelled_error(py, message.as_ref())?),
            Outcome::Pending => Err(invalid_state(py, "Exception is not set.")),
        }
    }

    #[pyo3(signature = (callback, *, context = None))]
    fn add_done_callback(
        slf: &Bound<'_, Self>,
        callback: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        // Like asyncio.Future: without a context, the callback runs in a copy of the current one.
        let context = match context {
            Some(context) => Some(context),
            None => Some(
                py.import("contextvars")?
                    .call_method0("copy_context")?
                    .unbind(),
            ),
        };
        Self::ensure_started(slf)?;
        let event_loop = {
            let mut state = slf.borrow_mut();
            if state.is_pending() {
                state.callbacks.push((callback, context));
                return Ok(());
            }
            state.bound_loop(py)?.clone()
        };
        schedule(&event_loop, &callback, slf, context.as_ref())
    }

    fn remove_done_callback(&mut self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<usize> {
        let before = self.callbacks.len();
        let mut kept = Vec::with_capacity(before);
        for entry in self.callbacks.drain(..) {
            if !entry.0.bind(py).eq(callback.bind(py))? {
                kept.push(entry);
            }
        }
        self.callbacks = kept;
        Ok(before - self.callbacks.len())
    }

    /// Aborts the request; its connection is closed, not returned to the pool.
    #[pyo3(signature = (msg = None))]
    fn cancel(slf: &Bound<'_, Self>, msg: Option<Py<PyAny>>) -> PyResult<bool> {
        {
            let mut state = slf.borrow_mut();
            if !state.is_pending() {
                return Ok(false);
            }
            if let Some(abort) = state.abort.take() {
                abort.abort();
            }
            // Never started: nothing was sent, and nothing will be.
            state.take_launch();
        }
        Self::finish(slf, Outcome::Cancelled(msg))?;
        Ok(true)
    }

    // --- the coroutine protocol ------------------------------------------------------------

    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::step(slf)
    }

    /// Sending a value has no meaning here: like `__next__`, it advances the await.
    #[pyo3(signature = (_value, /))]
    fn send(slf: &Bound<'_, Self>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Self::step(slf)
    }

    /// An exception thrown into the awaiting side cancels the request and propagates.
    #[pyo3(signature = (kind, value = None, _traceback = None, /))]
    fn throw(
        slf: &Bound<'_, Self>,
        kind: &Bound<'_, PyAny>,
        value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        Self::cancel(slf, None)?;
        let exception = match value.filter(|v| !v.is_none()) {
            Some(v) if v.is_instance_of::<pyo3::exceptions::PyBaseException>() => v.clone(),
            Some(v) => kind.call1((v,))?,
            None if kind.is_instance_of::<pyo3::exceptions::PyBaseException>() => kind.clone(),
            None => kind.call0()?,
        };
        Err(PyErr::from_value(exception))
    }

    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::cancel(slf, None).map(|_| ())
    }

    fn __repr__(&self) -> String {
        let state = match &self.outcome {
            Outcome::Pending if self.event_loop.is_none() => "not started",
            Outcome::Pending => "pending",
            Outcome::Ready(_) => "finished",
            Outcome::Failed(_) => "failed",
            Outcome::Cancelled(_) => "cancelled",
        };
        format!("<ferrofetch.Pending {} {state}>", self.what)
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        if let Some(event_loop) = &self.event_loop {
            visit.call(event_loop)?;
        }
        if let Outcome::Ready(value) = &self.outcome {
            visit.call(value)?;
        }
        for (callback, context) in &self.callbacks {
            visit.call(callback)?;
            if let Some(context) = context {
                visit.call(context)?;
            }
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.callbacks.clear();
    }
}

impl Drop for Pending {
    /// A collected `Pending` can no longer be awaited: stop its work if it is still running.
    fn drop(&mut self) {
        if let Some(abort) = self.abort.take() {
            abort.abort();
        }
    }
}
