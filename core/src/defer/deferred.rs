use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use super::{Failure, FailureKind};
use crate::reactor::Reactor;
use crate::trace::TraceEvent;

/// What a callback or errback returns: a value, a failure, or another
/// Deferred whose result the chain waits for.
pub enum Outcome<T: 'static> {
    /// Carry on down the callbacks with this value.
    Value(T),
    /// Switch to the errbacks with this failure.
    Failure(Failure),
    /// Pause until this Deferred fires, then carry on with its result.
    Deferred(Deferred<T>),
}

/// Anything a callback may return: `T`, `Result<T, Failure>`, `Failure`
/// (for `Deferred<T>` only through `Outcome`), a `Deferred<T>`, or an [`Outcome`].
pub trait IntoOutcome<T: 'static> {
    /// The outcome this stands for.
    fn into_outcome(self) -> Outcome<T>;
}

impl<T: 'static> IntoOutcome<T> for T {
    fn into_outcome(self) -> Outcome<T> {
        Outcome::Value(self)
    }
}

impl<T: 'static> IntoOutcome<T> for Result<T, Failure> {
    fn into_outcome(self) -> Outcome<T> {
        match self {
            Ok(value) => Outcome::Value(value),
            Err(failure) => Outcome::Failure(failure),
        }
    }
}

impl<T: 'static> IntoOutcome<T> for Deferred<T> {
    fn into_outcome(self) -> Outcome<T> {
        Outcome::Deferred(self)
    }
}

impl<T: 'static> IntoOutcome<T> for Outcome<T> {
    fn into_outcome(self) -> Outcome<T> {
        self
    }
}

/// Returned by [`Deferred::callback`] and [`Deferred::errback`] on a Deferred
/// that already fired: Twisted's `AlreadyCalledError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadyCalled;

impl fmt::Display for AlreadyCalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Deferred was already fired")
    }
}

impl std::error::Error for AlreadyCalled {}

type Link<T> = Box<dyn FnOnce(Result<T, Failure>) -> Step<T>>;
type Canceller<T> = Box<dyn FnOnce(&Deferred<T>)>;

/// What one link of the chain did with the result.
pub(crate) enum Step<T: 'static> {
    Outcome(Outcome<T>),
    /// The link took the result away (await, `then`, a chained outer Deferred).
    Consumed,
}

enum Slot<T> {
    Empty,
    Ready(Result<T, Failure>),
    /// Waiting on a chained Deferred.
    Waiting,
    /// Taken by a link; later links see `ResultConsumed`.
    Consumed,
}

struct State<T: 'static> {
    called: bool,
    result: Slot<T>,
    links: VecDeque<Link<T>>,
    running: bool,
    canceller: Option<Canceller<T>>,
    suppress_already_called: bool,
    /// Cancels the Deferred this one waits on.
    cancel_inner: Option<Box<dyn FnOnce()>>,
}

struct Chain<T: 'static> {
    id: u64,
    state: RefCell<State<T>>,
}

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

impl<T: 'static> Drop for Chain<T> {
    fn drop(&mut self) {
        let state = self.state.get_mut();
        if let Slot::Ready(Err(failure)) = &state.result {
            if failure.check(FailureKind::ResultConsumed) {
                return;
            }
            tracing::error!("Unhandled error in Deferred #{}: {failure:?}", self.id);
            let (deferred, message) = (self.id, failure.to_string());
            if let Some(reactor) = Reactor::current() {
                reactor.count_unhandled_error();
            }
            Reactor::emit_current(|| TraceEvent::UnhandledError { deferred, message });
        }
    }
}

/// A result that is not there yet: Twisted's `Deferred`, typed.
///
/// Callbacks run synchronously when the Deferred fires (Twisted semantics,
/// unlike JavaScript promises); added after it fired, they run at once. A
/// callback may return a value, a [`Failure`], or another `Deferred<T>`, and
/// then the chain pauses until that one fires. A failure skips callbacks
/// until an errback handles it; an errback that returns a value recovers the
/// chain. A panic in a callback becomes a `Failure`.
///
/// `Deferred<T>` is a cheap handle: clones are the same Deferred. Callbacks
/// added with [`add_callback`](Self::add_callback) keep the type `T`;
/// [`then`](Self::then) continues with another type.
///
/// ```
/// use twine_core::defer::{Deferred, Failure, FailureKind};
///
/// let d = Deferred::<i32>::new();
/// let seen = std::rc::Rc::new(std::cell::Cell::new(0));
/// let s = seen.clone();
/// d.add_callback(|x| x * 2)
///     .add_callback(|x| if x > 10 { Err(Failure::new(FailureKind::Error, "too big")) } else { Ok(x) })
///     .add_errback(|_f| 0) // recover
///     .add_callback(move |x| {
///         s.set(x);
///         x
///     });
/// d.callback(21).unwrap();
/// assert_eq!(seen.get(), 0); // 42 was too big; the errback recovered with 0
/// assert!(d.callback(1).is_err()); // AlreadyCalled
/// ```
pub struct Deferred<T: 'static> {
    chain: Rc<Chain<T>>,
}

