//! The browser API (wasm-bindgen), a thin layer over [`Simulation`].
//!
//! ```js
//! import init, { Simulation, programs, presetProgram, presets, presetScenario, checkScenario } from './pkg/twine_web.js';
//! await init();
//! const list = programs();                   // the Python presets: [{name, title, explanation, variants: [{name, title}]}]
//! const py = presetProgram('echo-blocking'); // its program's text
//! const sim = new Simulation(py, 7, 'deferred'); // throws Error {name: 'ScenarioError', field, message, line?, col?}
//! const ex = new Explorer(py, 'deferred', 2000); // every schedule; ex.step(10) runs ten more, false when done
//! const found = ex.report();                 // {schedules, outcomes: [{counters, end, schedules, example, ...}], complete}
//! Simulation.withSchedule(py, 'deferred', found.outcomes[0].example); // replays that schedule
//! const played = Simulation.playing(py, undefined, 'hits/1.2'); // follows the picks, stops at the next choice
//! played.run(); played.play();               // {schedule, pending: {t_ms, options: [{thread, name, line, op}]} | null, end, misfit}
//! presets();                                 // the JSON presets, for old links: the same shape
//! const json = presetScenario('echo-blocking', 'deferred');
//! sim.step(100);                             // runs until 100 more events are visible
//! const evs = sim.events(0);                 // [{t, kind, ...}] (t in nanoseconds)
//! const cols = sim.takeColumns();            // the same in typed arrays: {n, first, t, kind, thread, ...}; next time, only newer ones
//! sim.seek(250);                             // milliseconds; backwards replays from the start
//! sim.queues();                              // {t_ms, reactor: {inbox, due_timers, ...}, pool, threads, ...}
//! sim.run();
//! sim.metrics();                             // {requests: {p50_ms, ...}, reactor, pool, cores, gil, ...}
//! sim.stacks(12);                            // at event 12: [{thread, frames: [{func, line, role?, deferred?}]}]
//! // Without the parser (the light module), programs compiled ahead of time still run:
//! const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
//! addCompiled(await bytes('pkg/presets.compiled.bin'));   // the lists (programs() then has every preset)
//! addCompiled(await bytes('pkg/presets/echo-blocking.bin')); // a preset's program (presetProgram then has it); returns how many
//! isPrecompiled(py);                         // true: `new Simulation(py, ...)` needs no parser
//! ```
//!
//! Objects are built from JSON with `JSON.parse`, which is fast for large
//! event lists; the `*Json` variants return the text itself.

use js_sys::{Error, Reflect, JSON};
use wasm_bindgen::prelude::*;

use crate::presets::{self, PresetInfo};
use crate::python::CompileError;
use crate::scenario::{PythonScenario, Scenario, ScenarioError};
use crate::Simulation;

/// A JavaScript `Error` named `ScenarioError` whose `field` is the failing
/// field's path (empty when the JSON itself is broken).
fn scenario_error(e: &ScenarioError) -> JsValue {
    let err = Error::new(&e.to_string());
    err.set_name("ScenarioError");
    let _ = Reflect::set(&err, &JsValue::from_str("field"), &JsValue::from_str(&e.field));
    let _ = Reflect::set(&err, &JsValue::from_str("reason"), &JsValue::from_str(&e.message));
    err.into()
}

/// A JavaScript `Error` named `ScenarioError` for a Python program the
/// compiler refused: no field, and the `line` and `col` (from 1) it is at.
fn python_error(e: &CompileError) -> JsValue {
    let err = Error::new(&e.to_string());
    err.set_name("ScenarioError");
    let set = |key: &str, value: JsValue| drop(Reflect::set(&err, &JsValue::from_str(key), &value));
    set("field", JsValue::from_str(""));
    set("reason", JsValue::from_str(&e.message));
    set("line", JsValue::from_f64(e.line.into()));
    set("col", JsValue::from_f64(e.col.into()));
    err.into()
}

