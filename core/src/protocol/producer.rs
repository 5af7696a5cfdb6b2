//! Producers on a transport: Twisted's `IPushProducer` / `IPullProducer`
//! and the consumer half of `abstract.FileDescriptor`
//! (`registerProducer`, `unregisterProducer`).
//!
//! A streaming (push) producer writes whenever it likes; the transport
//! pauses it when the bytes written and not yet sent pass the write buffer
//! size ([`Transport::set_write_buffer_size`], Twisted's `bufferSize`, 64 KiB
//! by default), or when the driver reports its buffer above the high-water
//! mark, and resumes it when the driver reports the buffer drained. A pull
//! producer writes only when asked: once when registered and again each
//! time the driver reports the buffer drained.
//!
//! The transport does not send: the driver does, and tells the reactor with
//! [`ReactorDriver::handle_write_drained`](crate::ReactorDriver::handle_write_drained)
//! (everything written so far has gone) and
//! [`ReactorDriver::handle_write_buffer`](crate::ReactorDriver::handle_write_buffer)
//! (the water marks). Only a producer listens for drains, so the transport
//! asks for them while one is registered ([`Effect::ReportDrained`]) and a
//! driver need not report the others' (one for every message echoed). A
//! driver that never reports a drain leaves a pull producer waiting after
//! its first write, as a socket that never becomes writable would.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use super::transport::ConnState;
use super::Transport;
use crate::reactor::Effect;

/// Something that writes into a transport and can be told when: Twisted's
/// `IPushProducer` (all three methods) or `IPullProducer` (no
/// [`pause_producing`](Self::pause_producing)). Methods take `&self`: a
/// producer keeps its state in cells, and may write to the transport, or
/// unregister itself, from inside them.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use twine_core::protocol::{Producer, Transport};
/// use twine_core::testing::StringTransport;
///
/// /// Writes `left` chunks, one per request (a pull producer).
/// struct Chunks {
///     transport: Transport,
///     left: Cell<u32>,
/// }
///
/// impl Producer for Chunks {
///     fn resume_producing(&self) {
///         match self.left.get() {
///             0 => self.transport.unregister_producer(),
///             n => {
///                 self.left.set(n - 1);
///                 self.transport.write(b"chunk ");
///             }
///         }
///     }
///     fn stop_producing(&self) {}
/// }
///
/// let t = StringTransport::new();
/// let chunks = Rc::new(Chunks { transport: t.transport().clone(), left: Cell::new(2) });
/// t.transport().register_producer(chunks, false).unwrap(); // a pull producer is asked at once
/// assert_eq!(t.value(), b"chunk ");
/// t.write_drained(); // the driver sent it all: ask for more
/// t.write_drained();
/// assert_eq!(t.value(), b"chunk chunk ");
/// assert!(!t.transport().has_producer()); // it unregistered when done
/// ```
pub trait Producer {
    /// Produce (more) data: for a pull producer, one chunk; for a
    /// streaming producer, carry on after a pause.
    fn resume_producing(&self);
    /// Stop writing until [`resume_producing`](Self::resume_producing): the
    /// transport's buffer is full. Only streaming producers are paused.
    fn pause_producing(&self) {}
    /// Stop for good: the connection is gone.
    fn stop_producing(&self);
}

/// Returned by [`Transport::register_producer`] when a producer is already
/// registered and was never unregistered (Twisted raises `RuntimeError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerAlreadyRegistered;

impl fmt::Display for ProducerAlreadyRegistered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a producer is already registered on this transport: unregister it first")
    }
}

impl std::error::Error for ProducerAlreadyRegistered {}

/// Twisted's `FileDescriptor.bufferSize`.
const DEFAULT_BUFFER_SIZE: usize = 64 * 1024;

/// A transport's producer and what it knows of its write buffer.
pub(crate) struct ProducerSlot {
    producer: RefCell<Option<Rc<dyn Producer>>>,
    streaming: Cell<bool>,
    /// Paused by the transport (Twisted's `producerPaused`).
    paused: Cell<bool>,
    /// Bytes written, while a producer is registered, since the driver
    /// last reported the buffer drained.
    buffered: Cell<usize>,
    buffer_size: Cell<usize>,
    /// `lose_connection` came while a producer was registered: close when
    /// it is unregistered.
    close_when_unregistered: Cell<bool>,
}

impl Default for ProducerSlot {
    fn default() -> Self {
        ProducerSlot {
            producer: RefCell::new(None),
            streaming: Cell::new(false),
            paused: Cell::new(false),
            buffered: Cell::new(0),
            buffer_size: Cell::new(DEFAULT_BUFFER_SIZE),
            close_when_unregistered: Cell::new(false),
        }
    }
}

