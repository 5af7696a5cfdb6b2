//! CPython's load generator (`www/presets/twine.py`) sends on the schedule
//! the simulation and `twine run` use for the same seed: its port of
//! `twine_scenario::arrivals` gives the same nanoseconds.

use std::process::Command;

use twine_scenario::arrivals::OpenArrivals;

fn twine_py_open_arrivals(seed: u64, start_ns: u64, mean_gap_ns: f64, poisson: bool, n: usize) -> Vec<u64> {
    let twine_py = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/presets/twine.py");
    let spec = serde_json::json!({
        "seed": seed, "start_ns": start_ns, "mean_gap_ns": mean_gap_ns, "poisson": poisson, "n": n,
    });
    let out = Command::new("python3")
        .args([twine_py, "--open-arrivals", &spec.to_string()])
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
        assert_eq!(twine_py_open_arrivals(seed, start, gap, poisson, 2000), ours, "seed {seed}");
    }
}
