//! Ports of Twisted's `twisted/test/test_internet.py`: each test names the
//! Twisted test it ports and asserts what that test asserts.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use twine_core::defer::Deferred;
use twine_core::task::Clock;
use twine_core::trace::{SystemEvent, TriggerPhase};
use twine_core::{Reactor, ReactorDriver, Time};

/// Ports `CallFromThreadStopsAndWakeUpTests.testCallFromThreadStops`: a
/// `call_from_thread` made inside a thread call does not loop forever and
/// lets other things happen too: the `call_later(0)` the first call made has
/// run (in the same turn, as Twisted's `runUntilCurrent` runs it) before the
/// second thread call runs.
#[test]
fn test_call_from_thread_stops() {
    let reactor = ReactorDriver::new();
    let stopped = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(Mutex::new(None));
    let (s, c) = (stopped.clone(), checked.clone());
    reactor.handle().call_from_thread(move |reactor| {
        let s2 = s.clone();
        reactor.handle().call_from_thread(move |_| {
            *c.lock().unwrap() = Some(s2.load(Ordering::SeqCst));
        });
        reactor.call_later(Duration::ZERO, move |_| s.store(true, Ordering::SeqCst));
    });

    reactor.handle_timeout(Time::ZERO);
    // One iteration: the thread call and the call_later(0) it made, not the
    // thread call it queued.
    assert!(stopped.load(Ordering::SeqCst));
    assert_eq!(*checked.lock().unwrap(), None);

    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*checked.lock().unwrap(), Some(true));
}

/// `testCallFromThreadStops` again, where the thread call takes time, as
/// a real one does: Twisted reads its clock again after the thread calls
/// (`runUntilCurrent`'s `now = self.seconds()`), so the `call_later(0)` is
/// due and runs in the same turn, on a real clock as on a lent one that
/// stepping drivers (the simulator) read call by call.
#[test]
fn test_call_from_thread_stops_when_the_thread_call_takes_time() {
    for stepped in [false, true] {
        let reactor = ReactorDriver::new();
        let clock = Arc::new(Mutex::new(Time::ZERO));
        let c = clock.clone();
        reactor.set_clock(move || *c.lock().unwrap());
        let ran = Arc::new(AtomicBool::new(false));
        let (r, c) = (ran.clone(), clock.clone());
        reactor.handle().call_from_thread(move |reactor| {
            *c.lock().unwrap() = Time::from_millis(5); // the call's own work
            reactor.call_later(Duration::ZERO, move |_| r.store(true, Ordering::SeqCst));
        });
        if stepped {
            reactor.begin_turn(Time::ZERO);
            while reactor.run_next_call() {}
        } else {
            reactor.handle_timeout(Time::ZERO);
        }
        assert!(ran.load(Ordering::SeqCst), "stepped: {stepped}");
    }
}

/// The other half of Twisted's order (`runUntilCurrent` inserts new timed
/// calls once, before running due ones): a `call_later(0)` made by a timed
/// call waits for the next iteration.
#[test]
fn test_call_later_zero_from_a_timed_call_waits_for_the_next_turn() {
    let reactor = ReactorDriver::new();
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    reactor.call_later(Duration::ZERO, move |reactor| {
        reactor.call_later(Duration::ZERO, move |_| r.store(true, Ordering::SeqCst));
    });
    reactor.handle_timeout(Time::ZERO);
    assert!(!ran.load(Ordering::SeqCst));
    reactor.handle_timeout(Time::ZERO);
    assert!(ran.load(Ordering::SeqCst));
}

/// `SystemEventTests` fire an event and look at once; twine's triggers run
/// as the reactor's next calls, so the ports let one turn pass first.
fn fire(clock: &Clock, event: &'static str) {
    assert!(clock.reactor().fire_system_event(SystemEvent::named(event)));
    clock.advance(Duration::ZERO);
}

/// A trigger that logs `label` into `events`.
fn logging(
    events: &Rc<RefCell<Vec<&'static str>>>,
    label: &'static str,
) -> impl FnOnce(&Reactor) -> Option<Deferred<()>> {
    let events = events.clone();
    move |_| {
        events.borrow_mut().push(label);
        None
    }
}