impl ProducerSlot {
    fn registered(&self) -> Option<Rc<dyn Producer>> {
        self.producer.borrow().clone()
    }
}

impl Transport {
    /// Makes `producer` write into this transport: Twisted's
    /// `registerProducer`. A streaming producer (`streaming: true`) is
    /// paused when the write buffer fills and resumed when it drains; a pull
    /// producer is asked for data now and after each drain. On a transport
    /// whose connection is gone, the producer is stopped at once.
    ///
    /// While a producer is registered, [`lose_connection`](Self::lose_connection)
    /// waits for [`unregister_producer`](Self::unregister_producer) (and
    /// the producer may still write): unregister it when it is done.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use twine_core::protocol::Producer;
    /// use twine_core::testing::StringTransport;
    ///
    /// #[derive(Default)]
    /// struct Log(RefCell<Vec<&'static str>>);
    /// impl Producer for Log {
    ///     fn resume_producing(&self) { self.0.borrow_mut().push("resume") }
    ///     fn pause_producing(&self) { self.0.borrow_mut().push("pause") }
    ///     fn stop_producing(&self) { self.0.borrow_mut().push("stop") }
    /// }
    ///
    /// let t = StringTransport::new();
    /// let log = Rc::new(Log::default());
    /// t.transport().register_producer(log.clone(), true).unwrap();
    /// t.transport().set_write_buffer_size(4);
    /// t.transport().write(b"12345"); // past the buffer size
    /// t.write_drained();
    /// assert_eq!(*log.0.borrow(), ["pause", "resume"]);
    /// ```
    pub fn register_producer(
        &self,
        producer: Rc<dyn Producer>,
        streaming: bool,
    ) -> Result<(), ProducerAlreadyRegistered> {
        let slot = &self.conn.producer;
        if slot.producer.borrow().is_some() {
            return Err(ProducerAlreadyRegistered);
        }
        if self.conn.state.get() == ConnState::Closed || self.reactor().is_none() {
            producer.stop_producing();
            return Ok(());
        }
        *slot.producer.borrow_mut() = Some(producer.clone());
        slot.streaming.set(streaming);
        slot.paused.set(false);
        slot.buffered.set(0);
        if let Some(reactor) = self.reactor() {
            reactor.queue_effect(Effect::ReportDrained { conn: self.conn.id, on: true });
        }
        if !streaming {
            producer.resume_producing();
        }
        Ok(())
    }

    /// Forgets the producer, without disconnecting: Twisted's
    /// `unregisterProducer`. A [`lose_connection`](Self::lose_connection)
    /// that waited for it takes effect now.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use twine_core::protocol::Producer;
    /// use twine_core::testing::StringTransport;
    ///
    /// struct Idle;
    /// impl Producer for Idle {
    ///     fn resume_producing(&self) {}
    ///     fn stop_producing(&self) {}
    /// }
    ///
    /// let t = StringTransport::new();
    /// t.transport().register_producer(Rc::new(Idle), true).unwrap();
    /// t.transport().lose_connection();
    /// t.transport().write(b"bye"); // held back: the producer may still write
    /// t.transport().unregister_producer();
    /// t.transport().write(b" again"); // closed now: dropped
    /// assert_eq!(t.value(), b"bye");
    /// assert!(t.disconnecting() && !t.transport().has_producer());
    /// ```
    pub fn unregister_producer(&self) {
        let slot = &self.conn.producer;
        let producer = slot.producer.borrow_mut().take();
        slot.paused.set(false);
        if let (Some(_), Some(reactor)) = (producer, self.reactor()) {
            if self.conn.state.get() != ConnState::Closed {
                reactor.queue_effect(Effect::ReportDrained { conn: self.conn.id, on: false });
            }
        }
        if slot.close_when_unregistered.replace(false) && self.conn.state.get() == ConnState::Disconnecting {
            if let Some(reactor) = self.reactor() {
                reactor.queue_effect(Effect::Close { conn: self.conn.id });
            }
        }
    }

    /// Unregisters the producer and loses the connection: Twisted's
    /// `stopConsuming`, for a producer that has written its last.
    pub fn stop_consuming(&self) {
        self.unregister_producer();
        self.lose_connection();
    }

    /// Whether a producer is registered.
    pub fn has_producer(&self) -> bool {
        self.conn.producer.producer.borrow().is_some()
    }

