//! The reactor's rules, as a user of `call_later`, `call_from_thread`,
//! triggers and `stop` would check them.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use twine_core::defer::Deferred;
use twine_core::reactor::{Effect, Lifecycle, ReactorNotRunning, TimerError};
use twine_core::task::{Clock, Cooperator, LoopingCall};
use twine_core::trace::{Recorder, SystemEvent, TraceEvent, TriggerPhase};
use twine_core::{Reactor, ReactorDriver, Time};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::default()
}

fn push(log: &Log, entry: impl Into<String>) -> impl FnOnce(&Reactor) + 'static {
    let log = log.clone();
    let entry = entry.into();
    move |_| log.borrow_mut().push(entry)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn due_timers_run_in_time_then_insertion_order() {
    let clock = Clock::new();
    let r = clock.reactor();
    let log = log();
    r.call_later(ms(30), push(&log, "c@30"));
    r.call_later(ms(10), push(&log, "a@10"));
    r.call_later(ms(20), push(&log, "b1@20"));
    r.call_later(ms(20), push(&log, "b2@20"));
    r.call_later(ms(10), push(&log, "a2@10"));
    clock.advance(ms(30));
    assert_eq!(*log.borrow(), ["a@10", "a2@10", "b1@20", "b2@20", "c@30"]);
}

#[test]
fn the_inbox_runs_before_timers_and_only_as_it_stood_when_the_turn_began() {
    let reactor = ReactorDriver::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    reactor.call_soon(move |_| o.lock().unwrap().push("timer"));
    let handle = reactor.handle();
    let (h, o) = (handle.clone(), order.clone());
    handle.call_from_thread(move |_| {
        o.lock().unwrap().push("inbox-1");
        // Queued during the turn: it must wait for the next turn.
        let o = o.clone();
        h.call_from_thread(move |_| o.lock().unwrap().push("queued-during-turn"));
    });
    let o = order.clone();
    handle.call_from_thread(move |_| o.lock().unwrap().push("inbox-2"));
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*order.lock().unwrap(), ["inbox-1", "inbox-2", "timer"]);
    assert_eq!(handle.inbox_depth(), 1);
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*order.lock().unwrap(), ["inbox-1", "inbox-2", "timer", "queued-during-turn"]);
}

#[test]
fn a_call_scheduled_during_a_turn_runs_in_a_later_turn_even_when_due() {
    let reactor = ReactorDriver::new();
    let log = log();
    let l = log.clone();
    reactor.call_soon(move |r| {
        l.borrow_mut().push("first".into());
        r.call_soon(push(&l, "scheduled-in-turn"));
        r.call_later(Duration::ZERO, push(&l, "also-later"));
    });
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["first"]);
    assert_eq!(reactor.poll_timeout(), Some(Time::ZERO), "more work is ready now");
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["first", "scheduled-in-turn", "also-later"]);
}

#[test]
fn call_when_running_runs_before_zero_delay_calls_made_at_the_same_time() {
    let clock = Clock::new();
    let r = clock.reactor();
    let log = log();
    r.call_soon(push(&log, "soon"));
    r.call_when_running(push(&log, "when-running-1"));
    r.call_later(Duration::ZERO, push(&log, "zero-delay"));
    r.call_when_running(push(&log, "when-running-2"));
    clock.advance(Duration::ZERO);
    assert_eq!(*log.borrow(), ["when-running-1", "when-running-2", "soon", "zero-delay"]);
    // Once running, call_when_running calls at once.
    r.call_when_running(push(&log, "now"));
    assert_eq!(log.borrow().last().unwrap(), "now");
}

#[test]
fn startup_and_shutdown_triggers_run_in_phase_order() {
    let clock = Clock::new();
    let r = clock.reactor();
    let log = log();
    for event in [SystemEvent::Startup, SystemEvent::Shutdown] {
        for phase in [TriggerPhase::After, TriggerPhase::During, TriggerPhase::Before] {
            let entry = format!("{event:?}-{phase:?}");
            let l = log.clone();
            r.add_system_event_trigger(phase, event.clone(), move |_| {
                l.borrow_mut().push(entry);
                None
            });
        }
    }
    let removed = r.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, |_| panic!("removed"));
    assert!(r.remove_system_event_trigger(removed));
    r.call_soon(|r| r.stop().unwrap());
    clock.run();
    assert_eq!(
        *log.borrow(),
        ["Startup-Before", "Startup-During", "Startup-After", "Shutdown-Before", "Shutdown-During", "Shutdown-After"]
    );
    assert!(r.is_stopped());
}

