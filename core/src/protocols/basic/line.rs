//! Lines with a raw mode: Twisted's `LineReceiver`.

use std::fmt;
use std::rc::Rc;

use bytes::Bytes;

use super::line_buffer::LineBuffer;
use super::state::{Busy, ReceiverState};
use super::{FramingError, Rejection, Tracer};
use crate::defer::Failure;
use crate::protocol::{Message, Protocol, Transport};

/// What a line receiver does with a line over its limit, instead of dropping the connection.
pub(super) type ExceededHandler<P> = dyn FnMut(&mut P, &Transport, &[u8]);

/// Cuts a byte stream into lines and hands each to the protocol it wraps, as
/// a [`Message`]: Twisted's `LineReceiver`.
///
/// - Each line (delimiter removed) goes to the inner protocol's
///   [`message_received`](Protocol::message_received) as a binary message;
///   [`Transport::send`] writes a line plus the delimiter (`sendLine`).
/// - A line longer than `max_length` (default 16384) is refused: when its
///   delimiter arrives, or once `max_length + delimiter.len()` bytes are
///   buffered without one. A line of exactly `max_length` passes. By default
///   the connection is dropped (see [`on_line_length_exceeded`](Self::on_line_length_exceeded)).
/// - Raw mode: when the inner protocol calls
///   [`set_raw_mode`](super::LineMode::set_raw_mode) on its transport during
///   a line, the rest of the buffer and everything after it go to its
///   [`data_received`](Protocol::data_received) untouched.
///   [`set_line_mode`](super::LineMode::set_line_mode) switches back;
///   [`set_line_mode_with`](super::LineMode::set_line_mode_with) also hands
///   back bytes to cut into lines first (Twisted's `setLineMode(extra)`).
///   The mode is the receiver's own, as in Twisted; the [`LineMode`](super::LineMode)
///   methods on the transport reach it.
/// - [`LineMode::clear_line_buffer`](super::LineMode::clear_line_buffer)
///   (from the inner protocol) or [`clear_line_buffer`](Self::clear_line_buffer)
///   (on the receiver) discards what is buffered.
/// - Lines stop as soon as the transport is disconnecting, and wait while
///   reading is paused.
///
/// ```
/// use twine_core::protocol::{Message, Protocol, Transport};
/// use twine_core::protocols::basic::{LineMode, LineReceiver};
/// use twine_core::testing::StringTransport;
///
/// /// An upload: a header line with the size, then that many raw bytes.
/// #[derive(Default)]
/// struct Upload {
///     expected: usize,
///     body: Vec<u8>,
/// }
///
/// impl Protocol for Upload {
///     fn message_received(&mut self, transport: &Transport, line: Message) {
///         self.expected = std::str::from_utf8(line.as_bytes()).unwrap().parse().unwrap();
///         transport.set_raw_mode();
///     }
///     fn data_received(&mut self, transport: &Transport, data: &[u8]) {
///         let take = data.len().min(self.expected - self.body.len());
///         self.body.extend_from_slice(&data[..take]);
///         if self.body.len() == self.expected {
///             transport.set_line_mode_with(&data[take..]);
///             transport.send("got it");
///         }
///     }
/// }
///
/// let t = StringTransport::new();
/// let mut upload = LineReceiver::new(Upload::default());
/// upload.connection_made(t.transport());
/// upload.data_received(t.transport(), b"5\r\nhel");
/// upload.data_received(t.transport(), b"lo3\r\n");
/// assert_eq!(upload.inner().body, b"hello");
/// assert_eq!(upload.inner().expected, 3); // "3" was cut as the next line
/// assert_eq!(t.value(), b"got it\r\n");
/// ```
pub struct LineReceiver<P> {
    inner: P,
    lines: LineBuffer,
    on_exceeded: Option<Box<ExceededHandler<P>>>,
    rejection: Rejection,
    /// Raw mode and the inner protocol's requests, reached from its transport.
    state: Rc<ReceiverState>,
}

impl<P: Protocol> LineReceiver<P> {
    /// Wraps `inner`, with delimiter `\r\n` and `max_length` 16384.
    ///
    /// ```
    /// use twine_core::protocols::{basic::LineReceiver, Echo};
    ///
    /// let echo = LineReceiver::new(Echo);
    /// assert_eq!(echo.delimiter(), b"\r\n");
    /// assert_eq!(echo.max_length(), 16384);
    /// ```
    pub fn new(inner: P) -> LineReceiver<P> {
        LineReceiver {
            inner,
            lines: LineBuffer::new(),
            on_exceeded: None,
            rejection: Rejection::default(),
            state: Rc::default(),
        }
    }

