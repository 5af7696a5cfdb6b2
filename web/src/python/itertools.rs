//! `itertools` and the lazy `zip`, `map`, `filter` and `enumerate`:
//! iterators that take their sources' values one at a time, as CPython's
//! do, so that `islice(count(), 3)` and `zip(count(), names)` end and
//! `map(f, xs)` calls `f` only as its values are asked for. Their state is an [`Iter`] like any
//! iterator's; [`next`] steps it. `product`, `permutations` and
//! `combinations` read their whole input first in CPython too, and are
//! built at once here (bounded by [`ops::sized`]).

use std::cell::RefCell;
use std::rc::Rc;

use super::builtins::iter_of;
use super::code::BinOp;
use super::ops;
use super::value::{Iter, Value, ZipEnd};
use super::vm::{Kw, PyResult, Vm};

/// Whether this build has `itertools`: the full module does, with the
/// parser (`compile::PARSER`); the light module runs only precompiled
/// presets, none of which imports it (`tests/precompiled.rs` checks), so
/// its code is left out there (about 5 KB of the module's brotli). `zip`
/// is everywhere.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The module's functions.
pub(crate) const FUNCTIONS: &[&str] = &[
    "count",
    "islice",
    "chain",
    "repeat",
    "cycle",
    "product",
    "permutations",
    "combinations",
    "zip_longest",
    "accumulate",
];

fn lazy(it: Iter) -> Value {
    Value::Iter(Rc::new(RefCell::new(it)))
}

fn kw(kwargs: &Kw, name: &str) -> Option<Value> {
    kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.clone())
}

/// Argument `i`, or keyword `name`.
fn arg(args: &[Value], kwargs: &Kw, i: usize, name: &str) -> Option<Value> {
    args.get(i).cloned().or_else(|| kw(kwargs, name))
}

/// An `islice` index: `None` (the default) or an int from 0 up.
fn index(vm: &Vm<'_>, v: Option<&Value>, what: &str) -> PyResult<Option<i64>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Int(i)) if *i >= 0 => Ok(Some(*i)),
        Some(_) => Err(vm
            .rt
            .error("ValueError", &format!("{what} for islice() must be None or an integer: 0 <= x <= sys.maxsize."))),
    }
}

/// `r=` of `permutations`/`combinations`: an int from 0 up.
fn r_arg(vm: &Vm<'_>, v: Option<Value>, default: usize) -> PyResult<usize> {
    match v {
        None | Some(Value::None) => Ok(default),
        Some(Value::Int(r)) if r >= 0 => Ok(r as usize),
        Some(Value::Int(_)) => Err(vm.rt.error("ValueError", "r must be non-negative")),
        Some(other) => {
            Err(vm.type_error(&format!("'{}' object cannot be interpreted as an integer", other.type_name())))
        }
    }
}

