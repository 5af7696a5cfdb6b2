//! `twisted.internet`: `reactor`, `defer`, `task`, `threads`, over the real
//! twine-core reactor and Deferreds carrying interpreter values.
//!
//! A Python callback runs on the reactor thread inside the reactor's own
//! call. When it needs virtual time (`twine.cpu`, a lock) the rest becomes
//! reactor-thread work the engine finishes before the reactor starts another
//! call, as the step interpreter does, so a slow callback blocks the loop.
//! A Python exception crosses a Deferred as a core `Failure` holding the
//! exception's id; the runtime keeps the value.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use twine_core::defer::{Deferred, Failure, FailureKind, Outcome};

use super::builtins::full;
use twine_core::threads::{defer_to_thread_with, JobOptions};
use twine_core::trace::{SystemEvent, TriggerPhase};
use twine_core::Reactor;

use super::errors::Exc;
use super::stacks::{Link, Role};
use super::value::{Module, Native, Value};
use super::vm::{self, Kw, Out, PyResult, Task, Vm};
use super::{HeldJob, Runtime};
use crate::engine::interp::{Activation, End, Halt, REACTOR_THREAD};
use crate::engine::shared::{LoopInstance, Shared};

/// A Python exception inside a core `Failure`: its id in the runtime's table.
#[derive(Debug)]
pub(crate) struct PyError {
    pub id: u64,
    pub text: String,
}

impl fmt::Display for PyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for PyError {}

/// Where a finished Python job's result waits for the job's work closure:
/// `Ok(value id)` or `Err((exception id, text))`.
pub(crate) type JobSlot = Arc<Mutex<Option<Result<u64, (u64, String)>>>>;

/// A Python `deferToThread` job, as the pool's cost hint: the task to run
/// is in the runtime's table under `task`.
pub(crate) struct PyJob {
    pub task: u64,
    pub slot: JobSlot,
}

/// The `twisted.internet` modules.
pub(crate) fn module(rt: &Runtime, name: &str) -> Option<Value> {
    let f = |n: &'static str| Value::builtin(n, None);
    // Each module's attributes as a list, made into one map below: one
    // instantiation of the map's `collect` instead of one per array length.
    let (mname, attrs): (&'static str, Vec<(&'static str, Value)>) = match name {
        "twisted.internet" => {
            let mut attrs = vec![
                ("reactor", Value::Native(Rc::new(Native::Reactor))),
                ("defer", rt.import("twisted.internet.defer").ok()?),
                ("task", rt.import("twisted.internet.task").ok()?),
                ("threads", rt.import("twisted.internet.threads").ok()?),
                ("protocol", rt.import("twisted.internet.protocol").ok()?),
                ("error", rt.import("twisted.internet.error").ok()?),
                ("address", rt.import("twisted.internet.address").ok()?),
            ];
            if super::endpoints::HERE {
                attrs.push(("endpoints", rt.import("twisted.internet.endpoints").ok()?));
            }
            ("twisted.internet", attrs)
        }
        "twisted.internet.protocol" => {
            // The classes; `net` connects their instances to the reactor.
            let noop = || Value::builtin("Protocol.noop", None);
            let protocol = super::value::Class::in_module("Protocol", None, "twisted.internet.protocol");
            for m in ["connectionMade", "dataReceived", "connectionLost"] {
                protocol.attrs.borrow_mut().insert(m.into(), noop());
            }
            let factory = super::value::Class::in_module("Factory", None, "twisted.internet.protocol");
            factory.attrs.borrow_mut().insert("forProtocol".into(), Value::builtin("Factory.forProtocol", None));
            factory.attrs.borrow_mut().insert("buildProtocol".into(), Value::builtin("Factory.buildProtocol", None));
            // Ports and connectors it serves (`doStart`/`doStop` in `net`).
            factory.attrs.borrow_mut().insert("numPorts".into(), Value::Int(0));
            let client =
                super::value::Class::in_module("ClientFactory", Some(Rc::clone(&factory)), "twisted.internet.protocol");
            // Twisted's ServerFactory adds nothing to Factory but its name.
            let server =
                super::value::Class::in_module("ServerFactory", Some(Rc::clone(&factory)), "twisted.internet.protocol");
            let mut classes = vec![
                ("Protocol", Value::Class(protocol)),
                ("Factory", Value::Class(factory)),
                ("ClientFactory", Value::Class(Rc::clone(&client))),
                ("ServerFactory", Value::Class(server)),
            ];
            if let Some(Value::Class(body)) = super::clock::get(rt, "_ReconnectingClientFactory") {
                // Twisted's, in Python (`clock.rs`), on this ClientFactory.
                let rcf = super::value::Class::in_module(
                    "ReconnectingClientFactory",
                    Some(client),
                    "twisted.internet.protocol",
                );
                for (k, v) in body.attrs.borrow().iter() {
                    if &**k != "__module__" {
                        rcf.attrs.borrow_mut().insert(Rc::clone(k), v.clone());
                    }
                }
                classes.push(("ReconnectingClientFactory", Value::Class(rcf)));
            }
            ("twisted.internet.protocol", classes)
        }
        "twisted.internet.error" => {
            let names = super::errors::TWISTED_ERROR.iter().map(|n| (*n, Value::Class(rt.exc_class(n))));
            ("twisted.internet.error", names.collect())
        }
        "twisted.internet.address" => {
            ("twisted.internet.address", vec![("IPv4Address", Value::Class(super::net::ipv4_address_class()))])
        }
        "twisted.internet.endpoints" if super::endpoints::HERE => {
            ("twisted.internet.endpoints", super::endpoints::attrs())
        }
        "twisted.protocols" => ("twisted.protocols", vec![("basic", rt.import("twisted.protocols.basic").ok()?)]),
        "twisted.protocols.basic" => {
            let base = match rt.import("twisted.internet.protocol").ok()? {
                Value::Module(m) => match m.attrs.get("Protocol") {
                    Some(Value::Class(c)) => Rc::clone(c),
                    _ => return None,
                },
                _ => return None,
            };
            let lr = super::value::Class::in_module("LineReceiver", Some(base), "twisted.protocols.basic");
            {
                let mut a = lr.attrs.borrow_mut();
                a.insert("dataReceived".into(), Value::builtin("LineReceiver.dataReceived", None));
                a.insert("sendLine".into(), Value::builtin("LineReceiver.sendLine", None));
                for m in ["setRawMode", "setLineMode", "rawDataReceived", "lineLengthExceeded"] {
                    let name: &'static str = match m {
                        "setRawMode" => "LineReceiver.setRawMode",
                        "setLineMode" => "LineReceiver.setLineMode",
                        "rawDataReceived" => "LineReceiver.rawDataReceived",
                        _ => "LineReceiver.lineLengthExceeded",
                    };
                    a.insert(m.into(), Value::builtin(name, None));
                }
                a.insert("line_mode".into(), Value::Int(1));
                a.insert("delimiter".into(), Value::Bytes(Rc::from(&b"\r\n"[..])));
                a.insert("MAX_LENGTH".into(), Value::Int(16384));
            }
            // Twisted's LineOnlyReceiver: a Protocol (not a LineReceiver)
            // reading lines the same way, without raw mode.
            let only = super::value::Class::in_module("LineOnlyReceiver", lr.base.clone(), "twisted.protocols.basic");
            for (k, v) in lr.attrs.borrow().iter() {
                if !matches!(&**k, "setRawMode" | "setLineMode" | "rawDataReceived" | "line_mode" | "__module__") {
                    only.attrs.borrow_mut().insert(Rc::clone(k), v.clone());
                }
            }
            (
                "twisted.protocols.basic",
                vec![("LineReceiver", Value::Class(lr)), ("LineOnlyReceiver", Value::Class(only))],
            )
        }
        "twisted.internet.defer" => (
            "twisted.internet.defer",
            vec![
                ("Deferred", f("defer.Deferred")),
                ("succeed", f("defer.succeed")),
                ("fail", f("defer.fail")),
                ("gatherResults", f("defer.gatherResults")),
                ("DeferredList", f("defer.DeferredList")),
                ("DeferredLock", f("defer.DeferredLock")),
                ("DeferredSemaphore", f("defer.DeferredSemaphore")),
                ("DeferredQueue", f("defer.DeferredQueue")),
                ("maybeDeferred", f("defer.maybeDeferred")),
                ("inlineCallbacks", library(rt, "inlineCallbacks")?),
                ("ensureDeferred", library(rt, "ensureDeferred")?),
                // Deprecated since Twisted 24.7 (which warns on stderr) but in
                // most older examples: `return value` does the same.
                ("returnValue", library(rt, "returnValue")?),
                ("passthru", library(rt, "passthru")?),
                ("execute", library(rt, "execute")?),
                ("NotACoroutineError", Value::Class(rt.exc_class("NotACoroutineError"))),
                ("CancelledError", Value::Class(rt.exc_class("CancelledError"))),
                ("TimeoutError", Value::Class(rt.exc_class("TimeoutError"))),
                ("FirstError", Value::Class(rt.exc_class("FirstError"))),
                ("AlreadyCalledError", Value::Class(rt.exc_class("AlreadyCalledError"))),
                ("QueueOverflow", Value::Class(rt.exc_class("QueueOverflow"))),
                ("QueueUnderflow", Value::Class(rt.exc_class("QueueUnderflow"))),
            ],
        ),
        "twisted.internet.task" => (
            "twisted.internet.task",
            vec![
                ("deferLater", f("task.deferLater")),
                ("LoopingCall", f("task.LoopingCall")),
                ("react", library(rt, "react")?),
            ]
            .into_iter()
            .chain(super::clock::get(rt, "Clock").map(|c| ("Clock", c)))
            .chain(super::clock::COOPERATOR.into_iter().filter_map(|n| Some((n, super::clock::get(rt, n)?))))
            .collect(),
        ),
        // CPython's cycle collector, which frees a Deferred whose raised
        // failure's traceback holds it ([`super::unhandled::report_cycles`]).
        "gc" if super::compile::PARSER => ("gc", vec![("collect", f("gc.collect"))]),
        "sys" => {
            let stream = |name: &'static str, write: &'static str, flush: &'static str| {
                let attrs = [("write", f(write)), ("flush", f(flush))].into_iter().collect();
                Value::Module(Rc::new(Module { name, attrs }))
            };
            let stdout = stream("sys.stdout", "sys.stdout.write", "sys.stdout.flush");
            let stderr = stream("sys.stderr", "sys.stderr.write", "sys.stderr.flush");
            let mut attrs = vec![("exit", f("sys.exit")), ("stdout", stdout), ("stderr", stderr)];
            if super::compile::PARSER {
                // The CPython the simulator stands for: 3.11 on 64-bit Linux
                // (`version_info` and `argv` are Python, `std/sys.py`).
                attrs.extend([
                    ("maxsize", Value::Int(i64::MAX)),
                    ("platform", Value::str("linux")),
                    ("byteorder", Value::str("little")),
                    ("exc_info", f("sys.exc_info")),
                    ("exception", f("sys.exception")),
                    ("getswitchinterval", f("sys.getswitchinterval")),
                    ("setswitchinterval", f("sys.setswitchinterval")),
                ]);
            }
            ("sys", attrs)
        }
        "twisted.python" => (
            "twisted.python",
            vec![
                ("log", rt.import("twisted.python.log").ok()?),
                ("failure", rt.import("twisted.python.failure").ok()?),
            ],
        ),
        "twisted.python.failure" => ("twisted.python.failure", vec![("Failure", f("failure.Failure"))]),
        "twisted.python.log" => (
            "twisted.python.log",
            vec![("msg", f("log.msg")), ("err", f("log.err")), ("startLogging", f("log.startLogging"))],
        ),
        "twisted.internet.threads" => {
            let mut fs = vec![
                ("deferToThread", f("threads.deferToThread")),
                ("blockingCallFromThread", blocking_call_from_thread()?),
            ];
            if super::compile::PARSER {
                fs.push(("deferToThreadPool", library(rt, "deferToThreadPool")?));
                fs.push(("callMultipleInThread", library(rt, "callMultipleInThread")?));
            }
            ("twisted.internet.threads", fs)
        }
        _ => return None,
    };
    Some(Value::Module(Rc::new(Module { name: mname, attrs: attrs.into_iter().collect() })))
}

