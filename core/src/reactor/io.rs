//! Connections: what the reactor asks of the driver ([`Effect`]), what the
//! driver tells the reactor (`handle_*`), listeners and connectors.
//!
//! Every connection the reactor knows about gets exactly one
//! [`handle_closed`](Reactor::handle_closed) from the driver, whoever closed it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::{Reactor, WeakReactor};
use crate::defer::{Deferred, Failure, FailureKind};
use crate::protocol::{ClientFactory, Factory, Message, Protocol, Transport};
use crate::time::Time;
use crate::trace::{CallSource, TraceEvent};

/// A connection's id, unique within its reactor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// A listener's id, unique within its reactor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub u64);

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

impl fmt::Debug for ListenerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listener#{}", self.0)
    }
}

/// What a connection carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConnectionKind {
    /// A byte stream (TCP): writes are bytes, framing is the protocol's business.
    Stream,
    /// Whole messages (WebSocket): each send is one message.
    Message,
}

/// Which way a connection's write buffer crossed a water mark.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WaterMark {
    /// Passed the high-water mark: the protocol is asked to pause.
    High,
    /// Drained below the low-water mark: the protocol is resumed.
    Low,
}

/// Something the reactor asks its driver to do. Drain them with
/// [`Reactor::poll_effect`] after every turn and every `handle_*` call.
#[derive(Debug)]
#[allow(missing_docs)] // the fields are named for what they are
pub enum Effect {
    /// Bind and listen; answer with [`Reactor::handle_listening`].
    Listen { listener: ListenerId, addr: SocketAddr },
    /// Stop accepting and close the listening socket.
    StopListening { listener: ListenerId },
    /// Open a connection; answer with [`Reactor::handle_connected`] or
    /// [`Reactor::handle_connect_failed`] (after `timeout` at the latest).
    Connect { conn: ConnectionId, addr: SocketAddr, timeout: Duration },
    /// Send bytes on a stream connection. Give the buffer back with
    /// [`Reactor::recycle_buffer`] once sent to save an allocation.
    Write { conn: ConnectionId, data: Vec<u8> },
    /// Send one message on a message connection.
    Send { conn: ConnectionId, message: Message },
    /// Close after sending everything queued.
    Close { conn: ConnectionId },
    /// Close now, discarding anything unsent.
    Abort { conn: ConnectionId },
    /// Stop reading from the peer.
    PauseReading { conn: ConnectionId },
    /// Start reading from the peer again.
    ResumeReading { conn: ConnectionId },
}

struct Conn {
    protocol: Rc<RefCell<Box<dyn Protocol>>>,
    transport: Transport,
    connector: Option<Connector>,
}

/// Keep at most this many spare write buffers, each at most this big.
const SPARE_BUFFERS: usize = 64;
const SPARE_BUFFER_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
pub(crate) struct IoState {
    effects: VecDeque<Effect>,
    conns: HashMap<ConnectionId, Conn>,
    listeners: HashMap<ListenerId, Rc<ListenerShared>>,
    connecting: HashMap<ConnectionId, Connector>,
    next_id: u64,
    spare: Vec<Vec<u8>>,
}

