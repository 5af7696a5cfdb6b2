//! Connections as the reactor sees them: ids, what it asks of the driver
//! ([`Effect`], write buffers), and what the driver tells it (`handle_*`),
//! handed to what the layer above hosts on the connection, listener or
//! connect attempt (`Hosted`, `ListenerHost`, `ConnectHost`: protocols,
//! factories and connectors live in [`protocol`](crate::protocol)).
//!
//! Every connection the reactor knows about gets exactly one
//! [`handle_closed`](super::ReactorDriver::handle_closed) from the driver, whoever closed it.

mod message;

pub use message::Message;

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::{IdMap, Reactor};
use crate::defer::{Failure, FailureKind};
use crate::time::Time;
use crate::trace::TraceEvent;

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
    /// Report (`on`), or stop reporting, each time everything written on
    /// the connection has been sent, with
    /// [`ReactorDriver::handle_write_drained`](super::ReactorDriver::handle_write_drained).
    /// Asked while a producer is registered on it, the only one who listens:
    /// a driver may skip every other drain report.
    ReportDrained { conn: ConnectionId, on: bool },
}

/// What the reactor hosts on a connection, seen from below: something the
/// driver's reports are handed to. The protocol layer implements it (a
/// protocol and its transport), so the reactor needs no notion of
/// protocols, as Twisted's `tcp.py` sits above its reactor core.
pub(crate) trait Hosted {
    /// The driver reported `event` on this connection. Runs outside any
    /// borrow of the reactor: it may call back into it.
    fn handle(&self, reactor: &Reactor, conn: ConnectionId, event: IoEvent<'_>);

    /// The protocol layer's state, for it to downcast.
    fn as_any(self: Rc<Self>) -> Rc<dyn Any>;
}

/// What the driver reports on a connection, handed to its [`Hosted`].
pub(crate) enum IoEvent<'a> {
    /// The connection is up and hosted.
    Made,
    /// Bytes arrived on a stream.
    Data(&'a [u8]),
    /// A whole message arrived.
    Message(Message),
    /// The write buffer crossed a water mark.
    WriteBuffer(WaterMark),
    /// Everything written has been sent.
    WriteDrained,
    /// The connection is closed (already forgotten by the reactor).
    Closed(Failure),
}

/// A listener, seen from below: the driver's answers are handed to it.
pub(crate) trait ListenerHost {
    /// The driver bound the listener, or failed to.
    fn listening(&self, reactor: &Reactor, result: Result<SocketAddr, Failure>);

    /// A connection was accepted: host it and return its id, or refuse it.
    fn accept(&self, reactor: &Reactor, peer: SocketAddr, local: SocketAddr) -> Option<ConnectionId>;

    /// The reactor closed the listener as it shut down (Twisted's
    /// `Port.connectionLost`): it is already forgotten.
    fn lost(&self, reactor: &Reactor);
}

/// An outgoing connection attempt, seen from below.
pub(crate) trait ConnectHost {
    /// The connection `conn` is up: host it, or refuse it (the reactor then aborts it).
    fn connected(&self, reactor: &Reactor, conn: ConnectionId, local: SocketAddr) -> bool;

    /// The attempt failed.
    fn failed(&self, reactor: &Reactor, conn: ConnectionId, reason: Failure);
}

/// What Twisted's `main.CONNECTION_LOST` says.
const CONNECTION_LOST: &str = "Connection to the other side was lost in a non-clean fashion: Connection lost.";

/// Keep at most this many spare write buffers, each at most this big.
const SPARE_BUFFERS: usize = 64;
const SPARE_BUFFER_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
pub(crate) struct IoState {
    effects: VecDeque<Effect>,
    conns: IdMap<ConnectionId, Rc<dyn Hosted>>,
    listeners: IdMap<ListenerId, Rc<dyn ListenerHost>>,
    connecting: IdMap<ConnectionId, Rc<dyn ConnectHost>>,
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
    // Connections, listeners and connect attempts the layer above hosts
    // ------------------------------------------------------------------

    /// A fresh id for a connection or a listener.
    pub(crate) fn next_io_id(&self) -> u64 {
        self.inner.io.borrow_mut().next_id()
    }

