// Seed sweeps: the program run with K seeds side by side, one simulation
// worker per core (sim-worker.js, each with its own copy of the wasm
// module), and the spread of a headline figure drawn as one dot per seed;
// a click on a dot runs that seed on the timeline.
//
// Each seed's figures are twine_web's `seed_figures` (wasm `seedFigures`),
// the same `twine-sim explore FILE --seeds K` lists under "seeds".

import { dots } from './charts.js';
import { escapeHtml, fmtInt, fmtMs } from './format.js';
import { errorFrom, moduleSource } from './sim-client.js';

/** Seeds a sweep runs unless told otherwise. */
export const DEFAULT_SEEDS = 20;

/** The figures a sweep can chart: key -> how to name and show it. */
export const FIGURES = {
  lost_updates: { label: 'lost updates', fmt: fmtInt },
  p99_ms: { label: 'p99 latency', fmt: (v) => fmtMs(v, 2) },
  last_line_ms: { label: 'last line printed at', fmt: (v) => fmtMs(v, 2) },
  time_ms: { label: 'run ended at', fmt: (v) => fmtMs(v, 2) },
};

/** Asks worker `w` for one reply. */
function ask(w, message) {
  return new Promise((resolve, reject) => {
    const id = Math.random();
    const onMessage = ({ data }) => {
      if (data.id !== id) return;
      w.removeEventListener('message', onMessage);
      if (data.type === 'reply') resolve(data.value);
      else reject(errorFrom(data.error));
    };
    w.addEventListener('message', onMessage);
    w.addEventListener('error', (ev) => reject(new Error(`a sweep worker failed: ${ev.message || 'it did not load'}`)), { once: true });
    w.postMessage({ ...message, id });
  });
}

/**
 * Runs seeds 1..`count` of the program in `navigator.hardwareConcurrency`
 * workers (at most one per seed). Calls `onFigures(figures)` as each seed
 * ends; resolves to every seed's figures in seed order, or null when
 * `cancelled()` said so (checked between seeds; the workers then stop).
 */
export async function sweepSeeds(wasm, json, variant, count, { onFigures, cancelled = () => false } = {}) {
  const { url, compiled } = moduleSource(wasm);
  const seeds = Array.from({ length: count }, (_, i) => i + 1);
  const n = Math.max(1, Math.min(seeds.length, navigator.hardwareConcurrency || 2));
  const workers = Array.from({ length: n }, () => new Worker(new URL('./sim-worker.js', import.meta.url), { type: 'module' }));
  const results = new Array(seeds.length);
  let next = 0;
  try {
    await Promise.all(
      workers.map(async (w) => {
        w.postMessage({ op: 'load', module: url, compiled });
        while (next < seeds.length && !cancelled()) {
          const i = next++;
          results[i] = await ask(w, { op: 'figures', module: url, json, variant, seed: seeds[i] });
          onFigures?.(results[i]);
        }
      }),
    );
  } finally {
    for (const w of workers) w.terminate();
  }
  return cancelled() ? null : results;
}

/** The figure most worth charting for these results: the first any seed has that varies, else the first any has. */
export function pickFigure(results) {
  const keys = Object.keys(FIGURES).filter((k) => results.some((r) => r && r[k] != null && (k !== 'lost_updates' || r[k] > 0)));
  const varies = keys.find((k) => new Set(results.map((r) => r?.[k])).size > 1);
  return varies ?? keys[0] ?? 'time_ms';
}

export class SweepView {
  /**
   * @param {HTMLElement} panel the section to show and hide
   * @param {HTMLElement} body where the chart goes
   * @param {(seed: number) => void} onRunSeed runs one seed on the timeline
   */
  constructor(panel, body, onRunSeed) {
    this.panel = panel;
    this.body = body;
    this.results = [];
    this.figure = null;
    body.addEventListener('click', (ev) => {
      const dot = ev.target.closest('[data-key]');
      if (dot) onRunSeed(Number(dot.dataset.key));
    });
    body.addEventListener('change', (ev) => {
      if (ev.target.matches('[data-testid=sweep-figure]')) {
        this.figure = ev.target.value;
        this.draw(this.done);
      }
    });
  }

  hide() {
    this.panel.hidden = true;
  }

  /** Starts showing a sweep of `count` seeds. */
  start(count) {
    this.count = count;
    this.results = [];
    this.figure = null;
    this.draw(false);
  }

  /** One more seed's figures. */
  add(figures) {
    this.results.push(figures);
    this.draw(false);
  }

  /** Every seed's figures, in seed order. */
  show(results) {
    this.results = results;
    this.draw(true);
  }

  draw(done) {
    this.done = done;
    this.panel.hidden = false;
    const results = this.results.filter(Boolean);
    const figure = this.figure ?? pickFigure(results);
    const { label, fmt } = FIGURES[figure];
    const points = results
      .filter((r) => r[figure] != null)
      .map((r) => ({ value: r[figure], key: r.seed, label: `seed ${r.seed}: ${fmt(r[figure])} (${escapeHtml(r.end)}); click to run it` }));
    const options = Object.entries(FIGURES)
      .map(([k, f]) => `<option value="${k}"${k === figure ? ' selected' : ''}>${f.label}</option>`)
      .join('');
    const sorted = points.map((p) => p.value).sort((a, b) => a - b);
    const median = sorted.length ? fmt(sorted[Math.floor((sorted.length - 1) / 2)]) : '-';
    const head = done ? `${fmtInt(results.length)} seeds` : `${fmtInt(results.length)} of ${fmtInt(this.count)} seeds…`;
    // Every seed's figures ride along for whoever checks them (the e2e test).
    const data = escapeHtml(JSON.stringify(results));
    this.body.innerHTML = `<p class="x-head" data-testid="sweep-summary" data-seeds="${results.length}" data-done="${done}" data-results="${data}">${head}:
        <select data-testid="sweep-figure" aria-label="Figure to chart">${options}</select>
        median ${median}, from ${sorted.length ? fmt(sorted[0]) : '-'} to ${sorted.length ? fmt(sorted[sorted.length - 1]) : '-'}</p>
      ${dots(points, { fmt, label: `${label} per seed` })}`;
  }

  error(message) {
    this.panel.hidden = false;
    this.body.innerHTML = `<p class="q-empty">${escapeHtml(message)}</p>`;
  }
}
