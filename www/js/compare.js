// Compare: two variants (or any two experiments) run with the same seed,
// side by side: their key metrics, timelines, latency and loop lag, and a
// table of the numbers that differ.

import { Timeline } from './timeline.js';
import { runToEnd } from './runner.js';
import { keyCards, metricValue } from './metrics-view.js';
import { histogram, series } from './charts.js';
import { fmtMs, fmtInt, fmtPct, escapeHtml, trim } from './format.js';
import { fillPresetOptions, findPreset, presetJson } from './presets.js';

const ROWS = [
  { path: 'time_ms', label: 'finished at', unit: 'ms' },
  { path: 'requests.p50_ms', label: 'latency p50', unit: 'ms', when: (m) => m.requests.sent > 0 },
  { path: 'requests.p99_ms', label: 'latency p99', unit: 'ms', when: (m) => m.requests.sent > 0 },
  { path: 'requests.max_ms', label: 'latency max', unit: 'ms', when: (m) => m.requests.sent > 0 },
  { path: 'requests.throughput_per_s', label: 'throughput /s', unit: 'num', when: (m) => m.requests.sent > 0 },
  { path: 'reactor.utilization', label: 'reactor busy', unit: 'pct' },
  { path: 'reactor.lag.p99_ms', label: 'loop lag p99', unit: 'ms' },
  { path: 'reactor.lag.max_ms', label: 'loop lag max', unit: 'ms' },
  { path: 'pool.max_queue', label: 'pool queue max', unit: 'int', when: (m) => m.pool.jobs > 0 },
  { path: 'gil.switches', label: 'GIL switches', unit: 'int', when: (m) => !!m.gil },
  { path: 'gil.wait_ms', label: 'GIL wait', unit: 'ms', when: (m) => !!m.gil },
  { path: 'counters[0].value', label: 'counter value', unit: 'int', when: (m) => m.counters.length > 0 },
  { path: 'counters[0].lost_updates', label: 'lost updates', unit: 'int', when: (m) => m.counters.length > 0 },
  { path: 'looping_calls[0].skipped', label: 'skipped ticks', unit: 'int', when: (m) => m.looping_calls.length > 0 },
  { path: 'events', label: 'trace events', unit: 'int' },
];

function fmt(v, unit) {
  if (v === undefined || v === null) return '–';
  if (unit === 'ms') return fmtMs(v);
  if (unit === 'pct') return fmtPct(v);
  if (unit === 'num') return trim(v, 3);
  return fmtInt(v);
}

export class CompareView {
  constructor(root, { wasm, presets, onChange }) {
    this.root = root;
    this.wasm = wasm;
    this.presets = presets;
    this.onChange = onChange;
    this.runs = [null, null];
    this.comparisons = 0; // started so far: a newer one supersedes a running one
    this.timelines = [];
    this.edited = null;
    this.editedVariant = undefined; // the variant the edited program runs as, as in the editor
    root.innerHTML = `
      <div class="cmp-bar">
        <label class="field"><span>A</span><select id="cmp-a"></select></label>
        <span class="vs">vs</span>
        <label class="field"><span>B</span><select id="cmp-b"></select></label>
        <label class="field seed"><span>Seed</span><input id="cmp-seed" type="number" min="0" step="1"></label>
        <button class="btn primary" id="cmp-run">Compare</button>
        <span class="muted small" id="cmp-info"></span>
      </div>
      <div class="cmp-grid">
        ${[0, 1]
          .map(
            (i) => `<section class="cmp-col" data-side="${'AB'[i]}">
              <header class="cmp-head"><span class="side-tag">${'AB'[i]}</span><div><h3 class="cmp-title"></h3><p class="cmp-sub muted small"></p></div></header>
              <div class="key-metrics cmp-keys"></div>
              <div class="tl-wrap cmp-tl"><canvas tabindex="0" aria-label="Timeline ${'AB'[i]}"></canvas><div class="tooltip" hidden></div></div>
              <div class="cmp-charts"><div class="m-chart"><div class="m-chart-t">latency histogram</div><div class="cmp-hist"></div></div>
              <div class="m-chart"><div class="m-chart-t">loop lag over time</div><div class="cmp-lag"></div></div></div>
            </section>`,
          )
          .join('')}
      </div>
      <section class="panel cmp-table-wrap"><h3>The numbers <small>B against A</small></h3><table class="cmp-table"></table></section>`;
    this.a = root.querySelector('#cmp-a');
    this.b = root.querySelector('#cmp-b');
    this.seed = root.querySelector('#cmp-seed');
    for (const sel of [this.a, this.b]) {
      fillPresetOptions(sel, presets);
      sel.addEventListener('change', () => this.compare());
    }
    this.seed.addEventListener('change', () => this.compare());
    root.querySelector('#cmp-run').addEventListener('click', () => this.compare());
    root.querySelectorAll('.cmp-col').forEach((col, i) => {
      this.timelines[i] = new Timeline(col.querySelector('canvas'), { compact: true, tooltip: col.querySelector('.tooltip') });
    });
  }

  /** The two choices, for the share link. */
  pair() {
    return { a: this.a.value, b: this.b.value };
  }

