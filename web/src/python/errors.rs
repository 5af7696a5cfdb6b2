//! Exceptions: the built-in class hierarchy and how an uncaught one prints.

use std::collections::HashMap;
use std::rc::Rc;

use super::code::{Code, Span};
use super::value::{Class, Native, Value};

/// A raised exception on its way up, with the frames it left (innermost first).
#[derive(Debug)]
pub(crate) struct Exc {
    pub value: Value,
    /// (file, line, column, function) per frame left.
    pub tb: Tb,
    /// Raised again where it was caught (`raise` alone, or no `except`
    /// matched): `tb` already holds that frame's line, where it was first
    /// raised, and the frame is not added again, as in CPython.
    pub reraised: bool,
}

/// A traceback: the frames an exception left, innermost first.
pub(crate) type Tb = Vec<TbFrame>;

/// One frame an exception left: the code it ran and where in it.
#[derive(Clone, Debug)]
pub(crate) struct TbFrame {
    pub code: Rc<Code>,
    pub span: Span,
}

impl TbFrame {
    pub fn file(&self) -> &Rc<str> {
        &self.code.file
    }

    /// `  File "test.py", line 3, in f`.
    pub fn heading(&self) -> String {
        format!("  File \"{}\", line {}, in {}", self.code.file, self.span.line, self.code.name)
    }

    /// The frame's line of source as CPython's traceback shows it under
    /// the heading, its indentation left out (its trailing spaces kept):
    /// none for a file CPython could not read either
    /// (`<twisted.internet.defer>`, the library's Python).
    pub fn source_line(&self) -> Option<&str> {
        if self.code.file.starts_with('<') {
            return None;
        }
        let line = self.code.line(self.span.line)?.trim_end_matches(['\r', '\n']).trim_start();
        Some(line).filter(|l| !l.is_empty())
    }

    /// The line and, under it, CPython 3.11's carets: `^` under the
    /// expression that raised, `~` and `^` for an operator or a subscript,
    /// none when the expression is the whole line.
    pub fn source_lines(&self) -> Vec<String> {
        let Some(stripped) = self.source_line() else { return Vec::new() };
        let mut out = vec![format!("    {stripped}")];
        let line: Vec<char> = self.code.line(self.span.line).unwrap_or("").chars().collect();
        let indent = line.iter().take_while(|c| c.is_whitespace()).count();
        let Span { col, end_line, end_col, focus, .. } = self.span;
        let start = (col as usize).saturating_sub(1).min(line.len());
        let end = match end_line == self.span.line {
            true => (end_col as usize).saturating_sub(1).min(line.len()),
            // An expression over several lines: to the first line's end.
            false => line.iter().rposition(|c| !c.is_whitespace()).map_or(start, |i| i + 1),
        };
        let focused = focus.1 > focus.0;
        if end <= start || (end - start == stripped.chars().count() && !focused) {
            return out;
        }
        let carets: String = match focused {
            true => {
                let (left, right) = ((focus.0 as usize).saturating_sub(1), (focus.1 as usize).saturating_sub(1));
                (start..end).map(|i| if (left..right).contains(&i) { '^' } else { '~' }).collect()
            }
            false => "^".repeat(end - start),
        };
        out.push(format!("    {}{carets}", " ".repeat(start.saturating_sub(indent))));
        out
    }
}

impl Exc {
    pub fn new(value: Value) -> Exc {
        Exc { value, tb: Vec::new(), reraised: false }
    }

    /// CPython's traceback, most recent call last, ending with `text`.
    pub fn traceback(&self, text: &str) -> Vec<String> {
        let mut out = vec!["Traceback (most recent call last):".to_owned()];
        // CPython prints a line repeated more than three times in a row
        // (a recursion) three times, then how many more there were.
        let mut repeats = 0;
        let mut last: Option<String> = None;
        for frame in self.tb.iter().rev() {
            if super::pystd::is_c_in_cpython(frame.file()) {
                continue;
            }
            let entry = frame.heading();
            if last.as_ref() == Some(&entry) {
                repeats += 1;
            } else {
                out.extend(repeated(repeats));
                repeats = 0;
            }
            if repeats < 3 {
                out.push(entry.clone());
                out.extend(frame.source_lines());
            }
            last = Some(entry);
        }
        out.extend(repeated(repeats));
        out.push(text.to_owned());
        out
    }

    /// `FILE:LINE:COL: text` at the innermost frame of the program, then
    /// the traceback. A frame of the library's Python part (a bad argument
    /// to `ensureDeferred`, an `@inlineCallbacks` function called with the
    /// wrong arguments) is no place the user can edit: the line that called
    /// into the library is (the traceback still lists the library's frames,
    /// as CPython's lists Twisted's).
    ///
    /// The traceback ends with `last`: CPython's line, which names a Twisted
    /// exception with its module. `earlier` are the tracebacks of the
    /// exceptions it was raised from ([`chain`]).
    pub fn located(&self, text: &str, earlier: Vec<String>, last: &str) -> String {
        let mine =
            self.tb.iter().find(|t| !t.file().starts_with("<twisted.") && !super::pystd::is_library_file(t.file()));
        let head = match mine.or(self.tb.first()) {
            Some(t) => format!("{}:{}:{}: {text}", t.file(), t.span.line, t.span.col),
            None => text.to_owned(),
        };
        let mut lines = vec![head];
        lines.extend(earlier);
        lines.extend(self.traceback(last));
        lines.join("\n")
    }
}

