//! Real work: `cpu` as a calibrated busy loop, a thread's own CPU clock.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How many spin iterations make a nanosecond of CPU on this machine.
///
/// `cpu(10)` is a fixed amount of work, not "spin until 10 ms of wall time
/// have passed": a thread that waits for a core (or is preempted) takes
/// longer in wall time, as on the simulated cores.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spin {
    iters_per_ns: f64,
}

/// How much of a `cpu` step runs between two eval-breaker points: a few
/// microseconds, about what a Python loop's backward jumps are apart.
pub(crate) const CHECK_EVERY_NS: u64 = 5_000;

/// One iteration: a multiply-add the optimiser cannot remove.
#[inline(always)]
fn step(x: u64) -> u64 {
    black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407))
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
            let mut x = 1;
            for _ in 0..iters {
                x = step(x);
            }
            black_box(x);
            let ns = started.elapsed().as_nanos().max(1) as f64;
            best = best.max(iters as f64 / ns);
        }
        Spin { iters_per_ns: best }
    }

    /// Burns `ns` nanoseconds of CPU (as measured when calibrating),
    /// calling `between` every [`CHECK_EVERY_NS`] of it: the busy loop's
    /// eval-breaker point, where a thread holding the GIL gives it up if a
    /// waiter asked (CPython checks at every backward jump).
    pub(crate) fn burn(self, ns: u64, mut between: impl FnMut()) {
        let iters = (ns as f64 * self.iters_per_ns) as u64;
        let chunk = ((CHECK_EVERY_NS as f64 * self.iters_per_ns) as u64).max(1);
        let mut x = 1;
        let mut left = iters;
        while left > 0 {
            let n = left.min(chunk);
            for _ in 0..n {
                x = step(x);
            }
            left -= n;
            if left > 0 {
                between();
            }
        }
        black_box(x);
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

    #[test]
    fn a_burn_uses_about_the_cpu_it_was_asked_for() {
        let spin = Spin::calibrate();
        let before = thread_cpu_ns();
        spin.burn(20_000_000, || {});
        let used = thread_cpu_ns() - before;
        // Calibration takes the fastest round, so the burn is never much
        // shorter; it can be longer on a busy machine (cache, frequency).
        assert!(used >= 15_000_000, "burned {used} ns for 20 ms");
    }
}
