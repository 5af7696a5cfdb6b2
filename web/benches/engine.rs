//! How fast the simulation runs: simulated trace events per second of wall
//! time, and a 60-second virtual scenario with 10 000 requests end to end.
//!
//! `cargo bench -p twine-web` (criterion prints `thrpt` in events/s).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use twine_web::{presets, Scenario, Simulation};

/// Sixty virtual seconds, ten thousand requests: each parsed on the reactor,
/// handed to the pool for 5 ms of I/O, answered in the callback.
const SERVER_60S: &str = r#"{
    "duration_ms": 61000,
    "machine": {"cores": 4},
    "pool": {"threads": 10},
    "server": {"handler": [{"cpu": 0.2}, {"defer_to_thread": [{"io": 5}]}, "respond"]},
    "clients": {"open": {"rate_per_s": 166.7, "arrival": "poisson", "requests": 10000, "connections": 50}}
}"#;

/// The same load against a handler that blocks the reactor for 2 ms.
const BLOCKING_60S: &str = r#"{
    "duration_ms": 61000,
    "machine": {"cores": 4},
    "server": {"handler": [{"cpu": 0.2}, {"io": 2}, "respond"]},
    "clients": {"open": {"rate_per_s": 166.7, "arrival": "poisson", "requests": 10000, "connections": 50}}
}"#;

fn events_of(scenario: &Scenario) -> u64 {
    let mut sim = Simulation::new(scenario, None);
    sim.run();
    sim.event_count() as u64
}

fn bench(c: &mut Criterion, name: &str, scenario: Scenario) {
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(events_of(&scenario)));
    group.sample_size(20);
    group.bench_function(name, |b| {
        b.iter_batched(
            || Simulation::new(&scenario, None),
            |mut sim| {
                sim.run();
                sim
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn simulate(c: &mut Criterion) {
    bench(c, "server-60s-10k-requests-defer", Scenario::from_json(SERVER_60S).unwrap());
    bench(c, "server-60s-10k-requests-blocking", Scenario::from_json(BLOCKING_60S).unwrap());
    for spec in ["counter-race/nogil-locked", "counter-race/gil-read-then-write", "gil-cpu-bound/gil-4-cores"] {
        let (preset, variant) = presets::resolve(spec).unwrap();
        bench(c, spec, preset.scenario(variant).unwrap());
    }
}

criterion_group!(benches, simulate);
criterion_main!(benches);
