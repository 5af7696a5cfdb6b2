//! Scenarios: the JSON files that describe an experiment.
//!
//! One file serves the browser playground, `twine-sim` and the tests. It
//! describes the machine (cores, the GIL), the thread pool, what the program
//! does (a `main` program run before `reactor.run()`, plain threads, a server
//! handler) and, optionally, simulated clients. The full reference with every
//! field, default and limit is in `web/SCENARIOS.md`; this is the short form.
//!
//! ```json
//! {
//!   "title": "An echo server whose handler blocks",
//!   "machine": { "cores": 2, "gil": false },
//!   "pool": { "threads": 10 },
//!   "server": { "handler": [ { "io": 20 }, "respond" ] },
//!   "clients": { "open": { "rate_per_s": 40, "arrival": "poisson", "requests": 500 } }
//! }
//! ```
//!
//! Durations are milliseconds (fractions allowed). A program is a list of
//! steps; each step is an object with one key, or a bare string for the steps
//! that take nothing (`"respond"`, `"stop"`):
//!
//! | step | runs on | what it does |
//! |---|---|---|
//! | `{"cpu": ms}` | any thread | burns CPU: needs a core, and the GIL when it is on |
//! | `{"io": ms}`, `{"sleep": ms}` | any thread | blocks the thread (the GIL is released meanwhile) |
//! | `{"increment": "c"}` | any thread | `c += 1` as one step (atomic under the GIL, racy without) |
//! | `{"read": "c"}`, `{"write": "c"}` | any thread | the two halves of `c += 1`: `write` stores what this thread last read, plus one |
//! | `{"lock": {"name": "l", "steps": [..]}}` | any thread | runs the steps holding a named lock (FIFO hand-off) |
//! | `{"repeat": {"times": n, "steps": [..]}}` | any thread | runs the steps n times |
//! | `{"print": "text"}` | any thread | prints; `{thread}`, `{time}`, `{error}`, `{count}`, `{counter:c}` are filled in |
//! | `{"fail": "message"}` | any thread | raises: the following steps are skipped until an `errback` |
//! | `{"errback": [..]}` | any thread | runs only when failing; finishing it recovers |
//! | `{"defer_to_thread": [..]}` | reactor | runs the steps on a pool thread; the rest of the list becomes the Deferred's callbacks (and `errback`s) |
//! | `{"call_in_thread": [..]}` | reactor | runs the steps on a pool thread, result ignored |
//! | `{"defer_later": ms}` | reactor | the rest of the list continues as a callback `ms` later, without blocking |
//! | `{"call_later": {"ms": ms, "steps": [..]}}` | reactor | schedules a timer |
//! | `{"call_when_running": [..]}` | reactor | runs once the reactor is running |
//! | `{"on_shutdown": [..]}` | reactor | a `before shutdown` trigger; the shutdown waits for it |
//! | `{"looping_call": {"interval_ms": ms, "now": true, "count": n, "steps": [..]}}` | reactor | a `LoopingCall` (`{count}` is the intervals since the last call) |
//! | `{"call_from_thread": [..]}` | thread | runs the steps on the reactor thread |
//! | `"respond"` | reactor | answers the request being handled (server handler only) |
//! | `"stop"` | reactor | `reactor.stop()` |
//!
//! "Reactor" steps may appear in `main`, the server handler and anything they
//! schedule; "thread" steps in `threads` and in `defer_to_thread` bodies.
//! Anything else is an error that names the step's path.
//!
//! Loading checks everything and names the field at fault:
//!
//! ```
//! use twine_web::scenario::Scenario;
//!
//! let err = Scenario::from_json(r#"{"machine": {"cores": 0}}"#).unwrap_err();
//! assert_eq!(err.field, "machine.cores");
//! let err = Scenario::from_json(r#"{"main": [{"cpu": 1}, {"cpux": 2}]}"#).unwrap_err();
//! assert_eq!(err.field, "main[1]");
//! assert!(err.message.contains("unknown variant `cpux`"));
//! let err = Scenario::from_json(r#"{"threads": [{"name": "t", "steps": ["respond"]}]}"#).unwrap_err();
//! assert_eq!(err.field, "threads[0].steps[0]");
//! ```

mod budget;
mod compile;
mod spec;

use std::fmt;
use std::sync::Arc;

pub use spec::{
    ArrivalSpec, CallLaterStep, ClientsSpec, ClosedLoopSpec, LockStep, LoopingCallStep, MachineSpec, OpenLoopSpec,
    PoolSpec, RepeatStep, ScenarioSpec, ServerSpec, Step, ThinkSpec, ThreadSpec, VariantSpec,
};

use crate::program::Program;

/// A scenario that failed to load: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The path of the field at fault, as `machine.cores` or
    /// `server.handler[2].lock.steps[0]`; empty when the JSON itself is broken.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ScenarioError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A checked, compiled scenario, ready to simulate. Cheap to clone.
