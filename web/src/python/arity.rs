//! How many positional arguments the built-in types' methods take, and
//! CPython 3.11's words when a call gives another number
//! (`list.append() takes exactly one argument (2 given)`). Without it an
//! extra argument was ignored and a missing one read as `None`: a slip in
//! a program ran on, where CPython stops it.
//!
//! The table was read off CPython 3.11 (each method called with 0 to 4
//! arguments). The light module runs only the shipped presets, whose calls
//! are right: it leaves the check out ([`HERE`]).

use super::value::Value;

/// Whether this build checks: the full module's only.
pub(crate) const HERE: bool = super::compile::PARSER;

/// Which of CPython's argument parsers words the error.
#[derive(Clone, Copy)]
enum Takes {
    /// `METH_NOARGS`: `list.copy() takes no arguments (1 given)`.
    NoArgs,
    /// `METH_O`: `list.append() takes exactly one argument (2 given)`.
    One,
    /// Argument Clinic: `insert expected 2 arguments, got 1`.
    Clinic,
    /// `PyArg_ParseTuple`: `split() takes at most 2 arguments (3 given)`.
    Old,
    /// Keyword-only (`list.sort`): `sort() takes no positional arguments`.
    Keywords,
}

/// Methods: (type, method, fewest, most positional arguments, parser).
const TABLE: &[(&str, &str, usize, usize, Takes)] = &[
    ("str", "capitalize", 0, 0, Takes::NoArgs),
    ("str", "casefold", 0, 0, Takes::NoArgs),
    ("str", "center", 1, 2, Takes::Clinic),
    ("str", "count", 1, 3, Takes::Old),
    ("str", "encode", 0, 2, Takes::Old),
    ("str", "endswith", 1, 3, Takes::Old),
    ("str", "expandtabs", 0, 1, Takes::Old),
    ("str", "find", 1, 3, Takes::Old),
    ("str", "format_map", 1, 1, Takes::One),
    ("str", "index", 1, 3, Takes::Old),
    ("str", "isalnum", 0, 0, Takes::NoArgs),
    ("str", "isalpha", 0, 0, Takes::NoArgs),
    ("str", "isascii", 0, 0, Takes::NoArgs),
    ("str", "isdecimal", 0, 0, Takes::NoArgs),
    ("str", "isdigit", 0, 0, Takes::NoArgs),
    ("str", "isidentifier", 0, 0, Takes::NoArgs),
    ("str", "islower", 0, 0, Takes::NoArgs),
    ("str", "isnumeric", 0, 0, Takes::NoArgs),
    ("str", "isprintable", 0, 0, Takes::NoArgs),
    ("str", "isspace", 0, 0, Takes::NoArgs),
    ("str", "istitle", 0, 0, Takes::NoArgs),
    ("str", "isupper", 0, 0, Takes::NoArgs),
    ("str", "join", 1, 1, Takes::One),
    ("str", "ljust", 1, 2, Takes::Clinic),
    ("str", "lower", 0, 0, Takes::NoArgs),
    ("str", "lstrip", 0, 1, Takes::Clinic),
    ("str", "partition", 1, 1, Takes::One),
    ("str", "removeprefix", 1, 1, Takes::One),
    ("str", "removesuffix", 1, 1, Takes::One),
    ("str", "replace", 2, 3, Takes::Clinic),
    ("str", "rfind", 1, 3, Takes::Old),
    ("str", "rindex", 1, 3, Takes::Old),
    ("str", "rjust", 1, 2, Takes::Clinic),
    ("str", "rpartition", 1, 1, Takes::One),
    ("str", "rsplit", 0, 2, Takes::Old),
    ("str", "rstrip", 0, 1, Takes::Clinic),
    ("str", "split", 0, 2, Takes::Old),
    ("str", "splitlines", 0, 1, Takes::Old),
    ("str", "startswith", 1, 3, Takes::Old),
    ("str", "strip", 0, 1, Takes::Clinic),
    ("str", "swapcase", 0, 0, Takes::NoArgs),
    ("str", "title", 0, 0, Takes::NoArgs),
    ("str", "translate", 1, 1, Takes::One),
    ("str", "upper", 0, 0, Takes::NoArgs),
    ("str", "zfill", 1, 1, Takes::One),
    ("list", "append", 1, 1, Takes::One),
    ("list", "clear", 0, 0, Takes::NoArgs),
    ("list", "copy", 0, 0, Takes::NoArgs),
    ("list", "count", 1, 1, Takes::One),
    ("list", "extend", 1, 1, Takes::One),
    ("list", "index", 1, 3, Takes::Clinic),
    ("list", "insert", 2, 2, Takes::Clinic),
    ("list", "pop", 0, 1, Takes::Clinic),
    ("list", "remove", 1, 1, Takes::One),
    ("list", "reverse", 0, 0, Takes::NoArgs),
    ("list", "sort", 0, 0, Takes::Keywords),
    ("dict", "clear", 0, 0, Takes::NoArgs),
    ("dict", "copy", 0, 0, Takes::NoArgs),
    ("dict", "fromkeys", 1, 2, Takes::Clinic),
    ("dict", "get", 1, 2, Takes::Clinic),
    ("dict", "items", 0, 0, Takes::NoArgs),
    ("dict", "keys", 0, 0, Takes::NoArgs),
    ("dict", "pop", 1, 2, Takes::Clinic),
    ("dict", "popitem", 0, 0, Takes::NoArgs),
    ("dict", "setdefault", 1, 2, Takes::Clinic),
    ("dict", "update", 0, 1, Takes::Clinic),
    ("dict", "values", 0, 0, Takes::NoArgs),
    ("bytes", "capitalize", 0, 0, Takes::NoArgs),
    ("bytes", "center", 1, 2, Takes::Clinic),
    ("bytes", "decode", 0, 2, Takes::Old),
    ("bytes", "endswith", 1, 3, Takes::Old),
    ("bytes", "expandtabs", 0, 1, Takes::Old),
    ("bytes", "fromhex", 1, 1, Takes::One),
    ("bytes", "hex", 0, 2, Takes::Old),
    ("bytes", "isalnum", 0, 0, Takes::NoArgs),
    ("bytes", "isalpha", 0, 0, Takes::NoArgs),
    ("bytes", "isascii", 0, 0, Takes::NoArgs),
    ("bytes", "isdigit", 0, 0, Takes::NoArgs),
    ("bytes", "islower", 0, 0, Takes::NoArgs),
    ("bytes", "isspace", 0, 0, Takes::NoArgs),
    ("bytes", "istitle", 0, 0, Takes::NoArgs),
    ("bytes", "isupper", 0, 0, Takes::NoArgs),
    ("bytes", "join", 1, 1, Takes::One),
    ("bytes", "ljust", 1, 2, Takes::Clinic),
    ("bytes", "lower", 0, 0, Takes::NoArgs),
    ("bytes", "lstrip", 0, 1, Takes::Clinic),
    ("bytes", "maketrans", 2, 2, Takes::Clinic),
    ("bytes", "partition", 1, 1, Takes::One),
    ("bytes", "removeprefix", 1, 1, Takes::One),
    ("bytes", "removesuffix", 1, 1, Takes::One),
    ("bytes", "replace", 2, 3, Takes::Clinic),
    ("bytes", "rjust", 1, 2, Takes::Clinic),
    ("bytes", "rpartition", 1, 1, Takes::One),
    ("bytes", "rsplit", 0, 2, Takes::Old),
    ("bytes", "rstrip", 0, 1, Takes::Clinic),
    ("bytes", "split", 0, 2, Takes::Old),
    ("bytes", "splitlines", 0, 1, Takes::Old),
    ("bytes", "startswith", 1, 3, Takes::Old),
    ("bytes", "strip", 0, 1, Takes::Clinic),
    ("bytes", "swapcase", 0, 0, Takes::NoArgs),
    ("bytes", "title", 0, 0, Takes::NoArgs),
    ("bytes", "upper", 0, 0, Takes::NoArgs),
    ("bytes", "zfill", 1, 1, Takes::One),
    ("set", "add", 1, 1, Takes::One),
    ("set", "clear", 0, 0, Takes::NoArgs),
    ("set", "copy", 0, 0, Takes::NoArgs),
    ("set", "discard", 1, 1, Takes::One),
    ("set", "isdisjoint", 1, 1, Takes::One),
    ("set", "issubset", 1, 1, Takes::One),
    ("set", "issuperset", 1, 1, Takes::One),
    ("set", "pop", 0, 0, Takes::NoArgs),
    ("set", "remove", 1, 1, Takes::One),
    ("set", "symmetric_difference", 1, 1, Takes::One),
    ("set", "symmetric_difference_update", 1, 1, Takes::One),
    ("tuple", "count", 1, 1, Takes::One),
    ("tuple", "index", 1, 3, Takes::Clinic),
    ("frozenset", "copy", 0, 0, Takes::NoArgs),
    ("frozenset", "isdisjoint", 1, 1, Takes::One),
    ("frozenset", "issubset", 1, 1, Takes::One),
    ("frozenset", "issuperset", 1, 1, Takes::One),
    ("frozenset", "symmetric_difference", 1, 1, Takes::One),
    ("bytes", "count", 1, 3, Takes::Old),
    ("bytes", "find", 1, 3, Takes::Old),
    ("bytes", "index", 1, 3, Takes::Old),
    ("bytes", "rfind", 1, 3, Takes::Old),
    ("bytes", "rindex", 1, 3, Takes::Old),
];

