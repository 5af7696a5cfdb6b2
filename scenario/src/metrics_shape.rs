//! The shape of the metrics JSON that `twine-sim --metrics` and `twine run
//! --metrics` both print, so the two can be diffed field by field.
//!
//! The simulation's metrics types carry its engine's types, and `twine run`
//! must not depend on the simulation; so the shape both promise is written
//! down here once, and each side's tests check its output against it with
//! [`check`].

use std::collections::BTreeSet;

use serde_json::Value;

/// Every field of the metrics JSON, as a path: `requests.p50_ms`; `[]`
/// stands for each element of an array (`cores[].busy_ms`).
pub const FIELDS: &[&str] = &[
    "scenario",
    "seed",
    "end_reason",
    "time_ms",
    "events",
    "actions",
    "requests",
    "requests.sent",
    "requests.completed",
    "requests.in_flight",
    "requests.p50_ms",
    "requests.p90_ms",
    "requests.p99_ms",
    "requests.max_ms",
    "requests.mean_ms",
    "requests.throughput_per_s",
    "requests.histogram",
    "requests.histogram[].le_ms",
    "requests.histogram[].count",
    "reactor",
    "reactor.turns",
    "reactor.calls",
    "reactor.busy_ms",
    "reactor.utilization",
    "reactor.longest_call_ms",
    "reactor.slow_calls",
    "reactor.unhandled_errors",
    "reactor.lag",
    "reactor.lag.samples",
    "reactor.lag.p50_ms",
    "reactor.lag.p99_ms",
    "reactor.lag.max_ms",
    "reactor.lag.mean_ms",
    "reactor.lag.series",
    "pool",
    "pool.max_threads",
    "pool.threads_started",
    "pool.jobs",
    "pool.completed",
    "pool.max_queue",
    "pool.mean_queue",
    "pool.queue_series",
    "cores",
    "cores[].core",
    "cores[].busy_ms",
    "cores[].utilization",
    "gil",
    "gil.switches",
    "gil.forced_switches",
    "gil.hold_ms",
    "gil.wait_ms",
    "gil.threads",
    "gil.threads[].thread",
    "gil.threads[].name",
    "gil.threads[].hold_ms",
    "gil.threads[].wait_ms",
    "locks",
    "locks[].name",
    "locks[].acquisitions",
    "locks[].contended",
    "locks[].wait_ms",
    "locks[].max_wait_ms",
    "counters",
    "counters[].name",
    "counters[].value",
    "counters[].expected",
    "counters[].lost_updates",
    "threads",
    "threads[].thread",
    "threads[].name",
    "threads[].kind",
    "threads[].cpu_ms",
    "threads[].started_ms",
    "threads[].finished_ms",
    "looping_calls",
    "looping_calls[].step",
    "looping_calls[].calls",
    "looping_calls[].skipped",
    "output",
    "output[].t_ms",
    "output[].thread",
    "output[].name",
    "output[].text",
];

/// The field paths in `metrics`, written as in [`FIELDS`]. Series
/// (`[[t, v], ...]`) are leaves; `null` has no fields below it.
pub fn paths(metrics: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    walk(metrics, "", &mut out);
    out
}

fn walk(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                out.insert(path.clone());
                walk(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items.iter().filter(|i| i.is_object()) {
                walk(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Checks `metrics` against [`FIELDS`]: no field that is not listed, and
/// every listed field present wherever its parent is (an empty array or a
/// `null` has nothing below it to check). The error names the fields.
///
/// ```
/// use serde_json::json;
/// use twine_scenario::metrics_shape::check;
///
/// let err = check(&json!({"seed": 1, "surprise": 2})).unwrap_err();
/// assert!(err.contains("unknown: surprise"), "{err}");
/// assert!(err.contains("missing: "), "{err}");
/// ```
pub fn check(metrics: &Value) -> Result<(), String> {
    let found = paths(metrics);
    let unknown: Vec<&str> = found.iter().map(String::as_str).filter(|p| !FIELDS.contains(p)).collect();
    let missing: Vec<&str> = FIELDS
        .iter()
        .copied()
        .filter(|p| !found.contains(*p))
        // A nested field is owed only where its parent shows fields (not
        // `null`, not an empty array).
        .filter(|p| p.rfind('.').is_none_or(|dot| has_fields(&found, &p[..dot])))
        .collect();
    if unknown.is_empty() && missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "metrics fields differ from the shared shape; unknown: {}; missing: {}",
        unknown.join(", "),
        missing.join(", ")
    ))
}

/// Whether `parent` (an object, or `cores[]` for an array's elements) showed any field.
fn has_fields(found: &BTreeSet<String>, parent: &str) -> bool {
    let prefix = format!("{parent}.");
    found.iter().any(|p| p.starts_with(&prefix))
}
