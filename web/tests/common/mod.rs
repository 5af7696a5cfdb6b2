//! What the integration tests share.
// Each test file uses some of these helpers, none uses all.
#![allow(dead_code)]

use twine_web::{presets, PythonScenario, Scenario, Simulation};

/// The lines the Python program `source` (named `file`) prints, run to its
/// end; panics with the program's own error if it fails.
pub fn printed(file: &str, source: &str) -> Vec<String> {
    let scenario = Scenario::from_python(file, source).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    if let Some(e) = sim.python_error() {
        panic!("{e}");
    }
    sim.metrics().output.iter().map(|l| l.text.clone()).collect()
}

/// The error an uncaught exception ends the Python program `source`
/// (named `test.py`) with: its place, then the traceback.
pub fn uncaught(source: &str) -> String {
    let scenario = Scenario::from_python("test.py", source).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    sim.python_error().expect("an error")
}

/// Every preset as shipped and each of its variants: (`preset` or `preset/variant`, its scenario).
pub fn every_preset_scenario() -> Vec<(String, Scenario)> {
    let mut all = Vec::new();
    for preset in presets::all() {
        let load = |variant: Option<&str>| preset.scenario(variant).unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        all.push((preset.name.to_owned(), load(None)));
        for variant in preset.variants() {
            all.push((format!("{}/{}", preset.name, variant.name), load(Some(&variant.name))));
        }
    }
    all
}
