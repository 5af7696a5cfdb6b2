//! Ports of Twisted's `twisted/test/test_task.py`: each test names the
//! Twisted test it ports and asserts what that test asserts. Twisted's
//! `task.Clock` is [`Clock`]; `clock.calls` is `reactor.pending_timers()`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{Deferred, Failure, FailureKind};
use twine_core::task::{Clock, LoopingCall};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// What a Deferred ended with, recorded by a last link.
fn outcome(d: &Deferred<()>) -> Rc<RefCell<Option<Result<(), Failure>>>> {
    let seen = Rc::new(RefCell::new(None));
    let s = seen.clone();
    d.then_both(move |r| *s.borrow_mut() = Some(r));
    seen
}

/// A `LoopingCall` whose function can reach the loop (to stop it), as
/// Twisted's tests reach `lc` through a closure.
fn looping_call_with_self<R: twine_core::defer::IntoOutcome<()>>(
    clock: &Clock,
    mut f: impl FnMut(&LoopingCall) -> R + 'static,
) -> LoopingCall {
    let slot: Rc<RefCell<Option<LoopingCall>>> = Rc::default();
    let s = slot.clone();
    let lc = LoopingCall::new(&clock.reactor(), move || {
        let lc = s.borrow().clone().expect("the loop is set before it starts");
        f(&lc)
    });
    *slot.borrow_mut() = Some(lc.clone());
    lc
}

/// Ports `LoopTests.test_reset`: `reset` skips the next iteration and
/// restarts the interval from now.
#[test]
fn test_reset() {
    let clock = Clock::new();
    let ran = Rc::new(RefCell::new(0));
    let r = ran.clone();
    let lc = LoopingCall::new(&clock.reactor(), move || *r.borrow_mut() += 1);
    lc.start(secs(2.0), false);
    clock.advance(secs(1.0));
    lc.reset();
    clock.advance(secs(1.0));
    assert_eq!(*ran.borrow(), 0);
    clock.advance(secs(1.0));
    assert_eq!(*ran.borrow(), 1);
}

/// Ports `LoopTests.testStopAtOnce` and `testStoppingBeforeDelayedStart`:
/// `stop` before the first call prevents every call and leaves no timer.
#[test]
fn test_stop_at_once_and_before_delayed_start() {
    for delay in [0.0, 10.0] {
        let clock = Clock::new();
        let ran = Rc::new(RefCell::new(0));
        let r = ran.clone();
        let lc = LoopingCall::new(&clock.reactor(), move || *r.borrow_mut() += 1);
        let done = outcome(&lc.start(secs(delay), false));
        lc.stop();
        assert_eq!(*ran.borrow(), 0);
        assert!(clock.reactor().pending_timers().is_empty());
        assert!(matches!(*done.borrow(), Some(Ok(()))));
    }
}

/// Ports `ReactorLoopTests.testFailAndStop`: the function calls `stop` and
/// then fails; `start`'s Deferred fails with that failure (it does not
/// succeed at the `stop`).
#[test]
fn test_fail_and_stop() {
    let clock = Clock::new();
    let lc = looping_call_with_self(&clock, |lc| -> Result<(), Failure> {
        lc.stop();
        Err(Failure::new(FailureKind::Error, "bar"))
    });
    let done = outcome(&lc.start(secs(0.1), true));
    match &*done.borrow() {
        Some(Err(f)) => assert_eq!(f.message(), "bar"),
        other => panic!("expected the function's failure, got {other:?}"),
    };
    assert!(!lc.running());
}

/// Ports `ReactorLoopTests.testEveryIteration`: a loop stopped from inside
/// its sixth call fires `start`'s Deferred after exactly six calls.
#[test]
fn test_every_iteration() {
    let clock = Clock::new();
    let ran = Rc::new(RefCell::new(0));
    let r = ran.clone();
    let lc = looping_call_with_self(&clock, move |lc| {
        *r.borrow_mut() += 1;
        if *r.borrow() > 5 {
            lc.stop();
        }
    });
    let done = outcome(&lc.start(Duration::ZERO, true));
    clock.advance(Duration::ZERO);
    assert!(matches!(*done.borrow(), Some(Ok(()))));
    assert_eq!(*ran.borrow(), 6);
}

