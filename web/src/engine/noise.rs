//! The machine's noise: why two runs of one program on a real machine differ.
//!
//! Two effects, both drawn from the run's seed on a stream of their own (so
//! turning noise off leaves the clients' arrivals where they were):
//!
//! - **OS wake-up latency.** A thread whose timed wait ends (a `sleep`, an
//!   `io`, the reactor's poll timeout, a lock it was woken for) runs a little
//!   after the wait's end, never before: the kernel's timer slack and the
//!   scheduler's wake-up path cost tens of microseconds, and now and then a
//!   timer's wake-up much more. Latency is one-sided, so noise never makes
//!   a wait end early.
//! - **Timer slack.** A timed wait (a `sleep`, an `io`, the reactor's poll
//!   timeout, a GIL waiter's switch interval) ends on a kernel timer, which
//!   Linux lets fire up to 50 µs late for a normal thread (its default
//!   `timer_slack_ns`, prctl(2)) to batch wake-ups, and whose interrupt
//!   path costs more than one thread waking another: such a wake-up comes
//!   about 0.1 ms late, not tens of µs. Measured on the harness's machine
//!   (2026-12-03, python3, normal scheduling, idle sibling CPU): overshoot
//!   of `time.sleep(0.001)` p10/p50/p90 81/98/116 µs, of `time.sleep(0.02)`
//!   92/110/124, of a 5 ms `epoll.poll` timeout 94/111/131; a lock released
//!   to a blocked thread wakes it in 10/12/15 µs.
//! - **CPU speed variation.** A fixed amount of work (a counter step, a
//!   batch of Python instructions) takes its nominal time scaled by a factor
//!   within a few percent (caches, frequency scaling, a sibling
//!   hyper-thread). This is also what keeps unlocked counters on several
//!   cores from marching in lockstep. A `cpu` step is not fixed work: both
//!   real runtimes time its busy loop, so it takes the CPU time it asks for.
//! - **Interruptions.** Now and then a running thread loses its core for
//!   tens of microseconds (an interrupt's work, a kernel thread, a thread
//!   woken onto its core), about once a millisecond, more often the more
//!   threads wait for the GIL (their timed waits wake them on the
//!   holder's core). So a thread gets a few percent less done in a span
//!   of wall time than its CPU work says, which decides how many updates
//!   a GIL turn holds ([`Noise::interruptions`]).
//!
//! - **Thread start-up and exit.** Starting a thread costs CPU twice. The
//!   thread that starts it spends microseconds on a core in the spawn call
//!   (a stack mapped and protected, the clone), so threads started in a
//!   loop appear one spawn apart while the starter holds a core (see
//!   `spawner`); and the new thread spends microseconds of its own CPU (the
//!   clone's return, its stack's first pages, its thread-local set-up)
//!   before it runs its first step. So threads "started together" begin
//!   apart, and the starter's core is not the workers'. A Rust thread's
//!   exit holds its core too (its thread-locals dropped, its stack handed
//!   back, its joiner woken, the switch to the next thread): a thread
//!   waiting for that core starts that much later. What these cost
//!   depends on the runtime, [`StartCosts`]: a JSON scenario's threads are
//!   `twine run`'s, Rust's `std::thread`; a Python program's are CPython's.
//!
//! The figures are small on purpose: they are a quiet machine's, and the
//! fidelity harness (`cargo xtask fidelity`) measures how far they go.

use twine_scenario::rng::Rng;

