//! The reactor: Twisted's event loop as a sans-IO state machine.
//!
//! The reactor never reads a clock, blocks, spawns a thread or touches a
//! socket. A driver owns those and feeds the reactor, in the vocabulary of
//! quinn-proto and str0m: `handle_*` for what comes in, `poll_*` for what goes
//! out. Users speak Twisted: [`call_later`](Reactor::call_later),
//! [`call_from_thread`](ReactorHandle::call_from_thread),
//! [`listen_tcp`](Reactor::listen_tcp), [`stop`](Reactor::stop).
//!
//! ```text
//! loop {
//!     now = driver clock
//!     reactor.handle_timeout(now)             // one turn
//!     while let Some(e) = reactor.poll_effect() { driver.apply(e) }
//!     if reactor.is_stopped() { break }
//!     wait = reactor.poll_timeout() - now
//!     for ev in driver.poll(wait) { reactor.handle_data(..) / handle_accept(..) / ... }
//! }
//! ```
//!
//! # The order of a turn
//!
//! One turn is Twisted's `runUntilCurrent`, and the playground shows it, so
//! the order is a contract:
//!
//! 1. On the very first turn, the `startup` event fires: `Before`, `During`
//!    and `After` triggers, the last including every
//!    [`call_when_running`](Reactor::call_when_running) callback. They run
//!    before any timer, so before zero-delay calls made at the same time.
//! 2. The inbox as it stood when the turn began, in FIFO order. Calls queued
//!    by other threads during the turn wait for the next turn.
//! 3. Timers due at the turn's time, in (due time, insertion) order. A
//!    zero-delay call is such a timer. A timer scheduled, reset or delayed
//!    during the turn runs in a later turn, even when it is already due.
//! 4. If [`stop`](Reactor::stop) was called, the `shutdown` event fires at the
//!    end of the turn. Its `Before` triggers may return Deferreds; the reactor
//!    keeps running turns until they fire, then runs the `During` and `After`
//!    triggers and reports [`is_stopped`](Reactor::is_stopped).
//!
//! Protocol callbacks driven by I/O (`handle_data` and friends) run when the
//! driver delivers the I/O, between turns, as Twisted's `doRead` does.
//! Deferred callbacks run synchronously when the Deferred fires.
//!
//! A callback that panics is caught (on targets that unwind), logged, traced
//! as [`CallbackPanicked`](crate::trace::TraceEvent::CallbackPanicked), and
//! the loop goes on.
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use std::time::Duration;
//! use twine_core::task::Clock;
//!
//! let clock = Clock::new();
//! let reactor = clock.reactor();
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let l = log.clone();
//! reactor.call_soon(move |_| l.borrow_mut().push("soon"));
//! let l = log.clone();
//! reactor.call_when_running(move |_| l.borrow_mut().push("running"));
//! let l = log.clone();
//! reactor.call_later(Duration::from_secs(1), move |reactor| {
//!     l.borrow_mut().push("later");
//!     reactor.stop().unwrap();
//! });
//! clock.run(); // drives turns until the reactor stops
//! assert_eq!(*log.borrow(), ["running", "soon", "later"]);
//! assert!(reactor.is_stopped());
//! ```

mod inbox;
mod io;
mod timers;
mod triggers;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

pub use inbox::{ReactorHandle, Waker};
pub use io::{ConnectionId, ConnectionKind, Connector, ConnectorState, Effect, ListenerId, ListeningPort, WaterMark};
pub use timers::{DelayedCall, PendingTimer, TimerError};
pub use triggers::{Trigger, TriggerId};

use crate::defer::{Deferred, Failure};
use crate::threads::{JobTable, ThreadPool};
use crate::time::Time;
use crate::trace::{CallSource, SystemEvent, TraceEvent, TraceRecord, TraceSink, TriggerPhase};
use inbox::{Inbox, InboxCall};
use timers::TimerQueue;
use triggers::{Ready, SystemEvents};

