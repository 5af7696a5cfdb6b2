// The simulation, off the page's thread: a dedicated module worker loads the
// same wasm module the page picked (the light one, or the full one with the
// Python parser), runs scenarios in it and streams each run's trace to the
// page in column slices as it goes, so the page builds the timeline while
// the simulation goes on (sim-client.js is the page's side). It keeps every
// run the page still shows, for what the page asks later (whole events,
// stacks, exports), until the page frees it.
//
//   page -> worker  {op: 'load', module, compiled?}            a module's URL; the light one's precompiled files (a list)
//                   {op: 'addCompiled', module, compiled}      one more precompiled file (a preset's program, after boot)
//                   {op: 'coldHalf', module, cold}             the light module's cold half, compiled (cold-half.js)
//                   {op: 'run', id, module, json, seed, variant?, schedule?, play?}
//                   {op: 'explore', id, module, json, variant?, max, budgetMs}
//                   {op: 'figures', id, module, json, variant?, seed}   one seed's headline figures (a seed sweep)
//                   {op: 'events', id, run, from, max} | {op: 'stacks', id, run, index}
//                   {op: 'chromeTrace', id, run, module} | {op: 'jsonl', id, run, module}   made by that module
//                   {op: 'cursor', id, run, move}              the run's cursor at the playhead (see CURSOR_MOVES)
//                   {op: 'free', run}                           a run (or exploration) the page is done with, even mid-way
//   worker -> page  {id, type: 'slice', cols, events, nowMs}   the run's next events in columns (buffers transferred)
//                   {id, type: 'done', metrics, pythonError, playState}
//                   {id, type: 'progress', report}             an exploration so far
//                   {id, type: 'reply', value} | {id, type: 'error', error: {name, message, field?, reason?, line?, col?}}
//
// Each run also has a cursor: a second simulation of it, made when the page
// first asks, that sits at the playhead so the queues panel can show what
// waits there. Moving it simulates (a backward seek replays from the
// start), which is why it lives here and not on the page's thread.

import { attachColdHalf } from './cold-half.js';

/** Wall time the worker simulates before it hands the page a slice (and reads its messages). */
const SLICE_MS = 25;
/** Events simulated per call into wasm between clock checks. */
const STEP = 4_096;
/** Wall time an exploration runs between progress reports. */
const EXPLORE_SLICE_MS = 100;

/** Module URL -> the loaded module (a promise). */
const modules = new Map();
/** Run id -> {sim, cancelled, args, cursor?}: the runs the page has not freed. */
const runs = new Map();
/** Exploration id -> {cancelled}. */
const explorations = new Map();
/** Module URL -> the function that links its cold half, for a split module (cold-half.js). */
const coldLinks = new Map();

const post = (message, transfer) => self.postMessage(message, transfer ?? []);

function load(url, compiled = []) {
  if (modules.has(url)) return;
  const ready = (async () => {
    const m = await import(url);
    const link = attachColdHalf(await m.default(), new URL('twine_web_cold.wasm', url));
    if (link) coldLinks.set(url, link);
    // The light module runs the presets only as compiled at build time.
    for (const file of compiled) m.addCompiled(file);
    return m;
  })();
  ready.catch(() => {}); // reported to each request that needs it
  modules.set(url, ready);
}

/** Gives the module at `url` one more precompiled file, before any request that comes after. */
function addCompiled(url, file) {
  const ready = modules.get(url)?.then((m) => {
    m.addCompiled(file);
    return m;
  });
  if (!ready) return;
  ready.catch(() => {});
  modules.set(url, ready);
}

/** What crosses to the page of an error: a ScenarioError keeps its field, line and column. */
function errorOf(e) {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { name, message, field, reason, line, col } = e;
  return { name, message, field, reason, line, col };
}

/** Lets the page's messages in between slices (a zero timeout would be clamped to 4 ms). */
const turn = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });

function newSimulation(wasm, { json, seed, variant, schedule, play }) {
  if (play) return wasm.Simulation.playing(json, variant, schedule ?? '');
  return schedule ? wasm.Simulation.withSchedule(json, variant, schedule) : new wasm.Simulation(json, seed, variant);
}

/** The typed arrays of a column slice, handed over rather than copied. */
const buffersOf = (cols) =>
  ['t', 'kind', 'thread', 'a', 'id', 'id2', 'text', 'line', 'func', 'srcThread'].map((k) => cols[k].buffer);