#[test]
fn stop_takes_effect_after_the_current_turn_then_shutdown_triggers_run() {
    let clock = Clock::new();
    let r = clock.reactor();
    let log = log();
    let l = log.clone();
    r.call_soon(move |r| {
        l.borrow_mut().push("stopper".into());
        r.stop().unwrap();
        assert_eq!(r.stop(), Err(ReactorNotRunning), "a second stop is refused");
    });
    r.call_soon(push(&log, "same-turn"));
    r.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, {
        let l = log.clone();
        move |_| {
            l.borrow_mut().push("shutdown".into());
            None
        }
    });
    r.call_later(ms(1), push(&log, "never: after stop"));
    clock.advance(Duration::ZERO);
    assert_eq!(*log.borrow(), ["stopper", "same-turn", "shutdown"]);
    assert!(r.is_stopped());
    assert_eq!(r.lifecycle(), Lifecycle::Stopped);
    assert_eq!(clock.driver().poll_timeout(), None);
}

#[test]
fn stop_before_running_is_refused() {
    let r = ReactorDriver::new();
    assert_eq!(r.stop(), Err(ReactorNotRunning));
}

#[test]
fn a_shutdown_trigger_can_make_shutdown_wait_for_its_deferred() {
    let clock = Clock::new();
    let r = clock.reactor();
    let log = log();
    let l = log.clone();
    r.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, move |r| {
        let d = Deferred::new();
        let fire = d.clone();
        let l = l.clone();
        r.call_later(ms(500), move |_| {
            l.borrow_mut().push("drained".into());
            fire.callback(()).unwrap();
        });
        Some(d)
    });
    r.add_system_event_trigger(TriggerPhase::After, SystemEvent::Shutdown, {
        let l = log.clone();
        move |_| {
            l.borrow_mut().push("after".into());
            None
        }
    });
    r.call_soon(|r| r.stop().unwrap());
    clock.advance(Duration::ZERO);
    assert!(!r.is_stopped());
    assert_eq!(r.lifecycle(), Lifecycle::ShuttingDown);
    clock.advance(ms(499));
    assert!(!r.is_stopped());
    clock.advance(ms(1));
    assert!(r.is_stopped());
    assert_eq!(*log.borrow(), ["drained", "after"]);
}

#[test]
fn delayed_call_cancel_reset_and_delay_follow_twisted() {
    let clock = Clock::new();
    let r = clock.reactor();
    let log = log();
    let call = r.call_later(ms(100), push(&log, "moved"));
    assert!(call.active());
    assert_eq!(call.time(), Time::from_millis(100));
    call.reset(ms(50)).unwrap();
    assert_eq!(call.time(), Time::from_millis(50));
    call.delay(ms(25)).unwrap();
    assert_eq!(call.time(), Time::from_millis(75));
    clock.advance(ms(74));
    assert!(log.borrow().is_empty());
    clock.advance(ms(1));
    assert_eq!(*log.borrow(), ["moved"]);
    assert!(!call.active());
    assert_eq!(call.cancel(), Err(TimerError::AlreadyCalled));
    assert_eq!(call.reset(ms(1)), Err(TimerError::AlreadyCalled));
    assert_eq!(call.delay(ms(1)), Err(TimerError::AlreadyCalled));

    let cancelled = r.call_later(ms(10), push(&log, "cancelled"));
    cancelled.cancel().unwrap();
    assert!(!cancelled.active());
    assert_eq!(cancelled.cancel(), Err(TimerError::AlreadyCancelled));
    assert_eq!(cancelled.reset(ms(1)), Err(TimerError::AlreadyCancelled));
    clock.advance(ms(100));
    assert_eq!(*log.borrow(), ["moved"]);
}

#[test]
fn a_due_timer_moved_during_a_turn_waits_for_a_later_turn() {
    let reactor = ReactorDriver::new();
    let log = log();
    let target = Rc::new(RefCell::new(None::<twine_core::reactor::DelayedCall>));
    let (l, t) = (log.clone(), target.clone());
    // Both are due in this turn; the first moves the second to "now".
    reactor.call_soon(move |_| {
        l.borrow_mut().push("mover".into());
        t.borrow().as_ref().unwrap().reset(Duration::ZERO).unwrap();
    });
    *target.borrow_mut() = Some(reactor.call_soon(push(&log, "target")));
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["mover"]);
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["mover", "target"]);
}

