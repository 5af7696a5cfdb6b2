//! What a run measured, simulated (`twine-sim`, the playground) or real
//! (`twine run`): request latency and throughput, reactor loop lag, pool
//! queue depth, core utilization, GIL hold and wait, lock wait, lost counter
//! updates, and the program's printed output. One set of types, so the two
//! print the same JSON and can be diffed.
//!
//! Times are milliseconds (`*_ms`). Series are `[t_ms, value]` pairs, at
//! most [`SERIES_POINTS`] of them (the largest value in each time bucket).
//! Everything is computed from the run alone, so the same scenario and seed
//! serialize to the same bytes.

use serde::Serialize;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The reactor stopped and everything else finished.
    Stopped,
    /// Nothing was left to happen.
    Quiet,
    /// Threads wait for locks that will never be released.
    Deadlock,
    /// The scenario's `duration_ms` was reached.
    Duration,
    /// The scenario's `max_events` was reached.
    EventLimit,
    /// A Python program raised an exception it did not catch.
    Error,
}

impl EndReason {
    /// Its name, as the metrics' JSON writes it.
    ///
    /// ```
    /// use twine_scenario::metrics::EndReason;
    ///
    /// assert_eq!(EndReason::EventLimit.as_str(), "event_limit");
    /// use EndReason::*;
    /// for reason in [Stopped, Quiet, Deadlock, Duration, EventLimit, Error] {
    ///     assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
    /// }
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Stopped => "stopped",
            EndReason::Quiet => "quiet",
            EndReason::Deadlock => "deadlock",
            EndReason::Duration => "duration",
            EndReason::EventLimit => "event_limit",
            EndReason::Error => "error",
        }
    }
}

/// The most points a series keeps.
pub const SERIES_POINTS: usize = 400;

/// A run's measurements. See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// The scenario's name, if it has one.
    pub scenario: Option<String>,
    /// The seed used.
    pub seed: u64,
    /// Why the run ended; `None` while it is still going.
    pub end_reason: Option<EndReason>,
    /// The virtual time reached.
    pub time_ms: f64,
    /// Trace events recorded.
    pub events: u64,
    /// Scheduler actions taken.
    pub actions: u64,
    /// Client requests.
    pub requests: RequestMetrics,
    /// The reactor thread and its loop.
    pub reactor: ReactorMetrics,
    /// The thread pool.
    pub pool: PoolMetrics,
    /// Each core's busy time.
    pub cores: Vec<CoreMetrics>,
    /// The GIL, when it is on.
    pub gil: Option<GilMetrics>,
    /// Each named lock.
    pub locks: Vec<LockMetrics>,
    /// Each shared counter.
    pub counters: Vec<CounterMetrics>,
    /// Each thread.
    pub threads: Vec<ThreadMetrics>,
    /// Each `LoopingCall` started.
    pub looping_calls: Vec<LoopingCallMetrics>,
    /// Printed lines, in order.
    pub output: Vec<OutputLine>,
    /// When the run ended in deadlock: who holds what and waits for what.
    pub deadlock: Option<Deadlock>,
    /// A real run (`twine run`) only, left out of the simulation's JSON:
    /// the CPUs its threads ran on against the scenario's cores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_cores: Option<RealCores>,
}

/// How many of the machine's CPUs a real run's threads were kept to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RealCores {
    /// The scenario's `machine.cores`.
    pub asked: u32,
    /// The CPUs its threads ran on: `asked`, or all the machine has when
    /// that is fewer (then the run is not the scenario's machine); `None`
    /// when the platform would not keep them to a set (the OS chose).
    pub used: Option<u32>,
}

/// A deadlock: threads that each wait for a lock the next one holds.
///
/// ```
/// use twine_scenario::metrics::{Deadlock, DeadlockEdge};
///
/// let edge = |t: &str, h: &str, w: &str| DeadlockEdge { thread: t.into(), holds: h.into(), waits_for: w.into() };
/// let d = Deadlock { cycle: vec![edge("thread-1", "A", "B"), edge("thread-2", "B", "A")] };
/// assert_eq!(
///     d.to_string(),
///     "thread-1 holds lock A and waits for lock B; thread-2 holds lock B and waits for lock A"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Deadlock {
    /// The wait-for cycle, in order: each thread waits for a lock the next
    /// one holds, and the last waits for one the first holds.
    pub cycle: Vec<DeadlockEdge>,
}

