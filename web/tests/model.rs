//! The machine model's corrections, one phenomenon each, as a user would
//! check them against a real machine: waits never end early, the default
//! noise model, unlocked counters that do not march in step, and
//! `threading.Lock`'s barging, and pool threads that start one after another.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use twine_web::{presets, Metrics, PythonScenario, Scenario, Simulation};

fn run(json: &str, seed: Option<u64>) -> Metrics {
    let scenario = Scenario::from_json(json).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, seed);
    sim.run();
    sim.metrics()
}

fn preset(name: &str, variant: &str, seed: u64) -> Metrics {
    let p = presets::all().iter().find(|p| p.name == name).expect("a preset");
    let scenario = p.scenario(Some(variant)).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, Some(seed));
    sim.run();
    sim.metrics()
}

fn wake_times(m: &Metrics) -> Vec<f64> {
    m.output.iter().map(|l| l.t_ms).collect()
}

/// Forty threads that sleep, block in I/O and wait for a timer, as `jitter`
/// and `noise` configure.
fn waits(jitter: f64, noise: bool) -> String {
    format!(
        r#"{{
        "jitter": {jitter},
        "machine": {{"noise": {noise}}},
        "threads": [
            {{"name": "s", "count": 20, "steps": [{{"sleep": 10}}, {{"print": "slept"}}]}},
            {{"name": "i", "count": 20, "steps": [{{"io": 10}}, {{"print": "io done"}}]}}
        ],
        "main": [{{"call_later": {{"ms": 10, "steps": [{{"print": "timer"}}]}}}}]
    }}"#
    )
}

#[test]
fn a_sleep_an_io_and_a_timer_never_end_early() {
    for seed in 1..=20 {
        for (jitter, noise) in [(0.5, false), (0.0, true), (0.5, true)] {
            let m = run(&waits(jitter, noise), Some(seed));
            let times = wake_times(&m);
            assert_eq!(times.len(), 41);
            let early: Vec<f64> = times.iter().copied().filter(|&t| t < 10.0).collect();
            assert!(early.is_empty(), "seed {seed}, jitter {jitter}, noise {noise}: woke early at {early:?} ms");
            // Jitter still spreads them: not all woke at one instant.
            assert!(times.iter().any(|&t| t != times[0]), "seed {seed}, jitter {jitter}, noise {noise}");
        }
    }
}

#[test]
fn a_thread_given_a_later_start_wakes_on_a_timer_as_a_sleeper_does() {
    // `twine run`'s thread sleeps until its `start`: Linux fires that timer
    // up to its slack (50 µs) late, and the interrupt's wake-up costs more.
    let json = r#"{"threads": [
        {"name": "late", "count": 5, "start_ms": 5, "steps": [{"print": "up"}]},
        {"name": "sleeper", "count": 5, "steps": [{"print": "down"}, {"sleep": 5}, {"print": "up"}]}
    ]}"#;
    let (mut late, mut slept) = (Vec::new(), Vec::new());
    for seed in 1..=20 {
        let mut down = std::collections::HashMap::new();
        for line in run(json, Some(seed)).output {
            match (line.name.starts_with("late"), line.text.as_str()) {
                (true, _) => late.push(line.t_ms - 5.0),
                (false, "down") => drop(down.insert(line.thread, line.t_ms)),
                (false, _) => slept.push(line.t_ms - down[&line.thread] - 5.0),
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    assert_eq!((late.len(), slept.len()), (100, 100));
    assert!(late.iter().all(|&ms| ms >= 0.07), "{late:?}");
    let (late, slept) = (median(&mut late), median(&mut slept));
    assert!((late - slept).abs() < 0.015, "late by {late} ms, sleepers by {slept} ms");
}

#[test]
fn noise_is_on_by_default_small_and_can_be_turned_off() {
    let quiet = run(&waits(0.0, false), None);
    assert!(wake_times(&quiet).iter().all(|&t| t == 10.0), "{:?}", wake_times(&quiet));

    let default = run(r#"{"threads": [{"name": "s", "count": 50, "steps": [{"sleep": 10}, {"print": "up"}]}]}"#, None);
    // Late past each thread's own start (threads started in a loop begin apart).
    let started = |name: &str| default.threads.iter().find(|t| t.name == name).and_then(|t| t.started_ms).unwrap();
    let times: Vec<f64> = default.output.iter().map(|l| l.t_ms - started(&l.name)).collect();
    assert!(times.iter().all(|&t| t > 10.0), "every wake-up pays some OS latency: {times:?}");
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    // Tens of microseconds as a rule.
    let median_late_us = (sorted[sorted.len() / 2] - 10.0) * 1000.0;
    assert!((10.0..200.0).contains(&median_late_us), "median lateness {median_late_us} µs");

    // CPU speed varies by a few percent, either way (a thread's CPU time
    // also counts its start-up, microseconds: `Noise::thread_boot`).
    let cpu = run(r#"{"threads": [{"name": "c", "count": 4, "steps": [{"cpu": 100}]}]}"#, None);
    for t in &cpu.threads {
        if let Some(cpu_ms) = t.name.starts_with('c').then_some(t.cpu_ms) {
            assert!((97.0..=103.5).contains(&cpu_ms) && cpu_ms != 100.0, "{}: {cpu_ms} ms of CPU", t.name);
        }
    }
}

#[test]
fn unlocked_counters_without_the_gil_lose_a_different_number_for_each_seed() {
    let lost: Vec<i64> =
        (1..=6).map(|seed| preset("counter-race", "nogil-unlocked", seed).counters[0].lost_updates).collect();
    assert!(lost.iter().all(|&n| n > 0 && n < 10_000), "{lost:?}");
    assert!(lost.iter().any(|&n| n != lost[0]), "no lockstep waves: {lost:?}");
}

#[test]
fn under_the_gil_a_lock_is_rarely_contended_because_the_releasing_thread_takes_it_again() {
    for seed in 1..=3 {
        let m = preset("counter-race", "gil-locked", seed);
        let (counter, lock) = (&m.counters[0], &m.locks[0]);
        assert_eq!((counter.value, counter.lost_updates), (10_000, 0), "seed {seed}: the lock still protects");
        assert_eq!(lock.acquisitions, 10_000);
        assert!(lock.contended * 100 < lock.acquisitions, "seed {seed}: {} of 10 000 contended", lock.contended);
    }
}

#[test]
fn a_fair_lock_hands_over_in_order_and_so_is_contended_far_more() {
    let counting = |fair: bool| {
        run(
            &format!(
                r#"{{"machine": {{"cores": 2, "gil": true}}, "threads": [{{"name": "c", "count": 4, "steps": [
                {{"repeat": {{"times": 2000, "steps": [{{"lock": {{"name": "l", "fair": {fair}, "steps": [
                    {{"increment": "n"}}, {{"cpu": 0.01}}]}}}}]}}}}]}}]}}"#
            ),
            Some(3),
        )
    };
    let (fair, barging) = (counting(true), counting(false));
    for m in [&fair, &barging] {
        assert_eq!(m.counters[0].value, 8_000);
    }
    assert!(
        fair.locks[0].contended > 10 * barging.locks[0].contended.max(1),
        "fair {} contended, barging {}",
        fair.locks[0].contended,
        barging.locks[0].contended
    );
}

