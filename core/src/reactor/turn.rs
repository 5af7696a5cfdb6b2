//! The driver's side of the loop: turns, one call at a time, and the time
//! of the next one. The order of a turn is documented on the [module](super).

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::triggers::Ready;
use super::{InboxCall, Lifecycle, Reactor};
use crate::defer::Failure;
use crate::time::Time;
use crate::trace::{CallSource, SystemEvent, TraceEvent, TriggerPhase};

impl Reactor {
    /// Driver face: `ReactorDriver::handle_timeout` documents it.
    pub(crate) fn handle_timeout(&self, now: Time) {
        self.begin_turn(now);
        // The calls of one turn run back to back: each starts when the one
        // before it ended, so a lent clock is read once per call, not twice.
        self.inner.chaining.set(true);
        self.inner.chained_start.set(None);
        while self.run_next_call() {}
        self.inner.chaining.set(false);
        self.inner.chained_start.set(None);
    }

    /// Driver face: `ReactorDriver::begin_turn` documents it.
    pub(crate) fn begin_turn(&self, now: Time) {
        self.set_now(now);
        if self.inner.turn.borrow().active {
            return;
        }
        if self.inner.lifecycle.get() == Lifecycle::NotStarted {
            self.inner.lifecycle.set(Lifecycle::Starting);
            self.fire_event(SystemEvent::Startup);
        }
        let (number, taken) = {
            let mut turn = self.inner.turn.borrow_mut();
            turn.active = true;
            turn.number += 1;
            turn.now = now;
            turn.timers_merged = false;
            self.inner.inbox.take_batch(&mut turn.inbox);
            (turn.number, turn.inbox.len() as u32)
        };
        self.emit(|| TraceEvent::TurnStart { turn: number, inbox: taken });
        if taken > 0 && self.inner.tracing.get() {
            for depth in (0..taken).rev() {
                self.emit(|| TraceEvent::InboxDelivery { depth });
            }
        }
    }

    /// Driver face: `ReactorDriver::run_next_call` documents it.
    pub(crate) fn run_next_call(&self) -> bool {
        loop {
            enum Next {
                Ready(Ready),
                Inbox(InboxCall),
                Timer(Time),
            }
            let next = {
                let mut turn = self.inner.turn.borrow_mut();
                if !turn.active {
                    return false;
                }
                if let Some(ready) = turn.ready.pop_front() {
                    Next::Ready(ready)
                } else if let Some(call) = turn.inbox.pop_front() {
                    Next::Inbox(call)
                } else {
                    if !std::mem::replace(&mut turn.timers_merged, true) {
                        self.inner.timers.borrow_mut().merge_incoming();
                        // Twisted reads its clock again here, after the
                        // thread calls (`runUntilCurrent`'s `now =
                        // self.seconds()`): a `call_later(0)` a thread call
                        // made is due by then even when the calls took time.
                        // Within `handle_timeout` the last call's end is
                        // that time (no second read of the clock).
                        let at = match self.inner.chaining.get() {
                            true => self.inner.chained_start.get(),
                            false => Some(self.inner.seconds()),
                        };
                        turn.now = turn.now.max(at.unwrap_or(turn.now));
                    }
                    Next::Timer(turn.now)
                }
            };
            match next {
                Next::Ready(Ready::Trigger { event, phase, trigger }) => {
                    self.run_trigger(event, phase, trigger);
                    return true;
                }
                Next::Ready(Ready::PhaseEnd { event, phase }) => self.end_phase(event, phase),
                Next::Inbox(call) => {
                    self.run_call(CallSource::Inbox, 0, "call_from_thread", || call(self));
                    return true;
                }
                Next::Timer(now) => {
                    let due = self.inner.timers.borrow_mut().pop_due(now);
                    if let Some(timer) = due {
                        let late = now.saturating_since(timer.due()).as_nanos() as u64;
                        self.emit(|| TraceEvent::TimerFired { timer: timer.id, late });
                        if let Some(callback) = timer.fire() {
                            self.run_call(CallSource::Timer, timer.id, timer.name.clone(), || callback(self));
                        }
                        return true;
                    }
                    if self.inner.stop_requested.get() && self.inner.lifecycle.get() == Lifecycle::Running {
                        self.inner.lifecycle.set(Lifecycle::ShuttingDown);
                        self.fire_event(SystemEvent::Shutdown);
                        continue;
                    }
                    let number = {
                        let mut turn = self.inner.turn.borrow_mut();
                        turn.active = false;
                        turn.number
                    };
                    self.emit(|| TraceEvent::TurnEnd { turn: number });
                    return false;
                }
            }
        }
    }

