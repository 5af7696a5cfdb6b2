//! What the reactor tells about itself: the trace, its counters, its
//! queues, and which reactor is current on this thread.

use std::cell::Cell;
use std::rc::{Rc, Weak};

use super::{Inner, PendingTimer, Reactor, ReactorStats, CURRENT};
use crate::defer::{set_defer_observer, DeferObserver, Failure};
use crate::time::Time;
use crate::trace::{TraceEvent, TraceRecord, TraceSink};

/// Deferreds trace through, and report unhandled errors to, the current
/// reactor without knowing it: it lends itself as their observer.
impl DeferObserver for Inner {
    fn trace(&self, event: TraceEvent) {
        if self.tracing.get() {
            self.record(self.seconds(), event);
        }
    }

    fn unhandled_error(&self, deferred: u64, failure: &Failure) {
        let c = &self.counters.unhandled_errors;
        c.set(c.get() + 1);
        self.trace(TraceEvent::UnhandledError { deferred, message: failure.to_string() });
    }
}

impl Inner {
    pub(super) fn seconds(&self) -> Time {
        match &*self.clock.borrow() {
            Some(clock) => clock(),
            None => self.now.get(),
        }
    }

    fn record(&self, t: Time, event: TraceEvent) {
        if let Ok(mut sink) = self.trace.try_borrow_mut() {
            if let Some(sink) = sink.as_mut() {
                sink.record(&TraceRecord { t, event });
            }
        }
    }
}

impl Reactor {
    /// Sends every trace event from now on to `sink`, replacing any other.
    pub fn set_trace_sink(&self, sink: impl TraceSink + 'static) {
        *self.inner.trace.borrow_mut() = Some(Box::new(sink));
        self.inner.tracing.set(true);
        self.make_current();
        self.observe_deferreds();
    }

    /// Stops tracing; returns the sink that was attached.
    pub fn take_trace_sink(&self) -> Option<Box<dyn TraceSink>> {
        self.inner.tracing.set(false);
        self.make_current();
        self.observe_deferreds();
        self.inner.trace.borrow_mut().take()
    }

    /// Whether a trace sink is attached.
    pub fn is_tracing(&self) -> bool {
        self.inner.tracing.get()
    }

    /// Records `event` now, building it only when a sink is attached.
    /// Drivers use this for the driver facts of the trace.
    pub fn emit(&self, event: impl FnOnce() -> TraceEvent) {
        if self.inner.tracing.get() {
            self.emit_at(self.seconds(), event());
        }
    }

    /// Records `event` at `t`.
    pub fn emit_at(&self, t: Time, event: TraceEvent) {
        self.inner.record(t, event);
    }

    /// Thread-pool jobs ([`threads`](crate::threads)) whose results have
    /// not come back yet.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::Clock;
    /// use twine_core::threads::{call_in_thread, ManualPool};
    ///
    /// let clock = Clock::new();
    /// let pool = ManualPool::new();
    /// clock.driver().set_thread_pool(pool.clone());
    /// call_in_thread(&clock.reactor(), || {});
    /// assert_eq!(clock.reactor().jobs_in_flight(), 1);
    /// pool.run_all();
    /// clock.advance(Duration::ZERO);
    /// assert_eq!(clock.reactor().jobs_in_flight(), 0);
    /// ```
    pub fn jobs_in_flight(&self) -> usize {
        self.inner.counters.jobs_in_flight.get()
    }

    /// Sets the count [`jobs_in_flight`](Self::jobs_in_flight) reads.
    pub(crate) fn set_jobs_in_flight(&self, jobs: usize) {
        self.inner.counters.jobs_in_flight.set(jobs);
    }

    /// The reactor's health counters.
    pub fn stats(&self) -> ReactorStats {
        let c = &self.inner.counters;
        ReactorStats {
            turns: self.inner.turn.borrow().number,
            calls: c.calls.get(),
            slow_calls: c.slow_calls.get(),
            panics: c.panics.get(),
            unhandled_errors: c.unhandled_errors.get(),
            timers_pending: self.inner.timers.borrow().len() as u64,
            inbox_depth: self.inner.inbox.len() as u64,
            connections: self.inner.io.borrow().connection_count() as u64,
            bytes_in: c.bytes_in.get(),
            bytes_out: c.bytes_out.get(),
        }
    }