/// Built-in functions: (name, fewest, most positional arguments, parser).
const FUNCTIONS: &[(&str, usize, usize, Takes)] = &[
    ("len", 1, 1, Takes::One),
    ("str", 0, 3, Takes::Old),
    ("repr", 1, 1, Takes::One),
    ("int", 0, 2, Takes::Old),
    ("float", 0, 1, Takes::Clinic),
    ("bool", 0, 1, Takes::Clinic),
    ("list", 0, 1, Takes::Clinic),
    ("tuple", 0, 1, Takes::Clinic),
    ("set", 0, 1, Takes::Clinic),
    ("frozenset", 0, 1, Takes::Clinic),
    ("dict", 0, 1, Takes::Clinic),
    ("sorted", 1, 1, Takes::Clinic),
    ("min", 1, usize::MAX, Takes::Clinic),
    ("max", 1, usize::MAX, Takes::Clinic),
    ("abs", 1, 1, Takes::One),
    ("round", 0, 2, Takes::Old),
    ("hash", 1, 1, Takes::One),
    ("hex", 1, 1, Takes::One),
    ("oct", 1, 1, Takes::One),
    ("bin", 1, 1, Takes::One),
    ("chr", 1, 1, Takes::One),
    ("ord", 1, 1, Takes::One),
    ("divmod", 2, 2, Takes::Clinic),
    ("pow", 0, 3, Takes::Old),
    ("range", 1, 3, Takes::Clinic),
    ("enumerate", 0, 2, Takes::Old),
    ("reversed", 1, 1, Takes::Clinic),
    ("format", 1, 2, Takes::Clinic),
    ("ascii", 1, 1, Takes::One),
    ("isinstance", 2, 2, Takes::Clinic),
    ("issubclass", 2, 2, Takes::Clinic),
    ("iter", 1, 2, Takes::Clinic),
    ("next", 1, 2, Takes::Clinic),
    ("all", 1, 1, Takes::One),
    ("any", 1, 1, Takes::One),
    ("bytes", 0, 3, Takes::Old),
    ("callable", 1, 1, Takes::One),
    ("id", 1, 1, Takes::One),
    ("getattr", 2, 3, Takes::Clinic),
    ("setattr", 3, 3, Takes::Clinic),
    ("hasattr", 2, 2, Takes::Clinic),
    ("filter", 2, 2, Takes::Clinic),
    ("vars", 0, 1, Takes::Clinic),
    ("dir", 0, 1, Takes::Clinic),
];

