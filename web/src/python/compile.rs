//! From rustpython's AST to our instruction lists.
//!
//! Two passes per function: a scan finds which names are assigned, declared
//! `global`/`nonlocal` and used by nested functions (those become cells),
//! then the compiler emits instructions with every name already resolved to
//! a fast local, a cell, a global or (in class bodies) a namespace lookup.
//!
//! Anything outside the supported subset is refused here, with the position
//! and what to write instead, so a program never fails half-way because the
//! VM met a construct it does not know.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use rustpython_parser::ast::{self, Constant, Expr, Ranged, Stmt};

use super::code::{BinOp, CmpOp, Code, CodeKind, Instr, Params, Span, UnOp};
use super::value::Value;
use super::CompileError;

/// Maps byte offsets to (line, column), both from 1.
pub(crate) struct Lines {
    starts: Vec<usize>,
    source: Rc<str>,
}

impl Lines {
    pub fn new(source: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(source.char_indices().filter(|(_, c)| *c == '\n').map(|(i, _)| i + 1));
        Lines { starts, source: source.into() }
    }

    pub fn at(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self.source.get(start..offset).map_or(0, |s| s.chars().count());
        (line as u32, col as u32 + 1)
    }

    /// The span of `node`, with no focus.
    fn span(&self, node: &impl Ranged) -> Span {
        let (line, col) = self.at(node.start().to_usize());
        let (end_line, end_col) = self.at(node.end().to_usize());
        Span { line, col, end_line, end_col, focus: (0, 0) }
    }

    /// The text from `from` to `to` (byte offsets).
    fn text(&self, from: &impl Ranged, to: &impl Ranged) -> &str {
        self.source.get(from.end().to_usize()..to.start().to_usize()).unwrap_or("")
    }
}

/// The part of `e`'s span a traceback's carets single out with `^`, when
/// `e` is on one line (`span`): CPython 3.11's `extract_anchors_from_expr`
/// (`Python/traceback.c`), in characters. For `a + b` the operator (two
/// characters for `**`, `//` and the like), past any `)` and spaces after
/// the left operand; for `d[k]` the brackets and what is in them.
fn focus(lines: &Lines, e: &Expr, span: Span) -> (u32, u32) {
    if span.line != span.end_line {
        return (0, 0);
    }
    // Columns within the segment, from 0 (`count` of the chars before an offset).
    let within = |offset: ast::TextSize| {
        lines.source.get(e.start().to_usize()..offset.to_usize()).map_or(0, |s| s.chars().count())
    };
    let (left, right) = match e {
        Expr::BinOp(b) => {
            // The first character between the operands that is neither
            // a space nor a `)` closing the left one (and the next with it
            // when that is no space either: `**`).
            let between: Vec<char> = lines.text(&*b.left, &*b.right).chars().collect();
            let from = within(b.left.end());
            let (mut left, mut right) = (from, from);
            for (i, c) in between.iter().enumerate() {
                if c.is_whitespace() {
                    continue;
                }
                left = from + i;
                right = left + 1;
                if i + 1 < between.len() && !between[i + 1].is_whitespace() {
                    right += 1;
                }
                if i + 1 < between.len() && *c == ')' {
                    continue;
                }
                break;
            }
            (left, right)
        }
        Expr::Subscript(x) => {
            let segment: Vec<char> =
                lines.source.get(e.start().to_usize()..e.end().to_usize()).unwrap_or("").chars().collect();
            let mut left = within(x.value.end());
            let mut right = within(x.slice.end()) + 1;
            while left < segment.len() && segment[left] != '[' {
                left += 1;
            }
            while right < segment.len() && segment[right] != ']' {
                right += 1;
            }
            if right < segment.len() {
                right += 1;
            }
            (left, right)
        }
        _ => return (0, 0),
    };
    (span.col + left as u32, span.col + right as u32)
}

/// How deeply expressions and blocks may nest in a program, counting each
/// expression and assignment target on the way down as 1 level and each
/// statement as [`STMT_LEVELS`] (functions, lambdas, classes and
/// comprehensions included: their bodies continue the count,
/// [`BODY_LEVELS`] deeper). Compiling, like dropping the AST, recurses once per level, and
/// the browser runs all of it on a 1 MB wasm stack; a program nested deeper
/// is refused at the node past the limit, as CPython refuses one with
/// "RecursionError: maximum recursion depth exceeded during compilation"
/// (from about 3000 levels).
///
/// 800 leaves the page about 2x of room for the costliest kind measured:
/// without a limit, the wasm module (in node, V8's default stack, as
/// Chromium's) loaded and ran `x = abs(abs(...))` up to about 1800 levels,
/// `1 + 1 + ...` up to about 2400; with it, every kind measured (calls,
/// operators, displays, lambdas, comprehensions, `def`, `try`, `if` ...)
/// nested just under the limit still runs with V8's stack halved (`node
/// --stack-size=490`).
pub(crate) const MAX_NESTING: u32 = 800;

/// How many levels deeper than a plain nested expression would a
/// function's, lambda's, class's or comprehension's body starts: compiling
/// one takes a new `Unit`, a scan and their frames, which in wasm cost
/// about 3x a plain expression's stack (nested lambdas overflowed the
/// page's stack from about 900 levels, `1 + 1 + ...` from about 2400).
const BODY_LEVELS: u32 = 3;

/// How many levels a statement counts: compiling a block (`try`, `with`,
/// `except`, `if` ...) costs about 2.5x a plain expression's stack in wasm
/// (850-900 nested `with` or `try` blocks fit the page, about 2400 nested
/// additions). CPython takes no more than 100 levels of indentation anyway.
const STMT_LEVELS: u32 = 3;

/// What a scope binds and uses, found before compiling it.
#[derive(Default, Debug)]
struct Scan {
    /// How deep the walk is now, from the module (see [`MAX_NESTING`]).
    depth: u32,
    assigned: HashSet<Rc<str>>,
    used: HashSet<Rc<str>>,
    globals: HashSet<Rc<str>>,
    nonlocals: HashSet<Rc<str>>,
    /// Names nested scopes use without binding them.
    children_free: HashSet<Rc<str>>,
    /// A comprehension's scope: `:=` in it binds in the enclosing one.
    comprehension: bool,
    /// Names a `:=` binds here for the enclosing scope (in `nonlocals`
    /// too, so the comprehension takes them from there).
    bound_outside: HashSet<Rc<str>>,
}

impl Scan {
    fn locals(&self) -> HashSet<Rc<str>> {
        self.assigned.iter().filter(|n| !self.globals.contains(*n) && !self.nonlocals.contains(*n)).cloned().collect()
    }

    /// The names this scope takes from enclosing ones.
    fn free(&self, class: bool) -> HashSet<Rc<str>> {
        let locals = self.locals();
        let mut out: HashSet<Rc<str>> = self.used.iter().chain(&self.children_free).cloned().collect();
        out.extend(self.nonlocals.iter().cloned());
        out.retain(|n| !self.globals.contains(n) && (class || !locals.contains(n) || self.nonlocals.contains(n)));
        if class {
            // A class body's own names are not visible to its methods, but
            // the names it uses itself still come from outside unless bound.
            let own: HashSet<Rc<str>> = self.used.iter().filter(|n| locals.contains(*n)).cloned().collect();
            out.retain(|n| !own.contains(n) || self.children_free.contains(n));
        }
        out
    }
}

/// The library's functions that make its classes anew for each run
/// (`clock.rs`'s `_classes` and `_barrier`), by file: they stand for a
/// module's top level, so what they define is named as there
/// (`Clock.advance`, not `_classes.<locals>.Clock.advance`).
const CLASS_MAKERS: &[(&str, &str)] = &[("<twisted.internet.task>", "_classes"), ("threading.py", "_barrier")];

fn name(id: &ast::Identifier) -> Rc<str> {
    id.as_str().into()
}

fn scan_args(args: &ast::Arguments, scan: &mut Scan) {
    for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
        scan.assigned.insert(name(&a.def.arg));
    }
    for a in args.vararg.iter().chain(&args.kwarg) {
        scan.assigned.insert(name(&a.arg));
    }
}

fn scan_function(args: &ast::Arguments, body: &[Stmt], depth: u32) -> Scan {
    let mut scan = Scan { depth, ..Scan::default() };
    scan_args(args, &mut scan);
    scan_stmts(body, &mut scan);
    scan
}

fn scan_lambda(args: &ast::Arguments, body: &Expr, depth: u32) -> Scan {
    let mut scan = Scan { depth, ..Scan::default() };
    scan_args(args, &mut scan);
    scan_expr(body, &mut scan);
    scan
}

fn scan_comprehension(elts: &[&Expr], generators: &[ast::Comprehension], depth: u32) -> Scan {
    let mut scan = Scan { depth, comprehension: true, ..Scan::default() };
    for (i, g) in generators.iter().enumerate() {
        if i > 0 {
            scan_expr(&g.iter, &mut scan);
        }
        scan_target(&g.target, &mut scan);
        for e in &g.ifs {
            scan_expr(e, &mut scan);
        }
    }
    for e in elts {
        scan_expr(e, &mut scan);
    }
    scan
}

fn scan_stmts(body: &[Stmt], scan: &mut Scan) {
    for s in body {
        scan_stmt(s, scan);
    }
}

/// Runs `walk` `levels` deeper, unless that is past [`MAX_NESTING`] (and a
/// few levels more): then the scan stops there. The compiler counts the same
/// levels, or a level fewer at a few nodes (the target of `x.a += 1`), never
/// more, so it refuses the program at or before any node the scan skipped.
fn deeper(scan: &mut Scan, levels: u32, walk: impl FnOnce(&mut Scan)) {
    if scan.depth + levels <= MAX_NESTING + STMT_LEVELS {
        scan.depth += levels;
        walk(scan);
        scan.depth -= levels;
    }
}

fn scan_target(e: &Expr, scan: &mut Scan) {
    deeper(scan, 1, |scan| scan_target_inner(e, scan));
}

fn scan_target_inner(e: &Expr, scan: &mut Scan) {
    match e {
        Expr::Name(n) => {
            scan.assigned.insert(name(&n.id));
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| scan_target(e, scan)),
        Expr::List(t) => t.elts.iter().for_each(|e| scan_target(e, scan)),
        Expr::Starred(s) => scan_target(&s.value, scan),
        // This level is counted already, as the compiler's `assign` counts it.
        other => scan_expr_inner(other, scan),
    }
}

fn scan_stmt(s: &Stmt, scan: &mut Scan) {
    deeper(scan, STMT_LEVELS, |scan| scan_stmt_inner(s, scan));
}

