use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::defer::{Deferred, IntoOutcome};
use crate::reactor::{DelayedCall, Reactor, WeakReactor};
use crate::time::Time;

type Body = Box<dyn FnMut(u64) -> Deferred<()>>;

struct State {
    reactor: WeakReactor,
    body: RefCell<Body>,
    with_count: bool,
    running: Cell<bool>,
    interval: Cell<Duration>,
    start_time: Cell<Time>,
    run_at_start: Cell<bool>,
    last_time: Cell<Option<Time>>,
    call: RefCell<Option<DelayedCall>>,
    done: RefCell<Option<Deferred<()>>>,
    calls: Cell<u64>,
    skipped: Cell<u64>,
    max_lag: Cell<Duration>,
}

/// Calls a function every interval: Twisted's `task.LoopingCall`.
///
/// Calls are scheduled on interval boundaries counted from the start, so a
/// late call does not push the rest back: if the reactor was busy through
/// several intervals, the call runs once and the intervals it missed are
/// counted as skipped ([`with_count`](LoopingCall::with_count) passes the
/// count to the function, as Twisted's `withCount`). If the function returns
/// a Deferred, the next call waits for it; a failure stops the loop and
/// fails the Deferred [`start`](LoopingCall::start) returned.
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::{Clock, LoopingCall};
///
/// let clock = Clock::new();
/// let counts = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// let c = counts.clone();
/// let lc = LoopingCall::with_count(&clock.reactor(), move |n| c.borrow_mut().push(n));
/// lc.start(Duration::from_secs(1), true);
/// clock.advance(Duration::from_secs(1));
/// clock.advance(Duration::from_millis(3500)); // busy: three intervals pass at once
/// assert_eq!(*counts.borrow(), [1, 1, 3]);
/// assert_eq!(lc.skipped(), 2);
/// lc.stop();
/// ```
#[derive(Clone)]
pub struct LoopingCall {
    state: Rc<State>,
}

impl LoopingCall {
    /// A loop calling `f`, which may return `()`, a `Result<(), Failure>` or a `Deferred<()>`.
    pub fn new<R: IntoOutcome<()>>(reactor: &Reactor, mut f: impl FnMut() -> R + 'static) -> LoopingCall {
        LoopingCall::build(reactor, false, Box::new(move |_| outcome_deferred(f())))
    }

    /// A loop calling `f` with the number of intervals since its last call
    /// (1 when on time): Twisted's `LoopingCall.withCount`.
    pub fn with_count<R: IntoOutcome<()>>(reactor: &Reactor, mut f: impl FnMut(u64) -> R + 'static) -> LoopingCall {
        LoopingCall::build(reactor, true, Box::new(move |n| outcome_deferred(f(n))))
    }

    fn build(reactor: &Reactor, with_count: bool, body: Body) -> LoopingCall {
        LoopingCall {
            state: Rc::new(State {
                reactor: reactor.downgrade(),
                body: RefCell::new(body),
                with_count,
                running: Cell::new(false),
                interval: Cell::new(Duration::ZERO),
                start_time: Cell::new(Time::ZERO),
                run_at_start: Cell::new(true),
                last_time: Cell::new(None),
                call: RefCell::new(None),
                done: RefCell::new(None),
                calls: Cell::new(0),
                skipped: Cell::new(0),
                max_lag: Cell::new(Duration::ZERO),
            }),
        }
    }

    /// Starts calling every `interval`, the first time at once if `now`.
    /// The Deferred fires when the loop stops, or fails with the function's failure.
    /// Starting a running loop returns a failed Deferred.
    pub fn start(&self, interval: Duration, now: bool) -> Deferred<()> {
        self.start_from(interval, now, None)
    }

