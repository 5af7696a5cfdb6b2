//! Setting and deleting an instance's attributes as CPython's
//! `object.__setattr__` does: a class's own `__setattr__` and `__delattr__`
//! run first (a frozen dataclass's refuse), and `object.__setattr__` reaches
//! a property's setter before the instance's own attributes. Full module
//! only: the presets define no such hook.

use super::errors::Exc;
use super::value::{Class, Value};
use super::vm::{bind, PyResult, Vm};

pub(crate) const HERE: bool = super::compile::PARSER;

/// The names of the hooks: a class defining one makes attribute stores
/// look for it ([`Runtime::attr_hooks`](super::Runtime)).
pub(crate) fn is_hook(name: &str) -> bool {
    HERE && matches!(name, "__setattr__" | "__delattr__")
}

/// `obj`'s class's `hook` (`__setattr__` or `__delattr__`) bound to it,
/// when the program defines one.
pub(crate) fn hook(vm: &Vm<'_>, obj: &Value, hook: &str) -> Option<Value> {
    if !HERE || !vm.rt.attr_hooks.get() {
        return None;
    }
    let Value::Instance(i) = obj else { return None };
    i.class.lookup(hook).map(|h| bind(obj, h))
}

/// `setattr(obj, name, v)`: as `obj.name = v`.
pub(crate) fn setattr(vm: &mut Vm<'_>, obj: &Value, name: &str, v: Value) -> PyResult<()> {
    match hook(vm, obj, "__setattr__") {
        Some(h) => vm.call_nested(h, vec![Value::str(name), v]).map(drop),
        None => object_setattr(vm, obj, name, v),
    }
}

/// `object.__setattr__(obj, name, v)`: a property's setter, or else the
/// attribute itself.
pub(crate) fn object_setattr(vm: &mut Vm<'_>, obj: &Value, name: &str, v: Value) -> PyResult<()> {
    match vm.property_of(obj, name) {
        Some((_, Value::None)) => Err(no_setter(vm, obj, name)),
        Some((_, fset)) => vm.call_nested(fset, vec![obj.clone(), v]).map(drop),
        None => vm.set_attr(obj, name, v),
    }
}

/// `object.__setattr__` and `object.__delattr__` called, bound (through
/// `super()`) or not: `this` first.
pub(crate) fn object_method(vm: &mut Vm<'_>, method: &str, this: Option<&Value>, args: &[Value]) -> PyResult<Value> {
    let args: Vec<Value> = this.into_iter().chain(args).cloned().collect();
    let wanted = if method == "object.__setattr__" { 3 } else { 2 };
    let (obj, name) = match &args[..] {
        [obj, Value::Str(name), ..] if args.len() == wanted => (obj, name),
        [_, name, ..] if args.len() == wanted => {
            let t = name.type_name();
            return Err(vm.type_error(&format!("attribute name must be string, not '{t}'")));
        }
        [] => {
            let short = method.trim_start_matches("object.");
            return Err(vm.type_error(&format!("descriptor '{short}' of 'object' object needs an argument")));
        }
        _ => return Err(vm.type_error(&format!(" expected {} arguments, got {}", wanted - 1, args.len() - 1))),
    };
    match args.get(2) {
        Some(v) => object_setattr(vm, obj, name, v.clone())?,
        None => vm.del_attr(obj, name)?,
    }
    Ok(Value::None)
}

/// Whether an instance of `class` cannot take the attribute `name`: each
/// class along its bases defines `__slots__` (so it has no `__dict__`) and
/// none names it (nor `__dict__`). One look-up for a class without slots.
pub(crate) fn outside_slots(class: &Class, name: &str) -> bool {
    // `__slots__` names `name`, or `__dict__` (which gives a dict back).
    let names = |slots: &Value| {
        let is = |s: &Value| matches!(s, Value::Str(s) if &**s == name || &**s == "__dict__");
        match slots {
            Value::Tuple(t) => t.iter().any(is),
            Value::List(l) => l.borrow().iter().any(is),
            s => is(s),
        }
    };
    let mut c = Some(class);
    while let Some(k) = c.filter(|_| HERE) {
        let Some(slots) = k.attrs.borrow().get("__slots__").cloned() else { return false };
        if names(&slots) {
            return false;
        }
        c = k.base.as_deref();
    }
    HERE
}

/// CPython's error for a store to a property without a setter.
pub(crate) fn no_setter(vm: &Vm<'_>, obj: &Value, name: &str) -> Exc {
    let class = obj.type_name();
    vm.rt.error("AttributeError", &format!("property '{name}' of '{class}' object has no setter"))
}