/// Where the reactor is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// Created; the first turn will fire the `startup` event.
    NotStarted,
    /// Running turns.
    Running,
    /// `stop` took effect; the `shutdown` event is firing.
    ShuttingDown,
    /// The `shutdown` event finished. The driver should leave its loop.
    Stopped,
}

/// Returned by [`Reactor::stop`] when the reactor is not running, as Twisted's
/// `ReactorNotRunning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReactorNotRunning;

impl fmt::Display for ReactorNotRunning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("can't stop a reactor that isn't running")
    }
}

impl std::error::Error for ReactorNotRunning {}

/// The reactor's health counters, for a driver's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReactorStats {
    /// Turns run.
    pub turns: u64,
    /// Calls run: timers, inbox calls, triggers, protocol callbacks, tasks.
    pub calls: u64,
    /// Calls that took longer than the slow-call threshold (needs a clock).
    pub slow_calls: u64,
    /// Callbacks that panicked and were caught.
    pub panics: u64,
    /// Deferreds dropped holding an unhandled failure.
    pub unhandled_errors: u64,
    /// Timers waiting to fire.
    pub timers_pending: u64,
    /// Calls waiting in the inbox.
    pub inbox_depth: u64,
    /// Open connections.
    pub connections: u64,
    /// Bytes delivered to protocols.
    pub bytes_in: u64,
    /// Bytes protocols wrote.
    pub bytes_out: u64,
}

#[derive(Default)]
struct TurnState {
    active: bool,
    number: u64,
    now: Time,
    inbox: VecDeque<InboxCall>,
    ready: VecDeque<Ready>,
}

#[derive(Default)]
struct Counters {
    calls: Cell<u64>,
    slow_calls: Cell<u64>,
    panics: Cell<u64>,
    unhandled_errors: Cell<u64>,
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
}

/// The driver's clock, when it lends one. See [`Reactor::set_clock`].
pub type ClockFn = Rc<dyn Fn() -> Time>;

pub(crate) struct Inner {
    timers: RefCell<TimerQueue>,
    inbox: Arc<Inbox>,
    turn: RefCell<TurnState>,
    events: RefCell<SystemEvents>,
    lifecycle: Cell<Lifecycle>,
    stop_requested: Cell<bool>,
    io: RefCell<io::IoState>,
    trace: RefCell<Option<Box<dyn TraceSink>>>,
    tracing: Cell<bool>,
    clock: RefCell<Option<ClockFn>>,
    now: Cell<Time>,
    /// Inside `handle_timeout`: when the previous call of the turn ended,
    /// which is when the next one starts (see `run_call`).
    chained_start: Cell<Option<Time>>,
    chaining: Cell<bool>,
    /// How many calls are running, one inside the other.
    call_depth: Cell<u32>,
    slow_threshold: Cell<Duration>,
    counters: Counters,
    pub(crate) pool: RefCell<Option<Rc<dyn ThreadPool>>>,
    pub(crate) jobs: RefCell<JobTable>,
    /// Futures run by `defer::ensure_deferred`.
    pub(crate) tasks: RefCell<crate::defer::TaskTable>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Calls queued by other threads will never run; drop them here, on the
        // reactor's thread, and refuse new ones.
        self.inbox.close();
    }
}

thread_local! {
    static CURRENT: RefCell<Weak<Inner>> = const { RefCell::new(Weak::new()) };
    static CURRENT_TRACING: Cell<bool> = const { Cell::new(false) };
}

/// The reactor. A cheap, clonable handle to single-threaded state (`!Send`):
/// clones are the same reactor.
#[derive(Clone)]
pub struct Reactor {
    pub(crate) inner: Rc<Inner>,
}

impl Default for Reactor {
    fn default() -> Self {
        Reactor::new()
    }
}