    /// [`start`](Self::start), counting the intervals from `origin` instead
    /// of the reactor's present time (`None`: from now, as `start`). A
    /// simulator that makes the timers set before the reactor runs count
    /// from the program's start passes that start here, so a loop started
    /// next to them ticks on the same boundaries. An `origin` in the future
    /// is taken as now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::{Clock, LoopingCall};
    /// use twine_core::Time;
    ///
    /// let clock = Clock::new();
    /// clock.advance(Duration::from_millis(300));
    /// let lc = LoopingCall::new(&clock.reactor(), || ());
    /// // Counted from 0: the next boundary is 1 s, not 1.3 s.
    /// lc.start_from(Duration::from_secs(1), false, Some(Time::ZERO));
    /// clock.advance(Duration::from_millis(700));
    /// assert_eq!(lc.calls(), 1);
    /// lc.stop();
    /// ```
    pub fn start_from(&self, interval: Duration, now: bool, origin: Option<Time>) -> Deferred<()> {
        let s = &self.state;
        if s.running.get() {
            return crate::defer::fail(crate::defer::Failure::new(
                crate::defer::FailureKind::Error,
                "LoopingCall is already running",
            ));
        }
        let Some(reactor) = s.reactor.upgrade() else {
            return crate::defer::fail(crate::defer::Failure::new(
                crate::defer::FailureKind::ReactorNotRunning,
                "the reactor is gone",
            ));
        };
        let done = Deferred::with_label("LoopingCall");
        *s.done.borrow_mut() = Some(done.clone());
        s.running.set(true);
        s.interval.set(interval);
        s.start_time.set(origin.map_or(reactor.seconds(), |t| t.min(reactor.seconds())));
        s.run_at_start.set(now);
        s.last_time.set(None);
        if now {
            self.call_body(&reactor);
        } else {
            // From now, which is the start unless `origin` was earlier.
            self.schedule_from(&reactor, reactor.seconds());
        }
        done
    }

    /// Stops the loop. Between calls, the Deferred from `start` fires at
    /// once. From inside the function, or while the Deferred it returned is
    /// pending, that Deferred is left to the function's result, as in
    /// Twisted: it fires when the function's result arrives, and fails if
    /// the function fails after `stop`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::defer::{Failure, FailureKind};
    /// use twine_core::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let lc = std::rc::Rc::new(std::cell::RefCell::new(None::<LoopingCall>));
    /// let me = lc.clone();
    /// let call = LoopingCall::new(&clock.reactor(), move || -> Result<(), Failure> {
    ///     me.borrow().as_ref().unwrap().stop();
    ///     Err(Failure::new(FailureKind::Error, "failed after stop"))
    /// });
    /// *lc.borrow_mut() = Some(call.clone());
    /// let done = call.start(Duration::from_secs(1), true);
    /// done.add_errback(|f| {
    ///     assert_eq!(f.message(), "failed after stop"); // Twisted's testFailAndStop
    /// });
    /// ```
    pub fn stop(&self) {
        if !self.state.running.replace(false) {
            return;
        }
        let Some(call) = self.state.call.borrow_mut().take() else {
            return; // inside the function, or waiting on its Deferred
        };
        let _ = call.cancel();
        if let Some(done) = self.state.done.borrow_mut().take() {
            let _ = done.callback(());
        }
    }

    /// Skips the next call and starts counting intervals again from now:
    /// Twisted's `LoopingCall.reset`. Does nothing when the loop is not
    /// waiting for its next call (not running, or inside the function).
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let lc = LoopingCall::new(&clock.reactor(), || ());
    /// lc.start(Duration::from_secs(2), false);
    /// clock.advance(Duration::from_secs(1));
    /// lc.reset(); // the next call is now 2 s away
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(lc.calls(), 0);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(lc.calls(), 1);
    /// ```
    pub fn reset(&self) {
        if !self.state.running.get() {
            return;
        }
        let Some(call) = self.state.call.borrow_mut().take() else { return };
        let _ = call.cancel();
        let Some(reactor) = self.state.reactor.upgrade() else { return };
        let now = reactor.seconds();
        self.state.start_time.set(now);
        self.schedule_from(&reactor, now);
    }

    /// The interval between calls.
    pub fn interval(&self) -> Duration {
        self.state.interval.get()
    }

