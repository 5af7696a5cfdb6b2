//! The `twine-sim` binary, as a user runs it.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use twine_web::{presets, Simulation};

fn twine_sim(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twine-sim")).args(args).output().expect("twine-sim runs");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn metrics_match_the_library_for_the_same_scenario_and_seed() {
    let (ok, stdout, stderr) = twine_sim(&["echo-blocking/deferred", "--seed", "4", "--metrics"]);
    assert!(ok, "{stderr}");
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let scenario = presets::find("echo-blocking").unwrap().scenario(Some("deferred")).unwrap();
    let mut sim = Simulation::new(&scenario, Some(4));
    sim.run();
    assert_eq!(printed, serde_json::to_value(sim.metrics()).unwrap());
    assert_eq!(printed["seed"], 4);
}

#[test]
fn a_file_with_a_variant_and_a_trace() {
    let dir = std::env::temp_dir().join(format!("twine-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scenario.json");
    std::fs::write(&file, presets::find("gil-cpu-bound").unwrap().json()).unwrap();
    let trace = dir.join("trace.json");
    let (ok, stdout, stderr) = twine_sim(&[
        file.to_str().unwrap(),
        "--variant",
        "nogil-4-cores",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "chrome",
    ]);
    assert!(ok, "{stderr}");
    // The variant runs the four on four cores: about 1 s each (CPU speed
    // and thread start-up vary a little with the seed), not 4 s under a GIL.
    let finished: f64 = stdout
        .split("cruncher-4 finished at ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!((0.95..1.1).contains(&finished), "{stdout}");
    let chrome: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert!(chrome["traceEvents"].as_array().unwrap().len() > 10);

    let (ok, _, _) = twine_sim(&["sleeping-threads", "--trace", trace.to_str().unwrap(), "--format", "jsonl"]);
    assert!(ok);
    let jsonl = std::fs::read_to_string(&trace).unwrap();
    assert!(jsonl.starts_with(r#"{"schema":"twine-trace","version":1}"#));

    // Without --format, the file's extension decides.
    let lines = dir.join("trace.jsonl");
    assert!(twine_sim(&["sleeping-threads", "--trace", lines.to_str().unwrap()]).0);
    assert!(std::fs::read_to_string(&lines).unwrap().starts_with(r#"{"schema":"twine-trace""#));
    assert!(twine_sim(&["sleeping-threads", "--trace", trace.to_str().unwrap()]).0);
    let chrome: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert!(chrome["traceEvents"].is_array());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--cores N` runs the same program on N cores: four threads of 1 s of
/// CPU without a GIL end after ~1 s on the scenario's 4 cores and ~2 s on
/// 2, for the JSON scenario and the Python program alike.
#[test]
fn cores_runs_the_scenario_on_the_machine_asked_for() {
    let last_ms = |args: &[&str]| {
        let (ok, stdout, stderr) = twine_sim(args);
        assert!(ok, "{args:?}: {stderr}");
        let m: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let cores = m["cores"].as_array().unwrap().len();
        (cores, m["output"].as_array().unwrap().last().unwrap()["t_ms"].as_f64().unwrap())
    };
    let py = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/presets/gil-cpu-bound.py");
    for program in ["gil-cpu-bound", py] {
        let base = [program, "--variant", "nogil-4-cores", "--seed", "3", "--metrics"];
        let (cores, own) = last_ms(&base);
        assert_eq!(cores, 4);
        let (cores, two) = last_ms(&[&base[..], &["--cores", "2"]].concat());
        assert_eq!(cores, 2);
        assert!((900.0..1200.0).contains(&own) && (1900.0..2300.0).contains(&two), "{program}: {own} ms, {two} ms");
    }
    let (ok, _, stderr) = twine_sim(&["gil-cpu-bound", "--cores", "0"]);
    assert!(!ok && stderr.contains("--cores"), "{stderr}");
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("twine-sim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.json");
    std::fs::write(&file, r#"{"pool": {"threads": 0}}"#).unwrap();
    let (ok, _, stderr) = twine_sim(&[file.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("pool.threads: must be between 1 and 1024 (got 0)"), "{stderr}");
    let (ok, _, stderr) = twine_sim(&["no-such-preset"]);
    assert!(!ok && stderr.contains("--list"), "{stderr}");
    let (ok, _, stderr) = twine_sim(&[file.to_str().unwrap(), "--variant", "x"]);
    assert!(!ok && stderr.contains("no variant `x`"), "{stderr}");
    let (ok, _, stderr) = twine_sim(&["echo-blocking/nope"]);
    assert!(!ok && stderr.contains("no variant `nope` (it has: blocking, deferred)"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
    let (ok, stdout, _) = twine_sim(&["--list"]);
    assert!(ok && stdout.lines().filter(|l| !l.starts_with(' ')).count() == presets::all().len());
}

#[test]
fn error_reports_go_to_stderr_and_prints_to_stdout() {
    let dir = std::env::temp_dir().join(format!("twine-sim-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("streams.py");
    let program = "from twisted.internet import reactor\ndef boom():\n    raise ValueError('boom')\n\
                   reactor.callLater(0, boom)\nreactor.callLater(0.01, reactor.stop)\nprint('hello')\nreactor.run()\n";
    std::fs::write(&file, program).unwrap();
    let (ok, stdout, stderr) = twine_sim(&[file.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("hello") && !stdout.contains("boom"), "{stdout}");
    assert!(stderr.contains("while handling timed call") && stderr.contains("ValueError: boom"), "{stderr}");
    assert!(!stderr.contains("hello"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
