//! Reactor throughput: timers, and calls from other threads, each beside a
//! peer measured in the same run: the least a timer queue can be (a binary
//! heap of boxed closures) and the standard channel of boxed closures.
//!
//! `cargo bench -p twine-core --bench reactor`

mod peers;

use std::sync::mpsc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use twine_core::{ReactorDriver, Time};

fn timers(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers");
    const N: u64 = 1_000_000;
    group.throughput(Throughput::Elements(N));
    group.sample_size(10);
    group.bench_function("1M call_later + fire", |b| {
        b.iter_batched(
            ReactorDriver::new,
            |reactor| {
                for i in 0..N {
                    reactor.call_later(Duration::from_nanos(i % 1000), |_| {});
                }
                reactor.handle_timeout(Time::from_micros(1));
                assert_eq!(reactor.stats().timers_pending, 0);
                reactor
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("peer: bare heap of boxed closures", |b| b.iter(|| peers::bare_timer_heap(N)));
    group.finish();
}

thread_local! {
    /// Calls run on the reactor thread (the closures run there, so no atomics).
    static RAN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn call_from_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("call_from_thread");
    const CALLS: u64 = 200_000;
    group.throughput(Throughput::Elements(CALLS));
    group.sample_size(10);
    for threads in [1u64, 4] {
        group.bench_function(format!("{threads} thread(s)"), |b| {
            b.iter(|| {
                let reactor = ReactorDriver::new();
                let handle = reactor.handle();
                RAN.with(|r| r.set(0));
                let producers: Vec<_> = (0..threads)
                    .map(|_| {
                        let h = handle.clone();
                        std::thread::spawn(move || {
                            for _ in 0..CALLS / threads {
                                h.call_from_thread(|_| RAN.with(|r| r.set(r.get() + 1)));
                            }
                        })
                    })
                    .collect();
                while RAN.with(|r| r.get()) < CALLS {
                    if handle.inbox_depth() == 0 {
                        std::thread::yield_now();
                    }
                    reactor.handle_timeout(Time::ZERO);
                }
                for p in producers {
                    p.join().unwrap();
                }
            })
        });
        group.bench_function(format!("peer: std mpsc, {threads} thread(s)"), |b| {
            b.iter(|| {
                let (tx, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
                let producers: Vec<_> = (0..threads)
                    .map(|_| {
                        let tx = tx.clone();
                        std::thread::spawn(move || {
                            for _ in 0..CALLS / threads {
                                tx.send(Box::new(|| {})).unwrap();
                            }
                        })
                    })
                    .collect();
                let mut ran = 0u64;
                for call in rx.iter().take(CALLS as usize) {
                    call();
                    ran += 1;
                }
                assert_eq!(ran, CALLS);
                for p in producers {
                    p.join().unwrap();
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, timers, call_from_thread);
criterion_main!(benches);
