//! One connection that records what a protocol does to it.

use std::cell::RefCell;
use std::net::SocketAddr;

use crate::defer::Failure;
use crate::protocol::{ConnectionKind, Message, Protocol, Transport};
use crate::reactor::{Effect, Reactor, ReactorDriver};
use crate::time::Time;

/// Stands in for the driver's side of the connection.
struct Null;
impl Protocol for Null {}

#[derive(Default)]
struct Recorded {
    written: Vec<u8>,
    messages: Vec<Message>,
    closed: bool,
    aborted: bool,
    reading_paused: bool,
}

/// A transport that records what a protocol does to it: Twisted's
/// `StringTransport`.
///
/// It is a real [`Transport`] on a private reactor that nothing drives: the
/// test calls the protocol's methods itself, then looks at what was written
/// ([`value`](Self::value)), sent as messages ([`messages`](Self::messages)),
/// whether the protocol closed ([`disconnecting`](Self::disconnecting),
/// [`aborted`](Self::aborted)) or paused reading
/// ([`reading_paused`](Self::reading_paused)). Timers and `call_soon` never
/// run here; use a [`MemoryReactor`](super::MemoryReactor) for protocols that
/// need time.
///
/// ```
/// use twine_core::defer::{Failure, FailureKind};
/// use twine_core::protocol::Protocol;
/// use twine_core::protocols::{Echo, LineEcho};
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = LineEcho::new(Echo);
/// t.make_connection(&mut echo);
/// echo.data_received(t.transport(), b"hi\r\n");
/// assert_eq!(t.take(), b"hi\r\n");
/// assert!(t.value().is_empty());
/// t.connection_lost(&mut echo, Failure::new(FailureKind::ConnectionDone, "bye"));
/// assert!(!t.transport().is_connected());
/// ```
pub struct StringTransport {
    reactor: ReactorDriver,
    transport: Transport,
    recorded: RefCell<Recorded>,
}

impl Default for StringTransport {
    fn default() -> Self {
        StringTransport::new()
    }
}

impl StringTransport {
    /// A byte-stream transport between 10.0.0.2:4321 (peer) and 10.0.0.1:1234 (host).
    pub fn new() -> StringTransport {
        StringTransport::with_addresses(ConnectionKind::Stream, default_peer(), default_host())
    }

    /// A message transport (as a WebSocket is), with the same addresses.
    ///
    /// ```
    /// use twine_core::protocol::{Message, Protocol};
    /// use twine_core::protocols::Echo;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new_message();
    /// Echo.message_received(t.transport(), Message::text("hi"));
    /// assert_eq!(t.messages(), [Message::text("hi")]);
    /// ```
    pub fn new_message() -> StringTransport {
        StringTransport::with_addresses(ConnectionKind::Message, default_peer(), default_host())
    }

    /// A transport of `kind` between `peer` and `host`.
    ///
    /// ```
    /// use twine_core::protocol::ConnectionKind;
    /// use twine_core::testing::StringTransport;
    ///
    /// let peer = "192.0.2.7:5555".parse().unwrap();
    /// let host = "192.0.2.1:80".parse().unwrap();
    /// let t = StringTransport::with_addresses(ConnectionKind::Stream, peer, host);
    /// assert_eq!(t.transport().peer(), peer);
    /// assert_eq!(t.transport().host(), host);
    /// ```
    pub fn with_addresses(kind: ConnectionKind, peer: SocketAddr, host: SocketAddr) -> StringTransport {
        let reactor = ReactorDriver::new();
        let id = reactor.open_connection(Time::ZERO, Box::new(Null), kind, peer, host);
        let transport = reactor.transport(id).expect("connection just opened");
        StringTransport { reactor, transport, recorded: RefCell::default() }
    }

    /// The transport to hand to the protocol under test.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The private reactor behind the transport: attach a trace sink to it
    /// to see what a protocol traces (`MessageReceived`, `InputRejected`).
    ///
    /// ```
    /// use twine_core::protocol::Protocol;
    /// use twine_core::protocols::{Echo, LineEcho};
    /// use twine_core::testing::StringTransport;
    /// use twine_core::trace::{Recorder, TraceEvent};
    ///
    /// let t = StringTransport::new();
    /// let recorder = Recorder::new();
    /// t.reactor().set_trace_sink(recorder.clone());
    /// let mut echo = LineEcho::new(Echo);
    /// t.make_connection(&mut echo);
    /// echo.data_received(t.transport(), b"abc\r\n");
    /// assert!(recorder.events().iter().any(|r| r.event == TraceEvent::MessageReceived { conn: 1, len: 3 }));
    /// ```
    pub fn reactor(&self) -> &Reactor {
        self.reactor.reactor()
    }

