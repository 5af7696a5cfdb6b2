//! The standard-library modules written in Python (`std/*.py`): compiled
//! and run the first time a program imports one, like a user module, and
//! kept in the runtime's module table. Their names are merged over a
//! native module of the same name where there is one (`collections` keeps
//! its `defaultdict` and `Counter`).
//!
//! The presets import none of them: the light module leaves them out
//! ([`HERE`]; the sources are only referenced behind it).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::value::{Globals, Module, Value};
use super::vm::{PyResult, Vm};

/// Whether this build has them: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

/// Each module: its name, the file name its tracebacks show, its source.
const SOURCES: &[(&str, &str, &str)] = &[
    ("collections", "<std.collections>", include_str!("std/collections.py")),
    ("typing", "<std.typing>", include_str!("std/typing.py")),
    ("heapq", "<std.heapq>", include_str!("std/heapq.py")),
    ("bisect", "<std.bisect>", include_str!("std/bisect.py")),
    ("operator", "<std.operator>", include_str!("std/operator.py")),
    ("statistics", "<std.statistics>", include_str!("std/statistics.py")),
    ("dataclasses", "<std.dataclasses>", include_str!("std/dataclasses.py")),
    ("logging", "<std.logging>", include_str!("std/logging.py")),
    ("copy", "<std.copy>", include_str!("std/copy.py")),
    ("enum", "<std.enum>", include_str!("std/enum.py")),
    ("concurrent.futures", "<std.concurrent.futures>", include_str!("std/concurrent_futures.py")),
    ("contextlib", "<std.contextlib>", include_str!("std/contextlib.py")),
    ("abc", "<std.abc>", include_str!("std/abc.py")),
    ("string", "<std.string>", include_str!("std/string.py")),
    // `time`'s calendar functions, which the native `time` module calls ([`TIME`]).
    ("_time", "<std._time>", include_str!("std/time.py")),
    // Shewchuk's exact partial sums, which `math` and `statistics` share.
    ("_exact", "<std._exact>", include_str!("std/exact.py")),
    ("datetime", "<std.datetime>", include_str!("std/datetime.py")),
    ("struct", "<std.struct>", include_str!("std/struct.py")),
    ("pprint", "<std.pprint>", include_str!("std/pprint.py")),
    ("itertools", "<std.itertools>", include_str!("std/itertools.py")),
    // Over the native `functools` (`partial`, `reduce`, `wraps`).
    ("functools", "<std.functools>", include_str!("std/functools.py")),
    // Over the native `math` (its floats' functions).
    ("math", "<std.math>", include_str!("std/math.py")),
    // Over the native `sys` (`version_info` and `argv`).
    ("sys", "<std.sys>", include_str!("std/sys.py")),
    // Tracebacks as the interpreter prints them, over a native (`_format`).
    ("traceback", "<std.traceback>", include_str!("std/traceback.py")),
    // The simulated process: its cores, its id, its directory.
    ("os", "<std.os>", include_str!("std/os.py")),
    ("os.path", "<std.os.path>", include_str!("std/os_path.py")),
    // Over the native `random` (its seeded generator).
    ("random", "<std.random>", include_str!("std/random.py")),
    // The built-in `bytearray` ([`builtin`]).
    ("_bytearray", "<std.bytearray>", include_str!("std/bytearray.py")),
    // The built-in `open` and the simulated disk it opens files on.
    ("io", "<std.io>", include_str!("std/io.py")),
];

/// The built-in names written in Python here, each with its module: the
/// module is imported the first time a program names one.
const BUILTINS: &[(&str, &str)] = &[("bytearray", "_bytearray"), ("open", "io")];

/// The built-in `name` if it is one of [`BUILTINS`].
pub(crate) fn builtin(vm: &mut Vm<'_>, name: &str) -> PyResult<Option<Value>> {
    let Some(&(_, module)) = BUILTINS.iter().find(|(n, _)| HERE && *n == name) else { return Ok(None) };
    Ok(match import(vm, module)? {
        Value::Module(m) => m.attrs.get(name).cloned(),
        _ => None,
    })
}

