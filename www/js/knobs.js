// The common knobs: each one edits one value in the scenario's text (a JSON
// field, or a literal in a Python program's settings), so the editor always
// shows exactly what runs.

import { getIn, joinPath } from './jsontext.js';
import { trim } from './format.js';
import { programKnobs } from './program-knobs.js';

const DURATION_STEPS = ['cpu', 'io', 'sleep'];
/** Steps that hold steps: the list itself, or its `steps` field. */
const NESTED = {
  defer_to_thread: [],
  call_in_thread: [],
  call_when_running: [],
  call_from_thread: [],
  on_shutdown: [],
  errback: [],
  lock: ['steps'],
  repeat: ['steps'],
  call_later: ['steps'],
  looping_call: ['steps'],
};

/** The longest `cpu` / `io` / `sleep` step in a program: [path, kind, ms]. */
function longestStep(steps, base) {
  let best = null;
  if (!Array.isArray(steps)) return best;
  steps.forEach((step, i) => {
    if (!step || typeof step !== 'object') return;
    const [key] = Object.keys(step);
    const here = [...base, i, key];
    if (DURATION_STEPS.includes(key) && typeof step[key] === 'number') {
      if (!best || step[key] > best.ms) best = { path: here, kind: key, ms: step[key] };
    } else if (Object.hasOwn(NESTED, key)) {
      const inner = longestStep(getIn(step[key], NESTED[key]), [...here, ...NESTED[key]]);
      if (inner && (!best || inner.ms > best.ms)) best = { ...inner, inThread: inner.inThread || key === 'defer_to_thread' || key === 'call_in_thread' };
    }
  });
  return best;
}

/** Where the scenario's "work" is: the server handler's longest step, else the first thread's. */
export function findWork(doc) {
  if (doc?.server?.handler) {
    const w = longestStep(doc.server.handler, ['server', 'handler']);
    if (w) return { ...w, per: 'request' };
  }
  if (Array.isArray(doc?.threads) && doc.threads[0]) {
    const w = longestStep(doc.threads[0].steps, ['threads', 0, 'steps']);
    if (w) return { ...w, per: 'thread' };
  }
  if (Array.isArray(doc?.main)) {
    const w = longestStep(doc.main, ['main']);
    if (w) return { ...w, per: 'call' };
  }
  return null;
}

export class Knobs {
  constructor(root, { onChange }) {
    this.root = root;
    this.onChange = onChange;
    this.work = null;
    this.python = false; // the knobs edit a Python program: `onChange(knobName, value)`
    root.innerHTML = `
      <label class="knob" data-knob="cores"><span>Cores</span><input type="number" min="1" max="64" step="1" inputmode="numeric"></label>
      <label class="knob" data-knob="pool"><span>Pool threads</span><input type="number" min="1" max="1024" step="1" inputmode="numeric"></label>
      <label class="knob switch" data-knob="gil"><span>GIL</span><input type="checkbox" role="switch"><i aria-hidden="true"></i></label>
      <label class="knob" data-knob="rate"><span>Requests /s</span><input type="number" min="0.1" step="any" inputmode="decimal"></label>
      <label class="knob" data-knob="work"><span class="work-label">Work (ms)</span><input type="number" min="0" step="any" inputmode="decimal"></label>
      <label class="knob" data-knob="seed"><span>Seed</span><input type="number" min="0" step="1" inputmode="numeric"></label>`;
    this.inputs = {};
    for (const el of root.querySelectorAll('[data-knob]')) this.inputs[el.dataset.knob] = el.querySelector('input');
    const fire = (name, value) => {
      const path = this.python ? name : this.pathOf(name);
      if (path) this.onChange(path, value);
    };
    for (const [name, input] of Object.entries(this.inputs)) {
      input.addEventListener('change', () => {
        if (input.type === 'checkbox') return fire(name, input.checked);
        if (input.value === '' || !Number.isFinite(Number(input.value))) return;
        const v = Number(input.value);
        fire(name, input.step === '1' ? Math.round(v) : v);
      });
    }
  }

