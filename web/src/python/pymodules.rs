//! Standard modules written in Python (`lib/*.py`), run when a program
//! first imports them, as CPython runs its own `Lib/` modules: their
//! threads, locks and conditions are the simulator's, so they take the
//! GIL, wait and wake as the program's own do, and show in the trace.
//!
//! Today: `concurrent.futures` (`ThreadPoolExecutor`, `Future`,
//! `as_completed`, `wait`), CPython 3.11's code trimmed.
//!
//! The presets import none of them, and running one needs the parser: the
//! light module leaves this out (`builtins::full`).

use std::collections::HashMap;
use std::rc::Rc;

use super::value::{Function, Globals, Module, Value};
use super::vm::{PyResult, Vm};

/// (module, file shown in tracebacks, source).
const MODULES: &[(&str, &str, &str)] =
    &[("concurrent.futures", "concurrent/futures.py", include_str!("lib/concurrent_futures.py"))];

/// The module `name` if it is one of these and this build runs them
/// (`None`: not one of these); its body runs once per run, in a loop nested
/// in the importing code's.
pub(crate) fn import(vm: &mut Vm<'_>, name: &str) -> PyResult<Option<Value>> {
    // First, and constant in the light module: the sources are not kept there.
    if !super::compile::PARSER {
        return Ok(None);
    }
    let Some(&(module, file, source)) = MODULES.iter().find(|(m, ..)| *m == name) else { return Ok(None) };
    if !super::builtins::full(vm, module) {
        return Ok(None);
    }
    let code = super::compile::compile_module(file, source)
        .map_err(|e| vm.rt.error("ImportError", &format!("{module}: {}", e.message)))?;
    let globals: Rc<Globals> = Rc::default();
    {
        let mut vars = globals.vars.borrow_mut();
        vars.insert("__name__".into(), Value::str(module));
        vars.insert("_CPUS".into(), Value::Int(i64::from(vm.sh.program.machine.cores)));
    }
    let body = Function {
        code,
        globals: Rc::clone(&globals),
        defaults: Vec::new(),
        kwdefaults: Vec::new(),
        closure: Vec::new(),
        owner: Default::default(),
    };
    vm.call_nested(Value::Func(Rc::new(body)), Vec::new())?;
    // Its `_python_exit`, CPython's `threading._register_atexit(_python_exit)`.
    if let Some(f) = globals.vars.borrow().get("_python_exit") {
        vm.rt.at_exit.borrow_mut().push(f.clone());
    }
    // The module's names are the body's public globals (its functions keep
    // reading the rest through their globals), not the modules it imported:
    // CPython's package exports these. `Module` keys are static: each name
    // is written in the (static) source, so the key is that slice of it.
    let attrs: HashMap<&'static str, Value> = globals
        .vars
        .borrow()
        .iter()
        .filter(|(k, v)| !k.starts_with('_') && !matches!(v, Value::Module(_)))
        .filter_map(|(k, v)| {
            Some((source.match_indices(&**k).next().map(|(i, _)| &source[i..i + k.len()])?, v.clone()))
        })
        .collect();
    let m = Value::Module(Rc::new(Module { name: module, attrs }));
    vm.rt.modules.borrow_mut().insert(module.to_owned(), m.clone());
    Ok(Some(m))
}
