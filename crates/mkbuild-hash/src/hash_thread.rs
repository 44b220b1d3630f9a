//! SHA-256 on a thread of its own, fed whole chunks in order: the writer hands over a chunk it
//! has written and gets emptied chunks back, so hashing one chunk overlaps reading and writing the
//! next, and memory stays bounded by the number of chunks in flight.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};

/// Chunks queued for the hasher at most; with the one being filled and the one being hashed this
/// bounds a writer's buffers.
const QUEUE_DEPTH: usize = 4;

pub(crate) struct HashThread {
    chunks: SyncSender<Vec<u8>>,
    emptied: Receiver<Vec<u8>>,
    handle: JoinHandle<Sha256>,
}

impl HashThread {
    /// Starts a thread that continues `hasher`; `None` if the system refuses a thread (the caller
    /// then hashes inline).
    pub(crate) fn start(hasher: Sha256) -> Option<HashThread> {
        let (chunks, queued) = mpsc::sync_channel::<Vec<u8>>(QUEUE_DEPTH);
        let (give_back, emptied) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("blob-sha256".into())
            .spawn(move || {
                let mut hasher = hasher;
                for mut chunk in queued {
                    hasher.update(&chunk);
                    chunk.clear();
                    // The writer may be gone (dropped without commit): the chunk is then freed.
                    let _ = give_back.send(chunk);
                }
                hasher
            })
            .ok()?;
        Some(HashThread {
            chunks,
            emptied,
            handle,
        })
    }

    /// Queues `chunk` (waits while the queue is full). False if the thread is gone.
    pub(crate) fn hash(&self, chunk: Vec<u8>) -> bool {
        self.chunks.send(chunk).is_ok()
    }

    /// An emptied chunk, if one has come back.
    pub(crate) fn reuse(&self) -> Option<Vec<u8>> {
        self.emptied.try_recv().ok()
    }

    /// Waits for every queued chunk to be hashed; `None` if the thread died.
    pub(crate) fn finish(self) -> Option<Sha256> {
        drop(self.chunks);
        self.handle.join().ok()
    }
}
