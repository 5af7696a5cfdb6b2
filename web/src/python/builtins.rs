//! Built-in functions, methods of built-in types, and the modules a program
//! can import (`random`, `time`, `math`, `threading`, `twine`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::errors::Exc;
use super::ops;
use super::value::{Dict, Iter, Key, Module, Native, ThreadObj, TypeId, Value, Waiters, ZipEnd};
use super::vm::{Frame, Kw, Out, PyResult, Task, Vm};
use super::Runtime;
use crate::engine::interp::{Halt, Work};
use crate::engine::shared::Shared;

/// The names `LoadGlobal` falls back to.
pub(crate) fn lookup(rt: &Runtime, name: &str) -> Option<Value> {
    const FUNCTIONS: &[&str] = &[
        "print",
        "len",
        "range",
        "repr",
        "min",
        "max",
        "sum",
        "sorted",
        "isinstance",
        "abs",
        "enumerate",
        "zip",
        "round",
        "hasattr",
        "getattr",
        "setattr",
        "any",
        "all",
        "reversed",
        "divmod",
        "chr",
        "ord",
        "map",
        "filter",
        "super",
        "id",
        "hash",
        "iter",
        "next",
        "callable",
        "type",
        "property",
        "issubclass",
        "pow",
        "classmethod",
        "staticmethod",
        "hex",
        "oct",
        "bin",
        "format",
        "ascii",
        // A value, not a function: what a special method returns to pass.
        "NotImplemented",
    ];
    if let Some(f) = FUNCTIONS.iter().find(|f| **f == name) {
        return Some(Value::builtin(f, None));
    }
    if super::extras::HERE {
        if let Some(f) = super::extras::lookup(name) {
            return Some(f);
        }
    }
    let ty = match name {
        "int" => TypeId::Int,
        "float" => TypeId::Float,
        "str" => TypeId::Str,
        "bool" => TypeId::Bool,
        "list" => TypeId::List,
        "tuple" => TypeId::Tuple,
        "dict" => TypeId::Dict,
        "set" => TypeId::Set,
        "frozenset" if super::extras::HERE => TypeId::FrozenSet,
        "slice" if super::extras::HERE => TypeId::Named("slice"),
        "bytes" => TypeId::Bytes,
        "object" => TypeId::Object,
        _ if super::errors::not_builtin(name) => return None,
        _ => return rt.exc.get(name).map(|c| Value::Class(Rc::clone(c))),
    };
    Some(Value::Type(ty))
}

/// Whether calling `callee` touches what other threads see, or time: the
/// CPU batch before it is charged first, so it happens at the right time.
pub(crate) fn touches_world(callee: &Value) -> bool {
    match callee {
        Value::Builtin(b) => {
            matches!(
                b.name,
                "print"
                    | "time.sleep"
                    | "time.time"
                    | "time.monotonic"
                    | "time.perf_counter"
                    | "time.time_ns"
                    | "time.monotonic_ns"
                    | "time.perf_counter_ns"
                    | "twine.cpu"
                    | "acquire"
                    | "release"
                    | "start"
                    | "join"
                    | "set"
                    | "wait"
                    | "clear"
                    | "is_set"
                    | "append"
                    | "pop"
            ) || b.this.as_ref().is_some_and(|t| matches!(t, Value::Native(_)))
        }
        _ => false,
    }
}

/// The built-in method `name` of a built-in value, if it has one.
pub(crate) fn method(obj: &Value, name: &str) -> Option<&'static str> {
    const LIST: &[&str] =
        &["append", "extend", "pop", "insert", "remove", "index", "sort", "reverse", "copy", "count", "clear"];
    const DICT: &[&str] =
        &["get", "keys", "values", "items", "pop", "popitem", "setdefault", "update", "copy", "clear"];
    const BYTES: &[&str] = &["decode", "upper", "lower"];
    const LOCK: &[&str] = &["acquire", "release", "locked"];
    const EVENT: &[&str] = &["set", "clear", "is_set", "wait"];
    const THREAD: &[&str] = &["start", "join", "is_alive", "setDaemon", "isDaemon"];
    let table: &[&str] = match obj {
        Value::Str(_) => return super::strings::method(name),
        Value::List(_) => LIST,
        Value::Dict(d) if super::collections::HERE && super::collections::method(&d.borrow().kind, name).is_some() => {
            return super::collections::method(&d.borrow().kind, name)
        }
        Value::Dict(_) => DICT,
        Value::Set(d) => return super::sets::has_method(d, name),
        Value::Generator(_) if super::compile::PARSER => &["send", "throw", "close"],
        Value::Generator(_) => &["send", "throw"],
        Value::Bytes(_) if super::bytes::has(name) => return super::bytes::method(name),
        Value::Bytes(_) => BYTES,
        Value::Tuple(_) => &["count", "index"],
        Value::Int(_) if super::extras::HERE => &["to_bytes", "bit_length"],
        Value::Big(_) => &["bit_length"],
        Value::Builtin(b) if b.name == "itertools.chain" => &["from_iterable"],
        Value::Native(n) => match &**n {
            Native::Lock { .. } => LOCK,
            Native::Event { .. } => EVENT,
            Native::Condition { .. } => &["acquire", "release", "wait", "wait_for", "notify", "notify_all"],
            Native::Semaphore { .. } => &["acquire", "release"],
            Native::Queue(q) => q.methods(),
            Native::Thread(_) => {
                if name == "name" {
                    return None;
                }
                THREAD
            }
            Native::Property { .. } => &["setter", "getter"],
            other => return super::twisted::method(other, name),
        },
        _ => return None,
    };
    table.iter().find(|m| **m == name).copied()
}

fn arity(vm: &Vm<'_>, name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    if args.len() < min || args.len() > max {
        let expected = if min == max { format!("{min}") } else { format!("{min} to {max}") };
        return Err(vm.type_error(&format!("{name}() takes {expected} arguments ({} given)", args.len())));
    }
    Ok(())
}

pub(crate) fn kw(kwargs: &Kw, name: &str) -> Option<Value> {
    kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.clone())
}

pub(crate) fn int_arg(vm: &Vm<'_>, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Big(_) => Err(super::bigint::too_large(vm)),
        other => Err(vm.type_error(&format!("'{}' object cannot be interpreted as an integer", other.type_name()))),
    }
}

fn float_arg(vm: &Vm<'_>, v: &Value) -> PyResult<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Big(b) => super::bigint::to_f64(vm, b),
        Value::Bool(b) => Ok(*b as i64 as f64),
        Value::Float(f) => Ok(*f),
        other => Err(vm.type_error(&format!("must be real number, not {}", other.type_name()))),
    }
}

/// `time.sleep`'s argument in nanoseconds, refused as CPython 3.11 refuses
/// it (its clock counts nanoseconds in an `i64`).
fn seconds_to_ns(vm: &Vm<'_>, v: &Value) -> PyResult<u64> {
    let s = float_arg(vm, v)?;
    if s.is_nan() {
        return Err(vm.rt.error("ValueError", "Invalid value NaN (not a number)"));
    }
    if s < 0.0 {
        return Err(vm.rt.error("ValueError", "sleep length must be non-negative"));
    }
    if s * 1e9 >= i64::MAX as f64 {
        return Err(vm.rt.error("OverflowError", "timestamp out of range for platform time_t"));
    }
    Ok((s * 1e9).round() as u64)
}

/// `key=` applied, then compared: for sorted, min and max.
fn keyed(vm: &mut Vm<'_>, items: Vec<Value>, key: Option<Value>) -> PyResult<Vec<(Value, Value)>> {
    let mut out = Vec::with_capacity(items.len());
    for x in items {
        let k = match &key {
            Some(f) if !matches!(f, Value::None) => vm.call_nested(f.clone(), vec![x.clone()])?,
            _ => x.clone(),
        };
        out.push((k, x));
    }
    Ok(out)
}

