//! `str`'s methods, as CPython's: indices count characters (code points),
//! `start`/`end` arguments are slice bounds (negative from the end), and
//! every argument CPython takes is honoured or refused, never ignored.
//! Case mapping goes through [`super::text`], which keeps std's Unicode
//! tables out of the browser's module.

use std::rc::Rc;

use super::builtins::{full, int_arg, kw};
use super::text::{lower, upper};
use super::value::Value;
use super::vm::{Kw, PyResult, Vm};

/// The methods `call` has: `split`, `startswith` and `endswith` (which
/// the presets use) in both modules, the others only where
/// `builtins::full` says so (a test runs every preset to check they call
/// none of those).
const BASIC: &[&str] = &[
    "join",
    "split",
    "rsplit",
    "strip",
    "lstrip",
    "rstrip",
    "upper",
    "lower",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "replace",
    "encode",
];

/// The methods only the full module has: `more`'s (see [`call`]).
const FULL_ONLY: &[&str] = &[
    "splitlines",
    "partition",
    "rpartition",
    "removeprefix",
    "removesuffix",
    "swapcase",
    "title",
    "capitalize",
    "format",
    "format_map",
    "isdigit",
    "isdecimal",
    "isnumeric",
    "isalpha",
    "isalnum",
    "isspace",
    "casefold",
    "isupper",
    "islower",
    "istitle",
    "ljust",
    "rjust",
    "center",
    "zfill",
    "expandtabs",
];

/// The method `name` of a `str`, if it has one here.
pub(crate) fn method(name: &str) -> Option<&'static str> {
    BASIC.iter().chain(FULL_ONLY).find(|m| **m == name).copied()
}

/// Argument `i` of `args`, or the keyword `name`; `None` counts as absent.
fn param(args: &[Value], kwargs: &Kw, i: usize, name: &str) -> Option<Value> {
    args.get(i).cloned().or_else(|| kw(kwargs, name)).filter(|v| !matches!(v, Value::None))
}

fn text_arg(vm: &Vm<'_>, method: &str, v: Option<Value>) -> PyResult<Rc<str>> {
    match v {
        Some(Value::Str(s)) => Ok(s),
        Some(other) => Err(vm.type_error(&format!("{method}() argument must be str, not {}", other.type_name()))),
        None => Err(vm.type_error(&format!("{method}() takes a str argument"))),
    }
}

/// The byte range of `s[start:end]` (character bounds, as a slice's) and
/// the character index it starts at; `None` when `start` is past the end
/// or past `end`, where CPython's searches find nothing.
fn window(vm: &Vm<'_>, s: &str, start: Option<Value>, end: Option<Value>) -> PyResult<Option<(usize, usize, usize)>> {
    let n = s.chars().count() as i64;
    let bound = |v: Option<Value>, default: i64| -> PyResult<i64> {
        Ok(match v {
            None => default,
            Some(v) => match int_arg(vm, &v)? {
                i if i < 0 => (i + n).max(0),
                i => i,
            },
        })
    };
    let (start, end) = (bound(start, 0)?, bound(end, n)?.min(n));
    if start > n || start > end {
        return Ok(None);
    }
    let byte = |c: i64| s.char_indices().nth(c as usize).map_or(s.len(), |(b, _)| b);
    Ok(Some((byte(start), byte(end), start as usize)))
}

/// The character index of byte offset `b` in `s`.
fn char_index(s: &str, b: usize) -> i64 {
    s[..b].chars().count() as i64
}

/// Python's line boundaries (`str.splitlines`).
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `s.split(None, maxsplit)`: runs of whitespace separate; with a limit,
/// the rest (its leading whitespace skipped) is the last item as it stands.
fn split_whitespace(s: &str, maxsplit: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        if maxsplit >= 0 && out.len() as i64 == maxsplit {
            out.push(Value::str(rest));
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push(Value::str(&rest[..end]));
        rest = rest[end..].trim_start();
    }
    out
}

/// `s.rsplit(None, maxsplit)`, the mirror of [`split_whitespace`].
fn rsplit_whitespace(s: &str, maxsplit: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = s.trim_end();
    while !rest.is_empty() {
        if maxsplit >= 0 && out.len() as i64 == maxsplit {
            out.push(Value::str(rest));
            break;
        }
        let start =
            rest.rfind(char::is_whitespace).map_or(0, |i| i + rest[i..].chars().next().map_or(1, char::len_utf8));
        out.push(Value::str(&rest[start..]));
        rest = rest[..start].trim_end();
    }
    out.reverse();
    out
}

