//! Timers that act on each other within one turn, as Twisted's
//! `runUntilCurrent` runs them: a timer cancelled or moved by an earlier one
//! of the same turn does not run, a panic is reported against its own timer
//! and the rest run, a zero-delay call made by a timer waits for the next
//! turn, and system event triggers a timer queues run before the next
//! timer. The same whether the driver runs whole turns (`handle_timeout`)
//! or steps them one call at a time (`begin_turn` + `run_next_call`, as the
//! simulation does), with the same trace.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use twine_core::reactor::DelayedCall;
use twine_core::trace::{CallSource, Recorder, SystemEvent, TraceEvent, TraceRecord, TriggerPhase};
use twine_core::{Reactor, ReactorDriver, Time};

type Log = Rc<RefCell<Vec<&'static str>>>;

fn push(log: &Log, entry: &'static str) -> impl FnOnce(&Reactor) + 'static {
    let log = log.clone();
    move |_| log.borrow_mut().push(entry)
}

/// A driver with a lent clock that the test (and its timers) move.
fn driver() -> (ReactorDriver, Rc<Cell<Time>>) {
    let driver = ReactorDriver::new();
    let now = Rc::new(Cell::new(Time::ZERO));
    let n = now.clone();
    driver.set_clock(move || n.get());
    (driver, now)
}

/// How the driver runs a turn.
#[derive(Clone, Copy, Debug)]
enum Turns {
    /// `handle_timeout`.
    Whole,
    /// `begin_turn`, then `run_next_call` until it says the turn is over.
    Stepped,
}

fn turn(driver: &ReactorDriver, now: Time, turns: Turns) {
    match turns {
        Turns::Whole => driver.handle_timeout(now),
        Turns::Stepped => {
            driver.begin_turn(now);
            while driver.run_next_call() {}
        }
    }
}

/// Seven timers due at once that act on each other, run in two turns:
/// the log, the trace and the stats.
fn busy_turns(turns: Turns) -> (Vec<&'static str>, Vec<TraceRecord>, (u64, u64, u64)) {
    let (driver, now) = driver();
    let recorder = Recorder::new();
    driver.set_trace_sink(recorder.clone());
    let log = Log::default();
    let r = driver.reactor();
    let later: Rc<RefCell<Vec<DelayedCall>>> = Rc::default();
    let (l, calls) = (log.clone(), later.clone());
    r.call_later(Duration::ZERO, move |reactor| {
        l.borrow_mut().push("first");
        calls.borrow()[0].cancel().unwrap();
        calls.borrow()[1].reset(Duration::ZERO).unwrap();
        reactor.call_later(Duration::ZERO, push(&l, "soon, from first"));
    });
    r.call_later(Duration::ZERO, |_| panic!("boom"));
    later.borrow_mut().push(r.call_later(Duration::ZERO, push(&log, "cancelled by first")));
    later.borrow_mut().push(r.call_later(Duration::ZERO, push(&log, "moved by first")));
    r.add_system_event_trigger(TriggerPhase::Before, SystemEvent::named("persist"), {
        let log = log.clone();
        move |_| {
            log.borrow_mut().push("persist trigger");
            None
        }
    });
    let l = log.clone();
    r.call_later(Duration::ZERO, move |reactor| {
        l.borrow_mut().push("fires persist");
        reactor.fire_system_event(SystemEvent::named("persist"));
    });
    let (l, n) = (log.clone(), now.clone());
    r.call_later(Duration::ZERO, move |_| {
        l.borrow_mut().push("slow");
        n.set(n.get() + Duration::from_millis(80));
    });
    r.call_later(Duration::ZERO, push(&log, "last"));
    turn(&driver, now.get(), turns);
    log.borrow_mut().push("-- next turn --");
    turn(&driver, now.get(), turns);
    let stats = driver.stats();
    let records = recorder.take();
    let owned = log.borrow().clone();
    (owned, records, (stats.calls, stats.panics, stats.slow_calls))
}

#[test]
fn timers_acting_on_each_other_in_one_turn_run_as_twisted_runs_them() {
    let (log, _, (calls, panics, slow)) = busy_turns(Turns::Whole);
    assert_eq!(
        log,
        [
            "first",
            // the panic: reported, the rest run
            // "cancelled by first": cancelled by an earlier timer of the turn, never runs
            // "moved by first": moved to now by an earlier timer, waits for the next turn
            "fires persist",
            "persist trigger", // before the next timer
            "slow",
            "last",
            "-- next turn --",
            "moved by first",   // moved before "soon" was scheduled
            "soon, from first", // a zero-delay call made by a timer: next turn
        ]
    );
    // 5 timers ran in the first turn (2 never did), the trigger, then the 2
    // of the second turn.
    assert_eq!((calls, panics, slow), (8, 1, 1));
}

#[test]
fn whole_turns_and_stepped_turns_run_the_same_calls_with_the_same_trace() {
    let (whole_log, whole_trace, whole_stats) = busy_turns(Turns::Whole);
    let (stepped_log, stepped_trace, stepped_stats) = busy_turns(Turns::Stepped);
    assert_eq!(whole_log, stepped_log);
    assert_eq!(whole_stats, stepped_stats);
    assert_eq!(whole_trace.len(), stepped_trace.len());
    for (whole, stepped) in whole_trace.iter().zip(&stepped_trace) {
        // Timer and Deferred ids are the same: both runs make the same things in order.
        assert_eq!(whole, stepped);
    }
}

#[test]
fn a_panic_among_a_turns_timers_is_reported_against_its_own_timer() {
    let (_, trace, _) = busy_turns(Turns::Whole);
    let panicked: Vec<_> = trace
        .iter()
        .filter_map(|rec| match &rec.event {
            TraceEvent::CallbackPanicked { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(panicked, ["boom"]);
    // The calls of the first turn, with their timers' ids: the panicking
    // timer (the second scheduled) is traced as a call of its own, and the
    // timers after it still ran.
    let timer_calls: Vec<u64> = trace
        .iter()
        .filter_map(|rec| match &rec.event {
            TraceEvent::Call { source: CallSource::Timer, id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let fired: Vec<u64> = trace
        .iter()
        .filter_map(|rec| match &rec.event {
            TraceEvent::TimerFired { timer, .. } => Some(*timer),
            _ => None,
        })
        .collect();
    assert_eq!(timer_calls, fired, "every timer fired is one call, in the same order");
    assert_eq!(timer_calls.len(), 7, "5 timers in the first turn, 2 in the second");
}

#[test]
fn a_turns_timers_are_timed_each_from_the_end_of_the_one_before() {
    let (driver, now) = driver();
    let recorder = Recorder::new();
    driver.set_trace_sink(recorder.clone());
    for step in [0, 80, 0, 60, 0] {
        let n = now.clone();
        driver.call_later(Duration::ZERO, move |_| n.set(n.get() + Duration::from_millis(step)));
    }
    driver.handle_timeout(Time::ZERO);
    let durations: Vec<u64> = recorder
        .events()
        .iter()
        .filter_map(|rec| match &rec.event {
            TraceEvent::Call { source: CallSource::Timer, dur, .. } => Some(dur / 1_000_000),
            _ => None,
        })
        .collect();
    assert_eq!(durations, [0, 80, 0, 60, 0]);
    assert_eq!(driver.stats().slow_calls, 2);
}

#[test]
fn a_timer_cancelled_by_an_earlier_timer_of_its_turn_never_runs() {
    let (driver, _) = driver();
    let log = Log::default();
    let victim: Rc<RefCell<Option<DelayedCall>>> = Rc::default();
    let v = victim.clone();
    driver.call_later(Duration::from_millis(1), move |_| {
        assert_eq!(v.borrow().as_ref().unwrap().cancel(), Ok(()));
    });
    *victim.borrow_mut() = Some(driver.call_later(Duration::from_millis(2), push(&log, "victim")));
    driver.call_later(Duration::from_millis(3), push(&log, "after"));
    driver.handle_timeout(Time::from_millis(5));
    assert_eq!(*log.borrow(), ["after"]);
    assert!(!victim.borrow().as_ref().unwrap().active());
    driver.handle_timeout(Time::from_secs(1));
    assert_eq!(*log.borrow(), ["after"]);
}

#[test]
fn a_timer_moved_later_by_an_earlier_timer_of_its_turn_runs_when_moved_to() {
    let (driver, now) = driver();
    let log = Log::default();
    let moved: Rc<RefCell<Option<DelayedCall>>> = Rc::default();
    let m = moved.clone();
    driver.call_later(Duration::ZERO, move |_| m.borrow().as_ref().unwrap().delay(Duration::from_secs(1)).unwrap());
    *moved.borrow_mut() = Some(driver.call_later(Duration::ZERO, push(&log, "moved")));
    driver.call_later(Duration::ZERO, push(&log, "stays"));
    driver.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["stays"]);
    now.set(Time::from_secs(1));
    driver.handle_timeout(Time::from_secs(1));
    assert_eq!(*log.borrow(), ["stays", "moved"]);
}

#[test]
fn a_zero_delay_call_made_by_a_due_timer_runs_in_the_next_turn() {
    let (driver, _) = driver();
    let log = Log::default();
    let l = log.clone();
    driver.call_later(Duration::ZERO, move |reactor| {
        reactor.call_later(Duration::ZERO, push(&l, "soon"));
    });
    driver.call_later(Duration::ZERO, push(&log, "second"));
    driver.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["second"]);
    assert_eq!(driver.poll_timeout(), Some(Time::ZERO), "due now: the driver must come back at once");
    driver.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["second", "soon"]);
}

#[test]
fn a_stop_from_a_timer_lets_the_turns_other_due_timers_run_first() {
    let (driver, _) = driver();
    let log = Log::default();
    driver.handle_timeout(Time::ZERO); // started
    driver.call_later(Duration::ZERO, |reactor| reactor.stop().unwrap());
    driver.call_later(Duration::ZERO, push(&log, "after stop"));
    let l = log.clone();
    driver.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, move |_| {
        l.borrow_mut().push("shutdown");
        None
    });
    driver.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["after stop", "shutdown"]);
    assert!(driver.is_stopped());
}