fn sort(vm: &mut Vm<'_>, items: Vec<Value>, key: Option<Value>, reverse: bool) -> PyResult<Vec<Value>> {
    let pairs = keyed(vm, items, key)?;
    let mut err: Option<Exc> = None;
    let pairs = crate::order::sorted_by(pairs, &mut |a, b| {
        if err.is_some() {
            return std::cmp::Ordering::Equal;
        }
        let o = ops::order(vm, &a.0, &b.0, "<").unwrap_or_else(|e| {
            err = Some(e);
            std::cmp::Ordering::Equal
        });
        if reverse {
            o.reverse()
        } else {
            o
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(pairs.into_iter().map(|(_, v)| v).collect())
}

fn extreme(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: &Kw, want: std::cmp::Ordering) -> PyResult<Value> {
    let items = if args.len() == 1 { vm.collect(&args[0])? } else { args };
    let has_default = kw(kwargs, "default");
    let pairs = keyed(vm, items, kw(kwargs, "key"))?;
    let mut best: Option<(Value, Value)> = None;
    for (k, v) in pairs {
        let better = match &best {
            None => true,
            Some((bk, _)) => ops::order(vm, &k, bk, if want.is_lt() { "<" } else { ">" })? == want,
        };
        if better {
            best = Some((k, v));
        }
    }
    match (best, has_default) {
        (Some((_, v)), _) => Ok(v),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(vm.rt.error("ValueError", &format!("{name}() arg is an empty sequence"))),
    }
}

/// Calls the built-in function `name`.
pub(crate) fn call_function(vm: &mut Vm<'_>, name: &'static str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    if kwargs.is_empty() {
        if let Some(message) = super::arity::function_error(name, args.len()) {
            return Err(vm.type_error(&message));
        }
    }
    if matches!(args.first(), Some(Value::Generator(_)))
        && super::drain::DRAINED.contains(&name)
        && full(vm, "a generator given to a built-in")
    {
        return super::drain::call(vm, name, Value::builtin(name, None), args, kwargs);
    }
    let v = match name {
        "print" => {
            let sep = match kw(&kwargs, "sep") {
                Some(Value::Str(s)) => s.to_string(),
                _ => " ".into(),
            };
            let end = match kw(&kwargs, "end") {
                Some(Value::Str(s)) => s.to_string(),
                _ => "\n".into(),
            };
            let mut parts = Vec::with_capacity(args.len());
            for a in &args {
                parts.push(vm.str_of(a)?);
            }
            let text = parts.join(&sep) + &end;
            match kw(&kwargs, "file") {
                None | Some(Value::None) => vm.print(&text),
                Some(Value::Module(m)) if m.name == "sys.stdout" => vm.print(&text),
                Some(Value::Module(m)) if m.name == "sys.stderr" => vm.print_err(&text),
                // A file or a stream of the program's (`io.StringIO`): its `write`.
                Some(f) if full(vm, "print(file=...)") => {
                    let write = vm.get_attr(&f, "write")?;
                    vm.call_nested(write, vec![Value::Str(text.into())])?;
                }
                Some(_) => return Err(vm.type_error("print(file=...) writes to sys.stdout or sys.stderr here")),
            }
            Value::None
        }
        "len" => {
            arity(vm, name, &args, 1, 1)?;
            let n = match &args[0] {
                Value::Str(s) => s.chars().count(),
                Value::Bytes(b) => b.len(),
                Value::List(l) => l.borrow().len(),
                Value::Tuple(t) => t.len(),
                Value::Dict(d) | Value::Set(d) => d.borrow().len(),
                Value::Range(a, b, c) => super::value::range_len(*a, *b, *c) as usize,
                Value::Native(n) if super::views::HERE && matches!(**n, Native::DictView(..)) => {
                    let Native::DictView(_, of) = &**n else { unreachable!() };
                    super::views::len(of)
                }
                Value::Class(c) if c.lookup("__class_len__").is_some() && full(vm, "__class_len__") => {
                    let m = c.lookup("__class_len__").unwrap_or_default();
                    match vm.call_nested(m, vec![args[0].clone()])? {
                        Value::Int(n) => n.max(0) as usize,
                        _ => 0,
                    }
                }
                v @ Value::Instance(_) if ops::dunder(v, "__len__").is_some() => {
                    let m = ops::dunder(v, "__len__").unwrap_or_default();
                    match vm.call_nested(m, Vec::new())? {
                        Value::Int(n) if n >= 0 => n as usize,
                        Value::Int(_) => return Err(vm.rt.error("ValueError", "__len__() should return >= 0")),
                        other => {
                            return Err(vm.type_error(&format!(
                                "'{}' object cannot be interpreted as an integer",
                                other.type_name()
                            )))
                        }
                    }
                }
                other => return Err(vm.type_error(&format!("object of type '{}' has no len()", other.type_name()))),
            };
            Value::Int(n as i64)
        }
        "range" => {
            arity(vm, name, &args, 1, 3)?;
            let n: Vec<i64> = args.iter().map(|a| int_arg(vm, a)).collect::<PyResult<_>>()?;
            let (a, b, c) = match n.as_slice() {
                [b] => (0, *b, 1),
                [a, b] => (*a, *b, 1),
                [a, b, c] => (*a, *b, *c),
                _ => unreachable!(),
            };
            if c == 0 {
                return Err(vm.rt.error("ValueError", "range() arg 3 must not be zero"));
            }
            Value::Range(a, b, c)
        }
        "repr" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            Value::Str(vm.repr_of(&args[0])?.into())
        }
        "min" if full(vm, name) => extreme(vm, name, args, &kwargs, std::cmp::Ordering::Less)?,
        "max" if full(vm, name) => extreme(vm, name, args, &kwargs, std::cmp::Ordering::Greater)?,
        "sum" if full(vm, name) => {
            arity(vm, name, &args, 1, 2)?;
            let mut total = args.get(1).cloned().unwrap_or(Value::Int(0));
            for x in vm.collect(&args[0])? {
                total = ops::binary(vm, super::code::BinOp::Add, &total, &x, false)?;
            }
            total
        }
        "sorted" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            let items = vm.collect(&args[0])?;
            let reverse = kw(&kwargs, "reverse").is_some_and(|r| r.truthy());
            Value::list(sort(vm, items, kw(&kwargs, "key"), reverse)?)
        }
        "isinstance" if full(vm, name) => {
            arity(vm, name, &args, 2, 2)?;
            Value::Bool(isinstance(vm, &args[0], &args[1])?)
        }
        "issubclass" if full(vm, name) => {
            arity(vm, name, &args, 2, 2)?;
            if !matches!(args[0], Value::Class(_) | Value::Type(_)) {
                return Err(vm.type_error("issubclass() arg 1 must be a class"));
            }
            Value::Bool(issubclass(vm, &args[0], &args[1])?)
        }
        "pow" if full(vm, name) => {
            arity(vm, name, &args, 2, 3)?;
            match args.get(2) {
                None | Some(Value::None) => ops::binary(vm, super::code::BinOp::Pow, &args[0], &args[1], false)?,
                Some(m) => pow_mod(vm, &args[0], &args[1], m)?,
            }
        }
        "abs" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            match &args[0] {
                Value::Int(i64::MIN) if super::bigint::HERE => {
                    super::bigint::value(-num_bigint::BigInt::from(i64::MIN))
                }
                Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(|| vm.overflow())?),
                Value::Big(b) => super::bigint::value(num_traits::Signed::abs(&**b)),
                Value::Bool(b) => Value::Int(*b as i64),
                Value::Float(f) => Value::Float(f.abs()),
                // An instance's `__abs__` (`abs(td)`).
                other if ops::dunder(other, "__abs__").is_some() => {
                    let m = ops::dunder(other, "__abs__").unwrap_or_default();
                    vm.call_nested(m, Vec::new())?
                }
                other => return Err(vm.type_error(&format!("bad operand type for abs(): '{}'", other.type_name()))),
            }
        }
        "enumerate" if full(vm, name) => {
            let start = match args.get(1).cloned().or(kw(&kwargs, "start")) {
                Some(s) => int_arg(vm, &s)?,
                None => 0,
            };
            // Lazy, as CPython's: `enumerate(itertools.count())` ends where its user stops.
            let src = vm.iter(args.first().unwrap_or(&Value::None))?;
            Value::Iter(Rc::new(RefCell::new(Iter::Enumerate { src, count: start })))
        }
        "zip" if full(vm, name) => {
            // Lazy, as CPython's: `zip(itertools.count(), names)` ends.
            let its = args.iter().map(|a| vm.iter(a).map(Some)).collect::<PyResult<Vec<_>>>()?;
            let strict = match kw(&kwargs, "strict") {
                Some(v) => vm.truth(&v)?,
                None => false,
            };
            let end = if strict { ZipEnd::Strict } else { ZipEnd::Stop };
            Value::Iter(Rc::new(RefCell::new(Iter::Zip { its, end })))
        }
        "reversed" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            // CPython reverses sequences (and dicts), or calls `__reversed__`;
            // an iterator, a generator or a set has no end to start from.
            if let Value::Instance(i) = &args[0] {
                if i.class.lookup("__reversed__").is_some() {
                    let bound = vm.get_attr(&args[0], "__reversed__")?;
                    return vm.call(bound, Vec::new(), Vec::new());
                }
            }
            let sequence = match &args[0] {
                Value::Instance(i) => i.class.lookup("__getitem__").is_some() && i.class.lookup("__len__").is_some(),
                Value::Iter(_) | Value::Generator(_) | Value::Set(_) => false,
                _ => true,
            };
            if !sequence {
                return Err(vm.type_error(&format!("'{}' object is not reversible", args[0].type_name())));
            }
            if let Value::Instance(_) = &args[0] {
                // The sequence protocol: `__getitem__(len - 1)` down to 0.
                let (len, getitem) = (vm.get_attr(&args[0], "__len__")?, vm.get_attr(&args[0], "__getitem__")?);
                let Value::Int(n) = vm.call_nested(len, Vec::new())? else {
                    return Err(vm.type_error("__len__() should return an int"));
                };
                let mut items = Vec::new();
                for i in (0..n).rev() {
                    items.push(vm.call_nested(getitem.clone(), vec![Value::Int(i)])?);
                }
                return Ok(Out::Value(iter_of(items)));
            }
            let mut items = vm.collect(&args[0])?;
            items.reverse();
            iter_of(items)
        }
        "map" if full(vm, name) => {
            if args.len() < 2 {
                return Err(vm.type_error("map() must have at least two arguments."));
            }
            // Lazy, as CPython's: `map(f, a, b)` calls f(a[i], b[i]) as
            // each value is asked for, up to the shortest source.
            let its = args[1..].iter().map(|a| vm.iter(a)).collect::<PyResult<Vec<_>>>()?;
            Value::Iter(Rc::new(RefCell::new(Iter::Map { func: args[0].clone(), its })))
        }
        "filter" if full(vm, name) => {
            arity(vm, name, &args, 2, 2)?;
            let src = vm.iter(&args[1])?;
            Value::Iter(Rc::new(RefCell::new(Iter::Filter { func: args[0].clone(), src })))
        }
        "any" | "all" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            // Lazily, as CPython: `any(check(x) for x in xs)` stops at the
            // first true one, and the rest of the generator is left unrun.
            let (it, wanted) = (vm.iter(&args[0])?, name == "any");
            let mut found = false;
            while let Some(v) = vm.next(&it)? {
                if v.truthy() == wanted {
                    found = true;
                    break;
                }
            }
            Value::Bool(found == wanted)
        }
        "round" if full(vm, name) => {
            arity(vm, name, &args, 1, 2)?;
            if !matches!(args[0], Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Big(_)) {
                let t = args[0].type_name();
                return Err(vm.type_error(&format!("type {t} doesn't define __round__ method")));
            }
            match (&args[0], args.get(1)) {
                // A big int rounded to a multiple of 10 ** -n: `round(n, -3)`;
                // to n >= 0 digits it is itself.
                (Value::Big(b), Some(n)) if !matches!(n, Value::None) && int_arg(vm, n)? < 0 => {
                    let unit = num_traits::pow::Pow::pow(num_bigint::BigInt::from(10), int_arg(vm, n)?.unsigned_abs());
                    let (q, r) = num_integer::Integer::div_mod_floor(&**b, &unit);
                    let twice = &r * 2;
                    let up = twice > unit || (twice == unit && num_integer::Integer::is_odd(&q));
                    super::bigint::value((q + if up { 1 } else { 0 }) * unit)
                }
                (Value::Big(_), _) => args[0].clone(),
                (Value::Int(i), None | Some(Value::None)) => Value::Int(*i),
                (Value::Int(i), Some(n)) => Value::Int(round_int(*i, int_arg(vm, n)?)),
                (v, None | Some(Value::None)) => {
                    let x = float_arg(vm, v)?;
                    Value::Int(float_to_int(vm, round_half_even(x))?)
                }
                (v, Some(n)) => {
                    let x = float_arg(vm, v)?;
                    let n = int_arg(vm, n)?;
                    if x.is_finite() && n < 0 {
                        // CPython's way for negative digits: in units of 10**-n.
                        let unit = 10f64.powi(n.unsigned_abs().min(400) as i32);
                        let r = round_half_even(x / unit) * unit;
                        Value::Float(if r.is_finite() { r } else { 0.0 * x.signum() })
                    } else if x.is_finite() {
                        let digits = twine_scenario::decimal::fixed(x.abs(), n.max(0) as usize);
                        let text = if x.is_sign_negative() { format!("-{digits}") } else { digits };
                        Value::Float(super::text::parse_float(&text).unwrap_or(x))
                    } else {
                        Value::Float(x)
                    }
                }
            }
        }
        "divmod" if full(vm, name) => {
            arity(vm, name, &args, 2, 2)?;
            let q = ops::binary(vm, super::code::BinOp::FloorDiv, &args[0], &args[1], false)?;
            let r = ops::binary(vm, super::code::BinOp::Mod, &args[0], &args[1], false)?;
            Value::tuple(vec![q, r])
        }
        "hex" | "oct" | "bin" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            // `format(n, "#x")` and the like, which say the same.
            let n = match &args[0] {
                v @ Value::Big(_) => v.clone(),
                v => Value::Int(int_arg(vm, v)?),
            };
            let spec = match name {
                "hex" => "#x",
                "oct" => "#o",
                _ => "#b",
            };
            Value::Str(super::format::format_spec(&n, spec, "").map_err(|e| vm.rt.error("ValueError", &e))?.into())
        }
        "format" if full(vm, name) => {
            arity(vm, name, &args, 1, 2)?;
            let spec = match args.get(1) {
                Some(Value::Str(s)) => s.to_string(),
                Some(other) => {
                    return Err(vm.type_error(&format!("format() argument 2 must be str, not {}", other.type_name())))
                }
                None => String::new(),
            };
            Value::Str(vm.format_value(&args[0], &spec)?.into())
        }
        "ascii" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            Value::Str(super::strings::ascii(&vm.repr_of(&args[0])?).into())
        }
        "chr" if full(vm, name) => {
            let i = int_arg(vm, args.first().unwrap_or(&Value::None))?;
            let c = char::from_u32(i as u32)
                .ok_or_else(|| vm.rt.error("ValueError", "chr() arg not in range(0x110000)"))?;
            Value::Str(c.to_string().into())
        }
        "ord" if full(vm, name) => match args.first() {
            Some(Value::Str(s)) if s.chars().count() == 1 => Value::Int(s.chars().next().unwrap_or('\0') as i64),
            Some(Value::Str(s)) => {
                let n = s.chars().count();
                return Err(vm.type_error(&format!("ord() expected a character, but string of length {n} found")));
            }
            other => {
                let t = other.map_or("NoneType".into(), Value::type_name);
                return Err(vm.type_error(&format!("ord() expected string of length 1, but {t} found")));
            }
        },
        "hasattr" | "getattr" if full(vm, name) => {
            arity(vm, name, &args, 2, 3)?;
            let Value::Str(attr) = &args[1] else { return Err(vm.type_error("attribute name must be string")) };
            match vm.get_attr(&args[0], attr) {
                Ok(v) if name == "getattr" => v,
                Ok(_) => Value::Bool(true),
                // Only an AttributeError means "no such attribute" (a
                // `__getattr__` or property may raise anything else).
                Err(e) if !isinstance(vm, &e.value, &Value::Class(vm.rt.exc_class("AttributeError")))? => {
                    return Err(e)
                }
                Err(_) if name == "hasattr" => Value::Bool(false),
                Err(e) => match args.get(2) {
                    Some(d) => d.clone(),
                    None => return Err(e),
                },
            }
        }
        "setattr" if full(vm, name) => {
            arity(vm, name, &args, 3, 3)?;
            let Value::Str(attr) = &args[1] else {
                let t = args[1].type_name();
                return Err(vm.type_error(&format!("attribute name must be string, not '{t}'")));
            };
            super::attrs::setattr(vm, &args[0], attr, args[2].clone())?;
            Value::None
        }
        "id" if full(vm, name) => Value::Int(args.first().map_or(0, Value::identity) as i64),
        "hash" if full(vm, name) => {
            let k = vm.key(args.first().unwrap_or(&Value::None))?;
            Value::Int(hash_of_key(&k))
        }
        "iter" if full(vm, name) => vm.iter(args.first().unwrap_or(&Value::None))?,
        "next" if full(vm, name) && args.len() == 1 && matches!(args[0], Value::Generator(_)) => {
            let Value::Generator(g) = &args[0] else { unreachable!("matched") };
            gen_send(vm, g, Ok(Value::None))?
        }
        "next" if full(vm, name) => match vm.next(args.first().unwrap_or(&Value::None))? {
            Some(v) => v,
            None => match args.get(1) {
                Some(d) => d.clone(),
                None => return Err(vm.rt.error("StopIteration", "")),
            },
        },
        "property" if full(vm, name) => {
            arity(vm, name, &args, 0, 2)?;
            let arg = |i: usize, k: &str| args.get(i).cloned().or_else(|| kw(&kwargs, k)).unwrap_or_default();
            vm.rt.properties.set(true);
            Value::Native(Rc::new(Native::Property { fget: arg(0, "fget"), fset: arg(1, "fset") }))
        }
        "classmethod" | "staticmethod" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            let f = args.into_iter().next().unwrap_or_default();
            Value::Native(Rc::new(if name == "classmethod" { Native::ClassMethod(f) } else { Native::StaticMethod(f) }))
        }
        "callable" if full(vm, name) => Value::Bool(
            matches!(
                args.first(),
                Some(Value::Func(_) | Value::Builtin(_) | Value::Class(_) | Value::Method(_) | Value::Type(_))
            ) || (super::extras::HERE && args.first().and_then(|a| ops::dunder(a, "__call__")).is_some()),
        ),
        "type" if full(vm, name) && args.len() == 3 => super::extras::new_type(vm, &args)?,
        "type" if full(vm, name) => {
            if args.len() != 1 {
                return Err(vm.type_error("type() takes 1 or 3 arguments"));
            }
            type_of(&args[0])
        }
        "super" => return Err(vm.rt.error("RuntimeError", "super() with arguments is not supported: write super()")),
        // Modules.
        "random.seed" if full(vm, name) => {
            let seed = match args.first() {
                Some(Value::Int(i)) => *i as u64,
                _ => vm.rt.seed,
            };
            *vm.rt.rng.borrow_mut() = twine_scenario::rng::Rng::new(seed);
            Value::None
        }
        "random.random" if full(vm, name) => Value::Float(vm.rt.rng.borrow_mut().next_f64()),
        "random.uniform" if full(vm, name) => {
            arity(vm, name, &args, 2, 2)?;
            let (a, b) = (float_arg(vm, &args[0])?, float_arg(vm, &args[1])?);
            Value::Float(a + (b - a) * vm.rt.rng.borrow_mut().next_f64())
        }
        "random.randint" | "random.randrange" if full(vm, name) => {
            let n: Vec<i64> = args.iter().map(|a| int_arg(vm, a)).collect::<PyResult<_>>()?;
            let (a, b) = match (name, n.as_slice()) {
                ("random.randint", [a, b]) => (*a, *b + 1),
                ("random.randrange", [b]) => (0, *b),
                ("random.randrange", [a, b]) => (*a, *b),
                _ => return Err(vm.type_error(&format!("{name}() got the wrong number of arguments"))),
            };
            if b <= a {
                return Err(vm.rt.error("ValueError", "empty range for randrange()"));
            }
            let span = (b - a) as u64;
            Value::Int(a + (vm.rt.rng.borrow_mut().next_u64() % span) as i64)
        }
        "random.choice" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            let items = vm.collect(&args[0])?;
            if items.is_empty() {
                return Err(vm.rt.error("IndexError", "Cannot choose from an empty sequence"));
            }
            let i = vm.rt.rng.borrow_mut().next_u64() % items.len() as u64;
            items[i as usize].clone()
        }
        "random.shuffle" if full(vm, name) => {
            arity(vm, name, &args, 1, 1)?;
            let Value::List(l) = &args[0] else { return Err(vm.type_error("shuffle() needs a list")) };
            let mut items = l.borrow_mut();
            for i in (1..items.len()).rev() {
                let j = (vm.rt.rng.borrow_mut().next_u64() % (i as u64 + 1)) as usize;
                items.swap(i, j);
            }
            Value::None
        }
        "time.time" if full(vm, name) => {
            Value::Float(super::twisted::epoch_seconds(vm.sh.now()) + vm.pending as f64 / 1e9)
        }
        "time.monotonic" | "time.perf_counter" => {
            Value::Float(vm.sh.now().as_nanos() as f64 / 1e9 + vm.pending as f64 / 1e9)
        }
        "time.monotonic_ns" | "time.perf_counter_ns" => Value::Int(vm.sh.now().as_nanos() as i64 + vm.pending as i64),
        // CPU time: what the thread (every thread) computed, its steps so far included.
        "time.thread_time" => Value::Float((vm.sh.cpu_ns(vm.tid) + vm.pending) as f64 / 1e9),
        "time.thread_time_ns" => Value::Int((vm.sh.cpu_ns(vm.tid) + vm.pending) as i64),
        "time.process_time" => Value::Float((vm.sh.process_cpu_ns() + vm.pending) as f64 / 1e9),
        "time.process_time_ns" => Value::Int((vm.sh.process_cpu_ns() + vm.pending) as i64),
        "time.time_ns" if full(vm, name) => Value::Int(super::twisted::epoch_nanos(vm.sh.now()) + vm.pending as i64),
        "time.sleep" => {
            arity(vm, name, &args, 1, 1)?;
            let ns = seconds_to_ns(vm, &args[0])?;
            return Ok(Out::Halt(Value::None, Halt::Work(Work::Sleep(ns))));
        }
        "twine.cpu" => {
            arity(vm, name, &args, 1, 1)?;
            let ns = (float_arg(vm, &args[0])? * 1e6).max(0.0) as u64;
            return Ok(Out::Halt(Value::None, Halt::Work(Work::Cpu(ns))));
        }
        "twine.machine" => {
            // The machine is set before the run, from the top-level calls
            // `check` read: one that runs must agree with what was read.
            let m = &vm.rt.machine;
            let agrees = args.is_empty()
                && kwargs.iter().all(|(k, v)| match (&**k, v) {
                    ("cores", Value::Int(i)) => m.cores.map(i64::from) == Some(*i),
                    ("gil", v) => m.gil == Some(v.truthy()),
                    ("noise", v) => m.noise == Some(v.truthy()),
                    ("switch_interval_ms", Value::Int(i)) => m.switch_interval_ms == Some(*i as f64),
                    ("switch_interval_ms", Value::Float(f)) => m.switch_interval_ms == Some(*f),
                    _ => false,
                });
            if !agrees {
                return Err(vm.rt.error(
                    "RuntimeError",
                    "twine.machine(...) sets the simulated machine before the run starts: call it once, as a \
                     top-level statement (not in a function, loop or if), with keyword arguments computed from \
                     constants and the variant",
                ));
            }
            Value::None
        }
        "twine.duration" | "twine.clients" => Value::None,
        "twine.variant" => {
            if !args.is_empty() || kwargs.is_empty() {
                return Err(vm.type_error("variant() needs at least one name=title"));
            }
            let chosen = vm.rt.variant.clone().unwrap_or_else(|| Rc::clone(&kwargs[0].0));
            if !kwargs.iter().any(|(k, _)| *k == chosen) {
                let names: Vec<&str> = kwargs.iter().map(|(k, _)| &**k).collect();
                let message = format!("twine: no variant '{chosen}'; this experiment has: {}", names.join(", "));
                return Err(vm.rt.error("SystemExit", &message));
            }
            Value::Str(chosen)
        }
        "math.sqrt" if full(vm, name) => {
            let x = float_arg(vm, args.first().unwrap_or(&Value::None))?;
            if x < 0.0 {
                return Err(vm.rt.error("ValueError", "math domain error"));
            }
            Value::Float(x.sqrt())
        }
        "math.log" if full(vm, name) => {
            let x = float_arg(vm, args.first().unwrap_or(&Value::None))?;
            let base = args.get(1).map(|b| float_arg(vm, b)).transpose()?;
            if x <= 0.0 || base.is_some_and(|b| b <= 0.0) {
                return Err(vm.rt.error("ValueError", "math domain error"));
            }
            if base == Some(1.0) {
                return Err(vm.rt.error("ZeroDivisionError", "float division by zero"));
            }
            // glibc's log in every build, as CPython's (libc_math).
            let ln = super::libc_math::log;
            Value::Float(base.map_or(ln(x), |b| ln(x) / ln(b)))
        }
        n @ ("math.exp" | "math.sin" | "math.cos" | "math.tan" | "math.asin" | "math.acos" | "math.atan"
        | "math.atan2" | "math.log2" | "math.log10" | "math.fabs" | "math.log1p" | "math.expm1" | "math.exp2"
        | "math.sinh" | "math.cosh" | "math.tanh" | "math.asinh" | "math.atanh" | "math.fmod")
            if full(vm, n) =>
        {
            math_of_floats(vm, n, &args)?
        }
        n @ ("math.frexp" | "math.ldexp" | "math.modf") if full(vm, n) => math_parts(vm, n, &args)?,
        // An int is its own floor and ceiling (exactly, however large); a
        // float's is the int next to it.
        "math.floor" | "math.ceil" if full(vm, name) => match args.first().unwrap_or(&Value::None) {
            v @ (Value::Int(_) | Value::Big(_)) => v.clone(),
            Value::Bool(b) => Value::Int(*b as i64),
            v => {
                let x = float_arg(vm, v)?;
                let whole = if name == "math.floor" { x.floor() } else { x.ceil() };
                match whole.abs() < 9.2e18 || !super::bigint::HERE || !whole.is_finite() {
                    true => Value::Int(float_to_int(vm, whole)?),
                    false => super::bigint::value(num_traits::FromPrimitive::from_f64(whole).unwrap_or_default()),
                }
            }
        },
        "threading.Lock" => new_lock(vm, false),
        "threading.RLock" if full(vm, name) => new_lock(vm, true),
        // Not `full`: counter-race.py's starting gate is one.
        "threading.Event" => new_event(vm.sh, "event"),
        "threading.Condition" if full(vm, name) => {
            arity(vm, "Condition", &args, 0, 1)?;
            let n = vm.sh.lock_count() + 1;
            let lock = match args.first().cloned().or(kw(&kwargs, "lock")) {
                None | Some(Value::None) => new_lock(vm, true),
                Some(Value::Native(l)) if matches!(*l, Native::Lock { .. }) => Value::Native(l),
                Some(_) => {
                    return Err(vm.type_error("Condition(lock): the lock must be a threading.Lock or RLock here"))
                }
            };
            let name = format!("Condition-{n}").into();
            Value::Native(Rc::new(Native::Condition { name, lock, waiters: RefCell::default() }))
        }
        "queue.Queue" | "queue.LifoQueue" | "queue.PriorityQueue" | "queue.SimpleQueue" if super::queue::HERE => {
            super::queue::make(vm, name, &args, &kwargs)?
        }
        "threading.Semaphore" | "threading.BoundedSemaphore" if full(vm, name) => {
            let kind = &name["threading.".len()..];
            arity(vm, kind, &args, 0, 1)?;
            let value = match args.first().cloned().or(kw(&kwargs, "value")) {
                Some(v) => int_arg(vm, &v)?,
                None => 1,
            };
            if value < 0 {
                return Err(vm.rt.error("ValueError", "semaphore initial value must be >= 0"));
            }
            let bound = (kind == "BoundedSemaphore").then_some(value);
            let name = format!("{kind}-{}", vm.sh.lock_count() + 1).into();
            Value::Native(Rc::new(Native::Semaphore {
                name,
                value: Cell::new(value),
                bound,
                waiters: RefCell::default(),
            }))
        }
        "threading.Thread" => {
            if !args.is_empty() {
                return Err(vm.type_error("Thread() takes keyword arguments: Thread(target=f, args=(...))"));
            }
            let target = kw(&kwargs, "target").unwrap_or_default();
            let targs = match kw(&kwargs, "args") {
                Some(a) => vm.collect(&a)?,
                None => Vec::new(),
            };
            let mut tkw = Vec::new();
            if let Some(Value::Dict(d)) = kw(&kwargs, "kwargs") {
                for (k, v) in d.borrow().items() {
                    if let Value::Str(k) = k {
                        tkw.push((Rc::clone(k), v.clone()));
                    }
                }
            }
            let name = match kw(&kwargs, "name") {
                Some(n) => Rc::from(vm.str_of(&n)?.as_str()),
                None => {
                    // CPython 3.10+: `Thread-N (target)`.
                    let n = vm.rt.thread_count.get() + 1;
                    vm.rt.thread_count.set(n);
                    match &target {
                        Value::Func(f) => Rc::from(format!("Thread-{n} ({})", f.code.name).as_str()),
                        Value::Builtin(b) => {
                            let short = b.name.rsplit('.').next().unwrap_or(b.name);
                            Rc::from(format!("Thread-{n} ({short})").as_str())
                        }
                        _ => Rc::from(format!("Thread-{n}").as_str()),
                    }
                }
            };
            Value::Native(Rc::new(Native::Thread(Rc::new(ThreadObj {
                name: RefCell::new(name),
                target,
                args: targs,
                kwargs: tkw,
                started: Cell::new(false),
                done: Cell::new(false),
                done_lock: Cell::new(None),
                start_lock: Cell::new(None),
                tid: Cell::new(None),
                daemon: Cell::new(kw(&kwargs, "daemon").is_some_and(|d| d.truthy())),
            }))))
        }
        "threading.current_thread" => thread_value(vm, vm.tid),
        "threading.Barrier" if full(vm, "threading.Barrier") => {
            let class = super::clock::barrier_class(vm)?;
            return vm.call(class, args, kwargs);
        }
        "threading.local" if full(vm, "threading.local") => Value::Native(Rc::new(Native::Local(RefCell::default()))),
        "threading.active_count" | "threading.enumerate" if full(vm, name) => {
            let live = live_threads(vm);
            if name == "threading.enumerate" {
                Value::list(live)
            } else {
                Value::Int(live.len() as i64)
            }
        }
        // Full module only, as `class X(threading.Thread)` (none of the presets uses them).
        "threading.main_thread" if super::thread_class::HERE => thread_value(vm, 0),
        // CPython's `get_native_id()` is the OS's id, `Thread.native_id`: here the same as `get_ident()`.
        "threading.get_ident" | "threading.get_native_id" if super::thread_class::HERE => {
            Value::Int(thread_ident(vm.tid))
        }
        "BaseException.__init__" | "object.__init__" => Value::None,
        "object.__setattr__" | "object.__delattr__" if super::attrs::HERE => {
            super::attrs::object_method(vm, name, None, &args)?
        }
        n if super::dunders::object_method(n.trim_start_matches("object.")) == Some(n) => {
            super::dunders::call_object(vm, n, &args)?
        }
        "sys.stdout.write" | "sys.stderr.write" => {
            let Some(Value::Str(s)) = args.first() else {
                return Err(vm.type_error("write() argument must be str"));
            };
            if name == "sys.stdout.write" {
                vm.print(s);
            } else {
                vm.print_err(s);
            }
            Value::Int(s.chars().count() as i64)
        }
        "sys.stdout.flush" | "sys.stderr.flush" => Value::None,
        // The collector's pass now rather than at exit: what it frees is
        // the Deferreds dropped with a raised failure nobody handled, each
        // reported as Twisted reports it; how many, its result.
        "gc.collect" if full(vm, name) => {
            super::unhandled::report_dropped(vm.sh, vm.rt);
            Value::Int(super::unhandled::report_cycles(vm.sh, vm.rt) as i64)
        }
        // CPython's default hook, called by a program's own: prints.
        "threading.excepthook" if full(vm, name) => {
            let args = args.first().cloned().unwrap_or_default();
            let value = vm.get_attr(&args, "exc_value")?;
            let tb = match vm.get_attr(&args, "exc_traceback")? {
                Value::Native(n) => match &*n {
                    Native::Traceback(tb) => tb.clone(),
                    _ => Vec::new(),
                },
                _ => super::errors::traceback_of(&value),
            };
            vm.print_thread_exception(&Exc { value, tb, reraised: false });
            Value::None
        }
        // (The exception handled, passed by `call_flow`.)
        "sys.exception" => args.into_iter().next().unwrap_or_default(),
        "sys.exc_info" => match args.into_iter().next().unwrap_or_default() {
            Value::None => Value::tuple(vec![Value::None; 3]),
            exc => {
                let tb = super::errors::traceback_of(&exc);
                let tb = match tb.is_empty() {
                    true => Value::None,
                    false => Value::Native(Rc::new(Native::Traceback(tb))),
                };
                Value::tuple(vec![type_of(&exc), exc, tb])
            }
        },
        // `traceback.format_exception(exc)`'s lines, each ending in a line
        // break: the exceptions it was raised from or while handling first
        // (`chain`), then its own traceback, as an uncaught one prints.
        "traceback._format" if super::pystd::HERE => {
            let exc = args.first().cloned().unwrap_or_default();
            let chain = args.get(1).is_some_and(Value::truthy);
            let lines = match exc {
                Value::None => vec!["NoneType: None".to_owned()],
                exc => {
                    let tb = super::errors::traceback_of(&exc);
                    vm.exception_lines(&Exc { value: exc, tb, reraised: false }, chain)
                }
            };
            Value::list(lines.into_iter().map(|l| Value::Str(format!("{l}\n").into())).collect())
        }
        "sys.getswitchinterval" => Value::Float(vm.sh.program.machine.switch_interval as f64 / 1e9),
        "sys.setswitchinterval" => {
            // Like `twine.machine(switch_interval_ms=..)`, read before the
            // run from the top-level call `check` read.
            arity(vm, name, &args, 1, 1)?;
            let seconds = float_arg(vm, &args[0])?;
            if seconds <= 0.0 {
                return Err(vm.rt.error("ValueError", "switch interval must be strictly positive"));
            }
            if vm.rt.machine.switch_interval_ms != Some(seconds * 1000.0) {
                return Err(vm.rt.error(
                    "RuntimeError",
                    "sys.setswitchinterval(seconds) sets the simulated GIL's switch interval before the run \
                     starts: call it once, as a top-level statement (not in a function, loop or if), with a \
                     number computed from constants and the variant",
                ));
            }
            Value::None
        }
        "sys.exit" => {
            let class = vm.rt.exc_class("SystemExit");
            return Err(Exc::new(vm.rt.new_exc(&class, args.into_iter().take(1).collect())));
        }
        n if n.starts_with("itertools.") => super::itertools::call(vm, &n["itertools.".len()..], args, kwargs)?,
        n if super::functools::HERE && n.starts_with("functools.") => {
            return super::functools::call(vm, n, args, kwargs)
        }
        n if super::structs::HERE && n.starts_with("struct.") => return super::structs::call(vm, n, args, kwargs),
        n if super::json::HERE && n.starts_with("json.") => return super::json::call(vm, n, args, kwargs),
        n if super::heapq::HERE && n.starts_with("heapq.") => super::heapq::call(vm, &n["heapq.".len()..], &args)?,
        // `time.strftime` and the rest of `time`'s calendar, written in Python.
        n if super::pystd::HERE
            && n.strip_prefix("time.").is_some_and(|f| super::pystd::TIME.contains(&f))
            && full(vm, "time's calendar") =>
        {
            return super::pystd::call(vm, "_time", &n["time.".len()..], args, kwargs)
        }
        "copy._clone" | "copy._new" if super::pystd::HERE => super::pystd::clone(&args),
        // `abc`'s: a class attribute as the class body bound it (a
        // property, a class method), from the class or a base.
        "abc._lookup" if super::pystd::HERE => match &args[..] {
            [Value::Class(c), Value::Str(name)] => c.lookup(name).unwrap_or_default(),
            _ => Value::None,
        },
        n if super::collections::HERE && n.starts_with("collections.") => return super::collections::call(vm, n, args),
        n if super::extras::HERE && super::extras::NAMES.contains(&n) => {
            return super::extras::call(vm, n, args, kwargs)
        }
        n if super::endpoints::HERE && n.starts_with("endpoints.") => {
            return super::endpoints::call(vm, n, args, kwargs)
        }
        n if n.starts_with("defer.")
            || n.starts_with("log.")
            || n.starts_with("failure.")
            || n.starts_with("task.")
            || n.starts_with("threads.")
            || n == "Factory.forProtocol" =>
        {
            return super::twisted::call_function(vm, n, args, kwargs)
        }
        // A library class's method called through the class
        // (`Factory.buildProtocol(self, addr)`, `LineReceiver.lineLengthExceeded(self, line)`):
        // its first argument is `self`.
        n if ["LineReceiver.", "Factory.", "Protocol.", "Thread.", "IPv4Address.", "BaseException."]
            .iter()
            .any(|p| n.starts_with(p))
            && !args.is_empty() =>
        {
            let mut args = args;
            let this = args.remove(0);
            return call_method(vm, n, &this, args, kwargs);
        }
        other if !super::compile::PARSER => {
            return Err(vm.type_error(&format!("{other}() is in the full module: edit the program to load it")))
        }
        other => return Err(vm.type_error(&format!("{other}() is not supported"))),
    };
    Ok(Out::Value(v))
}

