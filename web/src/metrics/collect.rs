//! Computing [`Metrics`] from a simulation's state.

use twine_core::Time;

use super::*;
use crate::engine::Simulation;

/// Points on the simulation's clock, in nanoseconds for [`series`].
fn ns_points(points: &[(Time, u64)]) -> Vec<(u64, u64)> {
    points.iter().map(|&(t, v)| (t.as_nanos(), v)).collect()
}

impl Simulation {
    /// The run's measurements so far (final once it has ended).
    pub fn metrics(&self) -> Metrics {
        let now = self.now;
        let elapsed = now.as_nanos().max(1) as f64;
        let store = self.store.borrow();

        // The crate's one sort (crate::order), not a copy of std's for u64:
        // these are sorted once, when the metrics are read.
        let latencies = crate::order::sorted_by(self.clients.latencies.clone(), &mut u64::cmp);
        let span = match (self.clients.first_sent, self.clients.last_answer) {
            (Some(a), Some(b)) if b > a => b.saturating_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let sent = self.clients.requests.len() as u64;
        let completed = latencies.len() as u64;
        let requests = RequestMetrics {
            sent,
            completed,
            in_flight: sent - completed,
            p50_ms: ms(percentile(&latencies, 0.50)),
            p90_ms: ms(percentile(&latencies, 0.90)),
            p99_ms: ms(percentile(&latencies, 0.99)),
            max_ms: ms(latencies.last().copied().unwrap_or(0)),
            mean_ms: mean(&latencies) / 1e6,
            throughput_per_s: if span > 0.0 { completed as f64 / span } else { 0.0 },
            histogram: histogram(&latencies),
        };

        // Timer lateness and request waits, in time order.
        let lag_points: Vec<(Time, u64)> = store.timer_lag.iter().chain(&self.rl.io_lag).copied().collect();
        let lag_points = crate::order::sorted_by(lag_points, &mut |a, b| a.0.cmp(&b.0));
        let lags = crate::order::sorted_by(lag_points.iter().map(|&(_, v)| v).collect(), &mut u64::cmp);
        let mut busy_ns = self.rl.busy_ns;
        if let Some((_, start)) = self.rl.open_call {
            busy_ns += now.saturating_since(start).as_nanos() as u64;
        }
        let stats = self.reactor.stats();
        let reactor = ReactorMetrics {
            turns: stats.turns,
            calls: stats.calls,
            busy_ms: ms(busy_ns),
            utilization: busy_ns as f64 / elapsed,
            longest_call_ms: ms(self.rl.longest_call_ns),
            slow_calls: self.rl.slow_calls,
            unhandled_errors: stats.unhandled_errors + self.sh.unhandled.get(),
            lag: LagMetrics {
                samples: lags.len() as u64,
                p50_ms: ms(percentile(&lags, 0.50)),
                p99_ms: ms(percentile(&lags, 0.99)),
                max_ms: ms(lags.last().copied().unwrap_or(0)),
                mean_ms: mean(&lags) / 1e6,
                series: series(&ns_points(&lag_points), now.as_nanos(), ms),
            },
        };

        let depth: Vec<(Time, u64)> = self.pool.depth.iter().map(|&(t, d)| (t, d as u64)).collect();
        let mut area = 0.0;
        for (i, &(t, d)) in depth.iter().enumerate() {
            let until = depth.get(i + 1).map_or(now, |&(next, _)| next);
            area += d as f64 * until.saturating_since(t).as_nanos() as f64;
        }
        let pool = PoolMetrics {
            max_threads: self.program.pool_threads,
            threads_started: self.pool.workers.len() as u32,
            jobs: self.pool.submitted,
            completed: self.pool.completed,
            max_queue: depth.iter().map(|&(_, d)| d as u32).max().unwrap_or(0),
            mean_queue: area / elapsed,
            queue_series: series(&ns_points(&depth), now.as_nanos(), |d| d as f64),
        };

        let running_since = |tid: u32| match self.threads[tid as usize].state {
            crate::engine::sched::State::Running { since, .. } => Some(since),
            _ => None,
        };
        let cores = self
            .cores
            .iter()
            .enumerate()
            .map(|(i, core)| {
                let mut busy = core.busy_ns;
                if let Some(since) = core.thread.and_then(running_since) {
                    busy += now.saturating_since(since).as_nanos() as u64;
                }
                CoreMetrics { core: i as u32, busy_ms: ms(busy), utilization: busy as f64 / elapsed }
            })
            .collect();

        let gil = self.gil.on.then(|| {
            let threads: Vec<GilThreadMetrics> = self
                .threads
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut hold = t.gil_hold_ns;
                    let mut wait = t.gil_wait_ns;
                    if t.holds_gil {
                        hold += now.saturating_since(t.gil_since).as_nanos() as u64;
                    } else if self.gil.waiters.contains(&(i as u32)) {
                        wait += now.saturating_since(t.gil_since).as_nanos() as u64;
                    }
                    GilThreadMetrics {
                        thread: i as u32,
                        name: t.name.to_string(),
                        hold_ms: ms(hold),
                        wait_ms: ms(wait),
                    }
                })
                .collect();
            GilMetrics {
                switches: self.gil.switches,
                forced_switches: self.gil.forced,
                hold_ms: threads.iter().map(|t| t.hold_ms).sum(),
                wait_ms: threads.iter().map(|t| t.wait_ms).sum(),
                threads,
            }
        });