/// The name a program typed in the page goes by in its error messages.
const PAGE_FILE: &str = "experiment.py";

/// A scenario from the page's text: JSON when it starts like JSON (an object
/// or an array, which the JSON reader refuses by name), otherwise a Python
/// program; run as its `variant` when one is named (a JSON scenario's own
/// `variants`, a program's `twine.variant(...)` names).
fn load(text: &str, variant: Option<&str>) -> Result<Scenario, JsValue> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        // Without the `python` feature this refuses at once (and the parser is left out).
        return Scenario::from_python_variant(PAGE_FILE, text, variant).map_err(|e| python_error(&e));
    }
    // Without the `lab` feature (the light module) JSON scenarios are refused
    // here, which leaves their reader, checks and error paths out.
    if !cfg!(feature = "lab") {
        let message = "this module runs the preset programs only: JSON scenarios need the full module (pkg/py/)";
        return Err(scenario_error(&ScenarioError::new("", message.to_owned())));
    }
    let Some(variant) = variant else { return Scenario::from_json(text).map_err(|e| scenario_error(&e)) };
    let mut doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| scenario_error(&ScenarioError::new("", e.to_string())))?;
    if presets::apply_variant(&mut doc, variant).is_none() {
        let message = format!("the scenario has no variant `{variant}`");
        return Err(scenario_error(&ScenarioError::new("variant", message)));
    }
    Scenario::from_json(&doc.to_string()).map_err(|e| scenario_error(&e))
}

fn parse(json: &str) -> Result<JsValue, JsValue> {
    JSON::parse(json)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// An exploration of a program's schedules (see `twine_web::explore`),
/// run a few schedules at a time so the page can show its progress.
#[cfg(feature = "lab")]
#[wasm_bindgen(js_name = Explorer)]
pub struct WasmExplorer {
    explorer: crate::explore::Explorer,
}

#[cfg(feature = "lab")]
#[wasm_bindgen(js_class = Explorer)]
impl WasmExplorer {
    /// Every schedule of the program's visible operations (at most
    /// `max_schedules`; past that, one per class of orders of commuting
    /// operations, `reduced` in the report), or `seeds` seeds when given. Throws a
    /// `ScenarioError` as `new Simulation` does.
    #[wasm_bindgen(constructor)]
    pub fn new(
        scenario_json: &str,
        variant: Option<String>,
        max_schedules: f64,
        seeds: Option<f64>,
    ) -> Result<WasmExplorer, JsValue> {
        use crate::explore::{Explorer, How};
        let scenario = load(scenario_json, variant.as_deref())?;
        let how = seeds.map_or(How::Exhaustive, |k| How::Seeds(k.max(1.0) as u64));
        let explorer =
            Explorer::new(&scenario, how, max_schedules.max(1.0) as u64).map_err(|e| JsValue::from(Error::new(&e)))?;
        Ok(WasmExplorer { explorer })
    }

    /// Runs up to `schedules` more; false once there are no more to run.
    pub fn step(&mut self, schedules: u32) -> bool {
        self.explorer.step(schedules.into())
    }

    /// `{schedules, outcomes: [{counters, output_digest, end, schedules,
    /// example, output}], complete, reduced, pruned}`: what it has found so far.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        parse(&to_json(&self.explorer.report()))
    }
}

/// A simulation of one scenario with one seed, for the page.
#[wasm_bindgen(js_name = Simulation)]
pub struct WasmSimulation {
    sim: Simulation,
    /// Set when playing the scheduler ([`WasmSimulation::playing`]).
    #[cfg(feature = "lab")]
    player: Option<crate::explore::Player>,
    /// What [`take_columns`](Self::take_columns) has handed over so far.
    columns: crate::columns::ColumnStream,
}

impl WasmSimulation {
    fn of(sim: Simulation) -> WasmSimulation {
        #[cfg(feature = "lab")]
        return WasmSimulation { sim, player: None, columns: Default::default() };
        #[cfg(not(feature = "lab"))]
        WasmSimulation { sim, columns: Default::default() }
    }
}

