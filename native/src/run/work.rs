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
}

/// How much of a `cpu` step runs between two reads of the thread's CPU
/// clock, each an eval-breaker point: a few microseconds, about what a
/// Python loop's backward jumps are apart.
pub(crate) const CHECK_EVERY_NS: u64 = 5_000;

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

impl Spin {
    /// Measures the loop's speed: the fastest of a few short rounds, since
    /// on a shared machine a slow round means the thread was preempted, not
    /// that the loop is slower.
    pub(crate) fn calibrate() -> Spin {
        let mut best = 0.0f64;
        for _ in 0..5 {
            let iters = 200_000u64;
            let started = Instant::now();
            spin(iters);
            let ns = started.elapsed().as_nanos().max(1) as f64;
            best = best.max(iters as f64 / ns);
        }
        Spin { iters_per_ns: best }
    }

    /// A speed for tests: `iters_per_ns` iterations per nanosecond, right or not.
    #[cfg(test)]
    fn assumed(iters_per_ns: f64) -> Spin {
        Spin { iters_per_ns }
    }

    fn iters(self, ns: u64) -> u64 {
        (ns as f64 * self.iters_per_ns) as u64
    }

    /// Burns `ns` nanoseconds of this thread's CPU time, calling `between`
    /// about every [`CHECK_EVERY_NS`] of it: the busy loop's eval-breaker
    /// point, where a thread holding the GIL gives it up if a waiter asked
    /// (CPython checks at every backward jump). Time spent in `between`
    /// waiting for the GIL uses no CPU, so it does not count as work done.
    /// A burn shorter than [`CHECK_EVERY_NS`] is the measured number of
    /// iterations, untimed.
    pub(crate) fn burn(self, ns: u64, mut between: impl FnMut()) {
        if ns < CHECK_EVERY_NS {
            spin(self.iters(ns));
            return;
        }
        let end = thread_cpu_ns() + ns;
        let chunk = self.iters(CHECK_EVERY_NS).max(1);
        loop {
            let now = thread_cpu_ns();
            if now >= end {
                return;
            }
            // The last stretch no longer than what is left, so the overshoot
            // is about one clock read, not one stretch.
            spin(chunk.min(self.iters(end - now)).max(1));
            if thread_cpu_ns() >= end {
                return;
            }
            between();
        }
    }
}

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

    #[test]
    fn between_runs_every_few_microseconds_of_work() {
        let spin = Spin::calibrate();
        let mut checks = 0u64;
        spin.burn(10_000_000, || checks += 1);
        // 10 ms in stretches of about 5 µs: some 2,000 checks (fewer when
        // the clock reads take a share, more when start-up measured the
        // loop slow on a loaded machine): between 2 and 20 µs apart.
        assert!((500..=5_000).contains(&checks), "{checks} eval-breaker points in 10 ms");
    }
}