  pathOf(name) {
    switch (name) {
      case 'cores': return ['machine', 'cores'];
      case 'pool': return ['pool', 'threads'];
      case 'gil': return ['machine', 'gil'];
      case 'rate': return ['clients', 'open', 'rate_per_s'];
      case 'work': return this.work?.path ?? null;
      case 'seed': return 'seed';
      default: return null;
    }
  }

  /**
   * Shows a Python program's settings: a knob for each one it writes as a
   * literal; the others are hidden, as a knob that changed nothing would mislead.
   */
  syncProgram(text, seed, { keepSeed = false } = {}) {
    this.python = true;
    const found = programKnobs(text);
    const titles = {
      cores: 'twine.machine(cores=N) in the program',
      gil: 'twine.machine(gil=True|False) in the program',
      pool: 'reactor.suggestThreadPoolSize(N) in the program',
      rate: 'twine.clients(rate_per_s=N) in the program',
    };
    for (const name of ['cores', 'pool', 'gil', 'rate', 'work']) {
      const input = this.inputs[name];
      const knob = input.closest('.knob');
      const at = found[name];
      knob.classList.toggle('absent', !at);
      knob.classList.remove('off');
      input.disabled = !at;
      if (!at) continue;
      knob.title = titles[name];
      if (document.activeElement !== input) {
        if (input.type === 'checkbox') input.checked = at.value;
        else input.value = String(at.value);
      }
    }
    const seedInput = this.inputs.seed;
    seedInput.closest('.knob').title = 'The seed: same program and seed, same run';
    if ((!keepSeed || seedInput.value === '') && document.activeElement !== seedInput) seedInput.value = String(seed);
  }

  /** Shows the scenario's values (defaults where it has none). */
  sync(doc, seed, { keepSeed = false } = {}) {
    if (!doc) return;
    this.python = false;
    for (const el of this.root.querySelectorAll('.knob.absent')) el.classList.remove('absent');
    const set = (name, value, enabled = true, title = '') => {
      const input = this.inputs[name];
      if (document.activeElement !== input) {
        if (input.type === 'checkbox') input.checked = !!value;
        else input.value = value === undefined || value === null ? '' : String(value);
      }
      input.disabled = !enabled;
      input.closest('.knob').classList.toggle('off', !enabled);
      input.closest('.knob').title = title;
    };
    set('cores', getIn(doc, ['machine', 'cores']) ?? 4, true, 'machine.cores: CPU cores (default 4)');
    set('pool', getIn(doc, ['pool', 'threads']) ?? 10, true, 'pool.threads: the reactor thread pool size (default 10)');
    set('gil', getIn(doc, ['machine', 'gil']) ?? false, true, 'machine.gil: a global interpreter lock, as in CPython');
    const open = getIn(doc, ['clients', 'open']);
    set('rate', open?.rate_per_s ?? '', !!open, open ? 'clients.open.rate_per_s' : 'This scenario has no open-loop clients');
    this.work = findWork(doc);
    const w = this.work;
    this.root.querySelector('.work-label').textContent = w ? `${w.kind} per ${w.per} (ms)` : 'Work (ms)';
    set('work', w ? trim(w.ms, 6) : '', !!w, w ? `${joinPath(w.path)}${w.inThread ? ' (in a pool thread)' : ''}` : 'No cpu, io or sleep step to change');
    if (!keepSeed || this.inputs.seed.value === '') set('seed', seed, true, 'The seed: same scenario and seed, same run');
  }

  /** Marks the knob editing `field` (a ScenarioError's), if any. */
  setError(field) {
    for (const [name, input] of Object.entries(this.inputs)) {
      if (this.python) {
        input.closest('.knob').classList.remove('bad');
        continue;
      }
      const p = this.pathOf(name);
      const bad = !!field && Array.isArray(p) && (field === joinPath(p) || field.startsWith(`${joinPath(p)}.`));
      input.closest('.knob').classList.toggle('bad', bad);
    }
  }
}
