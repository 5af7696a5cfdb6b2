//! The thread-pool contract: defer_to_thread, call_in_thread, pool refusal,
//! panics, and the job trace, through the deterministic ManualPool and a
//! pool of real OS threads.

mod common;

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{record_trace, with_manual_pool, Seen};
use twine_core::defer::{Deferred, FailureKind};
use twine_core::task::Clock;
use twine_core::threads::{
    call_in_thread, defer_to_thread, defer_to_thread_with, suggest_thread_pool_size, try_defer_to_thread, Job,
    JobOptions, ManualPool, PoolRefused, ThreadPool,
};
use twine_core::trace::TraceEvent;

#[test]
fn defer_to_thread_delivers_the_result_on_the_reactor_turn_after_the_job() {
    let (clock, pool) = with_manual_pool();
    let reactor = clock.reactor();
    let d = defer_to_thread(&reactor, || "computed".to_string());
    let seen = Seen::new(&d);
    assert_eq!(pool.queued(), 1);
    assert_eq!(reactor.jobs_in_flight(), 1);
    pool.run_next();
    assert!(!seen.fired(), "results travel through the inbox");
    assert_eq!(reactor.handle().inbox_depth(), 1);
    clock.advance(Duration::ZERO);
    assert_eq!(seen.take().unwrap(), "computed");
    assert_eq!(reactor.jobs_in_flight(), 0);
}

#[test]
fn try_defer_to_thread_sends_an_error_down_the_errbacks() {
    let (clock, pool) = with_manual_pool();
    let d = try_defer_to_thread(&clock.reactor(), || "x".parse::<u32>());
    let seen = Seen::new(&d);
    pool.run_all();
    clock.advance(Duration::ZERO);
    let failure = seen.take().unwrap_err();
    assert!(failure.check(FailureKind::Error));
    assert!(failure.downcast_ref::<std::num::ParseIntError>().is_some(), "the source error is kept");
}

#[test]
fn a_panicking_job_fails_its_deferred_and_the_reactor_carries_on() {
    let (clock, pool) = with_manual_pool();
    let reactor = clock.reactor();
    let d = defer_to_thread(&reactor, || -> u32 { panic!("worker bug") });
    let ok = defer_to_thread(&reactor, || 1u32);
    let (seen, seen_ok) = (Seen::new(&d), Seen::new(&ok));
    pool.run_all();
    clock.advance(Duration::ZERO);
    let failure = seen.take().unwrap_err();
    assert!(failure.check(FailureKind::Panicked));
    assert_eq!(failure.message(), "worker bug");
    assert_eq!(seen_ok.take().unwrap(), 1);
    assert_eq!(reactor.stats().panics, 0, "the panic became a Failure, not a reactor panic");
}

#[test]
fn a_full_pool_refuses_with_pool_unavailable() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let pool = ManualPool::with_capacity(1);
    clock.driver().set_thread_pool(pool.clone());
    let first = defer_to_thread(&reactor, || 1u32);
    let second = defer_to_thread(&reactor, || 2u32);
    let refused = Seen::new(&second).take().unwrap_err();
    assert!(refused.check(FailureKind::PoolUnavailable), "refused at once, synchronously");
    assert!(refused.message().contains("full"));
    assert_eq!(reactor.jobs_in_flight(), 1);
    pool.run_all();
    clock.advance(Duration::ZERO);
    assert_eq!(Seen::new(&first).take().unwrap(), 1);
}

#[test]
fn without_a_pool_defer_to_thread_fails_with_pool_unavailable() {
    let clock = Clock::new();
    let d = defer_to_thread(&clock.reactor(), || 1u32);
    let failure = Seen::new(&d).take().unwrap_err();
    assert!(failure.check(FailureKind::PoolUnavailable));
    assert!(failure.message().contains("no thread pool"));
}

#[test]
fn jobs_a_pool_drops_without_running_fail_instead_of_hanging() {
    let (clock, pool) = with_manual_pool();
    let reactor = clock.reactor();
    let recorder = record_trace(&reactor);
    let d = defer_to_thread(&reactor, || 1u32);
    let seen = Seen::new(&d);
    // The driver swaps pools (or shuts one down) with the job still queued.
    clock.driver().set_thread_pool(ManualPool::new());
    drop(pool);
    clock.advance(Duration::ZERO);
    let failure = seen.take().unwrap_err();
    assert!(failure.check(FailureKind::PoolUnavailable));
    assert!(failure.message().contains("dropped the job"));
    assert_eq!(reactor.jobs_in_flight(), 0);
    assert!(recorder.events().iter().any(|r| r.event == TraceEvent::JobFinished { job: 1, thread: 0, ok: false }));
}

