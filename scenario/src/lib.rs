//! twine-scenario: the JSON files that describe an experiment, checked and
//! compiled.
//!
//! One file serves the browser playground, `twine-sim`, `twine run` (which
//! executes it for real) and the tests; both drivers read it through this
//! crate, so neither depends on the other. It
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
//! | `{"lock": {"name": "l", "steps": [..]}}` | any thread | runs the steps holding a named lock (unfair, as CPython's: a release lets the releasing thread barge back in; `"fair": true` hands it to the longest waiter) |
//! | `{"repeat": {"times": n, "steps": [..]}}` | any thread | runs the steps n times |
//! | `{"print": "text"}` | any thread | prints; `{thread}`, `{time}`, `{error}`, `{count}`, `{counter:c}` are filled in |
//! | `{"fail": "message"}` | any thread | raises: the following steps are skipped until an `errback`; the message is filled in as a print's (`{error}`: the failure an errback handles) |
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
//! use twine_scenario::Scenario;
//!
//! let err = Scenario::from_json(r#"{"machine": {"cores": 0}}"#).unwrap_err();
//! assert_eq!(err.field, "machine.cores");
//! let err = Scenario::from_json(r#"{"main": [{"cpu": 1}, {"cpux": 2}]}"#).unwrap_err();
//! assert_eq!(err.field, "main[1]");
//! assert!(err.message.contains("unknown variant `cpux`"));
//! let err = Scenario::from_json(r#"{"threads": [{"name": "t", "steps": ["respond"]}]}"#).unwrap_err();
//! assert_eq!(err.field, "threads[0].steps[0]");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arrivals;
mod budget;
mod compile;
pub mod decimal;
pub mod metrics;
// The compiled form is for drivers (the simulation's engine, `twine run`),
// not for scenario authors; each item mirrors the spec item of the same name,
// whose docs say what it means, so its fields are not documented twice.
#[allow(missing_docs)]
pub mod program;
pub mod rng;
mod spec;
mod variant;

use std::fmt;
use std::sync::Arc;

pub use spec::{
    ArrivalSpec, CallLaterStep, ClientsSpec, ClosedLoopSpec, LockStep, LoopingCallStep, MachineSpec, OpenLoopSpec,
    PoolSpec, RepeatStep, ScenarioSpec, ServerSpec, Step, ThinkSpec, ThreadSpec, VariantSpec,
};

pub use program::Program;
pub use variant::{apply_variant, merge_patch, variant_json};

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
    /// An error at `field` (empty: the document as a whole).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
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
/// use twine_scenario::Scenario;
///
/// let s = Scenario::from_json(r#"{"title": "hello", "main": [{"print": "hi"}]}"#).unwrap();
/// assert_eq!(s.title(), Some("hello"));
/// assert_eq!(s.seed(), 1);
/// ```
#[derive(Clone)]
pub struct Scenario {
    /// The compiled form a driver runs (the simulation's engine, `twine run`).
    pub program: Arc<Program>,
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
        let program = compile(&spec)?;
        Ok(Scenario { program: Arc::new(program), spec: Arc::new(spec) })
    }

    /// A scenario from its parsed form and a program compiled from it
    /// elsewhere (twine-web's Python experiments set [`Program::python`]).
    pub fn from_parts(spec: ScenarioSpec, program: Program) -> Scenario {
        Scenario { program: Arc::new(program), spec: Arc::new(spec) }
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

/// Checks a parsed scenario and compiles it, without keeping the spec.
pub fn compile(spec: &ScenarioSpec) -> Result<Program, ScenarioError> {
    compile::compile(spec)
}

/// [`compile`] for a spec whose program runs elsewhere (a Python
/// experiment's, [`Program::python`]): no `main` or `threads` steps, and a
/// server handler, if any, of `respond` alone (the program's own server
/// answers; clients need one). The same checks of the rest, without the step
/// compiler, which a build that runs no JSON scenarios then leaves out.
pub fn compile_stepless(spec: &ScenarioSpec) -> Result<Program, ScenarioError> {
    compile::compile_stepless(spec)
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario").field("name", &self.spec.name).field("title", &self.spec.title).finish()
    }
}
