//! `DelayedCall` handles over the timer table: a handle keeps telling how
//! its call ended however many timers come and go after it, clones share
//! one call, and a handle outliving its reactor neither crashes nor lies.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use twine_core::reactor::TimerError;
use twine_core::task::Clock;
use twine_core::Time;

/// Schedules and fires `n` throwaway timers, so that the table's slots of
/// finished timers are reused.
fn churn(clock: &Clock, n: u64) {
    let reactor = clock.reactor();
    let ran = Rc::new(Cell::new(0));
    for i in 0..n {
        let r = ran.clone();
        reactor.call_later(Duration::from_millis(i % 7), move |_| r.set(r.get() + 1));
    }
    clock.advance(Duration::from_millis(7));
    assert_eq!(ran.get(), n);
}

#[test]
fn a_called_handle_stays_called_while_other_timers_reuse_the_table() {
    let clock = Clock::new();
    let call = clock.reactor().call_later(Duration::from_secs(1), |_| {});
    clock.advance(Duration::from_secs(1));
    churn(&clock, 1000);
    assert!(!call.active());
    assert_eq!(call.cancel(), Err(TimerError::AlreadyCalled));
    assert_eq!(call.reset(Duration::from_secs(1)), Err(TimerError::AlreadyCalled));
    assert_eq!(call.time(), Time::from_secs(1));
}

#[test]
fn a_cancelled_handle_stays_cancelled_while_other_timers_reuse_the_table() {
    let clock = Clock::new();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let call = clock.reactor().call_later(Duration::from_secs(1), move |_| r.set(true));
    call.cancel().unwrap();
    churn(&clock, 1000);
    clock.advance(Duration::from_secs(2));
    assert!(!ran.get());
    assert_eq!(call.cancel(), Err(TimerError::AlreadyCancelled));
    assert_eq!(call.delay(Duration::from_secs(1)), Err(TimerError::AlreadyCancelled));
}

#[test]
fn clones_are_one_call_and_dropping_one_leaves_the_other_working() {
    let clock = Clock::new();
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    let call = clock.reactor().call_later(Duration::from_secs(5), move |_| r.set(r.get() + 1));
    let other = call.clone();
    other.delay(Duration::from_secs(1)).unwrap();
    assert_eq!(call.time(), Time::from_secs(6));
    drop(call);
    churn(&clock, 100);
    assert!(other.active());
    other.reset(Duration::from_secs(1)).unwrap();
    let third = other.clone();
    other.cancel().unwrap();
    assert_eq!(third.cancel(), Err(TimerError::AlreadyCancelled));
    clock.advance(Duration::from_secs(10));
    assert_eq!(ran.get(), 0);
}

#[test]
fn a_call_whose_handles_are_all_dropped_still_runs_once() {
    let clock = Clock::new();
    let ran = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let r = ran.clone();
        drop(clock.reactor().call_later(Duration::from_secs(1), move |_| r.set(r.get() + 1)));
    }
    clock.advance(Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(ran.get(), 3);
    assert_eq!(clock.reactor().stats().timers_pending, 0);
}

#[test]
fn a_call_can_hold_its_own_handle_and_reschedule_itself() {
    // As LoopingCall does: the handle lives in the callback it names.
    let clock = Clock::new();
    let reactor = clock.reactor();
    let runs = Rc::new(Cell::new(0));
    let slot: Rc<Cell<Option<twine_core::reactor::DelayedCall>>> = Rc::new(Cell::new(None));
    fn arm(
        reactor: &twine_core::Reactor,
        runs: Rc<Cell<u32>>,
        slot: Rc<Cell<Option<twine_core::reactor::DelayedCall>>>,
    ) {
        let (r, s) = (runs.clone(), slot.clone());
        let call = reactor.call_later(Duration::from_secs(1), move |reactor| {
            let previous = s.take().expect("the call holds its own handle");
            assert_eq!(previous.cancel(), Err(TimerError::AlreadyCalled));
            r.set(r.get() + 1);
            if r.get() < 5 {
                arm(reactor, r.clone(), s.clone());
            }
        });
        slot.set(Some(call));
    }
    arm(&reactor, runs.clone(), slot.clone());
    for _ in 0..10 {
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(runs.get(), 5);
}

#[test]
fn a_handle_outliving_its_reactor_is_inactive_and_cannot_be_cancelled() {
    let call = {
        let clock = Clock::new();
        let call = clock.reactor().call_later(Duration::from_secs(3), |_| unreachable!());
        assert_eq!(call.time(), Time::from_secs(3));
        call
    };
    assert!(!call.active());
    assert_eq!(call.cancel(), Err(TimerError::AlreadyCancelled));
    assert_eq!(call.time(), Time::from_secs(3));
    let clone = call.clone();
    drop(call);
    assert!(!clone.active());
}
