//! Export to the Chrome Trace Event Format, which Perfetto and `chrome://tracing` open.
//!
//! Thread 0 is the reactor thread; drivers number their other threads from 1.
//! Calls and jobs become complete slices on their thread, a thread's time on
//! a core becomes a slice named after the core, and everything else becomes
//! an instant event carrying its fields as arguments.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use super::{TraceEvent, TraceRecord};

const PID: u32 = 1;
const REACTOR_THREAD: u32 = 0;

/// Converts records to a Chrome Trace Event Format document.
///
/// ```
/// use twine_core::trace::{to_chrome_trace, TraceEvent, TraceRecord, CallSource};
/// use twine_core::Time;
///
/// let records = [TraceRecord {
///     t: Time::from_micros(10),
///     event: TraceEvent::Call { source: CallSource::Timer, id: 1, name: "tick".into(), dur: 2_000 },
/// }];
/// let doc = to_chrome_trace(&records);
/// let slice = &doc["traceEvents"].as_array().unwrap().iter().find(|e| e["ph"] == "X").unwrap();
/// assert_eq!(slice["name"], "tick");
/// assert_eq!(slice["ts"], 10.0);
/// assert_eq!(slice["dur"], 2.0);
/// ```
pub fn to_chrome_trace(records: &[TraceRecord]) -> Value {
    let mut out = Vec::with_capacity(records.len() + 8);
    out.push(json!({"ph": "M", "pid": PID, "name": "process_name", "args": {"name": "twine"}}));
    out.push(thread_name(REACTOR_THREAD, "reactor"));
    // Ordered maps: what is still open at the end is written in a fixed
    // order, so the same records always give the same bytes.
    let mut job_start: BTreeMap<u64, (f64, u32)> = BTreeMap::new();
    let mut on_core: BTreeMap<u32, (f64, u32)> = BTreeMap::new();
    for record in records {
        let ts = record.t.as_micros_f64();
        match &record.event {
            TraceEvent::Call { source, id, name, dur } => out.push(json!({
                "ph": "X", "pid": PID, "tid": REACTOR_THREAD, "ts": ts, "dur": *dur as f64 / 1e3,
                "name": name, "cat": "call", "args": {"source": source, "id": id},
            })),
            // The reactor's thread is named above.
            TraceEvent::ThreadSpawned { thread, name } if *thread != REACTOR_THREAD => {
                out.push(thread_name(*thread, name))
            }
            TraceEvent::ThreadSpawned { .. } => {}
            TraceEvent::JobStarted { job, thread } => {
                job_start.insert(*job, (ts, *thread));
            }
            TraceEvent::JobFinished { job, thread, ok } => {
                let (start, _) = job_start.remove(job).unwrap_or((ts, *thread));
                out.push(job_slice(*job, *thread, start, ts, Some(*ok)));
            }
            TraceEvent::ThreadRun { thread, core } => {
                on_core.insert(*thread, (ts, *core));
            }
            TraceEvent::ThreadPreempt { thread, .. }
            | TraceEvent::ThreadBlock { thread, .. }
            | TraceEvent::ThreadExit { thread } => {
                if let Some((start, core)) = on_core.remove(thread) {
                    out.push(running_slice(*thread, core, start, ts));
                }
                out.push(instant(*thread, &record.event, ts));
            }
            other => out.push(instant(thread_of(other), other, ts)),
        }
    }
    let end = records.last().map_or(0.0, |r| r.t.as_micros_f64());
    // Still running when the records end: open until then.
    for (thread, (start, core)) in on_core {
        out.push(running_slice(thread, core, start, end));
    }
    for (job, (start, thread)) in job_start {
        out.push(job_slice(job, thread, start, end, None));
    }
    json!({ "traceEvents": out, "displayTimeUnit": "ms" })
}

/// Writes [`to_chrome_trace`] of `records` to `out`.
pub fn write_chrome_trace(records: &[TraceRecord], out: impl Write) -> io::Result<()> {
    serde_json::to_writer(out, &to_chrome_trace(records)).map_err(io::Error::other)
}

fn thread_name(thread: u32, name: &str) -> Value {
    json!({"ph": "M", "pid": PID, "tid": thread, "name": "thread_name", "args": {"name": name}})
}

/// A job's time on its thread; `ok` is `None` for a job still running at the end.
fn job_slice(job: u64, thread: u32, start: f64, end: f64, ok: Option<bool>) -> Value {
    json!({
        "ph": "X", "pid": PID, "tid": thread, "ts": start, "dur": end - start,
        "name": format!("job {job}"), "cat": "job", "args": {"ok": ok},
    })
}