/// Methods of the natives this module makes.
pub(crate) fn method(n: &Native, name: &str) -> Option<&'static str> {
    let table: &[&'static str] = match n {
        Native::Reactor => &[
            "callLater",
            "callWhenRunning",
            "run",
            "stop",
            "seconds",
            "callFromThread",
            "callInThread",
            "listenTCP",
            "connectTCP",
            "addSystemEventTrigger",
            "suggestThreadPoolSize",
            "getDelayedCalls",
            "getThreadPool",
            "removeSystemEventTrigger",
        ],
        Native::DelayedCall(_) => &["cancel", "active", "getTime", "reset", "delay"],
        Native::Deferred(_) => &[
            "addCallback",
            "addErrback",
            "addBoth",
            "addCallbacks",
            "callback",
            "errback",
            "cancel",
            "addTimeout",
            "pause",
            "unpause",
            "chainDeferred",
        ],
        Native::Failure(_) => &[
            "getErrorMessage",
            "check",
            "trap",
            "getTraceback",
            "getBriefTraceback",
            "printTraceback",
            "printBriefTraceback",
        ],
        Native::LoopingCall { .. } if super::compile::PARSER => &["start", "stop", "reset"],
        Native::LoopingCall { .. } => &["start", "stop"],
        Native::Transport(_) | Native::Connector(_) | Native::Port(_) => return super::net::method(n, name),
        Native::DeferredLock(_) | Native::DeferredSemaphore(_) => &["acquire", "release", "run"],
        Native::DeferredQueue(_) => &["put", "get"],
        _ => return None,
    };
    table.iter().find(|m| **m == name).copied()
}

/// Twisted's `AlreadyCalled` / `AlreadyCancelled` for a DelayedCall that
/// cannot be cancelled, reset or delayed any more.
fn timer_error(vm: &Vm<'_>, e: twine_core::reactor::TimerError) -> super::Exc {
    match e {
        twine_core::reactor::TimerError::AlreadyCalled => {
            vm.rt.error("AlreadyCalled", "Tried to cancel an already-called event.")
        }
        twine_core::reactor::TimerError::AlreadyCancelled => {
            vm.rt.error("AlreadyCancelled", "Tried to cancel an already-cancelled event.")
        }
    }
}

fn seconds(vm: &Vm<'_>, v: &Value) -> PyResult<Duration> {
    let s = match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        other => return Err(vm.type_error(&format!("a delay is a number of seconds, not {}", other.type_name()))),
    };
    if !(s >= 0.0 && s.is_finite()) {
        return Err(vm.rt.error("ValueError", "a delay must be a non-negative number of seconds"));
    }
    Ok(delay_from_secs(s))
}

/// The longest delay the reactor's clock holds (about 584 years).
const LONGEST_DELAY: Duration = Duration::from_nanos(u64::MAX);

/// A finite, non-negative number of seconds as a delay. Twisted takes any
/// such delay (`callLater(1e308, f)` schedules a call that never comes);
/// here one past the clock's range waits for its end, which no run reaches.
pub(super) fn delay_from_secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).map_or(LONGEST_DELAY, |d| d.min(LONGEST_DELAY))
}

fn reactor(vm: &Vm<'_>) -> PyResult<twine_core::Reactor> {
    vm.sh.reactor().ok_or_else(|| vm.rt.error("RuntimeError", "the reactor is gone"))
}

/// A call to make later: the callable and its arguments.
#[derive(Clone)]
pub(crate) struct Call {
    pub f: Value,
    pub args: Vec<Value>,
    pub kwargs: Kw,
}

fn split_call(vm: &Vm<'_>, mut args: Vec<Value>, kwargs: Kw, what: &str) -> PyResult<Call> {
    if args.is_empty() {
        return Err(vm.type_error(&format!("{what} needs a function to call")));
    }
    let f = args.remove(0);
    Ok(Call { f, args, kwargs })
}

