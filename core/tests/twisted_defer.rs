//! Ports of Twisted's `twisted/test/test_defer.py`: each test names the
//! Twisted test it ports and asserts what that test asserts. Where twine
//! differs on purpose (a typed result cannot become `None`), the test says so.

use std::cell::Cell;
use std::rc::Rc;

use twine_core::defer::Deferred;

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
            d = d.then(|n| n + 1);
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
            d = d.then(|n| n + 1);
        }
        drop(d);
        drop(first);
    });
}
