//! A reactor driven in memory: the driver played by a test.

mod driver;

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::defer::{Failure, FailureKind};
use crate::protocol::ListeningPort;
use crate::protocol::{ConnectionKind, Message, Protocol};
use crate::reactor::{ConnectionId, Effect, ListenerId, Reactor, ReactorDriver, WaterMark};
use crate::task::Clock;
use crate::time::Time;

/// Turns of zero-delay work one settle may run before giving up on a call
/// that keeps rescheduling itself.
const MAX_SETTLE_ROUNDS: usize = 10_000;

/// How the reactor asked a connection to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseRequest {
    /// `lose_connection`: close after sending what is queued.
    Close,
    /// `abort_connection`: close now.
    Abort,
}

/// A connection attempt the reactor asked for ([`Effect::Connect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectAttempt {
    /// The connection the attempt will be.
    pub conn: ConnectionId,
    /// Where to.
    pub addr: SocketAddr,
    /// When the reactor asked.
    pub at: Time,
}

enum Delivery {
    Data(ConnectionId, Vec<u8>),
    Message(ConnectionId, Message),
    Closed(ConnectionId, Failure),
}

impl Delivery {
    fn conn(&self) -> ConnectionId {
        match self {
            Delivery::Data(c, _) | Delivery::Message(c, _) | Delivery::Closed(c, _) => *c,
        }
    }
}

struct ConnRecord {
    kind: ConnectionKind,
    /// The other end, when both ends are in this reactor.
    peer: Option<ConnectionId>,
    written: Vec<u8>,
    messages: Vec<Message>,
    close_requested: Option<CloseRequest>,
    closed: Option<Failure>,
    reading_paused: bool,
    /// What arrived while reading was paused, in order.
    held: VecDeque<Delivery>,
}

impl ConnRecord {
    fn new(kind: ConnectionKind, peer: Option<ConnectionId>) -> ConnRecord {
        ConnRecord {
            kind,
            peer,
            written: Vec::new(),
            messages: Vec::new(),
            close_requested: None,
            closed: None,
            reading_paused: false,
            held: VecDeque::new(),
        }
    }
}

struct ListenerRecord {
    addr: SocketAddr,
    open: bool,
}

struct DriverState {
    log: Vec<Effect>,
    conns: BTreeMap<ConnectionId, ConnRecord>,
    listeners: BTreeMap<ListenerId, ListenerRecord>,
    attempts: Vec<ConnectAttempt>,
    held_connects: BTreeMap<ConnectionId, SocketAddr>,
    hold_connects: bool,
    latency: Duration,
    in_flight: VecDeque<(Time, Delivery)>,
    next_port: u16,
}

/// A real [`Reactor`] with the driver played in memory, for tests: a
/// relative of Twisted's `MemoryReactor`, except that connections really
/// carry bytes.
///
/// Time is a [`Clock`]: nothing happens until the test acts or calls
/// [`advance`](Self::advance). After every action the memory driver does what
/// a real driver does after I/O: it carries out every [`Effect`] the reactor
/// asked for and runs the turns that are due now. Specifically:
///
/// - [`listen_tcp`](Reactor::listen_tcp) binds at once (port 0 gets a free
///   port from 40000 up; a taken address fails as `EADDRINUSE` would).
///   [`accept`](Self::accept) connects a fake client the test plays:
///   [`deliver`](Self::deliver) bytes to the server's protocol, read what it
///   [`written`](Self::written).
/// - [`connect_tcp`](Reactor::connect_tcp) to an address this reactor listens
///   on connects the two ends in memory; bytes cross after the
///   [one-way latency](Self::set_latency) (default zero). Nothing listening
///   means the attempt is refused. [`hold_connects`](Self::hold_connects)
///   keeps attempts waiting for [`complete_connect`](Self::complete_connect)
///   or [`fail_connect`](Self::fail_connect) instead.
/// - `lose_connection` closes the connection, and its peer sees a clean
///   close after what was written; `abort_connection` closes both ends with
///   `ConnectionLost`.
/// - While a connection's reading is paused, what arrives for it waits.
/// - Everything asked is kept: [`take_effects`](Self::take_effects),
///   [`connect_attempts`](Self::connect_attempts), and per connection
///   [`written`](Self::written), [`messages`](Self::messages),
///   [`close_requested`](Self::close_requested).
///
/// ```
/// use twine_core::protocol::factory;
/// use twine_core::protocols::{Echo, LineEcho};
/// use twine_core::testing::MemoryReactor;
///
/// let memory = MemoryReactor::new();
/// let port = memory.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| LineEcho::new(Echo)));
/// let client = memory.accept(&port).unwrap();
/// memory.feed_chunked(client, b"hello\r\nworld\r\n", [3, 5]);
/// assert_eq!(memory.written(client), b"hello\r\nworld\r\n");
/// memory.disconnect(client);
/// assert!(memory.is_closed(client));
/// assert!(memory.reactor().connections().is_empty());
/// ```
pub struct MemoryReactor {
    clock: Clock,
    state: RefCell<DriverState>,
}

