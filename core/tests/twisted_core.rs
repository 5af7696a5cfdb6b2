//! Ports of Twisted's `twisted/internet/test/test_core.py`
//! (`SystemEventTestsBuilder`): each test names the Twisted test it ports
//! and asserts what that test asserts. Twisted's `runReactor` is
//! [`Clock::run`] here.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::Deferred;
use twine_core::task::Clock;
use twine_core::trace::{SystemEvent, TriggerPhase};

/// Ports `test_runningForStartupEvents`: the reactor is not running when
/// before-startup triggers are called, and is running when during- and
/// after-startup triggers are called.
#[test]
fn test_running_for_startup_events() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let state: Rc<RefCell<Vec<(&str, bool)>>> = Rc::default();
    for (phase, name) in
        [(TriggerPhase::Before, "before"), (TriggerPhase::During, "during"), (TriggerPhase::After, "after")]
    {
        let s = state.clone();
        reactor.add_system_event_trigger(phase, SystemEvent::Startup, move |reactor| {
            s.borrow_mut().push((name, reactor.is_running()));
            None
        });
    }
    reactor.call_when_running(|reactor| reactor.stop().unwrap());
    assert!(state.borrow().is_empty());
    clock.run();
    assert_eq!(*state.borrow(), [("before", false), ("during", true), ("after", true)]);
}

/// Ports `test_runWithAsynchronousBeforeStartupTrigger`: a before-startup
/// trigger returning an unfired Deferred; the reactor starts, and a stop
/// made from that Deferred's callback (before startup has finished) stops it.
#[test]
fn test_run_with_asynchronous_before_startup_trigger() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    let e = events.clone();
    reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Startup, move |reactor| {
        e.borrow_mut().push("trigger");
        let d = Deferred::<()>::new();
        let (e, r) = (e.clone(), reactor.clone());
        d.add_callback(move |()| {
            e.borrow_mut().push("callback");
            r.stop().unwrap();
        });
        let fire = d.clone();
        reactor.call_later(Duration::ZERO, move |_| fire.callback(()).unwrap());
        Some(d)
    });
    clock.run();
    assert_eq!(*events.borrow(), ["trigger", "callback"]);
    assert!(reactor.is_stopped());
}

/// Ports `test_stopWhenNotStarted`: stopping a reactor that has not started
/// is an error.
#[test]
fn test_stop_when_not_started() {
    let clock = Clock::new();
    assert!(clock.reactor().stop().is_err());
}

/// Ports `test_stopWhenAlreadyStopped`: stopping a stopped reactor is an error.
#[test]
fn test_stop_when_already_stopped() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    reactor.call_when_running(|reactor| reactor.stop().unwrap());
    clock.run();
    assert!(reactor.is_stopped());
    assert!(reactor.stop().is_err());
}

/// Ports `test_callWhenRunningOrder`: functions run in the order they were
/// passed to `call_when_running`.
#[test]
fn test_call_when_running_order() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    for name in ["first", "second"] {
        let e = events.clone();
        reactor.call_when_running(move |_| e.borrow_mut().push(name));
    }
    reactor.call_when_running(|reactor| reactor.stop().unwrap());
    clock.run();
    assert_eq!(*events.borrow(), ["first", "second"]);
}

/// Ports `test_stopShutDownEvents`: `stop` fires all three phases of the
/// shutdown event before the reactor reports stopped.
#[test]
fn test_stop_shut_down_events() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    for (phase, name) in
        [(TriggerPhase::Before, "before"), (TriggerPhase::During, "during"), (TriggerPhase::After, "after")]
    {
        let e = events.clone();
        reactor.add_system_event_trigger(phase, SystemEvent::Shutdown, move |_| {
            e.borrow_mut().push(name);
            None
        });
    }
    reactor.call_when_running(|reactor| reactor.stop().unwrap());
    clock.run();
    assert_eq!(*events.borrow(), ["before", "during", "after"]);
}

/// Ports `test_shutdownFiresTriggersAsynchronously`: before-shutdown
/// triggers do not run synchronously from `stop`.
#[test]
fn test_shutdown_fires_triggers_asynchronously() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    let e = events.clone();
    reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, move |_| {
        e.borrow_mut().push("before shutdown");
        None
    });
    let e = events.clone();
    reactor.call_when_running(move |reactor| {
        reactor.stop().unwrap();
        e.borrow_mut().push("stopped");
    });
    assert!(events.borrow().is_empty());
    clock.run();
    assert_eq!(*events.borrow(), ["stopped", "before shutdown"]);
}