/// The functions of `time` written in Python (`std/time.py`): the native
/// module's `time.gmtime` and the rest call them ([`call`]).
pub(crate) const TIME: &[&str] =
    &["gmtime", "localtime", "mktime", "strftime", "strptime", "asctime", "ctime", "struct_time"];

/// `module.name(*args, **kwargs)` for a built-in that is one of these
/// modules' functions (`time.strftime`): the module imported on first use.
pub(crate) fn call(
    vm: &mut Vm<'_>,
    module: &str,
    name: &str,
    args: Vec<Value>,
    kwargs: super::vm::Kw,
) -> PyResult<super::vm::Out> {
    let f = match import(vm, module)? {
        Value::Module(m) => m.attrs.get(name).cloned(),
        _ => None,
    };
    let f = f.ok_or_else(|| vm.rt.error("AttributeError", &format!("module '{module}' has no attribute '{name}'")))?;
    vm.call(f, args, kwargs)
}

/// These modules' names, those a program can import ([`has`]).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().filter(|(n, ..)| HERE && has(n)).map(|(n, ..)| *n)
}

/// Whether `name` is one of these modules a program can import (not
/// `_time`, the half of `time` only the native module reaches).
pub(crate) fn has(name: &str) -> bool {
    HERE && !name.starts_with('_') && SOURCES.iter().any(|(n, ..)| *n == name)
}

/// Whether a traceback's file is one of these modules' (not the user's).
pub(crate) fn is_library_file(file: &str) -> bool {
    file.starts_with("<std.")
}

/// Whether a traceback's file is one of these modules' that CPython
/// writes in C (`deque`, `heapq`, `bisect`, `operator`; `abc`'s check
/// when a class is instantiated): its frames are
/// left out of a traceback, as CPython has none to print.
pub(crate) fn is_c_in_cpython(file: &str) -> bool {
    HERE && matches!(
        file,
        "<std.collections>"
            | "<std.heapq>"
            | "<std.bisect>"
            | "<std.operator>"
            | "<std.abc>"
            | "<std._time>"
            | "<std.datetime>"
            | "<std.struct>"
            | "<std.itertools>"
            | "<std.bytearray>"
            | "<std.io>"
            | "<std.math>"
            | "<std.random>"
            | "<std.sys>"
            | "<std.functools>"
    )
}

thread_local! {
    /// Attribute names as the `&'static str` a [`Module`] keys by: one
    /// leaked copy per distinct name, however many runs import them.
    static NAMES: RefCell<HashSet<&'static str>> = RefCell::default();
}

/// `name` as a `&'static str`, leaked once however often it is asked for.
pub(crate) fn intern(name: &str) -> &'static str {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(n) = names.get(name) {
            return *n;
        }
        let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
        names.insert(n);
        n
    })
}