    /// Hosts `hosted` on the connection `id` and tells it the connection is made.
    pub(crate) fn host(&self, id: ConnectionId, peer: SocketAddr, hosted: Rc<dyn Hosted>) {
        self.inner.io.borrow_mut().conns.insert(id, hosted.clone());
        self.emit(|| TraceEvent::ConnectionMade { conn: id.0, peer: peer.to_string() });
        hosted.handle(self, id, IoEvent::Made);
    }

    /// What is hosted on an open connection.
    pub(crate) fn hosted(&self, conn: ConnectionId) -> Option<Rc<dyn Hosted>> {
        self.inner.io.borrow().conns.get(&conn).cloned()
    }

    /// Asks the driver to listen on `addr`; its answers go to `host`.
    pub(crate) fn add_listener(&self, id: ListenerId, addr: SocketAddr, host: Rc<dyn ListenerHost>) {
        let mut io = self.inner.io.borrow_mut();
        io.listeners.insert(id, host);
        io.effects.push_back(Effect::Listen { listener: id, addr });
    }

    /// Forgets a listener; `close` also asks the driver to close its socket.
    pub(crate) fn remove_listener(&self, id: ListenerId, close: bool) {
        let mut io = self.inner.io.borrow_mut();
        io.listeners.remove(&id);
        if close {
            io.effects.push_back(Effect::StopListening { listener: id });
        }
    }

    /// Asks the driver to connect to `addr`; its answer goes to `host`.
    pub(crate) fn add_connect(&self, addr: SocketAddr, timeout: Duration, host: Rc<dyn ConnectHost>) -> ConnectionId {
        let mut io = self.inner.io.borrow_mut();
        let conn = ConnectionId(io.next_id());
        io.connecting.insert(conn, host);
        io.effects.push_back(Effect::Connect { conn, addr, timeout });
        conn
    }

    // ------------------------------------------------------------------
    // Connection events
    // ------------------------------------------------------------------

    /// Driver face: `ReactorDriver::handle_data` documents it.
    pub(crate) fn handle_data(&self, now: Time, conn: ConnectionId, data: &[u8]) {
        self.set_now(now);
        self.count_bytes(true, data.len());
        self.emit(|| TraceEvent::BytesIn { conn: conn.0, n: data.len() as u64 });
        self.chain_calls_from(now);
        self.deliver(conn, IoEvent::Data(data));
    }

    /// Driver face: `ReactorDriver::handle_message` documents it.
    pub(crate) fn handle_message(&self, now: Time, conn: ConnectionId, message: Message) {
        self.set_now(now);
        self.count_bytes(true, message.len());
        self.emit(|| TraceEvent::MessageReceived { conn: conn.0, len: message.len() as u64 });
        self.chain_calls_from(now);
        self.deliver(conn, IoEvent::Message(message));
    }

    /// The protocol call a read starts is timed from the later of `now`
    /// (the driver's clock reading after it polled) and the end of the
    /// call before it, as the calls of a turn are (`run_call`): one clock
    /// read per call, not two. What the driver did in between (reading the
    /// socket, parsing frames) counts towards the call, a few microseconds
    /// against a slow-call threshold of milliseconds. While tracing, a
    /// call's duration is its own: both ends are read.
    fn chain_calls_from(&self, now: Time) {
        let inner = &self.inner;
        if inner.tracing.get() || inner.call_depth.get() > 0 {
            return;
        }
        let start = inner.chained_start.get().map_or(now, |end| end.max(now));
        inner.chained_start.set(Some(start));
        inner.chaining.set(true);
    }

    /// Driver face: `ReactorDriver::handle_write_buffer` documents it.
    pub(crate) fn handle_write_buffer(&self, now: Time, conn: ConnectionId, mark: WaterMark) {
        self.set_now(now);
        self.deliver(conn, IoEvent::WriteBuffer(mark));
    }

    /// Driver face: `ReactorDriver::handle_write_drained` documents it.
    pub(crate) fn handle_write_drained(&self, now: Time, conn: ConnectionId) {
        self.set_now(now);
        self.deliver(conn, IoEvent::WriteDrained);
    }

    /// Driver face: `ReactorDriver::handle_closed` documents it.
    pub(crate) fn handle_closed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.set_now(now);
        let Some(hosted) = self.inner.io.borrow_mut().conns.remove(&conn) else { return };
        hosted.handle(self, conn, IoEvent::Closed(reason));
    }

