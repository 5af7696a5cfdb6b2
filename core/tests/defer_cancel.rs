//! Cancelling Deferreds, and timeouts: Twisted's `cancel` and `addTimeout`.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::Seen;
use twine_core::defer::{AlreadyCalled, Deferred, Failure, FailureKind};
use twine_core::task::{defer_later, Clock};

#[test]
fn cancel_without_a_canceller_fails_with_cancelled_and_eats_the_late_result_once() {
    let d = Deferred::<u32>::new();
    let seen = Seen::new(&d);
    d.cancel();
    assert_eq!(seen.kind(), FailureKind::Cancelled);
    // The source does not know it was cancelled: its callback is dropped
    // quietly once, as Twisted's _suppressAlreadyCalled does.
    assert_eq!(d.callback(1), Ok(()));
    assert_eq!(d.callback(2), Err(AlreadyCalled));
}

#[test]
fn the_canceller_runs_with_the_deferred_and_may_fire_it() {
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let d = Deferred::<u32>::with_canceller(move |d| {
        c.set(c.get() + 1);
        d.callback(99).unwrap();
    });
    let seen = Seen::new(&d);
    d.cancel();
    assert_eq!(calls.get(), 1);
    assert_eq!(seen.value(), 99, "the canceller's result stands: no Cancelled");
}

#[test]
fn a_canceller_may_fail_the_deferred_with_its_own_failure() {
    let d = Deferred::<u32>::with_canceller(|d| {
        d.errback(Failure::new(FailureKind::ConnectionLost, "aborted the request")).unwrap();
    });
    let seen = Seen::new(&d);
    d.cancel();
    assert_eq!(seen.kind(), FailureKind::ConnectionLost);
}

#[test]
fn a_canceller_that_does_nothing_still_fails_the_deferred_and_a_late_result_is_already_called() {
    let d = Deferred::<u32>::with_canceller(|_| {});
    let seen = Seen::new(&d);
    d.cancel();
    assert_eq!(seen.kind(), FailureKind::Cancelled);
    // With a canceller, nothing is suppressed (Twisted behaves the same).
    assert_eq!(d.callback(1), Err(AlreadyCalled));
}

#[test]
fn cancelling_a_fired_deferred_does_nothing() {
    let called = Rc::new(Cell::new(false));
    let c = called.clone();
    let d = Deferred::<u32>::with_canceller(move |_| c.set(true));
    d.callback(5).unwrap();
    d.cancel();
    assert!(!called.get(), "the canceller is not called after the result");
    assert_eq!(Seen::new(&d).value(), 5);
}

#[test]
fn cancelling_twice_calls_the_canceller_once() {
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let d = Deferred::<u32>::with_canceller(move |_| c.set(c.get() + 1));
    let seen = Seen::new(&d);
    d.cancel();
    d.cancel();
    assert_eq!(calls.get(), 1);
    assert_eq!(seen.kind(), FailureKind::Cancelled);
}

#[test]
fn cancelling_a_deferred_paused_on_another_cancels_the_inner_one() {
    let inner_cancelled = Rc::new(Cell::new(false));
    let ic = inner_cancelled.clone();
    let inner = Deferred::<u32>::with_canceller(move |_| ic.set(true));
    let outer = Deferred::<u32>::new();
    let i = inner.clone();
    outer.add_callback(move |_| i);
    let seen = Seen::new(&outer);
    outer.callback(0).unwrap();
    outer.cancel();
    assert!(inner_cancelled.get(), "Twisted's test_cancelNestedDeferred");
    assert_eq!(seen.kind(), FailureKind::Cancelled, "the inner failure flowed back out");
}

#[test]
fn cancel_propagates_down_a_chain_of_paused_deferreds() {
    let innermost_cancelled = Rc::new(Cell::new(false));
    let ic = innermost_cancelled.clone();
    let c = Deferred::<u32>::with_canceller(move |_| ic.set(true));
    let b = Deferred::<u32>::new();
    let a = Deferred::<u32>::new();
    let (b2, c2) = (b.clone(), c.clone());
    a.add_callback(move |_| b2);
    b.add_callback(move |_| c2);
    let b_saw = Rc::new(Cell::new(None));
    let bs = b_saw.clone();
    b.add_both(move |r| {
        bs.set(r.as_ref().err().map(Failure::kind));
        r
    });
    let seen_a = Seen::new(&a);
    a.callback(0).unwrap();
    b.callback(0).unwrap();
    a.cancel();
    assert!(innermost_cancelled.get());
    assert_eq!(b_saw.get(), Some(FailureKind::Cancelled));
    assert_eq!(seen_a.kind(), FailureKind::Cancelled);
}

#[test]
fn a_recovered_cancel_in_the_inner_chain_resumes_the_outer() {
    let inner = Deferred::<u32>::new();
    inner.add_errback(|f| if f.check(FailureKind::Cancelled) { Ok(0) } else { Err(f) });
    let outer = Deferred::<u32>::new();
    let i = inner.clone();
    outer.add_callback(move |_| i);
    let seen = Seen::new(&outer);
    outer.callback(1).unwrap();
    outer.cancel();
    assert_eq!(seen.value(), 0);
}

