//! [`Deferred::add_timeout`]: Twisted's `Deferred.addTimeout`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::{Deferred, Failure, FailureKind, IntoOutcome};
use crate::time::ReactorTime;

impl<T: 'static> Deferred<T> {
    /// Cancels the Deferred if it has no result within `delay` on
    /// `reactor`'s clock (any [`ReactorTime`]): Twisted's `addTimeout`.
    ///
    /// When the timer fires it calls [`cancel`](Self::cancel), so the
    /// canceller (if any) runs as for any cancel. A `Cancelled` failure that
    /// the timeout caused turns into `TimedOut`; anything else the cancel
    /// produced (a canceller that fires a value, or another failure) passes
    /// through unchanged, as does a `Cancelled` from an ordinary `cancel`.
    /// If the result comes first, the timer is cancelled. The conversion is
    /// a callback added now: callbacks added before this one see the
    /// original `Cancelled`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::defer::{Deferred, FailureKind};
    /// use twine_core::task::Clock;
    ///
    /// let clock = Clock::new();
    /// let reactor = clock.reactor();
    /// let answer = Deferred::<u32>::new();
    /// answer.add_timeout(&reactor, Duration::from_secs(5)).add_errback(|f| {
    ///     assert!(f.check(FailureKind::TimedOut));
    ///     0
    /// });
    /// clock.advance(Duration::from_secs(5));
    /// assert!(answer.has_result());
    ///
    /// let quick = Deferred::<u32>::new();
    /// quick.add_timeout(&reactor, Duration::from_secs(5));
    /// quick.callback(7).unwrap();
    /// assert!(reactor.pending_timers().is_empty()); // the timer went with the result
    /// ```
    pub fn add_timeout(&self, reactor: &impl ReactorTime, delay: Duration) -> &Deferred<T> {
        self.add_timeout_with(reactor, delay, |result, delay| match result {
            Err(failure) if failure.check(FailureKind::Cancelled) => {
                Err(Failure::new(FailureKind::TimedOut, format!("Deferred timed out after {delay:?}")))
            }
            other => other,
        })
    }

    /// [`add_timeout`](Self::add_timeout) with Twisted's `onTimeoutCancel`:
    /// when the timeout cancelled the Deferred (and only then), the chain
    /// carries on with what `on_timeout_cancel` makes of the result the
    /// cancel left (usually a `Cancelled` failure) and the delay. It may
    /// return a value, a failure or a Deferred, like any callback.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::defer::Deferred;
    /// use twine_core::task::Clock;
    ///
    /// let clock = Clock::new();
    /// let price = Deferred::<u32>::new();
    /// price.add_timeout_with(&clock.reactor(), Duration::from_secs(2), |_cancelled, _delay| 0); // a default price
    /// clock.advance(Duration::from_secs(2));
    /// price.add_callback(|p| {
    ///     assert_eq!(p, 0);
    ///     p
    /// });
    /// ```
    pub fn add_timeout_with<R: IntoOutcome<T>>(
        &self,
        reactor: &impl ReactorTime,
        delay: Duration,
        on_timeout_cancel: impl FnOnce(Result<T, Failure>, Duration) -> R + 'static,
    ) -> &Deferred<T> {
        let timed_out = Rc::new(Cell::new(false));
        // The timer holds the Deferred, as Twisted's does: a Deferred
        // nothing else holds still times out and runs its errbacks. No
        // cycle: the Deferred holds only the timer's handle (below), and the
        // reactor drops the closure when the timer runs or is cancelled.
        let target = self.clone();
        let flag = timed_out.clone();
        let on_timeout = move || {
            flag.set(true);
            target.cancel();
        };
        let name = std::any::type_name_of_val(&on_timeout);
        let timer = reactor.call_later_dyn(delay, name, Box::new(on_timeout));
        self.add_both(move |result| {
            timer.cancel();
            if timed_out.get() {
                on_timeout_cancel(result, delay).into_outcome()
            } else {
                result.into_outcome()
            }
        })
    }
}
