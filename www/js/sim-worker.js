// The simulation, off the page's thread: a dedicated module worker loads the
// same wasm module the page picked (the light one, or the full one with the
// Python parser), runs scenarios in it and streams each run's trace to the
// page in column slices as it goes, so the page builds the timeline while
// the simulation goes on (sim-client.js is the page's side). It keeps every
// run the page still shows, for what the page asks later (whole events,
// stacks, exports), until the page frees it.
//
//   page -> worker  {op: 'load', module, compiled?}            a module's URL; the light one's precompiled presets
//                   {op: 'run', id, module, json, seed, variant?, schedule?, play?}
//                   {op: 'explore', id, module, json, variant?, max, budgetMs}
//                   {op: 'events', id, run, from, max} | {op: 'stacks', id, run, index}
//                   {op: 'chromeTrace', id, run} | {op: 'jsonl', id, run}
//                   {op: 'free', run}                           a run (or exploration) the page is done with, even mid-way
//   worker -> page  {id, type: 'slice', cols, events, nowMs}   the run's next events in columns (buffers transferred)
//                   {id, type: 'done', metrics, pythonError, playState}
//                   {id, type: 'progress', report}             an exploration so far
//                   {id, type: 'reply', value} | {id, type: 'error', error: {name, message, field?, reason?, line?, col?}}

/** Wall time the worker simulates before it hands the page a slice (and reads its messages). */
const SLICE_MS = 25;
/** Events simulated per call into wasm between clock checks. */
const STEP = 4_096;
/** Wall time an exploration runs between progress reports. */
const EXPLORE_SLICE_MS = 100;

/** Module URL -> the loaded module (a promise). */
const modules = new Map();
/** Run id -> {sim, cancelled}: the runs the page has not freed. */
const runs = new Map();
/** Exploration id -> {cancelled}. */
const explorations = new Map();

const post = (message, transfer) => self.postMessage(message, transfer ?? []);

function load(url, compiled) {
  if (modules.has(url)) return;
  const ready = (async () => {
    const m = await import(url);
    await m.default();
    // The light module runs the presets only as compiled at build time.
    if (compiled) m.addCompiled(compiled);
    return m;
  })();
  ready.catch(() => {}); // reported to each request that needs it
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
  const entry = { sim, cancelled: false };
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
function held(msg) {
  const entry = runs.get(msg.run);
  if (!entry) throw new Error(`run ${msg.run} was freed`);
  return entry.sim;
}

const REQUESTS = {
  events: (msg) => held(msg).events(msg.from, msg.max),
  stacks: (msg) => held(msg).stacks(msg.index),
  chromeTrace: (msg) => held(msg).chromeTrace(),
  jsonl: (msg) => held(msg).jsonl(),
};

function free(id) {
  const entry = runs.get(id);
  if (entry) {
    runs.delete(id);
    entry.cancelled = true;
    try {
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
      case 'run':
        await run(msg);
        break;
      case 'explore':
        await explore(msg);
        break;
      case 'free':
        free(msg.run);
        break;
      default: {
        const request = REQUESTS[msg.op];
        if (!request) throw new Error(`no such request: ${msg.op}`);
        post({ id: msg.id, type: 'reply', value: request(msg) });
      }
    }
  } catch (e) {
    if (msg.op === 'run') free(msg.id);
    post({ id: msg.id, type: 'error', error: errorOf(e) });
  }
};
