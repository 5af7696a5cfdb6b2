// Painting one frame of a Timeline: the axis, a row per lane, and in each
// row only the visible range of its spans and marks; kept offscreen between
// frames that only move the playhead. Spans narrower than a
// pixel merge into one column per pixel (its opacity says how busy it is);
// zoomed out over many spans, from per-bucket sums of them (span-lod.js),
// so a frame costs about the same with a million events as with ten.

import { S, G } from './trace-model.js';
import { lowerBound } from './lists.js';
import { fmtMs } from './format.js';
import { STATE_COLORS, LINK_COLORS, hatch, paintMark } from './timeline-style.js';
import { summaryFor, spanKey } from './span-lod.js';

/** Height of the time axis on top. */
export const AXIS_H = 22;
/** Batch keys carry an opacity level (0-3) above the style and color bits. */
const ALPHA_UNIT = 2 ** 24;
const ALPHAS = [0.22, 0.45, 0.72, 1];

function laneHeight(lane, compact) {
  const k = compact ? 0.8 : 1;
  switch (lane.group) {
    case G.REACTOR: return Math.round(46 * k);
    case G.TIMERS: return 16;
    case G.POOL:
    case G.THREAD: return Math.round(24 * k);
    case G.GIL: return 14;
    case G.CORE: return 13;
    case G.IO: return 16;
    case G.CLIENTS: return Math.round(28 * k);
    case G.COUNTER: return 30;
    default: return 20;
  }
}

function ensurePatterns(tl) {
  if (tl.patterns) return;
  const ctx = tl.ctx;
  tl.patterns = {
    lock: ctx.createPattern(hatch('#e5484d', '#fde2e2'), 'repeat'),
    gil: ctx.createPattern(hatch('#f0a020', '#fdefd3'), 'repeat'),
    ready: new Map(),
  };
}

function readyPattern(tl, color) {
  let p = tl.patterns.ready.get(color);
  if (!p) {
    p = tl.ctx.createPattern(hatch(color, '#ffffff'), 'repeat');
    tl.patterns.ready.set(color, p);
  }
  return p;
}

function fillFor(tl, style, color) {
  switch (style) {
    case S.RUN:
    case S.CORE:
    case S.GIL:
      return tl.model.threadColor(color);
    case S.READY:
      return readyPattern(tl, tl.model.threadColor(color));
    case S.LOCK_WAIT:
      return tl.patterns.lock;
    case S.GIL_WAIT:
      return tl.patterns.gil;
    case S.REQUEST:
      return latencyColor(tl, (2 ** (color / 2) - 1) / 1e3);
    default:
      return STATE_COLORS[style] || '#999';
  }
}

function latencyColor(tl, ms) {
  const r = Math.min(1, Math.log2(1 + ms / tl.latencyScale) / 3);
  const h = 150 - 150 * r;
  return `hsl(${h} 60% ${46 - r * 6}%)`;
}

/**
 * Draws the canvas for `tl`'s view, and records the lanes' rows in
 * `tl.layout`. The lanes are painted into an offscreen copy only when what
 * they show changed (the model, the view, the size, the selection); a frame
 * that only moves the playhead (playback) copies that and draws the
 * playhead over it, so it costs the same at a million events as at ten.
 */
