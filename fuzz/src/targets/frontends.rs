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

use twine_web::scenario::program::{ClientsDef, Program};
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

/// A simulation of `scenario` on a seed taken from the input.
fn start(scenario: &Scenario, input: &[u8]) -> Simulation {
    let seed = input.iter().fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b as u64));
    Simulation::new(scenario, Some(seed))
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
                let loaded = program_shape(Sig::new("loaded"), &scenario.program);
                if !self.run {
                    return Ok(loaded.done());
                }
                let mut sim = start(&scenario, input);
                let events = sim.step_events(EVENTS);
                Ok(run_shape(loaded.mix(Sig::bucket(events)), &sim).done())
            }
            Err(e) if e.message.is_empty() => Err(format!("an error without a message at `{}`", e.field)),
            Err(e) => {
                Ok(Sig::new("refused").text(&field_shape(&e.field, &e.message)).text(message_kind(&e.message)).done())
            }
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
                let compiled = program_shape(Sig::new("compiled"), &scenario.program);
                if !self.run {
                    return Ok(compiled.done());
                }
                let mut sim = start(&scenario, input);
                let events = sim.step_events(EVENTS);
                Ok(run_shape(compiled.mix(Sig::bucket(events)), &sim).done())
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
                Ok(Sig::new("refused").text(&refusal_shape(&e.message)).done())
            }
        }
    }
}

/// Python's keywords: quoted in a refusal, they are the construct refused,
/// not a name the program chose.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "match",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// A Python refusal as its kind and the construct it is about: the
/// message's own words (the parser's complaint, the compiler's rule and
/// advice) with every quoted piece of the program reduced to its class:
/// a keyword or an operator as itself, a name as `_`, a number as `0`,
/// anything longer (a string literal, an expression) as `…`. Digits outside
/// quotes go too. So `Got unexpected token 'x'` and `... 'total'` are one
/// outcome, `... 'def'` and `... '('` others, and a string literal's text
/// (which may hold quotes of its own) never reaches the signature.
fn refusal_shape(message: &str) -> String {
    if let Some(complaint) = message.strip_prefix("syntax error: ") {
        return format!("syntax error: {}", syntax_shape(complaint));
    }
    let mut shape = String::new();
    let mut rest = message;
    while let Some(open) = rest.find(['\'', '"', '`']) {
        shape.extend(rest[..open].chars().filter(|c| !c.is_ascii_digit()));
        let quote = rest[open..].chars().next().unwrap_or('"');
        let after = &rest[open + 1..];
        // An unclosed quote runs to the end (a string literal cut short).
        let close = after.find(quote).unwrap_or(after.len());
        shape.push(quote);
        shape.push_str(quoted_class(&after[..close]));
        shape.push(quote);
        rest = after.get(close + 1..).unwrap_or("");
    }
    shape.extend(rest.chars().filter(|c| !c.is_ascii_digit()));
    shape
}

/// The parser's complaint up to the token it names, and that token's
/// class. The parser quotes a string token as it was written, so what
/// follows its first quote may be any text of the program (quotes and
/// all): only the token's first characters are looked at.
fn syntax_shape(complaint: &str) -> String {
    let end = complaint
        .find(|c: char| matches!(c, '\'' | '"' | '`') || c.is_ascii_digit() || !c.is_ascii_graphic() && c != ' ')
        .unwrap_or(complaint.len());
    let (words, token) = complaint.split_at(end);
    // `keyword argument repeated: x` names the program's own name unquoted.
    let words = match words.rsplit_once(": ") {
        Some((head, last)) if !last.is_empty() && last.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            format!("{head}: _")
        }
        _ => words.to_owned(),
    };
    let class = match token.chars().next() {
        None => "",
        Some('\'') => match token[1..].find('\'') {
            Some(close) if close <= 12 => quoted_class(&token[1..1 + close]),
            _ => "…",
        },
        Some('"' | '`') => "…",
        Some(c) if c.is_ascii_digit() => "0",
        Some(_) => "char",
    };
    format!("{words}{class}")
}