/// Ports `ReactorLoopTests.testWaitDeferred`: the function is not called
/// again before the Deferred it returned fires; stopping from that
/// Deferred's callback leaves nothing scheduled.
#[test]
fn test_wait_deferred() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let lc = looping_call_with_self(&clock, move |lc| {
        *c.borrow_mut() += 1;
        let d = Deferred::<()>::new();
        let lc = lc.clone();
        d.add_callback(move |()| lc.stop());
        let fire = d.clone();
        reactor.call_later(secs(1.0), move |_| fire.callback(()).unwrap());
        d
    });
    let done = outcome(&lc.start(secs(0.2), true));
    clock.pump([secs(0.2), secs(0.8)]);
    assert_eq!(*calls.borrow(), 1);
    assert!(clock.reactor().pending_timers().is_empty());
    assert!(matches!(*done.borrow(), Some(Ok(()))));
}

/// Issue 15, item 4 (Twisted's `LoopingCall.__call__`'s callbacks): `stop`
/// from inside the function while its returned Deferred is pending: the
/// loop waits for that Deferred, and its failure fails `start`'s Deferred.
#[test]
fn test_stop_inside_function_waits_for_its_deferred() {
    let clock = Clock::new();
    let pending = Deferred::<()>::new();
    let p = pending.clone();
    let lc = looping_call_with_self(&clock, move |lc| {
        lc.stop();
        p.clone()
    });
    let done = outcome(&lc.start(secs(1.0), true));
    assert!(done.borrow().is_none());
    pending.errback(Failure::new(FailureKind::Error, "late failure")).unwrap();
    match &*done.borrow() {
        Some(Err(f)) => assert_eq!(f.message(), "late failure"),
        other => panic!("expected the pending Deferred's failure, got {other:?}"),
    };
}

/// Ports `ReactorLoopTests.testFailurePropagation`: the failure of the
/// Deferred the function returned fails `start`'s Deferred, and nothing is
/// left scheduled.
#[test]
fn test_failure_propagation() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let lc = LoopingCall::new(&clock.reactor(), move || {
        let d = Deferred::<()>::new();
        let fire = d.clone();
        reactor.call_later(secs(0.3), move |_| {
            fire.errback(Failure::new(FailureKind::Error, "TestException")).unwrap();
        });
        d
    });
    let done = outcome(&lc.start(secs(1.0), true));
    clock.pump([secs(0.3)]);
    assert!(clock.reactor().pending_timers().is_empty());
    assert!(matches!(&*done.borrow(), Some(Err(f)) if f.message() == "TestException"));
}

/// Ports `LoopTests.test_withCountIntervalZeroDelayThenNonZeroInterval`'s
/// core: an interval set while the function's Deferred is pending takes
/// effect once it fires.
#[test]
fn test_interval_set_while_waiting_takes_effect_after() {
    let clock = Clock::new();
    let pending = Deferred::<()>::new();
    let calls = Rc::new(RefCell::new(0));
    let (c, p) = (calls.clone(), pending.clone());
    let lc = LoopingCall::new(&clock.reactor(), move || {
        *c.borrow_mut() += 1;
        if *c.borrow() == 2 {
            p.clone()
        } else {
            twine_core::defer::succeed(())
        }
    });
    lc.start(Duration::ZERO, false);
    clock.pump([secs(1.0); 7]);
    assert_eq!(*calls.borrow(), 2);
    lc.set_interval(secs(2.0));
    assert_eq!(lc.interval(), secs(2.0));
    pending.callback(()).unwrap();
    clock.advance(secs(1.0)); // t = 8: on the 2 s grid from t = 0, the next call is at 8
    assert_eq!(*calls.borrow(), 3);
    clock.advance(secs(1.0));
    assert_eq!(*calls.borrow(), 3);
    clock.advance(secs(1.0));
    assert_eq!(*calls.borrow(), 4);
}
