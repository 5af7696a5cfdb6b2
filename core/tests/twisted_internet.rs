//! Ports of Twisted's `twisted/test/test_internet.py`: each test names the
//! Twisted test it ports and asserts what that test asserts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use twine_core::{Reactor, Time};

/// Ports `CallFromThreadStopsAndWakeUpTests.testCallFromThreadStops`: a
/// `call_from_thread` made inside a thread call does not loop forever and
/// lets other things happen too: the `call_later(0)` the first call made has
/// run (in the same turn, as Twisted's `runUntilCurrent` runs it) before the
/// second thread call runs.
#[test]
fn test_call_from_thread_stops() {
    let reactor = Reactor::new();
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

/// The other half of Twisted's order (`runUntilCurrent` inserts new timed
/// calls once, before running due ones): a `call_later(0)` made by a timed
/// call waits for the next iteration.
#[test]
fn test_call_later_zero_from_a_timed_call_waits_for_the_next_turn() {
    let reactor = Reactor::new();
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
