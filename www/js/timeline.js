// The timeline: a canvas with a lane per thread, core, the GIL, timers and
// clients, drawn from the model's typed arrays (timeline-draw.js) only when
// something changed. Wheel zooms, drag pans, hover explains (timeline-hit.js),
// click seeks (or selects what is under the pointer).

import { AXIS_H, drawFrame } from './timeline-draw.js';
import { hitTest, describeHit } from './timeline-hit.js';

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
    this.labelW = opts.compact ? 92 : 104;
    this.frame = 0; // the requested animation frame, if any
    this.layout = [];
    this.latencyScale = 1;
    this.patterns = null;
    /** Zoomed out over many spans, draw from their per-bucket sums (span-lod.js); false draws every span. */
    this.lod = true;
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
    this.hideTooltip(); // it described the old run
    if (model) {
      const clients = model.lanes.get('clients');
      const lat = new Float64Array(clients?.spans.n ?? 0);
      for (let i = 0; i < lat.length; i++) lat[i] = clients.spans.end[i] - clients.spans.start[i];
      lat.sort(); // a typed array sorts by value, without calling a comparator per pair
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
    if (!this.model || this.model.eventCount === 0) {
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
    if (!Number.isFinite(end) || this.model.eventCount === 0) return;
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

  /** Draws now (normally a frame does, after `invalidate`). */
  draw() {
    drawFrame(this);
  }

  /** What is under (x, y): {ev, t, kind, ...} or null. */
  hitTest(x, y) {
    return hitTest(this, x, y);
  }

  describeHit(hit) {
    return describeHit(this, hit);
  }

  timeAt(x) {
    return this.t0 + ((x - this.plotX) / this.plotW) * (this.t1 - this.t0);
  }

  xAt(t) {
    return this.plotX + ((t - this.t0) / (this.t1 - this.t0)) * this.plotW;
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

  onHover(x, y) {
    this.hoverAt = { x, y };
    const hit = this.hitTest(x, y);
    if (!hit || !this.tooltip) {
      this.hideTooltip();
      this.canvas.style.cursor = x >= this.plotX ? 'crosshair' : 'default';
      return;
    }
    this.canvas.style.cursor = 'pointer';
    const tip = this.tooltip;
    tip.innerHTML = this.describeHit(hit);
    const model = this.model;
    if (hit.ev >= 0 && model.event(hit.ev) === undefined) {
      // Its whole event comes from the worker: describe it again when it is
      // here, if the pointer is still where it was (else the tip is for elsewhere now).
      const at = this.hoverAt;
      model.eventAsync(hit.ev).then(() => {
        if (this.model === model && this.hoverAt === at && !tip.hidden) this.onHover(x, y);
      });
    }
    tip.hidden = false;
    const bw = tip.offsetWidth;
    const bh = tip.offsetHeight;
    const left = x + 14 + bw > this.w ? x - bw - 10 : x + 14;
    const top = y + 16 + bh > this.h ? y - bh - 8 : y + 16;
    tip.style.transform = `translate(${Math.max(0, left)}px, ${Math.max(0, top)}px)`;
  }

  hideTooltip() {
    this.hoverAt = null;
    if (this.tooltip) this.tooltip.hidden = true;
  }
}