/// Functions of the twisted modules.
pub(crate) fn call_function(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let v = match name {
        "defer.Deferred" => match args.into_iter().next() {
            // Twisted's `Deferred(canceller)`: `cancel()` calls it with the
            // Deferred before failing it with CancelledError. Twisted lets
            // an exception in it out of `cancel()`; here it is logged.
            Some(canceller) if !matches!(canceller, Value::None) => {
                let sh = Rc::clone(vm.sh);
                deferred(Deferred::with_canceller(move |d: &Deferred<Value>| {
                    if let Outcome::Failure(f) = run_callback(&sh, canceller, vec![deferred(d.clone())], Vec::new()) {
                        if let Some(rt) = sh.py.borrow().clone() {
                            report_unhandled(&sh, &rt, CANCELLER_FAILED, &f);
                        }
                    }
                }))
            }
            _ => deferred(Deferred::new()),
        },
        // Twisted's `Failure(exc)`; `Failure()` in an except block reaches
        // here with the exception being handled (see `Vm::call_flow`).
        "failure.Failure" if full(vm, "failure.Failure") => match args.first() {
            Some(Value::Instance(i)) if i.class.is_subclass(&vm.rt.exc_class("BaseException")) => {
                Value::Native(Rc::new(Native::Failure(Value::Instance(Rc::clone(i)))))
            }
            _ => return Err(vm.type_error("Failure(exception): give it the exception, or call it inside `except`")),
        },
        // `log.msg` writes to the log, which prints nothing until
        // `startLogging`; `log.err` prints a failure as Twisted's default
        // observer does (to stderr).
        "log.msg" if full(vm, "log.msg") => {
            if vm.rt.logging.get() {
                let text = args.iter().map(|a| vm.str_of(a)).collect::<PyResult<Vec<_>>>()?.join(" ");
                log_line(vm, &text);
            }
            Value::None
        }
        "log.startLogging" if full(vm, "log.startLogging") => {
            if !vm.rt.logging.replace(true) {
                log_line(vm, "Log opened.");
            }
            Value::None
        }
        "log.err" if full(vm, "log.err") => {
            let why = match args.get(1).or(kw_arg(&kwargs, "_why").as_ref()) {
                Some(w) => vm.str_of(w)?,
                None => "Unhandled Error".to_owned(),
            };
            let exc = match args.first() {
                Some(Value::Native(n)) => match &**n {
                    Native::Failure(e) => e.clone(),
                    _ => return Err(vm.type_error("log.err(failure, why)")),
                },
                Some(e @ Value::Instance(_)) => e.clone(),
                _ => return Err(vm.type_error("log.err(failure, why): give it the failure or exception")),
            };
            log_err(vm.sh, vm.rt, &why, &exc);
            Value::None
        }
        "defer._logErr" => match args.as_slice() {
            [Value::Native(n), why] if matches!(**n, Native::Failure(_)) => {
                let Native::Failure(exc) = &**n else { unreachable!() };
                let why = vm.str_of(why)?;
                log_err(vm.sh, vm.rt, &why, exc);
                Value::None
            }
            _ => return Err(vm.type_error("_logErr(failure, why)")),
        },
        // Twisted accepts a coroutine or a generator (what `_inlineCallbacks` drives).
        "defer._requireCoroutine" => match args.as_slice() {
            [Value::Generator(_), _] => Value::None,
            [other, what] => {
                let text = format!("{} is not {}", vm.repr_of(other)?, vm.str_of(what)?);
                return Err(vm.rt.error("NotACoroutineError", &text));
            }
            _ => return Err(vm.type_error("_requireCoroutine(coro, what)")),
        },
        // Twisted's inlineCallbacks takes a generator, not a coroutine.
        "defer._isGenerator" => Value::Bool(matches!(args.first(), Some(Value::Generator(g)) if !g.coroutine)),
        "defer._isDeferred" | "defer._isFailure" => {
            let n = match args.first() {
                Some(Value::Native(n)) => Some(n),
                _ => None,
            };
            Value::Bool(match name {
                "defer._isDeferred" => n.is_some_and(|n| matches!(**n, Native::Deferred(_))),
                _ => n.is_some_and(|n| matches!(**n, Native::Failure(_))),
            })
        }
        "defer.succeed" => deferred(fired(args.into_iter().next().unwrap_or_default())),
        "defer.fail" => {
            let exc = args.into_iter().next().unwrap_or_default();
            let failure = to_failure(vm.rt, &exc_value(vm, exc)?);
            let d = Deferred::new();
            let _ = d.errback(failure);
            deferred(d)
        }
        "defer.DeferredLock" if full(vm, "defer.DeferredLock") => {
            Value::Native(Rc::new(Native::DeferredLock(twine_core::defer::DeferredLock::new())))
        }
        "defer.DeferredSemaphore" if full(vm, "defer.DeferredSemaphore") => match args.first() {
            Some(Value::Int(n)) if *n >= 1 => Value::Native(Rc::new(Native::DeferredSemaphore(
                twine_core::defer::DeferredSemaphore::new(*n as usize),
            ))),
            _ => return Err(vm.rt.error("ValueError", "DeferredSemaphore requires tokens >= 1")),
        },
        "defer.DeferredQueue" if full(vm, "defer.DeferredQueue") => {
            let size = match kw_arg(&kwargs, "size").or_else(|| args.first().cloned()) {
                Some(Value::Int(n)) if n >= 0 => Some(n as usize),
                _ => None,
            };
            let backlog = match kw_arg(&kwargs, "backlog").or_else(|| args.get(1).cloned()) {
                Some(Value::Int(n)) if n >= 0 => Some(n as usize),
                _ => None,
            };
            Value::Native(Rc::new(Native::DeferredQueue(twine_core::defer::DeferredQueue::bounded(size, backlog))))
        }
        "defer.maybeDeferred" if full(vm, "defer.maybeDeferred") => {
            let call = split_call(vm, args, kwargs, "maybeDeferred")?;
            let sh = Rc::clone(vm.sh);
            deferred(match run_callback(&sh, call.f, call.args, call.kwargs) {
                Outcome::Value(v) => fired(v),
                Outcome::Failure(f) => {
                    let d = Deferred::new();
                    let _ = d.errback(f);
                    d
                }
                Outcome::Deferred(d) => d,
            })
        }
        "defer.DeferredList" if full(vm, "defer.DeferredList") => {
            let items = vm.collect(args.first().unwrap_or(&Value::None))?;
            let flag = |name: &str, at: usize| {
                kw_arg(&kwargs, name).or_else(|| args.get(at).cloned()).is_some_and(|v| v.truthy())
            };
            let (on_one_cb, on_one_eb, consume) =
                (flag("fireOnOneCallback", 1), flag("fireOnOneErrback", 2), flag("consumeErrors", 3));
            let out: Deferred<Value> = Deferred::new();
            let n = items.len();
            let results: Rc<std::cell::RefCell<Vec<Option<Value>>>> = Rc::new(std::cell::RefCell::new(vec![None; n]));
            if n == 0 && !on_one_cb {
                let _ = out.callback(Value::list(Vec::new()));
            }
            for (i, item) in items.into_iter().enumerate() {
                let d = match &item {
                    Value::Native(nat) => match &**nat {
                        Native::Deferred(d) => d.clone(),
                        _ => fired(item.clone()),
                    },
                    _ => fired(item.clone()),
                };
                let (out, results, sh) = (out.clone(), Rc::clone(&results), Rc::clone(vm.sh));
                d.add_both(move |r: Result<Value, Failure>| {
                    let (ok, v, passed) = match r {
                        Ok(v) => {
                            if on_one_cb && !out.called() {
                                let _ = out.callback(Value::tuple(vec![v.clone(), Value::Int(i as i64)]));
                            }
                            (true, v.clone(), Outcome::Value(v))
                        }
                        Err(f) => {
                            if on_one_eb && !out.called() {
                                let _ = out.errback(f.clone().first_error(i));
                            }
                            let exc = sh.py.borrow().as_ref().map(|rt| from_failure(rt, &f)).unwrap_or_default();
                            let passed = if consume { Outcome::Value(Value::None) } else { Outcome::Failure(f) };
                            (false, Value::Native(Rc::new(Native::Failure(exc))), passed)
                        }
                    };
                    results.borrow_mut()[i] = Some(Value::tuple(vec![Value::Bool(ok), v]));
                    if !out.called() && results.borrow().iter().all(Option::is_some) {
                        let all = results.borrow_mut().iter_mut().map(|r| r.take().unwrap_or_default()).collect();
                        let _ = out.callback(Value::list(all));
                    }
                    passed
                });
            }
            deferred(out)
        }
        "task.deferLater" if super::clock::HERE && !args.first().is_some_and(super::clock::is_reactor) => {
            // On a `task.Clock` (or any object with `callLater`): Twisted's, in Python.
            let later = super::clock::get(vm.rt, "_deferLater").ok_or_else(|| vm.type_error("no deferLater"))?;
            return vm.call(later, args, kwargs);
        }
        "task.deferLater" => {
            if args.len() < 2 {
                return Err(vm.type_error("deferLater(reactor, delay, f=None, *args)"));
            }
            let mut args = args;
            let rest = args.split_off(2);
            let delay = seconds(vm, &args[1])?;
            let r = reactor(vm)?;
            let sh = Rc::clone(vm.sh);
            let call = if rest.is_empty() { None } else { Some(split_call(vm, rest, kwargs, "deferLater")?) };
            let d: Deferred<Value> = twine_core::task::defer_later(&r, delay, move || match call {
                Some(c) => run_callback(&sh, c.f, c.args, c.kwargs),
                None => Outcome::Value(Value::None),
            });
            deferred(d)
        }
        "defer.gatherResults" => {
            let items = vm.collect(args.first().unwrap_or(&Value::None))?;
            let mut ds = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Native(n) if matches!(&*n, Native::Deferred(_)) => {
                        if let Native::Deferred(d) = &*n {
                            ds.push(d.clone());
                        }
                    }
                    other => ds.push(fired(other)),
                }
            }
            // Twisted's default keeps an input's failure for its own
            // errbacks (or the unhandled-error report) as well.
            let consume = kw_arg(&kwargs, "consumeErrors").or_else(|| args.get(1).cloned()).is_some_and(|v| v.truthy());
            // `gather_results_with` made into a list where it collects the
            // values: the same Deferreds and links, without a
            // `Deferred<Vec<Value>>` (one more copy of the Deferred code in
            // the wasm module).
            let list = twine_core::defer::DeferredList::new(ds).fire_on_one_errback();
            let list = if consume { list.consume_errors() } else { list };
            let all = list
                .into_deferred()
                .try_map(|results| results.into_iter().collect::<Result<Vec<Value>, Failure>>().map(Value::list));
            let out: Deferred<Value> = Deferred::new();
            let fire = out.clone();
            all.add_both(move |r: Result<Value, Failure>| {
                let _ = fire.fire(r);
                Outcome::Value(Value::None)
            });
            deferred(out)
        }
        "Factory.forProtocol" => {
            let Some(Value::Class(p)) = args.first() else {
                return Err(vm.type_error("Factory.forProtocol(ProtocolClass)"));
            };
            let factory = match vm.rt.import("twisted.internet.protocol")? {
                Value::Module(m) => match m.attrs.get("Factory") {
                    Some(Value::Class(f)) => Rc::clone(f),
                    _ => return Err(vm.type_error("no Factory")),
                },
                _ => return Err(vm.type_error("no Factory")),
            };
            let inst = super::value::Instance { class: factory, attrs: Default::default() };
            inst.set("protocol", Value::Class(Rc::clone(p)));
            Value::Instance(Rc::new(inst))
        }
        "task.LoopingCall" => {
            let call = split_call(vm, args, kwargs, "LoopingCall")?;
            if !call.kwargs.is_empty() {
                return Err(vm.type_error("LoopingCall(f, *args): keyword arguments are not supported"));
            }
            Value::Native(Rc::new(Native::LoopingCall {
                f: call.f,
                args: call.args,
                lc: Default::default(),
                count: false,
            }))
        }
        "task.LoopingCall.withCount" => {
            let call = split_call(vm, args, kwargs, "LoopingCall.withCount")?;
            Value::Native(Rc::new(Native::LoopingCall {
                f: call.f,
                args: call.args,
                lc: Default::default(),
                count: true,
            }))
        }
        "threads._poolState" if full(vm, "threads._poolState") => {
            let name = args.first().map(|n| vm.str_of(n)).transpose()?.unwrap_or_default();
            super::clock::pool_state(vm, &name)?
        }
        "threads._callInReactor" if full(vm, "threads._callInReactor") => {
            // For blockingCallFromThread: runs f(*a, **kw) on the reactor
            // thread and fills [event, failed, result], then sets the event.
            if vm.tid == REACTOR_THREAD {
                return Err(vm
                    .rt
                    .error("RuntimeError", "blockingCallFromThread must not be called in the reactor thread"));
            }
            let mut args = args.into_iter();
            let (f, a, kw) = (args.next().unwrap_or_default(), args.next().unwrap_or_default(), args.next());
            let a = vm.collect(&a)?;
            let mut kwargs = Vec::new();
            if let Some(Value::Dict(d)) = kw {
                for (k, v) in d.borrow().items() {
                    if let Value::Str(k) = k {
                        kwargs.push((Rc::clone(k), v.clone()));
                    }
                }
            }
            let event = super::builtins::new_event(vm.sh, "blockingCallFromThread");
            let boxed = Value::list(vec![event.clone(), Value::Bool(false), Value::None]);
            let out = boxed.clone();
            let fill = move |sh: &Rc<Shared>, failed: bool, v: Value| {
                if let Value::List(l) = &out {
                    let mut l = l.borrow_mut();
                    l[1] = Value::Bool(failed);
                    l[2] = v;
                }
                if let Value::Native(n) = &event {
                    super::builtins::set_event(sh, n);
                }
            };
            // Twisted's goes through `callFromThread`: so does this.
            vm.sh.call_from_thread_local(Box::new(move |sh| {
                let exc = |sh: &Rc<Shared>, f: &Failure| {
                    sh.py.borrow().as_ref().map(|rt| from_failure(rt, f)).unwrap_or_default()
                };
                match run_callback(sh, f, a, kwargs) {
                    Outcome::Value(v) => fill(sh, false, v),
                    Outcome::Failure(e) => fill(sh, true, exc(sh, &e)),
                    Outcome::Deferred(d) => {
                        let sh2 = Rc::clone(sh);
                        d.add_both(move |r: Result<Value, Failure>| {
                            match r {
                                Ok(v) => fill(&sh2, false, v),
                                Err(e) => fill(&sh2, true, exc(&sh2, &e)),
                            }
                            Outcome::Value(Value::None)
                        });
                    }
                }
            }));
            boxed
        }
        "threads.deferToThread" => {
            let mut call = split_call(vm, args, kwargs, "deferToThread")?;
            if !matches!(call.f, Value::Func(_) | Value::Method(_)) {
                // A built-in (`print`) or a class runs in the pool thread
                // too: through a Python function that calls it.
                let via = library_function("_callInThread").ok_or_else(|| vm.type_error("no _callInThread"))?;
                call.args.insert(0, std::mem::replace(&mut call.f, via));
            }
            let frame = match vm.call(call.f, call.args, call.kwargs)? {
                Out::Frame(frame) => frame,
                Out::Value(_) | Out::Halt(..) | Out::Retry(_) => {
                    return Err(vm.type_error("deferToThread needs a function"))
                }
            };
            let r = reactor(vm)?;
            let mut task = Task::callback(frame);
            // Twisted's pool starts a thread for a job no idle thread takes,
            // in the call, with `Thread.start()`: the caller waits until the
            // new thread has run, then for the GIL. Ten jobs handed to an
            // empty pool of ten beside CPU-bound work take CPython hundreds
            // of milliseconds.
            let started =
                (r.lifecycle() == twine_core::reactor::Lifecycle::Running).then(|| pool_start_gate(vm)).flatten();
            task.started = started.map(|lock| (lock, false));
            let task = vm.rt.store_task(task);
            let slot: JobSlot = Arc::default();
            let hint = PyJob { task, slot: Arc::clone(&slot) };
            let out: Deferred<Value> = Deferred::new();
            let (fire, rt) = (out.clone(), Rc::clone(vm.rt));
            let submit = move |r: &twine_core::Reactor| {
                // A `Deferred<()>`, the value's id left in the slot for the
                // callback below: a `Deferred<u64>` would be one more copy of
                // the Deferred code in the wasm module, for this alone.
                let result = Arc::clone(&slot);
                let d: Deferred<()> = defer_to_thread_with(
                    r,
                    JobOptions { name: Some(Cow::Borrowed("deferToThread")), hint: Some(Box::new(hint)) },
                    move || {
                        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                        match slot.take() {
                            Some(Ok(id)) => {
                                *slot = Some(Ok(id));
                                Ok(())
                            }
                            Some(Err((id, text))) => Err(Failure::from_error(FailureKind::Error, PyError { id, text })),
                            None => Err(Failure::new(FailureKind::Error, "the job did not finish")),
                        }
                    },
                );
                d.add_both(move |r: Result<(), Failure>| {
                    let _ = match r {
                        Ok(()) => match result.lock().unwrap_or_else(PoisonError::into_inner).take() {
                            Some(Ok(id)) => fire.callback(rt.take_value(id)),
                            _ => fire.errback(Failure::new(FailureKind::Error, "the job did not finish")),
                        },
                        Err(f) => fire.errback(f),
                    };
                    Outcome::Value(())
                });
            };
            if r.lifecycle() == twine_core::reactor::Lifecycle::NotStarted {
                // Twisted's pool starts with the reactor (its `start` is a
                // `callWhenRunning` made at the pool's first use): jobs given
                // before `reactor.run()` wait for it, in order, and it
                // starts a thread for each (up to its size) as a call here
                // does (`_startThreadPool`).
                let first = vm.rt.held_jobs.borrow().is_empty();
                vm.rt.held_jobs.borrow_mut().push(HeldJob { task, submit: Box::new(submit) });
                if first {
                    let f = library(vm.rt, "_startThreadPool").ok_or_else(|| vm.type_error("no _startThreadPool"))?;
                    let sh = Rc::clone(vm.sh);
                    let start = Call { f, args: Vec::new(), kwargs: Vec::new() };
                    r.call_when_running(move |_| run_top(&sh, TRIGGER_FAILED, start));
                }
            } else {
                submit(&r);
                if let Some(gate) = started {
                    return Ok(wait_for_pool_thread(vm, gate, deferred(out)));
                }
            }
            deferred(out)
        }
        "threads._submitHeldJob" => {
            // The next job given before `reactor.run()`, handed to the
            // now running pool as `deferToThread` hands one: the call waits
            // for a thread it starts (false: none was left).
            if vm.rt.held_jobs.borrow().is_empty() {
                return Ok(Out::Value(Value::Bool(false)));
            }
            let job = vm.rt.held_jobs.borrow_mut().remove(0);
            let gate = pool_start_gate(vm);
            if let Some(gate) = gate {
                vm.rt.gate_task(job.task, gate);
            }
            (job.submit)(&reactor(vm)?);
            if let Some(gate) = gate {
                return Ok(wait_for_pool_thread(vm, gate, Value::Bool(true)));
            }
            Value::Bool(true)
        }
        _ => return Err(vm.type_error(&format!("{name}() is not supported"))),
    };
    Ok(Out::Value(v))
}

/// The gate a job's new pool thread lets its caller through once it has
/// run, when the job about to be handed over starts one (the jobs ahead of
/// it take the idle threads first, and the pool may still grow).
fn pool_start_gate(vm: &Vm<'_>) -> Option<u32> {
    vm.sh.next_job_starts_a_thread().then(|| vm.start_gate("ThreadPool.start"))
}

