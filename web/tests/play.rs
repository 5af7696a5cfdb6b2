//! Playing the scheduler: a run stops at each choice of which thread goes
//! next, says who could go and what each would do, and a schedule of the
//! picks replays the run; the page's challenges can be played to their goals.
#![cfg(not(target_arch = "wasm32"))]

use twine_web::explore::{play, replay, PlayState};
use twine_web::{PythonScenario, Scenario};

const LOST_UPDATE: &str = include_str!("../../www/challenges/lost-update.py");
const DEADLOCK: &str = include_str!("../../www/challenges/deadlock.py");

fn scenario(source: &str) -> Scenario {
    Scenario::from_python("challenge.py", source).unwrap()
}

/// Plays `schedule` on `source` and says where the run stands.
fn state(source: &str, schedule: &str) -> PlayState {
    let (mut sim, player) = play(&scenario(source), schedule).unwrap();
    sim.run();
    player.state(&sim)
}

/// The schedule with `thread` picked next.
fn pick(state: &PlayState, thread: u32) -> String {
    let sep = if state.schedule.ends_with('/') { "" } else { "." };
    format!("{}{sep}{thread}", state.schedule)
}

/// The number of the option named `name` at the pending choice.
fn thread_named(state: &PlayState, name: &str) -> u32 {
    let pending = state.pending.as_ref().expect("a choice is pending");
    pending.options.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name} is no option: {pending:?}")).thread
}

/// The line of `source` (from 1) that contains `text`.
fn line_of(source: &str, text: &str) -> u32 {
    source.lines().position(|l| l.contains(text)).unwrap() as u32 + 1
}

#[test]
fn a_fresh_run_stops_at_the_first_choice_with_both_threads_before_their_read() {
    let s = state(LOST_UPDATE, "");
    assert_eq!(s.end, None);
    assert_eq!(s.schedule, "hits/");
    let pending = s.pending.unwrap();
    let options: Vec<(&str, u32, &str)> =
        pending.options.iter().map(|o| (o.name.as_str(), o.line, o.op.as_str())).collect();
    let read = line_of(LOST_UPDATE, "seen = hits");
    assert_eq!(options, [("counter-1", read, "read hits"), ("counter-2", read, "read hits")]);
}

#[test]
fn after_a_prefix_the_pending_choice_names_who_is_where() {
    let first = state(LOST_UPDATE, "");
    let one = thread_named(&first, "counter-1");
    let s = state(LOST_UPDATE, &pick(&first, one));
    let pending = s.pending.expect("a second choice");
    let by_name = |name: &str| pending.options.iter().find(|o| o.name == name).unwrap();
    // counter-1 read and passed the call, so it stopped before its write; counter-2 has not read yet.
    assert_eq!(by_name("counter-1").op, "write hits");
    assert_eq!(by_name("counter-1").line, line_of(LOST_UPDATE, "hits = seen + 1"));
    assert_eq!(by_name("counter-2").op, "read hits");
    assert_eq!(by_name("counter-2").line, line_of(LOST_UPDATE, "seen = hits"));
}

/// Picks threads by name until the run ends, each pick from the choice pending.
fn play_by_names(source: &str, names: &[&str]) -> PlayState {
    let mut s = state(source, "");
    for name in names {
        let thread = thread_named(&s, name);
        s = state(source, &pick(&s, thread));
    }
    while let Some(pending) = &s.pending {
        // Past the picks: the longest waiting goes, as without a player.
        let thread = pending.options[0].thread;
        s = state(source, &pick(&s, thread));
    }
    s
}

#[test]
fn both_reading_before_either_writes_loses_an_update() {
    let s = play_by_names(LOST_UPDATE, &["counter-1", "counter-2"]);
    assert_eq!(s.end.as_deref(), Some("quiet"));
    assert_eq!(s.values["hits"], 1);
    assert_eq!(s.misfit, None);
    // The schedule replays the same run.
    let mut again = replay(&scenario(LOST_UPDATE), &s.schedule).unwrap();
    again.sim.run();
    assert_eq!(again.sim.metrics().output.last().unwrap().text, "hits = 1");
    assert_eq!(again.misfit.get(), None);
}

#[test]
fn one_thread_at_a_time_counts_both() {
    let s = play_by_names(LOST_UPDATE, &["counter-1", "counter-1"]);
    assert_eq!(s.values["hits"], 2);
}

#[test]
fn one_payment_after_the_other_makes_both() {
    let s = play_by_names(DEADLOCK, &["alice-pays-bob", "alice-pays-bob"]);
    assert_eq!(s.end.as_deref(), Some("quiet"));
    assert_eq!(s.values["moved"], 2);
}

#[test]
fn a_thread_about_to_take_a_lock_says_which() {
    let s = state(DEADLOCK, "");
    let ops: Vec<(&str, &str)> =
        s.pending.as_ref().unwrap().options.iter().map(|o| (o.name.as_str(), o.op.as_str())).collect();
    assert_eq!(ops, [("alice-pays-bob", "enter with alice"), ("bob-pays-alice", "enter with bob")]);
}

#[test]
fn taking_the_locks_crosswise_deadlocks() {
    let s = play_by_names(DEADLOCK, &["alice-pays-bob", "bob-pays-alice"]);
    assert_eq!(s.end.as_deref(), Some("deadlock"));
    assert_eq!(s.values["moved"], 0);
}

#[test]
fn a_pick_of_a_thread_that_is_not_waiting_is_reported() {
    let s = state(LOST_UPDATE, "hits/7");
    assert_eq!(s.misfit.as_deref(), Some("choice 1 names thread 7, which is not waiting there (waiting: 1, 2)"));
}
