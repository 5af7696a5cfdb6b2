//! Python's `struct`: `pack`, `unpack`, `unpack_from`, `iter_unpack` and
//! `calcsize`, native as CPython's `_struct` is (byte twiddling); the
//! `Struct` class over them is Python (`std/struct.py`). Byte orders
//! `@ = < > !` (the simulated machine is a little-endian 64-bit one, as
//! CPython's on x86-64 Linux: `@` has native sizes and alignment), formats
//! `x c b B ? h H i I l L q Q n N P f d s p`, and CPython's `struct.error`
//! messages. Not here: `e` (half floats), `pack_into` (no `bytearray`),
//! unsigned values past 2**63 (ints are 64-bit here). Only in the full
//! module ([`HERE`]): no preset uses it.

use std::rc::Rc;

use super::value::Value;
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has the module: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The module's functions and its `error` class.
pub(crate) fn attrs(rt: &super::Runtime) -> Vec<(&'static str, Value)> {
    vec![
        ("pack", Value::builtin("struct.pack", None)),
        ("unpack", Value::builtin("struct.unpack", None)),
        ("unpack_from", Value::builtin("struct.unpack_from", None)),
        ("iter_unpack", Value::builtin("struct.iter_unpack", None)),
        ("calcsize", Value::builtin("struct.calcsize", None)),
        ("error", Value::Class(rt.exc_class("error"))),
    ]
}

/// The byte order and sizes a format's first character picks.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// `@`: native order (little), native sizes, aligned.
    Native,
    /// `=` and `<`: little-endian, standard sizes.
    Little,
    /// `>` and `!`: big-endian, standard sizes.
    Big,
}

/// One item of a format: its code, its repeat count (the length for `s`
/// and `p`), its size and where it starts.
struct Item {
    code: u8,
    count: usize,
    size: usize,
    offset: usize,
}

struct Layout {
    order: Order,
    items: Vec<Item>,
    size: usize,
    /// How many values it packs.
    values: usize,
}

fn error(vm: &Vm<'_>, message: &str) -> super::errors::Exc {
    vm.rt.error("error", message)
}

/// The size of one `code`, or `None` for a character that is no format.
fn size_of(code: u8, order: Order) -> Option<usize> {
    Some(match code {
        b'x' | b'c' | b'b' | b'B' | b'?' | b's' | b'p' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'f' => 4,
        b'l' | b'L' if order == Order::Native => 8,
        b'l' | b'L' => 4,
        b'q' | b'Q' | b'd' => 8,
        b'n' | b'N' | b'P' if order == Order::Native => 8,
        _ => return None,
    })
}

fn layout(vm: &Vm<'_>, fmt: &Value) -> PyResult<Layout> {
    let text: Vec<u8> = match fmt {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Bytes(b) => b.to_vec(),
        other => {
            return Err(
                vm.type_error(&format!("Struct() argument 1 must be a str or bytes object, not {}", other.type_name()))
            )
        }
    };
    let (order, rest) = match text.first() {
        Some(b'@') => (Order::Native, &text[1..]),
        Some(b'=' | b'<') => (Order::Little, &text[1..]),
        Some(b'>' | b'!') => (Order::Big, &text[1..]),
        _ => (Order::Native, &text[..]),
    };
    let mut items = Vec::new();
    let (mut size, mut values) = (0usize, 0usize);
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut count = None;
        while i < rest.len() && rest[i].is_ascii_digit() {
            let d = (rest[i] - b'0') as usize;
            count = Some(
                count
                    .unwrap_or(0usize)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(d))
                    .ok_or_else(|| error(vm, "total struct size too long"))?,
            );
            i += 1;
        }
        let Some(&code) = rest.get(i) else {
            return Err(error(vm, "repeat count given without format specifier"));
        };
        i += 1;
        let one = size_of(code, order).ok_or_else(|| error(vm, "bad char in struct format"))?;
        let count = count.unwrap_or(1);
        if order == Order::Native {
            // Each item is aligned to its own size.
            size = size.div_ceil(one) * one;
        }
        let total = if matches!(code, b's' | b'p') { count } else { one * count };
        items.push(Item { code, count, size: one, offset: size });
        size += total;
        values += match code {
            b'x' => 0,
            b's' | b'p' => 1,
            _ => count,
        };
    }
    Ok(Layout { order, items, size, values })
}

fn put(out: &mut [u8], at: usize, size: usize, bits: u64, order: Order) {
    let bytes = bits.to_le_bytes();
    for k in 0..size {
        let b = bytes[k];
        match order {
            Order::Big => out[at + size - 1 - k] = b,
            _ => out[at + k] = b,
        }
    }
}