/// The caller makes the pool's new thread, holding the GIL, and its call
/// returns `value` once that thread has run: Twisted's pool starts it with
/// `Thread.start()` in the caller (`spawn_on_caller`).
fn wait_for_pool_thread(vm: &mut Vm<'_>, gate: u32, value: Value) -> Out {
    vm.rt.pool_spawn.set(true);
    vm.wait_at(gate, value)
}

/// `threads.blockingCallFromThread`, written in Python over a native that
/// runs the call on the reactor thread: the calling thread waits on an
/// Event. And `_callInThread`, which runs a built-in as a pool job, and
/// `_startThreadPool`, the pool's start when the reactor runs: it hands the
/// jobs given before `reactor.run()` over one by one, waiting for each
/// thread it starts, as Twisted's `ThreadPool.start` does in the reactor
/// thread.
const BLOCKING_CALL: &str = "\
def blockingCallFromThread(reactor, f, *a, **kw):
    box = _callInReactor(f, a, kw)
    box[0].wait()
    if box[1]:
        raise box[2]
    return box[2]

def _callInThread(f, *a, **kw):
    return f(*a, **kw)

def _startThreadPool():
    while _submitHeldJob():
        pass

def deferToThreadPool(reactor, threadpool, f, *args, **kwargs):
    return _deferToThread(f, *args, **kwargs)

def callMultipleInThread(tupleList):
    _reactor.callInThread(_runMultiple, tupleList)

def _runMultiple(tupleList):
    for f, args, kwargs in tupleList:
        f(*args, **kwargs)

def passthru(arg):
    return arg

def execute(callable, *args, **kwargs):
    try:
        result = callable(*args, **kwargs)
    except BaseException as e:
        return _fail(e)
    return _succeed(result)
";

/// `defer.inlineCallbacks`, as Twisted's `_inlineCallbacks` drives the
/// generator: a yielded Deferred that has already fired is resumed at once,
/// in the same loop; one that has not resumes the generator when it fires.
/// A yielded value that is not a Deferred comes straight back.
///
/// `ensureDeferred` and `Deferred.fromCoroutine` drive a coroutine the same
/// way, as Twisted's do. `await d` is `yield from` over `_awaitDeferred(d)`,
/// which is Twisted's `Deferred.__await__`: it yields the Deferred to the
/// driver and returns what the driver sends back, its result; a failure is
/// thrown in and raised at the `await`.
///
/// `task.react`, as Twisted's: runs the reactor until `main`'s Deferred (or
/// coroutine) is done, stops it once, logs a failure, and exits the program
/// (code 0, 1 after a failure, or SystemExit's).
const INLINE_CALLBACKS: &str = "\
def inlineCallbacks(f):
    def unwindGenerator(*args, **kwargs):
        g = f(*args, **kwargs)
        if not _isGenerator(g):
            raise TypeError('inlineCallbacks requires %r to produce a generator; instead got %r' % (f, g))
        d = _Deferred()
        _inlineCallbacks(g, d, None, False)
        return d
    return unwindGenerator

def _inlineCallbacks(g, d, result, failed):
    while True:
        try:
            if failed:
                step = g.throw(result)
            else:
                step = g.send(result)
        except StopIteration as e:
            d.callback(e.value)
            return
        except _DefGen_Return as e:
            d.callback(e.args[0])
            return
        except BaseException as e:
            d.errback(e)
            return
        if not _isDeferred(step):
            result, failed = step, False
            continue
        state = [True, None, False, False]
        def gotResult(r, state=state):
            bad = _isFailure(r)
            value = r.value if bad else r
            if state[0]:
                state[1] = value
                state[2] = bad
                state[3] = True
            else:
                _inlineCallbacks(g, d, value, bad)
        step.addBoth(gotResult)
        if state[3]:
            result, failed = state[1], state[2]
            continue
        state[0] = False
        return

def returnValue(val):
    raise _DefGen_Return(val)

def ensureDeferred(coro):
    if _isDeferred(coro):
        return coro
    _requireCoroutine(coro, 'a coroutine or a Deferred')
    return fromCoroutine(coro)

def fromCoroutine(coro):
    _requireCoroutine(coro, 'a coroutine')
    d = _Deferred()
    _inlineCallbacks(coro, d, None, False)
    return d

def _awaitDeferred(d):
    return (yield d)

def react(main, *args, **kwargs):
    argv = args[0] if args else kwargs.get('argv', ())
    finished = ensureDeferred(main(_reactor, *argv))
    state = [0, False]
    def onShutdown():
        state[1] = True
    _reactor.addSystemEventTrigger('before', 'shutdown', onShutdown)
    def stop(result, stopReactor):
        if stopReactor and _reactor.running:
            _reactor.stop()
        if _isFailure(result):
            if result.check(SystemExit):
                state[0] = result.value.args[0] if result.value.args else None
            else:
                _logErr(result, 'main function encountered error')
                state[0] = 1
    def cbFinish(result):
        if state[1]:
            stop(result, False)
        else:
            _reactor.callWhenRunning(stop, result, True)
    finished.addBoth(cbFinish)
    _reactor.run()
    _exit(state[0])
";

/// The library's parts written in Python, as `(file, source)`: compiled when
/// first imported, and ahead of time for builds without the parser
/// (`precompiled::library`), which find them by file name
/// ([`LIBRARY_FILES`]): they then carry no copy of the sources.
pub(crate) const LIBRARY: &[(&str, &str)] =
    &[("<twisted.internet.threads>", BLOCKING_CALL), ("<twisted.internet.defer>", INLINE_CALLBACKS)];

/// [`LIBRARY`]'s file names.
const LIBRARY_FILES: [&str; 2] = ["<twisted.internet.threads>", "<twisted.internet.defer>"];

/// The code of the library's part in `file`: as registered ahead of time
/// (a build without the parser has nothing else), else compiled from its
/// source.
fn library_module(file: &str) -> Option<Rc<super::code::Code>> {
    if let Some(code) = super::precompiled::library_code(file) {
        return Some(code);
    }
    if !super::compile::PARSER {
        return None;
    }
    let (file, source) = LIBRARY.iter().find(|(f, _)| *f == file)?;
    super::compile::compile_module(file, source).ok()
}

/// A function of the library's Python part, made once per runtime (`await`
/// asks for `_awaitDeferred` once per Deferred it awaits).
pub(crate) fn library(rt: &super::Runtime, name: &'static str) -> Option<Value> {
    if let Some(f) = rt.library.borrow().get(name) {
        return Some(f.clone());
    }
    let f = library_function(name)?;
    rt.library.borrow_mut().insert(name, f.clone());
    Some(f)
}

fn blocking_call_from_thread() -> Option<Value> {
    library_function("blockingCallFromThread")
}

/// A function of the library's Python part. Its globals are its file's
/// functions and the natives they call.
fn library_function(name: &str) -> Option<Value> {
    let code = LIBRARY_FILES.iter().find_map(|file| {
        let code = library_module(file)?;
        code.consts.iter().any(|c| matches!(c, Value::Func(f) if &*f.code.name == name)).then_some(code)
    })?;
    let globals: Rc<super::value::Globals> = Rc::default();
    let natives = [
        ("_callInReactor", "threads._callInReactor"),
        ("_Deferred", "defer.Deferred"),
        ("_isDeferred", "defer._isDeferred"),
        ("_isGenerator", "defer._isGenerator"),
        ("_isFailure", "defer._isFailure"),
        ("_requireCoroutine", "defer._requireCoroutine"),
        ("_logErr", "defer._logErr"),
        ("_exit", "sys.exit"),
        ("_deferToThread", "threads.deferToThread"),
        ("_submitHeldJob", "threads._submitHeldJob"),
        ("_fail", "defer.fail"),
        ("_succeed", "defer.succeed"),
    ];
    let mut vars = globals.vars.borrow_mut();
    for (n, builtin) in natives {
        vars.insert(n.into(), Value::builtin(builtin, None));
    }
    vars.insert("_reactor".into(), Value::Native(Rc::new(Native::Reactor)));
    for c in &code.consts {
        if let Value::Func(f) = c {
            vars.insert(
                Rc::clone(&f.code.name),
                super::value::Function::of_code(Rc::clone(&f.code), Rc::clone(&globals)),
            );
        }
    }
    let found = vars.get(name).cloned();
    drop(vars);
    found
}

/// Keeps `made` (a DelayedCall `callLater` returned) findable by its timer
/// id while the program holds it; the dead are swept as the table grows.
fn remember_delayed_call(rt: &Runtime, made: &Rc<Native>) {
    let Native::DelayedCall(dc) = &**made else { return };
    let mut known = rt.delayed_calls.borrow_mut();
    if known.len() >= 64 && known.len().is_power_of_two() {
        known.retain(|_, w| w.strong_count() > 0);
    }
    known.insert(dc.id(), Rc::downgrade(made));
}

/// A keyword argument's value.
fn kw_arg(kwargs: &Kw, name: &str) -> Option<Value> {
    kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.clone())
}

/// A Deferred that has already fired with `v`.
fn fired(v: Value) -> Deferred<Value> {
    let d = Deferred::new();
    let _ = d.callback(v);
    d
}

fn deferred(d: Deferred<Value>) -> Value {
    Value::Native(Rc::new(Native::Deferred(d)))
}

/// An exception instance from what `errback`/`fail` were given.
fn exc_value(vm: &mut Vm<'_>, v: Value) -> PyResult<Value> {
    match &v {
        Value::Native(n) => {
            if let Native::Failure(e) = &**n {
                return Ok(e.clone());
            }
        }
        Value::None => return Ok(vm.rt.new_exc(&vm.rt.exc_class("Exception"), Vec::new())),
        _ => {}
    }
    let base = vm.rt.exc_class("BaseException");
    match &v {
        Value::Instance(i) if i.class.is_subclass(&base) => Ok(v),
        Value::Class(c) if c.is_subclass(&base) => Ok(vm.rt.new_exc(c, Vec::new())),
        _ => Err(vm.type_error("errback() takes an exception or a Failure")),
    }
}

/// A core failure for a Python exception.
pub(crate) fn to_failure(rt: &Runtime, exc: &Value) -> Failure {
    let text = exc_text_plain(exc);
    let id = rt.store_value(exc.clone());
    Failure::from_error(FailureKind::Error, PyError { id, text })
}

pub(crate) fn exc_text_plain(exc: &Value) -> String {
    let name = exc.type_name();
    let msg = match exc {
        Value::Instance(i) => match i.get("args") {
            Some(Value::Tuple(t)) if t.len() == 1 => match &t[0] {
                // `str(KeyError("k"))` is `'k'`: the key's repr.
                Value::Str(s) if &*name != "KeyError" => s.to_string(),
                other => super::format::repr(other),
            },
            _ => String::new(),
        },
        _ => String::new(),
    };
    if msg.is_empty() {
        name.to_string()
    } else {
        format!("{name}: {msg}")
    }
}

/// The Python exception a core failure carries (or one made from it).
pub(crate) fn from_failure(rt: &Runtime, f: &Failure) -> Value {
    // Twisted's `FirstError(failure, index)`: the input's failure inside.
    if let (true, Some(sub), Some(index)) = (f.check(FailureKind::FirstError), f.sub_failure(), f.index()) {
        let sub = Value::Native(Rc::new(Native::Failure(from_failure(rt, sub))));
        let e = rt.new_exc(&rt.exc_class("FirstError"), vec![sub.clone(), Value::Int(index as i64)]);
        if let Value::Instance(i) = &e {
            i.set("subFailure", sub);
            i.set("index", Value::Int(index as i64));
        }
        return e;
    }
    if let Some(e) = f.downcast_ref::<PyError>() {
        if let Some(v) = rt.peek_value(e.id) {
            return v;
        }
    }
    let class = match f.kind() {
        FailureKind::Cancelled => "CancelledError",
        FailureKind::TimedOut => "TimeoutError",
        FailureKind::ConnectionDone => "ConnectionDone",
        FailureKind::ConnectionLost => "ConnectionLost",
        FailureKind::ConnectionRefused => "ConnectionRefusedError",
        _ => "RuntimeError",
    };
    // Twisted's `cancel()` fails the Deferred with a bare `CancelledError()`.
    let args = if class == "CancelledError" { Vec::new() } else { vec![Value::str(f.message())] };
    rt.new_exc(&rt.exc_class(class), args)
}

