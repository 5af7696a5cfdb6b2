//! Compiled code: a flat instruction list per code object (module, function,
//! class body, lambda, comprehension), each instruction with its source
//! position, so a traceback or a compile error can name `FILE:LINE:COL`.
//!
//! The VM's frames hold a program counter into this list, which is what lets
//! a simulated thread stop before any instruction and resume later.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::value::Value;

/// Binary operators (`+`, `-`, ...), shared by `a + b` and `a += b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    LShift,
    RShift,
    BitAnd,
    BitOr,
    BitXor,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "** or pow()",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
        }
    }
}

/// Comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Is,
    IsNot,
    In,
    NotIn,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum UnOp {
    Neg,
    Pos,
    Not,
    Invert,
}

/// One instruction. Operands index the code object's `consts` or `names`,
/// or are jump targets (instruction indices).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) enum Instr {
    Const(u32),
    Pop,
    Dup,
    /// Swaps the top two values.
    Rot2,
    /// Moves the top value under the next two.
    Rot3,
    LoadFast(u32),
    StoreFast(u32),
    LoadDeref(u32),
    StoreDeref(u32),
    /// A module-level name: shared between threads.
    LoadGlobal(u32),
    StoreGlobal(u32),
    /// A name in a class body: the class namespace, then globals.
    LoadName(u32),
    StoreName(u32),
    LoadAttr(u32),
    StoreAttr(u32),
    Subscr,
    StoreSubscr,
    DelSubscr,
    /// `del x` of a function's local, a global, a class body's name.
    DeleteFast(u32),
    DeleteGlobal(u32),
    DeleteName(u32),
    /// `del obj.name`.
    DeleteAttr(u32),
    /// Builds a slice from three values (None for a missing part).
    BuildSlice,
    Binary(BinOp),
    /// `a op= b`: lists extend in place, everything else as `Binary`.
    Inplace(BinOp),
    Unary(UnOp),
    Compare(CmpOp),
    Jump(u32),
    /// A backward jump: an eval-breaker point (the GIL may switch here).
    Loop(u32),
    JumpIfFalse(u32),
    JumpIfTrue(u32),
    JumpIfFalseOrPop(u32),
    JumpIfTrueOrPop(u32),
    GetIter,
    /// Pushes the iterator's next value, or pops it and jumps when done.
    ForIter(u32),
    BuildList(u32),
    BuildTuple(u32),
    BuildDict(u32),
    BuildSet(u32),
    /// Adds the top to the set `n` below it (set comprehensions).
    SetAdd(u32),
    /// Appends the top to the list `n` below it (comprehensions).
    ListAppend(u32),
    /// Sets key, value (top two) into the dict `n` below them.
    DictSet(u32),
    UnpackSeq(u32),
    /// `f(a, b)`: pops the arguments and the callable.
    Call(u32),
    /// `f(a, k=b)`: `n` values; the last names (a const tuple) are keywords.
    CallKw(u32, u32),
    /// `f(*args, **kw)`: a tuple and, if the flag is set, a dict.
    CallEx(bool),
    /// `f(..., **m)`: merges the top into the keywords' dict below it,
    /// which is above `f`'s positionals and `f` (CPython's `DICT_MERGE`).
    DictMerge,
    /// Makes a function of the code in `consts[code]`: pops `defaults`
    /// positional defaults, `kwdefaults` keyword defaults (value, with a
    /// const-tuple of names), and takes the free variables as cells.
    MakeFunction {
        code: u32,
        defaults: u32,
        kwdefaults: u32,
    },
    /// Runs the class body in `consts[code]`; pops the base if `has_base`.
    MakeClass {
        code: u32,
        has_base: bool,
    },
    Return,
    /// Pushes an exception handler that jumps to the target.
    SetupExcept(u32),
    PopBlock,
    /// `raise` (0: re-raise the exception being handled, 1: raise top, 2: raise with cause,
    /// 3: pass on the exception on top, which a handler caught, with its traceback).
    Raise(u32),
    /// Leaves an `except` block: the exception being handled is done.
    PopExcept,
    /// Pops a class (or a tuple of classes) and the exception below it (a
    /// copy: the handler keeps the one under it), and pushes whether the
    /// exception is an instance.
    ExcMatch,
    Import(u32),
    /// `import a.b.c` without `as`: imports `a.b.c` and pushes `a`, each
    /// package holding the module below it as an attribute (the full
    /// module only: no preset writes it).
    ImportPackage(u32),
    ImportFrom(u32),
    /// f-string pieces: converts the value (0 none, b's', b'r', b'a'); formats with a spec if set.
    FormatValue(u8, bool),
    BuildString(u32),
    /// `with`: calls `__enter__` (or takes a lock), leaves the value.
    WithEnter,
    /// Leaves a `with`: pops the manager and calls `__exit__`, with three
    /// `None`s (`false`: the body ended normally) or with the exception
    /// under the manager (`true`: it raised; the exception stays), and
    /// pushes what `__exit__` returned (true: the exception is suppressed).
    WithExit(bool),
    /// An `assert` failed: raise AssertionError with the top (if set) as message.
    AssertFail(bool),
    /// `yield`: the generator's frame stops with the top as the value of
    /// `next()`; resumed, the value sent in (None for `next`) is on top.
    Yield,
    /// `yield from`'s step: sends the top into the iterator below it (a
    /// generator resumes; another iterator gives its next value). What it
    /// yields replaces the sent value; when it ends, the iterator is
    /// replaced by its return value and the jump is taken.
    Send(u32),
    /// `a, *b, c = xs`: unpacks the top into `before` values, a list of the
    /// rest and `after` values, the first on top (CPython's `UNPACK_EX`).
    UnpackEx(u32, u32),
    /// The first instruction of an `async def`'s body: calling the
    /// function makes a coroutine (a generator driven by `await`). Does
    /// nothing when run.
    Coroutine,
    /// `await`'s first step: the top must be a coroutine (kept) or a
    /// Deferred (replaced by its `__await__` generator, which yields it).
    GetAwaitable,
    /// `{1, 2, 3}`: a set literal of constants, which CPython 3.11 makes a
    /// frozenset constant (its order: `sets::literal`); merged into a new
    /// set, or (`true`: what `for` iterates, `in` tests) that frozenset.
    BuildConstSet(u32, bool),
}

