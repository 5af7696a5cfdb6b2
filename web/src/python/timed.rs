//! Waits with a deadline: `lock.acquire(timeout=...)`, `event.wait(t)`,
//! `cond.wait(t)` and `wait_for(predicate, t)`, `sem.acquire(timeout=...)`,
//! and the queue's `get`/`put(timeout=...)` (`queue.rs`).
//!
//! Such a call waits on an engine lock with a deadline
//! ([`Halt::LockWaitFor`]) and runs again (`Out::Retry`) when the wait
//! ends: handed the lock, or woken by the engine at the deadline without it
//! (out of the lock's queue). Running again it finds [`Vm::timed`] set and
//! says how the wait ended, as CPython's code after its
//! `waiter.acquire(True, timeout)` does: `False`, or `queue.Empty`; a
//! waiter lock still held leaves its line ([`leave_line`]). A call that
//! must wait again (a semaphore whose count another thread took first)
//! keeps the first deadline, as CPython's `endtime`.
//!
//! The presets use none of it: the light module leaves it out ([`HERE`]).

use std::cell::RefCell;
use std::rc::Rc;

use super::builtins::{kw, new_waiter, owned, release_all};
use super::value::{Native, Value, Waiters};
use super::vm::{AfterWake, Kw, Out, PyResult, Vm};
use crate::engine::interp::Halt;

/// Whether this build has timed waits: the full module's only.
pub(crate) const HERE: bool = super::compile::PARSER;

/// A timed wait a call made, kept with its thread while it waits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timed {
    /// When it ends, in virtual nanoseconds.
    pub deadline: u64,
    /// It ended at the deadline, without the lock.
    pub timed_out: bool,
}

impl Timed {
    /// The wait ended without the lock, or no time is left to wait again.
    fn over(&self, vm: &Vm<'_>) -> bool {
        self.timed_out || self.deadline <= now(vm)
    }
}

fn now(vm: &Vm<'_>) -> u64 {
    vm.sh.now().as_nanos()
}

/// The `timeout` argument (at `at`, or by keyword), unless absent or `None`.
pub(crate) fn timeout_arg(args: &[Value], kwargs: &Kw, at: usize) -> Option<Value> {
    args.get(at).cloned().or_else(|| kw(kwargs, "timeout")).filter(|t| !matches!(t, Value::None))
}