#[wasm_bindgen(js_class = Simulation)]
impl WasmSimulation {
    /// Loads a scenario: JSON text, or a Python program, as its `variant`
    /// if one is named; `seed` overrides the scenario's. Throws a
    /// `ScenarioError` naming the field at fault (JSON) or the line and
    /// column (Python).
    #[wasm_bindgen(constructor)]
    pub fn new(scenario_json: &str, seed: Option<f64>, variant: Option<String>) -> Result<WasmSimulation, JsValue> {
        let scenario = load(scenario_json, variant.as_deref())?;
        let seed = seed.map(|s| s.max(0.0) as u64);
        Ok(WasmSimulation::of(Simulation::new(&scenario, seed)))
    }

    #[cfg(feature = "lab")]
    /// Loads a scenario as [`WasmSimulation::new`] does, to follow
    /// `schedule` (an outcome's `example` from [`explore`]) instead of a seed.
    #[wasm_bindgen(js_name = withSchedule)]
    pub fn with_schedule(
        scenario_json: &str,
        variant: Option<String>,
        schedule: &str,
    ) -> Result<WasmSimulation, JsValue> {
        let scenario = load(scenario_json, variant.as_deref())?;
        let replay = crate::explore::replay(&scenario, schedule).map_err(|e| JsValue::from(Error::new(&e)))?;
        Ok(WasmSimulation::of(replay.sim))
    }

    #[cfg(feature = "lab")]
    /// Loads a scenario as [`WasmSimulation::new`] does, to play the
    /// scheduler: it follows `schedule` (empty to start afresh, or what
    /// [`play`](Self::play) returned, one pick added) and stops before
    /// the next choice of which thread goes next.
    pub fn playing(scenario_json: &str, variant: Option<String>, schedule: &str) -> Result<WasmSimulation, JsValue> {
        let scenario = load(scenario_json, variant.as_deref())?;
        let (sim, player) = crate::explore::play(&scenario, schedule).map_err(|e| JsValue::from(Error::new(&e)))?;
        Ok(WasmSimulation { sim, player: Some(player), columns: Default::default() })
    }

    #[cfg(feature = "lab")]
    /// Playing: runs up to the choice and says where the run stands:
    /// `{schedule, pending: {t_ms, options: [{thread, name, line, op}]} |
    /// null, end, misfit}`; `undefined` for a simulation not made by
    /// [`playing`](Self::playing). Call it before any backward seek.
    pub fn play(&mut self) -> Result<JsValue, JsValue> {
        let Some(player) = &self.player else { return Ok(JsValue::UNDEFINED) };
        self.sim.run();
        parse(&to_json(&player.state(&self.sim)))
    }

    /// Runs to the end. Returns the number of visible events.
    pub fn run(&mut self) -> u32 {
        self.sim.run();
        self.sim.event_count() as u32
    }

    /// Runs until at least `events` more events are visible (or the end).
    /// Returns how many became visible.
    pub fn step(&mut self, events: u32) -> u32 {
        self.sim.step_events(events as usize) as u32
    }

    /// Takes `actions` scheduler actions (or fewer at the end). Returns how
    /// many were taken.
    #[wasm_bindgen(js_name = stepActions)]
    pub fn step_actions(&mut self, actions: u32) -> u32 {
        let mut n = 0;
        while n < actions && self.sim.step() {
            n += 1;
        }
        n
    }

    /// Moves to `t_ms` milliseconds of virtual time; backwards replays from
    /// the start (same seed, same run).
    pub fn seek(&mut self, t_ms: f64) {
        // Float-to-int casts saturate: NaN seeks to 0, Infinity to the end.
        self.sim.seek(twine_core::Time::from_nanos((t_ms.max(0.0) * 1e6).round() as u64));
    }

