// The timeline: a canvas with a lane per thread, core, the GIL, timers and
// clients. It draws only the visible range from the model's typed arrays,
// merging everything narrower than a pixel into one column per pixel, so it
// stays smooth with 100k events. Wheel zooms, drag pans, hover explains,
// click seeks (or selects what is under the pointer).

import { S, M, L, G } from './trace-model.js';
import { lowerBound } from './lists.js';
import { fmtMs, describeEvent, escapeHtml, blockReason } from './format.js';

const AXIS_H = 22;
/** Batch keys carry an opacity level (0-3) above the style and color bits. */
const ALPHA_UNIT = 2 ** 24;
const ALPHAS = [0.22, 0.45, 0.72, 1];

export const STATE_COLORS = {
  [S.IO]: '#9aa9bf',
  [S.SLEEP]: '#c9b8f5',
  [S.BLOCKED]: '#b8b8c2',
  [S.LOCK_WAIT]: '#e5484d',
  [S.GIL_WAIT]: '#f0a020',
  [S.POLL]: '#d8dce3',
  [S.IDLE]: '#d8dce3',
  [S.CALL_TIMER]: '#5b5bd6',
  [S.CALL_INBOX]: '#12a594',
  [S.CALL_IO]: '#2d7ee0',
  [S.CALL_TRIGGER]: '#8e4ec6',
  [S.CALL_TASK]: '#6b7280',
  [S.TURN]: '#c6cbf5',
  [S.JOB_OK]: '#1f8f5f',
  [S.JOB_FAIL]: '#e5484d',
  [S.JOB_OPEN]: '#7fd1ae',
  [S.LOCK_HOLD]: '#3f4756',
  [S.LOCK_WAIT_BAR]: '#e5484d',
  [S.TIMER_LATE]: '#e5484d',
};

const MARK_COLORS = {
  [M.TIMER_DUE]: '#5b5bd6',
  [M.TIMER_FIRED]: '#5b5bd6',
  [M.TIMER_CANCEL]: '#8b8d98',
  [M.PRINT]: '#1c2024',
  [M.DEF_CREATED]: '#0b8ad6',
  [M.DEF_OK]: '#1f8f5f',
  [M.DEF_FAIL]: '#e5484d',
  [M.DEF_RECOVER]: '#f0a020',
  [M.DEF_CHAIN]: '#0b8ad6',
  [M.DEF_CANCEL]: '#8b8d98',
  [M.ERROR]: '#e5484d',
  [M.INBOX]: '#12a594',
  [M.SYSTEM]: '#8e4ec6',
  [M.STOP]: '#1c2024',
  [M.JOB_QUEUED]: '#1f8f5f',
  [M.MESSAGE]: '#2d7ee0',
  [M.CONNECTION]: '#8e4ec6',
  [M.BYTES]: '#9aa9bf',
  [M.REQUEST_SENT]: '#8b8d98',
};

const LINK_COLORS = { [L.JOB_START]: 'rgba(31,143,95,0.8)', [L.JOB_DONE]: 'rgba(18,165,148,0.85)', [L.CHAIN]: 'rgba(11,138,214,0.8)' };

const STATE_NAMES = {
  [S.RUN]: 'running',
  [S.READY]: 'ready, waiting for a core',
  [S.IO]: blockReason('io'),
  [S.SLEEP]: blockReason('sleep'),
  [S.LOCK_WAIT]: blockReason('lock'),
  [S.GIL_WAIT]: blockReason('gil'),
  [S.POLL]: blockReason('poll'),
  [S.IDLE]: blockReason('idle'),
  [S.BLOCKED]: 'blocked',
};

const CALL_SOURCES = { [S.CALL_TIMER]: 'timer', [S.CALL_INBOX]: 'inbox', [S.CALL_IO]: 'I/O', [S.CALL_TRIGGER]: 'trigger', [S.CALL_TASK]: 'task' };

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

function hatch(color, background) {
  const c = document.createElement('canvas');
  c.width = 6;
  c.height = 6;
  const g = c.getContext('2d');
  g.fillStyle = background;
  g.fillRect(0, 0, 6, 6);
  g.strokeStyle = color;
  g.lineWidth = 1.6;
  g.beginPath();
  g.moveTo(-1, 7);
  g.lineTo(7, -1);
  g.moveTo(-1, 1);
  g.lineTo(1, -1);
  g.moveTo(5, 7);
  g.lineTo(7, 5);
  g.stroke();
  return c;
}

