//! Fuzzing the two front ends a shared link or a typed program reaches: the
//! scenario JSON loader and the Python compiler, then the simulation of
//! whatever they accept. Inputs are the presets, mutated (spans deleted,
//! duplicated or moved, tokens of the language inserted, lines swapped), so
//! most of them get deep into the parser and the checks rather than failing
//! on the first byte.
//!
//! What must hold for every input: nothing panics; a refusal names a place
//! in the text (a field for JSON, a line and column inside the program for
//! Python); what is accepted runs its first events without panicking.
//!
//! `cargo test` runs a few hundred cases of each; `cargo xtask fuzz` runs
//! millions (`PROPTEST_CASES`), and proptest keeps any failing input in
//! `fuzz_frontends.proptest-regressions` beside this file, replayed first by
//! every later run.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use twine_web::{PythonScenario, Scenario, Simulation};

const JSON_PRESETS: &[&str] = &[
    include_str!("../../www/presets/counter-race.json"),
    include_str!("../../www/presets/deferred-errback.json"),
    include_str!("../../www/presets/echo-blocking.json"),
    include_str!("../../www/presets/gil-cpu-bound.json"),
    include_str!("../../www/presets/looping-call-drift.json"),
    include_str!("../../www/presets/pool-saturation.json"),
    include_str!("../../www/presets/reactor-ordering.json"),
    include_str!("../../www/presets/sleeping-threads.json"),
];

const PYTHON_PRESETS: &[&str] = &[
    include_str!("../../www/presets/counter-race.py"),
    include_str!("../../www/presets/deferred-errback.py"),
    include_str!("../../www/presets/echo-blocking.py"),
    include_str!("../../www/presets/gil-cpu-bound.py"),
    include_str!("../../www/presets/looping-call-drift.py"),
    include_str!("../../www/presets/pool-saturation.py"),
    include_str!("../../www/presets/reactor-ordering.py"),
    include_str!("../../www/presets/sleeping-threads.py"),
];

/// Pieces of JSON that make a mutated scenario interesting: structure,
/// extreme numbers, the step names, wrong types.
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e308",
    "-1e308",
    "0.000001",
    "18446744073709551616",
    "1e-320",
    "NaN",
    "\"cpu\"",
    "\"io\"",
    "\"sleep\"",
    "\"lock\"",
    "\"repeat\"",
    "{\"repeat\": {\"times\": 1000000000, \"steps\": [{\"cpu\": 1}]}}",
    "\"defer_to_thread\"",
    "\"call_later\"",
    "\"looping_call\"",
    "\"respond\"",
    "\"stop\"",
    "\"fail\"",
    "\"errback\"",
    "\"print\": \"{counter:x}{error}\"",
    "\"threads\"",
    "\"cores\"",
    "\"gil\"",
    "\"jitter\"",
    "\"clients\"",
    "\"rate_per_s\"",
    "\"variants\"",
    "\u{0}",
    "\u{feff}",
    "é",
    "\\u0000",
    "\\ud800",
];

/// Pieces of Python: keywords, operators, the library's names, values that
/// overflow, brackets left open.
const PYTHON_TOKENS: &[&str] = &[
    "def ",
    "class ",
    "return ",
    "yield ",
    "lambda: ",
    "async ",
    "await ",
    "with ",
    "try:\n",
    "except:\n",
    "finally:\n",
    "while True:\n    pass\n",
    "for i in range(10**18):\n",
    "global x\n",
    "nonlocal y\n",
    "import ",
    "from twisted.internet import reactor\n",
    "reactor.callLater(0, ",
    "reactor.stop()",
    "reactor.run()",
    "deferToThread(",
    "threading.Thread(target=",
    ".start()",
    ".join()",
    "Lock()",
    "twine.machine(cores=0)",
    "twine.cpu(1e308)",
    "twine.clients(rate_per_s=-1)",
    "twine.duration(10**30)",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "=",
    "+=",
    "*",
    "**",
    "//",
    "%",
    "\"",
    "'",
    "\"\"\"",
    "f\"{",
    "}\"",
    "\\",
    "\n",
    "    ",
    "\t",
    "9223372036854775807",
    "-9223372036854775808",
    "1e400",
    "None",
    "self",
    "super().",
    "raise ",
    "assert False, ",
    "print(",
    "é",
    "\u{0}",
];