/// Whether the built-ins the presets do not use are here (the page's full
/// module; natively, always), noting in the full module that the program
/// calls `name`. The light module, which runs only the shipped presets,
/// leaves them out: in it this is a constant `false`, so the optimiser drops
/// the arms it guards. `tests/precompiled.rs` runs every preset and checks
/// that none calls one ([`crate::Simulation::python_full_only`]).
pub(crate) fn full(vm: &Vm<'_>, name: &'static str) -> bool {
    if !super::compile::PARSER {
        return false;
    }
    vm.rt.full_only.set(Some(name));
    true
}

/// `threading.get_ident()` in simulated thread `tid` (its `Thread.ident`):
/// unique among the run's threads, as CPython's (whose are addresses).
pub(crate) fn thread_ident(tid: u32) -> i64 {
    1 + i64::from(tid)
}

/// `hash(v)` of the value whose key is `k`.
pub(crate) fn hash_of_key(k: &Key) -> i64 {
    // Where CPython's hash changes from run to run, any number will do.
    super::hashing::of(k).unwrap_or_else(|| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        k.hash(&mut h);
        h.finish() as i64
    })
}

/// `type(v)`, and `v.__class__`.
pub(crate) fn type_of(v: &Value) -> Value {
    match v {
        Value::Instance(i) => Value::Class(Rc::clone(&i.class)),
        Value::Int(_) | Value::Big(_) => Value::Type(TypeId::Int),
        Value::Float(_) => Value::Type(TypeId::Float),
        Value::Str(_) => Value::Type(TypeId::Str),
        Value::Bool(_) => Value::Type(TypeId::Bool),
        Value::List(_) => Value::Type(TypeId::List),
        Value::Tuple(_) => Value::Type(TypeId::Tuple),
        // (A `defaultdict` or `Counter` is its own type, below.)
        Value::Dict(_) if v.builtin_type_name() == "dict" => Value::Type(TypeId::Dict),
        Value::Set(d) if super::sets::frozen(d) => Value::Type(TypeId::FrozenSet),
        Value::Set(_) => Value::Type(TypeId::Set),
        Value::None => Value::Type(TypeId::NoneType),
        Value::Bytes(_) => Value::Type(TypeId::Bytes),
        other => Value::Type(TypeId::Named(other.builtin_type_name())),
    }
}

