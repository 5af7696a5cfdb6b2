use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use smallvec::SmallVec;

use super::flat::{run_flat, DROPS};
use super::observer;
use super::{AlreadyCalled, Failure, FailureKind, IntoOutcome, Outcome};
use crate::trace::TraceEvent;

type Canceller<T> = Box<dyn FnOnce(&Deferred<T>)>;

/// One link of a chain: what it does with the result it is handed.
///
/// A trait of its own rather than a `Box<dyn FnOnce>` per kind of link: a
/// boxed link is one fat pointer (16 bytes, where an enum of boxed closures
/// takes 24), and calling it passes the box as it is, where calling a boxed
/// `FnOnce` first moves the closure out of its box by the size its vtable
/// gives. The callback or errback that does not apply is still not called,
/// as Twisted keeps (callback, errback) pairs: its link hands the input on.
trait Link<T: 'static> {
    /// Runs the link on `input`: what the chain goes on with.
    fn run(self: Box<Self>, input: Result<T, Failure>) -> Step<T>;
}

/// [`Deferred::add_callback`]'s link: skipped on a failure.
struct OnResult<F>(F);

/// [`Deferred::add_errback`]'s link: skipped on a result.
struct OnFailure<F>(F);

/// A link that sees the result or the failure and may take it away or hand
/// it on: [`Deferred::add_both`], [`Deferred::add_callbacks`], and the
/// crate's own links, the building block of awaits, lists, locks and `map`.
struct OnEither<F>(F);

impl<T: 'static, F: FnOnce(T) -> Outcome<T>> Link<T> for OnResult<F> {
    fn run(self: Box<Self>, input: Result<T, Failure>) -> Step<T> {
        Step::Outcome(match input {
            Ok(value) => (self.0)(value),
            Err(failure) => Outcome::Failure(failure),
        })
    }
}

impl<T: 'static, F: FnOnce(Failure) -> Outcome<T>> Link<T> for OnFailure<F> {
    fn run(self: Box<Self>, input: Result<T, Failure>) -> Step<T> {
        Step::Outcome(match input {
            Ok(value) => Outcome::Value(value),
            Err(failure) => (self.0)(failure),
        })
    }
}

impl<T: 'static, F: FnOnce(Result<T, Failure>) -> Step<T>> Link<T> for OnEither<F> {
    fn run(self: Box<Self>, input: Result<T, Failure>) -> Step<T> {
        (self.0)(input)
    }
}

/// How many links a Deferred holds in place, in its own allocation: a
/// chain this short allocates nothing for its links, and a longer one moves
/// them to the heap once, with room for 16 (then 32, ...). Ten links of 16
/// bytes make a `Deferred<u64>`'s allocation 280 bytes, where four would
/// make 184: the price of running a chain of up to ten callbacks (the
/// benchmarked case) in one allocation, where a spill costs about as much
/// as running the ten. (CPython's Twisted, measured with tracemalloc: about
/// 150 bytes for a bare Deferred, 3.4 KB with ten callbacks.)
const INLINE_LINKS: usize = 10;

/// A chain's links not run yet, in order. Each in an `Option` (no bigger:
/// the box's pointer is never null) so that a run can take links out where
/// they are: the chain's own links are all `Some`.
type Links<T> = SmallVec<[Option<Box<dyn Link<T>>>; INLINE_LINKS]>;

/// The links a run took from the chain to walk without borrowing it:
/// `links[..ran]` have been taken out to run, the rest wait.
struct Batch<T: 'static> {
    links: Links<T>,
    ran: usize,
}

/// Where [`Deferred::run_batch`] stopped.
enum BatchEnd<T: 'static> {
    /// Every link of the batch ran: the result they left.
    RanOut(Result<T, Failure>),
    /// A link did something other than turn a result into a result.
    Step(Step<T>),
}

/// What one link of the chain did with the result.
pub(crate) enum Step<T: 'static> {
    Outcome(Outcome<T>),
    /// The link took the result away (await, a list, a lock).
    Consumed,
    /// The link handed the result to another Deferred (the one waiting on
    /// this chain, or the one `map` made), whose callbacks must run next,
    /// before this chain's remaining links. The run loop does that
    /// iteratively, so a chain of any depth runs in bounded stack. Made by
    /// [`hand_on`], which leaves that chain in [`HANDED_TO`].
    Continue,
}

thread_local! {
    /// The chain of the [`Step::Continue`] a link just returned, for the
    /// run loop to take at once. Not in the variant: a fat `Rc` there would
    /// make a `Step<u64>` 24 bytes, returned through memory from every link,
    /// where 16 come back in two registers.
    static HANDED_TO: Cell<Option<Rc<dyn ChainRun>>> = const { Cell::new(None) };
}

/// What a link returns after handing the result to `chain`: the run loop
/// runs `chain` next.
fn hand_on<T: 'static>(chain: Rc<dyn ChainRun>) -> Step<T> {
    HANDED_TO.set(Some(chain));
    Step::Continue
}

/// A chain of any result type, as the run loop's stack holds it (Twisted's
/// `_runCallbacks` keeps such a stack of Deferreds so that a result handed
/// up a chain of Deferreds waiting on each other never recurses), and as a
/// cancel forwarded down such a chain reaches it.
pub(crate) trait ChainRun {
    /// Runs this chain's links until it pauses or runs out (`None`), or
    /// until a link hands the result to another chain (`Some(that chain)`,
    /// to run before this one goes on).
    fn run_links(self: Rc<Self>) -> Option<Rc<dyn ChainRun>>;

    /// One step of [`Deferred::cancel`] on this chain.
    fn cancel_one(self: Rc<Self>) -> CancelStep;

    /// The last step of [`Deferred::cancel`] on this chain, once the cancel
    /// it forwarded is done.
    fn finish_cancel(self: Rc<Self>, had_canceller: bool);
}

/// What one step of [`Deferred::cancel`] left to do.
pub(crate) enum CancelStep {
    Done,
    /// Cancel this chain next, and nothing more here (tail position).
    Forward(Rc<dyn ChainRun>),
    /// Cancel `to`, then finish cancelling `from`.
    ForwardThenFinish {
        to: Rc<dyn ChainRun>,
        from: Rc<dyn ChainRun>,
        had_canceller: bool,
    },
}

