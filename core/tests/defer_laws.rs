//! Deferred laws, checked with proptest:
//! - adding a callback sequence before or after firing gives the same result;
//! - a chain of identity callbacks leaves the value unchanged;
//! - gather_results reports values in input order, whatever order they fire in.

use std::cell::RefCell;
use std::rc::Rc;

use proptest::prelude::*;
use twine_core::defer::{fail, gather_results, succeed, Deferred, Failure, FailureKind};

#[derive(Clone, Debug)]
enum Op {
    /// callback: x + n
    Add(i64),
    /// callback: fail if x > limit
    FailAbove(i64),
    /// errback: recover with n
    Recover(i64),
    /// errback: fail again with a new message
    Rewrap,
    /// add_both: x * 2 on success, n on failure
    Both(i64),
    /// callback returns an already-fired Deferred of x - n
    ChainFired(i64),
    /// callback returns an already-failed Deferred
    ChainFailed,
    /// callback returns a pending Deferred, fired later with x + n
    ChainPending(i64),
    /// callback panics when x is even
    PanicIfEven,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-100i64..100).prop_map(Op::Add),
        (-100i64..100).prop_map(Op::FailAbove),
        (-100i64..100).prop_map(Op::Recover),
        Just(Op::Rewrap),
        (-100i64..100).prop_map(Op::Both),
        (-100i64..100).prop_map(Op::ChainFired),
        Just(Op::ChainFailed),
        (-100i64..100).prop_map(Op::ChainPending),
        Just(Op::PanicIfEven),
    ]
}

type Pending = Rc<RefCell<Vec<(Deferred<i64>, i64)>>>;

fn apply(d: &Deferred<i64>, op: &Op, pending: &Pending) {
    match *op {
        Op::Add(n) => {
            d.add_callback(move |x| x.wrapping_add(n));
        }
        Op::FailAbove(limit) => {
            d.add_callback(move |x| {
                if x > limit {
                    Err(Failure::new(FailureKind::Error, format!("{x}>{limit}")))
                } else {
                    Ok(x)
                }
            });
        }
        Op::Recover(n) => {
            d.add_errback(move |_| n);
        }
        Op::Rewrap => {
            d.add_errback(|f| Err::<i64, _>(Failure::new(FailureKind::Error, format!("re: {}", f.message()))));
        }
        Op::Both(n) => {
            d.add_both(move |r| Ok::<_, Failure>(r.map(|x| x.wrapping_mul(2)).unwrap_or(n)));
        }
        Op::ChainFired(n) => {
            d.add_callback(move |x| succeed(x.wrapping_sub(n)));
        }
        Op::ChainFailed => {
            d.add_callback(|x| fail::<i64>(Failure::new(FailureKind::Error, format!("chained {x}"))));
        }
        Op::ChainPending(n) => {
            let pending = pending.clone();
            d.add_callback(move |x| {
                let inner = Deferred::new();
                pending.borrow_mut().push((inner.clone(), x.wrapping_add(n)));
                inner
            });
        }
        Op::PanicIfEven => {
            d.add_callback(|x| {
                if x % 2 == 0 {
                    panic!("even {x}");
                }
                x
            });
        }
    }
}

/// Fires each pending inner Deferred, in the order they appear, until none is left.
fn settle(pending: &Pending) {
    loop {
        let next = pending.borrow_mut().pop();
        match next {
            Some((d, value)) => d.callback(value).unwrap(),
            None => return,
        }
    }
}

/// The chain's final result, with a failure as its kind and message.
fn final_result(d: &Deferred<i64>) -> Result<i64, String> {
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    d.then_both(move |r| *o.borrow_mut() = Some(r.map_err(|f| format!("{:?}: {}", f.kind(), f.message()))));
    let result = out.borrow_mut().take();
    result.expect("the chain finished")
}

fn initial() -> impl Strategy<Value = Result<i64, String>> {
    prop_oneof![(-1000i64..1000).prop_map(Ok), "[a-z]{1,8}".prop_map(Err)]
}

fn fire(d: &Deferred<i64>, start: &Result<i64, String>) {
    match start {
        Ok(v) => d.callback(*v).unwrap(),
        Err(m) => d.errback(Failure::new(FailureKind::Error, m.clone())).unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn callbacks_added_before_or_after_firing_give_the_same_result(
        start in initial(),
        ops in proptest::collection::vec(op(), 0..24),
    ) {
        let before = Deferred::new();
        let pending_before: Pending = Rc::default();
        for op in &ops {
            apply(&before, op, &pending_before);
        }
        fire(&before, &start);
        settle(&pending_before);

        let after = Deferred::new();
        let pending_after: Pending = Rc::default();
        fire(&after, &start);
        for op in &ops {
            apply(&after, op, &pending_after);
            settle(&pending_after);
        }

        prop_assert_eq!(final_result(&before), final_result(&after));
    }

    #[test]
    fn identity_callbacks_leave_the_value_unchanged(
        value in any::<i64>(),
        kinds in proptest::collection::vec(0u8..4, 0..64),
        fire_first in any::<bool>(),
    ) {
        let d = Deferred::new();
        if fire_first {
            d.callback(value).unwrap();
        }
        for kind in kinds {
            match kind {
                0 => { d.add_callback(|x| x); }
                1 => { d.add_errback(Err::<i64, Failure>); }
                2 => { d.add_both(|r| r); }
                _ => { d.add_callback(succeed); }
            }
        }
        if !fire_first {
            d.callback(value).unwrap();
        }
        prop_assert_eq!(final_result(&d), Ok(value));
    }

    #[test]
    fn gather_results_keeps_input_order_whatever_the_firing_order(
        order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let ds: Vec<Deferred<usize>> = (0..order.len()).map(|_| Deferred::new()).collect();
        let gathered = gather_results(ds.clone());
        for &i in &order {
            ds[i].callback(i * 3).unwrap();
        }
        let out = Rc::new(RefCell::new(None));
        let o = out.clone();
        gathered.then_both(move |r| *o.borrow_mut() = Some(r.unwrap()));
        let expected: Vec<usize> = (0..order.len()).map(|i| i * 3).collect();
        prop_assert_eq!(out.borrow_mut().take(), Some(expected));
    }
}