        let locks = self
            .sh
            .locks
            .borrow()
            .iter()
            .zip(self.sh.lock_names.borrow().iter())
            .filter(|(l, _)| !l.internal)
            .map(|(l, name)| LockMetrics {
                name: name.to_string(),
                acquisitions: l.acquisitions,
                contended: l.contended,
                wait_ms: ms(l.wait_ns),
                max_wait_ms: ms(l.max_wait_ns),
            })
            .collect();
        let counters = self
            .sh
            .counters
            .borrow()
            .iter()
            .zip(&self.program.counters)
            .map(|(c, name)| CounterMetrics {
                name: name.to_string(),
                value: c.value,
                expected: c.intended,
                lost_updates: c.intended as i64 - c.value,
            })
            .collect();
        let threads = self
            .threads
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut cpu = self.sh.cpu_ns(i as u32);
                if let (Some(since), Some(burst)) = (running_since(i as u32), t.work) {
                    cpu += now.saturating_since(burst.since.max(since)).as_nanos() as u64;
                }
                ThreadMetrics {
                    thread: i as u32,
                    name: t.name.to_string(),
                    kind: t.kind.name(),
                    cpu_ms: ms(cpu),
                    started_ms: t.spawned.map(t_ms),
                    finished_ms: t.finished.or(t.exited).map(t_ms),
                }
            })
            .collect();
        let looping_calls = self
            .sh
            .loops
            .borrow()
            .iter()
            .map(|l| LoopingCallMetrics {
                step: l.step.clone(),
                calls: l.calls,
                skipped: l.lc.skipped(),
                max_lag_ms: ms(l.lc.max_lag().as_nanos() as u64),
            })
            .collect();
        let names = self.sh.thread_names.borrow();
        let output = self
            .sh
            .output
            .borrow()
            .iter()
            .map(|p| OutputLine {
                t_ms: t_ms(p.t),
                thread: p.thread,
                name: names.get(p.thread as usize).map_or_else(String::new, |n| n.to_string()),
                text: p.text.clone(),
                stream: p.stream,
            })
            .collect();

        Metrics {
            scenario: self.scenario().spec().name.clone(),
            seed: self.seed(),
            end_reason: self.end_reason(),
            time_ms: t_ms(now),
            events: store.records.len() as u64,
            actions: self.actions(),
            requests,
            reactor,
            pool,
            cores,
            gil,
            locks,
            counters,
            threads,
            looping_calls,
            output,
            deadlock: self.deadlock(),
            real_cores: None,
        }
    }

    /// The wait-for cycle, when the run ended in deadlock.
    fn deadlock(&self) -> Option<twine_scenario::metrics::Deadlock> {
        use crate::explain::deadlock::{find_cycle, LockView};
        if self.end_reason() != Some(EndReason::Deadlock) {
            return None;
        }
        let locks = self.sh.locks.borrow();
        let names = self.sh.lock_names.borrow();
        let views: Vec<LockView<'_>> = locks
            .iter()
            .zip(names.iter())
            .map(|(l, name)| LockView { name, holder: l.holder, waiters: l.waiters.iter().map(|(t, _)| *t).collect() })
            .collect();
        let threads = self.sh.thread_names.borrow();
        find_cycle(&views, |t| threads.get(t as usize).map_or_else(|| format!("thread {t}"), |n| n.to_string()))
    }
}