/// Runs a Python call on the reactor thread now, as a Deferred link or a
/// timer: its value, its exception as a failure, or (when it needs virtual
/// time) a Deferred the engine fires when the rest has run.
pub(crate) fn run_callback(sh: &Rc<Shared>, f: Value, args: Vec<Value>, kwargs: Kw) -> Outcome<Value> {
    run_call(sh, f, args, kwargs).0
}

/// [`run_callback`], and whether the call itself still runs (it needs
/// virtual time): then the Deferred fires when it ends, with its result.
fn run_call(sh: &Rc<Shared>, f: Value, args: Vec<Value>, kwargs: Kw) -> (Outcome<Value>, bool) {
    let Some(rt) = sh.py.borrow().clone() else { return (Outcome::Value(Value::None), false) };
    let link = rt.next_link.take();
    let mut partial = String::new();
    if rt.active.get() > 0 {
        // Fired from Python code (`d.callback(v)`): the callbacks run now,
        // inside that code, as in Twisted; they cannot wait for time.
        let r = {
            let mut vm = Vm::new(sh, &rt, REACTOR_THREAD, &mut partial);
            vm.nested = 1;
            vm.link = link;
            let r = if kwargs.is_empty() {
                vm.call_nested(f, args)
            } else {
                Err(rt.error("TypeError", "keyword arguments to nested callbacks are not supported"))
            };
            rt.nested_pending.set(rt.nested_pending.get() + vm.pending);
            r
        };
        if !partial.is_empty() {
            sh.say(REACTOR_THREAD, partial);
        }
        return (outcome_of(&rt, r), false);
    }
    let out = {
        let mut vm = Vm::new(sh, &rt, REACTOR_THREAD, &mut partial);
        vm.call(f, args, kwargs)
    };
    let frame = match out {
        Ok(Out::Frame(frame)) => frame,
        Ok(Out::Value(v)) => return (outcome_of(&rt, Ok(v)), false),
        Ok(Out::Halt(..) | Out::Retry(_)) => return (Outcome::Value(Value::None), false),
        Err(e) => return (outcome_of(&rt, Err(e)), false),
    };
    let mut task = Task::callback(frame);
    task.link = link;
    match vm::run(sh, &rt, REACTOR_THREAD, &mut task) {
        Halt::Done => (outcome_of(&rt, task.result.take().unwrap_or(Ok(Value::None))), false),
        halt => {
            let link = Deferred::with_label("callback");
            sh.request(Activation::python(task, End::PyLink(link.clone())), halt);
            (Outcome::Deferred(link), true)
        }
    }
}

/// [`run_callback`] for a link of the chain of the Deferred with id
/// `deferred` (an id, not the Deferred: a link holding its own Deferred
/// would keep it alive, and an unhandled failure in it unreported).
fn run_link(sh: &Rc<Shared>, deferred: u64, role: Role, f: Value, args: Vec<Value>, kwargs: Kw) -> Outcome<Value> {
    if let Some(rt) = sh.py.borrow().as_ref() {
        rt.next_link.set(Some(Link { role, deferred }));
    }
    run_callback(sh, f, args, kwargs)
}

/// A callback's result as a Deferred outcome.
pub(crate) fn outcome_of(rt: &Runtime, r: Result<Value, Exc>) -> Outcome<Value> {
    match r {
        Ok(Value::Native(n)) => match &*n {
            Native::Deferred(d) => Outcome::Deferred(d.clone()),
            Native::Failure(e) => Outcome::Failure(to_failure(rt, e)),
            _ => Outcome::Value(Value::Native(n)),
        },
        Ok(v) => Outcome::Value(v),
        Err(e) => {
            rt.remember_traceback(&e);
            Outcome::Failure(to_failure(rt, &e.value))
        }
    }
}

/// What Twisted logs above the traceback of a system event trigger (and a
/// `callWhenRunning` function, a trigger of the startup event) that raised.
const TRIGGER_FAILED: &str = "While calling system event trigger handler";
const CANCELLER_FAILED: &str = "While calling a Deferred's canceller";

/// A timer or trigger's Python call: an exception is logged as Twisted logs
/// it, under `why` (the reactor's `log.err(None, why)` for that kind of call:
/// "while handling timed call", "Unhandled Error", ...).
pub(crate) fn run_top(sh: &Rc<Shared>, why: &'static str, c: Call) {
    run_top_then(sh, why, c, |_| {});
}

/// [`run_top`], then `raised` with the failure once it is logged, if the
/// call raised (also after it needed virtual time): how a protocol's
/// connection is dropped when its `dataReceived` raised, as Twisted's
/// reactor does. A Deferred the function returned is not the call raising.
pub(crate) fn run_top_then(sh: &Rc<Shared>, why: &'static str, c: Call, raised: impl FnOnce(&Failure) + 'static) {
    run_top_ended(sh, why, c, move |r| {
        if let Err(f) = r {
            raised(f);
        }
    });
}

/// [`run_top`], then `done` once the call has returned without raising
/// (after the virtual time it needed, if any): how an endpoint's `connect`
/// fires after the protocol's `connectionMade`.
pub(crate) fn run_top_done(sh: &Rc<Shared>, why: &'static str, c: Call, done: impl FnOnce() + 'static) {
    run_top_ended(sh, why, c, move |r| {
        if r.is_ok() {
            done();
        }
    });
}

/// [`run_top`], then `ended` with how the call itself ended.
fn run_top_ended(sh: &Rc<Shared>, why: &'static str, c: Call, ended: impl FnOnce(Result<(), &Failure>) + 'static) {
    let rt = sh.py.borrow().clone();
    match run_call(sh, c.f, c.args, c.kwargs) {
        (Outcome::Failure(f), _) => {
            if let Some(rt) = rt {
                report_unhandled(sh, &rt, why, &f);
            }
            ended(Err(&f));
        }
        (Outcome::Deferred(d), still_running) => {
            // The call itself, which needed virtual time to finish, or a
            // Deferred the function returned (logged too).
            let sh = Rc::clone(sh);
            let ended = match still_running {
                true => Some(ended),
                // A Deferred the function returned: the call is done now.
                false => {
                    ended(Ok(()));
                    None
                }
            };
            let ended = Rc::new(std::cell::Cell::new(ended));
            let on_value = Rc::clone(&ended);
            d.add_callbacks(
                move |v: Value| {
                    if let Some(ended) = on_value.take() {
                        ended(Ok(()));
                    }
                    Outcome::Value(v)
                },
                move |f: Failure| {
                    if let Some(rt) = sh.py.borrow().clone() {
                        report_unhandled(&sh, &rt, why, &f);
                    }
                    if let Some(ended) = ended.take() {
                        ended(Err(&f));
                    }
                    Outcome::Value(Value::None)
                },
            );
        }
        (Outcome::Value(_), _) => ended(Ok(())),
    }
}

/// Logs `f` as Twisted's `log.err(failure, why)` does with no observer set
/// up: `why`, the traceback, a blank line.
pub(crate) fn report_unhandled(sh: &Shared, rt: &Runtime, why: &str, f: &Failure) {
    log_err(sh, rt, why, &from_failure(rt, f));
}

/// A line of the log once `startLogging` was called: Twisted's
/// `TIME [-] text`, the time the simulation's clock (as `time.time()`).
fn log_line(vm: &mut Vm<'_>, text: &str) {
    let secs = vm.sh.now().as_nanos() / 1_000_000_000;
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let days = secs / 86_400;
    vm.sh.say(vm.tid, format!("1970-01-{:02} {h:02}:{m:02}:{s:02}+0000 [-] {text}", 1 + days));
}

/// Twisted's `log.err(failure, why)`: `why`, then the failure's traceback.
fn log_err(sh: &Shared, rt: &Runtime, why: &str, exc: &Value) {
    sh.say_err(REACTOR_THREAD, why.to_owned());
    for line in rt.traceback_lines(&exc_text_plain(exc)) {
        sh.say_err(REACTOR_THREAD, line);
    }
    sh.say_err(REACTOR_THREAD, String::new());
}

