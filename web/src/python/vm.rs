//! The VM: an explicit frame stack per simulated thread, so a thread stops
//! before any instruction (for virtual time, the GIL, a lock) and resumes
//! later. Python-to-Python calls push a frame; no Rust recursion. Built-ins
//! that call back into Python (`sorted(key=...)`) run a nested loop on a
//! separate frame stack, which may not wait.
//!
//! Cost: each instruction costs CPU as CPython's does ([`super::cost`]),
//! accumulated and handed to the engine in batches (see `run`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::code::{CmpOp, Code, CodeKind, Instr, UnOp};
use super::errors::{Exc, TbFrame};
use super::format;
use super::nesting;
use super::ops;
use super::stacks::{self, Link};
use super::value::{CellRef, Class, Dict, Function, Globals, Instance, Iter, Module, Native, ThreadObj, Value};
use super::{arity, builtins, compile};
use super::{cost, Runtime, BATCH_NS};
use crate::engine::choice::{Access, Watch};
use crate::engine::interp::{Halt, Work};
use crate::engine::shared::Shared;
use crate::explain::lost::Var;
use crate::program::Seq;

/// CPython's `sys.getrecursionlimit()` default: a call that would put more
/// than this many Python frames on a thread's stack raises
/// `RecursionError: maximum recursion depth exceeded` instead (an endless
/// recursion would otherwise grow until the instruction budget ran out).
pub(crate) const RECURSION_LIMIT: usize = 1000;

/// How deep built-ins that call back into Python (`sorted(key=...)`, a
/// `__repr__` that calls `repr`, a callback that fires another Deferred)
/// may nest: each level is Rust recursion, the built-in (and for a
/// Deferred, twine-core's chain), a nested loop and `exec`, 10-20 KB of
/// stack in an optimised native build, and the browser gives the module
/// 1 MB. CPython 3.11 counts these against the same limit as Python frames
/// (a few frames a level), so it too stops such a recursion early, if a
/// few hundred levels later than this.
const NESTED_LIMIT: u32 = 50;

pub(crate) type PyResult<T> = Result<T, Exc>;

/// What returning from a frame does.
#[derive(Debug)]
pub(crate) enum Ret {
    Normal,
    /// `__init__`: the call's value is the instance.
    Init(Value),
    /// A class body: the namespace becomes the class.
    Class(Option<Rc<Class>>),
    /// A generator's frame, resumed on the thread's stack above its
    /// resumer (so its body may wait like any function's): its `yield`
    /// and its end go back as `Resume` says.
    Gen(Rc<super::value::Generator>, Resume),
    /// A property's setter: the call's value is dropped.
    Discard,
}

/// Who resumed a generator on the thread's stack. A `yield` pushes its
/// value for the resumer; the generator's end depends on who it was.
#[derive(Debug)]
pub(crate) enum Resume {
    /// A `for` loop's `ForIter(exit)`: the iterator is popped, the loop left.
    ForIter(u32),
    /// `next(g)` or `next(g, default)`: StopIteration, or the default.
    Next(Option<Value>),
    /// `g.send(v)`, `g.throw(e)`: StopIteration carrying the return value.
    Send,
    /// `yield from`'s `Send(end)`: the return value replaces the iterator.
    YieldFrom(u32),
}

#[derive(Debug)]
pub(crate) struct Handler {
    target: usize,
    depth: usize,
    excs: usize,
}

/// A class body's namespace.
pub(crate) type Namespace = Rc<RefCell<HashMap<Rc<str>, Value>>>;

/// One activation of a code object.
#[derive(Debug)]
pub(crate) struct Frame {
    pub code: Rc<Code>,
    pub func: Option<Rc<Function>>,
    pub pc: usize,
    pub stack: Vec<Value>,
    pub locals: Vec<Option<Value>>,
    pub cells: Vec<CellRef>,
    pub globals: Rc<Globals>,
    pub ns: Option<Namespace>,
    pub handlers: Vec<Handler>,
    /// Exceptions being handled (`raise` alone re-raises the last).
    pub excs: Vec<Value>,
    /// Their tracebacks, this frame's line included, for a re-raise.
    pub tbs: Vec<super::errors::Tb>,
    pub ret: Ret,
}

impl Frame {
    pub fn new(code: Rc<Code>, globals: Rc<Globals>, func: Option<Rc<Function>>) -> Frame {
        let n = code.varnames.len();
        Frame {
            code,
            func,
            pc: 0,
            stack: Vec::with_capacity(8),
            locals: vec![None; n],
            cells: Vec::new(),
            globals,
            ns: None,
            handlers: Vec::new(),
            excs: Vec::new(),
            tbs: Vec::new(),
            ret: Ret::Normal,
        }
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or_default()
    }

    fn top(&self) -> &Value {
        self.stack.last().unwrap_or(&Value::None)
    }
}

/// What a thread does once it is woken.
#[derive(Debug)]
pub(crate) enum AfterWake {
    /// It was handed this engine lock only to learn it was released (join, Event.wait): pass it on.
    Release(u32),
    /// `Condition.wait()` was notified: let its waiter lock go, then take
    /// the condition's lock (a `Native::Lock`) back at the depth it was
    /// held, waiting for it if another thread holds it.
    Reacquire { waiter: u32, lock: Rc<Native>, depth: u32 },
    /// That lock, waited for, is this thread's now: at this depth.
    Restore { lock: Rc<Native>, depth: u32 },
}

/// A Python thread's execution state.
#[derive(Debug)]
pub(crate) struct Task {
    /// A callback (a Deferred link, a timer, a pool job): its result is
    /// kept in `result` rather than reported.
    pub callback: bool,
    pub result: Option<Result<Value, Exc>>,
    pub frames: Vec<Frame>,
    pub pending: u64,
    pub thread: Option<Rc<ThreadObj>>,
    pub after_wake: Option<AfterWake>,
    /// The timed wait it is in (`acquire(timeout=...)`): the call runs
    /// again when it ends, and learns here how.
    pub timed: Option<super::timed::Timed>,
    /// Text printed with `end=` other than a newline, waiting for one.
    pub partial: String,
    /// The Deferred whose chain called it, for a callback or errback.
    pub link: Option<Link>,
    /// A pool job a thread was started for: the lock its `deferToThread`
    /// caller waits on until the job first runs (Twisted's pool starts its
    /// threads with `Thread.start()`, which returns only then), and the job
    /// then until the caller goes on (`true`: it let the caller go).
    pub started: Option<(u32, bool)>,
}

impl Task {
    pub fn new(frame: Frame, thread: Option<Rc<ThreadObj>>) -> Task {
        Task {
            callback: false,
            result: None,
            frames: vec![frame],
            pending: 0,
            thread,
            after_wake: None,
            timed: None,
            partial: String::new(),
            link: None,
            started: None,
        }
    }

    /// Its timed wait ran out (the engine took it out of the lock's queue).
    pub fn time_out(&mut self) {
        if let Some(timed) = self.timed.as_mut() {
            timed.timed_out = true;
        }
    }

    /// A task for a callback's call.
    pub fn callback(frame: Frame) -> Task {
        Task { callback: true, ..Task::new(frame, None) }
    }
}

/// What a built-in asks of the VM besides its value.
pub(crate) enum Out {
    Value(Value),
    /// Push the value, then hand the engine this halt.
    Halt(Value, Halt),
    /// Push a frame (a Python function the built-in calls as its result).
    Frame(Frame),
    /// Hand the engine this halt, then run the call again (CPython's
    /// `while not ready: wait()` loops: `Semaphore.acquire`, `wait_for`).
    Retry(Halt),
}

enum Flow {
    Next,
    Return(Value),
    Halt(Halt),
    Yield(Value),
}

/// The VM's view of the world while a thread runs.
pub(crate) struct Vm<'a> {
    pub sh: &'a Rc<Shared>,
    pub rt: &'a Rc<Runtime>,
    pub tid: u32,
    /// Nested loops run for built-ins: they cannot wait.
    pub nested: u32,
    /// The Python frames of the loops this one runs inside (`call_nested`),
    /// so that [`RECURSION_LIMIT`] counts the thread's whole stack.
    outer_frames: usize,
    /// The frames on this thread's stack when the running instruction
    /// started: where a nested loop's `outer_frames` begin.
    depth: usize,
    pub pending: u64,
    pub partial: &'a mut String,
    pub after_wake: Option<AfterWake>,
    /// A call that made a timed wait, running again: how the wait ended
    /// (taken by the call); a call that waits with a deadline leaves it here.
    pub timed: Option<super::timed::Timed>,
    /// `reactor.run()` was called: the main program pauses until the reactor stops.
    pub reactor_run: bool,
    /// The Deferred whose chain called the code running, if one did.
    pub link: Option<Link>,
}

impl<'a> Vm<'a> {
    /// A VM for calls made from Rust (a reactor callback).
    pub fn new(sh: &'a Rc<Shared>, rt: &'a Rc<Runtime>, tid: u32, partial: &'a mut String) -> Vm<'a> {
        Vm {
            sh,
            rt,
            tid,
            nested: 0,
            outer_frames: 0,
            depth: 0,
            pending: 0,
            partial,
            after_wake: None,
            timed: None,
            reactor_run: false,
            link: None,
        }
    }
}

/// A new pool thread's Python from setting `_started` to waiting in
/// `queue.get()` for its first job (`Thread._bootstrap_inner`, Twisted's
/// worker loop): a few lines, estimated, not measured. What matters is that
/// the caller is a GIL waiter by then.
const INTO_QUEUE_GET_NS: u64 = 5_000;

/// Runs thread `tid`'s task until it needs virtual time or ends.
pub(crate) fn run(sh: &Rc<Shared>, rt: &Rc<Runtime>, tid: u32, task: &mut Task) -> Halt {
    // A wait that timed out was not handed its lock: nothing to pass on,
    // and a waiter lock still held leaves its line in the call run again.
    let timed_out = task.timed.is_some_and(|t| t.timed_out);
    match task.after_wake.take() {
        Some(AfterWake::Release(lock)) if !timed_out => sh.release_lock(lock, tid),
        Some(AfterWake::Release(_)) => {}
        Some(AfterWake::Reacquire { waiter, lock, depth }) => {
            if !timed_out {
                sh.release_lock(waiter, tid);
            }
            if let Some(busy) = builtins::retake(sh, &lock, tid, depth, false) {
                task.after_wake = Some(AfterWake::Restore { lock, depth });
                return Halt::LockWait(busy, no_steps());
            }
        }
        Some(AfterWake::Restore { lock, depth }) => {
            builtins::retake(sh, &lock, tid, depth, true);
        }
        None => {}
    }
    // A thread's first run lets its `start()` caller go on.
    if let Some(started) = task.thread.as_ref().and_then(|t| t.start_lock.take()) {
        sh.release_lock(started, tid);
    }
    // So does a pool job's, the `deferToThread` caller that started its
    // thread; then the job waits for it. Twisted's new thread goes on with
    // the GIL a few lines (into `queue.get()`, while its caller wakes and
    // waits for the GIL) and waits there without it until its caller,
    // back with the GIL, hands the job over. The lock is fair: it goes to
    // the caller, and back to the job when the caller lets go of it.
    match task.started {
        Some((lock, false)) => {
            sh.release_lock(lock, tid);
            task.started = Some((lock, true));
            return Halt::Work(Work::Py { ns: INTO_QUEUE_GET_NS, yield_gil: false });
        }
        Some((lock, true)) => {
            task.started = None;
            task.after_wake = Some(AfterWake::Release(lock));
            return Halt::LockWait(lock, no_steps());
        }
        None => {}
    }
    if rt.failed() {
        task.frames.clear();
    }
    if task.frames.is_empty() && task.result.is_some() {
        // A callback that ended; its last CPU batch has been charged.
        return Halt::Done;
    }
    let frames = std::mem::take(&mut task.frames);
    // Records made while it runs are this thread's (see `TraceStore::positions`).
    let was_running = sh.store.borrow().running();
    sh.store.borrow_mut().set_running(Some(tid));
    let halt = run_task(sh, rt, tid, task, frames);
    sh.store.borrow_mut().set_running(was_running);
    if task.frames.is_empty() {
        let records = sh.store.borrow().records.len();
        rt.stacks.borrow_mut().note_end(records, tid);
    }
    // A Deferred the code dropped with a failure in it: reported now, as CPython collects it.
    super::unhandled::report_dropped(sh, rt);
    halt
}

fn run_task(sh: &Rc<Shared>, rt: &Rc<Runtime>, tid: u32, task: &mut Task, mut frames: Vec<Frame>) -> Halt {
    rt.active.set(rt.active.get() + 1);
    let mut vm = Vm::new(sh, rt, tid, &mut task.partial);
    vm.pending = task.pending;
    vm.link = task.link;
    vm.timed = task.timed.take();
    let mut result = if frames.is_empty() { Ok(Exit::Returned(Value::None)) } else { vm.run_frames(&mut frames, 0) };
    // The program's own code ended (not a thread's, not a callback's): what
    // it registered to run at exit runs now, on the main thread, before the
    // other threads are waited for, as CPython's `threading._shutdown` does.
    while task.thread.is_none() && !task.callback && matches!(result, Ok(Exit::Returned(_))) && !rt.failed() {
        let Some(hook) = rt.at_exit.borrow_mut().pop() else { break };
        result = match vm.call(hook, Vec::new(), Vec::new()) {
            Ok(Out::Frame(frame)) => {
                frames = vec![frame];
                vm.run_frames(&mut frames, 0)
            }
            Ok(_) => Ok(Exit::Returned(Value::None)),
            Err(e) => Err(e),
        };
    }
    rt.active.set(rt.active.get() - 1);
    let pending = std::mem::take(&mut vm.pending);
    let after_wake = vm.after_wake.take();
    let timed = vm.timed.take();
    if vm.reactor_run {
        let mut rest = Task::new(Frame::new(Rc::clone(&frames[0].code), Rc::clone(&rt.globals), None), None);
        rest.frames = frames;
        *rt.after_run.borrow_mut() = Some(rest);
        task.pending = 0;
        return if pending > 0 { Halt::Work(Work::Py { ns: pending, yield_gil: false }) } else { Halt::Done };
    }
    if task.callback {
        match result {
            Ok(Exit::Halt(halt)) => {
                task.frames = frames;
                task.pending = pending;
                task.after_wake = after_wake;
                task.timed = timed;
                return halt;
            }
            Ok(Exit::Returned(v) | Exit::Yielded(v, _)) => task.result = Some(Ok(v)),
            Err(e) => {
                rt.remember_traceback(&e);
                task.result = Some(Err(e));
            }
        }
        let ended = std::mem::take(vm.partial);
        if !ended.is_empty() {
            sh.say(tid, ended.clone());
        }
        task.frames.clear();
        return if pending > 0 { Halt::Work(Work::Py { ns: pending, yield_gil: false }) } else { Halt::Done };
    }
    match result {
        Ok(Exit::Halt(halt)) => {
            task.frames = frames;
            // The call that halted is charged with the next batch.
            task.pending = pending;
            task.after_wake = after_wake;
            task.timed = timed;
            halt
        }
        Ok(Exit::Returned(_) | Exit::Yielded(..)) | Err(_) if pending > 0 => {
            // Charge the last instructions before the thread ends.
            if let Err(exc) = result {
                vm.report(exc, task.thread.as_ref());
            }
            task.pending = 0;
            Halt::Work(Work::Py { ns: pending, yield_gil: false })
        }
        Ok(Exit::Returned(_) | Exit::Yielded(..)) => {
            vm.end_thread(task.thread.as_ref());
            Halt::Done
        }
        Err(exc) => {
            vm.report(exc, task.thread.as_ref());
            vm.end_thread(task.thread.as_ref());
            Halt::Done
        }
    }
}

enum Exit {
    Returned(Value),
    Halt(Halt),
    /// A generator's frame (the loop's base) stopped at a `yield`.
    Yielded(Value, Box<Frame>),
}

/// The method a unary operator calls on an instance.
fn unary_dunder(op: UnOp) -> &'static str {
    match op {
        UnOp::Neg => "__neg__",
        UnOp::Pos => "__pos__",
        _ => "__invert__",
    }
}

