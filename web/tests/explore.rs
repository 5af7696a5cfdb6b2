//! Explore: every schedule of a small program, its outcomes, and replays
//! of them; and the choice source the engine's decisions go through.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use twine_web::choice::{ChoiceKind, ChoicePoint, Chooser};
use twine_web::explore::{explore, replay, How, Outcome, Report};
use twine_web::{presets, EndReason, PythonScenario, Scenario, Simulation};

/// Two threads, each one read then one write of a shared counter.
const READ_WRITE: &str = r#"import threading
import twine

twine.machine(gil=False)
counter = 0


def work():
    global counter
    seen = counter
    counter = seen + 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"counter = {counter}")
"#;

fn py(source: &str) -> Scenario {
    Scenario::from_python("test.py", source).unwrap()
}

fn exhaustive(scenario: &Scenario) -> Report {
    explore(scenario, How::Exhaustive, 10_000).unwrap()
}

/// (counter, end, schedules) per outcome.
fn summary(report: &Report) -> Vec<(i64, String, u64)> {
    let mut s: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| (o.counters.get("counter").and_then(|v| v.as_i64()).unwrap_or(-1), o.end.clone(), o.schedules))
        .collect();
    s.sort();
    s
}

#[test]
fn two_threads_reading_then_writing_have_six_schedules_and_two_outcomes() {
    let report = exhaustive(&py(READ_WRITE));
    assert_eq!(report.schedules, 6);
    assert!(report.complete);
    assert_eq!(summary(&report), [(1, "quiet".into(), 4), (2, "quiet".into(), 2)]);
    let lost = report.outcomes.iter().find(|o| o.counters["counter"] == 1).unwrap();
    assert_eq!(lost.output, ["counter = 1"]);
}

#[test]
fn a_lock_around_the_update_leaves_only_the_right_count() {
    let locked = READ_WRITE.replace("counter = 0\n", "counter = 0\nlock = threading.Lock()\n").replace(
        "    seen = counter\n    counter = seen + 1\n",
        "    with lock:\n        seen = counter\n        counter = seen + 1\n",
    );
    let report = exhaustive(&py(&locked));
    assert!(report.complete);
    assert!(report.schedules > 1, "the threads still take the lock in either order");
    assert_eq!(summary(&report), [(2, "quiet".into(), report.schedules)]);
}

#[test]
fn with_the_gil_an_increment_is_not_split_but_a_read_and_a_write_are_when_a_call_comes_between() {
    let increment = READ_WRITE
        .replace("twine.machine(gil=False)", "twine.machine(gil=True)")
        .replace("    seen = counter\n    counter = seen + 1\n", "    counter += 1\n");
    let report = exhaustive(&py(&increment));
    assert_eq!(summary(&report), [(2, "quiet".into(), 2)], "only which thread goes first");

    let with_call = READ_WRITE
        .replace("twine.machine(gil=False)", "twine.machine(gil=True)")
        .replace("    seen = counter\n", "    seen = counter\n    twine.cpu(0.001)\n");
    assert_eq!(summary(&exhaustive(&py(&with_call))), [(1, "quiet".into(), 4), (2, "quiet".into(), 2)]);
}

const DEADLOCK: &str = r#"import threading
import twine

twine.machine(gil=False)
a = threading.Lock()
b = threading.Lock()


def one():
    with a:
        with b:
            pass


def two():
    with b:
        with a:
            pass


t1 = threading.Thread(target=one)
t2 = threading.Thread(target=two)
t1.start()
t2.start()
t1.join()
t2.join()
print("done")
"#;

#[test]
fn two_locks_taken_in_opposite_orders_can_deadlock() {
    let report = exhaustive(&py(DEADLOCK));
    assert!(report.complete);
    let deadlock = report.outcomes.iter().find(|o| o.end == "deadlock").expect("a deadlock outcome");
    assert!(deadlock.output.is_empty(), "main never prints");
    let fine = report.outcomes.iter().find(|o| o.end == "quiet").expect("and schedules that finish");
    assert_eq!(fine.output, ["done"]);
    assert_eq!(deadlock.schedules + fine.schedules, report.schedules);
}

