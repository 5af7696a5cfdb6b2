//! Operators on values: arithmetic (64-bit ints, which go on as big ints
//! past 64 bits: `bigint`), comparisons, membership, subscripts.

use std::cmp::Ordering;
use std::rc::Rc;

use super::bigint;
use super::code::{BinOp, CmpOp};
use super::errors::Exc;
use super::nesting;
use super::value::{range_len, Native, Value};
use super::vm::{PyResult, Vm};

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The most items (characters, bytes, elements) one value may hold here.
/// CPython's limit is memory; a simulated program runs in a browser tab, so
/// `s = s + s` forty times ends with a MemoryError that says so, not a crash.
pub(crate) const MAX_ITEMS: usize = 1 << 24;

/// `n` items, or the MemoryError the simulator raises past [`MAX_ITEMS`].
pub(crate) fn sized(vm: &Vm<'_>, n: usize) -> PyResult<usize> {
    if n <= MAX_ITEMS {
        Ok(n)
    } else {
        Err(vm.rt.error(
            "MemoryError",
            &format!("a value of {n} items is more than the simulator holds ({MAX_ITEMS}): build a smaller one"),
        ))
    }
}

/// `len * times` items, checked against [`MAX_ITEMS`] (a negative count is none).
fn repeated(vm: &Vm<'_>, len: usize, times: &Value) -> PyResult<usize> {
    let times = int(times).unwrap_or(0).max(0) as u64;
    let total = (len as u64).saturating_mul(times);
    sized(vm, usize::try_from(total).unwrap_or(usize::MAX))?;
    Ok(times as usize)
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

pub(crate) fn binary(vm: &mut Vm<'_>, op: BinOp, a: &Value, b: &Value, inplace: bool) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        return int_op(vm, op, x, y);
    }
    if bigint::HERE && (matches!(a, Value::Big(_)) || matches!(b, Value::Big(_))) {
        if let (Some(x), Some(y)) = (bigint::of(a), bigint::of(b)) {
            return bigint::binary(vm, op, &x, &y);
        }
        let shifts = matches!(op, BinOp::LShift | BinOp::RShift | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor);
        match (a, b) {
            (Value::Big(x), Value::Float(y)) if !shifts => return float_op(vm, op, bigint::to_f64(vm, x)?, *y),
            (Value::Float(x), Value::Big(y)) if !shifts => return float_op(vm, op, *x, bigint::to_f64(vm, y)?),
            _ => {}
        }
    }
    if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) {
        if let Some(v) = user_binary(vm, op, a, b, inplace)? {
            return Ok(v);
        }
    }
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        if !matches!(op, BinOp::LShift | BinOp::RShift | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor) {
            return float_op(vm, op, x, y);
        }
    }
    // `d.keys() & other` and friends: a keys or items view is set-like.
    if super::views::HERE && matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::Sub | BinOp::BitXor) {
        if let Some(set) = super::views::as_set(vm, a)? {
            let other = match super::views::as_set(vm, b)? {
                Some(other) => other,
                None => {
                    let items = vm.collect(b)?;
                    super::sets::new(vm, items)?
                }
            };
            return binary(vm, op, &set, &other, false);
        }
        if let Some(set) = super::views::as_set(vm, b)? {
            if matches!(a, Value::Set(_)) {
                return binary(vm, op, a, &set, false);
            }
        }
    }
    if let Some(v) = super::collections::counter_binary(vm, op, a, b)? {
        return Ok(v);
    }
    match (op, a, b) {
        (BinOp::Add, Value::Str(x), Value::Str(y)) => {
            sized(vm, x.len() + y.len())?;
            Ok(Value::Str(format!("{x}{y}").into()))
        }
        (BinOp::Add, Value::Bytes(x), Value::Bytes(y)) => {
            sized(vm, x.len() + y.len())?;
            Ok(Value::Bytes([&x[..], &y[..]].concat().into()))
        }
        (BinOp::Add, Value::List(x), Value::List(y)) => {
            sized(vm, x.borrow().len() + y.borrow().len())?;
            if inplace {
                let extra = y.borrow().clone();
                x.borrow_mut().extend(extra);
                return Ok(a.clone());
            }
            let mut out = x.borrow().clone();
            out.extend(y.borrow().iter().cloned());
            Ok(Value::list(out))
        }
        (BinOp::Add, Value::List(x), other) if inplace => {
            let extra = vm.collect(other)?;
            x.borrow_mut().extend(extra);
            Ok(a.clone())
        }
        (BinOp::Add, Value::Tuple(x), Value::Tuple(y)) => {
            sized(vm, x.len() + y.len())?;
            Ok(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
        }
        (BinOp::Mul, Value::Str(s), n) | (BinOp::Mul, n, Value::Str(s)) if int(n).is_some() => {
            Ok(Value::Str(s.repeat(repeated(vm, s.len(), n)?).into()))
        }
        (BinOp::Mul, Value::Bytes(b), n) | (BinOp::Mul, n, Value::Bytes(b))
            if int(n).is_some() && super::builtins::full(vm, "bytes * n") =>
        {
            Ok(Value::Bytes(b.repeat(repeated(vm, b.len(), n)?).into()))
        }
        (BinOp::Mul, Value::List(l), n) | (BinOp::Mul, n, Value::List(l)) if int(n).is_some() => {
            let items = l.borrow();
            let times = repeated(vm, items.len(), n)?;
            Ok(Value::list(items.iter().cloned().cycle().take(items.len() * times).collect()))
        }
        (BinOp::Mul, Value::Tuple(t), n) | (BinOp::Mul, n, Value::Tuple(t)) if int(n).is_some() => {
            let times = repeated(vm, t.len(), n)?;
            Ok(Value::tuple(t.iter().cloned().cycle().take(t.len() * times).collect()))
        }
        (BinOp::Mod, Value::Str(fmt), args) if super::builtins::full(vm, "% formatting") => {
            percent(vm, fmt, args, false)
        }
        (BinOp::Mod, Value::Bytes(fmt), args) if super::builtins::full(vm, "% formatting") => {
            percent_bytes(vm, fmt, args)
        }
        (op, Value::Set(x), Value::Set(y))
            if super::builtins::full(vm, "set operators") && super::sets::binary(vm, op, x, y)?.is_some() =>
        {
            Ok(super::sets::binary(vm, op, x, y)?.unwrap_or_default())
        }
        (BinOp::BitOr, Value::Dict(x), Value::Dict(y)) => {
            let mut d = super::value::Dict::default();
            for (k, v) in x.borrow().items().chain(y.borrow().items()) {
                d.insert(vm.key(k)?, k.clone(), v.clone());
            }
            Ok(Value::dict(d))
        }
        _ => Err(unsupported(vm, op, a, b, inplace)),
    }
}