pub(crate) fn iter_of(items: Vec<Value>) -> Value {
    Value::Iter(Rc::new(RefCell::new(Iter::Items(items, 0))))
}

fn new_lock(vm: &mut Vm<'_>, reentrant: bool) -> Value {
    let n = vm.sh.lock_count() + 1;
    // A `Lock` barges as CPython's does; an `RLock` is handed over in order
    // (its holder's depth moves with it).
    let lock = vm.sh.new_lock(&format!("{}-{n}", if reentrant { "RLock" } else { "Lock" }), reentrant);
    Value::Native(Rc::new(Native::Lock { lock, reentrant, owner: Cell::new(None), depth: Cell::new(0) }))
}

/// A new `threading.Event`, not set: its waiters wait on a lock held by
/// nobody until `set_event`.
pub(crate) fn new_event(sh: &Shared, name: &str) -> Value {
    let lock = sh.new_lock(name, true);
    sh.hide_lock(lock);
    sh.hold_for_nobody(lock);
    Value::Native(Rc::new(Native::Event { set: Cell::new(false), lock }))
}

/// `event.set()`: every waiter goes on, in the order they waited (`Shared::wake_all`).
pub(crate) fn set_event(sh: &Shared, event: &Native) {
    if let Native::Event { set, lock } = event {
        if !set.replace(true) {
            sh.wake_all(*lock);
        }
    }
}

/// `issubclass(c, class)`: `c` a user class or a built-in type; `class`
/// either, or a tuple of them. Built-in types derive from `object` only,
/// but for `bool`, an `int` as in CPython.
fn issubclass(vm: &mut Vm<'_>, c: &Value, class: &Value) -> PyResult<bool> {
    Ok(match (c, class) {
        (_, Value::Tuple(t)) => {
            for k in t.iter() {
                if issubclass(vm, c, k)? {
                    return Ok(true);
                }
            }
            false
        }
        (Value::Class(c), Value::Class(k)) => c.is_subclass(k),
        (_, Value::Type(TypeId::Object)) => true,
        (Value::Class(c), Value::Type(TypeId::Int)) if super::pystd::int_enum_class(c) => true,
        (Value::Type(t), Value::Type(k)) => t == k || (*t == TypeId::Bool && *k == TypeId::Int),
        (_, Value::Class(_) | Value::Type(_)) => false,
        _ => return Err(vm.type_error("issubclass() arg 2 must be a class, a tuple of classes, or a union")),
    })
}

/// `pow(base, exp, modulus)`: ints only, as in CPython; a negative
/// exponent takes the modular inverse (CPython 3.8+).
fn pow_mod(vm: &mut Vm<'_>, base: &Value, exp: &Value, m: &Value) -> PyResult<Value> {
    if super::bigint::HERE && [base, exp, m].iter().any(|v| matches!(v, Value::Big(_))) {
        if let [Some(b), Some(e), Some(m)] = [base, exp, m].map(super::bigint::of) {
            if num_traits::Zero::is_zero(&m) {
                return Err(vm.rt.error("ValueError", "pow() 3rd argument cannot be 0"));
            }
            if !num_traits::Signed::is_negative(&e) {
                return Ok(super::bigint::value(b.modpow(&e, &m)));
            }
        }
    }
    let ints = [base, exp, m].map(|v| match v {
        Value::Int(i) => Some(*i as i128),
        Value::Bool(b) => Some(*b as i128),
        _ => None,
    });
    let [Some(b), Some(e), Some(m)] = ints else {
        return Err(vm.type_error("pow() 3rd argument not allowed unless all arguments are integers"));
    };
    if m == 0 {
        return Err(vm.rt.error("ValueError", "pow() 3rd argument cannot be 0"));
    }
    let mut b = b.rem_euclid(m.abs());
    if e < 0 {
        // The inverse of b modulo |m|, by the extended Euclidean algorithm.
        let (mut r0, mut r1, mut s0, mut s1) = (b, m.abs(), 1i128, 0i128);
        while r1 != 0 {
            let q = r0 / r1;
            (r0, r1) = (r1, r0 - q * r1);
            (s0, s1) = (s1, s0 - q * s1);
        }
        if r0 != 1 {
            return Err(vm.rt.error("ValueError", "base is not invertible for the given modulus"));
        }
        b = s0.rem_euclid(m.abs());
    }
    let (mut e, mut r) = (e.unsigned_abs(), 1i128 % m.abs());
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % m.abs();
        }
        b = b * b % m.abs();
        e >>= 1;
    }
    // The result takes the modulus's sign, as `%` does.
    Ok(Value::Int(if m < 0 && r != 0 { (r + m) as i64 } else { r as i64 }))
}

/// The object simulated thread `tid` is to the program, the same one each
/// time, as CPython's `threading.current_thread()` gives: the program's
/// `Thread` (or its subclass's instance) for a thread it started, else one
/// made for the thread (the main thread, a reactor pool thread).
pub(crate) fn thread_value(vm: &Vm<'_>, tid: u32) -> Value {
    if let Some(v) = vm.rt.thread_values.borrow().get(&tid) {
        return v.clone();
    }
    let started = vm.rt.started_threads.borrow().iter().find_map(|v| match v {
        Value::Native(n) => match &**n {
            Native::Thread(t) if t.tid.get() == Some(tid) => {
                let instance = vm.rt.thread_instances.borrow().get(&(Rc::as_ptr(t) as usize)).cloned();
                Some(instance.unwrap_or_else(|| v.clone()))
            }
            _ => None,
        },
        _ => None,
    });
    let v = started.unwrap_or_else(|| thread_object(vm, tid));
    vm.rt.thread_values.borrow_mut().insert(tid, v.clone());
    v
}

/// A `threading.Thread` object for thread `tid`, made afresh (the engine's
/// threads have no Python object of their own): [`thread_value`] keeps one.
pub(crate) fn thread_object(vm: &Vm<'_>, tid: u32) -> Value {
    let mut name = vm.rt.thread_name(tid);
    if tid != 0 && !vm.rt.names.borrow().contains_key(&tid) {
        // A reactor pool thread (`pool-K` in the trace): Twisted's name.
        let engine = vm.sh.thread_names.borrow().get(tid as usize).cloned();
        if let Some(k) = engine.as_deref().and_then(|n| n.strip_prefix("pool-")?.parse::<u32>().ok()) {
            name = Rc::from(format!("PoolThread-twisted.internet.reactor-{}", k.saturating_sub(1)).as_str());
        }
    }
    Value::Native(Rc::new(Native::Thread(Rc::new(ThreadObj {
        name: RefCell::new(name),
        target: Value::None,
        args: Vec::new(),
        kwargs: Vec::new(),
        started: Cell::new(true),
        done: Cell::new(false),
        done_lock: Cell::new(None),
        start_lock: Cell::new(None),
        tid: Cell::new(Some(tid)),
        daemon: Cell::new(false),
    }))))
}

