//! Ports of Twisted's `twisted/test/test_defer.py`: each test names the
//! Twisted test it ports and asserts what that test asserts. Where twine
//! differs on purpose (a typed result cannot become `None`), the test says so.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{
    gather_results, gather_results_with, race, succeed, Deferred, DeferredList, Failure, FailureKind, FirstSuccess,
};
use twine_core::task::Clock;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// What a Deferred ended with, recorded by a last link (Twisted's
/// `successResultOf` / `failureResultOf` read it).
fn result_of<T: 'static>(d: &Deferred<T>) -> Rc<RefCell<Option<Result<T, Failure>>>> {
    let seen = Rc::new(RefCell::new(None));
    let s = seen.clone();
    d.then_both(move |r| *s.borrow_mut() = Some(r));
    seen
}

/// Whether `d` failed with a failure of `kind` (a link takes it, so call
/// this last).
fn failed_with<T: 'static>(d: &Deferred<T>, kind: FailureKind) -> bool {
    matches!(&*result_of(d).borrow(), Some(Err(f)) if f.check(kind))
}

/// Twisted's `fakeCallbackCanceller`: a canceller that fires the Deferred
/// with "Callback Result".
fn fake_callback_canceller() -> Deferred<&'static str> {
    Deferred::with_canceller(|d| d.callback("Callback Result").unwrap())
}

/// The approximate native stack position of the caller: the address of one
/// of its locals. Comparing two of them says whether the stack grew.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Builds Twisted's chain of `how_many` Deferreds each waiting on the next
/// (`top` waits on the first inner, each inner on the next, the last inner
/// on `last`), fires everything but `last`, then fires `last` and returns the
/// stack position at which `top`'s next callback ran.
fn chain_deferreds(how_many: usize) -> usize {
    let depth = Rc::new(Cell::new(None));
    let top = Deferred::<()>::new();
    let inners: Vec<Deferred<()>> = (0..how_many).map(|_| Deferred::new()).collect();
    let last = Deferred::<()>::new();

    let first = inners[0].clone();
    top.add_callback(move |()| first);
    let d = depth.clone();
    top.add_callback(move |()| d.set(Some(stack_position())));
    for pair in inners.windows(2) {
        let next = pair[1].clone();
        pair[0].add_callback(move |()| next);
    }
    let l = last.clone();
    inners[how_many - 1].add_callback(move |()| l);

    top.callback(()).unwrap();
    for inner in &inners {
        inner.callback(()).unwrap();
    }
    // Sanity check: the record callback is not meant to have run yet.
    assert_eq!(depth.get(), None);
    last.callback(()).unwrap();
    depth.get().expect("the chain delivered the result to top")
}

/// Runs `f` on a thread with a small stack, so that recursion per link
/// would overflow it (and abort the test process) long before the end.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn a small-stack thread")
        .join()
        .expect("the small-stack thread finished")
}

/// Ports `DeferredTests.test_boundedStackDepth`: the depth of the call stack
/// does not grow as more Deferreds are chained together. Twisted compares 1
/// and 2 links; this also compares 1 and 1,000.
#[test]
fn test_bounded_stack_depth() {
    on_small_stack(|| {
        let one = chain_deferreds(1);
        assert_eq!(one, chain_deferreds(2));
        assert_eq!(one, chain_deferreds(1_000));
    });
}

/// Beyond Twisted's test, the crash it guards against: 100,000 Deferreds
/// each waiting on the next fire, on a 256 KiB stack, when the innermost
/// one fires.
#[test]
fn test_deep_chain_fires_in_bounded_stack() {
    on_small_stack(|| {
        let stack_at_top = chain_deferreds(100_000);
        assert_eq!(stack_at_top, chain_deferreds(1));
    });
}

