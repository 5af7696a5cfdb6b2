//! The methods of `bytes` beyond `decode`, `upper` and `lower` (full
//! module only: the presets use none of them): what a protocol's
//! `dataReceived` does with its data (`startswith`, `split`, `find`,
//! `strip`, `replace`, `join`, `hex`, ...).
//!
//! Most are `str`'s methods on the bytes read as Latin-1 (one character
//! per byte, so positions and counts are the bytes'), with `bytes`
//! arguments read the same way and results turned back into bytes. The
//! ones whose meaning differs (case, character classes, whitespace) are
//! ASCII-only, as CPython's `bytes` methods are.

use std::rc::Rc;

use super::value::Value;
use super::vm::{Kw, PyResult, Vm};

/// `str` methods that mean the same on bytes read as Latin-1.
const VIA_STR: &[&str] = &[
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "replace",
    "partition",
    "rpartition",
    "join",
    "center",
    "ljust",
    "rjust",
    "zfill",
    "removeprefix",
    "removesuffix",
    "expandtabs",
];

/// Whether this build has them: the full module's only.
pub(crate) const HERE: bool = super::compile::PARSER;

/// Whether `bytes` has the method `name` here (the name as the
/// built-in method table's `&'static str`, if so).
pub(crate) fn has(name: &str) -> bool {
    method(name).is_some()
}

/// The method `name` as the built-in method table keeps it, if bytes has it here.
pub(crate) fn method(name: &str) -> Option<&'static str> {
    if !HERE {
        return None;
    }
    VIA_STR.iter().chain(ASCII).find(|m| **m == name).copied()
}

/// The methods whose meaning differs from `str`'s: ASCII-only case,
/// character classes and whitespace, and `hex`.
const ASCII: &[&str] = &[
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "splitlines",
    "title",
    "capitalize",
    "swapcase",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "isupper",
    "islower",
    "hex",
];

fn latin1(b: &[u8]) -> Rc<str> {
    b.iter().map(|&c| char::from(c)).collect::<String>().into()
}

fn bytes_of(s: &str) -> Value {
    Value::Bytes(s.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>().into())
}

/// The arguments as `str`'s method takes them: bytes (and tuples and
/// lists of bytes) as Latin-1 text; text is CPython's TypeError for
/// `method`.
fn args_of(vm: &Vm<'_>, method: &str, args: &[Value]) -> PyResult<Vec<Value>> {
    fn one(v: &Value, wrong: &dyn Fn(&Value, usize) -> String, at: usize) -> Result<Value, String> {
        Ok(match v {
            Value::Bytes(b) => Value::Str(latin1(b)),
            Value::Tuple(t) => {
                Value::tuple(t.iter().enumerate().map(|(i, x)| one(x, wrong, i)).collect::<Result<Vec<_>, _>>()?)
            }
            Value::List(l) => {
                let items: Vec<Value> = l.borrow().clone();
                Value::list(items.iter().enumerate().map(|(i, x)| one(x, wrong, i)).collect::<Result<Vec<_>, _>>()?)
            }
            Value::Str(_) => return Err(wrong(v, at)),
            other => other.clone(),
        })
    }
    let wrong = |v: &Value, at: usize| {
        let t = v.type_name();
        match method {
            "startswith" | "endswith" => format!("{method} first arg must be bytes or a tuple of bytes, not {t}"),
            "join" => format!("sequence item {at}: expected a bytes-like object, {t} found"),
            "find" | "rfind" | "index" | "rindex" | "count" => {
                format!("argument should be integer or bytes-like object, not '{t}'")
            }
            _ => format!("a bytes-like object is required, not '{t}'"),
        }
    };
    args.iter().map(|a| one(a, &wrong, 0).map_err(|m| vm.type_error(&m))).collect()
}

/// Text results back into bytes (inside lists and tuples too).
fn back(v: Value) -> Value {
    match v {
        Value::Str(s) => bytes_of(&s),
        Value::List(l) => Value::list(l.borrow().iter().cloned().map(back).collect()),
        Value::Tuple(t) => Value::tuple(t.iter().cloned().map(back).collect()),
        other => other,
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// `b.name(*args, **kwargs)` for a method [`has`] lists.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, b: &[u8], args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    if VIA_STR.contains(&name) {
        let args = args_of(vm, name, args)?;
        let s = latin1(b);
        return Ok(back(super::strings::call(vm, name, &s, &args, kwargs)?));
    }
    let all = |f: fn(&u8) -> bool| Value::Bool(!b.is_empty() && b.iter().all(f));
    Ok(match name {
        "isdigit" => all(u8::is_ascii_digit),
        "isalpha" => all(u8::is_ascii_alphabetic),
        "isalnum" => all(u8::is_ascii_alphanumeric),
        "isspace" => all(|c| is_space(*c)),
        "isupper" => Value::Bool(b.iter().any(u8::is_ascii_uppercase) && !b.iter().any(u8::is_ascii_lowercase)),
        "islower" => Value::Bool(b.iter().any(u8::is_ascii_lowercase) && !b.iter().any(u8::is_ascii_uppercase)),
        "swapcase" => Value::Bytes(
            b.iter()
                .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
                .collect::<Vec<u8>>()
                .into(),
        ),
        "title" | "capitalize" => {
            let mut prev_alpha = false;
            let out: Vec<u8> = b
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    let first = if name == "title" { !prev_alpha } else { i == 0 };
                    prev_alpha = c.is_ascii_alphabetic();
                    if first {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            Value::Bytes(out.into())
        }
        "hex" => Value::str(&b.iter().map(|c| format!("{c:02x}")).collect::<String>()),
        "strip" | "lstrip" | "rstrip" => {
            let chars: Option<Vec<u8>> = match args.first() {
                None | Some(Value::None) => None,
                Some(Value::Bytes(c)) => Some(c.to_vec()),
                Some(other) => {
                    return Err(vm.type_error(&format!("a bytes-like object is required, not '{}'", other.type_name())))
                }
            };
            let strip = |c: &u8| chars.as_ref().map_or(is_space(*c), |cs| cs.contains(c));
            let start = if name == "rstrip" { 0 } else { b.iter().position(|c| !strip(c)).unwrap_or(b.len()) };
            let end =
                if name == "lstrip" { b.len() } else { b.iter().rposition(|c| !strip(c)).map_or(start, |i| i + 1) };
            Value::Bytes(b[start..end.max(start)].to_vec().into())
        }
        "split" | "rsplit" if matches!(args.first(), None | Some(Value::None)) && kwargs.is_empty() => {
            // On runs of ASCII whitespace (no `maxsplit` given here).
            let parts: Vec<Value> =
                b.split(|c| is_space(*c)).filter(|p| !p.is_empty()).map(|p| Value::Bytes(p.to_vec().into())).collect();
            if args.len() > 1 {
                let s = latin1(b);
                let args = args_of(vm, name, args)?;
                return Ok(back(super::strings::call(vm, name, &s, &args, kwargs)?));
            }
            Value::list(parts)
        }
        "split" | "rsplit" | "splitlines" => {
            let args = args_of(vm, name, args)?;
            let s = latin1(b);
            back(super::strings::call(vm, name, &s, &args, kwargs)?)
        }
        _ => return Err(vm.type_error(&format!("'bytes' object has no attribute '{name}'"))),
    })
}