impl Default for MemoryReactor {
    fn default() -> Self {
        MemoryReactor::new()
    }
}

impl MemoryReactor {
    /// A fresh reactor at time zero.
    pub fn new() -> MemoryReactor {
        MemoryReactor {
            clock: Clock::new(),
            state: RefCell::new(DriverState {
                log: Vec::new(),
                conns: BTreeMap::new(),
                listeners: BTreeMap::new(),
                attempts: Vec::new(),
                held_connects: BTreeMap::new(),
                hold_connects: false,
                latency: Duration::ZERO,
                in_flight: VecDeque::new(),
                next_port: 40000,
            }),
        }
    }

    /// The reactor under test.
    pub fn reactor(&self) -> Reactor {
        self.clock.reactor()
    }

    /// The driver face of the reactor under test: this fake is its driver.
    fn driver(&self) -> &ReactorDriver {
        self.clock.driver()
    }

    /// The clock the reactor runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time.
    pub fn now(&self) -> Time {
        self.clock.seconds()
    }

    /// Bytes, messages and closes between two ends in this reactor take
    /// `one_way` to cross. What the test delivers itself arrives at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::protocol::{factory, Protocol, Transport};
    /// use twine_core::protocols::Echo;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// struct Hello;
    /// impl Protocol for Hello {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         t.write(b"hello");
    ///     }
    /// }
    /// let memory = MemoryReactor::new();
    /// memory.set_latency(Duration::from_millis(30));
    /// let reactor = memory.reactor();
    /// reactor.listen_tcp("127.0.0.1:7".parse().unwrap(), factory(|| Echo));
    /// reactor.connect_tcp("127.0.0.1:7".parse().unwrap(), factory(|| Hello), Duration::from_secs(1));
    /// let client = memory.connect_attempts()[0].conn;
    /// let server = memory.peer_of(client).unwrap();
    /// memory.advance(Duration::from_millis(29));
    /// assert_eq!(memory.written(server), b""); // "hello" is still on its way
    /// memory.advance(Duration::from_millis(1));
    /// assert_eq!(memory.written(server), b"hello"); // arrived and echoed at 30 ms
    /// ```
    pub fn set_latency(&self, one_way: Duration) {
        self.state.borrow_mut().latency = one_way;
    }

    /// While `hold` is true, connection attempts wait for
    /// [`complete_connect`](Self::complete_connect) or
    /// [`fail_connect`](Self::fail_connect).
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::defer::{Failure, FailureKind};
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// memory.hold_connects(true);
    /// let connector = memory.reactor().connect_tcp("192.0.2.1:80".parse().unwrap(), factory(|| Echo), Duration::from_secs(5));
    /// let attempt = memory.held_connects()[0];
    /// memory.fail_connect(attempt.conn, Failure::new(FailureKind::TimedOut, "no answer"));
    /// assert!(connector.connection().is_none()); // the attempt is over
    /// ```
    pub fn hold_connects(&self, hold: bool) {
        self.state.borrow_mut().hold_connects = hold;
    }

