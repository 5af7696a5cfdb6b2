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
    raw_mode: Cell<bool>,
    /// Bytes handed back with `set_line_mode_with`, for the framing receiver to cut first.
    line_extra: RefCell<Vec<u8>>,
    clear_line_buffer: Cell<bool>,
    /// Either of the two above is pending: one flag for receivers to test per line.
    receiver_requests: Cell<bool>,
    /// A framing receiver buffers input here: wake it when reading resumes.
    buffers_input: Cell<bool>,
    /// The receiver is running (it takes in requests itself when its callback returns).
    receiver_busy: Cell<bool>,
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
                raw_mode: Cell::new(false),
                line_extra: RefCell::new(Vec::new()),
                clear_line_buffer: Cell::new(false),
                receiver_requests: Cell::new(false),
                buffers_input: Cell::new(false),
                receiver_busy: Cell::new(false),
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

    /// Asks a line-mode framing receiver to hand the rest of the stream over
    /// raw, to [`Protocol::data_received`](super::Protocol::data_received):
    /// Twisted's `setRawMode`.
    pub fn set_raw_mode(&self) {
        self.conn.raw_mode.set(true);
    }

    /// Asks the framing receiver to go back to cutting lines: Twisted's `setLineMode`.
    pub fn set_line_mode(&self) {
        self.conn.raw_mode.set(false);
    }

    /// Whether raw mode was asked for.
    pub fn is_raw_mode(&self) -> bool {
        self.conn.raw_mode.get()
    }

    /// Goes back to line mode and hands `extra` back to the framing receiver,
    /// which cuts it into lines before anything that arrives later:
    /// Twisted's `setLineMode(extra)`. Call it from raw
    /// [`data_received`](super::Protocol::data_received) with the part of the
    /// chunk that belongs to the next lines.
    ///
    /// ```
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// t.transport().set_raw_mode();
    /// t.transport().set_line_mode_with(b"next line\r\n");
    /// assert!(!t.transport().is_raw_mode());
    /// ```
    pub fn set_line_mode_with(&self, extra: &[u8]) {
        self.conn.raw_mode.set(false);
        if !extra.is_empty() {
            self.conn.line_extra.borrow_mut().extend_from_slice(extra);
            self.conn.receiver_requests.set(true);
            self.wake_receiver();
        }
    }

    /// Asks the framing receiver to discard what it has buffered and not yet
    /// delivered: Twisted's `clearLineBuffer`. Called from `message_received`,
    /// it drops the rest of the current chunk; called from elsewhere, what is
    /// buffered when the next data arrives. To get those bytes instead of
    /// dropping them, switch to raw mode: they arrive in `data_received`.
    pub fn clear_line_buffer(&self) {
        self.conn.clear_line_buffer.set(true);
        self.conn.receiver_requests.set(true);
    }

    /// Whether `set_line_mode_with` or `clear_line_buffer` left something for
    /// the receiver; reading it clears it, so take what it says next.
    #[inline]
    pub(crate) fn has_receiver_requests(&self) -> bool {
        self.conn.receiver_requests.replace(false)
    }

    pub(crate) fn take_line_mode_extra(&self) -> Option<Vec<u8>> {
        let mut extra = self.conn.line_extra.borrow_mut();
        (!extra.is_empty()).then(|| std::mem::take(&mut *extra))
    }

    pub(crate) fn take_clear_line_buffer(&self) -> bool {
        self.conn.clear_line_buffer.replace(false)
    }

    /// A framing receiver holds input the protocol has not seen yet: when
    /// reading resumes (or line mode gets extra bytes) outside its own
    /// callbacks, redeliver an empty chunk so it can go on, as Twisted's
    /// `resumeProducing` calls `dataReceived(b'')`.
    pub(crate) fn set_buffers_input(&self) {
        self.conn.buffers_input.set(true);
    }

    /// Marks the framing receiver as running (or not): while it runs it
    /// looks at what was asked itself, so no wake is needed.
    pub(crate) fn set_receiver_busy(&self, busy: bool) -> bool {
        self.conn.receiver_busy.replace(busy)
    }

    fn wake_receiver(&self) {
        let conn = &self.conn;
        if !conn.buffers_input.get()
            || conn.receiver_busy.get()
            || conn.state.get() != ConnState::Open
            || conn.wake_scheduled.get()
        {
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
