//! Reading a program's machine settings before it runs.
//!
//! The machine a run simulates (cores, the GIL, the pool's size, the clients)
//! is fixed before the first instruction, so `twine.machine(...)` and the like
//! are read from the top-level statements ahead of the run. Their arguments
//! may be computed from what the top level bound before them: this module
//! evaluates the small, side-effect-free part of Python they need (constants,
//! names, `twine.variant(...)`, comparisons, `not`/`and`/`or`, `x if c else
//! y`, arithmetic, `int()`/`float()`/`str()`/`len()`, str methods
//! `startswith`/`endswith`/`split`/`lower`/`upper`, indexing). An argument it
//! cannot compute is refused with its line and column; the run then evaluates
//! the same statements for real, with the same result.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr};

use super::compile::Lines;
use super::CompileError;

/// A value computed before the run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Const {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Const>),
}

impl Const {
    /// As a number of any kind.
    pub fn number(&self) -> Option<f64> {
        match self {
            Const::Int(i) => Some(*i as f64),
            Const::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Const::None => false,
            Const::Bool(b) => *b,
            Const::Int(i) => *i != 0,
            Const::Float(f) => *f != 0.0,
            Const::Str(s) => !s.is_empty(),
            Const::List(l) => !l.is_empty(),
        }
    }
}

/// The reading's state: the names bound so far and the variant chosen.
pub(crate) struct Static<'a> {
    file: &'a str,
    lines: &'a Lines,
    variant: Option<&'a str>,
    /// Top-level names with a value computed before the run.
    pub names: HashMap<String, Const>,
    /// The program's variants, once its `twine.variant(...)` was read.
    pub variants: Option<Vec<(String, String)>>,
}

