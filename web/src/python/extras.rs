//! Built-ins that no shipped preset uses, for programs users write:
//! `dict.fromkeys`, `vars`, and a clear refusal of `globals()`. Like
//! `itertools`, they are only in the full module ([`HERE`]): the light one
//! runs the precompiled presets and is over its size budget.

use std::cell::RefCell;
use std::rc::Rc;

use super::value::{Dict, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has these built-ins: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The built-in functions called through [`call`] (`dict.fromkeys` is
/// reached as an attribute of `dict`).
pub(crate) const NAMES: &[&str] = &["vars", "globals", "dict.fromkeys"];

/// The value of the global name `name`, if it is one of these built-ins.
pub(crate) fn lookup(name: &str) -> Option<Value> {
    let found = NAMES.iter().find(|n| **n == name && !n.contains('.'))?;
    Some(Value::builtin(found, None))
}

/// Calls the built-in `name` (one of [`NAMES`]).
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    if let Some((k, _)) = kwargs.first() {
        return Err(vm.type_error(&format!("{name}() takes no keyword arguments ('{k}' given)")));
    }
    let v = match name {
        "dict.fromkeys" => {
            let (iterable, value) = match args.as_slice() {
                [] => return Err(vm.type_error("fromkeys expected at least 1 argument, got 0")),
                [i] => (i, Value::None),
                [i, v] => (i, v.clone()),
                _ => return Err(vm.type_error(&format!("fromkeys expected at most 2 arguments, got {}", args.len()))),
            };
            let mut d = Dict::default();
            for k in vm.collect(iterable)? {
                let key = vm.key(&k)?;
                d.insert(key, k, value.clone());
            }
            Value::Dict(Rc::new(RefCell::new(d)))
        }
        "vars" => vars(vm, &args)?,
        // Globals live in a map of the program's names, not a dict a
        // program could hold and change; a copy would silently not write back.
        _ => {
            return Err(vm.type_error(
                "globals() is not supported here: keep what you look up by name in a dict of your own (registry = {})",
            ))
        }
    };
    Ok(Out::Value(v))
}

/// `vars(obj)` of an instance: a new dict of its attributes. CPython returns
/// the instance's own `__dict__`, so writing to it sets attributes; here it
/// is a copy (set attributes with `setattr`).
fn vars(vm: &mut Vm<'_>, args: &[Value]) -> PyResult<Value> {
    let i = match args {
        [Value::Instance(i)] => i,
        [] => return Err(vm.type_error("vars() without an argument is not supported here: pass the object, vars(obj)")),
        [_] => return Err(vm.type_error("vars() argument must have __dict__ attribute")),
        _ => return Err(vm.type_error(&format!("vars expected at most 1 argument, got {}", args.len()))),
    };
    // An exception's `args` is kept among its attributes here; CPython's is not in `__dict__`.
    let exception = i.class.is_subclass(&vm.rt.exc_class("BaseException"));
    let mut d = Dict::default();
    for (name, v) in i.attrs.borrow().iter() {
        if exception && &**name == "args" {
            continue;
        }
        let k = Value::Str(Rc::clone(name));
        let key = vm.key(&k)?;
        d.insert(key, k, v.clone());
    }
    Ok(Value::Dict(Rc::new(RefCell::new(d))))
}