/// One thread of a deadlock cycle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadlockEdge {
    /// The thread's name.
    pub thread: String,
    /// The lock it holds that the previous thread of the cycle waits for.
    pub holds: String,
    /// The lock it waits for, held by the next thread of the cycle.
    pub waits_for: String,
}

impl std::fmt::Display for Deadlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.cycle.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{} holds lock {} and waits for lock {}", e.thread, e.holds, e.waits_for)?;
        }
        Ok(())
    }
}

/// Client requests and their latency (send to answer).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RequestMetrics {
    /// Requests sent.
    pub sent: u64,
    /// Requests answered.
    pub completed: u64,
    /// Sent and not answered (yet).
    pub in_flight: u64,
    /// Median latency.
    pub p50_ms: f64,
    /// 90th percentile latency.
    pub p90_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Worst latency.
    pub max_ms: f64,
    /// Mean latency.
    pub mean_ms: f64,
    /// Answers per second between the first request and the last answer.
    pub throughput_per_s: f64,
    /// Latency histogram: how many answers took at most `le_ms` (and more
    /// than the previous bucket's bound).
    pub histogram: Vec<HistogramBucket>,
}

/// One latency histogram bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistogramBucket {
    /// The bucket's upper bound.
    pub le_ms: f64,
    /// Answers in it.
    pub count: u64,
}

/// The reactor thread and its loop.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReactorMetrics {
    /// Turns run.
    pub turns: u64,
    /// Calls run (timers, inbox, triggers, protocol callbacks).
    pub calls: u64,
    /// Time spent inside calls.
    pub busy_ms: f64,
    /// `busy_ms` over the run's time.
    pub utilization: f64,
    /// The longest call.
    pub longest_call_ms: f64,
    /// Calls longer than 50 ms.
    pub slow_calls: u64,
    /// Failures nobody handled: callbacks that raised, Deferreds dropped failing.
    pub unhandled_errors: u64,
    /// How late the reactor got to things: timers after their due time, and
    /// requests after they arrived.
    pub lag: LagMetrics,
}

/// Loop lag.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LagMetrics {
    /// Samples (timers run plus requests delivered).
    pub samples: u64,
    /// Median lag.
    pub p50_ms: f64,
    /// 99th percentile lag.
    pub p99_ms: f64,
    /// Worst lag.
    pub max_ms: f64,
    /// Mean lag.
    pub mean_ms: f64,
    /// `[t_ms, lag_ms]` over time.
    pub series: Vec<[f64; 2]>,
}

/// The thread pool.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PoolMetrics {
    /// The pool's size limit.
    pub max_threads: u32,
    /// Threads it started.
    pub threads_started: u32,
    /// Jobs handed to pool threads.
    pub jobs: u64,
    /// Jobs finished.
    pub completed: u64,
    /// Deepest the queue got.
    pub max_queue: u32,
    /// Time-weighted mean queue depth.
    pub mean_queue: f64,
    /// `[t_ms, depth]` over time.
    pub queue_series: Vec<[f64; 2]>,
}

/// One core.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoreMetrics {
    /// Its number.
    pub core: u32,
    /// Time a thread ran on it (in the simulation, also the time its
    /// thread starter held it: see web/src/engine/spawner.rs).
    pub busy_ms: f64,
    /// `busy_ms` over the run's time.
    pub utilization: f64,
}

/// The GIL.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GilMetrics {
    /// Times it changed hands.
    pub switches: u64,
    /// Of those, times a waiter forced the holder to drop it.
    pub forced_switches: u64,
    /// Total time held.
    pub hold_ms: f64,
    /// Total time threads waited for it.
    pub wait_ms: f64,
    /// Per thread.
    pub threads: Vec<GilThreadMetrics>,
}

/// One thread's GIL use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GilThreadMetrics {
    /// Thread number.
    pub thread: u32,
    /// Thread name.
    pub name: String,
    /// Time it held the GIL.
    pub hold_ms: f64,
    /// Time it waited for it.
    pub wait_ms: f64,
}

/// One named lock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LockMetrics {
    /// Its name.
    pub name: String,
    /// Times it was taken.
    pub acquisitions: u64,
    /// Times a thread had to wait for it.
    pub contended: u64,
    /// Total waiting.
    pub wait_ms: f64,
    /// Longest wait.
    pub max_wait_ms: f64,
}

