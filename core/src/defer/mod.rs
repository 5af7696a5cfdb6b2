//! Deferreds: results that are not there yet. Twisted's `twisted.internet.defer`.
//!
//! A [`Deferred`] holds a chain of callbacks and errbacks. Firing it runs the
//! chain synchronously: each callback gets the previous one's result; a
//! [`Failure`] switches to the errbacks until one recovers. A callback may
//! return another Deferred, and the chain pauses until that one fires.
//!
//! Around it, as in Twisted:
//!
//! - [`Failure`]: what travels down the errbacks; [`succeed`], [`fail`],
//!   [`maybe_deferred`].
//! - [`Deferred::cancel`] with an optional canceller, and
//!   [`Deferred::add_timeout`].
//! - Many at once: [`DeferredList`], [`gather_results`] and [`race`].
//! - [`Deferred::pause`] and [`Deferred::unpause`].
//! - Taking turns: [`DeferredLock`], [`DeferredSemaphore`], [`DeferredQueue`].
//! - async/await: `Deferred<T>` is a `Future` of `Result<T, Failure>`, and
//!   [`task::ensure_deferred`](crate::task::ensure_deferred) runs a future
//!   on the reactor, so async code reads like `inlineCallbacks`.
//!
//! ```
//! use std::time::Duration;
//! use twine_core::defer::{Deferred, Failure, FailureKind};
//! use twine_core::task::Clock;
//!
//! let clock = Clock::new();
//! let reactor = clock.reactor();
//!
//! // Something that answers later, as a network call would.
//! let lookup = |reactor: &twine_core::Reactor, name: &'static str| {
//!     let d = Deferred::new();
//!     let fire = d.clone();
//!     reactor.call_later(Duration::from_millis(30), move |_| {
//!         let _ = match name {
//!             "twine" => fire.callback(7),
//!             _ => fire.errback(Failure::new(FailureKind::Error, "no such name")),
//!         };
//!     });
//!     d
//! };
//!
//! let d = lookup(&reactor, "nobody");
//! let r = reactor.clone();
//! d.add_errback(move |_| lookup(&r, "twine")); // fall back: the chain waits for the second lookup
//! clock.advance(Duration::from_millis(30));
//! assert!(!d.has_result()); // paused on the fallback
//! clock.advance(Duration::from_millis(30));
//! d.add_callback(|id| {
//!     assert_eq!(id, 7);
//!     id
//! });
//! ```

mod deferred;
mod failure;
mod flat;
mod future;
mod list;
mod lock;
mod observer;
mod outcome;
mod queue;
mod race;
mod timeout;

pub use deferred::Deferred;
pub use failure::{Failure, FailureKind};
pub(crate) use future::{note_awaited, CancelAwaited};
pub use list::{gather_results, gather_results_with, maybe_deferred, DeferredList, FirstSuccess};
pub use lock::{DeferredLock, DeferredSemaphore, NotAcquired};
pub(crate) use observer::{set_observer as set_defer_observer, DeferObserver};
pub use outcome::{AlreadyCalled, IntoOutcome, Outcome};
pub use queue::DeferredQueue;
pub use race::race;

/// A Deferred that already has `value`: Twisted's `succeed`.
///
/// ```
/// let d = twine_core::defer::succeed(3);
/// assert!(d.has_result());
/// ```
pub fn succeed<T: 'static>(value: T) -> Deferred<T> {
    let d = Deferred::new();
    let _ = d.callback(value);
    d
}

/// A Deferred that already failed with `failure`: Twisted's `fail`.
///
/// ```
/// use twine_core::defer::{fail, Deferred, Failure, FailureKind};
///
/// let d: Deferred<u8> = fail(Failure::new(FailureKind::ConnectionRefused, "port 9 closed"));
/// d.add_errback(|f| {
///     assert!(f.check(FailureKind::ConnectionRefused));
///     0
/// });
/// ```
pub fn fail<T: 'static>(failure: impl Into<Failure>) -> Deferred<T> {
    let d = Deferred::new();
    let _ = d.errback(failure);
    d
}