    /// Sets how many bytes written and not yet sent make the buffer full
    /// for a streaming producer: Twisted's `bufferSize` (64 KiB by default).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use twine_core::protocol::Producer;
    ///
    /// struct Idle;
    /// impl Producer for Idle {
    ///     fn resume_producing(&self) {}
    ///     fn stop_producing(&self) {}
    /// }
    ///
    /// let t = twine_core::testing::StringTransport::new();
    /// assert_eq!(t.transport().write_buffer_size(), 64 * 1024);
    /// t.transport().set_write_buffer_size(500);
    /// t.transport().register_producer(Rc::new(Idle), true).unwrap();
    /// t.transport().write(&[0; 100]);
    /// assert_eq!((t.transport().write_buffer_size(), t.transport().buffered_bytes()), (500, 100));
    /// ```
    pub fn set_write_buffer_size(&self, bytes: usize) {
        self.conn.producer.buffer_size.set(bytes);
    }

    /// The size [`set_write_buffer_size`](Self::set_write_buffer_size) set.
    pub fn write_buffer_size(&self) -> usize {
        self.conn.producer.buffer_size.get()
    }

    /// Bytes written while a producer is registered, since it was
    /// registered or the driver last reported the buffer drained (with
    /// [`ReactorDriver::handle_write_drained`](crate::ReactorDriver::handle_write_drained)):
    /// what the transport weighs against the write buffer size. Without a
    /// producer nothing is counted (nothing would be paused).
    pub fn buffered_bytes(&self) -> usize {
        self.conn.producer.buffered.get()
    }

    /// After a write of `n` bytes: pauses a streaming producer if the
    /// buffer is now full (Twisted's `_maybePauseProducer`, which pauses on
    /// every write to a full buffer).
    pub(crate) fn wrote(&self, n: usize) {
        let slot = &self.conn.producer;
        if slot.producer.borrow().is_none() {
            return;
        }
        let buffered = slot.buffered.get() + n;
        slot.buffered.set(buffered);
        if slot.streaming.get() && buffered > slot.buffer_size.get() {
            if let Some(producer) = slot.registered() {
                slot.paused.set(true);
                producer.pause_producing();
            }
        }
    }

    /// Whether a `lose_connection` should wait for the producer; if so,
    /// remembers to close when it is unregistered.
    pub(crate) fn defer_close_to_producer(&self) -> bool {
        let waits = self.has_producer();
        if waits {
            self.conn.producer.close_when_unregistered.set(true);
        }
        waits
    }

    /// Whether writes still go out while disconnecting: a producer holds
    /// the close back, and may write until it is unregistered.
    pub(crate) fn producer_holds_close(&self) -> bool {
        self.conn.producer.close_when_unregistered.get()
    }

    /// The driver sent everything (Twisted's `doWrite` emptying the
    /// buffer): resume a pull producer, or a streaming one the transport
    /// paused. Returns the producer to resume, for the reactor to run as a call.
    pub(crate) fn drained(&self) -> Option<Rc<dyn Producer>> {
        let slot = &self.conn.producer;
        slot.buffered.set(0);
        let producer = slot.registered()?;
        if !slot.streaming.get() || slot.paused.get() {
            slot.paused.set(false);
            Some(producer)
        } else {
            None
        }
    }

    /// Whether a streaming producer is registered: the water marks go to
    /// it rather than to the protocol.
    pub(crate) fn has_streaming_producer(&self) -> bool {
        self.has_producer() && self.conn.producer.streaming.get()
    }

    /// The driver's buffer passed the high-water mark: the streaming
    /// producer to pause, if there is one (otherwise the protocol is asked).
    pub(crate) fn pause_streaming_producer(&self) -> Option<Rc<dyn Producer>> {
        let slot = &self.conn.producer;
        let producer = slot.registered().filter(|_| slot.streaming.get())?;
        slot.paused.set(true);
        Some(producer)
    }

    /// The driver's buffer fell below the low-water mark: the streaming
    /// producer to resume, if there is one the transport paused.
    pub(crate) fn resume_streaming_producer(&self) -> Option<Rc<dyn Producer>> {
        let slot = &self.conn.producer;
        let producer = slot.registered().filter(|_| slot.streaming.get())?;
        slot.paused.replace(false).then_some(producer)
    }

    /// The connection is gone: the producer is stopped and forgotten.
    pub(crate) fn take_producer_to_stop(&self) -> Option<Rc<dyn Producer>> {
        self.conn.producer.close_when_unregistered.set(false);
        self.conn.producer.producer.borrow_mut().take()
    }
}