/// CPython's TypeError text for calling `value.method` with `given`
/// positional arguments (and no keywords), or `None` when that is a
/// number it takes or a method the table does not know.
pub(crate) fn method_error(value: &Value, method: &str, given: usize) -> Option<String> {
    if !HERE {
        return None;
    }
    let t = value.type_name();
    let &(_, _, lo, hi, takes) = TABLE.iter().find(|(ty, m, ..)| *ty == &*t && *m == method)?;
    message(takes, &format!("{t}.{method}"), method, lo..=hi, given)
}

/// [`method_error`] for the built-in function `name`.
pub(crate) fn function_error(name: &str, given: usize) -> Option<String> {
    if !HERE {
        return None;
    }
    let &(_, lo, hi, takes) = FUNCTIONS.iter().find(|(n, ..)| *n == name)?;
    message(takes, name, name, lo..=hi, given)
}

/// The words of `takes` for `given` arguments outside `range`: `qualified`
/// is how `METH_NOARGS`/`METH_O` name it (`list.append`), `bare` how the
/// others do (`insert`).
fn message(
    takes: Takes,
    qualified: &str,
    bare: &str,
    range: std::ops::RangeInclusive<usize>,
    given: usize,
) -> Option<String> {
    if range.contains(&given) {
        return None;
    }
    let (lo, hi) = (*range.start(), *range.end());
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    Some(match takes {
        Takes::NoArgs => format!("{qualified}() takes no arguments ({given} given)"),
        Takes::One => format!("{qualified}() takes exactly one argument ({given} given)"),
        Takes::Clinic if lo == hi => format!("{bare} expected {lo} {}, got {given}", plural(lo)),
        Takes::Clinic if given < lo => format!("{bare} expected at least {lo} {}, got {given}", plural(lo)),
        Takes::Clinic => format!("{bare} expected at most {hi} {}, got {given}", plural(hi)),
        Takes::Old if given < lo => format!("{bare}() takes at least {lo} {} ({given} given)", plural(lo)),
        Takes::Old => format!("{bare}() takes at most {hi} {} ({given} given)", plural(hi)),
        Takes::Keywords if given <= 2 => format!("{bare}() takes no positional arguments"),
        Takes::Keywords => format!("{bare}() takes at most 2 arguments ({given} given)"),
    })
}