fn scan_stmt_inner(s: &Stmt, scan: &mut Scan) {
    match s {
        Stmt::FunctionDef(ast::StmtFunctionDef { name: n, args, body, decorator_list, .. })
        | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name: n, args, body, decorator_list, .. }) => {
            scan.assigned.insert(name(n));
            for d in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                if let Some(e) = &d.default {
                    scan_expr(e, scan);
                }
            }
            decorator_list.iter().for_each(|e| scan_expr(e, scan));
            let child = scan_function(args, body, scan.depth + BODY_LEVELS);
            scan.children_free.extend(child.free(false));
        }
        Stmt::ClassDef(c) => {
            scan.assigned.insert(name(&c.name));
            c.bases.iter().chain(&c.decorator_list).for_each(|e| scan_expr(e, scan));
            let mut child = Scan { depth: scan.depth + BODY_LEVELS, ..Scan::default() };
            scan_stmts(&c.body, &mut child);
            scan.children_free.extend(child.free(true));
        }
        Stmt::Return(r) => r.value.iter().for_each(|e| scan_expr(e, scan)),
        // `del x` binds `x` in its scope, as an assignment does.
        Stmt::Delete(d) => d.targets.iter().for_each(|e| scan_target(e, scan)),
        Stmt::Assign(a) => {
            a.targets.iter().for_each(|t| scan_target(t, scan));
            scan_expr(&a.value, scan);
        }
        Stmt::AugAssign(a) => {
            if let Expr::Name(n) = &*a.target {
                scan.used.insert(name(&n.id));
            }
            scan_target(&a.target, scan);
            scan_expr(&a.value, scan);
        }
        Stmt::AnnAssign(a) => {
            scan_target(&a.target, scan);
            a.value.iter().for_each(|e| scan_expr(e, scan));
        }
        Stmt::For(f) => {
            scan_target(&f.target, scan);
            scan_expr(&f.iter, scan);
            scan_stmts(&f.body, scan);
            scan_stmts(&f.orelse, scan);
        }
        Stmt::While(w) => {
            scan_expr(&w.test, scan);
            scan_stmts(&w.body, scan);
            scan_stmts(&w.orelse, scan);
        }
        Stmt::If(i) => {
            scan_expr(&i.test, scan);
            scan_stmts(&i.body, scan);
            scan_stmts(&i.orelse, scan);
        }
        Stmt::With(w) => {
            for item in &w.items {
                scan_expr(&item.context_expr, scan);
                if let Some(t) = &item.optional_vars {
                    scan_target(t, scan);
                }
            }
            scan_stmts(&w.body, scan);
        }
        Stmt::Raise(r) => {
            r.exc.iter().chain(&r.cause).for_each(|e| scan_expr(e, scan));
        }
        Stmt::Try(t) => {
            scan_stmts(&t.body, scan);
            for h in &t.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                h.type_.iter().for_each(|e| scan_expr(e, scan));
                if let Some(n) = &h.name {
                    scan.assigned.insert(name(n));
                }
                scan_stmts(&h.body, scan);
            }
            scan_stmts(&t.orelse, scan);
            scan_stmts(&t.finalbody, scan);
        }
        Stmt::Assert(a) => {
            scan_expr(&a.test, scan);
            a.msg.iter().for_each(|e| scan_expr(e, scan));
        }
        Stmt::Import(i) => {
            for a in &i.names {
                let bound = a.asname.as_ref().unwrap_or(&a.name);
                let first = bound.as_str().split('.').next().unwrap_or_default();
                scan.assigned.insert(first.into());
            }
        }
        Stmt::ImportFrom(i) => {
            for a in &i.names {
                scan.assigned.insert(name(a.asname.as_ref().unwrap_or(&a.name)));
            }
        }
        Stmt::Global(g) => scan.globals.extend(g.names.iter().map(name)),
        Stmt::Nonlocal(n) => scan.nonlocals.extend(n.names.iter().map(name)),
        Stmt::Expr(e) => scan_expr(&e.value, scan),
        _ => {}
    }
}

fn scan_expr(e: &Expr, scan: &mut Scan) {
    // `*x` in a call or a display is compiled as `x`, no level of its own:
    // not counted here either, or nested `f(*g(*h(...)))` would add up.
    if let Expr::Starred(s) = e {
        return scan_expr(&s.value, scan);
    }
    deeper(scan, 1, |scan| scan_expr_inner(e, scan));
}

fn scan_expr_inner(e: &Expr, scan: &mut Scan) {
    match e {
        Expr::Name(n) => {
            scan.used.insert(name(&n.id));
        }
        Expr::Lambda(l) => {
            for d in l.args.posonlyargs.iter().chain(&l.args.args).chain(&l.args.kwonlyargs) {
                if let Some(e) = &d.default {
                    scan_expr(e, scan);
                }
            }
            let child = scan_lambda(&l.args, &l.body, scan.depth + BODY_LEVELS);
            scan.children_free.extend(child.free(false));
        }
        Expr::ListComp(c) => comprehension(&[&c.elt], &c.generators, scan),
        Expr::GeneratorExp(c) => comprehension(&[&c.elt], &c.generators, scan),
        Expr::DictComp(c) => comprehension(&[&c.key, &c.value], &c.generators, scan),
        Expr::BoolOp(b) => b.values.iter().for_each(|e| scan_expr(e, scan)),
        Expr::BinOp(b) => {
            scan_expr(&b.left, scan);
            scan_expr(&b.right, scan);
        }
        Expr::UnaryOp(u) => scan_expr(&u.operand, scan),
        Expr::IfExp(i) => {
            scan_expr(&i.test, scan);
            scan_expr(&i.body, scan);
            scan_expr(&i.orelse, scan);
        }
        Expr::Dict(d) => {
            d.keys.iter().flatten().for_each(|e| scan_expr(e, scan));
            d.values.iter().for_each(|e| scan_expr(e, scan));
        }
        Expr::Compare(c) => {
            scan_expr(&c.left, scan);
            c.comparators.iter().for_each(|e| scan_expr(e, scan));
        }
        Expr::Call(c) => {
            scan_expr(&c.func, scan);
            c.args.iter().for_each(|e| scan_expr(e, scan));
            c.keywords.iter().for_each(|k| scan_expr(&k.value, scan));
        }
        Expr::FormattedValue(f) => {
            scan_expr(&f.value, scan);
            f.format_spec.iter().for_each(|e| scan_expr(e, scan));
        }
        Expr::JoinedStr(j) => j.values.iter().for_each(|e| scan_expr(e, scan)),
        Expr::Attribute(a) => scan_expr(&a.value, scan),
        Expr::Subscript(s) => {
            scan_expr(&s.value, scan);
            scan_expr(&s.slice, scan);
        }
        Expr::Starred(s) => scan_expr(&s.value, scan),
        Expr::List(l) => l.elts.iter().for_each(|e| scan_expr(e, scan)),
        Expr::Set(l) => l.elts.iter().for_each(|e| scan_expr(e, scan)),
        Expr::SetComp(c) => comprehension(&[&c.elt], &c.generators, scan),
        Expr::Tuple(l) => l.elts.iter().for_each(|e| scan_expr(e, scan)),
        Expr::Slice(s) => s.lower.iter().chain(&s.upper).chain(&s.step).for_each(|e| scan_expr(e, scan)),
        Expr::Yield(y) => y.value.iter().for_each(|e| scan_expr(e, scan)),
        Expr::YieldFrom(y) => scan_expr(&y.value, scan),
        Expr::Await(a) => scan_expr(&a.value, scan),
        Expr::NamedExpr(n) => {
            scan_expr(&n.value, scan);
            match &*n.target {
                Expr::Name(t) if scan.comprehension => {
                    scan.nonlocals.insert(name(&t.id));
                    scan.bound_outside.insert(name(&t.id));
                }
                target => scan_target(target, scan),
            }
        }
        _ => {}
    }
}

fn comprehension(elts: &[&Expr], generators: &[ast::Comprehension], scan: &mut Scan) {
    if let Some(first) = generators.first() {
        scan_expr(&first.iter, scan);
    }
    let child = scan_comprehension(elts, generators, scan.depth + BODY_LEVELS);
    scan.children_free.extend(child.free(false));
    // As CPython: a `:=` in a comprehension binds in the nearest scope
    // that is not one.
    for n in child.bound_outside {
        if scan.comprehension {
            scan.nonlocals.insert(Rc::clone(&n));
            scan.bound_outside.insert(n);
        } else {
            scan.assigned.insert(n);
        }
    }
}

/// A construct being compiled that `return`, `break` and `continue` leave.
enum Block<'a> {
    Loop {
        start: usize,
        breaks: Vec<usize>,
        is_for: bool,
    },
    /// Inside `try:` with handlers: a handler is pushed.
    Try,
    /// Inside `try:` with a `finally`: a handler is pushed, and the
    /// finally body runs on the way out.
    Finally(&'a [Stmt]),
    /// Inside an `except` body.
    Handler,
    /// Inside `with`: a handler is pushed; the manager is in this local.
    With(u32),
}

/// Where a name lives.
enum Loc {
    Fast(u32),
    Deref(u32),
    Global(u32),
    Name(u32),
}

/// Compiles one code object.
struct Unit<'a> {
    lines: &'a Lines,
    file: Rc<str>,
    kind: CodeKind,
    instrs: Vec<Instr>,
    spans: Vec<Span>,
    consts: Vec<Value>,
    names: Vec<Rc<str>>,
    varnames: Vec<Rc<str>>,
    cells: Vec<Rc<str>>,
    frees: Vec<Rc<str>>,
    /// Names local to this function (not cells).
    locals: HashSet<Rc<str>>,
    class_assigned: HashSet<Rc<str>>,
    globals: HashSet<Rc<str>>,
    /// Names bound in the enclosing functions, for nested scopes.
    enclosing: Vec<HashSet<Rc<str>>>,
    blocks: Vec<Block<'a>>,
    pos: Span,
    /// The `__qualname__` of the code it makes ([`Unit::qualname_of`]).
    qualname: Rc<str>,
    /// The module's constant set literals so far, each its elements'
    /// positions by key ([`Unit::constant_set`]): shared by its units.
    constant_sets: Rc<RefCell<Vec<HashMap<String, usize>>>>,
    temps: u32,
    /// How deep the compiler is now, from the module (see [`MAX_NESTING`]).
    depth: u32,
    /// A class body that made its `__annotations__` dict already.
    annotated: bool,
}

type R<T> = Result<T, CompileError>;

