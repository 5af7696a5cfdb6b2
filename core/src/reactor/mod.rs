//! The reactor: Twisted's event loop as a sans-IO state machine.
//!
//! The reactor never reads a clock, blocks, spawns a thread or touches a
//! socket. A driver owns those and feeds the reactor through its driver
//! face, [`ReactorDriver`], in the vocabulary of quinn-proto and str0m:
//! `handle_*` for what comes in, `poll_*` for what goes out. Users speak
//! Twisted, to the other face, [`Reactor`]: [`call_later`](Reactor::call_later),
//! [`call_from_thread`](ReactorHandle::call_from_thread),
//! [`listen_tcp`](Reactor::listen_tcp), [`stop`](Reactor::stop). A callback
//! gets a `&Reactor` and cannot reach the driver face (mio's `Poll` /
//! `Registry` split).
//!
//! ```text
//! loop {
//!     now = driver clock
//!     driver.handle_timeout(now)              // one turn
//!     while let Some(e) = driver.poll_effect() { apply(e) }
//!     if driver.is_stopped() { break }
//!     wait = driver.poll_timeout() - now
//!     for ev in poll_os(wait) { driver.handle_data(..) / handle_accept(..) / ... }
//! }
//! ```
//!
//! The reactor knows no protocols and no threads: connections are ids,
//! effects and write buffers here, and what is hosted on one (a protocol
//! and its transport) is the [`protocol`](crate::protocol) layer's, behind
//! a trait this module defines; the thread pool and its jobs are kept by
//! [`threads`](crate::threads) in reactor-local storage.
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
//!    by other threads during the turn (a thread call that queues another
//!    included) wait for the next turn, so the inbox cannot starve timers.
//! 3. The timers made since the last turn are inserted, those the inbox
//!    calls just made included: a `call_later(0)` made by a thread call runs
//!    in this very turn, as in Twisted's `runUntilCurrent`
//!    (`CallFromThreadStopsAndWakeUpTests.testCallFromThreadStops`).
//! 4. Timers due at the clock's time when step 3 ran (Twisted reads it
//!    again after the thread calls), in (due time, insertion) order. A
//!    zero-delay call is such a timer. A timer scheduled, reset or delayed
//!    by a timer of this turn runs in a later turn, even when it is already
//!    due.
//! 5. If [`stop`](Reactor::stop) was called, the `shutdown` event fires at the
//!    end of the turn. Its `Before` triggers may return Deferreds; the reactor
//!    keeps running turns until they fire, then runs the `During` and `After`
//!    triggers and reports [`is_stopped`](Reactor::is_stopped). As the
//!    `During` phase begins, before its triggers, every connection,
//!    connection attempt and listener still open is closed and told so
//!    (Twisted's `disconnectAll`): protocols hear `connection_lost` with
//!    `ConnectionLost`, listeners' factories `stop_factory`.
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

mod driver;
mod id_map;
mod inbox;
mod io;
mod locals;
mod observe;
mod timers;
mod triggers;
mod turn;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

pub use driver::ReactorDriver;
pub use id_map::{IdHasher, IdMap};
pub use inbox::{ReactorHandle, Waker};
pub(crate) use io::{ConnectHost, Hosted, IoEvent, ListenerHost};
pub use io::{ConnectionId, ConnectionKind, Effect, ListenerId, Message, WaterMark};
pub use timers::{DelayedCall, PendingTimer, TimerError};
pub use triggers::{Trigger, TriggerId};

pub(crate) use observe::callback_name;

use crate::defer::Deferred;
use crate::time::Time;
use crate::trace::{SystemEvent, TraceEvent, TraceSink, TriggerPhase};
use inbox::{Inbox, InboxCall};
use timers::TimerQueue;
use triggers::{Ready, SystemEvents};

/// Where the reactor is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// Created; the first turn will fire the `startup` event.
    NotStarted,
    /// The `startup` event's `Before` triggers are running (or the Deferreds
    /// they returned are pending): [`Reactor::is_running`] is still false,
    /// as Twisted's `reactor.running` is in before-startup triggers.
    Starting,
    /// Running turns: from the `startup` event's `During` phase on.
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
    /// Whether this turn has inserted the timers made since the last one:
    /// done once the inbox batch has run, so a `call_later(0)` made by a
    /// thread call runs in the same turn (Twisted's `runUntilCurrent`).
    timers_merged: bool,
}

#[derive(Default)]
struct Counters {
    calls: Cell<u64>,
    slow_calls: Cell<u64>,
    panics: Cell<u64>,
    unhandled_errors: Cell<u64>,
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
    /// Pool jobs out, kept by `threads` (whose job table is a reactor
    /// local): drivers read it before every sleep, a local's lookup costs
    /// more than a message's worth of bookkeeping.
    jobs_in_flight: Cell<usize>,
}

/// The driver's clock, when it lends one. See [`ReactorDriver::set_clock`].
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
    /// Reactor-local storage: what the layers above keep per reactor (the
    /// futures `task::ensure_deferred` runs, the thread pool and its jobs).
    locals: RefCell<locals::Locals>,
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
}

/// The reactor's Twisted face: what callbacks get, and what user code
/// schedules with (`call_later`, `call_from_thread`'s [handle](Self::handle),
/// `listen_tcp`, `stop`, system event triggers). A cheap, clonable handle
/// to single-threaded state (`!Send`): clones are the same reactor.
///
/// The loop itself is driven through the other face, [`ReactorDriver`],
/// which made the reactor and which a callback cannot reach from here.
/// Tests drive it with
/// [`task::Clock`](crate::task::Clock):
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::Clock;
///
/// let clock = Clock::new();
/// let reactor = clock.reactor();
/// reactor.call_later(Duration::from_millis(5), |reactor| reactor.stop().unwrap());
/// clock.run();
/// assert!(reactor.is_stopped());
/// assert_eq!(reactor.seconds().as_secs_f64(), 0.005);
/// ```
#[derive(Clone)]
pub struct Reactor {
    pub(crate) inner: Rc<Inner>,
}