/// A wait with a timeout reaching the arms below: only in the light module,
/// where `timed` (which takes every timed wait first) is left out.
fn timeout_in_full_module(vm: &Vm<'_>, what: &str) -> Exc {
    vm.type_error(&format!("{what}(timeout=...) is in the full module: edit the program to load it"))
}

/// Whether calls of `this`'s methods may ask to run again (`Out::Retry`).
pub(crate) fn may_retry(this: &Value) -> bool {
    // A Lock's, an Event's and a thread's only with a timeout (`timed`);
    // a Thread subclass's or a Timer's (`thread_class`) are its native thread's.
    match this {
        Value::Native(n) => {
            matches!(**n, Native::Condition { .. } | Native::Semaphore { .. } | Native::Queue(_))
                || (super::timed::HERE && matches!(**n, Native::Lock { .. } | Native::Event { .. } | Native::Thread(_)))
        }
        Value::Instance(i) => super::timed::HERE && i.get("_thread").is_some(),
        _ => false,
    }
}

/// CPython's `_allocate_lock()` for a thread about to wait on a Condition
/// (or Semaphore) `name`: a fresh engine lock the thread takes, queued
/// with the other waiters; the thread then waits on it until `notify`
/// releases it.
pub(crate) fn new_waiter(vm: &mut Vm<'_>, name: &str, waiters: &RefCell<Waiters>) -> u32 {
    let mut w = waiters.borrow_mut();
    // Fair, so that `notify` hands it straight to its thread: it is free
    // again only once that thread has let it go (`AfterWake`).
    let waiter = match w.made.iter().find(|&&l| vm.sh.lock_holder(l).is_none()) {
        Some(&free) => free,
        None => {
            let made = vm.sh.new_lock(&format!("{name}.waiter"), true);
            w.made.push(made);
            made
        }
    };
    vm.sh.try_lock(waiter, vm.tid);
    w.queue.push_back(waiter);
    waiter
}

/// `notify(n)`: releases the locks of the `n` oldest waiters, which wakes their threads.
pub(crate) fn notify(vm: &mut Vm<'_>, waiters: &RefCell<Waiters>, n: i64) {
    for _ in 0..n {
        let Some(waiter) = waiters.borrow_mut().queue.pop_front() else { break };
        vm.sh.release_lock(waiter, vm.tid);
    }
}

/// CPython's `Condition._is_owned()`: an RLock is this thread's; a Lock
/// is held (by any thread, as CPython can only tell that).
pub(crate) fn owned(vm: &Vm<'_>, lock: &Native) -> bool {
    match lock {
        Native::Lock { reentrant: true, owner, .. } => owner.get() == Some(vm.tid),
        Native::Lock { lock, .. } => vm.sh.lock_holder(*lock).is_some(),
        _ => false,
    }
}

/// CPython's `Condition._release_save()`: lets the lock go however deep
/// this thread holds it, and says how deep that was.
pub(crate) fn release_all(vm: &mut Vm<'_>, lock: &Native) -> u32 {
    let Native::Lock { lock, owner, depth, .. } = lock else { return 0 };
    let held = depth.replace(0).max(1);
    owner.set(None);
    vm.sh.release_lock(*lock, vm.tid);
    // An RLock is handed to its next waiter: the new owner.
    if let Some(next) = vm.sh.lock_holder(*lock) {
        owner.set(Some(next));
        depth.set(1);
    }
    held
}

/// CPython's `Condition._acquire_restore()`: takes `lock` back for `tid`
/// at `depth` (`held`: the engine handed it over already). `Some(engine
/// lock)` when another thread holds it: wait for it, then call again.
pub(crate) fn retake(
    sh: &crate::engine::shared::Shared,
    lock: &Native,
    tid: u32,
    depth: u32,
    held: bool,
) -> Option<u32> {
    let Native::Lock { lock, owner, depth: d, .. } = lock else { return None };
    if !held && !sh.try_lock(*lock, tid) {
        return Some(*lock);
    }
    owner.set(Some(tid));
    d.set(depth);
    None
}

pub(crate) fn isinstance(vm: &mut Vm<'_>, v: &Value, class: &Value) -> PyResult<bool> {
    Ok(match class {
        Value::Tuple(t) => {
            for c in t.iter() {
                if isinstance(vm, v, c)? {
                    return Ok(true);
                }
            }
            false
        }
        Value::Class(c) => v.class().is_some_and(|vc| vc.is_subclass(c)),
        // Twisted's classes that are natives here.
        Value::Builtin(b) if b.this.is_none() && matches!(b.name, "defer.Deferred" | "failure.Failure") => match v {
            Value::Native(n) => match &**n {
                Native::Deferred(_) => b.name == "defer.Deferred",
                Native::Failure(_) => b.name == "failure.Failure",
                _ => false,
            },
            _ => false,
        },
        // `threading`'s and `queue`'s other classes, natives here: by their
        // type's name (a BoundedSemaphore is a Semaphore, a LifoQueue a Queue).
        Value::Builtin(b) if b.this.is_none() && native_class(b.name).is_some() => {
            matches!(v, Value::Native(_)) && native_class(b.name).unwrap_or_default().contains(&&*v.type_name())
        }
        // `threading.Thread`, a native here: its objects, and the instances
        // of the library class a subclass (or a Timer) gets.
        Value::Builtin(b) if super::thread_class::HERE && b.this.is_none() && b.name == "threading.Thread" => match v {
            Value::Native(n) => matches!(**n, Native::Thread(_)),
            _ => v.class().is_some_and(|vc| vc.is_subclass(&super::thread_class::class(vm.rt))),
        },
        Value::Type(t) => match t {
            TypeId::Int => {
                matches!(v, Value::Int(_) | Value::Bool(_) | Value::Big(_)) || super::pystd::int_enum(v).is_some()
            }
            TypeId::Float => matches!(v, Value::Float(_)),
            TypeId::Str => matches!(v, Value::Str(_)),
            TypeId::Bool => matches!(v, Value::Bool(_)),
            TypeId::List => matches!(v, Value::List(_)),
            TypeId::Tuple => matches!(v, Value::Tuple(_)),
            TypeId::Dict => matches!(v, Value::Dict(_)),
            TypeId::Set => matches!(v, Value::Set(d) if !super::sets::frozen(d)),
            TypeId::FrozenSet => matches!(v, Value::Set(d) if super::sets::frozen(d)),
            TypeId::Bytes => matches!(v, Value::Bytes(_)),
            TypeId::NoneType => matches!(v, Value::None),
            TypeId::Object => true,
            TypeId::Named(name) => !matches!(v, Value::Instance(_)) && v.builtin_type_name() == *name,
        },
        _ => return Err(vm.type_error("isinstance() arg 2 must be a type, a tuple of types, or a union")),
    })
}

/// An instance's `__int__` (for `int`) or `__float__` (for `float`), else
/// its `__index__`: what `int(x)` and `float(x)` call. Full module only.
fn number_hook(v: &Value, t: TypeId) -> Option<Value> {
    if !super::extras::HERE {
        return None;
    }
    let own = if t == TypeId::Int { "__int__" } else { "__float__" };
    super::ops::dunder(v, own).or_else(|| super::ops::dunder(v, "__index__"))
}

/// The type names of the natives that are instances of the library class
/// `name` (CPython's `threading.Event` and the rest are classes; `Lock` and
/// `RLock` are functions there, and `isinstance` refuses them as here).
fn native_class(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "threading.Event" => &["Event"],
        "threading.Condition" => &["Condition"],
        "threading.Semaphore" => &["Semaphore", "BoundedSemaphore"],
        "threading.BoundedSemaphore" => &["BoundedSemaphore"],
        "threading.local" => &["_thread._local"],
        "queue.Queue" => &["Queue", "LifoQueue", "PriorityQueue"],
        "queue.LifoQueue" => &["LifoQueue"],
        "queue.PriorityQueue" => &["PriorityQueue"],
        "queue.SimpleQueue" => &["SimpleQueue"],
        _ => return None,
    })
}

/// `math.frexp(x)` (mantissa and exponent, `x == m * 2**e`, `0.5 <= |m| <
/// 1`), `math.ldexp(m, e)` and `math.modf(x)` (fractional and integral
/// parts, both with `x`'s sign), as C's functions CPython calls.
fn math_parts(vm: &mut Vm<'_>, name: &str, args: &[Value]) -> PyResult<Value> {
    let x = float_arg(vm, args.first().unwrap_or(&Value::None))?;
    Ok(match name {
        "math.frexp" => {
            let (m, e) = frexp(x);
            Value::tuple(vec![Value::Float(m), Value::Int(e)])
        }
        "math.ldexp" => {
            let e = int_arg(vm, args.get(1).unwrap_or(&Value::None))?;
            let v = ldexp(x, e);
            if v.is_infinite() && x.is_finite() {
                return Err(vm.rt.error("OverflowError", "math range error"));
            }
            Value::Float(v)
        }
        _ if x.is_infinite() => Value::tuple(vec![Value::Float(0.0f64.copysign(x)), Value::Float(x)]),
        _ => Value::tuple(vec![Value::Float(x.fract()), Value::Float(x.trunc())]),
    })
}

/// `x` as a mantissa in [0.5, 1) (with its sign) and a power of two.
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    // A subnormal is scaled into the normal range first.
    let (x, shift) = if x.abs() < f64::MIN_POSITIVE { (x * 2f64.powi(64), -64) } else { (x, 0) };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1022;
    let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (mantissa, exp + shift)
}

/// `m * 2**e`, rounded once, as C's `ldexp`: `m` is taken apart first, so
/// each power of two below is finite and only the last product rounds.
fn ldexp(m: f64, e: i64) -> f64 {
    let (f, k) = frexp(m);
    if f == 0.0 || !f.is_finite() {
        return m;
    }
    // m == f * 2**e now, with 0.5 <= |f| < 1.
    let e = k.saturating_add(e).clamp(-1100, 1100) as i32;
    match e {
        1025.. => f64::INFINITY.copysign(f),
        1.. => (f * 2.0) * 2f64.powi(e - 1),
        -1021.. => f * 2f64.powi(e),
        -1075.. => (f * 2f64.powi(-1021)) * 2f64.powi(e + 1021),
        _ => 0.0f64.copysign(f),
    }
}

/// `math`'s functions of floats, with CPython's ValueError ("math domain
/// error") outside their domain and OverflowError ("math range error")
/// past a float's range (`exp(1000)`). (The rest of `math` is Python,
/// `std/math.py`, over these.)
fn math_of_floats(vm: &mut Vm<'_>, name: &str, args: &[Value]) -> PyResult<Value> {
    let x = float_arg(vm, args.first().unwrap_or(&Value::None))?;
    let two = matches!(name, "math.atan2" | "math.fmod");
    let y = if two { float_arg(vm, args.get(1).unwrap_or(&Value::None))? } else { 0.0 };
    let unit = (-1.0..=1.0).contains(&x) || x.is_nan();
    let (v, in_domain) = match name {
        "math.exp" => (super::libc_math::exp(x), true),
        "math.sin" => (x.sin(), !x.is_infinite()),
        "math.cos" => (x.cos(), !x.is_infinite()),
        "math.tan" => (x.tan(), !x.is_infinite()),
        "math.asin" => (x.asin(), unit),
        "math.acos" => (x.acos(), unit),
        "math.atan" => (x.atan(), true),
        "math.atan2" => (x.atan2(y), true),
        "math.log2" => (super::libc_math::log2(x), x > 0.0 || x.is_nan()),
        "math.log10" => (super::libc_math::log10(x), x > 0.0 || x.is_nan()),
        "math.log1p" => (x.ln_1p(), x > -1.0 || x.is_nan()),
        "math.expm1" => (x.exp_m1(), true),
        "math.exp2" => (x.exp2(), true),
        "math.sinh" => (x.sinh(), true),
        "math.cosh" => (x.cosh(), true),
        "math.tanh" => (x.tanh(), true),
        "math.asinh" => (x.asinh(), true),
        "math.atanh" => (x.atanh(), (unit && x.abs() != 1.0)),
        // C's fmod, as CPython's: the sign of `x`.
        "math.fmod" => (x % y, !(x.is_infinite() || y == 0.0) || x.is_nan() || y.is_nan()),
        _ => (x.abs(), true),
    };
    if !in_domain {
        return Err(vm.rt.error("ValueError", "math domain error"));
    }
    if v.is_infinite() && x.is_finite() {
        return Err(vm.rt.error("OverflowError", "math range error"));
    }
    Ok(Value::Float(v))
}

/// Rounds to the nearest whole number, halves to even, as Python does.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// `round(i, n)` of an int: to a multiple of `10**-n`, halves to even.
fn round_int(i: i64, n: i64) -> i64 {
    if n >= 0 {
        return i;
    }
    let Some(unit) = 10i64.checked_pow(n.unsigned_abs().min(19) as u32) else { return 0 };
    let (q, r) = (i.div_euclid(unit), i.rem_euclid(unit));
    let up = match (2 * (r as i128)).cmp(&(unit as i128)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q % 2 != 0,
        std::cmp::Ordering::Less => false,
    };
    (q + up as i64).saturating_mul(unit)
}

