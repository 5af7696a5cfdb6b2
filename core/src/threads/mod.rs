//! Blocking work on a thread pool: Twisted's `twisted.internet.threads`.
//!
//! The reactor thread must never block. Work that blocks (a file read, a
//! database call, heavy CPU) goes to a pool with [`defer_to_thread`], and its
//! result comes back as a [`Deferred`] fired on the reactor thread, through
//! the inbox. [`call_in_thread`] does the same without a result.
//!
//! The pool itself belongs to the driver, behind the [`ThreadPool`] trait:
//! real OS threads natively, simulated threads in the browser, and
//! [`ManualPool`] in tests, which runs jobs only when the test says.
//!
//! ```
//! use std::time::Duration;
//! use twine_core::task::Clock;
//! use twine_core::threads::{defer_to_thread, ManualPool};
//!
//! let clock = Clock::new();
//! let reactor = clock.reactor();
//! let pool = ManualPool::new();
//! reactor.set_thread_pool(pool.clone());
//!
//! let d = defer_to_thread(&reactor, || (1..=10u64).product::<u64>());
//! assert_eq!(pool.queued(), 1);
//! pool.run_all(); // a worker runs the job; its result goes to the inbox
//! assert!(!d.has_result());
//! clock.advance(Duration::ZERO); // the reactor's next turn delivers it
//! d.add_callback(|n| {
//!     assert_eq!(n, 3_628_800);
//!     n
//! });
//! ```

mod manual;

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

pub use manual::ManualPool;

use crate::defer::{Deferred, Failure, FailureKind};
use crate::reactor::{Reactor, ReactorHandle};
use crate::trace::TraceEvent;

/// A job's result on its way back to the reactor.
pub type JobResult = Result<Box<dyn Any + Send>, Failure>;

/// A pool's counters, for metrics and the playground's queue view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Worker threads.
    pub threads: usize,
    /// Jobs waiting for a thread.
    pub queued: usize,
    /// Jobs running now.
    pub busy: usize,
    /// Jobs finished since the pool started.
    pub completed: u64,
}

/// Why a pool refused a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolRefused(pub String);

impl fmt::Display for PoolRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PoolRefused {}

/// The contract a driver's thread pool fulfils.
///
/// `submit` is called on the reactor thread. The pool runs each job on one of
/// its threads by calling [`Job::run`], which executes the work, catches a
/// panic, and sends the outcome back through the reactor's inbox.
pub trait ThreadPool {
    /// Takes a job, or refuses it (a bounded queue that is full).
    fn submit(&self, job: Job) -> Result<(), PoolRefused>;

    /// Twisted's `suggestThreadPoolSize`: the pool may grow or shrink to `threads`.
    fn suggest_size(&self, threads: usize) {
        let _ = threads;
    }

    /// The pool's counters.
    fn stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

/// Extra facts about a job, for pools that care: a name for traces and logs,
/// and a cost hint the simulation uses to charge virtual time.
#[derive(Default)]
pub struct JobOptions {
    /// Shown in traces.
    pub name: Option<Cow<'static, str>>,
    /// What the job costs, in a form the pool understands. The simulation
    /// reads a `std::time::Duration` as CPU time, or its own step programs.
    pub hint: Option<Box<dyn Any + Send>>,
}

/// One unit of work for a pool: a `Send` closure and where its result goes.
pub struct Job {
    id: u64,
    name: Cow<'static, str>,
    hint: Option<Box<dyn Any + Send>>,
    work: Box<dyn FnOnce() -> JobResult + Send>,
    reply: ReactorHandle,
    traced: bool,
}

impl Job {
    /// The job's id, as traces know it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cost hint, if the submitter gave one.
    pub fn hint(&self) -> Option<&(dyn Any + Send)> {
        self.hint.as_deref()
    }

    /// Runs the job on the calling thread (pool thread number `thread`;
    /// thread 0 is the reactor's, so pools number theirs from 1). A panic
    /// becomes a failure. The outcome goes back to the reactor's inbox.
    pub fn run(self, thread: u32) {
        let id = self.id;
        if self.traced {
            self.reply.call_from_thread(move |reactor| reactor.emit(|| TraceEvent::JobStarted { job: id, thread }));
        }
        let outcome =
            catch_unwind(AssertUnwindSafe(self.work)).unwrap_or_else(|payload| Err(Failure::from_panic(payload)));
        self.reply.call_from_thread(move |reactor| reactor.complete_job(id, thread, outcome));
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job").field("id", &self.id).field("name", &self.name).finish()
    }
}

type Completion = Box<dyn FnOnce(JobResult)>;

/// Jobs handed to the pool whose results have not come back.
#[derive(Default)]
pub(crate) struct JobTable {
    next_id: u64,
    waiting: HashMap<u64, Completion>,
}

impl Reactor {
    /// Installs the driver's thread pool. Without one, `defer_to_thread` fails.
    pub fn set_thread_pool(&self, pool: impl ThreadPool + 'static) {
        *self.inner.pool.borrow_mut() = Some(Rc::new(pool));
    }

