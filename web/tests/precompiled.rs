//! Programs compiled ahead of time (`python::precompiled`, what the
//! playground's light module runs before the parser arrives) run exactly as
//! the same programs parsed on the spot.
#![cfg(not(target_arch = "wasm32"))]

use twine_web::python::precompiled;
use twine_web::{presets, PythonScenario, Scenario, Simulation};

const FILE: &str = "experiment.py";

/// The whole visible trace and the metrics of a run: what the page shows.
fn run(source: &str, variant: Option<&str>) -> (String, String) {
    let scenario = Scenario::from_python_variant(FILE, source, variant).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, Some(3));
    sim.run();
    // The light module has none of the built-ins the presets do not use
    // (`python::builtins::full`): a preset that calls one needs that changed.
    if let Some(f) = sim.python_full_only() {
        panic!("{:?} --variant {variant:?} calls {f}(), which the light module leaves out", source.lines().next());
    }
    (sim.jsonl(), serde_json::to_string(&sim.metrics()).unwrap())
}

#[test]
fn every_preset_and_variant_runs_the_same_precompiled_as_parsed() {
    for p in presets::all() {
        let variants = twine_web::python::variants(p.python);
        let mut runs: Vec<Option<&str>> = vec![None];
        runs.extend(variants.iter().map(|(v, _)| Some(v.as_str())));
        let parsed: Vec<_> = runs.iter().map(|v| run(p.python, *v)).collect();

        let compiled = precompiled::compile(FILE, p.python).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert!(!precompiled::is_registered(p.python));
        precompiled::register(&precompiled::encode(&[compiled], &[], &[])).unwrap();
        assert!(precompiled::is_registered(p.python), "{}", p.name);
        assert_eq!(precompiled::variants(p.python), Some(variants.clone()), "{}", p.name);
        for (v, expected) in runs.iter().zip(&parsed) {
            let got = run(p.python, *v);
            assert_eq!(got.1, expected.1, "{} {v:?}: metrics differ", p.name);
            assert!(got.0 == expected.0, "{} {v:?}: traces differ", p.name);
        }
    }
}

