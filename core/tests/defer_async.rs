//! async/await over Deferreds: `impl Future for Deferred` and
//! `ensure_deferred`, with results, errors, wakes and cancellation.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{error, record_trace, with_manual_pool, Seen};
use twine_core::defer::{Deferred, DeferredLock, Failure, FailureKind};
use twine_core::task::{defer_later, ensure_deferred, Clock};
use twine_core::threads::defer_to_thread;
use twine_core::trace::{CallSource, TraceEvent};

/// A future that is ready once something (on any thread) sets its value.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<(Option<u32>, Option<Waker>)>>);

impl Slot {
    fn set(&self, value: u32) {
        let waker = {
            let mut inner = self.0.lock().unwrap();
            inner.0 = Some(value);
            inner.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
    fn waker(&self) -> Option<Waker> {
        self.0.lock().unwrap().1.clone()
    }
}

impl Future for Slot {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let mut inner = self.0.lock().unwrap();
        match inner.0 {
            Some(v) => Poll::Ready(v),
            None => {
                inner.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Sets a flag when dropped: shows that a future was dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn awaiting_a_pending_deferred_resumes_in_the_turn_after_it_fires() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let input = Deferred::<u32>::new();
    let i = input.clone();
    let out = ensure_deferred(&reactor, |_| async move { Ok(i.await? * 2) });
    let seen = Seen::new(&out);
    assert_eq!(reactor.tasks_in_flight(), 1);
    input.callback(21).unwrap();
    assert!(!seen.fired(), "the wake queues a poll; it runs in the next turn");
    clock.advance(Duration::ZERO);
    assert_eq!(seen.take().unwrap(), 42);
    assert_eq!(reactor.tasks_in_flight(), 0);
}

#[test]
fn a_future_that_never_waits_finishes_inside_ensure_deferred() {
    let clock = Clock::new();
    let ready = twine_core::defer::succeed(5u32);
    let out = ensure_deferred(&clock.reactor(), |_| async move { Ok(ready.await? + 1) });
    assert_eq!(Seen::new(&out).take().unwrap(), 6, "polled at once, as Twisted runs a coroutine to its first await");
}

#[test]
fn sequential_awaits_read_like_inline_callbacks() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let out = ensure_deferred(&reactor, |r| async move {
        let mut total = 0;
        for step in 1..=3u32 {
            total += defer_later(&r, Duration::from_secs(1), move || step).await?;
        }
        Ok::<_, Failure>(total)
    });
    let seen = Seen::new(&out);
    clock.advance(Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert!(!seen.fired(), "the third step is still running");
    clock.advance(Duration::from_secs(1));
    assert_eq!(seen.take().unwrap(), 6);
    assert_eq!(clock.seconds().as_secs_f64(), 3.0);
}

#[test]
fn a_failure_comes_out_of_await_as_err_and_question_mark_passes_it_on() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let input = Deferred::<u32>::new();
    let i = input.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        let value = i.await?;
        Ok::<_, Failure>(value)
    });
    input.errback(error("backend down")).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(Seen::new(&out).take().unwrap_err().message(), "backend down");
}

#[test]
fn a_future_may_handle_a_failure_and_carry_on() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let input = Deferred::<u32>::new();
    let i = input.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        match i.await {
            Ok(v) => Ok(v),
            Err(f) if f.check(FailureKind::Error) => Ok(0),
            Err(f) => Err(f),
        }
    });
    input.errback(error("retry later")).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(Seen::new(&out).take().unwrap(), 0);
}

#[test]
fn a_panicking_future_fails_its_deferred() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let input = Deferred::<u32>::new();
    let i = input.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        let v = i.await?;
        if v > 1 {
            panic!("future bug with {v}");
        }
        Ok::<u32, Failure>(v)
    });
    input.callback(2).unwrap();
    clock.advance(Duration::ZERO);
    let failure = Seen::new(&out).take().unwrap_err();
    assert!(failure.check(FailureKind::Panicked));
    assert_eq!(failure.message(), "future bug with 2");
    assert_eq!(reactor.tasks_in_flight(), 0);
}

#[test]
fn callbacks_added_before_the_await_run_first_and_the_result_is_then_taken() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let input = Deferred::<u32>::new();
    input.add_callback(|x| x + 100);
    let i = input.clone();
    let out = ensure_deferred(&reactor, |_| i);
    input.callback(1).unwrap();
    clock.advance(Duration::ZERO);
    assert_eq!(Seen::new(&out).take().unwrap(), 101);
    let after = Seen::new(&input);
    assert!(after.take().unwrap_err().check(FailureKind::ResultConsumed), "awaiting took the result");
}