#[test]
fn max_schedules_bounds_the_walk_and_says_it_is_incomplete() {
    let report = explore(&py(DEADLOCK), How::Exhaustive, 3).unwrap();
    assert_eq!(report.schedules, 3);
    assert!(!report.complete);
    assert_eq!(report.outcomes.iter().map(|o| o.schedules).sum::<u64>(), 3);
}

fn replays_to(scenario: &Scenario, outcome: &Outcome) {
    let mut r = replay(scenario, &outcome.example).unwrap();
    r.sim.run();
    assert_eq!(r.misfit.get(), None);
    let printed: Vec<String> = r.sim.metrics().output.iter().map(|l| l.text.clone()).collect();
    assert_eq!(printed, outcome.output, "{}", outcome.example);
    assert_eq!(r.sim.end_reason().map(EndReason::as_str), Some(outcome.end.as_str()));
}

#[test]
fn replaying_an_example_reaches_its_outcome() {
    for source in [READ_WRITE, DEADLOCK] {
        let scenario = py(source);
        for outcome in &exhaustive(&scenario).outcomes {
            replays_to(&scenario, outcome);
        }
    }
    let report = explore(&py(READ_WRITE), How::Seeds(8), 100).unwrap();
    assert_eq!(report.schedules, 8);
    assert!(!report.complete);
    for outcome in &report.outcomes {
        assert!(outcome.example.starts_with("seed:"));
        replays_to(&py(READ_WRITE), outcome);
    }
}

#[test]
fn a_schedule_that_does_not_fit_says_where() {
    let mut r = replay(&py(READ_WRITE), "counter/1.7").unwrap();
    r.sim.run();
    assert_eq!(r.misfit.get().unwrap(), "choice 2 names thread 7, which is not waiting there (waiting: 2, 1)");
    let mut r = replay(&py(READ_WRITE), "counter/1.1.1.1").unwrap();
    r.sim.run();
    assert_eq!(r.misfit.get().unwrap(), "the run ended after 2 choices; the schedule has 4");
    let err = replay(&py(READ_WRITE), "counter/1.x").err().unwrap();
    assert_eq!(err, "schedule `counter/1.x`: `x` is not a thread number");
}

#[test]
fn json_counter_steps_are_visible_operations() {
    let json = r#"{"machine": {"cores": 2, "gil": false},
        "threads": [{"name": "w", "count": 2, "steps": [{"read": "n"}, {"write": "n"}]}]}"#;
    let report = exhaustive(&Scenario::from_json(json).unwrap());
    assert_eq!(report.schedules, 6);
    let counts: Vec<(i64, u64)> =
        report.outcomes.iter().map(|o| (o.counters["n"].as_i64().unwrap(), o.schedules)).collect();
    assert_eq!(counts, [(1, 4), (2, 2)]);
}

#[test]
fn exploring_twice_gives_the_same_report() {
    let a = serde_json::to_string(&exhaustive(&py(DEADLOCK))).unwrap();
    let b = serde_json::to_string(&exhaustive(&py(DEADLOCK))).unwrap();
    assert_eq!(a, b);
}

/// Answers 0 everywhere: the default policy.
struct Default0;
impl Chooser for Default0 {
    fn choose(&mut self, _: &ChoicePoint<'_>) -> usize {
        0
    }
}

#[test]
fn a_chooser_that_takes_option_zero_changes_nothing() {
    for preset in presets::all() {
        for v in preset.variants() {
            let file = format!("{}.py", preset.name);
            let python = Scenario::from_python_variant(&file, preset.python, Some(&v.name)).unwrap();
            for scenario in [preset.scenario(Some(&v.name)).unwrap(), python] {
                let mut plain = Simulation::new(&scenario, Some(3));
                plain.run();
                let mut chosen = Simulation::with_chooser(&scenario, Some(3), Box::new(Default0));
                chosen.run();
                assert_eq!(plain.jsonl(), chosen.jsonl(), "{}/{}", preset.name, v.name);
            }
        }
    }
}