/// Methods of the reactor, DelayedCall, Deferred and Failure.
pub(crate) fn call_method(vm: &mut Vm<'_>, name: &str, n: &Rc<Native>, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let v = match (&**n, name) {
        (Native::Reactor, "callLater") => {
            let mut args = args;
            if args.is_empty() {
                return Err(vm.type_error("callLater(delay, f, *args)"));
            }
            let delay = seconds(vm, &args.remove(0))?;
            let call = split_call(vm, args, kwargs, "callLater")?;
            let sh = Rc::clone(vm.sh);
            let r = reactor(vm)?;
            let run = move |_: &Reactor| run_top(&sh, "while handling timed call", call);
            let dc = match pre_run_origin(vm, &r, false) {
                Some(origin) => r.call_at_named((origin + delay).max(r.seconds()), "callLater", run),
                None => r.call_later_named(delay, "callLater", run),
            };
            let made = Rc::new(Native::DelayedCall(dc));
            if super::compile::PARSER {
                // (Not `full`: every callLater passes here, presets' too.)
                // So that `getDelayedCalls()` gives this same object back.
                remember_delayed_call(vm.rt, &made);
            }
            Value::Native(made)
        }
        (Native::Reactor, "getDelayedCalls") if full(vm, "reactor.getDelayedCalls") => {
            // Twisted's lists `_pendingTimedCalls` (a heap) then
            // `_newTimedCalls`; here they come in the order they were made,
            // which is Twisted's before `reactor.run()` (all are new then).
            let calls = reactor(vm)?.delayed_calls();
            let known = vm.rt.delayed_calls.borrow();
            let list = calls
                .into_iter()
                .map(|dc| match known.get(&dc.id()).and_then(std::rc::Weak::upgrade) {
                    Some(made) => Value::Native(made),
                    None => Value::Native(Rc::new(Native::DelayedCall(dc))),
                })
                .collect();
            Value::list(list)
        }
        (Native::Reactor, "getThreadPool") if full(vm, "reactor.getThreadPool") => {
            // One object, as Twisted's reactor keeps its pool.
            if let Some(pool) = super::clock::get(vm.rt, "_threadpool") {
                return Ok(Out::Value(pool));
            }
            let class = super::clock::get(vm.rt, "ThreadPool").unwrap_or_default();
            let pool = vm.call_nested(class, Vec::new())?;
            vm.rt.library.borrow_mut().insert("_threadpool", pool.clone());
            pool
        }
        (Native::Reactor, "removeSystemEventTrigger") if full(vm, "reactor.removeSystemEventTrigger") => {
            // Twisted's: `eventType, handle = triggerID`, then the handle
            // `(phase, f, args, kwargs)` removed from its phase's list.
            let id = args.into_iter().next().unwrap_or_default();
            let parts = vm.collect(&id)?;
            if parts.len() != 2 {
                let text = if parts.len() < 2 {
                    format!("not enough values to unpack (expected 2, got {})", parts.len())
                } else {
                    "too many values to unpack (expected 2)".to_owned()
                };
                return Err(vm.rt.error("ValueError", &text));
            }
            let mut found = None;
            let known: Vec<Value> = vm.rt.triggers.borrow().iter().map(|(v, _)| v.clone()).collect();
            for (i, v) in known.iter().enumerate() {
                if super::ops::eq(vm, v, &id)? {
                    found = Some(i);
                    break;
                }
            }
            let Some(i) = found else {
                return Err(vm.rt.error("ValueError", "list.remove(x): x not in list"));
            };
            let (_, trigger) = vm.rt.triggers.borrow_mut().remove(i);
            reactor(vm)?.remove_system_event_trigger(trigger);
            Value::None
        }
        (Native::Reactor, "callWhenRunning") => {
            let call = split_call(vm, args, kwargs, "callWhenRunning")?;
            let sh = Rc::clone(vm.sh);
            reactor(vm)?.call_when_running(move |_| run_top(&sh, TRIGGER_FAILED, call));
            Value::None
        }
        (Native::Reactor, "callFromThread") if full(vm, "reactor.callFromThread") => {
            let call = split_call(vm, args, kwargs, "callFromThread")?;
            // Through the reactor's inbox, in order with the pool's results
            // (a job's `callFromThread` runs before its Deferred fires), and
            // before the timers of the reactor's next turn, as Twisted's.
            vm.sh.call_from_thread_local(Box::new(move |sh| run_top(sh, "while calling from thread", call)));
            Value::None
        }
        (Native::Reactor, "listenTCP") => super::net::listen_tcp(vm, args, kwargs)?,
        (Native::Reactor, "connectTCP") => super::net::connect_tcp(vm, args, kwargs)?,
        (Native::Reactor, "callInThread") if full(vm, "reactor.callInThread") => {
            // Twisted's callInThread: deferToThread with the result dropped.
            return call_function(vm, "threads.deferToThread", args, kwargs).map(|_| Out::Value(Value::None));
        }
        (Native::Reactor, "stop") => {
            if reactor(vm)?.stop().is_err() {
                return Err(vm.rt.error("ReactorNotRunning", "Can't stop reactor that isn't running."));
            }
            Value::None
        }
        (Native::Reactor, "seconds") => Value::Float(epoch_seconds(vm.sh.now())),
        (Native::Reactor, "suggestThreadPoolSize") => {
            // The pool's size is part of the machine, read before the run
            // (see `python::check`); here the call only checks its argument
            // (and sets what `getThreadPool().max` says).
            match args.first() {
                Some(Value::Int(n)) if *n >= 1 => {
                    vm.rt.pool_max.set(u32::try_from(*n).ok());
                    Value::None
                }
                _ => return Err(vm.type_error("suggestThreadPoolSize(n): n is a positive number of threads")),
            }
        }
        (Native::Reactor, "addSystemEventTrigger") => {
            let mut args = args;
            if args.len() < 3 {
                return Err(vm.type_error("addSystemEventTrigger(phase, eventType, f, *args)"));
            }
            let rest = args.split_off(2);
            let phase = match vm.str_of(&args[0])?.as_str() {
                "before" => TriggerPhase::Before,
                "during" => TriggerPhase::During,
                "after" => TriggerPhase::After,
                other => {
                    return Err(vm
                        .rt
                        .error("KeyError", &format!("{other:?}: the phase is 'before', 'during' or 'after'")))
                }
            };
            let event = SystemEvent::named(vm.str_of(&args[1])?);
            let call = split_call(vm, rest, kwargs, "addSystemEventTrigger")?;
            // Twisted's id: `(eventType, (phase, f, args, kwargs))`.
            // Made in the full module only (not `full`: the presets add triggers).
            let id = super::compile::PARSER.then(|| {
                let kw = super::value::Dict::default();
                let kw = Value::dict(kw);
                if let Value::Dict(d) = &kw {
                    for (k, v) in &call.kwargs {
                        let key = Value::Str(Rc::clone(k));
                        if let Ok(hk) = vm.key(&key) {
                            d.borrow_mut().insert(hk, key, v.clone());
                        }
                    }
                }
                let handle = Value::tuple(vec![args[0].clone(), call.f.clone(), Value::tuple(call.args.clone()), kw]);
                Value::tuple(vec![args[1].clone(), handle])
            });
            let sh = Rc::clone(vm.sh);
            let trigger = reactor(vm)?.add_system_event_trigger(phase, event, move |_| {
                match run_callback(&sh, call.f, call.args, call.kwargs) {
                    Outcome::Deferred(d) => {
                        let done: Deferred<()> = Deferred::new();
                        let fire = done.clone();
                        let sh = Rc::clone(&sh);
                        d.add_both(move |r: Result<Value, Failure>| {
                            // A failed trigger is logged by Twisted and the event goes on.
                            if let (Err(f), Some(rt)) = (&r, sh.py.borrow().clone()) {
                                report_unhandled(&sh, &rt, TRIGGER_FAILED, f);
                            }
                            let _ = fire.callback(());
                            Outcome::Value(r.unwrap_or_default())
                        });
                        Some(done)
                    }
                    Outcome::Failure(f) => {
                        if let Some(rt) = sh.py.borrow().clone() {
                            report_unhandled(&sh, &rt, TRIGGER_FAILED, &f);
                        }
                        None
                    }
                    Outcome::Value(_) => None,
                }
            });
            match id {
                Some(id) => {
                    vm.rt.triggers.borrow_mut().push((id.clone(), trigger));
                    id
                }
                None => Value::None,
            }
        }
        (Native::Reactor, "run") => {
            if vm.tid != REACTOR_THREAD || vm.nested > 0 {
                return Err(vm.rt.error("RuntimeError", "reactor.run() belongs at the end of the main program"));
            }
            if vm.rt.shut_down.get() {
                // Twisted's reactor runs once per process.
                return Err(vm.rt.error("ReactorNotRestartable", ""));
            }
            // The main program ends here; the rest runs after the reactor stops.
            vm.reactor_run = true;
            let rt = Rc::clone(vm.rt);
            reactor(vm)?.add_system_event_trigger(TriggerPhase::During, SystemEvent::Shutdown, move |_| {
                rt.shut_down.set(true);
                None
            });
            let sh = Rc::clone(vm.sh);
            reactor(vm)?.add_system_event_trigger(TriggerPhase::After, SystemEvent::Shutdown, move |_| {
                let rest = sh.py.borrow().as_ref().and_then(|rt| rt.after_run.borrow_mut().take());
                if let Some(mut task) = rest {
                    let rt = sh.py.borrow().clone();
                    if let Some(rt) = rt {
                        let halt = vm::run(&sh, &rt, REACTOR_THREAD, &mut task);
                        if !matches!(halt, Halt::Done) {
                            sh.request(Activation::python(task, End::Call), halt);
                        }
                    }
                }
                None
            });
            return Ok(Out::Halt(Value::None, Halt::Done));
        }
        (Native::DelayedCall(dc), "cancel") if full(vm, "DelayedCall.cancel") => {
            dc.cancel().map_err(|e| timer_error(vm, e))?;
            Value::None
        }
        (Native::DelayedCall(dc), "active") => Value::Bool(dc.active()),
        // On the clock `reactor.seconds()` reads.
        (Native::DelayedCall(dc), "getTime") if full(vm, "DelayedCall.getTime") => {
            Value::Float(epoch_seconds(dc.time()))
        }
        (Native::DelayedCall(dc), "reset" | "delay") if full(vm, "DelayedCall.reset") => {
            let d = seconds(vm, args.first().unwrap_or(&Value::None))?;
            if name == "reset" { dc.reset(d) } else { dc.delay(d) }.map_err(|e| timer_error(vm, e))?;
            Value::None
        }
        (Native::Deferred(d), "callback") => {
            let v = args.into_iter().next().unwrap_or_default();
            // A Failure given to `callback` starts the errback chain, as
            // Twisted's `_runCallbacks` sees a Failure whichever way it came.
            let fired = match &v {
                Value::Native(n) if matches!(**n, Native::Failure(_)) => {
                    let Native::Failure(e) = &**n else { unreachable!() };
                    d.errback(to_failure(vm.rt, e))
                }
                _ => d.callback(v),
            };
            if fired.is_err() {
                return Err(vm.rt.error("AlreadyCalledError", ""));
            }
            Value::None
        }
        (Native::Deferred(d), "errback") if full(vm, "Deferred.errback") => {
            let exc = exc_value(vm, args.into_iter().next().unwrap_or_default())?;
            if d.errback(to_failure(vm.rt, &exc)).is_err() {
                return Err(vm.rt.error("AlreadyCalledError", ""));
            }
            Value::None
        }
        (Native::Deferred(d), "cancel") if full(vm, "Deferred.cancel") => {
            d.cancel();
            Value::None
        }
        (Native::Deferred(d), "pause") if full(vm, "Deferred.pause") => {
            d.pause();
            Value::None
        }
        (Native::Deferred(d), "unpause") if full(vm, "Deferred.unpause") => {
            d.unpause();
            Value::None
        }
        (Native::Deferred(d), "addTimeout") if full(vm, "Deferred.addTimeout") => {
            let given = args.first().cloned().unwrap_or_default();
            let timeout = seconds(vm, &given)?;
            let r = reactor(vm)?;
            // Twisted's failure: `TimeoutError(timeout, "Deferred")`, the
            // timeout as the program gave it.
            let sh = Rc::clone(vm.sh);
            d.add_timeout_with(&r, timeout, move |result, _| match result {
                Err(f) if f.check(FailureKind::Cancelled) => Err(match sh.py.borrow().as_ref() {
                    Some(rt) => {
                        let exc = rt.new_exc(&rt.exc_class("TimeoutError"), vec![given, Value::str("Deferred")]);
                        to_failure(rt, &exc)
                    }
                    None => f,
                }),
                other => other,
            });
            Value::Native(Rc::clone(n))
        }
        (Native::Deferred(d), "addCallback" | "addErrback" | "addBoth") => {
            let call = split_call(vm, args, kwargs, name)?;
            let (sh1, sh2) = (Rc::clone(vm.sh), Rc::clone(vm.sh));
            let (c1, c2) = (call.clone(), call);
            let (d1, d2) = (d.id(), d.id());
            let on_value = move |v: Value| {
                let mut args = vec![v];
                args.extend(c1.args);
                run_link(&sh1, d1, Role::Callback, c1.f, args, c1.kwargs)
            };
            let on_failure = move |f: Failure| {
                let exc = sh2.py.borrow().as_ref().map(|rt| from_failure(rt, &f)).unwrap_or_default();
                let mut args = vec![Value::Native(Rc::new(Native::Failure(exc)))];
                args.extend(c2.args);
                run_link(&sh2, d2, Role::Errback, c2.f, args, c2.kwargs)
            };
            match name {
                "addCallback" => d.add_callback(on_value),
                "addErrback" => d.add_errback(on_failure),
                _ => d.add_callbacks(on_value, on_failure),
            };
            Value::Native(Rc::clone(n))
        }
        (Native::Deferred(_), "chainDeferred") if full(vm, "Deferred.chainDeferred") => {
            // Twisted's: `self.addCallbacks(d.callback, d.errback)`.
            let other = args.into_iter().next().unwrap_or_default();
            let (cb, eb) = (vm.get_attr(&other, "callback")?, vm.get_attr(&other, "errback")?);
            return call_method(vm, "addCallbacks", n, vec![cb, eb], Vec::new());
        }
        (Native::Deferred(d), "addCallbacks") if full(vm, "Deferred.addCallbacks") => {
            let mut args = args;
            if args.len() < 2 {
                return Err(vm.type_error("addCallbacks(callback, errback)"));
            }
            let eb = args.remove(1);
            let cb = args.remove(0);
            let (sh1, sh2) = (Rc::clone(vm.sh), Rc::clone(vm.sh));
            let (d1, d2) = (d.id(), d.id());
            d.add_callbacks(
                move |v: Value| run_link(&sh1, d1, Role::Callback, cb, vec![v], Vec::new()),
                move |f: Failure| {
                    let exc = sh2.py.borrow().as_ref().map(|rt| from_failure(rt, &f)).unwrap_or_default();
                    let failure = vec![Value::Native(Rc::new(Native::Failure(exc)))];
                    run_link(&sh2, d2, Role::Errback, eb, failure, Vec::new())
                },
            );
            Value::Native(Rc::clone(n))
        }
        (Native::LoopingCall { .. }, "start" | "stop" | "reset") if super::clock::on_clock(n).is_some() => {
            // A LoopingCall on a `task.Clock`: the library's, in Python.
            let looping = super::clock::on_clock(n).unwrap_or_default();
            let m = vm.get_attr(&looping, name)?;
            return vm.call(m, args, kwargs);
        }
        (Native::LoopingCall { f, args: fargs, lc, count }, "start") => {
            if lc.borrow().as_ref().is_some_and(|l| l.running()) {
                // Twisted asserts these.
                return Err(vm.rt.error("AssertionError", "Tried to start an already running LoopingCall."));
            }
            if matches!(args.first(), Some(Value::Int(i)) if *i < 0)
                || matches!(args.first(), Some(Value::Float(x)) if *x < 0.0)
            {
                return Err(vm.rt.error("ValueError", "interval must be >= 0"));
            }
            let interval = seconds(vm, args.first().unwrap_or(&Value::None))?;
            *lc.given().borrow_mut() = args.first().cloned().unwrap_or_default();
            let now =
                args.get(1).cloned().or_else(|| kwargs.iter().find(|(k, _)| &**k == "now").map(|(_, v)| v.clone()));
            let now = now.is_none_or(|v| v.truthy());
            let step = match f {
                Value::Func(func) => format!("LoopingCall({})", func.code.name),
                _ => "LoopingCall".to_owned(),
            };
            let (sh, f, fargs) = (Rc::clone(vm.sh), f.clone(), fargs.clone());
            let r = reactor(vm)?;
            // Before reactor.run(), counted from the program's start as callLater's delays.
            let origin = pre_run_origin(vm, &r, true);
            let start = origin.unwrap_or(vm.sh.now()).min(vm.sh.now());
            let counter = count.then(|| WithCount::new(epoch_seconds(start), interval.as_secs_f64(), now));
            // Its place among the run's loops, for the metrics.
            let index = vm.sh.loops.borrow().len();
            let looping = twine_core::task::LoopingCall::new(&r, move || {
                let mut args = fargs.clone();
                if let Some(c) = &counter {
                    match c.count(epoch_seconds(sh.now())) {
                        0 => return Outcome::Value(()),
                        n => args.insert(0, Value::Int(n)),
                    }
                }
                if let Some(instance) = sh.loops.borrow_mut().get_mut(index) {
                    instance.calls += 1;
                }
                match run_callback(&sh, f.clone(), args, Vec::new()) {
                    Outcome::Value(_) => Outcome::Value(()),
                    Outcome::Failure(e) => Outcome::Failure(e),
                    Outcome::Deferred(d) => {
                        let done: Deferred<()> = Deferred::new();
                        let fire = done.clone();
                        d.add_both(move |r: Result<Value, Failure>| {
                            let _ = fire.fire(r.map(|_| ()));
                            Outcome::Value(Value::None)
                        });
                        Outcome::Deferred(done)
                    }
                }
            });
            vm.sh.loops.borrow_mut().push(LoopInstance { step, lc: looping.clone(), calls: 0 });
            let finished = looping.start_from(interval, now, origin);
            *lc.borrow_mut() = Some(looping);
            let out: Deferred<Value> = Deferred::new();
            let (fire, me) = (out.clone(), Value::Native(Rc::clone(n)));
            finished.add_both(move |r: Result<(), Failure>| {
                let _ = fire.fire(r.map(|()| me));
                Outcome::Value(())
            });
            deferred(out)
        }
        (Native::LoopingCall { lc, .. }, "stop") => {
            match lc.borrow().as_ref().filter(|l| l.running()) {
                Some(l) => l.stop(),
                None => return Err(vm.rt.error("AssertionError", "Tried to stop a LoopingCall that was not running.")),
            }
            Value::None
        }
        (Native::LoopingCall { lc, .. }, "reset") if super::compile::PARSER => {
            match lc.borrow().as_ref().filter(|l| l.running()) {
                Some(l) => l.reset(),
                None => {
                    return Err(vm.rt.error("AssertionError", "Tried to reset a LoopingCall that was not running."))
                }
            }
            Value::None
        }
        (Native::Transport(_) | Native::Connector(_) | Native::Port(_), _) => {
            return super::net::call_method(vm, name, n, args)
        }
        (Native::DeferredLock(_) | Native::DeferredSemaphore(_), "acquire") if full(vm, "DeferredLock.acquire") => {
            let d = match &**n {
                Native::DeferredLock(l) => l.acquire(),
                Native::DeferredSemaphore(s) => s.acquire(),
                _ => unreachable!("matched above"),
            };
            // Twisted's acquire() fires with the lock itself.
            let out: Deferred<Value> = Deferred::new();
            let (fire, me) = (out.clone(), Value::Native(Rc::clone(n)));
            d.add_both(move |r: Result<(), Failure>| {
                let _ = fire.fire(r.map(|()| me));
                Outcome::Value(())
            });
            deferred(out)
        }
        (Native::DeferredLock(_) | Native::DeferredSemaphore(_), "release") if full(vm, "DeferredLock.release") => {
            let r = match &**n {
                Native::DeferredLock(l) => l.release(),
                Native::DeferredSemaphore(s) => s.release(),
                _ => unreachable!("matched above"),
            };
            if r.is_err() {
                return Err(vm.rt.error("RuntimeError", "release() of a lock that is not acquired"));
            }
            Value::None
        }
        (Native::DeferredLock(_) | Native::DeferredSemaphore(_), "run") if full(vm, "DeferredLock.run") => {
            let call = split_call(vm, args, kwargs, "run")?;
            let sh = Rc::clone(vm.sh);
            let body = move || run_callback(&sh, call.f, call.args, call.kwargs);
            deferred(match &**n {
                Native::DeferredLock(l) => l.run(body),
                Native::DeferredSemaphore(s) => s.run(body),
                _ => unreachable!("matched above"),
            })
        }
        (Native::DeferredQueue(q), "put") if full(vm, "DeferredQueue.put") => {
            if q.put(args.into_iter().next().unwrap_or_default()).is_err() {
                return Err(vm.rt.error("QueueOverflow", ""));
            }
            Value::None
        }
        (Native::DeferredQueue(q), "get") if full(vm, "DeferredQueue.get") => {
            // Twisted raises at once rather than failing the Deferred.
            if q.is_empty() && q.backlog().is_some_and(|b| q.waiting() >= b) {
                return Err(vm.rt.error("QueueUnderflow", ""));
            }
            deferred(q.get())
        }
        // Twisted's: `str(self.value)` (so a KeyError's key shows as its repr).
        (Native::Failure(e), "getErrorMessage") => Value::Str(vm.str_of(&e.clone())?.into()),
        (Native::Failure(e), "getTraceback" | "getBriefTraceback" | "printTraceback" | "printBriefTraceback")
            if full(vm, "Failure.getTraceback") =>
        {
            let text = if name.contains("Brief") {
                brief_traceback(vm, e)?
            } else {
                vm.rt.traceback_lines(&exc_text_plain(e)).join("\n") + "\n"
            };
            if name.starts_with("get") {
                return Ok(Out::Value(Value::Str(text.into())));
            }
            // Twisted's default is its error log, which prints nothing
            // until logging starts; a stream is written to.
            match args.first().cloned().or_else(|| kw_arg(&kwargs, "file")) {
                Some(Value::Module(m)) if m.name == "sys.stdout" => vm.print(&text),
                Some(Value::Module(m)) if m.name == "sys.stderr" => vm.print_err(&text),
                None | Some(Value::None) => {}
                Some(_) => {
                    return Err(vm.type_error("printTraceback(file=...) writes to sys.stdout or sys.stderr here"))
                }
            }
            Value::None
        }
        (Native::Failure(e), "check" | "trap") => {
            let class = e.class().cloned();
            for c in &args {
                if let (Value::Class(c), Some(ec)) = (c, &class) {
                    if ec.is_subclass(c) {
                        return Ok(Out::Value(Value::Class(Rc::clone(c))));
                    }
                }
            }
            if name == "trap" {
                return Err(Exc::new(e.clone()));
            }
            Value::None
        }
        _ => return Err(vm.type_error(&format!("{name}() is not supported"))),
    };
    Ok(Out::Value(v))
}

