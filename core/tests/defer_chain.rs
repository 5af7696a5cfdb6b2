//! Deferred chains: the behaviours Twisted's test_defer.py pins down for
//! callbacks, errbacks, pausing on a returned Deferred, and firing twice.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{error, Seen};
use twine_core::defer::{fail, maybe_deferred, succeed, AlreadyCalled, Deferred, Failure, FailureKind, Outcome};

#[test]
fn callbacks_run_in_order_each_with_the_previous_result() {
    let d = Deferred::<Vec<u32>>::new();
    for n in 1..=3 {
        d.add_callback(move |mut v| {
            v.push(n);
            v
        });
    }
    let seen = Seen::new(&d);
    assert!(!seen.fired(), "nothing runs before the Deferred fires");
    d.callback(vec![0]).unwrap();
    assert_eq!(seen.value(), [0, 1, 2, 3]);
}

#[test]
fn callbacks_added_after_firing_run_at_once() {
    let d = succeed(10);
    let ran = Rc::new(RefCell::new(Vec::new()));
    let r = ran.clone();
    d.add_callback(move |x| {
        r.borrow_mut().push(x);
        x + 1
    });
    assert_eq!(*ran.borrow(), [10], "ran during add_callback");
    let r = ran.clone();
    d.add_callback(move |x| {
        r.borrow_mut().push(x);
        x
    });
    assert_eq!(*ran.borrow(), [10, 11]);
}

#[test]
fn firing_twice_is_already_called() {
    let d = Deferred::<u8>::new();
    d.callback(1).unwrap();
    assert_eq!(d.callback(2), Err(AlreadyCalled));
    assert_eq!(d.errback(error("late")), Err(AlreadyCalled));
    let e = Deferred::<u8>::new();
    e.errback(error("first")).unwrap();
    assert_eq!(e.callback(1), Err(AlreadyCalled));
    e.add_errback(|_| 0);
    assert_eq!(Seen::new(&d).value(), 1, "the first result stands");
}

#[test]
fn a_failure_skips_callbacks_until_an_errback_recovers() {
    let d = Deferred::<i32>::new();
    let skipped = Rc::new(RefCell::new(false));
    let s = skipped.clone();
    d.add_callback(|_| -> Result<i32, Failure> { Err(error("step 1 broke")) })
        .add_callback(move |x| {
            *s.borrow_mut() = true;
            x
        })
        .add_errback(|f| {
            assert_eq!(f.message(), "step 1 broke");
            -1
        })
        .add_callback(|x| x * 10);
    let seen = Seen::new(&d);
    d.callback(5).unwrap();
    assert!(!*skipped.borrow(), "the callback after the failure was skipped");
    assert_eq!(seen.value(), -10, "recovered, then callbacks resumed");
}

#[test]
fn an_errback_returning_a_failure_keeps_failing() {
    let d = Deferred::<i32>::new();
    d.add_errback(|f| -> Result<i32, Failure> { Err(error(&format!("wrapped: {}", f.message()))) })
        .add_errback(Outcome::Failure);
    let seen = Seen::new(&d);
    d.errback(error("root")).unwrap();
    assert_eq!(seen.failure().message(), "wrapped: root");
}

#[test]
fn errbacks_are_skipped_on_success_and_add_callbacks_runs_exactly_one_side() {
    let d = Deferred::<i32>::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    d.add_errback(move |_| {
        l1.borrow_mut().push("errback");
        0
    })
    .add_callbacks(
        move |x| -> Result<i32, Failure> {
            l2.borrow_mut().push("callback");
            Err(error(&x.to_string()))
        },
        move |_| {
            l3.borrow_mut().push("paired errback");
            0
        },
    );
    let seen = Seen::new(&d);
    d.callback(7).unwrap();
    assert_eq!(*log.borrow(), ["callback"], "the paired errback does not see its own callback's failure");
    assert_eq!(seen.failure().message(), "7");
}

#[test]
fn add_both_sees_results_and_failures() {
    let d = Deferred::<i32>::new();
    d.add_both(|r| r.map(|x| x + 1).or_else(|_| Ok::<_, Failure>(0)));
    let seen = Seen::new(&d);
    d.errback(error("x")).unwrap();
    assert_eq!(seen.value(), 0);
}