#[test]
fn a_call_reset_to_now_during_a_turn_runs_next_turn() {
    let reactor = ReactorDriver::new();
    let log = log();
    let later = reactor.call_later(ms(100), push(&log, "was-later"));
    let l = log.clone();
    reactor.call_soon(move |_| {
        l.borrow_mut().push("resetter".into());
        later.reset(Duration::ZERO).unwrap();
    });
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["resetter"]);
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(*log.borrow(), ["resetter", "was-later"]);
}

#[test]
fn the_waker_runs_only_on_the_inbox_empty_to_non_empty_edge() {
    let reactor = ReactorDriver::new();
    let wakes = Arc::new(AtomicU64::new(0));
    let w = wakes.clone();
    reactor.set_waker(move || {
        w.fetch_add(1, Ordering::SeqCst);
    });
    let handle = reactor.handle();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let h = handle.clone();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    h.call_from_thread(|_| {});
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(wakes.load(Ordering::SeqCst), 1, "1000 calls into an inbox nobody drained: one wake");
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(handle.inbox_depth(), 0);
    handle.call_from_thread(|_| {});
    handle.call_from_thread(|_| {});
    assert_eq!(wakes.load(Ordering::SeqCst), 2, "drained, then non-empty again: one more wake");
    assert_eq!(handle.wakes(), 2);
}

thread_local! {
    static RECEIVED: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

#[test]
fn calls_from_many_threads_run_once_each_in_per_thread_order_with_few_wakes() {
    const THREADS: usize = 4;
    const CALLS: usize = 20_000;
    let reactor = ReactorDriver::new();
    // A driver's wait: the waker sets a flag and notifies.
    let signal = Arc::new((Mutex::new(false), Condvar::new()));
    let s = signal.clone();
    reactor.set_waker(move || {
        *s.0.lock().unwrap() = true;
        s.1.notify_one();
    });
    let handle = reactor.handle();
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = handle.clone();
            std::thread::spawn(move || {
                for i in 0..CALLS {
                    h.call_from_thread(move |_| RECEIVED.with(|r| r.borrow_mut().push((t, i))));
                }
            })
        })
        .collect();
    let total = THREADS * CALLS;
    while RECEIVED.with(|r| r.borrow().len()) < total {
        {
            let mut woken = signal.0.lock().unwrap();
            while !*woken && handle.inbox_depth() == 0 {
                woken = signal.1.wait_timeout(woken, Duration::from_millis(100)).unwrap().0;
            }
            *woken = false;
        }
        reactor.handle_timeout(Time::ZERO);
    }
    for p in producers {
        p.join().unwrap();
    }
    let received = RECEIVED.with(|r| r.take());
    assert_eq!(received.len(), total);
    for t in 0..THREADS {
        let mine: Vec<usize> = received.iter().filter(|(from, _)| *from == t).map(|(_, i)| *i).collect();
        assert_eq!(mine, (0..CALLS).collect::<Vec<_>>(), "thread {t}'s calls ran once each, in order");
    }
    let wakes = handle.wakes() as usize;
    assert!(wakes < total / 4, "{wakes} wakes for {total} calls: the inbox must wake only on its empty edge");
}