/// The class of a piece of the program a refusal quotes (see [`refusal_shape`]).
fn quoted_class(quoted: &str) -> &str {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    if let Some(keyword) = KEYWORDS.iter().find(|k| **k == quoted) {
        keyword
    } else if quoted.starts_with(|c: char| c.is_ascii_digit()) && quoted.chars().all(|c| word(c) || c == '.') {
        "0"
    } else if !quoted.is_empty() && quoted.chars().all(word) {
        "_"
    } else if quoted.chars().count() <= 3 && quoted.chars().all(|c| c.is_ascii_punctuation() || c == ' ') {
        quoted
    } else {
        "…"
    }
}

// Every target here signs what the loader, the compiler or the run did, in
// classes, never text or names from the input: a mutated field name or a
// number in a message is the same refusal, so a new outcome is a new path
// through the loader, the compiler or the engine, and the corpus keeps
// inputs that went somewhere new rather than every spelling of one error.

/// What a scenario that loaded asks for: which parts it has, counts in
/// powers of two.
fn program_shape(sig: Sig, p: &Program) -> Sig {
    let clients = match p.clients {
        None => 0,
        Some(ClientsDef::Open { .. }) => 1,
        Some(ClientsDef::Closed { .. }) => 2,
    };
    sig.mix(Sig::bucket(p.machine.cores as usize))
        .mix(p.machine.gil as u64)
        .mix(Sig::bucket(p.pool_threads as usize))
        .mix(p.main.is_empty() as u64)
        .mix(Sig::bucket(p.threads.len()))
        .mix(p.handler.is_some() as u64)
        .mix(clients)
        .mix(Sig::bucket(p.counters.len()))
        .mix(Sig::bucket(p.locks.len()))
        .mix(Sig::bucket(p.loops.len()))
}

/// What the first events of a run did: how it ended (if it did) and which
/// of its measurements moved.
fn run_shape(sig: Sig, sim: &Simulation) -> Sig {
    let m = sim.metrics();
    let moved = [
        m.requests.sent > 0,
        m.requests.completed > 0,
        m.pool.jobs > 0,
        m.pool.completed > 0,
        m.reactor.unhandled_errors > 0,
        m.reactor.slow_calls > 0,
        m.gil.as_ref().is_some_and(|g| g.switches > 0),
        m.locks.iter().any(|l| l.contended > 0),
        m.counters.iter().any(|c| c.lost_updates > 0),
        m.looping_calls.iter().any(|l| l.calls > 0),
        m.deadlock.is_some(),
    ];
    let moved = moved.iter().fold(0u64, |bits, &b| bits << 1 | b as u64);
    sig.mix(m.end_reason.map_or(0, |r| r as u64 + 1)).mix(moved).mix(Sig::bucket(m.output.len()))
}

/// The kind of a refusal: the message up to the first thing it quotes or
/// counts (`unknown field`, `invalid type: string`, `must be between`),
/// since what follows is the input's own text or numbers.
fn message_kind(message: &str) -> &str {
    let end =
        message.find(|c: char| matches!(c, '`' | '"' | '\'' | '(') || c.is_ascii_digit()).unwrap_or(message.len());
    message[..end].trim_end_matches([' ', ':', ','])
}

