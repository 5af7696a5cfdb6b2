//! The browser API, from JavaScript's side: what the page calls and the
//! shapes it gets back. Runs in headless Chromium (`cargo xtask test`).
#![cfg(target_arch = "wasm32")]

mod common;

use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use twine_web::wasm::{
    check_scenario, preset_program, preset_scenario, presets, programs, WasmExplorer as Explorer,
    WasmSimulation as Simulation,
};

wasm_bindgen_test_configure!(run_in_browser);

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn path(value: &JsValue, keys: &[&str]) -> JsValue {
    keys.iter().fold(value.clone(), |v, k| get(&v, k))
}

fn num(value: &JsValue, keys: &[&str]) -> f64 {
    path(value, keys).as_f64().unwrap_or_else(|| panic!("{keys:?} is not a number"))
}

fn text(value: &JsValue, keys: &[&str]) -> String {
    path(value, keys).as_string().unwrap_or_else(|| panic!("{keys:?} is not a string"))
}

fn array(value: JsValue) -> Array {
    value.dyn_into::<Array>().expect("an array")
}

#[wasm_bindgen_test]
fn presets_come_with_titles_explanations_and_variants() {
    let list = array(presets().unwrap());
    assert_eq!(list.length(), 8);
    let names: Vec<String> = list.iter().map(|p| text(&p, &["name"])).collect();
    for name in ["sleeping-threads", "counter-race", "echo-blocking", "gil-cpu-bound", "looping-call-drift"] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    for p in list.iter() {
        assert!(!text(&p, &["title"]).is_empty());
        assert!(text(&p, &["explanation"]).len() > 100);
        let _ = array(get(&p, "variants"));
    }
    let echo = list.iter().find(|p| text(p, &["name"]) == "echo-blocking").unwrap();
    let variants = array(get(&echo, "variants"));
    assert!(variants.iter().any(|v| text(&v, &["name"]) == "deferred" && !text(&v, &["title"]).is_empty()));

    let json = preset_scenario("echo-blocking", Some("deferred".into())).unwrap();
    let parsed = JSON::parse(&json).unwrap();
    assert_eq!(text(&parsed, &["name"]), "echo-blocking/deferred");
    assert!(get(&parsed, "variants").is_undefined());
    let base = preset_scenario("echo-blocking", None).unwrap();
    assert!(JSON::parse(&base).is_ok());
}