/// One edit of a text, positions as fractions of its length so that they
/// stay meaningful as the text changes under earlier edits.
#[derive(Clone, Debug)]
enum Edit {
    Delete { at: f64, len: usize },
    Duplicate { at: f64, len: usize },
    Move { from: f64, len: usize, to: f64 },
    Insert { at: f64, token: usize },
    SwapLines { a: f64, b: f64 },
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0.0..1.0f64;
    prop_oneof![
        1 => (at.clone(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (at.clone(), 1usize..40).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        1 => (at.clone(), 1usize..40, at.clone()).prop_map(|(from, len, to)| Edit::Move { from, len, to }),
        3 => (at.clone(), any::<usize>()).prop_map(|(at, token)| Edit::Insert { at, token }),
        1 => (at.clone(), at).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

/// Applies `edits` to `text` (on characters, so the result stays UTF-8).
fn mutate(text: &str, edits: &[Edit], tokens: &[&str]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let place = |f: f64, len: usize| ((f * len as f64) as usize).min(len);
    for e in edits {
        let n = chars.len();
        match *e {
            Edit::Delete { at, len } => {
                let i = place(at, n);
                chars.drain(i..(i + len).min(n));
            }
            Edit::Duplicate { at, len } => {
                let i = place(at, n);
                let span: Vec<char> = chars[i..(i + len).min(n)].to_vec();
                chars.splice(i..i, span);
            }
            Edit::Move { from, len, to } => {
                let i = place(from, n);
                let span: Vec<char> = chars.drain(i..(i + len).min(n)).collect();
                let j = place(to, chars.len());
                chars.splice(j..j, span);
            }
            Edit::Insert { at, token } => {
                let i = place(at, n);
                chars.splice(i..i, tokens[token % tokens.len()].chars());
            }
            Edit::SwapLines { a, b } => {
                let text: String = chars.iter().collect();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let (a, b) = (place(a, lines.len() - 1), place(b, lines.len() - 1));
                lines.swap(a, b);
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

/// Runs the first events of an accepted scenario: enough to start every
/// thread, the clients and the first timers, bounded so a case stays fast.
fn run_a_little(scenario: &Scenario, seed: u64) {
    let mut sim = Simulation::new(scenario, Some(seed));
    sim.step_events(300);
}

proptest! {
    #[test]
    fn a_mutated_scenario_loads_or_names_its_field_and_runs_without_panicking(
        preset in 0..JSON_PRESETS.len(),
        edits in proptest::collection::vec(edit(), 1..6),
        seed in any::<u64>(),
    ) {
        let text = mutate(JSON_PRESETS[preset], &edits, JSON_TOKENS);
        match Scenario::from_json(&text) {
            Ok(scenario) => run_a_little(&scenario, seed),
            Err(e) => prop_assert!(!e.message.is_empty(), "an error without a message for {text:?}"),
        }
    }

    #[test]
    fn a_mutated_program_compiles_or_points_inside_itself_and_runs_without_panicking(
        preset in 0..PYTHON_PRESETS.len(),
        edits in proptest::collection::vec(edit(), 1..6),
        seed in any::<u64>(),
    ) {
        let text = mutate(PYTHON_PRESETS[preset], &edits, PYTHON_TOKENS);
        match Scenario::from_python("fuzz.py", &text) {
            Ok(scenario) => run_a_little(&scenario, seed),
            Err(e) => {
                let lines = text.split('\n').count() as u32;
                prop_assert!(e.line >= 1 && e.line <= lines + 1, "line {} of {lines}: {e}", e.line);
                prop_assert!(e.col >= 1, "column {}: {e}", e.col);
                prop_assert!(!e.message.is_empty(), "an error without a message: {e}");
            }
        }
    }
}
