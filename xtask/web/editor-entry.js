// The playground's code editor: CodeMirror 6 with Python and JSON modes,
// bundled by `cargo xtask` into www/pkg/editor.js (generated, not committed).
// The page loads it after it can already run (www/js/editor.js): until then a
// plain textarea stands in.
//
// Only the parts this page uses, not `basicSetup`: line numbers, undo
// history, the default keys (with Tab to indent), bracket matching,
// indentation on input, highlighting, and the error underline drawn here
// (below). Left out, as the page never turned them on or has its own:
// search, autocompletion (the language packages' `python()` registers
// completion sources that pull in @codemirror/autocomplete: the bare
// languages are used instead), folding, and @codemirror/lint (its tooltips
// and panels; the page shows the error's message above the editor).

import { EditorState, Compartment, RangeSet, StateEffect, StateField } from '@codemirror/state';
import {
  EditorView, Decoration, GutterMarker, ViewPlugin, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, gutterLineClass,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  LanguageSupport, syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit,
} from '@codemirror/language';
import { pythonLanguage } from '@codemirror/lang-python';
import { jsonLanguage } from '@codemirror/lang-json';

// The error the page found (a ScenarioError or a Python exception at its
// line): the span underlined, its lines' numbers marked in the gutter (as
// the textarea marks them: www/style.css), and its message as the span's
// tooltip. Set with `setError` (null clears); an
// edit keeps it on the text it was on until the page checks again.
const setError = StateEffect.define();
const errorLine = new (class extends GutterMarker {
  elementClass = 'cm-error-line';
})();
const errorField = StateField.define({
  create: () => ({ marks: Decoration.none, lines: [] }),
  update(value, tr) {
    let { marks, lines } = value;
    if (tr.docChanged) {
      marks = marks.map(tr.changes);
      lines = lines.map((pos) => tr.changes.mapPos(pos));
    }
    for (const e of tr.effects) {
      if (!e.is(setError)) continue;
      const err = e.value;
      if (!err) return { marks: Decoration.none, lines: [] };
      const mark = Decoration.mark({ class: 'cm-error-range', attributes: { title: err.message } });
      marks = Decoration.set([mark.range(err.from, err.to)]);
      lines = [];
      for (let l = tr.state.doc.lineAt(err.from).number; l <= tr.state.doc.lineAt(err.to).number; l++) lines.push(tr.state.doc.line(l).from);
    }
    return { marks, lines };
  },
  provide: (field) => [
    EditorView.decorations.from(field, (v) => v.marks),
    gutterLineClass.from(field, (v) => RangeSet.of(v.lines.map((pos) => errorLine.range(pos)))),
  ],
});
const errorTheme = EditorView.baseTheme({
  '.cm-error-range': {
    // A red wavy underline, drawn as @codemirror/lint draws its own.
    backgroundImage: `url('data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" width="6" height="3"><path d="m0 2.5 l2 -1.5 l1 0 l2 1.5 l1 0" stroke="%23d11" fill="none" stroke-width=".7"/></svg>')`,
    backgroundRepeat: 'repeat-x',
    backgroundPosition: 'left bottom',
    paddingBottom: '0.7px',
  },
});

// Where the simulated threads are at the page's cursor: a band behind each
// such line, strong for the selected event's thread, soft (and labelled with
// the threads' names) for the others. The bands are not decorations of the
// document but an overlay in the scroller, placed from CodeMirror's height
// map: playback moves them several times a second, and a decoration change
// would have CodeMirror redraw its lines, read the DOM selection and measure
// the layout each time (half the page's script time per frame while playing).
class StepBands {
  constructor(view) {
    this.view = view;
    this.dom = view.scrollDOM.appendChild(document.createElement('div'));
    this.dom.className = 'cm-steps';
    this.dom.setAttribute('aria-hidden', 'true');
    /** The bands shown: [{line, threads, current}], one per line. */
    this.bands = [];
  }

  /** Shows `steps` ([{line, thread, current}], lines from 1): one band per line. */
  set(steps) {
    const doc = this.view.state.doc;
    const byLine = new Map();
    for (const s of steps) {
      if (!(s.line >= 1 && s.line <= doc.lines)) continue;
      const at = byLine.get(s.line) || { line: s.line, current: false, threads: [] };
      at.current ||= s.current;
      at.threads.push(s.thread);
      byLine.set(s.line, at);
    }
    this.bands = [...byLine.values()].sort((a, b) => a.line - b.line);
    const els = this.dom.children;
    while (els.length > this.bands.length) els[els.length - 1].remove();
    while (els.length < this.bands.length) this.dom.appendChild(document.createElement('div'));
    this.bands.forEach((band, i) => {
      const el = els[i];
      el.className = band.current ? 'cm-step cm-step-current' : 'cm-step';
      el.dataset.line = String(band.line);
      el.dataset.threads = band.threads.join(', ');
    });
    this.place();
  }

  /** Puts each band over its line, from the height map (no layout is read). */
  place() {
    const { view } = this;
    const top = view.documentPadding.top;
    this.bands.forEach((band, i) => {
      const block = view.lineBlockAt(view.state.doc.line(band.line).from);
      const el = this.dom.children[i];
      el.style.top = `${top + block.top}px`;
      el.style.height = `${block.height}px`;
      el.style.lineHeight = `${block.height}px`;
    });
  }

  update(update) {
    // An edit moves the program's lines: the highlights were for the old text.
    if (update.docChanged) this.set([]);
    else if (update.heightChanged || update.geometryChanged || update.viewportChanged) this.place();
  }

  destroy() {
    this.dom.remove();
  }
}
const stepBands = ViewPlugin.fromClass(StepBands);

