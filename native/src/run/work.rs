//! Real work: `cpu` burns the thread's own time on a core, a busy loop kept
//! calibrated as it runs.

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The busy loop's speed on this machine: how many spin iterations make a
/// nanosecond of CPU, measured at start-up and kept current by each thread.
///
/// `cpu(10)` is 10 ms of the thread's work on a core, not "spin until 10 ms
/// of wall time have passed": a thread that waits for a core, is preempted
/// or waits for the GIL takes longer in wall time, as on the simulated
/// cores. A burn spins the iterations that make its time at the thread's
/// current speed, in stretches of [`STRETCH_NS`]; the wall time of each
/// stretch, read from the monotonic clock, updates the speed (a moving
/// average, leaving out the stretches the thread did not run through:
/// preempted, or switched out at an eval-breaker point). So a machine whose
/// speed or load changes during a run still gets the work asked for.
///
/// The clock is read in user space (the vDSO), never with a system call: a
/// system call is where the kernel hands a core to a thread woken onto it,
/// and where the holder of the GIL loses its core decides where the switch
/// that waiter asks for lands. Burns timed by the thread's CPU clock
/// (`CLOCK_THREAD_CPUTIME_ID`, a system call, read at a step's start and
/// every 5 µs) put those switches at the long steps' reads. In
/// counter-race's loop (read, `cpu(0.001)`, write, `cpu(0.01)`: 9 % of its
/// time between the read and the write), a third of the forced switches
/// came from a waiter woken onto the holder's core, and 3 % of those landed
/// between the read and the write (8 of 253); of all of them 7.0 % (200
/// runs). Read from the vDSO: 7.9 % and 10.0 % (300 runs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spin {
    iters_per_ns: f64,
}

/// The part of a `cpu` step between two reads of the clock.
const STRETCH_NS: u64 = 1_000;

/// A burn shorter than this is not timed: its two clock reads (some 40 ns)
/// would be a good part of it, a counter step's 50 ns or a `cpu(0.001)`.
/// It spins at the thread's speed, which its longer burns keep current.
const UNTIMED_NS: u64 = 2_000;

/// A thread's loop speed, iterations a nanosecond: a moving average of its
/// timed stretches, leaving out those the thread lost its core in.
///
/// A stretch of 1000 iterations here takes 971 ns at p10, 981 at the
/// median, 1011 at p90, 1082 at p99 (timer interrupts and the like, which a
/// real thread pays too) and 5 µs or more one time in a thousand (the
/// thread was preempted, which is not work). With this average a burn of
/// 1 µs uses 1.01-1.04 µs of CPU here, 10 µs 10.2-10.4, 100 µs 100.9-101.2
/// (three rounds of 1000); taking the fastest of the last eight stretches
/// instead, 10 µs used 10.3 and 100 µs 101.8.
#[derive(Clone, Copy, Debug)]
struct Speed {
    /// 0 until the thread's first timed stretch: the start-up figure stands.
    iters_per_ns: f64,
    /// Stretches left out in a row: after [`SLOW_RUN`] of them the machine
    /// slowed down, and they count.
    slow_run: u32,
}

/// A stretch this much slower than the thread's speed does not count
/// towards it, unless [`SLOW_RUN`] in a row are (the machine slowed down).
const SLOW: f64 = 0.9;
const SLOW_RUN: u32 = 8;

/// A stretch that took this much longer than its work is one the thread
/// lost its core in (preempted, or switched out at an eval-breaker point):
/// a woken thread that takes the core runs 10-30 µs here, a timer
/// interrupt 1-5.
const PREEMPTED_NS: f64 = 8_000.0;

impl Speed {
    const UNMEASURED: Speed = Speed { iters_per_ns: 0.0, slow_run: 0 };

    fn get(&self, start_up: f64) -> f64 {
        if self.iters_per_ns > 0.0 {
            self.iters_per_ns
        } else {
            start_up
        }
    }

    fn saw(&mut self, iters_per_ns: f64) {
        if self.iters_per_ns == 0.0 {
            self.iters_per_ns = iters_per_ns;
        } else if iters_per_ns > self.iters_per_ns * SLOW || self.slow_run >= SLOW_RUN {
            self.iters_per_ns += (iters_per_ns - self.iters_per_ns) / 8.0;
            self.slow_run = 0;
        } else {
            self.slow_run += 1;
        }
    }
}

