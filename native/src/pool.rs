//! The OS thread pool behind `defer_to_thread`: Twisted's `reactor.getThreadPool()`.
//!
//! Threads are started on demand up to the pool's size (Twisted's default,
//! 10) and named `twine-worker-N`, so they are easy to find in `top -H`, a
//! debugger or a panic message. Jobs wait in a bounded FIFO queue; when it is
//! full, [`submit`](ThreadPool::submit) refuses with a message that says so,
//! and the job's Deferred fails with
//! [`FailureKind::PoolUnavailable`](twine_core::defer::FailureKind::PoolUnavailable)
//! instead of memory growing without limit. [`Job::run`] catches a panic in a
//! job and turns it into a failure, so a worker survives any job.
//!
//! Shutting down is two steps, so the reactor can keep serving
//! `blocking_call_from_thread` while workers finish:
//! [`begin_shutdown`](OsThreadPool::begin_shutdown) cancels the jobs still
//! queued and tells idle workers to leave, then
//! [`try_join`](OsThreadPool::try_join) joins those that have left.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use twine_native::pool::OsThreadPool;
//!
//! let pool = OsThreadPool::new(2, 16);
//! assert_eq!(pool.stats().threads, 0); // threads start when work arrives
//! pool.begin_shutdown();
//! assert_eq!(pool.try_join(Instant::now() + Duration::from_secs(1)), 0);
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use twine_core::threads::{Job, PoolRefused, PoolStats, ThreadPool};

/// Twisted's default pool size.
pub const DEFAULT_THREADS: usize = 10;

/// The default limit on jobs waiting for a thread.
pub const DEFAULT_MAX_QUEUED: usize = 1024;

/// A pool of OS threads running [`Job`]s. Cheap to clone: clones are the
/// same pool.
#[derive(Clone)]
pub struct OsThreadPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    max_queued: usize,
    // Mirrors of the state, so metrics read them without the lock.
    live: AtomicUsize,
    queued: AtomicUsize,
    busy: AtomicUsize,
    completed: AtomicU64,
}

struct State {
    queue: VecDeque<Job>,
    target: usize,
    live: usize,
    idle: usize,
    started: usize,
    shutdown: bool,
    handles: Vec<JoinHandle<()>>,
}

impl OsThreadPool {
    /// A pool of at most `threads` threads (at least one) and at most
    /// `max_queued` jobs waiting for one.
    pub fn new(threads: usize, max_queued: usize) -> OsThreadPool {
        OsThreadPool {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    target: threads.max(1),
                    live: 0,
                    idle: 0,
                    started: 0,
                    shutdown: false,
                    handles: Vec::new(),
                }),
                work: Condvar::new(),
                max_queued,
                live: AtomicUsize::new(0),
                queued: AtomicUsize::new(0),
                busy: AtomicUsize::new(0),
                completed: AtomicU64::new(0),
            }),
        }
    }

    /// The pool's counters, read without taking its lock.
    pub fn stats(&self) -> PoolStats {
        let s = &self.shared;
        PoolStats {
            threads: s.live.load(Ordering::Relaxed),
            queued: s.queued.load(Ordering::Relaxed),
            busy: s.busy.load(Ordering::Relaxed),
            completed: s.completed.load(Ordering::Relaxed),
        }
    }

    /// Refuses new jobs, cancels (drops) the jobs still waiting, and tells
    /// workers to leave once their current job is done. Returns how many
    /// queued jobs were cancelled. Their Deferreds never fire: the reactor is
    /// going away.
    pub fn begin_shutdown(&self) -> usize {
        let cancelled: Vec<Job> = {
            let mut state = self.shared.lock();
            state.shutdown = true;
            self.shared.queued.store(0, Ordering::Relaxed);
            state.queue.drain(..).collect()
        };
        self.shared.work.notify_all();
        let n = cancelled.len();
        if n > 0 {
            tracing::warn!("thread pool shutting down: cancelled {n} queued job(s)");
        }
        n
    }

    /// Joins the workers that have finished, waiting for the others until
    /// `deadline` at the latest. Returns how many are still running (stuck
    /// in a job); those are left to end with the process.
    pub fn try_join(&self, deadline: Instant) -> usize {
        loop {
            let remaining = self.join_finished();
            if remaining == 0 || Instant::now() >= deadline {
                return remaining;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Joins finished workers without waiting; returns how many still run.
    pub fn join_finished(&self) -> usize {
        let finished: Vec<JoinHandle<()>> = {
            let mut state = self.shared.lock();
            let (done, running) = std::mem::take(&mut state.handles).into_iter().partition(|h| h.is_finished());
            state.handles = running;
            done
        };
        for handle in finished {
            let _ = handle.join();
        }
        self.shared.lock().handles.len()
    }

    fn spawn_worker(&self, state: &mut State) -> std::io::Result<()> {
        state.started += 1;
        let number = state.started as u32;
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("twine-worker-{number}"))
            .spawn(move || shared.work_loop(number))?;
        state.live += 1;
        self.shared.live.store(state.live, Ordering::Relaxed);
        state.handles.push(handle);
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock means nothing half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn work_loop(&self, number: u32) {
        let mut state = self.lock();
        loop {
            if state.live > state.target || (state.shutdown && state.queue.is_empty()) {
                break;
            }
            if let Some(job) = state.queue.pop_front() {
                self.queued.store(state.queue.len(), Ordering::Relaxed);
                self.busy.fetch_add(1, Ordering::Relaxed);
                drop(state);
                job.run(number);
                self.busy.fetch_sub(1, Ordering::Relaxed);
                self.completed.fetch_add(1, Ordering::Relaxed);
                state = self.lock();
                continue;
            }
            state.idle += 1;
            state = self.work.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
        }
        state.live -= 1;
        self.live.store(state.live, Ordering::Relaxed);
    }
}

impl ThreadPool for OsThreadPool {
    fn submit(&self, job: Job) -> Result<(), PoolRefused> {
        let mut state = self.shared.lock();
        if state.shutdown {
            return Err(PoolRefused(format!("thread pool is shutting down; job '{}' was not run", job.name())));
        }
        if state.queue.len() >= self.shared.max_queued {
            return Err(PoolRefused(format!(
                "thread pool queue is full: {} jobs are waiting for {} busy threads (limit {}); job '{}' was not run",
                state.queue.len(),
                state.live,
                self.shared.max_queued,
                job.name()
            )));
        }
        if state.idle == 0 && state.live < state.target {
            if let Err(e) = self.spawn_worker(&mut state) {
                tracing::error!("cannot start a pool thread: {e}");
                if state.live == 0 {
                    return Err(PoolRefused(format!(
                        "cannot start a pool thread: {e}; job '{}' was not run",
                        job.name()
                    )));
                }
            }
        }
        state.queue.push_back(job);
        self.shared.queued.store(state.queue.len(), Ordering::Relaxed);
        drop(state);
        self.shared.work.notify_one();
        Ok(())
    }

    fn suggest_size(&self, threads: usize) {
        let mut state = self.shared.lock();
        state.target = threads.max(1);
        // Extra threads notice on their next wake and leave; new ones start on demand.
        drop(state);
        self.shared.work.notify_all();
    }

    fn stats(&self) -> PoolStats {
        OsThreadPool::stats(self)
    }
}

impl std::fmt::Debug for OsThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsThreadPool").field("stats", &self.stats()).finish()
    }
}