impl<'a> Unit<'a> {
    fn new(lines: &'a Lines, file: Rc<str>, kind: CodeKind, enclosing: Vec<HashSet<Rc<str>>>) -> Unit<'a> {
        Unit {
            lines,
            file,
            kind,
            instrs: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            names: Vec::new(),
            varnames: Vec::new(),
            cells: Vec::new(),
            frees: Vec::new(),
            locals: HashSet::new(),
            class_assigned: HashSet::new(),
            globals: HashSet::new(),
            enclosing,
            blocks: Vec::new(),
            pos: Span { line: 1, col: 1, end_line: 1, end_col: 1, focus: (0, 0) },
            qualname: "".into(),
            constant_sets: Rc::default(),
            temps: 0,
            depth: 0,
            annotated: false,
        }
    }

    /// The unit of a function, class or comprehension named `name` that
    /// this one defines.
    fn child(&self, kind: CodeKind, enclosing: Vec<HashSet<Rc<str>>>, name: &str) -> Unit<'a> {
        let mut unit = Unit::new(self.lines, Rc::clone(&self.file), kind, enclosing);
        unit.pos = self.pos;
        unit.depth = self.depth + BODY_LEVELS;
        unit.qualname = self.qualname_of(name);
        unit.constant_sets = Rc::clone(&self.constant_sets);
        unit
    }

    /// The `__qualname__` of a function or class named `name` that this
    /// unit defines, as CPython's compiler makes it: the name at a module's
    /// top level (or declared `global`), `Class.name` in a class body,
    /// `outer.<locals>.name` in a function.
    fn qualname_of(&self, name: &str) -> Rc<str> {
        match self.kind {
            CodeKind::Module => name.into(),
            _ if self.globals.contains(name) => name.into(),
            CodeKind::Function if CLASS_MAKERS.contains(&(&*self.file, &*self.qualname)) => name.into(),
            CodeKind::Function => format!("{}.<locals>.{name}", self.qualname).into(),
            CodeKind::Class => format!("{}.{name}", self.qualname).into(),
        }
    }

    fn err(&self, at: &impl Ranged, message: impl Into<String>) -> CompileError {
        let (line, col) = self.lines.at(at.start().to_usize());
        CompileError { file: self.file.to_string(), line, col, message: message.into() }
    }

    /// `levels` deeper into `node`, or the error past [`MAX_NESTING`]
    /// levels: [`STMT_LEVELS`] for a statement, 1 for an expression. The
    /// caller steps back once done; after an error the whole compile stops,
    /// so its count no longer matters.
    fn deeper(&mut self, node: &impl Ranged, levels: u32) -> R<()> {
        if self.depth + levels > MAX_NESTING {
            let message = if levels == STMT_LEVELS {
                format!(
                    "blocks nested too deeply (more than {} levels): move the inner blocks into functions",
                    MAX_NESTING / STMT_LEVELS
                )
            } else {
                format!(
                    "expression nested too deeply (more than {MAX_NESTING} levels): \
                     split it into smaller expressions with intermediate variables"
                )
            };
            return Err(self.err(node, message));
        }
        self.depth += levels;
        Ok(())
    }

    fn at(&mut self, node: &impl Ranged) {
        self.pos = self.lines.span(node);
    }

    /// Expression `e`'s span, with its focus.
    fn expr_span(&self, e: &Expr) -> Span {
        let mut span = self.lines.span(e);
        if matches!(e, Expr::BinOp(_) | Expr::Subscript(_)) {
            span.focus = focus(self.lines, e, span);
        }
        span
    }

    /// Emits `i` as part of expression `e`: a failing store, delete or
    /// unpack, or a failed `assert`, points at its target or its test, as
    /// CPython's traceback does.
    fn emit_at(&mut self, e: &Expr, i: Instr) -> usize {
        let span = self.expr_span(e);
        let saved = std::mem::replace(&mut self.pos, span);
        let at = self.emit(i);
        self.pos = saved;
        at
    }

    fn emit(&mut self, i: Instr) -> usize {
        self.instrs.push(i);
        self.spans.push(self.pos);
        self.instrs.len() - 1
    }

    fn here(&self) -> usize {
        self.instrs.len()
    }

    fn patch(&mut self, at: usize) {
        let to = self.here() as u32;
        self.instrs[at] = match self.instrs[at] {
            Instr::Jump(_) => Instr::Jump(to),
            Instr::JumpIfFalse(_) => Instr::JumpIfFalse(to),
            Instr::JumpIfTrue(_) => Instr::JumpIfTrue(to),
            Instr::JumpIfFalseOrPop(_) => Instr::JumpIfFalseOrPop(to),
            Instr::JumpIfTrueOrPop(_) => Instr::JumpIfTrueOrPop(to),
            Instr::ForIter(_) => Instr::ForIter(to),
            Instr::Send(_) => Instr::Send(to),
            Instr::SetupExcept(_) => Instr::SetupExcept(to),
            other => other,
        };
    }

    fn konst(&mut self, v: Value) -> u32 {
        self.consts.push(v);
        self.consts.len() as u32 - 1
    }

    fn name_idx(&mut self, n: &str) -> u32 {
        if let Some(i) = self.names.iter().position(|x| &**x == n) {
            return i as u32;
        }
        self.names.push(n.into());
        self.names.len() as u32 - 1
    }

    fn local(&mut self, n: &str) -> u32 {
        if let Some(i) = self.varnames.iter().position(|x| &**x == n) {
            return i as u32;
        }
        self.varnames.push(n.into());
        self.varnames.len() as u32 - 1
    }

    /// A hidden local for the compiler's own use.
    fn temp(&mut self) -> u32 {
        self.temps += 1;
        let n = format!("${}", self.temps);
        self.local(&n)
    }

    fn resolve(&mut self, n: &str) -> Loc {
        if let Some(i) = self.cells.iter().position(|x| &**x == n) {
            return Loc::Deref(i as u32);
        }
        if let Some(i) = self.frees.iter().position(|x| &**x == n) {
            if self.kind != CodeKind::Class || !self.class_assigned.contains(n) {
                return Loc::Deref((self.cells.len() + i) as u32);
            }
        }
        match self.kind {
            CodeKind::Module => Loc::Global(self.name_idx(n)),
            CodeKind::Class => Loc::Name(self.name_idx(n)),
            CodeKind::Function => {
                if self.locals.contains(n) && !self.globals.contains(n) {
                    Loc::Fast(self.local(n))
                } else {
                    Loc::Global(self.name_idx(n))
                }
            }
        }
    }

    fn load(&mut self, n: &str) {
        let i = match self.resolve(n) {
            Loc::Fast(i) => Instr::LoadFast(i),
            Loc::Deref(i) => Instr::LoadDeref(i),
            Loc::Global(i) => Instr::LoadGlobal(i),
            Loc::Name(i) => Instr::LoadName(i),
        };
        self.emit(i);
    }

    fn store(&mut self, n: &str) {
        let i = match self.resolve(n) {
            Loc::Fast(i) => Instr::StoreFast(i),
            Loc::Deref(i) => Instr::StoreDeref(i),
            Loc::Global(i) => Instr::StoreGlobal(i),
            Loc::Name(i) => Instr::StoreName(i),
        };
        self.emit(i);
    }

    fn finish(self, name: &str, params: Params) -> Code {
        let cellvars =
            self.cells.iter().map(|c| (Rc::clone(c), self.varnames.iter().position(|v| v == c).map(|i| i as u32)));
        let cellvars = cellvars.collect();
        Code {
            generator: super::code::makes_generator(&self.instrs),
            qualname: if self.qualname.is_empty() { name.into() } else { self.qualname },
            name: name.into(),
            source: Rc::clone(&self.lines.source),
            file: self.file,
            kind: self.kind,
            instrs: self.instrs,
            spans: self.spans,
            consts: self.consts,
            names: self.names,
            params,
            varnames: self.varnames,
            cellvars,
            freevars: self.frees,
        }
    }

    // ------------------------------------------------------------------
    // Statements
    // ------------------------------------------------------------------

    fn stmts(&mut self, body: &'a [Stmt]) -> R<()> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &'a Stmt) -> R<()> {
        self.deeper(s, STMT_LEVELS)?;
        self.stmt_inner(s)?;
        self.depth -= STMT_LEVELS;
        Ok(())
    }