#[test]
fn cancelling_map_output_cancels_the_source_or_what_the_function_returned() {
    let source = Deferred::<u32>::new();
    let out = source.map(|n| n.to_string());
    let seen = Seen::new(&out);
    out.cancel();
    assert!(source.called(), "the source was cancelled");
    assert_eq!(seen.kind(), FailureKind::Cancelled, "and its Cancelled flowed through map");

    // Once the source fired and the function returned a pending Deferred,
    // cancelling the output reaches that Deferred.
    let source = Deferred::<u32>::new();
    let step_cancelled = Rc::new(Cell::new(false));
    let sc = step_cancelled.clone();
    let step = Deferred::<String>::with_canceller(move |_| sc.set(true));
    let s = step.clone();
    let out = source.and_then(move |_| s);
    let seen = Seen::new(&out);
    source.callback(1).unwrap();
    out.cancel();
    assert!(step_cancelled.get());
    assert_eq!(seen.kind(), FailureKind::Cancelled);
}

#[test]
fn cancelling_defer_later_cancels_its_timer() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let d = defer_later(&reactor, Duration::from_secs(1), move || r.set(true));
    let seen = Seen::new(&d);
    d.cancel();
    assert_eq!(seen.kind(), FailureKind::Cancelled);
    assert!(reactor.pending_timers().is_empty());
    clock.advance(Duration::from_secs(2));
    assert!(!ran.get());
}

// ---- add_timeout ----

#[test]
fn timeout_expiring_first_fails_with_timed_out_and_cancels() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let cancelled = Rc::new(Cell::new(false));
    let c = cancelled.clone();
    let d = Deferred::<u32>::with_canceller(move |_| c.set(true));
    d.add_timeout(&reactor, Duration::from_secs(3));
    let seen = Seen::new(&d);
    clock.advance(Duration::from_millis(2999));
    assert!(!seen.fired());
    clock.advance(Duration::from_millis(1));
    assert!(cancelled.get(), "the timeout cancels the Deferred");
    assert_eq!(seen.kind(), FailureKind::TimedOut);
}

#[test]
fn result_arriving_first_cancels_the_timer() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let d = Deferred::<u32>::new();
    d.add_timeout(&reactor, Duration::from_secs(3));
    assert_eq!(reactor.pending_timers().len(), 1);
    clock.advance(Duration::from_secs(1));
    d.callback(8).unwrap();
    assert!(reactor.pending_timers().is_empty(), "timer cancelled with the result");
    clock.advance(Duration::from_secs(5));
    assert_eq!(Seen::new(&d).value(), 8);
}

#[test]
fn a_failure_arriving_first_passes_through_unchanged() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let d = Deferred::<u32>::new();
    d.add_timeout(&reactor, Duration::from_secs(3));
    d.errback(Failure::new(FailureKind::ConnectionRefused, "refused")).unwrap();
    assert!(reactor.pending_timers().is_empty());
    assert_eq!(Seen::new(&d).kind(), FailureKind::ConnectionRefused);
}

#[test]
fn a_cancel_before_the_timeout_stays_cancelled_and_stops_the_timer() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let d = Deferred::<u32>::new();
    d.add_timeout(&reactor, Duration::from_secs(3));
    let seen = Seen::new(&d);
    d.cancel();
    assert_eq!(seen.kind(), FailureKind::Cancelled, "only a cancel the timeout caused becomes TimedOut");
    assert!(reactor.pending_timers().is_empty());
}

#[test]
fn a_canceller_that_supplies_a_value_on_timeout_wins() {
    let clock = Clock::new();
    let d = Deferred::<u32>::with_canceller(|d| d.callback(0).unwrap());
    d.add_timeout(&clock.reactor(), Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(Seen::new(&d).value(), 0);
}

#[test]
fn a_canceller_failure_on_timeout_passes_through() {
    let clock = Clock::new();
    let d = Deferred::<u32>::with_canceller(|d| {
        d.errback(Failure::new(FailureKind::ConnectionLost, "closed on timeout")).unwrap();
    });
    d.add_timeout(&clock.reactor(), Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(Seen::new(&d).kind(), FailureKind::ConnectionLost);
}

#[test]
fn timeout_on_a_paused_deferred_cancels_what_it_waits_on() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let inner_cancelled = Rc::new(Cell::new(false));
    let ic = inner_cancelled.clone();
    let inner = Deferred::<u32>::with_canceller(move |_| ic.set(true));
    let outer = Deferred::<u32>::new();
    let i = inner.clone();
    outer.add_callback(move |_| i);
    outer.add_timeout(&reactor, Duration::from_secs(2));
    outer.callback(0).unwrap();
    clock.advance(Duration::from_secs(2));
    assert!(inner_cancelled.get());
    assert_eq!(Seen::new(&outer).kind(), FailureKind::TimedOut);
}

#[test]
fn timeouts_chain_and_the_earliest_wins() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let d = Deferred::<u32>::new();
    d.add_timeout(&reactor, Duration::from_secs(5)).add_timeout(&reactor, Duration::from_secs(1));
    let seen = Seen::new(&d);
    clock.advance(Duration::from_secs(1));
    assert_eq!(seen.kind(), FailureKind::TimedOut);
    assert!(reactor.pending_timers().is_empty(), "the later timer went with the result");
}
