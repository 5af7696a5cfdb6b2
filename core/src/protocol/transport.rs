use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;

use super::producer::ProducerSlot;
use super::Message;
use crate::reactor::{ConnectionId, ConnectionKind, Effect, Reactor, WeakReactor};

/// Encodes one outgoing message into the write buffer: a framing receiver's
/// half of the wire format (a line and its delimiter, a netstring, ...).
///
/// It runs inside [`Transport::send`], while the reactor's write buffer is
/// borrowed: it appends to the buffer it is given and does not call back
/// into the transport.
pub type Encoder = Rc<dyn Fn(&[u8], &mut Vec<u8>)>;

/// The framing receiver wrapped around a connection's protocol, as its
/// transport sees it. The receiver owns its state (Twisted's `LineReceiver`
/// keeps its line mode on itself); the transport only keeps a link to it, so
/// that the wrapped protocol, which sees the transport and not the receiver,
/// can reach it (`protocols::basic::LineMode`), and so that resuming reading
/// can wake a receiver holding input.
pub(crate) trait ReceiverLink {
    /// Whether the receiver is running now: it takes in what was asked of it
    /// itself when its callback returns, so no wake is needed.
    fn is_running(&self) -> bool;

    /// The receiver's state, for its own module to downcast.
    fn as_any(self: Rc<Self>) -> Rc<dyn Any>;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ConnState {
    Open,
    /// `lose_connection` or `abort_connection` was called.
    Disconnecting,
    /// The driver reported the connection closed.
    Closed,
}

pub(crate) struct ConnShared {
    pub(crate) id: ConnectionId,
    pub(crate) reactor: WeakReactor,
    pub(crate) kind: ConnectionKind,
    pub(crate) peer: SocketAddr,
    pub(crate) host: Cell<SocketAddr>,
    pub(crate) state: Cell<ConnState>,
    reading_paused: Cell<bool>,
    encoder: RefCell<Option<Encoder>>,
    /// A framing receiver that buffers input: woken when reading resumes.
    receiver: RefCell<Option<Rc<dyn ReceiverLink>>>,
    wake_scheduled: Cell<bool>,
    /// The registered producer and the write buffer it watches.
    pub(crate) producer: ProducerSlot,
}

/// The connection a protocol sees: Twisted's `ITransport`. Cheap to clone;
/// clones are the same connection.
///
/// Writes are buffered in the reactor and handed to the driver after the
/// current call, so many small writes in one callback become one send.
/// After [`lose_connection`](Self::lose_connection) or
/// [`abort_connection`](Self::abort_connection), writes are dropped (except
/// while a registered [`Producer`](super::Producer) holds the close back).
///
/// ```
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// t.transport().write(b"hello ");
/// t.transport().write_sequence([&b"wor"[..], b"ld"]);
/// t.transport().lose_connection();
/// assert_eq!(t.value(), b"hello world");
/// assert!(t.disconnecting());
/// ```
#[derive(Clone)]
pub struct Transport {
    pub(crate) conn: Rc<ConnShared>,
}

impl Transport {
    pub(crate) fn new(
        id: ConnectionId,
        reactor: WeakReactor,
        kind: ConnectionKind,
        peer: SocketAddr,
        host: SocketAddr,
    ) -> Transport {
        Transport {
            conn: Rc::new(ConnShared {
                id,
                reactor,
                kind,
                peer,
                host: Cell::new(host),
                state: Cell::new(ConnState::Open),
                reading_paused: Cell::new(false),
                encoder: RefCell::new(None),
                receiver: RefCell::new(None),
                wake_scheduled: Cell::new(false),
                producer: ProducerSlot::default(),
            }),
        }
    }

    /// The connection's id, as drivers and traces know it.
    pub fn id(&self) -> ConnectionId {
        self.conn.id
    }

    /// Whether `self` and `other` are the same connection (ids are only
    /// unique within one reactor).
    pub fn same_connection(&self, other: &Transport) -> bool {
        Rc::ptr_eq(&self.conn, &other.conn)
    }

    /// Whether this is a byte stream or a message connection.
    pub fn kind(&self) -> ConnectionKind {
        self.conn.kind
    }

    /// The remote address.
    pub fn peer(&self) -> SocketAddr {
        self.conn.peer
    }

    /// The local address.
    pub fn host(&self) -> SocketAddr {
        self.conn.host.get()
    }

    /// The reactor the connection belongs to, while it exists.
    pub fn reactor(&self) -> Option<Reactor> {
        self.conn.reactor.upgrade()
    }

    /// Whether the connection is open and not closing.
    pub fn is_connected(&self) -> bool {
        self.conn.state.get() == ConnState::Open
    }

    /// Whether `lose_connection` or `abort_connection` was called, or the connection is closed.
    pub fn is_disconnecting(&self) -> bool {
        self.conn.state.get() != ConnState::Open
    }

    /// Writes bytes. On a message connection they go as one binary message.
    pub fn write(&self, data: &[u8]) {
        let Some(reactor) = self.writable() else { return };
        match self.conn.kind {
            ConnectionKind::Stream => {
                reactor.queue_write(self.conn.id, |buf| buf.extend_from_slice(data));
            }
            ConnectionKind::Message => reactor.queue_effect(Effect::Send {
                conn: self.conn.id,
                message: Message::binary(bytes::Bytes::copy_from_slice(data)),
            }),
        }
        self.wrote(data.len());
    }

