//! Lines only: Twisted's `LineOnlyReceiver`.

use std::fmt;

use super::line::ExceededHandler;
use super::line_buffer::LineBuffer;
use super::{FramingError, Rejection, Tracer};
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
/// paused nor looks at raw mode or [`LineMode::clear_line_buffer`](super::LineMode::clear_line_buffer).
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
    lines: LineBuffer,
    on_exceeded: Option<Box<ExceededHandler<P>>>,
    rejection: Rejection,
}

impl<P: Protocol> LineOnlyReceiver<P> {
    /// Wraps `inner`, with delimiter `\r\n` and `max_length` 16384.
    pub fn new(inner: P) -> LineOnlyReceiver<P> {
        LineOnlyReceiver { inner, lines: LineBuffer::new(), on_exceeded: None, rejection: Rejection::default() }
    }

    /// Uses `delimiter` to cut and send lines.
    ///
    /// # Panics
    ///
    /// If `delimiter` is empty.
    pub fn with_delimiter(mut self, delimiter: &[u8]) -> LineOnlyReceiver<P> {
        self.lines.set_delimiter(delimiter);
        self
    }

    /// Accepts lines of up to `max_length` bytes (delimiter not counted).
    pub fn with_max_length(mut self, max_length: usize) -> LineOnlyReceiver<P> {
        self.lines.set_max_length(max_length);
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
        self.lines.delimiter()
    }

    /// The longest line accepted.
    pub fn max_length(&self) -> usize {
        self.lines.max_length()
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
        self.lines.bytes()
    }

    /// Why this receiver dropped the connection, if it did.
    pub fn error(&self) -> Option<&FramingError> {
        self.rejection.error()
    }

    fn exceeded(&mut self, transport: &Transport, line: &[u8]) {
        let (length, max_length) = (line.len(), self.lines.max_length());
        let handler = self.on_exceeded.as_deref_mut();
        self.rejection.handle_or_reject(handler, &mut self.inner, transport, line, || FramingError::LineTooLong {
            length,
            max_length,
        });
    }
}

impl<P: Protocol> Protocol for LineOnlyReceiver<P> {
    fn connection_made(&mut self, transport: &Transport) {
        transport.set_encoder(Some(self.lines.encoder()));
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let tracer = Tracer::new(transport);
        self.lines.extend(data);
        while let Some(end) = self.lines.find_line_end() {
            if transport.is_disconnecting() {
                return;
            }
            if end > self.lines.max_length() {
                let line = self.lines.cut_line_dropping_later_lines(end);
                self.exceeded(transport, &line);
                return;
            }
            let line = self.lines.cut_line(end);
            tracer.message(transport, end);
            self.inner.message_received(transport, Message::binary(line));
        }
        // Twisted's rule here: a partial line is refused once more than
        // `max_length` bytes wait for a delimiter (`LineReceiver` allows a
        // delimiter's length more).
        if self.lines.len() > self.lines.max_length() && !transport.is_disconnecting() {
            let partial = self.lines.take_all();
            self.exceeded(transport, &partial);
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
        self.lines.debug(f, "LineOnlyReceiver", &self.inner, self.rejection.error())
    }
}
