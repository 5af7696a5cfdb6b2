// Compare: two variants (or any two experiments) run with the same seed,
// side by side on one time axis: their key metrics, timelines, latency and
// loop lag, and a table of the figures that apply to either, with each
// difference judged better or worse for B (compare-figures.js).

import { Timeline } from './timeline.js';
import { runToEnd } from './runner.js';
import { keyCards } from './metrics-view.js';
import { histogram, series, sharedBuckets } from './charts.js';
import { fmtMs, escapeHtml } from './format.js';
import { fillPresetOptions, findPreset, presetJson } from './presets.js';
import { compareFigures, fmtFigure, SAME_WITHIN } from './compare-figures.js';

/** Where a run's timeline ends: its last event, or later when the clock ran on. */
const runEnd = (r) => Math.max(r.model.endMs, r.metrics.time_ms);

/**
 * One time axis for both sides: the longer run sets the scale, and a zoom,
 * pan or playhead move on either timeline moves the other with it.
 */
class SharedAxis {
  constructor() {
    this.timelines = [];
    this.ends = []; // per side, where its run ends (ms); undefined while none
    this.syncing = false;
  }

  /** The axis' extent: 0 to the longer run's end. */
  get endMs() {
    const ends = this.ends.filter((e) => Number.isFinite(e));
    return ends.length ? Math.max(...ends) : 1;
  }

  /** Fits both timelines to the longer run, as Timeline.fit fits one. */
  fit() {
    const b = Math.max(this.endMs, 1e-6);
    const pad = b * 0.02;
    this.setView(-pad * 0.25, b + pad);
  }

  setView(t0, t1, from = null) {
    if (this.syncing) return;
    this.syncing = true;
    for (const tl of this.timelines) {
      if (from === null) tl.scrollY = 0; // a fit shows the lanes from the top, as Timeline.fit does
      if (tl !== from) tl.setView(t0, t1);
    }
    this.syncing = false;
  }

  setPlayhead(ms) {
    for (const tl of this.timelines) tl.setPlayhead(ms);
  }
}

/** A compare timeline: its view is the shared axis', and it marks where its own run ends. */
class AxisTimeline extends Timeline {
  constructor(canvas, opts, axis, side) {
    super(canvas, opts);
    this.axis = axis;
    this.side = side;
    axis.timelines.push(this);
  }

  setView(t0, t1) {
    super.setView(t0, t1);
    this.axis?.setView(t0, t1, this);
  }

  fit() {
    if (this.axis) this.axis.fit();
    else super.fit();
  }

  draw() {
    super.draw();
    this.placeExtent();
  }

  /**
   * The run's extent on the shared axis, in the page (the ruler under the
   * canvas, and the shade over the canvas past the run's end), placed with
   * the same time-to-pixel mapping the canvas is drawn with.
   */
  placeExtent() {
    const wrap = this.canvas.parentElement;
    const ruler = wrap.parentElement.querySelector('.cmp-ruler');
    const bar = ruler?.querySelector('.cmp-extent');
    const after = wrap.querySelector('.cmp-after');
    const end = this.axis.ends[this.side];
    const shown = !!this.model && Number.isFinite(end);
    if (bar) bar.hidden = !shown;
    if (after) after.hidden = !shown;
    if (!shown || !bar || !after) return;
    const x0 = this.xAt(0);
    const x1 = this.xAt(end);
    const left = Math.max(this.plotX, x0);
    const right = Math.min(this.plotX + this.plotW, x1);
    bar.style.left = `${left}px`;
    bar.style.width = `${Math.max(0, right - left)}px`;
    bar.dataset.endMs = String(end);
    const plotRight = this.plotX + this.plotW + 4;
    after.style.left = `${Math.min(plotRight, Math.max(this.plotX, x1))}px`;
    after.style.width = `${Math.max(0, plotRight - Math.max(this.plotX, x1))}px`;
  }
}

