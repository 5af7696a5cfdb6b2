//! Python's `json`: `dumps`/`dump` (CPython's encoder's text: `indent`,
//! `separators`, `sort_keys`, `ensure_ascii`, `default`, `skipkeys`,
//! `allow_nan`) and `loads`/`load` (CPython's scanner's values, and its
//! `JSONDecodeError` messages and positions). Native, as CPython's
//! speedups are: a document costs no more interpreted steps here than it
//! does there. Only in the full module ([`HERE`]): no preset uses it.

use std::rc::Rc;

use super::builtins::kw;
use super::code::CmpOp;
use super::errors::Exc;
use super::value::{Dict, Value};
use super::vm::{Kw, Out, PyResult, Vm};

/// Whether this build has the module: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The module's names.
pub(crate) fn attrs(rt: &super::Runtime) -> Vec<(&'static str, Value)> {
    vec![
        ("dumps", Value::builtin("json.dumps", None)),
        ("dump", Value::builtin("json.dump", None)),
        ("loads", Value::builtin("json.loads", None)),
        ("load", Value::builtin("json.load", None)),
        ("JSONDecodeError", Value::Class(rt.exc_class("JSONDecodeError"))),
    ]
}

/// Calls `json.NAME`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let short = &name["json.".len()..];
    let wanted = if matches!(short, "dump") { 2 } else { 1 };
    if args.len() != wanted {
        let s = if wanted == 1 { "" } else { "s" };
        return Err(
            vm.type_error(&format!("{short}() takes {wanted} positional argument{s} but {} were given", args.len()))
        );
    }
    match short {
        "dumps" | "dump" => {
            let opts = Options::new(vm, &kwargs)?;
            let mut out = String::new();
            let mut enc = Encoder { opts, out: &mut out, stack: Vec::new() };
            enc.value(vm, &args[0], 0)?;
            if short == "dumps" {
                return Ok(Out::Value(Value::Str(out.into())));
            }
            let write = vm.get_attr(&args[1], "write")?;
            vm.call_nested(write, vec![Value::Str(out.into())])?;
            Ok(Out::Value(Value::None))
        }
        _ => {
            let text = if short == "load" {
                let read = vm.get_attr(&args[0], "read")?;
                vm.call_nested(read, Vec::new())?
            } else {
                args[0].clone()
            };
            let text: Rc<str> = match text {
                Value::Str(s) => s,
                Value::Bytes(b) => String::from_utf8_lossy(&b).into(),
                other => {
                    return Err(vm.type_error(&format!(
                        "the JSON object must be str, bytes or bytearray, not {}",
                        other.type_name()
                    )))
                }
            };
            let chars: Vec<char> = text.chars().collect();
            let mut p = Parser { s: &chars, text: &text, depth: 0 };
            let at = p.ws(0);
            let (v, end) = p.value(vm, at)?;
            let end = p.ws(end);
            if end != chars.len() {
                return Err(p.error(vm, "Extra data", end));
            }
            Ok(Out::Value(v))
        }
    }
}

struct Options {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
    ensure_ascii: bool,
    allow_nan: bool,
    skipkeys: bool,
    default: Option<Value>,
}

impl Options {
    fn new(vm: &mut Vm<'_>, kwargs: &Kw) -> PyResult<Options> {
        const KNOWN: &[&str] = &[
            "indent",
            "separators",
            "sort_keys",
            "ensure_ascii",
            "allow_nan",
            "skipkeys",
            "default",
            "check_circular",
            "cls",
        ];
        if let Some((k, _)) = kwargs.iter().find(|(k, _)| !KNOWN.contains(&&**k)) {
            return Err(vm.type_error(&format!("__init__() got an unexpected keyword argument '{k}'")));
        }
        let flag = |name: &str, default: bool| kw(kwargs, name).map_or(default, |v| v.truthy());
        let indent = match kw(kwargs, "indent") {
            None | Some(Value::None) => None,
            Some(Value::Int(n)) => Some(" ".repeat(n.max(0) as usize)),
            Some(Value::Str(s)) => Some(s.to_string()),
            Some(other) => {
                return Err(vm.type_error(&format!("indent must be an int or a str, not {}", other.type_name())))
            }
        };
        let (item_sep, key_sep) = match kw(kwargs, "separators") {
            None | Some(Value::None) => (if indent.is_some() { "," } else { ", " }.to_owned(), ": ".to_owned()),
            Some(v) => match vm.collect(&v)?.as_slice() {
                [Value::Str(a), Value::Str(b)] => (a.to_string(), b.to_string()),
                _ => return Err(vm.type_error("separators must be an (item_separator, key_separator) pair of str")),
            },
        };
        Ok(Options {
            indent,
            item_sep,
            key_sep,
            sort_keys: flag("sort_keys", false),
            ensure_ascii: flag("ensure_ascii", true),
            allow_nan: flag("allow_nan", true),
            skipkeys: flag("skipkeys", false),
            default: kw(kwargs, "default").filter(|d| !matches!(d, Value::None)),
        })
    }
}

