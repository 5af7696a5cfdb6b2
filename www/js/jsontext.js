// JSON text with positions: find where a field's value sits in the editor's
// text (to highlight the field a ScenarioError names), and change one value
// in place (so the knobs edit the JSON without reformatting the rest).
//
// Paths are written as the simulation's errors write them:
// `machine.cores`, `main[1]`, `server.handler[2].lock.steps[0]`.

/** Parses `text`, recording each value's [start, end) and its key's start. */
export function parseWithPositions(text) {
  const nodes = new Map();
  let i = 0;
  const fail = (what) => {
    const { line, col } = lineCol(text, i);
    throw new SyntaxError(`${what} at line ${line} column ${col}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const value = (path, keyStart) => {
    ws();
    const start = i;
    const c = text[i];
    let v;
    let type;
    if (c === '{') {
      type = 'object';
      v = {};
      i++;
      ws();
      if (text[i] === '}') {
        i++;
      } else {
        for (;;) {
          ws();
          if (text[i] !== '"') fail('expected a key');
          const kStart = i;
          const key = string();
          ws();
          if (text[i] !== ':') fail('expected `:`');
          i++;
          v[key] = value(path === '' ? key : `${path}.${key}`, kStart);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === '}') { i++; break; }
          fail('expected `,` or `}`');
        }
      }
    } else if (c === '[') {
      type = 'array';
      v = [];
      i++;
      ws();
      if (text[i] === ']') {
        i++;
      } else {
        for (let n = 0; ; n++) {
          v.push(value(`${path}[${n}]`, undefined));
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === ']') { i++; break; }
          fail('expected `,` or `]`');
        }
      }
    } else if (c === '"') {
      type = 'string';
      v = string();
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (!m) fail('expected a value');
      i += m[0].length;
      v = JSON.parse(m[0]);
      type = v === null ? 'null' : typeof v;
    }
    nodes.set(path, { start, end: i, keyStart: keyStart ?? start, type });
    return v;
  };
  const string = () => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value('', undefined);
  ws();
  if (i < text.length) fail('trailing characters');
  return { value: v, nodes };
}

/** 1-based line and column of offset `at`. */
export function lineCol(text, at) {
  let line = 1;
  let last = -1;
  for (let k = 0; k < at && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) { line++; last = k; }
  }
  return { line, col: at - last };
}

/** Splits `a.b[2].c` into ['a', 'b', 2, 'c']. */
export function splitPath(path) {
  const out = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** Joins ['a', 'b', 2] into `a.b[2]`. */
export function joinPath(segs) {
  let s = '';
  for (const seg of segs) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

/**
 * Where the field named by a ScenarioError sits: the deepest part of `field`
 * present in the text, as lines (1-based, inclusive). A broken JSON (empty
 * field) is located from the parser's `line N column M`.
 */
export function locateField(text, field, message) {
  // The parser says where it stopped reading: the most precise place there is.
  const at = /at line (\d+) column (\d+)/.exec(message || '');
  if (at) return { firstLine: +at[1], lastLine: +at[1], column: +at[2], exact: true };
  if (!field) {
    try {
      parseWithPositions(text);
    } catch (e) {
      const m2 = /line (\d+) column (\d+)/.exec(e.message);
      if (m2) return { firstLine: +m2[1], lastLine: +m2[1], column: +m2[2], exact: true };
    }
    return null;
  }
  let nodes;
  try {
    ({ nodes } = parseWithPositions(text));
  } catch {
    return null;
  }
  const segs = splitPath(field);
  for (let n = segs.length; n >= 0; n--) {
    const node = nodes.get(joinPath(segs.slice(0, n)));
    if (node) {
      return {
        firstLine: lineCol(text, node.keyStart).line,
        lastLine: lineCol(text, Math.max(node.start, node.end - 1)).line,
        exact: n === segs.length,
        path: joinPath(segs.slice(0, n)),
      };
    }
  }
  return null;
}

/** The value at `segs` in a parsed document, or undefined. */
export function getIn(doc, segs) {
  let v = doc;
  for (const s of segs) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[s];
  }
  return v;
}

/**
 * `text` with the value at `segs` replaced by `value`, creating missing
 * object members. Only the changed value's characters move. Returns null
 * when the text is not valid JSON or the path crosses a non-object.
 */
export function setIn(text, segs, value) {
  let nodes;
  try {
    ({ nodes } = parseWithPositions(text));
  } catch {
    return null;
  }
  const exact = nodes.get(joinPath(segs));
  if (exact) return text.slice(0, exact.start) + JSON.stringify(value) + text.slice(exact.end);
  for (let n = segs.length - 1; n >= 0; n--) {
    const parent = nodes.get(joinPath(segs.slice(0, n)));
    if (!parent) continue;
    if (parent.type !== 'object' || typeof segs[n] !== 'string') return null;
    let nested = value;
    for (let k = segs.length - 1; k > n; k--) {
      if (typeof segs[k] !== 'string') return null;
      nested = { [segs[k]]: nested };
    }
    const member = `${JSON.stringify(segs[n])}: ${compact(nested)}`;
    return insertMember(text, parent, member);
  }
  return null;
}

/** One-line JSON in the presets' style: `{ "threads": 4 }`. */
function compact(v) {
  if (Array.isArray(v)) return `[ ${v.map(compact).join(', ')} ]`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${compact(x)}`).join(', ')} }`;
  return JSON.stringify(v);
}

function insertMember(text, parent, member) {
  const open = parent.start;
  const inner = text.slice(open + 1, parent.end - 1);
  if (inner.trim() === '') return `${text.slice(0, open)}{ ${member} }${text.slice(parent.end)}`;
  // Put it first, laid out like the member that follows it.
  const firstMember = open + 1 + inner.search(/\S/);
  const lineStart = text.lastIndexOf('\n', firstMember - 1) + 1;
  const multiLine = text.slice(open + 1, firstMember).includes('\n');
  const indent = text.slice(lineStart, firstMember);
  const sep = multiLine ? `,\n${indent}` : ', ';
  return text.slice(0, firstMember) + member + sep + text.slice(firstMember);
}