#[wasm_bindgen_test]
fn bad_scenarios_throw_errors_naming_the_field() {
    let cases = [
        (r#"{"machine": {"cores": 0}}"#, "machine.cores"),
        (r#"{"main": [{"cpu": 1}, {"cpux": 1}]}"#, "main[1]"),
        (r#"{"threads": [{"name": "t", "steps": [{"call_later": {"ms": 1, "steps": []}}]}]}"#, "threads[0].steps[0]"),
        (r#"{"machine": {"cores": 2"#, "machine"),
    ];
    for (json, field) in cases {
        let thrown = Simulation::new(json, None, None).err().expect("an exception");
        let error = thrown.dyn_into::<js_sys::Error>().expect("an Error");
        assert_eq!(String::from(error.name()), "ScenarioError");
        assert_eq!(text(&error, &["field"]), field, "{json}");
        assert!(String::from(error.message()).starts_with(&format!("{field}: ")));
        assert!(!text(&error, &["reason"]).is_empty());
        assert!(check_scenario(json, None).is_err());
    }
    assert!(check_scenario(r#"{"main": [{"print": "ok"}]}"#, None).is_ok());
    let unknown = preset_scenario("nope", None).err().unwrap();
    assert_eq!(text(&unknown, &["field"]), "preset");
    let unknown = preset_scenario("echo-blocking", Some("nope".into())).err().unwrap();
    assert_eq!(text(&unknown, &["field"]), "variant");
}

#[wasm_bindgen_test]
fn step_seek_events_and_queues_follow_the_run() {
    let json = preset_scenario("pool-saturation", None).unwrap();
    let mut sim = Simulation::new(&json, Some(3.0), None).unwrap();
    assert_eq!(sim.seed(), 3.0);
    assert!(!sim.finished());
    assert!(sim.end_reason().is_none());

    let before = sim.event_count();
    let got = sim.step(10);
    assert!(got >= 10);
    assert_eq!(sim.event_count(), before + got);
    let events = array(sim.events(0, None).unwrap());
    assert_eq!(events.length(), sim.event_count());
    let first = events.get(0);
    assert_eq!(text(&first, &["kind"]), "thread_spawned");
    assert_eq!(num(&first, &["t"]), 0.0);
    let page = array(sim.events(2, Some(3)).unwrap());
    assert_eq!(page.length(), 3);
    assert_eq!(JSON::stringify(&page.get(0)).unwrap(), JSON::stringify(&events.get(2)).unwrap());
    assert_eq!(sim.events_json(sim.event_count(), None), "[]");

    sim.seek(150.0);
    assert_eq!(sim.now_ms(), 150.0);
    let q = sim.queues().unwrap();
    assert_eq!(num(&q, &["t_ms"]), 150.0);
    assert_eq!(array(path(&q, &["pool", "queue"])).length(), 4);
    assert_eq!(num(&q, &["pool", "busy"]), 4.0);
    assert_eq!(text(&q, &["reactor", "phase"]), "poll");
    let threads = array(get(&q, "threads"));
    assert_eq!(text(&threads.get(0), &["name"]), "reactor");
    assert!(threads.iter().filter(|t| get(t, "reason").as_string().as_deref() == Some("io")).count() == 4);
    let _ = array(path(&q, &["reactor", "due_timers"]));
    assert!(num(&q, &["reactor", "inbox"]) >= 0.0);

    // Backwards: the same run, replayed.
    let at_150 = sim.event_count();
    sim.seek(50.0);
    assert_eq!(array(path(&sim.queues().unwrap(), &["pool", "queue"])).length(), 8);
    assert!(sim.event_count() < at_150);
    sim.seek(150.0);
    assert_eq!(sim.event_count(), at_150);

    let total = sim.run();
    assert!(sim.finished());
    assert_eq!(sim.end_reason().as_deref(), Some("quiet"));
    assert_eq!(total, sim.event_count());
    assert_eq!(sim.step(5), 0);
    assert_eq!(sim.step_actions(5), 0);
}

#[wasm_bindgen_test]
fn metrics_and_exports_have_the_documented_shape() {
    let json = preset_scenario("echo-blocking", Some("blocking".into())).unwrap();
    let mut sim = Simulation::new(&json, None, None).unwrap();
    sim.run();
    let m = sim.metrics().unwrap();
    assert_eq!(num(&m, &["requests", "completed"]), 1000.0);
    let p99 = num(&m, &["requests", "p99_ms"]);
    assert!(p99 > num(&m, &["requests", "p50_ms"]) && p99 <= num(&m, &["requests", "max_ms"]));
    assert!(array(path(&m, &["requests", "histogram"])).length() > 3);
    assert!(num(&m, &["reactor", "lag", "p99_ms"]) > 10.0);
    assert!(array(path(&m, &["reactor", "lag", "series"])).length() > 10);
    assert_eq!(array(get(&m, "cores")).length(), 4);
    assert!(get(&m, "gil").is_null());
    assert_eq!(text(&m, &["end_reason"]), "quiet");
    // The same numbers as JSON text, as twine-sim prints them.
    assert_eq!(JSON::stringify(&m).unwrap(), JSON::stringify(&JSON::parse(&sim.metrics_json()).unwrap()).unwrap());

    let chrome = JSON::parse(&sim.chrome_trace()).unwrap();
    assert!(array(get(&chrome, "traceEvents")).length() > 1000);
    let jsonl = sim.jsonl();
    assert!(jsonl.starts_with(r#"{"schema":"twine-trace","version":1}"#));
    assert_eq!(jsonl.lines().count() as u32, sim.event_count() + 1);

    // Deterministic: the same scenario and seed, the same metrics.
    let mut again = Simulation::new(&json, None, None).unwrap();
    again.run();
    assert_eq!(again.metrics_json(), sim.metrics_json());
}

#[wasm_bindgen_test]
fn a_hundred_thousand_events_come_out_in_one_call() {
    // Forty threads counting under a lock: some 120 000 events (locks barge,
    // so few acquisitions wait: about 3 000 events a thread).
    let json =
        preset_scenario("counter-race", Some("nogil-locked".into())).unwrap().replace("\"count\": 10", "\"count\": 40");
    let mut sim = Simulation::new(&json, None, None).unwrap();
    sim.run();
    let events = array(sim.events(0, None).unwrap());
    assert!(events.length() > 100_000, "{} events", events.length());
    assert_eq!(events.length(), sim.event_count());
    assert!(!text(&events.get(events.length() - 1), &["kind"]).is_empty());
}

#[wasm_bindgen_test]
fn python_presets_run_as_the_variant_named() {
    let list = array(programs().unwrap());
    assert_eq!(list.length(), 8);
    let race = list.iter().find(|p| text(p, &["name"]) == "counter-race").unwrap();
    assert!(text(&race, &["title"]).starts_with("Ten threads count"));
    let variants: Vec<String> = array(get(&race, "variants")).iter().map(|v| text(&v, &["name"])).collect();
    assert_eq!(variants[..2], ["nogil-unlocked", "nogil-locked"]);

    // One program, two variants, two results: the lock makes the count exact.
    let program = preset_program("counter-race").unwrap();
    let last_line = |variant: &str| {
        let mut sim = Simulation::new(&program, Some(1.0), Some(variant.into())).unwrap();
        sim.run();
        let output = array(get(&sim.metrics().unwrap(), "output"));
        text(&output.get(output.length() - 1), &["text"])
    };
    assert_eq!(last_line("nogil-locked"), "hits = 10000 of 10000 (0 lost)");
    assert_ne!(last_line("nogil-unlocked"), "hits = 10000 of 10000 (0 lost)");
    let thrown = Simulation::new(&program, None, Some("nope".into())).err().expect("an unknown variant throws");
    assert!(text(&thrown, &["reason"]).contains("this experiment has: nogil-unlocked"));
    assert!(check_scenario(&program, Some("gil-locked".into())).is_ok());
    // A JSON scenario's own variants apply the same way.
    let json = preset_scenario("echo-blocking", None).unwrap();
    assert!(Simulation::new(&json, None, Some("deferred".into())).is_ok());
    assert!(check_scenario(&json, Some("nope".into())).is_err());
}

#[wasm_bindgen_test]
fn stacks_name_the_callback_and_its_deferred() {
    let mut sim = Simulation::new(&preset_program("deferred-errback").unwrap(), None, None).unwrap();
    sim.run();
    let positions = array(sim.positions().unwrap());
    let at = positions.iter().find(|p| text(p, &["func"]) == "recover").expect("recover ran");
    let stacks = array(sim.stacks(num(&at, &["i"]) as u32).unwrap());
    let reactor = stacks.iter().find(|s| num(s, &["thread"]) == 0.0).expect("the reactor thread's stack");
    let frames = array(get(&reactor, "frames"));
    assert_eq!(text(&frames.get(0), &["func"]), "recover");
    assert_eq!(text(&frames.get(0), &["role"]), "errback");
    assert!(num(&frames.get(0), &["deferred"]) >= 1.0);
}

#[wasm_bindgen_test]
fn explorer_finds_both_outcomes_and_a_schedule_replays_one() {
    let json = r#"{"threads": [{"name": "w", "count": 2, "steps": [{"read": "n"}, {"write": "n"}]}]}"#;
    let mut explorer = Explorer::new(json, None, 100.0, None).unwrap();
    while explorer.step(2) {}
    let report = explorer.report().unwrap();
    assert_eq!(num(&report, &["schedules"]), 6.0);
    assert_eq!(path(&report, &["complete"]).as_bool(), Some(true));
    let outcomes = array(get(&report, "outcomes"));
    let counts: Vec<(f64, f64)> =
        outcomes.iter().map(|o| (num(&o, &["counters", "n"]), num(&o, &["schedules"]))).collect();
    assert_eq!(counts, [(1.0, 4.0), (2.0, 2.0)]);
    // The lost update's example, replayed.
    let example = text(&outcomes.get(0), &["example"]);
    let mut sim = Simulation::with_schedule(json, None, &example).unwrap();
    sim.run();
    let counters = array(get(&sim.metrics().unwrap(), "counters"));
    assert_eq!(num(&counters.get(0), &["value"]), 1.0);
    assert!(Simulation::with_schedule(json, None, "n/x").is_err());
}

/// `str.upper()` and `str.lower()` map non-ASCII text through the JS engine
/// in the browser (`python/case.rs`, to keep std's case tables out of the
/// module): the result is std's mapping, as natively.
#[wasm_bindgen_test]
fn str_case_methods_map_non_ascii_text_as_std_does() {
    let words = ["straße", "ΌΣΟΣ Σ", "ǆemal Ǆ ǅ", "İstanbul", "ﬃ ŉ ΐ"];
    let source: String = words.iter().map(|w| format!("print({w:?}.upper())\nprint({w:?}.lower())\n")).collect();
    let expected: Vec<String> = words.iter().flat_map(|w| [w.to_uppercase(), w.to_lowercase()]).collect();
    assert_eq!(common::printed("case.py", &source), expected);
}

/// `float(text)` reads numbers with the JS engine in the browser
/// (`python/text.rs`, to keep std's float-parsing tables out of the module):
/// the same value, to the bit, as `str::parse::<f64>`, and the same
/// strings refused.
#[wasm_bindgen_test]
fn float_parsing_agrees_with_std() {
    let mut cases: Vec<String> = [
        "0",
        "-0",
        "+1.5",
        "1.",
        ".5",
        "1.e5",
        "00012",
        "1E-5",
        "-1e+400",
        "1e-400",
        "inf",
        "-Infinity",
        "NaN",
        "+nan",
        "9007199254740993",
        "2.2250738585072011e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "0.1",
        "123456789012345678901234567890",
        "",
        ".",
        "e5",
        ".e5",
        "1e",
        "1e+",
        "1.2.3",
        "0x10",
        "1_0",
        "+-1",
        "Infinity",
        "infinit",
        "1 ",
        "١",
    ]
    .map(String::from)
    .to_vec();
    // Halfway between two doubles, then just above: 2^53 + 1 with 800 more digits.
    cases.push(format!("9007199254740993.{}", "0".repeat(800)));
    cases.push(format!("9007199254740993.{}1", "0".repeat(800)));
    // Pseudo-random decimals: up to 25 digits, a point anywhere, exponents over the whole range.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..3000 {
        let digits: String = (0..1 + next(25)).map(|_| char::from(b'0' + next(10) as u8)).collect();
        let point = next(digits.len() as u64 + 1) as usize;
        let exponent = next(700) as i64 - 350;
        cases.push(format!("{}.{}e{exponent}", &digits[..point], &digits[point..]));
    }
    for text in &cases {
        let ours = twine_web::python::text::parse_float(text);
        let std = text.parse::<f64>().ok();
        let same = match (ours, std) {
            (Some(a), Some(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (a, b) => a.is_none() && b.is_none(),
        };
        assert!(same, "{text:?}: ours {ours:?}, std {std:?}");
    }
}

/// `math.exp`, `math.log`, `math.log10`, `math.log2` and a float's `**`
/// print CPython's digits in the browser too, where Rust's own `exp`, `ln`,
/// `log10`, `log2` and `powf` are not glibc's (the first line was
/// 2.7182818284590455 here; each `**`, `log10` and `log2` below was one
/// place off in Rust's libm). Expected: python3 3.11.7 on the harness's
/// machine, the same program.
#[wasm_bindgen_test]
fn math_exp_logs_and_pow_print_cpythons_digits() {
    let program = "import math\n\
        for x in [1.0, -1.7607535468122606, -0.6436535374576735, -3.6512983085397472, 621.6650800172827, -672.4148137220404, 10.0]:\n    print(repr(math.exp(x)))\n\
        for x in [0.9757391439001923, 1.0407402159773262, 0.1, 1e-300, 5e-324, 123456.789]:\n    print(repr(math.log(x)), repr(math.log(x, 10)))\n\
        for x, y in [(6.576, -5.697), (0.304, 8.244), (5.511, 7.391), (3.221, -0.253), (5.649, -0.16), (3.873, 3.847)]:\n    print(repr(x ** y))\n\
        for x in [238.957, 305.789, 789.928, 978.82]:\n    print(repr(math.log10(x)))\n\
        for x in [863.788, 82.182, 419.699]:\n    print(repr(math.log2(x)))\n";
    let mut sim = Simulation::new(program, None, None).unwrap();
    sim.run();
    let output = array(get(&sim.metrics().unwrap(), "output"));
    let lines: Vec<String> = output.iter().map(|line| text(&line, &["text"])).collect();
    assert_eq!(
        lines,
        [
            "2.718281828459045",
            "0.17191526879844207",
            "0.5253694563768933",
            "0.025957406170216458",
            "9.676400683101581e+269",
            "9.417960193904929e-293",
            "22026.465794806718",
            "-0.02455999888626032 -0.010666271991852867",
            "0.03993220611416946 0.01734233676560709",
            "-2.3025850929940455 -0.9999999999999998",
            "-690.7755278982137 -299.99999999999994",
            "-744.4400719213812 -323.30621534311575",
            "11.723646487185881 5.09151497716927",
            "2.1881223370963564e-05",
            "5.455189270778159e-05",
            "300908.1619617759",
            "0.7438379751524143",
            "0.7580267784942899",
            "182.9021122240948",
            "2.3783197572541557",
            "2.4854218586916557",
            "2.8975875082173914",
            "2.9907028346079283",
            "9.754533464109954",
            "6.360750535577547",
            "8.713211215550944",
        ]
    );
}
