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

/// The reactor's and the pool's figures, folded from the real reactor's
/// trace as it is made: exact however many events there are, without
/// keeping the events (a run may make millions; it keeps at most what it
/// sends or writes, [`RunOptions::trace_cap`](super::RunOptions::trace_cap)).
/// What a percentile or a series needs is kept: a number per timer that
/// fired and two per pool job.
#[derive(Debug, Default)]
pub(crate) struct TraceFold {
    pub events: u64,
    reactor: ReactorMetrics,
    pool: PoolMetrics,
    busy: u64,
    longest: u64,
    lag_points: Vec<(u64, u64)>,
    /// Each job's arrival in (+1) and departure from (-1) the pool's queue,
    /// at the time it happened. A pool thread records when it took a job
    /// (`Job::taken_by`), and the reactor hears of it later: those records
    /// come late, so the queue is replayed in time order at the end.
    queue_moves: Vec<(u64, i8)>,
    pool_threads: std::collections::BTreeSet<u32>,
}

impl TraceFold {
    pub(crate) fn push(&mut self, r: &TraceRecord) {
        self.events += 1;
        let t = r.t.as_nanos();
        match &r.event {
            TraceEvent::TurnStart { .. } => self.reactor.turns += 1,
            TraceEvent::Call { dur, .. } => {
                self.reactor.calls += 1;
                self.busy += dur;
                self.longest = self.longest.max(*dur);
                if *dur > SLOW_CALL_NS {
                    self.reactor.slow_calls += 1;
                }
            }
            TraceEvent::TimerFired { late, .. } => self.lag_points.push((t, *late)),
            TraceEvent::JobQueued { .. } => {
                self.pool.jobs += 1;
                self.queue_moves.push((t, 1));
            }
            TraceEvent::JobStarted { thread, .. } => {
                self.pool_threads.insert(*thread);
                self.queue_moves.push((t, -1));
            }
            TraceEvent::JobFinished { .. } => self.pool.completed += 1,
            _ => {}
        }
    }

    /// The figures of a run that ended at `end_ns`, with a pool of `max_threads`.
    pub(crate) fn finish(mut self, end_ns: u64, max_threads: u32) -> (ReactorMetrics, PoolMetrics) {
        let mut reactor = self.reactor;
        let mut pool = PoolMetrics { max_threads, ..self.pool };
        let mut lags: Vec<u64> = self.lag_points.iter().map(|&(_, v)| v).collect();
        lags.sort_unstable();
        reactor.busy_ms = ms(self.busy);
        reactor.utilization = if end_ns > 0 { self.busy as f64 / end_ns as f64 } else { 0.0 };
        reactor.longest_call_ms = ms(self.longest);
        reactor.lag = LagMetrics {
            samples: lags.len() as u64,
            p50_ms: ms(percentile(&lags, 0.50)),
            p99_ms: ms(percentile(&lags, 0.99)),
            max_ms: ms(lags.last().copied().unwrap_or(0)),
            mean_ms: mean(&lags) / 1e6,
            series: series(&self.lag_points, end_ns, ms),
        };
        // Stable: moves at the same nanosecond keep the order they were recorded in.
        self.queue_moves.sort_by_key(|&(t, _)| t);
        let (mut queue, mut last_t, mut area) = (0u32, 0u64, 0f64);
        let mut queue_points = Vec::with_capacity(self.queue_moves.len());
        for &(t, step) in &self.queue_moves {
            area += f64::from(queue) * t.saturating_sub(last_t) as f64;
            last_t = last_t.max(t);
            queue = if step > 0 { queue + 1 } else { queue.saturating_sub(1) };
            pool.max_queue = pool.max_queue.max(queue);
            queue_points.push((t, u64::from(queue)));
        }
        area += f64::from(queue) * end_ns.saturating_sub(last_t) as f64;
        pool.threads_started = self.pool_threads.len() as u32;
        pool.mean_queue = if end_ns > 0 { area / end_ns as f64 } else { 0.0 };
        pool.queue_series = series(&queue_points, end_ns, |v| v as f64);
        (reactor, pool)
    }
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
