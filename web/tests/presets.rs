//! Each preset's outcome, as the playground explains it.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use twine_core::trace::TraceEvent;
use twine_web::{presets, EndReason, Metrics, Simulation};

fn sim(spec: &str, seed: Option<u64>) -> Simulation {
    let (preset, variant) = presets::resolve(spec).unwrap_or_else(|| panic!("no preset {spec}"));
    let scenario = preset.scenario(variant).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let mut sim = Simulation::new(&scenario, seed);
    sim.run();
    sim
}

fn run(spec: &str, seed: Option<u64>) -> Metrics {
    sim(spec, seed).metrics()
}

fn texts(m: &Metrics) -> Vec<&str> {
    m.output.iter().map(|l| l.text.as_str()).collect()
}

/// When the last plain thread finished.
fn last_finish(m: &Metrics) -> f64 {
    m.threads.iter().filter(|t| t.kind == "thread").filter_map(|t| t.finished_ms).fold(0.0, f64::max)
}

fn counter(m: &Metrics, name: &str) -> (i64, i64) {
    let c = m.counters.iter().find(|c| c.name == name).expect("counter");
    (c.value, c.lost_updates)
}

#[test]
fn every_preset_and_variant_loads_and_runs_to_an_end() {
    for preset in presets::all() {
        assert!(
            !preset.title().is_empty() && !preset.explanation().is_empty(),
            "{} needs a title and explanation",
            preset.name
        );
    }
    for (spec, scenario) in common::every_preset_scenario() {
        let mut sim = Simulation::new(&scenario, None);
        sim.run();
        let end = sim.end_reason().unwrap();
        assert!(matches!(end, EndReason::Quiet | EndReason::Stopped), "{spec} ended with {end:?}");
    }
}

#[test]
fn five_sleeping_threads_finish_together_near_half_a_second() {
    for spec in ["sleeping-threads", "sleeping-threads/no-gil"] {
        for seed in 1..=5 {
            let m = run(spec, Some(seed));
            let woke: Vec<f64> = m.output.iter().filter(|l| l.text.contains("woke up")).map(|l| l.t_ms).collect();
            assert_eq!(woke.len(), 5, "{spec}: {:?}", texts(&m));
            for t in &woke {
                assert!((490.0..=510.0).contains(t), "{spec} seed {seed}: woke at {t} ms, not near 500");
            }
            // Together, not one after the other (which would end at 2.5 s).
            assert!(last_finish(&m) < 520.0, "{spec}: last thread finished at {} ms", last_finish(&m));
        }
    }
}

#[test]
fn a_locked_counter_ends_at_exactly_ten_thousand() {
    for spec in ["counter-race/nogil-locked", "counter-race/gil-locked"] {
        for seed in [1, 2, 3] {
            let m = run(spec, Some(seed));
            assert_eq!(counter(&m, "hits"), (10_000, 0), "{spec} seed {seed}");
            let lock = &m.locks[0];
            assert_eq!(lock.acquisitions, 10_000);
        }
    }
    // Without the GIL the threads really wait for the lock; as with a real
    // mutex, a woken waiter mostly finds it taken again (barging), so few of
    // the acquisitions had to wait.
    let m = run("counter-race/nogil-locked", None);
    assert!(m.locks[0].contended > 0 && m.locks[0].wait_ms > 0.0);
    assert!(m.locks[0].contended < 1000, "{} contended", m.locks[0].contended);
}

#[test]
fn with_the_gil_a_plain_increment_loses_nothing() {
    for seed in 1..=10 {
        let m = run("counter-race/gil-unlocked", Some(seed));
        assert_eq!(counter(&m, "hits"), (10_000, 0), "seed {seed}");
    }
}

#[test]
fn with_the_gil_read_then_write_loses_updates_for_some_seeds() {
    let lost: Vec<i64> =
        (1..=20).map(|seed| counter(&run("counter-race/gil-read-then-write", Some(seed)), "hits").1).collect();
    assert!(lost.iter().any(|&l| l > 0), "no seed lost an update: {lost:?}");
    // ... and only some: whether a switch lands between a read and its write is timing.
    assert!(lost.contains(&0), "every seed lost updates: {lost:?}");
    assert!(lost.iter().all(|&l| l >= 0));
    // The GIL did switch in the middle of the loop, by force.
    let m = run("counter-race/gil-read-then-write", Some(1));
    assert!(m.gil.as_ref().unwrap().forced_switches > 5);
}

