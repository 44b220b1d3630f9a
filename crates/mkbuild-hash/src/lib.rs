//! SHA-256 that overlaps the I/O around it: bytes are gathered into chunks of [`CHUNK_SIZE`] and
//! each full chunk is hashed on a thread of its own, in order, while the caller reads or writes the
//! next one. Short inputs (under one chunk) never start a thread. Memory stays bounded by the
//! chunks in flight (at most [`QUEUE_DEPTH`] + 2).
//!
//! Pack's blob writer hands over the chunks it has just written ([`PipelinedSha256::hash_chunk`],
//! no copy); unpack's verifying reader copies what passed through it
//! ([`PipelinedSha256::update`]); a copy costs a fraction of the hash it moves off the thread.

mod digest;
mod hash_thread;
mod resumable;

pub use digest::{Digest, InvalidDigest};
pub use resumable::Checkpoint;

use hash_thread::HashThread;
use resumable::Sha256State;

/// Large enough that hand-overs are few, small enough that a few in flight keep memory low.
pub const CHUNK_SIZE: usize = 512 * 1024;

/// Chunks queued for the hashing thread at most.
pub const QUEUE_DEPTH: usize = 4;

/// The hashing thread died (it cannot panic on its own; only if the system killed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashThreadDied;

impl std::fmt::Display for HashThreadDied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the hashing thread died")
    }
}

impl std::error::Error for HashThreadDied {}

/// A SHA-256 whose full chunks are hashed on another thread.
pub struct PipelinedSha256 {
    /// Bytes given to [`update`](Self::update) not yet handed over; less than a chunk between calls.
    pending: Vec<u8>,
    state: State,
    /// Given to the thread when it starts.
    sink: Option<CheckpointSink>,
}

/// Receives checkpoints on the hashing thread (see [`PipelinedSha256::with_checkpoints`]).
pub type CheckpointSink = Box<dyn FnMut(Checkpoint) + Send>;

enum State {
    Inline(Sha256State),
    Thread(HashThread),
    /// The thread died; reported by [`PipelinedSha256::finalize`].
    Lost,
}

impl Default for PipelinedSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for PipelinedSha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Inline(_) => "inline",
            State::Thread(_) => "thread",
            State::Lost => "lost",
        };
        f.debug_struct("PipelinedSha256")
            .field("pending", &self.pending.len())
            .field("state", &state)
            .finish()
    }
}

impl PipelinedSha256 {
    /// A hasher with nothing hashed yet.
    pub fn new() -> Self {
        PipelinedSha256 {
            pending: Vec::new(),
            state: State::Inline(Sha256State::new()),
            sink: None,
        }
    }

    /// A hasher that continues from `checkpoint`, as if the bytes it covers had been given.
    pub fn resume(checkpoint: Checkpoint) -> Self {
        PipelinedSha256 {
            pending: Vec::new(),
            state: State::Inline(Sha256State::resume(checkpoint)),
            sink: None,
        }
    }