#[test]
fn a_registered_program_runs_its_compiled_code_and_an_edit_of_it_is_parsed_anew() {
    let hello = "print('hello')\n";
    let bye = "print('bye')\n";
    // The compiled form of one text filed under another: if the run prints
    // `bye`, it ran what was registered, not what the parser makes of the text.
    let mut entry = precompiled::compile(FILE, bye).unwrap();
    entry.source = hello.into();
    precompiled::register(&precompiled::encode(&[entry], &[], &[])).unwrap();
    let printed = |src: &str| {
        let scenario = Scenario::from_python(FILE, src).unwrap();
        let mut sim = Simulation::new(&scenario, None);
        sim.run();
        sim.metrics().output.iter().map(|l| l.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(printed(hello), ["bye"]);
    // One character more and it is a program of its own.
    assert_eq!(printed("print('hello!')\n"), ["hello!"]);
    // Under another file name the registered code (whose errors name experiment.py) is not used.
    let scenario = Scenario::from_python("other.py", hello).unwrap();
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    assert_eq!(sim.metrics().output[0].text, "hello");
}

#[test]
fn a_file_that_is_not_a_list_of_compiled_programs_is_refused_by_name() {
    let err = precompiled::register(b"{\"source\": 1}").unwrap_err();
    assert!(err.starts_with("not a list of precompiled programs"), "{err}");
}

#[test]
fn a_named_preset_is_listed_with_its_text_from_the_file() {
    // The light module has no copy of the presets' texts: the page's picker
    // and editor get them from what the file registered.
    let p = presets::find("sleeping-threads").unwrap();
    let mut entry = precompiled::compile(FILE, p.python).unwrap();
    entry.preset = Some(p.name.into());
    let unnamed = precompiled::compile(FILE, "print('not a preset')\n").unwrap();
    precompiled::register(&precompiled::encode(&[entry, unnamed], &[], &[])).unwrap();
    let listed = precompiled::presets();
    assert!(listed.contains(&(p.name.to_owned(), p.python.to_owned())), "{listed:?}");
    assert!(listed.iter().all(|(_, text)| text != "print('not a preset')\n"), "{listed:?}");
    let info = presets::program_info(p.name, &listed.iter().find(|(n, _)| n == p.name).unwrap().1);
    assert_eq!(info, p.program_info());
}

#[test]
fn the_list_file_lists_every_preset_before_their_programs_come_and_a_program_file_keeps_the_list() {
    // As twine-precompile writes them: the page registers the list (and the
    // library) first, then one preset's program, the others after Run.
    let full: Vec<_> = presets::all().iter().map(|p| p.program_info()).collect();
    // Without explanations, as twine-precompile lists them: a program's docstring gives it.
    let programs: Vec<_> =
        full.iter().map(|p| twine_web::presets::PresetInfo { explanation: String::new(), ..p.clone() }).collect();
    let json: Vec<_> = presets::all().iter().map(|p| p.info()).collect();
    let library = precompiled::library().unwrap();
    // Found by file name: the file carries no second copy of their sources.
    assert!(library.iter().all(|c| c.source.is_empty()));
    assert_eq!(precompiled::register(&precompiled::encode(&library, &json, &programs)).unwrap(), library.len());
    // A program that uses them runs them from there (as CPython 3.11 + Twisted print it).
    let src = "from twisted.internet import defer, reactor\n\n@defer.inlineCallbacks\ndef main():\n    x = yield defer.succeed(2)\n    print('got', x)\n    reactor.stop()\n\nreactor.callWhenRunning(main)\nreactor.run()\n";
    let mut sim = Simulation::new(&Scenario::from_python(FILE, src).unwrap(), None);
    sim.run();
    assert_eq!(sim.metrics().output.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["got 2"]);
    assert!(!precompiled::is_registered(""), "an empty program is not a library part");
    assert_eq!(precompiled::program_presets(), programs);
    assert!(programs.iter().all(|p| !p.title.is_empty()), "{programs:?}");
    assert!(precompiled::presets().is_empty(), "no preset's text before its file");
    let p = presets::find("counter-race").unwrap();
    assert!(!precompiled::is_registered(p.python));

    let mut entry = precompiled::compile(FILE, p.python).unwrap();
    entry.preset = Some(p.name.into());
    entry.explanation = p.program_info().explanation;
    precompiled::register(&precompiled::encode(&[entry], &[], &[])).unwrap();
    assert!(precompiled::is_registered(p.python));
    assert_eq!(precompiled::presets(), [(p.name.to_owned(), p.python.to_owned())]);
    // A file without lists leaves the lists as they were, but for the
    // explanation of the program it brought.
    let listed = precompiled::program_presets();
    assert_eq!(listed.len(), programs.len());
    for (got, (bare, full)) in listed.iter().zip(programs.iter().zip(&full)) {
        assert_eq!(got, if got.name == p.name { full } else { bare });
    }
    assert!(!full.iter().find(|i| i.name == p.name).unwrap().explanation.is_empty());
    assert_eq!(precompiled::json_presets(), json);
}

#[test]
fn no_preset_imports_what_the_light_module_leaves_out() {
    // The light module runs the presets precompiled and has no `itertools`
    // (`python::itertools::HERE`), `endpoints` or `queue`: a preset that needs it needs that changed.
    for p in presets::all() {
        assert!(!p.python.contains("itertools"), "{}: the light module has no itertools", p.name);
        assert!(!p.python.contains("endpoints"), "{}: the light module has no endpoints", p.name);
        assert!(!p.python.contains("import queue"), "{}: the light module has no queue", p.name);
        assert!(!p.python.contains("concurrent"), "{}: the light module has no concurrent.futures", p.name);
        // Nor the modules written in Python (`python::pystd`).
        const PYSTD: &[&str] = &[
            "deque",
            "namedtuple",
            "typing",
            "import json",
            "heapq",
            "bisect",
            "operator",
            "statistics",
            "dataclass",
            "logging",
            "import copy",
            "import enum",
            "from enum",
            "contextlib",
            "import abc",
            "from abc",
            "ABCMeta",
            "import string",
            "from string",
            "datetime",
            "import struct",
            "from struct",
            "pprint",
            "gmtime",
            "localtime",
            "mktime",
            "strftime",
            "strptime",
            "asctime",
            "ctime",
        ];
        for name in PYSTD {
            assert!(!p.python.contains(name), "{}: the light module has no {name}", p.name);
        }
    }
}
