//! [`DeferredQueue`]: a queue whose `get` returns a Deferred.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::lock::{waiter, Waiters};
use super::{fail, succeed, Deferred, Failure, FailureKind};

struct QueueInner<T: 'static> {
    pending: RefCell<VecDeque<T>>,
    waiting: Waiters<T>,
    size: Option<usize>,
    backlog: Option<usize>,
}

/// A FIFO queue for the reactor thread: Twisted's `DeferredQueue`.
///
/// [`get`](Self::get) returns a Deferred that fires with the next item: at
/// once if one is queued, otherwise when someone [`put`](Self::put)s one.
/// Items go to waiting getters first come, first served. Two limits, both
/// optional: `size` caps the items queued (a `put` beyond it fails with
/// `QueueOverflow`), `backlog` caps the getters waiting (a `get` beyond it
/// fails with `QueueUnderflow`). Cancelling a waiting `get` takes it out of
/// the line; an item put later goes to the next getter or stays queued.
/// Clones are the same queue.
///
/// ```
/// use twine_core::defer::{DeferredQueue, FailureKind};
///
/// let queue = DeferredQueue::bounded(Some(1), Some(1));
/// let waiting = queue.get(); // nothing queued: waits
/// queue.put("a").unwrap(); // goes straight to the waiting getter
/// assert!(waiting.has_result());
/// queue.put("b").unwrap();
/// let overflow = queue.put("c").unwrap_err();
/// assert!(overflow.check(FailureKind::QueueOverflow));
/// assert_eq!(queue.len(), 1);
/// ```
pub struct DeferredQueue<T: 'static> {
    inner: Rc<QueueInner<T>>,
}

impl<T: 'static> Clone for DeferredQueue<T> {
    fn clone(&self) -> Self {
        DeferredQueue { inner: self.inner.clone() }
    }
}

impl<T: 'static> Default for DeferredQueue<T> {
    fn default() -> Self {
        DeferredQueue::new()
    }
}

impl<T: 'static> fmt::Debug for DeferredQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredQueue")
            .field("len", &self.len())
            .field("waiting", &self.waiting())
            .field("size", &self.inner.size)
            .field("backlog", &self.inner.backlog)
            .finish()
    }
}

