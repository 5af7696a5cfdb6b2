//! What a run measured: request latency and throughput, reactor loop lag,
//! pool queue depth, core utilization, GIL hold and wait, lock wait, lost
//! counter updates, and the program's printed output.
//!
//! Times are milliseconds (`*_ms`). Series are `[t_ms, value]` pairs, at
//! most [`SERIES_POINTS`] of them (the largest value in each time bucket).
//! Everything is computed from the run alone, so the same scenario and seed
//! serialize to the same bytes.

use serde::Serialize;
use twine_core::Time;

use crate::engine::EndReason;

/// The most points a series keeps.
pub const SERIES_POINTS: usize = 400;

/// A run's measurements. See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// Time a thread ran on it.
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
}

mod collect;

pub(crate) fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

pub(crate) fn t_ms(t: Time) -> f64 {
    ms(t.as_nanos())
}
