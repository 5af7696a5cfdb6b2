//! External message connections: a connection whose socket lives on another
//! thread (a WebSocket served by axum on tokio), hosting a core
//! [`Protocol`] on the reactor.
//!
//! The reactor thread owns the protocol; the other thread owns the client.
//! They meet in a [`MessageConnection`], which carries both directions and
//! the back-pressure between them:
//!
//! ```text
//!   external thread (WebSocket task)            reactor thread
//!   ───────────────────────────────            ──────────────────────────────────────
//!   conn.deliver(msg) ──► incoming queue ──►   one inbox call per batch:
//!                          (wakes the reactor   protocol.message_received(msg) ...
//!                           on empty→non-empty)
//!   conn.recv() ◄──────── outgoing queue ◄──   Effect::Send / Close / Abort
//!                          (bounded, bytes)     ▲ full? the driver keeps an overflow
//!                                               │ and tells the protocol WaterMark::High
//!   room again (≤ half) ─► inbox call "flush" ──┘ drained: WaterMark::Low
//!   conn.read_ready() waits while the protocol paused reading (Effect::PauseReading)
//!                         or the incoming queue is over its limit
//! ```
//!
//! What the external side must do, in its reader and writer tasks:
//!
//! - **Reader**: before reading the next message from its client, await
//!   [`read_ready`](MessageConnection::read_ready) (or poll
//!   [`poll_read_ready`](MessageConnection::poll_read_ready)); then
//!   [`deliver`](MessageConnection::deliver) it. When the client goes away,
//!   call [`peer_closed`](MessageConnection::peer_closed).
//! - **Writer**: take [`Outgoing`] items with
//!   [`recv_many`](MessageConnection::recv_many) (a batch: write them all,
//!   then flush once) or [`recv`](MessageConnection::recv). A
//!   [`Message`](Outgoing::Message) goes to the client;
//!   [`Close`](Outgoing::Close) means "close cleanly after what came before";
//!   [`Abort`](Outgoing::Abort) means "drop the client now". `None` means
//!   the connection is over.
//!
//! Memory stays bounded whatever the client does: outgoing bytes wait in the
//! bounded queue, and past it in the driver's overflow only while the
//! protocol is being told to stop (the default protocol behaviour pauses
//! reading, which stops `read_ready`, which stops the reader).
//!
//! Every connection gets exactly one `connection_lost` on the reactor side:
//! when the external side calls `peer_closed` (or drops its last handle), or
//! when the protocol's `Close`/`Abort` reaches the outgoing queue.
//!
//! ```
//! use std::time::Duration;
//! use twine_core::protocol::Message;
//! use twine_core::protocols::Echo;
//! use twine_native::external::{MessageConnection, MessageConnectionOptions, Outgoing};
//! use twine_native::{Config, ReactorThread};
//!
//! let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
//! let conn = MessageConnection::open(server.handle(), MessageConnectionOptions::default(), || Box::new(Echo));
//! conn.deliver(Message::text("hello")).unwrap();
//! let echoed = conn.recv_timeout(Duration::from_secs(5)).unwrap();
//! assert!(matches!(echoed, Outgoing::Message(m) if m.as_text() == Some("hello")));
//! conn.peer_closed(None);
//! ```

mod registry;

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use twine_core::protocol::{ConnectionId, Message, Protocol};
use twine_core::ReactorHandle;

pub(crate) use registry::{apply_effect, close_all, counts, set_shutting_down};

/// What the reactor sends to the external side of a message connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// One message for the client (text stays text, binary stays binary).
    Message(Message),
    /// Close the client cleanly, after the messages received before this.
    Close,
    /// Drop the client now; anything unsent was discarded.
    Abort,
}

impl Outgoing {
    fn weight(&self) -> usize {
        match self {
            Outgoing::Message(m) => m.len(),
            Outgoing::Close | Outgoing::Abort => 0,
        }
    }
}

/// Sizes and addresses of a message connection.
#[derive(Clone, Debug)]
pub struct MessageConnectionOptions {
    /// The client's address, as the protocol's transport reports it.
    pub peer: SocketAddr,
    /// The server's address, as the protocol's transport reports it.
    pub local: SocketAddr,
    /// Outgoing message bytes the queue holds before the driver keeps the
    /// rest in its overflow and reports `WaterMark::High`. One message is
    /// always accepted into an empty queue, whatever its size.
    pub outgoing_limit: usize,
    /// Incoming message bytes waiting for the reactor before
    /// [`read_ready`](MessageConnection::read_ready) holds the reader back.
    pub incoming_limit: usize,
}

impl Default for MessageConnectionOptions {
    fn default() -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        MessageConnectionOptions {
            peer: loopback,
            local: loopback,
            outgoing_limit: 256 * 1024,
            incoming_limit: 256 * 1024,
        }
    }
}