    /// Moves time forward by `by`, delivering what is in flight and running
    /// timers in time order along the way.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// memory.reactor().call_later(Duration::from_secs(2), |r| r.stop().unwrap());
    /// memory.advance(Duration::from_secs(2));
    /// assert!(memory.reactor().is_stopped());
    /// ```
    pub fn advance(&self, by: Duration) {
        let target = self.now() + by;
        self.settle();
        for _ in 0..MAX_SETTLE_ROUNDS * 100 {
            let next_delivery = self.state.borrow().in_flight.front().map(|(t, _)| *t);
            let next_timer = self.driver().poll_timeout();
            let Some(next) = next_delivery.into_iter().chain(next_timer).min().filter(|&t| t <= target) else {
                break;
            };
            if next > self.now() {
                self.clock.advance(next - self.now());
            }
            loop {
                let due = {
                    let mut state = self.state.borrow_mut();
                    match state.in_flight.front() {
                        Some((t, _)) if *t <= self.clock.seconds() => state.in_flight.pop_front().map(|(_, d)| d),
                        _ => None,
                    }
                };
                let Some(delivery) = due else { break };
                self.arrive(delivery);
            }
            self.settle();
        }
        if target > self.now() {
            self.clock.advance(target - self.now());
        }
        self.settle();
    }

    /// Carries out what the reactor asked for and runs the turns due now,
    /// until nothing more is ready. Every other method does this itself.
    pub fn settle(&self) {
        let reactor = self.driver();
        for _ in 0..MAX_SETTLE_ROUNDS {
            while let Some(effect) = reactor.poll_effect() {
                self.apply(effect);
            }
            if reactor.is_stopped() || reactor.poll_timeout().is_none_or(|t| t > self.now()) {
                return;
            }
            self.clock.advance(Duration::ZERO);
        }
        tracing::warn!("MemoryReactor::settle gave up: a call keeps rescheduling itself with no delay");
    }

    // ------------------------------------------------------------------
    // The test's side: connections
    // ------------------------------------------------------------------

    /// A fake client connects to `port`; returns the server side's
    /// connection, or `None` if the port is not listening or its factory
    /// refused. The test plays the client with [`deliver`](Self::deliver)
    /// and reads replies with [`written`](Self::written).
    pub fn accept(&self, port: &ListeningPort) -> Option<ConnectionId> {
        self.settle();
        let addr = self.state.borrow().listeners.get(&port.id()).filter(|l| l.open).map(|l| l.addr)?;
        let peer = self.ephemeral([127, 0, 0, 1].into());
        let conn = self.driver().handle_accept(self.now(), port.id(), peer, addr)?;
        self.state.borrow_mut().conns.insert(conn, ConnRecord::new(ConnectionKind::Stream, None));
        self.settle();
        Some(conn)
    }

    /// Opens a connection of `kind` hosting `protocol`, as a driver does for
    /// a connection it made itself (a WebSocket the gateway accepted).
    ///
    /// ```
    /// use twine_core::protocol::{ConnectionKind, Message};
    /// use twine_core::protocols::Echo;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// let ws = memory.open_connection(Echo, ConnectionKind::Message);
    /// memory.deliver_message(ws, Message::text("hi"));
    /// assert_eq!(memory.messages(ws), [Message::text("hi")]);
    /// ```
    pub fn open_connection(&self, protocol: impl Protocol, kind: ConnectionKind) -> ConnectionId {
        self.settle();
        let peer = self.ephemeral([127, 0, 0, 1].into());
        let host = SocketAddr::from(([127, 0, 0, 1], 8080));
        let reactor = self.driver();
        let conn = reactor.open_connection(self.now(), Box::new(protocol), kind, peer, host);
        self.state.borrow_mut().conns.insert(conn, ConnRecord::new(kind, None));
        self.settle();
        conn
    }

    /// Bytes from the (fake) peer arrive on `conn`.
    pub fn deliver(&self, conn: ConnectionId, data: &[u8]) {
        self.settle();
        self.arrive(Delivery::Data(conn, data.to_vec()));
        self.settle();
    }