///
/// ```
/// use twine_web::scenario::Scenario;
///
/// let s = Scenario::from_json(r#"{"title": "hello", "main": [{"print": "hi"}]}"#).unwrap();
/// assert_eq!(s.title(), Some("hello"));
/// assert_eq!(s.seed(), 1);
/// ```
#[derive(Clone)]
pub struct Scenario {
    pub(crate) program: Arc<Program>,
    spec: Arc<ScenarioSpec>,
}

impl Scenario {
    /// Parses and checks a scenario.
    pub fn from_json(json: &str) -> Result<Scenario, ScenarioError> {
        // serde would also read a struct from an array, and then complain
        // about its first element.
        if json.trim_start().starts_with('[') {
            return Err(ScenarioError::new("", "a scenario is a JSON object ({...}), not an array"));
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let spec: ScenarioSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            // A key serde never finished reading shows as `?`: name its parent.
            let path = e.path().to_string();
            let path = path.trim_end_matches(".?").trim_end_matches('?');
            let field = if path == "." { String::new() } else { path.to_owned() };
            ScenarioError::new(field, e.into_inner().to_string())
        })?;
        de.end().map_err(|e| ScenarioError::new("", e.to_string()))?;
        Scenario::from_spec(spec)
    }

    /// Checks and compiles an already parsed scenario.
    pub fn from_spec(spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        let program = compile::compile(&spec)?;
        Ok(Scenario { program: Arc::new(program), spec: Arc::new(spec) })
    }

    /// Compiles a Python experiment (`file` names it in error messages).
    /// Its top-level `twine.machine(cores=.., gil=.., switch_interval_ms=..)`
    /// sets the machine; without one it is 4 cores with the GIL on, as CPython.
    ///
    /// ```
    /// use twine_web::{Scenario, Simulation};
    ///
    /// let s = Scenario::from_python("hello.py", "print('hello', 6 * 7)").unwrap();
    /// let mut sim = Simulation::new(&s, None);
    /// sim.run();
    /// assert_eq!(sim.metrics().output[0].text, "hello 42");
    /// let err = Scenario::from_python("bad.py", "x = {1, 2}").unwrap_err();
    /// assert!(err.to_string().starts_with("bad.py:1:5: sets are not supported"));
    /// ```
    pub fn from_python(file: &str, source: &str) -> Result<Scenario, crate::python::CompileError> {
        Scenario::from_python_variant(file, source, None)
    }

    /// [`Scenario::from_python`] for one of the program's variants: what its
    /// `twine.variant(name="title", ...)` returns (`None`: the first name).
    /// A name the program does not offer is an error that lists its names.
    ///
    /// ```
    /// use twine_web::{Scenario, Simulation};
    ///
    /// let src = "import twine\nV = twine.variant(a='A', b='B')\ntwine.machine(cores=2 if V == 'b' else 1)\nprint(V)";
    /// let s = Scenario::from_python_variant("v.py", src, Some("b")).unwrap();
    /// assert_eq!(s.spec().machine.cores, 2);
    /// let mut sim = Simulation::new(&s, None);
    /// sim.run();
    /// assert_eq!(sim.metrics().output[0].text, "b");
    /// let err = Scenario::from_python_variant("v.py", src, Some("c")).unwrap_err();
    /// assert_eq!(err.to_string(), "v.py:2:5: no variant 'c'; this experiment has: a, b");
    /// ```
    pub fn from_python_variant(
        file: &str,
        source: &str,
        variant: Option<&str>,
    ) -> Result<Scenario, crate::python::CompileError> {
        let machine = crate::python::check(file, source, variant)?;
        let mut spec = ScenarioSpec { title: Some(file.to_owned()), ..ScenarioSpec::default() };
        spec.machine.gil = machine.gil.unwrap_or(true);
        if let Some(cores) = machine.cores {
            spec.machine.cores = cores;
        }
        if let Some(ms) = machine.switch_interval_ms {
            spec.machine.switch_interval_ms = ms;
        }
        if let Some(n) = machine.pool_threads {
            spec.pool.threads = n;
        }
        spec.duration_ms = machine.duration_ms;
        if let Some(clients) = machine.clients {
            spec.clients = Some(clients);
            // The Python factory answers; this only satisfies the JSON checks.
            spec.server = Some(ServerSpec { handler: vec![Step::Respond] });
        }
        let mut program = compile::compile(&spec).map_err(|e| crate::python::CompileError {
            file: file.into(),
            line: 1,
            col: 1,
            message: e.to_string(),
        })?;
        program.python = Some(Arc::new(crate::program::PySource {
            file: file.into(),
            source: source.into(),
            variant: variant.map(str::to_owned),
        }));
        Ok(Scenario { program: Arc::new(program), spec: Arc::new(spec) })
    }

    /// The parsed form.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// The scenario's title, if it has one.
    pub fn title(&self) -> Option<&str> {
        self.spec.title.as_deref()
    }

    /// The seed used when none is given.
    pub fn seed(&self) -> u64 {
        self.program.seed
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario").field("name", &self.spec.name).field("title", &self.spec.title).finish()
    }
}
