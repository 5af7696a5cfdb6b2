//! The visible trace in columns, for the page's timeline.
//!
//! Handing a million events to JavaScript as objects costs far more than
//! simulating them (JSON text, then an object each, then the timeline's
//! model built from those objects). The timeline needs only a few numbers
//! per event, so they go over as typed arrays, one per field, with the
//! strings interned in one table; the event log asks for the few whole
//! events it shows by index ([`Simulation::events_json`]).
//!
//! A run is handed over in slices while it is simulated ([`ColumnStream`]):
//! each slice holds the events that became visible since the previous one
//! and only the strings the earlier slices did not carry, so the page can
//! build its timeline while the simulation goes on (in a Web Worker).
//!
//! Each event's numbers land in the same few columns whatever its kind; the
//! table in `ColumnStream::push` says which field goes where. A field an
//! event lacks is 0 (numbers) or -1 (strings).
//!
//! ```
//! use twine_web::{columns::{ColumnStream, EventColumns}, Scenario, Simulation};
//! let scenario = Scenario::from_json(r#"{"threads": [{"name": "w", "steps": [{"cpu": 5}]}]}"#).unwrap();
//! let mut sim = Simulation::new(&scenario, Some(1));
//! let mut stream = ColumnStream::default();
//! sim.step_events(1);
//! let first = stream.take(&sim);
//! sim.run();
//! let rest = stream.take(&sim);
//! assert_eq!((first.first, rest.first), (0, first.len()));
//! assert_eq!(first.len() + rest.len(), sim.event_count());
//! // Strings are numbered across slices: each slice brings the new ones.
//! let strings = [&first.strings[..], &rest.strings[..]].concat();
//! let spawned: Vec<&str> = [&first, &rest]
//!     .into_iter()
//!     .flat_map(|c| (0..c.len()).filter(|&i| EventColumns::KINDS[c.kind[i] as usize] == "thread_spawned").map(|i| c.text[i]))
//!     .map(|s| strings[s as usize].as_str())
//!     .collect();
//! assert_eq!(spawned, ["reactor", "w"]);
//! ```

use rustc_hash::FxHashMap;

use twine_core::trace::{CallSource, TraceEvent, TraceRecord};

use crate::Simulation;

/// The visible trace, one array per field (see the module docs).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EventColumns {
    /// When, in nanoseconds.
    pub t: Vec<f64>,
    /// What: an index into [`EventColumns::KINDS`].
    pub kind: Vec<u8>,
    /// The thread it is about (0, the reactor, for reactor events).
    pub thread: Vec<u32>,
    /// A time or a quantity: a call's `dur`, a timer's `due` (scheduled,
    /// reset) or `late` (fired), a response's `latency`, a counter's
    /// `value`, a lost update's `read_at`; nanoseconds for times.
    pub a: Vec<f64>,
    /// An id: the timer, Deferred, job, request or connection; a core for
    /// `thread_run` and `thread_preempt`; the [`CALL_SOURCES`](Self::CALL_SOURCES)
    /// index of a call.
    pub id: Vec<u32>,
    /// A second number: `ok` (1 or 0) of `deferred_fired` and
    /// `job_finished`, `to` of `deferred_chained`, `triggers` of
    /// `system_event_phase`, `client` of client events.
    pub id2: Vec<u32>,
    /// A name, as an index into [`strings`](Self::strings), -1 for none: a
    /// call's, a job's, a spawned thread's, a counter's or a lost update's
    /// `name`, a lock's `lock`, a block's `reason`.
    pub text: Vec<i32>,
    /// The line of the Python program the event came from (from 1), 0 for none.
    pub line: Vec<u32>,
    /// The Python function it came from, as an index into `strings`, -1 for none.
    pub func: Vec<i32>,
    /// The simulated thread whose Python code caused it (when `line` > 0).
    pub src_thread: Vec<u32>,
    /// The strings first used in this slice: string `first_string + k` is
    /// `strings[k]`; the `text` and `func` columns number strings across
    /// the whole run.
    pub strings: Vec<String>,
    /// The index of this slice's first event in the run.
    pub first: usize,
    /// The run-wide number of this slice's first new string.
    pub first_string: usize,
}

