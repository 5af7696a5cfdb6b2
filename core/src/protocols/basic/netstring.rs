//! Netstrings: Twisted's `NetstringReceiver`.

use std::fmt;
use std::io::Write as _;
use std::rc::Rc;

use bytes::{Buf, BytesMut};

use super::state::{Busy, ReceiverState};
use super::{FramingError, Rejection, Tracer};
use crate::defer::Failure;
use crate::protocol::{Message, Protocol, Transport};

/// The longest netstring accepted unless told otherwise: 99999 bytes, as in Twisted.
pub const NETSTRING_MAX_LENGTH: usize = 99_999;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading the decimal length; `digits` read so far add up to `value`.
    Length { value: u64, digits: u32 },
    /// Waiting for `len` payload bytes and the comma.
    Payload { len: usize },
    /// Bad input was seen: nothing more is read.
    Broken,
}

/// Cuts a byte stream into netstrings (`5:hello,`) and hands each payload to
/// the protocol it wraps, as a [`Message`]: Twisted's `NetstringReceiver`
/// (see <http://cr.yp.to/proto/netstrings.txt>).
///
/// [`Transport::send`] writes a netstring. The length is decimal digits with
/// no leading zero (`0` alone is fine), then `:`, the payload, and `,`. A
/// length over `max_length` (default 99999, checked while the digits arrive),
/// a missing length or a missing comma drops the connection with the reason
/// logged, traced and kept in [`error`](Self::error); nothing more is read.
///
/// Unlike Twisted, it stops delivering once the transport is disconnecting,
/// and holds strings while reading is paused.
///
/// ```
/// use twine_core::protocols::{basic::NetstringReceiver, Echo};
/// use twine_core::protocol::Protocol;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = NetstringReceiver::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"5:hello,0:,3:ab");
/// echo.data_received(t.transport(), b"c,");
/// assert_eq!(t.value(), b"5:hello,0:,3:abc,");
///
/// echo.data_received(t.transport(), b"3:abcX");
/// assert!(t.disconnecting());
/// assert_eq!(echo.error().unwrap().to_string(), "netstring is not terminated by a comma (found 'X')");
/// ```
pub struct NetstringReceiver<P> {
    inner: P,
    max_length: usize,
    buffer: BytesMut,
    state: State,
    rejection: Rejection,
    /// Whether it is running, for the transport to know when to wake it.
    receiver: Rc<ReceiverState>,
}

impl<P: Protocol> NetstringReceiver<P> {
    /// Wraps `inner`, with `max_length` 99999.
    pub fn new(inner: P) -> NetstringReceiver<P> {
        NetstringReceiver {
            inner,
            max_length: NETSTRING_MAX_LENGTH,
            buffer: BytesMut::new(),
            state: State::Length { value: 0, digits: 0 },
            rejection: Rejection::default(),
            receiver: Rc::default(),
        }
    }

    /// Accepts payloads of up to `max_length` bytes.
    ///
    /// ```
    /// use twine_core::protocols::{basic::{FramingError, NetstringReceiver}, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = NetstringReceiver::new(Echo).with_max_length(10);
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"11"); // refused before the payload arrives
    /// assert_eq!(echo.error(), Some(&FramingError::LengthLimitExceeded { length: 11, max_length: 10 }));
    /// ```
    pub fn with_max_length(mut self, max_length: usize) -> NetstringReceiver<P> {
        self.max_length = max_length;
        self
    }

    /// The longest payload accepted.
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

    /// Why this receiver dropped the connection, if it did (Twisted's `brokenPeer`).
    pub fn error(&self) -> Option<&FramingError> {
        self.rejection.error()
    }

    fn deliver(&mut self, transport: &Transport, tracer: &Tracer) {
        while !transport.is_reading_paused() && !transport.is_disconnecting() {
            match self.state {
                State::Broken => return,
                State::Length { mut value, mut digits } => {
                    let mut used = 0;
                    let mut outcome = None;
                    for &byte in self.buffer.iter() {
                        used += 1;
                        match byte {
                            b':' if digits > 0 => {
                                outcome = Some(Ok(value));
                                break;
                            }
                            b'0'..=b'9' if !(digits == 1 && value == 0) => {
                                digits += 1;
                                let next = value.checked_mul(10).and_then(|v| v.checked_add(u64::from(byte - b'0')));
                                match next {
                                    Some(next) if next <= self.max_length as u64 => value = next,
                                    _ => {
                                        let length = next.unwrap_or(u64::MAX);
                                        let max_length = self.max_length;
                                        outcome = Some(Err(FramingError::LengthLimitExceeded { length, max_length }));
                                        break;
                                    }
                                }
                            }
                            found => {
                                outcome = Some(Err(FramingError::NetstringMissingLength { found }));
                                break;
                            }
                        }
                    }
                    self.buffer.advance(used);
                    match outcome {
                        None => {
                            self.state = State::Length { value, digits };
                            return;
                        }
                        Some(Ok(len)) => {
                            let len = len as usize;
                            self.state = State::Payload { len };
                            self.buffer.reserve((len + 1).saturating_sub(self.buffer.len()));
                        }
                        Some(Err(error)) => return self.fail(transport, error),
                    }
                }
                State::Payload { len } => {
                    if self.buffer.len() <= len {
                        return;
                    }
                    if self.buffer[len] != b',' {
                        let found = self.buffer[len];
                        return self.fail(transport, FramingError::NetstringMissingComma { found });
                    }
                    let payload = self.buffer.split_to(len).freeze();
                    self.buffer.advance(1);
                    self.state = State::Length { value: 0, digits: 0 };
                    tracer.message(transport, payload.len());
                    self.inner.message_received(transport, Message::binary(payload));
                }
            }
        }
    }

    fn fail(&mut self, transport: &Transport, error: FramingError) {
        self.state = State::Broken;
        self.buffer = BytesMut::new();
        self.rejection.reject(transport, error);
    }
}

impl<P: Protocol> Protocol for NetstringReceiver<P> {
    fn connection_made(&mut self, transport: &Transport) {
        transport.set_encoder(Some(Rc::new(|payload: &[u8], buf: &mut Vec<u8>| {
            buf.reserve(payload.len() + 12);
            let _ = write!(buf, "{}:", payload.len());
            buf.extend_from_slice(payload);
            buf.push(b',');
        })));
        ReceiverState::link(&self.receiver, transport);
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let receiver = self.receiver.clone();
        let _busy = Busy::new(&receiver);
        if self.state == State::Broken || transport.is_disconnecting() {
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

impl<P: fmt::Debug> fmt::Debug for NetstringReceiver<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetstringReceiver")
            .field("inner", &self.inner)
            .field("max_length", &self.max_length)
            .field("buffered", &self.buffer.len())
            .field("error", &self.rejection.error())
            .finish()
    }
}
