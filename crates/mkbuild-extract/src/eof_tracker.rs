//! Remembers whether a reader reached its end, to tell a truncated tar stream from a broken one.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Wraps the reader handed to `tar::Archive`; the flag stays readable after the archive took it.
pub(crate) struct EofTracker<R> {
    inner: R,
    reached_end: Rc<Cell<bool>>,
}

impl<R: Read> EofTracker<R> {
    pub fn new(inner: R) -> (EofTracker<R>, Rc<Cell<bool>>) {
        let reached_end = Rc::new(Cell::new(false));
        let tracker = EofTracker {
            inner,
            reached_end: Rc::clone(&reached_end),
        };
        (tracker, reached_end)
    }
}

impl<R: Read> Read for EofTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // The tar crate never asks for more than it needs, so an empty read means the stream ended.
        if n == 0 && !buf.is_empty() {
            self.reached_end.set(true);
        }
        Ok(n)
    }
}