#[test]
fn awaiting_a_deferred_a_second_time_fails_with_result_consumed() {
    let clock = Clock::new();
    let input = twine_core::defer::succeed(1u32);
    let i = input.clone();
    let out = ensure_deferred(&clock.reactor(), |_| async move {
        let first = i.clone().await?;
        let second = i.await;
        Ok::<_, Failure>((first, second.unwrap_err().kind()))
    });
    assert_eq!(Seen::new(&out).take().unwrap(), (1, FailureKind::ResultConsumed));
}

#[test]
fn many_wakes_before_the_poll_cost_one_poll() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let polls = Rc::new(Cell::new(0));
    let slot = Slot::default();
    let (p, s) = (polls.clone(), slot.clone());
    let out = ensure_deferred(&reactor, |_| async move {
        std::future::poll_fn(|_| {
            p.set(p.get() + 1);
            Poll::Ready(())
        })
        .await;
        let mut s2 = s.clone();
        let value = std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            Pin::new(&mut s2).poll(cx)
        })
        .await;
        Ok::<_, Failure>(value)
    });
    assert_eq!(polls.get(), 2, "the first poll ran at once and is waiting on the slot");
    let waker = slot.waker().expect("the future left its waker");
    for _ in 0..100 {
        waker.wake_by_ref();
    }
    assert_eq!(reactor.handle().inbox_depth(), 1, "a hundred wakes, one queued poll");
    slot.set(7);
    clock.advance(Duration::ZERO);
    assert_eq!(polls.get(), 3);
    assert_eq!(Seen::new(&out).take().unwrap(), 7);
}

#[test]
fn a_wake_from_another_thread_goes_through_the_inbox() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let woken = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let w = woken.clone();
    clock.driver().set_waker(move || {
        w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let slot = Slot::default();
    let s = slot.clone();
    let out = ensure_deferred(&reactor, |_| async move { Ok::<_, Failure>(s.await) });
    std::thread::spawn(move || slot.set(11)).join().unwrap();
    assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 1, "the driver was woken once");
    clock.advance(Duration::ZERO);
    assert_eq!(Seen::new(&out).take().unwrap(), 11);
}

#[test]
fn awaiting_work_on_the_thread_pool() {
    let (clock, pool) = with_manual_pool();
    let reactor = clock.reactor();
    let out = ensure_deferred(&reactor, |r| async move {
        let n = defer_to_thread(&r, || (1..=5u64).product::<u64>()).await?;
        Ok::<_, Failure>(n + 1)
    });
    pool.run_all();
    clock.advance(Duration::ZERO); // delivers the job result, which wakes the task
    clock.advance(Duration::ZERO); // the task's poll
    assert_eq!(Seen::new(&out).take().unwrap(), 121);
}

#[test]
fn polls_are_traced_as_task_calls() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let recorder = record_trace(&reactor);
    let input = Deferred::<u32>::new();
    let i = input.clone();
    let _out = ensure_deferred(&reactor, |_| i);
    input.callback(1).unwrap();
    clock.advance(Duration::ZERO);
    let task_calls = recorder
        .events()
        .into_iter()
        .filter(|r| matches!(r.event, TraceEvent::Call { source: CallSource::Task, .. }))
        .count();
    assert_eq!(task_calls, 1, "the woken poll (the first poll runs inside ensure_deferred)");
}

// ---- cancellation ----

#[test]
fn cancel_reaches_the_awaited_deferred_and_the_future_may_recover() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let awaited_cancelled = Rc::new(Cell::new(false));
    let ac = awaited_cancelled.clone();
    let awaited = Deferred::<u32>::with_canceller(move |_| ac.set(true));
    let a = awaited.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        match a.await {
            Err(f) if f.check(FailureKind::Cancelled) => Ok(0),
            other => other,
        }
    });
    let seen = Seen::new(&out);
    out.cancel();
    assert!(awaited_cancelled.get());
    assert!(!seen.fired(), "the future has the last word");
    clock.advance(Duration::ZERO);
    assert_eq!(seen.take().unwrap(), 0);
}

#[test]
fn a_future_that_ignores_the_cancel_fails_with_cancelled() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let awaited = Deferred::<u32>::new();
    let a = awaited.clone();
    let out = ensure_deferred(&reactor, |_| async move { Ok(a.await? + 1) });
    let seen = Seen::new(&out);
    out.cancel();
    clock.advance(Duration::ZERO);
    assert!(seen.take().unwrap_err().check(FailureKind::Cancelled));
    assert_eq!(reactor.tasks_in_flight(), 0);
}