/// A whole float as an int, with CPython's errors for NaN and infinities.
fn float_to_int(vm: &Vm<'_>, f: f64) -> PyResult<i64> {
    if f.is_nan() {
        return Err(vm.rt.error("ValueError", "cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(vm.rt.error("OverflowError", "cannot convert float infinity to integer"));
    }
    if f.abs() >= 9.2e18 {
        return Err(vm.rt.error("OverflowError", "cannot convert float to a 64-bit integer"));
    }
    Ok(f as i64)
}

/// The text of an int in `base` (2-36, or 0: the prefix says, as in
/// source code), with an optional sign and, in its base, a `0x`/`0o`/`0b`
/// prefix, as CPython's `int(text, base)` reads it. Past 64 bits a big int
/// (the full module's); `Err(true)`: too large for 64 bits in the light
/// module, `Err(false)`: no int.
fn parse_int(text: &str, base: u32) -> Result<Value, bool> {
    let (minus, base, digits) = int_digits(text, base)?;
    // Read as a negative number, so that i64::MIN's digits fit too.
    let too_large = match i64::from_str_radix(&format!("-{digits}"), base) {
        Ok(negative) if minus => return Ok(Value::Int(negative)),
        Ok(negative) => match negative.checked_neg() {
            Some(i) => return Ok(Value::Int(i)),
            None => true,
        },
        Err(e) => matches!(e.kind(), std::num::IntErrorKind::NegOverflow),
    };
    if !too_large || !super::bigint::HERE {
        return Err(too_large);
    }
    let big = super::bigint::parse(digits, base).ok_or(false)?;
    Ok(super::bigint::value(if minus { -big } else { big }))
}

/// The sign, base and digits of [`parse_int`]'s text, or `Err(false)`.
fn int_digits(text: &str, base: u32) -> Result<(bool, u32, &str), bool> {
    let (minus, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let prefix = |d: &str| d.get(..2).map(|p| p.to_ascii_lowercase());
    let (base, digits) = match (base, prefix(digits).as_deref()) {
        (0 | 16, Some("0x")) => (16, &digits[2..]),
        (0 | 8, Some("0o")) => (8, &digits[2..]),
        (0 | 2, Some("0b")) => (2, &digits[2..]),
        // Base 0 reads decimals as source code does: no leading zeros.
        (0, _) if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') => {
            return Err(false)
        }
        (0, _) => (10, digits),
        _ => (base, digits),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(false);
    }
    Ok((minus, base, digits))
}

/// `int(x)`, `str(x)`, `list(x)`, ...
pub(crate) fn call_type(vm: &mut Vm<'_>, t: TypeId, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    if kwargs.is_empty() {
        if let Some(message) = super::arity::function_error(t.name(), args.len()) {
            return Err(vm.type_error(&message));
        }
    }
    let a = args.first();
    Ok(match (t, a) {
        // `slice(stop)`, `slice(start, stop[, step])`: what `a[start:stop:step]` makes.
        (TypeId::Named("slice"), _) if super::extras::HERE && (1..=3).contains(&args.len()) => {
            let mut parts = args.clone();
            if parts.len() == 1 {
                parts.insert(0, Value::None);
            }
            parts.resize(3, Value::None);
            let [a, b, c]: [Value; 3] = parts.try_into().unwrap_or_default();
            Value::Slice(Rc::new([a, b, c]))
        }
        (TypeId::Named(name), _) if super::collections::is_type(name) => {
            return super::collections::new(vm, name, args, kwargs)
        }
        (TypeId::Named(name), _) => return Err(vm.type_error(&format!("cannot create '{name}' instances"))),
        (TypeId::Int, None) => Value::Int(0),
        (TypeId::Int, Some(Value::Int(i))) => Value::Int(*i),
        (TypeId::Int, Some(Value::Bool(b))) => Value::Int(*b as i64),
        (TypeId::Int, Some(v @ Value::Big(_))) => v.clone(),
        (TypeId::Int, Some(Value::Float(f))) if super::bigint::HERE && f.is_finite() && f.abs() >= 9.2e18 => {
            super::bigint::value(num_traits::FromPrimitive::from_f64(f.trunc()).unwrap_or_default())
        }
        (TypeId::Int, Some(Value::Float(f))) => Value::Int(float_to_int(vm, f.trunc())?),
        (TypeId::Int, Some(Value::Bytes(b))) if args.len() == 1 => {
            // `int(b"42")`: the ASCII digits, as for a str.
            let text = Value::Str(String::from_utf8_lossy(b).into());
            return call_type(vm, TypeId::Int, vec![text], kwargs);
        }
        (TypeId::Int, Some(Value::Str(s))) => {
            let base = match args.get(1).or(kw(&kwargs, "base").as_ref()) {
                Some(b) => int_arg(vm, b)? as u32,
                None => 10,
            };
            if base == 1 || base > 36 {
                return Err(vm.rt.error("ValueError", "int() base must be >= 2 and <= 36, or 0"));
            }
            match parse_int(&s.trim().replace('_', ""), base) {
                Ok(i) => i,
                Err(true) => return Err(vm.rt.error("OverflowError", "integer overflow: ints are 64-bit here")),
                Err(false) => {
                    return Err(vm.rt.error(
                        "ValueError",
                        &format!("invalid literal for int() with base {base}: {}", super::format::str_repr(s)),
                    ))
                }
            }
        }
        (TypeId::Float, None) => Value::Float(0.0),
        (TypeId::Float, Some(Value::Str(s))) => match s.trim().to_ascii_lowercase().as_str() {
            "inf" | "infinity" | "+inf" => Value::Float(f64::INFINITY),
            "-inf" | "-infinity" => Value::Float(f64::NEG_INFINITY),
            "nan" => Value::Float(f64::NAN),
            text => match super::text::parse_float(text) {
                Some(f) => Value::Float(f),
                None => {
                    return Err(vm.rt.error(
                        "ValueError",
                        &format!("could not convert string to float: {}", super::format::str_repr(s)),
                    ))
                }
            },
        },
        (TypeId::Float, Some(v @ (Value::Int(_) | Value::Bool(_) | Value::Float(_)))) => {
            Value::Float(float_arg(vm, v)?)
        }
        (TypeId::Float, Some(Value::Big(b))) => Value::Float(super::bigint::to_f64(vm, b)?),
        (TypeId::Str, None) => Value::str(""),
        // `str(b, encoding, errors)`: bytes decoded.
        (TypeId::Str, Some(Value::Bytes(b))) if args.len() > 1 || !kwargs.is_empty() => {
            super::strings::decode(vm, b, &args[1..], &kwargs)?
        }
        (TypeId::Str, Some(v)) => Value::Str(vm.str_of(v)?.into()),
        (TypeId::Bool, None) => Value::Bool(false),
        (TypeId::Bool, Some(v)) => Value::Bool(vm.truth(v)?),
        (TypeId::List, None) => Value::list(Vec::new()),
        (TypeId::List, Some(v)) => Value::list(vm.collect(v)?),
        (TypeId::Tuple, None) => Value::tuple(Vec::new()),
        (TypeId::Tuple, Some(Value::Tuple(t))) => Value::Tuple(Rc::clone(t)),
        (TypeId::Tuple, Some(v)) => Value::tuple(vm.collect(v)?),
        (TypeId::FrozenSet, Some(v @ Value::Set(d))) if super::sets::frozen(d) => v.clone(),
        (TypeId::FrozenSet, v) if super::extras::HERE => {
            let items = match v {
                Some(v) => vm.collect(v)?,
                None => Vec::new(),
            };
            super::sets::frozen_if(super::sets::new(vm, items)?, true)
        }
        (TypeId::Set, None) => super::sets::new(vm, Vec::new())?,
        (TypeId::Set, Some(Value::Set(d))) => super::sets::new(vm, super::sets::elements(d))?,
        (TypeId::Set, Some(v)) => {
            let items = vm.collect(v)?;
            super::sets::new(vm, items)?
        }
        (TypeId::Dict, _) => {
            let mut d = Dict::default();
            if let Some(v) = a {
                let pairs: Vec<Value> = match v {
                    Value::Dict(src) => {
                        src.borrow().items().map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()])).collect()
                    }
                    other => vm.collect(other)?,
                };
                for (i, p) in pairs.into_iter().enumerate() {
                    let element = format!("dictionary update sequence element #{i}");
                    let kv = vm
                        .collect(&p)
                        .map_err(|_| vm.type_error(&format!("cannot convert {element} to a sequence")))?;
                    if kv.len() != 2 {
                        let n = kv.len();
                        return Err(vm.rt.error("ValueError", &format!("{element} has length {n}; 2 is required")));
                    }
                    d.insert(vm.key(&kv[0])?, kv[0].clone(), kv[1].clone());
                }
            }
            for (k, v) in kwargs {
                d.insert(super::value::Key::Str(Rc::clone(&k)), Value::Str(k), v);
            }
            Value::dict(d)
        }
        (TypeId::Bytes, Some(Value::Str(s))) => Value::Bytes(s.as_bytes().into()),
        (TypeId::Bytes, None) => Value::Bytes(Rc::from(&[][..])),
        (TypeId::Bytes, Some(v)) if super::extras::HERE => super::extras::bytes(vm, v)?,
        (TypeId::Object, None) => {
            let class = super::value::Class::in_module("object", None, "builtins");
            Value::Instance(Rc::new(super::value::Instance { class, attrs: RefCell::default() }))
        }
        // `int(x)` by `x.__int__()` (`float(x)`: `__float__`), else `__index__`.
        (TypeId::Int | TypeId::Float, Some(v @ Value::Instance(_))) if number_hook(v, t).is_some() => {
            let hook = if t == TypeId::Int { "__int__" } else { "__float__" };
            let n = vm.call_nested(number_hook(v, t).unwrap_or_default(), Vec::new())?;
            if !matches!((t, &n), (TypeId::Int, Value::Int(_)) | (TypeId::Float, Value::Float(_) | Value::Int(_))) {
                let hook = if super::ops::dunder(v, hook).is_some() { hook } else { "__index__" };
                let kind = if t == TypeId::Int { "int" } else { "float" };
                return Err(vm.type_error(&format!("{hook} returned non-{kind} (type {})", n.type_name())));
            }
            return call_type(vm, t, vec![n], kwargs);
        }
        (t, Some(v)) => {
            let takes = match t {
                TypeId::Int if super::extras::HERE => "a string, a bytes-like object or a real number",
                TypeId::Float if super::extras::HERE => "a string or a real number",
                _ => return Err(vm.type_error(&format!("{}() cannot convert '{}'", t.name(), v.type_name()))),
            };
            return Err(vm.type_error(&format!("{}() argument must be {takes}, not '{}'", t.name(), v.type_name())));
        }
        (t, None) => return Err(vm.type_error(&format!("{}() needs an argument", t.name()))),
    })
}

