//! Text of values: `repr`, `str`, format specs (`{:>8.2f}`), `%` formatting.
//! Instances with `__str__`/`__repr__` are handled by the VM, which calls them;
//! everything here is plain data.

use std::fmt::Write as _;

use super::value::{Native, TypeId, Value};
use twine_scenario::decimal;

/// `repr(x)` for values that need no Python call.
pub(crate) fn repr(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Big(b) => b.to_string(),
        Value::Float(f) => float_repr(*f),
        Value::Str(s) => str_repr(s),
        Value::Bytes(b) => {
            // CPython's quote: `"` when the bytes hold a `'` and no `"`.
            let quote = if b.contains(&b'\'') && !b.contains(&b'"') { b'"' } else { b'\'' };
            let mut out = format!("b{}", quote as char);
            for &c in b.iter() {
                match c {
                    c if c == quote => {
                        out.push('\\');
                        out.push(c as char);
                    }
                    b'\\' => out.push_str("\\\\"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    32..=126 => out.push(c as char),
                    _ => {
                        let _ = write!(out, "\\x{c:02x}");
                    }
                }
            }
            out.push(quote as char);
            out
        }
        Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Set(_) => container_repr(v),
        Value::Range(a, b, 1) => format!("range({a}, {b})"),
        Value::Range(a, b, c) => format!("range({a}, {b}, {c})"),
        Value::Slice(s) => format!("slice({}, {}, {})", repr(&s[0]), repr(&s[1]), repr(&s[2])),
        Value::Func(f) => format!("<function {}>", f.code.qualname),
        Value::Generator(g) => format!("<{} object {}>", v.type_name(), g.name),
        Value::Builtin(b) if matches!(b.name, "Ellipsis" | "NotImplemented") => b.name.to_owned(),
        // A built-in type's method taken from the type (`str.upper`).
        Value::Builtin(b) if super::dunders::HERE && matches!(b.this, Some(Value::Type(_))) => {
            let Some(Value::Type(t)) = &b.this else { unreachable!("matched") };
            let kind = super::dunders::kind(*t, b.name);
            format!("<{kind} '{}' of '{}' objects>", b.name, t.name())
        }
        Value::Builtin(b) => format!("<built-in function {}>", b.name),
        Value::Class(c) => format!("<class '{}'>", c.path()),
        // `collections`' types written in Rust, named with their module.
        Value::Type(TypeId::Named(n @ ("defaultdict" | "Counter" | "OrderedDict"))) => {
            format!("<class 'collections.{n}'>")
        }
        Value::Type(t) => format!("<class '{}'>", t.name()),
        Value::Instance(i) => format!("<{} object>", i.class.path()),
        Value::Method(m) => format!("<bound method {}>", m.1.code.qualname),
        Value::Module(m) => format!("<module '{}'>", m.name),
        Value::Iter(it) => match it.borrow().type_name() {
            "iterator" => "<iterator>".into(),
            name => format!("<{name} object>"),
        },
        Value::Super(_) => "<super>".into(),
        Value::Native(n) => match &**n {
            Native::Thread(t) => format!("<Thread({})>", t.name.borrow()),
            // Only the full module: the presets print no LoopingCall.
            Native::LoopingCall { f, args, lc, .. } if super::compile::PARSER => {
                let interval = match super::clock::on_clock(n) {
                    Some(Value::Instance(i)) => i.get("interval"),
                    _ => None,
                };
                looping_call_repr(f, args, &interval.unwrap_or_else(|| lc.given().borrow().clone()))
            }
            // Only the full module: the presets print neither.
            Native::Deferred(d) if super::compile::PARSER => deferred_repr(d),
            Native::Failure(e) if super::compile::PARSER => failure_repr(&super::twisted::exc_text_plain(e)),
            _ => format!("<{} object>", v.type_name()),
        },
    }
}