/// A character's case flipped, as `str.swapcase()` does.
fn swap(c: char) -> String {
    let mut buf = [0; 4];
    let one: &str = c.encode_utf8(&mut buf);
    let (up, low) = (upper(one), lower(one));
    if up != one {
        up
    } else if low != one {
        low
    } else {
        one.to_owned()
    }
}

/// Calls `str`'s method `name` on `s`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, s: &Rc<str>, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    let p = |i: usize, n: &str| param(args, kwargs, i, n);
    Ok(match name {
        "join" if super::builtins::full(vm, "str.join") => {
            let items = vm.collect(args.first().unwrap_or(&Value::None))?;
            let mut parts = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                match x {
                    Value::Str(p) => parts.push(p.to_string()),
                    other => {
                        return Err(vm.type_error(&format!(
                            "sequence item {i}: expected str instance, {} found",
                            other.type_name()
                        )))
                    }
                }
            }
            Value::Str(parts.join(s).into())
        }
        "split" | "rsplit" => {
            let maxsplit = p(1, "maxsplit").map_or(Ok(-1), |m| int_arg(vm, &m))?;
            let parts: Vec<Value> = match p(0, "sep") {
                None if name == "split" => split_whitespace(s, maxsplit),
                None => rsplit_whitespace(s, maxsplit),
                Some(sep) => {
                    let sep = text_arg(vm, name, Some(sep))?;
                    if sep.is_empty() {
                        return Err(vm.rt.error("ValueError", "empty separator"));
                    }
                    match (name, usize::try_from(maxsplit)) {
                        ("split", Err(_)) => s.split(&*sep).map(Value::str).collect(),
                        ("split", Ok(m)) => s.splitn(m.saturating_add(1), &*sep).map(Value::str).collect(),
                        (_, Err(_)) => s.split(&*sep).map(Value::str).collect(),
                        (_, Ok(m)) => {
                            let mut v: Vec<Value> = s.rsplitn(m.saturating_add(1), &*sep).map(Value::str).collect();
                            v.reverse();
                            v
                        }
                    }
                }
            };
            Value::list(parts)
        }
        "strip" | "lstrip" | "rstrip" if super::builtins::full(vm, "str.strip") => {
            let chars = match p(0, "chars") {
                Some(c) => Some(text_arg(vm, name, Some(c))?),
                None => None,
            };
            let set = |x: char| chars.as_ref().map_or(x.is_whitespace(), |c| c.contains(x));
            Value::str(match name {
                "strip" => s.trim_matches(set),
                "lstrip" => s.trim_start_matches(set),
                _ => s.trim_end_matches(set),
            })
        }
        "upper" if super::builtins::full(vm, "str.upper") => Value::Str(upper(s).into()),
        "lower" if super::builtins::full(vm, "str.lower") => Value::Str(lower(s).into()),
        "startswith" | "endswith" => {
            let what = args.first().cloned().unwrap_or_default();
            let options: Vec<Value> = match &what {
                Value::Str(_) => vec![what.clone()],
                Value::Tuple(t) => t.to_vec(),
                other => {
                    return Err(vm.type_error(&format!(
                        "{name} first arg must be str or a tuple of str, not {}",
                        other.type_name()
                    )))
                }
            };
            let Some((b0, b1, _)) = window(vm, s, args.get(1).cloned(), args.get(2).cloned())? else {
                return Ok(Value::Bool(false));
            };
            let part = &s[b0..b1];
            let mut hit = false;
            for o in options {
                let Value::Str(o) = o else {
                    return Err(
                        vm.type_error(&format!("tuple for {name} must only contain str, not {}", o.type_name()))
                    );
                };
                hit |= if name == "startswith" { part.starts_with(&*o) } else { part.ends_with(&*o) };
            }
            Value::Bool(hit)
        }
        "find" | "rfind" | "index" | "rindex" | "count" if super::builtins::full(vm, "str.find") => {
            let sub = text_arg(vm, name, args.first().cloned())?;
            let Some((b0, b1, first)) = window(vm, s, args.get(1).cloned(), args.get(2).cloned())? else {
                return match name {
                    "count" => Ok(Value::Int(0)),
                    "index" | "rindex" => Err(vm.rt.error("ValueError", "substring not found")),
                    _ => Ok(Value::Int(-1)),
                };
            };
            let part = &s[b0..b1];
            let found = match name {
                "count" => return Ok(Value::Int(part.matches(&*sub).count() as i64)),
                "find" | "index" => part.find(&*sub),
                _ => part.rfind(&*sub),
            };
            match found {
                Some(b) => Value::Int(first as i64 + char_index(part, b)),
                None if name.ends_with("index") => return Err(vm.rt.error("ValueError", "substring not found")),
                None => Value::Int(-1),
            }
        }
        "replace" if super::builtins::full(vm, "str.replace") => {
            let (a, b) = (text_arg(vm, name, p(0, "old"))?, text_arg(vm, name, p(1, "new"))?);
            let limit = p(2, "count").map_or(Ok(-1), |c| int_arg(vm, &c))?;
            let all = if a.is_empty() { s.chars().count() + 1 } else { s.matches(&*a).count() };
            let hits = usize::try_from(limit).map_or(all, |l| l.min(all));
            let grows = b.len().saturating_sub(a.len()).saturating_mul(hits);
            super::ops::sized(vm, s.len().saturating_add(grows))?;
            Value::Str(s.replacen(&*a, &b, hits).into())
        }
        "encode" if super::builtins::full(vm, "str.encode") => {
            let encoding = p(0, "encoding").map_or(Ok("utf-8".into()), |e| text_arg(vm, name, Some(e)))?;
            match lower(&encoding).replace('_', "-").as_str() {
                "utf-8" | "utf8" => Value::Bytes(s.as_bytes().into()),
                "ascii" | "latin-1" | "latin1" | "iso-8859-1" => {
                    let limit = if encoding.starts_with(['a', 'A']) { 0x7f } else { 0xff };
                    match s.char_indices().find(|&(_, c)| c as u32 > limit) {
                        Some((i, c)) => {
                            let at = char_index(s, i);
                            return Err(vm.rt.error(
                                "UnicodeEncodeError",
                                &format!(
                                    "'{}' codec can't encode character '{}' in position {at}: ordinal not in range({})",
                                    if limit == 0x7f { "ascii" } else { "latin-1" },
                                    ascii(c.encode_utf8(&mut [0; 4])),
                                    limit + 1
                                ),
                            ));
                        }
                        None => Value::Bytes(s.chars().map(|c| c as u8).collect::<Vec<u8>>().into()),
                    }
                }
                other => return Err(unknown_encoding(vm, other)),
            }
        }
        // The rest are in the full module only: the light one runs the
        // presets as shipped, and they use none of them (checked by
        // `tests/precompiled.rs`); an edited program loads the full one.
        _ if super::compile::PARSER => return more(vm, name, s, args, kwargs),
        _ => return Err(vm.type_error(&format!("str.{name}() is in the full module: edit the program to load it"))),
    })
}

