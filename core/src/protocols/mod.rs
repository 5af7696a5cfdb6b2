//! Ready-made protocols, and Twisted's framing receivers in [`basic`].

pub mod basic;

use crate::protocol::{Message, Protocol, Transport};

/// Sends back whatever arrives: bytes as bytes, a message as the same kind of
/// message. Over a [`LineReceiver`](basic::LineReceiver) it echoes lines.
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
