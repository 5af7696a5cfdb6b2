//! Length-prefixed strings: Twisted's `Int8StringReceiver`,
//! `Int16StringReceiver` and `Int32StringReceiver`.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use bytes::{Buf, BytesMut};

use super::state::{Busy, ReceiverState};
use super::{FramingError, Rejection, Tracer};
use crate::defer::Failure;
use crate::protocol::{Message, Protocol, Transport};

/// The longest string accepted unless told otherwise: 99999 bytes, as in Twisted.
pub const PREFIXED_MAX_LENGTH: usize = 99_999;

/// A big-endian length prefix of a fixed width: what tells the
/// [`IntNStringReceiver`]s apart.
///
/// ```
/// use twine_core::protocols::basic::{LengthPrefix, Prefix16};
///
/// let mut buf = Vec::new();
/// Prefix16::write(258, &mut buf);
/// assert_eq!(buf, [1, 2]);
/// assert_eq!(Prefix16::read(&buf), 258);
/// ```
pub trait LengthPrefix: 'static {
    /// Bytes in the prefix.
    const WIDTH: usize;
    /// The longest string the prefix can announce.
    const MAX: u64;
    /// Reads a prefix from the first `WIDTH` bytes of `bytes`.
    fn read(bytes: &[u8]) -> u64;
    /// Appends the prefix for `len` (at most `MAX`).
    fn write(len: u64, buf: &mut Vec<u8>);
}

macro_rules! prefix {
    ($name:ident, $int:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl LengthPrefix for $name {
            const WIDTH: usize = std::mem::size_of::<$int>();
            const MAX: u64 = <$int>::MAX as u64;

            #[inline]
            fn read(bytes: &[u8]) -> u64 {
                let mut raw = [0; std::mem::size_of::<$int>()];
                raw.copy_from_slice(&bytes[..Self::WIDTH]);
                u64::from(<$int>::from_be_bytes(raw))
            }

            #[inline]
            fn write(len: u64, buf: &mut Vec<u8>) {
                buf.extend_from_slice(&(len as $int).to_be_bytes());
            }
        }
    };
}

prefix!(Prefix8, u8, "A one-byte length prefix (strings of up to 255 bytes).");
prefix!(Prefix16, u16, "A two-byte big-endian length prefix (strings of up to 65535 bytes).");
prefix!(Prefix32, u32, "A four-byte big-endian length prefix (network byte order).");

/// What a length-prefixed receiver does with a length over its limit.
type LimitHandler<P> = dyn FnMut(&mut P, &Transport, u64);

/// Cuts a byte stream into length-prefixed strings and hands each to the
/// protocol it wraps, as a [`Message`]: Twisted's `IntNStringReceiver`. Use
/// it through [`Int8StringReceiver`], [`Int16StringReceiver`] or
/// [`Int32StringReceiver`].
///
/// [`Transport::send`] writes the prefix and the string. A string too long
/// for the prefix cannot be framed: it is not sent, and the error is logged
/// (Twisted raises `StringTooLongError`).
///
/// A prefix announcing more than `max_length` (default 99999) calls
/// [`on_length_limit_exceeded`](Self::on_length_limit_exceeded)'s handler,
/// or by default drops the connection with the reason logged, traced and kept
/// in [`error`](Self::error). Either way nothing more is read: the stream
/// cannot be resynchronised (Twisted would call the handler again on every
/// later chunk).
///
/// ```
/// use twine_core::protocols::{basic::Int16StringReceiver, Echo};
/// use twine_core::protocol::Protocol;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = Int16StringReceiver::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), &[0, 2, b'h']);
/// echo.data_received(t.transport(), &[b'i', 0, 0]);
/// assert_eq!(t.value(), [0, 2, b'h', b'i', 0, 0]);
/// ```
pub struct IntNStringReceiver<P, L> {
    inner: P,
    max_length: usize,
    buffer: BytesMut,
    broken: bool,
    on_exceeded: Option<Box<LimitHandler<P>>>,
    rejection: Rejection,
    /// Whether it is running, for the transport to know when to wake it.
    receiver: Rc<ReceiverState>,
    prefix: PhantomData<L>,
}

/// Strings with a one-byte length: Twisted's `Int8StringReceiver`.
///
/// ```
/// use twine_core::protocols::{basic::Int8StringReceiver, Echo};
/// use twine_core::protocol::Protocol;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = Int8StringReceiver::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"\x03abc");
/// assert_eq!(t.value(), b"\x03abc");
/// ```
pub type Int8StringReceiver<P> = IntNStringReceiver<P, Prefix8>;

/// Strings with a two-byte big-endian length: Twisted's `Int16StringReceiver`.
///
/// ```
/// use twine_core::protocols::{basic::Int16StringReceiver, Echo};
/// use twine_core::protocol::Protocol;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = Int16StringReceiver::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"\x00\x03abc");
/// assert_eq!(t.value(), b"\x00\x03abc");
/// ```
pub type Int16StringReceiver<P> = IntNStringReceiver<P, Prefix16>;

/// Strings with a four-byte big-endian length: Twisted's `Int32StringReceiver`.
///
/// ```
/// use twine_core::protocols::{basic::Int32StringReceiver, Echo};
/// use twine_core::protocol::Protocol;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = Int32StringReceiver::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"\x00\x00\x00\x03abc");
/// assert_eq!(t.value(), b"\x00\x00\x00\x03abc");
/// ```
pub type Int32StringReceiver<P> = IntNStringReceiver<P, Prefix32>;

