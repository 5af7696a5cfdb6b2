//! Framing receivers: Twisted's `twisted.protocols.basic`.
//!
//! A framing receiver cuts a byte stream into messages and hands each one to
//! an application protocol. In Twisted you subclass `LineReceiver` and
//! override `lineReceived`; in twine the receiver is an adapter that wraps
//! any [`Protocol`](crate::protocol::Protocol) and calls its
//! [`message_received`](crate::protocol::Protocol::message_received) once per
//! line or string. Replies go through [`Transport::send`], which frames them
//! with the encoder the receiver installed (`sendLine`, `sendString`). So the
//! same application protocol runs over TCP lines and over WebSocket messages:
//!
//! ```
//! use twine_core::protocol::{Message, Protocol, Transport};
//! use twine_core::protocols::basic::LineReceiver;
//! use twine_core::testing::StringTransport;
//!
//! struct Shout;
//! impl Protocol for Shout {
//!     fn message_received(&mut self, transport: &Transport, line: Message) {
//!         transport.send(line.as_bytes().to_ascii_uppercase());
//!     }
//! }
//!
//! let t = StringTransport::new();
//! let mut shout = LineReceiver::new(Shout);
//! shout.connection_made(t.transport());
//! shout.data_received(t.transport(), b"hello\r\nwor");
//! shout.data_received(t.transport(), b"ld\r\n");
//! assert_eq!(t.value(), b"HELLO\r\nWORLD\r\n");
//! ```
//!
//! | receiver | wire format | Twisted |
//! |---|---|---|
//! | [`LineReceiver`] | `line\r\n`, with a raw mode | `LineReceiver` |
//! | [`LineOnlyReceiver`] | `line\r\n` | `LineOnlyReceiver` |
//! | [`NetstringReceiver`] | `5:hello,` | `NetstringReceiver` |
//! | [`Int8StringReceiver`], [`Int16StringReceiver`], [`Int32StringReceiver`] | big-endian length, then the bytes | `Int{8,16,32}StringReceiver` |
//!
//! # Limits and bad input
//!
//! Every receiver has a `max_length`. Input over it (or a malformed
//! netstring) is refused: by default the receiver drops the connection with
//! [`Transport::lose_connection`], as Twisted does, and reports why in three
//! places: a `tracing` warning naming the connection, a
//! [`TraceEvent::InputRejected`] in
//! the reactor's trace, and the receiver's own `error()` accessor returning a
//! [`FramingError`]. [`LineReceiver`] and the length-prefixed receivers take a
//! handler instead of the default (Twisted's overridable
//! `lineLengthExceeded` and `lengthLimitExceeded`).
//!
//! # Flow control and the transport
//!
//! Once the transport is disconnecting, receivers deliver nothing more from
//! what they buffered. While reading is paused
//! ([`Transport::pause_producing`], or the reactor pausing the protocol at the
//! write buffer's high-water mark), [`LineReceiver`], [`NetstringReceiver`]
//! and the length-prefixed receivers hold what they have and deliver it when
//! reading resumes, as Twisted's pauseable receivers do. The receivers own
//! their state, as Twisted's do; raw mode, line mode with extra bytes and
//! clearing the line buffer are asked of [`LineReceiver`] through the
//! [`LineMode`] methods on the transport ([`LineMode::set_raw_mode`],
//! [`LineMode::set_line_mode_with`], [`LineMode::clear_line_buffer`]),
//! because the application protocol sees the transport, not the receiver
//! wrapped around it.
//!
//! A receiver on a message connection (a WebSocket) passes whole messages
//! straight to the protocol it wraps: they are framed already.
//!
//! # Speed
//!
//! A chunk is copied once into the receiver's buffer; every line or string is
//! then cut out of it without copying (a reference-counted
//! [`bytes::Bytes`] view inside the [`Message`](crate::protocol::Message)),
//! and the buffer's allocation is reused once those views are dropped. A
//! partial line is never scanned twice for its delimiter.

mod line;
mod line_buffer;
mod line_only;
mod netstring;
mod prefixed;
mod search;
mod state;

use std::fmt;

pub use line::LineReceiver;
pub use line_buffer::{DEFAULT_DELIMITER, DEFAULT_MAX_LENGTH};
pub use line_only::LineOnlyReceiver;
pub use netstring::{NetstringReceiver, NETSTRING_MAX_LENGTH};
pub use prefixed::{
    Int16StringReceiver, Int32StringReceiver, Int8StringReceiver, IntNStringReceiver, LengthPrefix, Prefix16, Prefix32,
    Prefix8, PREFIXED_MAX_LENGTH,
};
pub use state::LineMode;

