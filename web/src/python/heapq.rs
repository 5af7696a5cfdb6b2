//! The C half of Python's `heapq`: `heappush`, `heappop`, `heapify`,
//! `heappushpop` and `heapreplace`, native as CPython's `_heapq` is, so a
//! simulated program's heap costs the steps CPython's does, not an
//! interpreted sift's. The same sift order as CPython's (the list is the
//! same list); items compare with `<` as Python's do. `nlargest`,
//! `nsmallest` and `merge` are Python (`std/heapq.py`), as in CPython.
//! Only in the full module ([`HERE`]): no preset uses it.

use super::code::CmpOp;
use super::value::Value;
use super::vm::{PyResult, Vm};

/// Whether this build has the module: the full module, with the parser.
pub(crate) const HERE: bool = super::compile::PARSER;

fn lt(vm: &mut Vm<'_>, a: &Value, b: &Value) -> PyResult<bool> {
    super::ops::compare(vm, CmpOp::Lt, a, b)
}

fn get(heap: &Value, i: usize) -> Value {
    match heap {
        Value::List(l) => l.borrow().get(i).cloned().unwrap_or_default(),
        _ => Value::None,
    }
}

fn set(heap: &Value, i: usize, v: Value) {
    if let Value::List(l) = heap {
        if let Some(slot) = l.borrow_mut().0.get_mut(i) {
            *slot = v;
        }
    }
}

fn len(heap: &Value) -> usize {
    match heap {
        Value::List(l) => l.borrow().len(),
        _ => 0,
    }
}

/// CPython's `_siftdown`: the item at `pos` moves up toward `start`.
fn sift_down(vm: &mut Vm<'_>, heap: &Value, start: usize, mut pos: usize) -> PyResult<()> {
    let item = get(heap, pos);
    while pos > start {
        let parent_pos = (pos - 1) >> 1;
        let parent = get(heap, parent_pos);
        if lt(vm, &item, &parent)? {
            set(heap, pos, parent);
            pos = parent_pos;
            continue;
        }
        break;
    }
    set(heap, pos, item);
    Ok(())
}

/// CPython's `_siftup`: the smaller child moves up to a leaf, then the
/// item sifts down from there.
fn sift_up(vm: &mut Vm<'_>, heap: &Value, mut pos: usize) -> PyResult<()> {
    let end = len(heap);
    let start = pos;
    let item = get(heap, pos);
    let mut child = 2 * pos + 1;
    while child < end {
        let right = child + 1;
        if right < end && !lt(vm, &get(heap, child), &get(heap, right))? {
            child = right;
        }
        set(heap, pos, get(heap, child));
        pos = child;
        child = 2 * pos + 1;
    }
    set(heap, pos, item);
    sift_down(vm, heap, start, pos)
}

/// Calls `heapq.NAME`: `heappush`, `heappop`, `heapify`, `heappushpop` or
/// `heapreplace`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: &[Value]) -> PyResult<Value> {
    let wanted = if matches!(name, "heappop" | "heapify") { 1 } else { 2 };
    if args.len() != wanted {
        let s = if wanted == 1 { "" } else { "s" };
        return Err(vm.type_error(&format!("{name} expected {wanted} argument{s}, got {}", args.len())));
    }
    let heap = &args[0];
    let Value::List(list) = heap else {
        return Err(vm.type_error(&format!("{name}() argument 1 must be list, not {}", heap.type_name())));
    };
    match name {
        "heappush" => {
            list.borrow_mut().0.push(args[1].clone());
            sift_down(vm, heap, 0, len(heap) - 1)?;
            Ok(Value::None)
        }
        "heappop" => {
            let Some(last) = list.borrow_mut().0.pop() else {
                return Err(vm.rt.error("IndexError", "index out of range"));
            };
            if len(heap) == 0 {
                return Ok(last);
            }
            let top = std::mem::replace(&mut list.borrow_mut().0[0], last);
            sift_up(vm, heap, 0)?;
            Ok(top)
        }
        "heapreplace" => {
            if len(heap) == 0 {
                return Err(vm.rt.error("IndexError", "index out of range"));
            }
            let top = std::mem::replace(&mut list.borrow_mut().0[0], args[1].clone());
            sift_up(vm, heap, 0)?;
            Ok(top)
        }
        "heappushpop" => {
            let item = args[1].clone();
            if len(heap) == 0 || !lt(vm, &get(heap, 0), &item)? {
                return Ok(item);
            }
            let top = std::mem::replace(&mut list.borrow_mut().0[0], item);
            sift_up(vm, heap, 0)?;
            Ok(top)
        }
        _ => {
            for i in (0..len(heap) / 2).rev() {
                sift_up(vm, heap, i)?;
            }
            Ok(Value::None)
        }
    }
}
