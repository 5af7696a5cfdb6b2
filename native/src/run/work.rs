//! Real work: `cpu` burns the thread's own CPU time, read from its CPU clock.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The busy loop's speed on this machine, measured at start-up: how many
/// spin iterations make a nanosecond of CPU.
///
/// `cpu(10)` is 10 ms of the thread's own CPU time (its
/// `CLOCK_THREAD_CPUTIME_ID`), not "spin until 10 ms of wall time have
/// passed": a thread that waits for a core, is preempted or waits for the
/// GIL takes longer in wall time, as on the simulated cores. The clock, not
/// this figure, decides when a burn ends, so a machine whose speed or load
/// changes during a run still gets the CPU time asked for; the figure only
/// sizes the stretches between clock reads, and burns too short to time
/// (shorter than [`CHECK_EVERY_NS`]: a clock read is a system call of a few
/// hundred nanoseconds, longer than a 50 ns counter step).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spin {
    iters_per_ns: f64,
    /// The CPU a read of the thread's CPU clock costs, counted into the
    /// burns that read it, so a timed `cpu(0.01)` is 10 µs in all.
    clock_read_ns: u64,
}

/// How much of a `cpu` step runs between two reads of the thread's CPU clock.
pub(crate) const CHECK_EVERY_NS: u64 = 5_000;

/// Iterations of the busy loop between two eval-breaker points: about
/// 100 ns, as far apart as a tight Python loop's backward jumps (`while
/// time.thread_time() < end: pass` about 250 ns, `for _ in range(n): pass`
/// about 25). Checked only at the clock reads, every 5 µs, a holder asked
/// to drop the GIL dropped it microseconds later than CPython's, by when
/// the waiter that asked was asleep again, and the lock went to another.
const POLL_ITERS: u64 = 128;

/// One iteration: a multiply-add the optimiser cannot remove.
#[inline(always)]
fn step(x: u64) -> u64 {
    black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407))
}

/// Spins `iters` iterations.
fn spin(iters: u64) {
    let mut x = 1;
    for _ in 0..iters {
        x = step(x);
    }
    black_box(x);
}

/// Spins `iters` iterations, calling `poll` every [`POLL_ITERS`] of them.
fn spin_polling(iters: u64, poll: &mut impl FnMut()) {
    let mut left = iters;
    while left > 0 {
        let n = left.min(POLL_ITERS);
        spin(n);
        left -= n;
        poll();
    }
}

impl Spin {
    /// Measures the loop's speed and a clock read's cost: the fastest of a
    /// few short rounds, since on a shared machine a slow round means the
    /// thread was preempted, not that the loop is slower.
    pub(crate) fn calibrate() -> Spin {
        let mut best = 0.0f64;
        let mut clock_read_ns = u64::MAX;
        for _ in 0..5 {
            let iters = 200_000u64;
            let started = Instant::now();
            spin(iters);
            let ns = started.elapsed().as_nanos().max(1) as f64;
            best = best.max(iters as f64 / ns);
            let started = Instant::now();
            for _ in 0..CLOCK_READS {
                black_box(thread_cpu_ns());
            }
            clock_read_ns = clock_read_ns.min(started.elapsed().as_nanos() as u64 / CLOCK_READS);
        }
        Spin { iters_per_ns: best, clock_read_ns }
    }

    /// A speed for tests: `iters_per_ns` iterations per nanosecond, right or
    /// not, and clock reads that cost nothing.
    #[cfg(test)]
    fn assumed(iters_per_ns: f64) -> Spin {
        Spin { iters_per_ns, clock_read_ns: 0 }
    }

    fn iters(self, ns: u64) -> u64 {
        (ns as f64 * self.iters_per_ns) as u64
    }

    /// Burns `ns` nanoseconds of this thread's CPU time, calling `between`
    /// every [`POLL_ITERS`] iterations: the busy loop's eval-breaker point,
    /// where a thread holding the GIL gives it up if a waiter asked (CPython
    /// checks at every backward jump). Time spent in `between` waiting for
    /// the GIL uses no CPU, so it does not count as work done. A burn
    /// shorter than [`CHECK_EVERY_NS`] is the measured number of
    /// iterations, untimed.
    ///
    /// The clock is read once at the start and once after each stretch of
    /// [`CHECK_EVERY_NS`]: a read is a system call (about 165 ns here), and
    /// at two reads a stretch a `cpu(0.01)` used 10.7 µs of CPU. The first
    /// read's cost before its timestamp and the last one's after it are
    /// taken off the target. Each stretch's speed, read off the clock, sizes
    /// the next: the calibrated speed is the fastest round's, and sized by
    /// it the last stretch of a `cpu(0.01)` overshot by 3-6 %.
    pub(crate) fn burn(self, ns: u64, mut between: impl FnMut()) {
        if ns < CHECK_EVERY_NS {
            spin_polling(self.iters(ns), &mut between);
            return;
        }
        self.timed_burn(ns, thread_cpu_ns, |iters| spin_polling(iters, &mut between));
    }

