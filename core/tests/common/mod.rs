//! Helpers the Deferred and thread-pool tests share: what a Deferred fired
//! with, a failure to fire with, and a manual clock wired to a pool or a
//! trace recorder.

// Every test file that says `mod common;` compiles this module again and
// uses only part of it.
#![allow(dead_code)]

use std::cell::RefCell;
use std::fmt::Debug;
use std::rc::Rc;

use twine_core::defer::{Deferred, Failure, FailureKind};
use twine_core::task::Clock;
use twine_core::threads::ManualPool;
use twine_core::trace::Recorder;
use twine_core::Reactor;

/// What a Deferred ended with, taken out of its chain by a last callback.
pub struct Seen<T>(Rc<RefCell<Option<Result<T, Failure>>>>);

impl<T: 'static> Seen<T> {
    /// Adds the recording callback to the end of `d`'s chain.
    pub fn new(d: &Deferred<T>) -> Seen<T> {
        let seen = Rc::new(RefCell::new(None));
        let s = seen.clone();
        d.then_both(move |r| *s.borrow_mut() = Some(r));
        Seen(seen)
    }

    /// Whether the Deferred fired (and the result is still here).
    pub fn fired(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// Takes the result out; panics when the Deferred has not fired.
    pub fn take(&self) -> Result<T, Failure> {
        self.0.borrow_mut().take().expect("the Deferred fired")
    }
}

impl<T: Clone + Debug + 'static> Seen<T> {
    /// The value it fired with; panics on a failure or when it has not fired.
    pub fn value(&self) -> T {
        match &*self.0.borrow() {
            Some(Ok(v)) => v.clone(),
            other => panic!("expected a value, got {other:?}"),
        }
    }

    /// The failure it fired with; panics on a value or when it has not fired.
    pub fn failure(&self) -> Failure {
        match &*self.0.borrow() {
            Some(Err(f)) => f.clone(),
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    /// The kind of the failure it fired with.
    pub fn kind(&self) -> FailureKind {
        self.failure().kind()
    }
}

/// A plain error failure with `message`.
pub fn error(message: &str) -> Failure {
    Failure::new(FailureKind::Error, message)
}

/// A manual clock whose reactor hands `defer_to_thread` jobs to a
/// [`ManualPool`], run one by one by the test.
pub fn with_manual_pool() -> (Clock, ManualPool) {
    let clock = Clock::new();
    let pool = ManualPool::new();
    clock.driver().set_thread_pool(pool.clone());
    (clock, pool)
}

/// Records `reactor`'s trace from now on.
pub fn record_trace(reactor: &Reactor) -> Recorder {
    let recorder = Recorder::new();
    reactor.set_trace_sink(recorder.clone());
    recorder
}