#[test]
fn without_the_gil_a_plain_increment_loses_updates() {
    for seed in [1, 2, 3] {
        let m = run("counter-race/nogil-unlocked", Some(seed));
        let (value, lost) = counter(&m, "hits");
        assert!(lost > 0 && value < 10_000, "seed {seed}: value {value}");
        assert_eq!(value + lost, 10_000);
    }
}

#[test]
fn reactor_ordering_follows_twisteds_contract() {
    let m = run("reactor-ordering", None);
    assert_eq!(
        texts(&m),
        [
            "main: scheduling, before reactor.run()",
            "main: calling reactor.run()",
            "call_when_running: the reactor is running",
            "call_later(0) #1",
            "call_later(0) #2",
            "call_later(0) made during the first turn: runs in the next",
            "call_later(100) #1 calls stop()",
            "call_later(100) #2: same turn, still runs",
            "shutdown trigger: closing connections",
            "shutdown trigger: done 50 ms later; now the reactor stops",
        ]
    );
    assert_eq!(m.end_reason, Some(EndReason::Stopped));
    // 150 ms of timers, plus the OS's wake-up latency (never less).
    assert!((150.0..151.0).contains(&m.time_ms), "{} ms", m.time_ms);
}

#[test]
fn a_deferred_chain_recovers_in_its_errbacks() {
    let s = sim("deferred-errback", None);
    let m = s.metrics();
    assert_eq!(
        texts(&m),
        [
            "fetching the price in a thread",
            "worker: the server answered 'N/A'",
            "callback 1: parsing the answer",
            "errback 1: recovered from ValueError: could not convert 'N/A' to a price; using yesterday's price",
            "callback 3: back on the callback path; saving the price",
            "worker: writing to the database",
            "errback 2: TimeoutError: the database did not answer; will retry later",
            "callback 4: done, stopping",
        ]
    );
    let events = s.events(0, usize::MAX);
    let count = |f: fn(&TraceEvent) -> bool| events.iter().filter(|r| f(&r.event)).count();
    assert_eq!(count(|e| matches!(e, TraceEvent::DeferredFailed { .. })), 1);
    assert_eq!(count(|e| matches!(e, TraceEvent::DeferredRecovered { .. })), 2);
    assert_eq!(count(|e| matches!(e, TraceEvent::DeferredChained { .. })), 1);
    assert_eq!(count(|e| matches!(e, TraceEvent::JobFinished { ok: false, .. })), 1);
    assert_eq!(m.reactor.unhandled_errors, 0);
    assert_eq!(m.output.iter().find(|l| l.text.starts_with("worker")).unwrap().name, "pool-1");
}

#[test]
fn a_blocking_handler_has_many_times_the_p99_of_defer_to_thread() {
    for seed in [1, 2, 3] {
        let blocking = run("echo-blocking/blocking", Some(seed));
        let deferred = run("echo-blocking/deferred", Some(seed));
        assert_eq!(blocking.requests.completed, 1000);
        assert_eq!(deferred.requests.completed, 1000);
        let (b, d) = (blocking.requests.p99_ms, deferred.requests.p99_ms);
        assert!(b > 5.0 * d, "seed {seed}: blocking p99 {b} ms vs deferred {d} ms");
        // The deferred server answers in the time the work takes.
        assert!((20.0..25.0).contains(&d), "deferred p99 {d}");
        // The blocking reactor is busy most of the time and late to its I/O.
        assert!(blocking.reactor.utilization > 0.7);
        assert!(blocking.reactor.lag.p99_ms > 50.0);
        assert!(deferred.reactor.lag.p99_ms < 1.0);
        assert!(deferred.pool.jobs == 1000);
    }
}

