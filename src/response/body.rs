//! A response body as it was received, copied once into a Python `bytes`: a large one as soon
//! as it is whole (`handed_over`), a small one when Python asks.
//!
//! A large body stays in the chunks hyper handed out until then: concatenating them first would
//! copy every byte twice (and fault in a second, fresh buffer of the body's size), which profiles
//! of 1 MiB bodies showed as a third of the request's CPU. A small body is compacted into one
//! buffer of its own instead, because its chunks are views into the connection's read buffer:
//! 100,000 kept small bodies would otherwise pin 100,000 read buffers.

use bytes::{Bytes, BytesMut};
use pyo3::exceptions::PyRuntimeError;
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
        if let [only] = self.chunks.as_slice() {
            return Ok(PyBytes::new(py, only));
        }
        PyBytes::new_with(py, self.len, |target| {
            let mut rest = target;
            for chunk in &self.chunks {
                let Some((head, tail)) = rest.split_at_mut_checked(chunk.len()) else {
                    return Err(PyRuntimeError::new_err(
                        "a body's chunks outgrew its length",
                    ));
                };
                head.copy_from_slice(chunk);
                rest = tail;
            }
            Ok(())
        })
    }
}

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
