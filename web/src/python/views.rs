//! `dict.keys()`, `dict.values()` and `dict.items()` as CPython's views:
//! live (they see the dict change), printed as `dict_keys(['a'])`, sized,
//! tested with `in`, iterated with the dict's size watched, and not
//! subscriptable. They were lists, which printed as lists and let
//! `d.keys()[0]` pass where CPython refuses it.
//!
//! The presets use none of them: the light module leaves them out (their
//! methods are behind `builtins::full`).

use std::cell::RefCell;
use std::rc::Rc;

use super::value::{Dict, Iter, Native, Value};
use super::vm::{PyResult, Vm};

/// Whether this build makes views: the full module's only. The places
/// that handle one test it first, so the light module leaves them out.
pub(crate) const HERE: bool = super::compile::PARSER;

/// Which view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    Keys,
    Values,
    Items,
}

impl View {
    /// `type(view).__name__`.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            View::Keys => "dict_keys",
            View::Values => "dict_values",
            View::Items => "dict_items",
        }
    }
}

/// `d.keys()` (`values`, `items`) of `dict`, a `Value::Dict`.
pub(crate) fn new(view: View, dict: &Value) -> Value {
    Value::Native(Rc::new(Native::DictView(view, dict.clone())))
}

fn dict(of: &Value) -> Option<&RefCell<Dict>> {
    match of {
        Value::Dict(d) => Some(d),
        _ => None,
    }
}

/// What the view holds now, in the dict's order.
pub(crate) fn values(view: View, of: &Value) -> Vec<Value> {
    let Some(d) = dict(of) else { return Vec::new() };
    let d = d.borrow();
    match view {
        View::Keys => d.items().map(|(k, _)| k.clone()).collect(),
        View::Values => d.items().map(|(_, v)| v.clone()).collect(),
        View::Items => d.items().map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()])).collect(),
    }
}

/// `len(view)`.
pub(crate) fn len(of: &Value) -> usize {
    dict(of).map_or(0, |d| d.borrow().len())
}

/// `iter(view)`: a snapshot whose `next` fails, as CPython's, once the
/// dict's size changed.
pub(crate) fn iter(view: View, of: &Value) -> Iter {
    Iter::Keys(values(view, of), 0, of.clone(), len(of))
}

/// `repr(view)`: `dict_keys(['a', 'b'])`.
pub(crate) fn repr(vm: &mut Vm<'_>, view: View, of: &Value) -> PyResult<String> {
    let items = values(view, of);
    let parts = items.iter().map(|v| vm.repr_of(v)).collect::<PyResult<Vec<_>>>()?;
    Ok(format!("{}([{}])", view.type_name(), parts.join(", ")))
}

/// `x in view`: a key lookup for keys, a pair lookup for items, a walk for values.
pub(crate) fn contains(vm: &mut Vm<'_>, view: View, of: &Value, x: &Value) -> PyResult<bool> {
    let Some(d) = dict(of) else { return Ok(false) };
    match view {
        View::Keys => {
            let key = vm.key(x)?;
            Ok(d.borrow().get(&key).is_some())
        }
        View::Items => {
            let Value::Tuple(t) = x else { return Ok(false) };
            let [k, v] = &t[..] else { return Ok(false) };
            let Ok(key) = k.key() else { return Ok(false) };
            let found = d.borrow().get(&key);
            match found {
                Some(value) => super::ops::eq(vm, &value, v),
                None => Ok(false),
            }
        }
        View::Values => {
            for v in values(view, of) {
                if super::ops::eq(vm, &v, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// A keys or items view as the set it stands for (CPython's are set-like:
/// `&`, `|`, `-`, `^`, `==` with sets and each other); `None` for anything
/// else, a values view included.
pub(crate) fn as_set(vm: &mut Vm<'_>, v: &Value) -> PyResult<Option<Value>> {
    let Value::Native(n) = v else { return Ok(None) };
    if !HERE {
        return Ok(None);
    }
    let Native::DictView(view @ (View::Keys | View::Items), of) = &**n else { return Ok(None) };
    super::sets::new(vm, values(*view, of)).map(Some)
}
