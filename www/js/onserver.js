// Run on this server: the model and the machine on one screen. The page
// simulates the experiment (the prediction) and asks the `twine serve` it
// came from to run the same scenario for real (`POST /api/run`, the real
// reactor, pool, threads and loopback clients: `twine run` in the server's
// process). The answer streams as the real run goes: the page shows how far
// it is (real time against the prediction's end, events received) and draws
// the measured timeline as its trace arrives; when the metrics come, each
// headline figure from both with their ratio, and the printed lines side by
// side.
//
// The server runs JSON scenarios. A preset program has a JSON form (the
// wasm `presetScenario`), which is what is sent and what is simulated for
// the prediction, so both columns are the same experiment; a program edited
// in the page has none, and the panel says how to run it for real instead.
// The button shows only when the server answers `GET /api/run` (main.js
// asks; this module loads on the first press).

import { Timeline } from './timeline.js';
import { TraceModel } from './trace-model.js';
import { runToEnd } from './runner.js';
import { keyMetricsFor, metricValue } from './metrics-view.js';
import { fmtMs, fmtInt, fmtPct, trim, escapeHtml } from './format.js';

/** Figures shown after the preset's headline ones, when the run has them. */
const MORE = [
  { path: 'time_ms', label: 'finished at', unit: 'ms' },
  { path: 'requests.completed', label: 'requests answered', unit: 'int', when: (m) => m.requests.sent > 0 },
  { path: 'requests.p50_ms', label: 'latency p50', unit: 'ms', when: (m) => m.requests.sent > 0 },
  { path: 'requests.p99_ms', label: 'latency p99', unit: 'ms', when: (m) => m.requests.sent > 0 },
  { path: 'requests.throughput_per_s', label: 'throughput /s', unit: 'num', when: (m) => m.requests.sent > 0 },
  { path: 'reactor.lag.p99_ms', label: 'loop lag p99', unit: 'ms', when: (m) => m.reactor.lag.samples > 0 },
  { path: 'reactor.longest_call_ms', label: 'longest reactor call', unit: 'ms' },
  { path: 'pool.max_queue', label: 'pool queue max', unit: 'int', when: (m) => m.pool.jobs > 0 },
  { path: 'counters[0].lost_updates', label: 'lost updates', unit: 'int', when: (m) => m.counters.length > 0 },
  { path: 'looping_calls[0].max_lag_ms', label: 'worst tick lag', unit: 'ms', when: (m) => m.looping_calls.length > 0 },
  { path: 'gil.switches', label: 'GIL switches', unit: 'int', when: (m) => !!m.gil },
];