/// Calls `itertools.<name>`.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    if !HERE {
        return Err(vm.type_error("itertools is in the full module only"));
    }
    let need = |vm: &Vm<'_>, n: usize| {
        if args.len() < n {
            Err(vm.type_error(&format!("{name}() expected at least {n} argument{}", if n == 1 { "" } else { "s" })))
        } else {
            Ok(())
        }
    };
    Ok(match name {
        "count" => {
            let start = arg(&args, &kwargs, 0, "start").unwrap_or(Value::Int(0));
            let step = arg(&args, &kwargs, 1, "step").unwrap_or(Value::Int(1));
            for v in [&start, &step] {
                if !matches!(v, Value::Int(_) | Value::Bool(_) | Value::Float(_)) {
                    return Err(vm.type_error("a number is required"));
                }
            }
            lazy(Iter::Count(start, step))
        }
        "repeat" => {
            need(vm, 1)?;
            let times = match arg(&args, &kwargs, 1, "times") {
                None => None,
                Some(Value::Int(n)) => Some(n.max(0)),
                Some(other) => {
                    let t = other.type_name();
                    return Err(vm.type_error(&format!("'{t}' object cannot be interpreted as an integer")));
                }
            };
            lazy(Iter::Repeat(args[0].clone(), times))
        }
        "cycle" => {
            need(vm, 1)?;
            lazy(Iter::Cycle(Some(vm.iter(&args[0])?), Vec::new(), 0))
        }
        "chain" => lazy(Iter::Chain(vm.iter(&Value::tuple(args))?, None)),
        "chain.from_iterable" => {
            need(vm, 1)?;
            lazy(Iter::Chain(vm.iter(&args[0])?, None))
        }
        "islice" => {
            if !(2..=4).contains(&args.len()) {
                return Err(vm.type_error("islice expected 2 to 4 arguments"));
            }
            let src = vm.iter(&args[0])?;
            let (start, stop) = if args.len() == 2 {
                (None, index(vm, args.get(1), "Stop argument")?)
            } else {
                (index(vm, args.get(1), "Indices")?, index(vm, args.get(2), "Indices")?)
            };
            let step = match args.get(3) {
                None | Some(Value::None) => 1,
                Some(Value::Int(s)) if *s > 0 => *s,
                Some(_) => {
                    return Err(vm.rt.error("ValueError", "Step for islice() must be a positive integer or None."))
                }
            };
            lazy(Iter::Islice { src: Some(src), taken: 0, next: start.unwrap_or(0), stop, step })
        }
        "accumulate" => {
            need(vm, 1)?;
            let func = arg(&args, &kwargs, 1, "func").unwrap_or_default();
            let initial = kw(&kwargs, "initial").filter(|v| !matches!(v, Value::None));
            lazy(Iter::Accumulate { src: vm.iter(&args[0])?, total: None, func, initial })
        }
        "zip_longest" => {
            let its = args.iter().map(|a| vm.iter(a).map(Some)).collect::<PyResult<Vec<_>>>()?;
            lazy(Iter::Zip { its, end: ZipEnd::Fill(kw(&kwargs, "fillvalue").unwrap_or_default()) })
        }
        "product" => {
            let repeat = match kw(&kwargs, "repeat") {
                None => 1,
                Some(Value::Int(n)) if n >= 0 => n as usize,
                Some(_) => return Err(vm.rt.error("ValueError", "repeat argument cannot be negative")),
            };
            let pools = args.iter().map(|a| vm.collect(a)).collect::<PyResult<Vec<_>>>()?;
            let pools: Vec<&Vec<Value>> = (0..repeat).flat_map(|_| pools.iter()).collect();
            let total = pools.iter().fold(1usize, |n, p| n.saturating_mul(p.len()));
            ops::sized(vm, total)?;
            let mut out: Vec<Vec<Value>> = vec![Vec::new()];
            for pool in pools {
                out = out
                    .iter()
                    .flat_map(|head| pool.iter().map(move |x| [&head[..], std::slice::from_ref(x)].concat()))
                    .collect();
            }
            iter_of(out.into_iter().map(Value::tuple).collect())
        }
        "permutations" | "combinations" => {
            need(vm, 1)?;
            let pool = vm.collect(&args[0])?;
            let r = arg(&args, &kwargs, 1, "r");
            if name == "combinations" && r.is_none() {
                return Err(vm.type_error("combinations() missing required argument 'r' (pos 2)"));
            }
            let r = r_arg(vm, r, pool.len())?;
            let mut out = Vec::new();
            let mut chosen = Vec::with_capacity(r);
            pick(vm, &pool, r, name == "permutations", &mut chosen, &mut out)?;
            iter_of(out)
        }
        _ => return Err(vm.type_error(&format!("itertools.{name}() is not supported"))),
    })
}

/// The `r`-tuples of `pool`'s items by index, in CPython's (lexicographic)
/// order: every ordering (`permutations`) or increasing indices only
/// (`combinations`). `chosen` holds the indices picked so far.
fn pick(
    vm: &Vm<'_>,
    pool: &[Value],
    r: usize,
    every_order: bool,
    chosen: &mut Vec<usize>,
    out: &mut Vec<Value>,
) -> PyResult<()> {
    if chosen.len() == r {
        ops::sized(vm, out.len() + 1)?;
        out.push(Value::tuple(chosen.iter().map(|&i| pool[i].clone()).collect()));
        return Ok(());
    }
    let from = if every_order { 0 } else { chosen.last().map_or(0, |&i| i + 1) };
    for i in from..pool.len() {
        if every_order && chosen.contains(&i) {
            continue;
        }
        chosen.push(i);
        pick(vm, pool, r, every_order, chosen, out)?;
        chosen.pop();
    }
    Ok(())
}

/// The next value of a lazy iterator (`None`: it ended). The state is
/// borrowed only between calls into the sources, which may run Python
/// code (a generator) that uses this same iterator.
pub(crate) fn next(vm: &mut Vm<'_>, cell: &RefCell<Iter>) -> PyResult<Option<Value>> {
    // A lazy iterator over a lazy iterator over ... asks each in turn: Rust
    // recursion, bounded as a built-in's calls into Python are (100,000
    // nested `zip`s overflowed the stack).
    vm.nest(|vm| next_of(vm, cell))
}