#[test]
fn a_panicking_callback_is_caught_reported_and_the_loop_goes_on() {
    let clock = Clock::new();
    let r = clock.reactor();
    let recorder = Recorder::new();
    r.set_trace_sink(recorder.clone());
    let log = log();
    r.call_soon(|_| panic!("boom in a timer"));
    r.call_soon(push(&log, "next timer"));
    r.handle().call_from_thread(|_| panic!("boom in the inbox"));
    clock.advance(Duration::ZERO);
    assert_eq!(*log.borrow(), ["next timer"]);
    assert_eq!(r.stats().panics, 2);
    let messages: Vec<String> = recorder
        .events()
        .into_iter()
        .filter_map(|rec| match rec.event {
            TraceEvent::CallbackPanicked { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(messages, ["boom in the inbox", "boom in a timer"]);
    r.call_soon(push(&log, "still running"));
    clock.advance(Duration::ZERO);
    assert_eq!(log.borrow().last().unwrap(), "still running");
}

#[test]
fn a_lent_clock_times_calls_and_counts_slow_ones() {
    let clock = Clock::new();
    let r = clock.reactor();
    let recorder = Recorder::new();
    r.set_trace_sink(recorder.clone());
    let c = clock.clone();
    r.call_soon(move |_| c.tick(ms(80)));
    r.call_soon(|_| {});
    clock.advance(Duration::ZERO);
    assert_eq!(r.stats().slow_calls, 1);
    let durations: Vec<u64> = recorder
        .events()
        .into_iter()
        .filter_map(|rec| match rec.event {
            TraceEvent::Call { dur, .. } => Some(dur),
            _ => None,
        })
        .collect();
    assert_eq!(durations, [80_000_000, 0]);
}

#[test]
fn looping_call_counts_skipped_intervals_when_late() {
    let clock = Clock::new();
    let counts = Rc::new(RefCell::new(Vec::new()));
    let c = counts.clone();
    let lc = LoopingCall::with_count(&clock.reactor(), move |n| c.borrow_mut().push(n));
    let done = lc.start(Duration::from_secs(1), false);
    clock.advance(Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    // The reactor was busy for 3.5 s: one late call stands for four intervals.
    clock.advance(Duration::from_millis(3_500));
    clock.advance(Duration::from_millis(500));
    assert_eq!(*counts.borrow(), [1, 1, 3, 1]);
    assert_eq!(lc.skipped(), 2);
    assert_eq!(lc.calls(), 4);
    lc.stop();
    assert!(done.has_result());
    clock.advance(Duration::from_secs(5));
    assert_eq!(lc.calls(), 4, "stopped loops stay stopped");
}

#[test]
fn looping_call_without_count_stays_on_interval_boundaries() {
    let clock = Clock::new();
    let times = Rc::new(RefCell::new(Vec::new()));
    let (t, c) = (times.clone(), clock.clone());
    let lc = LoopingCall::new(&clock.reactor(), move || t.borrow_mut().push(c.seconds().as_nanos() / 1_000_000));
    lc.start(ms(100), true);
    clock.pump([ms(100), ms(130), ms(70), ms(100)]);
    // Called at 0, 100, 230 (late), then back on the grid at 300 and 400.
    assert_eq!(*times.borrow(), [0, 100, 230, 300, 400]);
}

#[test]
fn cooperator_ticks_stop_at_the_time_budget_and_round_robin() {
    let clock = Clock::new();
    let coop = Cooperator::new(&clock.reactor());
    coop.set_budget(ms(5));
    let steps = Rc::new(RefCell::new(Vec::new()));
    for name in ["a", "b"] {
        let (s, c) = (steps.clone(), clock.clone());
        coop.cooperate((0..10).map(move |i| {
            c.tick(ms(1)); // each step costs 1 ms of (reactor) time
            s.borrow_mut().push(format!("{name}{i}"));
        }));
    }
    clock.advance(Duration::ZERO);
    assert_eq!(*steps.borrow(), ["a0", "b0", "a1", "b1", "a2"], "one tick: 5 steps of 1 ms in a 5 ms budget");
    clock.advance(ms(10));
    assert_eq!(steps.borrow().len(), 10);
}

#[test]
fn writes_in_one_callback_coalesce_and_close_follows_them() {
    use twine_core::protocol::{factory, Protocol, Transport};
    struct Greeter;
    impl Protocol for Greeter {
        fn connection_made(&mut self, t: &Transport) {
            t.write(b"hello ");
            t.write(b"there");
            t.lose_connection();
            t.write(b"dropped: written after lose_connection");
        }
    }
    let reactor = ReactorDriver::new();
    reactor.listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| Greeter));
    let Some(Effect::Listen { listener, .. }) = reactor.poll_effect() else { panic!("expected a listen effect") };
    let conn = reactor
        .handle_accept(Time::ZERO, listener, "127.0.0.1:5000".parse().unwrap(), "127.0.0.1:1".parse().unwrap())
        .unwrap();
    let effects: Vec<Effect> = std::iter::from_fn(|| reactor.poll_effect()).collect();
    assert!(
        matches!(&effects[..], [Effect::Write { data, conn: c1 }, Effect::Close { conn: c2 }]
        if data == b"hello there" && *c1 == conn && *c2 == conn),
        "{effects:?}"
    );
}

#[test]
fn the_calls_of_a_turn_are_timed_end_to_end_with_one_clock_read_each() {
    use std::cell::Cell;
    let reactor = ReactorDriver::new();
    let reads = Rc::new(Cell::new(0u64));
    let r = reads.clone();
    // Every read of this clock is 1 ms later than the one before.
    reactor.set_clock(move || {
        r.set(r.get() + 1);
        Time::from_millis(r.get())
    });
    let later = Time::from_secs(1);
    for _ in 0..3 {
        reactor.call_soon(|_| {});
    }
    let before = reads.get();
    reactor.handle_timeout(later);
    assert_eq!(reactor.stats().calls, 3);
    assert_eq!(reads.get() - before, 4, "three calls back to back: the first start, then one read at each end");

    // And the durations say so: each call starts where the previous one ended.
    let recorder = Recorder::new();
    reactor.set_trace_sink(recorder.clone());
    for _ in 0..3 {
        reactor.call_soon(|_| {});
    }
    reactor.handle_timeout(Time::from_secs(2));
    let calls: Vec<(Time, u64)> = recorder
        .events()
        .into_iter()
        .filter_map(|rec| match rec.event {
            TraceEvent::Call { dur, .. } => Some((rec.t, dur)),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 3);
    for pair in calls.windows(2) {
        assert!(pair[1].0 >= pair[0].0 + Duration::from_nanos(pair[0].1), "{calls:?}: calls overlap");
    }
}

#[test]
fn a_call_nested_in_another_reads_the_clock_only_when_traced() {
    use std::cell::Cell;
    use twine_core::protocol::{ConnectionKind, Message, Protocol, Transport};
    struct Quiet;
    impl Protocol for Quiet {
        fn message_received(&mut self, _: &Transport, _: Message) {}
    }
    let reactor = Rc::new(ReactorDriver::new());
    let reads = Rc::new(Cell::new(0u64));
    let r = reads.clone();
    reactor.set_clock(move || {
        r.set(r.get() + 1);
        Time::from_micros(r.get())
    });
    let addr = "10.0.0.1:1".parse().unwrap();
    let conn = reactor.open_connection(Time::ZERO, Box::new(Quiet), ConnectionKind::Message, addr, addr);
    // A driver's delivery: one call handing the protocol five messages.
    let deliver = |driver: Rc<ReactorDriver>| {
        move |_: &Reactor| {
            for i in 0..5 {
                driver.handle_message(Time::ZERO, conn, Message::text(format!("m{i}")));
            }
        }
    };
    reactor.call_at(Time::ZERO, deliver(reactor.clone()));
    let before = reads.get();
    reactor.handle_timeout(Time::ZERO);
    assert_eq!(reads.get() - before, 2, "the delivery call is timed; the five callbacks inside it are not");

    let recorder = Recorder::new();
    reactor.set_trace_sink(recorder.clone());
    reactor.call_at(Time::ZERO, deliver(reactor.clone()));
    reactor.handle_timeout(Time::ZERO);
    let io_calls = recorder
        .events()
        .iter()
        .filter(|rec| matches!(rec.event, TraceEvent::Call { source: twine_core::trace::CallSource::Io, dur, .. } if dur > 0))
        .count();
    assert_eq!(io_calls, 5, "traced, each callback gets its own duration");
}

#[test]
fn due_timers_counts_what_an_inbox_call_schedules_for_this_turn() {
    let r = ReactorDriver::new();
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    r.handle().call_from_thread(move |reactor| {
        reactor.call_later(Duration::ZERO, |_| {});
        *s.lock().unwrap() = Some(reactor.due_timers(reactor.seconds()));
    });
    r.handle_timeout(Time::ZERO);
    assert_eq!(*seen.lock().unwrap(), Some(1)); // it runs in this turn
    assert_eq!(r.due_timers(Time::ZERO), 0); // and it ran
}

#[test]
fn reactor_locals_are_per_reactor_and_reach_worker_results_through_the_inbox() {
    #[derive(Default)]
    struct Done(RefCell<Vec<u64>>);

    let clock = Clock::new();
    let reactor = clock.reactor();
    let other = ReactorDriver::new(); // a second reactor on the same thread keeps its own
    reactor.set_local(Done::default());
    assert!(other.local::<Done>().is_none());

    let handle = reactor.handle();
    let workers: Vec<_> = (1..=3u64)
        .map(|n| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                handle.call_from_thread(move |reactor| reactor.local::<Done>().unwrap().0.borrow_mut().push(n * 10))
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert!(reactor.local::<Done>().unwrap().0.borrow().is_empty(), "nothing runs before the reactor's turn");
    clock.advance(Duration::ZERO);
    let mut done = reactor.local::<Done>().unwrap().0.borrow().clone();
    done.sort();
    assert_eq!(done, [10, 20, 30]);

    let taken = reactor.take_local::<Done>().unwrap();
    assert_eq!(taken.0.borrow().len(), 3);
    assert!(reactor.local::<Done>().is_none());
}

#[test]
fn reactor_locals_are_dropped_with_the_reactor() {
    struct Flag(Rc<RefCell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let dropped = Rc::new(RefCell::new(false));
    let reactor = ReactorDriver::new();
    reactor.set_local(Flag(dropped.clone()));
    assert!(!*dropped.borrow());
    drop(reactor);
    assert!(*dropped.borrow());
}
