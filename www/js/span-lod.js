// Level of detail for drawing a span list zoomed out: at a bucket width of
// B ms (a power of two), the spans narrower than B are summed per bucket,
// row and style (their covered time and how many), and the wider ones are
// kept by index. A view where many spans fall in one pixel column then
// draws from the buckets (a few per pixel) and the few wide spans, not
// from every span, so a frame of a million-event run costs about what the
// canvas has pixels. Only drawing uses this; hit-testing reads the spans.
//
// A summary is made for a level when a view first needs it, extended as a
// streaming run appends spans (in start order), and made again when the
// list was re-sorted since (SpanList.permutes).

import { lowerBound } from './lists.js';

/** Spans per pixel column above which a view draws from a summary. */
export const LOD_SPANS_PER_PX = 3;

/** Buckets per pixel column, at least. */
const BUCKETS_PER_PX = 4;
/** Summaries kept per list. */
const MAX_LEVELS = 4;

/** The key a span is drawn under: its style and its color's low bits (timeline-draw.js `drawSpans`). */
export const spanKey = (style, color) => style * 65536 + (color & 0xffff);

/** One level: the spans of `list` summed per bucket of `bucketMs`. */
export class SpanSummary {
  constructor(list, bucketMs) {
    this.list = list;
    this.bucketMs = bucketMs;
    this.permutes = list.permutes;
    this.upTo = 0; // spans summed so far
    // Entries, one per (bucket, row, key), in bucket order.
    this.n = 0;
    this.at = new Float64Array(64); // the bucket's start, ms
    this.key = new Int32Array(64);
    this.row = new Uint8Array(64);
    this.width = new Float64Array(64); // covered time, ms
    this.count = new Int32Array(64);
    this.firstOfBucket = 0; // where the last bucket's entries begin
    // The spans at least a bucket wide, by index, with a running maximum of their ends.
    this.wide = new Int32Array(64);
    this.wideEnd = new Float64Array(64);
    this.wideN = 0;
  }

  /** Sums the spans appended since; false when the list was re-sorted (make a new summary). */
  update() {
    const list = this.list;
    if (list.permutes !== this.permutes) return false;
    const { start, end, style, color, row } = list;
    const B = this.bucketMs;
    for (let i = this.upTo; i < list.n; i++) {
      const s = start[i];
      const w = end[i] - s;
      if (w >= B) {
        this.pushWide(i, end[i]);
        continue;
      }
      const at = Math.floor(s / B) * B;
      const key = spanKey(style[i], color[i]);
      const r = row[i];
      if (this.n === 0 || this.at[this.n - 1] !== at) this.firstOfBucket = this.n;
      let k = this.firstOfBucket;
      while (k < this.n && (this.key[k] !== key || this.row[k] !== r)) k++;
      if (k === this.n) this.pushEntry(at, key, r);
      this.width[k] += w;
      this.count[k] += 1;
    }
    this.upTo = list.n;
    return true;
  }

  pushEntry(at, key, r) {
    const n = this.n;
    if (n === this.at.length) {
      for (const k of ['at', 'key', 'row', 'width', 'count']) {
        const next = new this[k].constructor(n * 2);
        next.set(this[k]);
        this[k] = next;
      }
    }
    this.at[n] = at;
    this.key[n] = key;
    this.row[n] = r;
    this.width[n] = 0;
    this.count[n] = 0;
    this.n = n + 1;
  }

  pushWide(i, e) {
    const n = this.wideN;
    if (n === this.wide.length) {
      for (const k of ['wide', 'wideEnd']) {
        const next = new this[k].constructor(n * 2);
        next.set(this[k]);
        this[k] = next;
      }
    }
    this.wide[n] = i;
    this.wideEnd[n] = Math.max(e, n > 0 ? this.wideEnd[n - 1] : -Infinity);
    this.wideN = n + 1;
  }

  /** The first entry whose bucket may reach `t`. */
  firstEntryFrom(t) {
    const at = this.at;
    return lowerBound(this.n, (k) => at[k] + this.bucketMs < t);
  }

  /** The first wide span that may end at or after `t`. */
  firstWideEndingAfter(t) {
    const e = this.wideEnd;
    return lowerBound(this.wideN, (k) => e[k] < t);
  }
}

/**
 * The summary to draw `list` from, for a view of `t0..t1` ms over `plotW`
 * pixels, or null when the view holds few enough spans to draw each. Its
 * buckets are at most 1/BUCKETS_PER_PX of a pixel wide: a bucket across a
 * pixel boundary is shared between the two columns by its width, so what
 * moves is at most a bucket's share of a column.
 */
export function summaryFor(list, t0, t1, plotW) {
  if (list.n < plotW * LOD_SPANS_PER_PX) return null;
  const first = list.firstEndingAfter(t0);
  const last = lowerBound(list.n, (i) => list.start[i] <= t1);
  if (last - first < plotW * LOD_SPANS_PER_PX) return null;
  const pxMs = (t1 - t0) / plotW;
  const level = Math.floor(Math.log2(pxMs / BUCKETS_PER_PX));
  list.summaries ??= new Map();
  let summary = list.summaries.get(level);
  if (!summary || !summary.update()) {
    summary = new SpanSummary(list, 2 ** level);
    summary.update();
    list.summaries.delete(level);
    list.summaries.set(level, summary);
    // The levels zooming went through: a few kept, the oldest made first dropped.
    if (list.summaries.size > MAX_LEVELS) list.summaries.delete(list.summaries.keys().next().value);
  }
  return summary;
}
