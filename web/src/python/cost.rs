//! What an instruction costs: CPU time by kind, as CPython 3.11 spends it.
//!
//! Fitted to CPython 3.11.7's thread CPU time on the fidelity machine
//! (x86_64, 2 cores, quiet; 2026-12-04) for thirty small loops
//! (`web/benches/instr_costs.py`, which runs in both): a least-squares fit
//! of one figure per kind, rounded. Over those loops the simulation's time
//! an iteration is CPython's times 0.98 (geometric mean), most within
//! 25 %; the worst are calls of built-ins, which cost what their callee
//! does (`l.append(i)` 1.67x, `isinstance` 1.37x, `s.endswith(...)` 0.57x).
//! A flat 10 ns an instruction, the figure before, put them between 0.02x
//! (`class A: pass`) and 4.7x (`for ...: if i < 100 or i == 500`), 1.86x
//! at the geometric mean (`pass` in a `for` 30 ns against 15; `while i <
//! n: i += 1` 90 against 29), so CPU-bound Python threads did less work
//! in a switch interval than CPython's and handed the GIL over more often:
//! ten threads each running a 600-step local loop 1500 times handed it
//! over about 150 times a run, now 40-43, CPython 23-28
//! (`web/benches/gil_handoffs.py`; CPython holds it about 7 ms, not
//! the 5 ms switch interval, which the model does not explain yet).
//!
//! CPython's ns an iteration, then the simulation's: `for _ in range(n):
//! pass` 15.1, 9.9; `while i < n: i += 1` 29.2, 30.6; `f()` 33.5, 34.1;
//! `x = o.a` 18.1, 20.9; `t = (i, i)` 38.4, 37.8; `f"n={i}"` 88.3, 82.6;
//! `x = (x + i * 3) % 1000` 60.9, 67.5; `with lock: pass` 162.9, 158.1;
//! counter-race.py's loop (`VARIANT.endswith(...)`, a string compare,
//! `hits += 1` on a global) 95.5, 83.6; `class A: pass` 4559, 4802.
//! CPython's own figures move by 10-40 % between days on this machine
//! (the counter-race loop measured 149-165 ns on 2026-12-02).

use super::code::Instr;
use super::value::Value;

/// What making an arithmetic result costs beyond the operation: CPython
/// keeps the ints -5 to 256 (and `True`, `False`, `None`) made once, and
/// allocates every other int, every float and every new string or list
/// (`while i < 200: i += 1` 13.6 ns an iteration, `while i < 21000` from
/// 1000, 29.3).
pub(crate) fn result_ns(v: &Value) -> u64 {
    match v {
        Value::Int(i) if (-5..=256).contains(i) => 0,
        Value::Bool(_) | Value::None => 0,
        _ => 15,
    }
}

/// CPU time `instr` costs, in nanoseconds (its callee's instructions, for
/// a call of Python code, cost their own).
pub(crate) fn instr_ns(instr: Instr) -> u64 {
    use Instr::*;
    match instr {
        // Stack, locals, constants, jumps and blocks: CPython's cheapest.
        Const(_) | Pop | Dup | Rot2 | Rot3 | LoadFast(_) | StoreFast(_) | LoadDeref(_) | StoreDeref(_)
        | DeleteFast(_) | Jump(_) | Loop(_) | JumpIfFalse(_) | JumpIfTrue(_) | JumpIfFalseOrPop(_)
        | JumpIfTrueOrPop(_) | SetupExcept(_) | PopBlock | PopExcept | AssertFail(_) | Coroutine => 1,
        Return => 1,
        // A collection's item in place, no allocation.
        UnpackSeq(_) | UnpackEx(..) | ListAppend(_) | SetAdd(_) | DictSet(_) | DictMerge => 4,
        // A dictionary look-up by name.
        LoadGlobal(_) | StoreGlobal(_) | LoadName(_) | StoreName(_) | DeleteGlobal(_) | DeleteName(_) => 5,
        Compare(_) | ExcMatch => 5,
        GetIter | ForIter(_) => 8,
        LoadAttr(_) | StoreAttr(_) | DeleteAttr(_) | Subscr | StoreSubscr | DelSubscr => 9,
        // Its result's allocation, if any, is `result_ns`.
        Binary(_) | Inplace(_) | Unary(_) => 4,
        Yield | Send(_) | GetAwaitable => 10,
        Call(_) | Import(_) | ImportPackage(_) | ImportFrom(_) => 16,
        BuildTuple(_) | BuildList(_) | BuildDict(_) | BuildSet(_) | BuildSlice => 25,
        CallKw(..) | CallEx(_) => 30,
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