/// Twisted's `Deferred.__repr__`, less the address, as for functions:
/// `<Deferred current result: 3>`, `<Deferred waiting on Deferred>`,
/// `<Deferred>`. (Twisted's shows the result a callback is running on;
/// here the result is taken while a callback runs, so `<Deferred>`.)
fn deferred_repr(d: &twine_core::defer::Deferred<Value>) -> String {
    if d.waiting() {
        return "<Deferred waiting on Deferred>".to_owned();
    }
    let result = d.peek(|r| match r {
        Ok(v) => repr(v),
        Err(f) => match f.downcast_ref::<super::twisted::PyError>() {
            Some(e) => failure_repr(&e.text),
            None if f.check(twine_core::defer::FailureKind::Cancelled) => failure_repr("CancelledError: "),
            None => failure_repr(f.message()),
        },
    });
    match result {
        Some(r) => format!("<Deferred current result: {r}>"),
        None => "<Deferred>".to_owned(),
    }
}

/// Twisted's `Failure.__repr__`: `<twisted.python.failure.Failure
/// builtins.ValueError: bad>`, from the exception's text (`ValueError: bad`).
fn failure_repr(text: &str) -> String {
    let name = text.split(':').next().unwrap_or(text);
    let module = super::errors::module(name).unwrap_or("__main__");
    // Twisted writes `type: message` even when the message is empty.
    let sep = if text.contains(':') { "" } else { ": " };
    format!("<twisted.python.failure.Failure {module}.{text}{sep}>")
}

/// Twisted's `LoopingCall.__repr__`: `LoopingCall<1.5>(tick, *('a',), **{})`
/// (the interval `None` until started; keyword arguments are not taken).
fn looping_call_repr(f: &Value, args: &[Value], interval: &Value) -> String {
    let func = match f {
        Value::Func(func) => func.code.name.to_string(),
        Value::Method(m) => m.1.code.name.to_string(),
        Value::Builtin(b) => b.name.rsplit('.').next().unwrap_or(b.name).to_owned(),
        other => repr(other),
    };
    let interval = repr(interval);
    format!("LoopingCall<{interval}>({func}, *{}, **{{}})", repr(&Value::tuple(args.to_vec())))
}