/// The same crash through `then`: a million `then` links run one after
/// another, not one inside the other, and the chain can be dropped.
#[test]
fn test_long_then_chain_fires_in_bounded_stack() {
    let sum = on_small_stack(|| {
        let first = Deferred::<u64>::new();
        let mut d = first.clone();
        for _ in 0..1_000_000 {
            d = d.map(|n| n + 1);
        }
        let seen = Rc::new(Cell::new(0));
        let s = seen.clone();
        d.add_callback(move |n| {
            s.set(n);
            n
        });
        first.callback(0).unwrap();
        seen.get()
    });
    assert_eq!(sum, 1_000_000);
}

/// Dropping a long chain that never fired frees it link by link, not one
/// drop inside the other.
#[test]
fn test_unfired_long_chain_drops_in_bounded_stack() {
    on_small_stack(|| {
        let first = Deferred::<u64>::new();
        let mut d = first.clone();
        for _ in 0..1_000_000 {
            d = d.map(|n| n + 1);
        }
        drop(d);
        drop(first);
    });
}

/// Ports `DeferredTests.testPausedFailure`: errbacks added to a paused,
/// failed Deferred wait for `unpause`.
#[test]
fn test_paused_failure() {
    let d = twine_core::defer::fail::<()>(Failure::new(FailureKind::Error, "fail"));
    d.pause();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    d.add_errback(move |f| s.borrow_mut().push(f.message().to_owned()));
    assert!(seen.borrow().is_empty());
    d.unpause();
    assert_eq!(*seen.borrow(), ["fail"]);
}

/// Ports `DeferredTests.test_callbackReturnsDeferred`: the next callback
/// does not run until the returned Deferred fires, and not while it is paused.
#[test]
fn test_callback_returns_deferred() {
    let (d1, d2) = (Deferred::<i32>::new(), Deferred::<i32>::new());
    d2.pause();
    let inner = d2.clone();
    d1.add_callback(move |_| inner);
    let results = Rc::new(RefCell::new(None));
    let r = results.clone();
    d1.add_callback(move |n| {
        *r.borrow_mut() = Some(n);
        n
    });
    d1.callback(1).unwrap();
    assert_eq!(*results.borrow(), None, "should not have been called yet");
    d2.callback(2).unwrap();
    assert_eq!(*results.borrow(), None, "still should not have been called yet");
    d2.unpause();
    assert_eq!(*results.borrow(), Some(2), "the result of the second Deferred");
}

/// Ports `DeferredTests.test_chainedPausedDeferredWithResult`: a paused
/// Deferred with a result returned from a callback: the other chain waits
/// for it to be unpaused.
#[test]
fn test_chained_paused_deferred_with_result() {
    let paused = succeed(42);
    paused.pause();
    let chained = Deferred::<i32>::new();
    let p = paused.clone();
    chained.add_callback(move |_| p);
    chained.callback(0).unwrap();
    let result = Rc::new(RefCell::new(Vec::new()));
    let r = result.clone();
    chained.add_callback(move |n| {
        r.borrow_mut().push(n);
        n
    });
    assert!(result.borrow().is_empty());
    paused.unpause();
    assert_eq!(*result.borrow(), [42]);
}

/// Ports `DeferredTests.test_pausedDeferredChained`: a paused Deferred
/// encountered while pushing a result forward does not stop the Deferred it
/// came from: a callback added to `second` afterwards runs at once. (Twisted
/// gives it `None`; twine, having no `None` of a typed result, gives its
/// errback a `ResultConsumed` failure: see `Deferred`'s docs.)
#[test]
fn test_paused_deferred_chained() {
    let (first, second) = (Deferred::<()>::new(), Deferred::<()>::new());
    let s = second.clone();
    first.add_callback(move |()| s);
    first.callback(()).unwrap();
    first.pause();
    second.callback(()).unwrap();
    assert!(failed_with(&second, FailureKind::ResultConsumed));
}