fn get(buf: &[u8], at: usize, size: usize, order: Order) -> u64 {
    let mut bits = 0u64;
    for k in 0..size {
        let b = match order {
            Order::Big => buf[at + k],
            _ => buf[at + size - 1 - k],
        };
        bits = (bits << 8) | u64::from(b);
    }
    bits
}

/// CPython's range error for an integer `code` of `size` bytes: its
/// little-endian and native tables share the native C functions where the
/// sizes agree, whose messages differ from the big-endian ones.
fn range_error(vm: &Vm<'_>, code: u8, size: usize, order: Order, v: i64) -> super::errors::Exc {
    let native_fn = order != Order::Big && !(order == Order::Little && matches!(code, b'l' | b'L'));
    let bits = 8 * size as u32;
    let message = match code {
        b'b' => "byte format requires -128 <= number <= 127".to_owned(),
        b'B' => "ubyte format requires 0 <= number <= 255".to_owned(),
        b'h' if native_fn => "short format requires -32768 <= number <= 32767".to_owned(),
        b'H' if native_fn => "ushort format requires 0 <= number <= 65535".to_owned(),
        _ if size == 8 => "argument out of range".to_owned(),
        b'H' | b'I' | b'L' if v < 0 => "argument out of range".to_owned(),
        b'H' | b'I' | b'L' => format!("'{}' format requires 0 <= number <= {}", code as char, (1u64 << bits) - 1),
        _ => {
            let max = (1i64 << (bits - 1)) - 1;
            format!("'{}' format requires {} <= number <= {max}", code as char, -max - 1)
        }
    };
    error(vm, &message)
}

fn pack_int(vm: &Vm<'_>, item: &Item, order: Order, v: &Value) -> PyResult<u64> {
    let i = match v {
        Value::Int(i) => *i,
        Value::Bool(b) => *b as i64,
        _ => return Err(error(vm, "required argument is not an integer")),
    };
    let bits = 8 * item.size as u32;
    let signed = item.code.is_ascii_lowercase();
    let fits = match (signed, bits) {
        (true, 64) => true,
        (false, 64) => i >= 0,
        (true, _) => {
            let max = (1i64 << (bits - 1)) - 1;
            (-max - 1..=max).contains(&i)
        }
        (false, _) => (0..1i64 << bits).contains(&i),
    };
    if !fits {
        return Err(range_error(vm, item.code, item.size, order, i));
    }
    Ok(i as u64)
}

fn float_of(vm: &Vm<'_>, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(*b as i64 as f64),
        _ => Err(error(vm, "required argument is not a float")),
    }
}

fn pack(vm: &mut Vm<'_>, fmt: &Value, values: &[Value]) -> PyResult<Value> {
    let l = layout(vm, fmt)?;
    if values.len() != l.values {
        return Err(error(vm, &format!("pack expected {} items for packing (got {})", l.values, values.len())));
    }
    let mut out = vec![0u8; l.size];
    let mut next = values.iter();
    for item in &l.items {
        match item.code {
            b'x' => {}
            b's' | b'p' => {
                let Some(Value::Bytes(b)) = next.next() else {
                    let c = item.code as char;
                    return Err(error(vm, &format!("argument for '{c}' must be a bytes object")));
                };
                if item.code == b's' {
                    let n = b.len().min(item.count);
                    out[item.offset..item.offset + n].copy_from_slice(&b[..n]);
                } else if item.count > 0 {
                    // A Pascal string: its length (at most 255) in the first byte.
                    let n = b.len().min(item.count - 1).min(255);
                    out[item.offset] = n as u8;
                    out[item.offset + 1..item.offset + 1 + n].copy_from_slice(&b[..n]);
                }
            }
            code => {
                for k in 0..item.count {
                    let v = next.next().cloned().unwrap_or_default();
                    let at = item.offset + k * item.size;
                    let bits = match code {
                        b'c' => match &v {
                            Value::Bytes(b) if b.len() == 1 => u64::from(b[0]),
                            _ => return Err(error(vm, "char format requires a bytes object of length 1")),
                        },
                        b'?' => u64::from(vm.truth(&v)?),
                        b'f' => {
                            let x = float_of(vm, &v)?;
                            let f = x as f32;
                            if f.is_infinite() && x.is_finite() {
                                return Err(vm.rt.error("OverflowError", "float too large to pack with f format"));
                            }
                            u64::from(f.to_bits())
                        }
                        b'd' => float_of(vm, &v)?.to_bits(),
                        _ => pack_int(vm, item, l.order, &v)?,
                    };
                    put(&mut out, at, item.size, bits, l.order);
                }
            }
        }
    }
    Ok(Value::Bytes(Rc::from(out)))
}

