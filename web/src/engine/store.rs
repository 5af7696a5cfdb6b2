//! The simulation's trace: every record the reactor emits through its sink,
//! plus the driver facts the engine adds, in one ordered list.
//!
//! Three adjustments make the trace faithful and reproducible:
//! - Deferred ids come from a counter shared by every reactor on the thread,
//!   so they are renumbered per run; the same scenario and seed then give
//!   the same trace however many simulations ran before.
//! - A pool job's `job_started` is recorded by the engine when the simulated
//!   thread picks the job up; the core records it again, late, when the
//!   reactor drains its inbox, and that copy is dropped.
//! - A reactor call whose handler spends virtual time returns to the core at
//!   once; the engine finishes it later and then fills in the call's real
//!   duration. Until then the call's record and everything after it are held
//!   back from readers ([`visible_len`](TraceStore::visible_len)), so a reader
//!   never sees a duration change under it.

use std::cell::RefCell;
use std::rc::Rc;

use twine_core::trace::{CallSource, JsonLines, TraceEvent, TraceRecord, TraceSink};
use twine_core::Time;

use super::Simulation;

#[derive(Default)]
pub(crate) struct TraceStore {
    pub records: Vec<TraceRecord>,
    /// Index of a call whose duration is not known yet.
    pub hold_from: Option<usize>,
    /// Index of the latest `call` record.
    pub last_call: Option<usize>,
    /// (core's id, run-local id), sorted by core's id.
    deferreds: Vec<(u64, u64)>,
    next_deferred: u64,
    jobs_started: Vec<bool>,
    timer_due: Vec<Time>,
    /// (when the timer ran, how late), from the reactor's own records.
    pub timer_lag: Vec<(Time, u64)>,
    /// Where each simulated thread is in the Python program, while it runs
    /// Python: (line, function, the code object's address to skip renaming).
    thread_pos: Vec<Option<(u32, Rc<str>, usize)>>,
    /// The thread whose Python code is running right now.
    running: Option<u32>,
    /// The source positions of the records a Python program caused, by
    /// record index (a side table: the records themselves stay as they are).
    pub positions: Vec<SourcePos>,
    /// Failures Deferreds dropped unhandled since the engine last looked:
    /// a scenario's are printed as Twisted logs them.
    pub dropped_failures: Vec<String>,
}

/// Where in a Python program a trace record came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SourcePos {
    /// The record's index in the trace.
    pub i: usize,
    /// The simulated thread that was there.
    pub thread: u32,
    /// The line, from 1.
    pub line: u32,
    /// The function (`Class.method`, `<module>`).
    #[serde(serialize_with = "str_of")]
    pub func: Rc<str>,
}