/// The shortest wake-up latency, in nanoseconds.
const WAKE_MIN_NS: f64 = 10_000.0;
/// The mean of the usual latency above the minimum.
const WAKE_MEAN_NS: f64 = 20_000.0;
/// How often a timer's wake-up falls in the long tail. A thread woken by
/// another (a lock, a condition variable, the GIL) has no such tail: of
/// 10,000 lock hand-offs between two CPython threads on the harness's
/// machine (2026-12-06) none took over 200 µs (p99 23-33, the longest
/// 83-114), where 0.22 % of 5000 `time.sleep(0.001)` overshot by more
/// than 500 µs (the longest 3.8 ms). With the tail on every wake-up,
/// pool-saturation's twelve pool threads began their first jobs out of
/// order in 15 of 30 seeds, up to six places (a new thread's GIL wake-up
/// a millisecond late); without it, in 6 of 30, one by two places.
/// CPython's began in order in 30 of 30 runs.
const TAIL_CHANCE: f64 = 0.01;
/// The mean extra latency of a timer's wake-up in the long tail.
const TAIL_MEAN_NS: f64 = 1_000_000.0;
/// How far apart CPython's `Condition.notify_all()` releases its waiters:
/// an `Event.set()` took 47 us with one waiter, 124 with ten and 374 with
/// fifty here (CPython 3.11, 2 cores, medians of 20).
const NOTIFY_GAP_NS: u64 = 6_000;
/// How long a woken thread takes to run, by how long it was blocked: a
/// thread blocked on a condition variable while its waker computed, woken
/// on its idle CPU (a C program here, 300 wake-ups each): blocked 10-100
/// us, woken in 15-18 us at p10 and 19-26 at p90; 1 ms, 23 and 33; 3 ms,
/// 26 and 54; 10 ms, 33 and 69. Each point is (blocked ms, least ns, mean
/// ns above it) for a least plus an exponential with those p10 and p90;
/// between points the shape is interpolated, beyond them held. (The model
/// drew 10 us plus an exponential of 2 us a millisecond blocked, at least
/// 1, up to stop 49: 10.2 and 14.6 us at p10 and p90 for 1 ms, where this
/// table has 23 and 33.)
const WOKEN_AFTER: [(f64, f64, f64); 4] =
    [(0.05, 16_200.0, 2_700.0), (1.0, 22_500.0, 4_500.0), (3.0, 24_700.0, 12_700.0), (10.0, 31_300.0, 16_400.0)];
/// How late Linux may fire a normal thread's timer (`timer_slack_ns`).
const TIMER_SLACK_NS: f64 = 50_000.0;
/// What a timer's wake-up costs beyond a plain wake-up (the interrupt path).
const TIMER_EXTRA_NS: f64 = 20_000.0;
/// A thread that dropped the GIL on request goes back to its timed wait
/// late with this chance for each other waiter ([`Noise::rewait_latency`]),
/// at most [`REWAIT_LATE_MOST`], and then by [`REWAIT_LATE_NS`].
const REWAIT_LATE_PER_WAITER: f64 = 0.1;
const REWAIT_LATE_MOST: f64 = 0.3;
const REWAIT_LATE_NS: u64 = 1_400_000;
/// CPU work takes its nominal time times a factor in `1 ± CPU_SPREAD`.
const CPU_SPREAD: f64 = 0.03;
/// How often a running thread is interrupted, per ms of its CPU work: on
/// its own, and more for each thread waiting for the GIL.
const INTERRUPTS_PER_MS: f64 = 0.94;
const INTERRUPTS_PER_MS_PER_GIL_WAITER: f64 = 0.056;
/// An interruption's length: at least this, plus two exponential stages
/// of the next (a mean of 25 µs, most of them 15-40).
const INTERRUPT_MIN_NS: f64 = 8_000.0;
const INTERRUPT_STAGE_NS: f64 = 8_500.0;
/// Past this many interruptions expected in one step, the step gets their
/// expected total instead of one draw each: a long step's share of them
/// barely varies, and a step of minutes would otherwise draw thousands.
const INTERRUPTS_DRAWN_MOST: f64 = 64.0;
/// What starting and ending a thread costs in a runtime: the starter's
/// CPU in the spawn call, the new thread's own before its first step, and
/// the core an ending thread holds after its last; each a minimum plus an
/// exponential tail of the given mean, in ns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct StartCosts {
    spawn: (f64, f64),
    boot: (f64, f64),
    exit: (f64, f64),
}

