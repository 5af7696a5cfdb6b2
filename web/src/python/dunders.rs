//! The special methods of built-in values, and the methods of built-in
//! types called through the type, as CPython 3.11 has them:
//! `(7).__add__(1)`, `"ab".__len__()`, `[1].__contains__(1)`,
//! `int.__add__(1, 2)`, `dict.__getitem__(d, k)`, `map(str.upper, words)`.
//!
//! Each runs what the operator or built-in does. A number's or a
//! collection's operator method given an operand of another type returns
//! `NotImplemented` (`(5).__eq__("x")`, `(3).__mul__(2.0)`: `int`'s know
//! only ints), which is what a class's own `__eq__` that defers to them
//! needs. `object`'s own (`__eq__`, `__ne__`, `__hash__`, `__repr__`,
//! `__str__`) are what a class's reach through `super()` or call as
//! `object.__eq__(self, other)`. Full module only ([`HERE`]): no preset
//! calls one.

use super::builtins;
use super::code::{BinOp, CmpOp, UnOp};
use super::value::{Key, TypeId, Value};
use super::vm::{Kw, Out, PyResult, Vm};

pub(crate) const HERE: bool = super::compile::PARSER;

/// The operator methods: their operator, and whether reflected (`__radd__`).
const BINARY: &[(&str, BinOp, bool)] = &[
    ("__add__", BinOp::Add, false),
    ("__sub__", BinOp::Sub, false),
    ("__mul__", BinOp::Mul, false),
    ("__truediv__", BinOp::Div, false),
    ("__floordiv__", BinOp::FloorDiv, false),
    ("__mod__", BinOp::Mod, false),
    ("__pow__", BinOp::Pow, false),
    ("__lshift__", BinOp::LShift, false),
    ("__rshift__", BinOp::RShift, false),
    ("__and__", BinOp::BitAnd, false),
    ("__or__", BinOp::BitOr, false),
    ("__xor__", BinOp::BitXor, false),
    ("__radd__", BinOp::Add, true),
    ("__rsub__", BinOp::Sub, true),
    ("__rmul__", BinOp::Mul, true),
    ("__rtruediv__", BinOp::Div, true),
    ("__rfloordiv__", BinOp::FloorDiv, true),
    ("__rmod__", BinOp::Mod, true),
    ("__rpow__", BinOp::Pow, true),
    ("__rlshift__", BinOp::LShift, true),
    ("__rrshift__", BinOp::RShift, true),
    ("__rand__", BinOp::BitAnd, true),
    ("__ror__", BinOp::BitOr, true),
    ("__rxor__", BinOp::BitXor, true),
];

const COMPARE: &[(&str, CmpOp)] = &[
    ("__eq__", CmpOp::Eq),
    ("__ne__", CmpOp::Ne),
    ("__lt__", CmpOp::Lt),
    ("__le__", CmpOp::Le),
    ("__gt__", CmpOp::Gt),
    ("__ge__", CmpOp::Ge),
];

/// The rest, each with the number of arguments it takes.
const OTHER: &[(&str, usize)] = &[
    ("__neg__", 0),
    ("__pos__", 0),
    ("__invert__", 0),
    ("__abs__", 0),
    ("__bool__", 0),
    ("__int__", 0),
    ("__float__", 0),
    ("__index__", 0),
    ("__len__", 0),
    ("__hash__", 0),
    ("__str__", 0),
    ("__repr__", 0),
    ("__iter__", 0),
    ("__next__", 0),
    ("__contains__", 1),
    ("__getitem__", 1),
    ("__delitem__", 1),
    ("__setitem__", 2),
];

/// `object`'s special methods (the rest are `attrs`' and `object.__init__`).
const OBJECT: &[&str] = &["object.__eq__", "object.__ne__", "object.__hash__", "object.__repr__", "object.__str__"];

/// `object.name`'s built-in, when `name` is one of [`OBJECT`].
pub(crate) fn object_method(name: &str) -> Option<&'static str> {
    OBJECT.iter().find(|m| HERE && m.strip_prefix("object.") == Some(name)).copied()
}