/// The methods only the full module has (see [`call`]).
fn more(vm: &mut Vm<'_>, name: &str, s: &Rc<str>, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    let p = |i: usize, n: &str| param(args, kwargs, i, n);
    Ok(match name {
        "splitlines" => {
            let keep = p(0, "keepends").is_some_and(|v| v.truthy());
            let mut lines = Vec::new();
            let mut rest: &str = s;
            while !rest.is_empty() {
                let (line, next) = match rest.char_indices().find(|&(_, c)| is_line_break(c)) {
                    Some((i, '\r')) if rest[i + 1..].starts_with('\n') => (i, i + 2),
                    Some((i, c)) => (i, i + c.len_utf8()),
                    None => (rest.len(), rest.len()),
                };
                lines.push(Value::str(if keep { &rest[..next] } else { &rest[..line] }));
                rest = &rest[next..];
            }
            Value::list(lines)
        }
        "partition" | "rpartition" => {
            let sep = text_arg(vm, name, p(0, "sep"))?;
            if sep.is_empty() {
                return Err(vm.rt.error("ValueError", "empty separator"));
            }
            let found = if name == "partition" { s.find(&*sep) } else { s.rfind(&*sep) };
            let parts = match found {
                Some(i) => [&s[..i], &sep[..], &s[i + sep.len()..]],
                None if name == "partition" => [&s[..], "", ""],
                None => ["", "", &s[..]],
            };
            Value::tuple(parts.iter().map(|t| Value::str(t)).collect())
        }
        "removeprefix" => {
            let a = text_arg(vm, name, p(0, "prefix"))?;
            Value::str(s.strip_prefix(&*a).unwrap_or(s))
        }
        "removesuffix" => {
            let a = text_arg(vm, name, p(0, "suffix"))?;
            Value::str(s.strip_suffix(&*a).unwrap_or(s))
        }
        "swapcase" => Value::Str(s.chars().map(swap).collect::<String>().into()),
        "title" => Value::Str(super::text::title(s).into()),
        "capitalize" => {
            let mut chars = s.chars();
            let first = chars.next().map(super::text::title_case).unwrap_or_default();
            Value::Str((first + &lower(chars.as_str())).into())
        }
        "format" => Value::Str(format(vm, s, args, &Lookup::Kwargs(kwargs))?.into()),
        "format_map" => {
            let mapping = args.first().cloned().unwrap_or_default();
            Value::Str(format(vm, s, &[], &Lookup::Mapping(&mapping))?.into())
        }
        // ASCII digits only: CPython's Unicode digit tables are not here
        // (its `'١'.isdigit()` is True).
        "isdigit" | "isdecimal" => Value::Bool(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())),
        "isnumeric" => Value::Bool(!s.is_empty() && s.chars().all(char::is_numeric)),
        "isalpha" => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphabetic)),
        "isalnum" => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
        "isspace" => Value::Bool(!s.is_empty() && s.chars().all(char::is_whitespace)),
        // Cased characters, all upper (lower): the text equals its upper
        // (lower) case and differs from its lower (upper) case.
        // Lower case, then the Latin folds that differ from it (`ß` -> `ss`,
        // the ligatures) and final sigma.
        "casefold" if full(vm, "str.casefold") => {
            let folds = [("ß", "ss"), ("ς", "σ"), ("ﬀ", "ff"), ("ﬁ", "fi"), ("ﬂ", "fl"), ("ﬃ", "ffi"), ("ﬄ", "ffl")];
            let folded = folds.iter().fold(lower(s), |t, (from, to)| t.replace(from, to));
            Value::Str(folded.replace(['ﬅ', 'ﬆ'], "st").into())
        }
        "isupper" => Value::Bool(upper(s) == **s && lower(s) != **s),
        "islower" => Value::Bool(lower(s) == **s && upper(s) != **s),
        "istitle" if full(vm, "str.istitle") => Value::Bool(is_title(s)),
        "ljust" | "rjust" | "center" | "zfill" => {
            let w = int_arg(vm, args.first().unwrap_or(&Value::Int(0)))?.max(0);
            let w = super::ops::sized(vm, usize::try_from(w).unwrap_or(usize::MAX))?;
            let fill = match args.get(1) {
                Some(Value::Str(f)) if f.chars().count() == 1 => f.chars().next().unwrap_or(' '),
                Some(_) => return Err(vm.type_error("The fill character must be exactly one character long")),
                None if name == "zfill" => '0',
                None => ' ',
            };
            let pad = w.saturating_sub(s.chars().count());
            let f = |k: usize| fill.to_string().repeat(k);
            Value::Str(
                match name {
                    "ljust" => format!("{s}{}", f(pad)),
                    // CPython puts the odd space on the left when the text's length is odd.
                    "center" => {
                        let left = pad / 2 + (pad & w & 1);
                        format!("{}{s}{}", f(left), f(pad - left))
                    }
                    // The zeros go after a sign.
                    "zfill" if s.starts_with(['+', '-']) => format!("{}{}{}", &s[..1], f(pad), &s[1..]),
                    _ => format!("{}{s}", f(pad)),
                }
                .into(),
            )
        }
        "expandtabs" => {
            let size = p(0, "tabsize").map_or(Ok(8), |t| int_arg(vm, &t))?.max(0) as usize;
            let mut out = String::new();
            let mut column = 0usize;
            for c in s.chars() {
                match c {
                    '\t' if size > 0 => {
                        let spaces = size - column % size;
                        super::ops::sized(vm, out.len().saturating_add(spaces))?;
                        out.extend(std::iter::repeat_n(' ', spaces));
                        column += spaces;
                    }
                    '\t' => {}
                    '\n' | '\r' => {
                        out.push(c);
                        column = 0;
                    }
                    c => {
                        out.push(c);
                        column += 1;
                    }
                }
            }
            Value::Str(out.into())
        }
        _ => return Err(vm.type_error(name)),
    })
}

