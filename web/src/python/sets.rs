//! `set`: literals (`{1, 2}`), `set(iterable)`, comprehensions, the
//! methods Twisted programs use (`add`, `discard`, `remove`, `pop`,
//! `union`, `intersection`, ...), and the operators `|`, `&`, `-`, `^`,
//! `<=`, `>=`, `in`.
//!
//! A set is a [`Dict`] whose values are unused, kept in insertion order.
//! It iterates in CPython's order where CPython's is the same every run:
//! for a set of numbers, tuples of them or instances with their own
//! `__hash__`, whose hashes are the same every run ([`hashing`](super::hashing)),
//! the order of CPython's hash table ([`table_order`]), so `print({3, 1, 2})`
//! prints `{1, 2, 3}` as CPython does. A string's hash changes from run to
//! run in CPython (hash randomisation), so a set with any other element
//! iterates in insertion order: one order CPython may show, and the same
//! every run here.

use std::cell::RefCell;
use std::rc::Rc;

use super::code::{BinOp, CmpOp};
use super::errors::Exc;
use super::value::{Dict, Value};
use super::vm::{PyResult, Vm};

/// The methods of a set.
pub(crate) const METHODS: &[&str] = &[
    "add",
    "discard",
    "remove",
    "pop",
    "clear",
    "copy",
    "update",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
    "issubset",
    "issuperset",
    "isdisjoint",
];

/// A set of `items` (duplicates dropped, the first kept).
pub(crate) fn new(vm: &mut Vm<'_>, items: impl IntoIterator<Item = Value>) -> PyResult<Value> {
    let mut d = Dict::default();
    for v in items {
        let key = vm.key(&v)?;
        if d.get(&key).is_none() {
            d.insert(key, v, Value::None);
        }
    }
    Ok(Value::Set(Rc::new(RefCell::new(d))))
}

/// The elements, in the order the set iterates.
pub(crate) fn elements(d: &RefCell<Dict>) -> Vec<Value> {
    let items: Vec<Value> = d.borrow().items().map(|(k, _)| k.clone()).collect();
    if !super::compile::PARSER {
        // The light module: no preset makes a set.
        return items;
    }
    let hashes = d
        .borrow()
        .ordered_keys()
        .into_iter()
        .map(|k| super::hashing::of(k).map(|h| h as u64))
        .collect::<Option<Vec<u64>>>();
    match hashes {
        Some(hashes) if items.len() > 1 => {
            let constants = (d.borrow().constants as usize).min(hashes.len());
            table_order(items, &hashes, constants, d.borrow().frozen)
        }
        _ => items,
    }
}

/// Where CPython 3.11's set table (`Objects/setobject.c`) puts `items`
/// added one by one in this order, read back slot by slot ([`Table`]).
/// That is the order of a set built by adding (`add`, a comprehension,
/// `set(a_list)`, a literal with a name in it or of at most 2 constants);
/// checked against CPython on 2,000 random sets. The first `constants` are
/// a literal's that CPython built from a frozenset ([`literal`]). Not
/// replayed, so their order may differ: removals, which leave dummies in
/// CPython's table; and CPython's other merges, which size the table first
/// (`set(a_set)`, `|`).
fn table_order(items: Vec<Value>, hashes: &[u64], constants: usize, frozen: bool) -> Vec<Value> {
    let mut table = if constants > 0 { literal(&hashes[..constants], !frozen) } else { Table::new(8) };
    for item in constants..hashes.len() {
        table.add(hashes, item);
    }
    let mut items: Vec<Option<Value>> = items.into_iter().map(Some).collect();
    table.order().filter_map(|i| items[i].take()).collect()
}

/// The table of a literal `{...}` of constants, as CPython 3.11 makes it:
/// the compiler builds a frozenset of them, then again from that one's
/// order (merging constants); `merged` (a literal's value, not what `for`
/// iterates), `SET_UPDATE` merges it into an empty set: copied slot for
/// slot when the tables are the same size, else inserted in its order into
/// one sized for twice the count.
fn literal(hashes: &[u64], merged: bool) -> Table {
    let n = hashes.len();
    let first = Table::built(hashes, 0..n);
    let second = Table::built(hashes, first.order());
    if !merged {
        return second;
    }
    let size = if n * 5 >= 7 * 3 { Table::above(n * 2) } else { 8 };
    if size == second.slots.len() {
        return second;
    }
    let mut table = Table::new(size);
    second.order().for_each(|i| table.insert(hashes[i], i));
    table
}

/// A CPython set's hash table, of indices into the elements.
struct Table {
    slots: Vec<Option<usize>>,
    used: usize,
}

impl Table {
    fn new(size: usize) -> Table {
        Table { slots: vec![None; size], used: 0 }
    }

    /// The size `set_table_resize` picks for `minused`: the smallest power
    /// of two from 8 above it.
    fn above(minused: usize) -> usize {
        let mut size = 8;
        while size <= minused {
            size <<= 1;
        }
        size
    }

