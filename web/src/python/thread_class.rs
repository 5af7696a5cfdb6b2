//! `class Worker(threading.Thread)`: subclasses of `threading.Thread` that
//! override `run` (and usually `__init__`, calling `super().__init__()`).
//!
//! `threading.Thread(target=...)` called directly makes a native thread
//! object (`Native::Thread`). A class that derives from it gets this
//! library class as its base instead: its `__init__` makes the same native
//! object, kept on the instance, whose target is the instance's own `run`
//! when the subclass overrides it (else the `target` given, as CPython's
//! default `run` calls it); `start`, `join` and `is_alive` are the native
//! object's. So a subclass's thread runs, waits and shows in the trace as
//! any other; `threading.current_thread()` in it is the instance.
//!
//! The presets use none of it: the light module leaves it out ([`HERE`]).

use std::rc::Rc;

use super::builtins::{call_function, call_method};
use super::value::{Class, Native, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has it: the full module's only.
pub(crate) const HERE: bool = super::compile::PARSER;

/// Where an instance keeps its native thread object.
const NATIVE: &str = "_thread";

/// The base class a `class X(threading.Thread)` gets, made once per run.
pub(crate) fn class(rt: &super::Runtime) -> Rc<Class> {
    if let Some(Value::Class(c)) = rt.library.borrow().get("Thread") {
        return Rc::clone(c);
    }
    let c = Class::in_module("Thread", None, "threading");
    for (method, builtin) in [
        ("__init__", "Thread.__init__"),
        ("start", "Thread.start"),
        ("run", "Thread.run"),
        ("join", "Thread.join"),
        ("is_alive", "Thread.is_alive"),
        ("setDaemon", "Thread.setDaemon"),
        ("isDaemon", "Thread.isDaemon"),
    ] {
        c.attrs.borrow_mut().insert(method.into(), Value::builtin(builtin, None));
    }
    rt.library.borrow_mut().insert("Thread", Value::Class(Rc::clone(&c)));
    c
}

/// Calls `Thread.NAME` on the instance `this`.
pub(crate) fn method(vm: &mut Vm<'_>, name: &str, this: &Value, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let Value::Instance(inst) = this else {
        return Err(vm.type_error(&format!("{name}() needs a Thread instance")));
    };
    match name {
        "Thread.__init__" => {
            // CPython's signature: (group, target, name, args, kwargs, *, daemon).
            let mut kwargs = kwargs;
            for (i, key) in ["group", "target", "name", "args", "kwargs"].iter().enumerate() {
                if let Some(v) = args.get(i) {
                    kwargs.push(((*key).into(), v.clone()));
                }
            }
            let overridden = !matches!(inst.class.lookup("run"), Some(Value::Builtin(b)) if b.name == "Thread.run");
            if overridden {
                // The thread runs `self.run()`.
                kwargs.retain(|(k, _)| !matches!(&**k, "target" | "args" | "kwargs"));
                kwargs.push(("target".into(), vm.get_attr(this, "run")?));
            }
            kwargs.retain(|(k, _)| &**k != "group");
            let native = call_function(vm, "threading.Thread", Vec::new(), kwargs)?;
            let Out::Value(native) = native else { unreachable!("threading.Thread makes its object at once") };
            if let Value::Native(n) = &native {
                if let Native::Thread(t) = &**n {
                    inst.set("name", Value::Str(Rc::clone(&t.name.borrow())));
                    inst.set("daemon", Value::Bool(t.daemon.get()));
                    // `current_thread()` in it, and `enumerate()`, give the instance.
                    vm.rt.thread_instances.borrow_mut().insert(Rc::as_ptr(t) as usize, this.clone());
                }
            }
            inst.set(NATIVE, native);
            Ok(Out::Value(Value::None))
        }
        "Thread.run" => {
            // CPython's default `run`: the target with its arguments.
            let (target, targs, tkw) = match inst.get(NATIVE) {
                Some(Value::Native(n)) => match &*n {
                    Native::Thread(t) => (t.target.clone(), t.args.clone(), t.kwargs.clone()),
                    _ => (Value::None, Vec::new(), Vec::new()),
                },
                _ => (Value::None, Vec::new(), Vec::new()),
            };
            if matches!(target, Value::None) {
                return Ok(Out::Value(Value::None));
            }
            vm.call(target, targs, tkw)
        }
        _ => {
            let Some(native) = inst.get(NATIVE) else {
                return Err(vm.rt.error("RuntimeError", "thread.__init__() not called"));
            };
            let method = name.trim_start_matches("Thread.");
            let method = super::builtins::method(&native, method).unwrap_or("start");
            // `self.daemon = True` sets the instance's attribute: the native
            // object learns it before it runs, and tells it back after `setDaemon`.
            let thread = match &native {
                Value::Native(n) => match &**n {
                    Native::Thread(t) => Some(t),
                    _ => None,
                },
                _ => None,
            };
            if let (Some(t), Some(daemon)) = (thread, inst.get("daemon")) {
                t.daemon.set(daemon.truthy());
            }
            let out = call_method(vm, method, &native, args, kwargs)?;
            if let Some(t) = thread {
                inst.set("daemon", Value::Bool(t.daemon.get()));
            }
            Ok(out)
        }
    }
}