/// One shared counter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CounterMetrics {
    /// Its name.
    pub name: String,
    /// Its final value.
    pub value: i64,
    /// The value with no lost update: increments plus writes done.
    pub expected: u64,
    /// `expected - value`.
    pub lost_updates: i64,
}

/// One thread.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreadMetrics {
    /// Its number (0 is the reactor's).
    pub thread: u32,
    /// Its name.
    pub name: String,
    /// `reactor`, `pool` or `thread`.
    pub kind: &'static str,
    /// CPU time it used.
    pub cpu_ms: f64,
    /// When it started.
    pub started_ms: Option<f64>,
    /// When it finished.
    pub finished_ms: Option<f64>,
}

/// One `LoopingCall`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoopingCallMetrics {
    /// The scenario path of its `looping_call` step.
    pub step: String,
    /// Times its body ran.
    pub calls: u64,
    /// Intervals it missed because the reactor was late.
    pub skipped: u64,
    /// The longest a call ran after the first interval boundary it was due
    /// at (after skipped intervals, from the first of them).
    pub max_lag_ms: f64,
}

/// A printed line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputLine {
    /// When.
    pub t_ms: f64,
    /// Which thread.
    pub thread: u32,
    /// The thread's name.
    pub name: String,
    /// The text.
    pub text: String,
    /// Where it went: `print` writes to stdout; error reports (a thread's
    /// uncaught exception, Twisted's "Unhandled Error" and "Unhandled error
    /// in Deferred" logs) go to stderr, as CPython and Twisted write them.
    pub stream: Stream,
}

/// An output stream.
///
/// ```
/// use twine_scenario::metrics::Stream;
///
/// assert_eq!(serde_json::to_value(Stream::Stderr).unwrap(), "stderr");
/// assert_eq!(Stream::default(), Stream::Stdout);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
}

impl Metrics {
    /// The lines printed to stderr, as [`Metrics::summary`] shows stdout's.
    pub fn stderr_lines(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for line in self.output.iter().filter(|l| l.stream == Stream::Stderr) {
            let _ = writeln!(out, "[{:>10.3} ms] {:<12} {}", line.t_ms, line.name, line.text);
        }
        out
    }

    /// The summary `twine-sim` and `twine run` print without `--metrics`:
    /// the lines printed to stdout, then `ended` (each says what ended and
    /// how fast in its own terms), then a line per measurement that
    /// applies. The stderr lines are [`Metrics::stderr_lines`].
    ///
    /// ```
    /// use twine_scenario::metrics::{Metrics, OutputLine, Stream};
    ///
    /// let mut m = Metrics::default();
    /// let line = |text: &str, stream| OutputLine { t_ms: 1.5, thread: 0, name: "reactor".into(), text: text.into(), stream };
    /// m.output.push(line("hello", Stream::Stdout));
    /// m.output.push(line("Unhandled Error", Stream::Stderr));
    /// let text = m.summary("ended: stopped");
    /// assert!(text.starts_with("[     1.500 ms] reactor      hello\n\nended: stopped\nreactor: 0 turns"));
    /// assert_eq!(m.stderr_lines(), "[     1.500 ms] reactor      Unhandled Error\n");
    /// ```
    pub fn summary(&self, ended: &str) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for line in self.output.iter().filter(|l| l.stream == Stream::Stdout) {
            let _ = writeln!(out, "[{:>10.3} ms] {:<12} {}", line.t_ms, line.name, line.text);
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{ended}");
        if let Some(deadlock) = &self.deadlock {
            let _ = writeln!(out, "deadlock: {deadlock}");
        }
        let r = &self.requests;
        if r.sent > 0 {
            let _ = writeln!(
                out,
                "requests: {} sent, {} answered; latency p50 {:.3} ms, p90 {:.3}, p99 {:.3}, max {:.3}; {:.1}/s",
                r.sent, r.completed, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.throughput_per_s
            );
        }
        let (reactor, lag) = (&self.reactor, &self.reactor.lag);
        let _ = writeln!(
            out,
            "reactor: {} turns, {} calls, busy {:.1} ms ({:.0}%), lag p99 {:.3} ms max {:.3} ms",
            reactor.turns,
            reactor.calls,
            reactor.busy_ms,
            reactor.utilization * 100.0,
            lag.p99_ms,
            lag.max_ms
        );
        for c in &self.counters {
            let _ = writeln!(out, "counter {}: {} (expected {}, lost {})", c.name, c.value, c.expected, c.lost_updates);
        }
        for l in &self.locks {
            let _ = writeln!(
                out,
                "lock {}: {} acquisitions, {} contended, waited {:.3} ms",
                l.name, l.acquisitions, l.contended, l.wait_ms
            );
        }
        if let Some(gil) = &self.gil {
            let _ = writeln!(
                out,
                "gil: {} switches ({} forced), waited {:.1} ms in all",
                gil.switches, gil.forced_switches, gil.wait_ms
            );
        }
        let pool = &self.pool;
        if pool.jobs > 0 {
            let _ = writeln!(
                out,
                "pool: {} jobs on {} threads, queue max {}",
                pool.jobs, pool.threads_started, pool.max_queue
            );
        }
        for lc in &self.looping_calls {
            let _ = writeln!(
                out,
                "looping call {}: {} calls, {} intervals skipped, worst lag {:.3} ms",
                lc.step, lc.calls, lc.skipped, lc.max_lag_ms
            );
        }
        if !self.cores.is_empty() {
            let util: Vec<String> = self.cores.iter().map(|c| format!("{:.0}%", c.utilization * 100.0)).collect();
            let _ = writeln!(out, "cores: {}", util.join(" "));
        }
        out
    }
}