#[test]
fn a_lock_is_fair_everywhere_or_nowhere() {
    let err = Scenario::from_json(
        r#"{"threads": [
            {"name": "a", "steps": [{"lock": {"name": "l", "fair": true, "steps": []}}]},
            {"name": "b", "steps": [{"lock": {"name": "l", "steps": []}}]}
        ]}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "threads[1].steps[0].lock.fair: lock `l` is fair in one step and not in another: \
         add `\"fair\": true` here, or name them apart"
    );
}

#[test]
fn answers_to_requests_read_in_one_batch_leave_together_when_the_iteration_ends() {
    // Five requests 10 µs apart; each costs 10 ms of CPU on the reactor. The
    // first is read alone; the other four arrive while it runs and are read
    // in the next iteration, whose answers leave when all four are handled.
    let scenario = Scenario::from_json(
        r#"{"machine": {"noise": false},
            "server": {"handler": [{"cpu": 10}, "respond"]},
            "clients": {"open": {"rate_per_s": 100000, "arrival": "fixed", "requests": 5, "connections": 5}}}"#,
    )
    .unwrap();
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    let answered: Vec<f64> = sim
        .events(0, usize::MAX)
        .iter()
        .filter(|r| matches!(r.event, twine_core::trace::TraceEvent::ClientResponse { .. }))
        .map(|r| r.t.as_nanos() as f64 / 1e6)
        .collect();
    assert_eq!(answered, [10.0, 50.0, 50.0, 50.0, 50.0]);
}

/// A 100 ms LoopingCall on the reactor beside ten CPU-bound pool jobs
/// (800 ms each, a pool of ten), all under the GIL.
const TICKS_BESIDE_CPU_BOUND_POOL: &str = r#"{
    "machine": {"cores": 2, "gil": true, "switch_interval_ms": 5},
    "pool": {"threads": 10},
    "main": [
        {"looping_call": {"interval_ms": 100, "steps": [{"print": "tick"}]}},
        {"repeat": {"times": 10, "steps": [{"defer_to_thread": [{"cpu": 800}]}]}},
        {"call_later": {"ms": 2000, "steps": ["stop"]}}
    ]
}"#;

#[test]
fn under_the_gil_a_looping_call_beside_cpu_bound_threads_runs_late_by_the_os_pick_and_skips_intervals() {
    // CPython 3.11 hands the GIL to whichever waiter the OS wakes, not to
    // the longest waiting: the reactor waits some switches and not others.
    // A queue would make every tick exactly ten switch intervals (50 ms) late.
    let m = run(TICKS_BESIDE_CPU_BOUND_POOL, Some(1));
    let lateness: Vec<f64> = m.output.iter().map(|l| l.t_ms % 100.0).collect();
    let lc = &m.looping_calls[0];
    assert!(lc.max_lag_ms > 50.0, "max lag {} ms, ticks at {:?}", lc.max_lag_ms, wake_times(&m));
    assert!(lc.skipped > 0, "ticks at {:?}", wake_times(&m));
    let (least, most) = lateness.iter().skip(1).fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(most - least > 20.0, "ticks at {:?}", wake_times(&m));
}

