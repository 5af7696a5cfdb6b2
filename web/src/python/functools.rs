//! Python's `functools`, the parts Twisted programs reach for: `partial`
//! (a callback with some arguments bound), `reduce`, and `wraps` (for
//! decorators; it returns the wrapper unchanged: functions here carry no
//! `__name__`/`__doc__` to copy). Only in the full module ([`HERE`]): no
//! preset uses it.

use std::rc::Rc;

use super::value::{Native, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has the module: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The module's names.
pub(crate) fn attrs() -> Vec<(&'static str, Value)> {
    ["partial", "reduce", "wraps"].iter().map(|&n| (n, Value::builtin(qualified(n), None))).collect()
}

fn qualified(name: &str) -> &'static str {
    match name {
        "partial" => "functools.partial",
        "reduce" => "functools.reduce",
        _ => "functools.wraps",
    }
}

/// A `functools.partial` object.
#[derive(Debug)]
pub(crate) struct Partial {
    pub func: Value,
    pub args: Vec<Value>,
    pub kwargs: Kw,
}

/// Calls `functools.NAME`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let mut args = args.into_iter();
    let v = match name {
        "functools.partial" => {
            let Some(func) = args.next() else {
                return Err(vm.type_error("partial() missing 1 required positional argument: 'func'"));
            };
            Value::Native(Rc::new(Native::Partial(Rc::new(Partial { func, args: args.collect(), kwargs }))))
        }
        "functools.reduce" => {
            let (Some(f), Some(iterable)) = (args.next(), args.next()) else {
                return Err(vm.type_error("reduce expected at least 2 arguments"));
            };
            let mut items = vm.collect(&iterable)?.into_iter();
            let Some(mut acc) = args.next().or_else(|| items.next()) else {
                return Err(vm.type_error("reduce() of empty iterable with no initial value"));
            };
            for item in items {
                acc = vm.call_nested(f.clone(), vec![acc, item])?;
            }
            acc
        }
        // `@wraps(f)` over a wrapper: the wrapper itself.
        "functools.wraps" => {
            if args.next().is_none() {
                return Err(vm.type_error("wraps() missing 1 required positional argument: 'wrapped'"));
            }
            Value::builtin("functools._same", None)
        }
        // What `wraps(f)` returns, applied to the wrapper.
        _ => args.next().unwrap_or_default(),
    };
    Ok(Out::Value(v))
}

/// Calls a partial object: its function with its arguments, then these.
pub(crate) fn call_partial(vm: &mut Vm<'_>, p: &Partial, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let mut all = p.args.clone();
    all.extend(args);
    let mut kw = p.kwargs.clone();
    for (k, v) in kwargs {
        kw.retain(|(old, _)| *old != k);
        kw.push((k, v));
    }
    vm.call(p.func.clone(), all, kw)
}

/// CPython's repr: `functools.partial(<function f>, 1, x=2)`.
pub(crate) fn repr(vm: &mut Vm<'_>, p: &Partial) -> PyResult<String> {
    let mut parts = vec![vm.repr_of(&p.func)?];
    for a in &p.args {
        parts.push(vm.repr_of(a)?);
    }
    for (k, v) in &p.kwargs {
        parts.push(format!("{k}={}", vm.repr_of(v)?));
    }
    Ok(format!("functools.partial({})", parts.join(", ")))
}
