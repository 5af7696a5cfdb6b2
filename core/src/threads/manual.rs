use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use super::{Job, PoolRefused, PoolStats, ThreadPool};

/// A deterministic pool for tests: it queues jobs and runs them on the
/// calling thread only when told to. Results still travel through the
/// reactor's inbox, exactly as from a real pool.
///
/// ```
/// use twine_core::threads::{call_in_thread, ManualPool};
/// use twine_core::ReactorDriver;
///
/// let reactor = ReactorDriver::new();
/// let pool = ManualPool::with_capacity(1);
/// reactor.set_thread_pool(pool.clone());
/// call_in_thread(&reactor, || {});
/// call_in_thread(&reactor, || {}); // refused: the queue holds one
/// assert_eq!(pool.queued(), 1);
/// assert!(pool.run_next());
/// assert!(!pool.run_next());
/// ```
#[derive(Clone, Default)]
pub struct ManualPool {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    queue: RefCell<VecDeque<Job>>,
    capacity: Cell<Option<usize>>,
    threads: Cell<usize>,
    completed: Cell<u64>,
}

impl ManualPool {
    /// A pool with an unbounded queue.
    ///
    /// ```
    /// assert_eq!(twine_core::threads::ManualPool::new().queued(), 0);
    /// ```
    pub fn new() -> ManualPool {
        let pool = ManualPool::default();
        pool.inner.threads.set(1);
        pool
    }

    /// A pool whose queue refuses jobs beyond `capacity` (see the type's
    /// example).
    pub fn with_capacity(capacity: usize) -> ManualPool {
        let pool = ManualPool::new();
        pool.inner.capacity.set(Some(capacity));
        pool
    }

    /// Jobs waiting (see the type's example).
    pub fn queued(&self) -> usize {
        self.inner.queue.borrow().len()
    }

    /// Names of the waiting jobs, oldest first.
    ///
    /// ```
    /// use twine_core::threads::{call_in_thread, defer_to_thread, ManualPool};
    ///
    /// let reactor = twine_core::ReactorDriver::new();
    /// let pool = ManualPool::new();
    /// reactor.set_thread_pool(pool.clone());
    /// let _d = defer_to_thread(&reactor, || 1);
    /// call_in_thread(&reactor, || {});
    /// assert_eq!(pool.queued_names(), ["job", "call_in_thread"]);
    /// ```
    pub fn queued_names(&self) -> Vec<String> {
        self.inner.queue.borrow().iter().map(|j| j.name().to_owned()).collect()
    }

    /// Runs the oldest job, as pool thread 1. Returns whether there was one.
    /// Its result reaches the reactor in the next turn, through the inbox.
    pub fn run_next(&self) -> bool {
        let job = self.inner.queue.borrow_mut().pop_front();
        match job {
            Some(job) => {
                job.run(1);
                self.inner.completed.set(self.inner.completed.get() + 1);
                true
            }
            None => false,
        }
    }

    /// Runs jobs until none are left (including jobs queued meanwhile).
    /// Returns how many ran.
    ///
    /// ```
    /// use twine_core::threads::{call_in_thread, ManualPool};
    ///
    /// let reactor = twine_core::ReactorDriver::new();
    /// let pool = ManualPool::new();
    /// reactor.set_thread_pool(pool.clone());
    /// call_in_thread(&reactor, || {});
    /// call_in_thread(&reactor, || {});
    /// assert_eq!(pool.run_all(), 2);
    /// ```
    pub fn run_all(&self) -> usize {
        let mut n = 0;
        while self.run_next() {
            n += 1;
        }
        n
    }

    /// The size last suggested with `suggest_thread_pool_size` (see
    /// [`suggest_thread_pool_size`](super::suggest_thread_pool_size)).
    pub fn suggested_size(&self) -> usize {
        self.inner.threads.get()
    }
}

impl ThreadPool for ManualPool {
    fn submit(&self, job: Job) -> Result<(), PoolRefused> {
        let mut queue = self.inner.queue.borrow_mut();
        if self.inner.capacity.get().is_some_and(|cap| queue.len() >= cap) {
            return Err(PoolRefused(format!("thread pool queue is full ({} jobs waiting)", queue.len())));
        }
        queue.push_back(job);
        Ok(())
    }

    fn suggest_size(&self, threads: usize) {
        self.inner.threads.set(threads);
    }

    fn stats(&self) -> PoolStats {
        PoolStats {
            threads: self.inner.threads.get(),
            queued: self.queued(),
            busy: 0,
            completed: self.inner.completed.get(),
        }
    }
}