/// The same as a Python program: ten CPU-bound jobs handed to Twisted's
/// empty pool of ten beside a 100 ms LoopingCall, printing when the last
/// `deferToThread` returned.
const POOL_STARTS_UNDER_THE_GIL: &str = r#"
import time
from twisted.internet import reactor, task, threads
import twine

reactor.suggestThreadPoolSize(10)
START = time.monotonic()

def go():
    for _ in range(10):
        threads.deferToThread(twine.cpu, 800)
    print(f"handed over at {(time.monotonic() - START) * 1000:.0f} ms")

task.LoopingCall(lambda: print(f"tick at {(time.monotonic() - START) * 1000:.0f} ms")).start(0.1)
reactor.callWhenRunning(go)
reactor.callLater(1.0, reactor.stop)
reactor.run()
"#;

/// The millisecond figures a program printed after `prefix`.
fn printed_ms(m: &Metrics, prefix: &str) -> Vec<f64> {
    let parse = |l: &str| l.strip_prefix(prefix)?.trim_end_matches(" ms").parse().ok();
    m.output.iter().filter_map(|l| parse(&l.text)).collect()
}

/// `program`'s metrics for seeds 1-8.
fn eight_runs(program: &str) -> Vec<Metrics> {
    (1..=8)
        .map(|seed| {
            let scenario = Scenario::from_python("ticks.py", program).unwrap();
            let mut sim = Simulation::new(&scenario, Some(seed));
            sim.run();
            sim.metrics()
        })
        .collect()
}

/// The median of the first millisecond figure each run printed after
/// `prefix`, and the figures, sorted.
fn median_printed_ms(runs: &[Metrics], prefix: &str) -> (f64, Vec<f64>) {
    let mut at: Vec<f64> = runs.iter().map(|m| printed_ms(m, prefix)[0]).collect();
    at.sort_by(f64::total_cmp);
    ((at[3] + at[4]) / 2.0, at)
}

/// Single CPython 3.11 + Twisted 26.10 runs of the two programs below, on
/// 2 cores (2026-12-05, interleaved): the calls returned, or the reactor
/// ran its first `callWhenRunning` after the pool's start, at 233-834 ms
/// (medians 389 over 42 runs and 430 over 60). Without the waits the model
/// says 0-1 ms.
const CPYTHON_POOL_STARTS_MS: std::ops::RangeInclusive<f64> = 233.0..=834.0;

#[test]
fn under_the_gil_a_reactor_handing_jobs_to_an_empty_pool_waits_for_each_new_thread_to_start() {
    // Twisted's pool starts a thread for a job no idle thread takes, with
    // `Thread.start()` in the caller, holding the GIL, which returns once
    // the thread has run; the reactor then waits for the GIL among the
    // jobs already computing. The model's median: 458 ms for seeds 1-8,
    // 455 for seeds 1-32, against CPython's 389 (docs/fidelity.md, stop
    // 41; 576 and 533 when the engine's own starter made the thread).
    let runs = eight_runs(POOL_STARTS_UNDER_THE_GIL);
    for (seed, m) in (1..).zip(&runs) {
        let handed = printed_ms(m, "handed over at ")[0];
        let ticks = printed_ms(m, "tick at ");
        assert!(ticks[1] >= handed, "seed {seed}: a tick at {} ms, before the calls returned", ticks[1]);
    }
    let (median, handed_at) = median_printed_ms(&runs, "handed over at ");
    assert!(CPYTHON_POOL_STARTS_MS.contains(&median), "the ten calls returned at {handed_at:?} ms");
}

/// The same jobs given before `reactor.run()`: Twisted's pool starts with
/// the reactor (`ThreadPool.start`, a `callWhenRunning` made at its first
/// use) and starts a thread for each waiting job the same way, in the
/// reactor thread, before the `callWhenRunning` calls made after it.
const POOL_STARTS_WITH_THE_REACTOR: &str = r#"
import time
from twisted.internet import reactor, task, threads
import twine

reactor.suggestThreadPoolSize(10)
START = time.monotonic()
for _ in range(10):
    threads.deferToThread(twine.cpu, 800)
reactor.callWhenRunning(lambda: print(f"running at {(time.monotonic() - START) * 1000:.0f} ms"))
task.LoopingCall(lambda: print(f"tick at {(time.monotonic() - START) * 1000:.0f} ms")).start(0.1)
reactor.callLater(1.0, reactor.stop)
reactor.run()
"#;