/// `b.decode(encoding="utf-8", errors="strict")`, as CPython's: invalid
/// UTF-8 is a UnicodeDecodeError unless `errors` is "replace" or "ignore".
pub(crate) fn decode(vm: &mut Vm<'_>, b: &[u8], args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    let encoding =
        param(args, kwargs, 0, "encoding").map_or(Ok("utf-8".into()), |e| text_arg(vm, "decode", Some(e)))?;
    let errors = param(args, kwargs, 1, "errors").map_or(Ok("strict".into()), |e| text_arg(vm, "decode", Some(e)))?;
    let codec = lower(&encoding).replace('_', "-");
    let text = match codec.as_str() {
        "utf-8" | "utf8" => match (std::str::from_utf8(b), &*errors) {
            (Ok(s), _) => s.to_owned(),
            (Err(_), "replace") => String::from_utf8_lossy(b).into_owned(),
            (Err(_), "ignore") => b.utf8_chunks().map(|c| c.valid()).collect(),
            (Err(e), _) => {
                let at = e.valid_up_to();
                let why = match (e.error_len(), b[at]) {
                    (None, _) => "unexpected end of data",
                    (Some(_), 0xc2..=0xf4) => "invalid continuation byte",
                    _ => "invalid start byte",
                };
                let text = match b.len() - at {
                    n if why.starts_with("unexpected") && n > 1 => {
                        format!("'utf-8' codec can't decode bytes in position {at}-{}: {why}", at + n - 1)
                    }
                    _ => format!("'utf-8' codec can't decode byte 0x{:02x} in position {at}: {why}", b[at]),
                };
                return Err(vm.rt.error("UnicodeDecodeError", &text));
            }
        },
        "latin-1" | "latin1" | "iso-8859-1" => b.iter().map(|&c| c as char).collect(),
        "ascii" => match b.iter().position(|c| !c.is_ascii()) {
            Some(at) if &*errors == "strict" => {
                let text = format!(
                    "'ascii' codec can't decode byte 0x{:02x} in position {at}: ordinal not in range(128)",
                    b[at]
                );
                return Err(vm.rt.error("UnicodeDecodeError", &text));
            }
            _ => b
                .iter()
                .filter(|c| c.is_ascii() || &*errors == "replace")
                .map(|&c| if c.is_ascii() { c as char } else { '\u{fffd}' })
                .collect(),
        },
        other => return Err(unknown_encoding(vm, other)),
    };
    Ok(Value::Str(text.into()))
}