/// Ports `DeferredTests.test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled`:
/// callbacks added to the middle of three chained Deferreds after the chain
/// was made run once the last fires. Twisted passes them `None`; twine
/// passes a `ResultConsumed` failure (the value went on to `first`).
#[test]
fn test_result_of_deferred_result_of_deferred_of_fired_deferred_called() {
    let (first, second, third) = (Deferred::<()>::new(), Deferred::<()>::new(), Deferred::<()>::new());
    let s = second.clone();
    first.add_callback(move |()| s);
    let t = third.clone();
    second.add_callback(move |()| t);
    second.callback(()).unwrap();
    first.callback(()).unwrap();
    third.callback(()).unwrap();
    assert!(failed_with(&second, FailureKind::ResultConsumed));
    assert!(matches!(*result_of(&first).borrow(), Some(Ok(()))));
}

/// Ports `DeferredTests.test_synchronousImplicitChain`: a fired Deferred
/// returned from a callback gives its result to the other chain; its own
/// later callbacks get no value (Twisted: `None`; twine: `ResultConsumed`).
#[test]
fn test_synchronous_implicit_chain() {
    let first = succeed("result");
    let second = Deferred::<&str>::new();
    let f = first.clone();
    second.add_callback(move |_| f);
    second.callback("ignored").unwrap();
    assert!(failed_with(&first, FailureKind::ResultConsumed));
    assert_eq!(result_of(&second).borrow_mut().take().unwrap().unwrap(), "result");
}

/// Ports `DeferredTests.test_nonReentrantCallbacks`: a callback added by a
/// running callback of the same Deferred runs after it returns.
#[test]
fn test_non_reentrant_callbacks() {
    let deferred = Deferred::<()>::new();
    let called = Rc::new(RefCell::new(Vec::new()));
    let (c, d) = (called.clone(), deferred.clone());
    deferred.add_callback(move |()| {
        c.borrow_mut().push(1);
        let c2 = c.clone();
        d.add_callback(move |()| c2.borrow_mut().push(2));
        assert_eq!(*c.borrow(), [1]);
    });
    deferred.callback(()).unwrap();
    assert_eq!(*called.borrow(), [1, 2]);
}

/// Ports `DeferredListTests.test_cancelDeferredList`, with inputs nobody
/// but the list holds (issue 15, item 6): cancelling the list cancels every
/// input, and the list fires with their `Cancelled` failures.
#[test]
fn test_cancel_deferred_list() {
    let cancelled = Rc::new(Cell::new(0));
    let inputs: Vec<Deferred<()>> = (0..2)
        .map(|_| {
            let c = cancelled.clone();
            Deferred::with_canceller(move |_| c.set(c.get() + 1))
        })
        .collect();
    let list = DeferredList::new(inputs).consume_errors().into_deferred();
    list.cancel();
    assert_eq!(cancelled.get(), 2);
    let results = result_of(&list).borrow_mut().take().expect("the list fired").expect("with a list");
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r.as_ref().is_err_and(|f| f.check(FailureKind::Cancelled))));
}

/// Ports `DeferredListTests.test_cancelDeferredListCallback`: an input whose
/// canceller fires it with a result is reported as a success.
#[test]
fn test_cancel_deferred_list_callback() {
    let one = fake_callback_canceller();
    let two = Deferred::<&str>::new();
    let list = DeferredList::new([one, two.clone()]).consume_errors().into_deferred();
    list.cancel();
    let results = result_of(&list).borrow_mut().take().unwrap().unwrap();
    assert_eq!(*results[0].as_ref().unwrap(), "Callback Result");
    assert!(results[1].as_ref().unwrap_err().check(FailureKind::Cancelled));
}

/// Ports `DeferredListTests.test_cancelDeferredListWithFireOnOneCallbackAndDeferredCallback`:
/// with fire-on-one-callback, a canceller that fires its input with a
/// result makes the list fire with that result and its index.
#[test]
fn test_cancel_deferred_list_with_fire_on_one_callback_and_deferred_callback() {
    let two = Deferred::<&str>::new();
    let list = DeferredList::new([fake_callback_canceller(), two.clone()]).into_first_success();
    list.cancel();
    assert!(failed_with(&two, FailureKind::Cancelled));
    let first = result_of(&list).borrow_mut().take().unwrap().unwrap();
    assert!(matches!(first, FirstSuccess::Success { index: 0, value: "Callback Result" }));
}