struct Encoder<'o> {
    opts: Options,
    out: &'o mut String,
    /// The containers being written, to refuse one inside itself.
    stack: Vec<usize>,
}

impl Encoder<'_> {
    fn value(&mut self, vm: &mut Vm<'_>, v: &Value, level: usize) -> PyResult<()> {
        if level > MAX_DEPTH {
            return Err(vm.rt.error("RecursionError", "maximum recursion depth exceeded while encoding a JSON object"));
        }
        match v {
            Value::None => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::Big(b) => self.out.push_str(&super::bigint::decimal(vm, b)?),
            Value::Float(f) => {
                let text = self.float(vm, *f)?;
                self.out.push_str(&text);
            }
            Value::Str(s) => string(self.out, s, self.opts.ensure_ascii),
            Value::List(l) => {
                let items: Vec<Value> = l.borrow().iter().cloned().collect();
                self.array(vm, v, &items, level)?;
            }
            Value::Tuple(t) => self.array(vm, v, &t.to_vec(), level)?,
            Value::Dict(d) => {
                let items: Vec<(Value, Value)> = d.borrow().items().cloned().collect();
                self.object(vm, v, items, level)?;
            }
            _ => {
                // A namedtuple is a tuple to CPython's encoder.
                if let Some(Value::Tuple(t)) = super::pystd::named_tuple(v) {
                    return self.array(vm, v, &t.to_vec(), level);
                }
                let Some(default) = self.opts.default.clone() else {
                    let name = v.type_name();
                    return Err(vm.type_error(&format!("Object of type {name} is not JSON serializable")));
                };
                self.enter(vm, v)?;
                let made = vm.call_nested(default, vec![v.clone()])?;
                self.value(vm, &made, level)?;
                self.stack.pop();
            }
        }
        Ok(())
    }

    fn float(&self, vm: &Vm<'_>, f: f64) -> PyResult<String> {
        if f.is_finite() {
            return Ok(super::format::float_repr(f));
        }
        if !self.opts.allow_nan {
            return Err(vm.rt.error("ValueError", "Out of range float values are not JSON compliant"));
        }
        Ok(if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned())
    }

    fn enter(&mut self, vm: &Vm<'_>, v: &Value) -> PyResult<()> {
        let id = v.identity();
        if self.stack.contains(&id) {
            return Err(vm.rt.error("ValueError", "Circular reference detected"));
        }
        self.stack.push(id);
        Ok(())
    }

    /// `\n` and the indent of `level`, or nothing without `indent`.
    fn newline(&mut self, level: usize) {
        if let Some(indent) = &self.opts.indent {
            self.out.push('\n');
            for _ in 0..level {
                self.out.push_str(indent);
            }
        }
    }

    fn array(&mut self, vm: &mut Vm<'_>, v: &Value, items: &[Value], level: usize) -> PyResult<()> {
        if items.is_empty() {
            self.out.push_str("[]");
            return Ok(());
        }
        self.enter(vm, v)?;
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                let sep = self.opts.item_sep.clone();
                self.out.push_str(&sep);
            }
            self.newline(level + 1);
            self.value(vm, item, level + 1)?;
        }
        self.newline(level);
        self.out.push(']');
        self.stack.pop();
        Ok(())
    }

    fn object(&mut self, vm: &mut Vm<'_>, v: &Value, mut items: Vec<(Value, Value)>, level: usize) -> PyResult<()> {
        if items.is_empty() {
            self.out.push_str("{}");
            return Ok(());
        }
        self.enter(vm, v)?;
        if self.opts.sort_keys {
            items = sorted(vm, items)?;
        }
        self.out.push('{');
        let mut first = true;
        for (k, item) in items {
            let key = match &k {
                Value::Str(s) => s.to_string(),
                Value::Float(f) => self.float(vm, *f)?,
                Value::Bool(b) => (if *b { "true" } else { "false" }).to_owned(),
                Value::None => "null".to_owned(),
                Value::Int(i) => i.to_string(),
                Value::Big(b) => super::bigint::decimal(vm, b)?,
                _ if self.opts.skipkeys => continue,
                _ => {
                    let name = k.type_name();
                    return Err(vm.type_error(&format!("keys must be str, int, float, bool or None, not {name}")));
                }
            };
            if !first {
                let sep = self.opts.item_sep.clone();
                self.out.push_str(&sep);
            }
            first = false;
            self.newline(level + 1);
            string(self.out, &key, self.opts.ensure_ascii);
            let sep = self.opts.key_sep.clone();
            self.out.push_str(&sep);
            self.value(vm, &item, level + 1)?;
        }
        self.newline(level);
        self.out.push('}');
        self.stack.pop();
        Ok(())
    }
}

