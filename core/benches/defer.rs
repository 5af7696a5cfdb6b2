//! Deferred throughput: callback chains, and the async/await bridge.
//!
//! `cargo bench -p twine-core --bench defer`
//!
//! Each benchmark's throughput is one element per chain or round trip, so
//! criterion reports chains (or round trips) per second.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twine_core::defer::{ensure_deferred, Deferred};
use twine_core::task::Clock;

/// A Deferred with 10 callbacks, fired: callbacks added before `callback`
/// (they run when it fires) and after (they run as they are added).
fn chains(c: &mut Criterion) {
    let mut group = c.benchmark_group("deferred");
    group.throughput(Throughput::Elements(1));
    group.bench_function("10-callback chain, added then fired", |b| {
        b.iter(|| {
            let d = Deferred::<u64>::new();
            for _ in 0..10 {
                d.add_callback(|x| x + 1);
            }
            d.callback(std::hint::black_box(0)).unwrap();
            d
        })
    });
    group.bench_function("10-callback chain, fired then added", |b| {
        b.iter(|| {
            let d = Deferred::<u64>::new();
            d.callback(std::hint::black_box(0)).unwrap();
            for _ in 0..10 {
                d.add_callback(|x| x + 1);
            }
            d
        })
    });
    group.finish();
}

/// `ensure_deferred` over a future that awaits a Deferred fired later: the
/// first poll, the wake through the inbox, the turn that polls again, and
/// the result reaching the returned Deferred.
fn round_trips(c: &mut Criterion) {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let mut group = c.benchmark_group("ensure_deferred");
    group.throughput(Throughput::Elements(1));
    group.bench_function("round trip (await, fire, wake, turn)", |b| {
        b.iter(|| {
            let inner = Deferred::<u64>::new();
            let awaited = inner.clone();
            let out = ensure_deferred(&reactor, async move { Ok(awaited.await? + 1) });
            inner.callback(std::hint::black_box(41)).unwrap();
            clock.advance(Duration::ZERO);
            assert!(out.has_result());
            out
        })
    });
    group.bench_function("await an already-fired Deferred", |b| {
        b.iter(|| {
            let inner = Deferred::<u64>::new();
            inner.callback(std::hint::black_box(41)).unwrap();
            let out = ensure_deferred(&reactor, async move { Ok(inner.await? + 1) });
            assert!(out.has_result());
            out
        })
    });
    group.finish();
}

criterion_group!(benches, chains, round_trips);
criterion_main!(benches);
