//! The machine's noise: why two runs of one program on a real machine differ.
//!
//! Two effects, both drawn from the run's seed on a stream of their own (so
//! turning noise off leaves the clients' arrivals where they were):
//!
//! - **OS wake-up latency.** A thread whose timed wait ends (a `sleep`, an
//!   `io`, the reactor's poll timeout, a lock it was woken for) runs a little
//!   after the wait's end, never before: the kernel's timer slack and the
//!   scheduler's wake-up path cost tens of microseconds, and now and then
//!   (another process on the core, an interrupt) much more. Latency is
//!   one-sided, so noise never makes a wait end early.
//! - **CPU speed variation.** Every timed CPU step (`cpu`, a counter step, a
//!   batch of Python instructions) takes its nominal time scaled by a factor
//!   within a few percent (caches, frequency scaling, a sibling
//!   hyper-thread). This is also what keeps unlocked counters on several
//!   cores from marching in lockstep.
//!
//! - **Thread start-up.** A new OS thread first runs some tens of
//!   microseconds after its spawn call began (the call maps a stack and
//!   clones; then the scheduler must get the new thread onto a core), and
//!   threads started one after another in a loop first run in that order,
//!   tens of microseconds apart. So threads "started together" begin
//!   apart: ten threads with a few microseconds of work each never overlap.
//!
//! The figures are small on purpose: they are a quiet machine's, and the
//! fidelity harness (`cargo xtask fidelity`) measures how far they go. The
//! thread start-up figures were measured on the machine the harness ran on
//! (2 cores, Linux; ten threads spawned in a loop, 3,000 spawns, three
//! rounds): the spawn call took 10-11 µs at least and 18-21 µs at the
//! median; a thread first ran 23-27 µs after its spawn call began at least
//! (43-52 µs at the tenth percentile), and 44-62 µs after the thread
//! spawned before it (median). The slower part of those distributions
//! (medians of 160-380 µs from the call, a mode near 3.7 ms) was the load
//! of other builds on the same two cores, which a model of a quiet machine
//! leaves out.

use twine_scenario::rng::Rng;

/// The shortest wake-up latency, in nanoseconds.
const WAKE_MIN_NS: f64 = 10_000.0;
/// The mean of the usual latency above the minimum.
const WAKE_MEAN_NS: f64 = 20_000.0;
/// How often a wake-up falls in the long tail.
const TAIL_CHANCE: f64 = 0.01;
/// The mean extra latency of a wake-up in the long tail.
const TAIL_MEAN_NS: f64 = 1_000_000.0;
/// CPU work takes its nominal time times a factor in `1 ± CPU_SPREAD`.
const CPU_SPREAD: f64 = 0.03;
/// The soonest a thread started right after another (or first) runs
/// after that one did (or after the spawn call began).
const START_GAP_MIN_NS: f64 = 23_000.0;
/// The mean of that gap above the minimum.
const START_GAP_MEAN_NS: f64 = 20_000.0;

/// The seeded noise of one run; with `on` false it changes nothing.
pub(crate) struct Noise {
    on: bool,
    rng: Rng,
}

impl Noise {
    pub fn new(seed: u64, on: bool) -> Noise {
        // Its own stream: the arrivals and `jitter` draw from the main one.
        Noise { on, rng: Rng::new(seed ^ 0x0bad_5eed_c0ff_ee00) }
    }

    /// How long after its wait ends a woken thread is ready to run.
    pub fn wake_latency(&mut self) -> u64 {
        if !self.on {
            return 0;
        }
        let mut ns = WAKE_MIN_NS + self.rng.exponential(WAKE_MEAN_NS);
        if self.rng.next_f64() < TAIL_CHANCE {
            ns += self.rng.exponential(TAIL_MEAN_NS);
        }
        ns.round() as u64
    }

    /// Starting threads one after another: how long after the previous
    /// one first ran (or, for the first, after its spawn call began) the
    /// next first runs. Zero with noise off.
    pub fn thread_start(&mut self) -> u64 {
        if !self.on {
            return 0;
        }
        let mut ns = START_GAP_MIN_NS + self.rng.exponential(START_GAP_MEAN_NS);
        if self.rng.next_f64() < TAIL_CHANCE {
            ns += self.rng.exponential(TAIL_MEAN_NS);
        }
        ns.round() as u64
    }

    /// `ns` of nominal CPU work at this moment's speed (at least 1 ns when
    /// `ns` is not zero, so a step never becomes free).
    pub fn cpu(&mut self, ns: u64) -> u64 {
        if !self.on || ns == 0 {
            return ns;
        }
        let factor = 1.0 + CPU_SPREAD * (2.0 * self.rng.next_f64() - 1.0);
        ((ns as f64 * factor).round() as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_one_sided_and_mostly_tens_of_microseconds() {
        let mut noise = Noise::new(5, true);
        let draws: Vec<u64> = (0..10_000).map(|_| noise.wake_latency()).collect();
        assert!(draws.iter().all(|&ns| ns >= WAKE_MIN_NS as u64));
        let mut sorted = draws.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        assert!((20_000..40_000).contains(&median), "median {median} ns");
        assert!(sorted[sorted.len() - 1] > 500_000, "a long tail: max {} ns", sorted[sorted.len() - 1]);
    }

    #[test]
    fn cpu_speed_stays_within_a_few_percent() {
        let mut noise = Noise::new(5, true);
        let draws: Vec<u64> = (0..1000).map(|_| noise.cpu(1_000_000)).collect();
        assert!(draws.iter().all(|ns| (970_000..=1_030_000).contains(ns)));
        assert!(draws.iter().any(|&ns| ns != draws[0]), "it varies");
    }

    #[test]
    fn off_changes_nothing() {
        let mut noise = Noise::new(5, false);
        assert_eq!(noise.wake_latency(), 0);
        assert_eq!(noise.cpu(50), 50);
        assert_eq!(noise.thread_start(), 0);
    }

    #[test]
    fn threads_started_one_after_another_run_tens_of_microseconds_apart() {
        let mut noise = Noise::new(5, true);
        let mut gaps: Vec<u64> = (0..10_000).map(|_| noise.thread_start()).collect();
        assert!(gaps.iter().all(|&ns| ns >= 23_000));
        gaps.sort_unstable();
        let median = gaps[gaps.len() / 2];
        assert!((30_000..50_000).contains(&median), "median {median} ns");
    }
}