fn running_slice(thread: u32, core: u32, start: f64, end: f64) -> Value {
    json!({
        "ph": "X", "pid": PID, "tid": thread, "ts": start, "dur": end - start,
        "name": format!("core {core}"), "cat": "cpu",
    })
}

fn instant(thread: u32, event: &TraceEvent, ts: f64) -> Value {
    let mut args = serde_json::to_value(event).unwrap_or(Value::Null);
    let name = args.get("kind").and_then(Value::as_str).unwrap_or("event").to_owned();
    if let Some(map) = args.as_object_mut() {
        map.remove("kind");
    }
    json!({"ph": "i", "s": "t", "pid": PID, "tid": thread, "ts": ts, "name": name, "args": args})
}

/// The thread an event happened on, for events that say so.
fn thread_of(event: &TraceEvent) -> u32 {
    match event {
        TraceEvent::JobStarted { thread, .. }
        | TraceEvent::JobFinished { thread, .. }
        | TraceEvent::GilAcquire { thread }
        | TraceEvent::GilRelease { thread }
        | TraceEvent::LockWait { thread, .. }
        | TraceEvent::LockTimeout { thread, .. }
        | TraceEvent::LockAcquire { thread, .. }
        | TraceEvent::LockRelease { thread, .. }
        | TraceEvent::Print { thread, .. } => *thread,
        _ => REACTOR_THREAD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Time;

    #[test]
    fn jobs_and_core_time_become_slices_on_their_thread() {
        let at = |us, event| TraceRecord { t: Time::from_micros(us), event };
        let records = [
            at(0, TraceEvent::ThreadSpawned { thread: 2, name: "pool-1".into() }),
            at(5, TraceEvent::ThreadRun { thread: 2, core: 1 }),
            at(5, TraceEvent::JobStarted { job: 7, thread: 2 }),
            at(25, TraceEvent::JobFinished { job: 7, thread: 2, ok: true }),
            at(25, TraceEvent::ThreadBlock { thread: 2, reason: "idle".into() }),
        ];
        let doc = to_chrome_trace(&records);
        let events = doc["traceEvents"].as_array().unwrap();
        let job = events.iter().find(|e| e["cat"] == "job").unwrap();
        assert_eq!((job["tid"].as_u64(), job["ts"].as_f64(), job["dur"].as_f64()), (Some(2), Some(5.0), Some(20.0)));
        let cpu = events.iter().find(|e| e["cat"] == "cpu").unwrap();
        assert_eq!((cpu["name"].as_str(), cpu["dur"].as_f64()), (Some("core 1"), Some(20.0)));
        assert!(events.iter().any(|e| e["name"] == "thread_name" && e["args"]["name"] == "pool-1"));
    }

    #[test]
    fn what_is_open_at_the_end_closes_in_a_fixed_order() {
        let at = |us, event| TraceRecord { t: Time::from_micros(us), event };
        let mut records = vec![at(0, TraceEvent::ThreadSpawned { thread: 0, name: "reactor".into() })];
        for thread in (1..=12).rev() {
            records.push(at(1, TraceEvent::ThreadRun { thread, core: thread % 4 }));
            records.push(at(2, TraceEvent::JobStarted { job: u64::from(thread) * 10, thread }));
        }
        records.push(at(9, TraceEvent::TurnEnd { turn: 1 }));
        let doc = to_chrome_trace(&records);
        let events = doc["traceEvents"].as_array().unwrap();
        let open: Vec<(&str, u64)> = events
            .iter()
            .filter(|e| e["ph"] == "X")
            .map(|e| (e["cat"].as_str().unwrap(), e["tid"].as_u64().unwrap()))
            .collect();
        let mut expected: Vec<(&str, u64)> = (1..=12).map(|t| ("cpu", t)).collect();
        expected.extend((1..=12).map(|t| ("job", t)));
        assert_eq!(open, expected, "cores by thread, then jobs by id, each open until the end");
        assert!(events
            .iter()
            .filter(|e| e["ph"] == "X")
            .all(|e| e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap() == 9.0));
        let reactor_names = events.iter().filter(|e| e["name"] == "thread_name" && e["tid"] == 0).count();
        assert_eq!(reactor_names, 1, "the reactor's thread is named once");
    }
}