impl Vm<'_> {
    /// A gate a thread's starter waits at until the new thread first runs
    /// (CPython's `Thread._started`): a fair lock of the engine's own, held
    /// by nobody until the thread releases it.
    pub fn start_gate(&self, name: &str) -> u32 {
        let gate = self.sh.new_lock(name, true);
        self.sh.make_internal(gate);
        self.sh.hold_for_nobody(gate);
        gate
    }

    /// The call returns `value` once `gate` is released to its caller,
    /// who lets go of it as it goes on.
    pub fn wait_at(&mut self, gate: u32, value: Value) -> Out {
        self.after_wake = Some(AfterWake::Release(gate));
        Out::Halt(value, Halt::LockWait(gate, no_steps()))
    }

    /// `import name`: the module, loaded on first use.
    fn import_module(&mut self, name: &str) -> PyResult<Value> {
        if super::clock::HERE && name.starts_with("twisted") {
            // `task.Clock` and the rest written in Python, made
            // before the first twisted module that holds them.
            super::clock::prepare(self)?;
        }
        // (`HERE` first: a constant, so the light module drops the
        // sources of the modules written in Python.)
        if super::pystd::HERE && super::pystd::has(name) && builtins::full(self, "pystd") {
            super::pystd::import(self, name)
        } else {
            match self.rt.import(name) {
                // `import concurrent`: a package of modules there are, which
                // the simulator has no module for. Those of its modules
                // imported before are its attributes (`twisted` after
                // `from twisted.internet import defer`).
                Err(_) if self.is_package(name) => {
                    let prefix = format!("{name}.");
                    let children: Vec<String> = self
                        .rt
                        .modules
                        .borrow()
                        .keys()
                        .filter_map(|k| k.strip_prefix(&prefix))
                        .map(|rest| rest.split('.').next().unwrap_or(rest).to_owned())
                        .collect();
                    let mut attrs = std::collections::HashMap::new();
                    for child in children {
                        let m = self.import_module(&format!("{prefix}{child}"))?;
                        attrs.insert(super::pystd::intern(&child), m);
                    }
                    let package = Value::Module(Rc::new(Module { name: super::pystd::intern(name), attrs }));
                    self.rt.modules.borrow_mut().insert(name.to_owned(), package.clone());
                    Ok(package)
                }
                found => found,
            }
        }
    }

    /// Whether `name` is one of the modules with a dotted name the
    /// simulator has (`concurrent.futures`, `twisted.protocols.basic`) or a
    /// package above one (`concurrent`, `twisted.protocols`).
    fn is_package(&self, name: &str) -> bool {
        const NATIVE: &[&str] = &["twisted.internet", "twisted.protocols.basic"];
        let under = |m: &str| m == name || m.strip_prefix(name).is_some_and(|rest| rest.starts_with('.'));
        (NATIVE.iter().any(|m| under(m)) || super::pystd::names().any(under)) && builtins::full(self, "import a.b")
    }

    /// `import a.b.c` without `as`: imports `a.b.c`, then makes each
    /// package above it hold the module below as an attribute, as
    /// CPython's import does, and returns the outermost (`a`), the name
    /// the statement binds. A package the simulator has no module for
    /// (`concurrent`) is one with just those attributes.
    fn import_package(&mut self, name: &str) -> PyResult<Value> {
        if !builtins::full(self, "import a.b") {
            // (The light module runs only the presets, which never write it.)
            return Err(self.rt.error("SystemError", "import a.b"));
        }
        let mut child = self.import_module(name)?;
        let mut path = name;
        while let Some((parent, last)) = path.rsplit_once('.') {
            // (A package imported before is in the module table.)
            let package = match self.import_module(parent).ok() {
                Some(Value::Module(m)) if m.attrs.contains_key(last) => Value::Module(m),
                Some(Value::Module(m)) => {
                    let mut attrs = m.attrs.clone();
                    attrs.insert(super::pystd::intern(last), child);
                    Value::Module(Rc::new(Module { name: m.name, attrs }))
                }
                _ => {
                    let attrs = [(super::pystd::intern(last), child)].into_iter().collect();
                    Value::Module(Rc::new(Module { name: super::pystd::intern(parent), attrs }))
                }
            };
            self.rt.modules.borrow_mut().insert(parent.to_owned(), package.clone());
            child = package;
            path = parent;
        }
        Ok(child)
    }

    fn end_thread(&mut self, thread: Option<&Rc<ThreadObj>>) {
        if !self.partial.is_empty() {
            let line = std::mem::take(self.partial);
            self.sh.say(self.tid, line);
        }
        match thread {
            Some(t) => {
                t.done.set(true);
                if let Some(lock) = t.done_lock.get() {
                    self.sh.release_lock(lock, self.tid);
                }
            }
            // The main program's code (callbacks never get here), unless it
            // went on to `reactor.run()`: its rest (`after_run`) ends it then.
            None if self.rt.after_run.borrow().is_none() => self.rt.main_done.set(true),
            None => {}
        }
    }

    /// An exception nobody caught: the main program fails; a thread prints it, as CPython's threading does.
    /// SystemExit (`sys.exit()`) ends either quietly, printing only a message
    /// given instead of an exit code, as CPython does.
    fn report(&mut self, exc: Exc, thread: Option<&Rc<ThreadObj>>) {
        // The program already failed (an endless loop, a refusal): the
        // `None` that carried the failure out of the frames is no Python
        // exception, and a thread must not print it as one.
        if matches!(exc.value, Value::None) && self.rt.failed() {
            return;
        }
        if let Value::Instance(i) = &exc.value {
            if i.class.is_subclass(&self.rt.exc_class("SystemExit")) {
                if let Some(Value::Tuple(args)) = i.get("args") {
                    if let [Value::Str(message)] = &args[..] {
                        self.sh.say_err(self.tid, message.to_string());
                    }
                }
                return;
            }
        }
        let hook = self.rt.excepthook.borrow().clone();
        if let (Some(hook), Some(_)) = (hook, thread) {
            // `threading.excepthook(args)`, as CPython calls it; should the
            // hook itself fail, the exception prints as usual.
            let args = self.excepthook_args(&exc);
            if self.call_nested(hook, vec![args]).is_ok() {
                return;
            }
        }
        if thread.is_some() {
            return self.print_thread_exception(&exc);
        }
        let (text, last) = self.exc_lines(&exc.value);
        let earlier = self.chained_tracebacks(&exc.value);
        self.rt.fail(exc.located(&text, earlier, &last));
    }

    /// What CPython's `threading.excepthook` prints for this thread's
    /// uncaught `exc`: `Exception in thread NAME:` and its traceback.
    pub(crate) fn print_thread_exception(&mut self, exc: &Exc) {
        let name = builtins::thread_value(self, self.tid);
        let name = self.get_attr(&name, "name").and_then(|n| self.str_of(&n)).unwrap_or_default();
        self.sh.say_err(self.tid, format!("Exception in thread {name}:"));
        for line in self.exception_lines(exc, true) {
            self.sh.say_err(self.tid, line);
        }
    }

    /// `exc` as an uncaught exception prints: the exceptions it was raised
    /// from or while handling first (`chain`), then its traceback (just its
    /// last line for one never raised).
    pub(crate) fn exception_lines(&mut self, exc: &Exc, chain: bool) -> Vec<String> {
        let mut lines = if chain { self.chained_tracebacks(&exc.value) } else { Vec::new() };
        let (_, last) = self.exc_lines(&exc.value);
        match exc.tb.is_empty() {
            true => lines.push(last),
            false => lines.extend(exc.traceback(&last)),
        }
        lines
    }

    /// CPython's `ExceptHookArgs` for `exc` in this thread: `exc_type`,
    /// `exc_value`, `exc_traceback` and `thread`.
    fn excepthook_args(&mut self, exc: &Exc) -> Value {
        let class = super::value::Class::in_module("ExceptHookArgs", None, "_thread");
        let args = Value::Instance(Rc::new(Instance { class, attrs: RefCell::default() }));
        if let Value::Instance(i) = &args {
            i.set("exc_type", builtins::type_of(&exc.value));
            i.set("exc_value", exc.value.clone());
            i.set("exc_traceback", Value::Native(Rc::new(Native::Traceback(exc.tb.clone()))));
            i.set("thread", builtins::thread_value(self, self.tid));
        }
        args
    }

    /// `ValueError: message`, and the line a traceback ends with, which
    /// names the class's module where CPython's does.
    pub(crate) fn exc_lines(&mut self, v: &Value) -> (String, String) {
        let text = self.exc_text(v);
        // The last line names a class a function defines by its
        // `__qualname__`: `outer.<locals>.E: boom`.
        let named = match v {
            Value::Instance(i) if i.class.qualname != i.class.name => {
                text.replacen(&*i.class.name, &i.class.qualname, 1)
            }
            _ => text.clone(),
        };
        let mut last = super::errors::with_module(&named);
        if let Value::Instance(i) = v {
            // A library module's own exception written in Python
            // (`statistics.StatisticsError`), named with its module.
            let module = i.class.module();
            if super::pystd::has(&module) && last == named {
                last = format!("{module}.{named}");
            }
        }
        (text, last)
    }

    /// What CPython prints above the traceback of an uncaught exception:
    /// those it was raised from or while handling, each with its traceback
    /// (none for one never raised) and the line that ties it to the next.
    pub(crate) fn chained_tracebacks(&mut self, exc: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if !super::compile::PARSER {
            return out;
        }
        for (value, tb, note) in super::errors::chain(exc) {
            let (_, last) = self.exc_lines(&value);
            match tb.is_empty() {
                true => out.push(last),
                false => out.extend(Exc { value, tb, reraised: false }.traceback(&last)),
            }
            out.extend([String::new(), note.to_owned(), String::new()]);
        }
        out
    }

    /// `ValueError: message`.
    pub fn exc_text(&mut self, v: &Value) -> String {
        let name = v.type_name();
        let msg = self.str_of(v).unwrap_or_default();
        if msg.is_empty() {
            name.to_string()
        } else {
            format!("{name}: {msg}")
        }
    }

    fn run_frames(&mut self, frames: &mut Vec<Frame>, base: usize) -> PyResult<Exit> {
        loop {
            let Some(f) = frames.last_mut() else { return Ok(Exit::Returned(Value::None)) };
            let instr = f.code.instrs[f.pc];
            if self.nested == 0 {
                if let Some(yield_gil) = self.batch_ends(f, instr) {
                    self.note_position(frames);
                    let ns = std::mem::take(&mut self.pending);
                    return Ok(Exit::Halt(Halt::Work(Work::Py { ns, yield_gil })));
                }
            }
            if matches!(
                instr,
                Instr::Call(_) | Instr::CallKw(..) | Instr::CallEx(_) | Instr::WithEnter | Instr::WithExit(_)
            ) {
                self.note_position(frames);
            }
            if let Some(f) = frames.last_mut() {
                f.pc += 1;
            }
            self.pending += cost::instr_ns(instr);
            if self.rt.count_instruction() {
                let exc = self.rt.budget_exceeded();
                self.rt.fail(self.locate(frames, &exc));
                return Err(Exc::new(Value::None));
            }
            self.depth = self.outer_frames + frames.len();
            let flow = self.exec(frames, instr);
            self.pending += self.rt.nested_pending.take();
            match flow {
                Ok(Flow::Next) => {}
                Ok(Flow::Return(v)) => {
                    let Some(done) = frames.pop() else { return Ok(Exit::Returned(v)) };
                    let v = match done.ret {
                        Ret::Normal => v,
                        Ret::Init(this) => {
                            if !matches!(v, Value::None) {
                                let e = self.rt.error("TypeError", "__init__() should return None");
                                self.unwind(frames, base, e)?;
                                continue;
                            }
                            this
                        }
                        Ret::Gen(g, resume) => {
                            g.running.set(false);
                            if let Err(e) = self.gen_ended(frames, resume, v) {
                                self.unwind(frames, base, e)?;
                            }
                            continue;
                        }
                        Ret::Discard => {
                            if frames.len() == base {
                                return Ok(Exit::Returned(Value::None));
                            }
                            continue;
                        }
                        Ret::Class(base_class) => {
                            let ns = done.ns.map(|ns| std::mem::take(&mut *ns.borrow_mut())).unwrap_or_default();
                            let class = Rc::new(Class {
                                name: Rc::clone(&done.code.name),
                                qualname: Rc::clone(&done.code.qualname),
                                base: base_class,
                                attrs: RefCell::new(ns),
                            });
                            // The body's names in the order it bound them
                            // (the namespace is a map).
                            let names = &done.code.names;
                            self.class_made(class, |c| {
                                names.iter().filter(|n| c.attrs.borrow().contains_key(*n)).cloned().collect()
                            })?
                        }
                    };
                    if frames.len() == base {
                        return Ok(Exit::Returned(v));
                    }
                    if let Some(caller) = frames.last_mut() {
                        caller.stack.push(v);
                    }
                }
                Ok(Flow::Halt(h)) => return Ok(Exit::Halt(h)),
                Ok(Flow::Yield(v)) => {
                    if let Some(Ret::Gen(..)) = frames.last().map(|f| &f.ret) {
                        // Back to its resumer, on this stack.
                        let mut frame = frames.pop().expect("the generator's frame");
                        if let Ret::Gen(g, _) = std::mem::replace(&mut frame.ret, Ret::Normal) {
                            g.running.set(false);
                            *g.frame.borrow_mut() = Some(frame);
                        }
                        if let Some(resumer) = frames.last_mut() {
                            resumer.stack.push(v);
                        }
                        continue;
                    }
                    // A generator a built-in consumes runs in a loop of its
                    // own (see `gen_resume`): its frame is that loop's base.
                    let Some(frame) = frames.pop() else { return Ok(Exit::Returned(v)) };
                    return Ok(Exit::Yielded(v, Box::new(frame)));
                }
                Err(exc) => {
                    if self.rt.failed() {
                        return Err(exc);
                    }
                    self.unwind(frames, base, exc)?;
                }
            }
        }
    }

    /// Whether the batch of CPU ends before `instr` (and whether the GIL
    /// may switch there). It ends before state other threads can see,
    /// so the access happens at the right virtual time, and at eval-breaker
    /// points (calls, backward jumps): for a GIL drop request, or when the
    /// batch is long enough.
    fn batch_ends(&self, f: &Frame, instr: Instr) -> Option<bool> {
        if let Some(watch) = self.sh.watch() {
            if let Some(end) = self.explore_stop(watch, f, instr) {
                return end;
            }
        }
        match instr {
            Instr::Call(_) | Instr::CallKw(..) | Instr::CallEx(_) | Instr::Loop(_) => {
                if self.sh.gil_drop.get() {
                    return Some(true);
                }
                let callee = match instr {
                    Instr::Call(n) | Instr::CallKw(n, _) => f.stack.len().checked_sub(n as usize + 1),
                    Instr::CallEx(kw) => f.stack.len().checked_sub(2 + kw as usize),
                    _ => None,
                };
                let touches = callee.and_then(|i| f.stack.get(i)).is_some_and(builtins::touches_world);
                (self.pending >= BATCH_NS || (touches && self.pending > 0)).then_some(false)
            }
            _ if self.pending == 0 || !self.rt.threaded.get() => None,
            Instr::LoadGlobal(n) | Instr::StoreGlobal(n) => {
                let vars = f.globals.vars.borrow();
                let shared = match vars.get(&f.code.names[n as usize]) {
                    Some(Value::Func(_) | Value::Class(_) | Value::Module(_) | Value::Builtin(_)) => false,
                    Some(_) => true,
                    None => matches!(instr, Instr::StoreGlobal(_)),
                };
                shared.then_some(false)
            }
            Instr::LoadAttr(_) | Instr::StoreAttr(_) => matches!(f.top(), Value::Instance(_)).then_some(false),
            Instr::WithEnter | Instr::WithExit(_) => Some(false),
            _ => None,
        }
    }

    /// Exploring: stops the batch before a visible operation (see
    /// `engine::choice`) until the engine lets this thread perform it
    /// (`Some(None)`: go on, and do not stop here for anything else).
    /// `None` for everything else, which the usual rules decide.
    fn explore_stop(&self, watch: &Watch, f: &Frame, instr: Instr) -> Option<Option<bool>> {
        match instr {
            Instr::Call(_) | Instr::CallKw(..) | Instr::CallEx(_) => {
                watch.note_breaker(self.tid);
                let callee = match instr {
                    Instr::Call(n) | Instr::CallKw(n, _) => f.stack.len().checked_sub(n as usize + 1),
                    Instr::CallEx(kw) => f.stack.len().checked_sub(2 + kw as usize),
                    _ => None,
                };
                let visible = callee.and_then(|i| f.stack.get(i)).is_some_and(
                    |v| matches!(v, Value::Builtin(b) if matches!(b.name, "print" | "acquire" | "release")),
                );
                if !visible {
                    return None;
                }
            }
            Instr::Loop(_) => {
                watch.note_breaker(self.tid);
                return None;
            }
            Instr::LoadGlobal(n) | Instr::StoreGlobal(n) => {
                let name = &f.code.names[n as usize];
                let plain = match f.globals.vars.borrow().get(name) {
                    Some(Value::Func(_) | Value::Class(_) | Value::Module(_) | Value::Builtin(_)) => false,
                    Some(_) => true,
                    None => matches!(instr, Instr::StoreGlobal(_)),
                };
                if !plain {
                    return None;
                }
                let written = matches!(instr, Instr::StoreGlobal(_)) && self.rt.threaded.get();
                watch.touch(name, self.tid, written);
                if !watch.shared.contains(name) {
                    return None;
                }
            }
            Instr::LoadAttr(n) | Instr::StoreAttr(n) if matches!(f.top(), Value::Instance(_)) => {
                let key: Rc<str> = format!(".{}", f.code.names[n as usize]).into();
                let written = matches!(instr, Instr::StoreAttr(_)) && self.rt.threaded.get();
                watch.touch(&key, self.tid, written);
                if !watch.shared.contains(&key) {
                    return None;
                }
            }
            Instr::WithEnter | Instr::WithExit(_) => {}
            _ => return None,
        }
        if watch.take_grant(self.tid) {
            return Some(None);
        }
        let lock_name = |lock: u32| self.sh.lock_names.borrow().get(lock as usize).map(|n| n.to_string());
        watch.note_stop(self.tid, f.code.span(f.pc).line, visible_op(f, instr, lock_name), access_of(f, instr));
        watch.stopped.set(Some(self.tid));
        Some(Some(false))
    }

    /// Tells the trace where this thread is: before instruction `pc` of
    /// the top frame; and the stack panel what it is in.
    fn note_position(&self, frames: &[Frame]) {
        // The built-ins' Python part is no line of the program: a step in it
        // shows the line that called the built-in.
        let Some(f) = frames.iter().rev().find(|f| &*f.code.file != super::drain::FILE) else { return };
        let line = f.code.span(f.pc).line;
        let code = Rc::as_ptr(&f.code) as usize;
        let mut store = self.sh.store.borrow_mut();
        store.set_position(self.tid, line, code, || stacks::name_of(f));
        self.rt.stacks.borrow_mut().note(store.records.len(), self.tid, frames, self.link);
    }

    fn locate(&self, frames: &[Frame], message: &str) -> String {
        match frames.last() {
            Some(f) => {
                let at = f.code.span(f.pc.saturating_sub(1));
                format!("{}:{}:{}: {message}", f.code.file, at.line, at.col)
            }
            None => message.to_owned(),
        }
    }

    /// Finds a handler for `exc`, popping frames down to `base`.
    fn unwind(&mut self, frames: &mut Vec<Frame>, base: usize, mut exc: Exc) -> PyResult<()> {
        // Just raised (it has left no frame yet) while another was being
        // handled: CPython's implicit chaining.
        if super::compile::PARSER && exc.tb.is_empty() && !exc.reraised {
            if let Some(handled) = frames.iter().rev().find_map(|f| f.excs.last()) {
                super::errors::set_context(&exc.value, handled);
            }
        }
        loop {
            let Some(f) = frames.last_mut() else { return Err(exc) };
            if let Some(h) = f.handlers.pop() {
                if f.code.file.starts_with("<twisted.") && !exc.tb.is_empty() {
                    // The library catches the program's exception to fail a
                    // Deferred with it (`_inlineCallbacks` driving a
                    // coroutine): keep the frames it left, which the
                    // `except` drops, for the report should it go unhandled.
                    remember_caught(self.rt, &exc);
                }
                f.stack.truncate(h.depth);
                f.excs.truncate(h.excs);
                f.tbs.truncate(h.excs);
                if !std::mem::take(&mut exc.reraised) && &*f.code.file != super::drain::FILE {
                    exc.tb.push(TbFrame { code: Rc::clone(&f.code), span: f.code.span(f.pc.saturating_sub(1)) });
                }
                if super::compile::PARSER {
                    super::errors::keep_traceback(&exc.value, &exc.tb);
                }
                f.excs.push(exc.value.clone());
                f.tbs.push(exc.tb);
                f.stack.push(exc.value);
                f.pc = h.target;
                return Ok(());
            }
            // The built-ins' Python part stands for C code, which leaves no frame in CPython.
            if !std::mem::take(&mut exc.reraised) && &*f.code.file != super::drain::FILE {
                exc.tb.push(TbFrame { code: Rc::clone(&f.code), span: f.code.span(f.pc.saturating_sub(1)) });
            }
            if let Some(Frame { ret: Ret::Gen(g, _), .. }) = frames.pop() {
                // An exception ends the generator.
                g.running.set(false);
            }
            if frames.len() <= base {
                return Err(exc);
            }
        }
    }

    // ------------------------------------------------------------------
    // One instruction
    // ------------------------------------------------------------------

    fn exec(&mut self, frames: &mut Vec<Frame>, instr: Instr) -> PyResult<Flow> {
        let f = frames.last_mut().expect("a frame runs");
        match instr {
            Instr::Const(i) => {
                let v = f.code.consts[i as usize].clone();
                f.stack.push(v);
            }
            Instr::Pop => {
                f.pop();
            }
            Instr::Dup => {
                let v = f.top().clone();
                f.stack.push(v);
            }
            Instr::Rot2 => {
                let n = f.stack.len();
                f.stack.swap(n - 1, n - 2);
            }
            Instr::Rot3 => {
                let v = f.pop();
                let n = f.stack.len();
                f.stack.insert(n - 2, v);
            }
            Instr::LoadFast(i) => match &f.locals[i as usize] {
                Some(v) => {
                    let v = v.clone();
                    f.stack.push(v);
                }
                None => {
                    let name = &f.code.varnames[i as usize];
                    return Err(self.rt.error(
                        "UnboundLocalError",
                        &format!("cannot access local variable '{name}' where it is not associated with a value"),
                    ));
                }
            },
            Instr::StoreFast(i) => {
                let v = f.pop();
                f.locals[i as usize] = Some(v);
            }
            Instr::LoadDeref(i) => {
                let v = f.cells[i as usize].borrow().clone();
                f.stack.push(v);
            }
            Instr::StoreDeref(i) => {
                let v = f.pop();
                *f.cells[i as usize].borrow_mut() = v;
            }
            Instr::LoadGlobal(n) => {
                let name = &f.code.names[n as usize];
                let v = f.globals.vars.borrow().get(name).cloned();
                let v = match v {
                    Some(v) => v,
                    None => self.builtin_name(name)?,
                };
                if let (Value::Int(i), true) = (&v, self.rt.threaded.get()) {
                    self.sh.shared_read(&Var::Global(Rc::clone(name)), self.tid, *i);
                }
                f.stack.push(v);
            }
            Instr::StoreGlobal(n) => {
                let v = f.pop();
                let name = Rc::clone(&f.code.names[n as usize]);
                let old = f.globals.vars.borrow_mut().insert(Rc::clone(&name), v.clone());
                if let (Some(Value::Int(before)), Value::Int(wrote), true) = (old, &v, self.rt.threaded.get()) {
                    self.sh.shared_write(&Var::Global(Rc::clone(&name)), &name, self.tid, None, before, *wrote);
                }
                if let Value::Native(n) = &v {
                    if let Native::Lock { lock, .. } = &**n {
                        self.sh.name_lock(*lock, &name);
                    }
                }
            }
            Instr::LoadName(n) => {
                let name = &f.code.names[n as usize];
                let local = f.ns.as_ref().and_then(|ns| ns.borrow().get(name).cloned());
                let v = match local.or_else(|| f.globals.vars.borrow().get(name).cloned()) {
                    Some(v) => v,
                    None => self.builtin_name(name)?,
                };
                f.stack.push(v);
            }
            Instr::StoreName(n) => {
                let v = f.pop();
                let name = Rc::clone(&f.code.names[n as usize]);
                if let Some(ns) = &f.ns {
                    ns.borrow_mut().insert(name, v);
                }
            }
            Instr::LoadAttr(n) => {
                let obj = f.pop();
                let name = Rc::clone(&f.code.names[n as usize]);
                if let Some((fget, _)) = self.property_of(&obj, &name) {
                    // The getter runs on this thread's stack, as any call.
                    return self.call_flow(frames, fget, vec![obj], Vec::new());
                }
                if let Some(hook) = self.getattr_hook(&obj, &name) {
                    // `__getattr__` runs on this thread's stack, as any call.
                    return self.call_flow(frames, hook, vec![Value::Str(name)], Vec::new());
                }
                let v = self.get_attr(&obj, &name)?;
                if let (Value::Instance(i), Value::Int(value), true) = (&obj, &v, self.rt.threaded.get()) {
                    self.sh.shared_read(&Var::attr(i, &name), self.tid, *value);
                }
                frames.last_mut().expect("frame").stack.push(v);
            }
            Instr::StoreAttr(n) => {
                let obj = f.pop();
                let v = f.pop();
                let name = Rc::clone(&f.code.names[n as usize]);
                if let Some(h) = super::attrs::hook(self, &obj, "__setattr__") {
                    return self.call_discarded(frames, h, vec![Value::Str(name), v]);
                }
                if let Some((_, fset)) = self.property_of(&obj, &name) {
                    if matches!(fset, Value::None) {
                        return Err(super::attrs::no_setter(self, &obj, &name));
                    }
                    return self.call_discarded(frames, fset, vec![obj, v]);
                }
                if let (Value::Instance(i), Value::Native(n)) = (&obj, &v) {
                    if let Native::Lock { lock, .. } = &**n {
                        self.sh.name_lock(*lock, &format!("{}.{name}", i.class.name));
                    }
                }
                if let (Value::Instance(i), Value::Int(wrote), true) = (&obj, &v, self.rt.threaded.get()) {
                    if let Some(Value::Int(before)) = i.get(&name) {
                        let shown = format!("{}.{name}", i.class.name);
                        self.sh.shared_write(&Var::attr(i, &name), &shown, self.tid, None, before, *wrote);
                    }
                }
                self.set_attr(&obj, &name, v)?;
            }
            Instr::Subscr => {
                let key = f.pop();
                let obj = f.pop();
                let v = ops::subscr(self, &obj, &key)?;
                frames.last_mut().expect("frame").stack.push(v);
            }
            Instr::StoreSubscr => {
                let key = f.pop();
                let obj = f.pop();
                let v = f.pop();
                ops::store_subscr(self, &obj, key, v)?;
            }
            Instr::DeleteFast(i) => {
                if f.locals[i as usize].take().is_none() {
                    let name = &f.code.varnames[i as usize];
                    return Err(self.rt.error(
                        "UnboundLocalError",
                        &format!("cannot access local variable '{name}' where it is not associated with a value"),
                    ));
                }
            }
            Instr::DeleteGlobal(n) | Instr::DeleteName(n) => {
                let name = &f.code.names[n as usize];
                let local = matches!(instr, Instr::DeleteName(_))
                    && f.ns.as_ref().is_some_and(|ns| ns.borrow_mut().remove(name).is_some());
                if !local && f.globals.vars.borrow_mut().remove(name).is_none() {
                    return Err(self.rt.error("NameError", &format!("name '{name}' is not defined")));
                }
            }
            Instr::DeleteAttr(n) => {
                let obj = f.pop();
                let name = Rc::clone(&f.code.names[n as usize]);
                match super::attrs::hook(self, &obj, "__delattr__") {
                    Some(h) => return self.call_discarded(frames, h, vec![Value::Str(name)]),
                    None => self.del_attr(&obj, &name)?,
                }
            }
            Instr::DelSubscr => {
                let key = f.pop();
                let obj = f.pop();
                ops::del_subscr(self, &obj, &key)?;
            }
            Instr::BuildSlice => {
                let c = f.pop();
                let b = f.pop();
                let a = f.pop();
                f.stack.push(Value::Slice(Rc::new([a, b, c])));
            }
            Instr::Binary(op) | Instr::Inplace(op) => {
                let b = f.pop();
                let a = f.pop();
                let inplace = matches!(instr, Instr::Inplace(_));
                let v = ops::binary(self, op, &a, &b, inplace)?;
                self.pending += cost::result_ns(&v);
                frames.last_mut().expect("frame").stack.push(v);
            }
            Instr::Unary(op) => {
                let a = f.pop();
                let v = self.unary(op, &a)?;
                f.stack.push(v);
            }
            Instr::Compare(op) => {
                let b = f.pop();
                let a = f.pop();
                let v = match op {
                    CmpOp::Is => a.is(&b),
                    CmpOp::IsNot => !a.is(&b),
                    CmpOp::In => ops::contains(self, &b, &a)?,
                    CmpOp::NotIn => !ops::contains(self, &b, &a)?,
                    _ => ops::compare(self, op, &a, &b)?,
                };
                frames.last_mut().expect("frame").stack.push(Value::Bool(v));
            }
            Instr::Jump(t) | Instr::Loop(t) => f.pc = t as usize,
            Instr::JumpIfFalse(t) => {
                let v = f.pop();
                if !self.truth(&v)? {
                    f.pc = t as usize;
                }
            }
            Instr::JumpIfTrue(t) => {
                let v = f.pop();
                if self.truth(&v)? {
                    f.pc = t as usize;
                }
            }
            Instr::JumpIfFalseOrPop(t) => {
                // Only an instance's truth runs Python: the rest need no copy.
                let truth = match f.top() {
                    v @ Value::Instance(_) => {
                        let v = v.clone();
                        self.truth(&v)?
                    }
                    v => v.truthy(),
                };
                if !truth {
                    f.pc = t as usize;
                } else {
                    f.pop();
                }
            }
            Instr::JumpIfTrueOrPop(t) => {
                // Only an instance's truth runs Python: the rest need no copy.
                let truth = match f.top() {
                    v @ Value::Instance(_) => {
                        let v = v.clone();
                        self.truth(&v)?
                    }
                    v => v.truthy(),
                };
                if truth {
                    f.pc = t as usize;
                } else {
                    f.pop();
                }
            }
            Instr::Coroutine => {}
            Instr::GetAwaitable => {
                let v = f.pop();
                let it = self.awaitable(v)?;
                frames.last_mut().expect("frame").stack.push(it);
            }
            Instr::GetIter => {
                let v = f.pop();
                let it = self.iter(&v)?;
                frames.last_mut().expect("frame").stack.push(it);
            }
            Instr::ForIter(t) => {
                let it = f.top().clone();
                if let Value::Generator(g) = &it {
                    return self.resume_on_stack(frames, g, Ok(Value::None), Resume::ForIter(t));
                }
                match self.next(&it)? {
                    Some(v) => frames.last_mut().expect("frame").stack.push(v),
                    None => {
                        let f = frames.last_mut().expect("frame");
                        f.pop();
                        f.pc = t as usize;
                    }
                }
            }
            Instr::BuildList(n) => {
                let items = f.stack.split_off(f.stack.len() - n as usize);
                f.stack.push(Value::list(items));
            }
            Instr::BuildTuple(n) => {
                let items = f.stack.split_off(f.stack.len() - n as usize);
                f.stack.push(Value::tuple(items));
            }
            Instr::BuildDict(n) => {
                let items = f.stack.split_off(f.stack.len() - 2 * n as usize);
                let mut d = Dict::default();
                for pair in items.chunks(2) {
                    let key = self.key(&pair[0])?;
                    d.insert(key, pair[0].clone(), pair[1].clone());
                }
                frames.last_mut().expect("frame").stack.push(Value::dict(d));
            }
            Instr::BuildSet(n) | Instr::BuildConstSet(n, _) => {
                let items = f.stack.split_off(f.stack.len() - n as usize);
                let set = super::sets::new(self, items)?;
                if let (Instr::BuildConstSet(_, frozen), Value::Set(d)) = (instr, &set) {
                    let mut d = d.borrow_mut();
                    d.constants = d.len() as u32;
                    d.frozen = frozen;
                }
                frames.last_mut().expect("frame").stack.push(set);
            }
            Instr::SetAdd(n) => {
                let v = f.pop();
                let at = f.stack.len() - 1 - n as usize;
                let key = self.key(&v)?;
                let f = frames.last_mut().expect("frame");
                if let Value::Set(d) = &f.stack[at] {
                    if d.borrow().get(&key).is_none() {
                        d.borrow_mut().insert(key, v, Value::None);
                    }
                }
            }
            Instr::ListAppend(n) => {
                let v = f.pop();
                let at = f.stack.len() - 1 - n as usize;
                if let Value::List(l) = &f.stack[at] {
                    l.borrow_mut().push(v);
                }
            }
            Instr::DictSet(n) => {
                let v = f.pop();
                let k = f.pop();
                let at = f.stack.len() - 1 - n as usize;
                let key = self.key(&k)?;
                let f = frames.last_mut().expect("frame");
                if let Value::Dict(d) = &f.stack[at] {
                    d.borrow_mut().insert(key, k, v);
                }
            }
            Instr::UnpackSeq(n) => {
                let v = f.pop();
                let items = self.unpacked(&v)?;
                if items.len() != n as usize {
                    let msg = if items.len() > n as usize {
                        format!("too many values to unpack (expected {n})")
                    } else {
                        format!("not enough values to unpack (expected {n}, got {})", items.len())
                    };
                    return Err(self.rt.error("ValueError", &msg));
                }
                let f = frames.last_mut().expect("frame");
                f.stack.extend(items.into_iter().rev());
            }
            Instr::UnpackEx(before, after) => {
                let v = f.pop();
                let mut items = self.unpacked(&v)?;
                let (before, after) = (before as usize, after as usize);
                if items.len() < before + after {
                    let msg = format!(
                        "not enough values to unpack (expected at least {}, got {})",
                        before + after,
                        items.len()
                    );
                    return Err(self.rt.error("ValueError", &msg));
                }
                let tail = items.split_off(items.len() - after);
                let middle = Value::list(items.split_off(before));
                items.push(middle);
                items.extend(tail);
                let f = frames.last_mut().expect("frame");
                f.stack.extend(items.into_iter().rev());
            }
            Instr::Call(n) => {
                let args = f.stack.split_off(f.stack.len() - n as usize);
                let callee = f.pop();
                self.pending += cost::call_ns(&callee);
                return self.call_flow(frames, callee, args, Vec::new());
            }
            Instr::CallKw(n, names) => {
                let Value::Tuple(names) = f.code.consts[names as usize].clone() else { unreachable!() };
                let mut args = f.stack.split_off(f.stack.len() - n as usize);
                let kwvals = args.split_off(args.len() - names.len());
                let callee = f.pop();
                self.pending += cost::call_ns(&callee);
                let kwargs = names
                    .iter()
                    .zip(kwvals)
                    .map(|(k, v)| (if let Value::Str(s) = k { Rc::clone(s) } else { "".into() }, v))
                    .collect();
                return self.call_flow(frames, callee, args, kwargs);
            }
            Instr::CallEx(has_kw) => {
                let kw = if has_kw { f.pop() } else { Value::None };
                let args = f.pop();
                let callee = f.pop();
                self.pending += cost::call_ns(&callee);
                let args = self.collect(&args)?;
                let mut kwargs = Vec::new();
                if let Value::Dict(d) = kw {
                    for (k, v) in d.borrow().items() {
                        let Value::Str(k) = k else { return Err(self.type_error("keywords must be strings")) };
                        kwargs.push((Rc::clone(k), v.clone()));
                    }
                }
                return self.call_flow(frames, callee, args, kwargs);
            }
            Instr::DictMerge => {
                let extra = f.pop();
                let into = f.pop();
                // Under the positionals: the callee, named by CPython's errors.
                let callee = f.stack.len().checked_sub(2).map(|i| f.stack[i].clone()).unwrap_or_default();
                let merged = if super::extras::HERE {
                    super::extras::merge_keywords(self, &callee, &into, &extra)?
                } else {
                    ops::binary(self, super::code::BinOp::BitOr, &into, &extra, false)?
                };
                f.stack.push(merged);
            }
            Instr::MakeFunction { code, defaults, kwdefaults } => {
                let Value::Func(template) = &f.code.consts[code as usize] else { unreachable!() };
                let code = Rc::clone(&template.code);
                let mut kw = Vec::new();
                if kwdefaults > 0 {
                    let names = f.pop();
                    let vals = f.stack.split_off(f.stack.len() - kwdefaults as usize);
                    if let Value::Tuple(names) = names {
                        for (k, v) in names.iter().zip(vals) {
                            if let Value::Str(k) = k {
                                kw.push((Rc::clone(k), v));
                            }
                        }
                    }
                }
                let defaults = f.stack.split_off(f.stack.len() - defaults as usize);
                let closure = self.closure_for(f, &code);
                let func = Function {
                    code,
                    globals: Rc::clone(&f.globals),
                    defaults,
                    kwdefaults: kw,
                    closure,
                    owner: RefCell::new(None),
                };
                f.stack.push(Value::Func(Rc::new(func)));
            }
            Instr::MakeClass { code, has_base } => {
                let Value::Func(template) = &f.code.consts[code as usize] else { unreachable!() };
                let code = Rc::clone(&template.code);
                let base = if has_base { self.base_class(f.pop())? } else { None };
                let closure = self.closure_for(f, &code);
                let mut frame = Frame::new(code, Rc::clone(&f.globals), None);
                frame.cells = closure;
                // As CPython, the body starts with `__module__` set: the
                // program's, or a library module's written in Python (`pystd`).
                let ns: Rc<RefCell<HashMap<Rc<str>, Value>>> = Rc::default();
                let module = match f.globals.vars.borrow().get("__name__") {
                    Some(Value::Str(m)) => Value::Str(Rc::clone(m)),
                    _ => Value::str("__main__"),
                };
                ns.borrow_mut().insert("__module__".into(), module);
                frame.ns = Some(ns);
                frame.ret = Ret::Class(base);
                self.check_depth(frames)?;
                frames.push(frame);
            }
            Instr::Return => {
                let v = f.pop();
                return Ok(Flow::Return(v));
            }
            Instr::SetupExcept(t) => {
                let h = Handler { target: t as usize, depth: f.stack.len(), excs: f.excs.len() };
                f.handlers.push(h);
            }
            Instr::PopBlock => {
                f.handlers.pop();
            }
            Instr::PopExcept => {
                f.excs.pop();
                f.tbs.pop();
            }
            Instr::Raise(kind) => {
                let exc = match kind {
                    0 => match frames.iter().rev().find_map(|f| f.excs.last().cloned()) {
                        Some(e) => e,
                        None => return Err(self.rt.error("RuntimeError", "No active exception to reraise")),
                    },
                    1 | 3 => f.pop(),
                    _ => {
                        let cause = f.pop();
                        let e = f.pop();
                        let e = self.make_exc(e)?;
                        if let Value::Instance(i) = &e {
                            i.set("__cause__", cause);
                            if super::compile::PARSER {
                                i.set("__suppress_context__", Value::Bool(true));
                            }
                        }
                        e
                    }
                };
                let exc = self.make_exc(exc)?;
                // The exception this frame handles, raised again: it keeps
                // its traceback (CPython's `__traceback__`). Re-raised
                // (`raise` alone, kind 0; no handler matched, a `finally`
                // or `with` passing it on, kind 3), this frame's line is
                // the one it was first raised at; `raise e` (and `raise e
                // from c`) adds this one.
                let f = frames.last().expect("frame");
                let tb = match (f.excs.last(), f.tbs.last()) {
                    (Some(handled), Some(tb)) if handled.is(&exc) => Some(tb.clone()),
                    _ => None,
                };
                return Err(match tb {
                    Some(tb) => Exc { value: exc, tb, reraised: matches!(kind, 0 | 3) },
                    None => Exc::new(exc),
                });
            }
            Instr::ExcMatch => {
                let class = f.pop();
                let exc = f.pop();
                let ok = self.exc_matches(&exc, &class)?;
                frames.last_mut().expect("frame").stack.push(Value::Bool(ok));
            }
            Instr::Import(n) => {
                let name = Rc::clone(&f.code.names[n as usize]);
                let m = self.import_module(&name)?;
                frames.last_mut().expect("frame").stack.push(m);
            }
            Instr::ImportPackage(n) => {
                let name = Rc::clone(&f.code.names[n as usize]);
                let m = self.import_package(&name)?;
                frames.last_mut().expect("frame").stack.push(m);
            }
            Instr::ImportFrom(n) => {
                let m = f.pop();
                let name = Rc::clone(&f.code.names[n as usize]);
                let v = match self.get_attr(&m, &name) {
                    Ok(v) => v,
                    Err(_) => {
                        let Value::Module(m) = &m else { return Err(self.attr_error(&m, &name)) };
                        // `from concurrent import futures`: a submodule.
                        let sub = format!("{}.{name}", m.name);
                        if !self.is_package(&sub) {
                            let (mname, has) = (m.name, module_names(m));
                            return Err(self
                                .rt
                                .error("ImportError", &format!("cannot import name '{name}' from '{mname}' ({has})")));
                        }
                        self.import_package(&sub)?;
                        self.import_module(&sub)?
                    }
                };
                frames.last_mut().expect("frame").stack.push(v);
            }
            Instr::FormatValue(conv, has_spec) => {
                let spec = if has_spec { Some(f.pop()) } else { None };
                let v = f.pop();
                let v = match conv {
                    b'r' => Value::Str(self.repr_of(&v)?.into()),
                    // (Full module: `ascii()`'s escaping is no preset's.)
                    b'a' if super::compile::PARSER => Value::Str(super::strings::ascii(&self.repr_of(&v)?).into()),
                    b'a' => Value::Str(self.repr_of(&v)?.into()),
                    b's' => Value::Str(self.str_of(&v)?.into()),
                    _ => v,
                };
                let spec = match spec {
                    Some(Value::Str(s)) => s.to_string(),
                    _ => String::new(),
                };
                let text = self.format_value(&v, &spec)?;
                frames.last_mut().expect("frame").stack.push(Value::Str(text.into()));
            }
            Instr::BuildString(n) => {
                let parts = f.stack.split_off(f.stack.len() - n as usize);
                let mut s = String::new();
                for p in parts {
                    if let Value::Str(p) = p {
                        s.push_str(&p);
                    }
                }
                f.stack.push(Value::Str(s.into()));
            }
            Instr::WithEnter => {
                let m = f.pop();
                return self.with_enter(frames, m);
            }
            Instr::WithExit(raised) => {
                let m = f.pop();
                let exc = if raised { f.top().clone() } else { Value::None };
                return self.with_exit(frames, m, exc);
            }
            Instr::Yield => {
                let v = f.pop();
                return Ok(Flow::Yield(v));
            }
            Instr::Send(t) => {
                let sent = f.pop();
                let it = f.top().clone();
                if let Value::Generator(g) = &it {
                    return self.resume_on_stack(frames, g, Ok(sent), Resume::YieldFrom(t));
                }
                if !matches!(sent, Value::None) {
                    return Err(self.attr_error(&it, "send"));
                }
                let next = self.next(&it)?;
                let f = frames.last_mut().expect("frame");
                match next {
                    Some(v) => f.stack.push(v),
                    None => {
                        f.pop();
                        f.stack.push(Value::None);
                        f.pc = t as usize;
                    }
                }
            }
            Instr::AssertFail(has_msg) => {
                let args = if has_msg { vec![f.pop()] } else { Vec::new() };
                let class = self.rt.exc_class("AssertionError");
                return Err(Exc::new(self.rt.new_exc(&class, args)));
            }
        }
        Ok(Flow::Next)
    }

    fn closure_for(&self, f: &Frame, code: &Code) -> Vec<CellRef> {
        code.freevars
            .iter()
            .map(|name| {
                let idx = f
                    .code
                    .cellvars
                    .iter()
                    .map(|(n, _)| n)
                    .chain(&f.code.freevars)
                    .position(|n| n == name)
                    .and_then(|i| f.cells.get(i).cloned());
                idx.unwrap_or_default()
            })
            .collect()
    }

    fn builtin_name(&mut self, name: &str) -> PyResult<Value> {
        if let Some(v) = builtins::lookup(self.rt, name) {
            return Ok(v);
        }
        if let Some(v) = super::pystd::builtin(self, name)? {
            return Ok(v);
        }
        Err(self.rt.error("NameError", &format!("name '{name}' is not defined")))
    }

    fn with_enter(&mut self, frames: &mut Vec<Frame>, m: Value) -> PyResult<Flow> {
        match &m {
            Value::Native(n)
                if matches!(**n, Native::Lock { .. } | Native::Condition { .. } | Native::Semaphore { .. }) =>
            {
                match builtins::call_method(self, "acquire", &m, Vec::new(), Vec::new())? {
                    Out::Retry(halt) => self.retry(frames, vec![m], halt),
                    out => self.push_out(frames, out),
                }
            }
            Value::Instance(_) => {
                let enter = self.get_attr(&m, "__enter__")?;
                self.call_flow(frames, enter, Vec::new(), Vec::new())
            }
            _ => {
                Err(self
                    .type_error(&format!("'{}' object does not support the context manager protocol", m.type_name())))
            }
        }
    }

    /// Calls `m.__exit__` (a lock: releases it) with `exc`, the exception
    /// that left the body (`None`: none did): `__exit__(type, value, None)`,
    /// the traceback being `None` here.
    fn with_exit(&mut self, frames: &mut Vec<Frame>, m: Value, exc: Value) -> PyResult<Flow> {
        match &m {
            Value::Native(n)
                if matches!(**n, Native::Lock { .. } | Native::Condition { .. } | Native::Semaphore { .. }) =>
            {
                let out = builtins::call_method(self, "release", &m, Vec::new(), Vec::new())?;
                self.push_out(frames, out)
            }
            _ => {
                let exit = self.get_attr(&m, "__exit__")?;
                let kind = match &exc {
                    Value::Instance(i) => Value::Class(Rc::clone(&i.class)),
                    _ => Value::None,
                };
                self.call_flow(frames, exit, vec![kind, exc, Value::None], Vec::new())
            }
        }
    }

    fn push_out(&mut self, frames: &mut Vec<Frame>, out: Out) -> PyResult<Flow> {
        match out {
            Out::Value(v) => {
                frames.last_mut().expect("frame").stack.push(v);
                Ok(Flow::Next)
            }
            Out::Halt(v, h) => {
                if self.nested > 0 {
                    return Err(self.cannot_wait());
                }
                frames.last_mut().expect("frame").stack.push(v);
                Ok(Flow::Halt(h))
            }
            Out::Frame(frame) => {
                self.check_depth(frames)?;
                frames.push(frame);
                Ok(Flow::Next)
            }
            Out::Retry(_) => Err(self.cannot_wait()),
        }
    }

    /// Halts, the instruction that ran put back to run again once this
    /// thread is woken: `operands` are what it had popped.
    fn retry(&mut self, frames: &mut [Frame], operands: Vec<Value>, halt: Halt) -> PyResult<Flow> {
        if self.nested > 0 {
            return Err(self.cannot_wait());
        }
        let f = frames.last_mut().expect("frame");
        f.stack.extend(operands);
        f.pc -= 1;
        Ok(Flow::Halt(halt))
    }

    fn cannot_wait(&mut self) -> Exc {
        // A timed wait that cannot happen leaves nothing for the next call.
        self.timed = None;
        self.rt.error(
            "RuntimeError",
            "cannot wait (sleep, a lock, cpu) inside a function called by a built-in such as sorted(), \
             or a generator a built-in consumes: wait in the code that calls the built-in",
        )
    }

    /// CPython's check before a call: a thread already [`RECURSION_LIMIT`]
    /// frames deep raises `RecursionError` in the caller.
    fn check_depth(&self, frames: &[Frame]) -> PyResult<()> {
        if self.outer_frames + frames.len() >= RECURSION_LIMIT {
            return Err(self.recursion_error());
        }
        Ok(())
    }

    /// The check before a built-in runs Python code in a loop of its own:
    /// each such loop is a level of Rust recursion (the built-in, the loop,
    /// `exec`), so they are bounded by [`NESTED_LIMIT`] as well.
    fn check_nesting(&self) -> PyResult<()> {
        if self.rt.nested_loops.get() >= NESTED_LIMIT || self.depth >= RECURSION_LIMIT {
            return Err(self.recursion_error());
        }
        Ok(())
    }

    /// Runs `f`, a level of Rust recursion that may come back here (a
    /// built-in calling back into Python, a lazy iterator asking its source
    /// for a value), counted and bounded as a nested loop is.
    pub(crate) fn nest<T>(&mut self, f: impl FnOnce(&mut Self) -> PyResult<T>) -> PyResult<T> {
        self.check_nesting()?;
        let loops = &self.rt.nested_loops;
        loops.set(loops.get() + 1);
        let r = f(self);
        let loops = &self.rt.nested_loops;
        loops.set(loops.get() - 1);
        r
    }

    /// Runs `frames` in a loop nested in this one, above the frames of the
    /// loops it runs in (for [`RECURSION_LIMIT`]).
    fn run_nested(&mut self, frames: &mut Vec<Frame>) -> PyResult<Exit> {
        let (outer, depth) = (std::mem::replace(&mut self.outer_frames, self.depth), self.depth);
        let loops = &self.rt.nested_loops;
        loops.set(loops.get() + 1);
        self.nested += 1;
        let r = self.run_frames(frames, 0);
        self.nested -= 1;
        let loops = &self.rt.nested_loops;
        loops.set(loops.get() - 1);
        (self.outer_frames, self.depth) = (outer, depth);
        r
    }

    pub(crate) fn recursion_error(&self) -> Exc {
        self.rt.error("RecursionError", "maximum recursion depth exceeded")
    }

    /// Resumes generator `g` on this thread's stack, its frame pushed
    /// above the resumer's, so its body may sleep, take a lock or burn CPU
    /// as any function's does: `sent` is what its `yield` returns (`Err`:
    /// an exception raised there).
    fn resume_on_stack(
        &mut self,
        frames: &mut Vec<Frame>,
        g: &Rc<super::value::Generator>,
        sent: Result<Value, Value>,
        resume: Resume,
    ) -> PyResult<Flow> {
        if g.running.get() {
            return Err(self.rt.error("ValueError", "generator already executing"));
        }
        if g.frame.borrow().is_some() {
            self.check_depth(frames)?;
        }
        let Some(mut frame) = g.frame.borrow_mut().take() else {
            // It has finished.
            return match sent {
                Err(exc) => Err(Exc::new(exc)),
                Ok(_) => self.gen_ended(frames, resume, Value::None).map(|()| Flow::Next),
            };
        };
        match &sent {
            Ok(v) if g.started.get() => frame.stack.push(v.clone()),
            Ok(Value::None) => {}
            Ok(_) => {
                *g.frame.borrow_mut() = Some(frame);
                return Err(self.type_error("can't send non-None value to a just-started generator"));
            }
            // Thrown into a generator that never ran: it ends, raising.
            Err(exc) if !g.started.get() => return Err(Exc::new(exc.clone())),
            Err(_) => {}
        }
        g.started.set(true);
        g.running.set(true);
        // Thrown into a generator suspended in `yield from` on a generator:
        // thrown into that one instead (CPython's `gen_throw` delegates), and
        // its yields and return come back through the `yield from`.
        let delegate = match &sent {
            Err(_) => yield_from_suspended(&frame),
            Ok(_) => None,
        };
        if let Some((resume_at, end, inner)) = delegate {
            frame.pc = resume_at;
            frame.ret = Ret::Gen(Rc::clone(g), resume);
            frames.push(frame);
            return self.resume_on_stack(frames, &inner, sent, Resume::YieldFrom(end));
        }
        frame.ret = Ret::Gen(Rc::clone(g), resume);
        frames.push(frame);
        match sent {
            // Raised where it stopped: its own handlers may catch it.
            Err(exc) => Err(Exc::new(exc)),
            Ok(_) => Ok(Flow::Next),
        }
    }

    /// A generator resumed on the stack returned `v`: what its resumer gets.
    fn gen_ended(&mut self, frames: &mut [Frame], resume: Resume, v: Value) -> PyResult<()> {
        let f = frames.last_mut().expect("the generator's resumer");
        match resume {
            Resume::ForIter(exit) => {
                f.pop();
                f.pc = exit as usize;
            }
            Resume::YieldFrom(end) => {
                f.pop();
                f.stack.push(v);
                f.pc = end as usize;
            }
            Resume::Next(Some(default)) => f.stack.push(default),
            Resume::Next(None) | Resume::Send => return Err(self.stop_iteration(v)),
        }
        Ok(())
    }

    /// The StopIteration that ends a generator which returned `v`.
    pub fn stop_iteration(&self, v: Value) -> Exc {
        let class = self.rt.exc_class("StopIteration");
        let args = if matches!(v, Value::None) { Vec::new() } else { vec![v.clone()] };
        let exc = self.rt.new_exc(&class, args);
        if let Value::Instance(i) = &exc {
            i.set("value", v);
        }
        Exc::new(exc)
    }

    fn call_flow(&mut self, frames: &mut Vec<Frame>, callee: Value, args: Vec<Value>, kwargs: Kw) -> PyResult<Flow> {
        if let Value::Builtin(b) = &callee {
            match (&b.this, b.name) {
                (None, "next") if kwargs.is_empty() && matches!(args.first(), Some(Value::Generator(_))) => {
                    let Some(Value::Generator(g)) = args.first() else { unreachable!("matched") };
                    return self.resume_on_stack(frames, g, Ok(Value::None), Resume::Next(args.get(1).cloned()));
                }
                (Some(Value::Generator(g)), "send" | "throw") => {
                    let sent = builtins::sent_into(self, b.name, args.into_iter().next().unwrap_or_default())?;
                    return self.resume_on_stack(frames, g, sent, Resume::Send);
                }
                _ => {}
            }
            // `Failure()` in an `except` block, `sys.exc_info()`,
            // `sys.exception()`: the exception being handled, by this frame
            // or one below it (passed on as the argument).
            if matches!(b.name, "failure.Failure" | "sys.exc_info" | "sys.exception") && args.is_empty() {
                let handled = frames.iter().rev().find_map(|f| f.excs.last().cloned());
                let exc = match handled {
                    Some(exc) => exc,
                    None if b.name == "failure.Failure" => return Err(self.rt.error("NoCurrentExceptionError", "")),
                    None => Value::None,
                };
                return self.call_flow(frames, callee, vec![exc], kwargs);
            }
            if b.name == "super" && b.this.is_none() && args.is_empty() {
                let f = frames.last().expect("frame");
                let owner = f.func.as_ref().and_then(|func| func.owner.borrow().clone());
                let this = f.locals.first().cloned().flatten();
                let (Some(owner), Some(this)) = (owner, this) else {
                    return Err(self.rt.error("RuntimeError", "super(): no arguments (use it inside a method)"));
                };
                frames.last_mut().expect("frame").stack.push(Value::Super(Rc::new((owner, this))));
                return Ok(Flow::Next);
            }
        }
        // A call that may wait and run again keeps what it was called with.
        if let Value::Builtin(b) = &callee {
            if b.this.as_ref().is_some_and(builtins::may_retry) {
                let out = self.call(callee.clone(), args.clone(), kwargs.clone())?;
                let Out::Retry(halt) = out else { return self.push_out(frames, out) };
                let f = frames.last().expect("frame");
                let mut operands = vec![callee];
                match f.code.instrs[f.pc - 1] {
                    Instr::CallEx(has_kw) => {
                        operands.push(Value::tuple(args));
                        if has_kw {
                            let mut d = Dict::default();
                            for (k, v) in kwargs {
                                d.insert(super::value::Key::Str(Rc::clone(&k)), Value::Str(k), v);
                            }
                            operands.push(Value::dict(d));
                        }
                    }
                    _ => {
                        operands.extend(args);
                        operands.extend(kwargs.into_iter().map(|(_, v)| v));
                    }
                }
                return self.retry(frames, operands, halt);
            }
        }
        let out = self.call(callee, args, kwargs)?;
        self.push_out(frames, out)
    }

    /// Calls `callee`: a Python function becomes a frame to push (or, if
    /// it yields, a generator holding the frame).
    pub fn call(&mut self, callee: Value, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
        match callee {
            Value::Func(func) => Ok(started(self.frame_for(&func, args, kwargs)?)),
            Value::Method(m) => {
                let (this, func) = (&m.0, &m.1);
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(this.clone());
                all.extend(args);
                Ok(started(self.frame_for(func, all, kwargs)?))
            }
            Value::Class(class) => self.instantiate(&class, args, kwargs),
            Value::Builtin(b) => match &b.this {
                Some(this) => builtins::call_method(self, b.name, this, args, kwargs),
                None => builtins::call_function(self, b.name, args, kwargs),
            },
            Value::Type(t)
                if matches!(args.first(), Some(Value::Generator(_)))
                    && super::drain::DRAINED.contains(&t.name())
                    && builtins::full(self, "a generator given to a built-in") =>
            {
                super::drain::call(self, t.name(), Value::Type(t), args, kwargs)
            }
            Value::Type(t) => builtins::call_type(self, t, args, kwargs).map(Out::Value),
            // An instance whose class defines `__call__` is called through it.
            Value::Instance(_) if super::extras::HERE && ops::dunder(&callee, "__call__").is_some() => {
                let call = ops::dunder(&callee, "__call__").unwrap_or_default();
                self.call(call, args, kwargs)
            }
            Value::Native(n) if super::functools::HERE && matches!(&*n, Native::Partial(_)) => {
                let Native::Partial(p) = &*n else { unreachable!() };
                super::functools::call_partial(self, &Rc::clone(p), args, kwargs)
            }
            other => Err(self.type_error(&format!("'{}' object is not callable", other.type_name()))),
        }
    }

    /// Calls `callee` to completion from Rust (a built-in's callback).
    /// Runs a module's code with these globals, to its end (`pystd`).
    pub(crate) fn run_module(&mut self, code: Rc<Code>, globals: Rc<Globals>) -> PyResult<()> {
        self.check_nesting()?;
        match self.run_nested(&mut vec![Frame::new(code, globals, None)])? {
            Exit::Returned(_) | Exit::Yielded(..) => Ok(()),
            Exit::Halt(_) => Err(self.rt.error("RuntimeError", "cannot wait while importing a module")),
        }
    }

    pub fn call_nested(&mut self, callee: Value, args: Vec<Value>) -> PyResult<Value> {
        // A built-in callee runs inside `call`, and may call back in (a
        // Deferred's `callback` added to another by `chainDeferred` fires
        // that one's callbacks, and so on): a level of Rust recursion like a
        // nested loop, so it counts as one.
        match self.nest(|vm| vm.call(callee, args, Vec::new()))? {
            Out::Value(v) => Ok(v),
            Out::Halt(..) | Out::Retry(_) => {
                Err(self.rt.error("RuntimeError", "cannot wait inside a function called by a built-in"))
            }
            Out::Frame(frame) => match self.run_nested(&mut vec![frame])? {
                Exit::Returned(v) | Exit::Yielded(v, _) => Ok(v),
                Exit::Halt(_) => {
                    Err(self.rt.error("RuntimeError", "cannot wait inside a function called by a built-in"))
                }
            },
        }
    }

    fn instantiate(&mut self, class: &Rc<Class>, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
        // `Color(1)`: a library class that looks its instances up (`enum`).
        if let Some(m) = class.lookup("__class_call__").filter(|_| builtins::full(self, "__class_call__")) {
            let mut all = vec![Value::Class(Rc::clone(class))];
            all.extend(args);
            return self.call(m, all, kwargs);
        }
        let inst = Value::Instance(Rc::new(Instance { class: Rc::clone(class), attrs: RefCell::default() }));
        let is_exc = class.is_subclass(&self.rt.exc_class("BaseException"));
        if is_exc {
            if let Value::Instance(i) = &inst {
                self.rt.set_exc_args(i, args.clone());
            }
        }
        match class.lookup("__init__") {
            Some(Value::Func(init)) => {
                let mut all = vec![inst.clone()];
                all.extend(args);
                let mut frame = self.frame_for(&init, all, kwargs)?;
                frame.ret = Ret::Init(inst);
                Ok(Out::Frame(frame))
            }
            _ if is_exc => Ok(Out::Value(inst)),
            // A library class's own (`threading.Thread`'s for a subclass that keeps it).
            Some(Value::Builtin(b)) if b.name != "object.__init__" => {
                if let Out::Halt(..) | Out::Retry(_) = builtins::call_method(self, b.name, &inst, args, kwargs)? {
                    return Err(self.cannot_wait());
                }
                Ok(Out::Value(inst))
            }
            _ if !args.is_empty() || !kwargs.is_empty() => {
                Err(self.type_error(&format!("{}() takes no arguments", class.name)))
            }
            _ => Ok(Out::Value(inst)),
        }
    }

    /// `-a`, `+a`, `~a` and `not a`.
    pub(crate) fn unary(&mut self, op: UnOp, a: &Value) -> PyResult<Value> {
        Ok(match (op, a) {
            (UnOp::Not, a) => Value::Bool(!self.truth(a)?),
            (UnOp::Neg, Value::Int(i)) if super::bigint::HERE && *i == i64::MIN => {
                super::bigint::value(-num_bigint::BigInt::from(*i))
            }
            (UnOp::Neg, Value::Int(i)) => Value::Int(i.checked_neg().ok_or_else(|| self.overflow())?),
            (UnOp::Neg, Value::Big(b)) => super::bigint::value(-(**b).clone()),
            (UnOp::Pos, Value::Big(_)) => a.clone(),
            (UnOp::Invert, Value::Big(b)) => super::bigint::value(!(**b).clone()),
            (UnOp::Neg, Value::Bool(b)) => Value::Int(-(*b as i64)),
            (UnOp::Neg, Value::Float(x)) => Value::Float(-x),
            (UnOp::Pos, Value::Int(_) | Value::Float(_)) => a.clone(),
            (UnOp::Pos, Value::Bool(b)) => Value::Int(*b as i64),
            (UnOp::Invert, Value::Int(i)) => Value::Int(!i),
            (UnOp::Invert, Value::Bool(b)) => Value::Int(!(*b as i64)),
            // `-td`: the instance's `__neg__` (`__pos__`, `__invert__`).
            (UnOp::Neg | UnOp::Pos | UnOp::Invert, Value::Instance(_))
                if ops::dunder(a, unary_dunder(op)).is_some() && builtins::full(self, "__neg__") =>
            {
                let m = ops::dunder(a, unary_dunder(op)).unwrap_or_default();
                self.call_nested(m, Vec::new())?
            }
            _ => {
                // `+c` and `-c` for a Counter.
                if let Some(v) = super::collections::counter_unary(self, op, a)? {
                    return Ok(v);
                }
                let sym = match op {
                    UnOp::Neg => "-",
                    UnOp::Pos => "+",
                    _ => "~",
                };
                return Err(self.type_error(&format!("bad operand type for unary {sym}: '{}'", a.type_name())));
            }
        })
    }

    /// Binds arguments to a new frame for `func`.
    pub fn frame_for(&mut self, func: &Rc<Function>, mut args: Vec<Value>, kwargs: Kw) -> PyResult<Frame> {
        let code = &func.code;
        let p = &code.params;
        let mut frame = Frame::new(Rc::clone(code), Rc::clone(&func.globals), Some(Rc::clone(func)));
        let npos = p.positional.len();
        let fname = func.qualname();
        // CPython's order: positional arguments, then keywords, then the
        // checks (so `f(1, 2, 3, b=3)` to `def f(a, b)` is "multiple
        // values for argument 'b'", not "takes 2").
        let given = args.len();
        if given > npos && p.vararg.is_some() {
            frame.locals[npos] = Some(Value::tuple(args.split_off(npos)));
        } else if p.vararg.is_some() {
            frame.locals[npos] = Some(Value::tuple(Vec::new()));
        }
        for (i, a) in args.into_iter().take(npos).enumerate() {
            frame.locals[i] = Some(a);
        }
        let kw_start = npos + p.vararg.is_some() as usize;
        // Positional-only parameters named by a keyword: an error unless
        // `**kwargs` takes it (only parsed code has them).
        let posonly: Vec<&str> = match compile::PARSER && p.posonly > 0 {
            true => {
                p.positional[..p.posonly].iter().filter(|n| kwargs.iter().any(|(k, _)| k == *n)).map(|n| &**n).collect()
            }
            false => Vec::new(),
        };
        let mut extra = Dict::default();
        for (k, v) in kwargs {
            if let Some(i) = p.positional[p.posonly..].iter().position(|n| *n == k) {
                let slot = &mut frame.locals[p.posonly + i];
                if slot.is_some() {
                    return Err(self.type_error(&format!("{fname}() got multiple values for argument '{k}'")));
                }
                *slot = Some(v);
            } else if let Some(i) = p.kwonly.iter().position(|n| *n == k) {
                frame.locals[kw_start + i] = Some(v);
            } else if p.kwarg.is_some() {
                extra.insert(super::value::Key::Str(Rc::clone(&k)), Value::Str(k), v);
            } else if !posonly.is_empty() {
                return Err(self.type_error(&format!(
                    "{fname}() got some positional-only arguments passed as keyword arguments: '{}'",
                    posonly.join(", ")
                )));
            } else {
                return Err(self.type_error(&format!("{fname}() got an unexpected keyword argument '{k}'")));
            }
        }
        if given > npos && p.vararg.is_none() {
            let kwonly_given = frame.locals[kw_start..kw_start + p.kwonly.len()].iter().flatten().count();
            return Err(self.type_error(&arity::too_many(&fname, npos, func.defaults.len(), given, kwonly_given)));
        }
        let first_default = npos - func.defaults.len();
        let missing: Vec<&str> =
            (0..first_default).filter(|&i| frame.locals[i].is_none()).map(|i| &*p.positional[i]).collect();
        if !missing.is_empty() {
            return Err(self.type_error(&arity::missing(&fname, "positional", &missing)));
        }
        for i in first_default..npos {
            frame.locals[i].get_or_insert_with(|| func.defaults[i - first_default].clone());
        }
        let mut missing = Vec::new();
        for (i, name) in p.kwonly.iter().enumerate() {
            let slot = &mut frame.locals[kw_start + i];
            if slot.is_none() {
                match func.kwdefaults.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => *slot = Some(v.clone()),
                    None => missing.push(&**name),
                }
            }
        }
        if !missing.is_empty() {
            return Err(self.type_error(&arity::missing(&fname, "keyword-only", &missing)));
        }
        if p.kwarg.is_some() {
            frame.locals[kw_start + p.kwonly.len()] = Some(Value::dict(extra));
        }
        let mut cells: Vec<CellRef> = code
            .cellvars
            .iter()
            .map(|(_, param)| {
                let v = param.and_then(|i| frame.locals[i as usize].clone()).unwrap_or_default();
                Rc::new(RefCell::new(v))
            })
            .collect();
        cells.extend(func.closure.iter().cloned());
        frame.cells = cells;
        if code.kind == CodeKind::Module {
            frame.ns = None;
        }
        Ok(frame)
    }

    // ------------------------------------------------------------------
    // Attributes, iteration, text
    // ------------------------------------------------------------------

    /// The getter and setter of a property `name` of `obj`'s class, if
    /// `obj` is an instance and the program made properties at all.
    pub(crate) fn property_of(&self, obj: &Value, name: &str) -> Option<(Value, Value)> {
        if !self.rt.properties.get() {
            return None;
        }
        let Value::Instance(i) = obj else { return None };
        match i.class.lookup(name) {
            Some(Value::Native(n)) => match &*n {
                Native::Property { fget, fset } => Some((fget.clone(), fset.clone())),
                _ => None,
            },
            _ => None,
        }
    }

    /// `f(*args)` run on this thread's stack, its value dropped: a
    /// property's setter, a class's `__setattr__`.
    fn call_discarded(&mut self, frames: &mut Vec<Frame>, f: Value, args: Vec<Value>) -> PyResult<Flow> {
        match self.call(f, args, Vec::new())? {
            Out::Frame(mut frame) => {
                frame.ret = Ret::Discard;
                self.check_depth(frames)?;
                frames.push(frame);
                Ok(Flow::Next)
            }
            out => {
                let flow = self.push_out(frames, out)?;
                frames.last_mut().expect("frame").stack.pop();
                Ok(flow)
            }
        }
    }

    /// `obj.__getattr__` bound, when `obj` is an instance whose class defines
    /// it and has no attribute `name` otherwise: CPython calls it only then.
    fn getattr_hook(&self, obj: &Value, name: &str) -> Option<Value> {
        if !super::extras::HERE {
            return None;
        }
        let Value::Instance(i) = obj else { return None };
        let hook = i.class.lookup("__getattr__")?;
        let found = i.get(name).is_some()
            || name == "__class__"
            || i.class.lookup(name).is_some()
            || (name == "args" && i.class.is_subclass(&self.rt.exc_class("BaseException")));
        (!found).then(|| bind(obj, hook))
    }

    pub fn get_attr(&mut self, obj: &Value, name: &str) -> PyResult<Value> {
        if let Some(hook) = self.getattr_hook(obj, name) {
            return self.call_nested(hook, vec![Value::Str(name.into())]);
        }
        if let Some((fget, _)) = self.property_of(obj, name) {
            if matches!(fget, Value::None) {
                return Err(self.rt.error("AttributeError", &format!("property '{name}' has no getter")));
            }
            return self.call_nested(fget, vec![obj.clone()]);
        }
        match obj {
            Value::Instance(i) => {
                if let Some(v) = i.get(name) {
                    return Ok(v);
                }
                if name == "__class__" {
                    return Ok(Value::Class(Rc::clone(&i.class)));
                }
                // Its attributes as a dict, live (as `vars(obj)`).
                if name == "__dict__" && super::extras::HERE {
                    return super::extras::dict_of(self, i);
                }
                if let Some(v) = i.class.lookup(name) {
                    return Ok(bind(obj, v));
                }
                if i.class.is_subclass(&self.rt.exc_class("BaseException")) {
                    if name == "args" {
                        return Ok(Value::tuple(Vec::new()));
                    }
                    if let Some(v) = super::errors::chain_default(name).filter(|_| super::compile::PARSER) {
                        return Ok(v);
                    }
                }
                Err(self.attr_error(obj, name))
            }
            Value::Class(c) => {
                if name == "__name__" {
                    return Ok(Value::Str(Rc::clone(&c.name)));
                }
                if name == "__qualname__" && super::extras::HERE {
                    return Ok(Value::Str(Rc::clone(&c.qualname)));
                }
                // `C.__mro__`, `C.mro()`, `C.__base__`, `C.__bases__`: one base each.
                if matches!(name, "__mro__" | "mro" | "__base__" | "__bases__")
                    && c.lookup(name).is_none()
                    && builtins::full(self, "__mro__")
                {
                    let base = match &c.base {
                        Some(b) => Value::Class(Rc::clone(b)),
                        None => Value::Type(super::value::TypeId::Object),
                    };
                    return Ok(match name {
                        "__mro__" => Value::tuple(mro(c)),
                        "mro" => Value::builtin("type.mro", Some(obj.clone())),
                        "__base__" => base,
                        _ => Value::tuple(vec![base]),
                    });
                }
                // Functions stay plain (`C.f(obj)`); class and static methods bind.
                match c.lookup(name) {
                    Some(v @ Value::Native(_)) => Ok(bind(obj, v)),
                    Some(v) => Ok(v),
                    None => Err(self.attr_error(obj, name)),
                }
            }
            Value::Module(m) if name == "__name__" && !m.attrs.contains_key(name) => Ok(Value::str(m.name)),
            // The hook a program set, else the one that prints.
            Value::Module(m)
                if m.name == "threading" && name == "excepthook" && builtins::full(self, "threading.excepthook") =>
            {
                let set = self.rt.excepthook.borrow().clone();
                Ok(set.unwrap_or_else(|| Value::builtin("threading.excepthook", None)))
            }
            Value::Module(m) => m.attrs.get(name).cloned().ok_or_else(|| {
                let has = module_names(m);
                self.rt.error("AttributeError", &format!("module '{}' has no attribute '{name}' ({has})", m.name))
            }),
            Value::Super(s) => {
                let (class, this) = (&s.0, &s.1);
                let found = class.base.as_ref().and_then(|b| b.lookup(name));
                match found {
                    Some(v) => Ok(bind(this, v)),
                    None if name == "__init__" => Ok(Value::builtin("object.__init__", Some(this.clone()))),
                    // What `object`'s does: nothing (full module: the presets define no hook).
                    None if name == "__init_subclass__" && super::extras::HERE => {
                        Ok(Value::builtin("object.__init__", Some(this.clone())))
                    }
                    None if super::attrs::is_hook(name) => Ok(Value::builtin(object_hook(name), Some(this.clone()))),
                    None => match super::dunders::object_method(name) {
                        Some(m) => Ok(Value::builtin(m, Some(this.clone()))),
                        None => {
                            Err(self.rt.error("AttributeError", &format!("'super' object has no attribute '{name}'")))
                        }
                    },
                }
            }
            Value::Func(f) if name == "__name__" => Ok(Value::Str(Rc::clone(&f.code.name))),
            Value::Func(f) if name == "__qualname__" && super::extras::HERE => Ok(Value::Str(f.qualname())),
            Value::Type(t) if name == "__name__" => Ok(Value::Str(t.name().into())),
            Value::Type(super::value::TypeId::Object) if super::attrs::is_hook(name) => {
                Ok(Value::builtin(object_hook(name), None))
            }
            Value::Type(super::value::TypeId::Object) if super::dunders::object_method(name).is_some() => {
                Ok(Value::builtin(super::dunders::object_method(name).unwrap_or_default(), None))
            }
            // A `defaultdict`'s factory (what `pprint` prints).
            Value::Dict(d)
                if name == "default_factory"
                    && matches!(d.borrow().kind, super::value::DictKind::Default(_))
                    && builtins::full(self, "default_factory") =>
            {
                match &d.borrow().kind {
                    super::value::DictKind::Default(f) => Ok(f.clone()),
                    _ => Ok(Value::None),
                }
            }
            Value::Type(_) | Value::Dict(_) if super::extras::HERE && name == "fromkeys" => {
                super::extras::fromkeys(obj).ok_or_else(|| self.attr_error(obj, name))
            }
            Value::Type(super::value::TypeId::Bytes) if super::extras::HERE && name == "fromhex" => {
                Ok(Value::builtin("bytes.fromhex", None))
            }
            Value::Type(super::value::TypeId::Int) if super::extras::HERE && name == "from_bytes" => {
                Ok(Value::builtin("int.from_bytes", None))
            }
            // This thread's attribute of a `threading.local()`.
            Value::Native(n) if matches!(&**n, Native::Local(_)) => {
                let Native::Local(attrs) = &**n else { unreachable!("matched") };
                let found = attrs.borrow().get(&self.tid).and_then(|a| a.get(name).cloned());
                found.ok_or_else(|| self.attr_error(obj, name))
            }
            // What a property or a class or static method wraps (what
            // `abc` looks at). `HERE`: a constant, the full module only.
            Value::Native(n) if super::pystd::HERE && matches!(name, "fget" | "fset" | "__func__") => {
                match (&**n, name) {
                    (Native::Property { fget, .. }, "fget") => Ok(fget.clone()),
                    (Native::Property { fset, .. }, "fset") => Ok(fset.clone()),
                    (Native::ClassMethod(f) | Native::StaticMethod(f), "__func__") => Ok(f.clone()),
                    _ => Err(self.attr_error(obj, name)),
                }
            }
            Value::Native(n) if name == "name" && matches!(&**n, Native::Thread(_)) => match &**n {
                Native::Thread(t) => Ok(Value::Str(t.name.borrow().clone())),
                _ => Err(self.attr_error(obj, name)),
            },
            Value::Native(n)
                if matches!(name, "daemon" | "ident" | "native_id")
                    && super::extras::HERE
                    && matches!(&**n, Native::Thread(_)) =>
            {
                match &**n {
                    Native::Thread(t) if name == "daemon" => Ok(Value::Bool(t.daemon.get())),
                    // `get_ident()` in it, once it runs; `None` before, as CPython's.
                    Native::Thread(t) => {
                        Ok(t.tid.get().map_or(Value::None, |tid| Value::Int(builtins::thread_ident(tid))))
                    }
                    _ => Err(self.attr_error(obj, name)),
                }
            }
            Value::Native(_) | Value::Builtin(_) if super::twisted::live_attr(self, obj, name).is_some() => {
                Ok(super::twisted::live_attr(self, obj, name).unwrap_or_default())
            }
            Value::Native(n) if super::twisted::attr(n, name).is_some() => {
                Ok(super::twisted::attr(n, name).unwrap_or_default())
            }
            _ if name == "__class__" && super::extras::HERE => Ok(builtins::type_of(obj)),
            _ => match builtins::method(obj, name).or_else(|| super::dunders::method(obj, name)) {
                Some(m) => Ok(Value::builtin(m, Some(obj.clone()))),
                None => match obj {
                    Value::Type(t) if super::dunders::HERE => {
                        super::dunders::unbound(*t, name).ok_or_else(|| self.attr_error(obj, name))
                    }
                    _ => Err(self.attr_error(obj, name)),
                },
            },
        }
    }

    /// `del obj.name` without the class's `__delattr__` (CPython's `object.__delattr__`).
    pub(crate) fn del_attr(&mut self, obj: &Value, name: &str) -> PyResult<()> {
        let removed = match obj {
            Value::Instance(i) => i.attrs.borrow_mut().remove(name),
            Value::Class(c) => c.attrs.borrow_mut().remove(name).is_some(),
            Value::Native(n) => match &**n {
                Native::Local(attrs) => attrs.borrow_mut().get_mut(&self.tid).and_then(|a| a.remove(name)).is_some(),
                _ => false,
            },
            _ => false,
        };
        if !removed {
            return Err(self.attr_error(obj, name));
        }
        Ok(())
    }

    pub(crate) fn set_attr(&mut self, obj: &Value, name: &str, v: Value) -> PyResult<()> {
        match obj {
            Value::Module(m)
                if m.name == "threading" && name == "excepthook" && builtins::full(self, "threading.excepthook") =>
            {
                *self.rt.excepthook.borrow_mut() = Some(v);
                Ok(())
            }
            Value::Instance(i) if super::attrs::outside_slots(&i.class, name) => Err(self.attr_error(obj, name)),
            Value::Instance(i) => {
                i.set(name, v);
                Ok(())
            }
            Value::Class(c) => {
                if super::attrs::is_hook(name) {
                    self.rt.attr_hooks.set(true);
                }
                c.attrs.borrow_mut().insert(name.into(), v);
                Ok(())
            }
            Value::Native(n) => match &**n {
                Native::Thread(t) if name == "name" => {
                    *t.name.borrow_mut() = Rc::from(self.str_of(&v)?.as_str());
                    Ok(())
                }
                Native::Thread(t) if name == "daemon" && super::extras::HERE => {
                    if t.started.get() {
                        return Err(self.rt.error("RuntimeError", "cannot set daemon status of active thread"));
                    }
                    t.daemon.set(v.truthy());
                    Ok(())
                }
                Native::LoopingCall { .. } if super::clock::HERE => super::clock::set_looping_attr(self, n, name, v),
                Native::Local(attrs) => {
                    attrs.borrow_mut().entry(self.tid).or_default().insert(name.into(), v);
                    Ok(())
                }
                _ => Err(self.attr_error(obj, name)),
            },
            _ => Err(self.attr_error(obj, name)),
        }
    }

    fn attr_error(&self, obj: &Value, name: &str) -> Exc {
        let what = match obj {
            Value::Class(c) => format!("type object '{}'", c.name),
            Value::Type(t) if super::dunders::HERE => format!("type object '{}'", t.name()),
            // CPython's `SimpleQueue` is `_queue`'s, written in C.
            Value::Native(n) if matches!(&**n, Native::Queue(q) if q.type_name() == "SimpleQueue") => {
                "'_queue.SimpleQueue' object".to_owned()
            }
            _ => format!("'{}' object", obj.type_name()),
        };
        self.rt.error("AttributeError", &format!("{what} has no attribute '{name}'"))
    }

    pub fn iter(&mut self, v: &Value) -> PyResult<Value> {
        let it = match v {
            Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_) => Iter::Seq(v.clone(), 0),
            Value::Range(a, b, c) => Iter::Range { next: *a, stop: *b, step: *c },
            // The size watched for a change (full module; the presets change
            // nothing they walk).
            Value::Dict(d) if super::compile::PARSER => {
                Iter::Keys(d.borrow().items().map(|(k, _)| k.clone()).collect(), 0, v.clone(), d.borrow().len())
            }
            Value::Set(d) if super::compile::PARSER => {
                Iter::Keys(super::sets::elements(d), 0, v.clone(), d.borrow().len())
            }
            Value::Dict(d) | Value::Set(d) => Iter::Items(d.borrow().items().map(|(k, _)| k.clone()).collect(), 0),
            Value::Native(n) if super::views::HERE && matches!(**n, Native::DictView(..)) => {
                let Native::DictView(view, of) = &**n else { unreachable!() };
                super::views::iter(*view, of)
            }
            Value::Generator(g) if !g.coroutine => return Ok(v.clone()),
            Value::Iter(_) => return Ok(v.clone()),
            // `__iter__` returns the iterator (a generator, `iter(list)`, ...).
            Value::Instance(_) if ops::dunder(v, "__iter__").is_some() => {
                let m = ops::dunder(v, "__iter__").unwrap_or_default();
                let it = self.call_nested(m, Vec::new())?;
                return match it {
                    Value::Generator(_) | Value::Iter(_) => Ok(it),
                    // An iterator of the program's own: `__next__` gives its values.
                    Value::Instance(_) if super::compile::PARSER && ops::dunder(&it, "__next__").is_some() => Ok(it),
                    other => {
                        Err(self.type_error(&format!("iter() returned non-iterator of type '{}'", other.type_name())))
                    }
                };
            }
            // `for c in Color`: a library class's own iteration (`enum`).
            Value::Class(c) if c.lookup("__class_iter__").is_some() && builtins::full(self, "__class_iter__") => {
                let m = c.lookup("__class_iter__").unwrap_or_default();
                let items = self.call_nested(m, vec![v.clone()])?;
                return self.iter(&items);
            }
            _ => return Err(self.type_error(&format!("'{}' object is not iterable", v.type_name()))),
        };
        Ok(Value::Iter(Rc::new(RefCell::new(it))))
    }

    /// What `await v` runs: a coroutine itself, or for a Deferred its
    /// `__await__` generator (see `twisted::INLINE_CALLBACKS`).
    fn awaitable(&mut self, v: Value) -> PyResult<Value> {
        match &v {
            Value::Generator(g) if g.coroutine => Ok(v),
            Value::Native(n) if matches!(**n, Native::Deferred(_)) => {
                let Some(f) = super::twisted::library(self.rt, "_awaitDeferred") else {
                    return Err(self.type_error("await on a Deferred is not available in this build"));
                };
                match self.call(f, vec![v], Vec::new())? {
                    Out::Value(g) => Ok(g),
                    _ => Err(self.type_error("Deferred.__await__ did not make a generator")),
                }
            }
            _ => Err(self.type_error(&format!("object {} can't be used in 'await' expression", v.type_name()))),
        }
    }

    pub fn next(&mut self, it: &Value) -> PyResult<Option<Value>> {
        if let Value::Generator(g) = it {
            return self.gen_next(g, Value::None);
        }
        let program_iterator = super::compile::PARSER && matches!(it, Value::Instance(_));
        if let Some(m) = program_iterator.then(|| ops::dunder(it, "__next__")).flatten() {
            // The program's iterator: StopIteration (or a subclass) ends it.
            return match self.call_nested(m, Vec::new()) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.value.class().is_some_and(|c| c.is_subclass(&self.rt.exc_class("StopIteration"))) => {
                    Ok(None)
                }
                Err(e) => Err(e),
            };
        }
        let Value::Iter(it) = it else {
            return Err(self.type_error(&format!("'{}' object is not an iterator", it.type_name())));
        };
        if !matches!(&*it.borrow(), Iter::Seq(..) | Iter::Range { .. } | Iter::Items(..) | Iter::Keys(..)) {
            return super::itertools::next(self, it);
        }
        let mut it = it.borrow_mut();
        Ok(match &mut *it {
            Iter::Seq(seq, i) => {
                let v = match seq {
                    Value::List(l) => l.borrow().get(*i).cloned(),
                    Value::Tuple(t) => t.get(*i).cloned(),
                    Value::Str(s) => {
                        let c = s.get(*i..).and_then(|rest| rest.chars().next());
                        if let Some(c) = c {
                            *i += c.len_utf8() - 1;
                        }
                        c.map(|c| Value::Str(c.to_string().into()))
                    }
                    Value::Bytes(b) => b.get(*i).map(|b| Value::Int(*b as i64)),
                    _ => None,
                };
                // Exhausted stays exhausted, as CPython's sequence iterators
                // (which drop the sequence): a list that grows after its
                // iterator ended gives it nothing more.
                *i = if v.is_some() { *i + 1 } else { usize::MAX };
                v
            }
            Iter::Range { next, stop, step } => {
                if (*step > 0 && *next < *stop) || (*step < 0 && *next > *stop) {
                    let v = *next;
                    *next += *step;
                    Some(Value::Int(v))
                } else {
                    None
                }
            }
            Iter::Items(items, i) => {
                let v = items.get(*i).cloned();
                *i += 1;
                v
            }
            Iter::Keys(items, i, of, len) => {
                let (Value::Dict(d) | Value::Set(d)) = of else { return Ok(None) };
                if d.borrow().len() != *len {
                    // CPython's words; it goes on failing.
                    let what = if matches!(of, Value::Set(_)) { "Set" } else { "dictionary" };
                    drop(it);
                    return Err(self.rt.error("RuntimeError", &format!("{what} changed size during iteration")));
                }
                let v = items.get(*i).cloned();
                *i += 1;
                v
            }
            _ => None,
        })
    }

    /// Runs generator `g` to its next `yield` (`None`: it finished),
    /// `sent` being the value of the `yield` it stopped at, for a built-in
    /// that consumes it (`list(g)`, `sorted(g)`). Its body runs in a loop
    /// of its own, as a built-in's callback does: it cannot wait (sleep, a
    /// lock), and the GIL does not switch inside it. A `for` loop, `next`,
    /// `send` and `yield from` resume it on the thread's stack instead
    /// (`resume_on_stack`).
    pub fn gen_next(&mut self, g: &Rc<super::value::Generator>, sent: Value) -> PyResult<Option<Value>> {
        match self.gen_resume(g, Ok(sent))? {
            GenStep::Yielded(v) => Ok(Some(v)),
            GenStep::Returned(_) => Ok(None),
        }
    }

    /// `g.send(v)` (`Ok(v)`) or `g.throw(exc)` (`Err(exc)`): runs the
    /// generator to its next `yield`, or to its end and the value it returned.
    pub fn gen_resume(&mut self, g: &Rc<super::value::Generator>, sent: Result<Value, Value>) -> PyResult<GenStep> {
        if g.running.get() {
            return Err(self.rt.error("ValueError", "generator already executing"));
        }
        self.check_nesting()?;
        let Some(mut frame) = g.frame.borrow_mut().take() else {
            return match sent {
                Err(exc) => Err(Exc::new(exc)),
                Ok(_) => Ok(GenStep::Returned(Value::None)),
            };
        };
        let mut frames = match sent {
            Ok(v) if g.started.replace(true) => {
                frame.stack.push(v);
                vec![frame]
            }
            Ok(Value::None) => vec![frame],
            Ok(_) => return Err(self.type_error("can't send non-None value to a just-started generator")),
            // Raised where it stopped: its own handlers may catch it.
            Err(exc) if g.started.get() => {
                let mut frames = vec![frame];
                self.unwind(&mut frames, 0, Exc::new(exc))?;
                frames
            }
            Err(exc) => return Err(Exc::new(exc)),
        };
        g.running.set(true);
        let r = self.run_nested(&mut frames);
        g.running.set(false);
        match r? {
            Exit::Yielded(v, frame) => {
                *g.frame.borrow_mut() = Some(*frame);
                Ok(GenStep::Yielded(v))
            }
            Exit::Returned(v) => Ok(GenStep::Returned(v)),
            Exit::Halt(_) => Err(self.rt.error(
                "RuntimeError",
                "a generator a built-in consumes (list(), sorted(), sum(), ...) cannot wait (sleep, a lock, cpu): \
                 iterate it with a for loop or next()",
            )),
        }
    }

    /// The values `a, b = v` unpacks, with CPython's error for a value that
    /// is not iterable.
    fn unpacked(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        if matches!(v, Value::List(_) | Value::Tuple(_)) {
            return self.collect(v);
        }
        let it = self
            .iter(v)
            .map_err(|_| self.type_error(&format!("cannot unpack non-iterable {} object", v.type_name())))?;
        self.collect(&it)
    }

    /// All values of an iterable.
    pub fn collect(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        match v {
            Value::List(l) => Ok(l.borrow().clone()),
            Value::Tuple(t) => Ok(t.to_vec()),
            _ => {
                let it = self.iter(v)?;
                let mut out = Vec::new();
                while let Some(x) = self.next(&it)? {
                    // `list(range(10**12))` would fill the tab's memory
                    // before any event limit is reached.
                    super::ops::sized(self, out.len() + 1)?;
                    out.push(x);
                }
                Ok(out)
            }
        }
    }

    /// Whether `v` is true, as `if v:` asks: an instance's `__bool__`, else
    /// its `__len__` (non-zero), else true; other values by their kind.
    pub fn truth(&mut self, v: &Value) -> PyResult<bool> {
        if let Value::Instance(_) = v {
            if let Some(m) = ops::dunder(v, "__bool__") {
                return match self.call_nested(m, Vec::new())? {
                    Value::Bool(b) => Ok(b),
                    other => {
                        Err(self.type_error(&format!("__bool__ should return bool, returned {}", other.type_name())))
                    }
                };
            }
            if ops::dunder(v, "__len__").is_some() {
                let len = builtins::call_function(self, "len", vec![v.clone()], Vec::new())?;
                return Ok(!matches!(len, Out::Value(Value::Int(0))));
            }
        }
        Ok(v.truthy())
    }

    /// The dict key of `v`, or `TypeError` if it is unhashable.
    /// The base a class statement (or `type(name, bases, ns)`) names: a
    /// class, or `None` for `object`.
    pub(crate) fn base_class(&mut self, base: Value) -> PyResult<Option<Rc<Class>>> {
        match base {
            Value::Class(c) => Ok(Some(c)),
            Value::Type(super::value::TypeId::Object) => Ok(None),
            Value::Builtin(b) if super::thread_class::HERE && b.name == "threading.Thread" => {
                Ok(Some(super::thread_class::class(self.rt)))
            }
            other => Err(self.type_error(&format!(
                "a class can only derive from a class (got {}): builtin types cannot be subclassed here",
                other.type_name()
            ))),
        }
    }

    /// A new class's last steps: its functions learn their class (what
    /// `super()` needs), then its base's `__init_subclass__` runs, given
    /// the class's names in the order they were bound (`order`: what
    /// `enum` lists).
    pub(crate) fn class_made(
        &mut self,
        class: Rc<Class>,
        order: impl FnOnce(&Class) -> Vec<Rc<str>>,
    ) -> PyResult<Value> {
        for v in class.attrs.borrow().values() {
            let v = match v {
                Value::Native(n) => match &**n {
                    Native::ClassMethod(f) | Native::StaticMethod(f) => f,
                    _ => v,
                },
                v => v,
            };
            if let Value::Func(func) = v {
                *func.owner.borrow_mut() = Some(Rc::clone(&class));
            }
        }
        if class.attrs.borrow().keys().any(|k| super::attrs::is_hook(k)) {
            self.rt.attr_hooks.set(true);
        }
        let hook = class.base.as_ref().and_then(|b| b.lookup("__init_subclass__"));
        if let Some(hook) = hook.filter(|_| builtins::full(self, "__init_subclass__")) {
            let order = order(&class).into_iter().map(Value::Str).collect();
            class.attrs.borrow_mut().insert("_definition_order_".into(), Value::tuple(order));
            self.call_nested(hook, vec![Value::Class(Rc::clone(&class))])?;
        }
        Ok(Value::Class(class))
    }

    pub fn key(&mut self, v: &Value) -> PyResult<super::value::Key> {
        // A namedtuple is the same key as the plain tuple of its values, an
        // IntEnum member as its int.
        if let Some(t) = super::pystd::named_tuple(v).or_else(|| super::pystd::int_enum(v)) {
            return self.key(&t);
        }
        if super::extras::HERE {
            if let Some(k) = super::extras::key(self, v)? {
                return Ok(k);
            }
        } else if let Value::Instance(i) = v {
            // The light module runs only the presets: a class with `__eq__`
            // and no `__hash__` is unhashable, as in CPython; one with its
            // own `__hash__` is refused (the full module calls it).
            if i.class.lookup("__hash__").is_some() {
                return Err(self.type_error(&format!(
                    "{}.__hash__ is not used for dict and set keys here: key them by a str, int or tuple",
                    i.class.name
                )));
            }
            if i.class.lookup("__eq__").is_some() {
                return Err(self.type_error(&format!("unhashable type: '{}'", i.class.name)));
            }
        }
        v.key().map_err(|why| match why {
            super::value::Unhashable::Type(t) => self.type_error(&format!("unhashable type: '{t}'")),
            super::value::Unhashable::TooDeep => self.recursion_error(),
        })
    }

    /// `str(x)`, calling `__str__` (or `__repr__`) of instances.
    pub fn str_of(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Big(b) => super::bigint::decimal(self, b),
            Value::Instance(i) => {
                if let Some(m) = i.class.lookup("__str__").or_else(|| i.class.lookup("__repr__")) {
                    return self.text_call(v, m);
                }
                if i.class.is_subclass(&self.rt.exc_class("BaseException")) {
                    // `[Errno 2] No such file or directory: 'data.txt'`.
                    if let (Some(errno @ Value::Int(_)), Some(strerror)) = (i.get("errno"), i.get("strerror")) {
                        let mut text = format!("[Errno {}] {}", self.str_of(&errno)?, self.str_of(&strerror)?);
                        if let Some(name) = i.get("filename").filter(|f| !matches!(f, Value::None)) {
                            text += &format!(": {}", self.repr_of(&name)?);
                        }
                        return Ok(text);
                    }
                    let args = i.get("args").unwrap_or(Value::tuple(Vec::new()));
                    return match args {
                        Value::Tuple(t) if t.is_empty() => Ok(String::new()),
                        // KeyError shows its key as repr, as CPython does.
                        Value::Tuple(t) if t.len() == 1 && i.class.name.as_ref() == "KeyError" => self.repr_of(&t[0]),
                        Value::Tuple(t) if t.len() == 1 => self.str_of(&t[0]),
                        other => self.repr_of(&other),
                    };
                }
                self.repr_of(v)
            }
            Value::Native(n) if matches!(&**n, Native::Failure(_)) && builtins::full(self, "Failure.__str__") => {
                // Twisted's `Failure.__str__`: its brief traceback.
                let Native::Failure(e) = &**n else { unreachable!() };
                Ok(format!("[Failure instance: {}]", super::twisted::brief_traceback(self, e)?))
            }
            _ => self.repr_of(v),
        }
    }

    /// `repr(x)`, calling `__repr__` of instances (also inside containers).
    pub fn repr_of(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::Big(b) => super::bigint::decimal(self, b),
            Value::Instance(i) => {
                if let Some(m) = i.class.lookup("__repr__") {
                    return self.text_call(v, m);
                }
                if i.class.is_subclass(&self.rt.exc_class("BaseException")) {
                    let args = i.get("args").unwrap_or(Value::tuple(Vec::new()));
                    let inner = match &args {
                        Value::Tuple(t) if t.len() == 1 => self.repr_of(&t[0])?,
                        Value::Tuple(t) => t.iter().map(|a| self.repr_of(a)).collect::<PyResult<Vec<_>>>()?.join(", "),
                        _ => String::new(),
                    };
                    return Ok(format!("{}({inner})", i.class.name));
                }
                Ok(format!("<{} object>", i.class.path()))
            }
            Value::List(l) => {
                let Some(_walking) = self.enter_repr(v)? else { return Ok(format::cycle_repr(v).into()) };
                let items = l.borrow().clone();
                let parts = items.iter().map(|x| self.repr_of(x)).collect::<PyResult<Vec<_>>>()?;
                Ok(format!("[{}]", parts.join(", ")))
            }
            Value::Tuple(t) => {
                let Some(_walking) = self.enter_repr(v)? else { return Ok(format::cycle_repr(v).into()) };
                let parts = t.iter().map(|x| self.repr_of(x)).collect::<PyResult<Vec<_>>>()?;
                if parts.len() == 1 {
                    Ok(format!("({},)", parts[0]))
                } else {
                    Ok(format!("({})", parts.join(", ")))
                }
            }
            Value::Dict(d) => {
                let Some(_walking) = self.enter_repr(v)? else { return Ok(format::cycle_repr(v).into()) };
                let kind = d.borrow().kind.clone();
                if super::collections::HERE {
                    if let Some(text) = super::collections::repr(self, v, &kind)? {
                        return Ok(text);
                    }
                }
                let items: Vec<(Value, Value)> = d.borrow().items().cloned().collect();
                let mut parts = Vec::new();
                for (k, v) in &items {
                    parts.push(format!("{}: {}", self.repr_of(k)?, self.repr_of(v)?));
                }
                Ok(format!("{{{}}}", parts.join(", ")))
            }
            Value::Set(d) => {
                let Some(_walking) = self.enter_repr(v)? else { return Ok(format::cycle_repr(v).into()) };
                super::sets::repr(self, d)
            }
            Value::Native(n) if super::views::HERE && matches!(**n, Native::DictView(..)) => {
                let Native::DictView(view, of) = &**n else { unreachable!() };
                let Some(_walking) = self.enter_repr(of)? else { return Ok(format::cycle_repr(v).into()) };
                super::views::repr(self, *view, of)
            }
            Value::Class(c) => Ok(format!("<class '{}'>", c.path())),
            Value::Native(n) if super::functools::HERE && matches!(&**n, Native::Partial(_)) => {
                let Native::Partial(p) = &**n else { unreachable!() };
                super::functools::repr(self, p)
            }
            Value::Func(f) => Ok(format!("<function {}>", f.code.qualname)),
            _ => Ok(format::repr(v)),
        }
    }

    /// Enters container `v` for `repr`: `None` when it is being printed
    /// already, further out (it contains itself: [`format::cycle_repr`]).
    fn enter_repr(&self, v: &Value) -> PyResult<Option<nesting::Entered>> {
        match nesting::enter(v.identity(), true) {
            Ok(walking) => Ok(Some(walking)),
            Err(nesting::Refused::Cycle) => Ok(None),
            Err(nesting::Refused::TooDeep) => Err(self
                .rt
                .error("RecursionError", "maximum recursion depth exceeded while getting the repr of an object")),
        }
    }

    fn text_call(&mut self, this: &Value, m: Value) -> PyResult<String> {
        let bound = bind(this, m);
        match self.call_nested(bound, Vec::new())? {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(self.type_error(&format!("__str__ returned non-string (type {})", other.type_name()))),
        }
    }

    pub fn format_value(&mut self, v: &Value, spec: &str) -> PyResult<String> {
        // An instance's own `__format__` (`f"{when:%H:%M}"` for a datetime).
        if let Some(m) = ops::dunder(v, "__format__").filter(|_| builtins::full(self, "__format__")) {
            return match self.call_nested(m, vec![Value::str(spec)])? {
                Value::Str(s) => Ok(s.to_string()),
                other => Err(self.type_error(&format!("__format__ must return a str, not {}", other.type_name()))),
            };
        }
        let text = self.str_of(v)?;
        if spec.is_empty() {
            return Ok(text);
        }
        format::format_spec(v, spec, &text).map_err(|m| {
            // The one error that is not a bad spec: `{:c}` of no code point.
            let class = if m.starts_with("%c arg") { "OverflowError" } else { "ValueError" };
            self.rt.error(class, &m)
        })
    }

    // ------------------------------------------------------------------
    // Exceptions
    // ------------------------------------------------------------------

    /// What `raise x` raises: an instance (a class is instantiated).
    fn make_exc(&mut self, v: Value) -> PyResult<Value> {
        let base = self.rt.exc_class("BaseException");
        match &v {
            Value::Instance(i) if i.class.is_subclass(&base) => Ok(v),
            Value::Class(c) if c.is_subclass(&base) => Ok(self.rt.new_exc(c, Vec::new())),
            _ => Err(self.type_error("exceptions must derive from BaseException")),
        }
    }

    fn exc_matches(&mut self, exc: &Value, class: &Value) -> PyResult<bool> {
        match class {
            Value::Class(c) => Ok(exc.class().is_some_and(|e| e.is_subclass(c))),
            Value::Tuple(t) => {
                for c in t.iter() {
                    if self.exc_matches(exc, c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(self.type_error("catching classes that do not inherit from BaseException is not allowed")),
        }
    }

    pub fn type_error(&self, msg: &str) -> Exc {
        self.rt.error("TypeError", msg)
    }

    pub fn overflow(&self) -> Exc {
        self.rt.error("OverflowError", "integer overflow: ints are 64-bit here")
    }

    /// Prints a line (or part of one) as the thread.
    /// Writes `text` to stderr, a line at a time (a line not ended yet is
    /// written as one: stderr is unbuffered).
    pub fn print_err(&mut self, text: &str) {
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            self.sh.say_err(self.tid, line.to_owned());
        }
    }

    pub fn print(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial[..i].to_owned();
            self.partial.replace_range(..=i, "");
            self.sh.say(self.tid, line);
        }
    }
}