/// Calls `object.NAME(obj, *args)`, `name` one of [`OBJECT`]: what CPython's
/// `object` does, whatever `obj`'s class overrides.
pub(crate) fn call_object(vm: &mut Vm<'_>, name: &str, args: &[Value]) -> PyResult<Value> {
    let short = name.trim_start_matches("object.");
    let Some((obj, rest)) = args.split_first() else {
        return Err(vm.type_error(&format!("descriptor '{short}' of 'object' object needs an argument")));
    };
    let wanted = usize::from(matches!(short, "__eq__" | "__ne__"));
    if rest.len() != wanted {
        let s = if wanted == 1 { "" } else { "s" };
        return Err(vm.type_error(&format!("expected {wanted} argument{s}, got {}", rest.len())));
    }
    Ok(match (short, rest.first(), obj) {
        // Identity, else left to the other operand.
        ("__eq__", Some(other), _) if obj.is(other) => Value::Bool(true),
        ("__eq__", ..) => not_implemented_value(),
        // The negation of the type's `__eq__` (`object`'s for a class without one).
        ("__ne__", Some(other), _) => {
            let r = match obj {
                Value::Instance(_) => match super::ops::dunder(obj, "__eq__") {
                    Some(eq) => vm.call_nested(eq, vec![other.clone()])?,
                    None => call_object(vm, "object.__eq__", args)?,
                },
                _ => {
                    let eq = vm.get_attr(obj, "__eq__")?;
                    vm.call_nested(eq, vec![other.clone()])?
                }
            };
            if is_not_implemented(&r) {
                r
            } else {
                Value::Bool(!r.truthy())
            }
        }
        ("__hash__", ..) => Value::Int(builtins::hash_of_key(&Key::Id(obj.identity()))),
        ("__repr__", _, Value::Instance(i)) => Value::Str(format!("<{} object>", i.class.path()).into()),
        // `__str__` is the class's `__repr__`.
        _ => Value::Str(vm.repr_of(obj)?.into()),
    })
}

fn is_not_implemented(v: &Value) -> bool {
    matches!(v, Value::Builtin(b) if b.name == "NotImplemented")
}

/// `obj.name` when `name` is a special method `obj`'s type has.
pub(crate) fn method(obj: &Value, name: &str) -> Option<&'static str> {
    if !HERE || !name.starts_with("__") {
        return None;
    }
    let names = BINARY.iter().map(|b| b.0).chain(COMPARE.iter().map(|c| c.0)).chain(OTHER.iter().map(|o| o.0));
    names.into_iter().find(|n| *n == name).filter(|n| has(obj, n))
}

/// Whether `obj`'s type defines `name` (CPython's tables, for the types here).
fn has(obj: &Value, name: &str) -> bool {
    use Value::*;
    let int = matches!(obj, Int(_) | Bool(_));
    let number = int || matches!(obj, Float(_));
    let sequence = matches!(obj, Str(_) | Bytes(_) | List(_) | Tuple(_));
    let sized = sequence || matches!(obj, Dict(_) | Set(_) | Range(..));
    let data = sized || number || matches!(obj, None);
    match name {
        "__eq__" | "__ne__" | "__lt__" | "__le__" | "__gt__" | "__ge__" | "__str__" | "__repr__" => data,
        "__hash__" => data && obj.key().is_ok(),
        "__add__" | "__mul__" | "__rmul__" => number || sequence,
        "__mod__" => number || matches!(obj, Str(_) | Bytes(_)),
        "__sub__" | "__and__" | "__xor__" => int || matches!(obj, Set(_)) || (name == "__sub__" && number),
        "__or__" => int || matches!(obj, Set(_) | Dict(_)),
        "__rand__" | "__ror__" | "__rxor__" | "__lshift__" | "__rshift__" | "__rlshift__" | "__rrshift__" => int,
        "__invert__" | "__index__" => int,
        "__len__" | "__contains__" => sized,
        "__iter__" => sized || matches!(obj, Iter(_) | Generator(_)),
        "__getitem__" => sequence || matches!(obj, Dict(_) | Range(..)),
        "__setitem__" | "__delitem__" => matches!(obj, List(_) | Dict(_)),
        "__next__" => matches!(obj, Iter(_) | Generator(_)),
        // The other reflected operators and the numbers' conversions.
        _ => number,
    }
}

