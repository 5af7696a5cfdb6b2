//! The reactor's clock: how long ago the driver started, read a few times
//! per loop iteration (before the turn, after polling, at the end of each
//! protocol call), so a few times per message at one message per wake.
//!
//! `Instant::elapsed` costs about 90 user-space instructions a reading (the
//! clock read, then `Duration` arithmetic with its checks and nanosecond
//! carry); reading the same clock (`CLOCK_MONOTONIC`, what `Instant` reads
//! on Linux) with one `clock_gettime` and subtracting nanoseconds costs a
//! third of that (native/bench/RESULTS-ws.md).

use std::time::Instant;

use twine_core::Time;

/// Nanoseconds since `epoch` on the clock `Instant` reads. Copy it freely:
/// the reactor, the pool's threads and the loop each hold one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoopClock {
    /// `epoch` as a `CLOCK_MONOTONIC` reading, in nanoseconds.
    origin: u64,
}

impl LoopClock {
    /// A clock whose zero is `epoch`.
    pub(crate) fn new(epoch: Instant) -> LoopClock {
        let since = epoch.elapsed().as_nanos() as u64;
        LoopClock { origin: monotonic_nanos().saturating_sub(since) }
    }

    /// How long since the epoch.
    pub(crate) fn now(&self) -> Time {
        Time::from_nanos(monotonic_nanos().saturating_sub(self.origin))
    }
}

fn monotonic_nanos() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through the pointer, which
    // is valid for the call. CLOCK_MONOTONIC exists on every Unix, so it
    // cannot fail (and a zero reading would only stall time, not break it).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn reads_the_same_time_as_instant() {
        let epoch = Instant::now() - Duration::from_secs(3);
        let clock = LoopClock::new(epoch);
        for _ in 0..3 {
            let before = epoch.elapsed();
            let ours = clock.now().saturating_since(Time::ZERO);
            let after = epoch.elapsed();
            // Within a microsecond of the bracket (the origin is computed from two readings).
            assert!(ours + Duration::from_micros(1) >= before && ours <= after + Duration::from_micros(1));
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