fn unpack_at(vm: &Vm<'_>, l: &Layout, buf: &[u8], base: usize) -> PyResult<Value> {
    let mut out = Vec::with_capacity(l.values);
    for item in &l.items {
        let at = base + item.offset;
        match item.code {
            b'x' => {}
            b's' => out.push(Value::Bytes(Rc::from(&buf[at..at + item.count]))),
            b'p' => {
                let n = if item.count == 0 { 0 } else { (buf[at] as usize).min(item.count - 1) };
                out.push(Value::Bytes(Rc::from(&buf[at + 1.min(item.count)..at + 1.min(item.count) + n])));
            }
            code => {
                for k in 0..item.count {
                    let bits = get(buf, at + k * item.size, item.size, l.order);
                    out.push(match code {
                        b'c' => Value::Bytes(Rc::from(&[bits as u8][..])),
                        b'?' => Value::Bool(bits != 0),
                        b'f' => Value::Float(f64::from(f32::from_bits(bits as u32))),
                        b'd' => Value::Float(f64::from_bits(bits)),
                        c if c.is_ascii_lowercase() => {
                            // Sign-extend from the item's width.
                            let shift = 64 - 8 * item.size as u32;
                            Value::Int(((bits << shift) as i64) >> shift)
                        }
                        _ => Value::Int(i64::try_from(bits).map_err(|_| vm.overflow())?),
                    });
                }
            }
        }
    }
    Ok(Value::tuple(out))
}

fn buffer(vm: &Vm<'_>, v: &Value) -> PyResult<Rc<[u8]>> {
    match v {
        Value::Bytes(b) => Ok(Rc::clone(b)),
        other => Err(vm.type_error(&format!("a bytes-like object is required, not '{}'", other.type_name()))),
    }
}

/// Calls `struct.NAME`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let short = &name["struct.".len()..];
    let Some(fmt) = args.first() else {
        return Err(vm.type_error(if short == "pack" {
            "missing format argument"
        } else {
            "function missing required argument 'format' (pos 1)"
        }));
    };
    let wanted = match short {
        "pack" => None,
        "calcsize" => Some(1),
        "unpack_from" => None,
        _ => Some(2),
    };
    if let Some(n) = wanted.filter(|n| *n != args.len()) {
        return Err(vm.type_error(&format!("{short} expected {n} arguments, got {}", args.len())));
    }
    let v = match short {
        "pack" => pack(vm, fmt, &args[1..])?,
        "calcsize" => Value::Int(layout(vm, fmt)?.size as i64),
        "unpack" => {
            let l = layout(vm, fmt)?;
            let buf = buffer(vm, &args[1])?;
            if buf.len() != l.size {
                return Err(error(vm, &format!("unpack requires a buffer of {} bytes", l.size)));
            }
            unpack_at(vm, &l, &buf, 0)?
        }
        "unpack_from" => {
            let l = layout(vm, fmt)?;
            let Some(b) = args.get(1).cloned().or_else(|| super::builtins::kw(&kwargs, "buffer")) else {
                return Err(vm.type_error("unpack_from() missing required argument 'buffer' (pos 2)"));
            };
            let buf = buffer(vm, &b)?;
            let offset = match args.get(2).cloned().or_else(|| super::builtins::kw(&kwargs, "offset")) {
                Some(o) => super::builtins::int_arg(vm, &o)?,
                None => 0,
            };
            // A negative offset counts from the end, as CPython's does.
            let start = if offset < 0 { buf.len() as i64 + offset } else { offset };
            if start < 0 {
                return Err(error(vm, &format!("offset {offset} out of range for {}-byte buffer", buf.len())));
            }
            let start = start as usize;
            if buf.len() < start + l.size {
                return Err(error(
                    vm,
                    &format!(
                        "unpack_from requires a buffer of at least {} bytes for unpacking {} bytes at offset {start} (actual buffer size is {})",
                        start + l.size,
                        l.size,
                        buf.len()
                    ),
                ));
            }
            unpack_at(vm, &l, &buf, start)?
        }
        "iter_unpack" => {
            let l = layout(vm, fmt)?;
            let buf = buffer(vm, &args[1])?;
            if l.size == 0 {
                return Err(error(vm, "cannot iteratively unpack with a struct of length 0"));
            }
            if buf.len() % l.size != 0 {
                return Err(error(
                    vm,
                    &format!("iterative unpacking requires a buffer of a multiple of {} bytes", l.size),
                ));
            }
            let mut all = Vec::new();
            for base in (0..buf.len()).step_by(l.size) {
                all.push(unpack_at(vm, &l, &buf, base)?);
            }
            super::builtins::iter_of(all)
        }
        _ => return Err(vm.rt.error("AttributeError", &format!("module 'struct' has no attribute '{short}'"))),
    };
    Ok(Out::Value(v))
}
