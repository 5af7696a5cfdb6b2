//! Python experiments: a Twisted-flavoured subset of Python, compiled to our
//! own instructions and run on the simulated machine.
//!
//! - `compile`: rustpython-parser's AST to code objects (one instruction list
//!   per function, a source position per instruction); everything outside the
//!   subset is refused there as `FILE:LINE:COL: what to write instead`.
//! - `vm`: an explicit frame stack per simulated thread, so the engine can
//!   pause a thread before any instruction (virtual time, the GIL, a lock).
//! - `value`, `ops`, `format`, `builtins`, `errors`: the object model.
//!
//! Each Python thread is a simulated thread: its instructions cost CPU time
//! (`cost`: CPython 3.11's, by kind), charged in batches that end before an access to
//! state other threads share and, when the GIL is asked to switch, at
//! CPython's eval-breaker points (calls and backward jumps), so `counter += 1`
//! on a global is atomic under the GIL and `v = counter; f(); counter = v + 1`
//! is not.

pub(crate) mod arity;
pub(crate) mod attrs;
pub(crate) mod bigint;
pub(crate) mod builtins;
pub(crate) mod bytes;
pub(crate) mod clock;
pub(crate) mod code;
pub(crate) mod collections;
pub(crate) mod compile;
pub(crate) mod cost;
pub(crate) mod drain;
pub(crate) mod dunders;
pub(crate) mod endpoints;
pub(crate) mod errors;
pub(crate) mod extras;
pub(crate) mod format;
pub(crate) mod functools;
pub(crate) mod hashing;
pub(crate) mod heapq;
pub(crate) mod itertools;
pub(crate) mod json;
pub(crate) mod libc_math;
pub(crate) mod nesting;
pub(crate) mod net;
pub(crate) mod ops;
pub mod precompiled;
pub(crate) mod pystd;
pub(crate) mod queue;
pub(crate) mod sets;
pub(crate) mod stacks;
pub(crate) mod statics;
pub(crate) mod strings;
pub(crate) mod structs;
pub mod text;
pub(crate) mod thread_class;
pub(crate) mod timed;
pub(crate) mod trash;
pub(crate) mod twisted;
pub(crate) mod unhandled;
pub(crate) mod value;
pub(crate) mod views;
pub(crate) mod vm;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use rustpython_parser::ast::{self, Expr, Stmt};

use errors::Exc;
pub use stacks::{Role, StackFrame, ThreadStack};
use value::{Class, Globals, Value};

/// The longest CPU batch charged at once (thousands of instructions): how late
/// virtual time may run behind a busy loop.
pub(crate) const BATCH_NS: u64 = 50_000;

/// The most instructions a run may execute: a runaway program ends with an
/// error rather than hanging the page (seconds of virtual CPU). Every instruction
/// also advances virtual time, so the run's duration (60 s unless
/// `twine.duration(ms)` says otherwise) bounds a busy loop as well.
pub const INSTRUCTION_BUDGET: u64 = 200_000_000;

/// A program the compiler refused, or could not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The file name the program was given.
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
    /// What is wrong, and what to write instead.
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
    }
}

impl std::error::Error for CompileError {}

/// `twine.clients(port=P)`: the port, and the call's `file:line:col`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ClientsPort {
    pub port: u16,
    pub at: String,
}

/// What a program's `twine.machine(...)` call at the top level asks for.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct MachineArgs {
    pub cores: Option<u32>,
    pub gil: Option<bool>,
    pub switch_interval_ms: Option<f64>,
    /// `noise=False`: the simulated machine's noise (OS wake-up latency, CPU
    /// speed variation) is off, so a run shows the program's own timing.
    pub noise: Option<bool>,
    /// `twine.duration(ms)`: when the run stops.
    pub duration_ms: Option<f64>,
    /// `twine.clients(...)`: simulated clients of the program's server.
    pub clients: Option<crate::scenario::ClientsSpec>,
    /// `twine.clients(port=P)`: the port they connect to (default: the
    /// latest `listenTCP`), and where the call is, for the refusal when
    /// nothing listens there.
    #[serde(default)]
    pub clients_port: Option<ClientsPort>,
    /// `reactor.suggestThreadPoolSize(n)`: the pool's size.
    pub pool_threads: Option<u32>,
}

