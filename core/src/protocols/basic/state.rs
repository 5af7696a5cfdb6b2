//! A framing receiver's own state, and how the protocol it wraps reaches it.
//!
//! Twisted's `LineReceiver` keeps its line mode, the bytes handed back with
//! `setLineMode(extra)` and its "am I delivering now" flag on itself, and a
//! subclass calls `self.setRawMode()`. In twine the application protocol is
//! wrapped, not subclassed: it sees the [`Transport`], not the receiver. So
//! the receiver owns a [`ReceiverState`], links it to the transport when the
//! connection is made, and the wrapped protocol asks for raw mode through the
//! [`LineMode`] methods on the transport, which find the receiver's state
//! there.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::protocol::transport::ReceiverLink;
use crate::protocol::Transport;

/// What a framing receiver knows about itself that its wrapped protocol may
/// change: whether it is running, and (for [`LineReceiver`](super::LineReceiver))
/// the mode and buffer requests the protocol made.
#[derive(Default)]
pub(super) struct ReceiverState {
    /// The receiver is delivering: it takes in requests itself when the
    /// protocol's callback returns, so no wake is needed.
    busy: Cell<bool>,
    raw_mode: Cell<bool>,
    /// Bytes handed back with `set_line_mode_with`, cut before later input.
    line_extra: RefCell<Vec<u8>>,
    clear_line_buffer: Cell<bool>,
    /// Either of the two above is pending: one flag to test per line.
    requests: Cell<bool>,
}

impl ReceiverLink for ReceiverState {
    fn is_running(&self) -> bool {
        self.busy.get()
    }

    fn as_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}

impl ReceiverState {
    /// A receiver's state, linked to `transport` so that resuming reading
    /// wakes the receiver and [`LineMode`] reaches it.
    pub(super) fn link(state: &Rc<ReceiverState>, transport: &Transport) {
        transport.set_receiver(state.clone());
    }

    pub(super) fn is_raw_mode(&self) -> bool {
        self.raw_mode.get()
    }

    /// Whether `set_line_mode_with` or `clear_line_buffer` left something;
    /// reading it clears it, so take what it says next.
    #[inline]
    pub(super) fn has_requests(&self) -> bool {
        self.requests.replace(false)
    }

    pub(super) fn take_line_mode_extra(&self) -> Option<Vec<u8>> {
        let mut extra = self.line_extra.borrow_mut();
        (!extra.is_empty()).then(|| std::mem::take(&mut *extra))
    }

    pub(super) fn take_clear_line_buffer(&self) -> bool {
        self.clear_line_buffer.replace(false)
    }
}

/// Marks a receiver as running for as long as it lives, so that requests the
/// inner protocol makes meanwhile (resume reading, line mode with extra
/// bytes) are taken in by the receiver itself rather than by a later wake.
pub(super) struct Busy<'a> {
    state: &'a ReceiverState,
    was: bool,
}

impl<'a> Busy<'a> {
    pub(super) fn new(state: &'a ReceiverState) -> Busy<'a> {
        Busy { state, was: state.busy.replace(true) }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.state.busy.set(self.was);
    }
}

/// Requests to the [`LineReceiver`](super::LineReceiver) wrapped around a
/// protocol: Twisted's `setRawMode`, `setLineMode` and `clearLineBuffer`,
/// called on the transport the protocol sees. The mode lives on the
/// receiver; on a transport with no `LineReceiver` around its protocol these
/// ask nothing of anyone, and [`is_raw_mode`](LineMode::is_raw_mode) is false.
///
/// ```
/// use twine_core::protocol::{Message, Protocol, Transport};
/// use twine_core::protocols::basic::{LineMode, LineReceiver};
/// use twine_core::testing::StringTransport;
///
/// /// Takes one header line, then hands the rest of the stream over raw.
/// #[derive(Default)]
/// struct Header {
///     raw: Vec<u8>,
/// }
///
/// impl Protocol for Header {
///     fn message_received(&mut self, transport: &Transport, _line: Message) {
///         transport.set_raw_mode();
///     }
///     fn data_received(&mut self, _transport: &Transport, data: &[u8]) {
///         self.raw.extend_from_slice(data);
///     }
/// }
///
/// let t = StringTransport::new();
/// let mut header = LineReceiver::new(Header::default());
/// header.connection_made(t.transport());
/// header.data_received(t.transport(), b"PUT\r\nraw\r\nbytes");
/// assert!(t.transport().is_raw_mode());
/// assert_eq!(header.inner().raw, b"raw\r\nbytes");
/// ```
pub trait LineMode {
    /// Hands the rest of the stream over raw, to
    /// [`Protocol::data_received`](crate::protocol::Protocol::data_received):
    /// Twisted's `setRawMode`.
    fn set_raw_mode(&self);

    /// Goes back to cutting lines: Twisted's `setLineMode`.
    fn set_line_mode(&self);

    /// Goes back to line mode and hands `extra` back to the receiver, which
    /// cuts it into lines before anything that arrives later: Twisted's
    /// `setLineMode(extra)`. Call it from raw `data_received` with the part
    /// of the chunk that belongs to the next lines.
    fn set_line_mode_with(&self, extra: &[u8]);

    /// Whether raw mode was asked for.
    fn is_raw_mode(&self) -> bool;

    /// Discards what the receiver has buffered and not yet delivered:
    /// Twisted's `clearLineBuffer`. Called from `message_received`, it drops
    /// the rest of the current chunk; called from elsewhere, what is
    /// buffered when the next data arrives. To get those bytes instead of
    /// dropping them, switch to raw mode: they arrive in `data_received`.
    fn clear_line_buffer(&self);
}

impl LineMode for Transport {
    fn set_raw_mode(&self) {
        if let Some(state) = self.receiver::<ReceiverState>() {
            state.raw_mode.set(true);
        }
    }

    fn set_line_mode(&self) {
        if let Some(state) = self.receiver::<ReceiverState>() {
            state.raw_mode.set(false);
        }
    }

    fn set_line_mode_with(&self, extra: &[u8]) {
        let Some(state) = self.receiver::<ReceiverState>() else { return };
        state.raw_mode.set(false);
        if !extra.is_empty() {
            state.line_extra.borrow_mut().extend_from_slice(extra);
            state.requests.set(true);
            self.wake_receiver();
        }
    }

    fn is_raw_mode(&self) -> bool {
        self.receiver::<ReceiverState>().is_some_and(|state| state.raw_mode.get())
    }

    fn clear_line_buffer(&self) {
        if let Some(state) = self.receiver::<ReceiverState>() {
            state.clear_line_buffer.set(true);
            state.requests.set(true);
        }
    }
}
