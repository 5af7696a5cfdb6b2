//! Deferred throughput: callback chains, and the async/await bridge, each
//! beside a peer in the same run: ten boxed closures applied in turn (the
//! least a chain can cost), and a tokio current-thread runtime spawning a
//! task that awaits a oneshot channel (the usual Rust way to await a result
//! that arrives later).
//!
//! `cargo bench -p twine-core --bench defer`
//!
//! Each benchmark's throughput is one element per chain or round trip, so
//! criterion reports chains (or round trips) per second.
//!
//! `map` steps each make a Deferred (the new type needs one), so a chain of
//! ten `map`s is measured beside ten `add_callback`s on one Deferred.

mod peers;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twine_core::defer::Deferred;
use twine_core::task::{ensure_deferred, Clock};

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
    group.bench_function("10-step map chain (a new Deferred per step), fired", |b| {
        b.iter(|| {
            let d = Deferred::<u64>::new();
            let mut last = d.clone();
            for _ in 0..10 {
                last = last.map(|x| x + 1);
            }
            d.callback(std::hint::black_box(0)).unwrap();
            last
        })
    });
    group.bench_function("peer: 10 boxed closures applied in turn", |b| b.iter(peers::ten_boxed_closures));
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
            let out = ensure_deferred(&reactor, |_| async move { Ok(awaited.await? + 1) });
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
            let out = ensure_deferred(&reactor, |_| async move { Ok(inner.await? + 1) });
            assert!(out.has_result());
            out
        })
    });
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    group.bench_function("peer: tokio current_thread, spawn + oneshot await", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                let task = tokio::spawn(async move { rx.await.unwrap() + 1 });
                tx.send(std::hint::black_box(41)).unwrap();
                task.await.unwrap()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, chains, round_trips);
criterion_main!(benches);