    fn stmt_inner(&mut self, s: &'a Stmt) -> R<()> {
        self.at(s);
        match s {
            Stmt::Expr(e) => {
                self.expr(&e.value)?;
                self.emit(Instr::Pop);
            }
            Stmt::Assign(a) => {
                self.expr(&a.value)?;
                for (i, t) in a.targets.iter().enumerate() {
                    if i + 1 < a.targets.len() {
                        self.emit(Instr::Dup);
                    }
                    self.assign(t)?;
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.expr(v)?;
                    self.assign(&a.target)?;
                }
                // A class body's `name: T` is recorded in its
                // `__annotations__` (what `dataclasses` reads), as the
                // annotation's text: annotations are never evaluated here.
                if let (CodeKind::Class, Expr::Name(n), true) = (self.kind, &*a.target, a.simple) {
                    if !self.annotated {
                        self.annotated = true;
                        self.emit(Instr::BuildDict(0));
                        self.store("__annotations__");
                    }
                    let range = a.annotation.range();
                    let text = self.lines.source.get(range.start().to_usize()..range.end().to_usize()).unwrap_or("");
                    let k = self.konst(Value::str(text));
                    self.emit(Instr::Const(k));
                    self.load("__annotations__");
                    let k = self.konst(Value::str(n.id.as_str()));
                    self.emit(Instr::Const(k));
                    self.emit(Instr::StoreSubscr);
                }
            }
            Stmt::AugAssign(a) => self.aug_assign(a)?,
            Stmt::Pass(_) => {}
            Stmt::If(i) => {
                self.expr(&i.test)?;
                let skip = self.emit(Instr::JumpIfFalse(0));
                self.stmts(&i.body)?;
                if i.orelse.is_empty() {
                    self.patch(skip);
                } else {
                    let end = self.emit(Instr::Jump(0));
                    self.patch(skip);
                    self.stmts(&i.orelse)?;
                    self.patch(end);
                }
            }
            Stmt::While(w) => {
                let start = self.here();
                self.expr(&w.test)?;
                let exit = self.emit(Instr::JumpIfFalse(0));
                self.blocks.push(Block::Loop { start, breaks: Vec::new(), is_for: false });
                self.stmts(&w.body)?;
                self.emit(Instr::Loop(start as u32));
                let Some(Block::Loop { breaks, .. }) = self.blocks.pop() else { unreachable!() };
                self.patch(exit);
                self.stmts(&w.orelse)?;
                for b in breaks {
                    self.patch(b);
                }
            }
            Stmt::For(f) => {
                self.operand(&f.iter)?;
                self.emit(Instr::GetIter);
                let start = self.here();
                let exit = self.emit(Instr::ForIter(0));
                self.assign(&f.target)?;
                self.blocks.push(Block::Loop { start, breaks: Vec::new(), is_for: true });
                self.stmts(&f.body)?;
                self.emit(Instr::Loop(start as u32));
                let Some(Block::Loop { breaks, .. }) = self.blocks.pop() else { unreachable!() };
                self.patch(exit);
                self.stmts(&f.orelse)?;
                for b in breaks {
                    self.patch(b);
                }
            }
            Stmt::Break(_) => {
                let Some(depth) = self.blocks.iter().rposition(|b| matches!(b, Block::Loop { .. })) else {
                    return Err(self.err(s, "'break' outside loop"));
                };
                self.unwind_to(depth + 1)?;
                if let Some(Block::Loop { is_for: true, .. }) = self.blocks.get(depth) {
                    self.emit(Instr::Pop);
                }
                let j = self.emit(Instr::Jump(0));
                if let Some(Block::Loop { breaks, .. }) = self.blocks.get_mut(depth) {
                    breaks.push(j);
                }
            }
            Stmt::Continue(_) => {
                let Some(depth) = self.blocks.iter().rposition(|b| matches!(b, Block::Loop { .. })) else {
                    return Err(self.err(s, "'continue' not properly in loop"));
                };
                self.unwind_to(depth + 1)?;
                if let Some(Block::Loop { start, .. }) = self.blocks.get(depth) {
                    let start = *start as u32;
                    self.emit(Instr::Loop(start));
                }
            }
            Stmt::Return(r) => {
                if self.kind != CodeKind::Function {
                    return Err(self.err(s, "'return' outside function"));
                }
                match &r.value {
                    Some(v) => self.expr(v)?,
                    None => {
                        let c = self.konst(Value::None);
                        self.emit(Instr::Const(c));
                    }
                }
                if self.blocks.iter().any(|b| !matches!(b, Block::Loop { .. })) {
                    let t = self.temp();
                    self.emit(Instr::StoreFast(t));
                    self.unwind_to(0)?;
                    self.emit(Instr::LoadFast(t));
                }
                self.emit(Instr::Return);
            }
            Stmt::FunctionDef(ast::StmtFunctionDef { name: n, args, body, decorator_list, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name: n, args, body, decorator_list, .. }) => {
                // As CPython: the decorators are evaluated first, top down,
                // then applied to the function bottom up.
                for d in decorator_list {
                    self.expr(d)?;
                }
                let body =
                    if matches!(s, Stmt::AsyncFunctionDef(_)) { FnBody::Coroutine(body) } else { FnBody::Stmts(body) };
                self.function(n.as_str(), args, body, s)?;
                self.decorate(decorator_list);
                self.store(n.as_str());
            }
            Stmt::ClassDef(c) => self.class(c)?,
            Stmt::Global(g) => {
                if self.kind == CodeKind::Function {
                    self.globals.extend(g.names.iter().map(name));
                }
            }
            Stmt::Nonlocal(_) => {}
            Stmt::Raise(r) => match (&r.exc, &r.cause) {
                (None, _) => {
                    self.emit(Instr::Raise(0));
                }
                (Some(e), None) => {
                    self.expr(e)?;
                    self.emit(Instr::Raise(1));
                }
                (Some(e), Some(c)) => {
                    self.expr(e)?;
                    self.expr(c)?;
                    self.emit(Instr::Raise(2));
                }
            },
            Stmt::Assert(a) => {
                self.expr(&a.test)?;
                let ok = self.emit(Instr::JumpIfTrue(0));
                if let Some(m) = &a.msg {
                    self.expr(m)?;
                }
                self.emit_at(&a.test, Instr::AssertFail(a.msg.is_some()));
                self.patch(ok);
            }
            Stmt::Try(t) => self.try_stmt(t)?,
            Stmt::With(w) => self.with(&w.items, &w.body)?,
            Stmt::Import(i) => {
                for a in &i.names {
                    let name = a.name.as_str();
                    let n = self.name_idx(name);
                    match (&a.asname, name.split_once('.')) {
                        (Some(alias), _) => {
                            self.emit(Instr::Import(n));
                            self.store(alias.as_str())
                        }
                        // `import a.b` binds `a`; `a.b` is its attribute.
                        (None, Some((top, _))) => {
                            self.emit(Instr::ImportPackage(n));
                            self.store(top)
                        }
                        (None, None) => {
                            self.emit(Instr::Import(n));
                            self.store(name)
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let Some(module) = &i.module else { return Err(self.err(s, "relative imports are not supported")) };
                if module.as_str() == "__future__" {
                    // `from __future__ import annotations`: annotations are
                    // never evaluated here anyway; the other features are
                    // Python 3's own behaviour.
                    return Ok(());
                }
                let n = self.name_idx(module.as_str());
                self.emit(Instr::Import(n));
                for a in &i.names {
                    if a.name.as_str() == "*" {
                        return Err(self.err(a, "`import *` is not supported: import the names you use"));
                    }
                    self.emit(Instr::Dup);
                    let n = self.name_idx(a.name.as_str());
                    self.emit(Instr::ImportFrom(n));
                    self.store(a.asname.as_ref().unwrap_or(&a.name).as_str());
                }
                self.emit(Instr::Pop);
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    match t {
                        Expr::Subscript(sub) => {
                            self.expr(&sub.value)?;
                            self.expr(&sub.slice)?;
                            self.emit_at(t, Instr::DelSubscr);
                        }
                        Expr::Attribute(a) => {
                            self.expr(&a.value)?;
                            let i = self.name_idx(a.attr.as_str());
                            self.emit_at(t, Instr::DeleteAttr(i));
                        }
                        Expr::Name(n) => {
                            let i = match self.resolve(n.id.as_str()) {
                                Loc::Fast(i) => Instr::DeleteFast(i),
                                Loc::Global(i) => Instr::DeleteGlobal(i),
                                Loc::Name(i) => Instr::DeleteName(i),
                                Loc::Deref(_) => return Err(self.err(
                                    t,
                                    "`del` of a variable a nested function uses is not supported: assign None instead",
                                )),
                            };
                            self.emit(i);
                        }
                        Expr::Tuple(_) | Expr::List(_) => {
                            return Err(self.err(t, "`del (a, b)` is not supported: write `del a, b`"));
                        }
                        _ => return Err(self.err(t, "`del` takes a name, an attribute or `x[key]`")),
                    }
                }
            }
            Stmt::AsyncFor(_) => {
                return Err(self.err(s, "`async for` is not supported: use a `for` loop that awaits inside"))
            }
            Stmt::AsyncWith(_) => {
                return Err(self.err(s, "`async with` is not supported: use a `with` block or try/finally"))
            }
            Stmt::Match(_) => return Err(self.err(s, "`match` is not supported: use if/elif/else")),
            Stmt::TryStar(_) => return Err(self.err(s, "`except*` is not supported: use except")),
            Stmt::TypeAlias(_) => return Err(self.err(s, "type aliases are not supported")),
        }
        Ok(())
    }

    /// Emits what leaving the blocks above `depth` needs (for `return`,
    /// `break`, `continue`): pop handlers, run finally bodies, exit `with`s.
    fn unwind_to(&mut self, depth: usize) -> R<()> {
        let mut i = self.blocks.len();
        while i > depth {
            i -= 1;
            match self.blocks[i] {
                Block::Loop { is_for, .. } => {
                    if is_for && depth == 0 {
                        // `return` drops the whole stack: nothing to pop.
                    } else if is_for {
                        self.emit(Instr::Pop);
                    }
                }
                Block::Try => {
                    self.emit(Instr::PopBlock);
                }
                Block::Handler => {
                    self.emit(Instr::PopExcept);
                }
                Block::With(local) => {
                    self.emit(Instr::PopBlock);
                    self.emit(Instr::LoadFast(local));
                    self.emit(Instr::WithExit(false));
                    self.emit(Instr::Pop);
                }
                Block::Finally(body) => {
                    self.emit(Instr::PopBlock);
                    let saved = self.blocks.split_off(i);
                    self.stmts(body)?;
                    let mut saved = saved;
                    self.blocks.append(&mut saved);
                }
            }
        }
        Ok(())
    }

    fn try_stmt(&mut self, t: &'a ast::StmtTry) -> R<()> {
        if !t.finalbody.is_empty() {
            let handler = self.emit(Instr::SetupExcept(0));
            self.blocks.push(Block::Finally(&t.finalbody));
            self.try_except(t)?;
            self.blocks.pop();
            self.emit(Instr::PopBlock);
            self.stmts(&t.finalbody)?;
            let end = self.emit(Instr::Jump(0));
            self.patch(handler);
            let exc = self.temp();
            self.emit(Instr::StoreFast(exc));
            self.blocks.push(Block::Handler);
            self.stmts(&t.finalbody)?;
            self.blocks.pop();
            self.emit(Instr::LoadFast(exc));
            // Passed on, not raised anew: it keeps its traceback.
            self.emit(Instr::Raise(3));
            self.patch(end);
            Ok(())
        } else {
            self.try_except(t)
        }
    }

    fn try_except(&mut self, t: &'a ast::StmtTry) -> R<()> {
        if t.handlers.is_empty() {
            return self.stmts(&t.body);
        }
        let handler = self.emit(Instr::SetupExcept(0));
        self.blocks.push(Block::Try);
        self.stmts(&t.body)?;
        self.blocks.pop();
        self.emit(Instr::PopBlock);
        self.stmts(&t.orelse)?;
        let mut ends = vec![self.emit(Instr::Jump(0))];
        self.patch(handler);
        for h in &t.handlers {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            self.at(h);
            let next = match &h.type_ {
                Some(ty) => {
                    self.emit(Instr::Dup);
                    self.expr(ty)?;
                    self.emit(Instr::ExcMatch);
                    Some(self.emit(Instr::JumpIfFalse(0)))
                }
                None => None,
            };
            match &h.name {
                Some(n) => self.store(n.as_str()),
                None => {
                    self.emit(Instr::Pop);
                }
            }
            self.blocks.push(Block::Handler);
            self.stmts(&h.body)?;
            self.blocks.pop();
            self.emit(Instr::PopExcept);
            ends.push(self.emit(Instr::Jump(0)));
            if let Some(next) = next {
                self.patch(next);
            }
        }
        // No handler matched: the exception goes on, with its traceback.
        self.emit(Instr::Raise(3));
        for e in ends {
            self.patch(e);
        }
        Ok(())
    }

    fn with(&mut self, items: &'a [ast::WithItem], body: &'a [Stmt]) -> R<()> {
        let Some((item, rest)) = items.split_first() else { return self.stmts(body) };
        self.expr(&item.context_expr)?;
        let local = self.temp();
        self.emit(Instr::StoreFast(local));
        self.emit(Instr::LoadFast(local));
        self.emit(Instr::WithEnter);
        match &item.optional_vars {
            Some(t) => self.assign(t)?,
            None => {
                self.emit(Instr::Pop);
            }
        }
        let handler = self.emit(Instr::SetupExcept(0));
        self.blocks.push(Block::With(local));
        self.with(rest, body)?;
        self.blocks.pop();
        self.emit(Instr::PopBlock);
        self.emit(Instr::LoadFast(local));
        self.emit(Instr::WithExit(false));
        self.emit(Instr::Pop);
        let end = self.emit(Instr::Jump(0));
        self.patch(handler);
        // An exception: the manager's `__exit__` sees it; a true result
        // suppresses it (the `with` then ends normally), else it goes on.
        self.emit(Instr::LoadFast(local));
        self.emit(Instr::WithExit(true));
        let reraise = self.emit(Instr::JumpIfFalse(0));
        self.emit(Instr::Pop);
        self.emit(Instr::PopExcept);
        let suppressed = self.emit(Instr::Jump(0));
        self.patch(reraise);
        self.emit(Instr::Raise(3));
        self.patch(end);
        self.patch(suppressed);
        Ok(())
    }

    fn aug_assign(&mut self, a: &'a ast::StmtAugAssign) -> R<()> {
        let op = binop(a.op);
        match &*a.target {
            Expr::Name(n) => {
                self.load(n.id.as_str());
                self.expr(&a.value)?;
                self.emit(Instr::Inplace(op));
                self.store(n.id.as_str());
            }
            Expr::Attribute(at) => {
                self.expr(&at.value)?;
                self.emit(Instr::Dup);
                let n = self.name_idx(at.attr.as_str());
                self.emit_at(&a.target, Instr::LoadAttr(n));
                self.expr(&a.value)?;
                self.emit(Instr::Inplace(op));
                self.emit(Instr::Rot2);
                self.emit_at(&a.target, Instr::StoreAttr(n));
            }
            Expr::Subscript(sub) => {
                let (obj, key) = (self.temp(), self.temp());
                self.expr(&sub.value)?;
                self.emit(Instr::StoreFast(obj));
                self.expr(&sub.slice)?;
                self.emit(Instr::StoreFast(key));
                self.emit(Instr::LoadFast(obj));
                self.emit(Instr::LoadFast(key));
                self.emit_at(&a.target, Instr::Subscr);
                self.expr(&a.value)?;
                self.emit(Instr::Inplace(op));
                self.emit(Instr::LoadFast(obj));
                self.emit(Instr::LoadFast(key));
                self.emit_at(&a.target, Instr::StoreSubscr);
            }
            other => return Err(self.err(other, "cannot assign to this")),
        }
        Ok(())
    }

    /// Stores the top of the stack into a target.
    fn assign(&mut self, t: &'a Expr) -> R<()> {
        self.deeper(t, 1)?;
        self.assign_inner(t)?;
        self.depth -= 1;
        Ok(())
    }

    fn assign_inner(&mut self, t: &'a Expr) -> R<()> {
        match t {
            Expr::Name(n) => self.store(n.id.as_str()),
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                let n = self.name_idx(a.attr.as_str());
                self.emit_at(t, Instr::StoreAttr(n));
            }
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.expr(&s.slice)?;
                self.emit_at(t, Instr::StoreSubscr);
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let mut starred = elts.iter().enumerate().filter(|(_, e)| matches!(e, Expr::Starred(_)));
                let unpack = match (starred.next(), starred.next()) {
                    (None, _) => Instr::UnpackSeq(elts.len() as u32),
                    (Some((i, _)), None) => Instr::UnpackEx(i as u32, (elts.len() - i - 1) as u32),
                    (Some(_), Some((_, second))) => {
                        return Err(self
                            .err(second, "multiple starred expressions in assignment: keep one * and slice the rest"))
                    }
                };
                self.emit_at(t, unpack);
                for e in elts {
                    match e {
                        Expr::Starred(s) => self.assign(&s.value)?,
                        e => self.assign(e)?,
                    }
                }
            }
            Expr::Starred(s) => {
                return Err(self.err(s, "starred assignment target must be in a list or tuple: write *a, = ..."))
            }
            other => return Err(self.err(other, "cannot assign to this expression")),
        }
        Ok(())
    }