/// Before `reactor.run()`, where a timer (`loop` false) or a LoopingCall
/// (`loop` true) made now counts from (`None` once the reactor runs): the
/// program's start, plus a nanosecond per LoopingCall started before it.
///
/// The microseconds the main program takes between two `callLater` calls
/// are below a real reactor's wake-up granularity (epoll waits in whole
/// milliseconds), so on CPython timers set for the same delay run in one
/// turn: counting from the program's start keeps them together here. But
/// CPython's clock still moved between the calls, so they run in the order
/// they were made, and a `LoopingCall` started before a `callLater` ticks
/// before it on every shared boundary, not only the first. Timers due at
/// one time run in the order they were scheduled, which a loop's later
/// ticks (scheduled once the reactor runs) would lose: the nanosecond after
/// each loop keeps the timers made after it behind its ticks, and those
/// made before it still run before them by that order. Only loops count,
/// so a program making many timers before `run` keeps them in one turn (the
/// sim's wake-up latency, tens of microseconds, spans a few nanoseconds).
/// On a machine without noise, where a timer runs at its time to the
/// nanosecond, nothing is set apart: a loop's ticks after its first then
/// come after `callLater`s made before `run` for the same time.
fn pre_run_origin(vm: &Vm<'_>, r: &Reactor, is_loop: bool) -> Option<twine_core::Time> {
    if r.lifecycle() != twine_core::reactor::Lifecycle::NotStarted {
        return None;
    }
    let n = if vm.sh.program.machine.noise { vm.rt.pre_run_timers.get() } else { 0 };
    if is_loop && vm.sh.program.machine.noise {
        vm.rt.pre_run_timers.set(n + 1);
    }
    let start = r.seconds().as_nanos().saturating_sub(vm.sh.now().as_nanos());
    Some(twine_core::Time::from_nanos(start + n))
}

/// What `reactor.seconds()` (and `time.time()`) count from: a real epoch
/// time (2023-11-14 22:13:20 UTC), so float arithmetic on them rounds as on
/// a real machine. It matters: Twisted's `LoopingCall.withCount` started with
/// `now=True` computes its first count as `int((start - interval - start) /
/// interval)`, which on an epoch clock rounds to 0 (the call is skipped) and
/// on a clock starting at 0 would be 1. CPython with Twisted 26.10 skips it.
pub(crate) const EPOCH_S: f64 = 1.7e9;

/// Seconds on the reactor's clock at virtual time `t`.
pub(crate) fn epoch_seconds(t: twine_core::Time) -> f64 {
    EPOCH_S + t.as_nanos() as f64 / 1e9
}

/// [`epoch_seconds`] in whole nanoseconds (`time.time_ns()`).
pub(crate) fn epoch_nanos(t: twine_core::Time) -> i64 {
    EPOCH_S as i64 * 1_000_000_000 + t.as_nanos() as i64
}

/// Twisted's `LoopingCall.withCount` counter, in the same float arithmetic.
struct WithCount {
    start: f64,
    interval: f64,
    run_at_start: std::cell::Cell<bool>,
    last: std::cell::Cell<Option<f64>>,
}

impl WithCount {
    fn new(start: f64, interval: f64, run_at_start: bool) -> WithCount {
        WithCount { start, interval, run_at_start: run_at_start.into(), last: None.into() }
    }

    /// Twisted's `int((t - start) / interval)`, with a ten-thousandth of
    /// an interval added. The sim runs a call exactly when it is due, where a
    /// real reactor runs it some microseconds late; on the epoch clock a
    /// float's rounding (about 0.24 us at 1.7e9 s) can then make a count
    /// that lands exactly on a whole number of intervals come out one short,
    /// which a real reactor's lateness never shows.
    fn interval_of(&self, t: f64) -> i64 {
        ((t - self.start) / self.interval + 1e-4) as i64
    }

    /// The intervals since the last call; 0: no call this time.
    fn count(&self, now: f64) -> i64 {
        if self.interval == 0.0 {
            self.last.set(Some(now));
            return 1;
        }
        let last_interval = match self.last.get() {
            Some(t) => self.interval_of(t),
            // Twisted's arithmetic exactly, with no allowance: whether the
            // first call of a loop started with `now=True` runs depends on
            // how `start - interval` rounds on the epoch clock. It runs for
            // 0.25 s or 1 s, and not for 0.1 s (its start lands a fraction
            // of a microsecond short of -1 interval), as on CPython.
            None if self.run_at_start.get() => (((self.start - self.interval) - self.start) / self.interval) as i64,
            None => self.interval_of(self.start),
        };
        let n = self.interval_of(now) - last_interval;
        if n > 0 {
            self.run_at_start.set(false);
            self.last.set(Some(now));
        }
        n
    }
}