impl StartCosts {
    /// `twine run`'s threads (`std::thread::Builder`, started in a loop by
    /// its main thread once the reactor thread runs), measured inside
    /// `twine run` on the harness's machine (2 CPUs, Linux 6.18, normal
    /// scheduling, quiet; 2026-12-05; counter-race, 20 runs): the spawn
    /// call's CPU p10/p50/p90 9/11/19 µs (the first of a run 37); the new
    /// thread's CPU before its first step 6/14/44 µs (the first 61); from a
    /// thread's last step to the first of the next thread on its CPU, less
    /// that one's start-up, 8/21/40 µs. Here 8 + exp(4.5): 9/11/18;
    /// 5 + exp(13): 6/14/35; 7 + exp(16): 9/18/44. With the figures every
    /// thread had before (a Rust loop's under SCHED_FIFO: spawn median 48,
    /// start-up 52 µs, no exit) the counter race's threads ran one by one
    /// where `twine run`'s overlapped.
    pub const RUST: StartCosts =
        StartCosts { spawn: (8_000.0, 4_500.0), boot: (5_000.0, 13_000.0), exit: (7_000.0, 16_000.0) };
    /// A Python program's threads (`Thread.start()`), measured on the
    /// harness's machine (2026-12-04, CPython 3.11.7, quiet): the caller's
    /// CPU in `Thread.start()` p10/p50/p90 24/29/110 µs, the new thread's
    /// before its target runs 14/19/40. Here 23 + exp(12): 24/31/51 (the
    /// long tail left out); 13 + exp(10): 14/20/36. Until 2026-12-05 every
    /// thread had a Rust loop's figures under SCHED_FIFO (spawn median 48,
    /// start-up 52); the `.py` rows of the fidelity table moved by 1 % or
    /// less with these (pool-saturation/twelve-threads 101.6 to 100.8 ms
    /// against CPython's 104.1; counter-race's threads wait at a starting
    /// gate, so its figures did not move). No exit is charged: CPython's
    /// is not measured.
    pub const CPYTHON: StartCosts =
        StartCosts { spawn: (23_000.0, 12_000.0), boot: (13_000.0, 10_000.0), exit: (0.0, 0.0) };
}

/// The seeded noise of one run; with `on` false it changes nothing.
pub(crate) struct Noise {
    on: bool,
    rng: Rng,
    costs: StartCosts,
    /// Per thread: how much more work (in expected interruptions) it does
    /// before its next interruption; negative until first drawn.
    until_interrupt: Vec<f64>,
}

/// [`WOKEN_AFTER`]'s (least, mean above it), in ns, for a thread blocked `ms`.
fn woken_shape(ms: f64) -> (f64, f64) {
    let ms = ms.clamp(WOKEN_AFTER[0].0, WOKEN_AFTER[WOKEN_AFTER.len() - 1].0);
    let (mut least, mut mean) = (WOKEN_AFTER[0].1, WOKEN_AFTER[0].2);
    for pair in WOKEN_AFTER.windows(2) {
        let ((m0, l0, s0), (m1, l1, s1)) = (pair[0], pair[1]);
        if ms >= m0 {
            let f = ((ms - m0) / (m1 - m0)).min(1.0);
            (least, mean) = (l0 + f * (l1 - l0), s0 + f * (s1 - s0));
        }
    }
    (least, mean)
}

impl Noise {
    pub fn new(seed: u64, on: bool, costs: StartCosts) -> Noise {
        // Its own stream: the arrivals and `jitter` draw from the main one.
        Noise { on, rng: Rng::new(seed ^ 0x0bad_5eed_c0ff_ee00), costs, until_interrupt: Vec::new() }
    }

    /// Whether the machine is noisy (false: every draw is zero, every factor one).
    pub fn on(&self) -> bool {
        self.on
    }