#[test]
fn a_callback_returning_a_pending_deferred_pauses_the_chain_until_it_fires() {
    let outer = Deferred::<i32>::new();
    let inner = Deferred::<i32>::new();
    let i = inner.clone();
    let after = Rc::new(RefCell::new(Vec::new()));
    let a = after.clone();
    outer.add_callback(move |_| i).add_callback(move |x| {
        a.borrow_mut().push(x);
        x + 1
    });
    outer.callback(1).unwrap();
    assert!(outer.called());
    assert!(!outer.has_result(), "paused on the inner Deferred");
    assert!(after.borrow().is_empty());

    // Callbacks added while paused wait too.
    let late = Seen::new(&outer);
    assert!(!late.fired());

    inner.callback(40).unwrap();
    assert_eq!(*after.borrow(), [40], "resumed with the inner result");
    assert_eq!(late.value(), 41);
}

#[test]
fn an_inner_failure_flows_into_the_outer_errbacks() {
    let outer = Deferred::<i32>::new();
    let inner = Deferred::<i32>::new();
    let i = inner.clone();
    outer.add_callback(move |_| i);
    let seen = Seen::new(&outer);
    outer.callback(0).unwrap();
    inner.errback(error("inner broke")).unwrap();
    assert_eq!(seen.failure().message(), "inner broke");
}

#[test]
fn returning_an_already_fired_deferred_continues_at_once_and_takes_its_result() {
    let inner = succeed(5);
    let outer = Deferred::<i32>::new();
    let i = inner.clone();
    outer.add_callback(move |_| i);
    let seen = Seen::new(&outer);
    outer.callback(0).unwrap();
    assert_eq!(seen.value(), 5);
    // As in Twisted, the inner Deferred's result moved to the outer chain.
    let after = Seen::new(&inner);
    assert!(after.failure().check(FailureKind::ResultConsumed));
}

#[test]
fn returning_a_deferred_whose_result_was_taken_fails_instead_of_hanging() {
    let inner = succeed(5);
    let _moved_on = inner.map(|x| x); // takes inner's result
    let outer = Deferred::<i32>::new();
    let i = inner.clone();
    outer.add_callback(move |_| i);
    let seen = Seen::new(&outer);
    outer.callback(0).unwrap();
    assert!(seen.failure().check(FailureKind::ResultConsumed));
}

#[test]
fn nested_chains_pause_at_every_level() {
    let (a, b, c) = (Deferred::<i32>::new(), Deferred::<i32>::new(), Deferred::<i32>::new());
    let (b2, c2) = (b.clone(), c.clone());
    a.add_callback(move |_| b2);
    b.add_callback(move |x| {
        let c = c2.clone();
        c.add_callback(move |y| x + y);
        c
    });
    let seen = Seen::new(&a);
    a.callback(0).unwrap();
    b.callback(1).unwrap();
    assert!(!seen.fired(), "b is paused on c, so a is too");
    c.callback(100).unwrap();
    assert_eq!(seen.value(), 101);
}

#[test]
fn a_callback_returning_its_own_deferred_fails() {
    let d = Deferred::<i32>::new();
    let me = d.clone();
    d.add_callback(move |_| me);
    let seen = Seen::new(&d);
    d.callback(1).unwrap();
    assert!(seen.failure().message().contains("returned the Deferred it was added to"));
}

#[test]
fn a_panic_in_a_callback_becomes_a_failure() {
    let d = Deferred::<i32>::new();
    d.add_callback(|x| -> i32 { panic!("callback bug {x}") });
    let seen = Seen::new(&d);
    d.callback(3).unwrap();
    let failure = seen.failure();
    assert!(failure.check(FailureKind::Panicked));
    assert_eq!(failure.message(), "callback bug 3");
}