/// Where a refusal is, as a shape: the section it is in, the last field
/// named on its path, and how deep it is (in powers of two). List indices
/// do not count, nor does a name the input chose: an unknown field's key
/// (the path ends in it, and the message quotes it) or anything that is
/// not a snake_case name, as every field of the format is.
fn field_shape(field: &str, message: &str) -> String {
    // The longest end of the path the message quotes back is the input's
    // own key (which may hold dots or backquotes itself).
    let key = std::iter::once(0)
        .chain(field.match_indices('.').map(|(i, _)| i + 1))
        .find(|&start| message.contains(&format!("`{}`", &field[start..])));
    let field = key.map_or(field, |start| field[..start].trim_end_matches('.'));
    let names: Vec<&str> = field
        .split(['.', '['])
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .collect();
    let depth = field.matches(['.', '[']).count();
    format!("{}/{}/{}", names.first().unwrap_or(&""), names.last().unwrap_or(&""), Sig::bucket(depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(target: &mut dyn Target, json: &str) -> Outcome {
        target.run(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn a_refusal_is_its_place_and_kind_not_the_names_or_numbers_the_input_chose() {
        let mut t = ScenarioJson { run: false };
        let unknown = outcome(&mut t, r#"{"machine": {"coresx": 1}}"#);
        assert_eq!(unknown, outcome(&mut t, r#"{"machine": {"gpus": 1}}"#));
        assert_eq!(unknown, outcome(&mut t, r#"{"machine": {"c.o[res` 7": 1}}"#));
        let range = outcome(&mut t, r#"{"machine": {"cores": 0}}"#);
        assert_eq!(range, outcome(&mut t, r#"{"machine": {"cores": 65}}"#));
        let deep = outcome(&mut t, r#"{"threads": [{"name": "t", "steps": [{"cpu": 1}, {"cpux": 2}]}]}"#);
        assert_eq!(deep, outcome(&mut t, r#"{"threads": [{"name": "u", "steps": [{"zzz": 2}]}]}"#));
        let outcomes = [unknown, range, deep, outcome(&mut t, r#"{"pool": {"threads": 0}}"#)];
        for (i, a) in outcomes.iter().enumerate() {
            for b in &outcomes[i + 1..] {
                assert_ne!(a, b, "different refusals, one outcome");
            }
        }
    }

    #[test]
    fn a_run_is_what_it_did_not_what_it_named() {
        let mut t = ScenarioJson { run: true };
        let two_locks = |first: &str, second: &str| {
            format!(
                r#"{{"threads": [
                    {{"name": "a", "steps": [{{"lock": {{"name": "x", "steps": [{{"sleep": 10}}, {{"lock": {{"name": "y", "steps": []}}}}]}}}}]}},
                    {{"name": "b", "steps": [{{"lock": {{"name": "{first}", "steps": [{{"sleep": 10}}, {{"lock": {{"name": "{second}", "steps": []}}}}]}}}}]}}
                ]}}"#
            )
        };
        let in_order = outcome(&mut t, &two_locks("x", "y"));
        let deadlock = outcome(&mut t, &two_locks("y", "x"));
        assert_ne!(in_order, deadlock);
        let renamed = two_locks("y", "x").replace("\"a\"", "\"left\"").replace("\"b\"", "\"right\"");
        assert_eq!(deadlock, outcome(&mut t, &renamed));
    }

    #[test]
    fn a_python_refusal_is_its_kind_and_construct_not_the_programs_text() {
        let mut t = Python { run: false };
        // A string literal's text, quotes inside it too, is no part of the outcome.
        let string = outcome(&mut t, "x = 1 \"it's a\"\n");
        assert_eq!(string, outcome(&mut t, "x = 1 \"don't 'stop' now\"\n"));
        assert_eq!(string, outcome(&mut t, "x = 1 \"\"\"a \" b\"\"\"\n"));
        assert_eq!(string, outcome(&mut t, "x = 1 \"\"\"c \" d ' e\"\"\"\n"));
        // Nor is a name the program chose, or a number.
        let name = outcome(&mut t, "x = 1 y\n");
        assert_eq!(name, outcome(&mut t, "total = 10 count\n"));
        // A `match` statement is refused, whatever it matches.
        let matched = outcome(&mut t, "match x:\n    case 1:\n        pass\n");
        assert_eq!(matched, outcome(&mut t, "match total:\n    case (n, m):\n        total = n\n"));
        let keyword = outcome(&mut t, "x = 1 def\n");
        let import = outcome(&mut t, "import os\n");
        assert_eq!(import, outcome(&mut t, "import subprocess\n"));
        let outcomes = [string, name, matched, keyword, import];
        for (i, a) in outcomes.iter().enumerate() {
            for b in &outcomes[i + 1..] {
                assert_ne!(a, b, "different refusals, one outcome");
            }
        }
    }

    #[test]
    fn a_python_program_is_what_it_asks_for_and_does_not_what_it_names() {
        let mut compile = Python { run: false };
        let machine = |cores: u32| format!("import twine\ntwine.machine(cores={cores})\nprint('hi')\n");
        assert_ne!(outcome(&mut compile, &machine(1)), outcome(&mut compile, &machine(4)));
        let mut run = Python { run: true };
        let program = |body: &str| {
            format!(
                "from twisted.internet import reactor\n\ndef tick():\n    {body}\n\n\
                 reactor.callLater(0.1, tick)\nreactor.callLater(0.2, reactor.stop)\nreactor.run()\n"
            )
        };
        let prints = outcome(&mut run, &program("print('tick')"));
        assert_eq!(prints, outcome(&mut run, &program("print('a different line')")));
        let raises = outcome(&mut run, &program("raise ValueError('boom')"));
        assert_ne!(prints, raises, "a callback that raised is another outcome");
    }
}
