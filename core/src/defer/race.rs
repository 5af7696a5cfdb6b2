//! [`race`]: Twisted's `defer.race`, the first success wins and the rest are cancelled.

use std::cell::RefCell;
use std::rc::Rc;

use super::deferred::{Step, WeakDeferred};
use super::{Deferred, Failure};

/// The first input to succeed, with its index; the others are cancelled
/// then: Twisted's `race`. If every input fails, fails with a
/// [`FailureGroup`](super::FailureKind::FailureGroup) of their failures in
/// input order (an empty race does so at once, where Twisted's never
/// fires). Cancelling the race cancels every input.
///
/// The race takes what its inputs fire with: the losers' results and
/// failures (their `Cancelled` included) go nowhere and are never reported
/// as unhandled. Like [`DeferredList`](super::DeferredList), it holds its
/// inputs until it fires.
///
/// ```
/// use twine_core::defer::{race, Deferred};
///
/// let mirrors: Vec<Deferred<&str>> = (0..3).map(|_| Deferred::new()).collect();
/// let fastest = race(mirrors.clone());
/// mirrors[1].callback("mirror 1").unwrap();
/// assert!(mirrors[0].called() && mirrors[2].called()); // cancelled
/// fastest.add_callback(|(index, body)| {
///     assert_eq!((index, body), (1, "mirror 1"));
///     (index, body)
/// });
/// ```
pub fn race<T: 'static>(deferreds: impl IntoIterator<Item = Deferred<T>>) -> Deferred<(usize, T)> {
    let inputs: Vec<Deferred<T>> = deferreds.into_iter().collect();
    let total = inputs.len();
    // Strong until the race fires (the canceller goes then); the inputs'
    // links reach the others weakly, so no input keeps itself alive.
    let held = inputs.clone();
    let out = Deferred::with_canceller(move |_| {
        for input in &held {
            input.cancel();
        }
    });
    if total == 0 {
        let _ = out.errback(Failure::group(Vec::new()));
        return out;
    }
    let others: Rc<Vec<WeakDeferred<T>>> = Rc::new(inputs.iter().map(Deferred::downgrade).collect());
    let state = Rc::new(RefCell::new(Race { won: false, failures: Vec::new() }));
    for (index, input) in inputs.iter().enumerate() {
        let (out, others, state) = (out.clone(), others.clone(), state.clone());
        input.add_link(move |result| {
            match result {
                Ok(value) => {
                    // Only the first success counts: a canceller may fire
                    // its input with a value while the winner cancels it.
                    if !std::mem::replace(&mut state.borrow_mut().won, true) {
                        for (i, other) in others.iter().enumerate() {
                            if let Some(other) = other.upgrade().filter(|_| i != index) {
                                other.cancel();
                            }
                        }
                        let _ = out.callback((index, value));
                    }
                }
                Err(failure) => {
                    let all_failed = {
                        let mut state = state.borrow_mut();
                        state.failures.push((index, failure));
                        state.failures.len() == total
                    };
                    if all_failed {
                        let mut failures = std::mem::take(&mut state.borrow_mut().failures);
                        failures.sort_by_key(|(index, _)| *index);
                        let _ = out.errback(Failure::group(failures.into_iter().map(|(_, f)| f).collect()));
                    }
                }
            }
            Step::Consumed
        });
    }
    out
}

struct Race {
    won: bool,
    failures: Vec<(usize, Failure)>,
}
