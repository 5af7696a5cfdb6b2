// The page's side of the simulation worker (sim-worker.js): runs started
// there stream their trace back in column slices, and whatever the page asks
// of a run later (whole events, stacks, exports) is a request with an id
// answered by a promise. One worker serves the whole page, so Compare's two
// sides and the Run-on-this-server prediction live there side by side.

/** The wasm modules the page loaded: module -> {url, compiled}. */
const modules = new WeakMap();
/** The module URLs the worker was told to load. */
const loaded = new Set();
/** Request id -> {resolve, reject, onMessage?}. */
const pending = new Map();
let worker = null;
let nextId = 1;

/**
 * Makes `wasm` (a module the page loaded from `url`) one the worker can run
 * scenarios in; `compiled` is the precompiled files (bytes) the light module
 * was given (`addCompiled`), so the worker's copy runs what the page's runs.
 */
export function registerModule(wasm, url, compiled = []) {
  modules.set(wasm, { url: new URL(url, import.meta.url).href, compiled });
}

/**
 * One more precompiled file for `wasm`'s copy in the worker (the page gave
 * its own `wasm.addCompiled(file)` first), and for workers started later.
 */
export function addCompiled(wasm, file) {
  const m = modules.get(wasm);
  if (!m) return;
  m.compiled = [...m.compiled, file];
  if (loaded.has(m.url)) theWorker().postMessage({ op: 'addCompiled', module: m.url, compiled: file });
}

/** `{url, compiled}`: where a worker loads `wasm` from, and the precompiled files it was given (for a seed sweep's own workers). */
export function moduleSource(wasm) {
  moduleUrl(wasm);
  return modules.get(wasm);
}

/** A ScenarioError (or any error) as the page's code expects it, from what crossed over. */
export function errorFrom({ name, message, field, reason, line, col }) {
  const e = new Error(message);
  e.name = name;
  Object.assign(e, { field, reason, line, col });
  return e;
}

function onMessage({ data }) {
  const call = pending.get(data.id);
  if (!call) return; // a request whose run was freed meanwhile
  if (data.type === 'reply') {
    pending.delete(data.id);
    call.resolve(data.value);
  } else if (data.type === 'error') {
    pending.delete(data.id);
    call.reject(errorFrom(data.error));
  } else call.onMessage?.(data);
}