/// Why [`deliver`](MessageConnection::deliver) refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionClosed;

impl fmt::Display for ConnectionClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the message connection is closed")
    }
}

impl std::error::Error for ConnectionClosed {}

/// Why [`recv_timeout`](MessageConnection::recv_timeout) or
/// [`try_recv`](MessageConnection::try_recv) returned nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Nothing arrived (in time).
    Empty,
    /// The connection is over: nothing more will come.
    Closed,
}

struct Incoming {
    queue: VecDeque<Message>,
    bytes: usize,
    /// An inbox call to drain the queue is on its way.
    scheduled: bool,
    /// `peer_closed` was called (or the reactor side closed): refuse more.
    closed: bool,
}

struct Outbound {
    queue: VecDeque<Outgoing>,
    bytes: usize,
    /// Nothing more will be queued after what is there.
    closed: bool,
    /// The consumer waiting for the queue to become non-empty.
    waker: Option<Waker>,
}

pub(crate) struct Shared {
    handle: ReactorHandle,
    options: MessageConnectionOptions,
    conn: AtomicU64,
    incoming: Mutex<Incoming>,
    outbound: Mutex<Outbound>,
    /// The driver holds an overflow and wants a flush call once there is room.
    producer_blocked: AtomicBool,
    reading_paused: AtomicBool,
    read_waker: Mutex<Option<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code panics while holding these locks; recover the data if one did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn read_ready(&self) -> bool {
        !self.reading_paused.load(Ordering::Acquire) && lock(&self.incoming).bytes < self.options.incoming_limit
    }

    fn wake_reader(&self) {
        if let Some(waker) = lock(&self.read_waker).take() {
            waker.wake();
        }
    }

