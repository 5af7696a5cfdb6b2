//! What each thread of a Python program is in, for the page's stack panel:
//! the functions on its frame stack (the program's own names,
//! `EchoProtocol.lineReceived`), and for a callback or errback the Deferred
//! whose chain it runs in.
//!
//! The VM notes a thread's stack when it changes shape (a call, a return, a
//! new task) and when its code ends (a callback returned, a job or thread
//! finished), stamped with the number of trace records made so far, so the
//! stack at any event of the run can be read back afterwards. Only a change
//! of shape is noted, which keeps the per-call cost to a hash.

use std::rc::Rc;

use serde::Serialize;

use super::vm::Frame;
use crate::Simulation;

/// How a callback came to run: as a link in a Deferred's chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub role: Role,
    /// The Deferred's id in twine-core (the trace renumbers it per run).
    pub deferred: u64,
}

/// Which path of a Deferred's chain a function runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Given the result (`addCallback`, or the first of `addBoth`).
    Callback,
    /// Given the Failure (`addErrback`, `addCallbacks`' second).
    Errback,
}

/// One function a thread is in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StackFrame {
    /// The program's name for it: `on_result`, `EchoProtocol.lineReceived`,
    /// `<module>`.
    #[serde(serialize_with = "str_of")]
    pub func: Rc<str>,
    /// The line it is at (for a caller, the line of its call).
    pub line: u32,
    /// For the function a Deferred called: as its callback or errback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// For the function a Deferred called: the Deferred's number in the
    /// trace (`Deferred #3` in the event log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred: Option<u64>,
}

fn str_of<S: serde::Serializer>(s: &Rc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

/// A thread's stack at an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreadStack {
    /// The simulated thread.
    pub thread: u32,
    /// Outermost first.
    pub frames: Vec<StackFrame>,
}

type Change = (usize, Option<Rc<[StackFrame]>>, Option<u64>);

/// The stacks each thread went through, by the trace record they start at.
#[derive(Default)]
pub(crate) struct StackLog {
    /// Per thread: (records before the change, the stack from then on or
    /// `None` once its code ended, its link's Deferred).
    changes: Vec<Vec<Change>>,
    /// Per thread: the shape of its last noted stack.
    shapes: Vec<u64>,
}

impl StackLog {
    /// Notes thread `tid`'s stack, `frames` running as `link`, once
    /// `records` trace records exist, if its shape changed.
    pub fn note(&mut self, records: usize, tid: u32, frames: &[Frame], link: Option<Link>) {
        let i = self.slot(tid);
        let shape = shape_of(frames, link);
        if self.shapes[i] == shape {
            return;
        }
        self.shapes[i] = shape;
        let last = frames.len().saturating_sub(1);
        let stack: Rc<[StackFrame]> = frames
            .iter()
            .enumerate()
            // The built-ins' Python part stands for C code: no frame of the program's.
            .filter(|(_, f)| &*f.code.file != super::drain::FILE)
            .map(|(k, f)| {
                // The top frame is before `pc`; a caller is past its call.
                let pc = if k == last { f.pc } else { f.pc.saturating_sub(1) };
                let role = if k == 0 { link.map(|l| l.role) } else { None };
                StackFrame { func: name_of(f), line: f.code.span(pc).line, role, deferred: None }
            })
            .collect();
        let changes = &mut self.changes[i];
        // Two stacks before one record: only the later one is ever read.
        if changes.last().is_some_and(|(at, stack, _)| *at == records && stack.is_some()) {
            changes.pop();
        }
        changes.push((records, Some(stack), link.map(|l| l.deferred)));
    }

    /// Thread `tid`'s code ended (its task finished) once `records` records exist.
    pub fn note_end(&mut self, records: usize, tid: u32) {
        let i = self.slot(tid);
        if self.shapes[i] == 0 {
            return;
        }
        self.shapes[i] = 0;
        self.changes[i].push((records, None, None));
    }

    fn slot(&mut self, tid: u32) -> usize {
        let i = tid as usize;
        if self.shapes.len() <= i {
            self.shapes.resize(i + 1, 0);
            self.changes.resize_with(i + 1, Vec::new);
        }
        i
    }