/// Calls `this.name(*args)`, `name` one of [`method`]'s.
pub(crate) fn call(vm: &mut Vm<'_>, name: &'static str, this: &Value, args: Vec<Value>) -> PyResult<Out> {
    let wanted = match OTHER.iter().find(|o| o.0 == name) {
        Some(&(_, n)) => n,
        None => 1,
    };
    if args.len() != wanted {
        let s = if wanted == 1 { "" } else { "s" };
        return Err(vm.type_error(&format!("expected {wanted} argument{s}, got {}", args.len())));
    }
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    if let Some(&(_, op, reflected)) = BINARY.iter().find(|b| b.0 == name) {
        let other = arg(0);
        if !takes(this, &other, false) {
            return Ok(not_implemented());
        }
        let (a, b) = if reflected { (&other, this) } else { (this, &other) };
        return Ok(Out::Value(super::ops::binary(vm, op, a, b, false)?));
    }
    if let Some(&(_, op)) = COMPARE.iter().find(|c| c.0 == name) {
        let other = arg(0);
        let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        if !takes(this, &other, true) || (ordered && matches!(this, Value::Dict(_) | Value::None)) {
            return Ok(not_implemented());
        }
        return Ok(Out::Value(Value::Bool(super::ops::compare(vm, op, this, &other)?)));
    }
    let one = |vm: &mut Vm<'_>, f| builtins::call_function(vm, f, vec![this.clone()], Vec::new());
    let v = match name {
        "__neg__" => vm.unary(UnOp::Neg, this)?,
        "__pos__" => vm.unary(UnOp::Pos, this)?,
        "__invert__" => vm.unary(UnOp::Invert, this)?,
        "__bool__" => Value::Bool(this.truthy()),
        "__int__" | "__index__" => builtins::call_type(vm, TypeId::Int, vec![this.clone()], Vec::new())?,
        "__float__" => builtins::call_type(vm, TypeId::Float, vec![this.clone()], Vec::new())?,
        "__str__" => Value::Str(vm.str_of(this)?.into()),
        "__repr__" => Value::Str(vm.repr_of(this)?.into()),
        "__abs__" => return one(vm, "abs"),
        "__len__" => return one(vm, "len"),
        "__hash__" => return one(vm, "hash"),
        "__iter__" => return one(vm, "iter"),
        "__next__" => return one(vm, "next"),
        "__contains__" => Value::Bool(super::ops::contains(vm, this, &arg(0))?),
        "__getitem__" => super::ops::subscr(vm, this, &arg(0))?,
        "__delitem__" => super::ops::del_subscr(vm, this, &arg(0)).map(|_| Value::None)?,
        _ => super::ops::store_subscr(vm, this, arg(0), arg(1)).map(|_| Value::None)?,
    };
    Ok(Out::Value(v))
}

/// Whether `this`'s operator (or `compare`: comparison) methods take
/// `other`, else `NotImplemented`: an int's only ints, a float's numbers,
/// a collection's its own type. A sequence's `+`, `*` and `%` raise their
/// own TypeError instead (`"a".__add__(1)`), as CPython's.
fn takes(this: &Value, other: &Value, compare: bool) -> bool {
    use Value::*;
    match this {
        Int(_) | Bool(_) => matches!(other, Int(_) | Bool(_)),
        Float(_) => matches!(other, Int(_) | Bool(_) | Float(_)),
        Str(_) | Bytes(_) | List(_) | Tuple(_) if !compare => true,
        _ => std::mem::discriminant(this) == std::mem::discriminant(other),
    }
}

fn not_implemented() -> Out {
    Out::Value(not_implemented_value())
}

fn not_implemented_value() -> Value {
    Value::builtin("NotImplemented", None)
}

/// `T.name` for a built-in type `T`: its method, unbound
/// (`str.upper`, `int.__add__`), if `T` has one.
pub(crate) fn unbound(t: TypeId, name: &str) -> Option<Value> {
    let sample = sample(t)?;
    let m = builtins::method(&sample, name).or_else(|| method(&sample, name))?;
    Some(Value::builtin(m, Some(Value::Type(t))))
}

/// What CPython calls `T.name` in its repr: a type slot's `slot wrapper`,
/// or a `method` (a few collections' `__getitem__` are methods too).
pub(crate) fn kind(t: TypeId, name: &str) -> &'static str {
    let method = !name.starts_with("__")
        || matches!((t, name), (TypeId::Dict, "__getitem__" | "__contains__") | (TypeId::List, "__getitem__"));
    if method {
        "method"
    } else {
        "slot wrapper"
    }
}

/// A value of type `t`, to look its methods up on.
fn sample(t: TypeId) -> Option<Value> {
    Some(match t {
        TypeId::Int => Value::Int(0),
        TypeId::Bool => Value::Bool(false),
        TypeId::Float => Value::Float(0.0),
        TypeId::Str => Value::str(""),
        TypeId::Bytes => Value::Bytes(Vec::new().into()),
        TypeId::List => Value::list(Vec::new()),
        TypeId::Tuple => Value::tuple(Vec::new()),
        TypeId::Dict => Value::dict(Default::default()),
        TypeId::Set => Value::Set(Default::default()),
        _ => return None,
    })
}

/// `T.name(obj, *args)`: `obj.name(*args)` once `obj` is a `T`, else
/// CPython's TypeError.
pub(crate) fn call_unbound(vm: &mut Vm<'_>, t: TypeId, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let tn = t.name();
    let mut args = args.into_iter();
    let Some(obj) = args.next() else {
        return Err(vm.type_error(&format!("unbound method {tn}.{name}() needs an argument")));
    };
    if !builtins::isinstance(vm, &obj, &Value::Type(t))? {
        let given = obj.type_name();
        return Err(
            vm.type_error(&format!("descriptor '{name}' for '{tn}' objects doesn't apply to a '{given}' object"))
        );
    }
    let bound = vm.get_attr(&obj, name)?;
    vm.call(bound, args.collect(), kwargs)
}
