//! The cross-thread inbox behind `call_from_thread`, and [`ReactorHandle`].
//!
//! The only reactor state another thread may touch. Calls are queued under a
//! mutex and taken by the reactor a whole batch at a time at the start of a
//! turn. The driver's waker runs only when the inbox goes from empty to
//! non-empty, so a burst of calls from many threads costs one wake.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::Reactor;

pub(crate) type InboxCall = Box<dyn FnOnce(&Reactor) + Send>;

/// What a driver calls to wake its loop when the inbox stops being empty.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
pub(crate) struct Inbox {
    queue: Mutex<Vec<InboxCall>>,
    waker: Mutex<Option<Waker>>,
    closed: AtomicBool,
    wakes: AtomicU64,
}

impl Inbox {
    fn queue(&self) -> MutexGuard<'_, Vec<InboxCall>> {
        // A panic while holding the lock cannot leave the Vec half-updated.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, call: InboxCall) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let was_empty = {
            let mut queue = self.queue();
            queue.push(call);
            queue.len() == 1
        };
        if was_empty {
            self.wakes.fetch_add(1, Ordering::Relaxed);
            let waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if let Some(wake) = waker {
                wake();
            }
        }
        true
    }

    /// Takes every queued call, in the order they were queued.
    pub(crate) fn take_batch(&self) -> Vec<InboxCall> {
        std::mem::take(&mut *self.queue())
    }

    pub(crate) fn len(&self) -> usize {
        self.queue().len()
    }

    pub(crate) fn set_waker(&self, waker: Option<Waker>) {
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = waker;
    }

    pub(crate) fn close(&self) -> Vec<InboxCall> {
        self.closed.store(true, Ordering::Release);
        self.take_batch()
    }

    pub(crate) fn wakes(&self) -> u64 {
        self.wakes.load(Ordering::Relaxed)
    }
}

/// The part of a reactor other threads may hold: `Send + Sync + Clone`.
///
/// Its one job is [`call_from_thread`](ReactorHandle::call_from_thread): hand
/// the reactor a closure to run on its own thread, where it gets the
/// [`Reactor`] and may touch anything. Calling reactor APIs directly from
/// another thread, the classic Twisted bug, does not compile: `Reactor` is
/// not `Send`.
///
/// ```
/// use std::time::Duration;
/// use std::sync::mpsc;
/// use twine_core::task::Clock;
///
/// let clock = Clock::new();
/// let handle = clock.reactor().handle();
/// let (tx, rx) = mpsc::channel();
/// std::thread::spawn(move || {
///     handle.call_from_thread(move |reactor| {
///         tx.send(reactor.seconds()).unwrap();
///     });
/// })
/// .join()
/// .unwrap();
/// clock.advance(Duration::ZERO); // the next turn drains the inbox
/// assert_eq!(rx.try_recv().unwrap().as_secs_f64(), 0.0);
/// ```
#[derive(Clone)]
pub struct ReactorHandle {
    pub(crate) inbox: Arc<Inbox>,
}

impl ReactorHandle {
    /// Queues `f` to run on the reactor's thread in its next turn, after
    /// everything queued before it (FIFO). Returns `false`, dropping `f`,
    /// when the reactor no longer exists.
    pub fn call_from_thread(&self, f: impl FnOnce(&Reactor) + Send + 'static) -> bool {
        self.inbox.push(Box::new(f))
    }

    /// Calls waiting in the inbox.
    pub fn inbox_depth(&self) -> usize {
        self.inbox.len()
    }

    /// How many times the driver's waker has been called: once per
    /// empty-to-non-empty edge of the inbox, not once per call.
    pub fn wakes(&self) -> u64 {
        self.inbox.wakes()
    }

    /// Whether the reactor is gone; calls are then dropped.
    pub fn is_closed(&self) -> bool {
        self.inbox.closed.load(Ordering::Acquire)
    }
}

impl fmt::Debug for ReactorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReactorHandle").field("inbox_depth", &self.inbox_depth()).finish()
    }
}