/// Keyword arguments.
pub(crate) type Kw = Vec<(Rc<str>, Value)>;

/// Where a resumed generator stopped.
pub(crate) enum GenStep {
    Yielded(Value),
    /// It finished, returning this.
    Returned(Value),
}

/// A call's frame, or the generator that holds it when its code yields.
fn started(frame: Frame) -> Out {
    if !frame.code.generator {
        return Out::Frame(frame);
    }
    let name = Rc::clone(&frame.code.qualname);
    let g = super::value::Generator {
        coroutine: frame.code.is_coroutine(),
        name,
        frame: RefCell::new(Some(frame)),
        started: Default::default(),
        running: Default::default(),
    };
    Out::Value(Value::Generator(Rc::new(g)))
}

/// A class's method resolution order: itself, its bases, `object`.
pub(crate) fn mro(c: &Rc<Class>) -> Vec<Value> {
    let mut order = vec![Value::Class(Rc::clone(c))];
    let mut base = c.base.clone();
    while let Some(b) = base {
        order.push(Value::Class(Rc::clone(&b)));
        base = b.base.clone();
    }
    order.push(Value::Type(super::value::TypeId::Object));
    order
}

/// What a module has here, for the error about what it has not (the
/// simulator's modules are parts of CPython's).
fn module_names(m: &super::value::Module) -> String {
    // `order`'s sort: std's would add its code to the module.
    let names = crate::order::sorted_by(m.attrs.keys().copied().collect(), &mut |a: &&str, b: &&str| a.cmp(b));
    format!("the simulator's {} has: {}", m.name, names.join(", "))
}