/// `twine.variant(name="title", **{"other-name": "title"})`'s names and
/// titles, if `c` is that call: `Err` when it is, but malformed.
pub(crate) fn variant_titles(
    lines: &Lines,
    file: &str,
    c: &ast::ExprCall,
) -> Option<Result<Vec<(String, String)>, CompileError>> {
    let Expr::Attribute(a) = &*c.func else { return None };
    if a.attr.as_str() != "variant" || !matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "twine") {
        return None;
    }
    let (line, col) = lines.at(ast::Ranged::start(c).to_usize());
    let bad = |m: &str| Some(Err(CompileError { file: file.into(), line, col, message: m.into() }));
    let text = |e: &Expr| match e {
        Expr::Constant(k) => match &k.value {
            ast::Constant::Str(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let usage = "twine.variant(name=\"title\", ...) takes names with constant string titles";
    if !c.args.is_empty() {
        return bad(usage);
    }
    let mut out = Vec::new();
    for k in &c.keywords {
        match &k.arg {
            Some(name) => match text(&k.value) {
                Some(t) => out.push((name.to_string(), t)),
                None => return bad(usage),
            },
            None => {
                let Expr::Dict(d) = &k.value else { return bad(usage) };
                for (key, value) in d.keys.iter().zip(&d.values) {
                    match (key.as_ref().and_then(text), text(value)) {
                        (Some(k), Some(v)) => out.push((k, v)),
                        _ => return bad(usage),
                    }
                }
            }
        }
    }
    if out.is_empty() {
        return bad("twine.variant() needs at least one name=title");
    }
    Some(Ok(out))
}

impl<'a> Static<'a> {
    pub fn new(file: &'a str, lines: &'a Lines, variant: Option<&'a str>) -> Static<'a> {
        Static { file, lines, variant, names: HashMap::new(), variants: None }
    }

    fn error(&self, e: &Expr, message: &str) -> CompileError {
        let (line, col) = self.lines.at(ast::Ranged::start(e).to_usize());
        CompileError { file: self.file.into(), line, col, message: message.into() }
    }

    /// `e`'s value, which the machine's settings need: refused when unknown.
    pub fn need(&mut self, e: &Expr) -> Result<Const, CompileError> {
        self.eval(e)?.ok_or_else(|| {
            self.error(
                e,
                "this argument is read before the run starts: compute it from constants, the variant and \
                 top-level names bound to such values",
            )
        })
    }

    /// `e`'s value, `None` if it cannot be computed before the run; `Err` for
    /// a `twine.variant(...)` call that is wrong.
    pub fn eval(&mut self, e: &Expr) -> Result<Option<Const>, CompileError> {
        Ok(match e {
            Expr::Constant(k) => match &k.value {
                ast::Constant::None => Some(Const::None),
                ast::Constant::Bool(b) => Some(Const::Bool(*b)),
                ast::Constant::Int(i) => i64::try_from(i).ok().map(Const::Int),
                ast::Constant::Float(f) => Some(Const::Float(*f)),
                ast::Constant::Str(s) => Some(Const::Str(s.clone())),
                _ => None,
            },
            Expr::Name(n) => self.names.get(n.id.as_str()).cloned(),
            Expr::List(l) => self.all(&l.elts)?.map(Const::List),
            Expr::Tuple(t) => self.all(&t.elts)?.map(Const::List),
            Expr::UnaryOp(u) => match (u.op, self.eval(&u.operand)?) {
                (ast::UnaryOp::Not, Some(v)) => Some(Const::Bool(!v.truthy())),
                (ast::UnaryOp::USub, Some(Const::Int(i))) => i.checked_neg().map(Const::Int),
                (ast::UnaryOp::USub, Some(Const::Float(f))) => Some(Const::Float(-f)),
                _ => None,
            },
            Expr::BoolOp(b) => {
                let mut last = None;
                for v in &b.values {
                    let Some(x) = self.eval(v)? else { return Ok(None) };
                    let stop = match b.op {
                        ast::BoolOp::And => !x.truthy(),
                        ast::BoolOp::Or => x.truthy(),
                    };
                    last = Some(x);
                    if stop {
                        break;
                    }
                }
                last
            }
            Expr::IfExp(i) => match self.eval(&i.test)? {
                Some(t) if t.truthy() => self.eval(&i.body)?,
                Some(_) => self.eval(&i.orelse)?,
                None => None,
            },
            Expr::Compare(c) if c.ops.len() == 1 => {
                let (Some(l), Some(r)) = (self.eval(&c.left)?, self.eval(&c.comparators[0])?) else {
                    return Ok(None);
                };
                compare(c.ops[0], &l, &r).map(Const::Bool)
            }
            Expr::BinOp(b) => {
                let (Some(l), Some(r)) = (self.eval(&b.left)?, self.eval(&b.right)?) else { return Ok(None) };
                binop(b.op, l, r)
            }
            Expr::Subscript(s) => {
                let (Some(v), Some(Const::Int(i))) = (self.eval(&s.value)?, self.eval(&s.slice)?) else {
                    return Ok(None);
                };
                let items: Vec<Const> = match v {
                    Const::List(l) => l,
                    Const::Str(s) => s.chars().map(|c| Const::Str(c.to_string())).collect(),
                    _ => return Ok(None),
                };
                let at = if i < 0 { items.len() as i64 + i } else { i };
                usize::try_from(at).ok().and_then(|at| items.get(at).cloned())
            }
            Expr::Call(c) => return self.call(c),
            _ => None,
        })
    }

    fn all(&mut self, es: &[Expr]) -> Result<Option<Vec<Const>>, CompileError> {
        let mut out = Vec::with_capacity(es.len());
        for e in es {
            let Some(v) = self.eval(e)? else { return Ok(None) };
            out.push(v);
        }
        Ok(Some(out))
    }

    fn call(&mut self, c: &ast::ExprCall) -> Result<Option<Const>, CompileError> {
        if let Some(titles) = variant_titles(self.lines, self.file, c) {
            let titles = titles?;
            let chosen = match self.variant {
                Some(v) => v.to_owned(),
                None => titles[0].0.clone(),
            };
            if !titles.iter().any(|(n, _)| *n == chosen) {
                let names: Vec<&str> = titles.iter().map(|(n, _)| n.as_str()).collect();
                let message = format!("no variant '{chosen}'; this experiment has: {}", names.join(", "));
                let (line, col) = self.lines.at(ast::Ranged::start(c).to_usize());
                return Err(CompileError { file: self.file.into(), line, col, message });
            }
            self.variants = Some(titles);
            return Ok(Some(Const::Str(chosen)));
        }
        if !c.keywords.is_empty() {
            return Ok(None);
        }
        let Some(args) = self.all(&c.args)? else { return Ok(None) };
        Ok(match &*c.func {
            Expr::Name(n) => match (n.id.as_str(), args.as_slice()) {
                ("int", [Const::Int(i)]) => Some(Const::Int(*i)),
                ("int", [Const::Bool(b)]) => Some(Const::Int(*b as i64)),
                ("int", [Const::Float(f)]) if f.is_finite() => Some(Const::Int(f.trunc() as i64)),
                ("int", [Const::Str(s)]) => s.trim().parse().ok().map(Const::Int),
                ("float", [v]) => match v {
                    Const::Str(s) => super::text::parse_float(s.trim()).map(Const::Float),
                    v => v.number().map(Const::Float),
                },
                ("str", [Const::Str(s)]) => Some(Const::Str(s.clone())),
                ("str", [Const::Int(i)]) => Some(Const::Str(i.to_string())),
                ("len", [Const::Str(s)]) => Some(Const::Int(s.chars().count() as i64)),
                ("len", [Const::List(l)]) => Some(Const::Int(l.len() as i64)),
                ("bool", [v]) => Some(Const::Bool(v.truthy())),
                _ => None,
            },
            Expr::Attribute(a) => {
                let Some(Const::Str(s)) = self.eval(&a.value)? else { return Ok(None) };
                match (a.attr.as_str(), args.as_slice()) {
                    ("startswith", [Const::Str(p)]) => Some(Const::Bool(s.starts_with(p.as_str()))),
                    ("endswith", [Const::Str(p)]) => Some(Const::Bool(s.ends_with(p.as_str()))),
                    ("lower", []) => Some(Const::Str(super::text::lower(&s))),
                    ("upper", []) => Some(Const::Str(super::text::upper(&s))),
                    ("split", [Const::Str(p)]) if !p.is_empty() => {
                        Some(Const::List(s.split(p.as_str()).map(|x| Const::Str(x.to_owned())).collect()))
                    }
                    ("split", []) => {
                        Some(Const::List(s.split_whitespace().map(|x| Const::Str(x.to_owned())).collect()))
                    }
                    _ => None,
                }
            }
            _ => None,
        })
    }
}

fn compare(op: ast::CmpOp, l: &Const, r: &Const) -> Option<bool> {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Const::Str(a), Const::Str(b)) => Some(a.cmp(b)),
        _ => match (l.number().or(bool_num(l)), r.number().or(bool_num(r))) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => None,
        },
    };
    Some(match op {
        ast::CmpOp::Eq => ord.map_or(l == r, |o| o == Ordering::Equal),
        ast::CmpOp::NotEq => ord.map_or(l != r, |o| o != Ordering::Equal),
        ast::CmpOp::Lt => ord? == Ordering::Less,
        ast::CmpOp::LtE => ord? != Ordering::Greater,
        ast::CmpOp::Gt => ord? == Ordering::Greater,
        ast::CmpOp::GtE => ord? != Ordering::Less,
        ast::CmpOp::In | ast::CmpOp::NotIn => {
            let found = match (l, r) {
                (Const::Str(a), Const::Str(b)) => b.contains(a.as_str()),
                (x, Const::List(items)) => items.contains(x),
                _ => return None,
            };
            found == matches!(op, ast::CmpOp::In)
        }
        _ => return None,
    })
}

fn bool_num(v: &Const) -> Option<f64> {
    match v {
        Const::Bool(b) => Some(*b as i64 as f64),
        _ => None,
    }
}

fn binop(op: ast::Operator, l: Const, r: Const) -> Option<Const> {
    use ast::Operator::*;
    match (op, l, r) {
        (Add, Const::Str(a), Const::Str(b)) => Some(Const::Str(a + &b)),
        (Add, Const::Int(a), Const::Int(b)) => a.checked_add(b).map(Const::Int),
        (Sub, Const::Int(a), Const::Int(b)) => a.checked_sub(b).map(Const::Int),
        (Mult, Const::Int(a), Const::Int(b)) => a.checked_mul(b).map(Const::Int),
        (FloorDiv, Const::Int(a), Const::Int(b)) if b > 0 => Some(Const::Int(a.div_euclid(b))),
        (op, l, r) => {
            let (a, b) = (l.number()?, r.number()?);
            match op {
                Add => Some(Const::Float(a + b)),
                Sub => Some(Const::Float(a - b)),
                Mult => Some(Const::Float(a * b)),
                Div if b != 0.0 => Some(Const::Float(a / b)),
                _ => None,
            }
        }
    }
}