impl<T: 'static> ChainRun for Chain<T> {
    fn run_links(self: Rc<Self>) -> Option<Rc<dyn ChainRun>> {
        Deferred { chain: self }.run_links()
    }

    fn cancel_one(self: Rc<Self>) -> CancelStep {
        Deferred { chain: self }.cancel_one()
    }

    fn finish_cancel(self: Rc<Self>, had_canceller: bool) {
        Deferred { chain: self }.finish_cancel(had_canceller)
    }
}

enum Slot<T> {
    Empty,
    Ready(Result<T, Failure>),
    /// Waiting on a chained Deferred.
    Waiting,
    /// Taken by a link; later links see `ResultConsumed`.
    Consumed,
}

impl<T> Slot<T> {
    /// Takes the result for a link to run on, leaving `Consumed`: the
    /// result, or the `ResultConsumed` failure when an earlier link took it.
    /// `None`, and the slot unchanged, while there is no result yet.
    fn take(&mut self) -> Option<Result<T, Failure>> {
        match std::mem::replace(self, Slot::Consumed) {
            Slot::Ready(result) => Some(result),
            Slot::Consumed => Some(Err(result_consumed())),
            other @ (Slot::Empty | Slot::Waiting) => {
                *self = other;
                None
            }
        }
    }
}