const isPython = (text) => !/^\s*[{[]/.test(text);

/** A pool thread's name without its number: which idle worker takes a job is the OS's choice. */
const threadKind = (name) => (/^pool-\d+$/.test(name) ? 'pool' : name);

function fmt(v, unit) {
  if (typeof v !== 'number') return '–';
  if (unit === 'ms') return fmtMs(v);
  if (unit === 'pct') return fmtPct(v);
  if (unit === 'num') return trim(v, 3);
  return fmtInt(v);
}

/** The admin token the page was given (the Live server panel's field, or `#token=`). */
function token() {
  const field = document.querySelector('#live-token')?.value.trim();
  return field || new URLSearchParams(location.hash.replace(/^#/, '')).get('token') || '';
}

export class OnServer {
  /**
   * @param {HTMLElement} panel the section the comparison fills (hidden until used)
   * @param {HTMLButtonElement} button "Run on this server" (the page shows it once the server answers, and calls `run` on a press)
   * @param {{limits: {max_real_time_ms: number}, runModule: () => Promise<object>, experiment: () => {text: string, presetText: string, spec: string, variant?: string, seed: number, challenge: boolean}}} opts
   */
  constructor(panel, button, { limits, runModule, experiment }) {
    this.panel = panel;
    this.button = button;
    /** Resolves to the module that runs JSON scenarios (the full one), for the prediction. */
    this.runModule = runModule;
    this.experiment = experiment;
    /** What the server allows (its answer to `GET /api/run`). */
    this.limits = limits;
    this.runs = 0;
    panel.innerHTML = `
      <div class="panel-head"><h3>Prediction and measurement <small>the simulation beside a real run on this server</small></h3>
        <button class="btn ghost small" data-onserver="close" title="Hide this panel">Close</button></div>
      <div class="panel-body">
        <p class="onserver-status" data-testid="onserver-status"></p>
        <progress class="onserver-progress" data-testid="onserver-progress" hidden></progress>
        <table class="onserver-table" data-testid="onserver-table"></table>
        <p class="onserver-output muted small" data-testid="onserver-output"></p>
        <div class="onserver-tls" hidden>
          <div class="onserver-tl-h">Prediction: the simulation</div>
          <div class="tl-wrap" style="height: 200px"><canvas data-onserver="predicted" tabindex="0" aria-label="Timeline of the simulation"></canvas><div class="tooltip" hidden></div></div>
          <div class="onserver-tl-h">Measurement: the real reactor on this server, on the same time axis</div>
          <div class="tl-wrap" style="height: 200px"><canvas data-onserver="measured" tabindex="0" aria-label="Timeline of the real run"></canvas><div class="tooltip" hidden></div></div>
        </div>
      </div>`;
    const style = document.createElement('style');
    // Its own few rules, so the page's stylesheet stays the layout's: the
    // panel lies over the work area (whose grid is the page's layout) until closed.
    style.textContent = `
      #onserver-panel { position: fixed; top: 60px; right: 14px; bottom: 14px; width: min(960px, calc(100vw - 28px)); z-index: 30;
        box-shadow: 0 12px 36px rgba(0, 0, 0, 0.18); }
      .onserver-table { border-collapse: collapse; font-size: 12.5px; margin: 4px 0 8px; }
      .onserver-table th { text-align: right; font-weight: 600; padding: 3px 16px 3px 0; color: var(--muted); font-size: 11.5px; }
      .onserver-table td { text-align: right; padding: 3px 16px 3px 0; border-top: 1px solid var(--line-soft); font-family: var(--mono); font-size: 12px; }
      .onserver-table th:first-child, .onserver-table td:first-child { text-align: left; font-family: var(--sans); color: var(--muted); }
      .onserver-status[data-state=error] { color: #c62828; }
      .onserver-progress { width: 100%; height: 6px; margin: 0 0 6px; }
      .onserver-tl-h { font-size: 11.5px; color: var(--muted); margin: 6px 0 2px; }`;
    panel.append(style);
    const [a, b] = ['predicted', 'measured'].map((k) => panel.querySelector(`[data-onserver=${k}]`));
    this.timelines = [a, b].map((canvas) => new Timeline(canvas, { compact: true, tooltip: canvas.nextElementSibling }));
    // One time axis: a zoom or pan of either moves the other.
    for (const [i, canvas] of [a, b].entries()) {
      const sync = () =>
        requestAnimationFrame(() => {
          const [from, to] = [this.timelines[i], this.timelines[1 - i]];
          if (to.t0 !== from.t0 || to.t1 !== from.t1) to.setView(from.t0, from.t1);
        });
      for (const ev of ['wheel', 'pointermove', 'keydown', 'dblclick']) canvas.addEventListener(ev, sync, { passive: true });
    }
    panel.querySelector('[data-onserver=close]').addEventListener('click', () => { panel.hidden = true; });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !panel.hidden) panel.hidden = true;
    });
  }

  status(text, state = '') {
    const el = this.panel.querySelector('[data-testid=onserver-status]');
    el.textContent = text;
    el.dataset.state = state;
  }

  /**
   * The JSON scenario for the experiment in the editor, or null (with the
   * reason shown) when it has none.
   */
  scenario(wasm) {
    const { text, presetText, spec, variant, challenge } = this.experiment();
    if (!isPython(text)) return text;
    const name = spec.split('/')[0];
    if (text === presetText && !challenge && !spec.startsWith('json:')) {
      try {
        return wasm.presetScenario(name, variant);
      } catch {
        // a program with no JSON form: said below
      }
    }
    this.status(
      'This server runs JSON scenarios, and this program has none: an edited program (or one of your own) is not turned into one. ' +
        'To run it for real, save it as experiment.py beside twine.py (www/presets/) and run `python3 experiment.py --metrics` with Twisted installed; ' +
        'its metrics have the same fields as the simulation\'s.',
      'error',
    );
    return null;
  }

  /**
   * Simulates the experiment, runs it on the server, shows both. `shorter`:
   * a version cut to fit the server's time bound, which the user asked for.
   */
  async run(shorter = null) {
    const id = ++this.runs;
    this.panel.hidden = false;
    this.panel.dataset.state = 'running';
    this.panel.querySelector('[data-testid=onserver-table]').innerHTML = '';
    this.panel.querySelector('[data-testid=onserver-output]').textContent = '';
    this.panel.querySelector('.onserver-tls').hidden = true;
    delete this.panel.dataset.elapsedMs;
    delete this.panel.dataset.eventsReceived;
    // The full module reads the presets' JSON forms and simulates them.
    const wasm = await this.runModule();
    const json = shorter?.json ?? this.scenario(wasm);
    if (json === null) {
      this.panel.dataset.state = 'refused';
      return;
    }
    const { seed } = this.experiment();
    this.button.disabled = true;
    const bar = this.panel.querySelector('[data-testid=onserver-progress]');
    try {
      this.status('Simulating the prediction…');
      const predicted = await runToEnd(wasm, json, seed);
      // The predicted timeline fetches whole events from its run in the
      // worker (tooltips), so it lives until the next run replaces it.
      this.predictedRun?.free();
      this.predictedRun = predicted.remote;
      if (id !== this.runs) return;
      const predictedMs = predicted.metrics.time_ms;
      this.status(`Running it for real on ${location.host} (at most ${this.boundText()} of real time)…`);
      // The measured timeline grows as the trace arrives, on the
      // prediction's time axis (widened if the real run goes on longer).
      const model = new TraceModel();
      model.ensureCores(0);
      let endMs = predicted.durationMs;
      this.showTimelines(predicted.model, model, endMs);
      const measuredTl = this.timelines[1];
      const measured = await this.fetchRun(json, seed, {
        trace: (events) => {
          if (id !== this.runs) return;
          model.append(events);
          model.index();
          measuredTl.canvas.dataset.events = String(model.eventCount);
          measuredTl.invalidate();
        },
        progress: ({ elapsed_ms: elapsedMs, events }) => {
          if (id !== this.runs) return;
          if (elapsedMs > endMs) {
            endMs = elapsedMs * 1.25;
            this.setAxis(endMs);
          }
          bar.hidden = false;
          bar.max = Math.max(predictedMs, elapsedMs);
          bar.value = elapsedMs;
          this.panel.dataset.elapsedMs = String(elapsedMs);
          this.panel.dataset.eventsReceived = String(model.eventCount);
          this.status(
            `Running it for real on ${location.host}: ${(elapsedMs / 1000).toFixed(2)} s of real time so far; ` +
              `the prediction ends at ${(predictedMs / 1000).toFixed(2)} s, and the server stops a run at ${this.boundText()}. ` +
              `${fmtInt(events)} trace events made, ${fmtInt(model.eventCount)} received.`,
          );
        },
      });
      if (id !== this.runs) return;
      bar.hidden = true;
      if (measured.refused) this.refused(measured.refused, json);
      else {
        model.finish(measured.metrics.time_ms);
        this.show(predicted, measured, model, seed, shorter?.what);
      }
    } catch (e) {
      if (id !== this.runs) return;
      bar.hidden = true;
      this.status(e.message, 'error');
      this.panel.dataset.state = 'error';
    } finally {
      if (id === this.runs) this.button.disabled = false;
    }
  }

  boundText() {
    return `${trim((this.limits?.max_real_time_ms ?? 10000) / 1000, 1)} s`;
  }

  /** Says why the server would not run it; for a run too long, offers a shorter one. */
  refused({ status, field, error }, json) {
    let text = `The server did not run it: ${error}`;
    if (status === 401) text += ' (give the token in the Live server panel, or open the page with #token=TOKEN)';
    this.status(text, 'error');
    this.panel.dataset.state = 'refused';
    const cut = status === 422 ? shortened(json, field, this.limits?.max_real_time_ms ?? 10000) : null;
    if (!cut) return;
    const offer = document.createElement('button');
    offer.className = 'btn small';
    offer.dataset.testid = 'onserver-shorter';
    offer.textContent = `Run ${cut.what} instead`;
    offer.title = 'Both the prediction and the measurement then run this shorter version';
    offer.addEventListener('click', () => this.run(cut));
    this.panel.querySelector('[data-testid=onserver-status]').append(' ', offer);
  }

  /**
   * `POST /api/run`, its JSON lines read as they arrive: `on.trace(events)`
   * and `on.progress({elapsed_ms, events})` while the run goes; resolves to
   * `{metrics, sent, total}` when it is over, or to `{refused: {status,
   * field, error}}` when the server would not start it. A run that fails,
   * or an answer that breaks off, rejects with the reason.
   */
  async fetchRun(json, seed, on) {
    const headers = { 'Content-Type': 'application/json' };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const res = await fetch('/api/run', { method: 'POST', headers, body: JSON.stringify({ scenario: json, seed }), cache: 'no-store' });
    if (!res.ok) {
      const refused = { status: res.status, field: '', error: `the server answered ${res.status}` };
      try {
        Object.assign(refused, await res.json());
      } catch {
        // not a refusal of ours (a proxy's page, say): the status says it
      }
      return { refused };
    }
    const out = { metrics: null, sent: 0, total: 0, done: false };
    const take = (line) => {
      if (!line.trim()) return;
      const msg = JSON.parse(line);
      if (msg.type === 'trace') on.trace(msg.events);
      else if (msg.type === 'progress') on.progress(msg);
      else if (msg.type === 'metrics') out.metrics = msg.metrics;
      else if (msg.type === 'done') [out.sent, out.total, out.done] = [msg.sent, msg.events, true];
      else if (msg.type === 'error') throw new Error(`The server could not run it: ${msg.message}`);
    };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        // Once `done` is in, the answer is whole; a stream reported broken
        // after it (Chromium does, now and then) has lost nothing.
        if (out.done) break;
        throw new Error(`The answer from ${location.host} broke off before the run's end (${e.message}).`);
      }
      if (chunk.done) break;
      pending += decoder.decode(chunk.value, { stream: true });
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        take(line);
      }
    }
    // Read to the end, not cancelled after `done`: a cancelled body is a
    // failed request to the browser.
    take(pending + decoder.decode());
    if (!out.metrics) throw new Error(`The server ended the answer before the run's metrics: it may have stopped or restarted.`);
    return out;
  }

  show(predicted, measured, model, seed, what) {
    const p = predicted.metrics;
    const m = measured.metrics;
    const seen = new Set();
    const rows = [...keyMetricsFor(p), ...MORE].filter((r) => {
      if (seen.has(r.path) || (r.when && !r.when(p) && !r.when(m))) return false;
      seen.add(r.path);
      return typeof metricValue(p, r.path) === 'number' || typeof metricValue(m, r.path) === 'number';
    });
    this.panel.querySelector('[data-testid=onserver-table]').innerHTML =
      `<tr><th></th><th>predicted (simulation)</th><th>measured (this server)</th><th>measured ÷ predicted</th></tr>` +
      rows
        .map((r) => {
          const [vp, vm] = [metricValue(p, r.path), metricValue(m, r.path)];
          const ratio = typeof vp === 'number' && typeof vm === 'number' ? (vp === 0 ? (vm === 0 ? 1 : null) : vm / vp) : null;
          return `<tr data-metric="${escapeHtml(r.path)}" data-predicted="${vp ?? ''}" data-measured="${vm ?? ''}">
            <td>${escapeHtml(r.label)}</td><td>${fmt(vp, r.unit)}</td><td>${fmt(vm, r.unit)}</td>
            <td class="ratio">${ratio === null ? '–' : `${trim(ratio, 3)}×`}</td></tr>`;
        })
        .join('');
    this.panel.querySelector('[data-testid=onserver-output]').textContent = compareOutput(p.output, m.output);
    this.setAxis(Math.max(predicted.durationMs, m.time_ms));
    this.timelines[1].canvas.dataset.events = String(model.eventCount);
    const cut = measured.sent < measured.total ? ` The trace shows its first ${fmtInt(measured.sent)} of ${fmtInt(measured.total)} events.` : '';
    const ended = m.end_reason === 'duration' && p.end_reason !== 'duration' ? ` The real run was cut off at the server's bound of ${this.boundText()}.` : '';
    const which = what ? ` Both ran ${what}, to fit the server's bound.` : '';
    this.status(
      `Seed ${seed}.${which} Measured now on ${location.host}: real time, real threads, whatever else this machine is doing; the simulation's figures are its model.${ended}${cut}`,
    );
    this.panel.dataset.state = 'done';
  }

  /** Shows both timelines, the measured one still empty, on an axis to `endMs`. */
  showTimelines(predictedModel, measuredModel, endMs) {
    this.panel.querySelector('.onserver-tls').hidden = false;
    const [a, b] = this.timelines;
    a.resize();
    b.resize();
    a.setModel(predictedModel);
    b.setModel(measuredModel);
    b.canvas.dataset.events = '0';
    this.setAxis(endMs);
  }

  /** Both timelines from just before 0 to just after `endMs`. */
  setAxis(endMs) {
    const pad = endMs * 0.02;
    for (const tl of this.timelines) tl.setView(-pad / 4, endMs + pad);
  }
}