/// A class attribute seen through an instance: functions become bound
/// methods; a class method binds to the instance's class (or to the class
/// it is seen through), a static method is its function.
/// The built-in `object.__setattr__` or `object.__delattr__`.
fn object_hook(name: &str) -> &'static str {
    if name == "__setattr__" {
        "object.__setattr__"
    } else {
        "object.__delattr__"
    }
}

pub(crate) fn bind(this: &Value, v: Value) -> Value {
    match v {
        Value::Func(f) => Value::Method(Rc::new((this.clone(), f))),
        Value::Native(n) => match &*n {
            Native::ClassMethod(f) => {
                let class = match this {
                    Value::Instance(i) => Value::Class(Rc::clone(&i.class)),
                    other => other.clone(),
                };
                bind(&class, f.clone())
            }
            Native::StaticMethod(f) => f.clone(),
            _ => Value::Native(Rc::clone(&n)),
        },
        Value::Builtin(b) if b.this.is_none() && b.name.contains('.') => Value::builtin(b.name, Some(this.clone())),
        other => other,
    }
}

/// The empty step list a Python lock wait hands the engine: a Python
/// thread's lock body is its own code, not steps.
pub(crate) fn no_steps() -> Seq {
    Seq::empty()
}

/// What a visible operation does, in a player's words: `read hits`,
/// `write .value`, `enter with hits_lock`, `acquire`, `print`
/// (`lock_name` names a lock by its number).
/// What the visible operation `instr` touches, for telling which
/// operations commute (see `engine::choice::Access`).
fn access_of(f: &Frame, instr: Instr) -> Access {
    let name = |n: u32| Rc::clone(&f.code.names[n as usize]);
    match instr {
        Instr::LoadGlobal(n) => Access::Read(name(n)),
        Instr::StoreGlobal(n) => Access::Write(name(n)),
        Instr::LoadAttr(n) => Access::Read(format!(".{}", name(n)).into()),
        Instr::StoreAttr(n) => Access::Write(format!(".{}", name(n)).into()),
        Instr::WithEnter | Instr::WithExit(_) => match f.stack.last() {
            Some(Value::Native(n)) => match &**n {
                Native::Lock { lock, .. } => Access::Lock(*lock),
                Native::Condition { lock: Value::Native(l), .. } => match &**l {
                    Native::Lock { lock, .. } => Access::Lock(*lock),
                    _ => Access::Other,
                },
                _ => Access::Other,
            },
            _ => Access::Other,
        },
        _ => Access::Other,
    }
}

