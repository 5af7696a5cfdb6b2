// The playground's code editor: CodeMirror 6 with Python and JSON modes,
// bundled by `cargo xtask` into www/pkg/editor.js (generated, not committed).
// The page loads it after it can already run (www/js/editor.js): until then a
// plain textarea stands in.

import { EditorState, Compartment } from '@codemirror/state';
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit,
} from '@codemirror/language';
import { setDiagnostics, lintGutter } from '@codemirror/lint';
import { python } from '@codemirror/lang-python';
import { json } from '@codemirror/lang-json';

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
        language.of(modeOf(opts.language)),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !silent) opts.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
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
    /** Puts the caret on a line and scrolls it into view. */
    reveal(line) {
      const doc = view.state.doc;
      const at = doc.line(Math.min(Math.max(line, 1), doc.lines)).from;
      view.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: 'center' }) });
      view.focus();
    },
  };
}
