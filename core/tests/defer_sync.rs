//! DeferredLock, DeferredSemaphore and DeferredQueue: ordering, limits,
//! and cancelling a waiter.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use common::Seen;
use twine_core::defer::{Deferred, DeferredLock, DeferredQueue, DeferredSemaphore, Failure, FailureKind};

/// Records the order in which `acquire`s are granted.
fn grant_log(d: &Deferred<()>, log: &Rc<RefCell<Vec<usize>>>, n: usize) {
    let l = log.clone();
    d.add_callback(move |()| l.borrow_mut().push(n));
}

// ---- DeferredLock ----

#[test]
fn lock_is_granted_at_once_when_free_and_in_fifo_order_otherwise() {
    let lock = DeferredLock::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    for n in 0..4 {
        grant_log(&lock.acquire(), &log, n);
    }
    assert_eq!(*log.borrow(), [0], "the first acquire got the free lock");
    assert_eq!(lock.waiting(), 3);
    for _ in 0..3 {
        lock.release().unwrap();
    }
    assert_eq!(*log.borrow(), [0, 1, 2, 3]);
    assert!(lock.locked(), "the last waiter holds it");
    lock.release().unwrap();
    assert!(!lock.locked());
}

#[test]
fn releasing_an_unlocked_lock_is_an_error() {
    let lock = DeferredLock::new();
    let err = lock.release().unwrap_err();
    assert!(err.to_string().contains("not locked"));
}

#[test]
fn cancelling_a_waiting_acquire_leaves_the_line() {
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let waiting = lock.acquire();
    let seen = Seen::new(&waiting);
    waiting.cancel();
    assert!(matches!(seen.take(), Err(f) if f.check(FailureKind::Cancelled)));
    assert_eq!(lock.waiting(), 0);
    lock.release().unwrap();
    assert!(!lock.locked(), "nobody was left to hand the lock to");
}

#[test]
fn cancelling_an_acquire_that_was_granted_does_nothing() {
    let lock = DeferredLock::new();
    let held = lock.acquire();
    held.cancel();
    assert!(lock.locked());
    assert!(Seen::new(&held).take().is_ok());
}

#[test]
fn run_holds_the_lock_until_the_function_result_arrives() {
    let lock = DeferredLock::new();
    let first_job = Deferred::<u32>::new();
    let j = first_job.clone();
    let first: Deferred<u32> = lock.run(move || j);
    let second_ran = Rc::new(Cell::new(false));
    let s = second_ran.clone();
    let second = lock.run(move || {
        s.set(true);
        2u32
    });
    assert!(!second_ran.get());
    first_job.callback(1).unwrap();
    assert!(second_ran.get());
    assert_eq!(Seen::new(&first).take().unwrap(), 1);
    assert_eq!(Seen::new(&second).take().unwrap(), 2);
    assert!(!lock.locked());
}

#[test]
fn run_releases_the_lock_after_a_failure_or_a_panic() {
    let lock = DeferredLock::new();
    let failed: Deferred<u32> = lock.run(|| Err::<u32, _>(Failure::new(FailureKind::Error, "no")));
    assert!(!lock.locked());
    assert_eq!(Seen::new(&failed).take().unwrap_err().message(), "no");
    let panicked: Deferred<u32> = lock.run(|| -> u32 { panic!("bug") });
    assert!(!lock.locked());
    assert!(Seen::new(&panicked).take().unwrap_err().check(FailureKind::Panicked));
}

#[test]
fn cancelling_a_run_that_waits_does_not_release_someone_elses_lock() {
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let queued = lock.run(move || r.set(true));
    let seen = Seen::new(&queued);
    queued.cancel();
    assert!(matches!(seen.take(), Err(f) if f.check(FailureKind::Cancelled)));
    assert!(lock.locked(), "the holder still holds it");
    assert_eq!(lock.waiting(), 0);
    lock.release().unwrap();
    assert!(!ran.get());
}

#[test]
fn cancelling_a_running_run_cancels_its_work_and_releases() {
    let lock = DeferredLock::new();
    let work_cancelled = Rc::new(Cell::new(false));
    let wc = work_cancelled.clone();
    let work = Deferred::<u32>::with_canceller(move |_| wc.set(true));
    let w = work.clone();
    let running: Deferred<u32> = lock.run(move || w);
    let seen = Seen::new(&running);
    running.cancel();
    assert!(work_cancelled.get());
    assert!(matches!(seen.take(), Err(f) if f.check(FailureKind::Cancelled)));
    assert!(!lock.locked());
}

// ---- DeferredSemaphore ----

#[test]
fn semaphore_grants_up_to_its_tokens_then_queues_in_order() {
    let sem = DeferredSemaphore::new(2);
    let log = Rc::new(RefCell::new(Vec::new()));
    for n in 0..5 {
        grant_log(&sem.acquire(), &log, n);
    }
    assert_eq!(*log.borrow(), [0, 1]);
    assert_eq!((sem.tokens(), sem.waiting()), (0, 3));
    sem.release().unwrap();
    sem.release().unwrap();
    assert_eq!(*log.borrow(), [0, 1, 2, 3]);
    for _ in 0..3 {
        sem.release().unwrap();
    }
    assert_eq!(*log.borrow(), [0, 1, 2, 3, 4]);
    assert_eq!(sem.tokens(), 2);
}