/// Iterations of the busy loop between two eval-breaker points: about
/// 100 ns, as far apart as a tight Python loop's backward jumps (`while
/// time.thread_time() < end: pass` about 250 ns, `for _ in range(n): pass`
/// about 25). When the loop looked only at its clock reads, 5 µs apart (an
/// earlier design), a holder asked to drop the GIL dropped it microseconds
/// later than CPython's, by when the waiter that asked was asleep again,
/// and the lock went to another.
const POLL_ITERS: u64 = 128;

thread_local! {
    /// This thread's loop speed.
    static SPEED: Cell<Speed> = const { Cell::new(Speed::UNMEASURED) };
}

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
    /// Measures the loop's speed: the median of a few short rounds of the
    /// loop a burn runs (polling included: the bare loop, compiled without
    /// its polls, ran 13 % slower here), so one round the machine
    /// interrupted does not count. Each thread keeps it current as it burns.
    pub(crate) fn calibrate() -> Spin {
        const ROUNDS: usize = 5;
        let iters = 200_000u64;
        let mut speeds = [0.0f64; ROUNDS];
        for speed in &mut speeds {
            let started = Instant::now();
            spin_polling(iters, &mut || {});
            *speed = iters as f64 / started.elapsed().as_nanos().max(1) as f64;
        }
        speeds.sort_by(f64::total_cmp);
        Spin { iters_per_ns: speeds[ROUNDS / 2] }
    }

    /// A speed for tests: `iters_per_ns` iterations per nanosecond, right or not.
    #[cfg(test)]
    fn assumed(iters_per_ns: f64) -> Spin {
        Spin { iters_per_ns }
    }

    /// Burns `ns` nanoseconds of this thread's work on a core, calling
    /// `between` every [`POLL_ITERS`] iterations: the busy loop's
    /// eval-breaker point, where a thread holding the GIL gives it up if a
    /// waiter asked (CPython checks at every backward jump). Time spent in
    /// `between` waiting for the GIL is not work: the stretch it falls in
    /// reads slow and does not count towards the speed.
    pub(crate) fn burn(self, ns: u64, mut between: impl FnMut()) {
        if ns < UNTIMED_NS {
            // A counter step's spin: no more bookkeeping than it must have
            // (a debug build's would otherwise outgrow a 200 ns step).
            let speed = SPEED.with(|s| s.get().get(self.iters_per_ns));
            spin_polling((ns as f64 * speed).round() as u64, &mut between);
            return;
        }
        let mut speed = SPEED.get();
        burn_on(ns, self.iters_per_ns, &mut speed, monotonic_ns, |iters| spin_polling(iters, &mut between));
        SPEED.set(speed);
    }
}

/// A timed burn's loop, on any clock and busy loop (the tests run it on a
/// model of this machine's): spins `ns` worth of iterations at the thread's
/// `speed` (`start_up` before it has one), measuring it again each stretch.
fn burn_on(ns: u64, start_up: f64, speed: &mut Speed, mut clock: impl FnMut() -> u64, mut spin: impl FnMut(u64)) {
    let mut left = ns as f64;
    let mut now = clock();
    while left > 0.0 {
        let s = speed.get(start_up);
        let iters = (left.min(STRETCH_NS as f64) * s).round() as u64;
        if iters == 0 {
            return;
        }
        spin(iters);
        let before = now;
        now = clock();
        let wall = now.saturating_sub(before).max(1) as f64;
        speed.saw(iters as f64 / wall);
        // A stretch the thread ran through counts at its wall time, an
        // interrupt's few microseconds included (as the thread's CPU clock
        // counts them, and CPython's `time.thread_time`); one it lost its
        // core in counts at the work it did.
        let work = iters as f64 / s;
        left -= if wall <= work + PREEMPTED_NS { wall } else { work };
    }
}

/// `io` and `sleep`: the thread blocks for real.
pub(crate) fn block(ns: u64) {
    std::thread::sleep(Duration::from_nanos(ns));
}