async function run(msg) {
  const { id } = msg;
  const wasm = await modules.get(msg.module);
  const sim = newSimulation(wasm, msg);
  const entry = { sim, cancelled: false, wasm, args: msg, cursor: null };
  runs.set(id, entry);
  for (;;) {
    const started = performance.now();
    let stuck = false;
    while (!sim.finished && performance.now() - started < SLICE_MS) {
      if (sim.step(STEP) === 0 && !sim.finished) {
        stuck = true;
        break;
      }
    }
    const cols = sim.takeColumns();
    post({ id, type: 'slice', cols, events: sim.eventCount, nowMs: sim.nowMs }, buffersOf(cols));
    if (sim.finished || stuck) break;
    await turn();
    if (entry.cancelled) return; // freed by the page meanwhile
  }
  // Playing the scheduler: where the run stopped, and who could go next.
  const playState = msg.play ? sim.play() : undefined;
  post({ id, type: 'done', metrics: sim.metrics(), pythonError: sim.pythonError, playState });
}

async function explore(msg) {
  const { id } = msg;
  const wasm = await modules.get(msg.module);
  const explorer = new wasm.Explorer(msg.json, msg.variant, msg.max);
  const entry = { cancelled: false };
  explorations.set(id, entry);
  try {
    const started = performance.now();
    let more = true;
    while (more && performance.now() - started < msg.budgetMs) {
      const slice = performance.now();
      while (more && performance.now() - slice < EXPLORE_SLICE_MS) more = explorer.step(1);
      if (!more) break;
      post({ id, type: 'progress', report: explorer.report() });
      await turn();
      if (entry.cancelled) return;
    }
    post({ id, type: 'reply', value: explorer.report() });
  } finally {
    explorer.free();
    explorations.delete(id);
  }
}

/** A run the page still holds. */
function heldEntry(msg) {
  const entry = runs.get(msg.run);
  if (!entry) throw new Error(`run ${msg.run} was freed`);
  return entry;
}
const held = (msg) => heldEntry(msg).sim;

// ---------------------------------------------------------------- the cursor

/** A new cursor of `entry`'s run, at its start. */
function freshCursor(entry) {
  return newSimulation(entry.wasm, entry.args);
}

/** Makes `cursor` the run's cursor, freeing the one before. */
function replaceCursor(entry, cursor) {
  entry.cursor?.free();
  entry.cursor = cursor;
  return cursor;
}

/**
 * A cursor at the first step at which `count` events have happened: the
 * events of one instant are then walked one step at a time, which a seek
 * to that instant (it runs all of them) cannot do.
 */
function cursorAtCount(entry, count) {
  const t = count > 0 ? eventT(entry, count - 1) : 0;
  const cursor = freshCursor(entry);
  // Everything before the event's instant, then step up to it.
  if (count > 0 && t > 0) cursor.seek((t - 1) / 1e6);
  if (cursor.eventCount < count) cursor.step(count - cursor.eventCount);
  return cursor;
}

/**
 * A cursor at the latest step that shows fewer than `count` events. One
 * step can show several events, so walk the steps of the last event's
 * instant (cheap) to find where that step began, then go there.
 */
function cursorBefore(entry, count) {
  const t = count > 0 ? eventT(entry, count - 1) : 0;
  const probe = freshCursor(entry);
  if (count > 0 && t > 0) probe.seek((t - 1) / 1e6);
  let before = probe.eventCount;
  while (before < count && !probe.finished) {
    probe.step(1);
    if (probe.eventCount >= count) break;
    before = probe.eventCount;
  }
  probe.free();
  return before < count ? cursorAtCount(entry, before) : freshCursor(entry);
}

/**
 * The ways the page moves a run's cursor; each leaves it at a place the
 * page's playhead then shows. `t` is a time in ms, `endMs` where the run
 * ends as the page draws it.
 */