#[test]
fn under_the_gil_jobs_given_before_the_reactor_runs_hold_up_its_start_as_the_pool_starts_their_threads() {
    // CPython: running at 233-764 ms, median 430 of 60 runs; a tick came
    // with it. The model gave 0 ms before the pool's start waited.
    let runs = eight_runs(POOL_STARTS_WITH_THE_REACTOR);
    let (median, at) = median_printed_ms(&runs, "running at ");
    assert!(CPYTHON_POOL_STARTS_MS.contains(&median), "the reactor ran its callWhenRunning at {at:?} ms");
    for m in &runs {
        // The LoopingCall's first tick is in `start()`, before the reactor
        // runs; the next waits for the pool's start too.
        let out: Vec<&str> = m.output.iter().map(|l| l.text.as_str()).collect();
        let running = out.iter().position(|l| l.starts_with("running at ")).unwrap();
        assert_eq!(out[..running].iter().filter(|l| l.starts_with("tick at ")).count(), 1, "{out:?}");
    }
}

#[test]
fn a_job_an_idle_pool_thread_takes_does_not_hold_up_its_caller() {
    let out = common::printed(
        "idle.py",
        r#"
import time
from twisted.internet import reactor, threads

def hand_over(then):
    started = time.monotonic()
    threads.deferToThread(time.sleep, 0.01)
    print(f"{(time.monotonic() - started) * 1e6:.0f}")
    then()

reactor.callWhenRunning(hand_over, lambda: reactor.callLater(0.05, hand_over, reactor.stop))
reactor.run()
"#,
    );
    let us: Vec<f64> = out.iter().map(|l| l.parse().unwrap()).collect();
    // The first starts a thread (tens of µs: the thread's start and
    // start-up); the second finds it idle.
    assert!(us[0] > 20.0 && us[1] < 5.0, "{us:?} µs in deferToThread");
}

#[test]
fn the_gil_hand_off_is_the_same_for_a_seed_and_differs_between_seeds() {
    let ticks = |seed| wake_times(&run(TICKS_BESIDE_CPU_BOUND_POOL, Some(seed)));
    assert_eq!(ticks(4), ticks(4));
    assert_ne!(ticks(4), ticks(5));
}

/// Four threads, under the GIL, each adding one to `c` 3000 times as a
/// `read` then a `write` (2 µs each), with `between` in the middle.
fn read_then_write(between: &str) -> String {
    format!(
        r#"{{"machine": {{"cores": 2, "gil": true, "counter_op_ns": 2000}},
            "threads": [{{"name": "w", "count": 4, "steps": [
                {{"repeat": {{"times": 3000, "steps": [{{"read": "c"}}, {between} {{"write": "c"}}]}}}}]}}]}}"#
    )
}

