//! The cross-thread inbox behind `call_from_thread`, and [`ReactorHandle`].
//!
//! The only reactor state another thread may touch. Calls travel through the
//! standard library's lock-free channel; a counter of calls sent but not yet
//! taken tells the producers when the inbox goes from empty to non-empty, and
//! only then is the driver's waker called, so a burst of calls from many
//! threads costs one wake. The reactor takes a whole batch at the start of a
//! turn: the calls counted when the turn began.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(target_arch = "wasm32"))]
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use super::Reactor;
use crate::time::Time;

pub(crate) type InboxCall = Box<dyn FnOnce(&Reactor) + Send>;

/// What a driver calls to wake its loop when the inbox stops being empty.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The driver's clock, as other threads may read it.
pub(crate) type SharedClock = Arc<dyn Fn() -> Time + Send + Sync>;

/// The calls in flight: the standard library's lock-free channel.
#[cfg(not(target_arch = "wasm32"))]
struct Queue {
    sender: Sender<InboxCall>,
    /// Only the reactor's thread takes from it; the lock is never contended.
    receiver: Mutex<Receiver<InboxCall>>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Queue {
    fn new() -> Queue {
        let (sender, receiver) = mpsc::channel();
        Queue { sender, receiver: Mutex::new(receiver) }
    }

    fn send(&self, call: InboxCall) -> bool {
        self.sender.send(call).is_ok()
    }

    /// Takes up to `n` calls, in the order they were sent, into `out`;
    /// returns how many were taken.
    fn take(&self, n: usize, out: &mut impl FnMut(InboxCall)) -> usize {
        let receiver = self.receiver.lock().unwrap_or_else(PoisonError::into_inner);
        take_up_to(n, || receiver.try_recv().ok(), out)
    }
}

/// The calls in flight, in the browser build: wasm32-unknown-unknown runs
/// one thread, so a locked queue (never contended) does what the channel
/// does, without the channel's code (2.3 KB of the light module's brotli).
#[cfg(target_arch = "wasm32")]
struct Queue(Mutex<VecDeque<InboxCall>>);

#[cfg(target_arch = "wasm32")]
impl Queue {
    fn new() -> Queue {
        Queue(Mutex::new(VecDeque::new()))
    }

    fn send(&self, call: InboxCall) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push_back(call);
        true
    }

    /// Takes up to `n` calls, in the order they were sent, into `out`;
    /// returns how many were taken.
    fn take(&self, n: usize, out: &mut impl FnMut(InboxCall)) -> usize {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        take_up_to(n, || queue.pop_front(), out)
    }
}

/// Moves up to `n` calls from `next` into `out`, stopping when `next` has
/// none; returns how many it moved.
fn take_up_to(n: usize, mut next: impl FnMut() -> Option<InboxCall>, out: &mut impl FnMut(InboxCall)) -> usize {
    let mut taken = 0;
    while taken < n {
        let Some(call) = next() else { break };
        out(call);
        taken += 1;
    }
    taken
}

pub(crate) struct Inbox {
    queue: Queue,
    /// Calls sent and not yet taken. A call is counted just after it is sent,
    /// so the count never exceeds what the channel holds.
    pending: AtomicUsize,
    waker: Mutex<Option<Waker>>,
    /// The driver's clock, when it shares one with other threads.
    clock: Mutex<Option<SharedClock>>,
    closed: AtomicBool,
    wakes: AtomicU64,
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox {
            queue: Queue::new(),
            pending: AtomicUsize::new(0),
            waker: Mutex::new(None),
            clock: Mutex::new(None),
            closed: AtomicBool::new(false),
            wakes: AtomicU64::new(0),
        }
    }
}

impl Inbox {
    pub(crate) fn push(&self, call: InboxCall) -> bool {
        if self.closed.load(Ordering::Acquire) || !self.queue.send(call) {
            return false;
        }
        if self.pending.fetch_add(1, Ordering::AcqRel) == 0 {
            self.wakes.fetch_add(1, Ordering::Relaxed);
            let waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if let Some(wake) = waker {
                wake();
            }
        }
        true
    }

    /// Moves the calls counted so far into `batch`, in the order they were sent.
    pub(crate) fn take_batch(&self, batch: &mut VecDeque<InboxCall>) {
        let counted = self.pending.load(Ordering::Acquire);
        if counted == 0 {
            return;
        }
        let taken = self.queue.take(counted, &mut |call| batch.push_back(call));
        self.pending.fetch_sub(taken, Ordering::AcqRel);
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    pub(crate) fn set_waker(&self, waker: Option<Waker>) {
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = waker;
    }

    pub(crate) fn share_clock(&self, clock: SharedClock) {
        *self.clock.lock().unwrap_or_else(PoisonError::into_inner) = Some(clock);
    }

    fn seconds(&self) -> Option<Time> {
        let clock = self.clock.lock().unwrap_or_else(PoisonError::into_inner).clone();
        clock.map(|now| now())
    }

    /// Refuses new calls and drops the queued ones (on the reactor's thread).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.queue.take(usize::MAX, &mut drop);
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
    ///
    /// `f` must be `Send`, so it cannot capture what lives on the reactor
    /// thread (a `DeferredQueue`, a protocol's state: they are `Rc`s). Carry
    /// plain data over and find the reactor-side object from there: a
    /// connection's transport by its id with [`Reactor::transport`], other
    /// state through a `thread_local!` that the reactor thread set up (as
    /// Twisted code reaches module globals from `callFromThread`):
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::time::Duration;
    /// use twine_core::defer::DeferredQueue;
    /// use twine_core::task::Clock;
    ///
    /// thread_local! {
    ///     // Made and used only on the reactor's thread.
    ///     static RESULTS: RefCell<Option<DeferredQueue<u32>>> = const { RefCell::new(None) };
    /// }
    ///
    /// let clock = Clock::new();
    /// let queue = DeferredQueue::new();
    /// RESULTS.with(|r| *r.borrow_mut() = Some(queue.clone()));
    /// let handle = clock.reactor().handle();
    /// std::thread::spawn(move || {
    ///     handle.call_from_thread(|_| RESULTS.with(|r| r.borrow().as_ref().unwrap().put(7).unwrap()));
    /// })
    /// .join()
    /// .unwrap();
    /// clock.advance(Duration::ZERO);
    /// queue.get().add_callback(|n| {
    ///     assert_eq!(n, 7);
    ///     n
    /// });
    /// ```
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

    /// The reactor's time, read on the calling thread, when the driver
    /// shares its clock ([`ReactorDriver::share_clock`]); `None` otherwise.
    /// A thread that records when something happened to it (a pool thread
    /// taking a job) reads it here, on the reactor's time axis, instead of
    /// leaving the time to when the reactor hears of it.
    ///
    /// [`ReactorDriver::share_clock`]: crate::ReactorDriver::share_clock
    ///
    /// ```
    /// use twine_core::{ReactorDriver, Time};
    ///
    /// let reactor = ReactorDriver::new();
    /// let handle = reactor.handle();
    /// assert_eq!(handle.seconds(), None);
    /// reactor.share_clock(|| Time::from_millis(42));
    /// let read = std::thread::spawn(move || handle.seconds()).join().unwrap();
    /// assert_eq!(read, Some(Time::from_millis(42)));
    /// ```
    pub fn seconds(&self) -> Option<Time> {
        self.inbox.seconds()
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