#[test]
fn releasing_a_semaphore_too_often_is_an_error() {
    let sem = DeferredSemaphore::new(1);
    assert!(sem.release().is_err());
    let _held = sem.acquire();
    assert!(sem.release().is_ok());
    assert!(sem.release().is_err());
    assert_eq!(sem.tokens(), 1);
}

#[test]
#[should_panic(expected = "tokens must be at least 1")]
fn a_semaphore_without_tokens_is_refused() {
    let _ = DeferredSemaphore::new(0);
}

#[test]
fn cancelling_a_waiting_semaphore_acquire_leaves_the_line() {
    let sem = DeferredSemaphore::new(1);
    let _held = sem.acquire();
    let a = sem.acquire();
    let b = sem.acquire();
    a.cancel();
    let _ = Seen::new(&a).take();
    assert_eq!(sem.waiting(), 1);
    sem.release().unwrap();
    assert!(b.has_result(), "the token skipped the cancelled waiter");
}

#[test]
fn semaphore_run_caps_concurrency() {
    let sem = DeferredSemaphore::new(3);
    let running = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let jobs: Vec<Deferred<()>> = (0..10).map(|_| Deferred::new()).collect();
    let runs: Vec<Deferred<()>> = jobs
        .iter()
        .map(|job| {
            let (job, running, peak) = (job.clone(), running.clone(), peak.clone());
            sem.run(move || {
                running.set(running.get() + 1);
                peak.set(peak.get().max(running.get()));
                let running = running.clone();
                job.add_callback(move |()| running.set(running.get() - 1));
                job
            })
        })
        .collect();
    for job in &jobs {
        assert!(running.get() <= 3);
        job.callback(()).unwrap();
    }
    assert_eq!(peak.get(), 3);
    assert!(runs.iter().all(Deferred::has_result));
    assert_eq!(sem.tokens(), 3);
}

// ---- DeferredQueue ----

#[test]
fn queue_hands_items_out_in_fifo_order() {
    let queue = DeferredQueue::new();
    for n in 0..3 {
        queue.put(n).unwrap();
    }
    let got: Vec<u32> = (0..3).map(|_| Seen::new(&queue.get()).take().unwrap()).collect();
    assert_eq!(got, [0, 1, 2]);
    assert!(queue.is_empty());
}

#[test]
fn waiting_getters_are_served_in_order() {
    let queue = DeferredQueue::new();
    let getters: Vec<Seen<&str>> = (0..3).map(|_| Seen::new(&queue.get())).collect();
    assert_eq!(queue.waiting(), 3);
    assert!(!getters[0].fired());
    queue.put("a").unwrap();
    queue.put("b").unwrap();
    assert_eq!(getters[0].take().unwrap(), "a");
    assert_eq!(getters[1].take().unwrap(), "b");
    assert!(!getters[2].fired());
    assert!(queue.is_empty(), "items went straight to getters");
}

#[test]
fn put_beyond_the_size_overflows() {
    let queue = DeferredQueue::bounded(Some(2), None);
    queue.put(1).unwrap();
    queue.put(2).unwrap();
    assert!(queue.is_full());
    let failure = queue.put(3).unwrap_err();
    assert!(failure.check(FailureKind::QueueOverflow));
    assert_eq!(queue.len(), 2);
    // A waiting getter takes an item even from a queue at its size.
    let _getter = queue.get();
    queue.put(3).unwrap();
}

#[test]
fn a_full_size_queue_still_feeds_waiting_getters() {
    let queue = DeferredQueue::bounded(Some(0), None);
    let getter = Seen::new(&queue.get());
    assert!(!queue.is_full(), "a getter is waiting");
    queue.put(9).unwrap();
    assert_eq!(getter.take().unwrap(), 9);
    assert!(queue.put(10).unwrap_err().check(FailureKind::QueueOverflow));
}

#[test]
fn get_beyond_the_backlog_underflows() {
    let queue = DeferredQueue::<u32>::bounded(None, Some(2));
    let _a = queue.get();
    let _b = queue.get();
    let c = Seen::new(&queue.get());
    assert!(c.take().unwrap_err().check(FailureKind::QueueUnderflow));
    assert_eq!(queue.waiting(), 2);
}

#[test]
fn cancelling_a_waiting_get_leaves_the_line_and_the_item_stays_for_the_next_getter() {
    // Twisted's test_cancelQueueAfterGet.
    let queue = DeferredQueue::new();
    let first = queue.get();
    let seen_first = Seen::new(&first);
    first.cancel();
    assert!(seen_first.take().unwrap_err().check(FailureKind::Cancelled));
    assert_eq!(queue.waiting(), 0);
    queue.put("item").unwrap();
    assert_eq!(queue.len(), 1, "the cancelled getter did not take it");
    assert_eq!(Seen::new(&queue.get()).take().unwrap(), "item");
}

#[test]
fn cancelling_a_get_that_already_has_its_item_does_nothing() {
    // Twisted's test_cancelQueueAfterSynchronousGet.
    let queue = DeferredQueue::new();
    queue.put(1).unwrap();
    let got = queue.get();
    got.cancel();
    assert_eq!(Seen::new(&got).take().unwrap(), 1);
}
