//! Python's `collections`, the dict kinds programs count and group with:
//! `defaultdict` (a missing key gets the factory's value, stored) and
//! `Counter` (a missing key reads as 0, not stored; `most_common`,
//! `update`, `total`). Both are dicts with a [`DictKind`], so everything a
//! dict does they do. Only in the full module ([`HERE`]): no preset uses them.

use super::code::BinOp;
use std::rc::Rc;

use super::value::{Class, Dict, DictKind, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has the module: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The module's names.
pub(crate) fn attrs() -> Vec<(&'static str, Value)> {
    vec![
        ("defaultdict", Value::builtin("collections.defaultdict", None)),
        ("Counter", Value::builtin("collections.Counter", None)),
    ]
}

/// Calls `collections.NAME`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    if name == "collections._class" {
        // `namedtuple`'s class: a subclass of its base named as asked
        // (a `class` statement's name is fixed in the source).
        return match (args.first(), args.get(1)) {
            (Some(Value::Str(n)), Some(Value::Class(base))) => {
                Ok(Out::Value(Value::Class(Class::new(n, Some(Rc::clone(base))))))
            }
            _ => Err(vm.type_error("_class(name, base)")),
        };
    }
    let mut args = args.into_iter();
    let mut d = Dict::default();
    if name == "collections.defaultdict" {
        let factory = args.next().unwrap_or_default();
        if !matches!(
            factory,
            Value::None
                | Value::Func(_)
                | Value::Builtin(_)
                | Value::Class(_)
                | Value::Method(_)
                | Value::Type(_)
                | Value::Native(_)
        ) {
            return Err(vm.type_error("first argument must be callable or None"));
        }
        d.kind = DictKind::Default(factory);
        let out = Value::dict(d);
        if let Some(init) = args.next() {
            update(vm, &out, &init, false)?;
        }
        for (k, v) in kwargs {
            set(vm, &out, Value::Str(k), v)?;
        }
        return Ok(Out::Value(out));
    }
    d.kind = DictKind::Counter;
    let out = Value::dict(d);
    if let Some(init) = args.next() {
        update(vm, &out, &init, true)?;
    }
    for (k, v) in kwargs {
        set(vm, &out, Value::Str(k), v)?;
    }
    Ok(Out::Value(out))
}

fn set(vm: &mut Vm<'_>, d: &Value, k: Value, v: Value) -> PyResult<()> {
    super::ops::store_subscr(vm, d, k, v)
}

/// `d.update(x)`: a mapping's items; for a Counter, an iterable's
/// elements are counted (and a mapping's counts added).
pub(crate) fn update(vm: &mut Vm<'_>, d: &Value, from: &Value, count: bool) -> PyResult<()> {
    if let Value::Dict(src) = from {
        let items: Vec<(Value, Value)> = src.borrow().items().cloned().collect();
        for (k, v) in items {
            let v = if count {
                let had = missing_or(vm, d, &k)?;
                super::ops::binary(vm, BinOp::Add, &had, &v, false)?
            } else {
                v
            };
            set(vm, d, k, v)?;
        }
        return Ok(());
    }
    for item in vm.collect(from)? {
        let had = missing_or(vm, d, &item)?;
        let n = super::ops::binary(vm, BinOp::Add, &had, &Value::Int(1), false)?;
        set(vm, d, item, n)?;
    }
    Ok(())
}

/// `d[k]` for a Counter being added to: its count, or 0.
fn missing_or(vm: &mut Vm<'_>, d: &Value, k: &Value) -> PyResult<Value> {
    let Value::Dict(dd) = d else { return Ok(Value::Int(0)) };
    let key = vm.key(k)?;
    Ok(dd.borrow().get(&key).unwrap_or(Value::Int(0)))
}

/// What `d[k]` gives for a key `d` lacks, by its kind: `None` (a plain
/// dict's KeyError), a defaultdict's factory value (stored), a Counter's 0.
pub(crate) fn missing(vm: &mut Vm<'_>, d: &Value, k: &Value) -> PyResult<Option<Value>> {
    let Value::Dict(dd) = d else { return Ok(None) };
    let kind = dd.borrow().kind.clone();
    match kind {
        DictKind::Plain | DictKind::Default(Value::None) => Ok(None),
        DictKind::Counter => Ok(Some(Value::Int(0))),
        DictKind::Default(factory) => {
            let v = vm.call_nested(factory, Vec::new())?;
            set(vm, d, k.clone(), v.clone())?;
            Ok(Some(v))
        }
    }
}