impl Reactor {
    /// A reactor at time zero, not yet started. Its first turn fires `startup`.
    pub fn new() -> Reactor {
        let reactor = Reactor {
            inner: Rc::new(Inner {
                timers: RefCell::default(),
                inbox: Arc::default(),
                turn: RefCell::default(),
                events: RefCell::default(),
                lifecycle: Cell::new(Lifecycle::NotStarted),
                stop_requested: Cell::new(false),
                io: RefCell::default(),
                trace: RefCell::new(None),
                tracing: Cell::new(false),
                clock: RefCell::new(None),
                now: Cell::new(Time::ZERO),
                chained_start: Cell::new(None),
                chaining: Cell::new(false),
                call_depth: Cell::new(0),
                slow_threshold: Cell::new(Duration::from_millis(50)),
                counters: Counters::default(),
                pool: RefCell::new(None),
                jobs: RefCell::default(),
                tasks: RefCell::default(),
            }),
        };
        reactor.make_current();
        reactor
    }

    pub(crate) fn downgrade(&self) -> WeakReactor {
        WeakReactor(Rc::downgrade(&self.inner))
    }

    /// The handle other threads use to reach this reactor.
    pub fn handle(&self) -> ReactorHandle {
        ReactorHandle { inbox: self.inner.inbox.clone() }
    }

    // ------------------------------------------------------------------
    // Time
    // ------------------------------------------------------------------

    /// The current time: the driver's clock if it lent one, otherwise the
    /// time of the latest `handle_*` call. Twisted's `reactor.seconds()`.
    pub fn seconds(&self) -> Time {
        match &*self.inner.clock.borrow() {
            Some(clock) => clock(),
            None => self.inner.now.get(),
        }
    }

    /// Lends the reactor the driver's clock. With it, `seconds()` is live
    /// inside long callbacks (as in Twisted), calls are timed for the trace,
    /// and slow calls are counted. The reactor still never reads a clock of
    /// its own.
    pub fn set_clock(&self, clock: impl Fn() -> Time + 'static) {
        *self.inner.clock.borrow_mut() = Some(Rc::new(clock));
    }

    /// Calls that take longer than this are logged and counted as slow
    /// (asyncio's debug mode does the same). Default 50 ms. Needs a clock.
    pub fn set_slow_call_threshold(&self, threshold: Duration) {
        self.inner.slow_threshold.set(threshold);
    }

    fn set_now(&self, now: Time) {
        if now > self.inner.now.get() {
            self.inner.now.set(now);
        }
        self.make_current();
    }

    // ------------------------------------------------------------------
    // Scheduling (Twisted's IReactorTime, IReactorCore)
    // ------------------------------------------------------------------

    /// Runs `f` after `delay`, in a later turn. Twisted's `callLater`.
    /// A zero delay is "call soon": the next turn.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::Clock;
    ///
    /// let clock = Clock::new();
    /// let call = clock.reactor().call_later(Duration::from_millis(250), |reactor| {
    ///     assert_eq!(reactor.seconds().as_secs_f64(), 0.25);
    /// });
    /// clock.advance(Duration::from_millis(250));
    /// assert!(!call.active());
    /// ```
    pub fn call_later(&self, delay: Duration, f: impl FnOnce(&Reactor) + 'static) -> DelayedCall {
        self.call_at(self.seconds() + delay, f)
    }

    /// Runs `f` at `time` (or in the next turn, if that has passed).
    pub fn call_at(&self, time: Time, f: impl FnOnce(&Reactor) + 'static) -> DelayedCall {
        let name = callback_name(std::any::type_name_of_val(&f));
        self.call_at_named(time, name, f)
    }

    /// [`call_later`](Self::call_later) with a name for traces and the
    /// queues view (by default a call is named after the function that made
    /// its closure).
    pub fn call_later_named(
        &self,
        delay: Duration,
        name: impl Into<Cow<'static, str>>,
        f: impl FnOnce(&Reactor) + 'static,
    ) -> DelayedCall {
        self.call_at_named(self.seconds() + delay, name, f)
    }

