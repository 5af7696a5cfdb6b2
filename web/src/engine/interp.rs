//! The step interpreter.
//!
//! [`exec`] runs a thread's steps until one needs virtual time (CPU, I/O, a
//! contended lock) or the program ends. Steps that take no time (print,
//! call_later, respond, ...) run at once. On the reactor thread `exec` runs
//! *inside* the reactor's own call when it can: a timer callback or the
//! server protocol starts the handler right there, and only when a step needs
//! time does the rest become a [`Request`] the engine finishes, charging the
//! time to the reactor thread before the reactor may start another call.
//!
//! Deferreds are real `twine_core` Deferreds. `defer_to_thread` and
//! `defer_later` return one, and the rest of the step list becomes its
//! chain: each run of ordinary steps one callback, each `errback` step one
//! errback. A callback whose steps take no time returns its value or failure
//! directly; one that needs time returns a Deferred the engine fires when
//! the work is done, and the chain waits for it, as in Twisted.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use twine_core::defer::{Deferred, Failure, FailureKind, Outcome};
use twine_core::protocol::{ConnectionId, Message};
use twine_core::task::{defer_later, LoopingCall};
use twine_core::threads::{defer_to_thread_with, JobOptions};
use twine_core::trace::{SystemEvent, TriggerPhase};
use twine_core::Reactor;

use super::shared::{JobProgram, LoopInstance, Shared};
use crate::program::{CounterOp, Op, Seq};

/// The reactor's thread number.
pub(crate) const REACTOR_THREAD: u32 = 0;

/// What a running program knows about where it is.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ctx {
    /// The request being handled: its connection and id.
    pub request: Option<(ConnectionId, u64)>,
    /// The failure an errback is handling.
    pub error: Option<Rc<str>>,
    /// A looping call's count of intervals.
    pub count: u64,
}

/// Why `exec` stopped.
#[derive(Debug)]
pub(crate) enum Halt {
    /// The program ended.
    Done,
    /// A step needs virtual time.
    Work(Work),
    /// The lock is held by another thread; the body runs once it is handed over.
    LockWait(u32, Seq),
    /// A Python thread waits for the lock for at most this many nanoseconds
    /// (`acquire(timeout=...)`, `wait(timeout)`): then the engine takes it
    /// out of the lock's queue and wakes it without the lock, its task told
    /// so ([`crate::python::vm::Task::time_out`]).
    LockWaitFor(u32, u64),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Work {
    Cpu(u64),
    Io(u64),
    Sleep(u64),
    Counter(CounterOp, u32),
    /// A batch of Python instructions: CPU no GIL switch may split; with
    /// `yield_gil` it ends at an eval-breaker point where a requested GIL
    /// switch happens.
    Py {
        ns: u64,
        yield_gil: bool,
    },
}

/// What happens when an activation ends.
pub(crate) enum End {
    /// A reactor callback: a failure left over is an unhandled error.
    Call,
    /// A Deferred callback that needed time: fire this with the outcome.
    Link(Deferred<()>),
    /// The main program: the reactor starts running.
    Main,
    /// A pool job: report the outcome to the job.
    Job(Option<Arc<Mutex<Option<String>>>>),
    /// A plain thread's body: the thread exits.
    Thread,
    /// A Python Deferred callback that needed time: fire this with its result.
    PyLink(Deferred<crate::python::value::Value>),
    /// A Python `deferToThread` job: leave the result for the job's work closure.
    PyJob(crate::python::twisted::JobSlot),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameKind {
    Body,
    Lock(u32),
    Repeat(u32),
}

struct Frame {
    seq: Seq,
    pc: u32,
    kind: FrameKind,
}

/// One running program: a stack of step lists (locks and repeats nest).
pub(crate) struct Activation {
    frames: Vec<Frame>,
    pub failure: Option<Failure>,
    pub ctx: Ctx,
    pub end: End,
    /// The Deferred a root-level `defer_to_thread` returned: the program's
    /// result follows it.
    pending: Option<Deferred<()>>,
    /// A Python thread: its own frames instead of steps.
    pub py: Option<Box<crate::python::vm::Task>>,
    /// The last thing run was an eval-breaker point (`Op::eval_breaker`, a
    /// loop's backward jump, leaving a `with` block, or the start).
    after_breaker: bool,
    /// The counter step issued last comes right after an eval-breaker
    /// point, so a requested GIL switch may happen before it.
    pub counter_at_breaker: bool,
}

/// How an activation came out.
pub(crate) enum ActOutcome {
    Ok,
    Failed(Failure),
    Pending(Deferred<()>),
}

/// Reactor-thread work that needs virtual time, with the step that needs it.
pub(crate) struct Request {
    pub activation: Activation,
    pub halt: Halt,
}

impl Activation {
    pub fn new(seq: Seq, ctx: Ctx, end: End) -> Activation {
        let pc = seq.start;
        Activation {
            frames: vec![Frame { seq, pc, kind: FrameKind::Body }],
            failure: None,
            ctx,
            end,
            pending: None,
            py: None,
            after_breaker: true,
            counter_at_breaker: true,
        }
    }