/// `repr` of a list, tuple, dict or set: `[...]` where it contains itself,
/// and `...` for what is nested too deeply to walk (this `repr` has no
/// way to raise; the VM's `repr_of` raises `RecursionError` there).
fn container_repr(v: &Value) -> String {
    let walking = match super::nesting::enter(v.identity(), true) {
        Ok(walking) => walking,
        Err(super::nesting::Refused::TooDeep) => return "...".into(),
        Err(super::nesting::Refused::Cycle) => return cycle_repr(v).into(),
    };
    let text = match v {
        Value::List(l) => format!("[{}]", join(&l.borrow())),
        Value::Tuple(t) if t.len() == 1 => format!("({},)", repr(&t[0])),
        Value::Tuple(t) => format!("({})", join(t)),
        Value::Dict(d) => {
            let d = d.borrow();
            let items: Vec<String> = d.items().map(|(k, v)| format!("{}: {}", repr(k), repr(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Set(d) if super::sets::frozen(d) => super::sets::frozen_repr(join(&super::sets::elements(d))),
        Value::Set(d) if d.borrow().len() == 0 => "set()".to_owned(),
        Value::Set(d) => format!("{{{}}}", join(&super::sets::elements(d))),
        _ => unreachable!("a container"),
    };
    drop(walking);
    text
}

/// What `repr` prints for a container met again inside itself, as CPython
/// prints it: `[...]`, `(...)`, `{...}`, `set(...)`.
pub(crate) fn cycle_repr(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "[...]",
        Value::Tuple(_) => "(...)",
        Value::Set(_) => "set(...)",
        _ => "{...}",
    }
}

fn join(items: &[Value]) -> String {
    items.iter().map(repr).collect::<Vec<_>>().join(", ")
}

/// `repr` of a string: single quotes unless the text has some and no double ones.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 32 || c as u32 == 127 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's float repr: the shortest text that reads back, exponent
/// outside 1e-4 <= |x| < 1e16.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let (digits, exp) = decimal::shortest(f.abs());
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp >= 0 {
            let int_len = exp + 1;
            if n <= int_len {
                format!("{}{}.0", digits, "0".repeat((int_len - n) as usize))
            } else {
                format!("{}.{}", &digits[..int_len as usize], &digits[int_len as usize..])
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// The widest field and the longest precision one format may ask for here.
/// CPython takes any size that fits in memory; the simulator keeps a value
/// within what a browser tab can hold, and says so rather than crash.
pub(crate) const MAX_FIELD: usize = 1 << 20;

/// Significant digits past this many are zeros for every f64 (the longest
/// exact expansion has 1,074 after the point), which `g` drops.
const EXACT_DIGITS: usize = 1100;

/// `text` as a width or precision: a precision beyond a C int is refused as
/// CPython refuses it ("precision too big"); anything else beyond
/// [`MAX_FIELD`] is refused as more than the simulator holds (CPython would
/// try to build it).
fn field_size(text: &str, what: &str) -> Result<usize, String> {
    match text.parse::<u64>() {
        Ok(n) if n <= MAX_FIELD as u64 => Ok(n as usize),
        Ok(n) if what == "precision" && n > i32::MAX as u64 => Err("precision too big".into()),
        _ => Err(format!(
            "{what} {text} is more than the simulator holds in one field ({MAX_FIELD} characters): use a smaller {what}"
        )),
    }
}

/// A parsed format spec: `[[fill]align][sign][#][0][width][,][.precision][type]`.
#[derive(Default, Debug)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alt: bool,
    zero: bool,
    width: usize,
    /// The thousands separator: `,` or `_`.
    group: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(spec: &str) -> Result<Spec, String> {
    let chars: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = Some(chars[0]);
        s.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        s.sign = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() && chars[i] == '#' {
        s.alt = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        s.width = field_size(&chars[start..i].iter().collect::<String>(), "width")?;
    }
    if i < chars.len() && (chars[i] == ',' || chars[i] == '_') {
        s.group = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err("Format specifier missing precision".into());
        }
        s.precision = Some(field_size(&chars[start..i].iter().collect::<String>(), "precision")?);
    }
    if i < chars.len() {
        s.ty = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() {
        return Err(format!("Invalid format specifier '{spec}'"));
    }
    Ok(s)
}

fn group(digits: &str, sep: char) -> String {
    let (int, frac) = match digits.find('.') {
        Some(p) => (&digits[..p], &digits[p..]),
        None => (digits, ""),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out + frac
}

/// `format(value, spec)` for numbers and strings (what f-strings and `.format` use).
/// `text` is `str(value)`, used for the types without their own format.
pub(crate) fn format_spec(v: &Value, spec: &str, text: &str) -> Result<String, String> {
    if spec.is_empty() {
        return Ok(text.to_owned());
    }
    let s = parse_spec(spec)?;
    let num = match v {
        Value::Int(i) => Some(*i as f64),
        Value::Big(b) => num_traits::ToPrimitive::to_f64(&**b),
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    let body = match (v, s.ty) {
        (Value::Str(_), None | Some('s')) => {
            let t: String = match s.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.to_owned(),
            };
            return Ok(pad(&t, &s, '<'));
        }
        (Value::Int(_) | Value::Bool(_) | Value::Big(_), None | Some('d' | 'n')) => {
            let (negative, digits) = int_digits(v, 10);
            sign_and(
                negative,
                match s.group {
                    Some(sep) => group(&digits, sep),
                    None => digits,
                },
                &s,
            )
        }
        // The character of that code point (full module only).
        (Value::Int(i), Some('c')) if super::compile::PARSER => {
            if s.sign.is_some() {
                return Err("Sign not allowed with integer format specifier 'c'".into());
            }
            let c = u32::try_from(*i).ok().and_then(char::from_u32);
            return Ok(pad(&c.ok_or("%c arg not in range(0x110000)")?.to_string(), &s, '>'));
        }
        (Value::Int(_) | Value::Big(_), Some(t @ ('x' | 'X' | 'o' | 'b'))) => {
            let (radix, prefix) = match t {
                'x' => (16, "0x"),
                'X' => (16, "0X"),
                'o' => (8, "0o"),
                _ => (2, "0b"),
            };
            let (negative, digits) = int_digits(v, radix);
            let digits = if t == 'X' { digits.to_ascii_uppercase() } else { digits };
            let digits = if s.alt { format!("{prefix}{digits}") } else { digits };
            sign_and(negative, digits, &s)
        }
        (_, Some(t @ ('f' | 'F' | 'e' | 'E' | '%' | 'g' | 'G'))) | (Value::Float(_), Some(t @ 'n')) => {
            let Some(x) = num else { return Err(unknown_code(t, v)) };
            let p = s.precision.unwrap_or(6);
            let digits = match t {
                _ if !x.is_finite() => {
                    let text = non_finite(x) + if t == '%' { "%" } else { "" };
                    if t.is_ascii_uppercase() {
                        text.to_ascii_uppercase()
                    } else {
                        text
                    }
                }
                'f' | 'F' | 'n' => decimal::fixed(x.abs(), p),
                '%' => decimal::fixed(x.abs() * 100.0, p) + "%",
                'e' | 'E' => {
                    let (m, ex) = decimal::scientific(x.abs(), p);
                    let out = format!("{m}e{}{:02}", if ex < 0 { '-' } else { '+' }, ex.abs());
                    if t == 'E' {
                        out.to_ascii_uppercase()
                    } else {
                        out
                    }
                }
                'G' => general(x.abs(), p.max(1)).to_ascii_uppercase(),
                _ => general(x.abs(), p.max(1)),
            };
            let digits = match s.group {
                Some(sep) => group(&digits, sep),
                None => digits,
            };
            sign_and(x < 0.0 || (x == 0.0 && x.is_sign_negative()), digits, &s)
        }
        (Value::Float(f), None) => {
            let digits = match s.precision {
                Some(p) => general(f.abs(), p.max(1)),
                None => float_repr(f.abs()),
            };
            sign_and(
                *f < 0.0,
                match s.group {
                    Some(sep) => group(&digits, sep),
                    None => digits,
                },
                &s,
            )
        }
        (_, None) => return Ok(pad(text, &s, '<')),
        (_, Some(t)) => return Err(unknown_code(t, v)),
    };
    Ok(body)
}

/// An int's sign, and its magnitude's digits in `radix` (2, 8, 10 or 16).
fn int_digits(v: &Value, radix: u32) -> (bool, String) {
    match v {
        Value::Big(b) => (num_traits::Signed::is_negative(&**b), b.magnitude().to_str_radix(radix)),
        v => {
            let i = match v {
                Value::Int(i) => *i,
                other => other.truthy() as i64,
            };
            let u = i.unsigned_abs();
            let digits = match radix {
                16 => format!("{u:x}"),
                8 => format!("{u:o}"),
                2 => format!("{u:b}"),
                _ => u.to_string(),
            };
            (i < 0, digits)
        }
    }
}

fn unknown_code(t: char, v: &Value) -> String {
    format!("Unknown format code '{t}' for object of type '{}'", v.type_name())
}

/// `%g`: precision significant digits, trailing zeros dropped.
fn general(x: f64, p: usize) -> String {
    // Past EXACT_DIGITS significant digits every further one is a zero,
    // which `g` drops: the same text.
    let p = p.min(EXACT_DIGITS);
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return non_finite(x);
    }
    let (m, exp) = decimal::scientific(x, p - 1);
    if exp < -4 || exp >= p as i32 {
        let m = trim_zeros(&m);
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&decimal::fixed(x, decimals))
    }
}

/// `inf` or `nan`, as Python formats them (the sign is added apart).
fn non_finite(x: f64) -> String {
    if x.is_nan() { "nan" } else { "inf" }.to_owned()
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

fn sign_and(neg: bool, digits: String, s: &Spec) -> String {
    let sign = if neg {
        "-"
    } else {
        match s.sign {
            Some('+') => "+",
            Some(' ') => " ",
            _ => "",
        }
    };
    if s.zero && s.align.is_none() {
        let width = s.width.saturating_sub(sign.len());
        let zeros = width.saturating_sub(digits.chars().count());
        return format!("{sign}{}{digits}", "0".repeat(zeros));
    }
    if s.align == Some('=') {
        let fill = s.fill.unwrap_or(' ');
        let n = s.width.saturating_sub(sign.len() + digits.chars().count());
        return format!("{sign}{}{digits}", fill.to_string().repeat(n));
    }
    pad(&format!("{sign}{digits}"), s, '>')
}

fn pad(text: &str, s: &Spec, default: char) -> String {
    let len = text.chars().count();
    if len >= s.width {
        return text.to_owned();
    }
    let fill = s.fill.unwrap_or(' ').to_string();
    let n = s.width - len;
    match s.align.unwrap_or(default) {
        '<' => format!("{text}{}", fill.repeat(n)),
        '^' => format!("{}{text}{}", fill.repeat(n / 2), fill.repeat(n - n / 2)),
        _ => format!("{}{text}", fill.repeat(n)),
    }
}

/// One `%` conversion of printf-style formatting.
pub(crate) struct Percent {
    /// `%(name)s`'s `name`: the value is the mapping's item, not the next argument.
    pub key: Option<String>,
    pub flags: String,
    pub width: Option<usize>,
    pub precision: Option<usize>,
    /// `%*d`, `%.*f`: the width, the precision is the next argument.
    pub star_width: bool,
    pub star_precision: bool,
    pub conv: char,
}

impl Percent {
    /// Takes a `*` width and precision from `next` (the format's
    /// arguments), as CPython: a negative width left-justifies, a negative
    /// precision is 0. `too_big`: the error for a size past the simulator's.
    pub(crate) fn take_stars<E>(
        &mut self,
        mut next: impl FnMut() -> Result<i64, E>,
        too_big: impl Fn(String) -> E,
    ) -> Result<(), E> {
        if self.star_width {
            let w = next()?;
            if w < 0 {
                self.flags.push('-');
            }
            self.width = Some(field_size(&w.unsigned_abs().to_string(), "width").map_err(&too_big)?);
        }
        if self.star_precision {
            self.precision = Some(field_size(&next()?.max(0).to_string(), "precision").map_err(&too_big)?);
        }
        Ok(())
    }
}

/// Splits a `%` format into literal text and conversions.
pub(crate) fn parse_percent(fmt: &str) -> Result<Vec<Result<String, Percent>>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            lit.push('%');
            continue;
        }
        if !lit.is_empty() {
            out.push(Ok(std::mem::take(&mut lit)));
        }
        // `%(name)s` only in the full module: no shipped preset formats with a mapping.
        let key =
            if super::compile::PARSER && chars.peek() == Some(&'(') { Some(percent_key(&mut chars)?) } else { None };
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ 0#".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        // `*` only in the full module, as `%(name)s`.
        let star_width = super::compile::PARSER && chars.peek() == Some(&'*');
        if star_width {
            chars.next();
        }
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() && !star_width) {
            width.push(d);
            chars.next();
        }
        let mut precision = None;
        let mut star_precision = false;
        if chars.peek() == Some(&'.') {
            chars.next();
            star_precision = super::compile::PARSER && chars.peek() == Some(&'*');
            if star_precision {
                chars.next();
            }
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() && !star_precision) {
                p.push(d);
                chars.next();
            }
            precision = Some(if p.is_empty() { 0 } else { field_size(&p, "precision")? });
        }
        let Some(conv) = chars.next() else { return Err("incomplete format".into()) };
        if !"sdirfFeExXgGcoa".contains(conv) {
            return Err(format!("unsupported format character '{conv}'"));
        }
        let width = if width.is_empty() { None } else { Some(field_size(&width, "width")?) };
        out.push(Err(Percent { key, flags, width, precision, star_width, star_precision, conv }));
    }
    if !lit.is_empty() {
        out.push(Ok(lit));
    }
    Ok(out)
}