  /**
   * Opens the view for the experiment in the editor (its variants side by side).
   * `variant`: the one an edited Python program runs as in the editor.
   */
  show({ spec, json, edited, variant, seed, a, b }) {
    this.seed.value = String(seed ?? 1);
    // The editor's scenario, when edited, is offered as a choice of its own.
    for (const sel of [this.a, this.b]) {
      sel.querySelector('option[value="@edited"]')?.remove();
      if (edited) sel.prepend(new Option('Your edited scenario', '@edited'));
    }
    this.edited = edited ? json : null;
    this.editedVariant = edited ? variant : undefined;
    const p = findPreset(this.presets, spec || '')?.preset;
    const options = p && p.variants.length ? p.variants.map((v) => `${p.name}/${v.name}`) : [spec];
    const has = (sel, v) => !!v && [...sel.options].some((o) => o.value === v);
    const other = options.find((o) => o !== spec) ?? options[0];
    this.a.value = has(this.a, a) ? a : edited ? '@edited' : spec;
    this.b.value = has(this.b, b) ? b : edited ? spec : other;
    if (!this.a.value) this.a.selectedIndex = 0;
    if (!this.b.value) this.b.selectedIndex = Math.min(1, this.b.options.length - 1);
    this.compare();
  }

  jsonOf(spec) {
    if (spec === '@edited') return this.edited;
    return presetJson(this.wasm, spec);
  }

  titleOf(spec) {
    if (spec === '@edited') {
      const as = this.editedVariant ? `, variant ${this.editedVariant}` : '';
      return { title: 'Your edited scenario', sub: `from the editor${as}` };
    }
    const d = findPreset(this.presets, spec);
    return { title: d?.variant ? d.variant.title : d?.preset.title ?? spec, sub: d?.variant ? d.preset.title : '' };
  }

  /** Runs both sides, one after the other; a newer comparison replaces one in progress. */
  async compare() {
    const seed = Number(this.seed.value) || 0;
    const specs = [this.a.value, this.b.value];
    const started = performance.now();
    const id = ++this.comparisons;
    const superseded = () => id !== this.comparisons;
    const info = this.root.querySelector('#cmp-info');
    this.root.dataset.state = 'running';
    for (const [i, spec] of specs.entries()) {
      if (this.runs[i]) this.runs[i].sim.free();
      this.runs[i] = null;
      const col = this.root.querySelectorAll('.cmp-col')[i];
      const { title, sub } = this.titleOf(spec);
      col.querySelector('.cmp-title').textContent = title;
      col.querySelector('.cmp-sub').textContent = sub;
      let r;
      try {
        const onProgress = ({ events }) => { info.textContent = `running ${'AB'[i]}… ${events.toLocaleString('en-US')} events`; };
        const variant = spec === '@edited' ? this.editedVariant : undefined;
        r = await runToEnd(this.wasm, this.jsonOf(spec), seed, { variant, onProgress, cancelled: superseded });
      } catch (e) {
        if (superseded()) return;
        col.querySelector('.cmp-keys').innerHTML = `<p class="bad">${escapeHtml(e.message)}</p>`;
        this.timelines[i].setModel(null);
        continue;
      }
      if (!r) return; // a newer comparison took its place
      if (superseded()) {
        // One started while this result waited for its microtask: it owns the columns now.
        r.sim.free();
        return;
      }
      this.runs[i] = r;
      col.querySelector('.cmp-keys').innerHTML = keyCards(r.metrics, { compact: true });
      col.querySelector('.cmp-hist').innerHTML = histogram(r.metrics.requests.histogram, { height: 90 });
      col.querySelector('.cmp-lag').innerHTML = series(r.metrics.reactor.lag.series, { color: '#e5484d', endMs: r.metrics.time_ms, height: 80, label: 'loop lag samples' });
      this.timelines[i].setModel(r.model);
    }
    this.table();
    info.textContent = `both runs took ${Math.round(performance.now() - started)} ms`;
    this.root.dataset.state = 'ready';
    this.onChange?.();
  }

  table() {
    const [a, b] = this.runs.map((r) => r?.metrics);
    const t = this.root.querySelector('.cmp-table');
    if (!a || !b) {
      t.innerHTML = '';
      return;
    }
    const rows = ROWS.filter((r) => !r.when || r.when(a) || r.when(b));
    t.innerHTML = `<tr><th></th><th>A</th><th>B</th><th>B / A</th></tr>${rows
      .map((r) => {
        const va = metricValue(a, r.path);
        const vb = metricValue(b, r.path);
        const ratio = typeof va === 'number' && typeof vb === 'number' && va !== 0 ? vb / va : null;
        const cls = ratio === null || Math.abs(Math.log(ratio)) < 0.05 ? '' : ratio > 1 ? 'up' : 'down';
        return `<tr data-metric="${r.path}"><td>${r.label}</td><td>${fmt(va, r.unit)}</td><td>${fmt(vb, r.unit)}</td><td class="ratio ${cls}">${ratio === null ? '' : `${trim(ratio, 3)}×`}</td></tr>`;
      })
      .join('')}`;
  }
}
