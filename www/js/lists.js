// Column-wise lists in typed arrays, sorted by time, with the range queries
// the timeline draws and hit-tests from: spans, instant marks, and links
// between two lanes. Times are milliseconds as float64.

/** The first index in [0, n) where `below(i)` is false (`below` must be true, then false). */
export function lowerBound(n, below) {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (below(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function grow(arr, n) {
  const next = new arr.constructor(Math.max(16, n * 2));
  next.set(arr);
  return next;
}

/** Reorders the columns `keys` of `list` (its first `n` entries) by `order`. */
function permute(list, keys, order, n) {
  for (const k of keys) {
    const src = list[k];
    const dst = new src.constructor(src.length);
    for (let i = 0; i < n; i++) dst[i] = src[order[i]];
    list[k] = dst;
  }
}

/**
 * Sorts the indexes `order` by `key[index]`, ties by index, in place. A list
 * that needs it is nearly sorted (a client's span is pushed when its response
 * comes, a few requests after it was sent): an insertion sort puts 60 000 of
 * them in order in a few moves each, where the general sort calls a
 * comparator some million times. One that would move too much is sorted the
 * general way.
 */
function sortByKey(order, key) {
  const budget = 16 * order.length;
  let moves = 0;
  for (let i = 1; i < order.length; i++) {
    const o = order[i];
    const k = key[o];
    let j = i - 1;
    for (; j >= 0 && key[order[j]] > k; j--) {
      order[j + 1] = order[j];
      if (++moves > budget) {
        order[j] = o; // a permutation again
        order.sort((a, b) => key[a] - key[b] || a - b);
        return;
      }
    }
    order[j + 1] = o;
  }
}

const SPAN_COLUMNS = ['start', 'end', 'style', 'color', 'ev', 'label', 'row'];
const MARK_COLUMNS = ['t', 'style', 'ev'];

/** Spans sorted by start, with a running maximum of ends for range queries. */
export class SpanList {
  constructor() {
    this.n = 0;
    this.start = new Float64Array(64);
    this.end = new Float64Array(64);
    this.style = new Uint8Array(64);
    this.color = new Int32Array(64); // a thread id, or a hash, for the color
    this.ev = new Int32Array(64); // the event that opened it
    this.label = new Int32Array(64); // index into model.strings, -1 for none
    this.row = new Uint8Array(64); // sub-row, for lanes that stack
    this.maxEnd = new Float64Array(64);
    this.sorted = true;
    this.indexed = 0; // maxEnd is valid below this
    this.permutes = 0; // times it was re-sorted (a drawing summary of it, span-lod.js, is then stale)
    this.summaries = null; // span-lod.js: level -> SpanSummary
  }

  push(start, end, style, color, ev, label = -1, row = 0) {
    const n = this.n;
    if (n === this.start.length) {
      for (const k of [...SPAN_COLUMNS, 'maxEnd']) this[k] = grow(this[k], n);
    }
    if (n > 0 && start < this.start[n - 1]) this.sorted = false;
    this.start[n] = start;
    this.end[n] = Math.max(start, end);
    this.style[n] = style;
    this.color[n] = color;
    this.ev[n] = ev;
    this.label[n] = label;
    this.row[n] = row;
    this.n = n + 1;
  }

  /** Sorts by start (if needed) and fills maxEnd; call before querying. */
  index() {
    if (!this.sorted) {
      const n = this.n;
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      sortByKey(order, this.start);
      permute(this, SPAN_COLUMNS, order, n);
      this.sorted = true;
      this.indexed = 0;
      this.permutes++;
    }
    let m = this.indexed > 0 ? this.maxEnd[this.indexed - 1] : -Infinity;
    for (let i = this.indexed; i < this.n; i++) {
      if (this.end[i] > m) m = this.end[i];
      this.maxEnd[i] = m;
    }
    this.indexed = this.n;
  }

  /** The first span that may end at or after `t`. */
  firstEndingAfter(t) {
    return lowerBound(this.n, (i) => this.maxEnd[i] < t);
  }
}

/** Instant events drawn as marks, sorted by time. */
export class MarkerList {
  constructor() {
    this.n = 0;
    this.t = new Float64Array(64);
    this.style = new Uint8Array(64);
    this.ev = new Int32Array(64);
    this.sorted = true;
  }

  push(t, style, ev) {
    const n = this.n;
    if (n === this.t.length) for (const k of MARK_COLUMNS) this[k] = grow(this[k], n);
    if (n > 0 && t < this.t[n - 1]) this.sorted = false;
    this.t[n] = t;
    this.style[n] = style;
    this.ev[n] = ev;
    this.n = n + 1;
  }

  index() {
    if (this.sorted) return;
    const n = this.n;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.t[a] - this.t[b] || a - b);
    permute(this, MARK_COLUMNS, order, n);
    this.sorted = true;
  }

  /** The first mark at or after `t`. */
  firstAt(t) {
    return lowerBound(this.n, (i) => this.t[i] < t);
  }
}

/** Links between two (time, lane) points, e.g. a job queued by the reactor and started on a pool thread. */
export class LinkList {
  constructor() {
    this.n = 0;
    this.t1 = new Float64Array(64);
    this.t2 = new Float64Array(64);
    this.lane1 = [];
    this.lane2 = [];
    this.style = new Uint8Array(64);
    this.ev = new Int32Array(64);
  }

  push(t1, lane1, t2, lane2, style, ev) {
    const n = this.n;
    if (n === this.t1.length) for (const k of ['t1', 't2', 'style', 'ev']) this[k] = grow(this[k], n);
    this.t1[n] = Math.min(t1, t2);
    this.t2[n] = Math.max(t1, t2);
    this.lane1[n] = t1 <= t2 ? lane1 : lane2;
    this.lane2[n] = t1 <= t2 ? lane2 : lane1;
    this.style[n] = style;
    this.ev[n] = ev;
    this.n = n + 1;
  }
}