    /// A timed burn's loop, on any clock and busy loop: the tests run it on
    /// a model of this machine's.
    fn timed_burn(self, ns: u64, mut clock: impl FnMut() -> u64, mut spin: impl FnMut(u64)) {
        let mut now = clock();
        let end = now + ns.saturating_sub(self.clock_read_ns);
        let mut iters_per_ns = self.iters_per_ns;
        loop {
            let left = end.saturating_sub(now + self.clock_read_ns);
            let iters = (CHECK_EVERY_NS.min(left) as f64 * iters_per_ns).max(1.0) as u64;
            spin(iters);
            let before = now;
            now = clock();
            // Nearer the end now than after another stretch and read.
            if now + self.clock_read_ns / 2 >= end {
                return;
            }
            // A stretch the machine interrupted (its handler's time counted
            // as this thread's) reads slow: no slower than a quarter of the
            // calibrated speed, so one interrupt does not leave the next
            // stretches tiny.
            let spun_ns = now.saturating_sub(before + self.clock_read_ns).max(1);
            if iters >= 1_000 {
                iters_per_ns = (iters as f64 / spun_ns as f64).clamp(self.iters_per_ns / 4.0, self.iters_per_ns);
            }
        }
    }
}

/// Clock reads in a round of [`Spin::calibrate`]'s measurement of their cost.
const CLOCK_READS: u64 = 100;

/// `io` and `sleep`: the thread blocks for real.
pub(crate) fn block(ns: u64) {
    std::thread::sleep(Duration::from_nanos(ns));
}

/// CPU time the calling thread has used, in nanoseconds.
pub(crate) fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is
    // supported on every platform twine builds for (Linux, the BSDs, macOS).
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPU time `burn(ns)` used on this thread, with `spin` as the speed.
    fn burned(spin: Spin, ns: u64) -> u64 {
        let before = thread_cpu_ns();
        spin.burn(ns, || {});
        thread_cpu_ns() - before
    }

    #[test]
    fn a_burn_uses_the_cpu_time_asked_for_whatever_speed_was_measured() {
        // A speed measured 4x too high or too low (a machine whose load or
        // clock changed since start-up) changes only how often the clock is read.
        for spin in [Spin::calibrate(), Spin::assumed(Spin::calibrate().iters_per_ns * 4.0), Spin::assumed(0.01)] {
            let used = burned(spin, 20_000_000);
            assert!((20_000_000..24_000_000).contains(&used), "burned {used} ns for 20 ms with {spin:?}");
        }
    }

    /// This machine's loop and clock, modelled: a clock read costs
    /// `read_ns` (its timestamp taken halfway), and the loop runs at
    /// `speed` iterations a nanosecond. Returns the CPU a `timed_burn` of
    /// `ns` used.
    fn modelled_burn(calibrated: Spin, speed: f64, read_ns: u64, ns: u64) -> u64 {
        let t = std::cell::Cell::new(0.0f64);
        let clock = || {
            t.set(t.get() + read_ns as f64 / 2.0);
            let at = t.get() as u64;
            t.set(t.get() + read_ns as f64 / 2.0);
            at
        };
        calibrated.timed_burn(ns, clock, |iters| t.set(t.get() + iters as f64 / speed));
        t.get() as u64
    }

    #[test]
    fn a_timed_burn_uses_what_it_asks_for_with_its_clock_reads_counted() {
        // Measured here: a read costs 165 ns, and the loop runs 3 % slower
        // than its fastest calibration round. The first version of this loop
        // read the clock twice a stretch, sized stretches by the calibrated
        // speed and left the reads out: 10.4-10.6 µs for 10.
        let calibrated = Spin { iters_per_ns: 1.0, clock_read_ns: 165 };
        for (speed, ns) in [(0.97, 10_000), (0.97, 20_000), (1.0, 10_000), (0.8, 10_000), (0.97, 1_000_000)] {
            let used = modelled_burn(calibrated, speed, 165, ns);
            let off = used as f64 / ns as f64 - 1.0;
            assert!(off.abs() < 0.01, "{used} ns of CPU for {ns} at {speed} iterations a ns");
        }
    }

    #[test]
    fn a_short_burn_polls_the_eval_breaker_every_hundred_or_so_iterations() {
        let mut polls = 0;
        Spin::assumed(1.0).burn(1_000, || polls += 1);
        // 1000 iterations: seven of 128 and the rest.
        assert_eq!(polls, 8);
    }

    #[test]
    fn a_long_burn_polls_the_eval_breaker_every_128_iterations() {
        let spin = Spin::calibrate();
        let mut polls = 0u64;
        spin.burn(10_000_000, || polls += 1);
        // 10 ms at the calibrated speed is this many stretches of 128
        // iterations (0.89-1.02 of it measured here, debug and release).
        // A calibration that a parallel test slowed makes the loop look
        // faster than calibrated, hence the wide bounds; polls only at the
        // clock reads, 5 µs apart, would be 0.03 of it in a release build.
        let at_calibrated = 10_000_000.0 * spin.iters_per_ns / POLL_ITERS as f64;
        let ratio = polls as f64 / at_calibrated;
        assert!((0.25..=4.0).contains(&ratio), "{polls} polls in 10 ms, {ratio:.2} of {at_calibrated:.0}");
    }
}