    /// Writes several buffers as if concatenated: Twisted's `writeSequence`.
    pub fn write_sequence<'a>(&self, parts: impl IntoIterator<Item = &'a [u8]>) {
        let Some(reactor) = self.writable() else { return };
        let n = match self.conn.kind {
            ConnectionKind::Stream => reactor.queue_write(self.conn.id, |buf| {
                for part in parts {
                    buf.extend_from_slice(part);
                }
            }),
            ConnectionKind::Message => {
                let joined: Vec<u8> = parts.into_iter().flatten().copied().collect();
                let n = joined.len();
                reactor.queue_effect(Effect::Send { conn: self.conn.id, message: Message::binary(joined) });
                n
            }
        };
        self.wrote(n);
    }

    /// Sends one message. On a message connection it is one message of the
    /// same type; on a stream it is framed by the encoder a framing receiver
    /// installed (a line plus its delimiter, a netstring, ...), or written as
    /// it is when there is none.
    pub fn send(&self, message: impl Into<Message>) {
        let message = message.into();
        let Some(reactor) = self.writable() else { return };
        let n = match self.conn.kind {
            ConnectionKind::Message => {
                let n = message.len();
                reactor.queue_effect(Effect::Send { conn: self.conn.id, message });
                n
            }
            // The encoder is borrowed, not cloned: this is the hot path of
            // every line echo, and an encoder only appends to `buf`.
            ConnectionKind::Stream => reactor.queue_write(self.conn.id, |buf| match &*self.conn.encoder.borrow() {
                Some(encode) => encode(message.as_bytes(), buf),
                None => buf.extend_from_slice(message.as_bytes()),
            }),
        };
        self.wrote(n);
    }

    /// Closes the connection once everything written so far has been sent
    /// (and, if a producer is registered, once it is unregistered).
    pub fn lose_connection(&self) {
        self.close(false);
    }

    /// Closes the connection now, discarding unsent data.
    pub fn abort_connection(&self) {
        self.close(true);
    }

    fn close(&self, abort: bool) {
        let state = self.conn.state.get();
        if state == ConnState::Closed || (state == ConnState::Disconnecting && !abort) {
            return;
        }
        self.conn.state.set(ConnState::Disconnecting);
        // As in Twisted, a registered producer holds a clean close back
        // until it is unregistered (and may write until then).
        if !abort && self.defer_close_to_producer() {
            return;
        }
        if let Some(reactor) = self.reactor() {
            let conn = self.conn.id;
            reactor.queue_effect(if abort { Effect::Abort { conn } } else { Effect::Close { conn } });
        }
    }

    /// Stops reading from the peer until [`resume_producing`](Self::resume_producing).
    pub fn pause_producing(&self) {
        self.set_reading_paused(true);
    }

    /// Starts reading from the peer again.
    pub fn resume_producing(&self) {
        self.set_reading_paused(false);
    }

    /// Whether reading from the peer is paused.
    pub fn is_reading_paused(&self) -> bool {
        self.conn.reading_paused.get()
    }

    fn set_reading_paused(&self, paused: bool) {
        if self.conn.reading_paused.replace(paused) == paused || self.conn.state.get() == ConnState::Closed {
            return;
        }
        if let Some(reactor) = self.reactor() {
            let conn = self.conn.id;
            reactor.queue_effect(if paused { Effect::PauseReading { conn } } else { Effect::ResumeReading { conn } });
        }
        if !paused {
            self.wake_receiver();
        }
    }

    /// Installs the encoder [`send`](Self::send) uses on a stream. Framing
    /// receivers install theirs in `connection_made`.
    pub fn set_encoder(&self, encoder: Option<Encoder>) {
        *self.conn.encoder.borrow_mut() = encoder;
    }

    /// Links the framing receiver around the protocol, which holds input
    /// the protocol has not seen yet: when reading resumes (or its wrapped
    /// protocol hands it bytes) outside its own callbacks, an empty chunk is
    /// redelivered so it can go on, as Twisted's `resumeProducing` calls
    /// `dataReceived(b'')`.
    pub(crate) fn set_receiver(&self, receiver: Rc<dyn ReceiverLink>) {
        *self.conn.receiver.borrow_mut() = Some(receiver);
    }

    /// The linked receiver's state, if it is a `T`.
    pub(crate) fn receiver<T: 'static>(&self) -> Option<Rc<T>> {
        let receiver = self.conn.receiver.borrow().clone()?;
        receiver.as_any().downcast().ok()
    }

    /// Schedules an empty chunk for the linked receiver, unless it is
    /// running (it looks itself) or a wake is pending already.
    pub(crate) fn wake_receiver(&self) {
        let conn = &self.conn;
        let idle = conn.receiver.borrow().as_ref().is_some_and(|receiver| !receiver.is_running());
        if !idle || conn.state.get() != ConnState::Open || conn.wake_scheduled.get() {
            return;
        }
        let Some(reactor) = self.reactor() else { return };
        self.conn.wake_scheduled.set(true);
        let conn = self.conn.id;
        reactor.call_soon(move |reactor| {
            if let Some(transport) = reactor.transport(conn) {
                transport.conn.wake_scheduled.set(false);
                reactor.handle_data(reactor.seconds(), conn, &[]);
            }
        });
    }

    fn writable(&self) -> Option<Reactor> {
        match self.conn.state.get() {
            ConnState::Open => {}
            ConnState::Disconnecting if self.producer_holds_close() => {}
            _ => return None,
        }
        self.reactor()
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("id", &self.conn.id)
            .field("kind", &self.conn.kind)
            .field("peer", &self.conn.peer)
            .field("state", &self.conn.state.get())
            .finish()
    }
}
