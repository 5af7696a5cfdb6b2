// The scenario editor: a plain textarea with line numbers and a band that
// marks the lines of the field a ScenarioError names.

import { locateField } from './jsontext.js';
import { escapeHtml } from './format.js';

const LINE_H = 18;

export class ScenarioEditor {
  /** @param {HTMLElement} root  @param {{onInput: (text: string) => void}} opts */
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    root.classList.add('editor');
    // The error sits above the text: below it, it fell off a short screen.
    root.innerHTML = `
      <div class="ed-error" role="alert" hidden></div>
      <div class="ed-body">
        <div class="ed-gutter" aria-hidden="true"><div class="ed-lines"></div></div>
        <div class="ed-main">
          <div class="ed-band" hidden></div>
          <textarea class="ed-text" spellcheck="false" wrap="off" autocomplete="off" autocapitalize="off" aria-label="Scenario JSON"></textarea>
        </div>
      </div>`;
    this.text = root.querySelector('.ed-text');
    this.lines = root.querySelector('.ed-lines');
    this.band = root.querySelector('.ed-band');
    this.errorBox = root.querySelector('.ed-error');
    this.error = null;
    this.text.addEventListener('input', () => {
      this.renumber();
      opts.onInput(this.text.value);
    });
    this.text.addEventListener('scroll', () => this.syncScroll());
    this.text.addEventListener('keydown', (ev) => {
      // Tab indents rather than leaving the editor; Escape leaves it.
      if (ev.key === 'Tab' && !ev.shiftKey) {
        ev.preventDefault();
        document.execCommand('insertText', false, '  ');
      } else if (ev.key === 'Escape') {
        this.text.blur();
      }
    });
    this.errorBox.addEventListener('click', () => this.revealError());
  }

  get value() {
    return this.text.value;
  }

  set value(v) {
    this.text.value = v;
    this.text.scrollTop = 0;
    this.renumber();
    this.clearError();
  }

  renumber() {
    const n = this.text.value.split('\n').length;
    if (n !== this.lineCount) {
      this.lineCount = n;
      let s = '';
      for (let i = 1; i <= n; i++) s += `<span data-line="${i}">${i}</span>`;
      this.lines.innerHTML = s;
    }
    this.markGutter();
  }

  syncScroll() {
    this.lines.style.transform = `translateY(${-this.text.scrollTop}px)`;
    this.placeBand();
  }

  clearError() {
    this.error = null;
    this.errorBox.hidden = true;
    this.band.hidden = true;
    this.root.classList.remove('has-error');
    this.markGutter();
  }

  /** Shows a ScenarioError ({field, reason, message}) at its field. */
  showError(err) {
    const loc = locateField(this.text.value, err.field, err.reason || err.message);
    this.error = { ...err, loc };
    this.root.classList.add('has-error');
    const reason = err.reason || err.message;
    // A JSON syntax error already says where (`at line 3 column 7`).
    const where = loc && !/\bline \d+/.test(reason) ? `line ${loc.firstLine}${loc.lastLine > loc.firstLine ? `–${loc.lastLine}` : ''}` : '';
    this.errorBox.innerHTML = `${err.field ? `<code class="ed-field">${escapeHtml(err.field)}</code> ` : '<b>JSON</b> '}<span class="ed-reason">${escapeHtml(reason)}</span>${where ? ` <span class="ed-where">${where}</span>` : ''}`;
    this.errorBox.dataset.field = err.field || '';
    this.errorBox.hidden = false;
    this.placeBand();
    this.markGutter();
  }

  placeBand() {
    const loc = this.error?.loc;
    if (!loc) {
      this.band.hidden = true;
      return;
    }
    // Highlight at most a screenful: the field's first lines matter most.
    const lines = Math.min(loc.lastLine - loc.firstLine + 1, 12);
    this.band.hidden = false;
    this.band.style.top = `${(loc.firstLine - 1) * LINE_H + 6 - this.text.scrollTop}px`;
    this.band.style.height = `${lines * LINE_H}px`;
  }

  markGutter() {
    const loc = this.error?.loc;
    for (const el of this.lines.querySelectorAll('.err')) el.classList.remove('err');
    if (!loc) return;
    for (let l = loc.firstLine; l <= Math.min(loc.lastLine, loc.firstLine + 11); l++) {
      this.lines.querySelector(`[data-line="${l}"]`)?.classList.add('err');
    }
  }

  /** Scrolls to the error's line and puts the caret there. */
  revealError() {
    const loc = this.error?.loc;
    if (!loc) return;
    const text = this.text.value;
    let offset = 0;
    for (let l = 1; l < loc.firstLine; l++) offset = text.indexOf('\n', offset) + 1;
    this.text.focus();
    this.text.setSelectionRange(offset, offset);
    this.text.scrollTop = Math.max(0, (loc.firstLine - 4) * LINE_H);
    this.syncScroll();
  }
}
