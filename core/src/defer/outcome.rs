//! What a callback returns, and the error of firing twice.

use std::fmt;

use super::{Deferred, Failure};

/// What a callback or errback returns: a value, a failure, or another
/// Deferred whose result the chain waits for.
///
/// Callbacks usually return `T`, a `Result` or a `Deferred` directly;
/// `Outcome` names the choice when one callback returns different kinds:
///
/// ```
/// use twine_core::defer::{succeed, Deferred, Failure, FailureKind, Outcome};
///
/// let d = Deferred::<u32>::new();
/// d.add_callback(|n| match n {
///     0 => Outcome::Failure(Failure::new(FailureKind::Error, "empty")),
///     1 => Outcome::Value(1),
///     _ => Outcome::Deferred(succeed(n * 2)), // say, a lookup
/// });
/// d.callback(4).unwrap();
/// d.add_callback(|n| {
///     assert_eq!(n, 8);
///     n
/// });
/// ```
pub enum Outcome<T: 'static> {
    /// Carry on down the callbacks with this value.
    Value(T),
    /// Switch to the errbacks with this failure.
    Failure(Failure),
    /// Pause until this Deferred fires, then carry on with its result.
    Deferred(Deferred<T>),
}

/// Anything a callback may return: `T`, `Result<T, Failure>`, a
/// `Deferred<T>`, or an [`Outcome`] (a bare `Failure` goes through
/// `Err(failure)` or `Outcome::Failure`).
///
/// Where the target type is open, as in [`Deferred::then_both`], a closure
/// returning a `Result` or a `Deferred` needs the type named, since
/// `Deferred<U>` is itself a `U`-like value ([`Deferred::map`],
/// [`Deferred::try_map`] and [`Deferred::and_then`] need no name):
///
/// ```
/// use twine_core::defer::{succeed, Deferred, Failure};
///
/// let d = succeed("42");
/// let n: Deferred<u32> = d.then_both(|r| -> Result<u32, Failure> { Ok(r?.parse()?) });
/// # n.add_callback(|n| {
/// #     assert_eq!(n, 42);
/// #     n
/// # });
/// ```
#[diagnostic::on_unimplemented(
    message = "a Deferred<{T}> callback must return {T}, Result<{T}, Failure>, Outcome<{T}> or Deferred<{T}>, not `{Self}`",
    label = "this returns `{Self}`",
    note = "an errback that only logs passes the failure on with `Err(failure)`, or recovers with a value",
    note = "to change the result's type, use `map`, `try_map` (a Result) or `and_then` (a Deferred)",
    note = "a std Result converts with `?` inside a closure returning Result<{T}, Failure>"
)]
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
///
/// ```
/// use twine_core::defer::{succeed, AlreadyCalled};
///
/// assert_eq!(succeed(1).callback(2), Err(AlreadyCalled));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadyCalled;

impl fmt::Display for AlreadyCalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Deferred was already fired")
    }
}

impl std::error::Error for AlreadyCalled {}
