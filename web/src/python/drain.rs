//! A generator handed to a built-in that consumes it (`list(gen)`,
//! `sorted(...)`, `sum(...)`, `any(...)`, `enumerate(...)`) runs on the
//! thread's own stack, as every Python frame does in CPython.
//!
//! A built-in written in Rust can only run a generator in a loop nested in
//! its own Rust call, where the generator cannot wait: a `time.sleep`, a
//! lock or a `Future.result()` in it was refused ("cannot wait inside ...
//! a generator a built-in consumes"). `list(executor.map(f, xs))` and
//! `sorted(f.result() for f in as_completed(fs))` are everyday Python, so
//! such a call runs small Python functions instead ([`SOURCE`]): a list
//! comprehension drains the generator on the thread's stack, then the
//! built-in gets the list. `any`/`all` stop at their answer and
//! `enumerate` stays lazy, as CPython's do.
//!
//! The presets hand no generator to a built-in: the light module leaves
//! this out (`builtins::full`).

use super::value::{Function, Value};
use super::vm::{Kw, Out, PyResult, Vm};
use std::rc::Rc;

/// The built-ins (functions and types) whose first argument, a
/// generator, is drained first.
pub(crate) const DRAINED: &[&str] =
    &["list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "dict", "any", "all", "enumerate"];

/// The file the functions are compiled as: tracebacks leave its frames
/// out, as CPython's have none for its built-ins (C code).
pub(crate) const FILE: &str = "<builtins>";

const SOURCE: &str = "\
def _drained(builtin, gen, *args, **kwargs):
    return builtin([x for x in gen], *args, **kwargs)

def _any(gen):
    for x in gen:
        if x:
            return True
    return False

def _all(gen):
    for x in gen:
        if not x:
            return False
    return True

def _enumerate(gen, start):
    n = start
    for x in gen:
        yield n, x
        n += 1
";

/// `callee(gen, *rest, **kwargs)`, the built-in function or type `name`,
/// as a frame of [`SOURCE`]'s on the caller's stack.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, callee: Value, mut args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let (helper, args) = match name {
        "any" => ("_any", args),
        "all" => ("_all", args),
        "enumerate" => {
            // No defaults here (the functions are made from their code, not
            // by running the `def`s): `start` is passed, 0 unless given.
            if args.len() < 2 && !kwargs.iter().any(|(k, _)| &**k == "start") {
                args.push(Value::Int(0));
            }
            ("_enumerate", args)
        }
        _ => {
            args.insert(0, callee);
            ("_drained", args)
        }
    };
    // `call`, not a frame: `_enumerate` is a generator function.
    let f = function(vm, helper)?;
    vm.call(f, args, kwargs)
}

/// A function of [`SOURCE`], made once per run (as the library's
/// `twisted::library` functions are: compiled on first use).
fn function(vm: &Vm<'_>, name: &'static str) -> PyResult<Value> {
    if let Some(f @ Value::Func(_)) = vm.rt.library.borrow().get(name) {
        return Ok(f.clone());
    }
    let code = super::compile::compile_module(FILE, SOURCE)
        .map_err(|e| vm.rt.error("SystemError", &format!("the built-ins' Python part: {e:?}")))?;
    let f = code
        .consts
        .iter()
        .find_map(|c| match c {
            Value::Func(f) if &*f.code.name == name => Some(Function::of_code(Rc::clone(&f.code), Rc::default())),
            _ => None,
        })
        .ok_or_else(|| vm.rt.error("SystemError", &format!("the built-ins' Python part has no {name}")))?;
    vm.rt.library.borrow_mut().insert(name, f.clone());
    Ok(f)
}