#[test]
fn under_the_gil_a_read_then_a_write_with_nothing_between_is_never_split_as_in_cpython() {
    // `seen = hits; hits = seen + 1`: CPython looks for a GIL drop request
    // only at calls and backward jumps, and there is neither between the
    // two, so no switch lands between them however often the GIL changes
    // hands (at the loop's backward jump, before the read).
    for seed in 1..=5 {
        let m = run(&read_then_write(""), Some(seed));
        let gil = m.gil.as_ref().expect("a GIL");
        assert!(gil.switches > 5, "seed {seed}: the GIL changed hands {} times", gil.switches);
        assert_eq!((m.counters[0].value, m.counters[0].lost_updates), (12_000, 0), "seed {seed}");
    }
    // A call between them (`twine.cpu(...)`) is an eval-breaker point: a
    // switch can land there, and the other threads' updates meanwhile are lost.
    let lost: Vec<i64> =
        (1..=5).map(|seed| run(&read_then_write(r#"{"cpu": 0.002},"#), Some(seed)).counters[0].lost_updates).collect();
    assert!(lost.iter().any(|&n| n > 0), "{lost:?}");
}

/// Ten threads started together, each printing when it first runs, then
/// adding one to `hits` `times` times.
fn ten_counting_threads(times: u32) -> String {
    format!(
        r#"{{"machine": {{"cores": 4}},
            "threads": [{{"name": "t", "count": 10, "steps": [
                {{"print": "{{time}}"}},
                {{"repeat": {{"times": {times}, "steps": [{{"increment": "hits"}}]}}}}]}}]}}"#
    )
}

#[test]
fn threads_started_in_a_loop_are_spawned_a_call_apart_and_first_run_after_their_own_start_up() {
    let mut out_of_order = 0;
    for seed in 1..=5 {
        let m = run(&ten_counting_threads(1), Some(seed));
        let spawned: Vec<f64> =
            m.threads.iter().filter(|t| t.kind == "thread").map(|t| t.started_ms.unwrap()).collect();
        assert!(spawned[0] >= 0.008, "seed {seed}: the first spawn call took {} ms", spawned[0]);
        // In order, each spawn call at least 8 µs of the starter's CPU
        // (`twine run`'s threads: a JSON scenario's are Rust's).
        assert!(spawned.windows(2).all(|w| w[1] - w[0] >= 0.008), "seed {seed}: spawned at {spawned:?} ms");
        // Each prints after its own start-up (5 µs or more), which varies,
        // so a thread may run before one spawned earlier (as `twine run`'s do).
        for line in &m.output {
            let own = m.threads.iter().find(|t| t.name == line.name).and_then(|t| t.started_ms).unwrap();
            assert!(line.t_ms - own >= 0.005, "seed {seed}: {} ran {} ms after its spawn", line.name, line.t_ms - own);
        }
        let names: Vec<&str> = m.output.iter().map(|l| l.name.as_str()).collect();
        out_of_order += usize::from(names != (1..=10).map(|i| format!("t-{i}")).collect::<Vec<_>>());
    }
    assert!(out_of_order > 0, "start-up times vary, so the first runs are not always in spawn order");
    // With noise off they all start at once, as the scenario says.
    let quiet = run(&ten_counting_threads(1).replacen(r#""cores": 4"#, r#""cores": 4, "noise": false"#, 1), Some(1));
    assert!(quiet.threads.iter().filter(|t| t.kind == "thread").all(|t| t.started_ms == Some(0.0)));
}

#[test]
fn ten_short_unlocked_counting_threads_started_apart_lose_nothing_in_many_runs_and_little_in_others() {
    // 100 increments of 50 ns: 5 µs of work each, less than a spawn call
    // and a start-up, so threads started one after another overlap only
    // now and then, and then briefly. `twine run` on this scenario on 2
    // CPUs (2026-12-05 08:30 UTC, normal scheduling, each run's output
    // captured by a waiting driver): something lost in 12 and 16 of 30
    // seeds, 26 of 60, 2-166 updates. The model on 2 cores: in 20 of 30,
    // 14-229: more often than Linux, as its new threads alternate between
    // the two cores (`fork_target`) where Linux's split is less even when
    // the threads do not sleep at once.
    let two_cores = ten_counting_threads(100).replacen(r#""cores": 4"#, r#""cores": 2"#, 1);
    let lost: Vec<i64> = (1..=30).map(|seed| run(&two_cores, Some(seed)).counters[0].lost_updates).collect();
    let some = lost.iter().filter(|&&n| n > 0).count();
    assert!((6..=24).contains(&some), "seeds that lost updates: {some} of 30: {lost:?}");
    assert!(lost.iter().all(|&n| n < 300), "{lost:?}");
}

/// For each thread of `json` run with `seed`: the core it started up on
/// and the cores it ran on after its later `start`.
fn cores_before_and_after_start(json: &str, seed: u64, start_ns: u64) -> Vec<(u64, Vec<u64>)> {
    let scenario = Scenario::from_json(json).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, Some(seed));
    sim.run();
    let mut threads = std::collections::BTreeMap::<u64, (Option<u64>, Vec<u64>)>::new();
    for line in sim.jsonl().lines().skip(1) {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if e["kind"] == "thread_run" && e["thread"].as_u64() != Some(0) {
            let t = threads.entry(e["thread"].as_u64().unwrap()).or_default();
            let core = e["core"].as_u64().unwrap();
            match e["t"].as_u64().unwrap() < start_ns {
                true => t.0 = t.0.or(Some(core)),
                false => t.1.push(core),
            }
        }
    }
    threads.into_values().map(|(up, after)| (up.expect("started up before its start"), after)).collect()
}

#[test]
fn threads_woken_together_wait_for_the_core_they_started_up_on_while_another_idles() {
    // Ten 100 µs threads started up one by one, asleep until 1 ms, then
    // woken together on 2 cores. On Linux (`twine run` with counter-race,
    // 20 runs, 2026-12-05) 187 of 200 ran on the CPU they had started up
    // on, 2 to 5 of them on one CPU, and an idle CPU left the other's
    // queue alone: so a run takes longer than its work over two cores.
    let json = r#"{"machine": {"cores": 2}, "threads": [
        {"name": "w", "count": 10, "start_ms": 1, "steps": [{"cpu": 0.1}]}
    ]}"#;
    let (mut moved, mut uneven) = (0, 0);
    for seed in 1..=20 {
        let threads = cores_before_and_after_start(json, seed, 1_000_000);
        assert_eq!(threads.len(), 10);
        for (up, after) in &threads {
            // A thread stays where it first runs after its sleep (nothing
            // steals within 4 ms), and that is where it started up unless
            // that core was busy and the other free.
            assert_eq!(after.len(), 1, "seed {seed}: {threads:?}");
            moved += usize::from(after[0] != *up);
        }
        let on_0 = threads.iter().filter(|(_, after)| after[0] == 0).count();
        uneven += usize::from(on_0 != 5);
        let m = run(json, Some(seed));
        let ends = m.threads.iter().filter_map(|t| t.finished_ms).fold(0.0, f64::max);
        let busiest = on_0.max(10 - on_0) as f64;
        assert!(ends >= 1.0 + busiest * 0.1 * 0.97, "seed {seed}: {on_0} threads on core 0, all done at {ends} ms");
    }
    assert!(moved <= 40, "{moved} of 200 threads ran off the core they started up on");
    assert!(uneven >= 10, "only {uneven} of 20 seeds split the threads unevenly");
    // Without noise the model's machine is ideal: one queue, any free core.
    let ideal = json.replace(r#""cores": 2"#, r#""cores": 2, "noise": false"#);
    let m = run(&ideal, Some(1));
    let ends = m.threads.iter().filter_map(|t| t.finished_ms).fold(0.0, f64::max);
    assert!((ends - 1.5).abs() < 1e-6, "{ends}");
}

#[test]
fn threads_started_in_a_loop_spread_over_two_cores_as_linux_places_new_threads() {
    // Linux puts a new thread on an idle CPU if there is one, else on the
    // CPU with fewer threads, its starter's on a tie (fork balancing),
    // where it waits even if the other CPU frees first. counter-race's ten
    // threads, started in a loop by `twine run`, each asleep until 2 ms
    // once started up, then ran 5/5 on the 2 CPUs in 3 runs of 20, 6/4 in
    // 7, 7/3 in 6, 8/2 in 3, 9/1 in 1 (2026-12-05), mostly where they had
    // started up. A model whose new threads queued for any core ran them
    // 7/3 to 9/1 in 74 of 100 seeds: the starter's core stayed the
    // starter's through the loop, and fewer threads counted at once.
    let json = r#"{"machine": {"cores": 2}, "threads": [
        {"name": "w", "count": 10, "start_ms": 2, "steps": [{"cpu": 0.05}]}
    ]}"#;
    let mut splits = [0; 11];
    for seed in 1..=60 {
        let threads = cores_before_and_after_start(json, seed, 2_000_000);
        let on_0 = threads.iter().filter(|(_, after)| after[0] == 0).count();
        splits[on_0.max(10 - on_0)] += 1;
    }
    let even = splits[5] + splits[6];
    let skewed: usize = splits[8..].iter().sum();
    assert!((18..=42).contains(&even), "5/5 or 6/4 in {even} of 60 seeds: {splits:?}");
    assert!(skewed <= 12, "8/2 or worse in {skewed} of 60 seeds: {splits:?}");
}

