//! Programs compiled ahead of time, so a build without the parser (the
//! playground's light module) can run them.
//!
//! Python's parser is most of the weight of the full wasm module, and the
//! page opens on a preset program. So the build compiles every preset
//! natively ([`compile`], [`library`], `twine-precompile`), the page hands the result to
//! the light module ([`register`], `addCompiled` in wasm), and from then on
//! that exact source text compiles, checks and lists its variants from the
//! registered form: `code`, `machine` and [`variants`] are asked first by
//! `compile_module`, `check` and `python::variants`. Any other text (the user
//! edited the program) goes to the parser as before.
//!
//! The file is postcard, not JSON: the light module then carries postcard's
//! small reader instead of serde_json's (the JSON reader for these types was
//! about 70 KB of the module before wasm-opt, 13 KB brotli). For the same
//! reason it also lists the JSON presets (their titles and variants, for the
//! page's picker), which the light module cannot read from their JSON; and
//! the preset programs' texts it carries are the only copy the light module
//! has ([`presets`]: the page's editor reads them from there).
//!
//! `twine-precompile` writes one file that lists the presets (programs and
//! JSON: [`program_presets`], [`json_presets`]) with the library's parts,
//! and a file per preset program: the page fetches the list and the preset
//! it opens on before Run, and the others after (a file [`register`]ed
//! adds its programs to those before, and replaces the lists only if it
//! carries them).
//!
//! ```
//! use twine_web::python::precompiled;
//!
//! let src = "import twine\nV = twine.variant(a='A', b='B')\nprint(V)\n";
//! let compiled = precompiled::compile("experiment.py", src).unwrap();
//! // A file holds a list of them, as `twine-precompile` writes it.
//! assert_eq!(precompiled::register(&precompiled::encode(&[compiled], &[], &[])).unwrap(), 1);
//! assert!(precompiled::is_registered(src));
//! assert_eq!(precompiled::variants(src).unwrap()[1].0, "b");
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::code::{Code, CodeKind, Instr, Params, Span};
use super::value::{Function, Value};
use super::{CompileError, MachineArgs};
use crate::presets::PresetInfo;

/// One program as compiled natively: what the light module needs to run it.
#[derive(Serialize, Deserialize)]
pub struct Compiled {
    /// The preset it is, if one (`twine-precompile` names them): a build
    /// without the parser has no copy of the presets' texts of its own and
    /// lists them from here ([`presets`]).
    pub preset: Option<String>,
    /// A preset's explanation (its docstring's, as `Preset::program_info`
    /// gives it): the list file leaves it out, and [`program_presets`]
    /// gives it once this arrives (the light module has no docstring
    /// reader: it weighed 1.1 KB brotli).
    pub explanation: String,
    /// The name errors give the program (the page's is `experiment.py`).
    file: String,
    /// Its exact text: only this text uses the compiled form.
    pub source: String,
    code: CodeRepr,
    /// `twine.variant(...)`'s `(name, title)`s.
    variants: Vec<(String, String)>,
    /// The machine settings of each run: the default one (`None`) and each variant's.
    machines: Vec<(Option<String>, MachineArgs)>,
}

/// [`Code`] as data: names as strings and constants without live objects.
#[derive(Clone, Serialize, Deserialize)]
struct CodeRepr {
    name: String,
    qualname: String,
    kind: CodeKind,
    instrs: Vec<Instr>,
    spans: Vec<Span>,
    consts: Vec<ConstRepr>,
    names: Vec<String>,
    params: (Vec<String>, Option<String>, Vec<String>, Option<String>),
    varnames: Vec<String>,
    cellvars: Vec<(String, Option<u32>)>,
    freevars: Vec<String>,
}

/// The constants the compiler makes: literals, keyword-name tuples and the
/// code of nested functions and classes.
#[derive(Clone, Serialize, Deserialize)]
enum ConstRepr {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<ConstRepr>),
    Code(Box<CodeRepr>),
}