/// Whether code made of `instrs` makes a generator when called: it yields,
/// or it is a coroutine's.
pub(crate) fn makes_generator(instrs: &[Instr]) -> bool {
    instrs.iter().any(|i| matches!(i, Instr::Yield | Instr::Coroutine))
}

/// The names of a function's parameters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    /// Positional parameters (the first locals), positional-only ones first.
    pub positional: Vec<Rc<str>>,
    /// How many of `positional` come before a `/`: a keyword of that name
    /// does not bind them (it goes to `**kwargs` if there is one).
    pub posonly: usize,
    pub vararg: Option<Rc<str>>,
    pub kwonly: Vec<Rc<str>>,
    pub kwarg: Option<Rc<str>>,
}

/// What a code object is the body of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CodeKind {
    Module,
    Function,
    Class,
}

/// Where an instruction came from, as CPython 3.11's `co_positions`: the
/// expression or statement it is part of, from its first character to just
/// past its last (lines and columns from 1); and for an operator or a
/// subscript written on one line, the part a traceback's carets single out
/// with `^` (`a + b`'s `+`, `d["k"]`'s `["k"]`), the rest taking `~`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Span {
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    pub end_col: u32,
    /// The `^` part, as columns from 1 (end exclusive); `(0, 0)` for none.
    pub focus: (u32, u32),
}

/// One compiled code object.
#[derive(Debug)]
pub(crate) struct Code {
    pub name: Rc<str>,
    /// Its `__qualname__`: `outer.<locals>.inner`, `Class.method`.
    pub qualname: Rc<str>,
    pub file: Rc<str>,
    /// The text of `file`, whose lines a traceback shows.
    pub source: Rc<str>,
    pub kind: CodeKind,
    pub instrs: Vec<Instr>,
    /// Where each instruction came from.
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    pub names: Vec<Rc<str>>,
    pub params: Params,
    /// Local variable names; parameters first, in `Params` order.
    pub varnames: Vec<Rc<str>>,
    /// Locals captured by nested functions: (cell index, local index if a parameter).
    pub cellvars: Vec<(Rc<str>, Option<u32>)>,
    /// Variables of enclosing functions this one uses (cells after `cellvars`).
    pub freevars: Vec<Rc<str>>,
    /// It `yield`s: calling it makes a generator.
    pub generator: bool,
}

impl Code {
    /// An `async def`'s body: calling it makes a coroutine.
    pub fn is_coroutine(&self) -> bool {
        matches!(self.instrs.first(), Some(Instr::Coroutine))
    }

    /// Where instruction `pc` came from.
    pub fn span(&self, pc: usize) -> Span {
        self.spans.get(pc).copied().unwrap_or_default()
    }

    /// Line `n` (from 1) of its file, if there is one.
    pub fn line(&self, n: u32) -> Option<&str> {
        self.source.split('\n').nth(n.checked_sub(1)? as usize)
    }
}