impl IoState {
    pub(crate) fn connection_count(&self) -> usize {
        self.conns.len()
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

impl Reactor {
    // ------------------------------------------------------------------
    // Effects
    // ------------------------------------------------------------------

    /// The next thing the driver must do, in the order the protocols asked.
    pub fn poll_effect(&self) -> Option<Effect> {
        self.inner.io.borrow_mut().effects.pop_front()
    }

    /// Hands back a sent [`Effect::Write`] buffer for reuse.
    pub fn recycle_buffer(&self, mut buf: Vec<u8>) {
        let mut io = self.inner.io.borrow_mut();
        if io.spare.len() < SPARE_BUFFERS && buf.capacity() <= SPARE_BUFFER_CAPACITY {
            buf.clear();
            io.spare.push(buf);
        }
    }

    pub(crate) fn queue_effect(&self, effect: Effect) {
        if let Effect::Send { conn, message } = &effect {
            self.count_bytes(false, message.len());
            let n = message.len() as u64;
            self.emit(|| TraceEvent::BytesOut { conn: conn.0, n });
        }
        self.inner.io.borrow_mut().effects.push_back(effect);
    }

    /// Appends to the connection's pending write, coalescing consecutive
    /// writes to the same connection into one buffer.
    pub(crate) fn queue_write(&self, conn: ConnectionId, fill: impl FnOnce(&mut Vec<u8>)) {
        let n = {
            let mut io = self.inner.io.borrow_mut();
            let io = &mut *io;
            if !matches!(io.effects.back(), Some(Effect::Write { conn: c, .. }) if *c == conn) {
                let data = io.spare.pop().unwrap_or_default();
                io.effects.push_back(Effect::Write { conn, data });
            }
            let Some(Effect::Write { data, .. }) = io.effects.back_mut() else { unreachable!() };
            let before = data.len();
            fill(data);
            data.len() - before
        };
        self.count_bytes(false, n);
        self.emit(|| TraceEvent::BytesOut { conn: conn.0, n: n as u64 });
    }

    // ------------------------------------------------------------------
    // Listening
    // ------------------------------------------------------------------

    /// Listens for TCP connections on `addr` (port 0 picks a free one),
    /// building a protocol for each with `factory`. Twisted's `listenTCP`.
    ///
    /// ```
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::reactor::Effect;
    /// use twine_core::Reactor;
    ///
    /// let reactor = Reactor::new();
    /// let port = reactor.listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| Echo));
    /// // The driver binds the socket and reports back:
    /// let Some(Effect::Listen { listener, .. }) = reactor.poll_effect() else { panic!() };
    /// reactor.handle_listening(twine_core::Time::ZERO, listener, Ok("127.0.0.1:4321".parse().unwrap()));
    /// assert_eq!(port.address().unwrap().port(), 4321);
    /// ```
    pub fn listen_tcp(&self, addr: SocketAddr, factory: impl Factory) -> ListeningPort {
        let id = ListenerId(self.inner.io.borrow_mut().next_id());
        let shared = Rc::new(ListenerShared {
            id,
            requested: addr,
            factory: Rc::new(RefCell::new(factory)),
            reactor: self.downgrade(),
            address: Cell::new(None),
            failure: RefCell::new(None),
            waiters: RefCell::new(Vec::new()),
            open: Cell::new(true),
        });
        let mut io = self.inner.io.borrow_mut();
        io.listeners.insert(id, shared.clone());
        io.effects.push_back(Effect::Listen { listener: id, addr });
        ListeningPort { shared }
    }

    /// The driver bound a listener (or failed to).
    pub fn handle_listening(&self, now: Time, listener: ListenerId, result: Result<SocketAddr, Failure>) {
        self.set_now(now);
        let Some(shared) = self.inner.io.borrow().listeners.get(&listener).cloned() else { return };
        let waiters = std::mem::take(&mut *shared.waiters.borrow_mut());
        match result {
            Ok(addr) => {
                shared.address.set(Some(addr));
                self.emit(|| TraceEvent::Listening { listener: listener.0, addr: addr.to_string() });
                let factory = shared.factory.clone();
                self.run_call(CallSource::Io, listener.0, "start_factory", || factory.borrow_mut().start_factory());
                for waiter in waiters {
                    let _ = waiter.callback(addr);
                }
            }
            Err(failure) => {
                tracing::error!("cannot listen on {}: {failure}", shared.requested);
                self.inner.io.borrow_mut().listeners.remove(&listener);
                shared.open.set(false);
                *shared.failure.borrow_mut() = Some(failure.clone());
                for waiter in waiters {
                    let _ = waiter.errback(failure.clone());
                }
            }
        }
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
        self.set_now(now);
        let factory = self.inner.io.borrow().listeners.get(&listener)?.factory.clone();
        let mut built = None;
        self.run_call(CallSource::Io, listener.0, "build_protocol", || {
            built = factory.borrow_mut().build_protocol(peer)
        });
        Some(self.attach(built?, ConnectionKind::Stream, peer, local, None))
    }

    // ------------------------------------------------------------------
    // Connecting
    // ------------------------------------------------------------------

    /// Connects to `addr` over TCP; `factory` hears of the attempt's fate.
    /// Twisted's `connectTCP`.
    pub fn connect_tcp(&self, addr: SocketAddr, factory: impl ClientFactory, timeout: Duration) -> Connector {
        let connector = Connector {
            shared: Rc::new(ConnectorShared {
                addr,
                timeout,
                factory: Rc::new(RefCell::new(factory)),
                reactor: self.downgrade(),
                conn: Cell::new(None),
                state: Cell::new(ConnectorState::Disconnected),
            }),
        };
        connector.connect();
        connector
    }

    /// A connection the reactor asked for is up.
    pub fn handle_connected(&self, now: Time, conn: ConnectionId, local: SocketAddr) {
        self.set_now(now);
        let Some(connector) = self.inner.io.borrow_mut().connecting.remove(&conn) else { return };
        let peer = connector.shared.addr;
        let factory = connector.shared.factory.clone();
        let mut built = None;
        self.run_call(CallSource::Io, conn.0, "build_protocol", || built = factory.borrow_mut().build_protocol(peer));
        match built {
            Some(protocol) => {
                connector.shared.state.set(ConnectorState::Connected);
                self.attach_with_id(conn, protocol, ConnectionKind::Stream, peer, local, Some(connector));
            }
            None => {
                connector.shared.state.set(ConnectorState::Disconnected);
                self.queue_effect(Effect::Abort { conn });
            }
        }
    }

    /// A connection the reactor asked for could not be made.
    pub fn handle_connect_failed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.set_now(now);
        let Some(connector) = self.inner.io.borrow_mut().connecting.remove(&conn) else { return };
        connector.shared.state.set(ConnectorState::Disconnected);
        connector.shared.conn.set(None);
        let factory = connector.shared.factory.clone();
        self.run_call(CallSource::Io, conn.0, "client_connection_failed", || {
            factory.borrow_mut().client_connection_failed(&connector, &reason)
        });
    }

    // ------------------------------------------------------------------
    // Connections made by the driver itself
    // ------------------------------------------------------------------

    /// Adds a connection the driver made on its own (a WebSocket the gateway
    /// accepted, a simulated client), hosting `protocol`.
    pub fn open_connection(
        &self,
        now: Time,
        protocol: Box<dyn Protocol>,
        kind: ConnectionKind,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> ConnectionId {
        self.set_now(now);
        self.attach(protocol, kind, peer, local, None)
    }

    fn attach(
        &self,
        protocol: Box<dyn Protocol>,
        kind: ConnectionKind,
        peer: SocketAddr,
        local: SocketAddr,
        connector: Option<Connector>,
    ) -> ConnectionId {
        let id = ConnectionId(self.inner.io.borrow_mut().next_id());
        self.attach_with_id(id, protocol, kind, peer, local, connector);
        id
    }

    fn attach_with_id(
        &self,
        id: ConnectionId,
        protocol: Box<dyn Protocol>,
        kind: ConnectionKind,
        peer: SocketAddr,
        local: SocketAddr,
        connector: Option<Connector>,
    ) {
        let transport = Transport::new(id, self.downgrade(), kind, peer, local);
        let protocol = Rc::new(RefCell::new(protocol));
        self.inner.io.borrow_mut().conns.insert(id, Conn { protocol, transport, connector });
        self.emit(|| TraceEvent::ConnectionMade { conn: id.0, peer: peer.to_string() });
        self.dispatch(id, "connection_made", |p, t| p.connection_made(t));
    }

    // ------------------------------------------------------------------
    // Connection events
    // ------------------------------------------------------------------

    /// Bytes arrived on a stream connection.
    pub fn handle_data(&self, now: Time, conn: ConnectionId, data: &[u8]) {
        self.set_now(now);
        self.count_bytes(true, data.len());
        self.emit(|| TraceEvent::BytesIn { conn: conn.0, n: data.len() as u64 });
        self.dispatch(conn, "data_received", |p, t| p.data_received(t, data));
    }

    /// A whole message arrived on a message connection.
    pub fn handle_message(&self, now: Time, conn: ConnectionId, message: Message) {
        self.set_now(now);
        self.count_bytes(true, message.len());
        self.emit(|| TraceEvent::MessageReceived { conn: conn.0, len: message.len() as u64 });
        self.dispatch(conn, "message_received", |p, t| p.message_received(t, message));
    }

    /// The connection's write buffer crossed a water mark.
    pub fn handle_write_buffer(&self, now: Time, conn: ConnectionId, mark: WaterMark) {
        self.set_now(now);
        match mark {
            WaterMark::High => {
                self.emit(|| TraceEvent::ProducerPaused { conn: conn.0 });
                self.dispatch(conn, "pause_producing", |p, t| p.pause_producing(t));
            }
            WaterMark::Low => {
                self.emit(|| TraceEvent::ProducerResumed { conn: conn.0 });
                self.dispatch(conn, "resume_producing", |p, t| p.resume_producing(t));
            }
        }
    }

    /// The connection is closed, whoever closed it. `reason` is
    /// [`FailureKind::ConnectionDone`] for a clean close.
    pub fn handle_closed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.set_now(now);
        let Some(entry) = self.inner.io.borrow_mut().conns.remove(&conn) else { return };
        entry.transport.conn.state.set(crate::protocol::transport::ConnState::Closed);
        self.emit(|| TraceEvent::ConnectionLost { conn: conn.0, reason: reason.to_string() });
        let transport = entry.transport.clone();
        self.run_call(CallSource::Io, conn.0, "connection_lost", || {
            entry.protocol.borrow_mut().connection_lost(&transport, &reason)
        });
        if let Some(connector) = entry.connector {
            connector.shared.state.set(ConnectorState::Disconnected);
            connector.shared.conn.set(None);
            let factory = connector.shared.factory.clone();
            self.run_call(CallSource::Io, conn.0, "client_connection_lost", || {
                factory.borrow_mut().client_connection_lost(&connector, &reason)
            });
        }
    }

    /// The transport of an open connection.
    pub fn transport(&self, conn: ConnectionId) -> Option<Transport> {
        self.inner.io.borrow().conns.get(&conn).map(|c| c.transport.clone())
    }

    /// Ids of the open connections.
    pub fn connections(&self) -> Vec<ConnectionId> {
        let mut ids: Vec<_> = self.inner.io.borrow().conns.keys().copied().collect();
        ids.sort();
        ids
    }

    fn dispatch(&self, conn: ConnectionId, name: &'static str, f: impl FnOnce(&mut dyn Protocol, &Transport)) {
        let Some((protocol, transport)) =
            self.inner.io.borrow().conns.get(&conn).map(|c| (c.protocol.clone(), c.transport.clone()))
        else {
            return;
        };
        self.run_call(CallSource::Io, conn.0, name, || match protocol.try_borrow_mut() {
            Ok(mut protocol) => f(&mut **protocol, &transport),
            Err(_) => tracing::error!(?conn, "{name} re-entered a protocol already running; dropped"),
        });
    }
}

pub(crate) struct ListenerShared {
    id: ListenerId,
    requested: SocketAddr,
    factory: Rc<RefCell<dyn Factory>>,
    reactor: WeakReactor,
    address: Cell<Option<SocketAddr>>,
    failure: RefCell<Option<Failure>>,
    waiters: RefCell<Vec<Deferred<SocketAddr>>>,
    open: Cell<bool>,
}

/// A listener: Twisted's `IListeningPort`.
#[derive(Clone)]
pub struct ListeningPort {
    shared: Rc<ListenerShared>,
}

impl ListeningPort {
    /// The listener's id.
    pub fn id(&self) -> ListenerId {
        self.shared.id
    }

