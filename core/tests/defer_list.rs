//! DeferredList in each mode, and gather_results.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::{error, Seen};
use twine_core::defer::{fail, gather_results, succeed, Deferred, DeferredList, Failure, FailureKind, FirstSuccess};
use twine_core::ReactorDriver;

fn pending(n: usize) -> Vec<Deferred<u32>> {
    (0..n).map(|_| Deferred::new()).collect()
}

/// `Ok(v)` as `Some(v)`, a failure as its message: easy to compare.
fn summary(results: Vec<Result<u32, Failure>>) -> Vec<Result<u32, String>> {
    results.into_iter().map(|r| r.map_err(|f| f.message().to_owned())).collect()
}

#[test]
fn default_mode_waits_for_every_input_and_reports_in_input_order() {
    let ds = pending(3);
    let seen = Seen::new(&DeferredList::new(ds.clone()).into_deferred());
    ds[2].callback(2).unwrap();
    ds[0].errback(error("zero")).unwrap();
    assert!(!seen.fired(), "input 1 is still pending");
    ds[1].callback(1).unwrap();
    let results = seen.take().expect("a DeferredList never fails in the default mode");
    assert_eq!(summary(results), [Err("zero".into()), Ok(1), Ok(2)]);
    ds[0].add_errback(|_| 0); // handled here: the list left the failure in its input
}

#[test]
fn an_empty_list_fires_at_once() {
    let seen = Seen::new(&DeferredList::<u32>::new([]).into_deferred());
    assert!(seen.take().unwrap().is_empty());
}

#[test]
fn inputs_that_already_fired_count_at_once() {
    let seen = Seen::new(&DeferredList::new([succeed(1), succeed(2)]).into_deferred());
    assert_eq!(summary(seen.take().unwrap()), [Ok(1), Ok(2)]);
}

#[test]
fn failures_stay_in_their_inputs_unless_consumed() {
    let reactor = ReactorDriver::new();
    {
        let input = Deferred::<u32>::new();
        let list = DeferredList::new([input.clone()]).into_deferred();
        input.errback(error("left in place")).unwrap();
        let _ = Seen::new(&list).take();
        // Nobody handled the input's failure: dropping it reports one.
    }
    assert_eq!(reactor.stats().unhandled_errors, 1);
    {
        let input = Deferred::<u32>::new();
        let list = DeferredList::new([input.clone()]).consume_errors().into_deferred();
        input.errback(error("taken")).unwrap();
        let _ = Seen::new(&list).take();
    }
    assert_eq!(reactor.stats().unhandled_errors, 1, "consume_errors took the failure: nothing reported");
}

#[test]
fn fire_on_one_errback_fails_at_the_first_failure_with_first_error() {
    let ds = pending(3);
    let seen = Seen::new(&DeferredList::new(ds.clone()).fire_on_one_errback().consume_errors().into_deferred());
    ds[0].callback(0).unwrap();
    ds[1].errback(error("one broke")).unwrap();
    let failure = seen.take().unwrap_err();
    assert!(failure.check(FailureKind::FirstError));
    assert_eq!(failure.index(), Some(1));
    assert_eq!(failure.sub_failure().unwrap().message(), "one broke");
    // Inputs firing later keep their own results.
    ds[2].callback(2).unwrap();
    assert_eq!(Seen::new(&ds[2]).take().unwrap(), 2);
}

#[test]
fn fire_on_one_errback_with_no_failure_reports_everything() {
    let ds = pending(2);
    let seen = Seen::new(&DeferredList::new(ds.clone()).fire_on_one_errback().into_deferred());
    ds[1].callback(1).unwrap();
    ds[0].callback(0).unwrap();
    assert_eq!(summary(seen.take().unwrap()), [Ok(0), Ok(1)]);
}

#[test]
fn first_success_fires_with_the_first_value_and_its_index() {
    let ds = pending(3);
    let seen = Seen::new(&DeferredList::new(ds.clone()).consume_errors().into_first_success());
    ds[0].errback(error("zero")).unwrap();
    assert!(!seen.fired(), "a failure does not end a first-success list");
    ds[2].callback(22).unwrap();
    match seen.take().unwrap() {
        FirstSuccess::Success { index, value } => assert_eq!((index, value), (2, 22)),
        other => panic!("expected a success, got {other:?}"),
    }
    ds[1].callback(11).unwrap();
    assert_eq!(Seen::new(&ds[1]).take().unwrap(), 11, "a later input keeps its result");
}

