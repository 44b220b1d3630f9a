//! SHA-256 on a thread of its own, fed whole chunks in order: the writer hands over a chunk it
//! has written and gets emptied chunks back, so hashing one chunk overlaps reading and writing the
//! next, and memory stays bounded by the number of chunks in flight.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::resumable::{Checkpoint, Sha256State};
use crate::CheckpointSink;

/// Chunks queued for the hasher at most; with the one being filled and the one being hashed this
/// bounds a writer's buffers.
const QUEUE_DEPTH: usize = 4;

/// A checkpoint goes to the sink after this many more bytes are hashed, so that a process killed
/// while streaming loses at most this much (plus the queue) of its work; each may cost two
/// fsyncs, so not much more often.
const CHECKPOINT_EVERY: u64 = 32 << 20;

/// A checkpoint also goes to the sink when no chunk came for this long: a stalled download is
/// recorded up to its last byte before anyone gives up on it.
const IDLE: Duration = Duration::from_millis(200);

pub(crate) struct HashThread {
    chunks: SyncSender<Vec<u8>>,
    emptied: Receiver<Vec<u8>>,
    handle: JoinHandle<Sha256State>,
}

impl HashThread {
    /// Starts a thread that continues `hasher`, giving its checkpoints to `sink`; `None` if the
    /// system refuses a thread (the caller then hashes inline).
    pub(crate) fn start(hasher: Sha256State, sink: Option<CheckpointSink>) -> Option<HashThread> {
        let (chunks, queued) = mpsc::sync_channel::<Vec<u8>>(QUEUE_DEPTH);
        let (give_back, emptied) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("blob-sha256".into())
            .spawn(move || run(hasher, sink, &queued, &give_back))
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
    pub(crate) fn finish(self) -> Option<Sha256State> {
        drop(self.chunks);
        self.handle.join().ok()
    }
}

/// The thread's work: hash each chunk in order, hand it back emptied, and tell `sink` how far it
/// got now and then.
fn run(
    mut hasher: Sha256State,
    mut sink: Option<CheckpointSink>,
    queued: &Receiver<Vec<u8>>,
    give_back: &mpsc::Sender<Vec<u8>>,
) -> Sha256State {
    let mut told = hasher.checkpoint().map_or(0, |c| c.hashed);
    let wait = if sink.is_some() { IDLE } else { Duration::MAX };
    let mut tell = |checkpoint: Option<Checkpoint>, due: u64, told: &mut u64| {
        if let (Some(sink), Some(checkpoint)) = (sink.as_mut(), checkpoint) {
            if checkpoint.hashed >= *told + due && checkpoint.hashed > *told {
                sink(checkpoint);
                *told = checkpoint.hashed;
            }
        }
    };
    loop {
        match queued.recv_timeout(wait) {
            Ok(mut chunk) => {
                hasher.update(&chunk);
                tell(hasher.checkpoint(), CHECKPOINT_EVERY, &mut told);
                chunk.clear();
                // The writer may be gone (dropped without commit): the chunk is then freed.
                let _ = give_back.send(chunk);
            }
            Err(RecvTimeoutError::Timeout) => tell(hasher.checkpoint(), 0, &mut told),
            Err(RecvTimeoutError::Disconnected) => return hasher,
        }
    }
}