/// Ports `DeferredListTests.test_cancelFiredOnOneCallbackDeferredList`:
/// cancelling a list that already fired does not cancel the other inputs.
#[test]
fn test_cancel_fired_on_one_callback_deferred_list() {
    let (one, two) = (Deferred::<()>::new(), Deferred::<()>::new());
    let list = DeferredList::new([one.clone(), two.clone()]).into_first_success();
    one.callback(()).unwrap();
    list.cancel();
    assert!(!two.called());
}

/// Ports `GatherResultsTests.test_cancelGatherResults` (Twisted's default
/// `consumeErrors=False`, so the inputs keep their failures): cancelling
/// the gathered Deferred cancels every input and fails with `FirstError`
/// wrapping `Cancelled`.
#[test]
fn test_cancel_gather_results() {
    let (one, two) = (Deferred::<()>::new(), Deferred::<()>::new());
    let result = gather_results_with([one.clone(), two.clone()], false);
    result.cancel();
    assert!(failed_with(&one, FailureKind::Cancelled));
    assert!(failed_with(&two, FailureKind::Cancelled));
    let failure = result_of(&result).borrow_mut().take().unwrap().unwrap_err();
    assert!(failure.check(FailureKind::FirstError));
    assert!(failure.sub_failure().unwrap().check(FailureKind::Cancelled));
}

/// Ports `GatherResultsTests.test_cancelGatherResultsWithAllDeferredsCallback`:
/// if every canceller fires its input with a result, `gather_results`
/// succeeds with them.
#[test]
fn test_cancel_gather_results_with_all_deferreds_callback() {
    let result = gather_results([fake_callback_canceller(), fake_callback_canceller()]);
    result.cancel();
    let values = result_of(&result).borrow_mut().take().unwrap().unwrap();
    assert_eq!(values, ["Callback Result", "Callback Result"]);
}

/// Twisted's `_setupRaceState`: `n` Deferreds whose cancellers count how
/// often each was cancelled (without firing it).
fn setup_race_state(n: usize) -> (Rc<RefCell<Vec<u32>>>, Vec<Deferred<u32>>) {
    let cancelled = Rc::new(RefCell::new(vec![0; n]));
    let ds = (0..n)
        .map(|i| {
            let c = cancelled.clone();
            Deferred::with_canceller(move |_| c.borrow_mut()[i] += 1)
        })
        .collect();
    (cancelled, ds)
}

/// Ports `RaceTests.test_success` (over Twisted's hypothesis range, 0 to 3
/// Deferreds before and after the winner): the race fires with the winner's
/// index and result and cancels every other input once.
#[test]
fn test_race_success() {
    for before in 0..4 {
        for after in 0..4 {
            let (cancelled, ds) = setup_race_state(before + 1 + after);
            let result = race(ds.clone());
            ds[before].callback(42).unwrap();
            assert_eq!(result_of(&result).borrow_mut().take().unwrap().unwrap(), (before, 42));
            let mut expected = vec![1; before + 1 + after];
            expected[before] = 0;
            assert_eq!(*cancelled.borrow(), expected);
        }
    }
}

/// Ports `RaceTests.test_failure`: when every input fails, the race fails
/// with a `FailureGroup` of their failures, and nothing is cancelled.
#[test]
fn test_race_failure() {
    for n in 1..8 {
        let (cancelled, ds) = setup_race_state(n);
        let result = race(ds.clone());
        for (i, d) in ds.iter().enumerate() {
            d.errback(Failure::new(FailureKind::Error, format!("failure {i}"))).unwrap();
        }
        let group = result_of(&result).borrow_mut().take().unwrap().unwrap_err();
        assert!(group.check(FailureKind::FailureGroup));
        let messages: Vec<&str> = group.failures().iter().map(Failure::message).collect();
        let expected: Vec<String> = (0..n).map(|i| format!("failure {i}")).collect();
        assert_eq!(messages, expected);
        assert_eq!(*cancelled.borrow(), vec![0; n]);
    }
}