    /// The installed pool's counters.
    pub fn pool_stats(&self) -> Option<PoolStats> {
        let pool = self.inner.pool.borrow().clone();
        pool.map(|p| p.stats())
    }

    /// Jobs whose results have not come back yet.
    pub fn jobs_in_flight(&self) -> usize {
        self.inner.jobs.borrow().waiting.len()
    }

    fn submit_job(&self, options: JobOptions, work: Box<dyn FnOnce() -> JobResult + Send>, completion: Completion) {
        let id = {
            let mut jobs = self.inner.jobs.borrow_mut();
            jobs.next_id += 1;
            let id = jobs.next_id;
            jobs.waiting.insert(id, completion);
            id
        };
        let name = options.name.unwrap_or(Cow::Borrowed("job"));
        self.emit(|| TraceEvent::JobQueued { job: id, name: name.clone() });
        let job = Job { id, name, hint: options.hint, work, reply: self.handle(), traced: self.is_tracing() };
        let pool = self.inner.pool.borrow().clone();
        let refused = match pool {
            Some(pool) => pool.submit(job).err().map(|e| e.0),
            None => Some("no thread pool is installed".to_owned()),
        };
        if let Some(reason) = refused {
            let completion = self.inner.jobs.borrow_mut().waiting.remove(&id);
            if let Some(complete) = completion {
                complete(Err(Failure::new(FailureKind::PoolUnavailable, reason)));
            }
        }
    }

    /// Delivers a job's outcome. Runs on the reactor thread, from the inbox.
    fn complete_job(&self, id: u64, thread: u32, outcome: JobResult) {
        let ok = outcome.is_ok();
        self.emit(|| TraceEvent::JobFinished { job: id, thread, ok });
        let completion = self.inner.jobs.borrow_mut().waiting.remove(&id);
        if let Some(complete) = completion {
            complete(outcome);
        }
    }
}

/// Runs `work` on the reactor's thread pool; the Deferred fires on the
/// reactor thread with its result. A panic in `work` becomes a failure.
/// Twisted's `deferToThread`.
pub fn defer_to_thread<T: Send + 'static>(reactor: &Reactor, work: impl FnOnce() -> T + Send + 'static) -> Deferred<T> {
    defer_to_thread_with(reactor, JobOptions::default(), move || Ok(work()))
}

/// [`defer_to_thread`] for work that can fail: an `Err` goes down the errbacks.
pub fn try_defer_to_thread<T: Send + 'static, E: Into<Failure>>(
    reactor: &Reactor,
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Deferred<T> {
    defer_to_thread_with(reactor, JobOptions::default(), move || work().map_err(Into::into))
}

/// [`try_defer_to_thread`] with a name and cost hint for the pool.
pub fn defer_to_thread_with<T: Send + 'static>(
    reactor: &Reactor,
    options: JobOptions,
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Deferred<T> {
    let d = Deferred::with_label(options.name.clone().unwrap_or(Cow::Borrowed("defer_to_thread")));
    let fire = d.clone();
    reactor.submit_job(
        options,
        Box::new(move || work().map(|value| Box::new(value) as Box<dyn Any + Send>)),
        Box::new(move |outcome| {
            let result = outcome.and_then(|boxed| {
                boxed
                    .downcast::<T>()
                    .map(|value| *value)
                    .map_err(|_| Failure::new(FailureKind::Error, "job returned an unexpected type"))
            });
            let _ = fire.fire(result);
        }),
    );
    d
}

/// Runs `work` on the pool without waiting for a result: Twisted's
/// `callInThread`. A failure or panic is logged.
pub fn call_in_thread(reactor: &Reactor, work: impl FnOnce() + Send + 'static) {
    reactor.submit_job(
        JobOptions { name: Some(Cow::Borrowed("call_in_thread")), hint: None },
        Box::new(move || {
            work();
            Ok(Box::new(()) as Box<dyn Any + Send>)
        }),
        Box::new(|outcome| {
            if let Err(failure) = outcome {
                tracing::error!("call_in_thread job failed: {failure}");
            }
        }),
    );
}

/// Asks the pool to have `threads` threads: Twisted's `suggestThreadPoolSize`.
pub fn suggest_thread_pool_size(reactor: &Reactor, threads: usize) {
    let pool = reactor.inner.pool.borrow().clone();
    if let Some(pool) = pool {
        pool.suggest_size(threads);
    }
}
