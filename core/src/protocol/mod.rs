//! Protocols, factories and the transport a protocol sees:
//! Twisted's `twisted.internet.protocol`.
//!
//! A [`Protocol`] is a state machine over a connection. The reactor calls it
//! when the connection is made, when data or a message arrives, and when the
//! connection is lost; the protocol answers through its [`Transport`]. A
//! [`Factory`] builds one protocol per connection and holds what connections
//! share (a chat room, say).
//!
//! Byte streams and message transports (WebSocket) share one trait: a stream
//! connection delivers [`data_received`](Protocol::data_received); a message
//! connection, or a framing receiver such as
//! [`LineReceiver`](crate::protocols::basic::LineReceiver) over a stream,
//! delivers [`message_received`](Protocol::message_received). A protocol that
//! answers with [`Transport::send`] therefore runs unchanged over TCP lines and
//! WebSocket messages:
//!
//! ```
//! use twine_core::protocol::{Message, Protocol, Transport};
//!
//! /// Sends every message back: a text frame as text, a line as a line.
//! struct Echo;
//!
//! impl Protocol for Echo {
//!     fn message_received(&mut self, transport: &Transport, message: Message) {
//!         transport.send(message);
//!     }
//! }
//! ```

mod connect;
mod connection;
mod listen;
mod producer;
mod reconnecting;
pub(crate) mod transport;

use std::net::SocketAddr;

pub use connect::{Connector, ConnectorState};
pub use listen::ListeningPort;
pub use producer::{Producer, ProducerAlreadyRegistered};
pub use reconnecting::{Backoff, ReconnectingClientFactory};
pub use transport::{Encoder, Transport};

use crate::defer::Failure;
pub use crate::reactor::{ConnectionId, ConnectionKind, Message};

/// A connection's state machine: Twisted's `IProtocol`.
///
/// Every callback gets the connection's [`Transport`]; keep a clone of it to
/// write later (from a timer or a Deferred callback). The transport also
/// leads to the reactor, for timers: here an idle timeout, Twisted's
/// `TimeoutMixin`, tested on a [`MemoryReactor`](crate::testing::MemoryReactor)
/// without waiting:
///
/// ```
/// use std::time::Duration;
/// use twine_core::protocol::{factory, Message, Protocol, Transport};
/// use twine_core::protocols::basic::LineReceiver;
/// use twine_core::reactor::DelayedCall;
/// use twine_core::testing::MemoryReactor;
///
/// const IDLE: Duration = Duration::from_secs(2);
///
/// #[derive(Default)]
/// struct Shout {
///     idle: Option<DelayedCall>,
/// }
///
/// impl Protocol for Shout {
///     fn connection_made(&mut self, transport: &Transport) {
///         let Some(reactor) = transport.reactor() else { return };
///         let t = transport.clone();
///         self.idle = Some(reactor.call_later(IDLE, move |_| {
///             t.send(Message::text("bye"));
///             t.lose_connection();
///         }));
///     }
///     fn message_received(&mut self, transport: &Transport, message: Message) {
///         if let Some(idle) = &self.idle {
///             let _ = idle.reset(IDLE); // heard from: start the wait again
///         }
///         let text = message.to_str().unwrap_or("?").to_uppercase();
///         transport.send(Message::text(text));
///     }
/// }
///
/// let memory = MemoryReactor::new();
/// let port = memory.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| LineReceiver::new(Shout::default())));
/// let client = memory.accept(&port).unwrap();
/// memory.advance(Duration::from_millis(1500));
/// memory.deliver(client, b"hello\r\n");
/// memory.advance(Duration::from_millis(1500)); // 3 s in, 1.5 s idle
/// assert!(!memory.is_closed(client));
/// memory.advance(Duration::from_millis(500));
/// assert_eq!(memory.written(client), b"HELLO\r\nbye\r\n");
/// assert!(memory.is_closed(client));
/// ```
pub trait Protocol: 'static {
    /// The connection is up.
    fn connection_made(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// Bytes arrived on a stream connection (or, in raw mode, from a framing receiver).
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let _ = (transport, data);
    }

    /// A whole message arrived: a WebSocket message, or a line or string from
    /// a framing receiver. By default its bytes go to
    /// [`data_received`](Self::data_received).
    fn message_received(&mut self, transport: &Transport, message: Message) {
        self.data_received(transport, message.as_bytes());
    }

    /// The connection ended: cleanly ([`FailureKind::ConnectionDone`](crate::defer::FailureKind::ConnectionDone))
    /// or not ([`FailureKind::ConnectionLost`](crate::defer::FailureKind::ConnectionLost)).
    fn connection_lost(&mut self, transport: &Transport, reason: &Failure) {
        let _ = (transport, reason);
    }

    /// The transport's write buffer passed its high-water mark: stop writing
    /// until [`resume_producing`](Self::resume_producing). By default the
    /// protocol stops reading from the peer, which is right for any protocol
    /// that writes because it read (echo, chat, request/response).
    fn pause_producing(&mut self, transport: &Transport) {
        transport.pause_producing();
    }

    /// The write buffer drained below its low-water mark.
    fn resume_producing(&mut self, transport: &Transport) {
        transport.resume_producing();
    }
}

