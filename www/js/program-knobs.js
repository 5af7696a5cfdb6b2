// The knobs of a Python program: the settings it writes as literals in its
// top-level calls, `twine.machine(cores=4, gil=True)`,
// `reactor.suggestThreadPoolSize(10)` and `twine.clients(rate_per_s=40, ...)`.
// A knob edits that literal in the program's text, so the editor shows
// exactly what runs; a setting the program computes (`cores=cores`) or does
// not write has no knob, rather than one that would do nothing.

/** Where `text` has strings and comments: [start, end) ranges, so a call spelled inside one is not taken for a call. */
function quotedRanges(text) {
  const ranges = [];
  const re = /#[^\n]*|[rRbBuUfF]{0,2}("""|'''|"|')/g;
  let m;
  while ((m = re.exec(text))) {
    if (m[0][0] === '#') {
      ranges.push([m.index, m.index + m[0].length]);
      continue;
    }
    const quote = m[1];
    let i = m.index + m[0].length;
    while (i < text.length && !text.startsWith(quote, i)) {
      if (text[i] === '\\') i++;
      else if (quote.length === 1 && text[i] === '\n') break;
      i++;
    }
    const end = Math.min(text.length, i + quote.length);
    ranges.push([m.index, end]);
    re.lastIndex = end;
  }
  return ranges;
}

/** The arguments of the call whose `(` is at `open`: [{name|null, value, start, end}], or null when unbalanced. */
function callArgs(text, open, quoted) {
  const args = [];
  let depth = 0;
  let start = open + 1;
  const push = (end) => {
    const raw = text.slice(start, end);
    const kw = /^\s*([A-Za-z_]\w*)\s*=(?!=)\s*/.exec(raw);
    const valueStart = start + (kw ? kw[0].length : raw.length - raw.trimStart().length);
    const value = text.slice(valueStart, end).trimEnd();
    if (value) args.push({ name: kw ? kw[1] : null, value, start: valueStart, end: valueStart + value.length });
  };
  for (let i = open; i < text.length; i++) {
    const q = quoted.find(([a, b]) => i >= a && i < b);
    if (q) {
      i = q[1] - 1;
      continue;
    }
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        push(i);
        return args;
      }
    } else if (c === ',' && depth === 1) {
      push(i);
      start = i + 1;
    }
  }
  return null;
}

const INT = /^\d+$/;
const NUMBER = /^\d+(\.\d*)?$|^\.\d+$/;
const BOOL = /^(True|False)$/;

/** The literal each knob edits: `{knob: {value, start, end}}`; knobs without one are absent. */
export function programKnobs(text) {
  const quoted = quotedRanges(text);
  const out = {};
  // Top-level statements only: a call at the start of a line.
  const re = /^(twine\.machine|reactor\.suggestThreadPoolSize|twine\.clients)\s*\(/gm;
  let m;
  while ((m = re.exec(text))) {
    if (quoted.some(([a, b]) => m.index >= a && m.index < b)) continue;
    const args = callArgs(text, m.index + m[0].length - 1, quoted);
    if (!args) continue;
    const take = (knob, arg, pattern, parse) => {
      if (arg && pattern.test(arg.value)) out[knob] = { value: parse(arg.value), start: arg.start, end: arg.end };
    };
    if (m[1] === 'twine.machine') {
      take('cores', args.find((a) => a.name === 'cores'), INT, Number);
      take('gil', args.find((a) => a.name === 'gil'), BOOL, (v) => v === 'True');
    } else if (m[1] === 'twine.clients') {
      take('rate', args.find((a) => a.name === 'rate_per_s'), NUMBER, Number);
    } else {
      take('pool', args.find((a) => a.name === null || a.name === 'size'), INT, Number);
    }
  }
  return out;
}

/** `text` with knob `knob` set to `value`, or null when the program has no literal for it. */
export function setProgramKnob(text, knob, value) {
  const at = programKnobs(text)[knob];
  if (!at) return null;
  const literal = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
  return text.slice(0, at.start) + literal + text.slice(at.end);
}