    /// The driver face of that reactor, to feed it what a real driver would
    /// (see [`ReactorDriver::handle_write_drained`] for an example).
    pub fn driver(&self) -> &ReactorDriver {
        &self.reactor
    }

    /// Calls the protocol's `connection_made` with this transport (Twisted's `makeConnection`).
    pub fn make_connection<P: Protocol + ?Sized>(&self, protocol: &mut P) {
        protocol.connection_made(&self.transport);
    }

    /// Ends the connection as a driver would: the transport is closed, then
    /// the protocol's `connection_lost` runs with `reason`.
    pub fn connection_lost<P: Protocol + ?Sized>(&self, protocol: &mut P, reason: Failure) {
        self.reactor.handle_closed(self.reactor.seconds(), self.transport.id(), reason.clone());
        self.drain();
        protocol.connection_lost(&self.transport, &reason);
    }

    fn drain(&self) {
        let mut rec = self.recorded.borrow_mut();
        while let Some(effect) = self.reactor.poll_effect() {
            match effect {
                Effect::Write { data, .. } => rec.written.extend_from_slice(&data),
                Effect::Send { message, .. } => rec.messages.push(message),
                Effect::Close { .. } => rec.closed = true,
                Effect::Abort { .. } => rec.aborted = true,
                Effect::PauseReading { .. } => rec.reading_paused = true,
                Effect::ResumeReading { .. } => rec.reading_paused = false,
                _ => {}
            }
        }
    }

    /// Everything written so far (Twisted's `value()`).
    pub fn value(&self) -> Vec<u8> {
        self.drain();
        self.recorded.borrow().written.clone()
    }

    /// Takes everything written so far, leaving the record empty.
    pub fn take(&self) -> Vec<u8> {
        self.drain();
        std::mem::take(&mut self.recorded.borrow_mut().written)
    }

    /// Forgets what was written and sent (Twisted's `clear()`).
    pub fn clear(&self) {
        self.drain();
        let mut rec = self.recorded.borrow_mut();
        rec.written.clear();
        rec.messages.clear();
    }

    /// Messages sent on a message transport.
    pub fn messages(&self) -> Vec<Message> {
        self.drain();
        self.recorded.borrow().messages.clone()
    }

    /// Takes the messages sent so far, leaving the record empty.
    pub fn take_messages(&self) -> Vec<Message> {
        self.drain();
        std::mem::take(&mut self.recorded.borrow_mut().messages)
    }

    /// Whether `lose_connection` or `abort_connection` was called: true at
    /// once, as Twisted's `disconnecting`, even while a registered producer
    /// holds the close itself back.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use twine_core::protocol::Producer;
    /// use twine_core::testing::StringTransport;
    ///
    /// struct Quiet;
    /// impl Producer for Quiet {
    ///     fn resume_producing(&self) {}
    ///     fn stop_producing(&self) {}
    /// }
    ///
    /// let t = StringTransport::new();
    /// t.transport().register_producer(Rc::new(Quiet), false).unwrap();
    /// t.transport().lose_connection();
    /// assert!(t.disconnecting());
    /// ```
    pub fn disconnecting(&self) -> bool {
        self.drain();
        let rec = self.recorded.borrow();
        rec.closed || rec.aborted || self.transport.producer_holds_close()
    }

    /// Whether `abort_connection` was called.
    pub fn aborted(&self) -> bool {
        self.drain();
        self.recorded.borrow().aborted
    }

    /// Reports that everything written has been sent, as a driver does
    /// when the socket's send buffer empties (Twisted's `doWrite` emptying
    /// the buffer): a registered pull producer is asked for more, a paused
    /// streaming one resumed. What was written stays in [`value`](Self::value).
    pub fn write_drained(&self) {
        self.drain();
        self.reactor.handle_write_drained(self.reactor.seconds(), self.transport.id());
        self.drain();
    }

    /// Reports the driver's write buffer crossing a water mark.
    pub fn write_buffer(&self, mark: crate::reactor::WaterMark) {
        self.drain();
        self.reactor.handle_write_buffer(self.reactor.seconds(), self.transport.id(), mark);
        self.drain();
    }

    /// Whether the protocol paused reading (Twisted's `producerState == 'paused'`).
    pub fn reading_paused(&self) -> bool {
        self.drain();
        self.recorded.borrow().reading_paused
    }
}

fn default_peer() -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 2], 4321))
}

fn default_host() -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], 1234))
}
