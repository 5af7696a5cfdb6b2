//! The reactor's driver face: [`ReactorDriver`], what a driver holds.
//!
//! A reactor has two faces, as mio's `Poll` and `Registry`. The Twisted face,
//! [`Reactor`], is what callbacks get (`call_later`, `listen_tcp`, `stop`,
//! ...). The driver face, here, is what feeds the loop and lends it the
//! platform: `handle_*` for what comes in, `poll_*` for what goes out, turn
//! control, the clock, the waker. Only the one who made the reactor holds it;
//! a callback, which gets only a `&Reactor`, cannot reach it.
//!
//! The layers above add their own driver hooks to this type where their
//! concepts live: the thread pool in [`threads`](crate::threads)
//! (`set_thread_pool`, `abandon_jobs`), connections hosting a protocol in
//! [`protocol`](crate::protocol) (`open_connection`).

use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

use super::{ConnectionId, Effect, ListenerId, Message, Reactor, WaterMark};
use crate::defer::Failure;
use crate::time::Time;

/// The driver's hold on a reactor: makes it, runs its turns, feeds it I/O
/// and drains what it asks for. It dereferences to the [`Reactor`] it drives,
/// whose Twisted face it can use too; the reverse is not possible: a
/// callback, which gets a `&Reactor`, cannot run a turn or feed the
/// reactor I/O.
///
/// ```compile_fail
/// use twine_core::Reactor;
///
/// fn callback(reactor: &Reactor) {
///     reactor.handle_timeout(reactor.seconds()); // not on the Twisted face
/// }
/// ```
///
/// Call them in this order (str0m's rule): after any `handle_*` or turn,
/// drain [`poll_effect`](Self::poll_effect) until `None`, then wait until
/// [`poll_timeout`](Self::poll_timeout) or I/O, whichever comes first.
///
/// ```
/// use std::time::Duration;
/// use twine_core::reactor::ReactorDriver;
/// use twine_core::Time;
///
/// let driver = ReactorDriver::new();
/// driver.reactor().call_later(Duration::from_millis(5), |reactor| reactor.stop().unwrap());
/// let mut now = Time::ZERO;
/// while !driver.is_stopped() {
///     driver.handle_timeout(now);
///     while let Some(effect) = driver.poll_effect() {
///         // A real driver writes, listens, connects or closes here.
///         println!("{effect:?}");
///     }
///     match driver.poll_timeout() {
///         Some(next) => now = now.max(next),
///         None => break, // only I/O could wake it: a real driver would wait for some
///     }
/// }
/// assert!(driver.is_stopped());
/// assert_eq!(now, Time::from_millis(5));
/// ```
pub struct ReactorDriver {
    reactor: Reactor,
}

impl Default for ReactorDriver {
    fn default() -> Self {
        ReactorDriver::new()
    }
}

impl Deref for ReactorDriver {
    type Target = Reactor;

    fn deref(&self) -> &Reactor {
        &self.reactor
    }
}

impl std::fmt::Debug for ReactorDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReactorDriver").field(&self.reactor).finish()
    }
}

impl ReactorDriver {
    /// A new reactor at time zero, not yet started (its first turn fires
    /// `startup`), and the driver's hold on it.
    pub fn new() -> ReactorDriver {
        ReactorDriver { reactor: Reactor::create() }
    }

    /// The reactor's Twisted face, to hand to user code.
    pub fn reactor(&self) -> &Reactor {
        &self.reactor
    }

    // ------------------------------------------------------------------
    // Turns
    // ------------------------------------------------------------------

    /// Runs one whole turn at `now` (see [the order of a
    /// turn](crate::reactor#the-order-of-a-turn)).
    pub fn handle_timeout(&self, now: Time) {
        self.reactor.handle_timeout(now)
    }

