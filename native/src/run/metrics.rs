//! The metrics JSON of a real run: the fields and meanings of
//! `twine-sim --metrics` (the types of `twine_scenario::metrics`), measured.
//!
//! What a real machine cannot tell is stated, not made up: `cores` is empty
//! (the OS does not say which core ran what, and the scenario's cores are
//! not this machine's), `gil` is `null` without a GIL, `actions` (the
//! simulation's scheduler decisions) is 0, and `events` counts the real
//! reactor's trace events.

use twine_core::trace::{TraceEvent, TraceRecord};
// The metrics types and their arithmetic are the scenario crate's, the
// same the simulation fills in: one JSON shape, written once.
pub use twine_scenario::metrics::*;

/// A call longer than this is slow, as in the simulation.
const SLOW_CALL_NS: u64 = 50_000_000;

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
        mean_ms: mean(&lat) / 1e6,
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
        mean_ms: mean(&lags) / 1e6,
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