/// The methods only these kinds have.
pub(crate) fn method(kind: &DictKind, name: &str) -> Option<&'static str> {
    match (kind, name) {
        (DictKind::Counter, "most_common") => Some("most_common"),
        (DictKind::Counter, "total") => Some("total"),
        (DictKind::Counter, "elements") => Some("elements"),
        _ => None,
    }
}

/// Calls a Counter's own method, or a Counter's `update` (which counts).
pub(crate) fn call_method(vm: &mut Vm<'_>, name: &str, d: &Value, args: &[Value]) -> PyResult<Value> {
    Ok(match name {
        "update" => {
            if let Some(from) = args.first() {
                update(vm, d, from, true)?;
            }
            Value::None
        }
        "total" => {
            let mut sum = Value::Int(0);
            for (_, v) in items(d) {
                sum = super::ops::binary(vm, BinOp::Add, &sum, &v, false)?;
            }
            sum
        }
        "elements" => {
            let mut out = Vec::new();
            for (k, v) in items(d) {
                if let Value::Int(n) = v {
                    out.extend(std::iter::repeat_n(k, n.max(0) as usize));
                }
            }
            Value::list(out)
        }
        _ => {
            let n = match args.first() {
                Some(Value::Int(n)) => Some((*n).max(0) as usize),
                _ => None,
            };
            let pairs = most_common(vm, d)?;
            let pairs = pairs.into_iter().take(n.unwrap_or(usize::MAX));
            Value::list(pairs.map(|(k, v)| Value::tuple(vec![k, v])).collect())
        }
    })
}

fn items(d: &Value) -> Vec<(Value, Value)> {
    match d {
        Value::Dict(dd) => dd.borrow().items().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The items by count, highest first; equal counts keep insertion order (CPython's sort is stable).
fn most_common(vm: &mut Vm<'_>, d: &Value) -> PyResult<Vec<(Value, Value)>> {
    let mut pairs = items(d);
    let mut err = None;
    // Highest count first: the order of b against a.
    pairs.sort_by(|a, b| {
        super::ops::order(vm, &b.1, &a.1, "<").unwrap_or_else(|e| {
            err.get_or_insert(e);
            std::cmp::Ordering::Equal
        })
    });
    match err {
        Some(e) => Err(e),
        None => Ok(pairs),
    }
}

/// The repr of a dict of kind `kind` around `body` (`{...}`): CPython's
/// `defaultdict(<class 'list'>, {...})`, `Counter({'a': 2})`; `None` for a plain dict.
pub(crate) fn repr(vm: &mut Vm<'_>, d: &Value, kind: &DictKind) -> PyResult<Option<String>> {
    Ok(match kind {
        DictKind::Plain => None,
        DictKind::Default(f) => {
            let body = vm.repr_of(&Value::dict(plain_copy(d)))?;
            Some(format!("defaultdict({}, {body})", vm.repr_of(f)?))
        }
        DictKind::Counter => {
            let pairs = most_common(vm, d)?;
            if pairs.is_empty() {
                return Ok(Some("Counter()".to_owned()));
            }
            let mut parts = Vec::new();
            for (k, v) in pairs {
                parts.push(format!("{}: {}", vm.repr_of(&k)?, vm.repr_of(&v)?));
            }
            Some(format!("Counter({{{}}})", parts.join(", ")))
        }
    })
}

/// The items as a plain dict.
fn plain_copy(d: &Value) -> Dict {
    let mut out = Dict::default();
    if let Value::Dict(dd) = d {
        for (k, v) in dd.borrow().items() {
            if let Ok(key) = k.key() {
                out.insert(key, k.clone(), v.clone());
            }
        }
    }
    out
}

/// CPython's type name for a dict of kind `kind`.
pub(crate) fn type_name(kind: &DictKind) -> &'static str {
    match kind {
        DictKind::Plain => "dict",
        DictKind::Default(_) => "defaultdict",
        DictKind::Counter => "Counter",
    }
}
