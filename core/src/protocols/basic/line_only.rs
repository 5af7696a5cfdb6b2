//! Lines only: Twisted's `LineOnlyReceiver`.

use std::fmt;
use std::rc::Rc;

use bytes::{Buf, Bytes, BytesMut};

use super::line::{checked_delimiter, line_encoder, ExceededHandler, DEFAULT_DELIMITER, DEFAULT_MAX_LENGTH};
use super::{reject, search, FramingError, Tracer};
use crate::defer::Failure;
use crate::protocol::{Message, Protocol, Transport};

/// Cuts a byte stream into lines, with no raw mode: Twisted's
/// `LineOnlyReceiver`, the lean version of [`LineReceiver`](super::LineReceiver).
///
/// Twisted's rules, which differ slightly from [`LineReceiver`](super::LineReceiver)'s:
/// a partial line is refused as soon as more than `max_length` bytes are
/// buffered without a delimiter (not `max_length + delimiter.len()`); the
/// length handler gets only the offending line, and the complete lines after
/// it in the same chunk are dropped. It neither holds lines while reading is
/// paused nor looks at raw mode or [`Transport::clear_line_buffer`].
///
/// ```
/// use twine_core::protocols::{basic::LineOnlyReceiver, Echo};
/// use twine_core::protocol::Protocol;
/// use twine_core::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let mut echo = LineOnlyReceiver::new(Echo);
/// echo.connection_made(t.transport());
/// echo.data_received(t.transport(), b"one\r\ntw");
/// echo.data_received(t.transport(), b"o\r\n");
/// assert_eq!(t.value(), b"one\r\ntwo\r\n");
/// ```
pub struct LineOnlyReceiver<P> {
    inner: P,
    delimiter: Rc<[u8]>,
    max_length: usize,
    buffer: BytesMut,
    scanned: usize,
    on_exceeded: Option<ExceededHandler<P>>,
    error: Option<FramingError>,
}

impl<P: Protocol> LineOnlyReceiver<P> {
    /// Wraps `inner`, with delimiter `\r\n` and `max_length` 16384.
    pub fn new(inner: P) -> LineOnlyReceiver<P> {
        LineOnlyReceiver {
            inner,
            delimiter: Rc::from(DEFAULT_DELIMITER),
            max_length: DEFAULT_MAX_LENGTH,
            buffer: BytesMut::new(),
            scanned: 0,
            on_exceeded: None,
            error: None,
        }
    }

    /// Uses `delimiter` to cut and send lines.
    ///
    /// # Panics
    ///
    /// If `delimiter` is empty.
    pub fn with_delimiter(mut self, delimiter: &[u8]) -> LineOnlyReceiver<P> {
        self.delimiter = checked_delimiter(delimiter);
        self
    }

    /// Accepts lines of up to `max_length` bytes (delimiter not counted).
    pub fn with_max_length(mut self, max_length: usize) -> LineOnlyReceiver<P> {
        self.max_length = max_length;
        self
    }

    /// Calls `handler` with the offending line instead of dropping the connection.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use twine_core::protocols::{basic::LineOnlyReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let seen = Rc::new(Cell::new(0));
    /// let s = seen.clone();
    /// let t = StringTransport::new();
    /// let mut echo = LineOnlyReceiver::new(Echo)
    ///     .with_max_length(3)
    ///     .on_line_length_exceeded(move |_, _, line| s.set(line.len()));
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"toolong\r\nok\r\nye");
    /// assert_eq!(seen.get(), 7);
    /// assert_eq!(t.value(), b""); // "ok" came after the long line in the same chunk
    /// echo.data_received(t.transport(), b"s\r\n");
    /// assert_eq!(t.value(), b"yes\r\n");
    /// ```
    pub fn on_line_length_exceeded(mut self, handler: impl FnMut(&mut P, &Transport, &[u8]) + 'static) -> Self {
        self.on_exceeded = Some(Box::new(handler));
        self
    }

    /// The delimiter.
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// The longest line accepted.
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

    /// Unwraps the protocol, dropping anything buffered.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// What is buffered and not yet delivered.
    pub fn buffered(&self) -> &[u8] {
        &self.buffer
    }

    /// Why this receiver dropped the connection, if it did.
    pub fn error(&self) -> Option<&FramingError> {
        self.error.as_ref()
    }

    fn exceeded(&mut self, transport: &Transport, line: &[u8]) {
        match &mut self.on_exceeded {
            Some(handler) => handler(&mut self.inner, transport, line),
            None => {
                let error = FramingError::LineTooLong { length: line.len(), max_length: self.max_length };
                reject(transport, &error);
                self.error = Some(error);
            }
        }
    }
}

impl<P: Protocol> Protocol for LineOnlyReceiver<P> {
    fn connection_made(&mut self, transport: &Transport) {
        transport.set_encoder(Some(line_encoder(&self.delimiter)));
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let tracer = Tracer::new(transport);
        let delimiter_len = self.delimiter.len();
        self.buffer.extend_from_slice(data);
        while let Some(found) = search::find(&self.buffer[self.scanned..], &self.delimiter) {
            let end = self.scanned + found;
            self.scanned = 0;
            if transport.is_disconnecting() {
                return;
            }
            if end > self.max_length {
                // Twisted split the whole chunk first: the complete lines after
                // the long one go with it, the partial line after them stays.
                let rest = search::rfind(&self.buffer, &self.delimiter).map_or(end, |i| i + delimiter_len);
                let line = self.buffer.split_to(end).freeze();
                self.buffer.advance(rest - end);
                self.exceeded(transport, &line);
                return;
            }
            let mut line = self.buffer.split_to(end + delimiter_len);
            line.truncate(end);
            tracer.message(transport, end);
            self.inner.message_received(transport, Message::binary(line.freeze()));
        }
        if self.buffer.len() > self.max_length && !transport.is_disconnecting() {
            let partial = self.buffer.split().freeze();
            self.scanned = 0;
            self.exceeded(transport, &partial);
        } else {
            self.scanned = (self.buffer.len() + 1).saturating_sub(delimiter_len);
        }
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
        self.inner.resume_producing(transport);
    }
}

impl<P: fmt::Debug> fmt::Debug for LineOnlyReceiver<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineOnlyReceiver")
            .field("inner", &self.inner)
            .field("delimiter", &Bytes::copy_from_slice(&self.delimiter))
            .field("max_length", &self.max_length)
            .field("buffered", &self.buffer.len())
            .field("error", &self.error)
            .finish()
    }
}
