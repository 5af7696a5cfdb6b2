//! The two queues of a message connection, shared by the external side and
//! the reactor thread, and the flags between them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use twine_core::protocol::Message;
use twine_core::ReactorHandle;

use super::{registry, MessageConnectionOptions, Outgoing};

pub(super) struct Incoming {
    pub(super) queue: VecDeque<Message>,
    pub(super) bytes: usize,
    /// An inbox call to drain the queue is on its way.
    pub(super) scheduled: bool,
    /// `peer_closed` was called (or the reactor side closed): refuse more.
    pub(super) closed: bool,
}

pub(super) struct Outbound {
    pub(super) queue: VecDeque<Outgoing>,
    pub(super) bytes: usize,
    /// Nothing more will be queued after what is there.
    pub(super) closed: bool,
    /// The consumer waiting for the queue to become non-empty.
    pub(super) waker: Option<Waker>,
}

pub(crate) struct Shared {
    pub(super) handle: ReactorHandle,
    pub(super) options: MessageConnectionOptions,
    pub(super) conn: AtomicU64,
    pub(super) incoming: Mutex<Incoming>,
    pub(super) outbound: Mutex<Outbound>,
    /// The driver holds an overflow and wants a flush call once there is room.
    pub(super) producer_blocked: AtomicBool,
    pub(super) reading_paused: AtomicBool,
    pub(super) read_waker: Mutex<Option<Waker>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code panics while holding these locks; recover the data if one did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(super) fn read_ready(&self) -> bool {
        !self.reading_paused.load(Ordering::Acquire) && lock(&self.incoming).bytes < self.options.incoming_limit
    }

    pub(super) fn wake_reader(&self) {
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
            // Woken once the driver has applied the turn's effects: the
            // consumer then finds the whole batch, not its first message.
            registry::defer_wake(waker);
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

    /// Takes up to `max` incoming messages; the flag says whether more
    /// are left (then the drain stays scheduled: its caller schedules it again).
    pub(crate) fn take_incoming(&self, max: usize) -> (VecDeque<Message>, bool) {
        let mut incoming = lock(&self.incoming);
        if incoming.queue.len() <= max {
            incoming.scheduled = false;
            incoming.bytes = 0;
            return (std::mem::take(&mut incoming.queue), false);
        }
        let rest = incoming.queue.split_off(max.max(1));
        let batch = std::mem::replace(&mut incoming.queue, rest);
        incoming.bytes -= batch.iter().map(Message::len).sum::<usize>();
        (batch, true)
    }

    pub(crate) fn set_reading_paused(&self, paused: bool) {
        self.reading_paused.store(paused, Ordering::Release);
        if !paused {
            self.wake_reader();
        }
    }

    pub(super) fn pop_many(
        self: &Arc<Self>,
        buf: &mut Vec<Outgoing>,
        limit: usize,
        cx: Option<&Context<'_>>,
    ) -> Poll<usize> {
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
            buf.reserve(n);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::MessageConnection;
    use twine_core::Reactor;

    fn shared(limit: usize) -> (Reactor, Arc<Shared>) {
        let reactor = Reactor::new();
        let options = MessageConnectionOptions { outgoing_limit: limit, ..MessageConnectionOptions::default() };
        let conn = MessageConnection::open(&reactor.handle(), options, || Box::new(twine_core::protocols::Echo));
        let shared = conn.shared().clone();
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