    /// The bound address, once the driver has bound it.
    pub fn address(&self) -> Option<SocketAddr> {
        self.shared.address.get()
    }

    /// Fires with the bound address once listening, or fails if binding failed.
    pub fn when_listening(&self) -> Deferred<SocketAddr> {
        if let Some(addr) = self.shared.address.get() {
            return crate::defer::succeed(addr);
        }
        if let Some(failure) = self.shared.failure.borrow().clone() {
            return crate::defer::fail(failure);
        }
        let d = Deferred::new();
        self.shared.waiters.borrow_mut().push(d.clone());
        d
    }

    /// Stops accepting connections; open ones carry on.
    pub fn stop_listening(&self) {
        if !self.shared.open.replace(false) {
            return;
        }
        let Some(reactor) = self.shared.reactor.upgrade() else { return };
        let id = self.shared.id;
        {
            let mut io = reactor.inner.io.borrow_mut();
            io.listeners.remove(&id);
            io.effects.push_back(Effect::StopListening { listener: id });
        }
        reactor.emit(|| TraceEvent::ListenerClosed { listener: id.0 });
        if self.shared.address.get().is_some() {
            let factory = self.shared.factory.clone();
            reactor.run_call(CallSource::Io, id.0, "stop_factory", || factory.borrow_mut().stop_factory());
        }
    }
}

impl fmt::Debug for ListeningPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListeningPort").field("id", &self.shared.id).field("address", &self.address()).finish()
    }
}

