//! Accept back-off: what a listener does when `accept` fails for a reason
//! that the next try will not fix (out of file descriptors, `EMFILE` or
//! `ENFILE`; out of kernel memory, `ENOBUFS` or `ENOMEM`).
//!
//! Retrying at once would spin the loop at 100% of a core, and logging each
//! failure would write hundreds of thousands of lines a second. Instead the
//! listener stops being polled for a delay that doubles from
//! [`FIRST_DELAY`] to [`MAX_DELAY`] while the failures go on, and the
//! failures are reported at most once per [`REPORT_EVERY`], with a count.
//! Connections already open are served meanwhile; pending ones wait in the
//! kernel's backlog. The first accept that succeeds ends the back-off.

use std::time::{Duration, Instant};

/// The delay after the first failure.
pub(crate) const FIRST_DELAY: Duration = Duration::from_millis(10);
/// The longest delay between two tries.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(1);
/// At most one report per this long while failures go on.
pub(crate) const REPORT_EVERY: Duration = Duration::from_secs(1);

/// One listener's back-off after failed accepts.
#[derive(Debug)]
pub(crate) struct AcceptBackoff {
    delay: Duration,
    retry_at: Instant,
    since: Instant,
    last_report: Instant,
    /// Failed tries since the last report.
    unreported: u64,
    /// Failed tries since the back-off began.
    total: u64,
}

/// What to say about a failure, if anything (reports are rate-limited).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Report {
    /// The first failure: the back-off begins.
    Began,
    /// Failures went on: `count` since the last report.
    Continuing { count: u64 },
}

impl AcceptBackoff {
    /// The back-off after a first failed accept at `now`.
    pub(crate) fn begin(now: Instant) -> AcceptBackoff {
        AcceptBackoff {
            delay: FIRST_DELAY,
            retry_at: now + FIRST_DELAY,
            since: now,
            last_report: now,
            unreported: 0,
            total: 1,
        }
    }

    /// When to try accepting again.
    pub(crate) fn retry_at(&self) -> Instant {
        self.retry_at
    }

    /// The delay before the next try.
    pub(crate) fn delay(&self) -> Duration {
        self.delay
    }

    /// Failed tries since the back-off began.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// How long the back-off has lasted at `now`.
    pub(crate) fn lasted(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.since)
    }

    /// The retry at `now` failed again: waits twice as long (up to
    /// [`MAX_DELAY`]); returns a report when one is due.
    pub(crate) fn failed_again(&mut self, now: Instant) -> Option<Report> {
        self.delay = (self.delay * 2).min(MAX_DELAY);
        self.retry_at = now + self.delay;
        self.unreported += 1;
        self.total += 1;
        if now.saturating_duration_since(self.last_report) < REPORT_EVERY {
            return None;
        }
        self.last_report = now;
        Some(Report::Continuing { count: std::mem::take(&mut self.unreported) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_10_ms_to_at_most_1_s() {
        let start = Instant::now();
        let mut b = AcceptBackoff::begin(start);
        assert_eq!(b.retry_at(), start + FIRST_DELAY);
        let mut delays = vec![b.delay()];
        let mut now = start;
        for _ in 0..10 {
            now = b.retry_at();
            b.failed_again(now);
            delays.push(b.delay());
        }
        let ms: Vec<u128> = delays.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]);
        assert_eq!(b.retry_at(), now + MAX_DELAY);
        assert_eq!(b.total(), 11);
    }

    #[test]
    fn failures_are_reported_once_per_second_with_their_count() {
        let start = Instant::now();
        let mut b = AcceptBackoff::begin(start);
        let mut reports = Vec::new();
        // A retry every 10 ms for 3.5 s, as if the delay did not grow.
        for k in 1..=350u64 {
            if let Some(r) = b.failed_again(start + Duration::from_millis(10 * k)) {
                reports.push(r);
            }
        }
        assert_eq!(
            reports,
            [Report::Continuing { count: 100 }, Report::Continuing { count: 100 }, Report::Continuing { count: 100 }]
        );
        assert_eq!(b.total(), 351);
    }
}