impl EventColumns {
    /// Every event kind, in the order of the `kind` column's values.
    pub const KINDS: &'static [&'static str] = TraceEvent::KINDS;
    /// A call's source, in the order of its `id` column's values.
    pub const CALL_SOURCES: &'static [&'static str] = &["timer", "inbox", "trigger", "io", "task"];

    /// The whole visible trace of `sim` in one slice.
    pub fn of(sim: &Simulation) -> EventColumns {
        ColumnStream::default().take(sim)
    }

    /// Events in the columns.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// Hands a run's visible trace over in slices, as it grows (see the module
/// docs): each [`take`](Self::take) returns the events made visible since
/// the previous one, numbering strings across the whole run.
#[derive(Debug, Default)]
pub struct ColumnStream {
    /// Events handed over so far.
    next: usize,
    /// The run's interned strings, by text (looked up for every named event:
    /// the default hash, made to resist crafted keys, cost more than it
    /// keeps out here).
    ids: FxHashMap<String, i32>,
    /// Strings first used in the slice being built.
    new_strings: Vec<String>,
}

impl ColumnStream {
    /// The events of `sim` made visible since the last call, with the Python
    /// positions of those that came from a program.
    pub fn take(&mut self, sim: &Simulation) -> EventColumns {
        let from = self.next;
        let to = sim.event_count().max(from);
        let n = to - from;
        let mut cols = EventColumns {
            t: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            thread: Vec::with_capacity(n),
            a: Vec::with_capacity(n),
            id: Vec::with_capacity(n),
            id2: Vec::with_capacity(n),
            text: Vec::with_capacity(n),
            line: vec![0; n],
            func: vec![-1; n],
            src_thread: vec![0; n],
            strings: Vec::new(),
            first: from,
            first_string: self.ids.len(),
        };
        sim.visit_events(from, to, |record| self.push(&mut cols, record));
        for p in sim.positions_between(from, to) {
            let k = p.i - from;
            cols.line[k] = p.line;
            cols.src_thread[k] = p.thread;
            cols.func[k] = self.intern(&p.func);
        }
        self.next = to;
        cols.strings = std::mem::take(&mut self.new_strings);
        cols
    }

