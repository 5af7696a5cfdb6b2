//! Test doubles for protocols and reactor code: Twisted's `twisted.internet.testing`.

use std::cell::RefCell;
use std::net::SocketAddr;

use crate::protocol::{ConnectionKind, Protocol, Transport};
use crate::reactor::{Effect, Reactor};
use crate::time::Time;

struct Null;
impl Protocol for Null {}

#[derive(Default)]
struct Recorded {
    written: Vec<u8>,
    messages: Vec<crate::protocol::Message>,
    closed: bool,
    aborted: bool,
    reading_paused: bool,
}

/// A transport that records what a protocol does to it: Twisted's `StringTransport`.
///
/// ```
/// use twine_core::protocol::Protocol;
/// use twine_core::protocols::Echo;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = Echo;
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"hi");
/// assert_eq!(t.value(), b"hi");
/// ```
pub struct StringTransport {
    reactor: Reactor,
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
        StringTransport::with_kind(ConnectionKind::Stream)
    }

    /// A message transport (as a WebSocket is).
    pub fn new_message() -> StringTransport {
        StringTransport::with_kind(ConnectionKind::Message)
    }

    fn with_kind(kind: ConnectionKind) -> StringTransport {
        let reactor = Reactor::new();
        let peer: SocketAddr = "10.0.0.2:4321".parse().expect("valid address");
        let host: SocketAddr = "10.0.0.1:1234".parse().expect("valid address");
        let id = reactor.open_connection(Time::ZERO, Box::new(Null), kind, peer, host);
        let transport = reactor.transport(id).expect("connection just opened");
        StringTransport { reactor, transport, recorded: RefCell::default() }
    }

    /// The transport to hand to the protocol under test.
    pub fn transport(&self) -> &Transport {
        &self.transport
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

    /// Everything written so far.
    pub fn value(&self) -> Vec<u8> {
        self.drain();
        self.recorded.borrow().written.clone()
    }

    /// Takes everything written so far, leaving the record empty.
    pub fn take(&self) -> Vec<u8> {
        self.drain();
        std::mem::take(&mut self.recorded.borrow_mut().written)
    }

    /// Messages sent on a message transport.
    pub fn messages(&self) -> Vec<crate::protocol::Message> {
        self.drain();
        self.recorded.borrow().messages.clone()
    }

    /// Whether `lose_connection` or `abort_connection` was called.
    pub fn disconnecting(&self) -> bool {
        self.drain();
        let rec = self.recorded.borrow();
        rec.closed || rec.aborted
    }

    /// Whether `abort_connection` was called.
    pub fn aborted(&self) -> bool {
        self.drain();
        self.recorded.borrow().aborted
    }

    /// Whether the protocol paused reading.
    pub fn reading_paused(&self) -> bool {
        self.drain();
        self.recorded.borrow().reading_paused
    }
}