/// CPython's TypeError for `a op b` that neither operand's type does:
/// sequences name what they take (the full module only).
fn unsupported(vm: &Vm<'_>, op: BinOp, a: &Value, b: &Value, inplace: bool) -> Exc {
    let sequence = |v: &Value| matches!(v, Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_));
    let (ta, tb) = (a.type_name(), b.type_name());
    let message = match op {
        BinOp::Add if super::extras::HERE && matches!(a, Value::Bytes(_)) => format!("can't concat {tb} to bytes"),
        BinOp::Add if super::extras::HERE && sequence(a) => format!("can only concatenate {ta} (not \"{tb}\") to {ta}"),
        BinOp::Mul if super::extras::HERE && (sequence(a) || sequence(b)) => {
            format!("can't multiply sequence by non-int of type '{}'", if sequence(a) { tb } else { ta })
        }
        _ => {
            let symbol = if inplace { format!("{}=", op.symbol()) } else { op.symbol().to_owned() };
            format!("unsupported operand type(s) for {symbol}: '{ta}' and '{tb}'")
        }
    };
    vm.type_error(&message)
}

fn zero_div(vm: &Vm<'_>, msg: &str) -> Exc {
    vm.rt.error("ZeroDivisionError", msg)
}

fn int_op(vm: &mut Vm<'_>, op: BinOp, x: i64, y: i64) -> PyResult<Value> {
    match int_op_64(vm, op, x, y) {
        // Past 64 bits: the same operation on big ints.
        Err(e) if bigint::HERE && e.value.type_name().as_ref() == "OverflowError" => {
            bigint::binary(vm, op, &x.into(), &y.into())
        }
        r => r,
    }
}