function theWorker() {
  if (worker) return worker;
  // Beside this code: js/sim-worker.js for js/main.js, and for the bundle
  // in pkg/ the worker's own minified build there (xtask builds both).
  worker = new Worker(new URL('./sim-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = onMessage;
  worker.onerror = (ev) => {
    ev.preventDefault?.();
    const error = new Error(`the simulation worker failed: ${ev.message || 'it did not load'}`);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  return worker;
}

/** Starts the worker and has it load `wasm` now, so the first Run need not wait for either. */
export function warmUp(wasm) {
  moduleUrl(wasm);
}

/** Hands the worker `wasm`'s cold half, compiled (cold-half.js), for its copy of the module. */
export function giveColdHalf(wasm, cold) {
  theWorker().postMessage({ op: 'coldHalf', module: moduleUrl(wasm), cold });
}

/** The URL the worker loads `wasm` from, telling it to load it the first time. */
function moduleUrl(wasm) {
  const m = modules.get(wasm);
  if (!m) throw new Error('the simulation module was not registered with the worker (sim-client.js registerModule)');
  if (!loaded.has(m.url)) {
    theWorker().postMessage({ op: 'load', module: m.url, compiled: m.compiled });
    loaded.add(m.url);
  }
  return m.url;
}

/** Sends `message` as request `id`; resolves to its reply. */
function request(message, onMessageOf) {
  const id = nextId++;
  const reply = new Promise((resolve, reject) => pending.set(id, { resolve, reject, onMessage: onMessageOf }));
  theWorker().postMessage({ ...message, id });
  return { id, reply };
}

/** A run held by the worker: its trace, stacks and exports, asked for asynchronously. */
export class RemoteRun {
  constructor(id) {
    this.id = id;
    this.freed = false;
    /** Cursor moves not sent yet: [{move, resolve}]. */
    this.moves = [];
    /** Whether a cursor move is with the worker. */
    this.moving = false;
  }

  /** Whole events `from..from+max` as objects `{t, kind, ...}`. */
  events(from, max) {
    return this.ask({ op: 'events', from, max });
  }

  /** What each thread of a Python program is in at event `index` (wasm `stacks`). */
  stacks(index) {
    return this.ask({ op: 'stacks', index });
  }

  /**
   * Moves the run's cursor at the playhead (sim-worker.js `CURSOR_MOVES`:
   * `{to: 'seek', t}`, `{to: 'step', n}`, `{to: 'event', index}`, `{to:
   * 'back'}`, each with `endMs`, where the run ends on the page). Resolves
   * to `{before, eventCount, nowMs, atEnd, queues, stacks}`, the cursor's
   * place after it (`stacks`: at its last event). One move is with the
   * worker at a time; a move to a place (any but a step) drops the moves
   * still waiting, which resolve to null, so dragging the playhead never
   * queues up stale seeks.
   */
  moveCursor(move) {
    return new Promise((resolve, reject) => {
      if (move.to !== 'step') {
        for (const waiting of this.moves) waiting.resolve(null);
        this.moves = [];
      }
      this.moves.push({ move, resolve, reject });
      this.sendMove();
    });
  }

  sendMove() {
    if (this.moving || this.moves.length === 0) return;
    const { move, resolve, reject } = this.moves.shift();
    this.moving = true;
    this.ask({ op: 'cursor', move })
      .then(resolve, reject)
      .finally(() => {
        this.moving = false;
        this.sendMove();
      });
  }

  /**
   * The trace in Chrome Trace Event Format, as text, made by module `wasm`
   * (the full one: the light one has no exports; the worker runs the same
   * run again there when it ran elsewhere).
   */
  chromeTrace(wasm) {
    return this.ask({ op: 'chromeTrace', module: moduleUrl(wasm) });
  }

  /** The trace as JSON lines, as text, made by module `wasm` (as `chromeTrace`). */
  jsonl(wasm) {
    return this.ask({ op: 'jsonl', module: moduleUrl(wasm) });
  }

  ask(message) {
    if (this.freed) return Promise.reject(new Error('the run was freed'));
    return request({ ...message, run: this.id }).reply;
  }

  /** The worker forgets the run (and stops it, if it is still running). */
  free() {
    if (this.freed) return;
    this.freed = true;
    pending.delete(this.id);
    theWorker().postMessage({ op: 'free', run: this.id });
  }
}

/**
 * Starts a run of `json` in the worker, in the module `wasm`. `onSlice(msg)`
 * gets each `{cols, events, nowMs}` as it comes; the promise resolves to
 * `{metrics, pythonError, playState}` when the run is done, and rejects
 * with the simulation's ScenarioError for a bad scenario.
 * @returns {{run: RemoteRun, done: Promise<object>}}
 */
export function startRun(wasm, { json, seed, variant, schedule, play = false }, onSlice) {
  const module = moduleUrl(wasm);
  let settle;
  const done = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  const { id, reply } = request({ op: 'run', module, json, seed, variant, schedule, play }, (data) => {
    if (data.type === 'slice') onSlice(data);
    else if (data.type === 'done') {
      pending.delete(id);
      settle.resolve(data);
    }
  });
  // A run ends in 'done' (above) or an error (the request's rejection).
  reply.catch((e) => settle.reject(e));
  return { run: new RemoteRun(id), done };
}

/**
 * Explores `json`'s schedules in the worker (wasm `Explorer`), at most `max`
 * of them or `budgetMs` of wall time; `onProgress(report)` sees it grow.
 * @returns {{cancel: () => void, report: Promise<object>}}
 */
export function startExplore(wasm, { json, variant, max, budgetMs }, onProgress) {
  const module = moduleUrl(wasm);
  const { id, reply } = request({ op: 'explore', module, json, variant, max, budgetMs }, (data) => {
    if (data.type === 'progress') onProgress?.(data.report);
  });
  // Cancelled, the report is null.
  const cancel = () => {
    pending.get(id)?.resolve(null);
    pending.delete(id);
    theWorker().postMessage({ op: 'free', run: id });
  };
  return { cancel, report: reply };
}
