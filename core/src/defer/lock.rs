//! Deferred-returning concurrency primitives: [`DeferredLock`] and
//! [`DeferredSemaphore`], Twisted's `_ConcurrencyPrimitive`s.
//!
//! Nothing blocks: `acquire` returns a Deferred that fires when the lock or
//! a token is yours, waiters are served first come, first served, and
//! cancelling a waiter's Deferred takes it out of the line.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};

use super::{maybe_deferred, Deferred, IntoOutcome, Outcome};

/// A line of Deferreds waiting for a lock, a token or a queue item.
pub(crate) struct Waiters<T: 'static> {
    line: RefCell<VecDeque<Deferred<T>>>,
}

impl<T: 'static> Default for Waiters<T> {
    fn default() -> Self {
        Waiters { line: RefCell::new(VecDeque::new()) }
    }
}

impl<T: 'static> Waiters<T> {
    pub(crate) fn len(&self) -> usize {
        self.line.borrow().len()
    }

    /// The waiting Deferreds, first in line first.
    pub(crate) fn all(&self) -> Vec<Deferred<T>> {
        self.line.borrow().iter().cloned().collect()
    }

    pub(crate) fn push(&self, d: Deferred<T>) {
        self.line.borrow_mut().push_back(d);
    }

    pub(crate) fn pop(&self) -> Option<Deferred<T>> {
        self.line.borrow_mut().pop_front()
    }

    /// Takes a cancelled waiter out of the line.
    pub(crate) fn remove(&self, d: &Deferred<T>) {
        let removed = {
            let mut line = self.line.borrow_mut();
            line.iter().position(|w| w.ptr_eq(d)).and_then(|i| line.remove(i))
        };
        drop(removed);
    }
}

/// A waiter's Deferred: cancelling it takes it out of `owner`'s line.
pub(crate) fn waiter<O: 'static, T: 'static>(owner: &Rc<O>, line: fn(&O) -> &Waiters<T>) -> Deferred<T> {
    // Weak: the owner holds the waiter in its line.
    let owner: Weak<O> = Rc::downgrade(owner);
    Deferred::with_canceller(move |d| {
        if let Some(owner) = owner.upgrade() {
            line(&owner).remove(d);
        }
    })
}

/// Runs `f` once `acquired` fires, then gives the lock or token back with
/// `release`, whatever `f` did. Cancelling the returned Deferred while still
/// waiting leaves the line; while `f`'s Deferred runs, cancels that.
fn run_with<U: 'static, R: IntoOutcome<U>>(
    acquired: Deferred<()>,
    release: impl FnOnce() + 'static,
    f: impl FnOnce() -> R + 'static,
) -> Deferred<U> {
    acquired.then_both(move |got| match got {
        Ok(()) => {
            let d: Deferred<U> = maybe_deferred(f);
            d.add_both(move |result| {
                release();
                result
            });
            Outcome::Deferred(d)
        }
        Err(failure) => Outcome::Failure(failure),
    })
}

/// Returned by `release` on a lock or semaphore that has nothing to give
/// back: a release without a matching acquire.
///
/// ```
/// use twine_core::defer::DeferredLock;
///
/// let err = DeferredLock::new().release().unwrap_err();
/// assert_eq!(err.to_string(), "released a DeferredLock that is not locked");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAcquired(&'static str);

impl fmt::Display for NotAcquired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for NotAcquired {}

#[derive(Default)]
struct LockInner {
    locked: Cell<bool>,
    waiting: Waiters<()>,
}

/// A lock for the reactor thread: Twisted's `DeferredLock`.
///
/// [`acquire`](Self::acquire) returns a Deferred that fires once the lock
/// is yours (at once if it is free); [`release`](Self::release) hands it to
/// the next waiter in line. [`run`](Self::run) does both around a function.
/// Clones are the same lock.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use twine_core::defer::{Deferred, DeferredLock};
///
/// let lock = DeferredLock::new();
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let slow = Deferred::<()>::new();
/// let (s, l) = (slow.clone(), log.clone());
/// let _first: Deferred<()> = lock.run(move || {
///     l.borrow_mut().push("first starts");
///     s // holds the lock until `slow` fires
/// });
/// let l = log.clone();
/// let second = lock.run(move || l.borrow_mut().push("second runs"));
/// assert_eq!(*log.borrow(), ["first starts"]);
/// slow.callback(()).unwrap();
/// assert_eq!(*log.borrow(), ["first starts", "second runs"]);
/// assert!(second.has_result() && !lock.locked());
/// ```
#[derive(Clone, Default)]
pub struct DeferredLock {
    inner: Rc<LockInner>,
}

impl fmt::Debug for DeferredLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredLock").field("locked", &self.locked()).field("waiting", &self.waiting()).finish()
    }
}

