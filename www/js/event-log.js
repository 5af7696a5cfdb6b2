// The event log beside the timeline: every trace event, one row each, in the
// order they happened. Only the rows in view exist in the DOM, so 100k events
// scroll as smoothly as ten. Clicking a row jumps the timeline there.

import { fmtMs, describeEvent, eventThread, escapeHtml } from './format.js';
import { lowerBound } from './lists.js';

const ROW = 20;

export class EventLog {
  /**
   * @param {HTMLElement} root  the element with data-testid="event-log"
   * @param {{onPick: (index: number) => void}} opts
   */
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.model = null;
    this.visible = []; // indices after filtering
    this.cursor = Infinity;
    this.selected = -1;
    this.filter = '';
    this.drawn = new Map(); // event index -> its row, for the rows in view
    this.filtersAsked = 0; // so a filter's result that a newer one overtook is dropped
    root.innerHTML = `
      <div class="log-head">
        <input type="search" class="log-filter" placeholder="Filter events (kind, thread, text)" aria-label="Filter events">
        <span class="log-count"></span>
      </div>
      <div class="log-view" tabindex="0" aria-label="Trace events">
        <div class="log-spacer"></div>
        <div class="log-rows"></div>
      </div>
      <div class="log-causes" data-testid="causes" hidden></div>`;
    this.view = root.querySelector('.log-view');
    this.spacer = root.querySelector('.log-spacer');
    this.rows = root.querySelector('.log-rows');
    this.count = root.querySelector('.log-count');
    this.causes = root.querySelector('.log-causes');
    this.render();
    const input = root.querySelector('.log-filter');
    let timer = 0;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.setFilter(input.value), 120);
    });
    this.view.addEventListener('scroll', () => {
      // The log's own scroll (`scrollTo`, every frame while playing) was
      // drawn already; reading the offset back would lay the page out.
      if (this.ownScroll) return;
      this.scrollTop = this.view.scrollTop;
      this.render();
    });
    // On press, not on click: the rows are redrawn whenever the view
    // scrolls or the playhead moves (during playback, every frame), and a
    // click whose press and release land on two drawings of the same row
    // reaches no row at all.
    this.view.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      const row = ev.target.closest('.log-row');
      if (row) this.opts.onPick(Number(row.dataset.index));
    });
    new ResizeObserver(() => {
      this.viewH = this.view.clientHeight;
      this.render();
    }).observe(this.view);
  }

  setModel(model) {
    this.model = model;
    this.selected = -1;
    this.cursor = Infinity;
    this.showCauses([]);
    this.refilter();
    // Rows drawn are by event index: another run's are not this one's.
    this.rows.textContent = '';
    this.drawn = new Map();
    this.view.scrollTop = this.scrollTop = 0;
    this.render();
  }

  /** Call after the model's events grew (live). */
  appended({ stick = true } = {}) {
    const atBottom = this.view.scrollTop + this.view.clientHeight >= this.view.scrollHeight - ROW * 2;
    this.refilter();
    if (stick && atBottom) this.view.scrollTop = this.view.scrollHeight;
    this.scrollTop = this.view.scrollTop;
    this.render();
  }

  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.refilter();
    this.render();
    if (this.selected >= 0) this.scrollTo(this.selected);
  }

  /**
   * Applies the filter. Filtering reads every whole event, which a run in
   * the simulation worker hands over asynchronously: until they are here
   * the log says it is filtering, and a filter or run that changed
   * meanwhile wins.
   */
  refilter() {
    const f = this.filter;
    const n = this.total;
    const model = this.model;
    const asked = ++this.filtersAsked;
    if (!f) {
      this.visible = null;
      this.showCount();
      return;
    }
    const matches = () => {
      const name = (t) => model.threadName(t);
      const out = [];
      for (let i = 0; i < n; i++) {
        const e = model.event(i);
        if (e.kind.includes(f) || describeEvent(e, name).toLowerCase().includes(f)) out.push(i);
      }
      return out;
    };
    if (!model.cols) {
      this.visible = matches();
      this.showCount();
      return;
    }
    this.visible = [];
    this.showCount();
    this.count.textContent = `filtering ${n} events…`;
    model.loadRange(0, n).then(() => {
      if (asked !== this.filtersAsked || model !== this.model) return;
      this.visible = matches();
      this.showCount();
      this.render();
    });
  }

  showCount() {
    const n = this.total;
    const shown = this.visible ? this.visible.length : n;
    this.spacer.style.height = `${shown * ROW}px`;
    this.count.textContent = this.visible ? `${shown} of ${n}` : `${n} events`;
  }

  /** Events in the log. */
  get total() {
    return this.model ? this.model.eventCount : 0;
  }

  get size() {
    return this.visible ? this.visible.length : this.total;
  }

  indexAt(pos) {
    return this.visible ? this.visible[pos] : pos;
  }

  posOf(index) {
    if (!this.visible) return index;
    return lowerBound(this.visible.length, (i) => this.visible[i] < index);
  }

  /** The selected event's chain of causes (`causes.js`), or none. */
  showCauses(lines) {
    this.causes.hidden = lines.length === 0;
    this.causes.innerHTML = lines.length
      ? `<h5>Why</h5><ol>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ol>`
      : '';
  }

  /** Rows from `count` on have not happened yet at the playhead. */
  setCursor(count) {
    if (count === this.cursor) return;
    const was = this.cursor;
    this.cursor = count;
    // Playback moves the cursor every frame: when the rows in view are the
    // ones drawn, only those it passed change (their `future` class).
    if (!this.drawnRange || this.drawnRange !== this.rangeKey()) {
      this.render();
      return;
    }
    const lo = Math.min(was, count);
    const hi = Math.max(was, count);
    for (const [i, row] of this.drawn) if (i >= lo && i < hi) this.styleRow(row, i, this.model.event(i));
  }

  setSelected(index, { scroll = true } = {}) {
    this.selected = index;
    this.render();
    if (scroll && index >= 0) this.scrollTo(index);
  }

  /** Scrolls row `index` into view and draws the rows there at once (the
   * scroll event would draw them a frame late, showing an empty pane). */
  scrollTo(index) {
    const pos = this.posOf(index);
    const top = pos * ROW;
    const { top: scrollTop, height } = this.viewport();
    if (top < scrollTop || top + ROW > scrollTop + height) {
      // Where the browser will clamp it, so it need not be read back (a read would lay the page out).
      const max = Math.max(0, this.size * ROW - height);
      this.scrollTop = Math.min(max, Math.max(0, top - height / 2));
      this.view.scrollTop = this.scrollTop;
      // Its scroll event comes before the next frame's callbacks; from then on, scrolls are the user's.
      this.ownScroll = true;
      cancelAnimationFrame(this.ownScrollEnds);
      this.ownScrollEnds = requestAnimationFrame(() => (this.ownScroll = false));
      this.render();
    }
  }

  /**
   * The view's scroll offset and height, as last seen by the scroll event and
   * the resize observer: reading them from the element while playback has
   * just changed other panels would make the browser lay the page out.
   */
  viewport() {
    if (this.viewH === undefined) this.viewH = this.view.clientHeight;
    if (this.scrollTop === undefined) this.scrollTop = this.view.scrollTop;
    return { top: this.scrollTop, height: this.viewH };
  }

  /**
   * Draws the rows in view. A row already drawn for the same event is kept
   * (only its position and classes updated), so playback, which moves the
   * view a few rows at a time, rebuilds few rows.
   */
  render() {
    const { first, last } = this.range();
    this.drawnRange = null;
    if (this.total === 0) {
      this.rows.innerHTML = `<p class="log-empty">${this.opts.empty || 'No events yet.'}</p>`;
      this.drawn = new Map();
      return;
    }
    if (this.drawn.size === 0) this.rows.textContent = ''; // the empty-log note
    const drawn = new Map();
    let missing = false;
    for (let p = first; p < last; p++) {
      const i = this.indexAt(p);
      const e = this.model.event(i);
      let row = this.drawn.get(i);
      if (row) this.drawn.delete(i);
      // A row drawn before its event arrived from the worker is drawn again.
      if (row && e && row.dataset.pending) {
        row.remove();
        row = null;
      }
      if (!row) {
        row = e ? this.makeRow(i, e) : this.pendingRow(i);
        this.rows.appendChild(row);
      }
      missing ||= !e;
      this.styleRow(row, i, e);
      const y = `${p * ROW}px`;
      if (row.style.top !== y) row.style.top = y;
      drawn.set(i, row);
    }
    for (const row of this.drawn.values()) row.remove();
    this.drawn = drawn;
    // Rows waiting for their events are drawn again in full when they arrive.
    if (!missing) this.drawnRange = this.rangeKey();
    if (missing) {
      // Whole events come from the worker: draw again when they are here (if still this run's).
      const model = this.model;
      model.loadRange(this.indexAt(first), this.indexAt(last - 1) + 1).then(() => model === this.model && this.render());
    }
  }

  /** The positions of the rows in view, and four either side. */
  range() {
    const { top, height } = this.viewport();
    return {
      first: Math.max(0, Math.floor(top / ROW) - 4),
      last: Math.min(this.size, Math.ceil((top + height) / ROW) + 4),
    };
  }

  /** What the rows drawn depend on besides the cursor: equal keys, equal rows. */
  rangeKey() {
    const { first, last } = this.range();
    return `${first} ${last} ${this.selected} ${this.total} ${this.visible ? this.visible.length : -1}`;
  }

  /** Sets row `i`'s classes: selected, not yet happened at the playhead, a lost update. */
  styleRow(row, i, e) {
    const lost = e?.kind === 'lost_update' && e.overwritten > 0;
    const cls = `log-row${i === this.selected ? ' selected' : ''}${i >= this.cursor ? ' future' : ''}${lost ? ' lost' : ''}`;
    if (row.className !== cls) row.className = cls;
  }

  /** A row for event `i` while its whole event is on its way: its time and kind, from the columns. */
  pendingRow(i) {
    const row = document.createElement('div');
    row.dataset.index = String(i);
    row.dataset.pending = 'true';
    row.innerHTML = `<span class="log-t">${fmtMs(this.model.eventT(i) / 1e6, 5)}</span><span class="log-th"></span><span class="log-d">${escapeHtml(this.model.eventKind(i))}</span>`;
    return row;
  }

  /** A row for event `i`. */
  makeRow(i, e) {
    const name = (t) => (this.model ? this.model.threadName(t) : `thread ${t}`);
    const th = eventThread(e);
    const thName = typeof th === 'number' ? name(th) : th;
    const color = typeof th === 'number' && this.model ? this.model.threadColor(th) : '#8b8d98';
    const text = describeEvent(e, name);
    // A Python program's events say where they came from: `work:6`.
    const src = e.src ? `${e.src.func}:${e.src.line}` : '';
    const row = document.createElement('div');
    row.dataset.index = String(i);
    if (e.src) row.dataset.line = String(e.src.line);
    row.title = `${e.kind}: ${text}${src ? ` at ${src}` : ''}`;
    row.innerHTML =
      `<span class="log-t">${fmtMs(e.t / 1e6, 5)}</span>` +
      `<span class="log-th"><i style="background:${color}"></i>${escapeHtml(thName)}</span>` +
      `<span class="log-d">${escapeHtml(text)}</span>${src ? `<span class="log-src">${escapeHtml(src)}</span>` : ''}`;
    return row;
  }
}