#[test]
fn first_success_reports_every_failure_when_all_fail() {
    let ds = pending(2);
    let seen = Seen::new(&DeferredList::new(ds.clone()).consume_errors().into_first_success());
    ds[1].errback(error("b")).unwrap();
    ds[0].errback(error("a")).unwrap();
    match seen.take().unwrap() {
        FirstSuccess::AllFailed(failures) => {
            assert_eq!(failures.iter().map(Failure::message).collect::<Vec<_>>(), ["a", "b"])
        }
        other => panic!("expected every failure, got {other:?}"),
    }
}

#[test]
fn first_success_with_fire_on_one_errback_fails_at_a_failure_first() {
    let ds = pending(2);
    let seen = Seen::new(&DeferredList::new(ds.clone()).fire_on_one_errback().consume_errors().into_first_success());
    ds[1].errback(error("b")).unwrap();
    assert_eq!(seen.take().unwrap_err().index(), Some(1));
}

#[test]
fn first_success_of_nothing_reports_no_failures() {
    let seen = Seen::new(&DeferredList::<u32>::new([]).into_first_success());
    assert!(matches!(seen.take().unwrap(), FirstSuccess::AllFailed(f) if f.is_empty()));
}

#[test]
fn cancelling_the_list_cancels_every_input() {
    let cancelled = Rc::new(Cell::new(0));
    let ds: Vec<Deferred<u32>> = (0..3)
        .map(|_| {
            let c = cancelled.clone();
            Deferred::with_canceller(move |_| c.set(c.get() + 1))
        })
        .collect();
    ds[0].callback(0).unwrap();
    let list = DeferredList::new(ds.clone()).consume_errors().into_deferred();
    let seen = Seen::new(&list);
    list.cancel();
    assert_eq!(cancelled.get(), 2, "the two pending inputs");
    let results = seen.take().expect("the list still reports every input");
    assert_eq!(results[0].as_ref().ok(), Some(&0));
    assert!(results[1..].iter().all(|r| r.as_ref().unwrap_err().check(FailureKind::Cancelled)));
}

#[test]
fn a_canceller_supplying_a_value_fires_a_first_success_list() {
    let ds: Vec<Deferred<u32>> = vec![Deferred::with_canceller(|d| d.callback(7).unwrap()), Deferred::new()];
    let list = DeferredList::new(ds.clone()).consume_errors().into_first_success();
    let seen = Seen::new(&list);
    list.cancel();
    assert!(matches!(seen.take().unwrap(), FirstSuccess::Success { index: 0, value: 7 }));
}

#[test]
fn cancelling_a_list_that_fired_leaves_the_inputs_alone() {
    let ds = pending(2);
    let list = DeferredList::new(ds.clone()).fire_on_one_errback().consume_errors().into_deferred();
    ds[0].errback(error("x")).unwrap();
    list.cancel();
    assert!(!ds[1].called());
    let _ = Seen::new(&list).take();
}

#[test]
fn gather_results_collects_values_in_input_order() {
    let ds = pending(3);
    let seen = Seen::new(&gather_results(ds.clone()));
    for (i, d) in ds.iter().enumerate().rev() {
        d.callback(i as u32 * 10).unwrap();
    }
    assert_eq!(seen.take().unwrap(), [0, 10, 20]);
    assert!(Seen::new(&gather_results(Vec::<Deferred<u8>>::new())).take().unwrap().is_empty());
}

#[test]
fn gather_results_fails_fast_and_consumes_the_failures() {
    let reactor = ReactorDriver::new();
    {
        let ds = pending(3);
        let seen = Seen::new(&gather_results(ds.clone()));
        ds[1].errback(error("disk full")).unwrap();
        let failure = seen.take().unwrap_err();
        assert!(failure.check(FailureKind::FirstError), "without waiting for inputs 0 and 2");
        assert_eq!(failure.index(), Some(1));
        assert_eq!(failure.sub_failure().unwrap().message(), "disk full");
        ds[2].errback(error("later")).unwrap();
        ds[0].callback(0).unwrap();
    }
    assert_eq!(reactor.stats().unhandled_errors, 0, "gather_results consumes its inputs' failures");
}

#[test]
fn gather_results_with_a_failed_input_fails_at_once() {
    let seen = Seen::new(&gather_results([succeed(1), fail(error("bad")), Deferred::new()]));
    assert_eq!(seen.take().unwrap_err().index(), Some(1));
}

#[test]
fn cancelling_gather_results_cancels_the_inputs() {
    let ds = pending(2);
    let gathered = gather_results(ds.clone());
    let seen = Seen::new(&gathered);
    gathered.cancel();
    assert!(ds.iter().all(Deferred::called));
    let failure = seen.take().unwrap_err();
    assert!(failure.check(FailureKind::FirstError));
    assert!(failure.sub_failure().unwrap().check(FailureKind::Cancelled));
}