/// A timeout in seconds, as CPython reads one; anything but a number is
/// the TypeError CPython's code for that call raises (`what`, with `{}`
/// for the value's type: each call trips over it in its own operation).
pub(crate) fn seconds(vm: &Vm<'_>, v: &Value, what: &str) -> PyResult<f64> {
    let secs = match v {
        Value::Int(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Float(f) => *f,
        _ => return Err(vm.type_error(&what.replace("{}", &v.type_name()))),
    };
    // Past `threading.TIMEOUT_MAX`, CPython's clock (nanoseconds in an
    // `i64`) cannot hold the deadline.
    if secs > TIMEOUT_MAX {
        return Err(vm.rt.error("OverflowError", "timestamp out of range for platform time_t"));
    }
    Ok(secs)
}

/// CPython's `threading.TIMEOUT_MAX` on Linux.
const TIMEOUT_MAX: f64 = 9223372036.0;

/// What CPython says of a timeout that is not a number, call by call.
const NOT_INT: &str = "'{}' object cannot be interpreted as an integer";
const GREATER: &str = "'>' not supported between instances of '{}' and 'int'";
const JOIN: &str = "'>' not supported between instances of 'int' and '{}'";
const ADDED: &str = "unsupported operand type(s) for +: 'float' and '{}'";
/// `queue`'s `timeout < 0` check.
pub(crate) const LESS: &str = "'<' not supported between instances of '{}' and 'int'";

/// The deadline of a wait of `secs` seconds starting now.
pub(crate) fn deadline(vm: &Vm<'_>, secs: f64) -> u64 {
    now(vm).saturating_add((secs.max(0.0) * 1e9) as u64)
}

/// Waits on `lock` until `deadline` at most, then runs the call again.
fn wait(vm: &mut Vm<'_>, lock: u32, deadline: u64) -> Out {
    let left = deadline.saturating_sub(now(vm)).max(1);
    vm.timed = Some(Timed { deadline, timed_out: false });
    Out::Retry(Halt::LockWaitFor(lock, left))
}

/// Waits in `waiters`' line until notified or `deadline`, then runs the call again.
pub(crate) fn wait_line(vm: &mut Vm<'_>, waiters: &RefCell<Waiters>, name: &str, deadline: u64) -> Out {
    let waiter = new_waiter(vm, name, waiters);
    vm.after_wake = Some(AfterWake::Release(waiter));
    wait(vm, waiter, deadline)
}

/// A waiter that timed out leaves the line (CPython's
/// `self._waiters.remove(waiter)`): its lock, which nobody released, is
/// the one in the line this thread still holds; it is let go for reuse.
pub(crate) fn leave_line(vm: &mut Vm<'_>, waiters: &RefCell<Waiters>) {
    let mine: Vec<u32> =
        waiters.borrow().queue.iter().copied().filter(|&l| vm.sh.lock_holder(l) == Some(vm.tid)).collect();
    waiters.borrow_mut().queue.retain(|l| !mine.contains(l));
    for lock in mine {
        vm.sh.release_lock(lock, vm.tid);
    }
}

/// How the timed wait this call made ended, if it is running again after
/// one; a timed-out waiter has left `line`.
pub(crate) fn woke(vm: &mut Vm<'_>, line: Option<&RefCell<Waiters>>) -> Option<Timed> {
    let woke = vm.timed.take()?;
    if let (true, Some(line)) = (woke.timed_out, line) {
        leave_line(vm, line);
    }
    Some(woke)
}

/// Whether a call of `name` on `n` waits with a deadline: this module's
/// to run ([`call`]).
pub(crate) fn applies(n: &Native, name: &str, args: &[Value], kwargs: &Kw) -> bool {
    let at = match (n, name) {
        (Native::Lock { .. } | Native::Semaphore { .. }, "acquire") => 1,
        (Native::Event { .. } | Native::Condition { .. }, "wait") => 0,
        (Native::Condition { .. }, "wait_for") => 1,
        (Native::Thread(_), "join") => 0,
        _ => return false,
    };
    match timeout_arg(args, kwargs, at) {
        // A Lock's `timeout=-1` is its default: no deadline.
        Some(Value::Int(-1)) if matches!(n, Native::Lock { .. }) => false,
        Some(Value::Float(t)) if t == -1.0 && matches!(n, Native::Lock { .. }) => false,
        t => t.is_some(),
    }
}

/// Runs a call [`applies`] says waits with a deadline.
pub(crate) fn call(vm: &mut Vm<'_>, n: &Rc<Native>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let tid = vm.tid;
    let blocking = || args.first().cloned().or_else(|| kw(&kwargs, "blocking")).is_none_or(|b| b.truthy());
    match (&**n, name) {
        (Native::Lock { lock, reentrant, owner, depth }, _) => {
            if let Some(woke) = woke(vm, None) {
                if woke.timed_out {
                    return Ok(Out::Value(Value::Bool(false)));
                }
                // Handed the lock (or it took it when woken to try again).
                if *reentrant {
                    owner.set(Some(tid));
                    depth.set(1);
                }
                return Ok(Out::Value(Value::Bool(true)));
            }
            let timeout = timeout_arg(&args, &kwargs, 1).unwrap_or_default();
            let secs = seconds(vm, &timeout, NOT_INT)?;
            if !blocking() {
                return Err(vm.rt.error("ValueError", "can't specify a timeout for a non-blocking call"));
            }
            if secs < 0.0 {
                return Err(vm.rt.error("ValueError", "timeout value must be positive"));
            }
            if *reentrant && owner.get() == Some(tid) {
                depth.set(depth.get() + 1);
                return Ok(Out::Value(Value::Bool(true)));
            }
            if vm.sh.try_lock(*lock, tid) {
                owner.set(Some(tid));
                depth.set(1);
                return Ok(Out::Value(Value::Bool(true)));
            }
            if secs == 0.0 {
                return Ok(Out::Value(Value::Bool(false)));
            }
            // A Lock this thread holds already: CPython waits out the
            // timeout (nobody else can release it in time) and says False.
            let deadline = deadline(vm, secs);
            Ok(wait(vm, *lock, deadline))
        }
        (Native::Event { set, lock }, _) => {
            if let Some(woke) = woke(vm, None) {
                return Ok(Out::Value(Value::Bool(!woke.timed_out)));
            }
            let timeout = timeout_arg(&args, &kwargs, 0).unwrap_or_default();
            let secs = seconds(vm, &timeout, GREATER)?;
            if set.get() || secs <= 0.0 {
                return Ok(Out::Value(Value::Bool(set.get())));
            }
            // `set` wakes every waiter at once (`wake_all`), none holding it.
            let deadline = deadline(vm, secs);
            Ok(wait(vm, *lock, deadline))
        }
        (Native::Condition { name: cname, lock: Value::Native(lock), waiters }, "wait" | "wait_for") => {
            // `run` took the condition's lock back already, notified or not.
            let woke = woke(vm, Some(waiters));
            let at = usize::from(name == "wait_for");
            let timeout = timeout_arg(&args, &kwargs, at).unwrap_or_default();
            let secs = seconds(vm, &timeout, if name == "wait" { GREATER } else { ADDED })?;
            let mut ready = Value::Bool(false);
            if name == "wait" {
                if let Some(woke) = woke {
                    return Ok(Out::Value(Value::Bool(!woke.timed_out)));
                }
            } else {
                // CPython's `while not predicate(): ... wait(waittime)`.
                let predicate = args.first().cloned().or(kw(&kwargs, "predicate")).unwrap_or_default();
                ready = vm.call_nested(predicate, Vec::new())?;
                if ready.truthy() || woke.is_some_and(|w| w.over(vm)) {
                    return Ok(Out::Value(ready));
                }
            }
            if !owned(vm, lock) {
                return Err(vm.rt.error("RuntimeError", "cannot wait on un-acquired lock"));
            }
            if woke.is_none() && secs <= 0.0 {
                // `waiter.acquire(False)` fails at once.
                return Ok(Out::Value(ready));
            }
            let deadline = woke.map_or_else(|| deadline(vm, secs), |w| w.deadline);
            let waiter = new_waiter(vm, cname, waiters);
            let depth = release_all(vm, lock);
            vm.after_wake = Some(AfterWake::Reacquire { waiter, lock: Rc::clone(lock), depth });
            Ok(wait(vm, waiter, deadline))
        }
        (Native::Semaphore { name: sname, value, waiters, .. }, _) => {
            let woke = woke(vm, Some(waiters));
            let timeout = timeout_arg(&args, &kwargs, 1).unwrap_or_default();
            if !blocking() {
                return Err(vm.rt.error("ValueError", "can't specify timeout for non-blocking acquire"));
            }
            let secs = seconds(vm, &timeout, ADDED)?;
            // CPython's `while self._value == 0: ... if timeout <= 0: break`.
            if value.get() > 0 {
                value.set(value.get() - 1);
                return Ok(Out::Value(Value::Bool(true)));
            }
            if woke.is_some_and(|w| w.over(vm)) || (woke.is_none() && secs <= 0.0) {
                return Ok(Out::Value(Value::Bool(false)));
            }
            let deadline = woke.map_or_else(|| deadline(vm, secs), |w| w.deadline);
            Ok(wait_line(vm, waiters, sname, deadline))
        }
        (Native::Thread(t), _) => {
            // Joined or not, `join(timeout)` returns None: `is_alive()` tells.
            if woke(vm, None).is_some() {
                return Ok(Out::Value(Value::None));
            }
            if !t.started.get() {
                return Err(vm.rt.error("RuntimeError", "cannot join thread before it is started"));
            }
            let timeout = timeout_arg(&args, &kwargs, 0).unwrap_or_default();
            let secs = seconds(vm, &timeout, JOIN)?;
            match t.done_lock.get() {
                Some(lock) if !t.done.get() && secs > 0.0 => {
                    // Handed the lock when the thread ends: passed on to the next joiner.
                    vm.after_wake = Some(AfterWake::Release(lock));
                    let deadline = deadline(vm, secs);
                    Ok(wait(vm, lock, deadline))
                }
                _ => Ok(Out::Value(Value::None)),
            }
        }
        _ => Err(vm.type_error(&format!("{name}() takes no timeout here"))),
    }
}

/// `threading.Timer`'s thread body, as CPython's `Timer.run`: wait on the
/// `finished` Event for the interval (a `cancel()` sets it and so ends the
/// wait at once), then call the function unless cancelled.
const TIMER_RUN: &str = "\
def _timer(finished, interval, function, args, kwargs):
    finished.wait(interval)
    if not finished.is_set():
        function(*args, **kwargs)
    finished.set()
";

/// `threading.Timer`, made once per run: a subclass of the library's
/// `Thread` class (`thread_class`) with its own `__init__` and `cancel`.
pub(crate) fn timer_class(rt: &super::Runtime) -> Rc<super::value::Class> {
    if let Some(Value::Class(c)) = rt.library.borrow().get("Timer") {
        return Rc::clone(c);
    }
    let c = super::value::Class::in_module("Timer", Some(super::thread_class::class(rt)), "threading");
    for (method, builtin) in [("__init__", "Timer.__init__"), ("cancel", "Timer.cancel")] {
        c.attrs.borrow_mut().insert(method.into(), Value::builtin(builtin, None));
    }
    rt.library.borrow_mut().insert("Timer", Value::Class(Rc::clone(&c)));
    c
}

/// The thread body of every Timer, compiled once per run.
fn timer_run(vm: &Vm<'_>) -> PyResult<Value> {
    if let Some(f) = vm.rt.library.borrow().get("_timer") {
        return Ok(f.clone());
    }
    let code = super::compile::compile_module("threading.py", TIMER_RUN)
        .map_err(|e| vm.rt.error("SystemError", &format!("threading.Timer: {e:?}")))?;
    let globals: Rc<super::value::Globals> = Rc::default();
    let f = code.consts.iter().find_map(|c| match c {
        Value::Func(f) => Some(super::value::Function::of_code(Rc::clone(&f.code), Rc::clone(&globals))),
        _ => None,
    });
    let f = f.ok_or_else(|| vm.rt.error("SystemError", "threading.Timer: no body"))?;
    vm.rt.library.borrow_mut().insert("_timer", f.clone());
    Ok(f)
}

/// `Timer.__init__(self, interval, function, args=None, kwargs=None)` and
/// `Timer.cancel(self)`.
pub(crate) fn timer_method(vm: &mut Vm<'_>, name: &str, this: &Value, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    use super::builtins::call_function;
    let Value::Instance(inst) = this else {
        return Err(vm.type_error(&format!("{name}() needs a Timer instance")));
    };
    if name == "Timer.cancel" {
        let Some(finished) = inst.get("finished") else {
            return Err(vm.rt.error("AttributeError", "'Timer' object has no attribute 'finished'"));
        };
        return super::builtins::call_method(vm, "set", &finished, Vec::new(), Vec::new());
    }
    let mut args = args.into_iter();
    let mut arg = |i: &str| args.next().or_else(|| kw(&kwargs, i)).filter(|v| !matches!(v, Value::None));
    let (Some(interval), Some(function)) = (arg("interval"), arg("function")) else {
        return Err(vm.type_error("Timer.__init__() missing required arguments: 'interval' and 'function'"));
    };
    let fargs = arg("args").unwrap_or_else(|| Value::list(Vec::new()));
    let fkwargs = arg("kwargs").unwrap_or_else(|| Value::dict(super::value::Dict::default()));
    let Out::Value(finished) = call_function(vm, "threading.Event", Vec::new(), Vec::new())? else {
        return Err(vm.type_error("threading.Event() made no event"));
    };
    // CPython's `Thread.__init__(self)`: no target, so `Thread-N` with no suffix.
    let n = vm.rt.thread_count.get() + 1;
    vm.rt.thread_count.set(n);
    let thread_name = Value::str(&format!("Thread-{n}"));
    let body = [finished.clone(), interval.clone(), function.clone(), fargs.clone(), fkwargs.clone()];
    let thread_kwargs: Kw = vec![
        ("target".into(), timer_run(vm)?),
        ("args".into(), Value::tuple(body.to_vec())),
        ("name".into(), thread_name.clone()),
    ];
    let Out::Value(native) = call_function(vm, "threading.Thread", Vec::new(), thread_kwargs)? else {
        return Err(vm.type_error("threading.Thread() made no thread"));
    };
    for (attr, v) in [
        ("_thread", native),
        ("name", thread_name),
        ("interval", interval),
        ("function", function),
        ("args", fargs),
        ("kwargs", fkwargs),
        ("finished", finished),
    ] {
        inst.set(attr, v);
    }
    Ok(Out::Value(Value::None))
}