#[test]
fn a_chain_goes_on_after_a_panic_in_its_middle() {
    // The links run in one loop under one catch_unwind: after a panic the
    // loop starts again at the next link, with the panic as its failure.
    let d = Deferred::<i32>::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    d.add_callback(move |x| {
        l.borrow_mut().push(format!("first {x}"));
        x + 1
    });
    d.add_callback(|x| -> i32 { panic!("second panicked on {x}") });
    let l = log.clone();
    d.add_callback(move |x| {
        l.borrow_mut().push("skipped".to_owned());
        x
    });
    let l = log.clone();
    d.add_errback(move |f| {
        l.borrow_mut().push(format!("{:?}: {}", f.kind(), f.message()));
        10
    });
    d.add_callback(|x| -> i32 { panic!("fifth panicked on {x}") });
    let l = log.clone();
    d.add_errback(move |f| {
        l.borrow_mut().push(f.message().to_owned());
        20
    });
    d.callback(1).unwrap();
    let seen = Seen::new(&d);
    assert_eq!(seen.value(), 20);
    assert_eq!(*log.borrow(), ["first 1", "Panicked: second panicked on 2", "fifth panicked on 10"]);
}

#[test]
fn callbacks_added_from_inside_a_callback_run_after_it_in_order() {
    // Twisted's test_reentrantRunCallbacks / test_nonReentrantCallbacks.
    let d = Deferred::<i32>::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (me, l) = (d.clone(), log.clone());
    d.add_callback(move |x| {
        let l2 = l.clone();
        me.add_callback(move |x| {
            l2.borrow_mut().push("added inside");
            x
        });
        l.borrow_mut().push("first");
        x
    });
    let l = log.clone();
    d.add_callback(move |x| {
        l.borrow_mut().push("second");
        x
    });
    d.callback(0).unwrap();
    assert_eq!(*log.borrow(), ["first", "second", "added inside"]);
}

#[test]
fn a_callback_firing_another_deferred_that_feeds_back_does_not_deadlock() {
    let a = Deferred::<i32>::new();
    let b = Deferred::<i32>::new();
    let (a2, b2) = (a.clone(), b.clone());
    // b's callback extends a's chain while a is running.
    b.add_callback(move |x| {
        a2.add_callback(move |y| x + y);
        x
    });
    a.add_callback(move |x| {
        b2.callback(x * 10).unwrap();
        x
    });
    let seen = Seen::new(&a);
    a.callback(1).unwrap();
    // a: 1, then b fires with 10 and adds `+10` to a (after Seen's link)
    assert_eq!(seen.value(), 1);
}

#[test]
fn map_continues_with_another_type_and_moves_the_result() {
    let d = Deferred::<u32>::new();
    let text = d.map(|n| format!("{n}!"));
    let seen = Seen::new(&text);
    d.callback(3).unwrap();
    assert_eq!(seen.value(), "3!");
    assert!(Seen::new(&d).failure().check(FailureKind::ResultConsumed));

    let failed = fail::<u32>(error("no"));
    let text = failed.map(|n| n.to_string());
    assert_eq!(Seen::new(&text).failure().message(), "no", "failures pass through map");
}

#[test]
fn and_then_waits_for_a_deferred_of_the_new_type() {
    let d = Deferred::<u32>::new();
    let later = Deferred::<String>::new();
    let l = later.clone();
    let out = d.and_then(move |_| l);
    let seen = Seen::new(&out);
    d.callback(1).unwrap();
    assert!(!seen.fired());
    later.callback("ok".into()).unwrap();
    assert_eq!(seen.value(), "ok");
}

#[test]
fn maybe_deferred_wraps_values_failures_deferreds_and_panics() {
    assert_eq!(Seen::new(&maybe_deferred(|| 1)).value(), 1);
    let failed: Deferred<i32> = maybe_deferred(|| Err::<i32, _>(error("bad")));
    assert_eq!(Seen::new(&failed).failure().message(), "bad");
    let pending = Deferred::<i32>::new();
    let p = pending.clone();
    let same: Deferred<i32> = maybe_deferred(move || p);
    assert!(same.ptr_eq(&pending), "a Deferred comes back as is");
    let panicked: Deferred<i32> = maybe_deferred(|| -> i32 { panic!("oops") });
    assert!(Seen::new(&panicked).failure().check(FailureKind::Panicked));
}

#[test]
fn succeed_and_fail_are_already_fired() {
    let s = succeed("x");
    assert!(s.called() && s.has_result());
    let f = fail::<u8>(error("e"));
    assert!(f.called());
    assert_eq!(Seen::new(&f).failure().message(), "e");
}

#[test]
fn errors_convert_into_failures_with_question_mark() {
    let d = Deferred::<String>::new();
    let parsed = d.try_map(|s| s.parse::<u16>());
    let seen = Seen::new(&parsed);
    d.callback("70000".into()).unwrap();
    let failure = seen.failure();
    assert!(failure.check(FailureKind::Error));
    assert!(failure.downcast_ref::<std::num::ParseIntError>().is_some());
}