    /// A table that `items` were added to, in this order.
    fn built(hashes: &[u64], items: impl Iterator<Item = usize>) -> Table {
        let mut table = Table::new(8);
        items.for_each(|i| table.add(hashes, i));
        table
    }

    /// The items, slot by slot: the order the set iterates.
    fn order(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().flatten().copied()
    }

    /// `set_insert_clean`: the first free slot along `hash`'s probes,
    /// linear ones then perturbed.
    fn insert(&mut self, hash: u64, item: usize) {
        const LINEAR_PROBES: usize = 9;
        const PERTURB_SHIFT: u32 = 5;
        self.used += 1;
        let mask = self.slots.len() - 1;
        let mut perturb = hash;
        let mut i = hash as usize & mask;
        loop {
            let probes = if i + LINEAR_PROBES <= mask { LINEAR_PROBES } else { 0 };
            if let Some(slot) = self.slots[i..=i + probes].iter_mut().find(|slot| slot.is_none()) {
                *slot = Some(item);
                return;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb as usize)) & mask;
        }
    }

    /// `set_add_entry`: inserts, and once 60 % full moves to a table for 4
    /// times the count (twice, past 50,000), filled again in slot order.
    fn add(&mut self, hashes: &[u64], item: usize) {
        self.insert(hashes[item], item);
        let used = self.used;
        if used * 5 >= (self.slots.len() - 1) * 3 {
            let old =
                std::mem::replace(self, Table::new(Table::above(if used > 50_000 { used * 2 } else { used * 4 })));
            old.order().for_each(|i| self.insert(hashes[i], i));
        }
    }
}

fn has(vm: &mut Vm<'_>, d: &RefCell<Dict>, v: &Value) -> PyResult<bool> {
    let key = vm.key(v)?;
    Ok(d.borrow().get(&key).is_some())
}

/// `x in s`.
pub(crate) fn contains(vm: &mut Vm<'_>, d: &RefCell<Dict>, v: &Value) -> PyResult<bool> {
    has(vm, d, v)
}

/// `a == b` for two sets.
pub(crate) fn equal(a: &RefCell<Dict>, b: &RefCell<Dict>) -> bool {
    let (a, b) = (a.borrow(), b.borrow());
    a.len() == b.len() && a.keys().all(|k| b.has(k))
}

/// `repr(s)`: `{1, 2}`, or `set()` when empty.
pub(crate) fn repr(vm: &mut Vm<'_>, d: &RefCell<Dict>) -> PyResult<String> {
    let items = elements(d);
    let parts = items.iter().map(|x| vm.repr_of(x)).collect::<PyResult<Vec<_>>>()?;
    if frozen(d) {
        return Ok(frozen_repr(parts.join(", ")));
    }
    if items.is_empty() {
        return Ok("set()".to_owned());
    }
    Ok(format!("{{{}}}", parts.join(", ")))
}

/// Whether the set is a `frozenset` (only the full module makes them:
/// `extras::HERE`, which lets the light module's optimiser drop their code).
pub(crate) fn frozen(d: &RefCell<Dict>) -> bool {
    super::extras::HERE && d.borrow().frozen
}

/// A frozenset's repr from its elements': `frozenset({1, 2})`, `frozenset()`.
pub(crate) fn frozen_repr(elements: String) -> String {
    if elements.is_empty() {
        return "frozenset()".to_owned();
    }
    format!("frozenset({{{elements}}})")
}

/// `s`, a new set, made a frozenset when `freeze`.
pub(crate) fn frozen_if(s: Value, freeze: bool) -> Value {
    if let (Value::Set(d), true) = (&s, freeze) {
        d.borrow_mut().frozen = true;
    }
    s
}

/// The methods that change a set, which a frozenset does not have.
const CHANGING: &[&str] = &["add", "discard", "remove", "pop", "clear", "update"];

/// The set method `name` of `d`, if it has it.
pub(crate) fn has_method(d: &RefCell<Dict>, name: &str) -> Option<&'static str> {
    let m = METHODS.iter().find(|m| **m == name).copied()?;
    (!(frozen(d) && CHANGING.contains(&m))).then_some(m)
}

/// The elements of a method's iterable argument.
fn other(vm: &mut Vm<'_>, v: &Value) -> PyResult<Vec<Value>> {
    match v {
        Value::Set(d) => Ok(elements(d)),
        v => vm.collect(v),
    }
}