    /// [`call_at`](Self::call_at) with a name.
    pub fn call_at_named(
        &self,
        time: Time,
        name: impl Into<Cow<'static, str>>,
        f: impl FnOnce(&Reactor) + 'static,
    ) -> DelayedCall {
        let timer = self.inner.timers.borrow_mut().schedule(time, name.into(), Box::new(f));
        self.emit(|| TraceEvent::TimerScheduled { timer: timer.id, due: time, name: timer.name.clone() });
        DelayedCall { timer, reactor: Rc::downgrade(&self.inner) }
    }

    /// Runs `f` in the next turn: `call_later` with no delay.
    pub fn call_soon(&self, f: impl FnOnce(&Reactor) + 'static) -> DelayedCall {
        self.call_later(Duration::ZERO, f)
    }

    /// Runs `f` once the reactor is running: at once if it already is,
    /// otherwise as an `After` `startup` trigger, before any timer of the first turn.
    pub fn call_when_running(&self, f: impl FnOnce(&Reactor) + 'static) {
        if self.inner.lifecycle.get() == Lifecycle::Running {
            f(self);
        } else {
            self.add_system_event_trigger(TriggerPhase::After, SystemEvent::Startup, move |reactor| {
                f(reactor);
                None
            });
        }
    }

    /// Adds a system event trigger. A `Before` trigger returning
    /// `Some(deferred)` makes the event wait for it:
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::defer::Deferred;
    /// use twine_core::task::Clock;
    /// use twine_core::trace::{SystemEvent, TriggerPhase};
    ///
    /// let clock = Clock::new();
    /// let reactor = clock.reactor();
    /// reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, |reactor| {
    ///     let drained = Deferred::new();
    ///     let d = drained.clone();
    ///     reactor.call_later(Duration::from_secs(2), move |_| d.callback(()).unwrap());
    ///     Some(drained)
    /// });
    /// reactor.call_soon(|reactor| reactor.stop().unwrap());
    /// clock.advance(Duration::ZERO);
    /// assert!(!reactor.is_stopped()); // waiting for the trigger's Deferred
    /// clock.advance(Duration::from_secs(2));
    /// assert!(reactor.is_stopped());
    /// ```
    pub fn add_system_event_trigger(
        &self,
        phase: TriggerPhase,
        event: SystemEvent,
        trigger: impl FnOnce(&Reactor) -> Option<Deferred<()>> + 'static,
    ) -> TriggerId {
        self.inner.events.borrow_mut().add(event, phase, Box::new(trigger))
    }

    /// Removes a trigger that has not run. Returns whether it was found.
    pub fn remove_system_event_trigger(&self, id: TriggerId) -> bool {
        self.inner.events.borrow_mut().remove(id)
    }

    /// Stops the reactor after the current turn; then the `shutdown` event fires.
    /// Errors if the reactor is not running (not started, or already stopping).
    pub fn stop(&self) -> Result<(), ReactorNotRunning> {
        if self.inner.lifecycle.get() != Lifecycle::Running || self.inner.stop_requested.get() {
            return Err(ReactorNotRunning);
        }
        self.inner.stop_requested.set(true);
        self.emit(|| TraceEvent::StopRequested);
        Ok(())
    }

    /// Where the reactor is in its life.
    pub fn lifecycle(&self) -> Lifecycle {
        self.inner.lifecycle.get()
    }

    /// Whether the reactor is running turns (started, and `stop` not yet called).
    pub fn is_running(&self) -> bool {
        self.inner.lifecycle.get() == Lifecycle::Running && !self.inner.stop_requested.get()
    }

    /// Whether shutdown finished. The driver leaves its loop when this is true.
    pub fn is_stopped(&self) -> bool {
        self.inner.lifecycle.get() == Lifecycle::Stopped
    }