    /// The virtual time, in milliseconds.
    #[wasm_bindgen(getter, js_name = nowMs)]
    pub fn now_ms(&self) -> f64 {
        crate::metrics::t_ms(self.sim.now())
    }

    /// Whether the run has ended.
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.sim.is_finished()
    }

    /// Why it ended (`stopped`, `quiet`, `deadlock`, `duration`,
    /// `event_limit`), or `undefined` while running.
    #[wasm_bindgen(getter, js_name = endReason)]
    pub fn end_reason(&self) -> Option<String> {
        self.sim.end_reason().map(|r| r.as_str().to_owned())
    }

    /// The uncaught exception that ended a Python program, as
    /// `experiment.py:LINE:COL: ValueError: ...` and then CPython's
    /// traceback; `undefined` while there is none.
    #[wasm_bindgen(getter, js_name = pythonError)]
    pub fn python_error(&self) -> Option<String> {
        self.sim.python_error()
    }

    /// Visible events so far.
    #[wasm_bindgen(getter, js_name = eventCount)]
    pub fn event_count(&self) -> u32 {
        self.sim.event_count() as u32
    }

    /// The seed in use.
    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.sim.seed() as f64
    }

    /// Events from index `cursor` on (at most `max`), as objects
    /// `{t, kind, ...}` with `t` in nanoseconds.
    pub fn events(&self, cursor: u32, max: Option<u32>) -> Result<JsValue, JsValue> {
        parse(&self.events_json(cursor, max))
    }

    /// The events made visible since the last call (all of them the first
    /// time) in columns, for the timeline: `{n, first, firstString, t:
    /// Float64Array, kind: Uint8Array, thread: Uint32Array, a: Float64Array,
    /// id: Uint32Array, id2: Uint32Array, text: Int32Array, line:
    /// Uint32Array, func: Int32Array, srcThread: Uint32Array, strings,
    /// kinds, callSources}` (see `twine_web::columns`: `strings` holds only
    /// the strings new in this slice, numbered from `firstString`), far
    /// cheaper than [`events`](Self::events) for a long run; whole events by
    /// index come from `events`. Called between steps, it streams a run as
    /// it is simulated.
    #[wasm_bindgen(js_name = takeColumns)]
    pub fn take_columns(&mut self) -> JsValue {
        columns_object(&self.columns.take(&self.sim))
    }

    /// [`events`](Self::events) as JSON text.
    #[wasm_bindgen(js_name = eventsJson)]
    pub fn events_json(&self, cursor: u32, max: Option<u32>) -> String {
        self.sim.events_json(cursor as usize, max.map_or(usize::MAX, |m| m as usize))
    }

    /// The metrics so far (final once finished).
    pub fn metrics(&self) -> Result<JsValue, JsValue> {
        parse(&self.metrics_json())
    }

    /// [`metrics`](Self::metrics) as JSON text.
    #[wasm_bindgen(js_name = metricsJson)]
    pub fn metrics_json(&self) -> String {
        to_json(&self.sim.metrics())
    }

    /// The queues at the current time: the reactor's inbox, due timers and
    /// pending I/O, the pool's queue, every thread's state, cores, GIL, locks.
    pub fn queues(&self) -> Result<JsValue, JsValue> {
        parse(&self.queues_json())
    }

    /// [`queues`](Self::queues) as JSON text.
    #[wasm_bindgen(js_name = queuesJson)]
    pub fn queues_json(&self) -> String {
        to_json(&self.sim.queues())
    }

    /// Where in the Python program the visible events came from:
    /// `[{i, thread, line, func}]` by event index, in order (events with no
    /// Python source have none).
    pub fn positions(&self) -> Result<JsValue, JsValue> {
        parse(&self.sim.positions_json())
    }

    /// What each thread of a Python program is in at event `index`: `[{thread,
    /// frames: [{func, line, role?, deferred?}]}]`, outermost frame first,
    /// `role` (`callback` or `errback`) and `deferred` (its number in the
    /// trace) on a function a Deferred called. Threads whose Python code had
    /// ended by then are left out; empty for a JSON scenario.
    pub fn stacks(&self, index: u32) -> Result<JsValue, JsValue> {
        parse(&self.sim.python_stacks_json(index as usize))
    }

    #[cfg(feature = "lab")]
    /// The visible trace in Chrome Trace Event Format (opens in Perfetto).
    #[wasm_bindgen(js_name = chromeTrace)]
    pub fn chrome_trace(&self) -> String {
        self.sim.chrome_trace().to_string()
    }

    #[cfg(feature = "lab")]
    /// The visible trace as JSON lines, after a header line.
    pub fn jsonl(&self) -> String {
        self.sim.jsonl()
    }
}