/// A counter's cache line moves between cores: two threads stepping on
/// one counter from two cores at once each pay for the move on nearly
/// every step, so each counts slower than one alone, and not on two
/// counters of their own (`twine run` on 2 CPUs: 1.28x, `LINE_MOVE_NS`).
#[test]
fn two_threads_counting_one_counter_on_two_cores_count_slower_than_on_two_counters() {
    let counting = |b_counts: &str| {
        let json = format!(
            r#"{{"machine": {{"cores": 2}}, "threads": [
                {{"name": "a", "steps": [{{"repeat": {{"times": 20000, "steps": [{{"increment": "x"}}]}}}}]}},
                {{"name": "b", "steps": [{{"repeat": {{"times": 20000, "steps": [{{"increment": "{b_counts}"}}]}}}}]}}]}}"#
        );
        let m = run(&json, Some(1));
        m.threads.iter().filter(|t| t.kind == "thread").map(|t| t.cpu_ms).sum::<f64>() / 2.0
    };
    let (shared, own) = (counting("x"), counting("y"));
    // 20,000 steps of 50 ns: 1 ms each, and a few µs to start.
    assert!((1.0..1.1).contains(&own), "on their own counters: {own} ms of CPU each");
    assert!(shared > own * 1.2, "on one counter: {shared} ms each, on their own {own}");
}

/// A Rust thread's exit holds its core (`Noise::thread_exit`): on one core
/// the next thread starts only after it, and its own start-up.
#[test]
fn a_thread_waiting_for_a_core_starts_after_the_last_ones_exit() {
    let json = r#"{"machine": {"cores": 1}, "threads": [{"name": "t", "count": 2, "steps": [{"print": "in"}, {"cpu": 0.1}]}]}"#;
    for seed in 1..=5 {
        let m = run(json, Some(seed));
        let first_done =
            m.threads.iter().filter(|t| t.kind == "thread").filter_map(|t| t.finished_ms).fold(f64::MAX, f64::min);
        let second_in = m.output.iter().map(|l| l.t_ms).fold(0.0, f64::max);
        // At least 7 µs of exit, then at least 5 of start-up.
        assert!(second_in - first_done >= 0.012, "seed {seed}: done at {first_done} ms, the next in at {second_in} ms");
    }
}