#[test]
fn a_refused_job_fails_once() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    clock.driver().set_thread_pool(ManualPool::with_capacity(0));
    let d = defer_to_thread(&reactor, || 1u32);
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    d.add_both(move |r| {
        *c.borrow_mut() += 1;
        r
    })
    .add_errback(|_| 0);
    clock.advance(Duration::ZERO); // the refused job's drop notice finds nothing to do
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn call_in_thread_runs_the_work_without_a_deferred() {
    let (clock, pool) = with_manual_pool();
    let reactor = clock.reactor();
    let counter = Arc::new(AtomicU32::new(0));
    for _ in 0..3 {
        let c = counter.clone();
        call_in_thread(&reactor, move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
    }
    call_in_thread(&reactor, || panic!("logged, not raised"));
    assert_eq!(pool.queued_names(), ["call_in_thread"; 4]);
    pool.run_all();
    clock.advance(Duration::ZERO);
    assert_eq!(counter.load(Ordering::SeqCst), 3);
    assert_eq!(reactor.jobs_in_flight(), 0);
    assert_eq!(reactor.stats().panics, 0);
}

#[test]
fn suggest_thread_pool_size_reaches_the_pool() {
    let (clock, pool) = with_manual_pool();
    suggest_thread_pool_size(&clock.reactor(), 8);
    assert_eq!(pool.suggested_size(), 8);
    assert_eq!(clock.reactor().pool_stats().unwrap().threads, 8);
}

#[test]
fn job_names_and_cost_hints_reach_the_pool() {
    type Submitted = Rc<RefCell<Vec<(String, Option<Duration>)>>>;
    struct Inspect(Submitted);
    impl ThreadPool for Inspect {
        fn submit(&self, job: Job) -> Result<(), PoolRefused> {
            let hint = job.hint().and_then(|h| (h as &dyn Any).downcast_ref::<Duration>().copied());
            self.0.borrow_mut().push((job.name().to_owned(), hint));
            job.run(1);
            Ok(())
        }
    }
    let clock = Clock::new();
    let reactor = clock.reactor();
    let seen = Rc::new(RefCell::new(Vec::new()));
    clock.driver().set_thread_pool(Inspect(seen.clone()));
    let options = JobOptions { name: Some("resize image".into()), hint: Some(Box::new(Duration::from_millis(40))) };
    let d = defer_to_thread_with(&reactor, options, || Ok(3u8));
    clock.advance(Duration::ZERO);
    assert_eq!(Seen::new(&d).take().unwrap(), 3);
    assert_eq!(*seen.borrow(), [("resize image".to_owned(), Some(Duration::from_millis(40)))]);
}

#[test]
fn jobs_trace_queued_started_and_finished_on_their_thread() {
    let (clock, pool) = with_manual_pool();
    let reactor = clock.reactor();
    let recorder = record_trace(&reactor);
    let ok = defer_to_thread(&reactor, || 1u8);
    let bad = defer_to_thread(&reactor, || -> u8 { panic!("boom") });
    bad.add_errback(|_| 0);
    pool.run_all();
    clock.advance(Duration::ZERO);
    assert!(ok.has_result());
    let jobs: Vec<TraceEvent> = recorder
        .events()
        .into_iter()
        .map(|r| r.event)
        .filter(|e| {
            matches!(e, TraceEvent::JobQueued { .. } | TraceEvent::JobStarted { .. } | TraceEvent::JobFinished { .. })
        })
        .collect();
    assert_eq!(
        jobs,
        [
            TraceEvent::JobQueued { job: 1, name: "job".into() },
            TraceEvent::JobQueued { job: 2, name: "job".into() },
            TraceEvent::JobStarted { job: 1, thread: 1 },
            TraceEvent::JobFinished { job: 1, thread: 1, ok: true },
            TraceEvent::JobStarted { job: 2, thread: 1 },
            TraceEvent::JobFinished { job: 2, thread: 1, ok: false },
        ]
    );
}

/// A pool of real OS threads, one per job, numbered from 1: enough to show
/// results crossing threads through the inbox, as the native driver's do.
struct SpawnPool {
    next: Arc<AtomicU32>,
    handles: Arc<Mutex<Vec<std::thread::JoinHandle<()>>>>,
}

impl ThreadPool for SpawnPool {
    fn submit(&self, job: Job) -> Result<(), PoolRefused> {
        let thread = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let handle = std::thread::Builder::new()
            .name(format!("pool-{thread}"))
            .spawn(move || job.run(thread))
            .map_err(|e| PoolRefused(e.to_string()))?;
        self.handles.lock().unwrap().push(handle);
        Ok(())
    }
}

#[test]
fn results_from_real_threads_arrive_through_the_inbox() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let handles = Arc::new(Mutex::new(Vec::new()));
    clock.driver().set_thread_pool(SpawnPool { next: Arc::new(AtomicU32::new(0)), handles: handles.clone() });
    let recorder = record_trace(&reactor);
    let ds: Vec<Deferred<String>> = (0..4)
        .map(|n| defer_to_thread(&reactor, move || format!("{n} on {}", std::thread::current().name().unwrap())))
        .collect();
    for h in std::mem::take(&mut *handles.lock().unwrap()) {
        h.join().unwrap();
    }
    assert!(ds.iter().all(|d| !d.called()), "nothing fires off the reactor thread");
    clock.advance(Duration::ZERO);
    let mut results: Vec<String> = ds.iter().map(|d| Seen::new(d).take().unwrap()).collect();
    results.sort();
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|r| r.contains(" on pool-")));
    let finished_threads: Vec<u32> = recorder
        .events()
        .into_iter()
        .filter_map(|r| match r.event {
            TraceEvent::JobFinished { thread, .. } => Some(thread),
            _ => None,
        })
        .collect();
    let mut sorted = finished_threads.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3, 4], "each finish names the pool thread it ran on");
}