#[test]
fn long_chains_paused_and_extended_midway_run_every_link_once_in_order() {
    // A Deferred keeps its first ten links in place, then moves them to the
    // heap: cross that boundary while the chain runs, while it waits on
    // another Deferred, and after, and every link still runs once, in the
    // order added.
    for pause_at in [0, 2, 3, 4, 5, 8, 9, 10, 11, 17] {
        let d = Deferred::<Vec<u32>>::new();
        let inner = Deferred::<Vec<u32>>::new();
        for n in 0..20 {
            let (i, again) = (inner.clone(), d.clone());
            d.add_callback(move |mut v| {
                v.push(n);
                if n == 1 {
                    // Added from inside the run: queued behind link 19.
                    again.add_callback(|mut v| {
                        v.push(100);
                        v
                    });
                }
                if n == pause_at {
                    i.add_callback(move |mut w| {
                        w.extend(v);
                        w
                    });
                    return Outcome::Deferred(i);
                }
                Outcome::Value(v)
            });
        }
        d.callback(Vec::new()).unwrap();
        assert!(!d.has_result(), "paused on `inner` at link {pause_at}");
        for n in 20..26 {
            d.add_callback(move |mut v| {
                v.push(n);
                v
            });
        }
        inner.callback(Vec::new()).unwrap();
        let seen = Seen::new(&d);
        // Link 1 adds its link when it runs: before the pause, that is
        // ahead of links 20-25; after it (a pause at link 0), behind them.
        let expected: Vec<u32> = match pause_at {
            0 => (0..26).chain([100]).collect(),
            _ => (0..20).chain([100]).chain(20..26).collect(),
        };
        assert_eq!(seen.value(), expected, "paused at link {pause_at}");
    }
}

#[test]
fn every_kind_of_link_runs_or_is_skipped_as_in_twisted_along_a_long_chain() {
    // 40 links, past the ten a Deferred keeps in place, of every kind, in
    // blocks of ten: a callback that fails, a callback (skipped on the
    // failure), add_both, add_callbacks (its errback side), an errback that
    // recovers; then two callbacks, add_both, add_callbacks (its callback
    // side), an errback (skipped on the result). As Twisted's
    // _runCallbacks: a callback runs on a result only, an errback on a
    // failure only, and a skipped one passes the input on untouched.
    let d = Deferred::<u32>::new();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    for i in 0..40_u32 {
        let l = log.clone();
        match i % 5 {
            0 | 1 => d.add_callback(move |n| {
                l.borrow_mut().push(format!("callback {i}"));
                if i % 10 == 0 {
                    Err(Failure::new(FailureKind::Error, format!("failed at {i}")))
                } else {
                    Ok(n + 1)
                }
            }),
            2 => d.add_both(move |r| {
                l.borrow_mut().push(format!("both {i} {}", if r.is_ok() { "result" } else { "failure" }));
                r
            }),
            3 => {
                let l2 = l.clone();
                d.add_callbacks(
                    move |n| {
                        l.borrow_mut().push(format!("callbacks {i} callback"));
                        Ok(n + 1)
                    },
                    move |f| {
                        l2.borrow_mut().push(format!("callbacks {i} errback"));
                        Err(f)
                    },
                )
            }
            _ => d.add_errback(move |f| {
                l.borrow_mut().push(format!("errback {i}: {}", f.message()));
                i
            }),
        };
    }
    let seen = Seen::new(&d);
    d.callback(0).unwrap();
    let expected: Vec<String> = (0..4)
        .flat_map(|block| {
            let at = |k: u32| block * 10 + k;
            [
                format!("callback {}", at(0)),
                format!("both {} failure", at(2)),
                format!("callbacks {} errback", at(3)),
                format!("errback {}: failed at {}", at(4), at(0)),
                format!("callback {}", at(5)),
                format!("callback {}", at(6)),
                format!("both {} result", at(7)),
                format!("callbacks {} callback", at(8)),
            ]
        })
        .collect();
    assert_eq!(*log.borrow(), expected);
    // The last block: recovered with 34, then three links added one each.
    assert_eq!(seen.value(), 37);
}
