//! Scenarios: the JSON files that describe an experiment. They live in
//! the `twine-scenario` crate, which `twine run` shares; this module
//! re-exports it under its old path and adds what needs twine-web's Python
//! interpreter.

use std::sync::Arc;

pub use twine_scenario::*;

use twine_scenario::program::PySource;

use crate::python::CompileError;

/// Python experiments as scenarios: compiled with twine-web's interpreter,
/// which the shared scenario crate does not carry.
pub trait PythonScenario: Sized {
    /// Compiles a Python experiment (`file` names it in error messages).
    /// Its top-level `twine.machine(cores=.., gil=.., switch_interval_ms=..,
    /// noise=..)` sets the machine; without one it is 4 cores with the GIL on,
    /// as CPython, and the machine's noise on.
    ///
    /// ```
    /// use twine_web::{PythonScenario, Scenario, Simulation};
    ///
    /// let s = Scenario::from_python("hello.py", "print('hello', 6 * 7)").unwrap();
    /// let mut sim = Simulation::new(&s, None);
    /// sim.run();
    /// assert_eq!(sim.metrics().output[0].text, "hello 42");
    /// let err = Scenario::from_python("bad.py", "x = 1\nmatch x:\n    case 1: pass\n").unwrap_err();
    /// assert_eq!(err.to_string(), "bad.py:2:1: `match` is not supported: use if/elif/else");
    /// ```
    fn from_python(file: &str, source: &str) -> Result<Scenario, CompileError> {
        Self::from_python_variant(file, source, None)
    }

    /// [`Scenario::from_python`] for one of the program's variants: what its
    /// `twine.variant(name="title", ...)` returns (`None`: the first name).
    /// A name the program does not offer is an error that lists its names.
    ///
    /// ```
    /// use twine_web::{PythonScenario, Scenario, Simulation};
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
    fn from_python_variant(file: &str, source: &str, variant: Option<&str>) -> Result<Scenario, CompileError>;

    /// The same experiment, JSON or Python, with its settings changed by
    /// `change` and compiled again (its Python program, if any, kept): how
    /// `twine-sim --cores` and explore run a program on another machine.
    ///
    /// ```
    /// use twine_web::{PythonScenario, Scenario};
    ///
    /// let s = Scenario::from_python("p.py", "import twine\ntwine.machine(cores=4)\nprint(1)").unwrap();
    /// let two = s.with_spec(|spec| spec.machine.cores = 2).unwrap();
    /// assert_eq!(two.spec().machine.cores, 2);
    /// assert!(two.program.python.is_some());
    /// ```
    fn with_spec(&self, change: impl FnOnce(&mut ScenarioSpec)) -> Result<Scenario, String>;
}

impl PythonScenario for Scenario {
    fn with_spec(&self, change: impl FnOnce(&mut ScenarioSpec)) -> Result<Scenario, String> {
        let mut spec = self.spec().clone();
        change(&mut spec);
        let mut program = twine_scenario::compile(&spec).map_err(|e| e.to_string())?;
        program.python.clone_from(&self.program.python);
        Ok(Scenario::from_parts(spec, program))
    }

    fn from_python_variant(file: &str, source: &str, variant: Option<&str>) -> Result<Scenario, CompileError> {
        let machine = crate::python::check(file, source, variant)?;
        let mut spec = ScenarioSpec { title: Some(file.to_owned()), ..ScenarioSpec::default() };
        spec.machine.gil = machine.gil.unwrap_or(true);
        if let Some(cores) = machine.cores {
            spec.machine.cores = cores;
        }
        if let Some(ms) = machine.switch_interval_ms {
            spec.machine.switch_interval_ms = ms;
        }
        if let Some(noise) = machine.noise {
            spec.machine.noise = noise;
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
        // No steps: the light module then has no JSON-step compiler.
        let mut program = twine_scenario::compile_stepless(&spec).map_err(|e| CompileError {
            file: file.into(),
            line: 1,
            col: 1,
            message: e.to_string(),
        })?;
        program.python =
            Some(Arc::new(PySource { file: file.into(), source: source.into(), variant: variant.map(str::to_owned) }));
        Ok(Scenario::from_parts(spec, program))
    }
}