export function drawFrame(tl) {
  const key = [tl.model?.revision, tl.t0, tl.t1, tl.scrollY, tl.w, tl.h, tl.dpr, tl.selected, tl.latencyScale, tl.lod].join();
  const { width, height } = tl.canvas;
  if (!tl.base || tl.base.width !== width || tl.base.height !== height) {
    tl.base = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : document.createElement('canvas');
    tl.base.width = width;
    tl.base.height = height;
    tl.baseCtx = tl.base.getContext('2d');
    tl.patterns = null; // made for the old copy's context
    tl.baseKey = null;
  }
  if (tl.baseModel !== tl.model || tl.baseKey !== key) {
    const screen = tl.ctx;
    tl.ctx = tl.baseCtx;
    try {
      drawLanes(tl);
    } finally {
      tl.ctx = screen;
    }
    tl.baseModel = tl.model;
    tl.baseKey = key;
  }
  const ctx = tl.ctx;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(tl.base, 0, 0);
  if (!tl.model) return;
  ctx.setTransform(tl.dpr, 0, 0, tl.dpr, 0, 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(tl.plotX, AXIS_H, tl.plotW + 4, tl.h - AXIS_H);
  ctx.clip();
  drawPlayhead(tl);
  drawSelection(tl);
  ctx.restore();
  drawScrollbar(tl);
}

/** Everything but the playhead, the selection's line and the scrollbar. */
function drawLanes(tl) {
  const ctx = tl.ctx;
  const dpr = tl.dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, tl.w, tl.h);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, tl.w, tl.h);
  ensurePatterns(tl);
  tl.layout = [];
  const model = tl.model;
  if (!model) return;
  drawAxis(tl);
  const lanes = model.orderedLanes();
  const heights = laneHeights(tl, lanes);
  let y = AXIS_H + 2 - tl.scrollY;
  lanes.forEach((lane, i) => {
    tl.layout.push({ lane, y, h: heights[i] });
    y += heights[i];
  });
  tl.contentH = y + tl.scrollY - AXIS_H;
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, AXIS_H, tl.w, tl.h - AXIS_H);
  ctx.clip();
  // Group backgrounds and separators.
  let prevGroup = -1;
  for (const { lane, y: ly, h } of tl.layout) {
    if (ly > tl.h || ly + h < AXIS_H) continue;
    if (lane.group === G.REACTOR) {
      ctx.fillStyle = '#f6f6fe';
      ctx.fillRect(0, ly, tl.w, h);
    }
    if (lane.group !== prevGroup && prevGroup !== -1) {
      ctx.fillStyle = '#e3e5ea';
      ctx.fillRect(0, ly, tl.w, 1);
    }
    prevGroup = lane.group;
  }
  ctx.save();
  ctx.beginPath();
  ctx.rect(tl.plotX, AXIS_H, tl.plotW + 4, tl.h - AXIS_H);
  ctx.clip();
  const labels = [];
  for (const row of tl.layout) {
    if (row.y > tl.h || row.y + row.h < AXIS_H) continue;
    drawLane(tl, row, labels);
  }
  drawLinks(tl);
  ctx.font = '10.5px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (const l of labels) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(l.x, l.y - 8, l.w, 16);
    ctx.clip();
    ctx.fillStyle = l.color;
    ctx.fillText(l.text, l.x + 3, l.y);
    ctx.restore();
  }
  ctx.restore();
  drawLaneLabels(tl);
  ctx.restore();
}

/** When the lanes are taller than the canvas: where the view is, at the right edge. */
function drawScrollbar(tl) {
  const view = tl.h - AXIS_H;
  if (tl.contentH <= view + 4) return;
  const ctx = tl.ctx;
  const thumb = Math.max(24, (view / tl.contentH) * view);
  const y = AXIS_H + (tl.scrollY / (tl.contentH - view + 4)) * (view - thumb);
  ctx.fillStyle = 'rgba(28, 32, 36, 0.28)';
  ctx.beginPath();
  ctx.roundRect(tl.w - 6, y + 1, 4, thumb - 2, 2);
  ctx.fill();
}

/**
 * Lane heights that fill the canvas: stretched when there are few lanes,
 * squeezed when many, but never below a readable floor: past that the lanes
 * scroll (wheel or drag over the labels).
 */
function laneHeights(tl, lanes) {
  const compact = !!tl.opts.compact;
  const base = lanes.map((l) => {
    if (l.group === G.REACTOR && l.spans.n === 0 && l.marks.n === 0) return 26;
    return laneHeight(l, compact);
  });
  const flexible = (l) => l.group !== G.TIMERS && l.group !== G.GIL && l.group !== G.IO && l.group !== G.COUNTER;
  const avail = tl.h - AXIS_H - 4;
  let fixed = 0;
  let flex = 0;
  lanes.forEach((l, i) => {
    if (flexible(l)) flex += base[i];
    else fixed += base[i];
  });
  if (flex === 0) return base;
  const k = Math.max(0.45, Math.min(1.7, (avail - fixed) / flex));
  const floor = (l) => (l.group === G.REACTOR ? 30 : l.group === G.CORE ? 11 : 14);
  const cap = (l) => (l.group === G.CORE ? 18 : l.group === G.REACTOR ? 64 : 40);
  return lanes.map((l, i) => (flexible(l) ? Math.round(Math.min(cap(l), Math.max(floor(l), base[i] * k))) : base[i]));
}