    /// Thread `tid`'s stack when record `index` was made: what it was in
    /// then, or (`own`: the record is the thread's own, made as its code
    /// ended, like a reactor call's record) what it was in last.
    fn at(&self, tid: u32, index: usize, own: bool) -> Option<(&Rc<[StackFrame]>, Option<u64>)> {
        let changes = self.changes.get(tid as usize)?;
        let n = changes.partition_point(|(at, ..)| *at <= index);
        let mut before = changes[..n].iter().rev();
        let (_, stack, d) = if own { before.find(|(_, s, _)| s.is_some())? } else { before.next()? };
        stack.as_ref().map(|s| (s, *d))
    }
}

/// A function's name as the program spells it: `Class.method` for a method.
pub(crate) fn name_of(f: &Frame) -> Rc<str> {
    match f.func.as_ref().and_then(|func| func.owner.borrow().clone()) {
        Some(class) => format!("{}.{}", class.name, f.code.name).into(),
        None => Rc::clone(&f.code.name),
    }
}

/// The stack's shape: its code objects, where the callers are, and its link.
fn shape_of(frames: &[Frame], link: Option<Link>) -> u64 {
    let mix = |h: u64, x: u64| (h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    let mut h =
        mix(frames.len() as u64, link.map_or(0, |l| l.deferred.wrapping_mul(2) + (l.role == Role::Errback) as u64 + 1));
    let last = frames.len().saturating_sub(1);
    for (k, f) in frames.iter().enumerate() {
        h = mix(h, Rc::as_ptr(&f.code) as usize as u64);
        if k != last {
            h = mix(h, f.pc as u64);
        }
    }
    // Zero is the "nothing noted yet" shape.
    h | 1
}

impl Simulation {
    /// Per thread in Python code at event `index`, the functions it is in,
    /// outermost first, with the Deferred (and whether as its callback or
    /// errback) a function was called by. A thread whose code had ended by
    /// then (a reactor call that returned, a pool job or thread that
    /// finished) is left out, unless `index` is its own event, where it
    /// shows what the event came from. Empty for a JSON scenario.
    ///
    /// ```
    /// use twine_web::{PythonScenario, Scenario, Simulation};
    ///
    /// let src = "from twisted.internet import defer, reactor\n\
    ///            def on_result(v):\n    print('got', v)\n\
    ///            def start():\n    d = defer.Deferred()\n    d.addCallback(on_result)\n    d.callback(7)\n\
    ///            reactor.callWhenRunning(start)\nreactor.callLater(0.01, reactor.stop)\nreactor.run()\n";
    /// let mut sim = Simulation::new(&Scenario::from_python("s.py", src).unwrap(), None);
    /// sim.run();
    /// let printed = sim.positions().into_iter().find(|p| p.line == 3).unwrap();
    /// let stack = &sim.python_stacks(printed.i)[0];
    /// let names: Vec<&str> = stack.frames.iter().map(|f| &*f.func).collect();
    /// assert_eq!(names, ["on_result"]);
    /// assert_eq!(stack.frames[0].role, Some(twine_web::python::Role::Callback));
    /// ```
    pub fn python_stacks(&self, index: usize) -> Vec<ThreadStack> {
        let Some(rt) = self.sh.py.borrow().clone() else { return Vec::new() };
        let log = rt.stacks.borrow();
        let store = self.store.borrow();
        // The thread whose Python code the event came from, if any.
        let at = store.positions.partition_point(|p| p.i < index);
        let own = store.positions.get(at).filter(|p| p.i == index).map(|p| p.thread);
        (0..log.changes.len() as u32)
            .filter_map(|thread| {
                let (stack, deferred) = log.at(thread, index, own == Some(thread))?;
                let mut frames = stack.to_vec();
                if let (Some(first), Some(d)) = (frames.first_mut(), deferred) {
                    first.deferred = store.deferred_number(d);
                }
                Some(ThreadStack { thread, frames })
            })
            .collect()
    }

    /// [`python_stacks`](Self::python_stacks) as JSON:
    /// `[{thread, frames: [{func, line, role?, deferred?}]}]`.
    pub fn python_stacks_json(&self, index: usize) -> String {
        serde_json::to_string(&self.python_stacks(index)).unwrap_or_else(|_| "[]".into())
    }
}