/// Nanoseconds as milliseconds.
pub fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The mean of `values` (0 for none).
pub fn mean(values: &[u64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64
}

/// At most `SERIES_POINTS` points: the largest value in each time bucket.
pub fn series(points: &[(u64, u64)], end_ns: u64, scale: fn(u64) -> f64) -> Vec<[f64; 2]> {
    if points.len() <= SERIES_POINTS {
        return points.iter().map(|&(t, v)| [ms(t), scale(v)]).collect();
    }
    let span = end_ns.max(1);
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(SERIES_POINTS);
    let mut bucket = u64::MAX;
    let mut best: Option<(u64, u64)> = None;
    for &(t, v) in points {
        let b = (t as u128 * SERIES_POINTS as u128 / (span as u128 + 1)) as u64;
        if b != bucket {
            if let Some((bt, bv)) = best.take() {
                out.push([ms(bt), scale(bv)]);
            }
            bucket = b;
        }
        if best.is_none_or(|(_, bv)| v > bv) {
            best = Some((t, v));
        }
    }
    if let Some((bt, bv)) = best {
        out.push([ms(bt), scale(bv)]);
    }
    out
}

/// Counts of `sorted` (nanoseconds) in 1-2-5 buckets from 1 µs to 1000 s,
/// from the first bucket with a value to the last.
pub fn histogram(sorted: &[u64]) -> Vec<HistogramBucket> {
    if sorted.is_empty() {
        return Vec::new();
    }
    // 1-2-5 bounds from 1 µs to 1000 s, in nanoseconds.
    let mut bounds = Vec::new();
    let mut decade = 1_000u64;
    while decade <= 100_000_000_000 {
        bounds.extend([decade, 2 * decade, 5 * decade]);
        decade *= 10;
    }
    let mut counts = vec![0u64; bounds.len() + 1];
    let mut b = 0;
    for &v in sorted {
        while b < bounds.len() && v > bounds[b] {
            b += 1;
        }
        counts[b] += 1;
    }
    let first = counts.iter().position(|&c| c > 0).unwrap_or(0);
    let last = counts.iter().rposition(|&c| c > 0).unwrap_or(0);
    (first..=last)
        .map(|i| HistogramBucket { le_ms: bounds.get(i).map_or(f64::MAX, |&b| ms(b)), count: counts[i] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let v = [500, 1_000, 1_500, 3_000_000, 3_000_000, 40_000_000];
        let h = histogram(&v);
        assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), v.len() as u64);
        assert_eq!(h[0].le_ms, 0.001);
        assert_eq!(h[0].count, 2);
    }

    #[test]
    fn long_series_are_bucketed_keeping_peaks() {
        let points: Vec<(u64, u64)> = (0..10_000).map(|i| (i * 1_000, if i == 5_000 { 99 } else { 1 })).collect();
        let s = series(&points, 10_000_000, |v| v as f64);
        assert!(s.len() <= SERIES_POINTS);
        assert!(s.iter().any(|p| p[1] == 99.0));
    }
}