    fn intern(&mut self, s: &str) -> i32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.ids.len() as i32;
        self.new_strings.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    fn push(&mut self, cols: &mut EventColumns, record: &TraceRecord) {
        use TraceEvent as E;
        let (mut thread, mut a, mut id, mut id2, mut text) = (0u32, 0f64, 0u64, 0u64, None::<&str>);
        match &record.event {
            E::Call { source, id: _, name, dur } => {
                a = *dur as f64;
                id = call_source(*source);
                text = Some(name);
            }
            E::TimerScheduled { timer, due, .. } | E::TimerReset { timer, due } => {
                id = *timer;
                a = due.as_nanos() as f64;
            }
            E::TimerCancelled { timer } => id = *timer,
            E::TimerFired { timer, late } => {
                id = *timer;
                a = *late as f64;
            }
            E::SystemEventPhase { triggers, .. } => id2 = (*triggers).into(),
            E::DeferredCreated { deferred, .. }
            | E::DeferredFailed { deferred, .. }
            | E::DeferredRecovered { deferred }
            | E::DeferredCancelled { deferred }
            | E::UnhandledError { deferred, .. } => id = *deferred,
            E::DeferredFired { deferred, ok } => {
                id = *deferred;
                id2 = (*ok).into();
            }
            E::DeferredChained { deferred, to } => {
                id = *deferred;
                id2 = *to;
            }
            E::JobQueued { job, name } => {
                id = *job;
                text = Some(name);
            }
            E::JobStarted { job, thread: th } => {
                id = *job;
                thread = *th;
            }
            E::JobFinished { job, thread: th, ok } => {
                id = *job;
                thread = *th;
                id2 = (*ok).into();
            }
            E::ConnectionMade { conn, .. }
            | E::ConnectionLost { conn, .. }
            | E::BytesIn { conn, .. }
            | E::BytesOut { conn, .. }
            | E::MessageReceived { conn, .. }
            | E::InputRejected { conn, .. }
            | E::ProducerPaused { conn }
            | E::ProducerResumed { conn } => id = *conn,
            E::ThreadSpawned { thread: th, name } => {
                thread = *th;
                text = Some(name);
            }
            E::ThreadRun { thread: th, core } | E::ThreadPreempt { thread: th, core } => {
                thread = *th;
                id = (*core).into();
            }
            E::ThreadBlock { thread: th, reason } => {
                thread = *th;
                text = Some(reason);
            }
            E::ThreadExit { thread: th }
            | E::GilAcquire { thread: th }
            | E::GilRelease { thread: th }
            | E::Print { thread: th, .. } => thread = *th,
            E::LockWait { lock, thread: th }
            | E::LockTimeout { lock, thread: th }
            | E::LockAcquire { lock, thread: th, .. }
            | E::LockRelease { lock, thread: th } => {
                thread = *th;
                text = Some(lock);
            }
            E::ClientRequest { client, request } => {
                id = *request;
                id2 = (*client).into();
            }
            E::ClientResponse { client, request, latency } => {
                id = *request;
                id2 = (*client).into();
                a = *latency as f64;
            }
            E::Counter { name, value } => {
                a = *value as f64;
                text = Some(name);
            }
            E::LostUpdate { name, thread: th, read_at, .. } => {
                thread = *th;
                a = read_at.as_nanos() as f64;
                text = Some(name);
            }
            _ => {}
        }
        let text = text.map_or(-1, |s| self.intern(s));
        cols.t.push(record.t.as_nanos() as f64);
        cols.kind.push(record.event.kind_index() as u8);
        cols.thread.push(thread);
        cols.a.push(a);
        // Ids past 2^32 do not occur in a run the page can hold; saturate rather than wrap.
        cols.id.push(id.min(u32::MAX.into()) as u32);
        cols.id2.push(id2.min(u32::MAX.into()) as u32);
        cols.text.push(text);
    }
}