/// Where an outgoing connection attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorState {
    /// Not connected and not trying.
    Disconnected,
    /// Waiting for the driver to connect.
    Connecting,
    /// Connected.
    Connected,
}

struct ConnectorShared {
    addr: SocketAddr,
    timeout: Duration,
    factory: Rc<RefCell<dyn ClientFactory>>,
    reactor: WeakReactor,
    conn: Cell<Option<ConnectionId>>,
    state: Cell<ConnectorState>,
}

/// An outgoing connection and its attempts: Twisted's `IConnector`.
#[derive(Clone)]
pub struct Connector {
    shared: Rc<ConnectorShared>,
}

impl Connector {
    /// Where it connects to.
    pub fn address(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Where the attempt stands.
    pub fn state(&self) -> ConnectorState {
        self.shared.state.get()
    }

    /// The connection, while connecting or connected.
    pub fn connection(&self) -> Option<ConnectionId> {
        self.shared.conn.get()
    }

    /// Tries (again) to connect. Does nothing while connecting or connected.
    pub fn connect(&self) {
        if self.shared.state.get() != ConnectorState::Disconnected {
            return;
        }
        let Some(reactor) = self.shared.reactor.upgrade() else { return };
        let conn = {
            let mut io = reactor.inner.io.borrow_mut();
            let conn = ConnectionId(io.next_id());
            io.connecting.insert(conn, self.clone());
            io.effects.push_back(Effect::Connect { conn, addr: self.shared.addr, timeout: self.shared.timeout });
            conn
        };
        self.shared.conn.set(Some(conn));
        self.shared.state.set(ConnectorState::Connecting);
        // `connect` is often called from the factory's own callbacks (the
        // classic reconnect in `client_connection_lost`): then tell the
        // factory in a moment, once it is free.
        let factory = self.shared.factory.clone();
        let busy = match factory.try_borrow_mut() {
            Ok(mut factory) => {
                factory.started_connecting(self);
                false
            }
            Err(_) => true,
        };
        if busy {
            let me = self.clone();
            reactor.call_soon(move |_| factory.borrow_mut().started_connecting(&me));
        }
    }

    /// Gives up a connection attempt in progress; the factory hears it failed.
    pub fn stop_connecting(&self) {
        if self.shared.state.get() != ConnectorState::Connecting {
            return;
        }
        let (Some(reactor), Some(conn)) = (self.shared.reactor.upgrade(), self.shared.conn.get()) else { return };
        reactor.queue_effect(Effect::Abort { conn });
        let now = reactor.seconds();
        reactor.handle_connect_failed(now, conn, Failure::new(FailureKind::Cancelled, "connection attempt cancelled"));
    }

    /// Closes the connection, or gives up the attempt.
    pub fn disconnect(&self) {
        match self.shared.state.get() {
            ConnectorState::Connecting => self.stop_connecting(),
            ConnectorState::Connected => {
                let reactor = self.shared.reactor.upgrade();
                if let Some(t) = reactor.zip(self.shared.conn.get()).and_then(|(r, c)| r.transport(c)) {
                    t.lose_connection();
                }
            }
            ConnectorState::Disconnected => {}
        }
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector").field("addr", &self.shared.addr).field("state", &self.state()).finish()
    }
}