    /// Driver face: `ReactorDriver::handle_listening` documents it.
    pub(crate) fn handle_listening(&self, now: Time, listener: ListenerId, result: Result<SocketAddr, Failure>) {
        self.set_now(now);
        let Some(host) = self.inner.io.borrow().listeners.get(&listener).cloned() else { return };
        host.listening(self, result);
    }

    /// Driver face: `ReactorDriver::handle_accept` documents it.
    pub(crate) fn handle_accept(
        &self,
        now: Time,
        listener: ListenerId,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Option<ConnectionId> {
        self.set_now(now);
        let host = self.inner.io.borrow().listeners.get(&listener).cloned()?;
        host.accept(self, peer, local)
    }

    /// Driver face: `ReactorDriver::handle_connected` documents it.
    pub(crate) fn handle_connected(&self, now: Time, conn: ConnectionId, local: SocketAddr) {
        self.set_now(now);
        let Some(host) = self.inner.io.borrow_mut().connecting.remove(&conn) else { return };
        if !host.connected(self, conn, local) {
            self.queue_effect(Effect::Abort { conn });
        }
    }

    /// Driver face: `ReactorDriver::handle_connect_failed` documents it.
    pub(crate) fn handle_connect_failed(&self, now: Time, conn: ConnectionId, reason: Failure) {
        self.set_now(now);
        let Some(host) = self.inner.io.borrow_mut().connecting.remove(&conn) else { return };
        host.failed(self, conn, reason);
    }

    /// Closes every connection, listener and connection attempt, as
    /// Twisted's `disconnectAll` does while the reactor shuts down: the
    /// driver is asked to close each socket now, and what is hosted on it
    /// hears at once that it was lost (a protocol's `connection_lost` with
    /// `ConnectionLost`, a client factory's `client_connection_lost` or
    /// `client_connection_failed`, a listener's factory its
    /// `stop_factory`). Twisted goes through a set, in no set order;
    /// here connections go first, oldest first, then attempts, then
    /// listeners, so a factory stops after its protocols are gone.
    pub(crate) fn disconnect_all(&self) {
        let (conns, connecting, listeners) = {
            let mut io = self.inner.io.borrow_mut();
            let io = &mut *io;
            // Oldest first: the ids, sorted (one sort of plain numbers for
            // all three maps: each sort of another type is more code in
            // the browser's module), then each map emptied in that order.
            let in_order = |ids: Vec<u64>| {
                let mut ids = ids;
                ids.sort();
                ids
            };
            let conns: Vec<_> = in_order(io.conns.keys().map(|c| c.0).collect())
                .into_iter()
                .filter_map(|id| io.conns.remove(&ConnectionId(id)).map(|h| (ConnectionId(id), h)))
                .collect();
            let connecting: Vec<_> = in_order(io.connecting.keys().map(|c| c.0).collect())
                .into_iter()
                .filter_map(|id| io.connecting.remove(&ConnectionId(id)).map(|h| (ConnectionId(id), h)))
                .collect();
            let listeners: Vec<_> = in_order(io.listeners.keys().map(|l| l.0).collect())
                .into_iter()
                .filter_map(|id| io.listeners.remove(&ListenerId(id)).map(|h| (ListenerId(id), h)))
                .collect();
            let ids = conns.iter().map(|(id, _)| *id).chain(connecting.iter().map(|(id, _)| *id));
            io.effects.extend(ids.map(|conn| Effect::Abort { conn }));
            for (listener, _) in &listeners {
                io.effects.push_back(Effect::StopListening { listener: *listener });
            }
            (conns, connecting, listeners)
        };
        let lost = || Failure::new(FailureKind::ConnectionLost, CONNECTION_LOST);
        for (conn, hosted) in conns {
            hosted.handle(self, conn, IoEvent::Closed(lost()));
        }
        for (conn, host) in connecting {
            host.failed(self, conn, lost());
        }
        for (_, host) in listeners {
            host.lost(self);
        }
    }

    /// Ids of the open connections.
    pub fn connections(&self) -> Vec<ConnectionId> {
        let mut ids: Vec<_> = self.inner.io.borrow().conns.keys().copied().collect();
        ids.sort();
        ids
    }

    fn deliver(&self, conn: ConnectionId, event: IoEvent<'_>) {
        if let Some(hosted) = self.hosted(conn) {
            hosted.handle(self, conn, event);
        }
    }
}