impl<P: Protocol, L: LengthPrefix> IntNStringReceiver<P, L> {
    /// Wraps `inner`, with `max_length` 99999.
    pub fn new(inner: P) -> IntNStringReceiver<P, L> {
        IntNStringReceiver {
            inner,
            max_length: PREFIXED_MAX_LENGTH,
            buffer: BytesMut::new(),
            broken: false,
            on_exceeded: None,
            rejection: Rejection::default(),
            receiver: Rc::default(),
            prefix: PhantomData,
        }
    }

    /// Accepts strings of up to `max_length` bytes.
    ///
    /// ```
    /// use twine_core::protocols::{basic::{FramingError, Int32StringReceiver}, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = Int32StringReceiver::new(Echo).with_max_length(3);
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"\x00\x00\x00\x03abc\x00\x00\x00\x04");
    /// assert_eq!(t.value(), b"\x00\x00\x00\x03abc");
    /// assert!(t.disconnecting());
    /// assert_eq!(echo.error(), Some(&FramingError::LengthLimitExceeded { length: 4, max_length: 3 }));
    /// ```
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// Calls `handler` with the announced length instead of dropping the
    /// connection: Twisted's overridable `lengthLimitExceeded`. Nothing more
    /// is read afterwards.
    ///
    /// ```
    /// use twine_core::protocols::{basic::Int8StringReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = Int8StringReceiver::new(Echo)
    ///     .with_max_length(2)
    ///     .on_length_limit_exceeded(|_, transport, length| {
    ///         transport.write(format!("{length} is too long").as_bytes());
    ///         transport.abort_connection();
    ///     });
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"\x05hello");
    /// assert_eq!(t.value(), b"5 is too long");
    /// assert!(t.aborted());
    /// ```
    pub fn on_length_limit_exceeded(mut self, handler: impl FnMut(&mut P, &Transport, u64) + 'static) -> Self {
        self.on_exceeded = Some(Box::new(handler));
        self
    }

    /// The longest string accepted.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The wrapped protocol.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The wrapped protocol, mutably.
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Unwraps the protocol.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// The bytes received and not yet delivered as strings: Twisted's
    /// `recvd`. After a length over the limit, everything from that prefix
    /// on (nothing more is read). Read-only: Twisted's trick of assigning to
    /// `recvd` inside `stringReceived` to switch buffers has no equivalent
    /// (the wrapped protocol cannot reach its receiver).
    ///
    /// ```
    /// use twine_core::protocols::{basic::Int8StringReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = Int8StringReceiver::new(Echo);
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"\x02hi\x05hel");
    /// assert_eq!(echo.recvd(), b"\x05hel"); // an incomplete string
    /// ```
    pub fn recvd(&self) -> &[u8] {
        &self.buffer
    }

    /// Why this receiver dropped the connection, if it did.
    pub fn error(&self) -> Option<&FramingError> {
        self.rejection.error()
    }

    fn deliver(&mut self, transport: &Transport, tracer: &Tracer) {
        while !self.broken
            && self.buffer.len() >= L::WIDTH
            && !transport.is_reading_paused()
            && !transport.is_disconnecting()
        {
            let length = L::read(&self.buffer);
            if length > self.max_length as u64 {
                // The buffer stays, for `recvd`: nothing more is parsed.
                self.broken = true;
                let (handler, max_length) = (self.on_exceeded.as_deref_mut(), self.max_length);
                self.rejection.handle_or_reject(handler, &mut self.inner, transport, length, || {
                    FramingError::LengthLimitExceeded { length, max_length }
                });
                return;
            }
            let end = L::WIDTH + length as usize;
            if self.buffer.len() < end {
                self.buffer.reserve(end - self.buffer.len());
                return;
            }
            self.buffer.advance(L::WIDTH);
            let string = self.buffer.split_to(length as usize).freeze();
            tracer.message(transport, string.len());
            self.inner.message_received(transport, Message::binary(string));
        }
    }
}

impl<P: Protocol, L: LengthPrefix> Protocol for IntNStringReceiver<P, L> {
    fn connection_made(&mut self, transport: &Transport) {
        transport.set_encoder(Some(Rc::new(|string: &[u8], buf: &mut Vec<u8>| {
            let len = string.len() as u64;
            if len > L::MAX {
                tracing::error!(
                    "cannot send {len} bytes behind a {}-byte length prefix (at most {}); not sent",
                    L::WIDTH,
                    L::MAX
                );
                return;
            }
            buf.reserve(L::WIDTH + string.len());
            L::write(len, buf);
            buf.extend_from_slice(string);
        })));
        ReceiverState::link(&self.receiver, transport);
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let receiver = self.receiver.clone();
        let _busy = Busy::new(&receiver);
        if self.broken || transport.is_disconnecting() {
            return;
        }
        self.buffer.extend_from_slice(data);
        self.deliver(transport, &Tracer::new(transport));
    }

    /// A whole message is framed already: it goes straight to the inner protocol.
    fn message_received(&mut self, transport: &Transport, message: Message) {
        self.inner.message_received(transport, message);
    }

    fn connection_lost(&mut self, transport: &Transport, reason: &Failure) {
        self.inner.connection_lost(transport, reason);
    }

    fn pause_producing(&mut self, transport: &Transport) {
        self.inner.pause_producing(transport);
    }

    fn resume_producing(&mut self, transport: &Transport) {
        let receiver = self.receiver.clone();
        let _busy = Busy::new(&receiver);
        self.inner.resume_producing(transport);
        self.deliver(transport, &Tracer::new(transport));
    }
}

impl<P: fmt::Debug, L: LengthPrefix> fmt::Debug for IntNStringReceiver<P, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntNStringReceiver")
            .field("inner", &self.inner)
            .field("prefix_width", &L::WIDTH)
            .field("max_length", &self.max_length)
            .field("buffered", &self.buffer.len())
            .field("error", &self.rejection.error())
            .finish()
    }
}