/// `import name` for one of these modules: the module, run once per run.
pub(crate) fn import(vm: &mut Vm<'_>, name: &str) -> PyResult<Value> {
    if !HERE {
        return vm.rt.import(name);
    }
    if let Some(m) = vm.rt.modules.borrow().get(name) {
        return Ok(m.clone());
    }
    let Some(&(mname, file, source)) = SOURCES.iter().find(|(n, ..)| *n == name) else {
        return vm.rt.import(name);
    };
    let code = super::compile::compile_module(file, source)
        .map_err(|e| vm.rt.error("SystemError", &format!("{mname}: {e:?}")))?;
    let globals: Rc<Globals> = Rc::default();
    globals.vars.borrow_mut().insert("__name__".into(), Value::str(mname));
    // The natives a module's Python calls, by module.
    if mname == "collections" {
        globals.vars.borrow_mut().insert("_class".into(), Value::builtin("collections._class", None));
    }
    if mname == "abc" {
        globals.vars.borrow_mut().insert("_new".into(), Value::builtin("copy._new", None));
        globals.vars.borrow_mut().insert("_lookup".into(), Value::builtin("abc._lookup", None));
    }
    if matches!(mname, "math" | "statistics") {
        // Shewchuk's exact partial sums, one copy for both (`std/exact.py`).
        if let Value::Module(exact) = import(vm, "_exact")? {
            let partials = exact.attrs.get("partials").cloned().unwrap_or_default();
            globals.vars.borrow_mut().insert("_partials".into(), partials);
        }
    }
    if mname == "_time" {
        // The simulated clock, as `time.time()` reads it.
        globals.vars.borrow_mut().insert("_now".into(), Value::builtin("time.time", None));
    }
    if matches!(mname, "struct" | "math" | "random") {
        // The native functions its Python calls.
        if let Some(Value::Module(native)) = super::builtins::module(vm.rt, name) {
            for (k, v) in native.attrs.iter() {
                globals.vars.borrow_mut().insert((*k).into(), v.clone());
            }
        }
    }
    if matches!(mname, "io" | "os" | "os.path") {
        globals.vars.borrow_mut().insert("_disk".into(), disk(vm)?);
    }
    if mname == "os" {
        globals.vars.borrow_mut().insert("_CWD".into(), Value::str(&working_directory(vm)));
    }
    if mname == "sys" {
        let file = vm.rt.globals.vars.borrow().get("__file__").cloned().unwrap_or_default();
        globals.vars.borrow_mut().insert("_FILE".into(), file);
    }
    if mname == "traceback" {
        globals.vars.borrow_mut().insert("_format".into(), Value::builtin("traceback._format", None));
    }
    if mname == "enum" {
        globals.vars.borrow_mut().insert("_new".into(), Value::builtin("copy._new", None));
    }
    if mname == "copy" {
        globals.vars.borrow_mut().insert("_clone".into(), Value::builtin("copy._clone", None));
    }
    if matches!(mname, "concurrent.futures" | "os") {
        // `os.cpu_count()` in CPython: the simulated machine's cores.
        let cores = Value::Int(i64::from(vm.sh.program.machine.cores));
        globals.vars.borrow_mut().insert("_CPUS".into(), cores);
    }
    vm.run_module(code, Rc::clone(&globals))?;
    // A module's `_python_exit`: CPython's `threading._register_atexit(_python_exit)`
    // (concurrent.futures stops and joins its workers when the program's code ends).
    if let Some(f) = globals.vars.borrow().get("_python_exit") {
        vm.rt.at_exit.borrow_mut().push(f.clone());
    }
    let mut attrs: HashMap<&'static str, Value> = HashMap::new();
    // The modules it imported are not its names (CPython's packages export theirs).
    if let Some(Value::Module(native)) = super::builtins::module(vm.rt, name) {
        attrs.extend(native.attrs.iter().map(|(k, v)| (*k, v.clone())));
    }
    for (k, v) in globals.vars.borrow().iter() {
        // (But `os.path`, which CPython's `os` holds as `path`.)
        let submodule = matches!(v, Value::Module(m) if m.name.strip_prefix(mname).is_some_and(|r| r.starts_with('.')));
        if !k.starts_with('_') && (!matches!(v, Value::Module(_)) || submodule) {
            attrs.insert(intern(k), v.clone());
        }
    }
    let m = Value::Module(Rc::new(Module { name: mname, attrs }));
    vm.rt.modules.borrow_mut().insert(name.to_owned(), m.clone());
    Ok(m)
}