struct State<T: 'static> {
    called: bool,
    result: Slot<T>,
    /// Links not run yet, in order (while the chain runs, those added
    /// since its loop took the rest).
    links: Links<T>,
    running: bool,
    canceller: Option<Canceller<T>>,
    suppress_already_called: bool,
    /// Cancels the Deferred this one waits on: a chained Deferred a callback
    /// returned (once fired), or the Deferred `resolve_with` was handed
    /// (before firing).
    cancel_inner: Option<Weak<dyn ChainRun>>,
    /// The waker of the task awaiting this Deferred.
    waker: Option<Waker>,
    /// Whether the await link (which wakes `waker`) is in `links`.
    await_linked: bool,
    /// `pause` calls not yet matched by `unpause`: while above zero the
    /// chain runs nothing.
    paused: u32,
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
            observer::unhandled_error(self.id, failure);
        }
        // The links and cancellers may hold the next Deferred of a long
        // chain, whose own drop would run inside this one: freed through
        // `run_flat`, a chain of any length drops in bounded stack.
        // (Most chains are run out and hold none of these: they skip it.)
        if !state.links.is_empty() || state.canceller.is_some() || state.cancel_inner.is_some() {
            let links = std::mem::take(&mut state.links);
            let owned = (state.canceller.take(), state.cancel_inner.take());
            run_flat(&DROPS, Box::new(move || drop((links, owned))));
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
/// # A Deferred returned from a callback
///
/// When a callback returns a Deferred `inner`, the chain waits for it and
/// then carries on with `inner`'s result: `inner` hands its result over, as
/// in Twisted. Callbacks added to `inner` *before* that run first and shape
/// what the waiting chain gets. Twisted leaves `None` in `inner` for
/// callbacks added later; a typed Deferred has no such value, so instead
/// they get a [`ResultConsumed`](FailureKind::ResultConsumed) failure (their
/// callbacks are skipped, their errbacks see it, and it is never reported as
/// unhandled). To observe the value in both places, add the observer to
/// `inner` before returning it.
///
/// ```
/// use twine_core::defer::{Deferred, FailureKind};
///
/// let (outer, inner) = (Deferred::<u8>::new(), Deferred::<u8>::new());
/// let i = inner.clone();
/// outer.add_callback(move |_| i);
/// inner.add_callback(|n| n + 1); // before: shapes what `outer` gets
/// outer.callback(0).unwrap();
/// inner.callback(1).unwrap();
/// outer.add_callback(|n| {
///     assert_eq!(n, 2);
///     n
/// });
/// inner.add_errback(|f| {
///     assert!(f.check(FailureKind::ResultConsumed)); // after: the result moved on
///     0
/// });
/// ```
///
/// `Deferred<T>` is a cheap handle: clones are the same Deferred. Callbacks
/// added with [`add_callback`](Self::add_callback) keep the type `T`;
/// [`map`](Self::map), [`try_map`](Self::try_map) and
/// [`and_then`](Self::and_then) continue with another type.
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
    ///
    /// ```
    /// let d = twine_core::defer::Deferred::<u8>::new();
    /// assert!(!d.called() && !d.has_result());
    /// ```
    pub fn new() -> Deferred<T> {
        Deferred::with_label("")
    }

    /// A Deferred with a label, shown in traces and the playground.
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    /// use twine_core::trace::{Recorder, TraceEvent};
    ///
    /// let reactor = twine_core::ReactorDriver::new();
    /// let recorder = Recorder::new();
    /// reactor.set_trace_sink(recorder.clone());
    /// let d = Deferred::<()>::with_label("db query");
    /// assert_eq!(
    ///     recorder.events()[0].event,
    ///     TraceEvent::DeferredCreated { deferred: d.id(), label: "db query".into() }
    /// );
    /// ```
    pub fn with_label(label: impl Into<Cow<'static, str>>) -> Deferred<T> {
        let id = NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        // `new_cyclic` (its weak handle unused) allocates before the chain is
        // built, so the chain is written in place; `Rc::new` builds it on
        // the stack first, to drop should the allocation unwind, and copies
        // its 280 bytes over (70 instructions of the 10-callback chain's).
        let chain = Rc::new_cyclic(|_| Chain {
            id,
            state: RefCell::new(State {
                called: false,
                result: Slot::Empty,
                links: Links::new(),
                running: false,
                canceller: None,
                suppress_already_called: false,
                cancel_inner: None,
                waker: None,
                await_linked: false,
                paused: 0,
            }),
        });
        let label = label.into();
        observer::emit(|| TraceEvent::DeferredCreated { deferred: id, label });
        Deferred { chain }
    }

    /// A Deferred whose [`cancel`](Self::cancel) calls `canceller` first.
    /// If the canceller does not fire the Deferred, it fails with `Cancelled`.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use twine_core::defer::Deferred;
    ///
    /// let aborted = Rc::new(Cell::new(false));
    /// let a = aborted.clone();
    /// let request = Deferred::<String>::with_canceller(move |_| a.set(true)); // e.g. close the socket
    /// request.add_errback(|f| f.message().to_owned());
    /// request.cancel();
    /// assert!(aborted.get() && request.called());
    /// ```
    pub fn with_canceller(canceller: impl FnOnce(&Deferred<T>) + 'static) -> Deferred<T> {
        let d = Deferred::new();
        d.chain.state.borrow_mut().canceller = Some(Box::new(canceller));
        d
    }

    /// The id traces know this Deferred by (unique on its thread).
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    ///
    /// let (a, b) = (Deferred::<()>::new(), Deferred::<()>::new());
    /// assert_ne!(a.id(), b.id());
    /// assert_eq!(a.clone().id(), a.id());
    /// ```
    pub fn id(&self) -> u64 {
        self.chain.id
    }

    /// Whether `callback` or `errback` has been called (a paused chain is
    /// called but has no result yet).
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    ///
    /// let (outer, inner) = (Deferred::<u8>::new(), Deferred::<u8>::new());
    /// let i = inner.clone();
    /// outer.add_callback(move |_| i);
    /// outer.callback(1).unwrap();
    /// assert!(outer.called() && !outer.has_result()); // waiting on `inner`
    /// inner.callback(2).unwrap();
    /// assert!(outer.has_result());
    /// ```
    pub fn called(&self) -> bool {
        self.chain.state.borrow().called
    }

    /// Whether the chain has a result now: fired, not paused, and not taken.
    ///
    /// ```
    /// use twine_core::defer::succeed;
    ///
    /// let d = succeed(1);
    /// assert!(d.has_result());
    /// let _next = d.map(|x| x + 1); // moves the result on
    /// assert!(!d.has_result());
    /// ```
    pub fn has_result(&self) -> bool {
        matches!(self.chain.state.borrow().result, Slot::Ready(_))
    }

    /// Looks at the result the chain holds now without taking it (Twisted's
    /// `Deferred.result`, which its `repr` shows): `None` before it fires,
    /// while it waits on a chained Deferred ([`waiting`](Self::waiting)),
    /// and while a link runs on the result.
    ///
    /// ```
    /// use twine_core::defer::{succeed, Deferred};
    ///
    /// assert_eq!(succeed(7).peek(|r| *r.as_ref().unwrap()), Some(7));
    /// assert_eq!(Deferred::<i32>::new().peek(|_| ()), None);
    /// ```
    pub fn peek<R>(&self, f: impl FnOnce(&Result<T, Failure>) -> R) -> Option<R> {
        match &self.chain.state.borrow().result {
            Slot::Ready(r) => Some(f(r)),
            _ => None,
        }
    }

    /// Whether the chain waits on a Deferred a link returned (Twisted's
    /// `repr`: `waiting on Deferred`).
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    ///
    /// let (outer, inner) = (Deferred::<u8>::new(), Deferred::<u8>::new());
    /// let i = inner.clone();
    /// outer.add_callback(move |_| i);
    /// assert!(!outer.waiting());
    /// outer.callback(1).unwrap();
    /// assert!(outer.waiting());
    /// inner.callback(2).unwrap();
    /// assert!(!outer.waiting() && outer.peek(|r| *r.as_ref().unwrap()) == Some(2));
    /// ```
    pub fn waiting(&self) -> bool {
        matches!(self.chain.state.borrow().result, Slot::Waiting)
    }

    /// Whether `self` and `other` are the same Deferred.
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    ///
    /// let d = Deferred::<()>::new();
    /// assert!(d.ptr_eq(&d.clone()) && !d.ptr_eq(&Deferred::new()));
    /// ```
    pub fn ptr_eq(&self, other: &Deferred<T>) -> bool {
        Rc::ptr_eq(&self.chain, &other.chain)
    }

    /// Fires the Deferred with a result: its callbacks run now, before this
    /// returns. Firing twice is [`AlreadyCalled`].
    ///
    /// ```
    /// use twine_core::defer::{AlreadyCalled, Deferred};
    ///
    /// let d = Deferred::new();
    /// d.callback("first").unwrap();
    /// assert_eq!(d.callback("second"), Err(AlreadyCalled));
    /// ```
    pub fn callback(&self, value: T) -> Result<(), AlreadyCalled> {
        self.fire(Ok(value))
    }

    /// Fires the Deferred with a failure (anything that converts into one,
    /// any `std::error::Error` included): its errbacks run now.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, FailureKind};
    ///
    /// let d = Deferred::<u16>::new();
    /// d.add_errback(|f| {
    ///     assert!(f.check(FailureKind::Error));
    ///     0
    /// });
    /// d.errback("x".parse::<u16>().unwrap_err()).unwrap();
    /// ```
    pub fn errback(&self, failure: impl Into<Failure>) -> Result<(), AlreadyCalled> {
        self.fire(Err(failure.into()))
    }

    /// Fires with `result`: `callback` for `Ok`, `errback` for `Err`.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, Failure, FailureKind};
    ///
    /// let d = Deferred::<u8>::new();
    /// let outcome: Result<u8, Failure> = Err(Failure::new(FailureKind::TimedOut, "slow"));
    /// d.fire(outcome).unwrap();
    /// d.add_errback(|f| if f.check(FailureKind::TimedOut) { 0 } else { 1 });
    /// ```
    pub fn fire(&self, result: Result<T, Failure>) -> Result<(), AlreadyCalled> {
        if self.settle(result)? {
            self.run_callbacks();
        }
        Ok(())
    }

    /// Records the result without running the chain. `Ok(false)`: the
    /// result was eaten (the first one after a cancel with no canceller).
    fn settle(&self, result: Result<T, Failure>) -> Result<bool, AlreadyCalled> {
        let ok = result.is_ok();
        let (canceller, forward) = {
            let mut state = self.chain.state.borrow_mut();
            if state.called {
                // After a cancel with no canceller, the eventual real result is
                // eaten once, as in Twisted.
                return if std::mem::take(&mut state.suppress_already_called) { Ok(false) } else { Err(AlreadyCalled) };
            }
            state.called = true;
            state.result = Slot::Ready(result);
            (state.canceller.take(), state.cancel_inner.take())
        };
        // Dropped outside the borrow: their captures may run Drop code.
        if canceller.is_some() || forward.is_some() {
            drop((canceller, forward));
        }
        let id = self.chain.id;
        observer::emit(|| TraceEvent::DeferredFired { deferred: id, ok });
        Ok(true)
    }

    /// What a link of another chain returns after giving this Deferred
    /// `result`: the run loop runs this chain next (see `run_callbacks`).
    fn settle_step<S: 'static>(&self, result: Result<T, Failure>) -> Step<S> {
        match self.settle(result) {
            Ok(true) => hand_on(self.chain.clone()),
            _ => Step::Consumed,
        }
    }

    /// [`resolve_with`](Self::resolve_with) from inside a link of another
    /// chain: a value or failure is handed on through the run loop rather
    /// than by a nested call, so chains of `map` of any length run in
    /// bounded stack.
    pub(crate) fn resolve_step<S: 'static>(&self, outcome: Outcome<T>) -> Step<S> {
        match outcome {
            Outcome::Value(value) => self.settle_step(Ok(value)),
            Outcome::Failure(failure) => self.settle_step(Err(failure)),
            deferred @ Outcome::Deferred(_) => {
                self.resolve_with(deferred);
                Step::Consumed
            }
        }
    }

    /// Fires the Deferred with the result `inner` will have: the chain
    /// waits for `inner` as if a callback had returned it, and cancelling
    /// this Deferred from now on cancels `inner`. What Twisted does inside
    /// `inlineCallbacks` when a cancelled generator still has work to do.
    pub(crate) fn fire_waiting_on(&self, inner: Deferred<T>) -> Result<(), AlreadyCalled> {
        let (canceller, forward) = {
            let mut state = self.chain.state.borrow_mut();
            if state.called {
                return Err(AlreadyCalled);
            }
            state.called = true;
            (state.canceller.take(), state.cancel_inner.take())
        };
        drop((canceller, forward));
        self.chain_to(inner);
        self.run_callbacks();
        Ok(())
    }

    /// Adds a callback, run with the result (skipped on a failure). It may
    /// return a value, a `Result`, a [`Failure`] through [`Outcome`], or a
    /// `Deferred<T>` to wait for. Returns `self`, for chaining.
    ///
    /// ```
    /// use twine_core::defer::{succeed, Deferred};
    ///
    /// let d = Deferred::<u32>::new();
    /// d.add_callback(|x| x + 1) // a value
    ///     .add_callback(|x| succeed(x * 10)); // a Deferred: the chain takes its result
    /// d.callback(1).unwrap();
    /// d.add_callback(|x| {
    ///     assert_eq!(x, 20); // runs at once: the Deferred already fired
    ///     x
    /// });
    /// ```
    #[inline]
    pub fn add_callback<R: IntoOutcome<T>>(&self, f: impl FnOnce(T) -> R + 'static) -> &Deferred<T> {
        self.push_link(Box::new(OnResult(move |value| f(value).into_outcome())))
    }

    /// Adds an errback, run with a failure (skipped on a result). Returning
    /// a value recovers the chain; returning `Err` (or using `?` with
    /// [`Failure::trap`]) passes a failure on.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, Failure, FailureKind};
    ///
    /// let d = Deferred::<&str>::new();
    /// d.add_errback(|f| -> Result<&str, Failure> {
    ///     f.trap(FailureKind::TimedOut)?; // anything but a timeout passes on
    ///     Ok("cached answer")
    /// });
    /// d.errback(Failure::new(FailureKind::TimedOut, "slow")).unwrap();
    /// d.add_callback(|s| {
    ///     assert_eq!(s, "cached answer");
    ///     s
    /// });
    /// ```
    #[inline]
    pub fn add_errback<R: IntoOutcome<T>>(&self, f: impl FnOnce(Failure) -> R + 'static) -> &Deferred<T> {
        self.push_link(Box::new(OnFailure(move |failure| f(failure).into_outcome())))
    }

    /// Adds a callback and an errback as one link: exactly one of them runs,
    /// so the errback does not see the callback's own failure.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, Failure, FailureKind};
    ///
    /// let d = Deferred::<u8>::new();
    /// d.add_callbacks(
    ///     |x| if x > 9 { Err(Failure::new(FailureKind::Error, "too big")) } else { Ok(x) },
    ///     |_f| Ok(0), // not run for the callback's failure
    /// );
    /// d.callback(10).unwrap();
    /// d.add_errback(|f| {
    ///     assert_eq!(f.message(), "too big");
    ///     0
    /// });
    /// ```
    #[inline]
    pub fn add_callbacks<R1: IntoOutcome<T>, R2: IntoOutcome<T>>(
        &self,
        callback: impl FnOnce(T) -> R1 + 'static,
        errback: impl FnOnce(Failure) -> R2 + 'static,
    ) -> &Deferred<T> {
        self.push_link(Box::new(OnEither(move |result| {
            Step::Outcome(match result {
                Ok(value) => callback(value).into_outcome(),
                Err(failure) => errback(failure).into_outcome(),
            })
        })))
    }

    /// Adds a function run with either the result or the failure: Twisted's
    /// `addBoth`, for clean-up that must happen either way.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use twine_core::defer::{Deferred, Failure, FailureKind};
    ///
    /// let open = Rc::new(Cell::new(true));
    /// let d = Deferred::<u8>::new();
    /// let o = open.clone();
    /// d.add_both(move |result| {
    ///     o.set(false); // close the file, success or not
    ///     result
    /// });
    /// d.errback(Failure::new(FailureKind::Error, "read failed")).unwrap();
    /// assert!(!open.get());
    /// d.add_errback(|_| 0);
    /// ```
    #[inline]
    pub fn add_both<R: IntoOutcome<T>>(&self, f: impl FnOnce(Result<T, Failure>) -> R + 'static) -> &Deferred<T> {
        self.push_link(Box::new(OnEither(move |result| Step::Outcome(f(result).into_outcome()))))
    }

    /// Continues the chain with another type: a new `Deferred<U>` fired with
    /// `f`'s value (a failure passes straight through, skipping `f`). The
    /// type is inferred from what `f` returns.
    ///
    /// Three ways to go on, after the iterator and `Result` methods of the
    /// same names: [`map`](Self::map) for a plain value,
    /// [`try_map`](Self::try_map) for a `Result` (its `Err` goes down the
    /// errbacks), [`and_then`](Self::and_then) for another Deferred (the new
    /// one waits for it); [`then_both`](Self::then_both) sees failures too.
    ///
    /// The result moves on: callbacks added to `self` afterwards see a
    /// `ResultConsumed` failure. Cancelling the new Deferred cancels this
    /// one, or, once `f` returned a Deferred that has not fired, that one.
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    ///
    /// let d = Deferred::<u32>::new();
    /// let text = d.map(|n| format!("{n} requests"));
    /// d.callback(3).unwrap();
    /// let out = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    /// let o = out.clone();
    /// text.add_callback(move |s| {
    ///     *o.borrow_mut() = s.clone();
    ///     s
    /// });
    /// assert_eq!(*out.borrow(), "3 requests");
    /// ```
    pub fn map<U: 'static>(&self, f: impl FnOnce(T) -> U + 'static) -> Deferred<U> {
        self.continue_with(move |result| match result {
            Ok(value) => Outcome::Value(f(value)),
            Err(failure) => Outcome::Failure(failure),
        })
    }

    /// Like [`map`](Self::map), for a fallible `f`: `Ok` carries on down
    /// the callbacks, `Err` (any error that converts into a [`Failure`], any
    /// `std::error::Error` included) goes down the errbacks.
    ///
    /// ```
    /// use twine_core::defer::succeed;
    ///
    /// let parsed = succeed("x").try_map(|s| s.parse::<u32>());
    /// parsed.add_errback(|f| {
    ///     assert!(f.message().contains("invalid digit"));
    ///     0
    /// });
    /// ```
    pub fn try_map<U: 'static, E: Into<Failure>>(&self, f: impl FnOnce(T) -> Result<U, E> + 'static) -> Deferred<U> {
        self.continue_with(move |result| match result.map(f) {
            Ok(Ok(value)) => Outcome::Value(value),
            Ok(Err(error)) => Outcome::Failure(error.into()),
            Err(failure) => Outcome::Failure(failure),
        })
    }

    /// Like [`map`](Self::map), for an `f` that answers later: the new
    /// Deferred waits for the one `f` returns and takes its result.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::{defer_later, Clock};
    ///
    /// let clock = Clock::new();
    /// let reactor = clock.reactor();
    /// let user = defer_later(&reactor, Duration::from_secs(1), || 7_u32);
    /// let r = reactor.clone();
    /// let name = user.and_then(move |id| defer_later(&r, Duration::from_secs(1), move || format!("user {id}")));
    /// clock.advance(Duration::from_secs(1));
    /// assert!(!name.has_result()); // the second lookup is under way
    /// clock.advance(Duration::from_secs(1));
    /// name.add_callback(|n| {
    ///     assert_eq!(n, "user 7");
    ///     n
    /// });
    /// ```
    pub fn and_then<U: 'static>(&self, f: impl FnOnce(T) -> Deferred<U> + 'static) -> Deferred<U> {
        self.continue_with(move |result| match result {
            Ok(value) => Outcome::Deferred(f(value)),
            Err(failure) => Outcome::Failure(failure),
        })
    }

    /// Continues the chain with another type, with the result or the
    /// failure: what `f` returns may be a value, a `Result<U, Failure>`, a
    /// `Deferred<U>` or an [`Outcome`] (see [`IntoOutcome`]); when it is
    /// not a plain value, name the new type (`let d: Deferred<U> = ...`).
    ///
    /// ```
    /// use twine_core::defer::{Deferred, Failure, FailureKind};
    ///
    /// let d = Deferred::<u32>::new();
    /// let status = d.then_both(|r| match r {
    ///     Ok(n) => format!("{n} rows"),
    ///     Err(f) => format!("failed: {}", f.message()),
    /// });
    /// d.errback(Failure::new(FailureKind::Error, "locked")).unwrap();
    /// status.add_callback(|s| {
    ///     assert_eq!(s, "failed: locked");
    ///     s
    /// });
    /// ```
    pub fn then_both<U: 'static, R: IntoOutcome<U>>(
        &self,
        f: impl FnOnce(Result<T, Failure>) -> R + 'static,
    ) -> Deferred<U> {
        self.continue_with(move |result| f(result).into_outcome())
    }

    /// The new Deferred of [`map`](Self::map) and its siblings.
    fn continue_with<U: 'static>(&self, f: impl FnOnce(Result<T, Failure>) -> Outcome<U> + 'static) -> Deferred<U> {
        // Cancelling `out` forwards to `self` (weakly: `self` holds `out`
        // through the link below, and a strong reference back would keep
        // both alive if `self` never fired), as a cancel forwarded to a
        // Deferred waited on is: so a long `map` chain cancels in a loop.
        let out = Deferred::<U>::new();
        out.chain.state.borrow_mut().cancel_inner = Some(self.weak_chain());
        let target = out.clone();
        self.add_link(move |result| target.resolve_step(f(result)));
        out
    }

    /// Fires this Deferred with an outcome. For a Deferred outcome, it fires
    /// when that one does, and cancelling this one meanwhile cancels it.
    pub(crate) fn resolve_with(&self, outcome: Outcome<T>) {
        let _ = match outcome {
            Outcome::Value(value) => self.callback(value),
            Outcome::Failure(failure) => self.errback(failure),
            Outcome::Deferred(inner) => {
                if self.called() {
                    return;
                }
                self.chain.state.borrow_mut().cancel_inner = Some(inner.weak_chain());
                let me = self.clone();
                inner.add_link(move |result| me.settle_step(result));
                Ok(())
            }
        };
    }

    /// Adds a link that sees the result or the failure and may take it away
    /// or hand it on. Crate-internal building block.
    pub(crate) fn add_link(&self, link: impl FnOnce(Result<T, Failure>) -> Step<T> + 'static) -> &Deferred<T> {
        self.push_link(Box::new(OnEither(link)))
    }

    /// Adds a link; runs it at once if the Deferred has fired.
    ///
    /// Inlined, as the common case is a few instructions (a link added to a
    /// Deferred that has not fired, with room for it); the rest is out of line.
    ///
    /// Returns `self`, not a clone: a clone's count going up and down again
    /// is a read-modify-write of the same word per link, which the next
    /// link's waits on (about 10 % of a 10-callback chain's time).
    #[inline]
    fn push_link(&self, link: Box<dyn Link<T>>) -> &Deferred<T> {
        {
            let mut state = self.chain.state.borrow_mut();
            if !state.called && state.links.len() < state.links.capacity() {
                state.links.push(Some(link));
                return self;
            }
        }
        self.push_link_and_run(link);
        self
    }

    /// [`push_link`](Self::push_link) when the links need room or the
    /// Deferred has fired.
    #[inline(never)]
    fn push_link_and_run(&self, link: Box<dyn Link<T>>) {
        let called = {
            let mut state = self.chain.state.borrow_mut();
            state.links.push(Some(link));
            state.called
        };
        if called {
            self.run_callbacks();
        }
    }

    /// Stops running callbacks until [`unpause`](Self::unpause): Twisted's
    /// `Deferred.pause`. Pauses nest; the chain runs again when every one has
    /// been matched. A result that arrives meanwhile waits, and a chain that
    /// a callback handed this Deferred to waits with it.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use twine_core::defer::succeed;
    ///
    /// let seen = Rc::new(Cell::new(0));
    /// let d = succeed(7);
    /// d.pause();
    /// let s = seen.clone();
    /// d.add_callback(move |n| {
    ///     s.set(n);
    ///     n
    /// });
    /// assert_eq!(seen.get(), 0); // held back
    /// d.unpause();
    /// assert_eq!(seen.get(), 7);
    /// ```
    pub fn pause(&self) {
        self.chain.state.borrow_mut().paused += 1;
    }

    /// Undoes one [`pause`](Self::pause); the last one runs the callbacks
    /// added meanwhile, if the Deferred has fired: Twisted's
    /// `Deferred.unpause`. Unpausing a Deferred that is not paused does
    /// nothing.
    pub fn unpause(&self) {
        let run = {
            let mut state = self.chain.state.borrow_mut();
            if state.paused == 0 {
                return;
            }
            state.paused -= 1;
            state.paused == 0 && state.called
        };
        if run {
            self.run_callbacks();
        }
    }

    /// Cancels the Deferred: Twisted's `Deferred.cancel`.
    ///
    /// On a Deferred that has not fired: calls the canceller if there is
    /// one; if the Deferred still has not fired, it fails with `Cancelled`.
    /// Without a canceller, the real result that arrives later is dropped
    /// quietly (the source's `callback` returns `Ok` once). On a Deferred
    /// paused on a chained Deferred (a callback returned one that has not
    /// fired), cancels that one instead, so the failure flows back through
    /// this chain. On a Deferred that has a result, does nothing.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use twine_core::defer::{Deferred, FailureKind};
    ///
    /// let inner = Deferred::<u8>::new();
    /// let outer = Deferred::<u8>::new();
    /// let i = inner.clone();
    /// outer.add_callback(move |_| i); // outer pauses on inner
    /// outer.callback(0).unwrap();
    ///
    /// let seen = Rc::new(RefCell::new(None));
    /// let s = seen.clone();
    /// outer.add_errback(move |f| {
    ///     *s.borrow_mut() = Some(f.kind());
    ///     0
    /// });
    /// outer.cancel(); // reaches inner
    /// assert_eq!(*seen.borrow(), Some(FailureKind::Cancelled));
    /// assert!(inner.called());
    /// ```
    pub fn cancel(&self) {
        // A cancel forwarded down a chain (a Deferred waiting on another, a
        // `map` on its source) runs as this loop, not one cancel inside the
        // other. Forwards that have more to do once the cancel below them is
        // done wait on a stack, as calls would.
        let mut unfinished: Vec<(Rc<dyn ChainRun>, bool)> = Vec::new();
        let mut next = self.cancel_one();
        loop {
            next = match next {
                CancelStep::Done => break,
                CancelStep::Forward(chain) => chain.cancel_one(),
                CancelStep::ForwardThenFinish { to, from, had_canceller } => {
                    unfinished.push((from, had_canceller));
                    to.cancel_one()
                }
            };
        }
        for (chain, had_canceller) in unfinished.into_iter().rev() {
            chain.finish_cancel(had_canceller);
        }
    }

    /// Cancels this Deferred up to forwarding the cancel to the Deferred it
    /// waits on (or, for `map`, its source), which it leaves to
    /// [`cancel`](Self::cancel)'s loop.
    fn cancel_one(&self) -> CancelStep {
        let mut state = self.chain.state.borrow_mut();
        if !state.called {
            let canceller = state.canceller.take();
            let forward = state.cancel_inner.take();
            drop(state);
            let id = self.chain.id;
            observer::emit(|| TraceEvent::DeferredCancelled { deferred: id });
            let had_canceller = canceller.is_some();
            if let Some(canceller) = canceller {
                canceller(self);
            }
            match forward.and_then(|weak| weak.upgrade()) {
                Some(to) if !self.called() => {
                    CancelStep::ForwardThenFinish { to, from: self.chain.clone(), had_canceller }
                }
                _ => {
                    self.finish_cancel(had_canceller);
                    CancelStep::Done
                }
            }
        } else {
            let Some(to) = state.cancel_inner.take().and_then(|weak| weak.upgrade()) else {
                return CancelStep::Done;
            };
            drop(state);
            let id = self.chain.id;
            observer::emit(|| TraceEvent::DeferredCancelled { deferred: id });
            CancelStep::Forward(to)
        }
    }

    /// The end of cancelling a Deferred that had not fired: if neither its
    /// canceller nor the forwarded cancel fired it, it fails with `Cancelled`.
    fn finish_cancel(&self, had_canceller: bool) {
        if !self.called() {
            if !had_canceller {
                // The real result that arrives later is eaten once, as in Twisted.
                self.chain.state.borrow_mut().suppress_already_called = true;
            }
            let _ = self.fire(Err(Failure::cancelled()));
        }
    }

    /// This chain, type-erased and weak, for a Deferred waiting on it to cancel.
    fn weak_chain(&self) -> Weak<dyn ChainRun> {
        let weak: Weak<Chain<T>> = Rc::downgrade(&self.chain);
        weak
    }

    /// Runs links while there is a result and the chain is not paused.
    /// Re-entrant calls (a callback firing or extending its own chain) return
    /// at once; the running loop picks up the work.
    ///
    /// A link that hands the result on to another chain (a Deferred waiting
    /// on this one, or `map`'s) does not run that chain itself: it returns
    /// it, and this loop runs it, then comes back here. The chains waiting
    /// on each other live on a heap stack, as in Twisted's `_runCallbacks`,
    /// so a chain of a million Deferreds fires in constant native stack.
    fn run_callbacks(&self) {
        // Most chains hand nothing on: they run here without the stack.
        let Some(mut current) = self.run_links() else {
            return;
        };
        let mut waiting: Vec<Rc<dyn ChainRun>> = vec![self.chain.clone()];
        loop {
            match current.clone().run_links() {
                Some(next) => waiting.push(std::mem::replace(&mut current, next)),
                None => match waiting.pop() {
                    Some(previous) => current = previous,
                    None => break,
                },
            }
        }
    }

    /// One chain's part of [`run_callbacks`](Self::run_callbacks).
    ///
    /// The links run in one loop inside one `catch_unwind`, not one each: a
    /// link that panics unwinds out of the loop, its panic becomes the
    /// failure the next link gets, and the loop starts again there. The loop
    /// takes the chain's links as a batch and walks it without borrowing the
    /// state; links added meanwhile (by the callbacks themselves) queue
    /// behind, as the next batch. Between links the result stays in this
    /// frame: nothing can see the slot while the chain runs (`running`
    /// turns readers away).
    fn run_links(&self) -> Option<Rc<dyn ChainRun>> {
        let (mut batch, mut input) = {
            let mut state = self.chain.state.borrow_mut();
            if state.running || state.paused > 0 {
                // Running: its loop is further up the native stack and will
                // see the result handed to it. Paused: `unpause` runs it.
                return None;
            }
            let input = Self::take_input(&mut state)?;
            state.running = true;
            (Batch { links: std::mem::take(&mut state.links), ran: 0 }, input)
        };
        let handed_to = loop {
            // Whether the input of the link running now was a result: a
            // link that panics turns the chain to failure from there.
            let mut was_ok = true;
            match catch_unwind(AssertUnwindSafe(|| self.run_from(&mut batch, input, &mut was_ok))) {
                Ok(handed_to) => break handed_to,
                Err(payload) => {
                    let failure = Failure::from_panic(payload);
                    if was_ok {
                        self.trace_failed(&failure);
                    }
                    input = Err(failure);
                }
            }
        };
        self.chain.state.borrow_mut().running = false;
        if batch.ran == batch.links.len() && !batch.links.spilled() {
            // Every slot of a batch run out is empty, and an inline batch
            // has no buffer to free: nothing to drop, slot by slot.
            std::mem::forget(batch);
        }
        handed_to
    }

    /// The run loop proper: runs the links of `batch` (and those added
    /// meanwhile) on `input` and what each returns, until the chain runs out
    /// of links or of a result (`None`), or a link hands the result to
    /// another chain (`Some`). Sets the result slot on the way out.
    fn run_from(
        &self,
        batch: &mut Batch<T>,
        mut input: Result<T, Failure>,
        was_ok: &mut bool,
    ) -> Option<Rc<dyn ChainRun>> {
        loop {
            let step = match Self::run_batch(batch, input, was_ok) {
                BatchEnd::Step(step) => step,
                BatchEnd::RanOut(result) => {
                    // The links added since the batch was taken are the next.
                    let mut state = self.chain.state.borrow_mut();
                    if state.links.is_empty() {
                        state.result = Slot::Ready(result);
                        return None;
                    }
                    *batch = Batch { links: std::mem::take(&mut state.links), ran: 0 };
                    input = result;
                    continue;
                }
            };
            input = match step {
                Step::Outcome(Outcome::Value(value)) => {
                    // A value on a failure: `run_batch` returns the others.
                    let id = self.chain.id;
                    observer::emit(|| TraceEvent::DeferredRecovered { deferred: id });
                    Ok(value)
                }
                Step::Outcome(Outcome::Failure(failure)) => {
                    if *was_ok {
                        self.trace_failed(&failure);
                    }
                    Err(failure)
                }
                Step::Outcome(Outcome::Deferred(inner)) => {
                    self.put_back(batch);
                    // chain_to sets the slot itself: `inner` may hand its
                    // result over before chain_to returns.
                    self.chain_to(inner);
                    let mut state = self.chain.state.borrow_mut();
                    let input = Self::take_input(&mut state)?;
                    *batch = Batch { links: std::mem::take(&mut state.links), ran: 0 };
                    input
                }
                Step::Consumed => {
                    if batch.ran == batch.links.len() {
                        let mut state = self.chain.state.borrow_mut();
                        if state.links.is_empty() {
                            state.result = Slot::Consumed;
                            return None;
                        }
                    }
                    Err(result_consumed())
                }
                Step::Continue => {
                    let next = HANDED_TO.take().expect("Step::Continue comes from hand_on");
                    self.put_back(batch);
                    self.chain.state.borrow_mut().result = Slot::Consumed;
                    return Some(next);
                }
            };
        }
    }

    /// The inner loop of [`run_from`](Self::run_from): runs the batch's
    /// links while each turns a result into a result. Its slice and position
    /// stay in registers; the position and `was_ok` are only stored, for a
    /// panic to resume from.
    #[inline]
    fn run_batch(batch: &mut Batch<T>, mut input: Result<T, Failure>, was_ok: &mut bool) -> BatchEnd<T> {
        let links = &mut batch.links[..];
        let mut next = batch.ran;
        loop {
            let Some(slot) = links.get_mut(next) else {
                return BatchEnd::RanOut(input);
            };
            next += 1;
            batch.ran = next;
            let Some(link) = slot.take() else {
                continue;
            };
            let ok = input.is_ok();
            *was_ok = ok;
            match link.run(input) {
                Step::Outcome(Outcome::Value(value)) if ok => input = Ok(value),
                step => return BatchEnd::Step(step),
            }
        }
    }

    /// Returns the links of `batch` not run to the chain, ahead of those
    /// added since: the run stops, and whoever runs the chain next runs them.
    fn put_back(&self, batch: &mut Batch<T>) {
        if batch.ran < batch.links.len() {
            let mut state = self.chain.state.borrow_mut();
            state.links.insert_many(0, batch.links.drain(batch.ran..));
        }
    }

    /// Takes the result for the next link to run: when a link waits and the
    /// slot has a result (or was consumed: the link hears so).
    fn take_input(state: &mut State<T>) -> Option<Result<T, Failure>> {
        if state.links.is_empty() {
            return None;
        }
        state.result.take()
    }

    /// Traces the chain turning from results to failures.
    fn trace_failed(&self, failure: &Failure) {
        let id = self.chain.id;
        observer::emit(|| TraceEvent::DeferredFailed { deferred: id, message: failure.to_string() });
    }

    /// A callback returned `inner`: take its result now if it has one,
    /// otherwise pause until it fires. Sets this chain's result slot.
    fn chain_to(&self, inner: Deferred<T>) {
        if inner.ptr_eq(self) {
            self.chain.state.borrow_mut().result =
                Slot::Ready(Err(Failure::new(FailureKind::Error, "a callback returned the Deferred it was added to")));
            return;
        }
        let taken = {
            let mut inner_state = inner.chain.state.borrow_mut();
            if !inner_state.running && inner_state.paused == 0 && inner_state.links.is_empty() {
                inner_state.result.take()
            } else {
                None
            }
        };
        if let Some(result) = taken {
            self.chain.state.borrow_mut().result = Slot::Ready(result);
            return;
        }
        let (outer, to) = (self.chain.id, inner.chain.id);
        observer::emit(|| TraceEvent::DeferredChained { deferred: outer, to });
        {
            let mut state = self.chain.state.borrow_mut();
            state.result = Slot::Waiting;
            state.cancel_inner = Some(inner.weak_chain());
        }
        let me = self.clone();
        inner.add_link(move |result| {
            me.resume(result);
            hand_on(me.chain)
        });
    }

    /// Hands this paused chain the result it waited for; the caller runs it.
    fn resume(&self, result: Result<T, Failure>) {
        let cancel_inner = {
            let mut state = self.chain.state.borrow_mut();
            state.result = Slot::Ready(result);
            state.cancel_inner.take()
        };
        drop(cancel_inner);
    }

    /// A handle that does not keep the Deferred alive.
    pub(crate) fn downgrade(&self) -> WeakDeferred<T> {
        WeakDeferred { chain: Rc::downgrade(&self.chain) }
    }

    /// Takes the result if the chain has one and nothing else will run:
    /// what awaiting a Deferred does.
    pub(crate) fn take_result(&self) -> Option<Result<T, Failure>> {
        let mut state = self.chain.state.borrow_mut();
        if state.running || state.paused > 0 || !state.links.is_empty() {
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

    /// The body of `Future::poll`: takes the result when there is one;
    /// otherwise remembers `waker` and makes sure a link will wake it when
    /// the chain gets a result.
    pub(crate) fn poll_result(&self, waker: &Waker) -> Poll<Result<T, Failure>> {
        if let Some(result) = self.take_result() {
            return Poll::Ready(result);
        }
        let add_link = {
            let mut state = self.chain.state.borrow_mut();
            if matches!(state.result, Slot::Consumed) && !state.running && state.links.is_empty() {
                // Someone else took the result (an earlier await, or then):
                // waiting would never end.
                return Poll::Ready(Err(result_consumed()));
            }
            if !state.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                state.waker = Some(waker.clone());
            }
            !std::mem::replace(&mut state.await_linked, true)
        };
        if add_link {
            // Weak: the link lives in this chain.
            let chain = Rc::downgrade(&self.chain);
            self.add_link(move |result| {
                if let Some(chain) = chain.upgrade() {
                    let waker = {
                        let mut state = chain.state.borrow_mut();
                        state.await_linked = false;
                        state.waker.take()
                    };
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                }
                // Leave the result in place for the next poll to take.
                Step::Outcome(match result {
                    Ok(value) => Outcome::Value(value),
                    Err(failure) => Outcome::Failure(failure),
                })
            });
            // The link may have run already (a chain that had its result
            // but was busy running callbacks when polled).
            if let Some(result) = self.take_result() {
                return Poll::Ready(result);
            }
        }
        Poll::Pending
    }
}

fn result_consumed() -> Failure {
    Failure::new(
        FailureKind::ResultConsumed,
        "the result moved on: taken by an await, a map(), a DeferredList, or the Deferred that waited on this one",
    )
}

/// A Deferred reference that does not keep it alive: for cancellers and
/// timers that must not close a reference cycle.
pub(crate) struct WeakDeferred<T: 'static> {
    chain: Weak<Chain<T>>,
}

impl<T: 'static> Clone for WeakDeferred<T> {
    fn clone(&self) -> Self {
        WeakDeferred { chain: self.chain.clone() }
    }
}

impl<T: 'static> WeakDeferred<T> {
    /// The Deferred, if something still holds it.
    pub(crate) fn upgrade(&self) -> Option<Deferred<T>> {
        self.chain.upgrade().map(|chain| Deferred { chain })
    }
}