    // ------------------------------------------------------------------
    // Driver side: turns
    // ------------------------------------------------------------------

    /// Runs one whole turn at `now` (see the [module docs](self) for its order).
    pub fn handle_timeout(&self, now: Time) {
        self.begin_turn(now);
        // The calls of one turn run back to back: each starts when the one
        // before it ended, so a lent clock is read once per call, not twice.
        self.inner.chaining.set(true);
        self.inner.chained_start.set(None);
        while self.run_next_call() {}
        self.inner.chaining.set(false);
        self.inner.chained_start.set(None);
    }

    /// Begins a turn at `now` without running anything: takes the inbox batch
    /// and makes due timers eligible. Then call [`run_next_call`](Self::run_next_call)
    /// until it returns `false`. Drivers that charge time per call (the
    /// simulation) use this pair; others use [`handle_timeout`](Self::handle_timeout).
    pub fn begin_turn(&self, now: Time) {
        self.set_now(now);
        if self.inner.turn.borrow().active {
            return;
        }
        if self.inner.lifecycle.get() == Lifecycle::NotStarted {
            self.inner.lifecycle.set(Lifecycle::Running);
            self.fire_system_event(SystemEvent::Startup);
        }
        let (number, taken) = {
            let mut turn = self.inner.turn.borrow_mut();
            turn.active = true;
            turn.number += 1;
            turn.now = now;
            self.inner.inbox.take_batch(&mut turn.inbox);
            (turn.number, turn.inbox.len() as u32)
        };
        self.inner.timers.borrow_mut().merge_incoming();
        self.emit(|| TraceEvent::TurnStart { turn: number, inbox: taken });
        if taken > 0 && self.inner.tracing.get() {
            for depth in (0..taken).rev() {
                self.emit(|| TraceEvent::InboxDelivery { depth });
            }
        }
    }