/// The error for an encoding the simulator does not have.
fn unknown_encoding(vm: &Vm<'_>, name: &str) -> super::errors::Exc {
    vm.rt.error("LookupError", &format!("unknown encoding: {name} (the simulator has utf-8, ascii and latin-1)"))
}

/// Where `format`'s named fields come from.
enum Lookup<'a> {
    Kwargs(&'a Kw),
    Mapping(&'a Value),
}

/// `"{} {0} {name!r:>{width}} {p.x} {xs[0]}".format(...)`, as CPython's
/// `str.format`: automatic or numbered positional fields, named fields,
/// attribute and index lookups, conversions, and nested fields in a spec.
fn format(vm: &mut Vm<'_>, fmt: &str, args: &[Value], named: &Lookup<'_>) -> PyResult<String> {
    format_with(vm, fmt, args, named, &mut Numbering::default(), 0)
}

/// Positional fields are numbered automatically (`{}`) or by hand (`{0}`),
/// never both in one format string.
#[derive(Default)]
struct Numbering {
    next: usize,
    auto: bool,
    manual: bool,
}

fn format_with(
    vm: &mut Vm<'_>,
    fmt: &str,
    args: &[Value],
    named: &Lookup<'_>,
    auto: &mut Numbering,
    depth: u32,
) -> PyResult<String> {
    if depth > 1 {
        return Err(vm.rt.error("ValueError", "Max string recursion exceeded"));
    }
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(vm.rt.error("ValueError", "Single '}' encountered in format string")),
            '{' => {
                // The field, up to its matching brace (a spec may nest one level).
                let mut field = String::new();
                let mut open = 1;
                for c in chars.by_ref() {
                    match c {
                        '{' => open += 1,
                        '}' => open -= 1,
                        _ => {}
                    }
                    if open == 0 {
                        break;
                    }
                    field.push(c);
                }
                if open != 0 {
                    let what = if field.is_empty() {
                        "Single '{' encountered in format string"
                    } else {
                        "expected '}' before end of string"
                    };
                    return Err(vm.rt.error("ValueError", what));
                }
                let (head, spec) = match field.find([':', '!']) {
                    Some(i) if field[i..].starts_with('!') => {
                        let (h, rest) = field.split_at(i);
                        match rest.split_once(':') {
                            Some((conv, spec)) => (h.to_owned(), Some((conv[1..].to_owned(), spec.to_owned()))),
                            None => (h.to_owned(), Some((rest[1..].to_owned(), String::new()))),
                        }
                    }
                    Some(i) => (field[..i].to_owned(), Some((String::new(), field[i + 1..].to_owned()))),
                    None => (field.clone(), None),
                };
                let (conv, spec) = spec.unwrap_or_default();
                let v = field_value(vm, &head, args, named, auto)?;
                let v = match conv.as_str() {
                    "" => v,
                    "r" => Value::Str(vm.repr_of(&v)?.into()),
                    "s" => Value::Str(vm.str_of(&v)?.into()),
                    "a" => Value::Str(ascii(&vm.repr_of(&v)?).into()),
                    other => {
                        return Err(vm.rt.error("ValueError", &format!("Unknown conversion specifier {other}")));
                    }
                };
                let spec =
                    if spec.contains('{') { format_with(vm, &spec, args, named, auto, depth + 1)? } else { spec };
                out.push_str(&vm.format_value(&v, &spec)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A field's value: `0`, ``, `name`, then any `.attr` and `[key]` parts.
fn field_value(
    vm: &mut Vm<'_>,
    head: &str,
    args: &[Value],
    named: &Lookup<'_>,
    auto: &mut Numbering,
) -> PyResult<Value> {
    let end = head.find(['.', '[']).unwrap_or(head.len());
    let (first, mut rest) = head.split_at(end);
    let mut v = if first.is_empty() || first.bytes().all(|b| b.is_ascii_digit()) {
        let idx = if first.is_empty() {
            if auto.manual {
                return Err(vm.rt.error(
                    "ValueError",
                    "cannot switch from manual field specification to automatic field numbering",
                ));
            }
            auto.auto = true;
            auto.next += 1;
            auto.next - 1
        } else {
            if auto.auto {
                return Err(vm.rt.error(
                    "ValueError",
                    "cannot switch from automatic field numbering to manual field specification",
                ));
            }
            auto.manual = true;
            first.parse::<usize>().unwrap_or(usize::MAX)
        };
        match args.get(idx) {
            Some(v) => v.clone(),
            None => {
                return Err(vm
                    .rt
                    .error("IndexError", &format!("Replacement index {idx} out of range for positional args tuple")))
            }
        }
    } else {
        let found = match named {
            Lookup::Kwargs(kwargs) => kw(kwargs, first),
            Lookup::Mapping(m) => Some(super::ops::subscr(vm, m, &Value::str(first))?),
        };
        found.ok_or_else(|| vm.rt.error("KeyError", first))?
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            v = vm.get_attr(&v, &after[..end])?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(close) = after.find(']') else {
                return Err(vm.rt.error("ValueError", "Missing ']' in format string"));
            };
            let key = &after[..close];
            let key = key.parse::<i64>().map_or_else(|_| Value::str(key), Value::Int);
            v = super::ops::subscr(vm, &v, &key)?;
            rest = &after[close + 1..];
        } else {
            return Err(vm.rt.error("ValueError", "Only '.' or '[' may follow ']' in format field specifier"));
        }
    }
    Ok(v)
}

/// `ascii(x)` of a repr: non-ASCII characters escaped as Python escapes them.
pub(crate) fn ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xff => out.push_str(&format!("\\x{n:02x}")),
            n @ 0x100..=0xffff => out.push_str(&format!("\\u{n:04x}")),
            n => out.push_str(&format!("\\U{n:08x}")),
        }
    }
    out
}

/// CPython's `str.istitle()`: an upper (or title) case letter follows only
/// uncased characters, a lower case one only cased ones, and there is a
/// cased one at least.
fn is_title(s: &str) -> bool {
    let (mut cased, mut after_cased) = (false, false);
    for c in s.chars() {
        let (up, low) = (c.is_uppercase() || "ǅǈǋǲ".contains(c), c.is_lowercase());
        if (up && after_cased) || (low && !after_cased) {
            return false;
        }
        after_cased = up || low;
        cased |= after_cased;
    }
    cased
}

#[cfg(test)]
mod tests {
    use super::FULL_ONLY;

    /// The light module runs the presets as shipped: none may call a
    /// method only the full module has.
    #[test]
    fn no_preset_calls_a_str_method_the_light_module_leaves_out() {
        for p in crate::presets::all() {
            for m in FULL_ONLY {
                assert!(!p.python.contains(&format!(".{m}(")), "{}: str.{m} is not in the light module", p.name);
            }
        }
    }
}