    /// A Python thread's activation.
    pub fn python(task: crate::python::vm::Task, end: End) -> Activation {
        Activation {
            frames: Vec::new(),
            failure: None,
            ctx: Ctx::default(),
            end,
            pending: None,
            py: Some(Box::new(task)),
            after_breaker: true,
            counter_at_breaker: true,
        }
    }

    /// The lock was handed over: run its body next.
    pub fn enter_lock(&mut self, lock: u32, body: Seq) {
        if self.py.is_some() {
            // The Python thread already recorded the lock as its own; it
            // resumes after its `acquire`.
            return;
        }
        let pc = body.start;
        self.frames.push(Frame { seq: body, pc, kind: FrameKind::Lock(lock) });
    }

    pub fn outcome(&mut self) -> ActOutcome {
        if let Some(failure) = self.failure.take() {
            ActOutcome::Failed(failure)
        } else if let Some(d) = self.pending.take() {
            ActOutcome::Pending(d)
        } else {
            ActOutcome::Ok
        }
    }

    /// The step the program is at, for the queues view.
    pub fn describe(&self) -> Option<String> {
        let frame = self.frames.last()?;
        let op = frame.seq.ops.get(frame.pc.checked_sub(1)? as usize)?;
        Some(describe_op(op))
    }
}

fn describe_op(op: &Op) -> String {
    // As `{}` would write the milliseconds (decimal: std's float formatting stays out of the module).
    let ms = |ns: &u64| twine_scenario::decimal::display(*ns as f64 / 1e6);
    match op {
        Op::Cpu(ns) => format!("cpu {} ms", ms(ns)),
        Op::Io(ns) => format!("io {} ms", ms(ns)),
        Op::Sleep(ns) => format!("sleep {} ms", ms(ns)),
        Op::Counter(op, _) => op.name().into(),
        Op::Lock(..) => "lock".into(),
        _ => "step".into(),
    }
}

/// Whether this build runs JSON scenarios' steps: everywhere but the light
/// browser module (twine-web without `lab` on wasm), which refuses JSON
/// scenarios (`wasm::load`) and so runs Python programs only, whose
/// activations have no steps (their program's `main` and `threads` are
/// empty; the server's handler runs only when there is no Python runtime;
/// pool jobs with steps come from `defer_to_thread` steps). There the step
/// loop below is left out.
const STEPS: bool = cfg!(any(feature = "lab", not(target_arch = "wasm32")));

/// Runs steps on thread `tid` until one needs time or the program ends.
pub(crate) fn exec(sh: &Rc<Shared>, reactor: &Reactor, tid: u32, act: &mut Activation) -> Halt {
    if let Some(task) = act.py.as_mut() {
        let rt = sh.py.borrow().clone();
        return match rt {
            Some(rt) => crate::python::vm::run(sh, &rt, tid, task),
            None => Halt::Done,
        };
    }
    if !STEPS {
        return Halt::Done;
    }
    loop {
        let Some(frame) = act.frames.last_mut() else { return Halt::Done };
        if frame.pc >= frame.seq.end {
            let Some(done) = act.frames.pop() else { return Halt::Done };
            // A loop's backward jump, or `with`'s `__exit__` call.
            act.after_breaker |= matches!(done.kind, FrameKind::Repeat(_) | FrameKind::Lock(_));
            match done.kind {
                FrameKind::Lock(lock) => sh.release_lock(lock, tid),
                FrameKind::Repeat(left) if left > 1 && act.failure.is_none() => {
                    let pc = done.seq.start;
                    act.frames.push(Frame { seq: done.seq, pc, kind: FrameKind::Repeat(left - 1) });
                }
                _ => {}
            }
            continue;
        }
        let pc = frame.pc as usize;
        frame.pc += 1;
        if act.failure.is_none() {
            let at_breaker = std::mem::replace(&mut act.after_breaker, frame.seq.ops[pc].eval_breaker());
            // The steps that take time, and so end this call, without the
            // reference count the general case below needs.
            match frame.seq.ops[pc] {
                Op::Cpu(ns) => return Halt::Work(Work::Cpu(ns)),
                Op::Io(ns) => return Halt::Work(Work::Io(ns)),
                Op::Sleep(ns) => return Halt::Work(Work::Sleep(ns)),
                Op::Counter(op, counter) => {
                    act.counter_at_breaker = at_breaker;
                    return Halt::Work(Work::Counter(op, counter));
                }
                _ => {}
            }
        }
        let ops = Arc::clone(&frame.seq.ops);
        let op = &ops[pc];
        if let Some(failure) = &act.failure {
            // Failing: skip to the next errback, which handles the failure.
            if let Op::Errback(body) = op {
                act.ctx.error = Some(failure.message().into());
                act.failure = None;
                let pc = body.start;
                act.frames.push(Frame { seq: body.clone(), pc, kind: FrameKind::Body });
            }
            continue;
        }
        match op {
            Op::Cpu(ns) => return Halt::Work(Work::Cpu(*ns)),
            Op::Io(ns) => return Halt::Work(Work::Io(*ns)),
            Op::Sleep(ns) => return Halt::Work(Work::Sleep(*ns)),
            Op::Counter(op, counter) => return Halt::Work(Work::Counter(*op, *counter)),
            Op::Lock(lock, body) => {
                if !sh.try_lock(*lock, tid) {
                    return Halt::LockWait(*lock, body.clone());
                }
                act.enter_lock(*lock, body.clone());
            }
            Op::Repeat(times, body) => {
                if *times > 0 && !body.is_empty() {
                    let pc = body.start;
                    act.frames.push(Frame { seq: body.clone(), pc, kind: FrameKind::Repeat(*times) });
                }
            }
            Op::Print(text) => sh.print(tid, text, &act.ctx),
            Op::Fail(message) => {
                act.failure = Some(Failure::new(FailureKind::Error, sh.render(tid, message, &act.ctx)));
            }
            Op::Errback(_) => {}
            Op::DeferToThread(body) => {
                let d = submit_job(reactor, body.clone(), "defer_to_thread");
                split(sh, act, d);
            }
            Op::CallInThread(body) => {
                // Twisted's callInThread; its outcome is only logged.
                drop(submit_job(reactor, body.clone(), "call_in_thread"));
            }
            Op::DeferLater(ns) => {
                let d: Deferred<()> = defer_later(reactor, Duration::from_nanos(*ns), || ());
                split(sh, act, d);
            }
            Op::CallLater(ns, body) => {
                let (sh, body, ctx) = (Rc::clone(sh), body.clone(), act.ctx.clone());
                reactor.call_later_named(Duration::from_nanos(*ns), "call_later", move |_| run_top(&sh, body, ctx));
            }
            Op::CallWhenRunning(body) => {
                let (sh, body, ctx) = (Rc::clone(sh), body.clone(), act.ctx.clone());
                reactor.call_when_running(move |_| run_top(&sh, body, ctx));
            }
            Op::OnShutdown(body) => {
                let (sh, body, ctx) = (Rc::clone(sh), body.clone(), act.ctx.clone());
                reactor.add_system_event_trigger(TriggerPhase::Before, SystemEvent::Shutdown, move |_| match run_link(
                    &sh, body, ctx,
                ) {
                    Outcome::Value(()) => None,
                    Outcome::Failure(failure) => {
                        sh.unhandled_error(&failure);
                        None
                    }
                    Outcome::Deferred(d) => Some(d),
                });
            }
            Op::LoopingCall(def) => start_looping_call(sh, reactor, *def, &act.ctx),
            Op::CallFromThread(body) => sh.call_from_thread(body.clone()),
            Op::Respond => {
                if let Some((conn, id)) = act.ctx.request {
                    if let Some(transport) = reactor.transport(conn) {
                        transport.send(Message::text(id.to_string()));
                    }
                }
            }
            Op::Stop => {
                if let Err(e) = reactor.stop() {
                    act.failure = Some(Failure::new(FailureKind::ReactorNotRunning, e.to_string()));
                }
            }
        }
    }
}

/// `defer_to_thread_with` the steps as the job's cost hint.
fn submit_job(reactor: &Reactor, body: Seq, name: &'static str) -> Deferred<()> {
    let failure = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&failure);
    let hint = JobProgram { body, failure };
    defer_to_thread_with(
        reactor,
        JobOptions { name: Some(Cow::Borrowed(name)), hint: Some(Box::new(hint)) },
        move || match JobProgram::take_failure(&slot) {
            Some(message) => Err(Failure::new(FailureKind::Error, message)),
            None => Ok(()),
        },
    )
}

/// An async step returned `d`: the rest of the current list becomes its
/// chain. At the top level the program's result follows `d`; nested (in a
/// lock or repeat) the enclosing steps carry on, as the code after a
/// `d.addCallback(...)` in Python does.
fn split(sh: &Rc<Shared>, act: &mut Activation, d: Deferred<()>) {
    let depth = act.frames.len();
    let Some(frame) = act.frames.last_mut() else { return };
    let rest = frame.seq.range(frame.pc, frame.seq.end);
    frame.pc = frame.seq.end;
    attach_links(sh, &d, rest, &act.ctx);
    if depth == 1 {
        act.pending = Some(d);
    }
}

/// Adds `rest` to `d`'s chain: each run of ordinary steps is a callback,
/// each `errback` step an errback.
fn attach_links(sh: &Rc<Shared>, d: &Deferred<()>, rest: Seq, ctx: &Ctx) {
    let mut i = rest.start;
    while i < rest.end {
        if let Op::Errback(body) = &rest.ops[i as usize] {
            let (sh, body, ctx) = (Rc::clone(sh), body.clone(), ctx.clone());
            d.add_errback(move |failure: Failure| {
                let ctx = Ctx { error: Some(failure.message().into()), ..ctx };
                run_link(&sh, body, ctx)
            });
            i += 1;
        } else {
            let mut j = i;
            while j < rest.end && !matches!(rest.ops[j as usize], Op::Errback(_)) {
                j += 1;
            }
            let (sh, seq, ctx) = (Rc::clone(sh), rest.range(i, j), ctx.clone());
            d.add_callback(move |()| run_link(&sh, seq, ctx));
            i = j;
        }
    }
}

/// Runs one link of a Deferred chain on the reactor thread, now.
pub(crate) fn run_link(sh: &Rc<Shared>, seq: Seq, ctx: Ctx) -> Outcome<()> {
    let Some(reactor) = sh.reactor() else { return Outcome::Value(()) };
    let mut act = Activation::new(seq, ctx, End::Call);
    match exec(sh, &reactor, REACTOR_THREAD, &mut act) {
        Halt::Done => match act.outcome() {
            ActOutcome::Ok => Outcome::Value(()),
            ActOutcome::Failed(failure) => Outcome::Failure(failure),
            ActOutcome::Pending(d) => Outcome::Deferred(d),
        },
        halt => {
            let link = Deferred::with_label("callback");
            act.end = End::Link(link.clone());
            sh.request(act, halt);
            Outcome::Deferred(link)
        }
    }
}

/// Runs a reactor callback's steps (a timer, a trigger, a request) now.
pub(crate) fn run_top(sh: &Rc<Shared>, seq: Seq, ctx: Ctx) {
    let Some(reactor) = sh.reactor() else { return };
    let mut act = Activation::new(seq, ctx, End::Call);
    match exec(sh, &reactor, REACTOR_THREAD, &mut act) {
        Halt::Done => {
            if let ActOutcome::Failed(failure) = act.outcome() {
                sh.unhandled_error(&failure);
            }
        }
        halt => sh.request(act, halt),
    }
}

fn start_looping_call(sh: &Rc<Shared>, reactor: &Reactor, def: u32, ctx: &Ctx) {
    let spec = &sh.program.loops[def as usize];
    let (interval, now, count, body) = (spec.interval, spec.now, spec.count, spec.body.clone());
    let index = sh.loops.borrow().len();
    let (weak, ctx) = (Rc::downgrade(sh), ctx.clone());
    let lc = LoopingCall::with_count(reactor, move |intervals| {
        let Some(sh) = weak.upgrade() else { return Outcome::Value(()) };
        let calls = {
            let mut loops = sh.loops.borrow_mut();
            let Some(instance) = loops.get_mut(index) else { return Outcome::Value(()) };
            instance.calls += 1;
            instance.calls
        };
        if count.is_some_and(|c| calls >= c) {
            let lc = sh.loops.borrow().get(index).map(|l| l.lc.clone());
            if let Some(lc) = lc {
                lc.stop();
            }
        }
        run_link(&sh, body.clone(), Ctx { count: intervals, ..ctx.clone() })
    });
    sh.loops.borrow_mut().push(LoopInstance { step: spec.label.clone(), lc: lc.clone(), calls: 0 });
    drop(lc.start(Duration::from_nanos(interval), now));
}