fn visible_op(f: &Frame, instr: Instr, lock_name: impl Fn(u32) -> Option<String>) -> String {
    let name = |n: usize| &f.code.names[n];
    match instr {
        Instr::LoadGlobal(n) => format!("read {}", name(n as usize)),
        Instr::StoreGlobal(n) => format!("write {}", name(n as usize)),
        Instr::LoadAttr(n) => format!("read .{}", name(n as usize)),
        Instr::StoreAttr(n) => format!("write .{}", name(n as usize)),
        Instr::WithEnter => match f.stack.last() {
            Some(Value::Native(n)) => match &**n {
                Native::Lock { lock, .. } => {
                    lock_name(*lock).map_or_else(|| "enter with".to_owned(), |n| format!("enter with {n}"))
                }
                _ => "enter with".to_owned(),
            },
            _ => "enter with".to_owned(),
        },
        Instr::WithExit(_) => "leave with".to_owned(),
        Instr::Call(n) | Instr::CallKw(n, _) => match f.stack.len().checked_sub(n as usize + 1).map(|i| &f.stack[i]) {
            Some(Value::Builtin(b)) => b.name.to_owned(),
            _ => "call".to_owned(),
        },
        _ => "call".to_owned(),
    }
}

/// Where a suspended generator's `frame` would go on if it is inside a
/// `yield from` over a generator: the `yield` the delegation loop resumes at,
/// the loop's end, and the inner generator. The compiler's loop is `Send(end);
/// Yield; Jump(send)`, suspended at the `Jump` with the inner on top of the stack.
fn yield_from_suspended(frame: &Frame) -> Option<(usize, u32, Rc<super::value::Generator>)> {
    let Some(Instr::Jump(send)) = frame.code.instrs.get(frame.pc) else { return None };
    let Some(Instr::Send(end)) = frame.code.instrs.get(*send as usize) else { return None };
    match frame.stack.last() {
        Some(Value::Generator(inner)) => Some((*send as usize + 1, *end, Rc::clone(inner))),
        _ => None,
    }
}

/// Keeps the program's frames of an exception the library caught (not the
/// ends of iteration, which are how generators finish), as CPython's
/// Failure keeps its traceback.
fn remember_caught(rt: &Runtime, exc: &Exc) {
    if matches!(&*exc.value.type_name(), "StopIteration" | "GeneratorExit") {
        return;
    }
    let mine = Exc {
        value: exc.value.clone(),
        tb: exc.tb.iter().filter(|t| !t.file().starts_with("<twisted.")).cloned().collect(),
        reraised: false,
    };
    if mine.tb.is_empty() {
        return;
    }
    // Thrown into the generator from a failure: its earlier frames follow.
    let carried = match rt.thrown.take() {
        Some((v, frames)) if v.is(&exc.value) => frames,
        _ => Vec::new(),
    };
    rt.remember_frames(&mine, carried);
}