/// The monotonic clock, in nanoseconds: read in user space (the vDSO), so
/// not a point where the kernel can take the core away.
fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// CPU time the calling thread has used, in nanoseconds.
pub(crate) fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; both clocks twine reads
    // are supported on every platform it builds for (Linux, the BSDs, macOS).
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPU time `burn(ns)` used on a thread that had not burned before,
    /// with `spin` as the speed measured at start-up.
    fn burned(spin: Spin, ns: u64) -> u64 {
        SPEED.set(Speed::UNMEASURED);
        let before = thread_cpu_ns();
        spin.burn(ns, || {});
        thread_cpu_ns() - before
    }

    #[test]
    fn a_burn_uses_the_cpu_time_asked_for_whatever_speed_was_measured() {
        // A speed measured 4x too high or 100x too low (a machine whose load
        // or clock changed since start-up) is put right by the first stretches.
        for spin in [Spin::calibrate(), Spin::assumed(Spin::calibrate().iters_per_ns * 4.0), Spin::assumed(0.01)] {
            let used = burned(spin, 20_000_000);
            assert!((19_400_000..21_000_000).contains(&used), "burned {used} ns for 20 ms with {spin:?}");
        }
    }

    /// A burn of `ns` on a model of a machine: the loop runs `speed`
    /// iterations a nanosecond, a clock read costs `read_ns`, and every
    /// `every`-th stretch is held up `held_ns`: an interrupt when short (the
    /// thread's CPU time, as its CPU clock counts it), the core lost when
    /// longer (not its CPU time). Returns the CPU time used and the thread's
    /// speed after.
    fn modelled_burn(start_speed: f64, speed: f64, read_ns: u64, every: u64, held_ns: f64, ns: u64) -> (f64, f64) {
        let t = Cell::new(0.0f64);
        let cpu = Cell::new(0.0f64);
        let stretches = Cell::new(0u64);
        let clock = || {
            t.set(t.get() + read_ns as f64);
            cpu.set(cpu.get() + read_ns as f64);
            t.get() as u64
        };
        let mut thread_speed = Speed::UNMEASURED;
        burn_on(ns, start_speed, &mut thread_speed, clock, |iters| {
            stretches.set(stretches.get() + 1);
            let held = if stretches.get() % every == 0 { held_ns } else { 0.0 };
            let interrupt = if held < PREEMPTED_NS { held } else { 0.0 };
            cpu.set(cpu.get() + iters as f64 / speed + interrupt);
            t.set(t.get() + iters as f64 / speed + held);
        });
        (cpu.get(), thread_speed.get(start_speed))
    }

    #[test]
    fn a_burn_uses_the_cpu_time_asked_for_at_the_speed_the_loop_shows_not_the_one_measured_at_start_up() {
        // Measured here: the loop runs a few per cent off its start-up
        // figure, and a clock read costs about 20 ns. A stretch the thread
        // lost its core in (20 µs) reads slow, and must neither slow the
        // speed down nor count as CPU time; an interrupt (3 µs) is the
        // thread's CPU time. A start-up figure far off (twice or a hundred
        // times) costs the first stretch or two: nothing much in a millisecond.
        for (start, speed, every, held, ns) in [
            (1.0, 0.97, 7, 20_000.0, 10_000),
            (1.0, 1.2, 3, 20_000.0, 10_000),
            (1.0, 0.97, 7, 3_000.0, 10_000),
            (1.0, 0.97, 7, 20_000.0, 1_000_000),
            (1.0, 1.2, 3, 20_000.0, 1_000_000),
            (1.0, 1.0, 5, 3_000.0, 1_000_000),
            (1.0, 0.5, 1_000, 20_000.0, 1_000_000),
            (0.01, 1.0, 5, 20_000.0, 1_000_000),
        ] {
            let (cpu, after) = modelled_burn(start, speed, 20, every, held, ns);
            let off = cpu / ns as f64 - 1.0;
            assert!(
                off.abs() < 0.03,
                "{cpu:.0} ns of CPU for {ns} at {speed} iterations a ns, measured {start}, held {held} every {every}"
            );
            assert!((after / speed - 1.0).abs() < 0.05, "the thread's speed ended at {after:.3} for {speed}");
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
        // iterations. A calibration that a parallel test slowed makes the
        // loop look faster than calibrated, hence the wide bounds.
        let at_calibrated = 10_000_000.0 * spin.iters_per_ns / POLL_ITERS as f64;
        let ratio = polls as f64 / at_calibrated;
        assert!((0.25..=4.0).contains(&ratio), "{polls} polls in 10 ms, {ratio:.2} of {at_calibrated:.0}");
    }
}