const CURSOR_MOVES = {
  /** To `t`: everything up to and including it has happened (at 0, nothing has). */
  seek: (entry, { t }) => {
    if (t <= 0 || !entry.cursor) replaceCursor(entry, freshCursor(entry));
    if (t > 0) entry.cursor.seek(t);
  },
  /** `n` steps on, unless the run has ended. */
  step: (entry, { n, endMs }) => {
    const c = entry.cursor ?? replaceCursor(entry, freshCursor(entry));
    if (!atEnd(c, endMs)) c.step(n);
  },
  /**
   * To event `index`, as a click on it: the step that shows it, or, for an
   * event inside a reactor call that spends virtual time (shown once the
   * call ends), the event's own time.
   */
  event: (entry, { index }) => {
    const c = replaceCursor(entry, cursorAtCount(entry, index + 1));
    const t = eventT(entry, index) / 1e6;
    if (c.nowMs > t + 1e-9) CURSOR_MOVES.seek(entry, { t });
  },
  /** One step back (to the latest step that shows fewer events), unless nothing has happened yet. */
  back: (entry) => {
    const count = entry.cursor?.eventCount ?? 0;
    if (count > 0) replaceCursor(entry, cursorBefore(entry, count));
  },
};

/** The time of the run's event `index`, in ns. */
const eventT = (entry, index) => entry.sim.events(index, 1)[0]?.t ?? 0;

/** Whether `cursor` has shown the run's last event (the run ends at `endMs`, as the page draws it). */
const atEnd = (cursor, endMs) => cursor.finished && cursor.nowMs >= endMs - 1e-9;

/** Moves the run's cursor; replies where it is, what waits there and the threads' stacks. */
function moveCursor(msg) {
  const entry = heldEntry(msg);
  const before = entry.cursor?.eventCount ?? 0;
  const move = CURSOR_MOVES[msg.move.to];
  if (!move) throw new Error(`no such cursor move: ${msg.move.to}`);
  move(entry, msg.move);
  const c = entry.cursor;
  // The stacks at its last event come along: the page shows them with the queues, in the same frame.
  const stacks = c.eventCount > 0 ? entry.sim.stacks(c.eventCount - 1) : [];
  return { before, eventCount: c.eventCount, nowMs: c.nowMs, atEnd: atEnd(c, msg.move.endMs), queues: c.queues(), stacks };
}

/**
 * `make(sim)` of the run `msg` names, in module `msg.module`: the exports
 * are the full module's, so a run the light module made is run again there
 * (same scenario, seed and schedule: the same run) for them.
 */
async function exported(msg, make) {
  const entry = heldEntry(msg);
  const wasm = await modules.get(msg.module);
  if (wasm === entry.wasm) return make(entry.sim);
  const sim = newSimulation(wasm, entry.args);
  try {
    sim.run();
    return make(sim);
  } finally {
    sim.free();
  }
}

const REQUESTS = {
  events: (msg) => held(msg).events(msg.from, msg.max),
  stacks: (msg) => held(msg).stacks(msg.index),
  cursor: moveCursor,
  chromeTrace: (msg) => exported(msg, (sim) => sim.chromeTrace()),
  jsonl: (msg) => exported(msg, (sim) => sim.jsonl()),
};

function free(id) {
  const entry = runs.get(id);
  if (entry) {
    runs.delete(id);
    entry.cancelled = true;
    try {
      entry.cursor?.free();
      entry.sim.free();
    } catch {
      // A simulation that panicked cannot be freed: the module is left as it is.
    }
  }
  const exploring = explorations.get(id);
  if (exploring) exploring.cancelled = true;
}

self.onmessage = async ({ data: msg }) => {
  try {
    switch (msg.op) {
      case 'load':
        load(msg.module, msg.compiled);
        break;
      case 'addCompiled':
        addCompiled(msg.module, msg.compiled);
        break;
      case 'coldHalf':
        await modules.get(msg.module);
        coldLinks.get(msg.module)?.(msg.cold);
        break;
      case 'run':
        await run(msg);
        break;
      case 'explore':
        await explore(msg);
        break;
      case 'figures': {
        const wasm = await modules.get(msg.module);
        post({ id: msg.id, type: 'reply', value: wasm.seedFigures(msg.json, msg.variant, msg.seed) });
        break;
      }
      case 'free':
        free(msg.run);
        break;
      default: {
        const request = REQUESTS[msg.op];
        if (!request) throw new Error(`no such request: ${msg.op}`);
        post({ id: msg.id, type: 'reply', value: await request(msg) });
      }
    }
  } catch (e) {
    if (msg.op === 'run') free(msg.id);
    post({ id: msg.id, type: 'error', error: errorOf(e) });
  }
};