    /// Begins a turn at `now` without running anything: takes the inbox
    /// batch. Then call [`run_next_call`](Self::run_next_call) until it
    /// returns `false`. Drivers that charge time per call (the simulation)
    /// use this pair; others use [`handle_timeout`](Self::handle_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::reactor::ReactorDriver;
    /// use twine_core::Time;
    ///
    /// let driver = ReactorDriver::new();
    /// driver.call_soon(|_| {});
    /// driver.call_soon(|_| {});
    /// driver.begin_turn(Time::ZERO);
    /// let mut calls = 0;
    /// while driver.run_next_call() {
    ///     calls += 1; // a simulation charges each call's time here
    /// }
    /// assert_eq!(calls, 2);
    /// assert!(!driver.in_turn());
    /// ```
    pub fn begin_turn(&self, now: Time) {
        self.reactor.begin_turn(now)
    }

    /// Runs the next call of the current turn. Returns `false`, ending the
    /// turn, when nothing is left.
    pub fn run_next_call(&self) -> bool {
        self.reactor.run_next_call()
    }

    /// Whether a turn has begun and not yet ended.
    pub fn in_turn(&self) -> bool {
        self.reactor.in_turn()
    }

    /// When the driver should next call [`handle_timeout`](Self::handle_timeout):
    /// the latest `handle_*` time when work is ready now (inbox calls,
    /// triggers, a pending stop), the earliest timer's due time, or `None`
    /// when only I/O can wake the reactor.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.reactor.poll_timeout()
    }

    // ------------------------------------------------------------------
    // What the driver lends
    // ------------------------------------------------------------------

    /// Lends the reactor the driver's clock. With it, `seconds()` is live
    /// inside long callbacks (as in Twisted), calls are timed for the trace,
    /// and slow calls are counted. The reactor still never reads a clock of
    /// its own.
    pub fn set_clock(&self, clock: impl Fn() -> Time + 'static) {
        self.reactor.set_clock(clock)
    }

    /// Calls that take longer than this are logged and counted as slow
    /// (asyncio's debug mode does the same). Default 50 ms. Needs a clock.
    pub fn set_slow_call_threshold(&self, threshold: Duration) {
        self.reactor.set_slow_call_threshold(threshold)
    }

    /// Shares the driver's clock with other threads, through every
    /// [`ReactorHandle`](crate::ReactorHandle) (`seconds`): a pool thread
    /// then records the moment it takes a job from its queue
    /// ([`Job::taken_by`](crate::threads::Job::taken_by)) where it
    /// happens, not when the reactor next hears of it. Give the clock
    /// [`set_clock`](Self::set_clock) has, as a `Send + Sync` function; a
    /// simulation, whose threads are not real, need not share one.
    ///
    /// ```
    /// use std::time::Instant;
    /// use twine_core::{ReactorDriver, Time};
    ///
    /// let reactor = ReactorDriver::new();
    /// let epoch = Instant::now();
    /// let now = move || Time::from_nanos(epoch.elapsed().as_nanos() as u64);
    /// reactor.set_clock(now);
    /// reactor.share_clock(now);
    /// assert!(reactor.handle().seconds().is_some());
    /// ```
    pub fn share_clock(&self, clock: impl Fn() -> Time + Send + Sync + 'static) {
        self.reactor.inner.inbox.share_clock(std::sync::Arc::new(clock));
    }

    /// Sets the waker the inbox calls on its empty-to-non-empty edge (the
    /// native driver's `mio::Waker`). Runs on the calling thread of
    /// `call_from_thread`, so it must be quick.
    pub fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        self.reactor.set_waker(waker)
    }

    /// Makes this reactor the thread's [`current`](Reactor::current) one:
    /// the reactor that Deferreds, which belong to no reactor, trace through
    /// and report unhandled errors to. Every `handle_*` call does this; a
    /// driver that keeps several reactors on one thread (the playground
    /// comparing two simulations) calls it before it fires Deferreds of its own.
    pub fn make_current(&self) {
        self.reactor.make_current()
    }

    // ------------------------------------------------------------------
    // Effects
    // ------------------------------------------------------------------

    /// The next thing the driver must do, in the order the protocols asked.
    pub fn poll_effect(&self) -> Option<Effect> {
        self.reactor.poll_effect()
    }

    /// Hands back a sent [`Effect::Write`] buffer for reuse.
    pub fn recycle_buffer(&self, buf: Vec<u8>) {
        self.reactor.recycle_buffer(buf)
    }

    // ------------------------------------------------------------------
    // Connections
    // ------------------------------------------------------------------

    /// Bytes arrived on a stream connection.
    pub fn handle_data(&self, now: Time, conn: ConnectionId, data: &[u8]) {
        self.reactor.handle_data(now, conn, data)
    }

    /// A whole message arrived on a message connection.
    pub fn handle_message(&self, now: Time, conn: ConnectionId, message: Message) {
        self.reactor.handle_message(now, conn, message)
    }

    /// The connection's write buffer crossed a water mark. A streaming
    /// [`Producer`](crate::protocol::Producer) registered on the transport
    /// is paused (`High`) and resumed (`Low`); without one, the protocol's
    /// own [`pause_producing`](crate::protocol::Protocol::pause_producing) and
    /// [`resume_producing`](crate::protocol::Protocol::resume_producing) are called.
    pub fn handle_write_buffer(&self, now: Time, conn: ConnectionId, mark: WaterMark) {
        self.reactor.handle_write_buffer(now, conn, mark)
    }

    /// Everything written on the connection has been sent: Twisted's
    /// `doWrite` emptying its buffer. A pull producer registered on the
    /// transport is asked for more, and a streaming one the transport
    /// paused is resumed. Drivers call this each time a connection's send
    /// buffer empties, at least while [`Effect::ReportDrained`] has asked
    /// for it (a producer is registered); other reports change nothing.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use twine_core::protocol::Producer;
    /// use twine_core::testing::StringTransport;
    ///
    /// #[derive(Default)]
    /// struct Asked(Cell<u32>);
    /// impl Producer for Asked {
    ///     fn resume_producing(&self) { self.0.set(self.0.get() + 1) }
    ///     fn stop_producing(&self) {}
    /// }
    ///
    /// let t = StringTransport::new();
    /// let asked = Rc::new(Asked::default());
    /// t.transport().register_producer(asked.clone(), false).unwrap();
    /// let (driver, conn) = (t.driver(), t.transport().id());
    /// driver.handle_write_drained(driver.seconds(), conn);
    /// assert_eq!(asked.0.get(), 2); // once on registering, once per drain
    /// ```
    pub fn handle_write_drained(&self, now: Time, conn: ConnectionId) {
        self.reactor.handle_write_drained(now, conn)
    }

    /// The connection is closed, whoever closed it. `reason` is
    /// [`FailureKind::ConnectionDone`](crate::defer::FailureKind::ConnectionDone)
    /// for a clean close. Every connection gets exactly one.
    pub fn handle_closed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.reactor.handle_closed(now, conn, reason)
    }

    /// The driver bound a listener (or failed to), as asked by [`Effect::Listen`].
    ///
    /// ```
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::reactor::{Effect, ReactorDriver};
    /// use twine_core::Time;
    ///
    /// let driver = ReactorDriver::new();
    /// let port = driver.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| Echo));
    /// let Some(Effect::Listen { listener, .. }) = driver.poll_effect() else { panic!() };
    /// driver.handle_listening(Time::ZERO, listener, Ok("127.0.0.1:4321".parse().unwrap()));
    /// assert_eq!(port.address().unwrap().port(), 4321);
    /// ```
    pub fn handle_listening(&self, now: Time, listener: ListenerId, result: Result<SocketAddr, Failure>) {
        self.reactor.handle_listening(now, listener, result)
    }

    /// A listener accepted a connection. Returns its id, or `None` when the
    /// factory refused it (the driver then closes the socket).
    pub fn handle_accept(
        &self,
        now: Time,
        listener: ListenerId,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Option<ConnectionId> {
        self.reactor.handle_accept(now, listener, peer, local)
    }

    /// A connection the reactor asked for ([`Effect::Connect`]) is up.
    pub fn handle_connected(&self, now: Time, conn: ConnectionId, local: SocketAddr) {
        self.reactor.handle_connected(now, conn, local)
    }

    /// A connection the reactor asked for could not be made.
    pub fn handle_connect_failed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.reactor.handle_connect_failed(now, conn, reason)
    }
}