/// The engine's starter holds a core for each spawn call (`spawner`). With
/// two cores, while it starts ten threads that each work 200 µs, the
/// threads have one core between them, so they run one at a time until
/// the starter is done; started apart on free cores (the old model), two
/// ran at once from the second thread on.
#[test]
fn with_two_cores_the_starting_thread_leaves_its_threads_one_core_while_it_starts_them() {
    let json = r#"{"machine": {"cores": 2},
        "threads": [{"name": "w", "count": 10, "steps": [{"print": "in"}, {"cpu": 0.2}, {"print": "out"}]}]}"#;
    for seed in 1..=5 {
        let m = run(json, Some(seed));
        let last_spawn = m.threads.iter().filter_map(|t| t.started_ms).fold(0.0, f64::max);
        // Workers inside their work at each instant, up to the last spawn.
        let mut inside = 0;
        let mut most = 0;
        for line in m.output.iter().filter(|l| l.t_ms < last_spawn) {
            inside += if line.text == "in" { 1 } else { -1 };
            most = most.max(inside);
        }
        assert_eq!(most, 1, "seed {seed}: {most} workers ran at once while threads were being started");
        // The starter's core time is the machine's: ten calls of 8 µs or more.
        let busy: f64 = m.cores.iter().map(|c| c.busy_ms).sum();
        let work: f64 = m.threads.iter().map(|t| t.cpu_ms).sum();
        assert!(busy - work >= 10.0 * 0.008, "seed {seed}: cores busy {busy} ms, threads' CPU {work} ms");
    }
}

fn python_output(name: &str, source: &str, variant: Option<&str>, seed: u64) -> Vec<String> {
    let scenario = Scenario::from_python_variant(name, source, variant).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, Some(seed));
    sim.run();
    sim.metrics().output.iter().map(|l| l.text.clone()).collect()
}

/// Twisted's pool starts its threads one at a time, each with CPython's
/// `Thread.start()`, which returns once the new thread runs; each new
/// thread is handed its job as it starts. So three jobs handed to the pool
/// at once finish in the order given: CPython 3.11 + Twisted 26.10 printed
/// these three lines in this order in 19 of 20 runs (the other: the last
/// two swapped). The model used to start the three threads at once and
/// let their start-up noise pick the order: right for 1 seed in 6.
#[test]
fn jobs_handed_to_new_pool_threads_at_once_finish_in_the_order_given_as_in_twisted() {
    three_jobs_finish_in_the_order_given("hand_over()\nreactor.run()\n");
}

/// The same three jobs handed over once the reactor runs. The pool thread
/// that failed was handed its job first and has slept on the GIL the
/// longest when the reactor lets go of it at the end of its turn, and
/// the GIL let go by itself goes to its longest sleeper: CPython 3.11 +
/// Twisted 26.10 printed this order in 10 of 10 runs (2026-12-05). The
/// model's uniform pick printed it in 10 of 20 seeds (then 6 of 20 with
/// the pool's start on the caller's CPU).
#[test]
fn jobs_handed_over_while_the_reactor_runs_finish_in_the_order_given_as_in_twisted() {
    three_jobs_finish_in_the_order_given("reactor.callWhenRunning(hand_over)\nreactor.run()\n");
}

/// Three jobs for the pool, `hand_over()` gives them: a result, a failure
/// and a `callFromThread`.
const THREE_JOBS: &str = r#"
from twisted.internet import reactor, threads, defer
import threading
def work(x):
    return x * 10, threading.current_thread().name.startswith("MainThread")
def boom():
    raise RuntimeError("in thread")
def from_thread():
    reactor.callFromThread(print, "called from thread")
def hand_over():
    d = threads.deferToThread(work, 4)
    d.addCallback(lambda r: print("result", r[0], "on main:", r[1]))
    d2 = threads.deferToThread(boom)
    d2.addErrback(lambda f: print("failed", f.getErrorMessage()))
    threads.deferToThread(from_thread)
    dl = defer.DeferredList([d, d2])
    dl.addCallback(lambda _: reactor.callLater(0.05, reactor.stop))
"#;

/// [`THREE_JOBS`] then `run`, for seeds 1-8: their lines in the order given.
fn three_jobs_finish_in_the_order_given(run: &str) {
    let source = format!("{THREE_JOBS}{run}");
    for seed in 1..=8 {
        assert_eq!(
            python_output("t.py", &source, None, seed),
            ["result 40 on main: False", "failed in thread", "called from thread"],
            "seed {seed}"
        );
    }
}

/// pool-saturation's twelve threads begin their first jobs in the order
/// the pool started them, as in CPython: over 10 runs of the preset under
/// CPython 3.11 + Twisted 26.10, every thread's first "starts a job" line
/// was at most one place from its number (7 runs in order, 3 with one
/// neighbouring pair swapped). The model used to scramble them
/// (4, 1, 5, 11, 10, ... for seed 1).
#[test]
fn pool_threads_begin_their_first_jobs_in_the_order_they_were_started_as_in_cpython() {
    let source = include_str!("../../www/presets/pool-saturation.py");
    for seed in 1..=5 {
        let out = python_output("pool-saturation.py", source, Some("twelve-threads"), seed);
        let order: Vec<usize> = out
            .iter()
            .filter_map(|l| l.strip_prefix("PoolThread-twisted.internet.reactor-")?.split(' ').next()?.parse().ok())
            .take(12)
            .collect();
        assert_eq!(order.len(), 12, "seed {seed}: {out:?}");
        assert!(
            order.iter().enumerate().all(|(place, &n)| place.abs_diff(n) <= 1),
            "seed {seed}: threads began in the order {order:?}"
        );
    }
}

