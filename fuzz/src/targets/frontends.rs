//! `scenario`, `scenario-run`, `python`, `python-run`: the two front ends
//! a shared link or a typed program reaches (the scenario JSON loader and
//! the Python compiler), then the simulation of what they accept.
//!
//! Loading or compiling is fast, simulating is not, so each comes in two
//! targets: `scenario` and `python` only load or compile (millions of
//! inputs), `scenario-run` and `python-run` also run the first 300 events
//! of what loads, on a seed taken from the input.
//!
//! Properties, beside "never panics": a refusal names a place in the text
//! (a message for JSON; for Python a line and column inside the program);
//! what is accepted runs its first events.

use twine_web::{PythonScenario, Scenario, Simulation};

use crate::{Outcome, Sig, Target};

const JSON_PRESETS: &[&str] = &[
    include_str!("../../../www/presets/counter-race.json"),
    include_str!("../../../www/presets/deferred-errback.json"),
    include_str!("../../../www/presets/echo-blocking.json"),
    include_str!("../../../www/presets/gil-cpu-bound.json"),
    include_str!("../../../www/presets/looping-call-drift.json"),
    include_str!("../../../www/presets/pool-saturation.json"),
    include_str!("../../../www/presets/reactor-ordering.json"),
    include_str!("../../../www/presets/sleeping-threads.json"),
];

const PYTHON_PRESETS: &[&str] = &[
    include_str!("../../../www/presets/client-server.py"),
    include_str!("../../../www/presets/counter-race.py"),
    include_str!("../../../www/presets/deferred-errback.py"),
    include_str!("../../../www/presets/echo-blocking.py"),
    include_str!("../../../www/presets/gil-cpu-bound.py"),
    include_str!("../../../www/presets/looping-call-drift.py"),
    include_str!("../../../www/presets/pool-saturation.py"),
    include_str!("../../../www/presets/reactor-ordering.py"),
    include_str!("../../../www/presets/sleeping-threads.py"),
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

/// Events of an accepted scenario the `-run` targets simulate: enough to
/// start every thread, the clients and the first timers.
const EVENTS: usize = 300;

/// A scenario JSON target: loading only, or loading and running.
pub struct ScenarioJson {
    pub run: bool,
}

/// A Python program target: compiling only, or compiling and running.
pub struct Python {
    pub run: bool,
}

fn run_a_little(scenario: &Scenario, input: &[u8]) -> usize {
    let seed = input.iter().fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut sim = Simulation::new(scenario, Some(seed));
    sim.step_events(EVENTS)
}

impl Target for ScenarioJson {
    fn name(&self) -> &'static str {
        if self.run {
            "scenario-run"
        } else {
            "scenario"
        }
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        JSON_PRESETS.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    fn tokens(&self) -> &'static [&'static str] {
        JSON_TOKENS
    }

    fn max_len(&self) -> usize {
        8192
    }

    fn run(&mut self, input: &[u8]) -> Result<Outcome, String> {
        let text = String::from_utf8_lossy(input);
        match Scenario::from_json(&text) {
            Ok(scenario) => {
                let events = if self.run { run_a_little(&scenario, input) } else { 0 };
                Ok(Sig::new("loaded").mix(Sig::bucket(events)).done())
            }
            Err(e) if e.message.is_empty() => Err(format!("an error without a message at `{}`", e.field)),
            // The field at fault, without its indices: where the input went.
            Err(e) => Ok(Sig::new("refused").text(&without_digits(&e.field)).text(&kind_of(&e.message)).done()),
        }
    }
}

impl Target for Python {
    fn name(&self) -> &'static str {
        if self.run {
            "python-run"
        } else {
            "python"
        }
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        PYTHON_PRESETS.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    fn tokens(&self) -> &'static [&'static str] {
        PYTHON_TOKENS
    }

    fn max_len(&self) -> usize {
        8192
    }

    fn run(&mut self, input: &[u8]) -> Result<Outcome, String> {
        let text = String::from_utf8_lossy(input);
        match Scenario::from_python("fuzz.py", &text) {
            Ok(scenario) => {
                let events = if self.run { run_a_little(&scenario, input) } else { 0 };
                Ok(Sig::new("compiled").mix(Sig::bucket(events)).done())
            }
            Err(e) => {
                let lines = text.split('\n').count() as u32;
                if e.line < 1 || e.line > lines + 1 {
                    return Err(format!("line {} of a {lines}-line program: {e}", e.line));
                }
                if e.col < 1 {
                    return Err(format!("column {}: {e}", e.col));
                }
                if e.message.is_empty() {
                    return Err(format!("an error without a message: {e}"));
                }
                Ok(Sig::new("refused").text(&kind_of(&e.message)).done())
            }
        }
    }
}

/// The kind of an error message: without what it quotes from the input,
/// and without numbers.
fn kind_of(message: &str) -> String {
    let unquoted: String = message.split(['\'', '"', '`']).step_by(2).collect();
    without_digits(&unquoted)
}

/// `s` with its digits left out, so `steps[3]` and `steps[4]` are one place.
fn without_digits(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_digit()).collect()
}