    fn function(&mut self, fname: &str, args: &'a ast::Arguments, body: FnBody<'a>, at: &impl Ranged) -> R<()> {
        let mut ndefaults = 0;
        for d in args.posonlyargs.iter().chain(&args.args) {
            if let Some(e) = &d.default {
                self.expr(e)?;
                ndefaults += 1;
            }
        }
        let mut kwnames = Vec::new();
        for d in &args.kwonlyargs {
            if let Some(e) = &d.default {
                self.expr(e)?;
                kwnames.push(Value::Str(name(&d.def.arg)));
            }
        }
        let nkw = kwnames.len() as u32;
        if nkw > 0 {
            let c = self.konst(Value::tuple(kwnames));
            self.emit(Instr::Const(c));
        }
        let scan = match body {
            FnBody::Stmts(b) | FnBody::Coroutine(b) => scan_function(args, b, self.depth + BODY_LEVELS),
            FnBody::Expr(e) => scan_lambda(args, e, self.depth + BODY_LEVELS),
        };
        let mut enclosing = self.enclosing.clone();
        if self.kind == CodeKind::Function {
            let mut mine: HashSet<Rc<str>> = self.locals.clone();
            mine.extend(self.cells.iter().cloned());
            mine.extend(self.frees.iter().cloned());
            enclosing.push(mine);
        }
        let mut unit = self.child(CodeKind::Function, enclosing, fname);
        let params = Params {
            positional: args.posonlyargs.iter().chain(&args.args).map(|a| name(&a.def.arg)).collect(),
            posonly: args.posonlyargs.len(),
            vararg: args.vararg.as_ref().map(|a| name(&a.arg)),
            kwonly: args.kwonlyargs.iter().map(|a| name(&a.def.arg)).collect(),
            kwarg: args.kwarg.as_ref().map(|a| name(&a.arg)),
        };
        for p in params.positional.iter().chain(&params.vararg).chain(&params.kwonly).chain(&params.kwarg) {
            unit.local(p);
        }
        unit.setup_scope(&scan);
        match body {
            FnBody::Stmts(b) | FnBody::Coroutine(b) => {
                if let FnBody::Coroutine(_) = body {
                    unit.emit(Instr::Coroutine);
                }
                unit.stmts(b)?;
                let c = unit.konst(Value::None);
                unit.emit(Instr::Const(c));
                unit.emit(Instr::Return);
            }
            FnBody::Expr(e) => {
                unit.at(e);
                unit.expr(e)?;
                unit.emit(Instr::Return);
            }
        }
        let _ = at;
        let code = unit.finish(fname, params);
        let c = self.konst(Value::Str("".into()));
        self.consts[c as usize] = code_value(code);
        self.emit(Instr::MakeFunction { code: c, defaults: ndefaults, kwdefaults: nkw });
        Ok(())
    }

    /// The loop of `yield from` and `await`, over the iterator on the stack.
    fn delegate(&mut self) {
        let c = self.konst(Value::None);
        self.emit(Instr::Const(c));
        let start = self.here();
        let end = self.emit(Instr::Send(0));
        self.emit(Instr::Yield);
        self.emit(Instr::Jump(start as u32));
        self.patch(end);
    }

    /// This unit is an `async def`'s body.
    fn is_coroutine(&self) -> bool {
        matches!(self.instrs.first(), Some(Instr::Coroutine))
    }

    fn setup_scope(&mut self, scan: &Scan) {
        self.globals = scan.globals.clone();
        let locals = scan.locals();
        let available: HashSet<Rc<str>> = self.enclosing.iter().flatten().cloned().collect();
        let mut cells: Vec<Rc<str>> = locals.iter().filter(|n| scan.children_free.contains(*n)).cloned().collect();
        cells.sort();
        let mut frees: Vec<Rc<str>> =
            scan.free(self.kind == CodeKind::Class).into_iter().filter(|n| available.contains(n)).collect();
        frees.sort();
        for c in &cells {
            self.locals.remove(c);
        }
        self.locals = locals.into_iter().filter(|n| !cells.contains(n)).collect();
        self.cells = cells;
        self.frees = frees;
    }

    /// Calls the decorators (evaluated before the definition, on the
    /// stack under it) on it, the last first.
    fn decorate(&mut self, decorators: &'a [Expr]) {
        let saved = self.pos;
        for d in decorators.iter().rev() {
            self.at(d);
            self.emit(Instr::Call(1));
        }
        self.pos = saved;
    }

    fn class(&mut self, c: &'a ast::StmtClassDef) -> R<()> {
        for d in &c.decorator_list {
            self.expr(d)?;
        }
        // `metaclass=ABCMeta` (`abc`'s) is the one class keyword: the
        // class derives from `abc.ABCMeta`, which checks abstract methods
        // as a base class here (`std/abc.py`).
        let abc_meta = match &c.keywords[..] {
            [k] if k.arg.as_ref().is_some_and(|a| a.as_str() == "metaclass") => match &k.value {
                Expr::Name(n) if n.id.as_str() == "ABCMeta" => Some(k),
                Expr::Attribute(a) if a.attr.as_str() == "ABCMeta" => Some(k),
                _ => None,
            },
            _ => None,
        };
        match (c.keywords.first(), abc_meta) {
            (Some(k), None) => {
                return Err(self.err(k, "class keywords (metaclass=...) are not supported (but metaclass=ABCMeta)"))
            }
            (Some(k), Some(_)) if !c.bases.is_empty() => {
                return Err(
                    self.err(k, "metaclass=ABCMeta with a base class is not supported: derive the base from abc.ABC")
                )
            }
            _ => {}
        }
        if c.bases.len() > 1 {
            return Err(self.err(&c.bases[1], "multiple inheritance is not supported: use one base class"));
        }
        if let Some(b) = c.bases.first() {
            self.expr(b)?;
        }
        if let Some(k) = abc_meta {
            self.expr(&k.value)?;
        }
        let mut scan = Scan { depth: self.depth + BODY_LEVELS, ..Scan::default() };
        scan_stmts(&c.body, &mut scan);
        let mut enclosing = self.enclosing.clone();
        if self.kind == CodeKind::Function {
            let mut mine: HashSet<Rc<str>> = self.locals.clone();
            mine.extend(self.cells.iter().cloned());
            mine.extend(self.frees.iter().cloned());
            enclosing.push(mine);
        }
        let mut unit = self.child(CodeKind::Class, enclosing, c.name.as_str());
        unit.setup_scope(&scan);
        unit.class_assigned = scan.assigned.clone();
        unit.cells.clear();
        unit.stmts(&c.body)?;
        let k = unit.konst(Value::None);
        unit.emit(Instr::Const(k));
        unit.emit(Instr::Return);
        let code = unit.finish(c.name.as_str(), Params::default());
        let k = self.konst(Value::None);
        self.consts[k as usize] = code_value(code);
        self.emit(Instr::MakeClass { code: k, has_base: !c.bases.is_empty() || abc_meta.is_some() });
        self.decorate(&c.decorator_list);
        self.store(c.name.as_str());
        Ok(())
    }