impl<T: 'static> DeferredQueue<T> {
    /// A queue with no limits.
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::<u8>::new();
    /// assert!(queue.is_empty() && !queue.is_full());
    /// ```
    pub fn new() -> DeferredQueue<T> {
        DeferredQueue::bounded(None, None)
    }

    /// A queue holding at most `size` items and `backlog` waiting getters
    /// (`None`: no limit). Twisted's `DeferredQueue(size, backlog)`.
    ///
    /// ```
    /// use twine_core::defer::{DeferredQueue, FailureKind};
    ///
    /// let queue = DeferredQueue::<u8>::bounded(None, Some(1));
    /// let _first = queue.get();
    /// let second = queue.get(); // one getter may wait, not two
    /// second.add_errback(|f| {
    ///     assert!(f.check(FailureKind::QueueUnderflow));
    ///     0
    /// });
    /// ```
    pub fn bounded(size: Option<usize>, backlog: Option<usize>) -> DeferredQueue<T> {
        DeferredQueue {
            inner: Rc::new(QueueInner {
                pending: RefCell::new(VecDeque::new()),
                waiting: Waiters::default(),
                size,
                backlog,
            }),
        }
    }

    /// Items queued, waiting for a getter.
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::new();
    /// queue.put('a').unwrap();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.pending.borrow().len()
    }

    /// The items queued, oldest first (Twisted's `pending`).
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::new();
    /// queue.put('a').unwrap();
    /// queue.put('b').unwrap();
    /// assert_eq!(queue.pending(), ['a', 'b']);
    /// ```
    pub fn pending(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.inner.pending.borrow().iter().cloned().collect()
    }

    /// The most items it holds (`None`: no limit), as made by [`bounded`](Self::bounded).
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::<u8>::bounded(Some(2), Some(1));
    /// assert_eq!((queue.size(), queue.backlog()), (Some(2), Some(1)));
    /// ```
    pub fn size(&self) -> Option<usize> {
        self.inner.size
    }

    /// The most getters it lets wait (`None`: no limit).
    ///
    /// ```
    /// assert_eq!(twine_core::defer::DeferredQueue::<u8>::new().backlog(), None);
    /// ```
    pub fn backlog(&self) -> Option<usize> {
        self.inner.backlog
    }

    /// Whether no items are queued.
    ///
    /// ```
    /// assert!(twine_core::defer::DeferredQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a `put` now would overflow.
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::bounded(Some(1), None);
    /// queue.put(1).unwrap();
    /// assert!(queue.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.waiting() == 0 && self.inner.size.is_some_and(|size| self.len() >= size)
    }

    /// Getters waiting for an item.
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::<u8>::new();
    /// let _next = queue.get();
    /// assert_eq!(queue.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        self.inner.waiting.len()
    }

    /// The Deferreds of the getters waiting, longest-waiting first
    /// (Twisted's `waiting`).
    ///
    /// ```
    /// let queue = twine_core::defer::DeferredQueue::<u8>::new();
    /// let next = queue.get();
    /// assert_eq!(queue.waiters()[0].id(), next.id());
    /// ```
    pub fn waiters(&self) -> Vec<Deferred<T>> {
        self.inner.waiting.all()
    }

    /// Adds `item`: it goes to the longest-waiting getter (whose Deferred
    /// fires now), or joins the queue. Fails with `QueueOverflow`, dropping
    /// `item`, when the queue already holds `size` items; check
    /// [`is_full`](Self::is_full) first to keep it (nothing can change in
    /// between: the queue lives on the reactor thread).
    ///
    /// ```
    /// use twine_core::defer::{DeferredQueue, FailureKind};
    ///
    /// let queue = DeferredQueue::bounded(Some(1), None);
    /// queue.put("job 1").unwrap();
    /// if queue.is_full() {
    ///     // shed load instead of losing the item
    /// }
    /// assert!(queue.put("job 2").unwrap_err().check(FailureKind::QueueOverflow));
    /// ```
    pub fn put(&self, item: T) -> Result<(), Failure> {
        if let Some(getter) = self.inner.waiting.pop() {
            let _ = getter.callback(item);
            return Ok(());
        }
        let mut pending = self.inner.pending.borrow_mut();
        if let Some(size) = self.inner.size.filter(|&size| pending.len() >= size) {
            return Err(Failure::new(FailureKind::QueueOverflow, format!("DeferredQueue is full ({size} items)")));
        }
        pending.push_back(item);
        Ok(())
    }

    /// A Deferred for the next item: fired at once if one is queued,
    /// otherwise when one is put. Fails at once with `QueueUnderflow` when
    /// `backlog` getters are already waiting.
    ///
    /// ```
    /// use twine_core::defer::DeferredQueue;
    ///
    /// let queue = DeferredQueue::new();
    /// let next = queue.get();
    /// assert!(!next.called());
    /// queue.put(5).unwrap();
    /// next.add_callback(|n| {
    ///     assert_eq!(n, 5);
    ///     n
    /// });
    /// ```
    pub fn get(&self) -> Deferred<T> {
        let item = self.inner.pending.borrow_mut().pop_front();
        if let Some(item) = item {
            return succeed(item);
        }
        if let Some(backlog) = self.inner.backlog.filter(|&backlog| self.waiting() >= backlog) {
            return fail(Failure::new(
                FailureKind::QueueUnderflow,
                format!("DeferredQueue has {backlog} getters waiting already (the backlog limit)"),
            ));
        }
        let d = waiter(&self.inner, |queue| &queue.waiting);
        self.inner.waiting.push(d.clone());
        d
    }
}
