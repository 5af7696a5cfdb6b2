//! Deferreds: results that are not there yet. Twisted's `twisted.internet.defer`.
//!
//! A [`Deferred`] holds a chain of callbacks and errbacks. Firing it runs the
//! chain synchronously: each callback gets the previous one's result; a
//! [`Failure`] switches to the errbacks until one recovers. A callback may
//! return another Deferred, and the chain pauses until that one fires.
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

pub use deferred::{AlreadyCalled, Deferred, IntoOutcome, Outcome};
pub use failure::{Failure, FailureKind};

/// A Deferred that already has `value`: Twisted's `succeed`.
pub fn succeed<T: 'static>(value: T) -> Deferred<T> {
    let d = Deferred::new();
    let _ = d.callback(value);
    d
}

/// A Deferred that already failed with `failure`: Twisted's `fail`.
pub fn fail<T: 'static>(failure: impl Into<Failure>) -> Deferred<T> {
    let d = Deferred::new();
    let _ = d.errback(failure);
    d
}