fn next_of(vm: &mut Vm<'_>, cell: &RefCell<Iter>) -> PyResult<Option<Value>> {
    let zip = match &*cell.borrow() {
        Iter::Zip { its, end } => Some((its.clone(), end.clone())),
        _ => None,
    };
    if let Some((its, end)) = zip {
        return zip_next(vm, cell, its, end);
    }
    if !HERE {
        return Ok(None);
    }
    let state = |f: &mut dyn FnMut(&mut Iter)| f(&mut cell.borrow_mut());
    // What the step needs of the state, cloned (not an `Iter`: that one's
    // drop buries what it holds, so it cannot be taken apart by value).
    enum Snapshot {
        Count(Value, Value),
        Cycle(Option<Value>),
        Chain(Value, Option<Value>),
        Accumulate { src: Value, total: Option<Value>, func: Value },
        Map(Value, Vec<Value>),
        Filter(Value, Value),
        Enumerate(Value, i64),
        InPlace,
    }
    let snapshot = match &*cell.borrow() {
        Iter::Count(v, step) => Snapshot::Count(v.clone(), step.clone()),
        Iter::Cycle(src, ..) => Snapshot::Cycle(src.clone()),
        Iter::Chain(outer, inner) => Snapshot::Chain(outer.clone(), inner.clone()),
        Iter::Accumulate { src, total, func, .. } => {
            Snapshot::Accumulate { src: src.clone(), total: total.clone(), func: func.clone() }
        }
        Iter::Map { func, its } => Snapshot::Map(func.clone(), its.clone()),
        Iter::Filter { func, src } => Snapshot::Filter(func.clone(), src.clone()),
        Iter::Enumerate { src, count } => Snapshot::Enumerate(src.clone(), *count),
        _ => Snapshot::InPlace,
    };
    Ok(match snapshot {
        Snapshot::Count(v, step) => {
            let after = ops::binary(vm, BinOp::Add, &v, &step, false)?;
            state(&mut |it| *it = Iter::Count(after.clone(), step.clone()));
            Some(v)
        }
        Snapshot::Cycle(Some(src)) => match vm.next(&src)? {
            Some(v) => {
                state(&mut |it| {
                    if let Iter::Cycle(_, saved, _) = it {
                        saved.push(v.clone());
                    }
                });
                Some(v)
            }
            None => {
                state(&mut |it| {
                    if let Iter::Cycle(src, ..) = it {
                        *src = None;
                    }
                });
                next(vm, cell)?
            }
        },
        Snapshot::Cycle(None) => {
            let mut out = None;
            state(&mut |it| {
                if let Iter::Cycle(_, saved, i) = it {
                    if !saved.is_empty() {
                        out = Some(saved[*i % saved.len()].clone());
                        *i += 1;
                    }
                }
            });
            out
        }
        Snapshot::Chain(outer, inner) => {
            let mut inner = inner;
            loop {
                if let Some(it) = &inner {
                    if let Some(v) = vm.next(it)? {
                        break Some(v);
                    }
                }
                inner = match vm.next(&outer)? {
                    Some(iterable) => Some(vm.iter(&iterable)?),
                    None => None,
                };
                let now = inner.clone();
                state(&mut |it| *it = Iter::Chain(outer.clone(), now.clone()));
                if inner.is_none() {
                    break None;
                }
            }
        }
        Snapshot::Accumulate { src, total, func } => {
            let mut first = None;
            state(&mut |it| {
                if let Iter::Accumulate { initial, .. } = it {
                    first = initial.take();
                }
            });
            let v = match first {
                Some(initial) => Some(initial),
                None => match vm.next(&src)? {
                    None => None,
                    Some(x) => Some(match (total, &func) {
                        (None, _) => x,
                        (Some(t), Value::None) => ops::binary(vm, BinOp::Add, &t, &x, false)?,
                        (Some(t), f) => vm.call_nested(f.clone(), vec![t, x])?,
                    }),
                },
            };
            if let Some(v) = &v {
                state(&mut |it| {
                    if let Iter::Accumulate { total, .. } = it {
                        *total = Some(v.clone());
                    }
                });
            }
            v
        }
        Snapshot::Map(func, its) => {
            let mut row = Vec::with_capacity(its.len());
            for it in &its {
                match vm.next(it)? {
                    Some(v) => row.push(v),
                    None => return Ok(None),
                }
            }
            Some(vm.call_nested(func, row)?)
        }
        Snapshot::Filter(func, src) => loop {
            let Some(x) = vm.next(&src)? else { break None };
            let keep = match &func {
                Value::None => vm.truth(&x)?,
                f => {
                    let verdict = vm.call_nested(f.clone(), vec![x.clone()])?;
                    vm.truth(&verdict)?
                }
            };
            if keep {
                break Some(x);
            }
        },
        Snapshot::Enumerate(src, count) => match vm.next(&src)? {
            Some(v) => {
                state(&mut |it| {
                    if let Iter::Enumerate { count, .. } = it {
                        *count += 1;
                    }
                });
                Some(Value::tuple(vec![Value::Int(count), v]))
            }
            None => None,
        },
        Snapshot::InPlace => step_in_place(vm, cell)?,
    })
}

