//! Python's `collections`, the dict kinds programs count and group with:
//! `defaultdict` (a missing key gets the factory's value, stored) and
//! `Counter` (a missing key reads as 0, not stored; `most_common`,
//! `update`, `total`, `+`, `-`, `|`, `&`). Both are dicts with a [`DictKind`], so everything a
//! dict does they do. Only in the full module ([`HERE`]): no preset uses them.

use super::code::{BinOp, CmpOp, UnOp};
use std::cell::RefCell;
use std::rc::Rc;

use super::value::{Class, Dict, DictKind, TypeId, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has the module: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The module's dict types: `type()` of one of them is this type too.
const TYPES: &[&str] = &["defaultdict", "Counter", "OrderedDict"];

/// The module's names.
pub(crate) fn attrs() -> Vec<(&'static str, Value)> {
    TYPES.iter().map(|&t| (t, Value::Type(TypeId::Named(t)))).collect()
}

/// Whether `name` is one of the module's dict types.
pub(crate) fn is_type(name: &str) -> bool {
    HERE && TYPES.contains(&name)
}

/// Calls `collections.NAME`, a function of the module's Python part.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>) -> PyResult<Out> {
    // `namedtuple`'s class: a subclass of its base named as asked
    // (a `class` statement's name is fixed in the source).
    match (name, args.first(), args.get(1)) {
        ("collections._class", Some(Value::Str(n)), Some(Value::Class(base))) => {
            Ok(Out::Value(Value::Class(Class::new(n, Some(Rc::clone(base))))))
        }
        _ => Err(vm.type_error("_class(name, base)")),
    }
}

/// Makes one of the [`TYPES`]: a defaultdict's first argument is its
/// factory; the rest is what `dict(...)` takes, except that a Counter
/// counts an iterable's elements.
pub(crate) fn new(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    let mut args = args.into_iter();
    let kind = match name {
        "defaultdict" => {
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
            DictKind::Default(factory)
        }
        "Counter" => DictKind::Counter,
        _ => DictKind::Ordered,
    };
    let out = match kind {
        DictKind::Counter => {
            let out = Value::dict(Dict::default());
            if let Some(init) = args.next() {
                update(vm, &out, &init, true)?;
            }
            for (k, v) in kwargs {
                set(vm, &out, Value::Str(k), v)?;
            }
            out
        }
        _ => super::builtins::call_type(vm, TypeId::Dict, args.collect(), kwargs)?,
    };
    if let Value::Dict(d) = &out {
        d.borrow_mut().kind = kind;
    }
    Ok(out)
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

/// `a OP b` for two Counters (`+`, `-`, `|` the larger count, `&` the
/// smaller): CPython's multiset operations, a missing count 0, keeping
/// only the positive results, `a`'s keys first. `None`: not these.
pub(crate) fn counter_binary(vm: &mut Vm<'_>, op: BinOp, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let counter = |v: &Value| matches!(v, Value::Dict(d) if matches!(d.borrow().kind, DictKind::Counter));
    if !HERE || !counter(a) || !counter(b) || !matches!(op, BinOp::Add | BinOp::Sub | BinOp::BitOr | BinOp::BitAnd) {
        return Ok(None);
    }
    let mut out = Dict::default();
    out.kind = DictKind::Counter;
    let out = Value::dict(out);
    for (k, _) in items(a).into_iter().chain(items(b)) {
        let (x, y) = (missing_or(vm, a, &k)?, missing_or(vm, b, &k)?);
        let n = match op {
            BinOp::Add | BinOp::Sub => super::ops::binary(vm, op, &x, &y, false)?,
            _ => {
                let y_larger = super::ops::compare(vm, CmpOp::Lt, &x, &y)?;
                if y_larger == (op == BinOp::BitOr) {
                    y
                } else {
                    x
                }
            }
        };
        if super::ops::compare(vm, CmpOp::Gt, &n, &Value::Int(0))? {
            set(vm, &out, k, n)?;
        }
    }
    Ok(Some(out))
}

/// `+c` and `-c` for a Counter: CPython's `__pos__` keeps the positive
/// counts, `__neg__` the negated negative ones (`0 - count`), in `c`'s
/// order. `None`: not these.
pub(crate) fn counter_unary(vm: &mut Vm<'_>, op: UnOp, c: &Value) -> PyResult<Option<Value>> {
    let counter = matches!(c, Value::Dict(d) if matches!(d.borrow().kind, DictKind::Counter));
    if !HERE || !counter || !matches!(op, UnOp::Neg | UnOp::Pos) {
        return Ok(None);
    }
    let mut out = Dict::default();
    out.kind = DictKind::Counter;
    let out = Value::dict(out);
    for (k, n) in items(c) {
        if op == UnOp::Pos {
            if super::ops::compare(vm, CmpOp::Gt, &n, &Value::Int(0))? {
                set(vm, &out, k, n)?;
            }
        } else if super::ops::compare(vm, CmpOp::Lt, &n, &Value::Int(0))? {
            let neg = super::ops::binary(vm, BinOp::Sub, &Value::Int(0), &n, false)?;
            set(vm, &out, k, neg)?;
        }
    }
    Ok(Some(out))
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
        DictKind::Plain | DictKind::Ordered | DictKind::Default(Value::None) => Ok(None),
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
        (DictKind::Ordered, "move_to_end") => Some("move_to_end"),
        _ => None,
    }
}