/**
 * Whether the two runs printed the same lines in the same order, or where
 * they part. Numbers in a line (a `{time}` filled in, say) are the
 * machine's, so lines that differ only in them count as the same, and
 * the note says so.
 */
function compareOutput(predicted, measured) {
  if (predicted.length === 0 && measured.length === 0) return '';
  const key = (l, masked) => `${threadKind(l.name)}: ${masked ? l.text.replace(/\d+(\.\d+)?/g, '#') : l.text}`;
  const n = Math.max(predicted.length, measured.length);
  let numbersDiffer = false;
  for (let i = 0; i < n; i++) {
    const [a, b] = [predicted[i], measured[i]];
    if (a && b && key(a, false) !== key(b, false)) numbersDiffer = true;
    if (!a || !b || key(a, true) !== key(b, true)) {
      const show = (l) => (l ? `“${l.text}” (${l.name})` : 'nothing');
      return `Printed lines part at line ${i + 1}: the simulation printed ${show(a)}, this server ${show(b)}.`;
    }
  }
  const lines = `${n} line${n === 1 ? '' : 's'}`;
  return numbersDiffer
    ? `Printed: the same ${lines} in the same order, but for the numbers in them (times measured are the machine's); a pool thread counts as any pool thread.`
    : `Printed: the same ${lines} in the same order (a pool thread counts as any pool thread).`;
}

/**
 * The scenario cut to fit the server's bound of `limitMs` (with a fifth of
 * it to spare for the start and the last answers), for the field the server
 * named; null when there is no such cut.
 */
function shortened(json, field, limitMs) {
  let doc;
  try {
    doc = JSON.parse(json);
  } catch {
    return null;
  }
  const budgetMs = limitMs * 0.8;
  const open = doc?.clients?.open;
  if (field === 'clients.open.requests' && open?.rate_per_s > 0) {
    const n = Math.floor(((budgetMs - (open.start_ms ?? 0)) / 1000) * open.rate_per_s);
    if (n < 1) return null;
    open.requests = n;
    if (doc.duration_ms > limitMs) doc.duration_ms = limitMs;
    return { json: JSON.stringify(doc, null, 2), what: `the first ${fmtInt(n)} requests` };
  }
  if (field === 'duration_ms') {
    doc.duration_ms = budgetMs;
    return { json: JSON.stringify(doc, null, 2), what: `the first ${trim(budgetMs / 1000, 1)} s` };
  }
  return null;
}