/// Calls the method `name` of the built-in value `this`.
pub(crate) fn call_method(
    vm: &mut Vm<'_>,
    name: &'static str,
    this: &Value,
    args: Vec<Value>,
    kwargs: Kw,
) -> PyResult<Out> {
    if name.starts_with("LineReceiver.") {
        return super::twisted::line_receiver(vm, name, this, args);
    }
    // `str.upper(s)`, `int.__add__(1, 2)`; `(7).__add__(1)`.
    if let (true, Value::Type(t)) = (super::dunders::HERE, this) {
        return super::dunders::call_unbound(vm, *t, name, args, kwargs);
    }
    if super::dunders::method(this, name) == Some(name) {
        return super::dunders::call(vm, name, this, args);
    }
    if super::pystd::HERE && name == "type.mro" {
        let Value::Class(c) = this else { return Ok(Out::Value(Value::None)) };
        return Ok(Out::Value(Value::list(super::vm::mro(c))));
    }
    if super::timed::HERE && name.starts_with("Timer.") {
        return super::timed::timer_method(vm, name, this, args, kwargs);
    }
    if super::thread_class::HERE && name.starts_with("Thread.") {
        return super::thread_class::method(vm, name, this, args, kwargs);
    }
    if name.starts_with("IPv4Address.") || name.starts_with("Factory.") || name.starts_with("endpoints.") {
        return super::net::library_method(vm, name, this, args);
    }
    if super::attrs::HERE && matches!(name, "object.__setattr__" | "object.__delattr__") {
        return super::attrs::object_method(vm, name, Some(this), &args).map(Out::Value);
    }
    if super::dunders::object_method(name.trim_start_matches("object.")) == Some(name) {
        let args: Vec<Value> = std::iter::once(this.clone()).chain(args).collect();
        return super::dunders::call_object(vm, name, &args).map(Out::Value);
    }
    if name.contains('.') {
        // `BaseException.__init__(self, ...)` bound to an instance.
        if name == "BaseException.__init__" {
            if let Value::Instance(i) = this {
                vm.rt.set_exc_args(i, args);
            }
        }
        return Ok(Out::Value(Value::None));
    }
    if kwargs.is_empty() {
        if let Some(message) = super::arity::method_error(this, name, args.len()) {
            return Err(vm.type_error(&message));
        }
    }
    let v = match this {
        Value::Str(s) => super::strings::call(vm, name, s, &args, &kwargs)?,
        Value::List(l) => {
            let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
            match name {
                "append" => {
                    l.borrow_mut().push(arg(0));
                    Value::None
                }
                "extend" => {
                    let items = vm.collect(&arg(0))?;
                    l.borrow_mut().extend(items);
                    Value::None
                }
                "pop" => {
                    let mut items = l.borrow_mut();
                    if items.is_empty() {
                        return Err(vm.rt.error("IndexError", "pop from empty list"));
                    }
                    let n = items.len() as i64;
                    let i = match args.first() {
                        Some(i) => int_arg(vm, i)?,
                        None => n - 1,
                    };
                    let i = if i < 0 { i + n } else { i };
                    if i < 0 || i >= n {
                        return Err(vm.rt.error("IndexError", "pop index out of range"));
                    }
                    items.remove(i as usize)
                }
                "insert" => {
                    let n = l.borrow().len() as i64;
                    let i = int_arg(vm, &arg(0))?;
                    let i = if i < 0 { (i + n).max(0) } else { i.min(n) };
                    l.borrow_mut().insert(i as usize, arg(1));
                    Value::None
                }
                "remove" | "index" => {
                    // A copy: an item's `__eq__` may change the list.
                    let items = l.borrow().to_vec();
                    let pos = ops::position(vm, &items, &arg(0))?;
                    match pos {
                        Some(i) if name == "index" => Value::Int(i as i64),
                        Some(i) => {
                            l.borrow_mut().remove(i);
                            Value::None
                        }
                        None => {
                            let what = if name == "index" {
                                format!("{} is not in list", vm.repr_of(&arg(0))?)
                            } else {
                                "list.remove(x): x not in list".to_owned()
                            };
                            return Err(vm.rt.error("ValueError", &what));
                        }
                    }
                }
                "count" => {
                    let items = l.borrow().to_vec();
                    Value::Int(ops::count(vm, &items, &arg(0))? as i64)
                }
                "sort" => {
                    let items = l.borrow().clone();
                    let reverse = kw(&kwargs, "reverse").is_some_and(|r| r.truthy());
                    let sorted = sort(vm, items, kw(&kwargs, "key"), reverse)?;
                    **l.borrow_mut() = sorted;
                    Value::None
                }
                "reverse" => {
                    l.borrow_mut().reverse();
                    Value::None
                }
                "copy" => Value::list(l.borrow().clone()),
                "clear" => {
                    l.borrow_mut().clear();
                    Value::None
                }
                _ => return Err(vm.type_error(name)),
            }
        }
        Value::Tuple(t) => {
            let x = args.first().cloned().unwrap_or_default();
            match name {
                "count" => Value::Int(ops::count(vm, t, &x)? as i64),
                _ => match ops::position(vm, t, &x)? {
                    Some(i) => Value::Int(i as i64),
                    None => return Err(vm.rt.error("ValueError", "tuple.index(x): x not in tuple")),
                },
            }
        }
        Value::Set(d) if full(vm, "set methods") => super::sets::method(vm, name, d, &args)?,
        // Only the full module: the presets close no generator.
        Value::Generator(g) if name == "close" && super::compile::PARSER => gen_close(vm, g)?,
        Value::Generator(g) => {
            let sent = sent_into(vm, name, args.first().cloned().unwrap_or_default())?;
            gen_send(vm, g, sent)?
        }
        Value::Dict(d) if super::collections::HERE && super::collections::overrides(&d.borrow().kind, name) => {
            super::collections::call_method(vm, name, this, &args, &kwargs)?
        }
        Value::Dict(d) => {
            let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
            match name {
                "get" => {
                    let k = vm.key(&arg(0))?;
                    let found = d.borrow().get(&k);
                    found.unwrap_or(arg(1))
                }
                // Views in the full module; the light module, which no
                // preset asks for one, keeps the lists it always made.
                "keys" | "values" | "items" if full(vm, "dict views") => {
                    let view = match name {
                        "keys" => super::views::View::Keys,
                        "values" => super::views::View::Values,
                        _ => super::views::View::Items,
                    };
                    super::views::new(view, this)
                }
                "keys" => Value::list(d.borrow().items().map(|(k, _)| k.clone()).collect()),
                "values" => Value::list(d.borrow().items().map(|(_, v)| v.clone()).collect()),
                "items" => {
                    Value::list(d.borrow().items().map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()])).collect())
                }
                "pop" => {
                    let k = vm.key(&arg(0))?;
                    let removed = d.borrow_mut().remove(&k);
                    match (removed, args.get(1)) {
                        (Some(v), _) => v,
                        (None, Some(default)) => default.clone(),
                        (None, None) => {
                            let class = vm.rt.exc_class("KeyError");
                            return Err(Exc::new(vm.rt.new_exc(&class, vec![arg(0)])));
                        }
                    }
                }
                "popitem" => {
                    let last = d.borrow().items().next_back().cloned();
                    let Some((k, v)) = last else {
                        return Err(vm.rt.error("KeyError", "popitem(): dictionary is empty"));
                    };
                    d.borrow_mut().remove(&vm.key(&k)?);
                    Value::tuple(vec![k, v])
                }
                "setdefault" => {
                    let k = vm.key(&arg(0))?;
                    let found = d.borrow().get(&k);
                    match found {
                        Some(v) => v,
                        None => {
                            d.borrow_mut().insert(k, arg(0), arg(1));
                            arg(1)
                        }
                    }
                }
                "update" => {
                    let other = call_type(vm, TypeId::Dict, args.clone(), kwargs)?;
                    if let Value::Dict(o) = other {
                        for (k, v) in o.borrow().items() {
                            let key = vm.key(k)?;
                            d.borrow_mut().insert(key, k.clone(), v.clone());
                        }
                    }
                    Value::None
                }
                // A defaultdict's or Counter's copy is one too, and clearing
                // one keeps what it is (as CPython's).
                "copy" => {
                    let out = call_type(vm, TypeId::Dict, vec![this.clone()], Vec::new())?;
                    if let Value::Dict(o) = &out {
                        o.borrow_mut().kind = d.borrow().kind.clone();
                    }
                    out
                }
                "clear" => {
                    let mut fresh = Dict::default();
                    fresh.kind = d.borrow().kind.clone();
                    *d.borrow_mut() = fresh;
                    Value::None
                }
                _ => return Err(vm.type_error(name)),
            }
        }
        Value::Int(i) if super::extras::HERE => super::extras::int_method(vm, name, *i, &args, &kwargs)?,
        Value::Big(b) if name == "bit_length" => Value::Int(b.bits() as i64),
        Value::Bytes(b) => match name {
            "upper" => Value::Bytes(b.to_ascii_uppercase().into()),
            "lower" => Value::Bytes(b.to_ascii_lowercase().into()),
            _ if super::bytes::has(name) => super::bytes::call(vm, name, b, &args, &kwargs)?,
            _ => super::strings::decode(vm, b, &args, &kwargs)?,
        },
        Value::Native(n) => return native_method(vm, name, n, args, kwargs),
        Value::Builtin(_) if name == "from_iterable" => {
            super::itertools::call(vm, "chain.from_iterable", args, kwargs)?
        }
        _ => return Err(vm.type_error(&format!("'{}' has no method {name}", this.type_name()))),
    };
    Ok(Out::Value(v))
}

fn native_method(vm: &mut Vm<'_>, name: &str, n: &Rc<Native>, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let tid = vm.tid;
    match (&**n, name) {
        (waits, _) if super::timed::HERE && super::timed::applies(waits, name, &args, &kwargs) => {
            super::timed::call(vm, n, name, args, kwargs)
        }
        // `@x.setter`: a copy of the property with this setter (or getter).
        (Native::Property { fget, fset }, "setter" | "getter") if full(vm, "property.setter") => {
            let f = args.into_iter().next().unwrap_or_default();
            let (fget, fset) = if name == "setter" { (fget.clone(), f) } else { (f, fset.clone()) };
            Ok(Out::Value(Value::Native(Rc::new(Native::Property { fget, fset }))))
        }
        (Native::Lock { lock, reentrant, owner, depth }, "acquire") => {
            if *reentrant && owner.get() == Some(tid) {
                depth.set(depth.get() + 1);
                return Ok(Out::Value(Value::Bool(true)));
            }
            let blocking = args.first().or(kw(&kwargs, "blocking").as_ref()).is_none_or(Value::truthy);
            if vm.sh.try_lock(*lock, tid) {
                owner.set(Some(tid));
                depth.set(1);
                return Ok(Out::Value(Value::Bool(true)));
            }
            if !blocking {
                return Ok(Out::Value(Value::Bool(false)));
            }
            if !*reentrant && vm.sh.lock_holder(*lock) == Some(tid) {
                return Err(vm.rt.error("RuntimeError", "deadlock: this thread already holds the Lock (use an RLock)"));
            }
            // The engine gives the lock to this thread before it resumes: an
            // RLock's releasing thread hands it over and records the new
            // owner; a Lock's waiter takes it when it wakes.
            Ok(Out::Halt(Value::Bool(true), Halt::LockWait(*lock, super::vm::no_steps())))
        }
        (Native::Lock { lock, reentrant, owner, depth }, "release") => {
            // A Lock's holder is the engine's (any thread may release it, as
            // in CPython); an RLock's is its owner.
            let held = if *reentrant { owner.get() } else { vm.sh.lock_holder(*lock) };
            if held.is_none() || (*reentrant && held != Some(tid)) {
                let what = if *reentrant { "cannot release un-acquired lock" } else { "release unlocked lock" };
                return Err(vm.rt.error("RuntimeError", what));
            }
            if depth.get() > 1 {
                depth.set(depth.get() - 1);
                return Ok(Out::Value(Value::None));
            }
            depth.set(0);
            owner.set(None);
            vm.sh.release_lock(*lock, tid);
            // The next holder (if any) was handed the lock: record it as the owner.
            if let Some(next) = vm.sh.lock_holder(*lock) {
                owner.set(Some(next));
                depth.set(1);
            }
            Ok(Out::Value(Value::None))
        }
        (Native::Lock { lock, .. }, "locked") => Ok(Out::Value(Value::Bool(vm.sh.lock_holder(*lock).is_some()))),
        (Native::Event { set, .. }, "is_set") => Ok(Out::Value(Value::Bool(set.get()))),
        (Native::Event { .. }, "set") => {
            set_event(vm.sh, n);
            Ok(Out::Value(Value::None))
        }
        (Native::Event { set, lock }, "clear") => {
            if set.replace(false) {
                vm.sh.hold_for_nobody(*lock);
            }
            Ok(Out::Value(Value::None))
        }
        (Native::Event { set, lock }, "wait") => {
            // `wait(None)` waits as `wait()`; a timeout is `timed`'s.
            if args.first().or(kwargs.first().map(|(_, v)| v)).is_some_and(|t| !matches!(t, Value::None)) {
                return Err(timeout_in_full_module(vm, "Event.wait"));
            }
            if set.get() {
                return Ok(Out::Value(Value::Bool(true)));
            }
            // `set` wakes every waiter at once (`wake_all`), none holding it.
            Ok(Out::Halt(Value::Bool(true), Halt::LockWait(*lock, super::vm::no_steps())))
        }
        (Native::Condition { lock, .. }, "acquire" | "release") if full(vm, "Condition.acquire") => {
            let name = if name == "acquire" { "acquire" } else { "release" };
            call_method(vm, name, lock, args, kwargs)
        }
        (Native::Condition { name: cname, lock: Value::Native(lock), waiters }, "wait" | "wait_for")
            if full(vm, "Condition.wait") =>
        {
            let timeout = if name == "wait" { args.first() } else { args.get(1) }.cloned().or(kw(&kwargs, "timeout"));
            if timeout.is_some_and(|t| !matches!(t, Value::None)) {
                return Err(timeout_in_full_module(
                    vm,
                    if name == "wait" { "Condition.wait" } else { "Condition.wait_for" },
                ));
            }
            if name == "wait_for" {
                // `while not predicate(): wait()`: the call runs again after each wait.
                let predicate = args.first().cloned().or(kw(&kwargs, "predicate")).unwrap_or_default();
                let ready = vm.call_nested(predicate, Vec::new())?;
                if ready.truthy() {
                    return Ok(Out::Value(ready));
                }
            }
            if !owned(vm, lock) {
                return Err(vm.rt.error("RuntimeError", "cannot wait on un-acquired lock"));
            }
            let waiter = new_waiter(vm, cname, waiters);
            let depth = release_all(vm, lock);
            vm.after_wake = Some(super::vm::AfterWake::Reacquire { waiter, lock: Rc::clone(lock), depth });
            let halt = Halt::LockWait(waiter, super::vm::no_steps());
            Ok(if name == "wait" { Out::Halt(Value::Bool(true), halt) } else { Out::Retry(halt) })
        }
        (Native::Condition { lock: Value::Native(lock), waiters, .. }, "notify" | "notify_all")
            if full(vm, "Condition.notify") =>
        {
            if !owned(vm, lock) {
                return Err(vm.rt.error("RuntimeError", "cannot notify on un-acquired lock"));
            }
            let n = match (name, args.first().cloned().or(kw(&kwargs, "n"))) {
                ("notify_all", _) => i64::MAX,
                (_, Some(n)) => int_arg(vm, &n)?,
                (_, None) => 1,
            };
            notify(vm, waiters, n);
            Ok(Out::Value(Value::None))
        }
        (Native::Semaphore { name: sname, value, waiters, .. }, "acquire") if full(vm, "Semaphore.acquire") => {
            let blocking = args.first().cloned().or(kw(&kwargs, "blocking")).is_none_or(|b| b.truthy());
            if args.get(1).cloned().or(kw(&kwargs, "timeout")).is_some_and(|t| !matches!(t, Value::None)) {
                if !blocking {
                    return Err(vm.rt.error("ValueError", "can't specify timeout for non-blocking acquire"));
                }
                return Err(timeout_in_full_module(vm, "Semaphore.acquire"));
            }
            if value.get() > 0 {
                value.set(value.get() - 1);
                return Ok(Out::Value(Value::Bool(true)));
            }
            if !blocking {
                return Ok(Out::Value(Value::Bool(false)));
            }
            // CPython's `while self._value == 0: self._cond.wait()`: woken,
            // the call runs again and may find the count taken by another.
            let waiter = new_waiter(vm, sname, waiters);
            vm.after_wake = Some(super::vm::AfterWake::Release(waiter));
            Ok(Out::Retry(Halt::LockWait(waiter, super::vm::no_steps())))
        }
        (Native::Semaphore { value, bound, waiters, .. }, "release") if full(vm, "Semaphore.release") => {
            let n = match args.first().cloned().or(kw(&kwargs, "n")) {
                Some(n) => int_arg(vm, &n)?,
                None => 1,
            };
            if n < 1 {
                return Err(vm.rt.error("ValueError", "n must be one or more"));
            }
            if bound.is_some_and(|b| value.get() + n > b) {
                return Err(vm.rt.error("ValueError", "Semaphore released too many times"));
            }
            value.set(value.get() + n);
            notify(vm, waiters, n);
            Ok(Out::Value(Value::None))
        }
        (Native::Thread(t), "start") => {
            if t.started.replace(true) {
                return Err(vm.rt.error("RuntimeError", "threads can only be started once"));
            }
            let (target, mut args) = (t.target.clone(), t.args.clone());
            let target = match target {
                Value::Func(_) | Value::Method(_) => target,
                v if super::extras::HERE && ops::dunder(&v, "__call__").is_some() => v,
                // A built-in (`print`) or a class runs in the thread too:
                // through a Python function that calls it, as deferToThread's.
                Value::Builtin(_) | Value::Class(_) | Value::Type(_) | Value::Native(_) => {
                    args.insert(0, target);
                    super::twisted::library(vm.rt, "_callInThread").unwrap_or_default()
                }
                _ => return Err(vm.type_error("Thread(target=...) must be callable")),
            };
            let frame = match vm.call(target, args, t.kwargs.clone())? {
                Out::Frame(f) => f,
                _ => return Err(vm.type_error("Thread(target=...) must be a Python function")),
            };
            let lock = vm.sh.new_lock(&format!("{}.join", t.name.borrow()), true);
            vm.sh.hold_for_nobody(lock);
            vm.sh.wake_late(lock);
            t.done_lock.set(Some(lock));
            // CPython's `start()` returns once the new thread has run (it
            // waits on the thread's `_started` event), and its caller then
            // needs the GIL back like any waiter: under the GIL, threads a
            // program starts one after another begin a switch interval or
            // more apart, not microseconds.
            let started = vm.start_gate(&format!("{}.start", t.name.borrow()));
            t.start_lock.set(Some(started));
            vm.rt.threaded.set(true);
            if super::compile::PARSER {
                // For `threading.enumerate()` (not `full`: presets start threads).
                vm.rt.started_threads.borrow_mut().push(Value::Native(Rc::clone(n)));
            }
            spawn(vm, Rc::clone(t), frame);
            Ok(vm.wait_at(started, Value::None))
        }
        (Native::Thread(t), "join") => {
            if !t.started.get() {
                return Err(vm.rt.error("RuntimeError", "cannot join thread before it is started"));
            }
            match t.done_lock.get() {
                Some(lock) if !t.done.get() => {
                    vm.after_wake = Some(super::vm::AfterWake::Release(lock));
                    Ok(Out::Halt(Value::None, Halt::LockWait(lock, super::vm::no_steps())))
                }
                _ => Ok(Out::Value(Value::None)),
            }
        }
        // The old spellings of `daemon` (CPython 3.10 deprecated them).
        (Native::Thread(_), "setDaemon") if full(vm, "Thread.setDaemon") => {
            let Some(daemonic) = args.into_iter().next() else {
                return Err(vm.type_error("setDaemon() missing 1 required positional argument: 'daemonic'"));
            };
            vm.set_attr(&Value::Native(Rc::clone(n)), "daemon", daemonic)?;
            Ok(Out::Value(Value::None))
        }
        (Native::Thread(t), "isDaemon") if full(vm, "Thread.isDaemon") => Ok(Out::Value(Value::Bool(t.daemon.get()))),
        (Native::Thread(t), "is_alive") => Ok(Out::Value(Value::Bool(t.started.get() && !t.done.get()))),
        (Native::Queue(q), _) if super::queue::HERE => super::queue::method(vm, q, name, args, kwargs),
        _ => super::twisted::call_method(vm, name, n, args, kwargs),
    }
}