impl Reactor {
    /// A reactor at time zero, not yet started. Its first turn fires
    /// `startup`. Only [`ReactorDriver::new`] makes one: a reactor nobody
    /// drives would never run anything.
    pub(crate) fn create() -> Reactor {
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
                locals: RefCell::default(),
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
        self.inner.seconds()
    }

    /// Driver face: `ReactorDriver::set_clock` documents it.
    pub(crate) fn set_clock(&self, clock: impl Fn() -> Time + 'static) {
        *self.inner.clock.borrow_mut() = Some(Rc::new(clock));
    }

    /// Driver face: `ReactorDriver::set_slow_call_threshold` documents it.
    pub(crate) fn set_slow_call_threshold(&self, threshold: Duration) {
        self.inner.slow_threshold.set(threshold);
    }

    pub(crate) fn set_now(&self, now: Time) {
        if now > self.inner.now.get() {
            self.inner.now.set(now);
        }
        self.make_current();
    }

    // ------------------------------------------------------------------
    // Scheduling (Twisted's IReactorTime, IReactorCore)
    // ------------------------------------------------------------------

    /// Runs `f` after `delay`: Twisted's `callLater`. A zero delay is
    /// "call soon": the next turn, or this one when called from a
    /// `call_from_thread` call, whose turn has yet to run its timers (see
    /// [the order of a turn](crate::reactor#the-order-of-a-turn)).
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

    /// Runs `f` soon: `call_later` with no delay (the next turn, or this one
    /// from a `call_from_thread` call).
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
        self.inner.events.borrow_mut().add(&event, phase, Box::new(trigger))
    }

    /// Fires the system event `event` (by name, [`SystemEvent::named`]):
    /// Twisted's `fireSystemEvent`, with its three phases: the `Before`
    /// triggers, then, once every Deferred they returned has fired, the
    /// `During` and `After` triggers. Each trigger runs once.
    ///
    /// The triggers run as the reactor's next calls (right after the
    /// current call, when fired from a callback; in the next turn, when
    /// fired from outside one), not inside this call as in Twisted, so that
    /// each is a call of its own in the trace and the playground. `startup`
    /// and `shutdown` are the reactor's own: firing them here does nothing
    /// and returns `false`.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use twine_core::task::Clock;
    /// use twine_core::trace::{SystemEvent, TriggerPhase};
    ///
    /// let clock = Clock::new();
    /// let reactor = clock.reactor();
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// for phase in [TriggerPhase::After, TriggerPhase::Before] {
    ///     let l = log.clone();
    ///     reactor.add_system_event_trigger(phase, SystemEvent::named("persist"), move |_| {
    ///         l.borrow_mut().push(phase);
    ///         None
    ///     });
    /// }
    /// assert!(reactor.fire_system_event(SystemEvent::named("persist")));
    /// clock.advance(Duration::ZERO);
    /// assert_eq!(*log.borrow(), [TriggerPhase::Before, TriggerPhase::After]);
    /// ```
    pub fn fire_system_event(&self, event: SystemEvent) -> bool {
        if matches!(event, SystemEvent::Startup | SystemEvent::Shutdown) {
            return false;
        }
        self.fire_event(event);
        true
    }

    /// Removes a trigger that has not run. Returns whether it was found.
    pub fn remove_system_event_trigger(&self, id: TriggerId) -> bool {
        self.inner.events.borrow_mut().remove(id)
    }

    /// Stops the reactor after the current turn; then the `shutdown` event fires.
    /// Errors if the reactor is not running (not started, or already stopping).
    /// A stop requested by a before-startup trigger takes effect once startup
    /// has finished.
    pub fn stop(&self) -> Result<(), ReactorNotRunning> {
        let started = matches!(self.inner.lifecycle.get(), Lifecycle::Starting | Lifecycle::Running);
        if !started || self.inner.stop_requested.get() {
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

    /// Whether the reactor is running turns (started, and `stop` not yet
    /// called): Twisted's `reactor.running`. False in the `startup` event's
    /// `Before` triggers, true from its `During` phase on.
    pub fn is_running(&self) -> bool {
        self.inner.lifecycle.get() == Lifecycle::Running && !self.inner.stop_requested.get()
    }

    /// Whether shutdown finished. The driver leaves its loop when this is true.
    pub fn is_stopped(&self) -> bool {
        self.inner.lifecycle.get() == Lifecycle::Stopped
    }
}

/// Deferreds' view of the reactor: a clock that runs functions later.
impl crate::time::ReactorTime for Reactor {
    fn seconds(&self) -> Time {
        self.inner.seconds()
    }

    fn call_later_dyn(
        &self,
        delay: Duration,
        name: &'static str,
        f: Box<dyn FnOnce()>,
    ) -> Box<dyn crate::time::ScheduledCall> {
        Box::new(self.call_later_named(delay, callback_name(name), move |_| f()))
    }
}

impl crate::time::ScheduledCall for DelayedCall {
    fn active(&self) -> bool {
        DelayedCall::active(self)
    }

    fn cancel(&self) {
        if DelayedCall::active(self) {
            let _ = DelayedCall::cancel(self);
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
