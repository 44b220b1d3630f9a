//! Every wait on the network is bounded by progress: a request must be answered, and a body must
//! keep arriving, or the transfer fails after the client's timeout.
//!
//! reqwest's own `read_timeout` is not used: its timer for the answer's head starts when the
//! request is sent and is not reset while a request body is still going up (reqwest 0.13.5,
//! `PendingRequest::poll`), so a large upload would time out however fast it went. Instead a request
//! counts as progressing while its body is being taken ([`Activity`], touched by the upload
//! stream), and a response body must bring [`MIN_PROGRESS`] bytes per timeout window, as curl's
//! low-speed limit: a registry that sends a head and then nothing, or one byte a second, fails.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::Either;

/// The bytes a response body must bring within each timeout window (unless it ends first).
pub(crate) const MIN_PROGRESS: u64 = 1024;

/// How many timeouts a registry may take to answer once a request's whole body is sent: finishing
/// a multi-GB blob (moving it into S3, hashing it) can take longer than a stall of the transfer.
const ANSWER_GRACE: u32 = 4;

/// The time of the last sign of life of a request (its body taken by the connection).
#[derive(Clone, Debug)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
    /// The whole body has been taken: what remains is the registry's answer.
    body_sent: Arc<AtomicBool>,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
            body_sent: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// The body's last byte was taken: the answer gets [`ANSWER_GRACE`] timeouts.
    pub(crate) fn body_sent(&self) {
        self.body_sent.store(true, Ordering::Relaxed);
        self.touch();
    }

    fn allowed(&self, timeout: Duration) -> Duration {
        if self.body_sent.load(Ordering::Relaxed) {
            timeout.saturating_mul(ANSWER_GRACE)
        } else {
            timeout
        }
    }

    fn idle(&self) -> Duration {
        self.start
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// The request made no progress for the timeout.
#[derive(Debug)]
pub(crate) struct Stalled;

/// Runs `future` (a request being sent, until its answer's head) while `activity` shows progress
/// at least once per `timeout`.
pub(crate) async fn unless_stalled<F: Future>(
    future: F,
    activity: &Activity,
    timeout: Duration,
) -> Result<F::Output, Stalled> {
    let mut future = std::pin::pin!(future);
    loop {
        let wait = activity.allowed(timeout).saturating_sub(activity.idle());
        if wait.is_zero() {
            return Err(Stalled);
        }
        let sleep = std::pin::pin!(tokio::time::sleep(wait));
        match futures_util::future::select(future.as_mut(), sleep).await {
            Either::Left((output, _)) => return Ok(output),
            Either::Right(((), _)) => continue,
        }
    }
}

/// What went wrong reading a body.
#[derive(Debug)]
pub(crate) enum BodyError {
    Stalled,
    Transport(reqwest::Error),
}

/// A response body read chunk by chunk under the low-speed rule of the module.
pub(crate) struct Body {
    response: reqwest::Response,
    timeout: Duration,
    window_start: tokio::time::Instant,
    window_bytes: u64,
}

impl Body {
    pub(crate) fn new(response: reqwest::Response, timeout: Duration) -> Body {
        Body {
            response,
            timeout,
            window_start: tokio::time::Instant::now(),
            window_bytes: 0,
        }
    }

    /// The next chunk, `None` at the end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        let deadline = self.window_start + self.timeout;
        match tokio::time::timeout_at(deadline, self.response.chunk()).await {
            Err(_) => Err(BodyError::Stalled),
            Ok(Err(e)) => Err(BodyError::Transport(e)),
            Ok(Ok(None)) => Ok(None),
            Ok(Ok(Some(bytes))) => {
                self.window_bytes += bytes.len() as u64;
                if self.window_bytes >= MIN_PROGRESS {
                    self.window_start = tokio::time::Instant::now();
                    self.window_bytes = 0;
                }
                Ok(Some(bytes))
            }
        }
    }

    /// The whole body if it is at most `cap` bytes; `Ok(None)` as soon as byte `cap + 1` arrives
    /// (the rest is never read: dropping the response closes the connection).
    pub(crate) async fn read_capped(mut self, cap: u64) -> Result<Option<Vec<u8>>, BodyError> {
        if self.response.content_length().is_some_and(|n| n > cap) {
            return Ok(None);
        }
        let mut data = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if data.len() as u64 + chunk.len() as u64 > cap {
                return Ok(None);
            }
            data.extend_from_slice(&chunk);
        }
        Ok(Some(data))
    }

    /// Up to `cap` bytes of the body, for an error message: a longer body is cut, not an error.
    pub(crate) async fn read_prefix(mut self, cap: usize) -> Vec<u8> {
        let mut data = Vec::new();
        while let Ok(Some(chunk)) = self.chunk().await {
            let room = cap.saturating_sub(data.len());
            data.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if data.len() >= cap {
                break;
            }
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_without_progress_stalls_and_one_with_progress_does_not() {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        else {
            panic!("no runtime");
        };
        runtime.block_on(async {
            let activity = Activity::new();
            let quiet = unless_stalled(
                tokio::time::sleep(Duration::from_secs(5)),
                &activity,
                Duration::from_millis(100),
            );
            assert!(quiet.await.is_err());

            let activity = Activity::new();
            let ticking = {
                let activity = activity.clone();
                async move {
                    for _ in 0..6 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        activity.touch();
                    }
                }
            };
            let busy = unless_stalled(ticking, &activity, Duration::from_millis(100));
            assert!(busy.await.is_ok());

            // Once the body is sent, the answer may take longer than a stall, but not forever.
            let activity = Activity::new();
            activity.body_sent();
            let finishing = unless_stalled(
                tokio::time::sleep(Duration::from_millis(300)),
                &activity,
                Duration::from_millis(100),
            );
            assert!(finishing.await.is_ok());
            let activity = Activity::new();
            activity.body_sent();
            let never = unless_stalled(
                tokio::time::sleep(Duration::from_secs(5)),
                &activity,
                Duration::from_millis(100),
            );
            assert!(never.await.is_err());
        });
    }
}
