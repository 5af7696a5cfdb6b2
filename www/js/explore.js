// Explore: run the program under every schedule of its threads' visible
// operations (shared globals and attributes, locks, prints, counter steps)
// and list the distinct outcomes, how many schedules reach each, and a
// button that replays one of them on the timeline.
//
// The exploring is twine_web's (`Explorer` in the wasm module, the same as
// `twine-sim explore`), run in the simulation worker; this file shows its
// report.

import { escapeHtml, fmtInt } from './format.js';
import { startExplore } from './sim-client.js';

/** Schedules the page runs at most before it reports what it found so far. */
export const MAX_SCHEDULES = 2000;
/** Wall time the worker spends exploring before it reports what it found so far. */
const BUDGET_MS = 8000;

/**
 * Explores the program's schedules in the simulation worker, reporting as
 * it goes. Resolves to the report (`complete` false if the schedule or time
 * budget ran out first), or null when `cancelled()` said so (checked at
 * each report, and the worker then stops).
 */
export async function exploreProgram(wasm, json, variant, { onProgress, cancelled = () => false } = {}) {
  const exploring = startExplore(wasm, { json, variant, max: MAX_SCHEDULES, budgetMs: BUDGET_MS }, (report) => {
    if (cancelled()) exploring.cancel();
    else onProgress?.(report);
  });
  const report = await exploring.report;
  return report && !cancelled() ? report : null;
}

/** `counter = 1, name = 'x'`: an outcome's final shared values. */
function describeValues(counters) {
  const parts = Object.entries(counters).map(([k, v]) => `${escapeHtml(k)} = <b>${escapeHtml(typeof v === 'string' ? `'${v}'` : String(v))}</b>`);
  return parts.length ? parts.join(', ') : '<span class="muted">no shared values</span>';
}

const ENDS = { deadlock: 'deadlock', error: 'ended in an error', duration: 'ran out of time', event_limit: 'hit the event limit' };

export class ExploreView {
  /**
   * @param {HTMLElement} panel the section to show and hide
   * @param {HTMLElement} body where the report goes
   * @param {(example: string) => void} onReplay replays an outcome's example schedule
   */
  constructor(panel, body, onReplay) {
    this.panel = panel;
    this.body = body;
    body.addEventListener('click', (ev) => {
      const button = ev.target.closest('[data-example]');
      if (button) onReplay(button.dataset.example);
    });
  }

  hide() {
    this.panel.hidden = true;
  }

  busy(report) {
    this.panel.hidden = false;
    const n = report ? ` ${fmtInt(report.schedules)} so far, ${report.outcomes.length} distinct outcomes` : '';
    this.body.innerHTML = `<p class="q-empty">Running every schedule…${n}</p>`;
  }

  /** Shows `report` (what wasm `explore` returns). */
  show(report) {
    this.panel.hidden = false;
    const total = report.schedules;
    // Reduced: too many orders to count each, so orders that differ only in
    // steps that commute (different variables, two reads) count once.
    const unit = report.reduced ? 'distinct schedules' : 'schedules';
    const why = report.reduced
      ? '<span class="muted" data-testid="explore-reduced"> (too many orders to count each: orders that differ only in steps on different variables, or two reads, count once)</span>'
      : '';
    const head = report.complete
      ? `${fmtInt(total)} ${unit}, ${report.outcomes.length} distinct ${report.outcomes.length === 1 ? 'outcome' : 'outcomes'}${why}`
      : `the first ${fmtInt(total)} ${unit} (stopped there: too many to run them all), ${report.outcomes.length} distinct outcomes so far${why}`;
    const rows = report.outcomes
      .map((o) => {
        const end = ENDS[o.end] ? ` <span class="x-end x-${escapeHtml(o.end)}">${ENDS[o.end]}</span>` : '';
        const printed = o.output.length ? `<code class="x-out">${escapeHtml(o.output.slice(-2).join(' ⏎ '))}</code>` : '';
        return `<li data-testid="explore-outcome" data-schedules="${o.schedules}">
          <span class="x-count"><b>${fmtInt(o.schedules)}</b> of ${fmtInt(total)}</span>
          <span class="x-vals">${describeValues(o.counters)}${end}</span>${printed}
          <button class="btn small" data-testid="explore-replay" data-example="${escapeHtml(o.example)}" title="Replay schedule ${escapeHtml(o.example)} on the timeline">Replay</button>
        </li>`;
      })
      .join('');
    this.body.innerHTML = `<p class="x-head" data-testid="explore-summary" data-schedules="${total}" data-complete="${report.complete}">${head}</p><ul class="x-list">${rows}</ul>`;
  }

  error(message) {
    this.panel.hidden = false;
    this.body.innerHTML = `<p class="q-empty">${escapeHtml(message)}</p>`;
  }
}