function drawAxis(tl) {
  const ctx = tl.ctx;
  ctx.fillStyle = '#fafafb';
  ctx.fillRect(0, 0, tl.w, AXIS_H);
  ctx.fillStyle = '#e3e5ea';
  ctx.fillRect(0, AXIS_H - 1, tl.w, 1);
  const span = tl.t1 - tl.t0;
  const target = span / Math.max(1, tl.plotW / 90);
  const pow = 10 ** Math.floor(Math.log10(target));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= target) ?? 10 * pow;
  ctx.font = '10.5px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const first = Math.ceil(tl.t0 / step) * step;
  for (let t = first; t <= tl.t1; t += step) {
    const x = Math.round(tl.xAt(t)) + 0.5;
    if (x < tl.plotX) continue;
    ctx.fillStyle = '#d0d3da';
    ctx.fillRect(x, AXIS_H - 6, 1, 6);
    ctx.fillStyle = '#f0f1f4';
    ctx.fillRect(x, AXIS_H, 1, tl.h - AXIS_H);
    const label = fmtMs(Math.abs(t) < step / 1e6 ? 0 : t, 4);
    // A label that would run off the right edge is left out, not cut.
    if (x + 3 + ctx.measureText(label).width > tl.w) continue;
    ctx.fillStyle = '#60646c';
    ctx.fillText(label, x + 3, AXIS_H / 2);
  }
}

function drawLaneLabels(tl) {
  const ctx = tl.ctx;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, AXIS_H, tl.labelW - 2, tl.h - AXIS_H);
  ctx.fillStyle = '#e3e5ea';
  ctx.fillRect(tl.labelW - 2, AXIS_H, 1, tl.h - AXIS_H);
  ctx.textBaseline = 'middle';
  tl.layout.forEach(({ lane, y, h }, i) => {
    if (y > tl.h || y + h < AXIS_H) return;
    const isThread = lane.thread !== null && lane.thread !== undefined;
    if (lane.group === G.REACTOR) {
      ctx.fillStyle = '#f6f6fe';
      ctx.fillRect(0, y, tl.labelW - 2, h);
    }
    if (isThread) {
      ctx.fillStyle = tl.model.threadColor(lane.thread);
      ctx.fillRect(6, y + h / 2 - 4, 8, 8);
    }
    if (h < 10) {
      // Squeezed lanes (many cores): one label for the group.
      const prev = tl.layout[i - 1];
      if (!prev || prev.lane.group !== lane.group) {
        ctx.font = '10px system-ui, sans-serif';
        ctx.fillStyle = '#80838d';
        ctx.fillText(lane.group === G.CORE ? 'cores' : lane.title, 8, y + 5);
      }
      return;
    }
    ctx.font = `${lane.group === G.REACTOR ? '600 ' : ''}${h < 14 ? 10 : 11}px system-ui, sans-serif`;
    ctx.fillStyle = lane.group === G.CORE || lane.group === G.TIMERS ? '#80838d' : '#1c2024';
    const text = lane.title;
    const x = isThread ? 19 : 8;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, y, tl.labelW - 6, h);
    ctx.clip();
    ctx.fillText(text, x, y + h / 2);
    ctx.restore();
  });
}

function drawLane(tl, { lane, y, h }, labels) {
  switch (lane.group) {
    case G.REACTOR: {
      // marks on top, then calls, the thread's state, and turns at the bottom.
      drawSpans(tl, lane.spans, y + 12, h - 24, labels, { labelColor: '#ffffff', minW: 2, coverage: true });
      drawSpans(tl, lane.state, y + h - 11, 4, labels, { skipIdle: true, coverage: true });
      drawSpans(tl, lane.sub, y + h - 6, 3, labels);
      drawMarks(tl, lane.marks, y + 6);
      break;
    }
    case G.POOL:
    case G.THREAD: {
      const top = h >= 18 ? 6 : 3;
      const barH = h - top - 2;
      drawSpans(tl, lane.state, y + top, barH, labels, { skipIdle: true, coverage: true });
      drawSpans(tl, lane.spans, y + 1, top - 2, labels, { jobLabels: h >= 18, barY: y + top, barH });
      if (h >= 14) drawMarks(tl, lane.marks, y + top + barH / 2, true);
      break;
    }
    case G.CORE:
    case G.GIL:
      drawSpans(tl, lane.spans, y + 2, h - 4, labels, { labelColor: '#ffffff', coverage: true });
      break;
    case G.TIMERS:
      drawSpans(tl, lane.spans, y + h / 2 - 1, 2, labels);
      drawMarks(tl, lane.marks, y + h / 2);
      break;
    case G.CLIENTS: {
      const rowH = Math.max(2, (h - 6) / 4);
      drawSpans(tl, lane.spans, y + 3, rowH - 1, labels, { rows: rowH });
      break;
    }
    case G.COUNTER:
      drawSeries(tl, lane, y + 3, h - 6);
      break;
    case G.IO:
      drawMarks(tl, lane.marks, y + h / 2);
      break;
    default:
      break;
  }
}