/// [`EventColumns`](crate::columns::EventColumns) as a JS object of typed
/// arrays (copies, so they outlive the simulation and can be transferred
/// to another thread).
fn columns_object(cols: &crate::columns::EventColumns) -> JsValue {
    use js_sys::{Array, Float64Array, Int32Array, Object, Uint32Array, Uint8Array};
    let obj = Object::new();
    let set = |key: &str, value: &JsValue| drop(Reflect::set(&obj, &JsValue::from_str(key), value));
    let strings = |list: &mut dyn Iterator<Item = &str>| list.map(JsValue::from_str).collect::<Array>();
    set("n", &JsValue::from_f64(cols.len() as f64));
    set("first", &JsValue::from_f64(cols.first as f64));
    set("firstString", &JsValue::from_f64(cols.first_string as f64));
    set("t", &Float64Array::from(&cols.t[..]));
    set("kind", &Uint8Array::from(&cols.kind[..]));
    set("thread", &Uint32Array::from(&cols.thread[..]));
    set("a", &Float64Array::from(&cols.a[..]));
    set("id", &Uint32Array::from(&cols.id[..]));
    set("id2", &Uint32Array::from(&cols.id2[..]));
    set("text", &Int32Array::from(&cols.text[..]));
    set("line", &Uint32Array::from(&cols.line[..]));
    set("func", &Int32Array::from(&cols.func[..]));
    set("srcThread", &Uint32Array::from(&cols.src_thread[..]));
    set("strings", &strings(&mut cols.strings.iter().map(String::as_str)));
    set("kinds", &strings(&mut crate::columns::EventColumns::KINDS.iter().copied()));
    set("callSources", &strings(&mut crate::columns::EventColumns::CALL_SOURCES.iter().copied()));
    obj.into()
}

/// The presets: `[{name, title, explanation, variants: [{name, title, explanation}]}]`.
pub fn preset_list() -> Vec<PresetInfo> {
    presets::all().iter().map(|p| p.info()).collect()
}

/// The presets, as objects. The light module cannot read their JSON: it
/// lists what [`add_compiled`]'s file carried (titles and variants, without
/// explanations: the page shows a JSON preset in the full module).
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsValue> {
    #[cfg(feature = "lab")]
    let list = preset_list();
    #[cfg(not(feature = "lab"))]
    let list = crate::python::precompiled::json_presets();
    parse(&to_json(&list))
}

/// A preset's scenario JSON, or one of its variants' (the full module's
/// only). Throws a `ScenarioError` (field `preset` or `variant`) for
/// unknown names.
#[cfg(feature = "lab")]
#[wasm_bindgen(js_name = presetScenario)]
pub fn preset_scenario(name: &str, variant: Option<String>) -> Result<String, JsValue> {
    let preset = presets::find(name)
        .ok_or_else(|| scenario_error(&ScenarioError::new("preset", format!("no preset named `{name}`"))))?;
    preset.scenario_json(variant.as_deref()).map_err(|e| scenario_error(&e))
}