/// The key of `%(key)s`, the iterator just past `%`: up to the `)` that
/// closes the `(`, counting nested parentheses as CPython does.
fn percent_key(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    chars.next();
    let (mut depth, mut key) = (1, String::new());
    for c in chars.by_ref() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return Ok(key);
        }
        key.push(c);
    }
    Err("incomplete format key".into())
}

/// A `%` conversion as a format spec.
pub(crate) fn percent_spec(p: &Percent) -> String {
    let mut spec = String::new();
    if p.flags.contains('-') {
        spec.push('<');
    } else if matches!(p.conv, 's' | 'r') {
        spec.push('>');
    }
    if p.flags.contains('+') {
        spec.push('+');
    } else if p.flags.contains(' ') {
        spec.push(' ');
    }
    if p.flags.contains('#') {
        spec.push('#');
    }
    if p.flags.contains('0') && !p.flags.contains('-') {
        spec.push('0');
    }
    if let Some(w) = p.width {
        spec.push_str(&w.to_string());
    }
    if let Some(pr) = p.precision {
        spec.push('.');
        spec.push_str(&pr.to_string());
    }
    match p.conv {
        'i' | 'd' => spec.push('d'),
        's' | 'r' => {}
        c => spec.push(c),
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_does() {
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(123456.789), "123456.789");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(-2.5), "-2.5");
        assert_eq!(float_repr(1e22), "1e+22");
        assert_eq!(float_repr(-1.5e-300), "-1.5e-300");
        assert_eq!(float_repr(5e-324), "5e-324");
        assert_eq!(float_repr(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(float_repr(100.0), "100.0");
        assert_eq!(float_repr(0.30000000000000004), "0.30000000000000004");
        // 162214972029042.125 exactly, halfway between two 17-digit texts: CPython's repr rounds to even.
        assert_eq!(float_repr(162_214_972_029_042.12), "162214972029042.12");
    }

    #[test]
    fn specs_format_as_python_does() {
        let f = |v: Value, spec: &str| format_spec(&v, spec, &repr(&v)).unwrap();
        assert_eq!(f(Value::Float(2.34567), ".2f"), "2.35");
        assert_eq!(f(Value::Int(42), ">5"), "   42");
        assert_eq!(f(Value::Int(42), "05d"), "00042");
        assert_eq!(f(Value::Int(255), "x"), "ff");
        assert_eq!(f(Value::Int(1234567), ","), "1,234,567");
        assert_eq!(f(Value::Float(0.5), ".1%"), "50.0%");
        assert_eq!(f(Value::Float(2.0), "g"), "2");
        assert_eq!(f(Value::Float(2.675), ".2f"), "2.67");
        assert_eq!(f(Value::Float(0.125), ".2f"), "0.12");
        assert_eq!(f(Value::Float(1234.5), ".2e"), "1.23e+03");
        assert_eq!(f(Value::Float(0.00012345), ".3g"), "0.000123");
        assert_eq!(f(Value::Float(1234567.0), ".3g"), "1.23e+06");
        assert_eq!(f(Value::Float(0.1), ".30f"), "0.100000000000000005551115123126");
        assert_eq!(f(Value::Float(f64::INFINITY), ".2e"), "inf");
        assert_eq!(f(Value::Float(f64::NEG_INFINITY), "E"), "-INF");
        assert_eq!(f(Value::Float(f64::NAN), ".1f"), "nan");
        assert_eq!(f(Value::Float(f64::INFINITY), "%"), "inf%");
        assert_eq!(f(Value::Float(-1.5), "8.3f"), "  -1.500");
    }
}
