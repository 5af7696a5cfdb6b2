// The scenario editor. The page can run as soon as it loads, with a plain
// textarea (line numbers, and a band over the lines of the field a
// ScenarioError names); CodeMirror 6 (www/pkg/editor.js, bundled by `cargo
// xtask` from pinned npm packages) arrives just after and takes its place:
// highlighting, brackets, undo, and errors underlined where they are.

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
    /** CodeMirror, once its bundle has loaded (see `upgrade`). */
    this.code = null;
  }

  /** Loads CodeMirror and moves the text into it; the textarea stays if it cannot load. */
  async upgrade() {
    let bundle;
    try {
      bundle = await import('../pkg/editor.js');
    } catch (e) {
      console.warn('code editor unavailable, keeping the plain one:', e);
      return false;
    }
    const body = this.root.querySelector('.ed-body');
    const host = document.createElement('div');
    host.className = 'ed-code';
    const hadFocus = document.activeElement === this.text;
    this.code = bundle.createEditor(host, {
      doc: this.text.value,
      language: languageOf(this.text.value),
      label: 'Scenario',
      onChange: (text) => {
        this.code.setLanguage(languageOf(text));
        this.opts.onInput(text);
      },
    });
    body.replaceChildren(host);
    this.root.classList.add('has-code');
    if (this.error?.loc) this.code.mark(this.markOf(this.error));
    if (hadFocus) this.code.view.focus();
    return true;
  }

  get value() {
    return this.code ? this.code.value : this.text.value;
  }

  set value(v) {
    this.setValue(v);
  }

  /** Replaces the text (the page's doing: no onInput), optionally keeping the scroll position. */
  setValue(v, { keepScroll = false } = {}) {
    if (this.code) {
      this.code.setValue(v, { keepScroll });
      this.code.setLanguage(languageOf(v));
    } else {
      const top = this.text.scrollTop;
      this.text.value = v;
      this.text.scrollTop = keepScroll ? top : 0;
      this.renumber();
      this.syncScroll();
    }
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
    this.code?.mark(null);
    this.errorBox.hidden = true;
    this.band.hidden = true;
    this.root.classList.remove('has-error');
    this.markGutter();
  }

  /** Shows a ScenarioError ({field, reason, message}) at its field. */
  showError(err) {
    // A Python program's errors say where they are; a JSON scenario's name a field.
    const loc = err.line
      ? { firstLine: err.line, lastLine: err.line, column: err.col, exact: true }
      : locateField(this.value, err.field, err.reason || err.message);
    this.error = { ...err, loc };
    this.root.classList.add('has-error');
    const reason = err.reason || err.message;
    // A JSON syntax error already says where (`at line 3 column 7`).
    const where = loc && !/\bline \d+/.test(reason) ? `line ${loc.firstLine}${loc.lastLine > loc.firstLine ? `–${loc.lastLine}` : ''}` : '';
    const what = err.field ? `<code class="ed-field">${escapeHtml(err.field)}</code> ` : err.line ? '' : '<b>JSON</b> ';
    this.errorBox.innerHTML = `${what}<span class="ed-reason">${escapeHtml(reason)}</span>${where ? ` <span class="ed-where">${where}</span>` : ''}`;
    this.errorBox.dataset.field = err.field || '';
    this.errorBox.hidden = false;
    if (this.code) {
      this.code.mark(loc ? this.markOf(this.error) : null);
      return;
    }
    this.placeBand();
    this.markGutter();
  }

  markOf(error) {
    const { loc } = error;
    return { firstLine: loc.firstLine, lastLine: loc.lastLine, col: loc.column, message: error.reason || error.message };
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

  /**
   * Highlights the lines threads are at (`[{line, thread, current}]`, see
   * the bundle's `showSteps`: drawn when they changed, with no transaction);
   * only the code editor can, the textarea does not.
   */
  showSteps(steps) {
    this.code?.showSteps?.(steps);
  }

  /** Scrolls to the error's line and puts the caret there. */
  revealError() {
    const loc = this.error?.loc;
    if (loc) this.revealLine(loc.firstLine);
  }

  /** Scrolls to line `n` (from 1) and puts the caret there. */
  revealLine(n) {
    if (this.code) {
      this.code.reveal(n);
      return;
    }
    const text = this.value;
    let offset = 0;
    for (let l = 1; l < n; l++) offset = text.indexOf('\n', offset) + 1;
    this.text.focus();
    this.text.setSelectionRange(offset, offset);
    this.text.scrollTop = Math.max(0, (n - 4) * LINE_H);
    this.syncScroll();
  }
}

/** A scenario is JSON when it starts like JSON; otherwise it is a Python program. */
function languageOf(text) {
  return /^\s*[{[]/.test(text) ? 'json' : 'python';
}