/// Always the thread that has waited least, for the one kind of decision.
struct Newest(ChoiceKind);
impl Chooser for Newest {
    fn choose(&mut self, point: &ChoicePoint<'_>) -> usize {
        if point.kind == self.0 {
            point.options.len() - 1
        } else {
            0
        }
    }
}

#[test]
fn the_chooser_decides_which_ready_thread_gets_a_free_core() {
    // Without noise the three start at once and wait together for the
    // core the reactor thread holds at the start.
    let json = r#"{"machine": {"cores": 1, "noise": false},
        "threads": [{"name": "t", "count": 3, "steps": [{"cpu": 1}, {"print": "{thread}"}]}]}"#;
    let scenario = Scenario::from_json(json).unwrap();
    let order = |sim: &mut Simulation| {
        sim.run();
        sim.metrics().output.iter().map(|l| l.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(order(&mut Simulation::new(&scenario, None)), ["t-1", "t-2", "t-3"]);
    let mut sim = Simulation::with_chooser(&scenario, None, Box::new(Newest(ChoiceKind::Core)));
    assert_eq!(order(&mut sim), ["t-3", "t-2", "t-1"]);
}

#[test]
fn the_chooser_decides_which_waiter_a_released_lock_goes_to() {
    // t-1 takes the lock first; t-2 and t-3 wait for it, in that order
    // (without noise, whose start-up costs would vary who waits first).
    let json = r#"{"machine": {"cores": 4, "noise": false},
        "threads": [
            {"name": "t", "count": 3, "steps": [
                {"lock": {"name": "l", "fair": true, "steps": [{"cpu": 1}, {"print": "{thread}"}]}}]}]}"#;
    let scenario = Scenario::from_json(json).unwrap();
    let order = |sim: &mut Simulation| {
        sim.run();
        sim.metrics().output.iter().map(|l| l.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(order(&mut Simulation::new(&scenario, None)), ["t-1", "t-2", "t-3"]);
    let mut sim = Simulation::with_chooser(&scenario, None, Box::new(Newest(ChoiceKind::Lock)));
    assert_eq!(order(&mut sim), ["t-1", "t-3", "t-2"]);
}

fn twine_sim(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twine-sim")).args(args).output().expect("twine-sim runs");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn twine_sim_explore_prints_the_outcomes_and_replays_one() {
    let dir = std::env::temp_dir().join(format!("twine-explore-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rw.py");
    std::fs::write(&file, READ_WRITE).unwrap();
    let file = file.to_str().unwrap();

    let (ok, stdout, stderr) = twine_sim(&["explore", file, "--exhaustive"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["schedules"], 6);
    assert_eq!(report["complete"], true);
    let lost = &report["outcomes"][0];
    assert_eq!(lost["counters"]["counter"], 1);
    assert_eq!(lost["schedules"], 4);
    assert_eq!(lost["output_digest"].as_str().unwrap().len(), 16);

    let (ok, stdout, stderr) = twine_sim(&[file, "--schedule", lost["example"].as_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("counter = 1"), "{stdout}");

    let (ok, stdout, _) = twine_sim(&["explore", file, "--max-schedules", "2"]);
    assert!(ok);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((report["schedules"].as_u64(), report["complete"].as_bool()), (Some(2), Some(false)));

    let (ok, _, stderr) = twine_sim(&[file, "--schedule", "counter/9"]);
    assert!(!ok);
    assert_eq!(
        stderr.trim(),
        "twine-sim: --schedule: choice 1 names thread 9, which is not waiting there (waiting: 1, 2)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Takes the last option of every GIL decision and notes the thread it took.
struct LastGilWaiter(std::rc::Rc<std::cell::RefCell<Vec<u32>>>);
impl Chooser for LastGilWaiter {
    fn choose(&mut self, point: &ChoicePoint<'_>) -> usize {
        if point.kind != ChoiceKind::Gil {
            return 0;
        }
        self.0.borrow_mut().push(point.options[point.options.len() - 1]);
        point.options.len() - 1
    }
}

#[test]
fn the_chooser_decides_which_waiter_gets_the_gil() {
    // The reactor lets go of the GIL at 0 ms with three threads waiting;
    // each then computes 1 ms (less than a switch interval) and prints.
    let json = r#"{"machine": {"cores": 4, "gil": true, "noise": false},
        "threads": [{"name": "t", "count": 3, "steps": [{"cpu": 1}, {"print": "{thread}"}]}]}"#;
    let scenario = Scenario::from_json(json).unwrap();
    let taken = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut sim = Simulation::with_chooser(&scenario, None, Box::new(LastGilWaiter(taken.clone())));
    sim.run();
    let order: Vec<String> = sim.metrics().output.iter().map(|l| l.text.clone()).collect();
    let taken = taken.borrow();
    assert_eq!(taken.len(), 2, "two decisions: among three waiters, then two");
    let names: Vec<String> = taken.iter().map(|tid| format!("t-{tid}")).collect();
    assert_eq!(order[..2], names[..]);
}

/// Three threads: two update `a` (read, then write), one updates `b`.
const THREE_ON_TWO: &str = r#"import threading
import twine

twine.machine(gil=False)
a = 0
b = 0


def on_a():
    global a
    seen = a
    a = seen + 1


def on_b():
    global b
    seen = b
    b = seen + 1


threads = [threading.Thread(target=f) for f in (on_a, on_a, on_b)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"a = {a}, b = {b}")
"#;

fn locked(source: &str) -> String {
    source.replace("counter = 0\n", "counter = 0\nlock = threading.Lock()\n").replace(
        "    seen = counter\n    counter = seen + 1\n",
        "    with lock:\n        seen = counter\n        counter = seen + 1\n",
    )
}

/// Each distinct outcome: (final values, output digest, end).
fn outcome_set(report: &Report) -> std::collections::BTreeSet<(String, String, String)> {
    report
        .outcomes
        .iter()
        .map(|o| (serde_json::to_string(&o.counters).unwrap(), o.output_digest.clone(), o.end.clone()))
        .collect()
}

/// The full walk and the reduced one: the same outcomes, fewer schedules.
fn full_and_reduced(scenario: &Scenario) -> (Report, Report) {
    let full = explore(scenario, How::Exhaustive, 100_000).unwrap();
    let reduced = explore(scenario, How::Reduced, 100_000).unwrap();
    assert!(full.complete && reduced.complete);
    assert!(!full.reduced);
    assert_eq!(outcome_set(&full), outcome_set(&reduced));
    assert_eq!(reduced.outcomes.iter().map(|o| o.schedules).sum::<u64>(), reduced.schedules);
    assert!(reduced.schedules <= full.schedules);
    (full, reduced)
}

#[test]
fn the_reduced_walk_runs_one_order_of_commuting_operations_and_finds_every_outcome() {
    // The two reads commute: r1 r2 w1 w2 is r2 r1 w1 w2, and so on.
    let (full, reduced) = full_and_reduced(&py(READ_WRITE));
    assert_eq!((full.schedules, reduced.schedules), (6, 4));
    assert!(reduced.reduced);
    assert_eq!(summary(&reduced), [(1, "quiet".into(), 2), (2, "quiet".into(), 2)]);
    for outcome in &reduced.outcomes {
        replays_to(&py(READ_WRITE), outcome);
    }

    // b's thread commutes with both of a's.
    let (full, reduced) = full_and_reduced(&py(THREE_ON_TWO));
    assert_eq!(reduced.schedules, 4, "full: {}", full.schedules);
    assert!(full.schedules > 4 * 5);

    let (full, reduced) = full_and_reduced(&py(&locked(READ_WRITE)));
    assert!(reduced.schedules < full.schedules, "{} < {}", reduced.schedules, full.schedules);

    let (_, reduced) = full_and_reduced(&py(DEADLOCK));
    assert!(reduced.outcomes.iter().any(|o| o.end == "deadlock"));
}

#[test]
fn a_full_walk_past_the_bound_starts_over_reduced() {
    let report = explore(&py(READ_WRITE), How::Exhaustive, 5).unwrap();
    assert!(report.reduced && report.complete);
    assert_eq!(report.schedules, 4);
}

#[test]
fn threads_that_meet_where_the_explorer_cannot_see_are_not_reduced() {
    // A JSON lock step is not a visible operation: who takes the lock
    // first depends on the order of the reads before it, which commute.
    let json = r#"{"machine": {"gil": false}, "threads": [
        {"name": "x", "count": 1, "steps": [{"read": "a"}, {"lock": {"name": "l", "steps": [{"print": "x"}]}}]},
        {"name": "y", "count": 1, "steps": [{"read": "b"}, {"lock": {"name": "l", "steps": [{"print": "y"}]}}]}]}"#;
    let scenario = Scenario::from_json(json).unwrap();
    let full = explore(&scenario, How::Exhaustive, 1000).unwrap();
    let reduced = explore(&scenario, How::Reduced, 1000).unwrap();
    assert_eq!(outcome_set(&full), outcome_set(&reduced));
    assert_eq!(outcome_set(&full).len(), 2, "x or y prints first");
    assert!(!reduced.reduced, "the walk says it counted every order");
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// A JSON program of 2 or 3 threads (kinds of one), each 1 to 3
    /// counter steps on `a` or `b`: at most 1,680 orders.
    fn program() -> impl Strategy<Value = String> {
        let step = (0..3usize, prop::bool::ANY).prop_map(|(op, on_a)| {
            let op = ["read", "write", "increment"][op];
            format!(r#"{{"{op}": "{}"}}"#, if on_a { "a" } else { "b" })
        });
        prop::collection::vec(prop::collection::vec(step, 1..=3), 2..=3).prop_map(|kinds| {
            let threads: Vec<String> = kinds
                .iter()
                .enumerate()
                .map(|(i, steps)| format!(r#"{{"name": "t{i}", "count": 1, "steps": [{}]}}"#, steps.join(", ")))
                .collect();
            format!(r#"{{"machine": {{"gil": false}}, "threads": [{}]}}"#, threads.join(", "))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn the_reduced_walk_finds_exactly_the_outcomes_of_the_full_one(json in program()) {
            let scenario = Scenario::from_json(&json).unwrap();
            let full = explore(&scenario, How::Exhaustive, 1_000_000).unwrap();
            let reduced = explore(&scenario, How::Reduced, 1_000_000).unwrap();
            prop_assert!(full.complete && reduced.complete);
            prop_assert_eq!(outcome_set(&full), outcome_set(&reduced));
            prop_assert!(reduced.schedules <= full.schedules);
        }
    }
}

#[test]
fn seeds_list_each_seeds_figures_as_seed_figures_gives_them() {
    let report = explore(&py(READ_WRITE), How::Seeds(3), 100).unwrap();
    let seeds: Vec<u64> = report.seeds.iter().map(|s| s.seed).collect();
    assert_eq!(seeds, [1, 2, 3]);
    for figures in &report.seeds {
        assert_eq!(*figures, twine_web::explore::seed_figures(&py(READ_WRITE), figures.seed));
        assert_eq!(figures.end, "quiet");
        assert!(figures.lost_updates <= 1);
        assert!(figures.last_line_ms.is_some() && figures.p99_ms.is_none());
    }
    let counter = presets::find("counter-race").unwrap().scenario(Some("nogil-unlocked")).unwrap();
    let report = explore(&counter, How::Seeds(4), 100).unwrap();
    assert!(report.seeds.iter().all(|f| f.lost_updates > 0), "{:?}", report.seeds);
    // The lost updates are what the counters miss.
    let mut sim = Simulation::new(&counter, Some(2));
    sim.run();
    let missing: i64 = sim.metrics().counters.iter().map(|c| c.lost_updates).sum();
    assert_eq!(report.seeds[1].lost_updates, missing);
    assert!(explore(&counter, How::Exhaustive, 1).unwrap().seeds.is_empty(), "only seeds list seeds");
}
