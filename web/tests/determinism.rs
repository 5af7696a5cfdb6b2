//! Same scenario and seed: the same trace and metrics, byte for byte.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashSet;

use twine_web::{Scenario, Simulation};

/// A bit of everything that draws on the seed: Poisson arrivals, jitter,
/// the GIL, the pool, locks, counters, Deferred chains with errbacks.
const MIXED: &str = r#"{
    "jitter": 0.2,
    "machine": {"cores": 2, "gil": true},
    "pool": {"threads": 3},
    "threads": [{"name": "bg", "count": 2, "steps": [
        {"repeat": {"times": 40, "steps": [{"read": "n"}, {"cpu": 0.3}, {"write": "n"}, {"sleep": 1}]}}
    ]}],
    "server": {"handler": [
        {"cpu": 0.5},
        {"defer_to_thread": [{"lock": {"name": "db", "steps": [{"io": 2}, {"increment": "n"}]}}, {"cpu": 1}]},
        {"fail": "odd"},
        {"errback": [{"print": "recovered: {error}"}]},
        "respond"
    ]},
    "clients": {"open": {"rate_per_s": 400, "arrival": "poisson", "requests": 60, "connections": 4}}
}"#;

fn fingerprint(scenario: &Scenario, seed: u64) -> (String, String) {
    let mut sim = Simulation::new(scenario, Some(seed));
    sim.run();
    (sim.jsonl(), serde_json::to_string(&sim.metrics()).unwrap())
}

#[test]
fn the_chrome_trace_export_is_byte_identical_too_when_the_run_is_cut_short() {
    // Cut short while eight threads are on cores and jobs run: the export
    // closes what is still open, and must do so in the same order every time.
    let scenario = Scenario::from_json(
        r#"{"duration_ms": 50, "machine": {"cores": 8},
            "threads": [{"name": "c", "count": 8, "steps": [{"cpu": 1000}]}],
            "main": [{"defer_to_thread": [{"io": 100}]}]}"#,
    )
    .unwrap();
    let export = || {
        let mut sim = Simulation::new(&scenario, Some(3));
        sim.run();
        sim.chrome_trace().to_string()
    };
    let first = export();
    for _ in 0..20 {
        assert!(export() == first, "the Chrome trace export differs between two identical runs");
    }
}

#[test]
fn the_same_seed_gives_a_byte_identical_trace_and_metrics_over_a_hundred_seeds() {
    let scenario = Scenario::from_json(MIXED).unwrap();
    let mut traces = HashSet::new();
    for seed in 0..100 {
        let first = fingerprint(&scenario, seed);
        let again = fingerprint(&scenario, seed);
        assert!(first.0 == again.0, "seed {seed}: the traces differ");
        assert!(first.1 == again.1, "seed {seed}: the metrics differ");
        traces.insert(first.0);
    }
    // And the seed matters.
    assert!(traces.len() >= 95, "only {} distinct traces", traces.len());
}

#[test]
fn every_preset_and_variant_is_deterministic() {
    for (spec, scenario) in common::every_preset_scenario() {
        let a = fingerprint(&scenario, 5);
        let b = fingerprint(&scenario, 5);
        assert!(a == b, "{spec} is not deterministic");
    }
}

#[test]
fn every_trace_is_in_time_order() {
    // The page finds events by time with a binary search.
    for (spec, scenario) in common::every_preset_scenario() {
        let mut sim = Simulation::new(&scenario, None);
        sim.run();
        let events = sim.events(0, usize::MAX);
        assert!(events.windows(2).all(|w| w[0].t <= w[1].t), "{spec}");
    }
}

#[test]
fn simulations_stepped_side_by_side_trace_as_if_alone() {
    // The playground's comparison view steps two simulations in turn on one thread.
    let scenario = Scenario::from_json(MIXED).unwrap();
    let alone = (fingerprint(&scenario, 1), fingerprint(&scenario, 2));
    let mut a = Simulation::new(&scenario, Some(1));
    let mut b = Simulation::new(&scenario, Some(2));
    loop {
        let more_a = a.step();
        let more_b = b.step();
        if !more_a && !more_b {
            break;
        }
    }
    assert!(a.jsonl() == alone.0 .0, "the first simulation's trace changed");
    assert!(b.jsonl() == alone.1 .0, "the second simulation's trace changed");
    assert!(serde_json::to_string(&b.metrics()).unwrap() == alone.1 .1);
}

#[test]
fn exports_are_well_formed() {
    let scenario = Scenario::from_json(MIXED).unwrap();
    let mut sim = Simulation::new(&scenario, Some(2));
    sim.run();
    let chrome = sim.chrome_trace();
    let events = chrome["traceEvents"].as_array().unwrap();
    assert!(events.iter().any(|e| e["name"] == "thread_name" && e["args"]["name"] == "pool-1"));
    assert!(events.iter().any(|e| e["cat"] == "cpu"));
    assert!(events.iter().any(|e| e["cat"] == "job"));
    let jsonl = sim.jsonl();
    let mut lines = jsonl.lines();
    assert_eq!(lines.next(), Some(r#"{"schema":"twine-trace","version":1}"#));
    let parsed: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(parsed.iter().all(|e| e["t"].is_u64()));
    let n = parsed.len();
    assert_eq!(n, sim.event_count());
    let page: Vec<serde_json::Value> = serde_json::from_str(&sim.events_json(10, 5)).unwrap();
    assert_eq!(page.len(), 5);
    assert!(page.iter().all(|e| e["t"].is_u64() && e["kind"].is_string()));
}

/// The default noise model draws from the seed: over a hundred seeds, the
/// same seed gives the same metrics byte for byte, and the seeds differ.
#[test]
fn the_noise_model_is_seeded_over_a_hundred_seeds() {
    let scenario = Scenario::from_json(
        r#"{"machine": {"cores": 2},
            "threads": [{"name": "t", "count": 3, "steps": [
                {"repeat": {"times": 20, "steps": [{"increment": "n"}, {"lock": {"name": "l", "steps": [{"cpu": 0.05}]}}, {"sleep": 0.2}]}}
            ]}],
            "main": [{"call_later": {"ms": 1, "steps": [{"print": "tick at {time}"}]}}]}"#,
    )
    .unwrap();
    let metrics = |seed| {
        let mut sim = Simulation::new(&scenario, Some(seed));
        sim.run();
        serde_json::to_string(&sim.metrics()).unwrap()
    };
    let mut distinct = HashSet::new();
    for seed in 0..100 {
        let first = metrics(seed);
        assert!(metrics(seed) == first, "seed {seed} gave two different runs");
        distinct.insert(first.replace(&format!("\"seed\":{seed},"), ""));
    }
    assert!(distinct.len() > 90, "only {} distinct runs over 100 seeds", distinct.len());
}