/// A gate: `threads` threads wait at one `Event`, then each notes its
/// number as it comes through and computes for `work_ms`; the main thread
/// sleeps `sleep_s` first (so the waiters have waited that long), then
/// sets it. The order they came through, for seeds 1-20 on 2 cores.
fn gate_orders(threads: u32, work_ms: f64, sleep_s: f64) -> Vec<Vec<u32>> {
    let source = format!(
        r#"
import threading, time
import twine
gate = threading.Event()
order = []
def work(n):
    gate.wait()
    order.append(n)
    twine.cpu({work_ms})
threads = [threading.Thread(target=work, args=(n,)) for n in range({threads})]
for t in threads:
    t.start()
if {sleep_s}:
    time.sleep({sleep_s})
gate.set()
for t in threads:
    t.join()
print(*order)
"#
    );
    let scenario = Scenario::from_python_variant("gate.py", &source, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_spec(|spec| spec.machine.cores = 2)
        .unwrap();
    (1..=20)
        .map(|seed| {
            let mut sim = Simulation::new(&scenario, Some(seed));
            sim.run();
            let order: Vec<u32> = sim.metrics().output[0].text.split(' ').map(|n| n.parse().unwrap()).collect();
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..threads).collect::<Vec<_>>(), "seed {seed}: every thread comes through once");
            order
        })
        .collect()
}

/// `Event.set()` is `Condition.notify_all()`: it releases the waiters one
/// by one, in the order they waited, and they reach the GIL mostly in that
/// order. Five threads at a gate set as soon as they are started, each
/// computing 1 ms: CPython 3.11 on 2 cores (60 runs, 2026-12-05, 21:40 UTC)
/// let thread 0 through first in 42, all five in order in 21; with 0.5 ms
/// chunks and a 12 ms thread last (90 runs), the first waiter ran first in
/// 78. The model used to wake them all at one instant, their order left to
/// independent latencies: thread 0 first in 7 of 30 seeds, all in order in
/// none. The OS's order is not steady: the same five threads in CPython on
/// 2026-12-06 (200 runs, 11:00-11:30 UTC) came through thread 0 first in
/// 47, thread 1 first in 100, all in order in 32, mostly as a pair or two
/// swapped ("1 0 3 4 2", "1 0 2 3 4"). The model follows the first
/// measurement: a wider spread of wake-ups shuffled every thread instead
/// (`docs/fidelity.md`, stop 48). With each waiter's wake-up as long as one
/// blocked as long took here (`Noise::notify_latency`, stop 49), it lets
/// thread 0 through first in 33 of 40 seeds, thread 1 in 6, all in order
/// in 11 (60 seeds before: 60, 0 and 31).
#[test]
fn an_event_set_lets_its_waiters_through_in_the_order_they_waited() {
    let orders = gate_orders(5, 1.0, 0.0);
    let zero_first = orders.iter().filter(|o| o[0] == 0).count();
    assert!(zero_first >= 14, "thread 0 first in {zero_first} of 20 seeds: {orders:?}");
}

/// A thread's `join()` wakes a wake-up's latency after the thread ends,
/// as CPython's wait on the finished thread's lock does, so the GIL's
/// longest waiter, woken by the same exit, takes the GIL first as often
/// as not. The same five threads at a gate ran in start order in 21 of 60
/// CPython runs; the model's joiner, woken at once, took the GIL at every
/// exit and sent that waiter to the back: in start order in none of 30
/// seeds.
#[test]
fn a_join_wakes_no_sooner_than_the_threads_the_exit_lets_go() {
    let orders = gate_orders(5, 1.0, 0.0);
    let in_start_order = orders.iter().filter(|o| o.windows(2).all(|w| w[0] < w[1])).count();
    assert!(in_start_order >= 3, "in start order in {in_start_order} of 20 seeds: {orders:?}");
}

/// Waiters that have waited long wake less steadily, and come through in a
/// shuffled order, but the first waiter still mostly first. Ten threads
/// waiting 50 ms at a gate, each computing 1 us: CPython 3.11 on 2 cores
/// (60 runs, 2026-12-05, 21:45 UTC) let them through in start order in 1,
/// thread 0 first in 41. (This test's earlier version cited thread 0
/// first in 5 of 30 CPython runs, measured by an earlier session; today's
/// runs disagree, so it asks for what both saw: rarely in start order, and
/// thread 0 first in some.) The model used to let thread 0 through first
/// in none of 30 seeds.
#[test]
fn an_event_set_after_a_long_wait_lets_its_waiters_through_shuffled() {
    let orders = gate_orders(10, 0.001, 0.05);
    let in_start_order = orders.iter().filter(|o| o.windows(2).all(|w| w[0] < w[1])).count();
    let zero_first = orders.iter().filter(|o| o[0] == 0).count();
    assert!(in_start_order <= 2, "in start order in {in_start_order} of 20 seeds");
    assert!(zero_first >= 5, "thread 0 first in {zero_first} of 20 seeds: {orders:?}");
}
