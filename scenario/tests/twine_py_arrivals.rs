//! CPython's load generator (`www/presets/twine.py`) sends on the schedule
//! the simulation and `twine run` use for the same seed: its port of
//! `twine_scenario::arrivals` gives the same nanoseconds.

use std::process::Command;

use serde_json::{json, Value};
use twine_scenario::arrivals::{ClosedClient, OpenArrivals};

fn twine_py_schedule(spec: Value) -> Vec<u64> {
    let twine_py = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/presets/twine.py");
    let out = Command::new("python3")
        .args([twine_py, "--schedule", &spec.to_string()])
        .output()
        .expect("python3 runs twine.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON list of nanoseconds")
}

#[test]
fn twine_py_draws_the_same_arrivals_as_the_simulation_and_twine_run() {
    for (seed, start, gap, poisson) in
        [(1, 0, 25e6, true), (2, 3_000_000, 1e9 / 40.0, true), (99, 0, 1e9 / 3.0, false), (u64::MAX, 7, 1e5, true)]
    {
        let ours: Vec<u64> = OpenArrivals::new(seed, start, gap, poisson).take(2000).collect();
        let spec =
            json!({"kind": "open", "seed": seed, "start_ns": start, "mean_gap_ns": gap, "poisson": poisson, "n": 2000});
        assert_eq!(twine_py_schedule(spec), ours, "seed {seed}");
    }
}

#[test]
fn twine_py_draws_the_same_think_times_as_the_simulation_and_twine_run() {
    for (seed, client, think, exponential) in
        [(1, 0, 50_000_000, true), (1, 3, 50_000_000, true), (5, 1, 7_000_000, false)]
    {
        let mut c = ClosedClient::new(seed, client, think, exponential);
        let ours: Vec<u64> = std::iter::once(c.first_send(2_000_000)).chain((0..499).map(|_| c.pause())).collect();
        let spec = json!({"kind": "closed", "seed": seed, "client": client, "think_ns": think,
                          "exponential": exponential, "start_ns": 2_000_000, "n": 500});
        assert_eq!(twine_py_schedule(spec), ours, "seed {seed}, client {client}");
    }
}