impl<T: 'static> Clone for Deferred<T> {
    fn clone(&self) -> Self {
        Deferred { chain: self.chain.clone() }
    }
}

impl<T: 'static> Default for Deferred<T> {
    fn default() -> Self {
        Deferred::new()
    }
}

impl<T: 'static> fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.chain.state.borrow();
        let result = match &state.result {
            Slot::Empty => "pending",
            Slot::Ready(Ok(_)) => "result",
            Slot::Ready(Err(_)) => "failure",
            Slot::Waiting => "waiting on another Deferred",
            Slot::Consumed => "consumed",
        };
        f.debug_struct("Deferred")
            .field("id", &self.chain.id)
            .field("called", &state.called)
            .field("state", &result)
            .finish()
    }
}

impl<T: 'static> Deferred<T> {
    /// A Deferred that has not fired.
    pub fn new() -> Deferred<T> {
        Deferred::with_label("")
    }

    /// A Deferred with a label, shown in traces and the playground.
    pub fn with_label(label: impl Into<Cow<'static, str>>) -> Deferred<T> {
        let id = NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        let label = label.into();
        Reactor::emit_current(|| TraceEvent::DeferredCreated { deferred: id, label });
        Deferred {
            chain: Rc::new(Chain {
                id,
                state: RefCell::new(State {
                    called: false,
                    result: Slot::Empty,
                    links: VecDeque::new(),
                    running: false,
                    canceller: None,
                    suppress_already_called: false,
                    cancel_inner: None,
                }),
            }),
        }
    }

    /// A Deferred whose [`cancel`](Self::cancel) calls `canceller` first.
    /// If the canceller does not fire the Deferred, it fails with `Cancelled`.
    pub fn with_canceller(canceller: impl FnOnce(&Deferred<T>) + 'static) -> Deferred<T> {
        let d = Deferred::new();
        d.chain.state.borrow_mut().canceller = Some(Box::new(canceller));
        d
    }

    /// The id traces know this Deferred by.
    pub fn id(&self) -> u64 {
        self.chain.id
    }

    /// Whether `callback` or `errback` has been called.
    pub fn called(&self) -> bool {
        self.chain.state.borrow().called
    }

    /// Whether the chain has a result now: fired, not paused, and not taken.
    pub fn has_result(&self) -> bool {
        matches!(self.chain.state.borrow().result, Slot::Ready(_))
    }

    /// Whether `self` and `other` are the same Deferred.
    pub fn ptr_eq(&self, other: &Deferred<T>) -> bool {
        Rc::ptr_eq(&self.chain, &other.chain)
    }

    /// Fires the Deferred with a result.
    pub fn callback(&self, value: T) -> Result<(), AlreadyCalled> {
        self.fire(Ok(value))
    }

    /// Fires the Deferred with a failure.
    pub fn errback(&self, failure: impl Into<Failure>) -> Result<(), AlreadyCalled> {
        self.fire(Err(failure.into()))
    }

    /// Fires with `result`: `callback` for `Ok`, `errback` for `Err`.
    pub fn fire(&self, result: Result<T, Failure>) -> Result<(), AlreadyCalled> {
        {
            let mut state = self.chain.state.borrow_mut();
            if state.called {
                // After a cancel with no canceller, the eventual real result is
                // eaten once, as in Twisted.
                return if std::mem::take(&mut state.suppress_already_called) { Ok(()) } else { Err(AlreadyCalled) };
            }
            state.called = true;
            state.canceller = None;
            let ok = result.is_ok();
            state.result = Slot::Ready(result);
            let id = self.chain.id;
            drop(state);
            Reactor::emit_current(|| TraceEvent::DeferredFired { deferred: id, ok });
        }
        self.run_callbacks();
        Ok(())
    }

    /// Adds a callback, run with the result (skipped on a failure).
    pub fn add_callback<R: IntoOutcome<T>>(&self, f: impl FnOnce(T) -> R + 'static) -> Deferred<T> {
        self.add_link(Box::new(move |result| match result {
            Ok(value) => Step::Outcome(f(value).into_outcome()),
            Err(failure) => Step::Outcome(Outcome::Failure(failure)),
        }))
    }

    /// Adds an errback, run with a failure (skipped on a result).
    pub fn add_errback<R: IntoOutcome<T>>(&self, f: impl FnOnce(Failure) -> R + 'static) -> Deferred<T> {
        self.add_link(Box::new(move |result| match result {
            Ok(value) => Step::Outcome(Outcome::Value(value)),
            Err(failure) => Step::Outcome(f(failure).into_outcome()),
        }))
    }

    /// Adds a callback and an errback as one link: exactly one of them runs.
    pub fn add_callbacks<R1: IntoOutcome<T>, R2: IntoOutcome<T>>(
        &self,
        callback: impl FnOnce(T) -> R1 + 'static,
        errback: impl FnOnce(Failure) -> R2 + 'static,
    ) -> Deferred<T> {
        self.add_link(Box::new(move |result| match result {
            Ok(value) => Step::Outcome(callback(value).into_outcome()),
            Err(failure) => Step::Outcome(errback(failure).into_outcome()),
        }))
    }

    /// Adds a function run with either the result or the failure.
    pub fn add_both<R: IntoOutcome<T>>(&self, f: impl FnOnce(Result<T, Failure>) -> R + 'static) -> Deferred<T> {
        self.add_link(Box::new(move |result| Step::Outcome(f(result).into_outcome())))
    }

    /// Continues the chain with another type: a new `Deferred<U>` fired with
    /// what `f` makes of this one's result (a failure passes straight
    /// through). The result moves on: callbacks added here afterwards see a
    /// `ResultConsumed` failure. Cancelling the new Deferred cancels this one.
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    ///
    /// let d = Deferred::<u32>::new();
    /// let text = d.then(|n| format!("{n} requests"));
    /// d.callback(3).unwrap();
    /// let out = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    /// let o = out.clone();
    /// text.add_callback(move |s| {
    ///     *o.borrow_mut() = s.clone();
    ///     s
    /// });
    /// assert_eq!(*out.borrow(), "3 requests");
    /// ```
    pub fn then<U: 'static, R: IntoOutcome<U>>(&self, f: impl FnOnce(T) -> R + 'static) -> Deferred<U> {
        self.then_both(move |result| match result {
            Ok(value) => f(value).into_outcome(),
            Err(failure) => Outcome::Failure(failure),
        })
    }

    /// Like [`then`](Self::then), with the result or the failure.
    pub fn then_both<U: 'static, R: IntoOutcome<U>>(
        &self,
        f: impl FnOnce(Result<T, Failure>) -> R + 'static,
    ) -> Deferred<U> {
        let source = self.clone();
        let out = Deferred::<U>::with_canceller(move |_| source.cancel());
        let target = out.clone();
        self.add_link(Box::new(move |result| {
            target.resolve_with(f(result).into_outcome());
            Step::Consumed
        }));
        out
    }

    /// Fires this Deferred with an outcome, waiting first if it is a Deferred.
    pub(crate) fn resolve_with(&self, outcome: Outcome<T>) {
        let _ = match outcome {
            Outcome::Value(value) => self.callback(value),
            Outcome::Failure(failure) => self.errback(failure),
            Outcome::Deferred(inner) => {
                let me = self.clone();
                inner.add_link(Box::new(move |result| {
                    let _ = me.fire(result);
                    Step::Consumed
                }));
                Ok(())
            }
        };
    }

    /// Adds a link that may take the result away. Crate-internal building block.
    pub(crate) fn add_link(&self, link: Link<T>) -> Deferred<T> {
        let called = {
            let mut state = self.chain.state.borrow_mut();
            state.links.push_back(link);
            state.called
        };
        if called {
            self.run_callbacks();
        }
        self.clone()
    }

    /// Cancels the Deferred: calls the canceller if there is one; if the
    /// Deferred still has not fired, it fails with `Cancelled`. A Deferred
    /// waiting on a chained Deferred cancels that one instead. Cancelling a
    /// Deferred that has a result does nothing.
    pub fn cancel(&self) {
        let mut state = self.chain.state.borrow_mut();
        if !state.called {
            let canceller = state.canceller.take();
            if canceller.is_none() {
                state.suppress_already_called = true;
            }
            drop(state);
            let id = self.chain.id;
            Reactor::emit_current(|| TraceEvent::DeferredCancelled { deferred: id });
            if let Some(canceller) = canceller {
                canceller(self);
            }
            if !self.called() {
                let _ = self.fire(Err(Failure::cancelled()));
            }
        } else if let Some(cancel_inner) = state.cancel_inner.take() {
            drop(state);
            cancel_inner();
        }
    }

    /// Runs links while there is a result and the chain is not paused.
    /// Re-entrant calls (a callback firing or extending its own chain) return
    /// at once; the running loop picks up the work.
    fn run_callbacks(&self) {
        {
            let mut state = self.chain.state.borrow_mut();
            if state.running {
                return;
            }
            state.running = true;
        }
        loop {
            let (link, input) = {
                let mut state = self.chain.state.borrow_mut();
                let input = match std::mem::replace(&mut state.result, Slot::Empty) {
                    Slot::Ready(result) => result,
                    Slot::Consumed if !state.links.is_empty() => Err(Failure::new(
                        FailureKind::ResultConsumed,
                        "the result was taken by an earlier await or then()",
                    )),
                    other => {
                        state.result = other;
                        break;
                    }
                };
                let Some(link) = state.links.pop_front() else {
                    state.result = Slot::Ready(input);
                    break;
                };
                (link, input)
            };
            let was_ok = input.is_ok();
            let step = catch_unwind(AssertUnwindSafe(|| link(input)))
                .unwrap_or_else(|payload| Step::Outcome(Outcome::Failure(Failure::from_panic(payload))));
            let next = match step {
                Step::Consumed => Slot::Consumed,
                Step::Outcome(Outcome::Value(value)) => {
                    if !was_ok {
                        let id = self.chain.id;
                        Reactor::emit_current(|| TraceEvent::DeferredRecovered { deferred: id });
                    }
                    Slot::Ready(Ok(value))
                }
                Step::Outcome(Outcome::Failure(failure)) => {
                    if was_ok {
                        let (id, message) = (self.chain.id, failure.to_string());
                        Reactor::emit_current(|| TraceEvent::DeferredFailed { deferred: id, message });
                    }
                    Slot::Ready(Err(failure))
                }
                Step::Outcome(Outcome::Deferred(inner)) => self.chain_to(inner),
            };
            self.chain.state.borrow_mut().result = next;
        }
        self.chain.state.borrow_mut().running = false;
    }

    /// A callback returned `inner`: take its result now if it has one,
    /// otherwise pause until it fires.
    fn chain_to(&self, inner: Deferred<T>) -> Slot<T> {
        if inner.ptr_eq(self) {
            return Slot::Ready(Err(Failure::new(
                FailureKind::Error,
                "a callback returned the Deferred it was added to",
            )));
        }
        {
            let mut inner_state = inner.chain.state.borrow_mut();
            if !inner_state.running && inner_state.links.is_empty() {
                if let Slot::Ready(_) = inner_state.result {
                    let Slot::Ready(result) = std::mem::replace(&mut inner_state.result, Slot::Consumed) else {
                        unreachable!()
                    };
                    return Slot::Ready(result);
                }
            }
        }
        let (outer, to) = (self.chain.id, inner.chain.id);
        Reactor::emit_current(|| TraceEvent::DeferredChained { deferred: outer, to });
        let cancel_target = inner.clone();
        self.chain.state.borrow_mut().cancel_inner = Some(Box::new(move || cancel_target.cancel()));
        let me = self.clone();
        inner.add_link(Box::new(move |result| {
            me.resume(result);
            Step::Consumed
        }));
        Slot::Waiting
    }

    fn resume(&self, result: Result<T, Failure>) {
        {
            let mut state = self.chain.state.borrow_mut();
            state.cancel_inner = None;
            state.result = Slot::Ready(result);
        }
        self.run_callbacks();
    }

    /// Takes the result if the chain has one and nothing else will run:
    /// what awaiting a Deferred does.
    #[allow(dead_code)] // used by the Future impl
    pub(crate) fn take_result(&self) -> Option<Result<T, Failure>> {
        let mut state = self.chain.state.borrow_mut();
        if state.running || !state.links.is_empty() {
            return None;
        }
        match std::mem::replace(&mut state.result, Slot::Consumed) {
            Slot::Ready(result) => Some(result),
            other => {
                state.result = other;
                None
            }
        }
    }
}