/// Ports `RaceTests.test_resultAfterCancel`: an input that fires after it
/// was cancelled (it had no canceller) sends its result nowhere, and no
/// error is reported.
#[test]
fn test_race_result_after_cancel() {
    let reactor = twine_core::reactor::ReactorDriver::new();
    for before in 0..4 {
        for after in 0..4 {
            let ds: Vec<Deferred<()>> = (0..before + 2 + after).map(|_| Deferred::new()).collect();
            let result = race(ds.clone());
            ds[before].callback(()).unwrap();
            ds[before + 1].callback(()).unwrap();
            assert!(matches!(*result_of(&result).borrow(), Some(Ok(_))));
        }
    }
    assert_eq!(reactor.stats().unhandled_errors, 0);
}

/// Ports `RaceTests.test_resultFromCancel`: an input whose canceller fires
/// it with a success does no harm: the winner's result stands.
#[test]
fn test_race_result_from_cancel() {
    let winner = Deferred::<u32>::new();
    let other = Deferred::with_canceller(|d: &Deferred<u32>| d.callback(7).unwrap());
    let result = race([winner.clone(), other]);
    winner.callback(1).unwrap();
    assert_eq!(result_of(&result).borrow_mut().take().unwrap().unwrap(), (0, 1));
}

/// Ports `RaceTests.test_cancel`: cancelling the race cancels every input
/// and the race fails with a `FailureGroup`.
#[test]
fn test_race_cancel() {
    for n in 1..4 {
        let (cancelled, ds) = setup_race_state(n);
        let result = race(ds);
        result.cancel();
        assert_eq!(*cancelled.borrow(), vec![1; n]);
        assert!(failed_with(&result, FailureKind::FailureGroup));
    }
}

/// Ports `DeferredAddTimeoutTests.test_timedOut`: a Deferred that times out
/// fails with `TimedOut`.
#[test]
fn test_timed_out() {
    let clock = Clock::new();
    let d = Deferred::<()>::new();
    d.add_timeout(&clock.reactor(), secs(10));
    assert!(!d.called());
    clock.advance(secs(15));
    assert!(failed_with(&d, FailureKind::TimedOut));
}

/// Ports `DeferredAddTimeoutTests.test_timedOutCustom`: with
/// `on_timeout_cancel`, a timed-out Deferred carries on with what it returns.
#[test]
fn test_timed_out_custom() {
    let clock = Clock::new();
    let d = Deferred::<&str>::new();
    d.add_timeout_with(&clock.reactor(), secs(10), |_, _| "OVERRIDDEN");
    clock.advance(secs(15));
    assert_eq!(result_of(&d).borrow_mut().take().unwrap().unwrap(), "OVERRIDDEN");
}

/// Ports `DeferredAddTimeoutTests.test_timedOutProvidedCancelSuccess`: a
/// canceller's success result stands when the Deferred times out.
#[test]
fn test_timed_out_provided_cancel_success() {
    let clock = Clock::new();
    let d = Deferred::with_canceller(|d: &Deferred<&str>| d.callback("I was cancelled!").unwrap());
    d.add_timeout(&clock.reactor(), secs(10));
    clock.advance(secs(15));
    assert_eq!(result_of(&d).borrow_mut().take().unwrap().unwrap(), "I was cancelled!");
}