    /// How long after its wait ends a woken thread is ready to run.
    pub fn wake_latency(&mut self) -> u64 {
        if !self.on {
            return 0;
        }
        (WAKE_MIN_NS + self.rng.exponential(WAKE_MEAN_NS)).round() as u64
    }

    /// How long after an event is set its waiter `place` from the front of
    /// the line, blocked for `blocked_ns`, is ready to run. CPython's
    /// `notify_all()` releases the waiters one by one, in the order they
    /// waited, [`NOTIFY_GAP_NS`] apart; each then takes a wake-up's latency,
    /// longer and more spread the longer it was blocked (a freshly idle CPU
    /// wakes in a steady time, one idle for milliseconds less so:
    /// [`WOKEN_AFTER`]). So waiters that have just begun to wait come
    /// through mostly in their order, as in CPython, and ones that waited
    /// long are shuffled more.
    pub fn notify_latency(&mut self, place: u32, blocked_ns: u64) -> u64 {
        if !self.on {
            return 0;
        }
        let (least, mean) = woken_shape(blocked_ns as f64 / 1e6);
        let ns = least + self.rng.exponential(mean);
        u64::from(place) * NOTIFY_GAP_NS + ns.round() as u64
    }

    /// How long after its timeout a timed wait's thread is ready to run:
    /// the timer slack and the timer's own path, then a wake-up's latency,
    /// now and then a long one ([`TAIL_CHANCE`]).
    pub fn timer_latency(&mut self) -> u64 {
        if !self.on {
            return 0;
        }
        let mut ns = (TIMER_SLACK_NS + TIMER_EXTRA_NS) as u64 + self.wake_latency();
        if self.rng.next_f64() < TAIL_CHANCE {
            ns += self.rng.exponential(TAIL_MEAN_NS).round() as u64;
        }
        ns
    }

    /// How late a thread that dropped the GIL on request begins its timed
    /// wait for it again, after the thread it let in has taken it, with
    /// `others` threads waiting besides it.
    ///
    /// Usually at once; but the more threads wait, the more often it is
    /// about a scheduler slice late (1.4 ms, then a wake-up's latency):
    /// with one other waiter in 10 % of switches, with three or more in
    /// 27-30 %. Measured in `twine run`, whose GIL is CPython's protocol on
    /// the C library's condition variables (2026-12-06, 2 CPUs, every take
    /// and timed wait logged, counter-race's ten threads): in 18 % of forced
    /// switches the switched-out thread began its wait 0.4-1.4 ms after the
    /// switch, most of them (p50-p90) at 1.40-1.41 ms, a slice; otherwise
    /// in 12-40 µs. It is the thread that asks first when it waits at once,
    /// so the switch after a late one comes late: a turn of 6-7 ms, not
    /// 5.1. The share of turns over 5.2 ms grows with the threads, in both
    /// real GILs (threads computing 100 ms each in short steps): with 2, 3,
    /// 5 and 10 threads, CPython 7, 19, 27 and 34 %, `twine run` 2, 10, 24
    /// and 30 %. The model gives 4, 15, 28 and 30 % for the Python program;
    /// its ten threads come back after one other thread's turn in 48 % of
    /// their returns, as CPython's (48 %). Why the thread is late is not
    /// measured: its wake-up queued behind a running thread, we believe.
    pub fn rewait_latency(&mut self, others: usize) -> u64 {
        if !self.on {
            return 0;
        }
        let chance = (1.0 - (1.0 - REWAIT_LATE_PER_WAITER).powi(others.min(64) as i32)).min(REWAIT_LATE_MOST);
        if self.rng.next_f64() >= chance {
            return 0;
        }
        REWAIT_LATE_NS + self.wake_latency()
    }

    /// The starting thread's CPU time for one spawn call. Zero with noise off.
    pub fn spawn_cost(&mut self) -> u64 {
        self.start_cost(self.costs.spawn)
    }

    /// A new thread's own CPU time before its first step. Zero with noise off.
    pub fn thread_boot(&mut self) -> u64 {
        self.start_cost(self.costs.boot)
    }

