//! Connections: what the reactor asks of the driver ([`Effect`]), what the
//! driver tells the reactor (`handle_*`), listeners and connectors.
//!
//! Every connection the reactor knows about gets exactly one
//! [`handle_closed`](super::ReactorDriver::handle_closed) from the driver, whoever closed it.

mod connect;
mod listen;

pub use connect::{Connector, ConnectorState};
pub use listen::ListeningPort;

use listen::ListenerShared;

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::Reactor;
use crate::defer::Failure;
use crate::protocol::{Message, Protocol, Transport};
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
/// [`ReactorDriver::poll_effect`](super::ReactorDriver::poll_effect) after every turn and every `handle_*` call.
#[derive(Debug)]
#[allow(missing_docs)] // the fields are named for what they are
pub enum Effect {
    /// Bind and listen; answer with [`ReactorDriver::handle_listening`](super::ReactorDriver::handle_listening).
    Listen { listener: ListenerId, addr: SocketAddr },
    /// Stop accepting and close the listening socket.
    StopListening { listener: ListenerId },
    /// Open a connection; answer with [`ReactorDriver::handle_connected`](super::ReactorDriver::handle_connected) or
    /// [`ReactorDriver::handle_connect_failed`](super::ReactorDriver::handle_connect_failed) (after `timeout` at the latest).
    Connect { conn: ConnectionId, addr: SocketAddr, timeout: Duration },
    /// Send bytes on a stream connection. Give the buffer back with
    /// [`ReactorDriver::recycle_buffer`](super::ReactorDriver::recycle_buffer) once sent to save an allocation.
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
    /// Why the reactor itself dropped the connection (its protocol
    /// panicked): what `connection_lost` hears instead of the driver's reason.
    dropped_for: Option<Failure>,
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

    /// Driver face: `ReactorDriver::poll_effect` documents it.
    pub(crate) fn poll_effect(&self) -> Option<Effect> {
        self.inner.io.borrow_mut().effects.pop_front()
    }

    /// Driver face: `ReactorDriver::recycle_buffer` documents it.
    pub(crate) fn recycle_buffer(&self, mut buf: Vec<u8>) {
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
    /// Returns how many bytes `fill` added.
    pub(crate) fn queue_write(&self, conn: ConnectionId, fill: impl FnOnce(&mut Vec<u8>)) -> usize {
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
        n
    }

    // ------------------------------------------------------------------
    // Connections made by the driver itself
    // ------------------------------------------------------------------

    /// Driver face: `ReactorDriver::open_connection` documents it.
    pub(crate) fn open_connection(
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
        self.inner.io.borrow_mut().conns.insert(id, Conn { protocol, transport, connector, dropped_for: None });
        self.emit(|| TraceEvent::ConnectionMade { conn: id.0, peer: peer.to_string() });
        self.dispatch(id, "connection_made", |p, t| p.connection_made(t));
    }

    // ------------------------------------------------------------------
    // Connection events
    // ------------------------------------------------------------------

    /// Driver face: `ReactorDriver::handle_data` documents it.
    pub(crate) fn handle_data(&self, now: Time, conn: ConnectionId, data: &[u8]) {
        self.set_now(now);
        self.count_bytes(true, data.len());
        self.emit(|| TraceEvent::BytesIn { conn: conn.0, n: data.len() as u64 });
        self.dispatch(conn, "data_received", |p, t| p.data_received(t, data));
    }

    /// Driver face: `ReactorDriver::handle_message` documents it.
    pub(crate) fn handle_message(&self, now: Time, conn: ConnectionId, message: Message) {
        self.set_now(now);
        self.count_bytes(true, message.len());
        self.emit(|| TraceEvent::MessageReceived { conn: conn.0, len: message.len() as u64 });
        self.dispatch(conn, "message_received", |p, t| p.message_received(t, message));
    }

    /// Driver face: `ReactorDriver::handle_write_buffer` documents it.
    pub(crate) fn handle_write_buffer(&self, now: Time, conn: ConnectionId, mark: WaterMark) {
        self.set_now(now);
        let Some(transport) = self.transport(conn) else { return };
        if transport.has_streaming_producer() {
            let producer = match mark {
                WaterMark::High => transport.pause_streaming_producer(),
                WaterMark::Low => transport.resume_streaming_producer(),
            };
            if let Some(producer) = producer {
                self.run_producer(conn, mark, producer);
            }
            return;
        }
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

    /// Driver face: `ReactorDriver::handle_write_drained` documents it.
    pub(crate) fn handle_write_drained(&self, now: Time, conn: ConnectionId) {
        self.set_now(now);
        let Some(transport) = self.transport(conn) else { return };
        if let Some(producer) = transport.drained() {
            self.run_producer(conn, WaterMark::Low, producer);
        }
    }

    /// Pauses (`High`) or resumes (`Low`) a transport's producer, as a call.
    fn run_producer(&self, conn: ConnectionId, mark: WaterMark, producer: Rc<dyn crate::protocol::Producer>) {
        match mark {
            WaterMark::High => {
                self.emit(|| TraceEvent::ProducerPaused { conn: conn.0 });
                self.run_call(CallSource::Io, conn.0, "pause_producing", || producer.pause_producing());
            }
            WaterMark::Low => {
                self.emit(|| TraceEvent::ProducerResumed { conn: conn.0 });
                self.run_call(CallSource::Io, conn.0, "resume_producing", || producer.resume_producing());
            }
        }
    }

    /// Driver face: `ReactorDriver::handle_closed` documents it.
    pub(crate) fn handle_closed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.set_now(now);
        let Some(entry) = self.inner.io.borrow_mut().conns.remove(&conn) else { return };
        let reason = entry.dropped_for.clone().unwrap_or(reason);
        entry.transport.conn.state.set(crate::protocol::transport::ConnState::Closed);
        self.emit(|| TraceEvent::ConnectionLost { conn: conn.0, reason: reason.to_string() });
        let transport = entry.transport.clone();
        // As Twisted's FileDescriptor.connectionLost: the producer stops
        // before the protocol hears of the loss.
        if let Some(producer) = transport.take_producer_to_stop() {
            self.run_call(CallSource::Io, conn.0, "stop_producing", || producer.stop_producing());
        }
        self.run_call(CallSource::Io, conn.0, "connection_lost", || {
            entry.protocol.borrow_mut().connection_lost(&transport, &reason)
        });
        if let Some(connector) = entry.connector {
            connector.connection_lost(self, conn, &reason);
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
        let panicked = self.run_call(CallSource::Io, conn.0, name, || match protocol.try_borrow_mut() {
            Ok(mut protocol) => f(&mut **protocol, &transport),
            Err(_) => tracing::error!(?conn, "{name} re-entered a protocol already running; dropped"),
        });
        // As in Twisted, an exception in a protocol's callback drops that
        // connection (its state can no longer be trusted); the others carry on.
        if let Some(failure) = panicked {
            tracing::warn!(?conn, peer = %transport.peer(), "dropping connection: its protocol panicked in {name}");
            if let Some(entry) = self.inner.io.borrow_mut().conns.get_mut(&conn) {
                entry.dropped_for.get_or_insert(failure);
            }
            transport.abort_connection();
        }
    }
}
