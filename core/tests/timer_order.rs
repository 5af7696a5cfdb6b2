//! Property: any schedule of timers with cancels and resets fires in
//! (due time, insertion) order, each live timer exactly once, and the
//! reactor lists its pending timers in that order.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use proptest::prelude::*;
use twine_core::reactor::DelayedCall;
use twine_core::task::Clock;

#[derive(Clone, Debug)]
enum Op {
    Schedule(u64),
    Cancel(usize),
    Reset(usize, u64),
    Delay(usize, u64),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..50).prop_map(Op::Schedule),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => (any::<usize>(), 0u64..50).prop_map(|(i, d)| Op::Reset(i, d)),
        1 => (any::<usize>(), 0u64..20).prop_map(|(i, d)| Op::Delay(i, d)),
        2 => (0u64..30).prop_map(Op::Advance),
    ]
}

struct Model {
    /// For each timer: its due time (ms) and the order it was last (re)inserted, while live.
    live: Vec<Option<(u64, u64)>>,
    inserts: u64,
}

proptest! {
    #[test]
    fn timers_fire_in_time_then_insertion_order_exactly_once(ops in proptest::collection::vec(op(), 1..80)) {
        let clock = Clock::new();
        let reactor = clock.reactor();
        let fired: Rc<RefCell<Vec<(usize, u64)>>> = Rc::default();
        let mut calls: Vec<DelayedCall> = Vec::new();
        let mut model = Model { live: Vec::new(), inserts: 0 };
        let now_ms = |clock: &Clock| clock.seconds().as_nanos() / 1_000_000;
        // (due, insertion) of every timer that must fire, in the order the model expects them.
        let mut expected: Vec<(u64, u64, usize)> = Vec::new();
        let flush = |model: &mut Model, upto: u64, expected: &mut Vec<(u64, u64, usize)>| {
            let mut due: Vec<(u64, u64, usize)> = model.live.iter().enumerate()
                .filter_map(|(i, t)| t.filter(|(d, _)| *d <= upto).map(|(d, s)| (d, s, i))).collect();
            due.sort();
            for (_, _, i) in &due { model.live[*i] = None; }
            expected.extend(due);
        };
        for op in ops {
            match op {
                Op::Schedule(delay) => {
                    let id = calls.len();
                    let f = fired.clone();
                    let c = clock.clone();
                    calls.push(reactor.call_later(Duration::from_millis(delay), move |_| f.borrow_mut().push((id, c.seconds().as_nanos() / 1_000_000))));
                    model.inserts += 1;
                    model.live.push(Some((now_ms(&clock) + delay, model.inserts)));
                }
                Op::Cancel(i) if !calls.is_empty() => {
                    let i = i % calls.len();
                    let was_live = model.live[i].take().is_some();
                    prop_assert_eq!(calls[i].cancel().is_ok(), was_live);
                }
                Op::Reset(i, delay) if !calls.is_empty() => {
                    let i = i % calls.len();
                    let ok = calls[i].reset(Duration::from_millis(delay)).is_ok();
                    prop_assert_eq!(ok, model.live[i].is_some());
                    if ok {
                        model.inserts += 1;
                        model.live[i] = Some((now_ms(&clock) + delay, model.inserts));
                    }
                }
                Op::Delay(i, extra) if !calls.is_empty() => {
                    let i = i % calls.len();
                    let ok = calls[i].delay(Duration::from_millis(extra)).is_ok();
                    prop_assert_eq!(ok, model.live[i].is_some());
                    if let (true, Some((due, _))) = (ok, model.live[i]) {
                        model.inserts += 1;
                        model.live[i] = Some((due + extra, model.inserts));
                    }
                }
                Op::Advance(by) => {
                    clock.advance(Duration::from_millis(by));
                    flush(&mut model, now_ms(&clock), &mut expected);
                }
                _ => {}
            }
        }
        // The reactor lists its pending timers in the order they then fire.
        let pending: Vec<u64> = reactor.pending_timers().iter().map(|t| t.id).collect();
        let fired_before = fired.borrow().len();
        clock.advance(Duration::from_secs(10));
        flush(&mut model, now_ms(&clock), &mut expected);
        let fired_after: Vec<u64> = fired.borrow()[fired_before..].iter().map(|(id, _)| calls[*id].id()).collect();
        prop_assert_eq!(pending, fired_after);
        let got: Vec<usize> = fired.borrow().iter().map(|(id, _)| *id).collect();
        let want: Vec<usize> = expected.iter().map(|(_, _, id)| *id).collect();
        prop_assert_eq!(got, want);
        for ((_, at), (due, _, _)) in fired.borrow().iter().zip(&expected) {
            prop_assert!(at >= due, "fired at {} before its due time {}", at, due);
        }
        prop_assert!(calls.iter().all(|c| !c.active()));
    }
}