/// Checks a program compiles and reads its `twine.machine(...)` settings
/// (and `twine.duration`, `twine.clients`, `reactor.suggestThreadPoolSize`)
/// for the run of `variant` (the first of its `twine.variant(...)` names when
/// `None`).
///
/// The settings are read before the run, from the program's top-level
/// statements: their arguments may be constants or expressions over names the
/// top level bound before with a computable value (`VARIANT =
/// twine.variant(...)`, `cores = int(VARIANT.split("-")[1])`, ...). One the
/// reading cannot compute is refused with its line and column.
pub(crate) fn check(file: &str, source: &str, variant: Option<&str>) -> Result<MachineArgs, CompileError> {
    if let Some(machine) = precompiled::machine(file, source, variant) {
        return Ok(machine);
    }
    if !compile::PARSER {
        return Err(compile::no_parser(file));
    }
    compile::compile_module(file, source)?;
    let parsed = compile::parse_module(file, source).ok();
    let mut out = MachineArgs::default();
    let Some(ast::Mod::Module(m)) = parsed else { return Ok(out) };
    let lines = compile::Lines::new(source);
    let mut st = statics::Static::new(file, &lines, variant);
    for s in &m.body {
        if let Stmt::Assign(a) = s {
            let value = st.eval(&a.value)?;
            for t in &a.targets {
                if let Expr::Name(n) = t {
                    match &value {
                        Some(v) => st.names.insert(n.id.to_string(), v.clone()),
                        None => st.names.remove(n.id.as_str()),
                    };
                }
            }
            continue;
        }
        let Stmt::Expr(e) = s else { continue };
        let Expr::Call(c) = &*e.value else { continue };
        let Expr::Attribute(a) = &*c.func else { continue };
        let (line, col) = lines.at(ast::Ranged::start(c).to_usize());
        let bad = |m: &str| CompileError { file: file.into(), line, col, message: m.into() };
        if matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "reactor") {
            if a.attr.as_str() == "suggestThreadPoolSize" {
                let n = match c.args.first() {
                    Some(e) => st.need(e)?,
                    None => return Err(bad("reactor.suggestThreadPoolSize(n) takes a number of threads")),
                };
                match n {
                    statics::Const::Int(n) if (1..=1024).contains(&n) => out.pool_threads = Some(n as u32),
                    _ => return Err(bad("reactor.suggestThreadPoolSize(n): n is 1 to 1024")),
                }
            }
            continue;
        }
        if matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "sys") {
            if a.attr.as_str() == "setswitchinterval" {
                // CPython's own knob for the GIL, in seconds.
                let seconds = match c.args.first() {
                    Some(e) => st.need(e)?.number(),
                    None => None,
                };
                match seconds.filter(|s| *s > 0.0) {
                    Some(s) => out.switch_interval_ms = Some(s * 1000.0),
                    None => {
                        return Err(bad(
                            "sys.setswitchinterval(seconds) takes a positive number of seconds (CPython's default \
                             is 0.005)",
                        ))
                    }
                }
            }
            continue;
        }
        if !matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "twine") {
            continue;
        }
        match a.attr.as_str() {
            "variant" => {
                st.eval(&e.value)?;
            }
            "duration" => {
                let ms = match c.args.first() {
                    Some(e) => st.need(e)?.number(),
                    None => None,
                };
                let Some(ms) = ms.filter(|ms| *ms > 0.0) else {
                    return Err(bad("twine.duration(ms) takes a positive number of milliseconds"));
                };
                out.duration_ms = Some(ms);
            }
            "clients" => {
                let (spec, port) = clients_spec(file, &lines, c, &mut st)?;
                let (line, col) = lines.at(ast::Ranged::start(c).to_usize());
                out.clients = Some(spec);
                out.clients_port = port.map(|port| ClientsPort { port, at: format!("{file}:{line}:{col}") });
            }
            "machine" => {
                for k in &c.keywords {
                    let (line, col) = lines.at(ast::Ranged::start(k).to_usize());
                    let bad = |m: &str| CompileError { file: file.into(), line, col, message: m.into() };
                    let v = st.need(&k.value)?;
                    match (k.arg.as_ref().map(|a| a.as_str()), v) {
                        (Some("cores"), statics::Const::Int(i)) => {
                            out.cores = u32::try_from(i).ok().filter(|c| (1..=64).contains(c));
                            if out.cores.is_none() {
                                return Err(bad("cores must be 1 to 64"));
                            }
                        }
                        (Some("gil"), statics::Const::Bool(b)) => out.gil = Some(b),
                        (Some("switch_interval_ms"), v) if v.number().is_some() => out.switch_interval_ms = v.number(),
                        (Some("noise"), statics::Const::Bool(b)) => out.noise = Some(b),
                        _ => {
                            return Err(bad(
                                "twine.machine(cores=N, gil=True|False, switch_interval_ms=MS, noise=True|False)",
                            ))
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let (Some(v), None) = (variant, &st.variants) {
        let (line, col) = (1, 1);
        let message = format!("the program has no variants (no twine.variant(...) call), so no variant `{v}`");
        return Err(CompileError { file: file.into(), line, col, message });
    }
    Ok(out)
}

/// The variants a program's top-level `twine.variant(name="title", ...)`
/// offers, in order: `(name, title)`. Empty when it has none (or does not parse).
///
/// ```
/// let src = "import twine\nV = twine.variant(fast='Fast', **{'slow-ish': 'Slower'})\n";
/// assert_eq!(
///     twine_web::python::variants(src),
///     vec![("fast".to_string(), "Fast".to_string()), ("slow-ish".to_string(), "Slower".to_string())]
/// );
/// ```
pub fn variants(source: &str) -> Vec<(String, String)> {
    if let Some(v) = precompiled::variants(source) {
        return v;
    }
    if !compile::PARSER {
        return Vec::new();
    }
    let Ok(ast::Mod::Module(m)) = compile::parse_module("<variants>", source) else { return Vec::new() };
    // Freed without deep recursion: this text was never compiled, so never
    // refused for nesting too deeply.
    let body = compile::Ast(m.body);
    let lines = compile::Lines::new(source);
    for s in &body.0 {
        let value = match s {
            Stmt::Assign(a) => &a.value,
            Stmt::Expr(e) => &e.value,
            _ => continue,
        };
        if let Expr::Call(c) = &**value {
            if let Some(Ok(v)) = statics::variant_titles(&lines, "<variants>", c) {
                return v;
            }
        }
    }
    Vec::new()
}

/// `twine.clients(rate_per_s=.., requests=.., connections=.., arrival="fixed"|"poisson")`
/// or `twine.clients(closed=K, think_ms=.., requests=..)`, constants only, and
/// the `port=` they connect to.
fn clients_spec(
    file: &str,
    lines: &compile::Lines,
    c: &ast::ExprCall,
    st: &mut statics::Static<'_>,
) -> Result<(crate::scenario::ClientsSpec, Option<u16>), CompileError> {
    use crate::scenario::{ArrivalSpec, ClientsSpec, ClosedLoopSpec, OpenLoopSpec, ThinkSpec};
    let (line, col) = lines.at(ast::Ranged::start(c).to_usize());
    let bad = |m: &str| CompileError { file: file.into(), line, col, message: m.into() };
    let mut num: HashMap<&str, f64> = HashMap::new();
    let mut text: HashMap<&str, String> = HashMap::new();
    for k in &c.keywords {
        let Some(name) = k.arg.as_ref().map(|a| a.as_str()) else { return Err(bad("twine.clients takes keywords")) };
        match st.need(&k.value)? {
            statics::Const::Int(i) => {
                num.insert(name, i as f64);
            }
            statics::Const::Float(f) => {
                num.insert(name, f);
            }
            statics::Const::Str(s) => {
                text.insert(name, s);
            }
            _ => return Err(bad("twine.clients takes numbers and strings")),
        }
    }
    let known = [
        "rate_per_s",
        "requests",
        "connections",
        "arrival",
        "port",
        "closed",
        "think_ms",
        "think",
        "network_ms",
        "start_ms",
    ];
    if let Some(k) = num.keys().chain(text.keys()).find(|k| !known.contains(k)) {
        return Err(bad(&format!("twine.clients has no argument `{k}` (it takes {})", known.join(", "))));
    }
    let port = match num.get("port") {
        None => None,
        Some(&p) if p.fract() == 0.0 && (1.0..=65535.0).contains(&p) => Some(p as u16),
        Some(_) => return Err(bad("twine.clients(port=P): P is a port number, 1 to 65535")),
    };
    let requests = num.get("requests").map(|r| *r as u64);
    let (start_ms, network_ms) = (num.get("start_ms").copied(), num.get("network_ms").copied());
    if let Some(&k) = num.get("closed") {
        return Ok((
            ClientsSpec::Closed(ClosedLoopSpec {
                clients: k as u32,
                think_ms: num.get("think_ms").copied(),
                think: if text.get("think").map(String::as_str) == Some("exponential") {
                    ThinkSpec::Exponential
                } else {
                    ThinkSpec::Fixed
                },
                requests,
                start_ms,
                network_ms,
            }),
            port,
        ));
    }
    let Some(&rate_per_s) = num.get("rate_per_s") else {
        return Err(bad("twine.clients needs rate_per_s=N (open loop) or closed=K (closed loop)"));
    };
    let arrival = match text.get("arrival").map(String::as_str) {
        None | Some("poisson") => ArrivalSpec::Poisson,
        Some("fixed") => ArrivalSpec::Fixed,
        Some(_) => return Err(bad("arrival is \"fixed\" or \"poisson\"")),
    };
    Ok((
        ClientsSpec::Open(OpenLoopSpec {
            rate_per_s,
            arrival,
            requests,
            connections: num.get("connections").map(|c| *c as u32),
            start_ms,
            network_ms,
        }),
        port,
    ))
}

/// A pool job waiting for the reactor to run: its task (the job's Python
/// call, stored in [`Runtime::store_task`]) and what submits it.
pub(crate) struct HeldJob {
    pub task: u64,
    pub submit: Box<dyn FnOnce(&twine_core::Reactor)>,
}

/// One run's interpreter state, shared by its threads.
pub(crate) struct Runtime {
    pub globals: Rc<Globals>,
    pub exc: HashMap<&'static str, Rc<Class>>,
    pub modules: RefCell<HashMap<String, Value>>,
    pub seed: u64,
    pub rng: RefCell<twine_scenario::rng::Rng>,
    instructions: Cell<u64>,
    /// Set once a second thread starts: from then on batches end at shared state.
    pub threaded: Cell<bool>,
    error: RefCell<Option<String>>,
    /// The last built-in of the full module only the program called (see
    /// `builtins::full`).
    pub full_only: Cell<Option<&'static str>>,
    pub thread_count: Cell<u32>,
    /// Threads started since the engine last looked: (name, task).
    pub spawns: RefCell<Vec<(Rc<str>, vm::Task)>>,
    /// The job just handed to the pool starts a thread, and its caller
    /// makes it (as Twisted's pool does, with `Thread.start()`).
    pub pool_spawn: Cell<bool>,
    /// Python names of simulated threads (thread 0 is the main thread).
    pub names: RefCell<HashMap<u32, Rc<str>>>,
    /// The main program after `reactor.run()`: it runs once the reactor stops.
    pub after_run: RefCell<Option<vm::Task>>,
    /// Values and tasks parked under an id while they cross the thread pool
    /// or a core `Failure` (which carry only `Send` data).
    parked: RefCell<HashMap<u64, Value>>,
    jobs: RefCell<HashMap<u64, vm::Task>>,
    next_id: Cell<u64>,
    /// VM loops running now: a callback fired from Python code runs nested.
    pub active: Cell<u32>,
    /// CPU spent by nested callbacks, for the running VM to charge.
    pub nested_pending: Cell<u64>,
    /// Loops a built-in runs Python code in, nested now, across VMs: a
    /// callback that fires a Deferred whose callback fires another runs a
    /// new VM inside each (see `vm::NESTED_LIMIT`).
    pub nested_loops: Cell<u32>,
    /// The ports the program listens on, in the order it began, each with
    /// the factory `reactor.listenTCP` was given: the one on the port
    /// `twine.clients(port=P)` names (else the latest) serves the simulated clients.
    pub listening: RefCell<Vec<(u16, Value)>>,
    /// Pool jobs given before `reactor.run()`: submitted once it runs.
    pub held_jobs: RefCell<Vec<HeldJob>>,
    /// The variant `twine.variant(...)` returns (`None`: its first name).
    pub variant: Option<Rc<str>>,
    /// The `shutdown` event's `During` phase ran: Twisted's `reactor.running`
    /// is false from then on (it is still true in `before` shutdown triggers).
    pub shut_down: Cell<bool>,
    /// Instances of classes with `__hash__` used as keys, by hash: the
    /// first of each set of equal ones stands for them all (`extras::key`).
    pub hashed: RefCell<HashMap<i64, Vec<Value>>>,
    /// LoopingCalls started so far before `reactor.run()`: the timers and
    /// loops made after the n-th are due n nanoseconds after their time from
    /// the program's start (with the machine's noise on), which keeps their
    /// order as CPython's clock does (see `twisted::pre_run_origin`).
    pub pre_run_timers: Cell<u64>,
    /// The machine settings read before the run (see [`check`]): a
    /// `twine.machine(...)` call that runs must be one of those read.
    pub machine: MachineArgs,
    /// Every thread's stacks over the run, for the stack panel.
    pub stacks: RefCell<stacks::StackLog>,
    /// The Deferred link whose function the next `run_callback` runs.
    pub next_link: Cell<Option<stacks::Link>>,
    /// The frames an exception left, by its text (and by its class name):
    /// `(text, frames)`, for the report of a failure nobody handled.
    pub tracebacks: RefCell<HashMap<String, (String, Vec<String>)>>,
    /// The exception last thrown into a generator with `g.throw`, and the
    /// frames it left when first raised (see `vm::remember_caught`).
    pub thrown: RefCell<Option<(Value, Vec<String>)>>,
    /// Deferreds dropped with a raised failure nobody handled, reported at
    /// exit as CPython's collector reports them (see `unhandled::report_dropped`).
    pub cycle_reports: RefCell<Vec<String>>,
    /// `log.startLogging` was called: `log.msg` prints.
    pub logging: Cell<bool>,
    /// Functions of the library's Python part made so far (`twisted::library`).
    pub library: RefCell<HashMap<&'static str, Value>>,
    /// The size `reactor.suggestThreadPoolSize` last gave (Twisted's pool's
    /// `max`; `None`: its 10).
    pub pool_max: Cell<Option<u32>>,
    /// `addSystemEventTrigger`'s ids as Twisted's (`(event, (phase, f,
    /// args, kwargs))`) and the core triggers they name.
    pub triggers: RefCell<Vec<(Value, twine_core::reactor::TriggerId)>>,
    /// The DelayedCalls `callLater` returned, by timer id, while the program
    /// holds them: `getDelayedCalls()` gives the same objects back.
    pub delayed_calls: RefCell<HashMap<u64, std::rc::Weak<value::Native>>>,
    /// The threads the program started, in order (`threading.enumerate`).
    pub started_threads: RefCell<Vec<Value>>,
    /// The object each simulated thread is to the program, by thread
    /// (`threading.current_thread()`, made once so that `is` holds).
    pub thread_values: RefCell<HashMap<u32, Value>>,
    /// The instance of a `threading.Thread` subclass whose native thread
    /// object is this one (by the native's address): the thread's object.
    pub thread_instances: RefCell<HashMap<usize, Value>>,
    /// `threading.excepthook = hook`: what a thread's uncaught exception
    /// is handed to instead of being printed.
    pub excepthook: RefCell<Option<Value>>,
    /// The main program's own code ended (after `reactor.run()` returned,
    /// if it called it): CPython's `threading._shutdown` begins.
    pub main_done: Cell<bool>,
    /// Trace records already looked through for dropped, unhandled failures.
    pub unhandled_seen: Cell<usize>,
    /// What runs on the main thread when the program's code ends, newest
    /// first (CPython's `threading._register_atexit`: a `concurrent.futures`
    /// executor's workers are told to stop and joined).
    pub at_exit: RefCell<Vec<Value>>,
    /// The program made a `property`: only then do attribute loads and
    /// stores on instances look for one on the class.
    pub properties: Cell<bool>,
    /// The program defined a `__setattr__` or `__delattr__`: only then do
    /// attribute stores on instances look for one (`attrs`).
    pub attr_hooks: Cell<bool>,
}

impl Runtime {
    /// A runtime for `file`, and the main thread's task.
    pub fn new(
        file: &str,
        source: &str,
        variant: Option<&str>,
        seed: u64,
    ) -> Result<(Rc<Runtime>, vm::Task), CompileError> {
        let code = compile::compile_module(file, source)?;
        let machine = check(file, source, variant).unwrap_or_default();
        let rt = Rc::new(Runtime {
            globals: Rc::default(),
            exc: errors::classes(),
            modules: RefCell::default(),
            seed,
            rng: RefCell::new(twine_scenario::rng::Rng::new(seed)),
            instructions: Cell::new(0),
            threaded: Cell::new(false),
            error: RefCell::new(None),
            full_only: Cell::new(None),
            thread_count: Cell::new(0),
            spawns: RefCell::default(),
            pool_spawn: Cell::default(),
            names: RefCell::default(),
            after_run: RefCell::default(),
            parked: RefCell::default(),
            jobs: RefCell::default(),
            next_id: Cell::new(0),
            active: Cell::new(0),
            nested_pending: Cell::new(0),
            nested_loops: Cell::new(0),
            listening: RefCell::default(),
            held_jobs: RefCell::default(),
            variant: variant.map(Rc::from),
            shut_down: Cell::new(false),
            hashed: RefCell::default(),
            pre_run_timers: Cell::new(0),
            machine,
            stacks: RefCell::default(),
            at_exit: RefCell::default(),
            next_link: Cell::new(None),
            tracebacks: RefCell::default(),
            thrown: RefCell::default(),
            cycle_reports: RefCell::default(),
            library: RefCell::default(),
            pool_max: Cell::new(None),
            triggers: RefCell::default(),
            delayed_calls: RefCell::default(),
            started_threads: RefCell::default(),
            thread_values: RefCell::default(),
            thread_instances: RefCell::default(),
            excepthook: RefCell::default(),
            main_done: Cell::new(false),
            logging: Cell::new(false),
            unhandled_seen: Cell::new(0),
            properties: Cell::new(false),
            attr_hooks: Cell::new(false),
        });
        rt.globals.vars.borrow_mut().insert("__name__".into(), Value::str("__main__"));
        if compile::PARSER {
            // The script's path as run (`sys.argv[0]` too).
            rt.globals.vars.borrow_mut().insert("__file__".into(), Value::Str(file.into()));
        }
        let frame = vm::Frame::new(code, Rc::clone(&rt.globals), None);
        Ok((rt, vm::Task::new(frame, None)))
    }

    /// Counts one instruction; true once the budget is spent.
    pub fn count_instruction(&self) -> bool {
        let n = self.instructions.get() + 1;
        self.instructions.set(n);
        n > INSTRUCTION_BUDGET
    }

    /// Instructions executed so far.
    pub fn instructions(&self) -> u64 {
        self.instructions.get()
    }

    /// Sets the count of instructions executed (the library's own work,
    /// `clock::prepare`, is not the program's).
    pub(crate) fn set_instructions(&self, n: u64) {
        self.instructions.set(n);
    }

    pub fn budget_exceeded(&self) -> String {
        format!("the program ran more than {INSTRUCTION_BUDGET} instructions (an endless loop?)")
    }

    /// The program failed: it stops, with this message.
    pub fn fail(&self, message: String) {
        let mut e = self.error.borrow_mut();
        if e.is_none() {
            *e = Some(message);
        }
    }

    /// Whether the process exits now, as CPython's does once the main
    /// program ended and `threading._shutdown` joined the non-daemon threads:
    /// the daemon threads still running are killed where they stand.
    pub fn only_daemons_left(&self) -> bool {
        if !compile::PARSER || !self.main_done.get() {
            return false;
        }
        let threads = self.started_threads.borrow();
        let live = threads.iter().filter_map(|v| match v {
            Value::Native(n) => match &**n {
                value::Native::Thread(t) if !t.done.get() => Some(t.daemon.get()),
                _ => None,
            },
            _ => None,
        });
        // With no thread left at all, the run ends quietly as it always has.
        let mut any = false;
        for daemon in live {
            if !daemon {
                return false;
            }
            any = true;
        }
        any
    }

    pub fn failed(&self) -> bool {
        self.error.borrow().is_some()
    }

    /// The error that ended the program, if one did.
    pub fn error_message(&self) -> Option<String> {
        self.error.borrow().clone()
    }

    pub fn exc_class(&self, name: &str) -> Rc<Class> {
        Rc::clone(self.exc.get(name).unwrap_or_else(|| &self.exc["Exception"]))
    }

    /// An instance of the exception class with these args.
    pub fn new_exc(&self, class: &Rc<Class>, args: Vec<Value>) -> Value {
        let inst = value::Instance { class: Rc::clone(class), attrs: RefCell::default() };
        self.set_exc_args(&inst, args);
        Value::Instance(Rc::new(inst))
    }

    /// Sets exception `inst`'s `args`: for an `OSError(errno, strerror[,
    /// filename])`, CPython's attributes of those names too, and `args`
    /// without the filename.
    pub fn set_exc_args(&self, inst: &value::Instance, mut args: Vec<Value>) {
        if compile::PARSER && inst.class.is_subclass(&self.exc_class("OSError")) {
            // CPython's `OSError(errno, strerror[, filename])`: its
            // attributes, and `args` without the filename.
            let (errno, strerror, filename) = match args.len() {
                2..=5 => (args[0].clone(), args[1].clone(), args.get(2).cloned().unwrap_or_default()),
                _ => Default::default(),
            };
            if (2..=5).contains(&args.len()) {
                args.truncate(2);
            }
            inst.set("errno", errno);
            inst.set("strerror", strerror);
            inst.set("filename", filename);
        }
        inst.set("args", Value::tuple(args));
    }

    /// A raised `name(message)`.
    pub fn error(&self, name: &str, message: &str) -> Exc {
        let class = self.exc_class(name);
        let args = if message.is_empty() { Vec::new() } else { vec![Value::str(message)] };
        Exc::new(self.new_exc(&class, args))
    }

    pub fn import(&self, name: &str) -> Result<Value, Exc> {
        if let Some(m) = self.modules.borrow().get(name) {
            return Ok(m.clone());
        }
        let m = builtins::module(self, name).ok_or_else(|| {
            let instead = match name.split('.').next().unwrap_or(name) {
                "asyncio" => {
                    "; for coroutines on an event loop, write `async def main(reactor)` and run it with \
                              `task.react(lambda reactor: defer.ensureDeferred(main(reactor)))` (Twisted's loop)"
                }
                "multiprocessing" => {
                    "; the simulated machine runs one process: use threading, \
                                      concurrent.futures.ThreadPoolExecutor or Twisted's deferToThread"
                }
                "socket" | "socketserver" | "selectors" | "select" => {
                    "; for a network server or client, use Twisted's protocols: \
                     reactor.listenTCP / reactor.connectTCP with a protocol.Factory"
                }
                "subprocess" => "; the simulated machine runs one process and starts no others",
                _ => "",
            };
            self.error(
                "ModuleNotFoundError",
                &format!("No module named '{name}' (the modules here: {}){instead}", builtins::MODULES),
            )
        })?;
        self.modules.borrow_mut().insert(name.to_owned(), m.clone());
        Ok(m)
    }

    fn id(&self) -> u64 {
        self.next_id.set(self.next_id.get() + 1);
        self.next_id.get()
    }

    /// Parks a value; its id travels instead.
    pub fn store_value(&self, v: Value) -> u64 {
        let id = self.id();
        self.parked.borrow_mut().insert(id, v);
        id
    }

    pub fn peek_value(&self, id: u64) -> Option<Value> {
        self.parked.borrow().get(&id).cloned()
    }

    pub fn take_value(&self, id: u64) -> Value {
        self.parked.borrow_mut().remove(&id).unwrap_or_default()
    }

    /// Parks a pool job's task until a pool thread takes it.
    pub fn store_task(&self, t: vm::Task) -> u64 {
        let id = self.id();
        self.jobs.borrow_mut().insert(id, t);
        id
    }

    pub fn take_task(&self, id: u64) -> Option<vm::Task> {
        self.jobs.borrow_mut().remove(&id)
    }

    /// The stored task `id` lets its starter go on through `gate` once its
    /// thread has run (`Task::started`).
    pub fn gate_task(&self, id: u64, gate: u32) {
        if let Some(task) = self.jobs.borrow_mut().get_mut(&id) {
            task.started = Some((gate, false));
        }
    }

    pub fn thread_name(&self, tid: u32) -> Rc<str> {
        match self.names.borrow().get(&tid) {
            Some(n) => Rc::clone(n),
            None => "MainThread".into(),
        }
    }
}