#[cfg(feature = "lab")]
/// Runs the scenario (or its `variant`) with `seed` to its end and returns
/// its headline figures `{seed, end, lost_updates, p99_ms, last_line_ms,
/// time_ms}`, as `twine-sim explore --seeds K` lists them per seed. Throws
/// a `ScenarioError` as `new Simulation` does.
#[wasm_bindgen(js_name = seedFigures)]
pub fn seed_figures(scenario_json: &str, variant: Option<String>, seed: f64) -> Result<JsValue, JsValue> {
    let scenario = load(scenario_json, variant.as_deref())?;
    parse(&to_json(&crate::explore::seed_figures(&scenario, seed.max(0.0) as u64)))
}

/// Checks a scenario (JSON or Python), as its `variant` if one is named,
/// without running it. Throws a `ScenarioError` naming the field, or the
/// line and column, at fault.
#[wasm_bindgen(js_name = checkScenario)]
pub fn check_scenario(scenario_json: &str, variant: Option<String>) -> Result<(), JsValue> {
    load(scenario_json, variant.as_deref()).map(drop)
}

/// The Python presets (`www/presets/*.py`), the page's experiments: `[{name,
/// title, explanation, variants: [{name, title}]}]`, from each program's
/// docstring and `twine.variant(...)`. The light module (no `python`) has
/// no copy of their texts (a copy in the module was 3 KB of its brotli): it
/// gives the list [`add_compiled`]'s list file carried, made natively, so
/// every preset is listed before its own compiled file arrives.
pub fn program_list() -> Vec<PresetInfo> {
    #[cfg(feature = "python")]
    return presets::all().iter().map(|p| p.program_info()).collect();
    #[cfg(not(feature = "python"))]
    crate::python::precompiled::program_presets()
}

/// [`program_list`], as objects.
#[wasm_bindgen]
pub fn programs() -> Result<JsValue, JsValue> {
    parse(&to_json(&program_list()))
}

/// A Python preset's program text (its variants are run, not written in:
/// pass one to `new Simulation`). Throws a `ScenarioError` (field `preset`)
/// for an unknown name, and in the light module for a preset whose compiled
/// file was not given to [`add_compiled`] yet.
#[wasm_bindgen(js_name = presetProgram)]
pub fn preset_program(name: &str) -> Result<String, JsValue> {
    #[cfg(feature = "python")]
    let source = presets::find(name).map(|p| p.python.to_owned());
    #[cfg(not(feature = "python"))]
    let source = crate::python::precompiled::presets().into_iter().find(|(n, _)| n == name).map(|(_, s)| s);
    source.ok_or_else(|| scenario_error(&ScenarioError::new("preset", format!("no preset named `{name}`"))))
}

/// The variants a program's `twine.variant(...)` offers: `[{name, title}]`
/// (none for a program without, or one that does not parse).
#[wasm_bindgen(js_name = programVariants)]
pub fn program_variants(source: &str) -> Result<JsValue, JsValue> {
    // A struct, not `json!`: serde_json's `Value` and its map (a BTreeMap)
    // are otherwise not in the light module.
    #[derive(serde::Serialize)]
    struct Variant {
        name: String,
        title: String,
    }
    let list: Vec<Variant> =
        crate::python::variants(source).into_iter().map(|(name, title)| Variant { name, title }).collect();
    parse(&to_json(&list))
}

/// Registers programs compiled ahead of time (`twine-precompile`'s file,
/// as bytes): their exact texts then load, check and list their variants
/// without the Python parser, so the light module runs them. Returns how
/// many it registered; throws an `Error` for bytes that are not such a file.
#[wasm_bindgen(js_name = addCompiled)]
pub fn add_compiled(file: &[u8]) -> Result<u32, JsValue> {
    crate::python::precompiled::register(file).map(|n| n as u32).map_err(|e| Error::new(&e).into())
}

/// Whether `source` is a program [`add_compiled`] registered (it runs
/// without the parser).
#[wasm_bindgen(js_name = isPrecompiled)]
pub fn is_precompiled(source: &str) -> bool {
    crate::python::precompiled::is_registered(source)
}