/// The simulated process's working directory (`os.getcwd()`): the
/// script's, where `python script.py` is usually run (CPython's `__file__`
/// for it is absolute), or the root for a script named without one.
fn working_directory(vm: &Vm<'_>) -> String {
    let file = match vm.rt.globals.vars.borrow().get("__file__") {
        Some(Value::Str(f)) => f.to_string(),
        _ => String::new(),
    };
    match file.rsplit_once('/') {
        Some((dir, _)) if file.starts_with('/') && !dir.is_empty() => dir.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The simulated disk `open` writes and `os` reads (`std/io.py`), one per
/// run: a dict of each file's absolute path to its bytes and each
/// directory's to None, holding at the start the working directory and
/// those above it.
fn disk(vm: &mut Vm<'_>) -> PyResult<Value> {
    if let Some(d) = vm.rt.library.borrow().get("_disk") {
        return Ok(d.clone());
    }
    let mut dirs = super::value::Dict::default();
    let mut path = String::new();
    let cwd = working_directory(vm);
    for part in std::iter::once("").chain(cwd.split('/').filter(|p| !p.is_empty())) {
        path = if part.is_empty() { "/".to_owned() } else { format!("{}/{part}", path.trim_end_matches('/')) };
        let key = Value::str(&path);
        dirs.insert(vm.key(&key)?, key, Value::None);
    }
    let d = Value::dict(dirs);
    vm.rt.library.borrow_mut().insert("_disk", d.clone());
    Ok(d)
}

/// A `collections.namedtuple`'s values as the plain tuple (`_t`) it stands
/// for, when `v` is one: CPython's is a tuple, so it is equal to one as a
/// dict key too.
pub(crate) fn named_tuple(v: &Value) -> Option<Value> {
    // Its class derives from `_NamedTuple`: directly (`namedtuple`), or
    // through `typing.NamedTuple`.
    derived_from(v, "collections", "_NamedTuple")?.get("_t").filter(|t| matches!(t, Value::Tuple(_)))
}

/// An `enum.IntEnum` member's int, when `v` is one: CPython's member is an
/// int (`isinstance(m, int)`), the same dict key as its value.
pub(crate) fn int_enum(v: &Value) -> Option<Value> {
    derived_from(v, "enum", "IntEnum")?.get("_value_").filter(|n| matches!(n, Value::Int(_)))
}

/// `v` when it is an instance of a class derived from this library class.
/// Whether class `c` is `enum.IntEnum` or derives from it: CPython's is
/// a subclass of `int` (`issubclass(Color, int)`).
pub(crate) fn int_enum_class(c: &Rc<super::value::Class>) -> bool {
    if !HERE {
        return false;
    }
    let mut class = Some(Rc::clone(c));
    while let Some(k) = class {
        if &*k.name == "IntEnum" && &*k.module() == "enum" {
            return true;
        }
        class = k.base.clone();
    }
    false
}

fn derived_from<'v>(v: &'v Value, module: &str, class: &str) -> Option<&'v Rc<super::value::Instance>> {
    if !HERE {
        return None;
    }
    let Value::Instance(i) = v else { return None };
    let mut base = i.class.base.clone();
    while let Some(b) = base {
        if &*b.name == class && &*b.module() == module {
            return Some(i);
        }
        base = b.base.clone();
    }
    None
}

/// `copy._clone(obj)`: a new instance of `obj`'s class with its
/// attributes (the same values), made without calling `__init__`, as
/// CPython's `copy` does through `__reduce_ex__`. Anything else is itself.
pub(crate) fn clone(args: &[Value]) -> Value {
    match args.first() {
        // `enum`'s `_new(cls)`: a bare instance of the class.
        Some(Value::Class(c)) => {
            Value::Instance(Rc::new(super::value::Instance { class: Rc::clone(c), attrs: RefCell::default() }))
        }
        Some(Value::Instance(i)) => Value::Instance(Rc::new(super::value::Instance {
            class: Rc::clone(&i.class),
            attrs: RefCell::new(super::value::Attrs::Own(i.attrs.borrow().items())),
        })),
        Some(v) => v.clone(),
        None => Value::None,
    }
}
