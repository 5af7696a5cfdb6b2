// The playground: pick an experiment, edit it, run it in the wasm
// simulation, and watch it on the timeline with its queues, output and
// metrics; compare two variants; or watch the real server live.

import { ScenarioEditor } from './editor.js';
import { readHash, buildUrl, encodeScenario, decodeScenario, download } from './share.js';
import { setIn } from './jsontext.js';
import { fmtMs, escapeHtml, trim } from './format.js';
import { Knobs } from './knobs.js';
import { fillPicker, describeSpec, presetJson, JSON_PREFIX } from './presets.js';
import { setProgramKnob } from './program-knobs.js';
import { registerModule, addCompiled, warmUp, giveColdHalf } from './sim-client.js';
import { attachColdHalf, compileColdHalf } from './cold-half.js';

const $ = (sel) => document.querySelector(sel);

/** Virtual milliseconds per wall second. */
const SPEEDS = [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 50, 200, 1000, 5000, 20000];

const app = {
  wasm: null,
  programs: [], // the Python presets, the page's experiments
  presets: [], // the JSON step scenarios, for old links and Compare
  spec: '', // the picker's value: `name`, `name/variant`, `json:name[/variant]`
  variant: undefined, // the variant a Python program runs as (its twine.variant(...) returns it)
  presetJson: '', // the preset's text as loaded, to tell edits apart
  seed: 1,
  run: null, // {sim, metrics, model, durationMs, json, seed, id}
  cursor: null, // where the run's cursor in the worker last was: {eventCount, nowMs, atEnd, queues}
  playhead: 0,
  playing: false,
  speed: 50,
  runs: 0,
  warm: false, // a run happened: later changes run at once
  view: 'experiment',
  challenge: null, // the challenge (play.js) whose program was loaded, if one was
};

function setStatus(state) {
  document.body.dataset.state = state;
}