/// `a | b`, `a & b`, `a - b`, `a ^ b` on two sets; `None` for other operators.
pub(crate) fn binary(vm: &mut Vm<'_>, op: BinOp, a: &RefCell<Dict>, b: &RefCell<Dict>) -> PyResult<Option<Value>> {
    let (x, y) = (elements(a), elements(b));
    // The result is of the left operand's type, as in CPython.
    let freeze = frozen(a);
    let v = match op {
        BinOp::BitOr => new(vm, x.into_iter().chain(y))?,
        BinOp::BitAnd | BinOp::Sub => {
            let kept = keep(vm, x, b, op == BinOp::BitAnd)?;
            new(vm, kept)?
        }
        BinOp::BitXor => {
            let left = keep(vm, x, b, false)?;
            let right = keep(vm, y, a, false)?;
            new(vm, left.into_iter().chain(right))?
        }
        _ => return Ok(None),
    };
    Ok(Some(frozen_if(v, freeze)))
}

/// The items that are (`inside`) or are not in `d`.
fn keep(vm: &mut Vm<'_>, items: Vec<Value>, d: &RefCell<Dict>, inside: bool) -> PyResult<Vec<Value>> {
    let mut out = Vec::new();
    for v in items {
        if has(vm, d, &v)? == inside {
            out.push(v);
        }
    }
    Ok(out)
}

/// `a <= b` and friends on sets: subset and superset tests.
pub(crate) fn compare(vm: &mut Vm<'_>, op: CmpOp, a: &RefCell<Dict>, b: &RefCell<Dict>) -> PyResult<Option<bool>> {
    let subset = |vm: &mut Vm<'_>, x: &RefCell<Dict>, y: &RefCell<Dict>| -> PyResult<bool> {
        for v in elements(x) {
            if !has(vm, y, &v)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let (la, lb) = (a.borrow().len(), b.borrow().len());
    Ok(Some(match op {
        CmpOp::Le => subset(vm, a, b)?,
        CmpOp::Lt => la < lb && subset(vm, a, b)?,
        CmpOp::Ge => subset(vm, b, a)?,
        CmpOp::Gt => la > lb && subset(vm, b, a)?,
        _ => return Ok(None),
    }))
}

/// Calls the set method `name` of `d`.
pub(crate) fn method(vm: &mut Vm<'_>, name: &str, d: &RefCell<Dict>, args: &[Value]) -> PyResult<Value> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let one = |vm: &mut Vm<'_>| -> PyResult<Value> {
        match args.len() {
            1 => Ok(arg(0)),
            n => Err(vm.type_error(&format!("set.{name}() takes exactly one argument ({n} given)"))),
        }
    };
    Ok(match name {
        "add" => {
            let v = one(vm)?;
            let key = vm.key(&v)?;
            if d.borrow().get(&key).is_none() {
                d.borrow_mut().insert(key, v, Value::None);
            }
            Value::None
        }
        "discard" | "remove" => {
            let v = one(vm)?;
            let key = vm.key(&v)?;
            if d.borrow_mut().remove(&key).is_none() && name == "remove" {
                let class = vm.rt.exc_class("KeyError");
                return Err(Exc::new(vm.rt.new_exc(&class, vec![v])));
            }
            Value::None
        }
        "pop" => {
            let first = d.borrow().items().next().map(|(k, _)| k.clone());
            let Some(v) = first else { return Err(vm.rt.error("KeyError", "pop from an empty set")) };
            let key = vm.key(&v)?;
            d.borrow_mut().remove(&key);
            v
        }
        "clear" => {
            *d.borrow_mut() = Dict::default();
            Value::None
        }
        // A frozenset's copy is a frozenset (CPython's is the same object).
        "copy" => frozen_if(new(vm, elements(d))?, frozen(d)),
        "update" => {
            for a in args {
                for v in other(vm, a)? {
                    let key = vm.key(&v)?;
                    if d.borrow().get(&key).is_none() {
                        d.borrow_mut().insert(key, v, Value::None);
                    }
                }
            }
            Value::None
        }
        "union" | "intersection" | "difference" | "symmetric_difference" => {
            let op = match name {
                "union" => BinOp::BitOr,
                "intersection" => BinOp::BitAnd,
                "difference" => BinOp::Sub,
                _ => BinOp::BitXor,
            };
            let mut acc = frozen_if(new(vm, elements(d))?, frozen(d));
            for a in args {
                let items = other(vm, a)?;
                let b = new(vm, items)?;
                if let (Value::Set(x), Value::Set(y)) = (&acc, &b) {
                    acc = binary(vm, op, x, y)?.unwrap_or_default();
                }
            }
            acc
        }
        "issubset" | "issuperset" | "isdisjoint" => {
            let arg = one(vm)?;
            let items = other(vm, &arg)?;
            let b = new(vm, items)?;
            let Value::Set(b) = &b else { unreachable!("new makes a set") };
            match name {
                "issubset" => Value::Bool(compare(vm, CmpOp::Le, d, b)?.unwrap_or(false)),
                "issuperset" => Value::Bool(compare(vm, CmpOp::Ge, d, b)?.unwrap_or(false)),
                _ => Value::Bool(keep(vm, elements(d), b, true)?.is_empty()),
            }
        }
        _ => return Err(vm.rt.error("AttributeError", &format!("'set' object has no attribute '{name}'"))),
    })
}