    /// A message from the (fake) peer arrives on a message connection.
    pub fn deliver_message(&self, conn: ConnectionId, message: impl Into<Message>) {
        self.settle();
        self.arrive(Delivery::Message(conn, message.into()));
        self.settle();
    }

    /// Bytes arrive on `conn` in pieces cut as [`chunks`](super::chunks) cuts them.
    pub fn feed_chunked(&self, conn: ConnectionId, data: &[u8], sizes: impl IntoIterator<Item = usize>) {
        for piece in super::chunks(data, sizes) {
            self.deliver(conn, piece);
        }
    }

    /// The (fake) peer closes `conn` cleanly. Like data, the close waits
    /// while `conn`'s reading is paused. If the other end is in this
    /// reactor, it is closed too.
    pub fn disconnect(&self, conn: ConnectionId) {
        self.settle();
        let peer = self.with_conn(conn, |c| c.peer).flatten();
        if let Some(peer) = peer {
            self.mark_closed(peer, Failure::new(FailureKind::ConnectionDone, "connection closed"));
        }
        self.arrive(Delivery::Closed(conn, Failure::new(FailureKind::ConnectionDone, "connection closed by peer")));
        self.settle();
    }

    /// `conn` ends with `reason` (a reset, a timeout), at once. If its other
    /// end is in this reactor, that end sees the connection reset.
    pub fn lose(&self, conn: ConnectionId, reason: Failure) {
        self.settle();
        let peer = self.with_conn(conn, |c| c.peer).flatten();
        self.mark_closed(conn, reason);
        if let Some(peer) = peer {
            self.send(Delivery::Closed(peer, Failure::new(FailureKind::ConnectionLost, "connection reset by peer")));
        }
        self.settle();
    }

    /// Reports that `conn`'s write buffer crossed a water mark, as a driver
    /// does when the peer reads slower than the protocol writes.
    ///
    /// ```
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::{Echo, LineEcho};
    /// use twine_core::reactor::WaterMark;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// let port = memory.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| LineEcho::new(Echo)));
    /// let conn = memory.accept(&port).unwrap();
    /// memory.write_buffer(conn, WaterMark::High);
    /// assert!(memory.reading_paused(conn)); // the echo stopped reading
    /// memory.write_buffer(conn, WaterMark::Low);
    /// assert!(!memory.reading_paused(conn));
    /// ```
    pub fn write_buffer(&self, conn: ConnectionId, mark: WaterMark) {
        self.settle();
        self.driver().handle_write_buffer(self.now(), conn, mark);
        self.settle();
    }

    /// Reports that everything written on `conn` has been sent, as a
    /// driver does when a socket's send buffer empties: a pull producer on
    /// the transport is asked for more, a paused streaming one resumed.
    pub fn write_drained(&self, conn: ConnectionId) {
        self.settle();
        self.driver().handle_write_drained(self.now(), conn);
        self.settle();
    }

    /// Connection attempts waiting (see [`hold_connects`](Self::hold_connects)).
    pub fn held_connects(&self) -> Vec<ConnectAttempt> {
        self.settle();
        let state = self.state.borrow();
        state.attempts.iter().filter(|a| state.held_connects.contains_key(&a.conn)).copied().collect()
    }

    /// Completes a held attempt: to the listener at its address if there is
    /// one, otherwise to a fake server the test plays. Returns `false` if no
    /// such attempt is held.
    pub fn complete_connect(&self, conn: ConnectionId) -> bool {
        self.settle();
        let Some(addr) = self.state.borrow_mut().held_connects.remove(&conn) else { return false };
        self.route_connect(conn, addr, false);
        self.settle();
        true
    }

    /// Fails a held attempt with `reason`. Returns `false` if no such attempt is held.
    pub fn fail_connect(&self, conn: ConnectionId, reason: Failure) -> bool {
        self.settle();
        if self.state.borrow_mut().held_connects.remove(&conn).is_none() {
            return false;
        }
        self.driver().handle_connect_failed(self.now(), conn, reason);
        self.settle();
        true
    }