    /// Driver face: `ReactorDriver::in_turn` documents it.
    pub(crate) fn in_turn(&self) -> bool {
        self.inner.turn.borrow().active
    }

    /// Driver face: `ReactorDriver::poll_timeout` documents it.
    pub(crate) fn poll_timeout(&self) -> Option<Time> {
        if self.is_stopped() {
            return None;
        }
        let now = self.inner.now.get();
        let ready = !self.inner.turn.borrow().ready.is_empty()
            || self.inner.inbox.len() > 0
            || self.inner.lifecycle.get() == Lifecycle::NotStarted
            || (self.inner.stop_requested.get() && self.inner.lifecycle.get() == Lifecycle::Running);
        if ready {
            return Some(now);
        }
        self.inner.timers.borrow_mut().next_due()
    }

    /// Driver face: `ReactorDriver::set_waker` documents it.
    pub(crate) fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        self.inner.inbox.set_waker(Some(Arc::new(waker)));
    }

    pub(crate) fn fire_event(&self, event: SystemEvent) {
        let triggers = {
            let mut turn = self.inner.turn.borrow_mut();
            self.inner.events.borrow_mut().fire(&event, &mut turn.ready)
        };
        self.emit(|| TraceEvent::SystemEventPhase { event, phase: TriggerPhase::Before, triggers });
    }

    fn end_phase(&self, event: SystemEvent, phase: TriggerPhase) {
        match phase {
            TriggerPhase::Before => self.advance_event(event, false),
            TriggerPhase::During => {}
            TriggerPhase::After => {
                if matches!(event, SystemEvent::Shutdown) {
                    self.inner.lifecycle.set(Lifecycle::Stopped);
                    self.emit(|| TraceEvent::Stopped);
                }
            }
        }
    }

    // ------------------------------------------------------------------
    // Running calls
    // ------------------------------------------------------------------

    /// Runs one call: catches a panic, times it when a clock is lent, traces
    /// it. Returns the panic, as a Failure, when there was one.
    pub(crate) fn run_call(
        &self,
        source: CallSource,
        id: u64,
        name: impl Into<Cow<'static, str>>,
        f: impl FnOnce(),
    ) -> Option<Failure> {
        let name = name.into();
        let counters = &self.inner.counters;
        counters.calls.set(counters.calls.get() + 1);
        let depth = self.inner.call_depth.get();
        // A call inside another (a protocol callback in an inbox delivery) is
        // already inside the outer call's time, which catches slow work; it
        // reads the clock for itself only when the trace wants its duration.
        let nested = depth > 0;
        let timed = self.inner.clock.borrow().is_some() && (!nested || self.inner.tracing.get());
        // Taken, not copied: a call nested in this one must not reuse it.
        let chained = if nested { None } else { self.inner.chained_start.take() };
        let start = match (timed, chained) {
            (true, Some(previous_end)) => previous_end,
            (true, None) => self.seconds(),
            (false, _) => self.inner.now.get(),
        };
        self.inner.call_depth.set(depth + 1);
        let outcome = catch_unwind(AssertUnwindSafe(f));
        self.inner.call_depth.set(depth);
        let panicked = outcome.err().map(|payload| {
            counters.panics.set(counters.panics.get() + 1);
            let failure = Failure::from_panic(payload);
            tracing::error!(callback = %name, "callback panicked: {}", failure.message());
            self.emit(|| TraceEvent::CallbackPanicked { name: name.clone(), message: failure.message().to_owned() });
            failure
        });
        let end = if timed { self.seconds() } else { start };
        if timed && !nested && self.inner.chaining.get() {
            self.inner.chained_start.set(Some(end));
        }
        let dur = end.saturating_since(start);
        if timed && !nested && dur > self.inner.slow_threshold.get() {
            counters.slow_calls.set(counters.slow_calls.get() + 1);
            tracing::warn!(callback = %name, ?source, "slow callback took {:.1} ms", dur.as_secs_f64() * 1e3);
        }
        if self.inner.tracing.get() {
            self.emit_at(start, TraceEvent::Call { source, id, name, dur: dur.as_nanos() as u64 });
        }
        panicked
    }
}