/// Ports `DeferredAddTimeoutTests.test_providedCancelCalledBeforeTimeoutCustom`:
/// `on_timeout_cancel` handles what a canceller left (here a failure).
#[test]
fn test_provided_cancel_called_before_timeout_custom() {
    let clock = Clock::new();
    let d = Deferred::with_canceller(|d: &Deferred<&str>| {
        d.errback(Failure::new(FailureKind::Error, "what!")).unwrap();
    });
    d.add_timeout_with(&clock.reactor(), secs(10), |_, _| "OVERRIDDEN");
    clock.advance(secs(15));
    assert_eq!(result_of(&d).borrow_mut().take().unwrap().unwrap(), "OVERRIDDEN");
}

/// Ports `DeferredAddTimeoutTests.test_successResultBeforeTimeoutCustom`: a
/// result before the timeout passes through, and the timeout never cancels
/// the Deferred a later callback returned.
#[test]
fn test_success_result_before_timeout_custom() {
    let clock = Clock::new();
    let d = Deferred::<&str>::new();
    d.add_timeout_with(&clock.reactor(), secs(10), |_, _| "OVERRIDDEN");
    let inner = Deferred::<&str>::new();
    let seen = Rc::new(RefCell::new(None));
    let (s, i) = (seen.clone(), inner.clone());
    d.add_callback(move |r| {
        *s.borrow_mut() = Some(r);
        i
    });
    d.callback("results").unwrap();
    assert_eq!(*seen.borrow(), Some("results"));
    clock.advance(secs(15));
    assert!(!inner.called());
}

/// Ports `DeferredAddTimeoutTests.test_cancelBeforeTimeoutCustom`: a manual
/// cancel before the timeout keeps its `Cancelled` (`on_timeout_cancel` does
/// not run) and the timeout does not cancel again.
#[test]
fn test_cancel_before_timeout_custom() {
    let clock = Clock::new();
    let d = Deferred::<&str>::new();
    d.add_timeout_with(&clock.reactor(), secs(10), |_, _| "OVERRIDDEN");
    let inner = Deferred::<&str>::new();
    let seen = Rc::new(RefCell::new(None));
    let (s, i) = (seen.clone(), inner.clone());
    d.add_errback(move |f| {
        *s.borrow_mut() = Some(f.kind());
        i
    });
    d.cancel();
    assert_eq!(*seen.borrow(), Some(FailureKind::Cancelled));
    clock.advance(secs(15));
    assert!(!inner.called());
}

/// Cancelling the outermost of 100,000 Deferreds each waiting on the next
/// (Twisted's `cancel` forwards to the Deferred waited on) reaches the
/// innermost in bounded stack, and the `Cancelled` failure comes back out.
#[test]
fn test_cancel_reaches_the_end_of_a_deep_chain_in_bounded_stack() {
    let kind = on_small_stack(|| {
        let top = Deferred::<()>::new();
        let inners: Vec<Deferred<()>> = (0..100_000).map(|_| Deferred::new()).collect();
        let first = inners[0].clone();
        top.add_callback(move |()| first);
        for pair in inners.windows(2) {
            let next = pair[1].clone();
            pair[0].add_callback(move |()| next);
        }
        top.callback(()).unwrap();
        for inner in &inners[..inners.len() - 1] {
            inner.callback(()).unwrap();
        }
        top.cancel();
        assert!(inners[inners.len() - 1].called());
        let kind = result_of(&top).borrow_mut().take().map(|r| r.unwrap_err().kind());
        kind
    });
    assert_eq!(kind, Some(FailureKind::Cancelled));
}

/// Cancelling the end of a million `then` links that have not fired
/// reaches their source in bounded stack, and the failure comes back out.
#[test]
fn test_cancel_reaches_the_source_of_a_long_then_chain_in_bounded_stack() {
    let kind = on_small_stack(|| {
        let first = Deferred::<u64>::new();
        let mut d = first.clone();
        for _ in 0..1_000_000 {
            d = d.map(|n| n + 1);
        }
        d.cancel();
        assert!(first.called());
        let kind = result_of(&d).borrow_mut().take().map(|r| r.unwrap_err().kind());
        kind
    });
    assert_eq!(kind, Some(FailureKind::Cancelled));
}