    /// Gives `sink` a [`Checkpoint`] now and then from the hashing thread: after every few MiB
    /// hashed, and when no chunk has come for a moment. Each covers a prefix of the bytes given,
    /// so whoever keeps them can take the hash up again from there in another process. Only
    /// chunked input (a blob of a chunk or more) reports checkpoints.
    pub fn with_checkpoints(mut self, sink: CheckpointSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Hashes `bytes` after everything given before (copied; hashed when a chunk is full).
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.pending.capacity() == 0 && matches!(self.state, State::Thread(_)) {
                self.pending = self.spare_chunk();
            }
            let n = bytes.len().min(CHUNK_SIZE - self.pending.len());
            if self.pending.capacity() - self.pending.len() < n {
                // Grows straight to a chunk: a small blob allocates only what it needs.
                self.pending.reserve_exact(CHUNK_SIZE - self.pending.len());
            }
            self.pending.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.pending.len() == CHUNK_SIZE {
                let full = std::mem::take(&mut self.pending);
                self.pending = self.hash_chunk(full);
            }
        }
    }

    /// Hashes `chunk` after everything given before and returns an empty buffer of chunk capacity
    /// to fill next (usually one the thread has finished with). A chunk shorter than
    /// [`CHUNK_SIZE`] is hashed here, without a thread.
    pub fn hash_chunk(&mut self, mut chunk: Vec<u8>) -> Vec<u8> {
        if !self.pending.is_empty() {
            // Keep the order: what `update` gathered goes first.
            let pending = std::mem::take(&mut self.pending);
            self.hand_over(pending);
        }
        if chunk.len() < CHUNK_SIZE {
            if let State::Inline(hasher) = &mut self.state {
                hasher.update(&chunk);
                chunk.clear();
                return chunk;
            }
        }
        self.hand_over(chunk);
        self.spare_chunk()
    }

    /// The digest of every byte given, in order.
    pub fn finalize(mut self) -> Result<[u8; 32], HashThreadDied> {
        let pending = std::mem::take(&mut self.pending);
        let mut hasher = match std::mem::replace(&mut self.state, State::Lost) {
            State::Inline(hasher) => hasher,
            State::Thread(thread) => thread.finish().ok_or(HashThreadDied)?,
            State::Lost => return Err(HashThreadDied),
        };
        hasher.update(&pending);
        Ok(hasher.finalize())
    }

    /// Gives `chunk` to the thread (started on the first full chunk), or hashes it inline when
    /// no thread can be had.
    fn hand_over(&mut self, chunk: Vec<u8>) {
        if let State::Inline(hasher) = &mut self.state {
            if chunk.len() < CHUNK_SIZE {
                hasher.update(&chunk);
                return;
            }
            let hasher = std::mem::replace(hasher, Sha256State::new());
            self.state = match HashThread::start(hasher.clone(), self.sink.take()) {
                Some(thread) => State::Thread(thread),
                None => State::Inline(hasher),
            };
        }
        match &mut self.state {
            State::Inline(hasher) => hasher.update(&chunk),
            State::Thread(thread) => {
                if !thread.hash(chunk) {
                    self.state = State::Lost;
                }
            }
            State::Lost => {}
        }
    }

    /// An empty buffer of chunk capacity: one back from the thread, or a new one.
    fn spare_chunk(&mut self) -> Vec<u8> {
        match &self.state {
            State::Thread(thread) => thread.reuse(),
            _ => None,
        }
        .unwrap_or_else(|| Vec::with_capacity(CHUNK_SIZE))
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn expected(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    /// Pieces of every size around the chunk boundary, through `update`, give the digest of the whole.
    #[test]
    fn update_in_odd_pieces_gives_the_digest_of_the_bytes() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            5 * CHUNK_SIZE + 12_345,
        ] {
            let bytes = data(len);
            for piece in [1usize, 4096, 100_003, CHUNK_SIZE, 3 * CHUNK_SIZE] {
                let mut hasher = PipelinedSha256::new();
                for part in bytes.chunks(piece) {
                    hasher.update(part);
                }
                assert_eq!(
                    hasher.finalize(),
                    Ok(expected(&bytes)),
                    "length {len}, pieces of {piece}"
                );
            }
        }
    }

    /// Whole chunks handed over, mixed with `update` and a short tail, keep their order.
    #[test]
    fn chunks_and_updates_mixed_keep_their_order() {
        let bytes = data(4 * CHUNK_SIZE + 777);
        let mut hasher = PipelinedSha256::new();
        hasher.update(&bytes[..10]);
        let mut buffer = hasher.hash_chunk(bytes[10..10 + CHUNK_SIZE].to_vec());
        assert!(buffer.is_empty() && buffer.capacity() >= CHUNK_SIZE);
        buffer.extend_from_slice(&bytes[10 + CHUNK_SIZE..10 + 3 * CHUNK_SIZE]);
        let _ = hasher.hash_chunk(buffer);
        hasher.update(&bytes[10 + 3 * CHUNK_SIZE..4 * CHUNK_SIZE]);
        let _ = hasher.hash_chunk(bytes[4 * CHUNK_SIZE..].to_vec());
        assert_eq!(
            hex::encode(hasher.finalize().expect("digest")),
            hex::encode(expected(&bytes))
        );
    }
}

#[cfg(test)]
mod checkpoints {
    use std::sync::{Arc, Mutex};

    use sha2::{Digest as _, Sha256};

    use super::*;

    /// The thread tells its sink how far it got (at the latest when the input pauses); resumed
    /// from the last checkpoint, with the rest given again, the hash is that of the whole - the
    /// way a download resumes in another process.
    #[test]
    fn a_pipelined_hash_resumes_from_its_checkpoint() {
        let bytes: Vec<u8> = (0..100 * CHUNK_SIZE + 777)
            .map(|i| (i % 241) as u8)
            .collect();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let mut first = PipelinedSha256::new().with_checkpoints(Box::new(move |c| {
            sink.lock().expect("lock").push(c);
        }));
        let given = 87 * CHUNK_SIZE;
        for chunk in bytes[..given].chunks(CHUNK_SIZE) {
            let _ = first.hash_chunk(chunk.to_vec());
        }
        // The input pauses: the thread records everything it was given.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let last = loop {
            let last = seen.lock().expect("lock").last().copied();
            match last {
                Some(c) if c.hashed == given as u64 => break c,
                _ if std::time::Instant::now() > deadline => panic!("no checkpoint: {last:?}"),
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        };
        let all = seen.lock().expect("lock").clone();
        assert!(all.len() >= 2, "every 32 MiB, then at the pause: {all:?}");
        assert!(all.windows(2).all(|w| w[0].hashed < w[1].hashed));
        drop(first);
        let mut second = PipelinedSha256::resume(last);
        second.update(&bytes[given..]);
        let want: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(second.finalize(), Ok(want));
    }
}
