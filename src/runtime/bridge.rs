//! Delivering results from the tokio runtime to asyncio without the GIL on the tokio side.
//!
//! Every event loop gets one [`Completer`]: a queue of finished results plus a socket pair whose
//! read end is registered with `loop.add_reader`. A finished request pushes its result and, only
//! if the queue was empty, writes one byte; the loop then runs [`Drain`] once and completes every
//! queued future in that single callback. Compared with one `call_soon_threadsafe` per result
//! (the bridge's default), this never takes the GIL on a runtime thread, batches completions
//! that finish together, and cannot raise "Event loop is closed" from a runtime thread
//! (pyo3-async-runtimes issue 90): a closed loop simply never drains its queue.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures::future::{AbortHandle, Abortable};
use futures::FutureExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyWeakrefMethods, PyWeakrefReference};

use crate::request::error::FetchError;
use crate::runtime::pending::{Launch, Pending};
use crate::runtime::scope::Scope;
use crate::runtime::workers;

/// Turns a finished result into the Python value (or exception) that completes the future.
pub type Deliver = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

struct Completion {
    future: Py<Pending>,
    deliver: Deliver,
}

struct Shared {
    queue: Mutex<Vec<Completion>>,
    wake: UnixStream,
}

impl Shared {
    fn push(&self, completion: Completion) {
        let was_empty = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let was_empty = queue.is_empty();
            queue.push(completion);
            was_empty
        };
        if was_empty {
            // A full socket buffer already means "wake up"; a closed peer means the loop is
            // gone. Both are fine to ignore.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// One event loop's completion queue.
#[pyclass(frozen)]
struct Completer {
    shared: Arc<Shared>,
    wake_reader: UnixStream,
}

/// The loop callback that completes every queued future.
#[pyclass(frozen)]
struct Drain {
    completer: Py<Completer>,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let completer = self.completer.get();
        let mut sink = [0u8; 256];
        loop {
            match (&completer.wake_reader).read(&mut sink) {
                Ok(n) if n == sink.len() => continue,
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let batch = std::mem::take(
            &mut *completer
                .shared
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for completion in batch {
            // One bad completion must not strand the rest of the batch.
            if let Err(err) = complete(py, completion) {
                err.write_unraisable(py, None);
            }
        }
        Ok(())
    }
}

fn complete(py: Python<'_>, Completion { future, deliver }: Completion) -> PyResult<()> {
    let future = future.bind(py);
    // A cancelled future takes no result.
    if !future.borrow().is_pending() {
        return Ok(());
    }
    Pending::complete(future, deliver(py))
}

thread_local! {
    /// The loop this thread last sent a request from, and its queue: the registry below is a
    /// Python `WeakKeyDictionary`, a lookup per request that a loop running many requests skips.
    static LAST_LOOP: RefCell<Option<(Py<PyWeakrefReference>, Arc<Shared>)>> = const { RefCell::new(None) };
}

fn completer_for<'py>(py: Python<'py>, event_loop: &Bound<'py, PyAny>) -> PyResult<Arc<Shared>> {
    let cached = LAST_LOOP.with_borrow(|last| {
        last.as_ref().and_then(|(weak, shared)| {
            let alive = weak.bind(py).upgrade()?;
            alive.is(event_loop).then(|| shared.clone())
        })
    });
    if let Some(shared) = cached {
        return Ok(shared);
    }
    let shared = registered_completer(py, event_loop)?;
    let weak = PyWeakrefReference::new(event_loop)?.unbind();
    LAST_LOOP.with_borrow_mut(|last| *last = Some((weak, shared.clone())));
    Ok(shared)
}

fn registered_completer<'py>(
    py: Python<'py>,
    event_loop: &Bound<'py, PyAny>,
) -> PyResult<Arc<Shared>> {
    static REGISTRY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let registry = REGISTRY
        .get_or_try_init(py, || {
            py.import("weakref")?
                .getattr("WeakKeyDictionary")?
                .call0()
                .map(Bound::unbind)
        })?
        .bind(py);
    if let Ok(existing) = registry
        .call_method1(pyo3::intern!(py, "get"), (event_loop,))?
        .cast_into::<Completer>()
    {
        return Ok(existing.get().shared.clone());
    }
    let (wake_reader, wake_writer) = UnixStream::pair()?;
    wake_reader.set_nonblocking(true)?;
    wake_writer.set_nonblocking(true)?;
    let fd = wake_reader.as_raw_fd();
    let shared = Arc::new(Shared {
        queue: Mutex::new(Vec::new()),
        wake: wake_writer,
    });
    let completer = Bound::new(
        py,
        Completer {
            shared: shared.clone(),
            wake_reader,
        },
    )?;
    let drain = Drain {
        completer: completer.clone().unbind(),
    };
    event_loop.call_method1(pyo3::intern!(py, "add_reader"), (fd, drain))?;
    registry.set_item(event_loop, &completer)?;
    Ok(shared)
}

/// Runs `work` on the runtime and returns a [`Pending`] that completes with `on_done(result)` on
/// the event loop. Called inside a running loop, the work starts at once; called outside one (as
/// in `asyncio.run(ferrofetch.fetch(url))`), it starts when first awaited. Cancelling the
/// `Pending` aborts `work`. A panic inside `work` becomes an internal-error exception instead of
/// crossing into Python.
pub fn spawn_for_loop<'py, T, W, C>(
    py: Python<'py>,
    what: &'static str,
    work: W,
    on_done: C,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    W: std::future::Future<Output = Result<T, FetchError>> + Send + 'static,
    C: FnOnce(Python<'_>, Result<T, FetchError>) -> PyResult<Py<PyAny>> + Send + 'static,
{
    // Boxed once here: the request future is several KB, and it moves a few times below.
    let work = Box::pin(work);
    let launch: Launch = Box::new(move |pending, event_loop| {
        let py = pending.py();
        let shared = completer_for(py, event_loop)?;
        let scope = Scope::for_call(py, event_loop, crate::request::mock::installed())?;
        let future_ref = pending.clone().unbind();
        let (abort, registration) = AbortHandle::new_pair();
        let task = async move {
            let (result, events) = scope.run(AssertUnwindSafe(work).catch_unwind()).await;
            let result = match result {
                Ok(result) => result,
                Err(panic) => Err(FetchError::internal(None, &panic_message(panic.as_ref()))),
            };
            shared.push(Completion {
                future: future_ref,
                deliver: Box::new(move |py| {
                    events.emit(py);
                    on_done(py, result)
                }),
            });
        };
        workers::submit(Box::pin(async move {
            // Aborted: the work (and its connection) is dropped; nobody waits for a result.
            let _ = Abortable::new(task, registration).await;
        }))?;
        Ok(abort)
    });
    let pending = Bound::new(py, Pending::new(what, launch))?;
    if let Some(event_loop) = running_loop(py)? {
        Pending::start_on(&pending, &event_loop)?;
    }
    Ok(pending.into_any())
}

/// The running event loop of this thread, if any (without raising when there is none).
pub fn running_loop(py: Python<'_>) -> PyResult<Option<Bound<'_, PyAny>>> {
    static GET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get = GET.get_or_try_init(py, || {
        py.import("asyncio")?
            .getattr("_get_running_loop")
            .map(Bound::unbind)
    })?;
    let event_loop = get.bind(py).call0()?;
    Ok((!event_loop.is_none()).then_some(event_loop))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a Rust panic".to_owned()
    }
}
