//! The trace a Deferred chain leaves (what the playground draws), and the
//! "Unhandled error in Deferred" report.

mod common;

use std::time::Duration;

use common::record_trace;
use twine_core::defer::{Deferred, Failure, FailureKind};
use twine_core::task::Clock;
use twine_core::trace::{Recorder, TraceEvent};

/// The Deferred events recorded, in order.
fn deferred_events(recorder: &Recorder) -> Vec<TraceEvent> {
    recorder
        .events()
        .into_iter()
        .map(|r| r.event)
        .filter(|e| {
            matches!(
                e,
                TraceEvent::DeferredCreated { .. }
                    | TraceEvent::DeferredFired { .. }
                    | TraceEvent::DeferredChained { .. }
                    | TraceEvent::DeferredFailed { .. }
                    | TraceEvent::DeferredRecovered { .. }
                    | TraceEvent::DeferredCancelled { .. }
                    | TraceEvent::UnhandledError { .. }
            )
        })
        .collect()
}

#[test]
fn a_chain_traces_created_fired_chained_failed_and_recovered_with_ids() {
    let clock = Clock::new();
    let recorder = record_trace(&clock.reactor());

    let outer = Deferred::<u32>::with_label("request");
    let inner = Deferred::<u32>::with_label("lookup");
    let (o, i) = (outer.id(), inner.id());
    assert_ne!(o, i);
    let inner2 = inner.clone();
    outer
        .add_callback(move |_| inner2)
        .add_callback(|_| -> Result<u32, Failure> { Err(Failure::new(FailureKind::Error, "bad answer")) })
        .add_errback(|_| 0);
    outer.callback(1).unwrap();
    inner.callback(2).unwrap();

    let events = deferred_events(&recorder);
    assert_eq!(
        events,
        [
            TraceEvent::DeferredCreated { deferred: o, label: "request".into() },
            TraceEvent::DeferredCreated { deferred: i, label: "lookup".into() },
            TraceEvent::DeferredFired { deferred: o, ok: true },
            TraceEvent::DeferredChained { deferred: o, to: i },
            TraceEvent::DeferredFired { deferred: i, ok: true },
            TraceEvent::DeferredFailed { deferred: o, message: "Error: bad answer".into() },
            TraceEvent::DeferredRecovered { deferred: o },
        ]
    );
}

#[test]
fn cancel_traces_cancelled_then_a_failed_fire() {
    let clock = Clock::new();
    let recorder = record_trace(&clock.reactor());
    let d = Deferred::<u32>::new();
    d.add_errback(|_| 0);
    d.cancel();
    let id = d.id();
    let events = deferred_events(&recorder);
    assert_eq!(
        events[1..],
        [
            TraceEvent::DeferredCancelled { deferred: id },
            TraceEvent::DeferredFired { deferred: id, ok: false },
            TraceEvent::DeferredRecovered { deferred: id },
        ]
    );
}

#[test]
fn cancelling_a_paused_deferred_traces_both_cancels() {
    let clock = Clock::new();
    let recorder = record_trace(&clock.reactor());
    let (outer, inner) = (Deferred::<u32>::new(), Deferred::<u32>::new());
    let i = inner.clone();
    outer.add_callback(move |_| i).add_errback(|_| 0);
    outer.callback(0).unwrap();
    outer.cancel();
    let cancelled: Vec<u64> = deferred_events(&recorder)
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::DeferredCancelled { deferred } => Some(deferred),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, [outer.id(), inner.id()]);
}

#[test]
fn an_unhandled_failure_is_reported_once_when_the_deferred_is_dropped() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let recorder = record_trace(&reactor);
    let id = {
        let d = Deferred::<u32>::new();
        d.errback(Failure::new(FailureKind::Error, "nobody listened")).unwrap();
        let copy = d.clone();
        drop(d);
        assert_eq!(reactor.stats().unhandled_errors, 0, "a clone still holds it");
        copy.id()
    };
    assert_eq!(reactor.stats().unhandled_errors, 1);
    let reports: Vec<TraceEvent> =
        deferred_events(&recorder).into_iter().filter(|e| matches!(e, TraceEvent::UnhandledError { .. })).collect();
    assert_eq!(reports, [TraceEvent::UnhandledError { deferred: id, message: "Error: nobody listened".into() }]);
}

#[test]
fn handled_failures_and_results_are_not_reported() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    {
        let handled = Deferred::<u32>::new();
        handled.add_errback(|_| 0);
        handled.errback(Failure::new(FailureKind::Error, "handled")).unwrap();
        let moved_on = Deferred::<u32>::new();
        let _next = moved_on.map(|x| x).add_errback(|_| 0);
        moved_on.errback(Failure::new(FailureKind::Error, "passed to map")).unwrap();
        let fine = Deferred::<u32>::new();
        fine.callback(1).unwrap();
        let never_fired = Deferred::<u32>::new();
        drop(never_fired);
    }
    assert_eq!(reactor.stats().unhandled_errors, 0);
}

#[test]
fn a_failure_left_at_the_end_of_a_chain_after_a_timer_is_reported() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let d = Deferred::<u32>::new();
    let fire = d.clone();
    reactor.call_later(Duration::from_secs(1), move |_| {
        fire.errback(Failure::new(FailureKind::ConnectionLost, "peer went away")).unwrap();
    });
    d.add_callback(|x| x + 1);
    drop(d);
    clock.advance(Duration::from_secs(1));
    assert_eq!(reactor.stats().unhandled_errors, 1, "reported when the timer dropped the last handle");
}