/// The next row of `zip` or `zip_longest`, whose sources are `its` (`None`
/// for each one `zip_longest` saw end).
fn zip_next(vm: &mut Vm<'_>, cell: &RefCell<Iter>, its: Vec<Option<Value>>, end: ZipEnd) -> PyResult<Option<Value>> {
    let mut row = Vec::with_capacity(its.len());
    let mut ended = Vec::new();
    for (i, src) in its.iter().enumerate() {
        let v = match src {
            Some(s) => vm.next(s)?,
            None => None,
        };
        match (v, &end) {
            (Some(v), _) => row.push(v),
            (None, ZipEnd::Strict) if HERE => return strict_end(vm, &its, i),
            // `zip` ends with its first source to end.
            (None, ZipEnd::Stop | ZipEnd::Strict) => return Ok(None),
            (None, ZipEnd::Fill(f)) => {
                if src.is_some() {
                    ended.push(i);
                }
                row.push(f.clone());
            }
        }
    }
    let mut all_ended = false;
    if let Iter::Zip { its, .. } = &mut *cell.borrow_mut() {
        for &i in &ended {
            its[i] = None;
        }
        all_ended = its.iter().all(Option::is_none);
    }
    Ok(if its.is_empty() || all_ended { None } else { Some(Value::tuple(row)) })
}

/// `zip(..., strict=True)` once source `i` has ended: the end if every
/// source ends there, else CPython's ValueError naming the first that does
/// not (one after the first source is shorter, one after a first that
/// ended is longer).
fn strict_end(vm: &mut Vm<'_>, its: &[Option<Value>], i: usize) -> PyResult<Option<Value>> {
    let (odd, what) = if i > 0 {
        (i, "shorter")
    } else {
        let mut longer = None;
        for (j, src) in its.iter().enumerate().skip(1) {
            let Some(src) = src else { continue };
            if vm.next(src)?.is_some() {
                longer = Some(j);
                break;
            }
        }
        match longer {
            Some(j) => (j, "longer"),
            None => return Ok(None),
        }
    };
    let before = if odd == 1 { "argument 1".to_owned() } else { format!("arguments 1-{odd}") };
    Err(vm.rt.error("ValueError", &format!("zip() argument {} is {what} than {before}", odd + 1)))
}

/// The iterators whose step needs no call out: `repeat` and `islice`'s
/// bookkeeping (its source's values are taken by `vm.next` in between).
fn step_in_place(vm: &mut Vm<'_>, cell: &RefCell<Iter>) -> PyResult<Option<Value>> {
    let (src, taken, want, stop) = match &mut *cell.borrow_mut() {
        Iter::Repeat(v, times) => {
            return Ok(match times {
                Some(0) => None,
                Some(n) => {
                    *n -= 1;
                    Some(v.clone())
                }
                None => Some(v.clone()),
            })
        }
        Iter::Islice { src: Some(src), taken, next, stop, .. } => (src.clone(), *taken, *next, *stop),
        _ => return Ok(None),
    };
    // CPython's `islice_next`: skip to the wanted index, stop at `stop`.
    let end = |cell: &RefCell<Iter>| {
        if let Iter::Islice { src, .. } = &mut *cell.borrow_mut() {
            *src = None;
        }
        Ok(None)
    };
    let mut taken = taken;
    while taken < want {
        if vm.next(&src)?.is_none() {
            return end(cell);
        }
        taken += 1;
    }
    if stop.is_some_and(|s| taken >= s) {
        return end(cell);
    }
    let Some(v) = vm.next(&src)? else { return end(cell) };
    if let Iter::Islice { taken: t, next, stop, step, .. } = &mut *cell.borrow_mut() {
        *t = taken + 1;
        *next = want.saturating_add(*step);
        if let Some(s) = *stop {
            *next = (*next).min(s);
        }
    }
    Ok(Some(v))
}