fn int_op_64(vm: &mut Vm<'_>, op: BinOp, x: i64, y: i64) -> PyResult<Value> {
    let of = || vm.overflow();
    Ok(Value::Int(match op {
        BinOp::Add => x.checked_add(y).ok_or_else(of)?,
        BinOp::Sub => x.checked_sub(y).ok_or_else(of)?,
        BinOp::Mul => x.checked_mul(y).ok_or_else(of)?,
        BinOp::Div => {
            if y == 0 {
                return Err(zero_div(vm, "division by zero"));
            }
            return Ok(Value::Float(x as f64 / y as f64));
        }
        BinOp::FloorDiv => {
            if y == 0 {
                return Err(zero_div(vm, "integer division or modulo by zero"));
            }
            let q = x.checked_div(y).ok_or_else(of)?;
            if (x % y != 0) && ((x < 0) != (y < 0)) {
                q - 1
            } else {
                q
            }
        }
        BinOp::Mod => {
            if y == 0 {
                return Err(zero_div(vm, "integer modulo by zero"));
            }
            let r = x.checked_rem(y).ok_or_else(of)?;
            if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => {
            if y < 0 {
                return float_op(vm, op, x as f64, y as f64);
            }
            let e = u32::try_from(y).map_err(|_| of())?;
            x.checked_pow(e).ok_or_else(of)?
        }
        BinOp::LShift => {
            if y < 0 {
                return Err(vm.rt.error("ValueError", "negative shift count"));
            }
            let r = x.checked_shl(y.min(64) as u32).unwrap_or(0);
            if y >= 64 || (r >> y) != x {
                return Err(of());
            }
            r
        }
        BinOp::RShift => {
            if y < 0 {
                return Err(vm.rt.error("ValueError", "negative shift count"));
            }
            x >> y.min(63)
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
    }))
}

fn float_op(vm: &mut Vm<'_>, op: BinOp, x: f64, y: f64) -> PyResult<Value> {
    Ok(Value::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero_div(vm, "float division by zero"));
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero_div(vm, "float floor division by zero"));
            }
            (x / y).floor()
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero_div(vm, "float modulo"));
            }
            let r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return Err(zero_div(vm, "0.0 cannot be raised to a negative power"));
            }
            if x < 0.0 && y.is_finite() && y.fract() != 0.0 {
                return Err(vm.rt.error(
                    "ValueError",
                    "a negative number to a fractional power is a complex number, which the simulator does not have",
                ));
            }
            let r = super::libc_math::pow(x, y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(vm.rt.error("OverflowError", "(34, 'Numerical result out of range')"));
            }
            r
        }
        _ => unreachable!("bit operations are for ints"),
    }))
}

/// `fmt % args`.
fn percent(vm: &mut Vm<'_>, fmt: &str, args: &Value, bytes: bool) -> PyResult<Value> {
    let parts = super::format::parse_percent(fmt).map_err(|m| vm.rt.error("ValueError", &m))?;
    // CPython takes any non-tuple, non-str value with `__getitem__` as the
    // mapping for `%(key)s`, and then never complains of arguments left over.
    let mapping = match args {
        Value::Dict(_) | Value::List(_) => Some(args),
        Value::Instance(_) if dunder(args, "__getitem__").is_some() => Some(args),
        _ => None,
    };
    let args: Vec<Value> = match args {
        Value::Tuple(t) => t.to_vec(),
        other => vec![other.clone()],
    };
    let mut it = args.into_iter();
    let mut out = String::new();
    for p in parts {
        match p {
            Ok(lit) => out.push_str(&lit),
            Err(mut conv) => {
                if conv.key.is_some() {
                    // After a keyed conversion CPython has no positional argument left.
                    it = Vec::new().into_iter();
                }
                if super::compile::PARSER && (conv.star_width || conv.star_precision) {
                    conv.take_stars(
                        || match it.next() {
                            Some(Value::Int(i)) => Ok(i),
                            Some(Value::Bool(b)) => Ok(b as i64),
                            Some(_) => Err(vm.type_error("* wants int")),
                            None => Err(vm.type_error("not enough arguments for format string")),
                        },
                        |m| vm.rt.error("ValueError", &m),
                    )?;
                }
                let v = match &conv.key {
                    Some(key) if super::compile::PARSER => percent_item(vm, mapping, key, bytes)?,
                    _ => it.next().ok_or_else(|| vm.type_error("not enough arguments for format string"))?,
                };
                // `%c` and `%a` are text made here, then padded as `%s`.
                let (v, conv) = match conv.conv {
                    'c' => {
                        let c = match &v {
                            Value::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32),
                            Value::Str(s) if s.chars().count() == 1 => s.chars().next(),
                            _ => return Err(vm.type_error("%c requires an int or a unicode character")),
                        };
                        let Some(c) = c else {
                            return Err(vm.rt.error("OverflowError", "%c arg not in range(0x110000)"));
                        };
                        (Value::Str(c.to_string().into()), super::format::Percent { conv: 's', ..conv })
                    }
                    'a' => {
                        let text = super::strings::ascii(&vm.repr_of(&v)?);
                        (Value::Str(text.into()), super::format::Percent { conv: 's', ..conv })
                    }
                    'o' if !matches!(v, Value::Int(_) | Value::Bool(_) | Value::Big(_)) => {
                        return Err(vm.type_error(&format!("%o format: an integer is required, not {}", v.type_name())))
                    }
                    _ => (v, conv),
                };
                let spec = super::format::percent_spec(&conv);
                let v = match conv.conv {
                    's' => Value::Str(vm.str_of(&v)?.into()),
                    'r' => Value::Str(vm.repr_of(&v)?.into()),
                    'd' | 'i' => match v {
                        Value::Float(f) => Value::Int(f.trunc() as i64),
                        Value::Int(_) | Value::Bool(_) | Value::Big(_) => v,
                        other => {
                            return Err(vm.type_error(&format!(
                                "%d format: a real number is required, not {}",
                                other.type_name()
                            )))
                        }
                    },
                    _ => v,
                };
                out.push_str(&vm.format_value(&v, &spec)?);
            }
        }
    }
    if it.next().is_some() && mapping.is_none() {
        return Err(vm.type_error("not all arguments converted during string formatting"));
    }
    Ok(Value::Str(out.into()))
}

