//! Progress of long work: the sink ([`Progress`], from `mkbuild-progress`) and a reader that
//! reports to it.

pub use mkbuild_progress::{NoProgress, Progress};

/// A reader that reports every byte read to a [`Progress`].
pub(crate) struct CountingReader<'a, R> {
    pub(crate) inner: R,
    pub(crate) progress: &'a dyn Progress,
}

impl<R: std::io::Read> std::io::Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
