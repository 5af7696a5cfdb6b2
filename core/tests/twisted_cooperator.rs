//! Ports of Twisted's `twisted/test/test_cooperator.py`: each test names
//! the Twisted test it ports and asserts what that test asserts.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use twine_core::task::{Clock, Cooperator};

/// Ports `CooperatorTests.testResourceExhaustion`: a tick ends when the
/// termination predicate says so: here right after the step that produced 9,
/// so one tick runs exactly ten steps.
#[test]
fn test_resource_exhaustion() {
    let clock = Clock::new();
    let stopped = Rc::new(Cell::new(false));
    let coop = Cooperator::new(&clock.reactor());
    let s = stopped.clone();
    coop.set_termination_predicate(move || {
        let s = s.clone();
        move || s.get()
    });
    let output = Rc::new(RefCell::new(Vec::new()));
    let (o, s) = (output.clone(), stopped.clone());
    coop.coiterate((0..100).map(move |i| {
        o.borrow_mut().push(i);
        if i == 9 {
            s.set(true);
        }
    }));
    clock.advance(Duration::ZERO); // one tick
    assert!(stopped.get());
    assert_eq!(*output.borrow(), (0..10).collect::<Vec<_>>());
}

/// Ports `CooperatorTests.testCooperation`: tasks take turns, one step each.
#[test]
fn test_cooperation() {
    let clock = Clock::new();
    let coop = Cooperator::new(&clock.reactor());
    let log = Rc::new(RefCell::new(Vec::new()));
    let groups: [&[&str]; 4] = [&["a", "b", "c"], &["1", "2", "3"], &["d", "e", "f"], &["4", "5", "6"]];
    for group in groups {
        let l = log.clone();
        coop.coiterate(group.iter().map(move |thing| l.borrow_mut().push(*thing)));
    }
    clock.advance(Duration::from_secs(1));
    assert_eq!(*log.borrow(), ["a", "1", "d", "4", "b", "2", "e", "5", "c", "3", "f", "6"]);
}