/// What ties an exception printed above to the one below it.
const CAUSE: &str = "The above exception was the direct cause of the following exception:";
const CONTEXT: &str = "During handling of the above exception, another exception occurred:";

/// The chaining attributes (PEP 3134) of an exception that has not set
/// them, as CPython's `BaseException` has them.
pub(crate) fn chain_default(name: &str) -> Option<Value> {
    match name {
        "__context__" | "__cause__" | "__traceback__" => Some(Value::None),
        "__suppress_context__" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// `exc`, raised while `handled` was being handled, has it as its
/// `__context__`, as CPython sets it at every raise. CPython first cuts
/// `exc` out of `handled`'s own chain, so that no chain is a loop.
pub(crate) fn set_context(exc: &Value, handled: &Value) {
    let (Value::Instance(e), Value::Instance(h)) = (exc, handled) else { return };
    if Rc::ptr_eq(e, h) {
        return;
    }
    let mut link = Rc::clone(h);
    // A program may set `__context__` itself: the walk is bounded.
    for _ in 0..1000 {
        let Some(Value::Instance(next)) = link.get("__context__") else { break };
        if Rc::ptr_eq(&next, e) {
            link.set("__context__", Value::None);
            break;
        }
        link = next;
    }
    e.set("__context__", handled.clone());
}

/// A caught exception keeps the frames it left as its `__traceback__`,
/// for the report of an exception raised while handling it.
pub(crate) fn keep_traceback(exc: &Value, tb: &Tb) {
    if let Value::Instance(i) = exc {
        i.set("__traceback__", Value::Native(Rc::new(Native::Traceback(tb.clone()))));
    }
}

/// The exceptions CPython prints above an uncaught `exc`, first printed
/// first: its `__cause__` (`raise X from Y`), or else its `__context__`
/// unless `raise ... from` suppressed it, and theirs in turn; each with its
/// traceback and the line tying it to the next.
pub(crate) fn chain(exc: &Value) -> Vec<(Value, Tb, &'static str)> {
    let mut out: Vec<(Value, Tb, &'static str)> = Vec::new();
    let mut current = exc.clone();
    while let Value::Instance(i) = &current {
        let suppressed = i.get("__suppress_context__").is_some_and(|v| v.truthy());
        let (next, note) = match (i.get("__cause__"), i.get("__context__")) {
            (Some(cause @ Value::Instance(_)), _) => (cause, CAUSE),
            (_, Some(context @ Value::Instance(_))) if !suppressed => (context, CONTEXT),
            _ => break,
        };
        if next.is(exc) || out.iter().any(|(v, ..)| v.is(&next)) {
            break;
        }
        out.push((next.clone(), traceback_of(&next), note));
        current = next;
    }
    out.reverse();
    out
}

/// The frames a caught exception left (none for one never raised).
pub(crate) fn traceback_of(exc: &Value) -> Tb {
    if let Value::Instance(i) = exc {
        if let Some(Value::Native(n)) = i.get("__traceback__") {
            if let Native::Traceback(tb) = &*n {
                return tb.clone();
            }
        }
    }
    Tb::new()
}

/// CPython's note for a traceback line repeated `repeats` more times in a
/// row, past the three it prints.
fn repeated(repeats: usize) -> Option<String> {
    let more = repeats.checked_sub(2).filter(|&n| n > 0)?;
    Some(format!("  [Previous line repeated {more} more time{}]", if more == 1 { "" } else { "s" }))
}

/// The built-in exception classes, by name, each with its base.
pub(crate) const HIERARCHY: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("Exception", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("SystemExit", "BaseException"),
    ("ArithmeticError", "Exception"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("NameError", "Exception"),
    ("UnboundLocalError", "NameError"),
    ("RuntimeError", "Exception"),
    ("MemoryError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("RecursionError", "RuntimeError"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
    ("UnicodeEncodeError", "UnicodeError"),
    ("UnicodeDecodeError", "UnicodeError"),
    ("ImportError", "Exception"),
    ("ModuleNotFoundError", "ImportError"),
    ("StopIteration", "Exception"),
    // What `open` raises (`std/io.py`): the simulated disk's errors.
    ("OSError", "Exception"),
    ("FileNotFoundError", "OSError"),
    ("FileExistsError", "OSError"),
    ("IsADirectoryError", "OSError"),
    ("TimeoutError", "Exception"),
    ("CancelledError", "Exception"),
    // twisted.internet.error's (not built-in names: see `TWISTED_ERROR`).
    ("ConnectError", "Exception"),
    ("ConnectionRefusedError", "ConnectError"),
    ("ConnectionClosed", "Exception"),
    ("ConnectionLost", "ConnectionClosed"),
    ("ConnectionDone", "ConnectionClosed"),
    ("BindError", "Exception"),
    ("CannotListenError", "BindError"),
    ("NoProtocol", "Exception"),
    ("ConnectingCancelledError", "Exception"),
    ("AlreadyCalled", "ValueError"),
    ("AlreadyCancelled", "ValueError"),
    ("ReactorNotRunning", "RuntimeError"),
    ("ReactorNotRestartable", "RuntimeError"),
    // twisted.internet.defer's (`TWISTED_DEFER`).
    ("NotACoroutineError", "TypeError"),
    ("FirstError", "Exception"),
    ("NoCurrentExceptionError", "Exception"),
    ("AlreadyCalledError", "Exception"),
    ("QueueOverflow", "Exception"),
    ("QueueUnderflow", "Exception"),
    // The `json` module's (`JSON`).
    ("JSONDecodeError", "ValueError"),
    // The `struct` module's `error` (`STRUCT`).
    ("error", "Exception"),
    // The `queue` module's (`QUEUE`).
    ("Empty", "Exception"),
    ("Full", "Exception"),
    // `threading`'s.
    ("BrokenBarrierError", "RuntimeError"),
    // What `returnValue` raises for `inlineCallbacks` to catch: a name the
    // library's Python part reaches as a built-in one.
    ("_DefGen_Return", "BaseException"),
];

/// Classes of [`HIERARCHY`] a program reaches only through
/// `twisted.internet.error`, as in CPython.
pub(crate) const TWISTED_ERROR: &[&str] = &[
    "ConnectError",
    "ConnectionRefusedError",
    "ConnectionClosed",
    "ConnectionLost",
    "ConnectionDone",
    "BindError",
    "CannotListenError",
    "NoProtocol",
    "ConnectingCancelledError",
    "AlreadyCalled",
    "AlreadyCancelled",
    "ReactorNotRunning",
    "ReactorNotRestartable",
];

/// Classes of [`HIERARCHY`] a program reaches only through
/// `twisted.internet.defer`, as in CPython.
pub(crate) const TWISTED_DEFER: &[&str] = &[
    "NotACoroutineError",
    "FirstError",
    "NoCurrentExceptionError",
    "AlreadyCalledError",
    "QueueOverflow",
    "QueueUnderflow",
];

/// Classes of [`HIERARCHY`] a program reaches only through `queue`.
const QUEUE: &[&str] = &["Empty", "Full"];
const JSON: &[&str] = &["JSONDecodeError"];
const STRUCT: &[&str] = &["error"];

/// Whether `name` is a class of [`HIERARCHY`] that is not a built-in name.
pub(crate) fn not_builtin(name: &str) -> bool {
    TWISTED_ERROR.contains(&name)
        || TWISTED_DEFER.contains(&name)
        || QUEUE.contains(&name)
        || JSON.contains(&name)
        || STRUCT.contains(&name)
        || name == "BrokenBarrierError"
}

/// The module a class of [`HIERARCHY`] belongs to (its `__module__`), or
/// `None` for a name not there. `CancelledError` is a built-in name here
/// (as `asyncio`'s, for programs that catch it bare) but Twisted's class,
/// `twisted.internet.defer`'s.
pub(crate) fn module(name: &str) -> Option<&'static str> {
    Some(if TWISTED_ERROR.contains(&name) {
        "twisted.internet.error"
    } else if name == "NoCurrentExceptionError" {
        "twisted.python.failure"
    } else if TWISTED_DEFER.contains(&name) || ["CancelledError", "_DefGen_Return"].contains(&name) {
        "twisted.internet.defer"
    } else if name == "BrokenBarrierError" {
        "threading"
    } else if JSON.contains(&name) {
        "json.decoder"
    } else if STRUCT.contains(&name) {
        "struct"
    } else if QUEUE.contains(&name) {
        // CPython's `Empty` comes from its C half.
        if name == "Empty" {
            "_queue"
        } else {
            "queue"
        }
    } else if HIERARCHY.iter().any(|(n, _)| *n == name) {
        "builtins"
    } else {
        return None;
    })
}

/// `text` (`ConnectionLost: ...`) as CPython's traceback ends with it: a
/// Twisted exception named with its module.
pub(crate) fn with_module(text: &str) -> String {
    let name = text.split(':').next().unwrap_or(text);
    match module(name) {
        Some(m) if m != "builtins" => format!("{m}.{text}"),
        _ => text.to_owned(),
    }
}

/// Makes the classes of [`HIERARCHY`].
pub(crate) fn classes() -> HashMap<&'static str, Rc<Class>> {
    let mut out: HashMap<&'static str, Rc<Class>> = HashMap::new();
    for (name, base) in HIERARCHY {
        let base = out.get(base).cloned();
        let class = Class::in_module(name, base, module(name).unwrap_or("builtins"));
        if *name == "BaseException" {
            class.attrs.borrow_mut().insert("__init__".into(), Value::builtin("BaseException.__init__", None));
        }
        out.insert(name, class);
    }
    out
}