    /// Changes the interval, as setting Twisted's `LoopingCall.interval`
    /// does: it takes effect when the next call is scheduled (after the
    /// current wait, or after the function's pending Deferred fires).
    /// Intervals are still counted from the start.
    pub fn set_interval(&self, interval: Duration) {
        self.state.interval.set(interval);
    }

    /// Whether the loop is running.
    pub fn running(&self) -> bool {
        self.state.running.get()
    }

    /// How many times the function has been called.
    pub fn calls(&self) -> u64 {
        self.state.calls.get()
    }

    /// Intervals that passed without a call because the reactor was late.
    pub fn skipped(&self) -> u64 {
        self.state.skipped.get()
    }

    /// The longest a call ran after the first boundary it was due at: a
    /// call on time lags by its timer's lateness; one that comes after
    /// skipped intervals lags from the first of them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let lc = LoopingCall::new(&clock.reactor(), || ());
    /// lc.start(Duration::from_secs(1), true);
    /// clock.advance(Duration::from_millis(3500)); // due at 1 s, runs at 3.5 s
    /// assert_eq!(lc.max_lag(), Duration::from_millis(2500));
    /// lc.stop();
    /// ```
    pub fn max_lag(&self) -> Duration {
        self.state.max_lag.get()
    }

    fn interval_of(&self, t: Time) -> u64 {
        let interval = self.state.interval.get().as_nanos();
        if interval == 0 {
            return 0;
        }
        ((t - self.state.start_time.get()).as_nanos() / interval) as u64
    }

    fn call_body(&self, reactor: &Reactor) {
        let s = &self.state;
        *s.call.borrow_mut() = None;
        let now = reactor.seconds();
        let (count, due) = if s.interval.get().is_zero() {
            (1, now)
        } else {
            let last_interval = match s.last_time.get() {
                Some(last) => self.interval_of(last) as i128,
                None if s.run_at_start.get() => -1,
                None => 0,
            };
            let first_due = (last_interval + 1).max(0) as u64;
            let due = s.start_time.get()
                + Duration::from_nanos((s.interval.get().as_nanos() as u64).saturating_mul(first_due));
            ((self.interval_of(now) as i128 - last_interval).max(0) as u64, due)
        };
        if s.with_count && count == 0 {
            self.schedule_from(reactor, now);
            return;
        }
        let lag = now.saturating_since(due);
        if lag > s.max_lag.get() {
            s.max_lag.set(lag);
        }
        s.last_time.set(Some(now));
        s.skipped.set(s.skipped.get() + count.saturating_sub(1));
        s.calls.set(s.calls.get() + 1);
        let result = (s.body.borrow_mut())(count.max(1));
        let me = self.clone();
        result.add_both(move |result| {
            let s = &me.state;
            match result {
                Ok(()) if s.running.get() => {
                    if let Some(reactor) = s.reactor.upgrade() {
                        let now = reactor.seconds();
                        me.schedule_from(&reactor, now);
                    }
                }
                Ok(()) => {
                    // Stopped from inside the function or while its Deferred was pending.
                    if let Some(done) = s.done.borrow_mut().take() {
                        let _ = done.callback(());
                    }
                }
                Err(failure) => {
                    s.running.set(false);
                    if let Some(done) = s.done.borrow_mut().take() {
                        let _ = done.errback(failure);
                    }
                }
            }
            Ok(())
        });
    }

    /// Schedules the next call at the next interval boundary after `when`.
    fn schedule_from(&self, reactor: &Reactor, when: Time) {
        let interval = self.state.interval.get();
        let delay = if interval.is_zero() {
            Duration::ZERO
        } else {
            let running_for = (when - self.state.start_time.get()).as_nanos();
            let until_next = interval.as_nanos() - running_for % interval.as_nanos();
            Duration::from_nanos(until_next as u64)
        };
        let me = self.clone();
        let call = reactor.call_later(delay, move |reactor| me.call_body(reactor));
        *self.state.call.borrow_mut() = Some(call);
    }
}

fn outcome_deferred<R: IntoOutcome<()>>(r: R) -> Deferred<()> {
    let d = Deferred::new();
    d.resolve_with(r.into_outcome());
    d
}