/// Ports `SystemEventTests.test_beforePhase`, `test_duringPhase` and
/// `test_afterPhase`: a trigger of any phase of an application's event is
/// not called until that event is fired.
#[test]
fn test_before_during_after_phase() {
    for phase in [TriggerPhase::Before, TriggerPhase::During, TriggerPhase::After] {
        let clock = Clock::new();
        let events: Rc<RefCell<Vec<&str>>> = Rc::default();
        clock.reactor().add_system_event_trigger(phase, SystemEvent::named("test"), logging(&events, "fired"));
        clock.advance(Duration::ZERO);
        assert!(events.borrow().is_empty());
        fire(&clock, "test");
        assert_eq!(*events.borrow(), ["fired"]);
    }
}

/// Ports `SystemEventTests.test_beforePreceedsDuring` and
/// `test_duringPreceedsAfter`: the phases run in order, whatever the order
/// the triggers were added in.
#[test]
fn test_phases_run_in_order() {
    let clock = Clock::new();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    let reactor = clock.reactor();
    let test = SystemEvent::named("test");
    reactor.add_system_event_trigger(TriggerPhase::After, test.clone(), logging(&events, "after"));
    reactor.add_system_event_trigger(TriggerPhase::During, test.clone(), logging(&events, "during"));
    reactor.add_system_event_trigger(TriggerPhase::Before, test, logging(&events, "before"));
    fire(&clock, "test");
    assert_eq!(*events.borrow(), ["before", "during", "after"]);
}

/// Ports `SystemEventTests.test_multipleBeforeReturnDeferred` (and
/// `test_beforeReturnsDeferred`): the `During` phase waits until every
/// Deferred a `Before` trigger returned has fired.
#[test]
fn test_multiple_before_return_deferred() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    let (first, second) = (Deferred::<()>::new(), Deferred::<()>::new());
    for d in [first.clone(), second.clone()] {
        reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::named("test"), move |_| Some(d));
    }
    reactor.add_system_event_trigger(TriggerPhase::During, SystemEvent::named("test"), logging(&events, "during"));
    fire(&clock, "test");
    assert!(events.borrow().is_empty());
    first.callback(()).unwrap();
    clock.advance(Duration::ZERO);
    assert!(events.borrow().is_empty());
    second.callback(()).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(*events.borrow(), ["during"]);
}

/// Ports `SystemEventTests.test_subsequentBeforeTriggerFiresPriorBeforeDeferred`:
/// a `Before` trigger firing an earlier trigger's Deferred does not start
/// the `During` phase while a later `Before` trigger's Deferred is pending.
#[test]
fn test_subsequent_before_trigger_fires_prior_before_deferred() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    let (first, second) = (Deferred::<()>::new(), Deferred::<()>::new());
    let test = SystemEvent::named("test");
    let f = first.clone();
    reactor.add_system_event_trigger(TriggerPhase::Before, test.clone(), move |_| Some(f));
    reactor.add_system_event_trigger(TriggerPhase::Before, test.clone(), move |_| {
        first.callback(()).unwrap();
        None
    });
    let (e, s) = (events.clone(), second.clone());
    reactor.add_system_event_trigger(TriggerPhase::Before, test.clone(), move |_| {
        e.borrow_mut().push("before");
        Some(s)
    });
    reactor.add_system_event_trigger(TriggerPhase::During, test, logging(&events, "during"));
    fire(&clock, "test");
    assert_eq!(*events.borrow(), ["before"]);
    second.callback(()).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(*events.borrow(), ["before", "during"]);
}

/// Ports `SystemEventTests.test_removeSystemEventTrigger`: a removed
/// trigger is not called when the event fires, and removing it again fails.
#[test]
fn test_remove_system_event_trigger() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::named("test"), logging(&events, "first"));
    let second =
        reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::named("test"), logging(&events, "second"));
    assert!(reactor.remove_system_event_trigger(second));
    assert!(!reactor.remove_system_event_trigger(second));
    fire(&clock, "test");
    assert_eq!(*events.borrow(), ["first"]);
}