    /// Handles on the pending timers (not yet run or cancelled), in the
    /// order they were made: Twisted's `getDelayedCalls`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::Clock;
    ///
    /// let clock = Clock::new();
    /// let reactor = clock.reactor();
    /// let late = reactor.call_later(Duration::from_secs(5), |_| {});
    /// let soon = reactor.call_later(Duration::from_secs(1), |_| {});
    /// soon.cancel().unwrap();
    /// let pending = reactor.delayed_calls();
    /// assert_eq!(pending.len(), 1);
    /// assert_eq!(pending[0].id(), late.id());
    /// ```
    pub fn delayed_calls(&self) -> Vec<super::DelayedCall> {
        let refs = self.inner.timers.borrow_mut().pending_refs();
        refs.into_iter().map(|timer| super::DelayedCall { timer, reactor: Rc::downgrade(&self.inner) }).collect()
    }

    /// The pending timers in the order they will fire. For views of the reactor's queues.
    pub fn pending_timers(&self) -> Vec<PendingTimer> {
        self.inner.timers.borrow().snapshot()
    }

    /// Timers due at `now` that the current turn has still to run: during
    /// the turn's inbox calls, those they schedule count too (the turn
    /// inserts them before running its timers).
    pub fn due_timers(&self, now: Time) -> usize {
        let turn = self.inner.turn.borrow();
        let before_merge = turn.active && !turn.timers_merged;
        self.inner.timers.borrow().due_count(now, before_merge)
    }

    pub(crate) fn count_bytes(&self, incoming: bool, n: usize) {
        let c = if incoming { &self.inner.counters.bytes_in } else { &self.inner.counters.bytes_out };
        c.set(c.get() + n as u64);
    }

    /// Driver face: `ReactorDriver::make_current` documents it.
    /// Every call into the reactor makes it current (twice a message), so
    /// one that already is returns after one thread-local read: the
    /// Deferreds' observer is set with `CURRENT`, and only here, so it is
    /// this reactor's already.
    pub(crate) fn make_current(&self) {
        let already = CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            if std::ptr::eq(current.as_ptr(), Rc::as_ptr(&self.inner)) {
                return true;
            }
            *current = Rc::downgrade(&self.inner);
            false
        });
        if !already {
            self.observe_deferreds();
        }
    }

    /// Makes this reactor the thread's Deferreds' observer, with its
    /// tracing flag (set again whenever the flag changes).
    fn observe_deferreds(&self) {
        let observer: Weak<dyn DeferObserver> = Rc::downgrade(&self.inner) as Weak<Inner>;
        set_defer_observer(observer, self.inner.tracing.get());
    }

    /// The reactor most recently created or driven on this thread, if it still exists.
    pub fn current() -> Option<Reactor> {
        CURRENT.with(|c| c.borrow().upgrade()).map(|inner| Reactor { inner })
    }
}

/// A readable name for a callback from its type name: the last two path
/// segments of the function that made the closure, e.g.
/// `LoopingCall::schedule_from` for
/// `twine_core::task::looping::LoopingCall::schedule_from::{{closure}}`.
/// A suffix of the static type name, so naming costs nothing.
pub(crate) fn callback_name(type_name: &'static str) -> &'static str {
    thread_local! {
        /// The last name shortened and its short form: a loop scheduling
        /// calls schedules the same closure type over and over, and
        /// shortening costs as much as the rest of `call_later`.
        static LAST: Cell<(&'static str, &'static str)> = const { Cell::new(("", "")) };
    }
    let (last, short) = LAST.with(Cell::get);
    if std::ptr::eq(last, type_name) {
        return short;
    }
    let short = shorten(type_name);
    LAST.with(|l| l.set((type_name, short)));
    short
}

fn shorten(type_name: &'static str) -> &'static str {
    let mut name = type_name;
    while let Some(stripped) = name.strip_suffix("::{{closure}}") {
        name = stripped;
    }
    // Find the start of the last two `::`-separated segments outside generics.
    let bytes = name.as_bytes();
    let (mut depth, mut seps, mut i) = (0i32, 0, bytes.len());
    while i > 1 {
        i -= 1;
        match bytes[i] {
            b'>' => depth += 1,
            b'<' => depth -= 1,
            b':' if depth == 0 && bytes[i - 1] == b':' => {
                seps += 1;
                if seps == 2 {
                    return &name[i + 1..];
                }
                i -= 1;
            }
            _ => {}
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::callback_name;

    #[test]
    fn callback_names_keep_the_last_two_segments_of_the_enclosing_function() {
        assert_eq!(
            callback_name("twine_core::task::looping::LoopingCall::schedule_from::{{closure}}"),
            "LoopingCall::schedule_from"
        );
        assert_eq!(callback_name("my_app::main::{{closure}}::{{closure}}"), "my_app::main");
        assert_eq!(
            callback_name("a::b::Deferred<alloc::vec::Vec<u8>>::then::{{closure}}"),
            "Deferred<alloc::vec::Vec<u8>>::then"
        );
        assert_eq!(callback_name("main"), "main");
    }
}