/// Attributes that depend on the run's state: `reactor.running`,
/// `task.LoopingCall.withCount`.
pub(crate) fn live_attr(vm: &Vm<'_>, obj: &Value, name: &str) -> Option<Value> {
    match (obj, name) {
        (Value::Native(n), _) if super::clock::looping_attr(vm.rt, n, name).is_some() => {
            super::clock::looping_attr(vm.rt, n, name)
        }
        (Value::Native(n), "running") if matches!(&**n, Native::Reactor) => {
            // As Twisted: true from the `startup` event's `During` phase until
            // the `shutdown` event's, so still true in `before` shutdown triggers.
            use twine_core::reactor::Lifecycle;
            let on =
                vm.sh.reactor().is_some_and(|r| matches!(r.lifecycle(), Lifecycle::Running | Lifecycle::ShuttingDown));
            Some(Value::Bool(on && !vm.rt.shut_down.get()))
        }
        (Value::Native(n), "called") => match &**n {
            Native::Deferred(d) => Some(Value::Bool(d.called())),
            // Twisted's DelayedCall keeps `called` and `cancelled` as 0 or 1.
            Native::DelayedCall(dc) if full(vm, "DelayedCall.called") => Some(Value::Int(dc.called() as i64)),
            _ => None,
        },
        (Value::Native(n), "result") if full(vm, "Deferred.result") => match &**n {
            // Only while the chain holds one: before it fires (or while it
            // waits on another Deferred) Twisted's has no such attribute.
            Native::Deferred(d) => d.peek(|r| match r {
                Ok(v) => v.clone(),
                Err(f) => Value::Native(Rc::new(Native::Failure(from_failure(vm.rt, f)))),
            }),
            _ => None,
        },
        (Value::Native(n), "cancelled") if full(vm, "DelayedCall.cancelled") => match &**n {
            Native::DelayedCall(dc) => Some(Value::Int(dc.cancelled() as i64)),
            _ => None,
        },
        (Value::Native(n), "pending" | "waiting" | "size" | "backlog") if full(vm, "DeferredQueue.pending") => {
            match &**n {
                Native::DeferredQueue(q) => Some(match name {
                    "pending" => Value::list(q.pending()),
                    "waiting" => Value::list(q.waiters().into_iter().map(deferred).collect()),
                    "size" => q.size().map_or(Value::None, |n| Value::Int(n as i64)),
                    _ => q.backlog().map_or(Value::None, |n| Value::Int(n as i64)),
                }),
                _ => None,
            }
        }
        (Value::Native(n), "locked") => match &**n {
            Native::DeferredLock(l) => Some(Value::Bool(l.locked())),
            _ => None,
        },
        (Value::Native(n), "tokens" | "limit") => match &**n {
            Native::DeferredSemaphore(s) => {
                Some(Value::Int(if name == "tokens" { s.tokens() } else { s.limit() } as i64))
            }
            _ => None,
        },
        // Only the full module: the presets read neither.
        (Value::Native(n), "running" | "interval") if super::compile::PARSER => match &**n {
            Native::LoopingCall { lc, .. } if name == "running" => {
                Some(Value::Bool(lc.borrow().as_ref().is_some_and(|l| l.running())))
            }
            Native::LoopingCall { lc, .. } => Some(lc.given().borrow().clone()),
            _ => None,
        },
        (Value::Builtin(b), "withCount") if b.name == "task.LoopingCall" => {
            Some(Value::builtin("task.LoopingCall.withCount", None))
        }
        (Value::Builtin(b), "fromCoroutine") if b.name == "defer.Deferred" => library(vm.rt, "fromCoroutine"),
        _ => None,
    }
}

/// Attributes (not methods) of the natives.
pub(crate) fn attr(n: &Native, name: &str) -> Option<Value> {
    match (n, name) {
        (Native::Failure(e), "value") => Some(e.clone()),
        (Native::Failure(e), "type") => e.class().map(|c| Value::Class(Rc::clone(c))),
        _ => None,
    }
}

/// The CPU Twisted 26.10 on CPython 3.11 spends to hand a read's bytes to a
/// `LineReceiver` (`doRead`: `recv`, `_dataReceived`, the line split, the
/// call): the time from `epoll.poll` returning to `lineReceived` starting
/// when a read comes first in its poll, median 98-106 µs (echo-blocking.py
/// instrumented, seeds 1-3, 131-212 such polls each, run as SCHED_FIFO so
/// other processes could not stretch it, 2026-12-03; docs/fidelity.md).
/// Charged to the last `lineReceived` a read makes (a read that completes no
/// line is not charged). The server process's CPU beyond `cpu(0.2)` was
/// 0.29-0.34 ms a request in those runs; this and the write cost make 0.22.
pub(crate) const TWISTED_READ_NS: u64 = 100_000;

/// The CPU Twisted spends on one `transport.write` and, later, its
/// `doWrite`: `sendLine` (buffer, `startWriting`) took 87-90 µs at the
/// median, and a poll that only writes 30-35 µs more per connection written
/// (129-135 µs with one, 159-172 µs with two; the same runs). Charged to the
/// caller of `write`.
pub(crate) const TWISTED_WRITE_NS: u64 = 120_000;

/// `LineReceiver`'s methods, bound to the protocol.
///
/// `dataReceived` buffers bytes (in the instance's `_twine_buffer`) and hands
/// each complete line to `lineReceived`, or everything to `rawDataReceived`
/// once `setRawMode()` was called (`line_mode` is 0); a line longer than
/// `MAX_LENGTH` goes to `lineLengthExceeded` (which by default drops the
/// connection). All but the last call run nested (they may not wait on
/// virtual time); the last runs as an ordinary call. Simulated clients send
/// one line per message, so there is one call per message.
pub(crate) fn line_receiver(vm: &mut Vm<'_>, name: &str, this: &Value, args: Vec<Value>) -> PyResult<Out> {
    let Value::Instance(inst) = this else { return Err(vm.type_error(&format!("{name}() needs a protocol"))) };
    match name {
        "LineReceiver.setRawMode" => {
            inst.set("line_mode", Value::Int(0));
            return Ok(Out::Value(Value::None));
        }
        "LineReceiver.setLineMode" => {
            inst.set("line_mode", Value::Int(1));
            return match args.into_iter().next() {
                Some(Value::Bytes(extra)) if !extra.is_empty() => {
                    line_receiver(vm, "LineReceiver.dataReceived", this, vec![Value::Bytes(extra)])
                }
                _ => Ok(Out::Value(Value::None)),
            };
        }
        "LineReceiver.rawDataReceived" => {
            return Err(vm.rt.error("NotImplementedError", "rawDataReceived: override it to use raw mode"))
        }
        "LineReceiver.lineLengthExceeded" => {
            let transport = vm.get_attr(this, "transport")?;
            let lose = vm.get_attr(&transport, "loseConnection")?;
            return vm.call(lose, Vec::new(), Vec::new());
        }
        _ => {}
    }
    let delimiter = vm.get_attr(this, "delimiter")?;
    let Value::Bytes(delim) = delimiter else { return Err(vm.type_error("delimiter must be bytes")) };
    let data = match args.into_iter().next() {
        Some(Value::Bytes(b)) => b,
        Some(Value::Str(s)) => Rc::from(s.as_bytes()),
        _ => return Err(vm.type_error(&format!("{name}() takes bytes"))),
    };
    if name == "LineReceiver.sendLine" {
        let transport = vm.get_attr(this, "transport")?;
        let line = [&data[..], &delim[..]].concat();
        let write = vm.get_attr(&transport, "write")?;
        return vm.call(write, vec![Value::Bytes(line.into())], Vec::new());
    }
    // dataReceived.
    let mut buffer: Vec<u8> = match inst.get("_twine_buffer") {
        Some(Value::Bytes(b)) => b.to_vec(),
        _ => Vec::new(),
    };
    buffer.extend_from_slice(&data);
    let max = match vm.get_attr(this, "MAX_LENGTH")? {
        Value::Int(n) => n.max(0) as usize,
        _ => 16384,
    };
    let mut calls: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let raw = |inst: &super::value::Instance| matches!(inst.get("line_mode"), Some(v) if !v.truthy());
    let mut pending_raw = raw(inst);
    loop {
        if pending_raw {
            if !buffer.is_empty() {
                calls.push(("rawDataReceived", std::mem::take(&mut buffer)));
            }
            break;
        }
        let at = if delim.is_empty() { None } else { buffer.windows(delim.len()).position(|w| w == &delim[..]) };
        let Some(at) = at else {
            if buffer.len() >= max + delim.len() {
                calls.push(("lineLengthExceeded", std::mem::take(&mut buffer)));
            }
            break;
        };
        if at > max {
            // Twisted's: the long line, its delimiter and all that follows,
            // and nothing more is read from this data.
            calls.push(("lineLengthExceeded", std::mem::take(&mut buffer)));
            break;
        }
        let line: Vec<u8> = buffer.drain(..at + delim.len()).take(at).collect();
        calls.push(("lineReceived", line));
        // More data follows: run the calls so far now (nested), as they may
        // switch modes; the buffer they leave decides how to go on.
        if !buffer.is_empty() {
            inst.set("_twine_buffer", Value::Bytes(Rc::from(&buffer[..])));
            for (m, arg) in std::mem::take(&mut calls) {
                let f = vm.get_attr(this, m)?;
                vm.call_nested(f, vec![Value::Bytes(Rc::from(arg))])?;
            }
            buffer = match inst.get("_twine_buffer") {
                Some(Value::Bytes(b)) => b.to_vec(),
                _ => Vec::new(),
            };
            pending_raw = raw(inst);
        }
    }
    inst.set("_twine_buffer", Value::Bytes(Rc::from(&buffer[..])));
    let mut last = Ok(Out::Value(Value::None));
    let n = calls.len();
    for (i, (m, arg)) in calls.into_iter().enumerate() {
        let f = vm.get_attr(this, m)?;
        if i + 1 == n {
            // The read's cost, charged to the call's first instruction (the
            // call runs as a task of its own, after this builtin returns).
            vm.rt.nested_pending.set(vm.rt.nested_pending.get() + TWISTED_READ_NS);
            last = vm.call(f, vec![Value::Bytes(Rc::from(arg))], Vec::new());
        } else {
            vm.call_nested(f, vec![Value::Bytes(Rc::from(arg))])?;
        }
    }
    last
}

/// Twisted's `Failure.getBriefTraceback()`: `Traceback: <class 'X'>:
/// message` and a `file:line:function` line per frame the exception left
/// in the program (Twisted's own frames are not kept), or `Traceback
/// (failure with no frames): ...` when it left none.
pub(crate) fn brief_traceback(vm: &mut Vm<'_>, e: &Value) -> PyResult<String> {
    let class = e.class().map_or_else(|| e.type_name().to_string(), |c| c.path());
    let head = format!("<class '{class}'>: {}", vm.str_of(e)?);
    let frames = vm.rt.tracebacks.borrow().get(&exc_text_plain(e)).map(|(_, f)| f.clone()).unwrap_or_default();
    if frames.is_empty() {
        return Ok(format!("Traceback (failure with no frames): {head}\n"));
    }
    let brief: String = frames.iter().filter_map(|f| brief_frame(f)).map(|f| f + "\n").collect();
    Ok(format!("Traceback: {head}\n{brief}"))
}

/// A traceback line (`  File "f.py", line 7, in bad`) in the brief form
/// (`f.py:7:bad`).
fn brief_frame(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (file, rest) = rest.split_once("\", line ")?;
    let (number, func) = rest.split_once(", in ")?;
    Some(format!("{file}:{number}:{func}"))
}
