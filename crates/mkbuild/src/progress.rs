//! Progress of long work on stderr: a bar with bytes, rate and ETA on a terminal (`fancy`), a
//! line every few seconds otherwise (`plain`), or nothing. Never on stdout, which carries digests.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mkbuild_engine::Progress;

use crate::cli::ProgressArg;

/// How often `plain` prints a line, unless `MKBUILD_PROGRESS_INTERVAL_MS` says otherwise (tests
/// and scripts that want every step).
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

fn plain_interval() -> Duration {
    std::env::var("MKBUILD_PROGRESS_INTERVAL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(PLAIN_INTERVAL, Duration::from_millis)
}

/// Reports progress of one command in the chosen style, and counts the bytes skipped for the
/// command's summary.
pub struct Reporter {
    style: Style,
    skipped: AtomicU64,
}

enum Style {
    None,
    Plain(Plain),
    Fancy(ProgressBar),
}

impl Reporter {
    /// The reporter for `--progress` (default: `fancy` on a terminal, else `plain`; `-q`: none).
    pub fn new(choice: Option<ProgressArg>, quiet: bool, verb: &'static str) -> Reporter {
        let choice = match (choice, quiet) {
            (Some(choice), _) => choice,
            (None, true) => ProgressArg::None,
            (None, false) if std::io::stderr().is_terminal() => ProgressArg::Fancy,
            (None, false) => ProgressArg::Plain,
        };
        let style = match choice {
            ProgressArg::None => Style::None,
            ProgressArg::Plain => Style::Plain(Plain {
                verb,
                total: AtomicU64::new(0),
                done: AtomicU64::new(0),
                skipped: AtomicU64::new(0),
                started: Instant::now(),
                last_line: Mutex::new(Instant::now()),
                interval: plain_interval(),
            }),
            ProgressArg::Fancy => {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes}{msg} {binary_bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(verb);
                Style::Fancy(bar)
            }
        };
        Reporter {
            style,
            skipped: AtomicU64::new(0),
        }
    }

    /// Bytes done without being moved so far: already in the registry or the store, reused from
    /// the build cache, cloned by the filesystem.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

impl Progress for Reporter {
    fn start(&self, total: u64) {
        match &self.style {
            Style::None => {}
            Style::Plain(plain) => plain.total.store(total, Ordering::Relaxed),
            Style::Fancy(bar) => bar.set_length(total),
        }
    }

    fn advance(&self, bytes: u64) {
        match &self.style {
            Style::None => {}
            Style::Plain(plain) => plain.advance(bytes),
            Style::Fancy(bar) => bar.inc(bytes),
        }
    }

    fn skipped(&self, bytes: u64) {
        let skipped = self.skipped.fetch_add(bytes, Ordering::Relaxed) + bytes;
        match &self.style {
            Style::None => {}
            Style::Plain(plain) => {
                plain.skipped.store(skipped, Ordering::Relaxed);
                plain.advance(bytes);
            }
            Style::Fancy(bar) => {
                // The bar's rate counts only what moved: skipped bytes shrink the work instead.
                bar.set_length(bar.length().unwrap_or(0).saturating_sub(bytes));
                bar.set_message(format!(", {} skipped", mebibytes(skipped)));
            }
        }
    }

    fn finish(&self) {
        match &self.style {
            Style::None => {}
            Style::Plain(_) => {}
            Style::Fancy(bar) => bar.finish_and_clear(),
        }
    }
}

/// Periodic lines, for logs and pipes.
pub struct Plain {
    verb: &'static str,
    total: AtomicU64,
    done: AtomicU64,
    /// Of `done`, the bytes that did not move (already there, cloned, not asked for).
    skipped: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
    interval: Duration,
}

impl Plain {
    fn advance(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let complete = done >= self.total.load(Ordering::Relaxed);
        // Only one thread prints; the others do not wait for it, except the one that completes
        // the work, so that the last line due is never lost.
        let last_line = if complete {
            self.last_line.lock().ok()
        } else {
            self.last_line.try_lock().ok()
        };
        let Some(mut last_line) = last_line else {
            return;
        };
        if last_line.elapsed() < self.interval {
            return;
        }
        *last_line = Instant::now();
        // Not `eprintln!`, which panics when stderr is a closed pipe.
        let _ = writeln!(std::io::stderr(), "{}", self.line(done));
    }

    fn line(&self, done: u64) -> String {
        let total = self.total.load(Ordering::Relaxed).max(done);
        let skipped = self.skipped.load(Ordering::Relaxed).min(done);
        let seconds = self.started.elapsed().as_secs_f64();
        // The rate is of bytes that moved; skipped ones took no time.
        let rate = if seconds > 0.0 {
            (done - skipped) as f64 / seconds
        } else {
            0.0
        };
        let left = if rate > 0.0 {
            format!(", about {:.0} s left", (total - done) as f64 / rate)
        } else {
            String::new()
        };
        let skipped = if skipped > 0 {
            format!(", {} skipped", mebibytes(skipped))
        } else {
            String::new()
        };
        format!(
            "{}: {} of {} ({:.0}%{skipped}), {}/s{left}",
            self.verb,
            mebibytes(done),
            mebibytes(total),
            if total == 0 {
                100.0
            } else {
                done as f64 * 100.0 / total as f64
            },
            mebibytes(rate as u64),
        )
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_shows_bytes_share_and_rate() {
        let plain = Plain {
            verb: "pack",
            total: AtomicU64::new(4 << 20),
            done: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            interval: PLAIN_INTERVAL,
        };
        let line = plain.line(1 << 20);
        assert!(
            line.starts_with("pack: 1.0 MiB of 4.0 MiB (25%), "),
            "{line}"
        );
        plain.skipped.store(1 << 19, Ordering::Relaxed);
        let line = plain.line(1 << 20);
        assert!(
            line.starts_with("pack: 1.0 MiB of 4.0 MiB (25%, 0.5 MiB skipped), "),
            "{line}"
        );
    }
}
