//! What an instruction costs: CPU time by kind, as CPython 3.11 spends it.
//!
//! Fitted to CPython 3.11.7's thread CPU time on the fidelity machine
//! (x86_64, 2 cores; 2026-12-04) for thirty small loops
//! (`web/benches/instr_costs.py`, which runs in both): a least-squares fit
//! of one figure per kind (relative errors), rounded, with an allocated
//! result's cost measured on its own ([`result_ns`]) and a call's cost by
//! its callee ([`call_ns`]). Over those loops the simulation's time an
//! iteration is CPython's times 1.00 (geometric mean), all but four within
//! 10 % and none off by more than 21 % (rms of the log ratio 0.09); the
//! worst: `for x in gen()` 1.17x, `while i < n: i += 1` 1.18x, `a, b = t`
//! 1.23x, a string compared with `==` 0.79x.
//!
//! The figures are CPython's once it has specialised the loop (each loop
//! run ten times first). CPython 3.11 quickens a function's code after
//! eight calls or eight backward jumps of a `for` loop; a `while` loop,
//! whose backward jump is conditional, does not count, so a `while` loop
//! in a function called once runs its generic instructions all through
//! (`while i < n: i += 1` 29 ns an iteration against 18.6 specialised).
//! Hot code is nearly always specialised, and the model has one figure per
//! kind. The fit before this one mixed cold figures in: the `while` loop's
//! 29 ns made an allocated int cost 15 ns instead of 6, so ten threads
//! counting to 600 in a `while` under a `for` took 226 ms in the
//! simulation against CPython's 160-167.
//!
//! A flat 10 ns an instruction, the first model, put loops between 0.02x
//! (`class A: pass`) and 4.7x (`for ...: if i < 100 or i == 500`). A
//! call's cost the same for every callee put `l.append(i)` at 1.76x,
//! `isinstance` at 1.43x and `s.endswith(...)` at 0.58x: CPython turns the
//! first two into single instructions and parses a string method's
//! arguments.
//!
//! CPython's ns an iteration (specialised), then the simulation's:
//! `for _ in range(n): pass` 13.2, 12.9; `f()` 32.5, 32.9; `x = o.a` 17.6,
//! 17.0; `d[1]` 26.5, 26.8; `t = (i, i)` 36.2, 37.7; `f"n={i}"` 85.9,
//! 85.7; `x = (x + i * 3) % 1000` 58.5, 55.3; `l.append(i)` 21.6, 21.0;
//! `with lock: pass` 163.0, 161.5; counter-race.py's loop
//! (`VARIANT.endswith(...)`, a string compare, `hits += 1` on a global)
//! 98.1, 96.7; `class A: pass` 4592, 4809. CPython's own figures move by
//! 10-40 % between days on this machine (the counter-race loop measured
//! 149-165 ns on 2026-12-02).

use super::code::Instr;
use super::value::Value;

/// What making an arithmetic result costs beyond the operation: CPython
/// keeps the ints -5 to 256 (and `True`, `False`, `None`) made once, and
/// allocates every other int, every float and every new string or list
/// (`while i < 200: i += 1` 13.8 ns an iteration, `while i < 21000` from
/// 1000, 20.5; both warm).
pub(crate) fn result_ns(v: &Value) -> u64 {
    match v {
        Value::Int(i) if (-5..=256).contains(i) => 0,
        Value::Bool(_) | Value::None => 0,
        _ => 6,
    }
}

/// CPU time `instr` costs, in nanoseconds (a call's callee is charged by
/// [`call_ns`]; its instructions, for Python code, cost their own).
pub(crate) fn instr_ns(instr: Instr) -> u64 {
    use Instr::*;
    match instr {
        // Stack, locals, constants, jumps and blocks: CPython's cheapest.
        Const(_) | Pop | Dup | Rot2 | Rot3 | LoadFast(_) | StoreFast(_) | LoadDeref(_) | StoreDeref(_)
        | DeleteFast(_) | Jump(_) | Loop(_) | JumpIfFalse(_) | JumpIfTrue(_) | JumpIfFalseOrPop(_)
        | JumpIfTrueOrPop(_) | SetupExcept(_) | PopBlock | PopExcept | AssertFail(_) | Coroutine => 1,
        Return => 1,
        // Specialised to an instance's own slot (LOAD_ATTR_INSTANCE_VALUE).
        LoadAttr(_) | StoreAttr(_) | DeleteAttr(_) => 2,
        // Specialised to two ints (COMPARE_OP_INT_JUMP) or two strings.
        Compare(_) | ExcMatch => 2,
        // A collection's item in place, no allocation.
        UnpackSeq(_) | UnpackEx(..) | ListAppend(_) | SetAdd(_) | DictSet(_) | DictMerge => 4,
        // A dictionary look-up by name.
        LoadGlobal(_) | StoreGlobal(_) | LoadName(_) | StoreName(_) | DeleteGlobal(_) | DeleteName(_) => 4,
        // Its result's allocation, if any, is `result_ns`.
        Binary(_) | Inplace(_) | Unary(_) => 7,
        Yield | Send(_) | GetAwaitable => 5,
        GetIter => 8,
        ForIter(_) => 11,
        // A container's item by key: hashing, probing.
        Subscr | StoreSubscr | DelSubscr => 11,
        Import(_) | ImportPackage(_) | ImportFrom(_) => 16,
        // The call itself is `call_ns`; this is the keywords' handling.
        Call(_) => 0,
        CallKw(..) | CallEx(_) => 17,
        BuildTuple(_) | BuildList(_) | BuildDict(_) | BuildSet(_) | BuildConstSet(..) | BuildSlice => 22,
        FormatValue(..) | BuildString(_) => 35,
        MakeFunction { .. } => 50,
        // `__enter__` and `__exit__` looked up and called.
        WithEnter | WithExit(_) => 70,
        // The exception, its traceback, the unwinding.
        Raise(_) => 110,
        // A new type: its dict, its MRO, its slots.
        MakeClass { .. } => 4800,
    }
}

/// CPU time a call costs by what it calls, in nanoseconds: a Python
/// function's frame, or a built-in's work. CPython 3.11 turns calls of
/// `len`, `isinstance` and `list.append` into single instructions
/// (PRECALL_NO_KW_LEN, _ISINSTANCE, _LIST_APPEND), while a string method
/// parses its arguments and does its work (`s.endswith("-locked")` 52 ns
/// with its loading, against 13 for `len(s)`).
pub(crate) fn call_ns(callee: &Value) -> u64 {
    match callee {
        Value::Builtin(b) => match (&b.this, b.name) {
            (None, "len" | "isinstance") | (Some(Value::List(_)), "append") => 3,
            (Some(Value::Str(_)), _) => 46,
            _ => 13,
        },
        _ => 13,
    }
}
