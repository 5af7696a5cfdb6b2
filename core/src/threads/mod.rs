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
//! clock.driver().set_thread_pool(pool.clone());
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
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

pub use manual::ManualPool;

use crate::defer::{Deferred, Failure, FailureKind};
use crate::reactor::{Reactor, ReactorDriver, ReactorHandle};
use crate::trace::TraceEvent;

/// A job's result on its way back to the reactor: the value, boxed so that
/// pools need not know its type.
pub type JobResult = Result<Box<dyn Any + Send>, Failure>;

/// A pool's counters, for metrics and the playground's queue view.
///
/// ```
/// use twine_core::threads::{call_in_thread, ManualPool};
/// use twine_core::ReactorDriver;
///
/// let reactor = ReactorDriver::new();
/// reactor.set_thread_pool(ManualPool::new());
/// call_in_thread(&reactor, || {});
/// let stats = reactor.pool_stats().unwrap();
/// assert_eq!((stats.threads, stats.queued, stats.completed), (1, 1, 0));
/// ```
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

/// Why a pool refused a job. The job's Deferred fails with
/// `PoolUnavailable` and this message.
///
/// ```
/// use twine_core::threads::{Job, PoolRefused, ThreadPool};
///
/// struct Closed;
/// impl ThreadPool for Closed {
///     fn submit(&self, _job: Job) -> Result<(), PoolRefused> {
///         Err(PoolRefused("the pool is shutting down".into()))
///     }
/// }
/// ```
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
///
/// A pool of real threads, one per job (the native driver's pool keeps a
/// fixed set of named workers instead):
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::Clock;
/// use twine_core::threads::{defer_to_thread, Job, PoolRefused, ThreadPool};
///
/// struct ThreadPerJob;
/// impl ThreadPool for ThreadPerJob {
///     fn submit(&self, job: Job) -> Result<(), PoolRefused> {
///         std::thread::Builder::new()
///             .name(format!("job-{}", job.id()))
///             .spawn(move || job.run(1))
///             .map(drop)
///             .map_err(|e| PoolRefused(e.to_string()))
///     }
/// }
///
/// let clock = Clock::new();
/// let reactor = clock.reactor();
/// clock.driver().set_thread_pool(ThreadPerJob);
/// let d = defer_to_thread(&reactor, || std::thread::current().name().unwrap().to_owned());
/// while !d.has_result() {
///     clock.advance(Duration::ZERO); // a real driver sleeps until its waker runs
///     std::thread::yield_now();
/// }
/// d.add_callback(|name| {
///     assert_eq!(name, "job-1");
///     name
/// });
/// ```
pub trait ThreadPool {
    /// Takes a job, or refuses it (a bounded queue that is full).
    fn submit(&self, job: Job) -> Result<(), PoolRefused>;

    /// Twisted's `suggestThreadPoolSize`: the pool may grow or shrink to
    /// `threads`. The default ignores it.
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
///
/// ```
/// use std::time::Duration;
/// use twine_core::threads::{defer_to_thread_with, JobOptions, ManualPool};
/// use twine_core::ReactorDriver;
///
/// let reactor = ReactorDriver::new();
/// let pool = ManualPool::new();
/// reactor.set_thread_pool(pool.clone());
/// let options = JobOptions { name: Some("thumbnail".into()), hint: Some(Box::new(Duration::from_millis(30))) };
/// let _d = defer_to_thread_with(&reactor, options, || Ok(vec![0u8; 16]));
/// assert_eq!(pool.queued_names(), ["thumbnail"]);
/// ```
#[derive(Default)]
pub struct JobOptions {
    /// Shown in traces.
    pub name: Option<Cow<'static, str>>,
    /// What the job costs, in a form the pool understands. The simulation
    /// reads a `std::time::Duration` as CPU time, or its own step programs.
    pub hint: Option<Box<dyn Any + Send>>,
}

/// One unit of work for a pool: a `Send` closure and where its result goes.
///
/// A pool calls [`run`](Job::run) on one of its threads. A job the pool
/// drops without running (a pool shutting down with work queued) fails its
/// Deferred with `PoolUnavailable` instead of leaving it pending forever.
pub struct Job {
    id: u64,
    name: Cow<'static, str>,
    hint: Option<Box<dyn Any + Send>>,
    /// `None` once the job ran.
    work: Option<Box<dyn FnOnce() -> JobResult + Send>>,
    reply: ReactorHandle,
    traced: bool,
    /// A pool thread took it (see [`Job::taken_by`]).
    taken: bool,
}

impl Job {
    /// The job's id, as traces know it (see [`Job::run`] for a pool using it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The job's name (`JobOptions::name`, or `"job"`); see [`JobOptions`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cost hint, if the submitter gave one: downcast it to what your
    /// pool understands.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::threads::Job;
    ///
    /// fn cpu_cost(job: &Job) -> Duration {
    ///     job.hint().and_then(|h| h.downcast_ref::<Duration>()).copied().unwrap_or_default()
    /// }
    /// ```
    pub fn hint(&self) -> Option<&(dyn Any + Send)> {
        self.hint.as_deref()
    }