impl<P: Protocol + ?Sized> Protocol for Box<P> {
    fn connection_made(&mut self, transport: &Transport) {
        (**self).connection_made(transport)
    }
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        (**self).data_received(transport, data)
    }
    fn message_received(&mut self, transport: &Transport, message: Message) {
        (**self).message_received(transport, message)
    }
    fn connection_lost(&mut self, transport: &Transport, reason: &Failure) {
        (**self).connection_lost(transport, reason)
    }
    fn pause_producing(&mut self, transport: &Transport) {
        (**self).pause_producing(transport)
    }
    fn resume_producing(&mut self, transport: &Transport) {
        (**self).resume_producing(transport)
    }
}

/// Builds a protocol for each connection: Twisted's `Factory`.
///
/// The factory is where connections share state. This one greets each
/// client with its number and refuses the third:
///
/// ```
/// use std::net::SocketAddr;
/// use twine_core::protocol::{Factory, Protocol, Transport};
/// use twine_core::testing::MemoryReactor;
///
/// struct Greet(u32);
/// impl Protocol for Greet {
///     fn connection_made(&mut self, transport: &Transport) {
///         transport.write(format!("you are client {}\r\n", self.0).as_bytes());
///     }
/// }
///
/// struct Greeter { served: u32 }
/// impl Factory for Greeter {
///     fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
///         if self.served == 2 {
///             return None; // refused: the connection is closed at once
///         }
///         self.served += 1;
///         Some(Box::new(Greet(self.served)))
///     }
/// }
///
/// let memory = MemoryReactor::new();
/// let port = memory.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), Greeter { served: 0 });
/// let first = memory.accept(&port).unwrap();
/// let second = memory.accept(&port).unwrap();
/// assert_eq!(memory.written(first), b"you are client 1\r\n");
/// assert_eq!(memory.written(second), b"you are client 2\r\n");
/// assert!(memory.accept(&port).is_none());
/// ```
pub trait Factory: 'static {
    /// A protocol for a connection from (or to) `addr`, or `None` to refuse it.
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>>;

    /// Called when a listener starts using the factory.
    fn start_factory(&mut self) {}

    /// Called when that listener stops.
    fn stop_factory(&mut self) {}
}

/// A factory for outgoing connections: Twisted's `ClientFactory`.
pub trait ClientFactory: Factory {
    /// A connection attempt began.
    fn started_connecting(&mut self, connector: &Connector) {
        let _ = connector;
    }

    /// The attempt failed (refused, timed out, unreachable).
    fn client_connection_failed(&mut self, connector: &Connector, reason: &Failure) {
        let _ = (connector, reason);
    }

    /// An established connection ended.
    fn client_connection_lost(&mut self, connector: &Connector, reason: &Failure) {
        let _ = (connector, reason);
    }
}

/// A factory that builds every protocol with one closure.
///
/// ```
/// use twine_core::protocol::{factory, Factory, Protocol};
///
/// struct Quiet;
/// impl Protocol for Quiet {}
///
/// let mut f = factory(|| Quiet);
/// assert!(f.build_protocol("127.0.0.1:9".parse().unwrap()).is_some());
/// ```
pub fn factory<P: Protocol>(mut make: impl FnMut() -> P + 'static) -> FnFactory {
    FnFactory { make: Box::new(move |_| Some(Box::new(make()))) }
}

/// The factory [`factory`] returns. It also serves as a [`ClientFactory`]
/// that does nothing on connection events.
pub struct FnFactory {
    make: Box<dyn FnMut(SocketAddr) -> Option<Box<dyn Protocol>>>,
}

impl FnFactory {
    /// A factory from a closure that sees the peer address and may refuse.
    pub fn new(make: impl FnMut(SocketAddr) -> Option<Box<dyn Protocol>> + 'static) -> FnFactory {
        FnFactory { make: Box::new(make) }
    }
}

impl Factory for FnFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        (self.make)(addr)
    }
}

impl ClientFactory for FnFactory {}