/// Whether a dict of `kind` has its own `name` in place of a dict's
/// (a Counter's `update` counts; an OrderedDict's `popitem` takes `last`).
pub(crate) fn overrides(kind: &DictKind, name: &str) -> bool {
    method(kind, name).is_some()
        || matches!((kind, name), (DictKind::Counter, "update") | (DictKind::Ordered, "popitem"))
}

/// Calls a method [`overrides`] names.
pub(crate) fn call_method(vm: &mut Vm<'_>, name: &str, d: &Value, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    if let Value::Dict(dd) = d {
        if matches!(dd.borrow().kind, DictKind::Ordered) {
            return ordered_method(vm, name, dd, args, kwargs);
        }
    }
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

/// Whether `==` between `a` and `b` is order-sensitive: both are OrderedDicts.
pub(crate) fn both_ordered(a: &Dict, b: &Dict) -> bool {
    matches!((&a.kind, &b.kind), (DictKind::Ordered, DictKind::Ordered))
}

/// `move_to_end(key, last=True)` and `popitem(last=True)` of an OrderedDict.
fn ordered_method(vm: &mut Vm<'_>, name: &str, d: &RefCell<Dict>, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    // Argument Clinic's checks and words, as CPython's C methods have.
    let most = if name == "popitem" { 1 } else { 2 };
    let given = args.len() + kwargs.len();
    if given > most {
        let s = if most == 1 { "" } else { "s" };
        return Err(vm.type_error(&format!("{name}() takes at most {most} argument{s} ({given} given)")));
    }
    if let Some((k, _)) = kwargs.iter().find(|(k, _)| &**k != "last") {
        return Err(vm.type_error(&format!("'{k}' is an invalid keyword argument for {name}()")));
    }
    if most == 2 && args.is_empty() {
        return Err(vm.type_error("move_to_end() missing required argument 'key' (pos 1)"));
    }
    let last = args.get(most - 1).cloned().or_else(|| super::builtins::kw(kwargs, "last"));
    let last = last.is_none_or(|v| v.truthy());
    if name == "popitem" {
        let end = if last { d.borrow().items().next_back().cloned() } else { d.borrow().items().next().cloned() };
        let Some((k, v)) = end else {
            return Err(vm.rt.error("KeyError", "dictionary is empty"));
        };
        d.borrow_mut().remove(&vm.key(&k)?);
        return Ok(Value::tuple(vec![k, v]));
    }
    let key = vm.key(&args[0])?;
    if !d.borrow_mut().move_to_end(&key, last) {
        let class = vm.rt.exc_class("KeyError");
        return Err(super::errors::Exc::new(vm.rt.new_exc(&class, vec![args[0].clone()])));
    }
    Ok(Value::None)
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
        DictKind::Ordered if items(d).is_empty() => Some("OrderedDict()".to_owned()),
        DictKind::Ordered => {
            let pairs = Value::list(items(d).into_iter().map(|(k, v)| Value::tuple(vec![k, v])).collect());
            Some(format!("OrderedDict({})", vm.repr_of(&pairs)?))
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
        DictKind::Ordered => "OrderedDict",
    }
}