    // ------------------------------------------------------------------
    // What the reactor asked for
    // ------------------------------------------------------------------

    /// Takes every effect carried out so far, in order.
    ///
    /// ```
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::reactor::Effect;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// let port = memory.reactor().listen_tcp("0.0.0.0:7".parse().unwrap(), factory(|| Echo));
    /// let conn = memory.accept(&port).unwrap();
    /// memory.deliver(conn, b"x");
    /// let effects = memory.take_effects();
    /// assert!(matches!(effects[0], Effect::Listen { .. }));
    /// assert!(matches!(&effects[1], Effect::Write { data, .. } if data == b"x"));
    /// ```
    pub fn take_effects(&self) -> Vec<Effect> {
        self.settle();
        std::mem::take(&mut self.state.borrow_mut().log)
    }

    /// The listeners accepting connections, and where.
    pub fn listeners(&self) -> Vec<(ListenerId, SocketAddr)> {
        self.settle();
        self.state.borrow().listeners.iter().filter(|(_, l)| l.open).map(|(id, l)| (*id, l.addr)).collect()
    }

    /// Every connection attempt the reactor made, in order.
    pub fn connect_attempts(&self) -> Vec<ConnectAttempt> {
        self.settle();
        self.state.borrow().attempts.clone()
    }

    /// Everything written on `conn` so far.
    pub fn written(&self, conn: ConnectionId) -> Vec<u8> {
        self.settle();
        self.with_conn(conn, |c| c.written.clone()).unwrap_or_default()
    }

    /// Takes what was written on `conn` so far.
    pub fn take_written(&self, conn: ConnectionId) -> Vec<u8> {
        self.settle();
        self.with_conn(conn, |c| std::mem::take(&mut c.written)).unwrap_or_default()
    }

    /// Messages sent on message connection `conn`.
    pub fn messages(&self, conn: ConnectionId) -> Vec<Message> {
        self.settle();
        self.with_conn(conn, |c| c.messages.clone()).unwrap_or_default()
    }

    /// Takes the messages sent on `conn` so far.
    pub fn take_messages(&self, conn: ConnectionId) -> Vec<Message> {
        self.settle();
        self.with_conn(conn, |c| std::mem::take(&mut c.messages)).unwrap_or_default()
    }

    /// How the reactor asked `conn` to close, if it did.
    pub fn close_requested(&self, conn: ConnectionId) -> Option<CloseRequest> {
        self.settle();
        self.with_conn(conn, |c| c.close_requested).flatten()
    }

    /// Whether `conn` is closed (the reactor was told).
    pub fn is_closed(&self, conn: ConnectionId) -> bool {
        self.settle();
        self.with_conn(conn, |c| c.closed.is_some()).unwrap_or(false)
    }

    /// Why `conn` closed, once it has.
    pub fn close_reason(&self, conn: ConnectionId) -> Option<Failure> {
        self.settle();
        self.with_conn(conn, |c| c.closed.clone()).flatten()
    }

    /// Whether the reactor paused reading on `conn`.
    pub fn reading_paused(&self, conn: ConnectionId) -> bool {
        self.settle();
        self.with_conn(conn, |c| c.reading_paused).unwrap_or(false)
    }

    /// The other end of `conn`, when both ends are in this reactor.
    pub fn peer_of(&self, conn: ConnectionId) -> Option<ConnectionId> {
        self.settle();
        self.with_conn(conn, |c| c.peer).flatten()
    }

    /// The kind of connection `conn` is, if the memory driver knows it.
    pub fn kind(&self, conn: ConnectionId) -> Option<ConnectionKind> {
        self.settle();
        self.with_conn(conn, |c| c.kind)
    }
}

impl fmt::Debug for MemoryReactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("MemoryReactor")
            .field("now", &self.now())
            .field("connections", &state.conns.keys().collect::<Vec<_>>())
            .field("listeners", &state.listeners.len())
            .field("in_flight", &state.in_flight.len())
            .finish()
    }
}