fn strs(v: &[Rc<str>]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn rcs(v: Vec<String>) -> Vec<Rc<str>> {
    v.into_iter().map(Rc::from).collect()
}

impl CodeRepr {
    fn of(code: &Code) -> Result<CodeRepr, String> {
        let p = &code.params;
        // The light module binds arguments without them (`vm::frame_for`).
        if p.posonly > 0 {
            return Err(format!("{}: positional-only parameters (/) cannot be precompiled", code.name));
        }
        Ok(CodeRepr {
            name: code.name.to_string(),
            qualname: code.qualname.to_string(),
            kind: code.kind,
            instrs: code.instrs.clone(),
            spans: code.spans.clone(),
            consts: code.consts.iter().map(ConstRepr::of).collect::<Result<_, _>>()?,
            names: strs(&code.names),
            params: (
                strs(&p.positional),
                p.vararg.as_ref().map(|s| s.to_string()),
                strs(&p.kwonly),
                p.kwarg.as_ref().map(|s| s.to_string()),
            ),
            varnames: strs(&code.varnames),
            cellvars: code.cellvars.iter().map(|(n, i)| (n.to_string(), *i)).collect(),
            freevars: strs(&code.freevars),
        })
    }

    fn code(self, file: &Rc<str>, source: &Rc<str>) -> Code {
        let (positional, vararg, kwonly, kwarg) = self.params;
        Code {
            generator: super::code::makes_generator(&self.instrs),
            name: self.name.into(),
            qualname: self.qualname.into(),
            file: Rc::clone(file),
            source: Rc::clone(source),
            kind: self.kind,
            instrs: self.instrs,
            spans: self.spans,
            consts: self.consts.into_iter().map(|c| c.value(file, source)).collect(),
            names: rcs(self.names),
            params: Params {
                positional: rcs(positional),
                posonly: 0,
                vararg: vararg.map(Rc::from),
                kwonly: rcs(kwonly),
                kwarg: kwarg.map(Rc::from),
            },
            varnames: rcs(self.varnames),
            cellvars: self.cellvars.into_iter().map(|(n, i)| (Rc::from(n), i)).collect(),
            freevars: rcs(self.freevars),
        }
    }
}

impl ConstRepr {
    fn of(v: &Value) -> Result<ConstRepr, String> {
        Ok(match v {
            Value::None => ConstRepr::None,
            Value::Bool(b) => ConstRepr::Bool(*b),
            Value::Int(i) => ConstRepr::Int(*i),
            Value::Float(f) => ConstRepr::Float(*f),
            Value::Str(s) => ConstRepr::Str(s.to_string()),
            Value::Bytes(b) => ConstRepr::Bytes(b.to_vec()),
            Value::Tuple(t) => ConstRepr::Tuple(t.iter().map(ConstRepr::of).collect::<Result<_, _>>()?),
            Value::Func(f) => ConstRepr::Code(Box::new(CodeRepr::of(&f.code)?)),
            other => return Err(format!("a constant the compiler does not make: {other:?}")),
        })
    }

    fn value(self, file: &Rc<str>, source: &Rc<str>) -> Value {
        match self {
            ConstRepr::None => Value::None,
            ConstRepr::Bool(b) => Value::Bool(b),
            ConstRepr::Int(i) => Value::Int(i),
            ConstRepr::Float(f) => Value::Float(f),
            ConstRepr::Str(s) => Value::Str(s.into()),
            ConstRepr::Bytes(b) => Value::Bytes(b.into()),
            ConstRepr::Tuple(t) => Value::tuple(t.into_iter().map(|c| c.value(file, source)).collect()),
            // As the compiler's `code_value`: a template `MakeFunction` copies.
            ConstRepr::Code(c) => Function::of_code(Rc::new(c.code(file, source)), Rc::default()),
        }
    }
}

/// Compiles `source` (as `file`) with the parser into what [`register`]
/// takes (a list of them, [`encode`]d): its code, its variants and each
/// run's machine settings. Fails as the program would fail to load.
pub fn compile(file: &str, source: &str) -> Result<Compiled, CompileError> {
    let code = super::compile::compile_module(file, source)?;
    let variants = super::variants(source);
    let mut machines = vec![(None, super::check(file, source, None)?)];
    for (name, _) in &variants {
        machines.push((Some(name.clone()), super::check(file, source, Some(name))?));
    }
    let code = CodeRepr::of(&code).map_err(|message| CompileError { file: file.into(), line: 1, col: 1, message })?;
    Ok(Compiled {
        preset: None,
        explanation: String::new(),
        file: file.into(),
        source: source.into(),
        code,
        variants,
        machines,
    })
}

/// The file [`register`] reads: `programs`, the JSON presets' list
/// (`presets::all()`'s infos, for [`json_presets`]) and the preset programs'
/// (their `program_info`s, for [`program_presets`]), in postcard. Either
/// list may be empty (a file of one preset's program).
pub fn encode(programs: &[Compiled], json_presets: &[PresetInfo], program_presets: &[PresetInfo]) -> Vec<u8> {
    postcard::to_allocvec(&(programs, json_presets, program_presets)).expect("plain data serializes")
}

/// [`compile`] for the parts of the library written in Python
/// (`threads.blockingCallFromThread`), which a build without the parser
/// needs registered too: one entry each, found by its file name
/// (`library_code`), so without its source (the light module has no
/// copy either).
pub fn library() -> Result<Vec<Compiled>, CompileError> {
    super::twisted::LIBRARY
        .iter()
        .map(|(file, source)| {
            let mut compiled = compile(file, source)?;
            compiled.source = String::new();
            Ok(compiled)
        })
        .collect()
}

thread_local! {
    /// What [`register`] was given (a handful of presets: a list is enough).
    static REGISTERED: RefCell<Vec<Rc<Compiled>>> = const { RefCell::new(Vec::new()) };
    /// The JSON presets' list the last file that had one gave.
    static JSON_PRESETS: RefCell<Vec<PresetInfo>> = const { RefCell::new(Vec::new()) };
    /// The preset programs' list the last file that had one gave.
    static PROGRAM_PRESETS: RefCell<Vec<PresetInfo>> = const { RefCell::new(Vec::new()) };
}

/// Makes the programs of a list of what [`compile`] produced ([`encode`]d)
/// runnable in this build, parser or not. Returns how many.
pub fn register(file: &[u8]) -> Result<usize, String> {
    // postcard's error by its name (`DeserializeUnexpectedEnd`, ...): its
    // sentences would be in the light module only for this message.
    let (list, json_presets, program_presets): (Vec<Compiled>, Vec<PresetInfo>, Vec<PresetInfo>) =
        postcard::from_bytes(file).map_err(|e| format!("not a list of precompiled programs: {e:?}"))?;
    let n = list.len();
    if !json_presets.is_empty() {
        JSON_PRESETS.with(|p| *p.borrow_mut() = json_presets);
    }
    if !program_presets.is_empty() {
        PROGRAM_PRESETS.with(|p| *p.borrow_mut() = program_presets);
    }
    REGISTERED.with(|r| {
        let mut r = r.borrow_mut();
        for compiled in list {
            r.retain(|c| c.source != compiled.source || c.file != compiled.file);
            r.push(Rc::new(compiled));
        }
    });
    Ok(n)
}

fn find(source: &str) -> Option<Rc<Compiled>> {
    // The library's parts (no source) are found by file name alone.
    REGISTERED.with(|r| r.borrow().iter().find(|c| c.source == source && !c.source.is_empty()).cloned())
}

/// The registered code of the library's part in `file` ([`library`]), a
/// fresh copy.
pub(crate) fn library_code(file: &str) -> Option<Rc<Code>> {
    let compiled = REGISTERED.with(|r| r.borrow().iter().find(|c| c.file == file && c.source.is_empty()).cloned())?;
    // (A library part's file is `<twisted...>`: no lines to show, as
    // CPython has none for such a name.)
    Some(Rc::new(compiled.code.clone().code(&Rc::from(file), &Rc::from(""))))
}

/// Whether `source` was registered: this build can run it without the parser.
pub fn is_registered(source: &str) -> bool {
    find(source).is_some()
}

/// The registered code of `source` as `file`, a fresh copy for one run.
pub(crate) fn code(file: &str, source: &str) -> Option<Rc<Code>> {
    let compiled = find(source).filter(|c| c.file == file)?;
    // Each run gets its own objects, as a fresh compile would give it.
    Some(Rc::new(compiled.code.clone().code(&Rc::from(file), &Rc::from(source))))
}

/// The registered machine settings of `source`'s run of `variant`; `None`
/// for an unknown program or variant (the parser's path says why).
pub(crate) fn machine(file: &str, source: &str, variant: Option<&str>) -> Option<MachineArgs> {
    let compiled = find(source).filter(|c| c.file == file)?;
    compiled.machines.iter().find(|(v, _)| v.as_deref() == variant).map(|(_, m)| m.clone())
}

/// The JSON presets' list the registered file carried (empty if none did).
pub fn json_presets() -> Vec<PresetInfo> {
    JSON_PRESETS.with(|p| p.borrow().clone())
}

/// The preset programs' list the registered files carried (empty if none
/// did): each one's name, title and variants, as `Preset::program_info`
/// gives them, whether its program is registered yet or not; and its
/// explanation once its program is (`twine-precompile` puts it there, not
/// in the list, so that only the opening preset's comes before Run).
pub fn program_presets() -> Vec<PresetInfo> {
    let mut list = PROGRAM_PRESETS.with(|p| p.borrow().clone());
    REGISTERED.with(|r| {
        for c in r.borrow().iter() {
            let info = list.iter_mut().find(|i| c.preset.as_ref() == Some(&i.name) && i.explanation.is_empty());
            if let Some(info) = info {
                info.explanation = c.explanation.clone();
            }
        }
    });
    list
}

/// The registered presets' names and texts, in the order the files gave
/// them.
pub fn presets() -> Vec<(String, String)> {
    REGISTERED.with(|r| r.borrow().iter().filter_map(|c| Some((c.preset.clone()?, c.source.clone()))).collect())
}

/// The registered variants of `source`.
pub fn variants(source: &str) -> Option<Vec<(String, String)>> {
    find(source).map(|c| c.variants.clone())
}
