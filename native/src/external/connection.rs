//! [`MessageConnection`]: the external side's handle.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use twine_core::protocol::{ConnectionId, Message, Protocol};
use twine_core::ReactorHandle;

use super::queues::{lock, Incoming, Outbound, Shared};
use super::{registry, ConnectionClosed, MessageConnectionOptions, Outgoing, RecvError};

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

/// Asks the reactor to take the incoming queue; `false` (and the queues
/// closed) when the reactor is gone.
fn schedule_drain(shared: &Arc<Shared>) -> bool {
    let s = shared.clone();
    if shared.handle.call_from_thread(move |reactor| registry::drain_incoming(reactor, &s)) {
        return true;
    }
    shared.close_queues();
    false
}

/// Schedules a drain for held messages, unless one is on its way.
fn flush_incoming(shared: &Arc<Shared>) {
    let schedule = {
        let mut incoming = lock(&shared.incoming);
        !incoming.queue.is_empty() && !std::mem::replace(&mut incoming.scheduled, true)
    };
    if schedule {
        schedule_drain(shared);
    }
}

fn send_peer_closed(shared: &Arc<Shared>, error: Option<String>) {
    // Held messages go first: the protocol sees everything the client sent.
    flush_incoming(shared);
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

    pub(super) fn shared(&self) -> &Arc<Shared> {
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
        self.push_incoming(message, true)
    }

    /// Queues a message from the client like [`deliver`](Self::deliver),
    /// but the reactor hears of it only at the next
    /// [`flush_deliveries`](Self::flush_deliveries) (or `deliver`, or
    /// [`peer_closed`](Self::peer_closed)): a reader that takes several
    /// messages from one socket read hands them over in one inbox call and
    /// at most one reactor wake-up, instead of waking the reactor for the
    /// first while it is still reading the rest. The messages count against
    /// the incoming limit at once, so [`read_ready`](Self::read_ready) still
    /// holds the reader back.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use twine_core::protocol::Message;
    /// # use twine_core::protocols::Echo;
    /// # use twine_native::external::{MessageConnection, MessageConnectionOptions, Outgoing};
    /// # use twine_native::{Config, ReactorThread};
    /// # let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
    /// let conn = MessageConnection::open(server.handle(), MessageConnectionOptions::default(), || Box::new(Echo));
    /// for word in ["one", "two", "three"] {
    ///     conn.deliver_held(Message::text(word)).unwrap();
    /// }
    /// conn.flush_deliveries(); // one inbox call for the three
    /// for word in ["one", "two", "three"] {
    ///     let echoed = conn.recv_timeout(Duration::from_secs(5)).unwrap();
    ///     assert!(matches!(echoed, Outgoing::Message(m) if m.as_text() == Some(word)));
    /// }
    /// ```
    pub fn deliver_held(&self, message: Message) -> Result<(), ConnectionClosed> {
        self.push_incoming(message, false)
    }

    /// Hands the messages queued by [`deliver_held`](Self::deliver_held)
    /// to the reactor (one inbox call for all of them). Cheap when there
    /// are none.
    pub fn flush_deliveries(&self) {
        flush_incoming(self.shared());
    }

    fn push_incoming(&self, message: Message, now: bool) -> Result<(), ConnectionClosed> {
        let shared = self.shared();
        let schedule = {
            let mut incoming = lock(&shared.incoming);
            if incoming.closed {
                return Err(ConnectionClosed);
            }
            incoming.bytes += message.len();
            incoming.queue.push_back(message);
            now && !std::mem::replace(&mut incoming.scheduled, true)
        };
        if schedule && !schedule_drain(shared) {
            return Err(ConnectionClosed);
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
    use std::sync::mpsc::{self, Sender};

    use twine_core::defer::Failure;
    use twine_core::protocol::Transport;

    use super::*;
    use crate::{Config, ReactorThread};

    /// Reports what the protocol sees: messages, then `"lost"`.
    struct Seen(Sender<String>);

    impl Protocol for Seen {
        fn message_received(&mut self, _: &Transport, message: Message) {
            let _ = self.0.send(message.as_text().unwrap_or_default().to_owned());
        }

        fn connection_lost(&mut self, _: &Transport, _: &Failure) {
            let _ = self.0.send("lost".to_owned());
        }
    }

    #[test]
    fn held_messages_wait_for_the_flush_and_go_before_a_close() {
        let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
        let (tx, seen) = mpsc::channel();
        let conn =
            MessageConnection::open(server.handle(), MessageConnectionOptions::default(), move || Box::new(Seen(tx)));
        conn.deliver_held(Message::text("a")).unwrap();
        conn.deliver_held(Message::text("b")).unwrap();
        assert!(seen.recv_timeout(Duration::from_millis(100)).is_err(), "held until flushed");
        conn.flush_deliveries();
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), "a");
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), "b");
        // Held messages are not lost when the client goes away before a flush.
        conn.deliver_held(Message::text("c")).unwrap();
        conn.peer_closed(None);
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), "c");
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), "lost");
        server.shutdown();
        server.join();
    }
}