    /// Runs the next call of the current turn. Returns `false`, ending the
    /// turn, when nothing is left.
    pub fn run_next_call(&self) -> bool {
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
                        self.fire_system_event(SystemEvent::Shutdown);
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

    /// Whether a turn has begun and not yet ended.
    pub fn in_turn(&self) -> bool {
        self.inner.turn.borrow().active
    }

    /// When the driver should next call [`handle_timeout`](Self::handle_timeout):
    /// the latest `handle_*` time when work is ready now (inbox calls,
    /// triggers, a pending stop), the earliest timer's due time, or `None`
    /// when only I/O can wake the reactor.
    pub fn poll_timeout(&self) -> Option<Time> {
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

    /// Sets the waker the inbox calls on its empty-to-non-empty edge (the
    /// native driver's `mio::Waker`). Runs on the calling thread of
    /// `call_from_thread`, so it must be quick.
    pub fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        self.inner.inbox.set_waker(Some(Arc::new(waker)));
    }

    fn fire_system_event(&self, event: SystemEvent) {
        let triggers = {
            let mut turn = self.inner.turn.borrow_mut();
            self.inner.events.borrow_mut().fire(event, &mut turn.ready)
        };
        self.emit(|| TraceEvent::SystemEventPhase { event, phase: TriggerPhase::Before, triggers });
    }

    fn end_phase(&self, event: SystemEvent, phase: TriggerPhase) {
        match phase {
            TriggerPhase::Before => self.advance_event(event, false),
            TriggerPhase::During => {}
            TriggerPhase::After => {
                if event == SystemEvent::Shutdown {
                    self.inner.lifecycle.set(Lifecycle::Stopped);
                    self.emit(|| TraceEvent::Stopped);
                }
            }
        }
    }

    // ------------------------------------------------------------------
    // Running calls
    // ------------------------------------------------------------------

    /// Runs one call: catches a panic, times it when a clock is lent, traces it.
    pub(crate) fn run_call(&self, source: CallSource, id: u64, name: impl Into<Cow<'static, str>>, f: impl FnOnce()) {
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
        if let Err(payload) = outcome {
            counters.panics.set(counters.panics.get() + 1);
            let failure = Failure::from_panic(payload);
            tracing::error!(callback = %name, "callback panicked: {}", failure.message());
            self.emit(|| TraceEvent::CallbackPanicked { name: name.clone(), message: failure.message().to_owned() });
        }
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
    }

    // ------------------------------------------------------------------
    // Trace and stats
    // ------------------------------------------------------------------

    /// Sends every trace event from now on to `sink`, replacing any other.
    pub fn set_trace_sink(&self, sink: impl TraceSink + 'static) {
        *self.inner.trace.borrow_mut() = Some(Box::new(sink));
        self.inner.tracing.set(true);
        self.make_current();
    }

    /// Stops tracing; returns the sink that was attached.
    pub fn take_trace_sink(&self) -> Option<Box<dyn TraceSink>> {
        self.inner.tracing.set(false);
        self.make_current();
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
        if let Ok(mut sink) = self.inner.trace.try_borrow_mut() {
            if let Some(sink) = sink.as_mut() {
                sink.record(&TraceRecord { t, event });
            }
        }
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

    /// The pending timers in the order they will fire. For views of the reactor's queues.
    pub fn pending_timers(&self) -> Vec<PendingTimer> {
        self.inner.timers.borrow().snapshot()
    }

    /// Timers due at `now` that the current turn has still to run.
    pub fn due_timers(&self, now: Time) -> usize {
        self.inner.timers.borrow().due_count(now)
    }

    pub(crate) fn count_unhandled_error(&self) {
        let c = &self.inner.counters.unhandled_errors;
        c.set(c.get() + 1);
    }

    fn count_bytes(&self, incoming: bool, n: usize) {
        let c = if incoming { &self.inner.counters.bytes_in } else { &self.inner.counters.bytes_out };
        c.set(c.get() + n as u64);
    }

    /// Makes this reactor the thread's [`current`](Self::current) one: the
    /// reactor that Deferreds, which belong to no reactor, trace through and
    /// report unhandled errors to. Every `handle_*` call does this; a driver
    /// that keeps several reactors on one thread (the playground comparing
    /// two simulations) calls it before it fires Deferreds of its own.
    pub fn make_current(&self) {
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            if !std::ptr::eq(current.as_ptr(), Rc::as_ptr(&self.inner)) {
                *current = Rc::downgrade(&self.inner);
            }
        });
        CURRENT_TRACING.with(|t| t.set(self.inner.tracing.get()));
    }

    /// The reactor most recently created or driven on this thread, if it still exists.
    pub fn current() -> Option<Reactor> {
        CURRENT.with(|c| c.borrow().upgrade()).map(|inner| Reactor { inner })
    }

    /// Traces through the current reactor, if it has a sink. Deferreds use
    /// this: they are not tied to a reactor.
    pub(crate) fn emit_current(event: impl FnOnce() -> TraceEvent) {
        if CURRENT_TRACING.with(Cell::get) {
            if let Some(reactor) = Reactor::current() {
                reactor.emit(event);
            }
        }
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("lifecycle", &self.lifecycle())
            .field("now", &self.inner.now.get())
            .field("stats", &self.stats())
            .finish()
    }
}

/// A reactor reference that does not keep the reactor alive.
#[derive(Clone)]
pub(crate) struct WeakReactor(Weak<Inner>);

impl WeakReactor {
    pub(crate) fn upgrade(&self) -> Option<Reactor> {
        self.0.upgrade().map(|inner| Reactor { inner })
    }
}

/// A readable name for a callback from its type name: the last two path
/// segments of the function that made the closure, e.g.
/// `LoopingCall::schedule_from` for
/// `twine_core::task::looping::LoopingCall::schedule_from::{{closure}}`.
/// A suffix of the static type name, so naming costs nothing.
pub(crate) fn callback_name(type_name: &'static str) -> &'static str {
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
