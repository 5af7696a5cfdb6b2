// The playground's code editor: CodeMirror 6 with Python and JSON modes,
// bundled by `cargo xtask` into www/pkg/editor.js (generated, not committed).
// The page loads it after it can already run (www/js/editor.js): until then a
// plain textarea stands in.

import { EditorState, Compartment, StateField, StateEffect, RangeSetBuilder } from '@codemirror/state';
import {
  EditorView, Decoration, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit,
} from '@codemirror/language';
import { setDiagnostics, lintGutter } from '@codemirror/lint';
import { python } from '@codemirror/lang-python';
import { json } from '@codemirror/lang-json';

// Where the simulated threads are at the page's cursor: a line decoration per
// line, strong for the selected event's thread, soft (and labelled with the
// threads' names) for the others.
const setSteps = StateEffect.define();
const stepField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) if (e.is(setSteps)) return stepDecorations(tr.state.doc, e.value);
    return tr.docChanged ? Decoration.none : deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** @param {{line: number, thread: string, current: boolean}[]} steps */
function stepDecorations(doc, steps) {
  const byLine = new Map();
  for (const s of steps) {
    if (!(s.line >= 1 && s.line <= doc.lines)) continue;
    const at = byLine.get(s.line) || { current: false, threads: [] };
    at.current ||= s.current;
    at.threads.push(s.thread);
    byLine.set(s.line, at);
  }
  const builder = new RangeSetBuilder();
  for (const line of [...byLine.keys()].sort((a, b) => a - b)) {
    const at = byLine.get(line);
    builder.add(doc.line(line).from, doc.line(line).from, Decoration.line({
      class: at.current ? 'cm-step cm-step-current' : 'cm-step',
      attributes: { 'data-threads': at.threads.join(', ') },
    }));
  }
  return builder.finish();
}

const stepTheme = EditorView.baseTheme({
  '.cm-step': { backgroundColor: 'rgba(255, 196, 0, 0.14)' },
  '.cm-step-current': { backgroundColor: 'rgba(255, 170, 0, 0.38)', boxShadow: 'inset 3px 0 0 #e08a00' },
  '.cm-step::after': {
    content: 'attr(data-threads)', float: 'right', fontSize: '0.8em', opacity: '0.7', paddingRight: '6px',
  },
});

/** How long after the user scrolls or types in the editor the step highlight leaves its scrolling alone. */
const USER_GRACE_MS = 3000;

/**
 * Makes an editor in `parent`.
 * @param {HTMLElement} parent
 * @param {{doc: string, language: 'python'|'json', onChange: (text: string) => void, label: string}} opts
 */
export function createEditor(parent, opts) {
  const language = new Compartment();
  const modeOf = (name) => (name === 'json' ? json() : python());
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
        lintGutter(),
        stepField,
        stepTheme,
        language.of(modeOf(opts.language)),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) shownSteps = '[]'; // stepField drops its highlights on an edit
          if (update.docChanged && !silent) opts.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  // The step highlights (see `showSteps`): the list last drawn, the newest
  // asked for, and when the user last scrolled or typed here themselves.
  let shownSteps = '[]';
  let pendingSteps = null;
  let stepsFrame = 0;
  let userAt = -Infinity;
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
  /** Whether line `n`'s block lies wholly inside the scroller's visible part. */
  const inView = (n) => {
    const block = view.lineBlockAt(view.state.doc.line(n).from);
    const top = block.top + view.documentPadding.top;
    return top >= scrollTop && top + block.height <= scrollTop + scrollH;
  };
  const drawSteps = () => {
    stepsFrame = 0;
    const steps = pendingSteps;
    pendingSteps = null;
    const key = JSON.stringify(steps);
    if (key === shownSteps) return;
    shownSteps = key;
    const effects = [setSteps.of(steps)];
    const cur = steps.find((s) => s.current);
    const doc = view.state.doc;
    // Follow the current line only when it is out of sight, and never while
    // the user is typing here or has just scrolled the editor themselves.
    const userBusy = view.hasFocus || performance.now() - userAt < USER_GRACE_MS;
    if (cur && cur.line >= 1 && cur.line <= doc.lines && !userBusy && !inView(cur.line)) {
      effects.push(EditorView.scrollIntoView(doc.line(cur.line).from, { y: 'nearest' }));
    }
    view.dispatch({ effects });
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
        view.dispatch(setDiagnostics(view.state, []));
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
      view.dispatch(setDiagnostics(view.state, [{ from, to, severity: 'error', message: error.message }]));
    },
    /**
     * Highlights where threads are: `[{line, thread, current}]` (lines from
     * 1; `current` for the selected event's thread). An empty list clears.
     * Playback asks every frame: the newest list is drawn once, just before
     * the next frame paints, and only if it differs from what is shown.
     */
    showSteps(steps) {
      pendingSteps = steps;
      if (!stepsFrame) stepsFrame = requestAnimationFrame(drawSteps);
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