use crate::protocol::Transport;
use crate::reactor::Reactor;
use crate::trace::TraceEvent;

/// Why a framing receiver refused a connection's input.
///
/// ```
/// use twine_core::protocols::basic::FramingError;
///
/// let e = FramingError::LineTooLong { length: 20_000, max_length: 16_384 };
/// assert_eq!(e.to_string(), "line of 20000 bytes exceeds max_length 16384");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// A line longer than `max_length`, or that many bytes buffered with no
    /// delimiter in sight. `length` is what was seen: the whole line when its
    /// delimiter arrived, otherwise the bytes buffered so far.
    LineTooLong {
        /// Bytes in the line (or buffered without a delimiter).
        length: usize,
        /// The receiver's limit.
        max_length: usize,
    },
    /// A length prefix (or netstring length) over `max_length`. For a
    /// netstring whose digits were still arriving, `length` is the value of
    /// the digits read when it passed the limit.
    LengthLimitExceeded {
        /// The announced length.
        length: u64,
        /// The receiver's limit.
        max_length: usize,
    },
    /// A netstring did not start with a length: digits without a leading
    /// zero (`0` alone is fine), then `:`.
    NetstringMissingLength {
        /// The byte found where a digit or `:` was expected.
        found: u8,
    },
    /// A netstring's payload was not followed by `,`.
    NetstringMissingComma {
        /// The byte found instead.
        found: u8,
    },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FramingError::LineTooLong { length, max_length } => {
                write!(f, "line of {length} bytes exceeds max_length {max_length}")
            }
            FramingError::LengthLimitExceeded { length, max_length } => {
                write!(f, "announced length {length} exceeds max_length {max_length}")
            }
            FramingError::NetstringMissingLength { found } => {
                write!(f, "netstring does not start with a length specification (found {:?})", char::from(found))
            }
            FramingError::NetstringMissingComma { found } => {
                write!(f, "netstring is not terminated by a comma (found {:?})", char::from(found))
            }
        }
    }
}

impl std::error::Error for FramingError {}

/// Why a receiver dropped its connection, and the dropping itself: the
/// answer every receiver gives to bad input unless its user set a handler.
#[derive(Default)]
struct Rejection(Option<FramingError>);

impl Rejection {
    /// Why the connection was dropped, if it was.
    fn error(&self) -> Option<&FramingError> {
        self.0.as_ref()
    }

    /// The default answer to bad input: log it, trace it, drop the
    /// connection once what was written has been sent, and keep the reason.
    fn reject(&mut self, transport: &Transport, error: FramingError) {
        tracing::warn!(conn = ?transport.id(), peer = %transport.peer(), "dropping connection: {error}");
        if let Some(reactor) = transport.reactor() {
            let conn = transport.id().0;
            reactor.emit(|| TraceEvent::InputRejected { conn, reason: error.to_string() });
        }
        transport.lose_connection();
        self.0 = Some(error);
    }

    /// Twisted's overridable hooks (`lineLengthExceeded`,
    /// `lengthLimitExceeded`): hands `what` (the offending line, the
    /// announced length) to `handler` when the user set one; otherwise
    /// rejects the input with `error()`.
    fn handle_or_reject<P, A, H>(
        &mut self,
        handler: Option<&mut H>,
        inner: &mut P,
        transport: &Transport,
        what: A,
        error: impl FnOnce() -> FramingError,
    ) where
        H: FnMut(&mut P, &Transport, A) + ?Sized,
    {
        match handler {
            Some(handler) => handler(inner, transport, what),
            None => self.reject(transport, error()),
        }
    }
}

/// Emits `MessageReceived` for each delivered message, looking the reactor up
/// once per chunk rather than once per message.
struct Tracer(Option<Reactor>);

impl Tracer {
    fn new(transport: &Transport) -> Tracer {
        Tracer(transport.reactor().filter(Reactor::is_tracing))
    }

    #[inline]
    fn message(&self, transport: &Transport, len: usize) {
        if let Some(reactor) = &self.0 {
            let conn = transport.id().0;
            reactor.emit(|| TraceEvent::MessageReceived { conn, len: len as u64 });
        }
    }
}
