// The stack panel: at the selected event, per thread of a Python program,
// the functions it is in (the program's own names, outermost first, as a
// traceback lists them) and, for a function a Deferred called, whether as
// its callback or errback and which Deferred (its number in the event log).

import { escapeHtml } from './format.js';

export class StackView {
  constructor(el) {
    this.el = el;
    this.empty = el.innerHTML;
  }

  /**
   * `stacks`: Simulation.stacks(index). `current`: the thread of the event
   * itself. `lines`: thread -> its latest source position, whose line the
   * innermost frame is at. `name(thread)`, `color(thread)`: for labels.
   */
  show(stacks, { current, lines, name, color }) {
    if (!stacks.length) {
      this.draw(this.empty);
      return;
    }
    // The event's own thread first.
    const sorted = [...stacks].sort((a, b) => (b.thread === current) - (a.thread === current) || a.thread - b.thread);
    this.draw(sorted
      .map((s) => {
        const last = s.frames.length - 1;
        const frames = s.frames
          .map((f, i) => {
            const line = i === last ? (lines.get(s.thread)?.line ?? f.line) : f.line;
            const link = f.role ? `<span class="stk-link">${f.role} of Deferred #${f.deferred ?? '?'}</span>` : '';
            return `<li class="stk-frame${i === last ? ' top' : ''}" data-func="${escapeHtml(f.func)}"${f.role ? ` data-role="${f.role}"` : ''}${f.deferred ? ` data-deferred="${f.deferred}"` : ''}>
              <code>${escapeHtml(f.func)}</code> <span class="muted">line ${line}</span> ${link}</li>`;
          })
          .join('');
        return `<div class="stk-thread${s.thread === current ? ' current' : ''}" data-thread="${escapeHtml(name(s.thread))}">
          <h5><span class="tchip"><i style="background:${color(s.thread)}"></i>${escapeHtml(name(s.thread))}</span></h5>
          <ol class="stk-frames">${frames}</ol></div>`;
      })
      .join(''));
  }

  /** Playback redraws eight times a second (main.js PANELS_EVERY_MS): unchanged, the panel is left alone (no relayout). */
  draw(html) {
    if (html === this.drawn) return;
    this.el.innerHTML = html;
    this.drawn = html;
  }
}