/// CPython's words for a call of a Python function `fname` that leaves
/// parameters of `kind` ("positional", "keyword-only") without a value:
/// `f() missing 3 required positional arguments: 'a', 'b', and 'c'`.
pub(crate) fn missing(fname: &str, kind: &str, names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let listed = match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] if HERE => format!("{a} and {b}"),
        [init @ .., a, b] if HERE => format!("{}, {a}, and {b}", init.join(", ")),
        // The light module names the first, as CPython's message starts.
        _ => return format!("{fname}() missing 1 required {kind} argument: {}", quoted[0]),
    };
    let n = names.len();
    format!("{fname}() missing {n} required {kind} argument{}: {listed}", if n == 1 { "" } else { "s" })
}

/// CPython's words for `given` positional arguments to `fname`, which takes
/// `npos` of them, the last `ndefaults` optional, when the call also gave
/// `kwonly_given` keyword-only ones:
/// `f() takes from 1 to 2 positional arguments but 3 were given`.
pub(crate) fn too_many(fname: &str, npos: usize, ndefaults: usize, given: usize, kwonly_given: usize) -> String {
    let s = |k: usize| if k == 1 { "" } else { "s" };
    let (takes, plural) = match ndefaults {
        0 => (npos.to_string(), s(npos)),
        _ if HERE => (format!("from {} to {npos}", npos - ndefaults), "s"),
        _ => (npos.to_string(), "s"),
    };
    let kwonly = match kwonly_given {
        0 => String::new(),
        k => format!(" positional argument{} (and {k} keyword-only argument{})", s(given), s(k)),
    };
    let verb = if given == 1 && kwonly_given == 0 { "was" } else { "were" };
    format!("{fname}() takes {takes} positional argument{plural} but {given}{kwonly} {verb} given")
}