const stepTheme = EditorView.baseTheme({
  '.cm-steps': { position: 'absolute', left: 0, top: 0, width: '100%', zIndex: -1, pointerEvents: 'none' },
  '.cm-step': { position: 'absolute', left: 0, right: 0, backgroundColor: 'rgba(255, 196, 0, 0.14)', textAlign: 'right', overflow: 'hidden' },
  '.cm-step-current': { backgroundColor: 'rgba(255, 170, 0, 0.38)', boxShadow: 'inset 3px 0 0 #e08a00' },
  '.cm-step::after': { content: 'attr(data-threads)', fontSize: '0.8em', opacity: '0.7', paddingRight: '6px' },
});

/** How long after the user scrolls or types in the editor the step highlight leaves its scrolling alone. */
const USER_GRACE_MS = 3000;
/** The least time between two scrolls that follow the step highlight (each has CodeMirror measure the layout). */
const FOLLOW_MS = 250;

/**
 * Makes an editor in `parent`.
 * @param {HTMLElement} parent
 * @param {{doc: string, language: 'python'|'json', onChange: (text: string) => void, label: string}} opts
 */
export function createEditor(parent, opts) {
  const language = new Compartment();
  const modeOf = (name) => new LanguageSupport(name === 'json' ? jsonLanguage : pythonLanguage);
  let silent = false;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        indentOnInput(),
        bracketMatching(),
        indentUnit.of('    '),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        errorField,
        errorTheme,
        stepBands,
        stepTheme,
        language.of(modeOf(opts.language)),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) shownSteps = '[]'; // StepBands drops its highlights on an edit
          if (update.docChanged && !silent) opts.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  // The step highlights (see `showSteps`): the list last drawn, and when the
  // user last scrolled or typed here themselves, and when the highlight last
  // scrolled the editor.
  let shownSteps = '[]';
  let userAt = -Infinity;
  let followedAt = -Infinity;
  let followTimer = 0;
  // The scroller's offset and height as last seen, so deciding whether the
  // current line is in view reads no layout in the middle of a frame.
  let scrollTop = 0;
  let scrollH = 0;
  const scroller = view.scrollDOM;
  scroller.addEventListener('scroll', () => { scrollTop = scroller.scrollTop; }, { passive: true });
  new ResizeObserver(() => { scrollH = scroller.clientHeight; }).observe(scroller);
  for (const type of ['wheel', 'touchstart', 'keydown']) view.dom.addEventListener(type, () => { userAt = performance.now(); }, { passive: true });
  // A press on the scroller itself (not its text) is a drag of its scroll bar.
  scroller.addEventListener('pointerdown', (ev) => { if (ev.target === scroller) userAt = performance.now(); });
  /**
   * Scrolls the current thread's line into sight when it is out of it, from
   * the height map (scrolling has CodeMirror measure the layout once): at
   * most every FOLLOW_MS, and never while the user is typing here or has
   * just scrolled the editor themselves.
   */
  const follow = () => {
    followTimer = 0;
    const cur = view.plugin(stepBands)?.bands.find((b) => b.current);
    if (!cur || view.hasFocus || performance.now() - userAt < USER_GRACE_MS) return;
    const block = view.lineBlockAt(view.state.doc.line(cur.line).from);
    const top = block.top + view.documentPadding.top;
    const margin = block.height;
    if (top >= scrollTop && top + block.height <= scrollTop + scrollH) return;
    const wait = followedAt + FOLLOW_MS - performance.now();
    if (wait > 0) {
      followTimer = setTimeout(follow, wait);
      return;
    }
    followedAt = performance.now();
    scroller.scrollTop = top < scrollTop ? top - margin : top + block.height + margin - scrollH;
  };
  return {
    view,
    get value() {
      return view.state.doc.toString();
    },
    /** Replaces the text without calling onChange (the page set it). */
    setValue(text, { keepScroll = false } = {}) {
      const top = view.scrollDOM.scrollTop;
      silent = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        silent = false;
      }
      view.scrollDOM.scrollTop = keepScroll ? top : 0;
    },
    setLanguage(name) {
      view.dispatch({ effects: language.reconfigure(modeOf(name)) });
    },
    /** Underlines lines firstLine..lastLine (1-based), or the column span on one line. */
    mark(error) {
      if (!error) {
        view.dispatch({ effects: setError.of(null) });
        return;
      }
      const doc = view.state.doc;
      const first = doc.line(Math.min(Math.max(error.firstLine, 1), doc.lines));
      const last = doc.line(Math.min(Math.max(error.lastLine, error.firstLine, 1), doc.lines));
      let from = first.from;
      let to = last.to;
      if (error.col && error.firstLine === error.lastLine) {
        from = Math.min(first.from + error.col - 1, first.to);
        to = error.endCol ? Math.min(first.from + error.endCol - 1, first.to) : first.to;
        if (to <= from) to = Math.min(from + 1, first.to);
      }
      view.dispatch({ effects: setError.of({ from, to, message: error.message }) });
    },
    /**
     * Highlights where threads are: `[{line, thread, current}]` (lines from
     * 1; `current` for the selected event's thread). An empty list clears.
     * Playback asks several times a second: drawn only when it differs from
     * what is shown, and without a transaction (see StepBands).
     */
    showSteps(steps) {
      const key = JSON.stringify(steps);
      if (key === shownSteps) return;
      shownSteps = key;
      view.plugin(stepBands)?.set(steps);
      if (!followTimer) follow();
    },
    /** Puts the caret on a line and scrolls it into view. */
    reveal(line) {
      const doc = view.state.doc;
      const at = doc.line(Math.min(Math.max(line, 1), doc.lines)).from;
      view.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: 'center' }) });
      view.focus();
    },
  };
}
