//! The OS thread pool behind `defer_to_thread`: Twisted's `reactor.getThreadPool()`.
//!
//! Threads are started on demand up to the pool's size (Twisted's default,
//! 10) and named `twine-worker-N`, so they are easy to find in `top -H`, a
//! debugger or a panic message. As in Twisted's pool (`twisted._threads`'
//! `Team`), a job goes straight to an idle worker, or to a new one while
//! the pool may grow, and is taken there and then ([`Job::taken_by`]); only
//! jobs no worker can take wait, in a bounded FIFO queue, for the next
//! worker that finishes. So the queue's depth is the jobs waiting for a
//! thread, not the ones a thread was already given. When the queue is
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
    max_queued: usize,
    // Mirrors of the state, so metrics read them without the lock.
    live: AtomicUsize,
    queued: AtomicUsize,
    busy: AtomicUsize,
    completed: AtomicU64,
}

struct State {
    /// Jobs no worker could take yet (Twisted's `_pending`).
    queue: VecDeque<Job>,
    target: usize,
    live: usize,
    /// Idle workers, the last to go idle last, each with its own wake-up.
    idle: Vec<(u32, Arc<Condvar>)>,
    /// Jobs given to an idle worker that has not woken up yet.
    handed: Vec<(u32, Job)>,
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
                    idle: Vec::new(),
                    handed: Vec::new(),
                    started: 0,
                    shutdown: false,
                    handles: Vec::new(),
                }),
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
            state.wake_idle();
            state.queue.drain(..).collect()
        };
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

    /// Starts a worker whose first job is `job`, taken now; gives the job
    /// back if the thread cannot start.
    fn spawn_worker(&self, state: &mut State, job: Job) -> Result<(), (std::io::Error, Job)> {
        let number = state.started as u32 + 1;
        let shared = self.shared.clone();
        // The job crosses into the thread only once it started.
        let (first, slot) = std::sync::mpsc::sync_channel::<Job>(1);
        let spawned = std::thread::Builder::new().name(format!("twine-worker-{number}")).spawn(move || {
            if let Ok(job) = slot.recv() {
                shared.work_loop(number, Some(job));
            }
        });
        let handle = match spawned {
            Ok(handle) => handle,
            Err(e) => return Err((e, job)),
        };
        let mut job = job;
        job.taken_by(number);
        self.shared.busy.fetch_add(1, Ordering::Relaxed);
        let _ = first.send(job);
        state.started += 1;
        state.live += 1;
        self.shared.live.store(state.live, Ordering::Relaxed);
        state.handles.push(handle);
        Ok(())
    }
}

impl State {
    /// Wakes every idle worker to look at the pool again (to shut down or shrink).
    fn wake_idle(&self) {
        for (_, wake) in &self.idle {
            wake.notify_one();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock means nothing half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A worker's life: its first job, then queued jobs and jobs handed to
    /// it while idle, until the pool shrinks below it or shuts down.
    /// `busy` counts a job from when it is taken to when it ends.
    fn work_loop(&self, number: u32, first: Option<Job>) {
        let wake = Arc::new(Condvar::new());
        let mut next = first;
        loop {
            if let Some(job) = next.take() {
                job.run(number);
                self.busy.fetch_sub(1, Ordering::Relaxed);
                self.completed.fetch_add(1, Ordering::Relaxed);
            }
            let mut state = self.lock();
            let mut waited = false;
            loop {
                if let Some(i) = state.handed.iter().position(|(n, _)| *n == number) {
                    next = Some(state.handed.swap_remove(i).1);
                    break;
                }
                if state.live > state.target || (state.shutdown && state.queue.is_empty()) {
                    state.live -= 1;
                    self.live.store(state.live, Ordering::Relaxed);
                    return;
                }
                if let Some(mut job) = state.queue.pop_front() {
                    self.queued.store(state.queue.len(), Ordering::Relaxed);
                    self.busy.fetch_add(1, Ordering::Relaxed);
                    drop(state);
                    job.taken_by(number);
                    next = Some(job);
                    break;
                }
                if !waited {
                    state.idle.push((number, Arc::clone(&wake)));
                }
                waited = true;
                state = wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                // Still idle unless a job was handed over or the pool asks it to leave.
                if state.handed.iter().any(|(n, _)| *n == number) || state.shutdown || state.live > state.target {
                    state.idle.retain(|(n, _)| *n != number);
                    waited = false;
                }
            }
        }
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
        // An idle worker takes it, the one idle longest last (Twisted's
        // `_idle.pop()`), and wakes to run it.
        if let Some((number, wake)) = state.idle.pop() {
            let mut job = job;
            job.taken_by(number);
            self.shared.busy.fetch_add(1, Ordering::Relaxed);
            state.handed.push((number, job));
            wake.notify_one();
            return Ok(());
        }
        let job = if state.live < state.target {
            match self.spawn_worker(&mut state, job) {
                Ok(()) => return Ok(()),
                Err((e, job)) => {
                    tracing::error!("cannot start a pool thread: {e}");
                    if state.live == 0 {
                        return Err(PoolRefused(format!(
                            "cannot start a pool thread: {e}; job '{}' was not run",
                            job.name()
                        )));
                    }
                    job
                }
            }
        } else {
            job
        };
        state.queue.push_back(job);
        self.shared.queued.store(state.queue.len(), Ordering::Relaxed);
        Ok(())
    }

    fn suggest_size(&self, threads: usize) {
        let mut state = self.shared.lock();
        state.target = threads.max(1);
        // Extra idle threads wake and leave; new ones start on demand.
        state.wake_idle();
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
