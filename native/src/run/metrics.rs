//! The metrics JSON of a real run: the fields and meanings of
//! `twine-sim --metrics` (listed in `twine_scenario::metrics_shape`), measured.
//!
//! What a real machine cannot tell is stated, not made up: `cores` is empty
//! (the OS does not say which core ran what, and the scenario's cores are
//! not this machine's), `gil` is `null` (no GIL), `actions` (the
//! simulation's scheduler decisions) is 0, and `events` counts the real
//! reactor's trace events.

use serde::Serialize;
use twine_core::trace::{TraceEvent, TraceRecord};

/// The most points a series keeps, as in the simulation.
const SERIES_POINTS: usize = 400;
/// A call longer than this is slow, as in the simulation.
const SLOW_CALL_NS: u64 = 50_000_000;

#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    pub scenario: Option<String>,
    pub seed: u64,
    pub end_reason: Option<&'static str>,
    pub time_ms: f64,
    pub events: u64,
    pub actions: u64,
    pub requests: RequestMetrics,
    pub reactor: ReactorMetrics,
    pub pool: PoolMetrics,
    pub cores: Vec<CoreMetrics>,
    pub gil: Option<GilMetrics>,
    pub locks: Vec<LockMetrics>,
    pub counters: Vec<CounterMetrics>,
    pub threads: Vec<ThreadMetrics>,
    pub looping_calls: Vec<LoopingCallMetrics>,
    pub output: Vec<OutputLine>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RequestMetrics {
    pub sent: u64,
    pub completed: u64,
    pub in_flight: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub throughput_per_s: f64,
    pub histogram: Vec<HistogramBucket>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HistogramBucket {
    pub le_ms: f64,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReactorMetrics {
    pub turns: u64,
    pub calls: u64,
    pub busy_ms: f64,
    pub utilization: f64,
    pub longest_call_ms: f64,
    pub slow_calls: u64,
    pub unhandled_errors: u64,
    pub lag: LagMetrics,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LagMetrics {
    pub samples: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub series: Vec<[f64; 2]>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PoolMetrics {
    pub max_threads: u32,
    pub threads_started: u32,
    pub jobs: u64,
    pub completed: u64,
    pub max_queue: u32,
    pub mean_queue: f64,
    pub queue_series: Vec<[f64; 2]>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CoreMetrics {
    pub core: u32,
    pub busy_ms: f64,
    pub utilization: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct GilMetrics {
    pub switches: u64,
    pub forced_switches: u64,
    pub hold_ms: f64,
    pub wait_ms: f64,
    pub threads: Vec<GilThreadMetrics>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GilThreadMetrics {
    pub thread: u32,
    pub name: String,
    pub hold_ms: f64,
    pub wait_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LockMetrics {
    pub name: String,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ms: f64,
    pub max_wait_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CounterMetrics {
    pub name: String,
    pub value: i64,
    pub expected: u64,
    pub lost_updates: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ThreadMetrics {
    pub thread: u32,
    pub name: String,
    pub kind: &'static str,
    pub cpu_ms: f64,
    pub started_ms: Option<f64>,
    pub finished_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoopingCallMetrics {
    pub step: String,
    pub calls: u64,
    pub skipped: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OutputLine {
    pub t_ms: f64,
    pub thread: u32,
    pub name: String,
    pub text: String,
}

pub(crate) fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mean_ms(values: &[u64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64 / 1e6
}

/// At most `SERIES_POINTS` points: the largest value in each time bucket.
fn series(points: &[(u64, u64)], end_ns: u64, scale: fn(u64) -> f64) -> Vec<[f64; 2]> {
    if points.len() <= SERIES_POINTS {
        return points.iter().map(|&(t, v)| [ms(t), scale(v)]).collect();
    }
    let span = end_ns.max(1) as u128;
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(SERIES_POINTS);
    let mut bucket = u64::MAX;
    let mut best: Option<(u64, u64)> = None;
    for &(t, v) in points {
        let b = (t as u128 * SERIES_POINTS as u128 / (span + 1)) as u64;
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

/// The simulation's 1-2-5 buckets from 1 µs to 1000 s.
fn histogram(sorted: &[u64]) -> Vec<HistogramBucket> {
    if sorted.is_empty() {
        return Vec::new();
    }
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

/// What the clients measured.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientReport {
    pub sent: u64,
    pub latencies_ns: Vec<u64>,
    pub first_sent_ns: Option<u64>,
    pub last_answer_ns: Option<u64>,
}

pub(crate) fn requests(report: &ClientReport) -> RequestMetrics {
    let mut lat = report.latencies_ns.clone();
    lat.sort_unstable();
    let completed = lat.len() as u64;
    let throughput_per_s = match (report.first_sent_ns, report.last_answer_ns) {
        (Some(a), Some(b)) if b > a => completed as f64 / ((b - a) as f64 / 1e9),
        _ => 0.0,
    };
    RequestMetrics {
        sent: report.sent,
        completed,
        in_flight: report.sent.saturating_sub(completed),
        p50_ms: ms(percentile(&lat, 0.50)),
        p90_ms: ms(percentile(&lat, 0.90)),
        p99_ms: ms(percentile(&lat, 0.99)),
        max_ms: ms(lat.last().copied().unwrap_or(0)),
        mean_ms: mean_ms(&lat),
        throughput_per_s,
        histogram: histogram(&lat),
    }
}

/// The reactor's and the pool's figures, from the real reactor's trace.
pub(crate) fn from_trace(records: &[TraceRecord], end_ns: u64, max_threads: u32) -> (ReactorMetrics, PoolMetrics) {
    let mut reactor = ReactorMetrics::default();
    let mut pool = PoolMetrics { max_threads, ..PoolMetrics::default() };
    let (mut busy, mut longest) = (0u64, 0u64);
    let mut lag_points = Vec::new();
    let mut queue: u32 = 0;
    let mut queue_points = Vec::new();
    let mut pool_threads = std::collections::BTreeSet::new();
    let (mut queue_area, mut last_t) = (0f64, 0u64);
    for r in records {
        let t = r.t.as_nanos();
        queue_area += f64::from(queue) * t.saturating_sub(last_t) as f64;
        last_t = last_t.max(t);
        match &r.event {
            TraceEvent::TurnStart { .. } => reactor.turns += 1,
            TraceEvent::Call { dur, .. } => {
                reactor.calls += 1;
                busy += dur;
                longest = longest.max(*dur);
                if *dur > SLOW_CALL_NS {
                    reactor.slow_calls += 1;
                }
            }
            TraceEvent::TimerFired { late, .. } => lag_points.push((t, *late)),
            TraceEvent::JobQueued { .. } => {
                pool.jobs += 1;
                queue += 1;
                pool.max_queue = pool.max_queue.max(queue);
                queue_points.push((t, u64::from(queue)));
            }
            TraceEvent::JobStarted { thread, .. } => {
                queue = queue.saturating_sub(1);
                pool_threads.insert(*thread);
                queue_points.push((t, u64::from(queue)));
            }
            TraceEvent::JobFinished { .. } => pool.completed += 1,
            _ => {}
        }
    }
    let mut lags: Vec<u64> = lag_points.iter().map(|&(_, v)| v).collect();
    lags.sort_unstable();
    reactor.busy_ms = ms(busy);
    reactor.utilization = if end_ns > 0 { busy as f64 / end_ns as f64 } else { 0.0 };
    reactor.longest_call_ms = ms(longest);
    reactor.lag = LagMetrics {
        samples: lags.len() as u64,
        p50_ms: ms(percentile(&lags, 0.50)),
        p99_ms: ms(percentile(&lags, 0.99)),
        max_ms: ms(lags.last().copied().unwrap_or(0)),
        mean_ms: mean_ms(&lags),
        series: series(&lag_points, end_ns, ms),
    };
    pool.threads_started = pool_threads.len() as u32;
    pool.mean_queue = if end_ns > 0 { queue_area / end_ns as f64 } else { 0.0 };
    pool.queue_series = series(&queue_points, end_ns, |v| v as f64);
    (reactor, pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_as_in_the_simulation() {
        let report = ClientReport {
            sent: 5,
            latencies_ns: vec![5_000_000, 1_000_000, 4_000_000, 2_000_000],
            first_sent_ns: Some(0),
            last_answer_ns: Some(2_000_000_000),
        };
        let r = requests(&report);
        assert_eq!((r.completed, r.in_flight), (4, 1));
        assert_eq!((r.p50_ms, r.p99_ms, r.max_ms, r.mean_ms), (2.0, 5.0, 5.0, 3.0));
        assert_eq!(r.throughput_per_s, 2.0);
        assert_eq!(r.histogram.iter().map(|b| b.count).sum::<u64>(), 4);
    }
}