fn call_source(source: CallSource) -> u64 {
    match source {
        CallSource::Timer => 0,
        CallSource::Inbox => 1,
        CallSource::Trigger => 2,
        CallSource::Io => 3,
        CallSource::Task => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PythonScenario, Scenario};

    /// The columns say what the JSON of the same events says, field by field.
    #[test]
    fn columns_carry_each_events_fields() {
        let py = crate::presets::find("echo-blocking").unwrap().python;
        let scenario = Scenario::from_python_variant("experiment.py", py, Some("deferred")).unwrap();
        let mut sim = Simulation::new(&scenario, Some(3));
        sim.run();
        let cols = EventColumns::of(&sim);
        let events: Vec<serde_json::Value> = serde_json::from_str(&sim.events_json(0, usize::MAX)).unwrap();
        assert_eq!(cols.len(), events.len());
        let num = |e: &serde_json::Value, k: &str| e[k].as_f64().unwrap_or(0.0);
        let string = |i: i32| (i >= 0).then(|| cols.strings[i as usize].as_str());
        let mut seen = std::collections::HashSet::new();
        for (i, e) in events.iter().enumerate() {
            let kind = e["kind"].as_str().unwrap();
            seen.insert(kind);
            assert_eq!(EventColumns::KINDS[cols.kind[i] as usize], kind, "event {i}");
            assert_eq!(cols.t[i], num(e, "t"), "event {i}");
            match kind {
                "call" => {
                    assert_eq!(cols.a[i], num(e, "dur"));
                    assert_eq!(EventColumns::CALL_SOURCES[cols.id[i] as usize], e["source"]);
                    assert_eq!(string(cols.text[i]), e["name"].as_str());
                }
                "timer_scheduled" => assert_eq!(cols.a[i], num(e, "due")),
                "thread_run" => {
                    assert_eq!(cols.thread[i] as f64, num(e, "thread"));
                    assert_eq!(cols.id[i] as f64, num(e, "core"));
                }
                "thread_block" => assert_eq!(string(cols.text[i]), e["reason"].as_str()),
                "job_finished" => {
                    assert_eq!(cols.id[i] as f64, num(e, "job"));
                    assert_eq!(cols.id2[i] == 1, e["ok"].as_bool().unwrap());
                }
                "deferred_fired" => assert_eq!(cols.id2[i] == 1, e["ok"].as_bool().unwrap()),
                "client_response" => assert_eq!(cols.a[i], num(e, "latency")),
                _ => {}
            }
        }
        for kind in ["call", "thread_run", "thread_block", "job_finished", "client_response"] {
            assert!(seen.contains(kind), "the run has no {kind} event to check");
        }
        // Python positions: the same as `positions()`, by index.
        let positions = sim.positions();
        assert!(!positions.is_empty());
        for p in positions {
            assert_eq!(cols.line[p.i], p.line);
            assert_eq!(cols.src_thread[p.i], p.thread);
            assert_eq!(string(cols.func[p.i]), Some(&*p.func));
        }
        assert_eq!(cols.line.iter().filter(|&&l| l > 0).count(), sim.positions().len());
    }

    /// A run handed over in slices while it is simulated reads the same as
    /// the whole run in one: the same columns, the strings numbered alike.
    #[test]
    fn slices_taken_while_running_add_up_to_the_whole_run() {
        let py = crate::presets::find("echo-blocking").unwrap().python;
        let scenario = Scenario::from_python_variant("experiment.py", py, Some("deferred")).unwrap();
        let mut sim = Simulation::new(&scenario, Some(3));
        let mut stream = ColumnStream::default();
        let mut slices = Vec::new();
        while !sim.is_finished() {
            sim.step_events(700);
            slices.push(stream.take(&sim));
        }
        slices.push(stream.take(&sim));
        assert!(slices.len() > 3, "the run should take several slices");
        let whole = EventColumns::of(&sim);
        let mut joined = EventColumns::default();
        for s in &slices {
            assert_eq!(s.first, joined.len(), "each slice starts where the last ended");
            assert_eq!(s.first_string, joined.strings.len(), "and numbers its strings after theirs");
            joined.t.extend(&s.t);
            joined.kind.extend(&s.kind);
            joined.thread.extend(&s.thread);
            joined.a.extend(&s.a);
            joined.id.extend(&s.id);
            joined.id2.extend(&s.id2);
            joined.text.extend(&s.text);
            joined.line.extend(&s.line);
            joined.func.extend(&s.func);
            joined.src_thread.extend(&s.src_thread);
            joined.strings.extend(s.strings.iter().cloned());
        }
        assert_eq!(joined.len(), sim.event_count());
        let text = |c: &EventColumns, i: usize| (c.text[i] >= 0).then(|| c.strings[c.text[i] as usize].clone());
        let func = |c: &EventColumns, i: usize| (c.func[i] >= 0).then(|| c.strings[c.func[i] as usize].clone());
        for i in 0..whole.len() {
            assert_eq!(
                (joined.t[i], joined.kind[i], joined.thread[i], joined.a[i], joined.id[i], joined.id2[i]),
                (whole.t[i], whole.kind[i], whole.thread[i], whole.a[i], whole.id[i], whole.id2[i]),
                "event {i}"
            );
            assert_eq!((joined.line[i], joined.src_thread[i]), (whole.line[i], whole.src_thread[i]), "event {i}");
            assert_eq!((text(&joined, i), func(&joined, i)), (text(&whole, i), func(&whole, i)), "event {i}");
        }
    }
}
