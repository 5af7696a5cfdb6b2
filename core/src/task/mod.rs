//! Time-based helpers: Twisted's `twisted.internet.task`.
//!
//! - [`Clock`]: a reactor driven by hand, for tests.
//! - [`LoopingCall`]: call a function every interval, counting missed intervals.
//! - [`Cooperator`] and [`coiterate`]: run many iterators a slice at a time
//!   without starving the reactor.
//! - [`defer_later`]: a Deferred fired with a function's result after a delay.
//! - [`ensure_deferred`]: run a future on the reactor, its result in a
//!   Deferred (Twisted's `ensureDeferred`, which lives in `defer`; here it
//!   sits above the reactor it needs).

mod clock;
mod cooperator;
mod ensure;
mod looping;

pub use clock::Clock;
pub use cooperator::{coiterate, CooperativeTask, Cooperator};
pub use ensure::ensure_deferred;
pub use looping::LoopingCall;

use std::time::Duration;

use crate::defer::{Deferred, IntoOutcome};
use crate::reactor::Reactor;

/// A Deferred fired after `delay` with what `f` returns: Twisted's
/// `deferLater`. Cancelling it cancels the call.
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::{defer_later, Clock};
///
/// let clock = Clock::new();
/// let d = defer_later(&clock.reactor(), Duration::from_secs(1), || "done");
/// clock.advance(Duration::from_secs(1));
/// d.add_callback(|s| {
///     assert_eq!(s, "done");
///     s
/// });
/// ```
pub fn defer_later<T: 'static, R: IntoOutcome<T> + 'static>(
    reactor: &Reactor,
    delay: Duration,
    f: impl FnOnce() -> R + 'static,
) -> Deferred<T> {
    let call = std::rc::Rc::new(std::cell::RefCell::new(None::<crate::reactor::DelayedCall>));
    let c = call.clone();
    let d = Deferred::with_canceller(move |_| {
        if let Some(call) = c.borrow_mut().take() {
            let _ = call.cancel();
        }
    });
    let fire = d.clone();
    let delayed = reactor.call_later(delay, move |_| fire.resolve_with(f().into_outcome()));
    *call.borrow_mut() = Some(delayed);
    d
}