    /// Runs the job on the calling thread (pool thread number `thread`;
    /// thread 0 is the reactor's, so pools number theirs from 1). A panic
    /// becomes a failure. The outcome goes back to the reactor's inbox.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::Clock;
    /// use twine_core::threads::{defer_to_thread, Job, PoolRefused, ThreadPool};
    ///
    /// /// Runs every job at once on the submitting thread (a pool of one).
    /// struct Inline;
    /// impl ThreadPool for Inline {
    ///     fn submit(&self, job: Job) -> Result<(), PoolRefused> {
    ///         job.run(1);
    ///         Ok(())
    ///     }
    /// }
    /// let clock = Clock::new();
    /// clock.driver().set_thread_pool(Inline);
    /// let d = defer_to_thread(&clock.reactor(), || 6 * 7);
    /// clock.advance(Duration::ZERO); // the result still comes through the inbox
    /// assert!(d.has_result());
    /// ```
    pub fn run(mut self, thread: u32) {
        self.taken_by(thread);
        let Some(work) = self.work.take() else { return };
        let id = self.id;
        let outcome = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| Err(Failure::from_panic(payload)));
        self.reply.call_from_thread(move |reactor| reactor.complete_job(id, thread, outcome));
    }
}

impl Job {
    /// Pool thread `thread` took the job: it leaves the pool's queue (the
    /// trace's `job_started`, from which queue depths are measured). Once
    /// per job; [`Job::run`] calls it if the pool did not.
    ///
    /// Called where the thread takes the job, so the queue is what the pool
    /// holds. Twisted's pool gives a job to an idle or new worker inside
    /// `callInThread` (only jobs no worker can take wait in its queue); a
    /// pool that does the same calls this inside [`ThreadPool::submit`], and
    /// the start is recorded there and then, before the reactor queues its
    /// next job. Anywhere else (a worker taking a queued job when its last
    /// one ends) the start reaches the reactor through its inbox, timed
    /// where it happened when the driver shares its clock
    /// ([`ReactorHandle::seconds`]): the thread reads the time as it takes
    /// the job, so a trace can hold a `job_started` after events the
    /// reactor recorded while the news was on its way. Without a shared
    /// clock, it is timed when the reactor hears of it.
    ///
    /// ```
    /// use twine_core::threads::{call_in_thread, Job, PoolRefused, ThreadPool};
    /// use twine_core::trace::TraceEvent;
    ///
    /// /// Takes every job on submission, as a pool with a free worker does,
    /// /// and leaves it there (this example runs nothing).
    /// struct Taker(std::cell::RefCell<Vec<Job>>);
    /// impl ThreadPool for Taker {
    ///     fn submit(&self, mut job: Job) -> Result<(), PoolRefused> {
    ///         job.taken_by(1);
    ///         self.0.borrow_mut().push(job);
    ///         Ok(())
    ///     }
    /// }
    /// let reactor = twine_core::ReactorDriver::new();
    /// let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let seen = events.clone();
    /// reactor.set_trace_sink(move |r: &twine_core::trace::TraceRecord| seen.borrow_mut().push(r.event.clone()));
    /// reactor.set_thread_pool(Taker(Default::default()));
    /// call_in_thread(&reactor, || {});
    /// // Started at once: no turn of the reactor needed to hear it.
    /// assert!(matches!(events.borrow().last(), Some(TraceEvent::JobStarted { job: 1, thread: 1 })));
    /// ```
    pub fn taken_by(&mut self, thread: u32) {
        if std::mem::replace(&mut self.taken, true) || !self.traced {
            return;
        }
        let id = self.id;
        let event = TraceEvent::JobStarted { job: id, thread };
        let submitting = Reactor::current().filter(|r| {
            Arc::ptr_eq(&r.handle().inbox, &self.reply.inbox)
                && r.local::<PoolSide>().is_some_and(|side| side.submitting.get() == Some(id))
        });
        if let Some(reactor) = submitting {
            reactor.emit(|| event);
            return;
        }
        let taken_at = self.reply.seconds();
        self.reply.call_from_thread(move |reactor| match taken_at {
            Some(t) => reactor.emit_at(t, event),
            None => reactor.emit(|| event),
        });
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if self.work.is_some() {
            let id = self.id;
            self.reply.call_from_thread(move |reactor| reactor.job_dropped(id));
        }
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
struct JobTable {
    next_id: u64,
    waiting: HashMap<u64, Completion>,
}

/// The reactor's side of its pool: the pool the driver lent and the jobs
/// out on it. Kept in the reactor's local storage, so the reactor, below
/// this layer, knows nothing of threads (this type is private: nobody else
/// can reach it there).
#[derive(Default)]
struct PoolSide {
    pool: RefCell<Option<Rc<dyn ThreadPool>>>,
    jobs: RefCell<JobTable>,
    /// The job inside `ThreadPool::submit` now: a pool taking it there
    /// records its start at once (see [`Job::taken_by`]).
    submitting: Cell<Option<u64>>,
}

impl PoolSide {
    fn of(reactor: &Reactor) -> Rc<PoolSide> {
        reactor.local_or_insert_with(PoolSide::default)
    }
}

/// The thread pool's driver hooks: the pool is the driver's to lend.
impl ReactorDriver {
    /// Installs the driver's thread pool, replacing any other (jobs the old
    /// pool drops without running fail with `PoolUnavailable`). Without a
    /// pool, `defer_to_thread` fails at once.
    ///
    /// ```
    /// use twine_core::threads::ManualPool;
    ///
    /// let reactor = twine_core::ReactorDriver::new();
    /// assert!(reactor.pool_stats().is_none());
    /// reactor.set_thread_pool(ManualPool::new());
    /// assert!(reactor.pool_stats().is_some());
    /// ```
    pub fn set_thread_pool(&self, pool: impl ThreadPool + 'static) {
        *PoolSide::of(self).pool.borrow_mut() = Some(Rc::new(pool));
    }

    /// Gives up on every job whose result has not come back: each one's
    /// Deferred fails now with `reason`, and a result arriving later is
    /// dropped. For a driver shutting down that will not wait for a job
    /// still running on a thread it cannot interrupt. Returns how many.
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    /// use twine_core::task::Clock;
    /// use twine_core::threads::{defer_to_thread, ManualPool};
    ///
    /// let clock = Clock::new();
    /// let pool = ManualPool::new();
    /// clock.driver().set_thread_pool(pool.clone());
    /// let d = defer_to_thread(&clock.reactor(), || 42);
    /// let reason = Failure::new(FailureKind::Cancelled, "shutting down");
    /// assert_eq!(clock.driver().abandon_jobs(reason), 1);
    /// d.add_errback(|f| {
    ///     assert_eq!(f.kind(), FailureKind::Cancelled);
    ///     0
    /// });
    /// pool.run_all(); // the job ends after all: its result goes nowhere
    /// clock.pump([std::time::Duration::ZERO]);
    /// assert_eq!(clock.reactor().jobs_in_flight(), 0);
    /// ```
    pub fn abandon_jobs(&self, reason: Failure) -> usize {
        let side = PoolSide::of(self);
        let mut waiting: Vec<_> = std::mem::take(&mut side.jobs.borrow_mut().waiting).into_iter().collect();
        self.set_jobs_in_flight(0);
        waiting.sort_unstable_by_key(|(id, _)| *id);
        let abandoned = waiting.len();
        for (id, complete) in waiting {
            self.emit(|| TraceEvent::JobFinished { job: id, thread: 0, ok: false });
            complete(Err(reason.clone()));
        }
        abandoned
    }
}

impl Reactor {
    /// The installed pool's counters (see [`PoolStats`]).
    pub fn pool_stats(&self) -> Option<PoolStats> {
        let pool = self.local::<PoolSide>()?.pool.borrow().clone();
        pool.map(|p| p.stats())
    }

    /// Takes job `id`'s completion out of the table, if it is still there.
    fn take_completion(&self, side: &PoolSide, id: u64) -> Option<Completion> {
        let mut jobs = side.jobs.borrow_mut();
        let completion = jobs.waiting.remove(&id);
        self.set_jobs_in_flight(jobs.waiting.len());
        completion
    }

    fn submit_job(&self, options: JobOptions, work: Box<dyn FnOnce() -> JobResult + Send>, completion: Completion) {
        let side = PoolSide::of(self);
        let id = {
            let mut jobs = side.jobs.borrow_mut();
            jobs.next_id += 1;
            let id = jobs.next_id;
            jobs.waiting.insert(id, completion);
            self.set_jobs_in_flight(jobs.waiting.len());
            id
        };
        let name = options.name.unwrap_or(Cow::Borrowed("job"));
        self.emit(|| TraceEvent::JobQueued { job: id, name: name.clone() });
        let pool = side.pool.borrow().clone();
        let refused = match pool {
            Some(pool) => {
                let job = Job {
                    id,
                    name,
                    hint: options.hint,
                    work: Some(work),
                    reply: self.handle(),
                    traced: self.is_tracing(),
                    taken: false,
                };
                side.submitting.set(Some(id));
                let refused = pool.submit(job).err().map(|e| e.0);
                side.submitting.set(None);
                refused
            }
            None => Some("no thread pool is installed".to_owned()),
        };
        if let Some(reason) = refused {
            if let Some(complete) = self.take_completion(&side, id) {
                complete(Err(Failure::new(FailureKind::PoolUnavailable, reason)));
            }
        }
    }

    /// A pool dropped the job without running it. A refused job lands here
    /// too, after `submit_job` already failed its Deferred: then nothing is
    /// left to do.
    fn job_dropped(&self, id: u64) {
        let completion = self.take_completion(&PoolSide::of(self), id);
        if let Some(complete) = completion {
            self.emit(|| TraceEvent::JobFinished { job: id, thread: 0, ok: false });
            complete(Err(Failure::new(
                FailureKind::PoolUnavailable,
                "the thread pool dropped the job without running it",
            )));
        }
    }

    /// Delivers a job's outcome. Runs on the reactor thread, from the inbox.
    fn complete_job(&self, id: u64, thread: u32, outcome: JobResult) {
        let ok = outcome.is_ok();
        self.emit(|| TraceEvent::JobFinished { job: id, thread, ok });
        let completion = self.take_completion(&PoolSide::of(self), id);
        if let Some(complete) = completion {
            complete(outcome);
        }
    }
}

/// Runs `work` on the reactor's thread pool; the Deferred fires on the
/// reactor thread with its result, in a turn after the work finished. A
/// panic in `work` becomes a `Panicked` failure; a pool that refuses the job
/// (or no pool) fails it at once with `PoolUnavailable`. Twisted's
/// `deferToThread`. See the [module docs](self) for an example.
pub fn defer_to_thread<T: Send + 'static>(reactor: &Reactor, work: impl FnOnce() -> T + Send + 'static) -> Deferred<T> {
    defer_to_thread_with(reactor, JobOptions::default(), move || Ok(work()))
}

/// [`defer_to_thread`] for work that can fail: an `Err` goes down the
/// errbacks, converted into a [`Failure`] that keeps the error as its source.
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::Clock;
/// use twine_core::threads::{try_defer_to_thread, ManualPool};
///
/// let clock = Clock::new();
/// let pool = ManualPool::new();
/// clock.driver().set_thread_pool(pool.clone());
/// let d = try_defer_to_thread(&clock.reactor(), || std::fs::read_to_string("/no/such/file"));
/// pool.run_all();
/// clock.advance(Duration::ZERO);
/// d.add_errback(|f| {
///     assert!(f.downcast_ref::<std::io::Error>().is_some());
///     String::new()
/// });
/// ```
pub fn try_defer_to_thread<T: Send + 'static, E: Into<Failure>>(
    reactor: &Reactor,
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Deferred<T> {
    defer_to_thread_with(reactor, JobOptions::default(), move || work().map_err(Into::into))
}

/// [`try_defer_to_thread`] with a name and cost hint for the pool (see
/// [`JobOptions`] for an example). The name also labels the Deferred.
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
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use twine_core::threads::{call_in_thread, ManualPool};
///
/// let reactor = twine_core::ReactorDriver::new();
/// let pool = ManualPool::new();
/// reactor.set_thread_pool(pool.clone());
/// let flushed = Arc::new(AtomicBool::new(false));
/// let f = flushed.clone();
/// call_in_thread(&reactor, move || f.store(true, Ordering::SeqCst)); // e.g. fsync a log
/// pool.run_all();
/// assert!(flushed.load(Ordering::SeqCst));
/// ```
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
///
/// ```
/// use twine_core::threads::{suggest_thread_pool_size, ManualPool};
///
/// let reactor = twine_core::ReactorDriver::new();
/// let pool = ManualPool::new();
/// reactor.set_thread_pool(pool.clone());
/// suggest_thread_pool_size(&reactor, 10);
/// assert_eq!(pool.suggested_size(), 10);
/// ```
pub fn suggest_thread_pool_size(reactor: &Reactor, threads: usize) {
    let pool = reactor.local::<PoolSide>().and_then(|side| side.pool.borrow().clone());
    if let Some(pool) = pool {
        pool.suggest_size(threads);
    }
}