#[test]
fn a_saturated_pool_finishes_in_waves() {
    let m = run("pool-saturation", None);
    let finished: Vec<f64> = m.output.iter().filter(|l| l.text.starts_with("job finished")).map(|l| l.t_ms).collect();
    // Waves of four at 100, 200 and 300 ms, each job a little late by the
    // OS's wake-up latency (never early).
    let waves: Vec<f64> = finished.iter().map(|t| (t / 100.0).floor() * 100.0).collect();
    assert_eq!(waves, [[100.0; 4], [200.0; 4], [300.0; 4]].concat(), "{finished:?}");
    assert!(finished.iter().all(|t| t % 100.0 < 5.0), "{finished:?}");
    assert_eq!(m.pool.max_queue, 8);
    assert_eq!(m.pool.threads_started, 4);
    assert!(m.pool.queue_series.iter().any(|p| p[1] == 4.0));
    let m = run("pool-saturation/twelve-threads", None);
    assert!(m.output.iter().filter(|l| l.text.starts_with("job finished")).all(|l| (100.0..105.0).contains(&l.t_ms)));
    assert_eq!(m.pool.max_queue, 0);
}

#[test]
fn cpu_bound_threads_under_the_gil_take_four_times_as_long_on_any_core_count() {
    let one = last_finish(&run("gil-cpu-bound/one-thread", None));
    // A second of CPU, and the moments the thread is off its core: about
    // one a millisecond, 25 µs each, as `twine run`'s loop counts them
    // (the same thread computing alone took 1012-1028 ms there, six runs).
    assert!((1010.0..1040.0).contains(&one), "one thread took {one} ms");
    for variant in ["gil-1-core", "gil-2-cores", "gil-4-cores"] {
        let t = last_finish(&run(&format!("gil-cpu-bound/{variant}"), None));
        assert!((t / one - 4.0).abs() < 0.1, "{variant}: {t} ms is not about 4 x {one} ms");
    }
    let ratio = |variant: &str| last_finish(&run(&format!("gil-cpu-bound/{variant}"), None)) / one;
    assert!((ratio("nogil-4-cores") - 1.0).abs() < 0.05);
    assert!((ratio("nogil-2-cores") - 2.0).abs() < 0.1);
    assert!((ratio("nogil-1-core") - 4.0).abs() < 0.1);
    // With the GIL and four cores, three cores stay idle.
    let m = run("gil-cpu-bound/gil-4-cores", None);
    let busy: f64 = m.cores.iter().map(|c| c.utilization).sum();
    assert!((busy - 1.0).abs() < 0.05, "cores busy {busy}");
    assert!(m.gil.unwrap().forced_switches > 100);
}

#[test]
fn a_looping_call_under_a_busy_reactor_comes_late_and_counts_skipped_intervals() {
    let m = run("looping-call-drift/busy", None);
    let lc = &m.looping_calls[0];
    assert_eq!(lc.calls, 16);
    assert_eq!(lc.skipped, 2);
    // The tick due at 400 ms runs when the 280 ms computation ends, near
    // 630 ms (the CPU's speed varies by a few percent), counting three
    // intervals; the next one is back on the grid.
    let ticks: Vec<(f64, &str)> =
        m.output.iter().filter(|l| l.text.starts_with("tick")).map(|l| (l.t_ms, l.text.as_str())).collect();
    assert!(ticks.iter().any(|&(t, text)| (620.0..640.0).contains(&t) && text.contains("(3 interval")), "{ticks:?}");
    assert!(ticks.iter().any(|&(t, _)| (700.0..701.0).contains(&t)), "{ticks:?}");
    assert!((220.0..240.0).contains(&m.reactor.lag.max_ms), "{}", m.reactor.lag.max_ms);
    assert_eq!(m.reactor.slow_calls, 2);

    let idle = run("looping-call-drift/idle", None);
    assert_eq!(idle.looping_calls[0].skipped, 0);
    for line in idle.output.iter().filter(|l| l.text.starts_with("tick")) {
        // On the grid, or a little late by the OS's wake-up latency.
        assert!(line.t_ms % 100.0 < 1.0, "{line:?}");
    }
}