    /// How long an ending thread holds its core after its last step. Zero
    /// with noise off, and in a runtime that charges none (no draw then).
    pub fn thread_exit(&mut self) -> u64 {
        self.start_cost(self.costs.exit)
    }

    fn start_cost(&mut self, (min, mean): (f64, f64)) -> u64 {
        if !self.on || (min, mean) == (0.0, 0.0) {
            return 0;
        }
        (min + self.rng.exponential(mean)).round() as u64
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

    /// How long thread `tid` is off its core during `ns` of its CPU work,
    /// with `gil_waiters` threads waiting for the GIL meanwhile: the step
    /// takes that much longer, and none of it is the thread's CPU time.
    ///
    /// Interruptions come as a Poisson process in the thread's CPU time,
    /// so a step of 1 µs is rarely interrupted and one of 10 ms about ten
    /// times, and the thread's next step continues its count. Measured
    /// with CPython 3.11 on the harness's machine (2026-12-06, 2 CPUs;
    /// counter-race's read-then-write loop in ten threads, each iteration's
    /// start logged, 400 runs): within a GIL turn, 1.06 % of the 11.3 µs
    /// iterations took over 18 µs with one or two threads left, 1.26 % with
    /// three to six and 1.53 % with seven to ten; those averaged 36 µs, and
    /// the iterations took 2.6, 2.9 and 3.9 % longer on average than their
    /// median. Without them, a turn of the model's held 460 updates where
    /// CPython's held 440, its runs took 112 ms against 120, and, with 7 %
    /// fewer turns, it lost no update in 23 % of runs against CPython's 21 %.
    pub fn interruptions(&mut self, tid: u32, ns: u64, gil_waiters: usize) -> u64 {
        if !self.on || ns == 0 {
            return 0;
        }
        let rate = (INTERRUPTS_PER_MS + INTERRUPTS_PER_MS_PER_GIL_WAITER * gil_waiters as f64) / 1e6;
        let mut work = ns as f64 * rate;
        let i = tid as usize;
        if self.until_interrupt.len() <= i {
            self.until_interrupt.resize(i + 1, -1.0);
        }
        let mut until = self.until_interrupt[i];
        if until < 0.0 {
            until = self.rng.exponential(1.0);
        }
        let mut off = 0.0;
        while work >= until {
            work -= until;
            off += self.interruption();
            if work > INTERRUPTS_DRAWN_MOST {
                off += work * (INTERRUPT_MIN_NS + 2.0 * INTERRUPT_STAGE_NS);
                work = 0.0;
            }
            until = self.rng.exponential(1.0);
        }
        self.until_interrupt[i] = until - work;
        off.round() as u64
    }

    fn interruption(&mut self) -> f64 {
        INTERRUPT_MIN_NS + self.rng.exponential(INTERRUPT_STAGE_NS) + self.rng.exponential(INTERRUPT_STAGE_NS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_one_sided_and_mostly_tens_of_microseconds_with_a_long_tail_for_timers() {
        let mut noise = Noise::new(5, true, StartCosts::RUST);
        let draws: Vec<u64> = (0..10_000).map(|_| noise.wake_latency()).collect();
        assert!(draws.iter().all(|&ns| ns >= WAKE_MIN_NS as u64));
        let mut sorted = draws.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        assert!((20_000..40_000).contains(&median), "median {median} ns");
        assert!(sorted[sorted.len() - 1] < 300_000, "no long tail: max {} ns", sorted[sorted.len() - 1]);
        let timers: Vec<u64> = (0..10_000).map(|_| noise.timer_latency()).collect();
        let long = timers.iter().filter(|&&ns| ns > 600_000).count();
        assert!((20..150).contains(&long), "a timer's long tail: {long} of 10,000 over 0.6 ms");
    }

    /// How often five waiters of one event, woken in line, are ready in
    /// the order they waited, having waited `blocked_ns` (of 1000 sets).
    fn lines_in_order(blocked_ns: u64) -> usize {
        let mut noise = Noise::new(5, true, StartCosts::CPYTHON);
        (0..1000)
            .filter(|_| {
                let ready: Vec<u64> = (0..5).map(|place| noise.notify_latency(place, blocked_ns)).collect();
                ready.windows(2).all(|w| w[0] < w[1])
            })
            .count()
    }

    /// The first waiter's wake-up, blocked `ms`: its p10 and p90 in us.
    fn woken_p10_p90(ms: f64) -> (f64, f64) {
        let mut noise = Noise::new(3, true, StartCosts::CPYTHON);
        let mut draws: Vec<u64> = (0..10_000).map(|_| noise.notify_latency(0, (ms * 1e6) as u64)).collect();
        draws.sort_unstable();
        (draws[1000] as f64 / 1e3, draws[9000] as f64 / 1e3)
    }

    #[test]
    fn a_woken_thread_takes_as_long_as_one_blocked_as_long_took_here() {
        // Measured (p10, p90): 10-100 us blocked, 15-18 and 19-26; 1 ms, 23 and 33; 3 ms, 26 and 54; 10 ms, 33 and 69.
        for (ms, p10, p90) in [(0.05, 16.5, 22.5), (1.0, 23.0, 33.0), (3.0, 26.0, 54.0), (10.0, 33.0, 69.0)] {
            let (got10, got90) = woken_p10_p90(ms);
            assert!((got10 - p10).abs() < 1.5, "blocked {ms} ms: p10 {got10:.1} us, measured {p10}");
            assert!((got90 - p90).abs() < 0.1 * p90, "blocked {ms} ms: p90 {got90:.1} us, measured {p90}");
        }
        let (short, long) = (woken_p10_p90(0.5), woken_p10_p90(2.0));
        assert!(
            short.0 > 16.5 && short.0 < 23.0 && long.1 > 33.0 && long.1 < 54.0,
            "between the points: {short:?} {long:?}"
        );
    }

    #[test]
    fn an_events_waiters_wake_in_line_the_more_so_the_shorter_they_waited() {
        let (brief, long) = (lines_in_order(200_000), lines_in_order(50_000_000));
        assert!(brief > 650, "blocked 0.2 ms: in order {brief} of 1000");
        assert!(long < brief - 300, "blocked 50 ms: in order {long} of 1000");
        let mut quiet = Noise::new(5, false, StartCosts::CPYTHON);
        assert_eq!(quiet.notify_latency(3, 50_000_000), 0, "no noise, no latency");
    }

    #[test]
    fn a_timed_wait_ends_about_a_tenth_of_a_millisecond_late() {
        let mut noise = Noise::new(5, true, StartCosts::RUST);
        let mut draws: Vec<u64> = (0..10_000).map(|_| noise.timer_latency()).collect();
        draws.sort_unstable();
        let (p10, p50, p90) = (draws[1000], draws[5000], draws[9000]);
        // The machine's sleeps: 81-94 / 98-111 / 116-131 µs (module docs).
        assert!(draws[0] >= 80_000, "never sooner than the slack and the timer's path");
        assert!((80_000..95_000).contains(&p10), "p10 {p10}");
        assert!((90_000..105_000).contains(&p50), "p50 {p50}");
        assert!((110_000..135_000).contains(&p90), "p90 {p90}");
    }

    #[test]
    fn cpu_speed_stays_within_a_few_percent() {
        let mut noise = Noise::new(5, true, StartCosts::RUST);
        let draws: Vec<u64> = (0..1000).map(|_| noise.cpu(1_000_000)).collect();
        assert!(draws.iter().all(|ns| (970_000..=1_030_000).contains(ns)));
        assert!(draws.iter().any(|&ns| ns != draws[0]), "it varies");
    }

    #[test]
    fn off_changes_nothing() {
        let mut noise = Noise::new(5, false, StartCosts::RUST);
        assert_eq!(noise.wake_latency(), 0);
        assert_eq!(noise.timer_latency(), 0);
        assert_eq!(noise.cpu(50), 50);
        assert_eq!(noise.spawn_cost(), 0);
        assert_eq!(noise.thread_boot(), 0);
        assert_eq!(noise.thread_exit(), 0);
        assert_eq!(noise.interruptions(0, 10_000_000, 9), 0);
    }

    /// Ten threads' 11 µs iterations, interleaved as GIL turns would not
    /// matter: each thread's count carries over from step to step.
    fn iterations(noise: &mut Noise, waiters: usize) -> Vec<u64> {
        (0..200_000).map(|i| 11_000 + noise.interruptions(i % 10, 11_000, waiters)).collect()
    }

    #[test]
    fn a_running_thread_loses_its_core_about_once_a_millisecond_as_cpythons_did() {
        let mut noise = Noise::new(5, true, StartCosts::CPYTHON);
        for (waiters, slow_share, extra) in [(0, 0.0106, 0.026), (8, 0.0153, 0.039)] {
            let its = iterations(&mut noise, waiters);
            let slow: Vec<u64> = its.iter().copied().filter(|&ns| ns > 18_000).collect();
            let share = slow.len() as f64 / its.len() as f64;
            assert!((share - slow_share).abs() < 0.15 * slow_share, "{waiters} waiting: {share} over 18 µs");
            let mean_slow = slow.iter().sum::<u64>() as f64 / slow.len() as f64;
            assert!((32_000.0..40_000.0).contains(&mean_slow), "those took {mean_slow} ns");
            let longer = its.iter().sum::<u64>() as f64 / (11_000.0 * its.len() as f64) - 1.0;
            // CPython's figure also holds its small delays, which the
            // speed variation stands for here.
            assert!(longer < extra && longer > extra - 0.01, "{waiters} waiting: {longer} longer");
        }
    }

    #[test]
    fn a_long_step_is_interrupted_as_often_as_the_short_ones_that_add_up_to_it() {
        let mut noise = Noise::new(9, true, StartCosts::RUST);
        let short: u64 = (0..100_000).map(|_| noise.interruptions(1, 10_000, 0)).sum();
        let long: u64 = (0..10).map(|_| noise.interruptions(2, 100_000_000, 0)).sum();
        let (short, long) = (short as f64, long as f64);
        // A second of work: 940 interruptions of 25 µs.
        assert!((short / 23.5e6 - 1.0).abs() < 0.1, "short steps: {short} ns off");
        assert!((long / 23.5e6 - 1.0).abs() < 0.05, "long steps: {long} ns off");
        assert_eq!(noise.interruptions(3, 0, 9), 0, "no work, no interruption");
    }

    /// The medians are the measured ones (`StartCosts`' docs), within a few µs.
    #[test]
    fn starting_and_ending_a_thread_cost_what_the_runtime_measured() {
        type Draw = fn(&mut Noise) -> u64;
        let (spawn, boot, exit): (Draw, Draw, Draw) = (Noise::spawn_cost, Noise::thread_boot, Noise::thread_exit);
        for (costs, draws) in [
            (
                StartCosts::RUST,
                [(spawn, 8_000, 9_000..13_000), (boot, 5_000, 12_000..16_000), (exit, 7_000, 16_000..21_000)],
            ),
            (StartCosts::CPYTHON, [(spawn, 23_000, 28_000..35_000), (boot, 13_000, 17_000..23_000), (exit, 0, 0..1)]),
        ] {
            let mut noise = Noise::new(5, true, costs);
            for (draw, min, median_range) in draws {
                let mut ns: Vec<u64> = (0..10_000).map(|_| draw(&mut noise)).collect();
                assert!(ns.iter().all(|&ns| ns >= min), "{costs:?}");
                ns.sort_unstable();
                let median = ns[ns.len() / 2];
                assert!(median_range.contains(&median), "{costs:?}: median {median} ns");
            }
        }
    }
}
