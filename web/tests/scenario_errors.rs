//! Every bad scenario is refused with an error naming the field and why.
#![cfg(not(target_arch = "wasm32"))]

use twine_web::{Scenario, ScenarioError};

fn error(json: &str) -> ScenarioError {
    match Scenario::from_json(json) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e,
    }
}

/// (scenario, the field the error must name, a word the reason must contain)
const CASES: &[(&str, &str, &str)] = &[
    // JSON and shape
    (r#"{"machine": "#, "machine", "EOF"),
    (r#"{"machine": {"cores": 2"#, "machine", "EOF"),
    (r#"{"#, "", "EOF"),
    (r#""a string""#, "", "invalid type"),
    (r#"{"machine": {}} trailing"#, "", "trailing"),
    (r#"{"mashine": {}}"#, "mashine", "unknown field `mashine`"),
    (r#"{"machine": {"coers": 2}}"#, "machine.coers", "unknown field `coers`"),
    (r#"{"machine": {"cores": "two"}}"#, "machine.cores", "invalid type"),
    (r#"{"machine": {"cores": -1}}"#, "machine.cores", "invalid value"),
    (r#"{"machine": {"gil": "yes"}}"#, "machine.gil", "invalid type"),
    (r#"{"main": {"cpu": 1}}"#, "main", "invalid type"),
    (r#"{"main": [{"cpux": 1}]}"#, "main[0]", "unknown variant `cpux`"),
    (r#"{"main": ["respond", "jump"]}"#, "main[1]", "unknown variant `jump`"),
    (r#"{"main": [{"cpu": "ten"}]}"#, "main[0].cpu", "invalid type"),
    (r#"{"main": [{"lock": {"name": "l", "stesp": []}}]}"#, "main[0].lock.stesp", "unknown field"),
    (r#"{"main": [{"lock": {"name": "l"}}]}"#, "main[0].lock", "missing field `steps`"),
    (r#"{"main": [{"lock": "l"}]}"#, "main[0].lock", r#"expected an object {"name": ..., "steps": [...]}"#),
    (r#"{"main": [{"repeat": 3}]}"#, "main[0].repeat", r#"expected an object {"times": ..., "steps": [...]}"#),
    (r#"[{"machine": {}}]"#, "", "a JSON object ({...}), not an array"),
    (r#"{"threads": [{"steps": []}]}"#, "threads[0]", "missing field `name`"),
    (r#"{"clients": {"sometimes": {}}}"#, "clients", "unknown variant `sometimes`"),
    (
        r#"{"clients": {"open": {"rate_per_s": 5, "arrival": "bursty"}}}"#,
        "clients.open.arrival",
        "unknown variant `bursty`",
    ),
    // values
    (r#"{"machine": {"cores": 0}}"#, "machine.cores", "between 1 and 64"),
    (r#"{"machine": {"cores": 65}}"#, "machine.cores", "between 1 and 64"),
    (r#"{"machine": {"time_slice_ms": 0}}"#, "machine.time_slice_ms", "above 0"),
    (r#"{"machine": {"switch_interval_ms": -5}}"#, "machine.switch_interval_ms", "milliseconds"),
    (r#"{"machine": {"counter_op_ns": -1}}"#, "machine.counter_op_ns", "nanoseconds"),
    (r#"{"pool": {"threads": 0}}"#, "pool.threads", "between 1 and 1024"),
    (r#"{"jitter": 1.5}"#, "jitter", "below 1"),
    (r#"{"duration_ms": 0}"#, "duration_ms", "above 0"),
    (r#"{"max_events": 5}"#, "max_events", "at least 100"),
    (
        r#"{"max_events": 1000000000000}"#,
        "max_events",
        "at most 10000000 (got 1000000000000): the trace would take about",
    ),
    (r#"{"main": [{"cpu": -3}]}"#, "main[0].cpu", "milliseconds"),
    (r#"{"main": [{"sleep": 1e300}]}"#, "main[0].sleep", "milliseconds between 0 and 1000000000 (got 1e300)"),
    (r#"{"main": [{"call_later": {"ms": -1, "steps": []}}]}"#, "main[0].call_later.ms", "milliseconds"),
    (r#"{"main": [{"repeat": {"times": 20000000, "steps": []}}]}"#, "main[0].repeat.times", "at most"),
    // resource bombs: totals, not just each number, are bounded
    (
        r#"{"main": [{"repeat": {"times": 10000000, "steps": [{"repeat": {"times": 1000, "steps": [{"print": "x"}]}}]}}]}"#,
        "main[0].repeat.times",
        "1.0e10 steps that take no virtual time",
    ),
    (
        r#"{"main": [{"repeat": {"times": 1000, "steps": [{"repeat": {"times": 2000000, "steps": ["stop"]}}]}}]}"#,
        "main[0].repeat.steps[0].repeat.times",
        "at most 1000000",
    ),
    (
        r#"{"main": [{"repeat": {"times": 600000, "steps": ["stop"]}}, {"repeat": {"times": 600000, "steps": ["stop"]}}]}"#,
        "main",
        "its repeats added up",
    ),
    (
        r#"{"threads": [{"name": "t", "steps": [{"lock": {"name": "l", "steps": [{"repeat": {"times": 5000000, "steps": [{"print": "x"}]}}]}}]}]}"#,
        "threads[0].steps[0].lock.steps[0].repeat.times",
        "add a step that takes time",
    ),
    (r#"{"main": [{"looping_call": {"interval_ms": 0, "steps": []}}]}"#, "main[0].looping_call.interval_ms", "above 0"),
    (
        r#"{"main": [{"looping_call": {"interval_ms": 10, "count": 0, "steps": []}}]}"#,
        "main[0].looping_call.count",
        "at least 1",
    ),
    (r#"{"main": [{"increment": ""}]}"#, "main[0].increment", "needs a name"),
    (r#"{"main": [{"lock": {"name": " ", "steps": []}}]}"#, "main[0].lock.name", "needs a name"),
    (r#"{"main": [{"print": "at {when}"}]}"#, "main[0].print", "unknown placeholder `{when}`"),
    (r#"{"main": [{"print": "open {brace"}]}"#, "main[0].print", "without its `}`"),
    (r#"{"threads": [{"name": "", "steps": []}]}"#, "threads[0].name", "must not be empty"),
    (r#"{"threads": [{"name": "t", "count": 0, "steps": []}]}"#, "threads[0].count", "between 1 and 1000"),
    (r#"{"threads": [{"name": "t", "start_ms": -1, "steps": []}]}"#, "threads[0].start_ms", "milliseconds"),
    (r#"{"variants": [{"name": "a", "patch": 3}]}"#, "variants[0].patch", "must be an object"),
    (r#"{"variants": [{"name": "a", "patch": {}}, {"name": "a", "patch": {}}]}"#, "variants[1].name", "used twice"),
    // where steps may run
    (
        r#"{"threads": [{"name": "t", "steps": [{"call_later": {"ms": 1, "steps": []}}]}]}"#,
        "threads[0].steps[0]",
        "reactor thread",
    ),
    (
        r#"{"threads": [{"name": "t", "steps": [{"lock": {"name": "l", "steps": [{"defer_to_thread": []}]}}]}]}"#,
        "threads[0].steps[0].lock.steps[0]",
        "reactor thread",
    ),
    (r#"{"main": [{"defer_to_thread": [{"defer_to_thread": []}]}]}"#, "main[0].defer_to_thread[0]", "reactor thread"),
    (r#"{"main": [{"defer_to_thread": ["stop"]}]}"#, "main[0].defer_to_thread[0]", "reactor thread"),
    (r#"{"main": [{"call_from_thread": []}]}"#, "main[0]", "already runs on the reactor thread"),
    (r#"{"main": ["respond"]}"#, "main[0]", "server.handler"),
    (r#"{"threads": [{"name": "t", "steps": ["respond"]}]}"#, "threads[0].steps[0]", "reactor thread"),
    (
        r#"{"server": {"handler": [{"defer_to_thread": ["respond"]}]}}"#,
        "server.handler[0].defer_to_thread[0]",
        "reactor thread",
    ),
    // servers and clients
    (r#"{"clients": {"open": {"rate_per_s": 5}}}"#, "clients", "need a server"),
    (
        r#"{"server": {"handler": [{"cpu": 1}]}, "clients": {"open": {"rate_per_s": 5}}}"#,
        "server.handler",
        "never responds",
    ),
    (
        r#"{"server": {"handler": ["respond"]}, "clients": {"open": {"rate_per_s": 0}}}"#,
        "clients.open.rate_per_s",
        "above 0",
    ),
    (
        r#"{"server": {"handler": ["respond"]}, "clients": {"open": {"rate_per_s": 5, "connections": 0}}}"#,
        "clients.open.connections",
        "between 1",
    ),
    (
        r#"{"server": {"handler": ["respond"]}, "clients": {"open": {"rate_per_s": 5, "requests": 0}}}"#,
        "clients.open.requests",
        "between 1",
    ),
    (
        r#"{"server": {"handler": ["respond"]}, "clients": {"closed": {"clients": 0}}}"#,
        "clients.closed.clients",
        "between 1",
    ),
    (
        r#"{"server": {"handler": ["respond"]}, "clients": {"closed": {"clients": 2, "think_ms": -4}}}"#,
        "clients.closed.think_ms",
        "milliseconds",
    ),
    (
        r#"{"server": {"handler": ["respond"]}, "clients": {"closed": {"clients": 2, "think": "gaussian"}}}"#,
        "clients.closed.think",
        "unknown variant",
    ),
];

#[test]
fn every_bad_scenario_names_its_field_and_why() {
    let mut wrong = Vec::new();
    for (json, field, reason) in CASES {
        let e = error(json);
        if e.field != *field || !e.message.contains(reason) {
            wrong.push(format!("{json}\n  gave:   {e}\n  wanted: {field}: ...{reason}..."));
        }
        let shown = e.to_string();
        if !field.is_empty() {
            assert!(shown.starts_with(&format!("{field}: ")), "{shown}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// 10,000 thread entries of `count` 1000 pass each entry's check; their
/// total (10 million threads, 7.4 GB when it ran) is refused before running.
#[test]
fn thousands_of_thread_entries_are_refused_by_their_total() {
    let entry = r#"{"name": "t", "count": 1000, "steps": [{"cpu": 1}]}"#;
    let json = format!(r#"{{"threads": [{}]}}"#, vec![entry; 10_000].join(","));
    let started = std::time::Instant::now();
    let e = error(&json);
    assert_eq!(e.field, "threads[10].count", "{e}");
    assert!(e.message.contains("11000 in all") && e.message.contains("at most 10000 threads in all"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "refusing took {:?}", started.elapsed());
    // Right at the limit, it loads.
    let json = format!(r#"{{"threads": [{}]}}"#, [entry; 10].join(","));
    assert!(Scenario::from_json(&json).is_ok());
}

/// Big numbers stay allowed where they cost nothing up front: repeats of
/// steps that take virtual time end each call, so the event limit holds.
#[test]
fn long_repeats_of_steps_that_take_time_still_load() {
    let json = r#"{"main": [{"repeat": {"times": 10000000, "steps": [{"repeat": {"times": 10000000, "steps": [{"cpu": 0.001}, {"increment": "c"}]}}]}}],
                  "threads": [{"name": "t", "steps": [{"repeat": {"times": 1000000, "steps": [{"print": "x"}]}}]}],
                  "max_events": 10000000}"#;
    assert!(Scenario::from_json(json).is_ok());
}

#[test]
fn good_scenarios_with_every_step_load() {
    let json = r#"{
        "name": "everything", "seed": 9, "duration_ms": 1000, "max_events": 100000, "jitter": 0.1,
        "machine": {"cores": 2, "time_slice_ms": 4, "gil": true, "switch_interval_ms": 5, "counter_op_ns": 0},
        "pool": {"threads": 3},
        "main": [
            {"print": "{{literal}} at {time} on {thread}: {counter:c}"},
            {"call_when_running": [{"looping_call": {"interval_ms": 10, "now": false, "count": 2, "steps": [{"print": "{count}"}]}}]},
            {"call_later": {"ms": 5, "steps": [{"defer_later": 1}, {"fail": "x"}, {"errback": [{"print": "{error}"}]}]}},
            {"on_shutdown": [{"call_in_thread": [{"io": 1}]}]},
            {"repeat": {"times": 2, "steps": [{"lock": {"name": "l", "steps": [{"increment": "c"}, {"read": "c"}, {"write": "c"}]}}]}}
        ],
        "threads": [{"name": "w", "count": 2, "start_ms": 3, "steps": [{"sleep": 1}, {"call_from_thread": ["stop"]}]}],
        "server": {"handler": [{"cpu": 0.1}, {"defer_to_thread": [{"io": 2}]}, "respond"]},
        "clients": {"closed": {"clients": 2, "think_ms": 5, "think": "exponential", "requests": 3, "network_ms": 1}}
    }"#;
    let scenario = Scenario::from_json(json).unwrap();
    assert_eq!(scenario.seed(), 9);
}