fn str_of<S: serde::Serializer>(s: &Rc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

impl TraceStore {
    /// Records readers may see.
    pub fn visible_len(&self) -> usize {
        self.hold_from.unwrap_or(self.records.len())
    }

    /// A driver fact from the engine.
    pub fn push(&mut self, t: Time, event: TraceEvent) {
        if let TraceEvent::JobStarted { job, .. } = &event {
            mark(&mut self.jobs_started, *job);
        }
        self.records.push(TraceRecord { t, event });
        self.note_position();
    }

    /// Thread `tid` is at `line` of `func` (`code` identifies the code
    /// object, so the name is only rebuilt when the function changes).
    pub fn set_position(&mut self, tid: u32, line: u32, code: usize, func: impl FnOnce() -> Rc<str>) {
        let i = tid as usize;
        if self.thread_pos.len() <= i {
            self.thread_pos.resize(i + 1, None);
        }
        match &mut self.thread_pos[i] {
            Some((l, _, c)) if *c == code => *l = line,
            slot => *slot = Some((line, func(), code)),
        }
    }

    /// Where thread `tid` is in the Python program, as `function:line`.
    pub fn position_of(&self, tid: u32) -> Option<String> {
        let (line, func, _) = self.thread_pos.get(tid as usize)?.as_ref()?;
        Some(format!("{func}:{line}"))
    }

    /// The thread whose Python code is running.
    pub fn running(&self) -> Option<u32> {
        self.running
    }

    /// Python code of thread `tid` starts (`Some`) or stops (`None`) running.
    pub fn set_running(&mut self, tid: Option<u32>) {
        self.running = tid;
    }

    /// The last record gets the position of the thread it belongs to, if
    /// that thread is in Python code.
    fn note_position(&mut self) {
        let i = self.records.len() - 1;
        let (tid, clear) = match &self.records[i].event {
            TraceEvent::Call { .. } => (Some(0), true),
            TraceEvent::ThreadExit { thread } | TraceEvent::JobFinished { thread, .. } => (Some(*thread), true),
            TraceEvent::Print { thread, .. }
            | TraceEvent::ThreadSpawned { thread, .. }
            | TraceEvent::ThreadRun { thread, .. }
            | TraceEvent::ThreadPreempt { thread, .. }
            | TraceEvent::ThreadBlock { thread, .. }
            | TraceEvent::GilAcquire { thread }
            | TraceEvent::GilRelease { thread }
            | TraceEvent::LockWait { thread, .. }
            | TraceEvent::LockTimeout { thread, .. }
            | TraceEvent::LockAcquire { thread, .. }
            | TraceEvent::LockRelease { thread, .. }
            | TraceEvent::JobStarted { thread, .. } => (Some(*thread), false),
            TraceEvent::TurnStart { .. } | TraceEvent::TurnEnd { .. } => (None, false),
            _ => (self.running, false),
        };
        let Some(tid) = tid else { return };
        let Some(slot) = self.thread_pos.get_mut(tid as usize) else { return };
        let pos = if clear { slot.take() } else { slot.clone() };
        if let Some((line, func, _)) = pos {
            self.positions.push(SourcePos { i, thread: tid, line, func });
        }
    }

    /// Thread `tid` left Python code (a reactor call's work finished).
    pub fn clear_position(&mut self, tid: u32) {
        if let Some(slot) = self.thread_pos.get_mut(tid as usize) {
            *slot = None;
        }
    }

    fn record(&mut self, record: &TraceRecord) {
        if let TraceEvent::UnhandledError { message, .. } = &record.event {
            self.dropped_failures.push(message.clone());
        }
        let mut record = record.clone();
        match &mut record.event {
            TraceEvent::DeferredCreated { deferred, .. }
            | TraceEvent::DeferredFired { deferred, .. }
            | TraceEvent::DeferredFailed { deferred, .. }
            | TraceEvent::DeferredRecovered { deferred }
            | TraceEvent::DeferredCancelled { deferred }
            | TraceEvent::UnhandledError { deferred, .. } => *deferred = self.local_deferred(*deferred),
            TraceEvent::DeferredChained { deferred, to } => {
                *deferred = self.local_deferred(*deferred);
                *to = self.local_deferred(*to);
            }
            TraceEvent::JobStarted { job, .. } => {
                if is_marked(&self.jobs_started, *job) {
                    return;
                }
                mark(&mut self.jobs_started, *job);
            }
            TraceEvent::TimerScheduled { timer, due, .. } | TraceEvent::TimerReset { timer, due } => {
                let i = *timer as usize;
                if self.timer_due.len() <= i {
                    self.timer_due.resize(i + 1, Time::ZERO);
                }
                self.timer_due[i] = *due;
            }
            TraceEvent::Call { source, id, .. } => {
                if *source == CallSource::Timer {
                    if let Some(due) = self.timer_due.get(*id as usize) {
                        self.timer_lag.push((record.t, record.t.saturating_since(*due).as_nanos() as u64));
                    }
                }
                self.last_call = Some(self.records.len());
            }
            _ => {}
        }
        self.records.push(record);
        self.note_position();
    }

    /// The run's number for twine-core's Deferred `id`, once a record named it.
    pub fn deferred_number(&self, id: u64) -> Option<u64> {
        let i = self.deferreds.binary_search_by_key(&id, |&(core, _)| core).ok()?;
        Some(self.deferreds[i].1)
    }

    fn local_deferred(&mut self, id: u64) -> u64 {
        match self.deferreds.binary_search_by_key(&id, |&(core, _)| core) {
            Ok(i) => self.deferreds[i].1,
            Err(i) => {
                self.next_deferred += 1;
                self.deferreds.insert(i, (id, self.next_deferred));
                self.next_deferred
            }
        }
    }
}

fn mark(set: &mut Vec<bool>, id: u64) {
    let i = id as usize;
    if set.len() <= i {
        set.resize(i + 1, false);
    }
    set[i] = true;
}

fn is_marked(set: &[bool], id: u64) -> bool {
    set.get(id as usize).copied().unwrap_or(false)
}

/// The sink attached to the simulated reactor.
pub(crate) struct StoreSink(pub Rc<RefCell<TraceStore>>);

impl TraceSink for StoreSink {
    fn record(&mut self, record: &TraceRecord) {
        self.0.borrow_mut().record(record);
    }
}

/// Reading the trace: only the visible records, whatever the format.
impl Simulation {
    /// Trace events visible so far. A reactor call still running holds back
    /// its own record and those after it until its duration is known.
    pub fn event_count(&self) -> usize {
        self.store.borrow().visible_len()
    }

    /// Visible events `from..to` (clamped).
    pub fn events(&self, from: usize, to: usize) -> Vec<TraceRecord> {
        let store = self.store.borrow();
        let end = to.min(store.visible_len());
        store.records.get(from.min(end)..end).map(<[TraceRecord]>::to_vec).unwrap_or_default()
    }

    /// Calls `f` with each visible event `from..to` (clamped), in order,
    /// without copying them out.
    pub fn visit_events(&self, from: usize, to: usize, mut f: impl FnMut(&TraceRecord)) {
        let store = self.store.borrow();
        let end = to.min(store.visible_len());
        store.records.get(from.min(end)..end).unwrap_or_default().iter().for_each(&mut f);
    }

    /// Visible events from `from`, at most `max`, as a JSON array.
    pub fn events_json(&self, from: usize, max: usize) -> String {
        let store = self.store.borrow();
        let end = store.visible_len().min(from.saturating_add(max));
        let mut out = String::with_capacity((end.saturating_sub(from)) * 64 + 2);
        out.push('[');
        for (i, record) in store.records.get(from.min(end)..end).unwrap_or_default().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(record).unwrap_or_else(|_| "null".into()));
        }
        out.push(']');
        out
    }

    /// The source positions of the visible records a Python program caused,
    /// by record index, in order.
    pub fn positions(&self) -> Vec<SourcePos> {
        let store = self.store.borrow();
        let end = store.visible_len();
        store.positions.iter().take_while(|p| p.i < end).cloned().collect()
    }

    /// The source positions of the visible events `from..to` (clamped), in order.
    pub fn positions_between(&self, from: usize, to: usize) -> Vec<SourcePos> {
        let store = self.store.borrow();
        let end = to.min(store.visible_len());
        let first = store.positions.partition_point(|p| p.i < from);
        store.positions[first..].iter().take_while(|p| p.i < end).cloned().collect()
    }

    /// [`positions`](Self::positions) as JSON: `[{i, thread, line, func}]`.
    pub fn positions_json(&self) -> String {
        serde_json::to_string(&self.positions()).unwrap_or_else(|_| "[]".into())
    }

    /// The visible trace in Chrome Trace Event Format (opens in Perfetto).
    pub fn chrome_trace(&self) -> serde_json::Value {
        let store = self.store.borrow();
        twine_core::trace::to_chrome_trace(&store.records[..store.visible_len()])
    }

    /// The visible trace as JSON lines, after a header line.
    pub fn jsonl(&self) -> String {
        let store = self.store.borrow();
        let mut sink = JsonLines::new(Vec::new());
        for record in &store.records[..store.visible_len()] {
            sink.record(record);
        }
        String::from_utf8(sink.into_inner()).unwrap_or_default()
    }
}