#[test]
fn a_future_may_carry_on_after_a_cancel_and_finish_later() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let awaited = Deferred::<u32>::new();
    let (a, r) = (awaited.clone(), reactor.clone());
    let out = ensure_deferred(&reactor, |_| async move {
        if a.await.is_err() {
            // Clean up for a second, then report.
            return defer_later(&r, Duration::from_secs(1), || 99u32).await;
        }
        Ok(1)
    });
    let seen = Seen::new(&out);
    out.cancel();
    clock.advance(Duration::ZERO);
    assert!(!seen.fired(), "still cleaning up");
    clock.advance(Duration::from_secs(1));
    assert_eq!(seen.take().unwrap(), 99);
}

#[test]
fn cancelling_a_future_that_waits_on_something_else_drops_it() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let dropped = Rc::new(Cell::new(false));
    let guard = DropFlag(dropped.clone());
    let slot = Slot::default();
    let s = slot.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        let _guard = guard;
        Ok::<_, Failure>(s.await)
    });
    let seen = Seen::new(&out);
    out.cancel();
    assert!(dropped.get(), "dropped at once");
    assert!(seen.take().unwrap_err().check(FailureKind::Cancelled));
    assert_eq!(reactor.tasks_in_flight(), 0);
    slot.set(1); // a late wake finds no task
    clock.advance(Duration::ZERO);
}

#[test]
fn cancelling_twice_before_the_future_runs_again_keeps_waiting_for_it() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let awaited = Deferred::<u32>::new();
    let a = awaited.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        match a.await {
            Err(f) if f.check(FailureKind::Cancelled) => Ok(5),
            other => other,
        }
    });
    let seen = Seen::new(&out);
    out.cancel();
    out.cancel();
    clock.advance(Duration::ZERO);
    assert_eq!(seen.take().unwrap(), 5);
}

#[test]
fn cancelling_after_the_future_finished_does_nothing() {
    let clock = Clock::new();
    let out = ensure_deferred(&clock.reactor(), |_| async { Ok::<_, Failure>(3u32) });
    out.cancel();
    assert_eq!(Seen::new(&out).take().unwrap(), 3);
}

#[test]
fn cancel_reaches_through_nested_ensure_deferred() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let leaf_cancelled = Rc::new(Cell::new(false));
    let lc = leaf_cancelled.clone();
    let leaf = Deferred::<u32>::with_canceller(move |_| lc.set(true));
    let outer = ensure_deferred(&reactor, |r| async move {
        let inner = ensure_deferred(&r, |_| leaf);
        inner.await
    });
    let seen = Seen::new(&outer);
    outer.cancel();
    assert!(leaf_cancelled.get());
    clock.advance(Duration::ZERO);
    clock.advance(Duration::ZERO);
    assert!(seen.take().unwrap_err().check(FailureKind::Cancelled));
    assert_eq!(reactor.tasks_in_flight(), 0);
}

#[test]
fn cancelling_while_waiting_for_a_lock_leaves_the_line() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let l = lock.clone();
    let out = ensure_deferred(&reactor, |_| async move {
        l.acquire().await?;
        Ok::<_, Failure>(())
    });
    assert_eq!(lock.waiting(), 1);
    out.cancel();
    assert_eq!(lock.waiting(), 0);
    clock.advance(Duration::ZERO);
    assert!(Seen::new(&out).take().unwrap_err().check(FailureKind::Cancelled));
}

#[test]
fn a_timeout_on_an_awaited_deferred_surfaces_as_timed_out() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let never = Deferred::<u32>::new();
    let out = ensure_deferred(&reactor, |r| async move { never.add_timeout(&r, Duration::from_secs(2)).await });
    clock.advance(Duration::from_secs(2));
    assert!(Seen::new(&out).take().unwrap_err().check(FailureKind::TimedOut));
}

#[test]
fn the_task_waker_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let clock = Clock::new();
    let slot = Slot::default();
    let s = slot.clone();
    let _out = ensure_deferred(&clock.reactor(), |_| async move { Ok::<_, Failure>(s.await) });
    let waker = slot.waker().unwrap();
    assert_send_sync(&waker);
    slot.set(0);
}

#[test]
fn ensure_deferred_hands_the_future_maker_the_same_reactor() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let out = ensure_deferred(&reactor, |r| async move {
        let n: u32 = defer_later(&r, Duration::from_secs(3), || 4).await?;
        Ok::<_, Failure>((n, r.seconds()))
    });
    clock.advance(Duration::from_secs(3));
    let (n, when) = Seen::new(&out).value();
    assert_eq!((n, when.as_secs_f64()), (4, 3.0), "the timer ran on the reactor the maker was given");
}
