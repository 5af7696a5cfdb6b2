//! Echo, over bytes, lines and messages.

use crate::protocol::{Message, Protocol, Transport};

use super::basic::LineReceiver;

/// Sends back whatever arrives: bytes as bytes, a message as the same kind of
/// message. Over a [`LineReceiver`] it echoes lines (see [`LineEcho`]).
///
/// ```
/// use twine_core::protocol::Protocol;
/// use twine_core::protocols::Echo;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// Echo.data_received(t.transport(), b"ping");
/// assert_eq!(t.value(), b"ping");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Echo;

impl Protocol for Echo {
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        transport.write(data);
    }

    fn message_received(&mut self, transport: &Transport, message: Message) {
        transport.send(message);
    }
}

/// Twisted's classic line echo server, `class Echo(LineReceiver)` whose
/// `lineReceived` calls `sendLine`: [`Echo`] inside a [`LineReceiver`].
///
/// ```
/// use twine_core::protocol::{factory, Protocol};
/// use twine_core::protocols::{Echo, LineEcho};
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = LineEcho::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"hello\r\nwor");
/// echo.data_received(t.transport(), b"ld\r\n");
/// assert_eq!(t.value(), b"hello\r\nworld\r\n");
///
/// // What a server listens with:
/// let _factory = factory(|| LineEcho::new(Echo));
/// ```
pub type LineEcho = LineReceiver<Echo>;