/**
 * Draws a span list in [y, y+h). Spans narrower than a pixel are merged
 * per pixel column, keeping the style that covers most of it.
 */
function drawSpans(tl, list, y, h, labels, o = {}) {
  const n = list.n;
  if (n === 0) return;
  const ctx = tl.ctx;
  const t0 = tl.t0;
  const t1 = tl.t1;
  const X = tl.plotX;
  const sx = tl.plotW / (t1 - t0);
  const xMax = X + tl.plotW + 2;
  const { start, end, style, color, label, row } = list;
  const batches = new Map();
  const add = (key, x, yy, w, hh) => {
    let b = batches.get(key);
    if (!b) {
      b = [];
      batches.set(key, b);
    }
    // Run-length: a rect touching the previous one of the same style extends it.
    const k = b.length - 4;
    if (k >= 0 && b[k + 1] === yy && b[k + 3] === hh && Math.abs(b[k] + b[k + 2] - x) < 0.5) {
      b[k + 2] = Math.max(b[k + 2], x + w - b[k]);
      return;
    }
    b.push(x, yy, w, hh);
  };
  // Sub-pixel accumulation for the current pixel column, per row: a few
  // (key, covered width) pairs, searched linearly (a pixel holds few styles).
  // With `coverage`, a column's opacity shows how much of it is busy, so a
  // thousand instant calls do not paint a lane solid.
  let accPx = -1;
  const accKeys = [[], [], [], []];
  const accVals = [[], [], [], []];
  const accCount = [0, 0, 0, 0];
  const flush = () => {
    if (accPx < 0) return;
    for (let r = 0; r < 4; r++) {
      const keys = accKeys[r];
      if (keys.length === 0) continue;
      const vals = accVals[r];
      let best = 0;
      let total = 0;
      for (let k = 0; k < keys.length; k++) {
        total += vals[k];
        if (vals[k] > vals[best]) best = k;
      }
      let key = keys[best];
      let w = 1;
      if (o.coverage) {
        // One span alone stays solid (and visible); many share the column by how busy it is.
        if (accCount[r] === 1 && o.minW) {
          w = o.minW;
          key += ALPHA_UNIT * 3;
        } else {
          key += ALPHA_UNIT * (total < 0.1 ? 0 : total < 0.35 ? 1 : total < 0.7 ? 2 : 3);
        }
      }
      add(key, accPx, y + r * (o.rows || 0), w, h);
      keys.length = 0;
      vals.length = 0;
      accCount[r] = 0;
    }
    accPx = -1;
  };
  /** A span, or a bucket of spans, narrower than a pixel: summed into its pixel column. */
  const addNarrow = (xa, w, key, r, count) => {
    const px = Math.floor(xa);
    if (px !== accPx) {
      flush();
      accPx = px;
    }
    const keys = accKeys[r & 3];
    accCount[r & 3] += count;
    const at = keys.indexOf(key);
    if (at >= 0) accVals[r & 3][at] += w;
    else {
      keys.push(key);
      accVals[r & 3].push(w);
    }
  };
  const idle = (st) => o.skipIdle && (st === S.POLL || st === S.IDLE);
  const drawSpan = (i) => {
    const e = end[i];
    if (e < t0) return;
    const st = style[i];
    if (idle(st)) return;
    const s = start[i];
    let xa = X + (s - t0) * sx;
    let xb = X + (e - t0) * sx;
    if (xa < X - 2) xa = X - 2;
    if (xb > xMax) xb = xMax;
    let key = spanKey(st, color[i]);
    const r = row[i];
    if (xb - xa < 1) {
      // True widths rank the styles: a burst of instant spans must not outweigh a long one.
      addNarrow(xa, Math.max(xb - xa, 0) + 1e-6, key, r, 1);
      return;
    }
    if (accPx >= 0 && Math.floor(xa) > accPx) flush();
    const yy = o.rows ? y + r * o.rows : y;
    if (o.coverage) key += ALPHA_UNIT * 3;
    add(key, xa, yy, xb - xa, h);
    if (labels && label[i] >= 0 && xb - xa > 34) {
      if (o.jobLabels) {
        labels.push({ x: xa, y: o.barY + o.barH / 2, w: xb - xa, text: tl.model.strings[label[i]], color: '#ffffff' });
      } else {
        labels.push({ x: xa, y: yy + h / 2, w: xb - xa, text: tl.model.strings[label[i]], color: o.labelColor || '#1c2024' });
      }
    }
  };
  // Zoomed out over many spans: their buckets (a few per pixel column) and the wide ones, in time order.
  const summary = tl.lod ? summaryFor(list, t0, t1, tl.plotW) : null;
  if (summary) {
    const { at, key: keys, row: rows, width, count, wide } = summary;
    let k = summary.firstEntryFrom(t0);
    let j = summary.firstWideEndingAfter(t0);
    for (;;) {
      const tk = k < summary.n ? at[k] : Infinity;
      const tj = j < summary.wideN ? start[wide[j]] : Infinity;
      if (tk > t1 && tj > t1) break;
      if (tj <= tk) drawSpan(wide[j++]);
      else {
        if (!idle(Math.floor(keys[k] / 65536))) addNarrow(Math.max(X - 2, X + (at[k] - t0) * sx), width[k] * sx + 1e-6 * count[k], keys[k], rows[k], count[k]);
        k++;
      }
    }
  } else {
    for (let i = list.firstEndingAfter(t0); i < n && start[i] <= t1; i++) drawSpan(i);
  }
  flush();
  for (const [key, rects] of batches) {
    const level = Math.floor(key / ALPHA_UNIT);
    const st = Math.floor((key % ALPHA_UNIT) / 65536);
    const col = key % 65536;
    ctx.fillStyle = fillFor(tl, st, col);
    ctx.globalAlpha = o.coverage ? ALPHAS[level] : 1;
    ctx.beginPath();
    for (let k = 0; k < rects.length; k += 4) ctx.rect(rects[k], rects[k + 1], rects[k + 2], rects[k + 3]);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
}

function drawMarks(tl, list, cy, small = false) {
  const n = list.n;
  if (n === 0) return;
  const ctx = tl.ctx;
  const pad = (4 * (tl.t1 - tl.t0)) / tl.plotW;
  const first = list.firstAt(tl.t0 - pad);
  const last = list.firstAt(tl.t1 + pad);
  if (last - first > tl.plotW / 3) {
    // Too many to tell apart: a faint tick per pixel column.
    ctx.fillStyle = 'rgba(96,100,108,0.45)';
    ctx.beginPath();
    let prev = -1;
    for (let i = first; i < last; i++) {
      const x = Math.round(tl.xAt(list.t[i]));
      if (x === prev) continue;
      prev = x;
      ctx.rect(x, cy - 3, 1, 6);
    }
    ctx.fill();
    return;
  }
  const seen = new Map();
  for (let i = first; i < last; i++) {
    const t = list.t[i];
    const st = list.style[i];
    const x = Math.round(tl.xAt(t));
    const prev = seen.get(st);
    if (prev !== undefined && x - prev < 3) continue;
    seen.set(st, x);
    paintMark(ctx, st, x, cy, small);
  }
}

function drawSeries(tl, lane, y, h) {
  const s = lane.series;
  if (!s || s.t.length === 0) return;
  const ctx = tl.ctx;
  const max = Math.max(1, s.max);
  const yOf = (v) => y + h - (v / max) * h;
  const lo = lowerBound(s.t.length, (i) => s.t[i] < tl.t0);
  ctx.strokeStyle = '#5b5bd6';
  ctx.fillStyle = 'rgba(91,91,214,0.12)';
  ctx.lineWidth = 1.4;
  ctx.beginPath();
  let lastX = -Infinity;
  let v = lo > 0 ? s.v[lo - 1] : 0;
  ctx.moveTo(tl.plotX, yOf(v));
  for (let i = lo; i < s.t.length; i++) {
    const t = s.t[i];
    const x = tl.xAt(t);
    if (x > tl.plotX + tl.plotW + 2) break;
    if (x - lastX < 0.5 && i + 1 < s.t.length && tl.xAt(s.t[i + 1]) - x < 0.5) {
      v = s.v[i];
      continue;
    }
    ctx.lineTo(x, yOf(v));
    v = s.v[i];
    ctx.lineTo(x, yOf(v));
    lastX = x;
  }
  ctx.lineTo(Math.min(tl.plotX + tl.plotW, tl.xAt(tl.model.endMs)), yOf(v));
  ctx.stroke();
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#60646c';
  ctx.textBaseline = 'top';
  ctx.fillText(`max ${s.max}`, tl.plotX + 4, y);
  ctx.textBaseline = 'middle';
}

function drawLinks(tl) {
  const links = tl.model.links;
  if (links.n === 0) return;
  const ys = new Map(tl.layout.map((r) => [r.lane.key, r]));
  const visible = [];
  for (let i = 0; i < links.n; i++) {
    if (links.t2[i] < tl.t0 || links.t1[i] > tl.t1) continue;
    visible.push(i);
    if (visible.length > 600) break;
  }
  const sel = tl.selected;
  const ctx = tl.ctx;
  ctx.lineWidth = 1.2;
  for (const i of visible) {
    const emphasised = links.ev[i] === sel;
    if (visible.length > 600 && !emphasised) continue;
    const a = ys.get(links.lane1[i]);
    const b = ys.get(links.lane2[i]);
    if (!a || !b) continue;
    const x1 = tl.xAt(links.t1[i]);
    const x2 = tl.xAt(links.t2[i]);
    const st = links.style[i];
    const y1 = a.lane.group === G.REACTOR ? a.y + 12 + (a.h - 24) / 2 : a.y + a.h / 2;
    const y2 = b.lane.group === G.REACTOR ? b.y + 12 + (b.h - 24) / 2 : b.y + b.h / 2;
    ctx.strokeStyle = emphasised ? '#0b8ad6' : LINK_COLORS[st];
    ctx.lineWidth = emphasised ? 2 : 1.2;
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    if (a === b) {
      const lift = Math.min(18, 6 + (x2 - x1) / 8);
      ctx.bezierCurveTo(x1, y1 - lift, x2, y2 - lift, x2, y2);
    } else {
      const my = (y1 + y2) / 2;
      ctx.bezierCurveTo(x1, my, x2, my, x2, y2);
    }
    ctx.stroke();
    // arrow head
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath();
    ctx.arc(x2, y2, 1.8, 0, Math.PI * 2);
    ctx.fill();
  }
}

function drawPlayhead(tl) {
  if (tl.playhead === null || tl.playhead === undefined) return;
  const ctx = tl.ctx;
  const x = tl.xAt(tl.playhead);
  const right = tl.plotX + tl.plotW + 4;
  if (x < right) {
    ctx.fillStyle = 'rgba(255,255,255,0.4)';
    ctx.fillRect(Math.max(tl.plotX, x), AXIS_H, right - Math.max(tl.plotX, x), tl.h - AXIS_H);
  }
  if (x >= tl.plotX - 1 && x <= right) {
    ctx.fillStyle = '#e5484d';
    ctx.fillRect(Math.round(x) - 1, AXIS_H, 2, tl.h - AXIS_H);
  }
}

function drawSelection(tl) {
  if (tl.selected < 0 || !tl.model) return;
  if (tl.selected >= tl.model.eventCount) return;
  const x = Math.round(tl.xAt(tl.model.eventT(tl.selected) / 1e6)) + 0.5;
  const ctx = tl.ctx;
  ctx.strokeStyle = '#0b8ad6';
  ctx.setLineDash([3, 3]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x, AXIS_H);
  ctx.lineTo(x, tl.h);
  ctx.stroke();
  ctx.setLineDash([]);
}