/// The items by key, compared as Python compares them (`sort_keys`).
fn sorted(vm: &mut Vm<'_>, items: Vec<(Value, Value)>) -> PyResult<Vec<(Value, Value)>> {
    // An insertion sort: stable, and each comparison may fail.
    let mut out: Vec<(Value, Value)> = Vec::with_capacity(items.len());
    for item in items {
        let mut at = out.len();
        while at > 0 && super::ops::compare(vm, CmpOp::Lt, &item.0, &out[at - 1].0)? {
            at -= 1;
        }
        out.insert(at, item);
    }
    Ok(out)
}

/// `s` as a JSON string, escaped as CPython's encoder escapes.
fn string(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7e) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// How deep a document or a value may nest: CPython's recursion limit.
const MAX_DEPTH: usize = 1000;

struct Parser<'s> {
    s: &'s [char],
    text: &'s str,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&self, mut at: usize) -> usize {
        while at < self.s.len() && matches!(self.s[at], ' ' | '\t' | '\n' | '\r') {
            at += 1;
        }
        at
    }

    /// `JSONDecodeError(msg, doc, pos)`: `msg: line L column C (char P)`.
    fn error(&self, vm: &Vm<'_>, msg: &str, pos: usize) -> Exc {
        let before = &self.s[..pos.min(self.s.len())];
        let lineno = before.iter().filter(|c| **c == '\n').count() + 1;
        let colno = match before.iter().rposition(|c| *c == '\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        let text = format!("{msg}: line {lineno} column {colno} (char {pos})");
        let class = vm.rt.exc_class("JSONDecodeError");
        let exc = vm.rt.new_exc(&class, vec![Value::Str(text.into())]);
        if let Value::Instance(i) = &exc {
            i.set("msg", Value::str(msg));
            i.set("doc", Value::str(self.text));
            i.set("pos", Value::Int(pos as i64));
            i.set("lineno", Value::Int(lineno as i64));
            i.set("colno", Value::Int(colno as i64));
        }
        Exc::new(exc)
    }

    fn starts(&self, at: usize, word: &str) -> bool {
        let w: Vec<char> = word.chars().collect();
        self.s.len() >= at + w.len() && self.s[at..at + w.len()] == w[..]
    }

    /// The value at `at` (no whitespace before it) and where it ends.
    fn value(&mut self, vm: &mut Vm<'_>, at: usize) -> PyResult<(Value, usize)> {
        self.depth += 1;
        let out = self.value_inner(vm, at);
        self.depth -= 1;
        out
    }

    fn value_inner(&mut self, vm: &mut Vm<'_>, at: usize) -> PyResult<(Value, usize)> {
        if self.depth > MAX_DEPTH {
            return Err(vm
                .rt
                .error("RecursionError", "maximum recursion depth exceeded while decoding a JSON document"));
        }
        let words: [(&str, Value); 6] = [
            ("null", Value::None),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("NaN", Value::Float(f64::NAN)),
            ("Infinity", Value::Float(f64::INFINITY)),
            ("-Infinity", Value::Float(f64::NEG_INFINITY)),
        ];
        match self.s.get(at) {
            Some('"') => {
                let (s, end) = self.string(vm, at + 1)?;
                return Ok((Value::Str(s.into()), end));
            }
            Some('{') => return self.object(vm, at + 1),
            Some('[') => return self.array(vm, at + 1),
            _ => {}
        }
        for (word, v) in words {
            if self.starts(at, word) {
                return Ok((v, at + word.chars().count()));
            }
        }
        self.number(vm, at)
    }

    fn number(&self, vm: &Vm<'_>, at: usize) -> PyResult<(Value, usize)> {
        let s = self.s;
        let digit = |i: usize| s.get(i).is_some_and(|c| c.is_ascii_digit());
        let mut i = at;
        if s.get(i) == Some(&'-') {
            i += 1;
        }
        if s.get(i) == Some(&'0') {
            i += 1;
        } else if digit(i) {
            while digit(i) {
                i += 1;
            }
        } else {
            return Err(self.error(vm, "Expecting value", at));
        }
        let mut float = false;
        if s.get(i) == Some(&'.') && digit(i + 1) {
            float = true;
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if matches!(s.get(i), Some('e' | 'E')) {
            let mut j = i + 1;
            if matches!(s.get(j), Some('+' | '-')) {
                j += 1;
            }
            if digit(j) {
                float = true;
                while digit(j) {
                    j += 1;
                }
                i = j;
            }
        }
        let text: String = s[at..i].iter().collect();
        let v = if float {
            Value::Float(text.parse().unwrap_or(f64::NAN))
        } else {
            match text.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => return Err(vm.rt.error("OverflowError", "integer too large: ints are 64-bit here")),
            }
        };
        Ok((v, i))
    }

    /// A string's text from just after its opening quote, and its end.
    fn string(&self, vm: &Vm<'_>, start: usize) -> PyResult<(String, usize)> {
        let s = self.s;
        let mut out = String::new();
        let mut i = start;
        loop {
            let Some(&c) = s.get(i) else {
                return Err(self.error(vm, "Unterminated string starting at", start - 1));
            };
            match c {
                '"' => return Ok((out, i + 1)),
                '\\' => {
                    let Some(&e) = s.get(i + 1) else {
                        return Err(self.error(vm, "Unterminated string starting at", start - 1));
                    };
                    let plain = match e {
                        '"' => Some('"'),
                        '\\' => Some('\\'),
                        '/' => Some('/'),
                        'b' => Some('\u{8}'),
                        'f' => Some('\u{c}'),
                        'n' => Some('\n'),
                        'r' => Some('\r'),
                        't' => Some('\t'),
                        'u' => None,
                        _ => return Err(self.error(vm, "Invalid \\escape", i)),
                    };
                    if let Some(p) = plain {
                        out.push(p);
                        i += 2;
                        continue;
                    }
                    let unit = self.hex4(vm, i + 2, i + 1)?;
                    i += 6;
                    let mut code = unit;
                    if (0xd800..0xdc00).contains(&unit) && s.get(i) == Some(&'\\') && s.get(i + 1) == Some(&'u') {
                        let low = self.hex4(vm, i + 2, i + 1)?;
                        if (0xdc00..0xe000).contains(&low) {
                            code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                            i += 6;
                        }
                    }
                    // A lone surrogate has no `str` here: U+FFFD stands in.
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                c if (c as u32) < 0x20 => return Err(self.error(vm, "Invalid control character at", i)),
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
    }

    fn hex4(&self, vm: &Vm<'_>, at: usize, err_at: usize) -> PyResult<u32> {
        let digits: String = self.s.get(at..at + 4).unwrap_or_default().iter().collect();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.error(vm, "Invalid \\uXXXX escape", err_at));
        }
        Ok(u32::from_str_radix(&digits, 16).unwrap_or(0xfffd))
    }

    fn object(&mut self, vm: &mut Vm<'_>, at: usize) -> PyResult<(Value, usize)> {
        let out = Value::dict(Dict::default());
        let mut i = self.ws(at);
        if self.s.get(i) == Some(&'}') {
            return Ok((out, i + 1));
        }
        loop {
            if self.s.get(i) != Some(&'"') {
                return Err(self.error(vm, "Expecting property name enclosed in double quotes", i));
            }
            let (key, end) = self.string(vm, i + 1)?;
            i = self.ws(end);
            if self.s.get(i) != Some(&':') {
                return Err(self.error(vm, "Expecting ':' delimiter", i));
            }
            i = self.ws(i + 1);
            let (v, end) = self.value(vm, i)?;
            super::ops::store_subscr(vm, &out, Value::Str(key.into()), v)?;
            i = self.ws(end);
            match self.s.get(i) {
                Some('}') => return Ok((out, i + 1)),
                Some(',') => i = self.ws(i + 1),
                _ => return Err(self.error(vm, "Expecting ',' delimiter", i)),
            }
        }
    }

    fn array(&mut self, vm: &mut Vm<'_>, at: usize) -> PyResult<(Value, usize)> {
        let mut items = Vec::new();
        let mut i = self.ws(at);
        if self.s.get(i) == Some(&']') {
            return Ok((Value::list(items), i + 1));
        }
        loop {
            let (v, end) = self.value(vm, i)?;
            items.push(v);
            i = self.ws(end);
            match self.s.get(i) {
                Some(']') => return Ok((Value::list(items), i + 1)),
                Some(',') => i = self.ws(i + 1),
                _ => return Err(self.error(vm, "Expecting ',' delimiter", i)),
            }
        }
    }
}