/// The value of `%(key)s`: the mapping's item (a `bytes` key for a bytes
/// format, its `bytes` value read as the format's latin-1 text).
fn percent_item(vm: &mut Vm<'_>, mapping: Option<&Value>, key: &str, bytes: bool) -> PyResult<Value> {
    let Some(mapping) = mapping else { return Err(vm.type_error("format requires a mapping")) };
    if !bytes {
        return subscr(vm, mapping, &Value::Str(key.into()));
    }
    let key = Value::Bytes(key.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>().into());
    let v = subscr(vm, mapping, &key)?;
    bytes_arg(vm, &v)
}

/// A `bytes` format's argument as `percent` takes it: `bytes` as latin-1 text.
fn bytes_arg(vm: &Vm<'_>, v: &Value) -> PyResult<Value> {
    match v {
        Value::Bytes(b) => Ok(Value::Str(b.iter().map(|&c| c as char).collect::<String>().into())),
        Value::Str(_) => Err(vm.type_error("%b requires a bytes-like object, not 'str' (encode it: \"...\".encode())")),
        other => Ok(other.clone()),
    }
}

/// `b"..." % args`: as `str`'s, bytes in and out (`%s` takes bytes, as
/// Python 3's does), through latin-1 so every byte survives.
fn percent_bytes(vm: &mut Vm<'_>, fmt: &[u8], args: &Value) -> PyResult<Value> {
    let latin1 = |b: &[u8]| -> String { b.iter().map(|&c| c as char).collect() };
    let args = match args {
        Value::Tuple(t) => Value::tuple(t.iter().map(|v| bytes_arg(vm, v)).collect::<PyResult<_>>()?),
        other => bytes_arg(vm, other)?,
    };
    let Value::Str(text) = percent(vm, &latin1(fmt), &args, true)? else { unreachable!("percent makes a str") };
    Ok(Value::Bytes(text.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>().into()))
}

/// `a == b` for values: an instance's `__eq__` decides (the left one's,
/// else the right one's, as CPython tries the reflected method), other
/// instances by identity. Containers nested past [`nesting::DEPTH_LIMIT`]
/// (two that hold themselves, say) raise `RecursionError`, as CPython does.
pub(crate) fn eq(vm: &mut Vm<'_>, a: &Value, b: &Value) -> PyResult<bool> {
    if bigint::HERE && (matches!(a, Value::Big(_)) || matches!(b, Value::Big(_))) {
        return Ok(bigint::order(a, b) == Some(Some(Ordering::Equal)));
    }
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        if let (Some(i), Some(j)) = (int(a), int(b)) {
            return Ok(i == j);
        }
        return Ok(x == y);
    }
    if !super::views::HERE {
        // The light module has no views to compare.
    } else if let Some(set) = super::views::as_set(vm, a)? {
        let other = super::views::as_set(vm, b)?.unwrap_or_else(|| b.clone());
        return Ok(matches!(other, Value::Set(_)) && eq(vm, &set, &other)?);
    }
    if super::views::HERE && matches!(a, Value::Set(_)) {
        if let Some(set) = super::views::as_set(vm, b)? {
            return eq(vm, a, &set);
        }
    }
    Ok(match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let _walking = enter_eq(vm, a)?;
            // Copies: an item's `__eq__` may change the lists.
            let (x, y) = (x.borrow().to_vec(), y.borrow().to_vec());
            x.len() == y.len() && all_eq(vm, &x, &y)?
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            let _walking = enter_eq(vm, a)?;
            x.len() == y.len() && all_eq(vm, x, y)?
        }
        (Value::Set(x), Value::Set(y)) => Rc::ptr_eq(x, y) || super::sets::equal(x, y),
        (Value::Dict(x), Value::Dict(y)) => {
            let _walking = enter_eq(vm, a)?;
            if x.borrow().len() != y.borrow().len() {
                return Ok(false);
            }
            let items = x.borrow().keyed_items();
            // Two OrderedDicts are equal only in the same order.
            if super::collections::HERE && super::collections::both_ordered(&x.borrow(), &y.borrow()) {
                let theirs = y.borrow().keyed_items();
                if items.iter().zip(&theirs).any(|(a, b)| a.0 != b.0) {
                    return Ok(false);
                }
            }
            for (k, _, v) in &items {
                let w = y.borrow().get(k);
                match w {
                    Some(w) if eq(vm, v, &w)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (Value::Range(a1, b1, c1), Value::Range(a2, b2, c2)) => (a1, b1, c1) == (a2, b2, c2),
        _ => {
            // `a.__eq__(b)`, then `b.__eq__(a)`; one returning
            // `NotImplemented` passes, and with neither it is identity.
            for (method, other) in [user_eq(a, b), user_eq(b, a)].into_iter().flatten() {
                let v = vm.call_nested(method, vec![other])?;
                if !is_not_implemented(&v) {
                    return Ok(v.truthy());
                }
            }
            a.is(b)
        }
    })
}