export class CompareView {
  /** `runModule`: resolves to the module that runs JSON scenarios (the full one). */
  constructor(root, { presets, runModule, onChange }) {
    this.root = root;
    this.runModule = runModule;
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
              <div class="tl-wrap cmp-tl"><canvas tabindex="0" aria-label="Timeline ${'AB'[i]}"></canvas><div class="cmp-after" hidden><span></span></div><div class="tooltip" hidden></div></div>
              <div class="cmp-ruler" title="This run on the time axis both sides share"><span class="cmp-extent" hidden></span></div>
              <div class="cmp-charts"><div class="m-chart cmp-hist-c"><div class="m-chart-t">latency histogram</div><div class="cmp-hist"></div></div>
              <div class="m-chart cmp-lag-c"><div class="m-chart-t">loop lag over time</div><div class="cmp-lag"></div></div></div>
            </section>`,
          )
          .join('')}
      </div>
      <section class="panel cmp-table-wrap"><h3>The numbers <small>B against A: green where B is better, red where worse, grey within ±${Math.round((SAME_WITHIN - 1) * 100)} % (what another seed could change)</small></h3><table class="cmp-table"></table></section>`;
    this.a = root.querySelector('#cmp-a');
    this.b = root.querySelector('#cmp-b');
    this.seed = root.querySelector('#cmp-seed');
    for (const sel of [this.a, this.b]) {
      fillPresetOptions(sel, presets);
      sel.addEventListener('change', () => this.compare());
    }
    this.seed.addEventListener('change', () => this.compare());
    root.querySelector('#cmp-run').addEventListener('click', () => this.compare());
    this.axis = new SharedAxis();
    // A click on either timeline moves the playhead on both.
    const seek = (ms) => this.setPlayhead(ms);
    root.querySelectorAll('.cmp-col').forEach((col, i) => {
      const opts = { compact: true, tooltip: col.querySelector('.tooltip'), onSeek: seek, onSelect: (ev, t) => seek(t) };
      this.timelines[i] = new AxisTimeline(col.querySelector('canvas'), opts, this.axis, i);
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

  /** Puts the playhead at `ms` on both sides. */
  setPlayhead(ms) {
    if (!Number.isFinite(ms)) return;
    this.axis.setPlayhead(ms);
    this.root.dataset.playhead = String(ms);
  }

  /** The JSON scenario `spec` names, read by `wasm` (the full module: the light one has no JSON presets). */
  jsonOf(spec, wasm) {
    if (spec === '@edited') return this.edited;
    return presetJson(wasm, spec);
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
    this.axis.ends = [];
    this.axis.setPlayhead(null);
    delete this.root.dataset.playhead;
    for (const [i, spec] of specs.entries()) {
      if (this.runs[i]) this.runs[i].remote.free();
      this.runs[i] = null;
      const col = this.root.querySelectorAll('.cmp-col')[i];
      const { title, sub } = this.titleOf(spec);
      col.querySelector('.cmp-title').textContent = title;
      col.querySelector('.cmp-sub').textContent = sub;
      let r;
      try {
        const onProgress = ({ events }) => { info.textContent = `running ${'AB'[i]}… ${events.toLocaleString('en-US')} events`; };
        const variant = spec === '@edited' ? this.editedVariant : undefined;
        const wasm = await this.runModule();
        r = await runToEnd(wasm, this.jsonOf(spec, wasm), seed, { variant, onProgress, cancelled: superseded });
      } catch (e) {
        if (superseded()) return;
        col.querySelector('.cmp-keys').innerHTML = `<p class="bad">${escapeHtml(e.message)}</p>`;
        this.axis.ends[i] = undefined;
        this.timelines[i].setModel(null);
        continue;
      }
      if (!r) return; // a newer comparison took its place
      if (superseded()) {
        // One started while this result waited for its microtask: it owns the columns now.
        r.remote.free();
        return;
      }
      this.runs[i] = r;
      col.querySelector('.cmp-keys').innerHTML = keyCards(r.metrics, { compact: true });
      col.dataset.endMs = String(runEnd(r));
      // Setting the model fits the shared axis, which now knows this run's end.
      this.axis.ends[i] = runEnd(r);
      this.timelines[i].setModel(r.model);
    }
    this.charts();
    this.table();
    info.textContent = `both runs took ${Math.round(performance.now() - started)} ms`;
    this.root.dataset.state = 'ready';
    this.onChange?.();
  }

  /**
   * The latency histograms and loop-lag plots, each shown only when a side
   * has requests or lag samples; the histograms over the same buckets and
   * one count scale, the lag plots on the shared time axis and one lag
   * scale, so a short bar or a flat line is as short or flat as it looks.
   */
  charts() {
    const ms = this.runs.map((r) => r?.metrics);
    const any = (has) => ms.some((m) => m && has(m));
    const endMs = this.axis.endMs;
    const maxValue = ms.reduce((top, m) => (m ? m.reactor.lag.series.reduce((t, p) => Math.max(t, p[1]), top) : top), 0);
    const hists = sharedBuckets(ms.map((m) => m?.requests.histogram));
    this.root.querySelectorAll('.cmp-col').forEach((col, i) => {
      const m = ms[i];
      const hist = any((x) => x.requests.sent > 0);
      const lag = any((x) => x.reactor.lag.samples > 0);
      col.querySelector('.cmp-hist-c').hidden = !hist;
      col.querySelector('.cmp-lag-c').hidden = !lag;
      col.querySelector('.cmp-charts').hidden = !hist && !lag;
      col.querySelector('.cmp-hist').innerHTML = m && hist ? histogram(hists.lists[i], { height: 90, maxCount: hists.maxCount }) : '';
      col.querySelector('.cmp-lag').innerHTML = m && lag ? series(m.reactor.lag.series, { color: '#e5484d', endMs, maxValue, height: 80, label: 'loop lag samples' }) : '';
      const after = col.querySelector('.cmp-after span');
      after.textContent = m ? `${'AB'[i]} ended at ${fmtMs(this.axis.ends[i])}` : '';
      const extent = col.querySelector('.cmp-extent');
      extent.textContent = m ? `${'AB'[i]}: 0 to ${fmtMs(this.axis.ends[i])}` : '';
    });
  }

  table() {
    const [a, b] = this.runs.map((r) => r?.metrics);
    const t = this.root.querySelector('.cmp-table');
    if (!a || !b) {
      t.innerHTML = '';
      return;
    }
    const words = { better: 'B better', worse: 'B worse', same: 'about the same', differs: '', none: '' };
    t.innerHTML = `<tr><th></th><th>A</th><th>B</th><th>B / A</th></tr>${compareFigures(a, b)
      .map(({ figure: f, a: va, b: vb, text, verdict }) => {
        const direction = f.better ? `${f.better} is better` : 'neither direction is better';
        return `<tr data-metric="${f.path}" data-verdict="${verdict}" title="${escapeHtml(f.label)}: ${direction}"><td>${escapeHtml(f.label)}</td><td>${fmtFigure(va, f.unit)}</td><td>${fmtFigure(vb, f.unit)}</td><td class="ratio ${verdict}">${text}${words[verdict] ? ` <small>${words[verdict]}</small>` : ''}</td></tr>`;
      })
      .join('')}`;
  }
}