export class Timeline {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{compact?: boolean, follow?: boolean, onSeek?: (ms:number)=>void, onSelect?: (ev:number)=>void, tooltip?: HTMLElement}} opts
   */
  constructor(canvas, opts = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.opts = opts;
    this.model = null;
    this.t0 = 0;
    this.t1 = 1;
    this.scrollY = 0;
    this.playhead = null;
    this.selected = -1;
    this.following = !!opts.follow;
    this.followWindow = 5000;
    this.labelW = opts.compact ? 78 : 104;
    this.frame = 0; // the requested animation frame, if any
    this.layout = [];
    this.latencyScale = 1;
    this.patterns = null;
    this.tooltip = opts.tooltip || null;
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.bind();
  }

  /** Redraws at the next animation frame: once, however often it is asked for, and not at all while nothing changes. */
  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.following && this.model) this.applyFollow();
      this.draw();
    });
  }

  /** Whether the view keeps the model's end in sight as it grows (live). */
  get follow() {
    return this.following;
  }

  set follow(on) {
    this.following = on;
    if (on) this.invalidate();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const r = this.canvas.getBoundingClientRect();
    const w = Math.max(100, Math.round(r.width));
    const h = Math.max(60, Math.round(r.height));
    if (this.canvas.width !== w * dpr || this.canvas.height !== h * dpr) {
      this.canvas.width = w * dpr;
      this.canvas.height = h * dpr;
    }
    this.w = w;
    this.h = h;
    this.dpr = dpr;
    this.invalidate();
  }

  setModel(model, { keepView = false } = {}) {
    this.model = model;
    this.selected = -1;
    if (model) {
      const lat = [];
      const clients = model.lanes.get('clients');
      if (clients) for (let i = 0; i < clients.spans.n; i++) lat.push(clients.spans.end[i] - clients.spans.start[i]);
      lat.sort((a, b) => a - b);
      this.latencyScale = lat.length ? Math.max(lat[Math.floor(lat.length * 0.5)], 1e-6) : 1;
    }
    if (!keepView) this.fit();
    this.invalidate();
  }

  get plotX() {
    return this.labelW;
  }

  get plotW() {
    return Math.max(10, this.w - this.labelW - 8);
  }

  fit() {
    if (!this.model || this.model.events.length === 0) {
      this.t0 = 0;
      this.t1 = 1;
    } else {
      const a = Number.isFinite(this.model.startMs) ? Math.min(0, this.model.startMs) : 0;
      const b = Math.max(this.model.endMs, a + 1e-6);
      const pad = (b - a) * 0.02;
      this.t0 = a - pad * 0.25;
      this.t1 = b + pad;
    }
    this.scrollY = 0;
    this.invalidate();
  }

  /** Moves the view onto the model's end; called as a frame begins, so it draws in that frame. */
  applyFollow() {
    const end = this.model.endMs;
    if (!Number.isFinite(end) || this.model.events.length === 0) return;
    const w = this.followWindow;
    if (Math.abs(this.t1 - (end + w * 0.03)) > w * 0.001) {
      this.t1 = end + w * 0.03;
      this.t0 = this.t1 - w;
    }
  }

  setView(t0, t1) {
    const minW = 1e-6;
    if (t1 - t0 < minW) {
      const c = (t0 + t1) / 2;
      t0 = c - minW / 2;
      t1 = c + minW / 2;
    }
    this.t0 = t0;
    this.t1 = t1;
    this.invalidate();
  }

  /** Makes `ms` visible, keeping the zoom. */
  reveal(ms) {
    const w = this.t1 - this.t0;
    if (ms < this.t0 || ms > this.t1) this.setView(ms - w / 2, ms + w / 2);
  }

  setPlayhead(ms) {
    if (this.playhead !== ms) {
      this.playhead = ms;
      this.invalidate();
    }
  }

  setSelected(ev) {
    this.selected = ev;
    this.invalidate();
  }

  timeAt(x) {
    return this.t0 + ((x - this.plotX) / this.plotW) * (this.t1 - this.t0);
  }

  xAt(t) {
    return this.plotX + ((t - this.t0) / (this.t1 - this.t0)) * this.plotW;
  }

  // ---- drawing ----

  ensurePatterns() {
    if (this.patterns) return;
    const ctx = this.ctx;
    this.patterns = {
      lock: ctx.createPattern(hatch('#e5484d', '#fde2e2'), 'repeat'),
      gil: ctx.createPattern(hatch('#f0a020', '#fdefd3'), 'repeat'),
      ready: new Map(),
    };
  }

  readyPattern(color) {
    let p = this.patterns.ready.get(color);
    if (!p) {
      p = this.ctx.createPattern(hatch(color, '#ffffff'), 'repeat');
      this.patterns.ready.set(color, p);
    }
    return p;
  }

  fillFor(style, color) {
    switch (style) {
      case S.RUN:
      case S.CORE:
      case S.GIL:
        return this.model.threadColor(color);
      case S.READY:
        return this.readyPattern(this.model.threadColor(color));
      case S.LOCK_WAIT:
        return this.patterns.lock;
      case S.GIL_WAIT:
        return this.patterns.gil;
      case S.REQUEST:
        return this.latencyColor((2 ** (color / 2) - 1) / 1e3);
      default:
        return STATE_COLORS[style] || '#999';
    }
  }

  latencyColor(ms) {
    const r = Math.min(1, Math.log2(1 + ms / this.latencyScale) / 3);
    const h = 150 - 150 * r;
    return `hsl(${h} 60% ${46 - r * 6}%)`;
  }

  draw() {
    const ctx = this.ctx;
    const dpr = this.dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.w, this.h);
    this.ensurePatterns();
    this.layout = [];
    const model = this.model;
    if (!model) return;
    this.drawAxis();
    const lanes = model.orderedLanes();
    const heights = this.laneHeights(lanes);
    let y = AXIS_H + 2 - this.scrollY;
    lanes.forEach((lane, i) => {
      this.layout.push({ lane, y, h: heights[i] });
      y += heights[i];
    });
    this.contentH = y + this.scrollY - AXIS_H;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, this.w, this.h - AXIS_H);
    ctx.clip();
    // Group backgrounds and separators.
    let prevGroup = -1;
    for (const { lane, y: ly, h } of this.layout) {
      if (ly > this.h || ly + h < AXIS_H) continue;
      if (lane.group === G.REACTOR) {
        ctx.fillStyle = '#f6f6fe';
        ctx.fillRect(0, ly, this.w, h);
      }
      if (lane.group !== prevGroup && prevGroup !== -1) {
        ctx.fillStyle = '#e3e5ea';
        ctx.fillRect(0, ly, this.w, 1);
      }
      prevGroup = lane.group;
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.plotX, AXIS_H, this.plotW + 4, this.h - AXIS_H);
    ctx.clip();
    const labels = [];
    for (const row of this.layout) {
      if (row.y > this.h || row.y + row.h < AXIS_H) continue;
      this.drawLane(row, labels);
    }
    this.drawLinks();
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
    this.drawPlayhead();
    this.drawSelection();
    ctx.restore();
    this.drawLaneLabels();
    ctx.restore();
  }

  /** Lane heights that fill the canvas: stretched when there are few lanes, squeezed (down to a floor) when many. */
  laneHeights(lanes) {
    const compact = !!this.opts.compact;
    const base = lanes.map((l) => {
      if (l.group === G.REACTOR && l.spans.n === 0 && l.marks.n === 0) return 26;
      return laneHeight(l, compact);
    });
    const flexible = (l) => l.group !== G.TIMERS && l.group !== G.GIL && l.group !== G.IO && l.group !== G.COUNTER;
    const avail = this.h - AXIS_H - 4;
    let fixed = 0;
    let flex = 0;
    lanes.forEach((l, i) => {
      if (flexible(l)) flex += base[i];
      else fixed += base[i];
    });
    if (flex === 0) return base;
    const k = Math.max(0.45, Math.min(1.7, (avail - fixed) / flex));
    const floor = (l) => (l.group === G.REACTOR ? 30 : l.group === G.CORE ? 7 : 11);
    const cap = (l) => (l.group === G.CORE ? 18 : l.group === G.REACTOR ? 64 : 40);
    return lanes.map((l, i) => (flexible(l) ? Math.round(Math.min(cap(l), Math.max(floor(l), base[i] * k))) : base[i]));
  }

  drawAxis() {
    const ctx = this.ctx;
    ctx.fillStyle = '#fafafb';
    ctx.fillRect(0, 0, this.w, AXIS_H);
    ctx.fillStyle = '#e3e5ea';
    ctx.fillRect(0, AXIS_H - 1, this.w, 1);
    const span = this.t1 - this.t0;
    const target = span / Math.max(1, this.plotW / 90);
    const pow = 10 ** Math.floor(Math.log10(target));
    const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= target) ?? 10 * pow;
    ctx.font = '10.5px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const first = Math.ceil(this.t0 / step) * step;
    for (let t = first; t <= this.t1; t += step) {
      const x = Math.round(this.xAt(t)) + 0.5;
      if (x < this.plotX) continue;
      ctx.fillStyle = '#d0d3da';
      ctx.fillRect(x, AXIS_H - 6, 1, 6);
      ctx.fillStyle = '#f0f1f4';
      ctx.fillRect(x, AXIS_H, 1, this.h - AXIS_H);
      ctx.fillStyle = '#60646c';
      ctx.fillText(fmtMs(Math.abs(t) < step / 1e6 ? 0 : t, 4), x + 3, AXIS_H / 2);
    }
  }

  drawLaneLabels() {
    const ctx = this.ctx;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, AXIS_H, this.labelW - 2, this.h - AXIS_H);
    ctx.fillStyle = '#e3e5ea';
    ctx.fillRect(this.labelW - 2, AXIS_H, 1, this.h - AXIS_H);
    ctx.textBaseline = 'middle';
    this.layout.forEach(({ lane, y, h }, i) => {
      if (y > this.h || y + h < AXIS_H) return;
      const isThread = lane.thread !== null && lane.thread !== undefined;
      if (lane.group === G.REACTOR) {
        ctx.fillStyle = '#f6f6fe';
        ctx.fillRect(0, y, this.labelW - 2, h);
      }
      if (isThread) {
        ctx.fillStyle = this.model.threadColor(lane.thread);
        ctx.fillRect(6, y + h / 2 - 4, 8, 8);
      }
      if (h < 10) {
        // Squeezed lanes (many cores): one label for the group.
        const prev = this.layout[i - 1];
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
      ctx.rect(0, y, this.labelW - 6, h);
      ctx.clip();
      ctx.fillText(text, x, y + h / 2);
      ctx.restore();
    });
  }

  drawLane({ lane, y, h }, labels) {
    switch (lane.group) {
      case G.REACTOR: {
        // marks on top, then calls, the thread's state, and turns at the bottom.
        this.drawSpans(lane.spans, y + 12, h - 24, labels, { labelColor: '#ffffff', minW: 2, coverage: true });
        this.drawSpans(lane.state, y + h - 11, 4, labels, { skipIdle: true, coverage: true });
        this.drawSpans(lane.sub, y + h - 6, 3, labels);
        this.drawMarks(lane.marks, y + 6);
        break;
      }
      case G.POOL:
      case G.THREAD: {
        const top = h >= 18 ? 6 : 3;
        const barH = h - top - 2;
        this.drawSpans(lane.state, y + top, barH, labels, { skipIdle: true, coverage: true });
        this.drawSpans(lane.spans, y + 1, top - 2, labels, { jobLabels: h >= 18, barY: y + top, barH });
        if (h >= 14) this.drawMarks(lane.marks, y + top + barH / 2, true);
        break;
      }
      case G.CORE:
      case G.GIL:
        this.drawSpans(lane.spans, y + 2, h - 4, labels, { labelColor: '#ffffff', coverage: true });
        break;
      case G.TIMERS:
        this.drawSpans(lane.spans, y + h / 2 - 1, 2, labels);
        this.drawMarks(lane.marks, y + h / 2);
        break;
      case G.CLIENTS: {
        const rowH = Math.max(2, (h - 6) / 4);
        this.drawSpans(lane.spans, y + 3, rowH - 1, labels, { rows: rowH });
        break;
      }
      case G.COUNTER:
        this.drawSeries(lane, y + 3, h - 6);
        break;
      case G.IO:
        this.drawMarks(lane.marks, y + h / 2);
        break;
      default:
        break;
    }
  }

  /**
   * Draws a span list in [y, y+h). Spans narrower than a pixel are merged
   * per pixel column, keeping the style that covers most of it.
   */
  drawSpans(list, y, h, labels, o = {}) {
    const n = list.n;
    if (n === 0) return;
    const ctx = this.ctx;
    const t0 = this.t0;
    const t1 = this.t1;
    const X = this.plotX;
    const sx = this.plotW / (t1 - t0);
    const xMax = X + this.plotW + 2;
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
    for (let i = list.firstEndingAfter(t0); i < n; i++) {
      const s = start[i];
      if (s > t1) break;
      const e = end[i];
      if (e < t0) continue;
      const st = style[i];
      if (o.skipIdle && (st === S.POLL || st === S.IDLE)) {
        continue;
      }
      let xa = X + (s - t0) * sx;
      let xb = X + (e - t0) * sx;
      if (xa < X - 2) xa = X - 2;
      if (xb > xMax) xb = xMax;
      let key = st * 65536 + (color[i] & 0xffff);
      const r = row[i];
      if (xb - xa < 1) {
        const px = Math.floor(xa);
        if (px !== accPx) {
          flush();
          accPx = px;
        }
        const keys = accKeys[r & 3];
        accCount[r & 3]++;
        // True widths rank the styles: a burst of instant spans must not outweigh a long one.
        const w = Math.max(xb - xa, 0) + 1e-6;
        const at = keys.indexOf(key);
        if (at >= 0) accVals[r & 3][at] += w;
        else {
          keys.push(key);
          accVals[r & 3].push(w);
        }
        continue;
      }
      if (accPx >= 0 && Math.floor(xa) > accPx) flush();
      const yy = o.rows ? y + r * o.rows : y;
      if (o.coverage) key += ALPHA_UNIT * 3;
      add(key, xa, yy, xb - xa, h);
      if (labels && label[i] >= 0 && xb - xa > 34) {
        if (o.jobLabels) {
          labels.push({ x: xa, y: o.barY + o.barH / 2, w: xb - xa, text: this.model.strings[label[i]], color: '#ffffff' });
        } else {
          labels.push({ x: xa, y: yy + h / 2, w: xb - xa, text: this.model.strings[label[i]], color: o.labelColor || '#1c2024' });
        }
      }
    }
    flush();
    for (const [key, rects] of batches) {
      const level = Math.floor(key / ALPHA_UNIT);
      const st = Math.floor((key % ALPHA_UNIT) / 65536);
      const col = key % 65536;
      ctx.fillStyle = this.fillFor(st, col);
      ctx.globalAlpha = o.coverage ? ALPHAS[level] : 1;
      ctx.beginPath();
      for (let k = 0; k < rects.length; k += 4) ctx.rect(rects[k], rects[k + 1], rects[k + 2], rects[k + 3]);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  drawMarks(list, cy, small = false) {
    const n = list.n;
    if (n === 0) return;
    const ctx = this.ctx;
    const pad = (4 * (this.t1 - this.t0)) / this.plotW;
    const first = list.firstAt(this.t0 - pad);
    const last = list.firstAt(this.t1 + pad);
    if (last - first > this.plotW / 3) {
      // Too many to tell apart: a faint tick per pixel column.
      ctx.fillStyle = 'rgba(96,100,108,0.45)';
      ctx.beginPath();
      let prev = -1;
      for (let i = first; i < last; i++) {
        const x = Math.round(this.xAt(list.t[i]));
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
      const x = Math.round(this.xAt(t));
      const prev = seen.get(st);
      if (prev !== undefined && x - prev < 3) continue;
      seen.set(st, x);
      this.mark(ctx, st, x, cy, small);
    }
  }

  mark(ctx, st, x, cy, small) {
    const c = MARK_COLORS[st] || '#555';
    ctx.fillStyle = c;
    ctx.strokeStyle = c;
    ctx.lineWidth = 1.2;
    const r = small ? 2.2 : 3;
    switch (st) {
      case M.TIMER_DUE:
        ctx.beginPath();
        ctx.moveTo(x, cy - 4);
        ctx.lineTo(x + 4, cy);
        ctx.lineTo(x, cy + 4);
        ctx.lineTo(x - 4, cy);
        ctx.closePath();
        ctx.fillStyle = '#ffffff';
        ctx.fill();
        ctx.stroke();
        break;
      case M.TIMER_FIRED:
        ctx.beginPath();
        ctx.moveTo(x - 4, cy + 4);
        ctx.lineTo(x + 4, cy + 4);
        ctx.lineTo(x, cy - 4);
        ctx.closePath();
        ctx.fill();
        break;
      case M.TIMER_CANCEL:
      case M.DEF_CANCEL:
        ctx.beginPath();
        ctx.moveTo(x - 3, cy - 3);
        ctx.lineTo(x + 3, cy + 3);
        ctx.moveTo(x + 3, cy - 3);
        ctx.lineTo(x - 3, cy + 3);
        ctx.stroke();
        break;
      case M.PRINT:
        ctx.beginPath();
        ctx.arc(x, cy, r, 0, Math.PI * 2);
        ctx.fillStyle = '#ffffff';
        ctx.fill();
        ctx.fillStyle = c;
        ctx.beginPath();
        ctx.arc(x, cy, r - 1, 0, Math.PI * 2);
        ctx.fill();
        break;
      case M.DEF_CREATED:
        ctx.beginPath();
        ctx.arc(x, cy, 2.6, 0, Math.PI * 2);
        ctx.stroke();
        break;
      case M.ERROR:
      case M.STOP:
        ctx.fillRect(x - 3, cy - 3, 6, 6);
        break;
      case M.INBOX:
      case M.JOB_QUEUED:
      case M.MESSAGE:
      case M.BYTES:
      case M.CONNECTION:
      case M.REQUEST_SENT:
        ctx.fillRect(x - 0.5, cy - 4, 1.5, 8);
        break;
      default:
        ctx.beginPath();
        ctx.arc(x, cy, 3, 0, Math.PI * 2);
        ctx.fill();
    }
  }

  drawSeries(lane, y, h) {
    const s = lane.series;
    if (!s || s.t.length === 0) return;
    const ctx = this.ctx;
    const max = Math.max(1, s.max);
    const yOf = (v) => y + h - (v / max) * h;
    const lo = lowerBound(s.t.length, (i) => s.t[i] < this.t0);
    ctx.strokeStyle = '#5b5bd6';
    ctx.fillStyle = 'rgba(91,91,214,0.12)';
    ctx.lineWidth = 1.4;
    ctx.beginPath();
    let lastX = -Infinity;
    let v = lo > 0 ? s.v[lo - 1] : 0;
    ctx.moveTo(this.plotX, yOf(v));
    for (let i = lo; i < s.t.length; i++) {
      const t = s.t[i];
      const x = this.xAt(t);
      if (x > this.plotX + this.plotW + 2) break;
      if (x - lastX < 0.5 && i + 1 < s.t.length && this.xAt(s.t[i + 1]) - x < 0.5) {
        v = s.v[i];
        continue;
      }
      ctx.lineTo(x, yOf(v));
      v = s.v[i];
      ctx.lineTo(x, yOf(v));
      lastX = x;
    }
    ctx.lineTo(Math.min(this.plotX + this.plotW, this.xAt(this.model.endMs)), yOf(v));
    ctx.stroke();
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#60646c';
    ctx.textBaseline = 'top';
    ctx.fillText(`max ${s.max}`, this.plotX + 4, y);
    ctx.textBaseline = 'middle';
  }

  drawLinks() {
    const links = this.model.links;
    if (links.n === 0) return;
    const ys = new Map(this.layout.map((r) => [r.lane.key, r]));
    const visible = [];
    for (let i = 0; i < links.n; i++) {
      if (links.t2[i] < this.t0 || links.t1[i] > this.t1) continue;
      visible.push(i);
      if (visible.length > 600) break;
    }
    const sel = this.selected;
    const ctx = this.ctx;
    ctx.lineWidth = 1.2;
    for (const i of visible) {
      const emphasised = links.ev[i] === sel;
      if (visible.length > 600 && !emphasised) continue;
      const a = ys.get(links.lane1[i]);
      const b = ys.get(links.lane2[i]);
      if (!a || !b) continue;
      const x1 = this.xAt(links.t1[i]);
      const x2 = this.xAt(links.t2[i]);
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

  drawPlayhead() {
    if (this.playhead === null || this.playhead === undefined) return;
    const ctx = this.ctx;
    const x = this.xAt(this.playhead);
    const right = this.plotX + this.plotW + 4;
    if (x < right) {
      ctx.fillStyle = 'rgba(255,255,255,0.4)';
      ctx.fillRect(Math.max(this.plotX, x), AXIS_H, right - Math.max(this.plotX, x), this.h - AXIS_H);
    }
    if (x >= this.plotX - 1 && x <= right) {
      ctx.fillStyle = '#e5484d';
      ctx.fillRect(Math.round(x) - 1, AXIS_H, 2, this.h - AXIS_H);
    }
  }

  drawSelection() {
    if (this.selected < 0 || !this.model) return;
    const e = this.model.events[this.selected];
    if (!e) return;
    const x = Math.round(this.xAt(e.t / 1e6)) + 0.5;
    const ctx = this.ctx;
    ctx.strokeStyle = '#0b8ad6';
    ctx.setLineDash([3, 3]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, AXIS_H);
    ctx.lineTo(x, this.h);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  // ---- interaction ----

  bind() {
    const c = this.canvas;
    let down = null;
    c.addEventListener('pointerdown', (ev) => {
      c.setPointerCapture(ev.pointerId);
      down = { x: ev.offsetX, y: ev.offsetY, t0: this.t0, t1: this.t1, sy: this.scrollY, moved: false };
      this.follow = false;
    });
    c.addEventListener('pointermove', (ev) => {
      if (down) {
        const dx = ev.offsetX - down.x;
        const dy = ev.offsetY - down.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) down.moved = true;
        if (down.moved) {
          const dt = (dx / this.plotW) * (down.t1 - down.t0);
          this.setView(down.t0 - dt, down.t1 - dt);
          this.scrollY = this.clampScroll(down.sy - dy);
          this.hideTooltip();
        }
        return;
      }
      this.onHover(ev.offsetX, ev.offsetY);
    });
    c.addEventListener('pointerup', (ev) => {
      const d = down;
      down = null;
      if (!d || d.moved) return;
      const hit = this.hitTest(ev.offsetX, ev.offsetY);
      if (hit && hit.ev >= 0) {
        this.setSelected(hit.ev);
        this.opts.onSelect?.(hit.ev, hit.t);
      } else if (ev.offsetX >= this.plotX) {
        this.opts.onSeek?.(Math.max(0, this.timeAt(ev.offsetX)));
      }
    });
    c.addEventListener('pointerleave', () => this.hideTooltip());
    c.addEventListener('dblclick', () => this.fit());
    c.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        this.follow = false;
        if (ev.offsetX < this.plotX) {
          this.scrollY = this.clampScroll(this.scrollY + ev.deltaY);
          this.invalidate();
          return;
        }
        if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY) || ev.shiftKey) {
          const d = ev.shiftKey && !ev.deltaX ? ev.deltaY : ev.deltaX;
          const dt = (d / this.plotW) * (this.t1 - this.t0);
          this.setView(this.t0 + dt, this.t1 + dt);
        } else {
          this.zoomAt(this.timeAt(ev.offsetX), Math.exp(ev.deltaY * (ev.deltaMode ? 0.05 : 0.0018)));
        }
        this.hideTooltip();
      },
      { passive: false },
    );
    c.addEventListener('keydown', (ev) => {
      const span = this.t1 - this.t0;
      const k = ev.key;
      if (k === 'w' || k === '+' || k === '=') this.zoomAt((this.t0 + this.t1) / 2, 0.7);
      else if (k === 's' || k === '-') this.zoomAt((this.t0 + this.t1) / 2, 1 / 0.7);
      else if (k === 'a') this.setView(this.t0 - span * 0.15, this.t1 - span * 0.15);
      else if (k === 'd') this.setView(this.t0 + span * 0.15, this.t1 + span * 0.15);
      else if (k === '0') this.fit();
      else return;
      ev.preventDefault();
      ev.stopPropagation();
    });
  }

  clampScroll(y) {
    const max = Math.max(0, (this.contentH || 0) - (this.h - AXIS_H) + 4);
    return Math.min(max, Math.max(0, y));
  }

  zoomAt(t, factor) {
    const a = t - (t - this.t0) * factor;
    const b = t + (this.t1 - t) * factor;
    this.setView(a, b);
  }

  rowAt(y) {
    return this.layout.find((r) => y >= r.y && y < r.y + r.h) || null;
  }

  /** What is under (x, y): {ev, t, html} or null. */
  hitTest(x, y) {
    if (!this.model || x < this.plotX || y < AXIS_H) return null;
    const row = this.rowAt(y);
    if (!row) return null;
    const { lane } = row;
    const t = this.timeAt(x);
    const tol = (4 * (this.t1 - this.t0)) / this.plotW;
    const rel = y - row.y;
    // Marks first: they are small and sit on top.
    const markRow =
      lane.group === G.REACTOR ? rel < 11 : lane.group === G.TIMERS || lane.group === G.IO || lane.group === G.POOL || lane.group === G.THREAD;
    if (markRow && lane.marks.n) {
      const m = lane.marks;
      let best = -1;
      let bestD = tol;
      for (let i = m.firstAt(t - tol); i < m.n && m.t[i] <= t + tol; i++) {
        const d = Math.abs(m.t[i] - t);
        if (d <= bestD) { bestD = d; best = i; }
      }
      if (best >= 0) return { ev: m.ev[best], t: m.t[best], kind: 'mark' };
    }
    const lists = [];
    if (lane.group === G.REACTOR) {
      if (rel >= 11 && rel < row.h - 12) lists.push(lane.spans);
      else if (rel >= row.h - 12 && rel < row.h - 6) lists.push(lane.state);
      else lists.push(lane.sub);
    } else if (lane.group === G.POOL || lane.group === G.THREAD) {
      const top = row.h >= 18 ? 6 : 3;
      lists.push(rel < top ? lane.spans : lane.state);
      if (rel >= top) lists.push(lane.spans);
    } else {
      lists.push(lane.spans);
    }
    for (const list of lists) {
      let best = -1;
      let bestD = Infinity;
      const rowsH = lane.group === G.CLIENTS ? Math.max(2, (row.h - 6) / 4) : 0;
      const wantRow = rowsH ? Math.floor((rel - 3) / rowsH) : -1;
      for (let i = list.firstEndingAfter(t - tol); i < list.n && list.start[i] <= t + tol; i++) {
        if (list.end[i] < t - tol) continue;
        if (wantRow >= 0 && list.row[i] !== wantRow) continue;
        if ((list.style[i] === S.POLL || list.style[i] === S.IDLE) && list !== lane.state) continue;
        const inside = t >= list.start[i] && t <= list.end[i];
        const d = inside ? 0 : Math.min(Math.abs(list.start[i] - t), Math.abs(list.end[i] - t));
        // Prefer the innermost (shortest) span that contains the point.
        const score = d * 1e9 + (list.end[i] - list.start[i]);
        if (score < bestD) { bestD = score; best = i; }
      }
      if (best >= 0) return { ev: list.ev[best], t: list.start[best], span: { list, i: best }, lane, kind: 'span' };
    }
    if (lane.group === G.COUNTER && lane.series) {
      const s = lane.series;
      const lo = lowerBound(s.t.length, (i) => s.t[i] <= t);
      if (lo > 0) return { ev: -1, t, counter: { name: lane.title, value: s.v[lo - 1], at: s.t[lo - 1] }, kind: 'counter' };
    }
    return null;
  }

  describeHit(hit) {
    const model = this.model;
    const name = (t) => model.threadName(t);
    if (hit.kind === 'counter') {
      return `<b>${escapeHtml(hit.counter.name)} = ${hit.counter.value}</b><span>at ${fmtMs(hit.counter.at)}</span>`;
    }
    const e = model.events[hit.ev];
    if (hit.kind === 'span') {
      const { list, i } = hit.span;
      const st = list.style[i];
      const a = list.start[i];
      const b = list.end[i];
      const dur = fmtMs(b - a);
      const lbl = list.label[i] >= 0 ? model.strings[list.label[i]] : '';
      let title;
      if (STATE_NAMES[st]) title = `${name(list.color[i])}: ${STATE_NAMES[st]}${st === S.RUN && e?.core !== undefined ? ` on core ${e.core}` : ''}`;
      else if (st === S.CORE) title = `${hit.lane.title} runs ${lbl}`;
      else if (st === S.GIL) title = `${lbl} holds the GIL`;
      else if (CALL_SOURCES[st]) title = `reactor call: ${lbl} <em>(${CALL_SOURCES[st]})</em>`;
      else if (st === S.TURN) title = `reactor turn ${e?.turn ?? ''}`;
      else if (st === S.JOB_OK || st === S.JOB_FAIL || st === S.JOB_OPEN) title = `${lbl} on ${name(list.color[i])}${st === S.JOB_FAIL ? ' (failed)' : ''}`;
      else if (st === S.LOCK_HOLD) title = `${name(list.color[i])} holds lock ${lbl}`;
      else if (st === S.LOCK_WAIT_BAR) title = `${name(list.color[i])} waits for lock ${lbl}`;
      else if (st === S.REQUEST) title = `request ${e?.request ?? ''}: answered after ${dur}`;
      else if (st === S.TIMER_LATE) title = `timer #${e?.timer} ran ${dur} late`;
      else title = lbl || 'span';
      return `<b>${title}</b><span>${fmtMs(a, 6)} → ${fmtMs(b, 6)} · ${dur}</span>${e ? `<small>${escapeHtml(describeEvent(e, name))}</small>` : ''}`;
    }
    return `<b>${escapeHtml(describeEvent(e, name))}</b><span>at ${fmtMs(e.t / 1e6, 6)}</span><small>${escapeHtml(e.kind)}</small>`;
  }

  onHover(x, y) {
    const hit = this.hitTest(x, y);
    if (!hit || !this.tooltip) {
      this.hideTooltip();
      this.canvas.style.cursor = x >= this.plotX ? 'crosshair' : 'default';
      return;
    }
    this.canvas.style.cursor = 'pointer';
    const tip = this.tooltip;
    tip.innerHTML = this.describeHit(hit);
    tip.hidden = false;
    const bw = tip.offsetWidth;
    const bh = tip.offsetHeight;
    const left = x + 14 + bw > this.w ? x - bw - 10 : x + 14;
    const top = y + 16 + bh > this.h ? y - bh - 8 : y + 16;
    tip.style.transform = `translate(${Math.max(0, left)}px, ${Math.max(0, top)}px)`;
  }

  hideTooltip() {
    if (this.tooltip) this.tooltip.hidden = true;
  }
}