/// `this.__eq__` bound, with the value to pass it, when `this` is an
/// instance whose class defines one.
fn user_eq(this: &Value, other: &Value) -> Option<(Value, Value)> {
    Some((dunder(this, "__eq__")?, other.clone()))
}

/// `this.name` bound, when `this` is an instance whose class defines it:
/// the special methods (`__add__`, `__lt__`, `__len__`, ...) that Python
/// calls for operators and built-ins.
pub(crate) fn dunder(this: &Value, name: &str) -> Option<Value> {
    let Value::Instance(i) = this else { return None };
    Some(super::vm::bind(this, i.class.lookup(name)?))
}

/// `a OP b` by the instances' methods, as CPython tries them: `__iadd__`
/// for `+=`, then `a.__add__(b)`, then `b.__radd__(a)`; a method that
/// returns `NotImplemented` passes. `None`: neither defines one.
fn user_binary(vm: &mut Vm<'_>, op: BinOp, a: &Value, b: &Value, inplace: bool) -> PyResult<Option<Value>> {
    let name = match op {
        BinOp::Add => "add",
        BinOp::Sub => "sub",
        BinOp::Mul => "mul",
        BinOp::Div => "truediv",
        BinOp::FloorDiv => "floordiv",
        BinOp::Mod => "mod",
        BinOp::Pow => "pow",
        BinOp::LShift => "lshift",
        BinOp::RShift => "rshift",
        BinOp::BitAnd => "and",
        BinOp::BitOr => "or",
        BinOp::BitXor => "xor",
    };
    let tries = [
        (inplace, a, format!("__i{name}__"), b),
        (true, a, format!("__{name}__"), b),
        (true, b, format!("__r{name}__"), a),
    ];
    for (wanted, this, method, other) in tries {
        let Some(m) = dunder(this, &method).filter(|_| wanted) else { continue };
        let v = vm.call_nested(m, vec![other.clone()])?;
        if !is_not_implemented(&v) {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Python's `NotImplemented`, which a special method returns to pass.
fn is_not_implemented(v: &Value) -> bool {
    matches!(v, Value::Builtin(b) if b.name == "NotImplemented")
}

/// `a < b` (and `<=`, `>`, `>=`) by the instances' methods: `a.__lt__(b)`,
/// else the reflection `b.__gt__(a)`. `None`: neither defines one.
fn user_compare(vm: &mut Vm<'_>, op: CmpOp, a: &Value, b: &Value) -> PyResult<Option<bool>> {
    let (name, reflected) = match op {
        CmpOp::Lt => ("__lt__", "__gt__"),
        CmpOp::Le => ("__le__", "__ge__"),
        CmpOp::Gt => ("__gt__", "__lt__"),
        CmpOp::Ge => ("__ge__", "__le__"),
        _ => return Ok(None),
    };
    for (this, method, other) in [(a, name, b), (b, reflected, a)] {
        if let Some(m) = dunder(this, method) {
            let v = vm.call_nested(m, vec![other.clone()])?;
            if !is_not_implemented(&v) {
                return Ok(Some(v.truthy()));
            }
        }
    }
    Ok(None)
}

/// Whether `x` and `y`, of equal lengths, are equal item by item.
fn all_eq(vm: &mut Vm<'_>, x: &[Value], y: &[Value]) -> PyResult<bool> {
    for (a, b) in x.iter().zip(y) {
        if !eq(vm, a, b)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The first index of an item of `items` equal to `x`.
pub(crate) fn position(vm: &mut Vm<'_>, items: &[Value], x: &Value) -> PyResult<Option<usize>> {
    for (i, item) in items.iter().enumerate() {
        if eq(vm, item, x)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// How many items of `items` equal `x`.
pub(crate) fn count(vm: &mut Vm<'_>, items: &[Value], x: &Value) -> PyResult<usize> {
    let mut n = 0;
    for item in items {
        n += eq(vm, item, x)? as usize;
    }
    Ok(n)
}

/// Enters container `v` for `==` or `<`.
fn enter_eq(vm: &Vm<'_>, v: &Value) -> PyResult<nesting::Entered> {
    nesting::enter(v.identity(), false)
        .map_err(|_| vm.rt.error("RecursionError", "maximum recursion depth exceeded in comparison"))
}

/// Orders two values as `<` does, or says why it cannot.
pub(crate) fn order(vm: &mut Vm<'_>, a: &Value, b: &Value, op: &str) -> PyResult<Ordering> {
    if let (Some(i), Some(j)) = (int(a), int(b)) {
        return Ok(i.cmp(&j));
    }
    if bigint::HERE && (matches!(a, Value::Big(_)) || matches!(b, Value::Big(_))) {
        if let Some(o) = bigint::order(a, b) {
            return Ok(o.unwrap_or(Ordering::Equal));
        }
    }
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Ok(x.cmp(y)),
        (Value::List(_), Value::List(_)) | (Value::Tuple(_), Value::Tuple(_)) => {
            let _walking = enter_eq(vm, a)?;
            let (x, y) = (vm.collect(a)?, vm.collect(b)?);
            for (p, q) in x.iter().zip(&y) {
                if !eq(vm, p, q)? {
                    return order(vm, p, q, op);
                }
            }
            Ok(x.len().cmp(&y.len()))
        }
        // Sorting instances asks `<` both ways, as CPython's sort uses `__lt__`.
        (Value::Instance(_), _) | (_, Value::Instance(_)) => match user_compare(vm, CmpOp::Lt, a, b)? {
            Some(true) => Ok(Ordering::Less),
            _ => match user_compare(vm, CmpOp::Lt, b, a)? {
                Some(true) => Ok(Ordering::Greater),
                Some(false) => Ok(Ordering::Equal),
                None => Err(unordered(vm, a, b, op)),
            },
        },
        _ => Err(unordered(vm, a, b, op)),
    }
}

/// The TypeError of `a OP b` for values that have no order.
fn unordered(vm: &Vm<'_>, a: &Value, b: &Value, op: &str) -> Exc {
    vm.type_error(&format!("'{op}' not supported between instances of '{}' and '{}'", a.type_name(), b.type_name()))
}

pub(crate) fn compare(vm: &mut Vm<'_>, op: CmpOp, a: &Value, b: &Value) -> PyResult<bool> {
    if let (Value::Set(x), Value::Set(y)) = (a, b) {
        if !super::builtins::full(vm, "set comparisons") {
            return Err(vm.type_error("set comparisons are in the full module: edit the program to load it"));
        }
        if let Some(r) = super::sets::compare(vm, op, x, y)? {
            return Ok(r);
        }
    }
    if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) {
        if let Some(r) = user_compare(vm, op, a, b)? {
            return Ok(r);
        }
    }
    Ok(match op {
        CmpOp::Eq => eq(vm, a, b)?,
        CmpOp::Ne => !eq(vm, a, b)?,
        CmpOp::Lt => order(vm, a, b, "<")? == Ordering::Less,
        CmpOp::Le => order(vm, a, b, "<=")? != Ordering::Greater,
        CmpOp::Gt => order(vm, a, b, ">")? == Ordering::Greater,
        CmpOp::Ge => order(vm, a, b, ">=")? != Ordering::Less,
        _ => unreachable!("is/in are handled by the VM"),
    })
}

/// `needle in haystack`.
pub(crate) fn contains(vm: &mut Vm<'_>, haystack: &Value, needle: &Value) -> PyResult<bool> {
    match haystack {
        // `Color.RED in Color` (`enum`).
        Value::Class(c) if c.lookup("__class_iter__").is_some() && super::builtins::full(vm, "__class_iter__") => {
            let m = c.lookup("__class_iter__").unwrap_or_default();
            let items = vm.call_nested(m, vec![haystack.clone()])?;
            contains(vm, &items, needle)
        }
        Value::Str(s) => match needle {
            Value::Str(n) => Ok(s.contains(&**n)),
            other => {
                Err(vm.type_error(&format!("'in <string>' requires string as left operand, not {}", other.type_name())))
            }
        },
        Value::Dict(d) => {
            let k = vm.key(needle)?;
            Ok(d.borrow().get(&k).is_some())
        }
        Value::Set(d) => super::sets::contains(vm, d, needle),
        Value::Bytes(h) if super::bytes::HERE => match needle {
            Value::Bytes(n) => Ok(n.is_empty() || h.windows(n.len()).any(|w| w == &n[..])),
            Value::Int(i) if (0..256).contains(i) => Ok(h.contains(&(*i as u8))),
            Value::Int(_) => Err(vm.rt.error("ValueError", "byte must be in range(0, 256)")),
            other => Err(vm.type_error(&format!("a bytes-like object is required, not '{}'", other.type_name()))),
        },
        Value::Native(n) if super::views::HERE && matches!(**n, Native::DictView(..)) => {
            let Native::DictView(view, of) = &**n else { unreachable!() };
            super::views::contains(vm, *view, of, needle)
        }
        Value::Range(a, b, c) => Ok(int(needle).is_some_and(|n| {
            let in_span = if *c > 0 { *a <= n && n < *b } else { *b < n && n <= *a };
            in_span && (n - a) % c == 0
        })),
        Value::List(_) | Value::Tuple(_) => {
            let items = vm.collect(haystack)?;
            Ok(position(vm, &items, needle)?.is_some())
        }
        Value::Instance(_) if dunder(haystack, "__contains__").is_some() => {
            let m = dunder(haystack, "__contains__").unwrap_or_default();
            Ok(vm.call_nested(m, vec![needle.clone()])?.truthy())
        }
        Value::Instance(_) if dunder(haystack, "__iter__").is_some() => {
            let items = vm.collect(haystack)?;
            Ok(position(vm, &items, needle)?.is_some())
        }
        other => Err(vm.type_error(&format!("argument of type '{}' is not iterable", other.type_name()))),
    }
}

/// A Python index into a sequence of `len`: negative counts from the end.
fn index(vm: &Vm<'_>, key: &Value, len: usize, what: &str) -> PyResult<usize> {
    let Some(i) = int(key) else {
        return Err(vm.type_error(&format!("{what} indices must be integers or slices, not {}", key.type_name())));
    };
    let j = if i < 0 { i + len as i64 } else { i };
    if j < 0 || j >= len as i64 {
        return Err(vm.rt.error("IndexError", &format!("{what} index out of range")));
    }
    Ok(j as usize)
}

/// The indices a slice selects from a sequence of `len`.
fn slice_indices(vm: &Vm<'_>, s: &[Value; 3], len: usize) -> PyResult<Vec<usize>> {
    let get = |v: &Value| -> PyResult<Option<i64>> {
        match v {
            Value::None => Ok(None),
            other => int(other).map(Some).ok_or_else(|| vm.type_error("slice indices must be integers or None")),
        }
    };
    let step = get(&s[2])?.unwrap_or(1);
    if step == 0 {
        return Err(vm.rt.error("ValueError", "slice step cannot be zero"));
    }
    let len = len as i64;
    let clamp = |i: i64, lo: i64, hi: i64| if i < 0 { (i + len).max(lo) } else { i.min(hi) };
    let (start, stop) = if step > 0 {
        (get(&s[0])?.map_or(0, |i| clamp(i, 0, len)), get(&s[1])?.map_or(len, |i| clamp(i, 0, len)))
    } else {
        (get(&s[0])?.map_or(len - 1, |i| clamp(i, -1, len - 1)), get(&s[1])?.map_or(-1, |i| clamp(i, -1, len - 1)))
    };
    let n = range_len(start, stop, step);
    Ok((0..n).map(|k| (start + k * step) as usize).collect())
}

pub(crate) fn subscr(vm: &mut Vm<'_>, obj: &Value, key: &Value) -> PyResult<Value> {
    if let Some(m) = dunder(obj, "__getitem__") {
        return vm.call_nested(m, vec![key.clone()]);
    }
    // A sequence's index by the key's `__index__` (an `IntEnum` member).
    let is_sequence =
        matches!(obj, Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_) | Value::Range(..));
    if let Some(m) = dunder(key, "__index__").filter(|_| is_sequence && super::extras::HERE) {
        let i = vm.call_nested(m, Vec::new())?;
        if matches!(i, Value::Int(_)) {
            return subscr(vm, obj, &i);
        }
    }
    match (obj, key) {
        (Value::Dict(d), _) => {
            let k = vm.key(key)?;
            let found = d.borrow().get(&k);
            match found {
                Some(v) => Ok(v),
                None => {
                    if super::collections::HERE {
                        if let Some(v) = super::collections::missing(vm, obj, key)? {
                            return Ok(v);
                        }
                    }
                    let class = vm.rt.exc_class("KeyError");
                    Err(Exc::new(vm.rt.new_exc(&class, vec![key.clone()])))
                }
            }
        }
        (Value::List(l), Value::Slice(s)) => {
            let items = l.borrow();
            let idx = slice_indices(vm, s, items.len())?;
            Ok(Value::list(idx.into_iter().map(|i| items[i].clone()).collect()))
        }
        (Value::Tuple(t), Value::Slice(s)) => {
            let idx = slice_indices(vm, s, t.len())?;
            Ok(Value::tuple(idx.into_iter().map(|i| t[i].clone()).collect()))
        }
        (Value::Str(st), Value::Slice(s)) => {
            let chars: Vec<char> = st.chars().collect();
            let idx = slice_indices(vm, s, chars.len())?;
            Ok(Value::Str(idx.into_iter().map(|i| chars[i]).collect::<String>().into()))
        }
        (Value::List(l), _) => {
            let items = l.borrow();
            let i = index(vm, key, items.len(), "list")?;
            Ok(items[i].clone())
        }
        (Value::Tuple(t), _) => {
            let i = index(vm, key, t.len(), "tuple")?;
            Ok(t[i].clone())
        }
        (Value::Str(s), _) => {
            let n = s.chars().count();
            let i = index(vm, key, n, "string")?;
            Ok(Value::Str(s.chars().nth(i).map(String::from).unwrap_or_default().into()))
        }
        (Value::Bytes(b), Value::Slice(s)) => {
            let idx = slice_indices(vm, s, b.len())?;
            Ok(Value::Bytes(idx.into_iter().map(|i| b[i]).collect::<Vec<u8>>().into()))
        }
        (Value::Bytes(b), _) => {
            // CPython's words differ from the other sequences' here.
            let Some(_) = int(key) else {
                return Err(vm.type_error(&format!("byte indices must be integers or slices, not {}", key.type_name())));
            };
            let i = index(vm, key, b.len(), "bytes").map_err(|_| vm.rt.error("IndexError", "index out of range"))?;
            Ok(Value::Int(b[i] as i64))
        }
        (Value::Range(a, b, c), _) => {
            let i = index(vm, key, range_len(*a, *b, *c) as usize, "range object")?;
            Ok(Value::Int(a + i as i64 * c))
        }
        // `Generic[T]`, `Stack[int]`: a class's `__class_getitem__`
        // (implicitly a class method, as in CPython).
        (Value::Class(c), _) if super::builtins::full(vm, "__class_getitem__") => match c.lookup("__class_getitem__") {
            Some(m) => vm.call_nested(m, vec![obj.clone(), key.clone()]),
            None => Err(vm.type_error(&format!("type '{}' is not subscriptable", c.name))),
        },
        // `list[int]`, `dict[str, int]` outside an annotation (an alias):
        // the type itself, which makes what CPython's alias makes.
        (Value::Type(_), _) if super::builtins::full(vm, "list[int]") => Ok(obj.clone()),
        _ => Err(vm.type_error(&format!("'{}' object is not subscriptable", obj.type_name()))),
    }
}

pub(crate) fn store_subscr(vm: &mut Vm<'_>, obj: &Value, key: Value, v: Value) -> PyResult<()> {
    if let Some(m) = dunder(obj, "__setitem__") {
        return vm.call_nested(m, vec![key, v]).map(|_| ());
    }
    match obj {
        Value::Dict(d) => {
            let k = vm.key(&key)?;
            d.borrow_mut().insert(k, key, v);
            Ok(())
        }
        // `xs[a:b] = items` replaces the run (any length); with a step, as
        // many items as the slice has places, as CPython requires.
        Value::List(l) if matches!(key, Value::Slice(_)) => {
            let Value::Slice(s) = &key else { unreachable!("matched") };
            let items = vm.collect(&v)?;
            let len = l.borrow().len();
            let idx = slice_indices(vm, s, len)?;
            let step = int(&s[2]).unwrap_or(1);
            if step == 1 {
                let start = match &s[0] {
                    Value::None => 0,
                    _ => slice_indices(vm, &[s[0].clone(), Value::None, Value::None], len)?
                        .first()
                        .copied()
                        .unwrap_or(len),
                };
                let end = idx.last().map_or(start, |&i| i + 1).max(start);
                sized(vm, len - (end - start) + items.len())?;
                l.borrow_mut().splice(start..end, items);
            } else if idx.len() != items.len() {
                return Err(vm.rt.error(
                    "ValueError",
                    &format!(
                        "attempt to assign sequence of size {} to extended slice of size {}",
                        items.len(),
                        idx.len()
                    ),
                ));
            } else {
                let mut list = l.borrow_mut();
                for (i, item) in idx.into_iter().zip(items) {
                    list[i] = item;
                }
            }
            Ok(())
        }
        Value::List(l) => {
            let len = l.borrow().len();
            let i = index(vm, &key, len, "list assignment")?;
            l.borrow_mut()[i] = v;
            Ok(())
        }
        _ => Err(vm.type_error(&format!("'{}' object does not support item assignment", obj.type_name()))),
    }
}

pub(crate) fn del_subscr(vm: &mut Vm<'_>, obj: &Value, key: &Value) -> PyResult<()> {
    if let Some(m) = dunder(obj, "__delitem__") {
        return vm.call_nested(m, vec![key.clone()]).map(|_| ());
    }
    match obj {
        Value::Dict(d) => {
            let k = vm.key(key)?;
            if d.borrow_mut().remove(&k).is_none() {
                let class = vm.rt.exc_class("KeyError");
                return Err(Exc::new(vm.rt.new_exc(&class, vec![key.clone()])));
            }
            Ok(())
        }
        // `del xs[a:b]` (`del xs[:]` empties it), any step.
        Value::List(l) if matches!(key, Value::Slice(_)) => {
            let Value::Slice(s) = key else { unreachable!("matched") };
            let len = l.borrow().len();
            let mut gone = slice_indices(vm, s, len)?;
            // In slice order, so descending for a negative step: reversed,
            // not sorted (a sort's code would be one more in the module).
            if gone.first() > gone.last() {
                gone.reverse();
            }
            let mut at = 0;
            l.borrow_mut().retain(|_| {
                at += 1;
                gone.binary_search(&(at - 1)).is_err()
            });
            Ok(())
        }
        Value::List(l) => {
            let len = l.borrow().len();
            let i = index(vm, key, len, "list assignment")?;
            l.borrow_mut().remove(i);
            Ok(())
        }
        _ => Err(vm.type_error(&format!("'{}' object does not support item deletion", obj.type_name()))),
    }
}