impl DeferredLock {
    /// An unlocked lock.
    ///
    /// ```
    /// let lock = twine_core::defer::DeferredLock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> DeferredLock {
        DeferredLock::default()
    }

    /// Whether someone holds the lock.
    ///
    /// ```
    /// let lock = twine_core::defer::DeferredLock::new();
    /// let _mine = lock.acquire();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.inner.locked.get()
    }

    /// How many `acquire`s are waiting.
    ///
    /// ```
    /// let lock = twine_core::defer::DeferredLock::new();
    /// let _first = lock.acquire();
    /// let _second = lock.acquire();
    /// assert_eq!(lock.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        self.inner.waiting.len()
    }

    /// A Deferred that fires once the lock is yours: at once if it is free,
    /// otherwise after the waiters before you. Cancelling it while it waits
    /// takes you out of the line (it fails with `Cancelled`); once it fired,
    /// cancelling does nothing and you hold the lock.
    ///
    /// ```
    /// use twine_core::defer::DeferredLock;
    ///
    /// let lock = DeferredLock::new();
    /// let first = lock.acquire();
    /// assert!(first.has_result());
    /// let second = lock.acquire();
    /// second.cancel(); // gives up waiting
    /// second.add_errback(|_| ()); // handle the Cancelled failure
    /// assert_eq!(lock.waiting(), 0);
    /// lock.release().unwrap();
    /// assert!(!lock.locked());
    /// ```
    pub fn acquire(&self) -> Deferred<()> {
        let d = waiter(&self.inner, |lock| &lock.waiting);
        if self.inner.locked.get() {
            self.inner.waiting.push(d.clone());
        } else {
            self.inner.locked.set(true);
            let _ = d.callback(());
        }
        d
    }

    /// Releases the lock; the first waiter in line gets it (its Deferred
    /// fires now). Errors if the lock is not held.
    ///
    /// ```
    /// use twine_core::defer::DeferredLock;
    ///
    /// let lock = DeferredLock::new();
    /// let _first = lock.acquire();
    /// let second = lock.acquire();
    /// lock.release().unwrap(); // hands it straight to `second`
    /// assert!(second.has_result() && lock.locked());
    /// ```
    pub fn release(&self) -> Result<(), NotAcquired> {
        if !self.inner.locked.get() {
            return Err(NotAcquired("released a DeferredLock that is not locked"));
        }
        self.inner.locked.set(false);
        if let Some(next) = self.inner.waiting.pop() {
            self.inner.locked.set(true);
            let _ = next.callback(());
        }
        Ok(())
    }

    /// Runs `f` holding the lock and releases it when `f`'s result (a value,
    /// a failure, a panic, or a Deferred that fires later) is there. The
    /// returned Deferred has that result. Cancelling it while it waits for
    /// the lock leaves the line; while `f`'s Deferred is pending, cancels
    /// that one. When `f` returns a Deferred, name the result type.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, DeferredLock, Failure, FailureKind};
    ///
    /// let lock = DeferredLock::new();
    /// let write = Deferred::<u64>::new();
    /// let w = write.clone();
    /// let written: Deferred<u64> = lock.run(move || w); // held until `write` fires
    /// assert!(lock.locked());
    /// write.errback(Failure::new(FailureKind::Error, "disk full")).unwrap();
    /// assert!(!lock.locked()); // released on failure too
    /// written.add_errback(|f| {
    ///     assert_eq!(f.message(), "disk full");
    ///     0
    /// });
    /// ```
    pub fn run<U: 'static, R: IntoOutcome<U>>(&self, f: impl FnOnce() -> R + 'static) -> Deferred<U> {
        let lock = self.clone();
        run_with(self.acquire(), move || drop(lock.release()), f)
    }
}

struct SemaphoreInner {
    limit: usize,
    tokens: Cell<usize>,
    waiting: Waiters<()>,
}

/// At most `limit` holders at a time: Twisted's `DeferredSemaphore`.
///
/// Each [`acquire`](Self::acquire) takes a token, or waits in line for one;
/// [`release`](Self::release) gives it back to the next waiter.
/// [`run`](Self::run) does both around a function, which is the usual way to
/// cap concurrency. Clones are the same semaphore.
///
/// ```
/// use twine_core::defer::{Deferred, DeferredSemaphore};
///
/// let sem = DeferredSemaphore::new(2);
/// let jobs: Vec<Deferred<()>> = (0..3).map(|_| Deferred::new()).collect();
/// let runs: Vec<Deferred<()>> = jobs.iter().cloned().map(|job| sem.run(move || job)).collect();
/// assert_eq!((sem.tokens(), sem.waiting()), (0, 1)); // two run, one waits
/// jobs[0].callback(()).unwrap(); // frees a token: the third starts
/// assert_eq!((sem.tokens(), sem.waiting()), (0, 0));
/// jobs[1].callback(()).unwrap();
/// jobs[2].callback(()).unwrap();
/// assert_eq!(sem.tokens(), 2);
/// assert!(runs.iter().all(|r| r.has_result()));
/// ```
#[derive(Clone)]
pub struct DeferredSemaphore {
    inner: Rc<SemaphoreInner>,
}