function toast(text) {
  const el = $('#toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 2200);
}

/**
 * A part of the page the first Run does not need (Compare, the live server,
 * Run on this server, explore, seeds, the scheduler): its module is a chunk
 * of the bundle, fetched the first time it is used, with a word on screen if
 * that takes a moment. `later(load, what)` is the function that resolves to
 * the module, loading it once (again after a failure).
 */
function later(load, what) {
  let module = null;
  return () => {
    module ??= (async () => {
      const slow = setTimeout(() => toast(`Loading ${what}…`), 300);
      try {
        return await load();
      } catch (e) {
        module = null;
        toast(`${what} did not load: ${e.message}`);
        throw e;
      } finally {
        clearTimeout(slow);
      }
    })();
    return module;
  };
}
const compareModule = later(() => import('./compare.js'), 'Compare');
const liveModule = later(() => import('./live.js'), 'the live server view');
const onServerModule = later(() => import('./onserver.js'), 'Run on this server');
const exploreModule = later(() => import('./explore.js'), 'Explore');
const sweepModule = later(() => import('./sweep.js'), 'Seeds');
const playModule = later(() => import('./play.js'), 'the scheduler');
/**
 * What shows a run (views.js): fetched right after boot, not before Run is
 * possible; `views()` resolves once it is there and the page's timeline,
 * log, output and stacks are made (run() waits for it before it shows one).
 */
const viewsModule = later(() => import('./views.js'), 'the run views');
/**
 * What runs a scenario and builds its timeline model (runner.js, with
 * trace-model.js and lists.js): fetched right after boot with the views,
 * not before Run is possible; a Run clicked before it is here waits for it.
 */
const runnerModule = later(() => import('./runner.js'), 'the simulation runner');
let viewsMade = null;
function views() {
  viewsMade ??= viewsModule().then(makeViews, (e) => {
    viewsMade = null; // a later run tries again
    throw e;
  });
  return viewsMade;
}

// ---------------------------------------------------------------- presets

function showExplanation(spec, edited) {
  const d = describeSpec(spec, app.programs, app.presets);
  $('#title').textContent = d ? d.preset.title : 'Your scenario';
  $('#variant-title').textContent = d?.variantInfo ? d.variantInfo.title : '';
  $('#variant-title').hidden = !d?.variantInfo;
  const text = !d
    ? 'A scenario of its own, not one of the presets: its JSON is below. Run it, or pick a preset above (Reset goes back to the one shown there).'
    : d.variantInfo?.explanation
      ? `${d.preset.explanation}\n\n${d.variantInfo.explanation}`
      : d.preset.explanation || '';
  showParagraphs(text.split('\n\n'));
  $('#edited').hidden = !edited;
}

function showParagraphs(paragraphs) {
  $('#explanation').innerHTML = paragraphs
    .map((para) => `<p>${escapeHtml(para).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('');
}

/**
 * A Python program's docstring: its first line is the title, the rest the
 * explanation, so a program of your own keeps its own story.
 */
function docstringOf(text) {
  const m = /^(?:\s*#[^\n]*\n|\s*\n)*\s*[rRuU]?("""|\'\'\')([\s\S]*?)\1/.exec(text);
  if (!m) return null;
  const [title, ...rest] = m[2].trim().split('\n');
  return { title: title.trim(), explanation: rest.join('\n').trim().replace(/\n(?!\n)/g, ' ') };
}

const isPython = (text) => !/^\s*[{[]/.test(text);

/**
 * Whether the module in use can run `text`: the full module runs
 * everything; the light one only the preset programs as they were compiled
 * at build time (pkg/presets.compiled.bin), not an edit of them nor a JSON
 * scenario.
 */
const canRun = (text) => app.wasmIsFull || (isPython(text) && app.wasm.isPrecompiled(text));

/**
 * The module that can run `text` (and, with `lab`, do more than run it:
 * explore, play the scheduler, replay a schedule, sweep seeds, export).
 * The page starts with the light module (no Python parser, nothing but
 * runs of the presets compiled ahead of time), so Run works before the
 * rest arrives; the full module (pkg/py/, the same simulation with the
 * Python compiler, JSON scenarios and those tools, about twice the size) is
 * fetched once the user sets about editing or asks for one of them, and
 * serves everything from then on.
 */
let fullModule = null;
async function wasmFor(text, { lab = false } = {}) {
  if (canRun(text) && (!lab || app.wasmIsFull)) return app.wasm;
  const arriving = !app.wasmIsFull;
  if (arriving) toast('Loading the full simulation module (the Python compiler, JSON scenarios, explore, exports)…');
  fetchFullModule();
  try {
    app.wasm = await fullModule;
  } catch (e) {
    fullModule = null;
    throw new Error(`the full module did not load (pkg/py/, built by cargo xtask): ${e.message}`);
  }
  if (!app.wasmIsFull) {
    app.wasmIsFull = true;
    // The light module's list of the JSON presets has no explanations (it
    // cannot read them): the full module's has.
    app.programs = app.wasm.programs();
    app.presets = app.wasm.presets();
    fillPicker($('#preset'), app.programs, app.presets);
  }
  return app.wasm;
}

/**
 * Loads the wasm module at `path` on the page (checks, variants, the preset
 * texts) and registers it with the simulation worker, which loads its own
 * copy to run scenarios in; the light one is given `compiled`, files of
 * what was compiled at build time (promises of their bytes, undefined for
 * one that did not load), in both places.
 */
async function loadModule(path, { compiled = [] } = {}) {
  const m = await import(path);
  const cold = new URL(path.replace(/twine_web\.js$/, 'twine_web_cold.wasm'), import.meta.url);
  const link = attachColdHalf(await m.default(), cold);
  if (link) coldHalves.set(m, { link, url: cold });
  const files = (await Promise.all(compiled)).filter(Boolean);
  for (const file of files) m.addCompiled(file);
  registerModule(m, new URL(path, import.meta.url).href, files);
  return m;
}

/** Starts loading the full module, once; `wasmFor` waits for it when a program needs it. */
function fetchFullModule() {
  if (fullModule) return;
  fullModule = loadModule('../pkg/py/twine_web.js');
  // A failure is reported when a program needs the module (wasmFor), not before.
  fullModule.catch(() => {});
}

/**
 * A file twine-precompile wrote into pkg/ (the light module runs the
 * presets without the parser from them): presets.compiled.bin lists the
 * presets and holds the library's parts written in Python, and
 * presets/NAME.bin each preset's program. Resolves to its bytes, or
 * undefined when it is not there (the full module then compiles what it
 * held).
 */
async function compiledFile(name) {
  try {
    const res = await fetch(new URL(`../pkg/${name}`, import.meta.url));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    console.warn(`pkg/${name} did not load, so what it holds waits for the full module: ${e.message}`);
    return undefined;
  }
}

/** The light module, when the page started on it. */
let lightModule = null;
/** A split module (the light one) -> {link, url} of its cold half (cold-half.js). */
const coldHalves = new Map();

/**
 * The light module's cold half, fetched once Run is possible and linked
 * into the page's instance and the worker's (a moved function called
 * before it is here fetches it at once).
 */
function fetchColdHalf(wasm) {
  const half = coldHalves.get(wasm);
  if (!half) return;
  compileColdHalf(half.url)
    .then((module) => {
      half.link(module);
      giveColdHalf(wasm, module);
    })
    .catch(() => {}); // the first moved function called fetches it again
}
/** Preset name -> a promise that its compiled program was given to the light module (page and worker). */
const compiledPresets = new Map();

/**
 * Gives the light module preset `name`'s compiled program, fetched once
 * (again after a failure). Before Run only the preset the page opens on
 * comes (boot); the others right after, or when one is picked before that.
 */
function compiledPreset(name) {
  let given = compiledPresets.get(name);
  if (!given) {
    given = compiledFile(`presets/${name}.bin`).then((file) => {
      if (!file) throw new Error(`the compiled program of ${name} did not load`);
      lightModule.addCompiled(file);
      addCompiled(lightModule, file);
    });
    given.catch(() => compiledPresets.delete(name));
    compiledPresets.set(name, given);
  }
  return given;
}

/** The preset the page opens on: the one a link names, else the default. */
function bootPreset() {
  const name = (readHash().program ?? DEFAULT_SPEC).split('/')[0];
  return /^[a-z0-9-]+$/.test(name) ? name : DEFAULT_SPEC.split('/')[0];
}

/**
 * A preset program's text, once the module in use can run it: the light
 * module waits for its compiled program (and for the full module if that
 * did not load).
 */
async function presetText(name) {
  if (!app.wasmIsFull) {
    try {
      await compiledPreset(name);
      // The light module lists a program's explanation once it has the program.
      if (!app.wasmIsFull) app.programs = app.wasm.programs();
    } catch (e) {
      console.warn(`${e.message}: the full module compiles it`);
      await wasmFor('{}');
    }
  }
  return app.wasm.presetProgram(name);
}

/** The variant a Python program runs as: the one picked, while the program still offers it. */
function variantFor(text) {
  if (!app.variant || !isPython(text) || !canRun(text)) return undefined;
  return app.wasm.programVariants(text).some((v) => v.name === app.variant) ? app.variant : undefined;
}

/** The title and story of a program typed in the page, from its docstring (and the variant it runs as). */
function showProgramStory(text) {
  const doc = docstringOf(text);
  $('#title').textContent = doc?.title || 'Your program';
  const variant = variantFor(text);
  const info = variant && app.wasm.programVariants(text).find((v) => v.name === variant);
  $('#variant-title').textContent = info ? info.title : '';
  $('#variant-title').hidden = !info;
  const explanation = doc?.explanation || 'A Python program of your own. Its docstring, when it has one, becomes this title and explanation.';
  showParagraphs(explanation.split(/\n\s*\n/));
}

/** Shows the knobs for `text`: a JSON scenario's fields or a program's settings. */
function syncKnobs(text, opts) {
  const python = isPython(text);
  $('#knobs').closest('.side-sec').classList.toggle('python', python);
  if (python) knobs.syncProgram(text, app.seed, opts);
  else {
    const doc = safeParse(text);
    if (doc) knobs.sync(doc, app.seed, opts);
  }
}

let loading = 0;
/**
 * Loads the preset a picker value names into the editor. Resolves to false
 * when another was asked for while this one's program was on its way (that
 * one is loaded instead).
 */
async function loadPreset(spec, { seed } = {}) {
  const ticket = ++loading;
  let d = describeSpec(spec, app.programs, app.presets);
  let text;
  if (d.json) {
    // A JSON scenario is the full module's to read.
    text = presetJson(await wasmFor('{}', { lab: true }), spec.slice(JSON_PREFIX.length));
  } else {
    text = await presetText(d.name);
    await wasmFor(text);
    spec = validSpec(spec) ?? spec;
    d = describeSpec(spec, app.programs, app.presets);
  }
  if (ticket !== loading) return false;
  app.spec = spec;
  app.challenge = null;
  playView?.hide();
  app.variant = d.json ? undefined : d.variant;
  app.presetJson = text;
  $('#preset').value = spec;
  editor.value = text;
  const doc = d.json ? safeParse(text) : null;
  app.seed = seed ?? (Number.isFinite(doc?.seed) ? doc.seed : 1);
  syncKnobs(text);
  showExplanation(spec, false);
  updateShare();
  return true;
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- editing

function checkEditor() {
  const json = editor.value;
  if (!canRun(json)) {
    // Checked again once the module that compiles Python is here.
    wasmFor(json).then(() => editor.value === json && checkEditor(), (e) => toast(e.message));
    return true;
  }
  try {
    app.wasm.checkScenario(json, variantFor(json));
    editor.clearError();
    knobs.setError(null);
    // A check that comes after a run of this very text must not hide the exception it raised.
    if (app.run?.json === json) showRaised(app.run.pythonError);
    return true;
  } catch (e) {
    if (e && e.name === 'ScenarioError') {
      editor.showError(e);
      knobs.setError(e.field);
      return false;
    }
    throw e;
  }
}

let checkTimer = 0;
function onEditorInput(text) {
  const edited = text !== app.presetJson;
  $('#edited').hidden = !edited;
  const python = isPython(text);
  // A program's docstring is its story; a preset as shipped tells its variant's too.
  if (python && edited) showProgramStory(text);
  else if (python) showExplanation(app.spec, false);
  syncKnobs(text, { keepSeed: true });
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => {
    checkEditor();
    updateShare();
  }, 200);
  $('#run-btn').classList.toggle('pulse', app.warm);
}

function onKnob(path, value) {
  if (path === 'seed' && isPython(editor.value)) {
    app.seed = value;
  } else if (isPython(editor.value)) {
    // A literal in the program's settings.
    const next = setProgramKnob(editor.value, path, value);
    if (next === null) {
      toast('The program no longer sets that: the knobs edit its twine.machine(...) and similar calls.');
      return;
    }
    editor.setValue(next, { keepScroll: true });
    $('#edited').hidden = next === app.presetJson;
  } else if (path === 'seed') {
    app.seed = value;
    const doc = safeParse(editor.value);
    // Keep a seed written in the scenario in step with the knob.
    if (doc && doc.seed !== undefined) {
      const next = setIn(editor.value, ['seed'], value);
      if (next !== null) editor.value = next;
    }
  } else {
    const next = setIn(editor.value, path, value);
    if (next === null) {
      toast('Fix the JSON first: the knobs edit it.');
      return;
    }
    editor.setValue(next, { keepScroll: true });
    $('#edited').hidden = next === app.presetJson;
  }
  const ok = checkEditor();
  updateShare();
  if (ok && app.warm) scheduleRun();
}

let runTimer = 0;
function scheduleRun() {
  clearTimeout(runTimer);
  runTimer = setTimeout(() => run({ autoplay: false, keepPlayhead: true }), 250);
}

// ---------------------------------------------------------------- running

function freeRun() {
  if (app.run) app.run.remote.free();
  app.run = null;
  app.cursor = null;
}

/** Counts runs started, so a run that a newer one superseded can tell. */
let runsStarted = 0;

function showProgress({ phase, events, nowMs }) {
  const what = phase === 'simulating' ? `simulating… ${fmtMs(nowMs, 3)} virtual` : 'building the timeline…';
  $('#run-info').textContent = `${what} · ${events.toLocaleString('en-US')} events`;
}

/**
 * Runs the editor's scenario to the end and shows it. Resolves to whether
 * it did: false for a scenario error or when a newer run took its place.
 */
async function run({ autoplay = true, keepPlayhead = false, at, schedule, scheduler = false } = {}) {
  if (!checkEditor()) {
    editor.revealError();
    toast('The scenario has an error: see the highlighted field.');
    return false;
  }
  pause();
  setStatus('running');
  // The newest Run wins from the moment it is clicked: one still waiting
  // for its module (the parser's, after an edit) supersedes an older run
  // that finishes meanwhile, which would otherwise show its stale result.
  const id = ++runsStarted;
  const superseded = () => id !== runsStarted;
  const json = editor.value;
  const runner = runnerModule();
  runner.catch(() => {}); // awaited below
  await wasmFor(json, { lab: Boolean(schedule) || scheduler });
  if (superseded()) return false;
  const seed = app.seed;
  const variant = variantFor(json);
  const prevT = app.playhead;
  // The views' chunk, if it is still on its way, loads while the run is simulated.
  const viewsLoaded = views();
  viewsLoaded.catch(() => {}); // awaited below
  let result;
  try {
    const { runToEnd } = await runner;
    result = await runToEnd(app.wasm, json, seed, { variant, schedule, play: scheduler, onProgress: showProgress, cancelled: superseded });
    await viewsLoaded;
  } catch (e) {
    if (superseded()) return false;
    setStatus('error');
    if (e?.name === 'ScenarioError') {
      editor.showError(e);
      return false;
    }
    throw e;
  }
  if (!result) return false; // a newer run took its place
  if (superseded()) {
    // One started while this one's result waited for its turn (a run that
    // never had to yield still resumes here a microtask later).
    result.remote.free();
    return false;
  }
  freeRun();
  app.runs += 1;
  app.run = { ...result, json, seed, variant, schedule, play: scheduler, id: app.runs };
  app.warm = true;
  $('#run-btn').classList.remove('pulse');
  $('#tl-empty').hidden = true;
  const { model, metrics } = app.run;
  timeline.setModel(model);
  log.setModel(model);
  output.set(metrics.output, (t) => model.threadColor(t));
  viewFns.renderMetrics($('#metrics'), metrics, { waiting: Boolean(app.run.playState?.pending) });
  const metricsEl = $('#metrics');
  metricsEl.dataset.run = String(app.run.id);
  metricsEl.dataset.scenario = metrics.scenario || '';
  metricsEl.dataset.seed = String(seed);
  const seek = $('#seek');
  seek.max = String(app.run.durationMs);
  if (!scheduler) playView?.afterRun(metrics); // not loaded yet: no challenge to check
  const shown = scheduler ? app.run.playState.schedule : schedule;
  $('#run-info').textContent = `${metrics.events.toLocaleString('en-US')} events · simulated in ${Math.max(1, Math.round(result.millis))} ms${shown ? ` · schedule ${shown}` : ''}`;
  app.speed = pickSpeed(app.run.durationMs);
  $('#speed').value = String(app.speed);
  document.body.dataset.run = String(app.run.id);
  // An exception nobody caught ended the program: show it at its line, as CPython would print it.
  showRaised(result.pythonError);
  const start = at ?? (keepPlayhead ? Math.min(prevT, app.run.durationMs) : autoplay ? 0 : app.run.durationMs);
  seekTo(start);
  updateShare();
  setStatus('ready');
  if (autoplay && at === undefined) play();
  return true;
}

let exploreView;
let exploresStarted = 0;

/** Runs every schedule of the editor's program and lists the outcomes, each one click from its replay. */
async function explore() {
  if (!checkEditor()) {
    editor.revealError();
    toast('The scenario has an error: see the highlighted field.');
    return;
  }
  const { ExploreView, exploreProgram } = await exploreModule();
  exploreView ??= new ExploreView($('#explore-panel'), $('#explore'), (example) => run({ schedule: example }));
  exploreView.busy();
  const json = editor.value;
  await wasmFor(json, { lab: true });
  const id = ++exploresStarted;
  try {
    const report = await exploreProgram(app.wasm, json, variantFor(json), {
      onProgress: (r) => exploreView.busy(r),
      cancelled: () => id !== exploresStarted,
    });
    if (report) exploreView.show(report);
  } catch (e) {
    exploreView.error(e.message);
  }
}

let sweepView;
let sweepsStarted = 0;

/** Runs seeds 1..K of the editor's program in workers on every core and charts a figure per seed. */
async function sweep() {
  if (!checkEditor()) {
    editor.revealError();
    toast('The scenario has an error: see the highlighted field.');
    return;
  }
  const { SweepView, sweepSeeds, DEFAULT_SEEDS } = await sweepModule();
  sweepView ??= new SweepView($('#sweep-panel'), $('#sweep'), (seed) => {
    onKnob('seed', seed);
    knobs.inputs.seed.value = String(seed);
    run();
  });
  const count = Math.max(1, Math.min(1000, Number($('#sweep-count').value) || DEFAULT_SEEDS));
  sweepView.start(count);
  const json = editor.value;
  await wasmFor(json, { lab: true });
  const id = ++sweepsStarted;
  try {
    const results = await sweepSeeds(app.wasm, json, variantFor(json), count, {
      onFigures: (f) => id === sweepsStarted && sweepView.add(f),
      cancelled: () => id !== sweepsStarted,
    });
    if (results) sweepView.show(results);
  } catch (e) {
    if (id === sweepsStarted) sweepView.error(e.message);
  }
}

let playView;
/** Resolves to the challenges (play.js), none if they did not load; null until the scheduler's panel is made. */
let challengesReady = null;

/** The scheduler's panel, made (and its challenges listed) on first use. */
async function playPanel() {
  const { PlayView, loadChallenges } = await playModule();
  if (playView) return playView;
  playView = new PlayView($('#play-panel'), {
    run: playRun,
    source: () => app.run?.json ?? editor.value,
    startChallenge: (c) => startChallenge(c),
  });
  challengesReady = loadChallenges().then(
    (list) => {
      playView.setChallenges(list);
      return list;
    },
    (e) => {
      console.warn(e.message);
      return [];
    },
  );
  return playView;
}

/** The challenges (play.js), listed on first use. */
async function challenges() {
  await playPanel();
  return challengesReady;
}

/**
 * Plays the scheduler on the editor's program from `schedule` (empty:
 * afresh); as the loaded challenge when the program is still its text.
 */
async function startPlay(schedule = '') {
  if (!checkEditor()) {
    editor.revealError();
    toast('The scenario has an error: see the highlighted field.');
    return;
  }
  const c = app.challenge;
  const challenge = c && c.mode !== 'edit' && editor.value === c.text ? c : null;
  await (await playPanel()).start(schedule, challenge);
}

/** Replays `schedule` up to the next choice and shows it; resolves to where the run stands. */
async function playRun(schedule) {
  const ok = await run({ scheduler: true, schedule, autoplay: false });
  return ok ? app.run.playState : null;
}

/** Starts challenge `c`: played through the scheduler, or (an edit challenge) run and checked after each run. */
async function startChallenge(c, schedule = '') {
  await loadChallenge(c);
  checkEditor();
  if (c.mode === 'edit') {
    (await playPanel()).startEdit(c);
    await run({ autoplay: false });
  } else await startPlay(schedule);
}

/** Puts challenge `c`'s program in the editor, with its story. */
async function loadChallenge(c) {
  app.challenge = c;
  app.variant = undefined;
  app.presetJson = c.text;
  editor.value = c.text;
  await wasmFor(c.text);
  syncKnobs(c.text);
  showProgramStory(c.text);
  $('#edited').hidden = true;
}

/** Shows the exception that ended a Python program (if one did) at its line. */
function showRaised(raised) {
  if (!raised) return;
  const at = /^[^\n:]+:(\d+):(\d+): ([^\n]*)/.exec(raised);
  editor.showError({ name: 'ScenarioError', field: '', reason: at ? at[3] : raised, line: at ? Number(at[1]) : 0, col: at ? Number(at[2]) : 0 });
}

function pickSpeed(duration) {
  // About eight seconds to play the whole run.
  const want = duration / 8;
  return SPEEDS.reduce((best, s) => (Math.abs(Math.log(s / want)) < Math.abs(Math.log(best / want)) ? s : best), SPEEDS[0]);
}

// ---------------------------------------------------------------- the playhead

/**
 * While playing, how often the panels that follow the cursor in the worker
 * (queues, log, stacks, output, the editor's lines) are brought up to the
 * playhead: eight times a second. Each time redraws most of them (at the
 * speed the page picks, a preset passes a few hundred events a second), and
 * changes that fast cannot be read anyway; the timeline, the seek bar and
 * the clock move every frame.
 */
const PANELS_EVERY_MS = 125;
let lastPanel = 0;
/**
 * Moves the playhead to `ms`: everything up to and including that time has
 * happened. At 0 nothing has, so Step walks even the events at time zero.
 * The queues and the log follow once the cursor in the worker is there.
 */
function seekTo(ms, { fromPlay = false } = {}) {
  if (!app.run) return;
  const t = Math.max(0, Math.min(ms, app.run.durationMs));
  app.playhead = t;
  const now = performance.now();
  const panels = !fromPlay || now - lastPanel >= PANELS_EVERY_MS;
  if (panels) {
    lastPanel = now;
    moveCursor({ to: 'seek', t });
  }
  showPlayhead({ panels });
}

/** Counts cursor moves asked for, so an answer a newer move overtook is not shown. */
let cursorMoves = 0;
/** Cursor moves not answered yet, and who waits for none to be left (`cursorIdle`). */
let cursorBusy = 0;
let cursorIdleWaiters = [];

/**
 * Moves the run's cursor in the worker (sim-client.js `moveCursor`) and
 * shows where it lands: resolves to its place, or null when a newer move
 * or run took its place meanwhile (latest wins).
 */
async function moveCursor(move) {
  const run = app.run;
  const asked = ++cursorMoves;
  cursorBusy++;
  try {
    const state = await run.remote.moveCursor({ ...move, endMs: run.model.endMs });
    if (!state || asked !== cursorMoves || app.run !== run) return null;
    app.cursor = state;
    // A clicked event's own lines and stacks stay shown (its step can show later events too).
    showCursor({ steps: move.to !== 'event' });
    return state;
  } catch {
    return null; // the run was freed meanwhile
  } finally {
    // After what the move's caller does with its answer (a task later than its promise callbacks).
    if (--cursorBusy === 0) setTimeout(() => cursorBusy === 0 && cursorIdleWaiters.splice(0).forEach((wake) => wake()));
  }
}

/** Resolves once every cursor move asked for is answered (for the browser tests). */
function cursorIdle() {
  return cursorBusy === 0 ? Promise.resolve() : new Promise((resolve) => cursorIdleWaiters.push(resolve));
}

/** The playhead's place: the timeline, the seek bar, the clock and (with `panels`) the printed output. */
function showPlayhead({ panels = true } = {}) {
  const t = app.playhead;
  timeline.setPlayhead(t);
  $('#seek').value = String(t);
  showClock(fmtMs(t, 4), fmtMs(app.run.durationMs, 4));
  if (panels) output.setNow(t, { follow: app.playing });
  updateShareSoon();
}

/** The clock: `now / end`. Playback changes it every frame: in place, its text only (no new elements to lay out). */
function showClock(now, end) {
  const clock = $('#clock');
  if (clock.childElementCount !== 2) clock.innerHTML = '<b> </b> / <span> </span>';
  for (const [el, text] of [[clock.children[0], now], [clock.children[1], end]]) {
    if (el.firstChild.data !== text) el.firstChild.data = text;
  }
}

/**
 * What the cursor shows at the playhead: the queues, the events so far, (with
 * `steps`) the threads' lines, the Step button. While playing, the worker's
 * answer waits for the start of the next frame: there the log can scroll
 * before anything else on the page changed, so the browser need not lay the
 * page out to scroll it (the frame painted is the same).
 */
let cursorToShow = null;
function showCursor({ steps = true } = {}) {
  if (app.playing) {
    cursorToShow = { steps };
    return;
  }
  cursorToShow = null;
  drawCursor({ steps });
}

/** Shows a cursor that arrived while playing (see `showCursor`), first thing in a frame. */
function drawPendingCursor() {
  const pending = cursorToShow;
  cursorToShow = null;
  if (pending && app.run) drawCursor(pending);
}

function drawCursor({ steps }) {
  const cursor = app.cursor;
  // While playing, keep the newest event in view; scrolled first, while the page's layout is clean.
  if (app.playing && cursor.eventCount > 0 && !log.view.matches(':hover')) log.scrollTo(cursor.eventCount - 1);
  const stepButton = $('#step-btn');
  if (stepButton.disabled !== cursor.atEnd) {
    stepButton.disabled = cursor.atEnd;
    stepButton.title = cursor.atEnd ? 'The end of the run: ← steps back, Home starts over' : STEP_TITLE;
  }
  viewFns.renderQueues($('#queues'), cursor.queues, (id) => app.run.model.threadColor(id));
  $('#queues').dataset.t = String(cursor.queues.t_ms);
  log.setCursor(cursor.eventCount);
  if (steps) showSteps(cursor.eventCount - 1, cursor.stacks);
}

const STEP_TITLE = 'Step to the next event (→, Shift+→ for ten)';

/** Puts the playhead where the cursor landed (a step, a step back, a clicked event). */
function followCursor(state) {
  app.playhead = Math.max(state.nowMs, 0);
  showPlayhead();
}

async function step(n = 1) {
  if (!app.run && !(await run({ autoplay: false, at: 0 }))) return;
  pause();
  const run = app.run;
  // At the end Step stays there (it used to start over without a word);
  // Home or Play start over.
  const state = await moveCursor({ to: 'step', n });
  if (!state) return;
  followCursor(state);
  const last = state.eventCount - 1;
  if (last >= state.before && last < run.model.eventCount) {
    select(last, { seek: false });
    timeline.reveal(run.model.eventT(last) / 1e6);
  }
}

async function stepBack() {
  if (!app.run) return;
  pause();
  const state = await moveCursor({ to: 'back' });
  if (!state || state.eventCount === state.before) return; // nothing had happened
  followCursor(state);
  const last = state.eventCount - 1;
  if (last >= 0) select(last, { seek: false });
  else {
    log.setSelected(-1);
    timeline.setSelected(-1);
  }
}

/**
 * Highlights in the editor where the Python program's threads are at event
 * `index`: its own thread's line strongly, the others' (where each was at its
 * latest event so far, unless it has exited) softly, labelled with their names;
 * and shows their stacks there: `known` when the cursor's answer brought them,
 * else asked of the worker.
 */
function showSteps(index, known) {
  const model = app.run?.model;
  if (!model) return;
  const n = model.eventCount;
  const current = index >= 0 && index < n ? model.eventSrc(index) : undefined;
  const at = index >= 0 && n > 0 ? model.threadsAt(Math.min(index, n - 1)) : new Map();
  const steps = [];
  for (const [thread, src] of at) {
    if (!src) continue;
    const isCurrent = current?.thread === thread;
    steps.push({ line: isCurrent ? current.line : src.line, thread: model.threadName(thread), current: isCurrent });
  }
  // The editor draws the list only when a line moved.
  editor.showSteps(steps);
  // data-asked and data-index: which event's stacks were last asked for, and which are shown.
  const panel = $('#stacks');
  panel.dataset.asked = String(index);
  const show = (list) => {
    stacks.show(list, { current: current?.thread, lines: at, name: (t) => model.threadName(t), color: (t) => model.threadColor(t) });
    panel.dataset.index = String(index);
  };
  if (!(index >= 0 && index < n) || known) {
    stacksAsked++;
    show(index >= 0 && index < n ? known : []);
    return;
  }
  // The stacks come from the run in the worker: shown if they are still what was last asked for.
  const run = app.run;
  const asked = ++stacksAsked;
  run.remote.stacks(index).then(
    (list) => asked === stacksAsked && app.run === run && show(list),
    () => {}, // the run was freed meanwhile
  );
}

/** Counts stack requests, so an answer that a newer request overtook is dropped. */
let stacksAsked = 0;

function select(index, { seek = true } = {}) {
  const run = app.run;
  if (!run || !(index >= 0 && index < run.model.eventCount)) return;
  log.setSelected(index);
  log.showCauses([]);
  // The causes read whole events from the worker: shown if the event is still the one selected.
  viewFns.causesOf(run.model, index).then((lines) => {
    if (app.run === run && log.selected === index) log.showCauses(lines);
  });
  timeline.setSelected(index);
  if (seek) {
    pause();
    const t = run.model.eventT(index) / 1e6;
    // The step that shows the event; an event inside a reactor call that
    // spends virtual time shows once the call ends, so the playhead goes
    // to the event's own time then (sim-worker.js `CURSOR_MOVES.event`).
    moveCursor({ to: 'event', index }).then((state) => state && followCursor(state));
    timeline.reveal(t);
  }
  showSteps(index);
}

let rafId = 0;
let lastFrame = 0;
function play() {
  if (!app.run) {
    run();
    return;
  }
  if (app.playing) return;
  if (app.playhead >= app.run.durationMs - 1e-9) seekTo(0);
  app.playing = true;
  document.body.classList.add('playing');
  $('#play').textContent = 'Pause';
  $('#play').setAttribute('aria-pressed', 'true');
  lastFrame = performance.now();
  const frame = (now) => {
    if (!app.playing) return;
    drawPendingCursor();
    const dt = Math.min(100, now - lastFrame);
    lastFrame = now;
    const t = app.playhead + (dt / 1000) * app.speed;
    if (t >= app.run.durationMs) {
      seekTo(app.run.durationMs);
      pause();
      return;
    }
    seekTo(t, { fromPlay: true });
    rafId = requestAnimationFrame(frame);
  };
  rafId = requestAnimationFrame(frame);
}

function pause() {
  if (!app.playing) return;
  app.playing = false;
  drawPendingCursor();
  cancelAnimationFrame(rafId);
  document.body.classList.remove('playing');
  $('#play').textContent = 'Play';
  $('#play').setAttribute('aria-pressed', 'false');
  if (app.run) seekTo(app.playhead);
}

// ---------------------------------------------------------------- sharing

let shareTimer = 0;
function updateShareSoon() {
  if (app.playing) return;
  clearTimeout(shareTimer);
  shareTimer = setTimeout(updateShare, 150);
}

async function shareState() {
  const json = editor.value;
  const state = { seed: app.seed, view: app.view };
  if (app.challenge && json === app.challenge.text) state.challenge = app.challenge.name;
  else if (json === app.presetJson && app.spec.startsWith(JSON_PREFIX)) state.preset = app.spec.slice(JSON_PREFIX.length);
  else if (json === app.presetJson && app.spec) state.program = app.spec;
  else {
    state.scenario = await encodeScenario(json);
    state.variant = variantFor(json);
  }
  if (app.run?.play && app.run.json === json) state.schedule = app.run.playState.schedule;
  if (app.run && !app.playing && app.playhead < app.run.durationMs - 1e-9) state.t = app.playhead;
  if (app.view === 'compare' && compare) Object.assign(state, compare.pair());
  return state;
}

async function updateShare() {
  const url = buildUrl(await shareState());
  const link = $('#share');
  link.href = url;
}

/** A picker value for a picker value or preset name (a preset with variants starts at its first). */
function validSpec(spec) {
  const d = describeSpec(spec, app.programs, app.presets);
  if (!d) return null;
  if (d.variant || d.preset.variants.length === 0) return spec;
  return `${d.json ? JSON_PREFIX : ''}${d.name}/${d.preset.variants[0].name}`;
}

/** The picker value of the preset program whose docstring has `text`'s title, if one does. */
function programSpecOf(text, variant) {
  const title = docstringOf(text)?.title;
  const p = title && app.programs.find((x) => x.title === title);
  if (!p) return null;
  return validSpec(variant && p.variants.some((v) => v.name === variant) ? `${p.name}/${variant}` : p.name);
}

/** The preset the page opens on (index.html preloads its compiled program, pkg/presets/echo-blocking.bin). */
const DEFAULT_SPEC = 'echo-blocking/blocking';

async function applyHash() {
  const h = readHash();
  let loaded = false;
  const challenge = h.challenge && (await challenges()).find((c) => c.name === h.challenge);
  if (challenge) {
    setView('experiment', { fromHash: true });
    await startChallenge(challenge, h.schedule ?? '');
    return true;
  }
  if (h.scenario) {
    try {
      const json = await decodeScenario(h.scenario);
      const python = isPython(json);
      if (python) await wasmFor(json);
      const doc = python ? null : safeParse(json);
      const own = python ? programSpecOf(json, h.variant) : validSpec(doc?.name && `${JSON_PREFIX}${doc.name}`);
      // The picker keeps a preset to reset to; the story told is the scenario's own.
      // Else a preset in the same language.
      const fallback = python ? validSpec(DEFAULT_SPEC) || validSpec(app.programs[0].name) : validSpec(`${JSON_PREFIX}${app.presets[0].name}`);
      await loadPreset(own || validSpec(app.spec) || fallback, { seed: h.seed });
      editor.value = json;
      app.variant = python ? h.variant : undefined;
      syncKnobs(json);
      if (python) showProgramStory(json);
      else showExplanation(own, json !== app.presetJson);
      $('#edited').hidden = json === app.presetJson;
      loaded = true;
    } catch (e) {
      toast('That link holds a scenario this page cannot read.');
      console.warn('bad scenario in the URL', e);
    }
  } else if (h.program && validSpec(h.program)) {
    await loadPreset(validSpec(h.program), { seed: h.seed });
    loaded = true;
  } else if (h.preset && validSpec(`${JSON_PREFIX}${h.preset}`)) {
    // An old link: a JSON preset, loaded as before.
    await loadPreset(validSpec(`${JSON_PREFIX}${h.preset}`), { seed: h.seed });
    loaded = true;
  } else if (h.seed !== undefined && app.spec) {
    app.seed = h.seed;
    syncKnobs(editor.value);
  }
  setView(h.view || 'experiment', { fromHash: true, a: h.a, b: h.b });
  if (loaded && (h.view || 'experiment') === 'experiment') {
    checkEditor();
    // A played run picks up where its schedule left off.
    if (h.schedule !== undefined) await startPlay(h.schedule);
    else await run({ autoplay: h.t === undefined, at: h.t });
  }
  return loaded;
}

// ---------------------------------------------------------------- views

async function setView(view, { fromHash = false, a, b } = {}) {
  if (!['experiment', 'compare', 'live'].includes(view)) view = 'experiment';
  app.view = view;
  for (const btn of document.querySelectorAll('button[data-view]')) {
    const on = btn.dataset.view === view;
    btn.classList.toggle('active', on);
    btn.setAttribute('aria-selected', String(on));
  }
  for (const sec of document.querySelectorAll('.view')) sec.hidden = sec.id !== `view-${view}`;
  document.body.dataset.view = view;
  $('#exports').hidden = view === 'live';
  if (view !== 'experiment') pause();
  // Compare runs the JSON forms of the presets (a program's variants have the same names).
  const jsonSpec = app.spec.startsWith(JSON_PREFIX) ? app.spec.slice(JSON_PREFIX.length) : app.spec;
  if (view === 'compare') {
    const shown = await compareView();
    if (app.view !== 'compare') return;
    const edited = editor.value !== app.presetJson;
    shown.show({ spec: jsonSpec, json: editor.value, edited, variant: variantFor(editor.value), seed: app.seed, a, b, fromHash });
  }
  if (view === 'live') {
    const shown = await liveView();
    if (app.view !== 'live') return;
    shown.show();
  }
  updateShare();
}

// ---------------------------------------------------------------- wiring

let editor;
let timeline;
let log;
let output;
let knobs;
let compare;
let live;
let stacks;
/** views.js's functions (renderMetrics, renderQueues, causesOf), once it is loaded. */
let viewFns;

/** Makes the run's views from views.js (see `views`). */
function makeViews(m) {
  viewFns = m;
  stacks = new m.StackView($('#stacks'));
  timeline = new m.Timeline($('#timeline'), {
    tooltip: $('#tl-tip'),
    onSeek: (t) => {
      pause();
      seekTo(t);
    },
    onSelect: (ev) => select(ev),
  });
  log = new m.EventLog($('#event-log'), {
    onPick: (i) => select(i),
    empty: 'Every trace event of the run appears here, in order. Click one to jump there.',
  });
  output = new m.OutputView($('#output'), {
    onSeek: (t) => {
      pause();
      seekTo(t);
      timeline.reveal(t);
    },
    onLine: (line) => editor.revealLine(line),
  });
}

/** Compare, made on first use. */
async function compareView() {
  const { CompareView } = await compareModule();
  // Compare runs JSON scenarios: in the full module.
  compare ??= new CompareView($('#view-compare'), {
    presets: app.presets,
    runModule: () => wasmFor('{}', { lab: true }),
    onChange: () => updateShare(),
  });
  return compare;
}

/** The live server view, made on first use. */
async function liveView() {
  const { LiveView } = await liveModule();
  live ??= new LiveView($('#view-live'));
  return live;
}

/**
 * Shows "Run on this server" when the page came from a `twine serve` that
 * runs experiments (it answers `GET /api/run` with its limits); the panel
 * (onserver.js) loads on the first press.
 */
async function offerRunOnServer() {
  if (!location.host) return;
  let limits;
  try {
    const res = await fetch('/api/run', { cache: 'no-store' });
    if (!res.ok) return;
    limits = await res.json();
  } catch {
    return; // a page served by something else: no button
  }
  const button = $('#onserver-btn');
  button.hidden = false;
  button.title = `Run this experiment for real on the server the page came from (at most ${trim(limits.max_real_time_ms / 1000, 1)} s) and put the measurement beside the simulation's prediction`;
  let onServer;
  button.addEventListener('click', async () => {
    const { OnServer } = await onServerModule();
    // Run on this server: the experiment in the editor, as its JSON scenario, run for real beside its prediction.
    onServer ??= new OnServer($('#onserver-panel'), button, {
      limits,
      // Its prediction runs the JSON scenario: the full module's.
      runModule: () => wasmFor('{}', { lab: true }),
      experiment: () => ({
        text: editor.value,
        presetText: app.presetJson,
        spec: app.spec,
        variant: app.variant,
        seed: app.seed,
        challenge: app.challenge !== null,
      }),
    });
    onServer.run();
  });
}

function bindKeys() {
  document.addEventListener('keydown', (ev) => {
    const tag = ev.target.tagName;
    // Keys typed into a field or the code editor (contenteditable) are text, not playback.
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || ev.target.isContentEditable) return;
    if (ev.metaKey || ev.ctrlKey || ev.altKey) return;
    if (app.view !== 'experiment') return;
    const k = ev.key;
    if (k === ' ' || k === 'k') app.playing ? pause() : play();
    else if (k === 'ArrowRight' || k === '.') step(ev.shiftKey ? 10 : 1);
    else if (k === 'ArrowLeft' || k === ',') stepBack();
    else if (k === 'Home') {
      pause();
      seekTo(0);
    } else if (k === 'End' && app.run) {
      pause();
      seekTo(app.run.durationMs);
    }
    else if (k === 'r') run();
    else if (k === 'f') timeline?.fit();
    else if (k === '?') $('#keys').toggleAttribute('open');
    else return;
    ev.preventDefault();
  });
}

/**
 * Whether the page starts on a program of its own (a link that carries its
 * text), and so needs the full module at once; a preset program or a JSON
 * scenario runs in the light one.
 */
async function startsOnOwnProgram() {
  const h = readHash();
  if (!h.scenario) return false;
  try {
    return isPython(await decodeScenario(h.scenario));
  } catch {
    return false;
  }
}

async function boot() {
  let wasm;
  let full = await startsOnOwnProgram();
  try {
    if (!full) {
      // The presets' list and the program the page opens on come with the
      // module; the other presets' programs after Run is possible.
      const first = bootPreset();
      const program = compiledFile(`presets/${first}.bin`);
      const compiled = [compiledFile('presets.compiled.bin'), program];
      wasm = await loadModule('../pkg/twine_web.js', { compiled });
      lightModule = wasm;
      if (await program) compiledPresets.set(first, Promise.resolve());
      // The light module has the preset programs only from the compiled
      // files: when their list did not load, it has none to offer.
      full = wasm.programs().length === 0;
    }
    if (full) {
      fetchFullModule();
      wasm = await fullModule;
    }
  } catch (e) {
    $('#fatal').hidden = false;
    $('#fatal').innerHTML = `<b>The simulation module did not load.</b> It is built into <code>www/pkg/</code> by <code>cargo xtask serve</code>. (${escapeHtml(e.message)})`;
    setStatus('error');
    console.warn(e);
    return;
  }
  app.wasm = wasm;
  app.wasmIsFull = full;
  // The worker loads its copy of the module while the page sets up.
  warmUp(wasm);
  app.programs = wasm.programs();
  app.presets = wasm.presets();
  fillPicker($('#preset'), app.programs, app.presets);
  editor = new ScenarioEditor($('#editor'), { onInput: onEditorInput });
  knobs = new Knobs($('#knobs'), { onChange: onKnob });
  offerRunOnServer();

  const speed = $('#speed');
  for (const s of SPEEDS) speed.append(new Option(`${fmtMs(s, 3)} per second`, String(s)));
  speed.value = String(app.speed);
  speed.addEventListener('change', () => { app.speed = Number(speed.value); });

  $('#preset').addEventListener('change', async (ev) => {
    if (!(await loadPreset(ev.target.value))) return;
    checkEditor();
    if (app.warm) run();
    else {
      freeRun();
      $('#tl-empty').hidden = false;
    }
  });
  $('#run-btn').addEventListener('click', () => run());
  $('#explore-btn').addEventListener('click', () => explore());
  $('#sweep-btn').addEventListener('click', () => sweep());
  $('#play-sched-btn').addEventListener('click', () => startPlay());
  $('#empty-run').addEventListener('click', () => run());
  $('#play').addEventListener('click', () => (app.playing ? pause() : play()));
  $('#step-btn').addEventListener('click', () => step(1));
  $('#back-btn').addEventListener('click', () => stepBack());
  $('#fit-btn').addEventListener('click', () => timeline?.fit());
  $('#seek').addEventListener('input', (ev) => {
    if (!app.run) return;
    pause();
    seekTo(Number(ev.target.value));
  });
  $('#reset-btn').addEventListener('click', async () => {
    if (!(await loadPreset(app.spec))) return;
    checkEditor();
    if (app.warm) run();
  });
  $('#share').addEventListener('click', async (ev) => {
    ev.preventDefault();
    await updateShare();
    const url = $('#share').href;
    try {
      await navigator.clipboard.writeText(url);
      toast('Link copied: it reproduces this run.');
    } catch {
      toast('Copy the link from the address bar.');
    }
    history.replaceState(null, '', url);
  });
  $('#export-chrome').addEventListener('click', () => exportTrace('chrome'));
  $('#export-jsonl').addEventListener('click', () => exportTrace('jsonl'));
  for (const btn of document.querySelectorAll('button[data-view]')) btn.addEventListener('click', () => setView(btn.dataset.view));
  window.addEventListener('hashchange', () => applyHash());
  bindKeys();

  const fromLink = await applyHash();
  if (!fromLink) {
    await loadPreset(validSpec(DEFAULT_SPEC) ?? validSpec(app.programs[0].name));
    checkEditor();
  }
  setStatus(app.run ? 'ready' : 'loaded');
  // Compare and the live view exist once opened (their modules load then).
  // The run's code and views right after boot (before, if a link ran a
  // scenario); a failure shows a word, and Run tries again.
  runnerModule().catch(() => {});
  views().catch(() => {});
  fetchColdHalf(wasm);
  // The other presets' compiled programs, now that Run works (one picked
  // before its program is here waits for it: presetText).
  if (!app.wasmIsFull) for (const p of app.programs) compiledPreset(p.name).catch(() => {});
  app.ui = {
    editor,
    get timeline() {
      return timeline;
    },
    get log() {
      return log;
    },
    knobs,
    get compare() {
      return compare;
    },
    get live() {
      return live;
    },
  };
  app.cursorIdle = cursorIdle;
  window.twine = app; // for the browser tests and the curious
  // The code editor comes after the page can run: Run need not wait for it.
  editor.upgrade().then((ok) => {
    document.body.dataset.editor = ok ? 'code' : 'plain';
  });
  // The full module (the parser) as soon as the user sets about editing, so it
  // is there or on its way when an edited program needs it (wasmFor); a visit
  // that only picks presets and runs them never fetches it.
  $('#editor').addEventListener('focusin', () => fetchFullModule(), { once: true });
}

async function exportTrace(format) {
  if (!app.run && !(await run({ autoplay: false }))) return;
  const name = (app.run.metrics.scenario || 'scenario').replace(/[^a-z0-9-]+/gi, '_');
  const base = `twine-${name}-seed${app.run.seed}`;
  // The exports are the full module's: the worker runs the same run there again when it ran in the light one.
  const full = await wasmFor(app.run.json, { lab: true });
  if (format === 'chrome') download(`${base}.trace.json`, await app.run.remote.chromeTrace(full));
  else download(`${base}.jsonl`, await app.run.remote.jsonl(full), 'application/x-ndjson');
}

boot();
