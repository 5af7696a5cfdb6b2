//! A protocol that records what a framing receiver delivers to it.

use crate::protocol::{Message, Protocol, Transport};
use crate::protocols::basic::LineMode;

/// One thing a [`MessageRecorder`] received, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// A whole message: a line, a netstring, a length-prefixed string.
    Message(Vec<u8>),
    /// The bytes taken raw after a `raw N` message, all of them in one
    /// entry however they were cut.
    Raw(Vec<u8>),
}

/// Records every message a receiver delivers, and tries its raw mode: a
/// message `raw N` (N > 0) switches a
/// [`LineReceiver`](crate::protocols::basic::LineReceiver) to raw mode for
/// the next N bytes, then back to line mode with the rest of the chunk
/// ([`set_line_mode_with`](LineMode::set_line_mode_with)). It is Twisted's
/// `LineTester` from `twisted/test/test_basic.py` (whose `len N` line does
/// the same) cut down to that one command; under receivers without a raw
/// mode it simply records.
///
/// Raw bytes arriving without a `raw N` before them are a receiver bug,
/// and the recorder panics on them.
///
/// ```
/// use twine_core::protocols::basic::LineReceiver;
/// use twine_core::testing::{feed_chunked, MessageRecorder, Received, StringTransport};
///
/// let t = StringTransport::new();
/// let mut receiver = LineReceiver::new(MessageRecorder::default());
/// t.make_connection(&mut receiver);
/// feed_chunked(&mut receiver, t.transport(), b"hi\r\nraw 4\r\na\r\nbnext\r\n", std::iter::repeat(3));
/// assert_eq!(
///     receiver.inner().received(),
///     [
///         Received::Message(b"hi".to_vec()),
///         Received::Message(b"raw 4".to_vec()),
///         Received::Raw(b"a\r\nb".to_vec()),
///         Received::Message(b"next".to_vec()),
///     ]
/// );
/// ```
#[derive(Debug, Default)]
pub struct MessageRecorder {
    received: Vec<Received>,
    raw_left: usize,
}

impl MessageRecorder {
    /// Everything received so far, in order.
    pub fn received(&self) -> &[Received] {
        &self.received
    }

    /// Everything received, taken out of the recorder.
    pub fn into_received(self) -> Vec<Received> {
        self.received
    }
}

impl Protocol for MessageRecorder {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        let bytes = message.as_bytes();
        self.received.push(Received::Message(bytes.to_vec()));
        let raw = bytes.strip_prefix(b"raw ").and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok());
        if let Some(n @ 1..) = raw {
            self.raw_left = n;
            self.received.push(Received::Raw(Vec::new()));
            transport.set_raw_mode();
        }
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let take = data.len().min(self.raw_left);
        self.raw_left -= take;
        match self.received.last_mut() {
            Some(Received::Raw(raw)) => raw.extend_from_slice(&data[..take]),
            _ => panic!("raw data outside a raw block: {data:?}"),
        }
        if self.raw_left == 0 {
            transport.set_line_mode_with(&data[take..]);
        }
    }
}