/// CPython's `threading.enumerate()`: the threads alive, in the order they
/// started (the main thread first): the program's and the reactor pool's
/// (Twisted's pool threads are `threading.Thread`s; its pool stops in the
/// reactor's shutdown).
fn live_threads(vm: &Vm<'_>) -> Vec<Value> {
    let mut live: Vec<u32> = vec![0];
    for v in vm.rt.started_threads.borrow().iter() {
        if let Value::Native(n) = v {
            if let Native::Thread(t) = &**n {
                if let (Some(tid), false) = (t.tid.get(), t.done.get()) {
                    live.push(tid);
                }
            }
        }
    }
    if !vm.rt.shut_down.get() {
        let names = vm.sh.thread_names.borrow().clone();
        for (tid, name) in names.iter().enumerate() {
            if name.starts_with("pool-") {
                live.push(tid as u32);
            }
        }
    }
    live.sort();
    live.into_iter().map(|tid| thread_value(vm, tid)).collect()
}

fn spawn(vm: &mut Vm<'_>, t: Rc<ThreadObj>, frame: Frame) {
    let name = t.name.borrow().clone();
    let task = Task::new(frame, Some(t));
    vm.rt.spawns.borrow_mut().push((name, task));
    vm.sh.inbox_pushed.set(vm.sh.inbox_pushed.get());
}

/// Makes the module `name`, or says which modules exist.
pub(crate) fn module(rt: &Runtime, name: &str) -> Option<Value> {
    let functions: &[&'static str] = match name {
        "random" => &["seed", "random", "uniform", "randint", "randrange", "choice", "shuffle"],
        "time" => &[
            "sleep",
            "time",
            "monotonic",
            "perf_counter",
            "time_ns",
            "monotonic_ns",
            "perf_counter_ns",
            "thread_time",
            "thread_time_ns",
            "process_time",
            "process_time_ns",
        ],
        "math" => &[
            "sqrt", "floor", "ceil", "log", "exp", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "log2",
            "log10", "fabs", "log1p", "expm1", "exp2", "sinh", "cosh", "tanh", "asinh", "atanh", "fmod", "frexp",
            "ldexp", "modf",
        ],
        "threading" => &[
            "Lock",
            "RLock",
            "Event",
            "Thread",
            "current_thread",
            "main_thread",
            "get_ident",
            "get_native_id",
            "Semaphore",
            "BoundedSemaphore",
            "Condition",
            "local",
            "active_count",
            "enumerate",
            "Barrier",
        ],
        "itertools" if super::itertools::HERE => super::itertools::FUNCTIONS,
        "collections" if super::collections::HERE => {
            return Some(Value::Module(Rc::new(Module {
                name: "collections",
                attrs: super::collections::attrs().into_iter().collect(),
            })))
        }
        "functools" if super::functools::HERE => {
            return Some(Value::Module(Rc::new(Module {
                name: "functools",
                attrs: super::functools::attrs().into_iter().collect(),
            })))
        }
        "heapq" if super::heapq::HERE => {
            let f = |n: &'static str| Value::builtin(n, None);
            let attrs = [
                ("heappush", f("heapq.heappush")),
                ("heappop", f("heapq.heappop")),
                ("heapify", f("heapq.heapify")),
                ("heappushpop", f("heapq.heappushpop")),
                ("heapreplace", f("heapq.heapreplace")),
            ];
            return Some(Value::Module(Rc::new(Module { name: "heapq", attrs: attrs.into_iter().collect() })));
        }
        "json" if super::json::HERE => {
            return Some(Value::Module(Rc::new(Module {
                name: "json",
                attrs: super::json::attrs(rt).into_iter().collect(),
            })))
        }
        "struct" if super::structs::HERE => {
            return Some(Value::Module(Rc::new(Module {
                name: "struct",
                attrs: super::structs::attrs(rt).into_iter().collect(),
            })))
        }
        "queue" if super::queue::HERE => {
            return Some(Value::Module(Rc::new(Module {
                name: "queue",
                attrs: super::queue::attrs(rt).into_iter().collect(),
            })))
        }
        "twine" => &["machine", "cpu", "duration", "clients", "variant"],
        _ => return super::twisted::module(rt, name),
    };
    let mut attrs: HashMap<&'static str, Value> =
        functions.iter().map(|&n| (n, Value::builtin(leak(name, n), None))).collect();
    if name == "threading" && super::timed::HERE {
        attrs.insert("Timer", Value::Class(super::timed::timer_class(rt)));
        attrs.insert("BrokenBarrierError", Value::Class(rt.exc_class("BrokenBarrierError")));
    }
    if name == "time" && super::pystd::HERE {
        for &f in super::pystd::TIME {
            attrs.insert(f, Value::builtin(leak(name, f), None));
        }
    }
    if name == "math" {
        attrs.insert("pi", Value::Float(std::f64::consts::PI));
        attrs.insert("e", Value::Float(std::f64::consts::E));
        attrs.insert("inf", Value::Float(f64::INFINITY));
    }
    let name = match name {
        "random" => "random",
        "time" => "time",
        "math" => "math",
        "threading" => "threading",
        "itertools" => "itertools",
        _ => "twine",
    };
    Some(Value::Module(Rc::new(Module { name, attrs })))
}

/// The modules a program can import.
pub(crate) const MODULES: &str =
    "abc, bisect, collections, concurrent.futures, contextlib, copy, dataclasses, datetime, enum, functools, gc, heapq, io, itertools, json, logging, math, operator, os, pprint, queue, random, statistics, string, struct, sys, threading, time, traceback, twine, typing, twisted.internet (reactor, defer, task, threads, protocol, endpoints), twisted.protocols.basic";

/// `module.function` as a static name (the set is fixed and small).
fn leak(module: &str, name: &'static str) -> &'static str {
    const ALL: &[&str] = &[
        "random.seed",
        "random.random",
        "random.uniform",
        "random.randint",
        "random.randrange",
        "random.choice",
        "random.shuffle",
        "time.sleep",
        "time.time",
        "time.monotonic",
        "time.perf_counter",
        "time.time_ns",
        "time.monotonic_ns",
        "time.perf_counter_ns",
        "time.thread_time",
        "time.thread_time_ns",
        "time.process_time",
        "time.process_time_ns",
        "time.gmtime",
        "time.localtime",
        "time.mktime",
        "time.strftime",
        "time.strptime",
        "time.asctime",
        "time.ctime",
        "time.struct_time",
        "math.sqrt",
        "math.floor",
        "math.ceil",
        "math.log",
        "math.exp",
        "math.sin",
        "math.cos",
        "math.tan",
        "math.asin",
        "math.acos",
        "math.atan",
        "math.atan2",
        "math.log2",
        "math.log10",
        "math.fabs",
        "math.log1p",
        "math.expm1",
        "math.exp2",
        "math.sinh",
        "math.cosh",
        "math.tanh",
        "math.asinh",
        "math.atanh",
        "math.fmod",
        "math.frexp",
        "math.ldexp",
        "math.modf",
        "threading.Lock",
        "threading.RLock",
        "threading.Event",
        "threading.Thread",
        "threading.current_thread",
        "threading.main_thread",
        "threading.get_ident",
        "threading.get_native_id",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "threading.Condition",
        "threading.local",
        "threading.active_count",
        "threading.enumerate",
        "threading.Barrier",
        "itertools.count",
        "itertools.islice",
        "itertools.chain",
        "itertools.repeat",
        "itertools.cycle",
        "itertools.product",
        "itertools.permutations",
        "itertools.combinations",
        "itertools.zip_longest",
        "itertools.accumulate",
        "twine.machine",
        "twine.cpu",
        "twine.duration",
        "twine.clients",
        "twine.variant",
    ];
    ALL.iter().find(|full| full.split_once('.') == Some((module, name))).copied().unwrap_or(name)
}

/// `g.send(v)`, `g.throw(exc)`, `next(g)` from a built-in's loop: the value
/// yielded, or the StopIteration whose `value` is what the generator returned.
fn gen_send(vm: &mut Vm<'_>, g: &Rc<super::value::Generator>, sent: Result<Value, Value>) -> PyResult<Value> {
    match vm.gen_resume(g, sent)? {
        super::vm::GenStep::Yielded(v) => Ok(v),
        super::vm::GenStep::Returned(v) => Err(vm.stop_iteration(v)),
    }
}

/// `g.close()`: GeneratorExit thrown in where it stopped, so its `finally`
/// blocks run; a generator that yields again is an error, as in CPython.
fn gen_close(vm: &mut Vm<'_>, g: &Rc<super::value::Generator>) -> PyResult<Value> {
    if !g.started.get() {
        // Never started: it just ends.
        g.frame.borrow_mut().take();
        return Ok(Value::None);
    }
    if g.frame.borrow().is_none() {
        return Ok(Value::None);
    }
    let exit = vm.rt.new_exc(&vm.rt.exc_class("GeneratorExit"), Vec::new());
    match vm.gen_resume(g, Err(exit)) {
        Ok(super::vm::GenStep::Yielded(_)) => Err(vm.rt.error("RuntimeError", "generator ignored GeneratorExit")),
        Ok(super::vm::GenStep::Returned(_)) => Ok(Value::None),
        Err(e) if matches!(&*e.value.type_name(), "GeneratorExit" | "StopIteration") => Ok(Value::None),
        Err(e) => Err(e),
    }
}

/// What `g.send(arg)` (`Ok`) or `g.throw(arg)` (`Err`: an exception
/// instance, a class instantiated) hands the generator.
pub(crate) fn sent_into(vm: &mut Vm<'_>, method: &str, arg: Value) -> PyResult<Result<Value, Value>> {
    if method != "throw" {
        return Ok(Ok(arg));
    }
    let base = vm.rt.exc_class("BaseException");
    let exc = match arg {
        Value::Class(c) if c.is_subclass(&base) => vm.rt.new_exc(&c, Vec::new()),
        Value::Instance(i) if i.class.is_subclass(&base) => Value::Instance(i),
        _ => return Err(vm.type_error("exceptions must derive from BaseException")),
    };
    // The frames it left when first raised, if a failure kept them: CPython's
    // exception carries its traceback into the generator.
    let text = super::twisted::exc_text_plain(&exc);
    let carried = vm.rt.tracebacks.borrow().get(&text).map(|(_, frames)| frames.clone());
    *vm.rt.thrown.borrow_mut() = carried.map(|frames| (exc.clone(), frames));
    Ok(Err(exc))
}
