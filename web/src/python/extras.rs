//! Built-ins that no shipped preset uses, for programs users write:
//! `dict.fromkeys`, `vars`, a clear refusal of `globals()`, `bytes(n)` and
//! `bytes(ints)`, `bytes.fromhex`, `int.from_bytes`, an int's `to_bytes`
//! and `bit_length`, and the keys
//! of instances whose class defines `__hash__` ([`key`]). Like
//! `itertools`, they are only in the full module ([`HERE`]): the light one
//! runs the precompiled presets and is over its size budget.

use std::cell::RefCell;
use std::rc::Rc;

use super::value::{Class, Dict, DictKind, Instance, Key, TypeId, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has these built-ins: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The built-in functions called through [`call`] (`dict.fromkeys` is
/// reached as an attribute of `dict`).
pub(crate) const NAMES: &[&str] = &[
    "vars",
    "globals",
    "dict.fromkeys",
    "OrderedDict.fromkeys",
    "defaultdict.fromkeys",
    "Counter.fromkeys",
    "bytes.fromhex",
    "int.from_bytes",
];

/// `obj.fromkeys` for a dict type or a dict (`{}.fromkeys` as well as
/// `dict.fromkeys`; `OrderedDict.fromkeys`): the built-in that makes its
/// kind of dict, as CPython's class method does.
pub(crate) fn fromkeys(obj: &Value) -> Option<Value> {
    let kind = match obj {
        Value::Type(TypeId::Dict) => "dict",
        Value::Type(TypeId::Named(n)) => n,
        Value::Dict(_) => obj.builtin_type_name(),
        _ => return None,
    };
    let name = NAMES.iter().find(|n| n.strip_suffix(".fromkeys") == Some(kind))?;
    Some(Value::builtin(name, None))
}

/// The value of the global name `name`, if it is one of these built-ins.
pub(crate) fn lookup(name: &str) -> Option<Value> {
    let found = NAMES.iter().find(|n| **n == name && !n.contains('.'))?;
    Some(Value::builtin(found, None))
}

/// Calls the built-in `name` (one of [`NAMES`]).
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    if name == "int.from_bytes" {
        return Ok(Out::Value(from_bytes(vm, &args, &kwargs)?));
    }
    if let Some((k, _)) = kwargs.first() {
        return Err(vm.type_error(&format!("{name}() takes no keyword arguments ('{k}' given)")));
    }
    let v = match name {
        "Counter.fromkeys" => {
            return Err(vm
                .rt
                .error("NotImplementedError", "Counter.fromkeys() is undefined.  Use Counter(iterable) instead."))
        }
        n if n.ends_with(".fromkeys") => {
            let (iterable, value) = match args.as_slice() {
                [] => return Err(vm.type_error("fromkeys expected at least 1 argument, got 0")),
                [i] => (i, Value::None),
                [i, v] => (i, v.clone()),
                _ => return Err(vm.type_error(&format!("fromkeys expected at most 2 arguments, got {}", args.len()))),
            };
            let mut d = Dict::default();
            d.kind = match n {
                "OrderedDict.fromkeys" => DictKind::Ordered,
                // A defaultdict with no factory, as `cls()` makes it.
                "defaultdict.fromkeys" => DictKind::Default(Value::None),
                _ => DictKind::Plain,
            };
            for k in vm.collect(iterable)? {
                let key = vm.key(&k)?;
                d.insert(key, k, value.clone());
            }
            Value::Dict(Rc::new(RefCell::new(d)))
        }
        "vars" => vars(vm, &args)?,
        "bytes.fromhex" => fromhex(vm, &args)?,
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

/// `vars(obj)` of an instance: its `__dict__` ([`dict_of`]).
fn vars(vm: &mut Vm<'_>, args: &[Value]) -> PyResult<Value> {
    match args {
        [Value::Instance(i)] => dict_of(vm, i),
        [] => Err(vm.type_error("vars() without an argument is not supported here: pass the object, vars(obj)")),
        [_] => Err(vm.type_error("vars() argument must have __dict__ attribute")),
        _ => Err(vm.type_error(&format!("vars expected at most 1 argument, got {}", args.len()))),
    }
}

/// An instance's `__dict__`: its attributes, live, as CPython's (a write
/// to it sets one). An exception's `args` and chaining are kept among its
/// attributes here and CPython's are not in `__dict__`: its is a copy
/// without them.
pub(crate) fn dict_of(vm: &mut Vm<'_>, i: &Instance) -> PyResult<Value> {
    if !i.class.is_subclass(&vm.rt.exc_class("BaseException")) {
        return Ok(Value::Dict(i.dict()));
    }
    let mut d = Dict::default();
    for (name, v) in i.attrs.borrow().items().iter() {
        if &**name == "args" || super::errors::chain_default(name).is_some() {
            continue;
        }
        let k = Value::Str(Rc::clone(name));
        let key = vm.key(&k)?;
        d.insert(key, k, v.clone());
    }
    Ok(Value::Dict(Rc::new(RefCell::new(d))))
}

/// The dict key of an instance (or of a tuple holding one), when it is not
/// plain identity: `None` for the other values, whose [`Value::key`] is
/// theirs.
///
/// An instance whose class defines `__hash__` keys as its hash and the
/// identity of the first instance equal to it that was ever a key: the
/// runtime keeps those ([`Runtime::hashed`](super::Runtime)) for the rest
/// of the run, as dicts here key by value and cannot ask `__eq__` in a
/// lookup. So `__eq__` is asked when an instance first becomes a key (of
/// any dict or set, where CPython asks it within one dict), only between
/// instances of the same class or of a class and its subclasses.
pub(crate) fn key(vm: &mut Vm<'_>, v: &Value) -> PyResult<Option<Key>> {
    match v {
        Value::Instance(i) => {
            let Some(hash) = hash_method(&i.class) else { return Ok(None) };
            let Some(hash) = hash else {
                return Err(vm.type_error(&format!("unhashable type: '{}'", i.class.name)));
            };
            let h = hash_of(vm, v, hash)?;
            let same_hash = vm.rt.hashed.borrow().get(&h).cloned().unwrap_or_default();
            for first in same_hash {
                let Value::Instance(f) = &first else { continue };
                let related = f.class.is_subclass(&i.class) || i.class.is_subclass(&f.class);
                if first.is(v) || (related && super::ops::eq(vm, &first, v)?) {
                    return Ok(Some(Key::Hashed(h, first.identity())));
                }
            }
            vm.rt.hashed.borrow_mut().entry(h).or_default().push(v.clone());
            Ok(Some(Key::Hashed(h, v.identity())))
        }
        Value::Tuple(t) if t.iter().any(|x| matches!(x, Value::Instance(_) | Value::Tuple(_))) => {
            let _walking = super::nesting::enter(v.identity(), false).map_err(|_| vm.recursion_error())?;
            let mut keys = Vec::with_capacity(t.len());
            for x in t.iter() {
                keys.push(vm.key(x)?);
            }
            Ok(Some(Key::Tuple(keys)))
        }
        _ => Ok(None),
    }
}

/// How instances of `class` hash: `None` by identity, `Some(None)` not at
/// all, else by this `__hash__`. As in CPython, a class that defines
/// `__eq__` and not `__hash__` is unhashable, whatever its bases define.
fn hash_method(class: &Rc<Class>) -> Option<Option<Value>> {
    let mut c = Some(Rc::clone(class));
    while let Some(k) = c {
        let attrs = k.attrs.borrow();
        if let Some(h) = attrs.get("__hash__") {
            return Some((!matches!(h, Value::None)).then(|| h.clone()));
        }
        if attrs.contains_key("__eq__") {
            return Some(None);
        }
        drop(attrs);
        c = k.base.clone();
    }
    None
}

/// What `v.__hash__()` returns, as `hash(v)` does (-1 is -2 in CPython).
fn hash_of(vm: &mut Vm<'_>, v: &Value, hash: Value) -> PyResult<i64> {
    match vm.call_nested(super::vm::bind(v, hash), Vec::new())? {
        Value::Int(-1) => Ok(-2),
        Value::Int(h) => Ok(h),
        Value::Bool(b) => Ok(b as i64),
        _ => Err(vm.type_error("__hash__ method should return an integer")),
    }
}

/// `f(..., **extra)`: the keywords so far (`into`) and `extra`'s, or
/// CPython's TypeError for a key in both or an `extra` that is no dict.
pub(crate) fn merge_keywords(vm: &mut Vm<'_>, callee: &Value, into: &Value, extra: &Value) -> PyResult<Value> {
    let (Value::Dict(into), Value::Dict(more)) = (into, extra) else {
        let f = function_str(callee);
        return Err(vm.type_error(&format!("{f} argument after ** must be a mapping, not {}", extra.type_name())));
    };
    let mut d = Dict::default();
    for (k, v) in into.borrow().items().chain(more.borrow().items()) {
        let key = vm.key(k)?;
        if d.has(&key) {
            let f = function_str(callee);
            let k = vm.repr_of(k)?;
            return Err(vm.type_error(&format!("{f} got multiple values for keyword argument {k}")));
        }
        d.insert(key, k.clone(), v.clone());
    }
    Ok(Value::dict(d))
}

/// How CPython's call errors name a callable: `__main__.C.f()`,
/// `print()` (`_PyObject_FunctionStr`).
fn function_str(f: &Value) -> String {
    let func = match f {
        Value::Func(func) => func,
        Value::Method(m) => &m.1,
        Value::Class(c) => return format!("{}.{}()", c.module(), c.name),
        Value::Builtin(b) => return format!("{}()", b.name),
        Value::Type(t) => return format!("{}()", t.name()),
        other => return format!("{}()", other.type_name()),
    };
    let module = match func.globals.vars.borrow().get("__name__") {
        Some(Value::Str(m)) => Some(Rc::clone(m)),
        _ => None,
    };
    let qualified = [module, Some(func.qualname())].into_iter().flatten().collect::<Vec<_>>().join(".");
    format!("{qualified}()")
}

/// `type(name, bases, ns)`: the class a `class` statement named `name`
/// with those bases and a body binding `ns` makes.
pub(crate) fn new_type(vm: &mut Vm<'_>, args: &[Value]) -> PyResult<Value> {
    let (Value::Str(name), Value::Tuple(bases), Value::Dict(ns)) = (&args[0], &args[1], &args[2]) else {
        return Err(vm.type_error("type.__new__() argument 1 must be str, 2 a tuple and 3 a dict"));
    };
    let base = match &bases[..] {
        [] => None,
        [b] => vm.base_class(b.clone())?,
        _ => return Err(vm.type_error("multiple inheritance is not supported: use one base class")),
    };
    let mut attrs = std::collections::HashMap::new();
    let mut order = Vec::new();
    for (k, v) in ns.borrow().items() {
        let Value::Str(k) = k else {
            return Err(vm.type_error("type() takes a dict with str keys"));
        };
        attrs.insert(Rc::clone(k), v.clone());
        order.push(Rc::clone(k));
    }
    // As in CPython, the module is the caller's (`__module__` in `ns` wins).
    attrs.entry("__module__".into()).or_insert_with(|| Value::str("__main__"));
    let class = Rc::new(Class { name: Rc::clone(name), qualname: Rc::clone(name), base, attrs: RefCell::new(attrs) });
    vm.class_made(class, |_| order)
}

/// `bytes(n)` (`n` zero bytes), `bytes(b)` and `bytes(iterable_of_ints)`.
pub(crate) fn bytes(vm: &mut Vm<'_>, v: &Value) -> PyResult<Value> {
    let out: Vec<u8> = match v {
        Value::Int(n) if *n < 0 => return Err(vm.rt.error("ValueError", "negative count")),
        Value::Int(n) => vec![0; super::ops::sized(vm, *n as usize)?],
        Value::Bool(b) => vec![0; *b as usize],
        Value::Bytes(b) => b.to_vec(),
        // A `bytearray` (`std/bytearray.py`), or a class's own `__bytes__`.
        Value::Instance(_) if super::ops::dunder(v, "__bytes__").is_some() => {
            let m = super::ops::dunder(v, "__bytes__").unwrap_or_default();
            return match vm.call_nested(m, Vec::new())? {
                b @ Value::Bytes(_) => Ok(b),
                other => Err(vm.type_error(&format!("__bytes__ returned non-bytes (type {})", other.type_name()))),
            };
        }
        Value::List(_) | Value::Tuple(_) | Value::Range(..) | Value::Iter(_) | Value::Generator(_) | Value::Set(_) => {
            let mut out = Vec::new();
            for x in vm.collect(v)? {
                let i = super::builtins::int_arg(vm, &x)?;
                let b = u8::try_from(i).map_err(|_| vm.rt.error("ValueError", "bytes must be in range(0, 256)"))?;
                out.push(b);
            }
            out
        }
        other => return Err(vm.type_error(&format!("cannot convert '{}' object to bytes", other.type_name()))),
    };
    Ok(Value::Bytes(out.into()))
}

/// `bytes.fromhex(text)`: pairs of hex digits, spaces between pairs.
fn fromhex(vm: &Vm<'_>, args: &[Value]) -> PyResult<Value> {
    let Some(Value::Str(text)) = args.first() else {
        return Err(vm.type_error("fromhex() argument must be str, not bytes"));
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let digit = |at: usize| chars.get(at).and_then(|c| c.to_digit(16));
        let (Some(hi), Some(lo)) = (digit(i), digit(i + 1)) else {
            let at = if digit(i).is_some() { i + 1 } else { i };
            return Err(vm
                .rt
                .error("ValueError", &format!("non-hexadecimal number found in fromhex() arg at position {at}")));
        };
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Ok(Value::Bytes(out.into()))
}

/// `byteorder` and `signed` as `int.to_bytes`/`from_bytes` take them.
fn order_and_sign(vm: &Vm<'_>, order: Option<&Value>, kwargs: &Kw) -> PyResult<(bool, bool)> {
    let order = order.cloned().or_else(|| super::builtins::kw(kwargs, "byteorder"));
    let little = match order.as_ref() {
        None => false,
        Some(Value::Str(s)) if &**s == "big" => false,
        Some(Value::Str(s)) if &**s == "little" => true,
        Some(Value::Str(_)) => return Err(vm.rt.error("ValueError", "byteorder must be either 'little' or 'big'")),
        Some(v) => {
            return Err(vm.type_error(&format!("to_bytes() argument 'byteorder' must be str, not {}", v.type_name())))
        }
    };
    let signed = super::builtins::kw(kwargs, "signed").is_some_and(|v| v.truthy());
    Ok((little, signed))
}

/// `int.from_bytes(data, byteorder='big', *, signed=False)`.
fn from_bytes(vm: &mut Vm<'_>, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    let data = match args.first().cloned().or_else(|| super::builtins::kw(kwargs, "bytes")) {
        Some(Value::Bytes(b)) => b.to_vec(),
        Some(v @ (Value::List(_) | Value::Tuple(_))) => {
            let mut out = Vec::new();
            for x in vm.collect(&v)? {
                match x {
                    Value::Int(i) if (0..256).contains(&i) => out.push(i as u8),
                    _ => return Err(vm.rt.error("ValueError", "bytes must be in range(0, 256)")),
                }
            }
            out
        }
        _ => return Err(vm.type_error("cannot convert 'int' object to bytes")),
    };
    let (little, signed) = order_and_sign(vm, args.get(1), kwargs)?;
    let mut bytes = data;
    if little {
        bytes.reverse();
    }
    let significant: Vec<u8> = if signed && bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.iter().skip_while(|b| **b == 0xff).copied().collect()
    } else {
        bytes.iter().skip_while(|b| **b == 0).copied().collect()
    };
    if significant.len() > 8 {
        return Err(vm.rt.error("OverflowError", "integer overflow: ints are 64-bit here"));
    }
    let negative = signed && bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut n: u64 = if negative { u64::MAX } else { 0 };
    for b in &bytes {
        n = (n << 8) | u64::from(*b);
    }
    let n = n as i64;
    if !negative && n < 0 {
        return Err(vm.rt.error("OverflowError", "integer overflow: ints are 64-bit here"));
    }
    Ok(Value::Int(n))
}

/// An int's methods: `to_bytes(length=1, byteorder='big', *, signed=False)`
/// and `bit_length()`.
pub(crate) fn int_method(vm: &mut Vm<'_>, name: &str, i: i64, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    match name {
        "bit_length" => Ok(Value::Int(i64::from(64 - i.unsigned_abs().leading_zeros()))),
        "to_bytes" => {
            let length = match args.first().cloned().or_else(|| super::builtins::kw(kwargs, "length")) {
                None => 1,
                Some(Value::Int(n)) if n >= 0 => n as usize,
                Some(Value::Int(_)) => return Err(vm.rt.error("ValueError", "length argument must be non-negative")),
                Some(v) => {
                    return Err(
                        vm.type_error(&format!("'{}' object cannot be interpreted as an integer", v.type_name()))
                    )
                }
            };
            let (little, signed) = order_and_sign(vm, args.get(1), kwargs)?;
            if i < 0 && !signed {
                return Err(vm.rt.error("OverflowError", "can't convert negative int to unsigned"));
            }
            let fits = if length >= 8 {
                true
            } else if signed {
                let bits = 8 * length as u32;
                bits > 0 && i >= -(1i64 << (bits - 1)) && i < (1i64 << (bits - 1))
            } else {
                (i as u64) < (1u64 << (8 * length as u32))
            };
            if !fits {
                return Err(vm.rt.error("OverflowError", "int too big to convert"));
            }
            let fill = if i < 0 { 0xff } else { 0 };
            let mut out: Vec<u8> = (0..length).map(|k| if k < 8 { (i >> (8 * k)) as u8 } else { fill }).collect();
            if !little {
                out.reverse();
            }
            Ok(Value::Bytes(out.into()))
        }
        _ => Err(vm.type_error(&format!("'int' object has no attribute '{name}'"))),
    }
}