impl fmt::Debug for DeferredSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredSemaphore")
            .field("limit", &self.limit())
            .field("tokens", &self.tokens())
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl DeferredSemaphore {
    /// A semaphore with `tokens` tokens.
    ///
    /// # Panics
    ///
    /// If `tokens` is zero: nobody could ever acquire it (Twisted raises
    /// `ValueError` likewise).
    ///
    /// ```
    /// let sem = twine_core::defer::DeferredSemaphore::new(4);
    /// assert_eq!((sem.limit(), sem.tokens()), (4, 4));
    /// ```
    pub fn new(tokens: usize) -> DeferredSemaphore {
        assert!(tokens >= 1, "DeferredSemaphore::new: tokens must be at least 1, got 0");
        DeferredSemaphore {
            inner: Rc::new(SemaphoreInner { limit: tokens, tokens: Cell::new(tokens), waiting: Waiters::default() }),
        }
    }

    /// The number of tokens it was made with.
    ///
    /// ```
    /// assert_eq!(twine_core::defer::DeferredSemaphore::new(2).limit(), 2);
    /// ```
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Tokens free now.
    ///
    /// ```
    /// let sem = twine_core::defer::DeferredSemaphore::new(2);
    /// let _held = sem.acquire();
    /// assert_eq!(sem.tokens(), 1);
    /// ```
    pub fn tokens(&self) -> usize {
        self.inner.tokens.get()
    }

    /// How many `acquire`s are waiting.
    ///
    /// ```
    /// let sem = twine_core::defer::DeferredSemaphore::new(1);
    /// let _held = sem.acquire();
    /// let _queued = sem.acquire();
    /// assert_eq!(sem.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        self.inner.waiting.len()
    }

    /// A Deferred that fires once you hold a token: at once if one is free,
    /// otherwise in line. Cancelling it while it waits takes you out of the
    /// line.
    ///
    /// ```
    /// use twine_core::defer::DeferredSemaphore;
    ///
    /// let sem = DeferredSemaphore::new(1);
    /// let held = sem.acquire();
    /// let queued = sem.acquire();
    /// assert!(held.has_result() && !queued.called());
    /// sem.release().unwrap();
    /// assert!(queued.has_result());
    /// ```
    pub fn acquire(&self) -> Deferred<()> {
        let d = waiter(&self.inner, |sem| &sem.waiting);
        let tokens = self.inner.tokens.get();
        if tokens > 0 {
            self.inner.tokens.set(tokens - 1);
            let _ = d.callback(());
        } else {
            self.inner.waiting.push(d.clone());
        }
        d
    }

    /// Gives a token back; the first waiter in line gets it. Errors if
    /// every token is already free.
    ///
    /// ```
    /// use twine_core::defer::DeferredSemaphore;
    ///
    /// let sem = DeferredSemaphore::new(1);
    /// assert!(sem.release().is_err()); // nothing was acquired
    /// let _held = sem.acquire();
    /// sem.release().unwrap();
    /// assert_eq!(sem.tokens(), 1);
    /// ```
    pub fn release(&self) -> Result<(), NotAcquired> {
        let tokens = self.inner.tokens.get();
        if tokens >= self.inner.limit {
            return Err(NotAcquired("released a DeferredSemaphore more times than it was acquired"));
        }
        match self.inner.waiting.pop() {
            Some(next) => {
                let _ = next.callback(());
            }
            None => self.inner.tokens.set(tokens + 1),
        }
        Ok(())
    }

    /// Runs `f` holding a token and gives it back when `f`'s result is
    /// there, as [`DeferredLock::run`] does with the lock.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, DeferredSemaphore};
    ///
    /// let sem = DeferredSemaphore::new(1);
    /// let fetch = Deferred::<&str>::new();
    /// let f = fetch.clone();
    /// let first: Deferred<&str> = sem.run(move || f);
    /// let second = sem.run(|| "second"); // waits for the token
    /// assert!(!second.called());
    /// fetch.callback("first").unwrap();
    /// assert!(first.has_result() && second.has_result());
    /// ```
    pub fn run<U: 'static, R: IntoOutcome<U>>(&self, f: impl FnOnce() -> R + 'static) -> Deferred<U> {
        let sem = self.clone();
        run_with(self.acquire(), move || drop(sem.release()), f)
    }
}
