//! A response body as it was received, copied once into a Python `bytes`: a large one as soon
//! as it is whole (`handed_over`), a small one when Python asks.
//!
//! A large body stays in the chunks hyper handed out until then: concatenating them first would
//! copy every byte twice (and fault in a second, fresh buffer of the body's size), which profiles
//! of 1 MiB bodies showed as a third of the request's CPU. A small body is compacted into one
//! buffer of its own instead, because its chunks are views into the connection's read buffer:
//! 100,000 kept small bodies would otherwise pin 100,000 read buffers.

use std::mem::MaybeUninit;
use std::{ptr, slice};

use bytes::{Bytes, BytesMut};
use pyo3::exceptions::{PyOverflowError, PyRuntimeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Bodies up to this size are compacted; larger ones keep their chunks.
const COMPACT_LIMIT: usize = 16 * 1024;

/// Bodies from this size on are copied into their `bytes` on the runtime thread, as soon as
/// they are whole (`handed_over`).
const HAND_OVER_FROM: usize = 256 * 1024;

#[derive(Default)]
pub struct ReceivedBody {
    chunks: Vec<Bytes>,
    /// When set, the whole body, and `chunks` is empty.
    python: Option<Py<PyBytes>>,
    len: usize,
}

impl ReceivedBody {
    pub fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.chunks.push(chunk);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Called once the whole body is here (see the module comment).
    pub fn compacted(self) -> Self {
        if self.len > COMPACT_LIMIT {
            return self;
        }
        let mut one = BytesMut::with_capacity(self.len);
        for chunk in &self.chunks {
            one.extend_from_slice(chunk);
        }
        ReceivedBody {
            len: self.len,
            chunks: vec![one.freeze()],
            python: None,
        }
    }

    /// A large body becomes its `bytes` here, on the runtime thread that received it, and its
    /// chunks are freed there at once, where mimalloc reuses their pages for the next reads.
    /// Freed later on Python's thread, they went back to an idle runtime thread's heap and
    /// stayed resident while the `bytes` were built: 300 kept 1 MiB bodies peaked at twice the
    /// bytes kept. This is the one place a runtime thread takes the GIL (one copy per body of
    /// 256 KiB or more); while the interpreter shuts down the body keeps its chunks instead.
    pub fn handed_over(self) -> PyResult<Self> {
        if self.len < HAND_OVER_FROM || self.python.is_some() {
            return Ok(self);
        }
        match Python::try_attach(|py| self.to_pybytes(py).map(Bound::unbind)) {
            Some(python) => Ok(ReceivedBody {
                chunks: Vec::new(),
                python: Some(python?),
                len: self.len,
            }),
            None => Ok(self),
        }
    }

    /// One copy, straight into the `bytes` object.
    pub fn to_pybytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        if let Some(python) = &self.python {
            return Ok(python.bind(py).clone());
        }
        filled_bytes(py, self.len, |target| {
            let mut rest = target;
            for chunk in &self.chunks {
                let Some((head, tail)) = rest.split_at_mut_checked(chunk.len()) else {
                    return Err(PyRuntimeError::new_err(
                        "a body's chunks outgrew its length",
                    ));
                };
                // SAFETY: `head` is exactly `chunk.len()` writable octets, apart from `chunk`.
                // (`<[MaybeUninit<u8>]>::write_copy_of_slice` does this from Rust 1.93.)
                unsafe {
                    ptr::copy_nonoverlapping(
                        chunk.as_ptr(),
                        head.as_mut_ptr().cast::<u8>(),
                        head.len(),
                    );
                }
                rest = tail;
            }
            if rest.is_empty() {
                Ok(())
            } else {
                Err(PyRuntimeError::new_err(
                    "a body's chunks fell short of its length",
                ))
            }
        })
    }
}

/// Bodies from this size on have the pages of their `bytes` faulted in by one system call.
const PREFAULT_FROM: usize = 64 * 1024;

/// A `bytes` of `len` octets that `fill` writes once, every octet (or fails).
///
/// pyo3's `PyBytes::new_with` zeroes the buffer before handing it out: for a body that is one
/// more pass over memory that is about to be overwritten. A large `bytes` is also fresh memory
/// (glibc maps every allocation above its mmap threshold anew), and taking its page faults one
/// 4 KiB page at a time was half the CPU of a 1 MiB request in profiles; one
/// `madvise(MADV_POPULATE_WRITE)` faults them in inside the kernel, about 30% cheaper here.
/// (Releasing the GIL for the fault-in and the copy measured no faster, and a thread that
/// re-attaches while the interpreter finalizes is stopped there.)
fn filled_bytes<'py>(
    py: Python<'py>,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> PyResult<()>,
) -> PyResult<Bound<'py, PyBytes>> {
    let size = ffi::Py_ssize_t::try_from(len)
        .map_err(|_| PyOverflowError::new_err("a body too large for a bytes object"))?;
    // SAFETY: with a null source, PyBytes_FromStringAndSize returns a new `bytes` object (or
    // null with an exception set) whose `len` octets are allocated but not yet written, and
    // only this function holds it until it returns. PyBytes_AsString points at those octets,
    // which live as long as `bytes`; `bytes` outlives `target`, which types them as possibly
    // uninitialised. If `fill` fails, the object is dropped unseen; when it succeeds it wrote
    // every octet (it checks that the chunks filled the whole length).
    let (bytes, target) = unsafe {
        let bytes =
            Bound::from_owned_ptr_or_err(py, ffi::PyBytes_FromStringAndSize(ptr::null(), size))?
                .cast_into_unchecked::<PyBytes>();
        let buffer = ffi::PyBytes_AsString(bytes.as_ptr());
        if buffer.is_null() {
            return Err(PyErr::fetch(py));
        }
        (
            bytes,
            slice::from_raw_parts_mut(buffer.cast::<MaybeUninit<u8>>(), len),
        )
    };
    if len >= PREFAULT_FROM {
        prefault(target);
    }
    fill(target)?;
    Ok(bytes)
}

/// Faults in the whole pages of `target` for writing. Best effort: a kernel older than 5.14
/// refuses the advice, and the pages then fault as they are written.
#[cfg(target_os = "linux")]
fn prefault(target: &mut [MaybeUninit<u8>]) {
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
    if page == 0 {
        return;
    }
    let skip = target.as_ptr().align_offset(page);
    let Some(rest) = target.get_mut(skip..) else {
        return;
    };
    let whole = rest.len() - rest.len() % page;
    if whole == 0 {
        return;
    }
    // SAFETY: the range is inside `target`, borrowed mutably here, and MADV_POPULATE_WRITE
    // only faults pages in: it never changes what they hold.
    unsafe {
        libc::madvise(
            rest.as_mut_ptr().cast::<libc::c_void>(),
            whole,
            libc::MADV_POPULATE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn prefault(_target: &mut [MaybeUninit<u8>]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bodies_become_one_buffer_and_large_ones_keep_their_chunks() {
        let mut small = ReceivedBody::default();
        small.push(Bytes::from_static(b"ab"));
        small.push(Bytes::new());
        small.push(Bytes::from_static(b"cd"));
        let small = small.compacted();
        assert_eq!(small.chunks, vec![Bytes::from_static(b"abcd")]);
        assert_eq!(small.len(), 4);

        let mut large = ReceivedBody::default();
        large.push(Bytes::from(vec![1u8; COMPACT_LIMIT]));
        large.push(Bytes::from_static(b"x"));
        let large = large.compacted();
        assert_eq!(large.chunks.len(), 2);
        assert_eq!(large.len(), COMPACT_LIMIT + 1);
    }
}