    /// Reactor side: queue an item if it fits; give it back otherwise (and
    /// ask for a flush call when room appears).
    pub(crate) fn try_push(&self, item: Outgoing) -> Result<(), Outgoing> {
        let ending = matches!(item, Outgoing::Close | Outgoing::Abort);
        let waker = {
            let mut out = lock(&self.outbound);
            if out.closed {
                return Ok(()); // the consumer is gone; nothing to keep
            }
            let weight = item.weight();
            if !out.queue.is_empty() && out.bytes + weight > self.options.outgoing_limit {
                // Set under the lock the consumer pops under: it cannot miss it.
                self.producer_blocked.store(true, Ordering::Release);
                return Err(item);
            }
            out.bytes += weight;
            if ending {
                // Refuse deliveries before the consumer can see the end.
                lock(&self.incoming).closed = true;
                out.closed = true;
            }
            out.queue.push_back(item);
            out.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Reactor side: discard what is unsent and queue `Abort`.
    pub(crate) fn abort(&self) {
        let waker = {
            let mut out = lock(&self.outbound);
            if out.closed {
                return;
            }
            lock(&self.incoming).closed = true;
            out.queue.clear();
            out.bytes = 0;
            out.queue.push_back(Outgoing::Abort);
            out.closed = true;
            out.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Reactor side: no more outgoing items; incoming ones are refused.
    pub(crate) fn close_queues(&self) {
        lock(&self.incoming).closed = true;
        let waker = {
            let mut out = lock(&self.outbound);
            out.closed = true;
            out.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        self.wake_reader();
    }

    pub(crate) fn take_incoming(&self) -> VecDeque<Message> {
        let mut incoming = lock(&self.incoming);
        incoming.scheduled = false;
        incoming.bytes = 0;
        std::mem::take(&mut incoming.queue)
    }

    pub(crate) fn set_reading_paused(&self, paused: bool) {
        self.reading_paused.store(paused, Ordering::Release);
        if !paused {
            self.wake_reader();
        }
    }

    fn pop_many(self: &Arc<Self>, buf: &mut Vec<Outgoing>, limit: usize, cx: Option<&Context<'_>>) -> Poll<usize> {
        let (n, wants_flush) = {
            let mut out = lock(&self.outbound);
            if out.queue.is_empty() {
                if out.closed {
                    return Poll::Ready(0);
                }
                if let Some(cx) = cx {
                    out.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            let n = out.queue.len().min(limit.max(1));
            let out = &mut *out;
            for item in out.queue.drain(..n) {
                out.bytes -= item.weight();
                buf.push(item);
            }
            // Ask for a flush only once half the queue is free, so the
            // driver refills it in batches rather than one message a call.
            let wants_flush =
                out.bytes <= self.options.outgoing_limit / 2 && self.producer_blocked.swap(false, Ordering::AcqRel);
            (n, wants_flush)
        };
        if wants_flush {
            let shared = self.clone();
            self.handle.call_from_thread(move |reactor| registry::flush(reactor, &shared));
        }
        Poll::Ready(n)
    }
}

/// The external side of a message connection. Cheap to clone (a reader task
/// and a writer task each keep one); when the last clone is dropped without
/// [`peer_closed`](Self::peer_closed), the reactor hears the connection was
/// lost.
#[derive(Clone)]
pub struct MessageConnection {
    owner: Arc<Owner>,
}

struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        if !lock(&self.shared.incoming).closed {
            send_peer_closed(&self.shared, Some("the external side dropped the connection".to_owned()));
        }
    }
}

fn send_peer_closed(shared: &Arc<Shared>, error: Option<String>) {
    {
        let mut incoming = lock(&shared.incoming);
        if incoming.closed {
            return;
        }
        incoming.closed = true;
    }
    let s = shared.clone();
    shared.handle.call_from_thread(move |reactor| registry::peer_closed(reactor, &s, error));
}

impl MessageConnection {
    /// Opens a message connection in the reactor behind `handle`, hosting
    /// the protocol `build` makes (on the reactor thread, since protocols
    /// are not `Send`). Returns at once; the connection is made in the
    /// reactor's next turn, and messages delivered meanwhile wait for it.
    pub fn open(
        handle: &ReactorHandle,
        options: MessageConnectionOptions,
        build: impl FnOnce() -> Box<dyn Protocol> + Send + 'static,
    ) -> MessageConnection {
        let shared = Arc::new(Shared {
            handle: handle.clone(),
            options,
            conn: AtomicU64::new(0),
            incoming: Mutex::new(Incoming { queue: VecDeque::new(), bytes: 0, scheduled: false, closed: false }),
            outbound: Mutex::new(Outbound { queue: VecDeque::new(), bytes: 0, closed: false, waker: None }),
            producer_blocked: AtomicBool::new(false),
            reading_paused: AtomicBool::new(false),
            read_waker: Mutex::new(None),
        });
        let s = shared.clone();
        if !handle.call_from_thread(move |reactor| registry::open(reactor, &s, build)) {
            shared.close_queues();
        }
        MessageConnection { owner: Arc::new(Owner { shared }) }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.owner.shared
    }

    /// The connection's id in the reactor, once the reactor has opened it.
    pub fn id(&self) -> Option<ConnectionId> {
        match self.shared().conn.load(Ordering::Acquire) {
            0 => None,
            id => Some(ConnectionId(id)),
        }
    }

    /// Hands a message from the client to the protocol. Messages delivered
    /// before the reactor's next turn go in one inbox call, and only the
    /// first of them wakes the reactor. Errs once the connection is closed.
    pub fn deliver(&self, message: Message) -> Result<(), ConnectionClosed> {
        let shared = self.shared();
        let schedule = {
            let mut incoming = lock(&shared.incoming);
            if incoming.closed {
                return Err(ConnectionClosed);
            }
            incoming.bytes += message.len();
            incoming.queue.push_back(message);
            !std::mem::replace(&mut incoming.scheduled, true)
        };
        if schedule {
            let s = shared.clone();
            if !shared.handle.call_from_thread(move |reactor| registry::drain_incoming(reactor, &s)) {
                shared.close_queues();
                return Err(ConnectionClosed);
            }
        }
        Ok(())
    }

    /// Tells the protocol the client went away: cleanly (`None`), or with
    /// an error. Messages delivered before are handled first. Idempotent.
    pub fn peer_closed(&self, error: Option<String>) {
        send_peer_closed(self.shared(), error);
    }

    /// Whether the reader may read the next client message now: the
    /// protocol has not paused reading and the incoming queue is under its
    /// limit.
    pub fn is_read_ready(&self) -> bool {
        self.shared().read_ready()
    }

    /// Whether the protocol paused reading (back-pressure).
    pub fn is_reading_paused(&self) -> bool {
        self.shared().reading_paused.load(Ordering::Acquire)
    }

    /// Ready when the reader may read the next client message (see
    /// [`is_read_ready`](Self::is_read_ready)), or the connection is closed.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let shared = self.shared();
        if shared.read_ready() || lock(&shared.incoming).closed {
            return Poll::Ready(());
        }
        *lock(&shared.read_waker) = Some(cx.waker().clone());
        // Check again: the reactor may have resumed between the check and the registration.
        if shared.read_ready() || lock(&shared.incoming).closed {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Waits until the reader may read the next client message.
    pub async fn read_ready(&self) {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Moves up to `limit` outgoing items into `buf`. Ready with how many
    /// were moved; `0` means the connection is over and nothing more will come.
    pub fn poll_recv_many(&self, cx: &mut Context<'_>, buf: &mut Vec<Outgoing>, limit: usize) -> Poll<usize> {
        self.shared().pop_many(buf, limit, Some(cx))
    }

    /// Waits for outgoing items and moves up to `limit` of them into `buf`;
    /// returns how many, `0` when the connection is over.
    pub async fn recv_many(&self, buf: &mut Vec<Outgoing>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buf, limit)).await
    }

    /// Waits for the next outgoing item; `None` when the connection is over.
    pub async fn recv(&self) -> Option<Outgoing> {
        let mut buf = Vec::with_capacity(1);
        match self.recv_many(&mut buf, 1).await {
            0 => None,
            _ => buf.pop(),
        }
    }

    /// The next outgoing item, without waiting.
    pub fn try_recv(&self) -> Result<Outgoing, RecvError> {
        let mut buf = Vec::with_capacity(1);
        match self.shared().pop_many(&mut buf, 1, None) {
            Poll::Ready(0) => Err(RecvError::Closed),
            Poll::Ready(_) => buf.pop().ok_or(RecvError::Empty),
            Poll::Pending => Err(RecvError::Empty),
        }
    }

    /// Blocks the calling thread until the next outgoing item arrives or
    /// `timeout` passes: for external sides that are plain threads.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Outgoing, RecvError> {
        let deadline = Instant::now() + timeout;
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let cx = Context::from_waker(&waker);
        let mut buf = Vec::with_capacity(1);
        loop {
            match self.shared().pop_many(&mut buf, 1, Some(&cx)) {
                Poll::Ready(0) => return Err(RecvError::Closed),
                Poll::Ready(_) => return buf.pop().ok_or(RecvError::Empty),
                Poll::Pending => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(RecvError::Empty);
                    }
                    std::thread::park_timeout(deadline - now);
                }
            }
        }
    }

    /// Outgoing bytes waiting in the queue for the writer.
    pub fn outgoing_bytes(&self) -> usize {
        lock(&self.shared().outbound).bytes
    }
}

impl fmt::Debug for MessageConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageConnection")
            .field("id", &self.id())
            .field("peer", &self.shared().options.peer)
            .field("reading_paused", &self.is_reading_paused())
            .finish()
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twine_core::Reactor;

    fn shared(limit: usize) -> (Reactor, Arc<Shared>) {
        let reactor = Reactor::new();
        let options = MessageConnectionOptions { outgoing_limit: limit, ..MessageConnectionOptions::default() };
        let conn = MessageConnection::open(&reactor.handle(), options, || Box::new(twine_core::protocols::Echo));
        let shared = conn.owner.shared.clone();
        std::mem::forget(conn); // keep the Owner from reporting a drop
        (reactor, shared)
    }

    fn msg(n: usize) -> Outgoing {
        Outgoing::Message(Message::binary(vec![0; n]))
    }

    #[test]
    fn the_queue_takes_one_oversized_message_when_empty_and_refuses_past_its_limit() {
        let (_reactor, s) = shared(100);
        assert_eq!(s.try_push(msg(500)), Ok(()));
        assert_eq!(s.try_push(msg(1)), Err(msg(1)));
        assert!(s.producer_blocked.load(Ordering::Acquire));
        let mut buf = Vec::new();
        assert_eq!(s.pop_many(&mut buf, 10, None), Poll::Ready(1));
        // Half empty (here: empty) and the producer was blocked: the flag is taken.
        assert!(!s.producer_blocked.load(Ordering::Acquire));
        assert_eq!(s.try_push(msg(60)), Ok(()));
        assert_eq!(s.try_push(msg(40)), Ok(()));
        assert_eq!(s.try_push(msg(1)), Err(msg(1)));
    }

    #[test]
    fn close_ends_the_queue_after_what_came_before_and_refuses_deliveries() {
        let (_reactor, s) = shared(100);
        assert_eq!(s.try_push(msg(10)), Ok(()));
        assert_eq!(s.try_push(Outgoing::Close), Ok(()));
        assert!(lock(&s.incoming).closed);
        let mut buf = Vec::new();
        assert_eq!(s.pop_many(&mut buf, 10, None), Poll::Ready(2));
        assert_eq!(buf, vec![msg(10), Outgoing::Close]);
        assert_eq!(s.pop_many(&mut buf, 10, None), Poll::Ready(0));
    }

    #[test]
    fn abort_discards_what_is_unsent() {
        let (_reactor, s) = shared(100);
        assert_eq!(s.try_push(msg(10)), Ok(()));
        s.abort();
        let mut buf = Vec::new();
        assert_eq!(s.pop_many(&mut buf, 10, None), Poll::Ready(1));
        assert_eq!(buf, vec![Outgoing::Abort]);
    }
}