    // ------------------------------------------------------------------
    // Expressions
    // ------------------------------------------------------------------

    fn expr(&mut self, e: &'a Expr) -> R<()> {
        self.deeper(e, 1)?;
        let saved = self.pos;
        self.pos = self.expr_span(e);
        self.expr_inner(e)?;
        self.pos = saved;
        self.depth -= 1;
        Ok(())
    }

    fn expr_inner(&mut self, e: &'a Expr) -> R<()> {
        match e {
            Expr::Constant(c) => {
                let v = self.constant(&c.value, e)?;
                let k = self.konst(v);
                self.emit(Instr::Const(k));
            }
            Expr::Name(n) => self.load(n.id.as_str()),
            Expr::BinOp(b) => {
                self.expr(&b.left)?;
                self.expr(&b.right)?;
                if matches!(b.op, ast::Operator::MatMult) {
                    return Err(self.err(e, "the @ operator is not supported"));
                }
                self.emit(Instr::Binary(binop(b.op)));
            }
            Expr::UnaryOp(u) => {
                self.expr(&u.operand)?;
                self.emit(Instr::Unary(match u.op {
                    ast::UnaryOp::Not => UnOp::Not,
                    ast::UnaryOp::USub => UnOp::Neg,
                    ast::UnaryOp::UAdd => UnOp::Pos,
                    ast::UnaryOp::Invert => UnOp::Invert,
                }));
            }
            Expr::BoolOp(b) => {
                let mut ends = Vec::new();
                for (i, v) in b.values.iter().enumerate() {
                    self.expr(v)?;
                    if i + 1 < b.values.len() {
                        ends.push(self.emit(match b.op {
                            ast::BoolOp::And => Instr::JumpIfFalseOrPop(0),
                            ast::BoolOp::Or => Instr::JumpIfTrueOrPop(0),
                        }));
                    }
                }
                for j in ends {
                    self.patch(j);
                }
            }
            Expr::Compare(c) => {
                self.expr(&c.left)?;
                let n = c.ops.len();
                // The last `in`'s set literal is a frozenset constant.
                let last = |i: usize, right| match c.ops[i] {
                    ast::CmpOp::In | ast::CmpOp::NotIn if i + 1 == n => Some(right),
                    _ => None,
                };
                if n == 1 {
                    match last(0, &c.comparators[0]) {
                        Some(right) => self.operand(right)?,
                        None => self.expr(&c.comparators[0])?,
                    }
                    self.emit(Instr::Compare(cmpop(c.ops[0])));
                } else {
                    // a < b < c: each middle value is compared twice, evaluated once.
                    let mut fails = Vec::new();
                    for (i, (op, right)) in c.ops.iter().zip(&c.comparators).enumerate() {
                        match last(i, right) {
                            Some(right) => self.operand(right)?,
                            None => self.expr(right)?,
                        }
                        if i + 1 < n {
                            self.emit(Instr::Dup);
                            self.emit(Instr::Rot3);
                            self.emit(Instr::Compare(cmpop(*op)));
                            fails.push(self.emit(Instr::JumpIfFalseOrPop(0)));
                        } else {
                            self.emit(Instr::Compare(cmpop(*op)));
                        }
                    }
                    let end = self.emit(Instr::Jump(0));
                    for f in fails {
                        self.patch(f);
                    }
                    // The failed comparison's False is on top of the left-over operand.
                    self.emit(Instr::Rot2);
                    self.emit(Instr::Pop);
                    self.patch(end);
                }
            }
            Expr::Call(c) => self.call(c)?,
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                let n = self.name_idx(a.attr.as_str());
                self.emit(Instr::LoadAttr(n));
            }
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.expr(&s.slice)?;
                self.emit(Instr::Subscr);
            }
            Expr::Slice(s) => {
                for part in [&s.lower, &s.upper, &s.step] {
                    match part {
                        Some(p) => self.expr(p)?,
                        None => {
                            let k = self.konst(Value::None);
                            self.emit(Instr::Const(k));
                        }
                    }
                }
                self.emit(Instr::BuildSlice);
            }
            Expr::List(l) if has_starred(&l.elts) => self.starred_list(&l.elts)?,
            Expr::Set(ast::ExprSet { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) if has_starred(elts) => {
                // `{*a, b}`, `(*a, b)`: `set(...)` or `tuple(...)` of the list.
                let ty = self.name_idx(if matches!(e, Expr::Set(_)) { "set" } else { "tuple" });
                self.emit(Instr::LoadGlobal(ty));
                self.starred_list(elts)?;
                self.emit(Instr::Call(1));
            }
            Expr::List(l) => {
                for x in &l.elts {
                    self.expr(x)?;
                }
                self.emit(Instr::BuildList(l.elts.len() as u32));
            }
            Expr::Set(l) => {
                let n = l.elts.len() as u32;
                // CPython 3.11 folds 3 or more constants into a frozenset.
                let constants = if n > 2 { self.constant_set(&l.elts) } else { None };
                let build = if constants.is_some() { Instr::BuildConstSet(n, false) } else { Instr::BuildSet(n) };
                for x in constants.unwrap_or_else(|| l.elts.iter().collect()) {
                    self.expr(x)?;
                }
                self.emit(build);
            }
            Expr::Tuple(l) => {
                for x in &l.elts {
                    self.expr(x)?;
                }
                self.emit(Instr::BuildTuple(l.elts.len() as u32));
            }
            Expr::Dict(d) => self.merged_dict(
                d.keys.iter().map(|k| k.as_ref().map(DictKey::Expr)).zip(&d.values),
                Instr::Binary(BinOp::BitOr),
            )?,
            Expr::IfExp(i) => {
                self.expr(&i.test)?;
                let other = self.emit(Instr::JumpIfFalse(0));
                self.expr(&i.body)?;
                let end = self.emit(Instr::Jump(0));
                self.patch(other);
                self.expr(&i.orelse)?;
                self.patch(end);
            }
            Expr::Lambda(l) => self.function("<lambda>", &l.args, FnBody::Expr(&l.body), e)?,
            Expr::ListComp(c) => self.comprehension("<listcomp>", Comp::List(&c.elt), &c.generators, e)?,
            Expr::GeneratorExp(c) => self.comprehension("<genexpr>", Comp::Gen(&c.elt), &c.generators, e)?,
            Expr::DictComp(c) => self.comprehension("<dictcomp>", Comp::Dict(&c.key, &c.value), &c.generators, e)?,
            Expr::SetComp(c) => self.comprehension("<setcomp>", Comp::Set(&c.elt), &c.generators, e)?,
            Expr::JoinedStr(j) => {
                for v in &j.values {
                    self.expr(v)?;
                }
                self.emit(Instr::BuildString(j.values.len() as u32));
            }
            Expr::FormattedValue(f) => {
                self.expr(&f.value)?;
                if let Some(spec) = &f.format_spec {
                    self.expr(spec)?;
                }
                let conv = match f.conversion {
                    ast::ConversionFlag::None => 0,
                    ast::ConversionFlag::Str => b's',
                    ast::ConversionFlag::Repr => b'r',
                    ast::ConversionFlag::Ascii => b'a',
                };
                self.emit(Instr::FormatValue(conv, f.format_spec.is_some()));
            }
            // `(x := value)`: the value, bound to `x` and left on the stack.
            Expr::NamedExpr(n) => {
                let Expr::Name(target) = &*n.target else {
                    return Err(self.err(e, "`:=` assigns to a name: write `name := value`"));
                };
                self.expr(&n.value)?;
                self.emit(Instr::Dup);
                self.store(&target.id);
            }
            Expr::Await(a) => {
                if !self.is_coroutine() {
                    return Err(self.err(e, "'await' outside async function: make the enclosing function `async def`"));
                }
                // `yield from` over the awaitable: a coroutine, or a Deferred's
                // `__await__` (which yields the Deferred to whoever drives
                // the coroutine, `ensureDeferred`, and returns its result).
                self.expr(&a.value)?;
                self.emit(Instr::GetAwaitable);
                self.delegate();
            }
            Expr::Yield(y) => {
                if self.kind != CodeKind::Function {
                    return Err(self.err(e, "'yield' outside function: yield in a def's body"));
                }
                if self.is_coroutine() {
                    return Err(
                        self.err(e, "async generators are not supported: collect the values in a list and return it")
                    );
                }
                match &y.value {
                    Some(v) => self.expr(v)?,
                    None => {
                        let c = self.konst(Value::None);
                        self.emit(Instr::Const(c));
                    }
                }
                self.emit(Instr::Yield);
            }
            Expr::YieldFrom(y) => {
                if self.kind != CodeKind::Function {
                    return Err(self.err(e, "'yield from' outside function: use it in a def's body"));
                }
                // CPython's loop: send the value the generator was resumed
                // with into the iterator; yield what it yields; its return
                // value is the expression's.
                if self.is_coroutine() {
                    return Err(self.err(e, "'yield from' inside async function: use await"));
                }
                self.expr(&y.value)?;
                self.emit(Instr::GetIter);
                self.delegate();
            }
            Expr::Starred(_) => return Err(self.err(e, "`*` is only supported in calls: f(*args)")),
        }
        Ok(())
    }

    /// `[a, *b, c]`: a list of the plain items in runs and of each starred
    /// iterable (`list(b)`), joined with `+`.
    fn starred_list(&mut self, elts: &'a [Expr]) -> R<()> {
        let (mut run, mut parts) = (0, 0);
        for x in elts {
            if let Expr::Starred(s) = x {
                if run > 0 {
                    self.emit(Instr::BuildList(run));
                    parts += 1;
                    run = 0;
                }
                let list = self.name_idx("list");
                self.emit(Instr::LoadGlobal(list));
                self.expr(&s.value)?;
                self.emit(Instr::Call(1));
                parts += 1;
            } else {
                self.expr(x)?;
                run += 1;
            }
        }
        if run > 0 || parts == 0 {
            self.emit(Instr::BuildList(run));
            parts += 1;
        }
        for _ in 1..parts {
            self.emit(Instr::Binary(BinOp::Add));
        }
        Ok(())
    }

    /// `{k: v, **m, ...}` and a call's `k=v, **m`: the pairs so far as a
    /// dict, merged left to right with each `**` mapping (later keys win).
    /// A dict of `items` (`None` keys are `**` mappings), merged with
    /// `merge`: `|` for a display, [`Instr::DictMerge`] for a call's keywords.
    fn merged_dict(&mut self, items: impl Iterator<Item = (Option<DictKey<'a>>, &'a Expr)>, merge: Instr) -> R<()> {
        let (mut pairs, mut dicts) = (0, 0);
        for (k, v) in items {
            match k {
                Some(k) => {
                    match k {
                        DictKey::Expr(k) => self.expr(k)?,
                        DictKey::Name(n) => {
                            let c = self.konst(Value::Str(name(n)));
                            self.emit(Instr::Const(c));
                        }
                    }
                    self.expr(v)?;
                    pairs += 1;
                }
                None => {
                    if pairs > 0 || dicts == 0 {
                        self.emit(Instr::BuildDict(pairs));
                        if dicts > 0 {
                            self.emit(merge);
                        }
                        dicts += 1;
                        pairs = 0;
                    }
                    self.expr(v)?;
                    self.emit(merge);
                }
            }
        }
        if pairs > 0 || dicts == 0 {
            self.emit(Instr::BuildDict(pairs));
            if dicts > 0 {
                self.emit(merge);
            }
        }
        Ok(())
    }

    /// `e` where CPython 3.11 makes a set literal of constants a frozenset
    /// constant (what `for` and a comprehension iterate, the right of the
    /// last `in`): it iterates in that frozenset's order.
    fn operand(&mut self, e: &'a Expr) -> R<()> {
        if let Expr::Set(l) = e {
            if let Some(elts) = self.constant_set(&l.elts) {
                for x in elts {
                    self.expr(x)?;
                }
                self.emit(Instr::BuildConstSet(l.elts.len() as u32, true));
                return Ok(());
            }
        }
        self.expr(e)
    }

    /// The value CPython 3.11's AST optimizer folds `e` to, if it is a
    /// constant: a literal, a signed number, a tuple of constants.
    fn folded(&self, e: &Expr) -> Option<Value> {
        match e {
            Expr::Constant(c) => self.constant(&c.value, e).ok(),
            Expr::UnaryOp(u) => match (&u.op, self.folded(&u.operand)?) {
                (ast::UnaryOp::UAdd, v @ (Value::Int(_) | Value::Float(_))) => Some(v),
                (ast::UnaryOp::USub, Value::Int(i)) => i.checked_neg().map(Value::Int),
                (ast::UnaryOp::USub, Value::Float(f)) => Some(Value::Float(-f)),
                _ => None,
            },
            Expr::Tuple(t) => t.elts.iter().map(|x| self.folded(x)).collect::<Option<_>>().map(Value::tuple),
            _ => None,
        }
    }

    /// A set literal's elements if all are constants, in the order CPython
    /// builds its frozenset from: theirs, or an equal earlier literal's in
    /// the module (CPython's compiler keeps one constant of each value:
    /// `{8, 0, 16}` after `{0, 8, 16}` is that one, `{0, 8, 16}`).
    fn constant_set(&self, elts: &'a [Expr]) -> Option<Vec<&'a Expr>> {
        // Constants of one value have one repr (`1`, `1.0` and `True` apart).
        let keys: Vec<String> =
            elts.iter().map(|e| self.folded(e).map(|v| super::format::repr(&v))).collect::<Option<_>>()?;
        let mut seen = self.constant_sets.borrow_mut();
        let set: HashSet<&String> = keys.iter().collect();
        let mut elts: Vec<(&'a Expr, &String)> = elts.iter().zip(&keys).collect();
        match seen.iter().find(|first| first.len() == set.len() && set.iter().all(|k| first.contains_key(*k))) {
            Some(first) => elts.sort_by_key(|(_, k)| first[*k]),
            None => {
                let mut first = HashMap::new();
                for k in &keys {
                    let at = first.len();
                    first.entry(k.clone()).or_insert(at);
                }
                seen.push(first);
            }
        }
        Some(elts.into_iter().map(|(e, _)| e).collect())
    }

    fn constant(&self, c: &Constant, at: &Expr) -> R<Value> {
        Ok(match c {
            Constant::None => Value::None,
            Constant::Bool(b) => Value::Bool(*b),
            Constant::Str(s) => Value::Str(s.as_str().into()),
            Constant::Bytes(b) => Value::Bytes(b.as_slice().into()),
            Constant::Int(i) => match i64::try_from(i) {
                Ok(i) => Value::Int(i),
                Err(_) if super::bigint::HERE => Value::Big(Rc::new(i.clone())),
                Err(_) => return Err(self.err(at, "integer too large: ints are 64-bit here")),
            },
            Constant::Float(f) => Value::Float(*f),
            Constant::Tuple(t) => Value::tuple(t.iter().map(|c| self.constant(c, at)).collect::<R<_>>()?),
            Constant::Complex { .. } => return Err(self.err(at, "complex numbers are not supported")),
            // `...`: a body's placeholder (`def greet(self) -> str: ...`)
            // or a value (`Tuple[int, ...]`), printed `Ellipsis`.
            Constant::Ellipsis => Value::builtin("Ellipsis", None),
        })
    }

    fn call(&mut self, c: &'a ast::ExprCall) -> R<()> {
        self.expr(&c.func)?;
        let starred = c.args.iter().any(|a| matches!(a, Expr::Starred(_)));
        let double = c.keywords.iter().any(|k| k.arg.is_none());
        if starred || double {
            // f(a, *rest, k=v, **kw): one tuple of positionals (as a
            // display `(a, *rest)` is made), one dict of keywords.
            let t = self.name_idx("tuple");
            self.emit(Instr::LoadGlobal(t));
            self.starred_list(&c.args)?;
            self.emit(Instr::Call(1));
            if !c.keywords.is_empty() {
                let keywords = c.keywords.iter().map(|k| (k.arg.as_ref().map(DictKey::Name), &k.value));
                self.merged_dict(keywords, Instr::DictMerge)?;
            }
            self.emit(Instr::CallEx(!c.keywords.is_empty()));
            return Ok(());
        }
        for a in &c.args {
            self.expr(a)?;
        }
        if c.keywords.is_empty() {
            self.emit(Instr::Call(c.args.len() as u32));
        } else {
            let mut names = Vec::new();
            for k in &c.keywords {
                self.expr(&k.value)?;
                names.push(Value::Str(k.arg.as_ref().map(name).unwrap_or_default()));
            }
            let k = self.konst(Value::tuple(names));
            self.emit(Instr::CallKw((c.args.len() + c.keywords.len()) as u32, k));
        }
        Ok(())
    }

    fn comprehension(
        &mut self,
        cname: &str,
        what: Comp<'a>,
        generators: &'a [ast::Comprehension],
        at: &'a Expr,
    ) -> R<()> {
        let elts: Vec<&Expr> = match what {
            Comp::List(e) | Comp::Set(e) | Comp::Gen(e) => vec![e],
            Comp::Dict(k, v) => vec![k, v],
        };
        let scan = {
            let mut s = scan_comprehension(&elts, generators, self.depth + BODY_LEVELS);
            s.assigned.insert(".0".into());
            s
        };
        if let Some(n) = scan.bound_outside.iter().find(|n| scan.assigned.contains(*n)) {
            return Err(
                self.err(at, format!("assignment expression cannot rebind comprehension iteration variable '{n}'"))
            );
        }
        if self.kind == CodeKind::Class && !scan.bound_outside.is_empty() {
            return Err(self.err(at, "assignment expression within a comprehension cannot be used in a class body"));
        }
        let mut enclosing = self.enclosing.clone();
        if self.kind == CodeKind::Function {
            let mut mine: HashSet<Rc<str>> = self.locals.clone();
            mine.extend(self.cells.iter().cloned());
            mine.extend(self.frees.iter().cloned());
            enclosing.push(mine);
        }
        let mut unit = self.child(CodeKind::Function, enclosing, cname);
        unit.local(".0");
        unit.setup_scope(&scan);
        match what {
            Comp::List(_) => _ = unit.emit(Instr::BuildList(0)),
            Comp::Set(_) => _ = unit.emit(Instr::BuildSet(0)),
            Comp::Dict(..) => _ = unit.emit(Instr::BuildDict(0)),
            Comp::Gen(_) => {}
        }
        let mut loops = Vec::new();
        for (i, g) in generators.iter().enumerate() {
            if g.is_async {
                return Err(self.err(at, "async comprehensions are not supported"));
            }
            if i == 0 {
                unit.emit(Instr::LoadFast(0));
            } else {
                unit.operand(&g.iter)?;
                unit.emit(Instr::GetIter);
            }
            let start = unit.here();
            let exit = unit.emit(Instr::ForIter(0));
            unit.assign(&g.target)?;
            let mut skips = Vec::new();
            for cond in &g.ifs {
                unit.expr(cond)?;
                skips.push(unit.emit(Instr::JumpIfFalse(0)));
            }
            loops.push((start, exit, skips));
        }
        match what {
            Comp::List(e) => {
                unit.expr(e)?;
                unit.emit(Instr::ListAppend(generators.len() as u32));
            }
            Comp::Set(e) => {
                unit.expr(e)?;
                unit.emit(Instr::SetAdd(generators.len() as u32));
            }
            Comp::Gen(e) => {
                unit.expr(e)?;
                unit.emit(Instr::Yield);
                unit.emit(Instr::Pop);
            }
            Comp::Dict(k, v) => {
                unit.expr(k)?;
                unit.expr(v)?;
                unit.emit(Instr::DictSet(generators.len() as u32));
            }
        }
        for (start, exit, skips) in loops.into_iter().rev() {
            for s in skips {
                unit.patch(s);
            }
            unit.emit(Instr::Loop(start as u32));
            unit.patch(exit);
        }
        if let Comp::Gen(_) = what {
            let none = unit.konst(Value::None);
            unit.emit(Instr::Const(none));
        }
        unit.emit(Instr::Return);
        let params = Params { positional: vec![".0".into()], ..Params::default() };
        let code = unit.finish(cname, params);
        let k = self.konst(Value::None);
        self.consts[k as usize] = code_value(code);
        self.emit(Instr::MakeFunction { code: k, defaults: 0, kwdefaults: 0 });
        if let Some(first) = generators.first() {
            self.operand(&first.iter)?;
        }
        self.emit(Instr::GetIter);
        self.emit(Instr::Call(1));
        Ok(())
    }
}

/// A key of [`Unit::merged_dict`]: a dict display's expression or a
/// keyword argument's name.
enum DictKey<'a> {
    Expr(&'a Expr),
    Name(&'a ast::Identifier),
}

fn has_starred(elts: &[Expr]) -> bool {
    elts.iter().any(|e| matches!(e, Expr::Starred(_)))
}

enum FnBody<'a> {
    Stmts(&'a [Stmt]),
    /// An `async def`'s body.
    Coroutine(&'a [Stmt]),
    Expr(&'a Expr),
}

#[derive(Clone, Copy)]
enum Comp<'a> {
    List(&'a Expr),
    /// A generator expression: CPython's generator function over `.0`,
    /// lazy (`any(check(x) for x in xs)` stops at the first true one).
    Gen(&'a Expr),
    Set(&'a Expr),
    Dict(&'a Expr, &'a Expr),
}

/// Code objects travel as constants of the code that makes them, as
/// functions that `MakeFunction` copies with their defaults and closure.
fn code_value(code: Code) -> Value {
    super::value::Function::of_code(Rc::new(code), Rc::default())
}

fn binop(op: ast::Operator) -> BinOp {
    match op {
        ast::Operator::Add => BinOp::Add,
        ast::Operator::Sub => BinOp::Sub,
        ast::Operator::Mult => BinOp::Mul,
        ast::Operator::Div => BinOp::Div,
        ast::Operator::FloorDiv => BinOp::FloorDiv,
        ast::Operator::Mod => BinOp::Mod,
        ast::Operator::Pow => BinOp::Pow,
        ast::Operator::LShift => BinOp::LShift,
        ast::Operator::RShift => BinOp::RShift,
        ast::Operator::BitAnd => BinOp::BitAnd,
        ast::Operator::BitOr => BinOp::BitOr,
        ast::Operator::BitXor => BinOp::BitXor,
        ast::Operator::MatMult => BinOp::Mul,
    }
}

fn cmpop(op: ast::CmpOp) -> CmpOp {
    match op {
        ast::CmpOp::Eq => CmpOp::Eq,
        ast::CmpOp::NotEq => CmpOp::Ne,
        ast::CmpOp::Lt => CmpOp::Lt,
        ast::CmpOp::LtE => CmpOp::Le,
        ast::CmpOp::Gt => CmpOp::Gt,
        ast::CmpOp::GtE => CmpOp::Ge,
        ast::CmpOp::Is => CmpOp::Is,
        ast::CmpOp::IsNot => CmpOp::IsNot,
        ast::CmpOp::In => CmpOp::In,
        ast::CmpOp::NotIn => CmpOp::NotIn,
    }
}

/// Whether this build has the parser (twine-web's `python` feature). Without
/// it, `compile_module`, `check` and `variants` stop before the compiler, so
/// the optimiser leaves the compiler out of the light module too (and with it
/// the AST and the big integers of its literals).
pub(crate) const PARSER: bool = cfg!(feature = "python");

/// The error every program not compiled ahead of time gets without the parser.
pub(crate) fn no_parser(file: &str) -> CompileError {
    let message =
        "this build runs JSON scenarios and precompiled programs only: Python needs twine-web's `python` feature";
    CompileError { file: file.into(), line: 1, col: 1, message: message.into() }
}

/// Parses a module with rustpython's parser. Without twine-web's `python`
/// feature (the playground's light module) the parser is not compiled in at
/// all, and every program is refused here.
pub(crate) fn parse_module(file: &str, source: &str) -> Result<ast::Mod, rustpython_parser::ParseError> {
    #[cfg(feature = "python")]
    return rustpython_parser::parse(source, rustpython_parser::Mode::Module, file);
    #[cfg(not(feature = "python"))]
    {
        let _ = (file, source);
        Err(rustpython_parser::ParseError {
            error: rustpython_parser::ParseErrorType::Lexical(rustpython_parser::lexer::LexicalErrorType::OtherError(
                "this build runs JSON scenarios only: Python needs twine-web's `python` feature".into(),
            )),
            offset: Default::default(),
            source_path: file.into(),
        })
    }
}

/// Parses and compiles a module.
pub(crate) fn compile_module(file: &str, source: &str) -> Result<Rc<Code>, CompileError> {
    if let Some(code) = super::precompiled::code(file, source) {
        return Ok(code);
    }
    if !PARSER {
        return Err(no_parser(file));
    }
    let lines = Lines::new(source);
    let parsed = parse_module(file, source).map_err(|e| {
        let (line, col) = lines.at(e.offset.to_usize());
        CompileError { file: file.into(), line, col, message: format!("syntax error: {}", e.error) }
    })?;
    let ast::Mod::Module(module) = parsed else {
        return Err(CompileError { file: file.into(), line: 1, col: 1, message: "not a module".into() });
    };
    let body = Ast(module.body);
    let mut unit = Unit::new(&lines, file.into(), CodeKind::Module, Vec::new());
    unit.stmts(&body.0)?;
    let k = unit.konst(Value::None);
    unit.emit(Instr::Const(k));
    unit.emit(Instr::Return);
    Ok(Rc::new(unit.finish("<module>", Params::default())))
}

/// A parsed module's statements, freed without recursing once per level of
/// nesting: rustpython's AST is boxed node in node, so dropping a
/// 50000-deep expression (`x = 1 + 1 + ... + 1`, which the parser takes
/// without recursing) recursed 50000 levels, past the 1 MB wasm stack,
/// even when the compiler refused the program. [`dismantle`] takes it apart
/// with a work list instead; it costs one walk over the AST, small next to
/// parsing it.
pub(crate) struct Ast(pub Vec<Stmt>);

impl Drop for Ast {
    fn drop(&mut self) {
        dismantle(std::mem::take(&mut self.0));
    }
}

enum Node {
    S(Stmt),
    E(Expr),
}

/// Drops `body` one node at a time: each node's expression and statement
/// children are moved onto a work list before the node itself is dropped,
/// so no drop nests deeper than a node's own leaves. (Statements nest only
/// through indentation, a few thousand levels at most in any source the
/// page takes; expressions are what nest deep.)
fn dismantle(body: Vec<Stmt>) {
    fn boxed(work: &mut Vec<Node>, e: impl IntoIterator<Item = Box<Expr>>) {
        work.extend(e.into_iter().map(|e| Node::E(*e)));
    }
    fn exprs(work: &mut Vec<Node>, e: impl IntoIterator<Item = Expr>) {
        work.extend(e.into_iter().map(Node::E));
    }
    fn stmts(work: &mut Vec<Node>, s: Vec<Stmt>) {
        work.extend(s.into_iter().map(Node::S));
    }
    fn args(work: &mut Vec<Node>, a: ast::Arguments) {
        let all = a.posonlyargs.into_iter().chain(a.args).chain(a.kwonlyargs);
        boxed(work, all.filter_map(|d| d.default));
    }
    fn comprehensions(work: &mut Vec<Node>, generators: Vec<ast::Comprehension>) {
        for g in generators {
            exprs(work, [g.target, g.iter].into_iter().chain(g.ifs));
        }
    }
    let mut work = Vec::new();
    stmts(&mut work, body);
    while let Some(node) = work.pop() {
        let w = &mut work;
        match node {
            Node::S(s) => match s {
                Stmt::FunctionDef(f) => {
                    args(w, *f.args);
                    exprs(w, f.decorator_list);
                    stmts(w, f.body);
                }
                Stmt::AsyncFunctionDef(f) => {
                    args(w, *f.args);
                    exprs(w, f.decorator_list);
                    stmts(w, f.body);
                }
                Stmt::ClassDef(c) => {
                    exprs(w, c.bases.into_iter().chain(c.decorator_list));
                    exprs(w, c.keywords.into_iter().map(|k| k.value));
                    stmts(w, c.body);
                }
                Stmt::Return(r) => boxed(w, r.value),
                Stmt::Delete(d) => exprs(w, d.targets),
                Stmt::Assign(a) => {
                    exprs(w, a.targets);
                    boxed(w, [a.value]);
                }
                Stmt::AugAssign(a) => boxed(w, [a.target, a.value]),
                Stmt::AnnAssign(a) => boxed(w, [a.target, a.annotation].into_iter().chain(a.value)),
                Stmt::For(f) => {
                    boxed(w, [f.target, f.iter]);
                    stmts(w, f.body);
                    stmts(w, f.orelse);
                }
                Stmt::While(s) => {
                    boxed(w, [s.test]);
                    stmts(w, s.body);
                    stmts(w, s.orelse);
                }
                Stmt::If(s) => {
                    boxed(w, [s.test]);
                    stmts(w, s.body);
                    stmts(w, s.orelse);
                }
                Stmt::With(s) => {
                    for item in s.items {
                        exprs(w, [item.context_expr]);
                        boxed(w, item.optional_vars);
                    }
                    stmts(w, s.body);
                }
                Stmt::Raise(r) => boxed(w, r.exc.into_iter().chain(r.cause)),
                Stmt::Try(t) => {
                    for ast::ExceptHandler::ExceptHandler(h) in t.handlers {
                        boxed(w, h.type_);
                        stmts(w, h.body);
                    }
                    stmts(w, t.body);
                    stmts(w, t.orelse);
                    stmts(w, t.finalbody);
                }
                Stmt::Assert(a) => boxed(w, [a.test].into_iter().chain(a.msg)),
                Stmt::Expr(e) => boxed(w, [e.value]),
                // The rest hold no expressions, or none the compiler takes.
                _ => {}
            },
            Node::E(e) => match e {
                Expr::BoolOp(b) => exprs(w, b.values),
                Expr::NamedExpr(n) => boxed(w, [n.target, n.value]),
                Expr::BinOp(b) => boxed(w, [b.left, b.right]),
                Expr::UnaryOp(u) => boxed(w, [u.operand]),
                Expr::Lambda(l) => {
                    args(w, *l.args);
                    boxed(w, [l.body]);
                }
                Expr::IfExp(i) => boxed(w, [i.test, i.body, i.orelse]),
                Expr::Dict(d) => exprs(w, d.keys.into_iter().flatten().chain(d.values)),
                Expr::Set(s) => exprs(w, s.elts),
                Expr::ListComp(c) => {
                    boxed(w, [c.elt]);
                    comprehensions(w, c.generators);
                }
                Expr::SetComp(c) => {
                    boxed(w, [c.elt]);
                    comprehensions(w, c.generators);
                }
                Expr::DictComp(c) => {
                    boxed(w, [c.key, c.value]);
                    comprehensions(w, c.generators);
                }
                Expr::GeneratorExp(c) => {
                    boxed(w, [c.elt]);
                    comprehensions(w, c.generators);
                }
                Expr::Await(a) => boxed(w, [a.value]),
                Expr::Yield(y) => boxed(w, y.value),
                Expr::YieldFrom(y) => boxed(w, [y.value]),
                Expr::Compare(c) => {
                    boxed(w, [c.left]);
                    exprs(w, c.comparators);
                }
                Expr::Call(c) => {
                    boxed(w, [c.func]);
                    exprs(w, c.args.into_iter().chain(c.keywords.into_iter().map(|k| k.value)));
                }
                Expr::FormattedValue(f) => boxed(w, [f.value].into_iter().chain(f.format_spec)),
                Expr::JoinedStr(j) => exprs(w, j.values),
                Expr::Attribute(a) => boxed(w, [a.value]),
                Expr::Subscript(s) => boxed(w, [s.value, s.slice]),
                Expr::Starred(s) => boxed(w, [s.value]),
                Expr::List(l) => exprs(w, l.elts),
                Expr::Tuple(t) => exprs(w, t.elts),
                Expr::Slice(s) => boxed(w, s.lower.into_iter().chain(s.upper).chain(s.step)),
                Expr::Constant(_) | Expr::Name(_) => {}
            },
        }
    }
}