    /// Uses `delimiter` to cut and send lines.
    ///
    /// # Panics
    ///
    /// If `delimiter` is empty.
    ///
    /// ```
    /// use twine_core::protocols::{basic::LineReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = LineReceiver::new(Echo).with_delimiter(b"\n");
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"a\nb\r\n");
    /// assert_eq!(t.value(), b"a\nb\r\n");
    /// ```
    pub fn with_delimiter(mut self, delimiter: &[u8]) -> LineReceiver<P> {
        self.lines.set_delimiter(delimiter);
        self
    }

    /// Accepts lines of up to `max_length` bytes (delimiter not counted).
    ///
    /// ```
    /// use twine_core::protocols::{basic::LineReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = LineReceiver::new(Echo).with_max_length(4);
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"four\r\nfive!\r\n");
    /// assert_eq!(t.value(), b"four\r\n");
    /// assert!(t.disconnecting());
    /// ```
    pub fn with_max_length(mut self, max_length: usize) -> LineReceiver<P> {
        self.lines.set_max_length(max_length);
        self
    }

    /// Calls `handler` instead of dropping the connection when a line is too
    /// long: Twisted's overridable `lineLengthExceeded`. It gets the inner
    /// protocol, the transport and the whole buffer from the offending line
    /// on (it may hold more than one line, or only the start of one). The
    /// buffer is cleared before the call; lines arriving later are cut as
    /// usual, and bytes the handler hands back with
    /// [`set_line_mode_with`](super::LineMode::set_line_mode_with) are cut at
    /// once (Twisted leaves them until more data arrives).
    ///
    /// ```
    /// use twine_core::protocols::{basic::LineReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = LineReceiver::new(Echo)
    ///     .with_max_length(3)
    ///     .on_line_length_exceeded(|_echo, transport, _line| transport.send("too long"));
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"long line\r\n");
    /// echo.data_received(t.transport(), b"ok\r\n");
    /// assert_eq!(t.value(), b"too long\r\nok\r\n");
    /// assert!(!t.disconnecting());
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

    /// Discards what is buffered and returns it: Twisted's `clearLineBuffer`.
    ///
    /// ```
    /// use twine_core::protocols::{basic::LineReceiver, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = LineReceiver::new(Echo);
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"partial");
    /// assert_eq!(echo.clear_line_buffer(), "partial");
    /// assert!(echo.buffered().is_empty());
    /// ```
    pub fn clear_line_buffer(&mut self) -> Bytes {
        self.lines.take_all()
    }

    /// Why this receiver dropped the connection, if it did.
    ///
    /// ```
    /// use twine_core::protocols::{basic::{FramingError, LineReceiver}, Echo};
    /// use twine_core::protocol::Protocol;
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let mut echo = LineReceiver::new(Echo).with_max_length(2);
    /// echo.connection_made(t.transport());
    /// echo.data_received(t.transport(), b"abcd");
    /// assert_eq!(echo.error(), Some(&FramingError::LineTooLong { length: 4, max_length: 2 }));
    /// ```
    pub fn error(&self) -> Option<&FramingError> {
        self.rejection.error()
    }

    /// Takes in what the inner protocol asked for since the last look: a
    /// cleared buffer, bytes handed back with line mode.
    fn absorb_requests(&mut self) {
        if !self.state.has_requests() {
            return;
        }
        if self.state.take_clear_line_buffer() {
            self.lines.clear();
        }
        if let Some(extra) = self.state.take_line_mode_extra() {
            self.lines.prepend(&extra);
        }
    }

    fn deliver(&mut self, transport: &Transport, tracer: &Tracer) {
        while !self.lines.is_empty() && !transport.is_reading_paused() && !transport.is_disconnecting() {
            if self.state.is_raw_mode() {
                let data = self.lines.take_all();
                self.inner.data_received(transport, &data);
                self.absorb_requests();
                continue;
            }
            let Some(end) = self.lines.find_line_end() else {
                // Twisted's rule: a partial line may grow to `max_length`
                // plus a delimiter before it is refused.
                if self.lines.len() < self.lines.max_length().saturating_add(self.lines.delimiter().len()) {
                    return;
                }
                self.exceeded(transport, self.lines.len());
                continue;
            };
            if end > self.lines.max_length() {
                self.exceeded(transport, end);
                continue;
            }
            let line = self.lines.cut_line(end);
            tracer.message(transport, end);
            self.inner.message_received(transport, Message::binary(line));
            if transport.is_disconnecting() {
                return;
            }
            self.absorb_requests();
        }
    }

    fn exceeded(&mut self, transport: &Transport, length: usize) {
        let data = self.lines.take_buffer();
        let max_length = self.lines.max_length();
        let handler = self.on_exceeded.as_deref_mut();
        self.rejection.handle_or_reject(handler, &mut self.inner, transport, &data[..], || FramingError::LineTooLong {
            length,
            max_length,
        });
        // Keep the allocation for the lines that come next.
        self.lines.reuse(data);
        // Bytes the handler handed back with `set_line_mode_with` are cut
        // now (Twisted leaves them until more data arrives).
        self.absorb_requests();
    }
}

impl<P: Protocol> Protocol for LineReceiver<P> {
    fn connection_made(&mut self, transport: &Transport) {
        transport.set_encoder(Some(self.lines.encoder()));
        ReceiverState::link(&self.state, transport);
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let state = self.state.clone();
        let _busy = Busy::new(&state);
        if transport.is_disconnecting() {
            return;
        }
        let tracer = Tracer::new(transport);
        self.absorb_requests();
        if self.lines.is_empty() && self.state.is_raw_mode() && !transport.is_reading_paused() {
            // Raw data straight through, without a copy into the buffer.
            if !data.is_empty() {
                self.inner.data_received(transport, data);
                self.absorb_requests();
            }
        } else {
            self.lines.extend(data);
        }
        self.deliver(transport, &tracer);
    }

    /// A whole message (a WebSocket frame) is framed already: it goes
    /// straight to the inner protocol.
    fn message_received(&mut self, transport: &Transport, message: Message) {
        self.inner.message_received(transport, message);
    }

    fn connection_lost(&mut self, transport: &Transport, reason: &Failure) {
        self.inner.connection_lost(transport, reason);
    }

    fn pause_producing(&mut self, transport: &Transport) {
        self.inner.pause_producing(transport);
    }

    /// Resumes the inner protocol, then delivers the lines held while paused.
    fn resume_producing(&mut self, transport: &Transport) {
        let state = self.state.clone();
        let _busy = Busy::new(&state);
        self.inner.resume_producing(transport);
        if !transport.is_disconnecting() {
            self.deliver(transport, &Tracer::new(transport));
        }
    }
}

impl<P: fmt::Debug> fmt::Debug for LineReceiver<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.lines.debug(f, "LineReceiver", &self.inner, self.rejection.error())
    }
}