/// Ports `SystemEventTests.test_interactionBetweenDifferentEvents`: an event
/// waiting on a Deferred does not hold back another event.
#[test]
fn test_interaction_between_different_events() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let events: Rc<RefCell<Vec<&str>>> = Rc::default();
    let mut pending = Vec::new();
    for (event, before, after) in
        [("first-event", "before first", "after first"), ("second-event", "before second", "after second")]
    {
        let d = Deferred::<()>::new();
        pending.push(d.clone());
        let e = events.clone();
        reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::named(event), move |_| {
            e.borrow_mut().push(before);
            Some(d)
        });
        reactor.add_system_event_trigger(TriggerPhase::After, SystemEvent::named(event), logging(&events, after));
    }
    fire(&clock, "first-event");
    assert_eq!(*events.borrow(), ["before first"]);
    fire(&clock, "second-event");
    assert_eq!(*events.borrow(), ["before first", "before second"]);
    pending[0].callback(()).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(*events.borrow(), ["before first", "before second", "after first"]);
    pending[1].callback(()).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(*events.borrow(), ["before first", "before second", "after first", "after second"]);
}

/// `startup` and `shutdown` belong to the reactor: an application cannot
/// fire them (Twisted would run their triggers again).
#[test]
fn test_reactor_events_cannot_be_fired_by_hand() {
    let reactor = ReactorDriver::new();
    assert!(!reactor.fire_system_event(SystemEvent::Startup));
    assert!(!reactor.fire_system_event(SystemEvent::named("shutdown")));
}

/// Twisted's `ReactorBase.disconnectAll`, a during-shutdown trigger: when
/// the reactor stops, every connection's protocol hears `connectionLost`
/// with `ConnectionLost`, and every listening port closes and stops its
/// factory, before the program's own during- and after-shutdown triggers
/// (CPython + Twisted 26.10 print "lost client ConnectionLost", "lost
/// server ConnectionLost" for a server and a client of it in one program
/// stopped by `reactor.stop()`).
#[test]
fn test_shutdown_disconnects_every_connection_and_closes_every_port() {
    use twine_core::defer::{Failure, FailureKind};
    use twine_core::protocol::{Factory, Protocol, Transport};
    use twine_core::testing::MemoryReactor;

    type Log = Rc<RefCell<Vec<String>>>;
    struct Side(&'static str, Log);
    impl Protocol for Side {
        fn connection_lost(&mut self, _: &Transport, reason: &Failure) {
            let kind = if reason.check(FailureKind::ConnectionLost) { "ConnectionLost" } else { "other" };
            self.1.borrow_mut().push(format!("lost {} {kind}: {}", self.0, reason.message()));
        }
    }
    struct Server(Log);
    impl Factory for Server {
        fn build_protocol(&mut self, _: std::net::SocketAddr) -> Option<Box<dyn Protocol>> {
            Some(Box::new(Side("server", self.0.clone())))
        }
        fn stop_factory(&mut self) {
            self.0.borrow_mut().push("server factory stopped".into());
        }
    }

    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    let log: Log = Rc::default();
    let port = reactor.listen_tcp("127.0.0.1:0".parse().unwrap(), Server(log.clone()));
    let first = memory.accept(&port).unwrap();
    let second = memory.accept(&port).unwrap();
    let l = log.clone();
    reactor.add_system_event_trigger(TriggerPhase::During, SystemEvent::Shutdown, move |_| {
        l.borrow_mut().push("during shutdown".into());
        None
    });
    let l = log.clone();
    reactor.add_system_event_trigger(TriggerPhase::After, SystemEvent::Shutdown, move |_| {
        l.borrow_mut().push("after shutdown".into());
        None
    });
    memory.advance(Duration::from_millis(1));
    memory.take_effects();
    reactor.stop().unwrap();
    memory.advance(Duration::from_millis(1));

    let lost = "Connection to the other side was lost in a non-clean fashion: Connection lost.";
    assert_eq!(
        *log.borrow(),
        [
            format!("lost server ConnectionLost: {lost}"),
            format!("lost server ConnectionLost: {lost}"),
            "server factory stopped".into(),
            "during shutdown".into(),
            "after shutdown".into(),
        ]
    );
    assert!(reactor.is_stopped());
    assert!(memory.is_closed(first) && memory.is_closed(second), "the sockets are closed, not left open");
    assert!(reactor.connections().is_empty());
    assert!(port.stop_listening().called(), "the port is already closed");
}
