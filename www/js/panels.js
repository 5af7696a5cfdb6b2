// The queues panel (what the reactor, the pool and every thread have waiting
// at the playhead) and the printed output, in order.

import { fmtMs, fmtInt, escapeHtml, blockReason } from './format.js';

const STATE_CLASS = { running: 'st-run', ready: 'st-ready', blocked: 'st-blocked', exited: 'st-exited', not_started: 'st-exited' };
const PHASES = { main: 'running main', poll: 'in poll, idle', turn: 'running a turn', stopped: 'stopped' };

/**
 * The reactor's phase as its thread's row tells it too: between a wake-up
 * and the turn it starts, the loop is still in its poll phase but the thread
 * is no longer idle (the header said "in poll, idle" beside "running").
 */
function reactorPhase(phase, thread) {
  if (phase === 'poll' && thread?.state === 'running') return 'woken from poll, starting a turn';
  if (phase === 'poll' && thread?.state === 'ready') return 'woken from poll, waiting for a core';
  return PHASES[phase] || phase;
}

function list(items, render, empty, limit = 6) {
  if (!items.length) return `<p class="q-empty">${empty}</p>`;
  const shown = items.slice(0, limit).map(render).join('');
  const more = items.length > limit ? `<li class="q-more">+ ${items.length - limit} more</li>` : '';
  return `<ul class="q-list">${shown}${more}</ul>`;
}

/** What `renderQueues` last put in each panel. */
const drawnHtml = new WeakMap();

/** Renders `q` (Simulation.queues()) into `el`. `color(thread)` gives lane colors. */
export function renderQueues(el, q, color) {
  const r = q.reactor;
  const name = (id) => q.threads[id]?.name ?? `thread ${id}`;
  const chip = (id) => `<span class="tchip"><i style="background:${color(id)}"></i>${escapeHtml(name(id))}</span>`;
  const phase = r.in_call
    ? `<span class="pill phase-call">inside a call for ${fmtMs(r.call_ms)}</span>`
    : `<span class="pill phase-${r.phase}">${reactorPhase(r.phase, q.threads[0])}</span>`;
  const poolQ = q.pool.queue;
  const box = (key, title, n, note, extra = '') => `<div class="q-box${n ? ' hot' : ''}"><div class="q-big" data-q="${key}">${n}</div><div class="q-txt"><h5>${title}</h5><p>${note}</p>${extra}</div></div>`;
  const html = `
    <div class="q-head">
      <span class="q-time" data-q-time="${q.t_ms}">t = <b>${fmtMs(q.t_ms, 6)}</b></span>
      <span>reactor ${phase}</span>
      <span class="muted">turn ${fmtInt(r.turns)} · ${fmtInt(r.calls)} calls</span>
    </div>
    <div class="q-grid">
      ${box('inbox', 'Inbox', r.inbox, 'call_from_thread calls and job results for the next turn')}
      ${box('due', 'Due timers', r.due_timers.length, r.due_timers.length ? '' : 'none overdue', r.due_timers.length ? list(r.due_timers, (t) => `<li><code>${escapeHtml(t.name || `#${t.id}`)}</code> due ${fmtMs(t.due_ms)}</li>`, '', 3) : '')}
      ${box('pool', 'Pool queue', poolQ.length, `${q.pool.busy} busy · ${q.pool.idle} idle · ${q.pool.threads}/${q.pool.max_threads} threads`, poolQ.length ? list(poolQ, (j) => `<li>job #${j.id} <code>${escapeHtml(j.name)}</code></li>`, '', 3) : '')}
      ${box('io', 'Waiting I/O', r.pending_io, 'arrived, waiting for the reactor to poll')}
    </div>
    <div class="q-row"><h5>Timers pending <span class="muted">${r.timers_pending}</span></h5>
      ${list(r.timers, (t) => `<li><code>${escapeHtml(t.name || `#${t.id}`)}</code> at ${fmtMs(t.due_ms)}</li>`, 'no timers', 5)}</div>
    <div class="q-row"><h5>Threads</h5>
      <table class="q-threads"><tbody>
      ${q.threads
        .map(
          (t) => `<tr class="${STATE_CLASS[t.state] || ''}"><td>${chip(t.id)}</td>
          <td><span class="state">${t.state === 'blocked' ? blockReason(t.reason) : t.state.replace('_', ' ')}</span></td>
          <td>${t.core !== null && t.core !== undefined ? `core ${t.core}` : ''}${t.holds_gil ? ' <span class="gil-badge" title="holds the GIL">GIL</span>' : ''}</td>
          <td class="muted">${escapeHtml(t.doing || '')}${t.at ? ` <code class="q-at" data-at="${escapeHtml(t.at)}">${escapeHtml(t.at)}</code>` : ''}</td></tr>`,
        )
        .join('')}
      </tbody></table></div>
    <div class="q-row q-inline">
      <div><h5>Cores</h5>${q.cores.map((c, i) => `<span class="core-slot">${i}: ${c === null ? '<span class="muted">idle</span>' : chip(c)}</span>`).join('')}</div>
      ${q.run_queue.length ? `<div><h5>Run queue</h5>${q.run_queue.map(chip).join(' ')}</div>` : ''}
      ${q.gil ? `<div><h5>GIL</h5>${q.gil.holder === null ? '<span class="muted">free</span>' : chip(q.gil.holder)}${q.gil.waiters.length ? ` ← ${q.gil.waiters.map(chip).join(' ')}` : ''}</div>` : ''}
      ${q.locks.map((l) => `<div><h5>Lock ${escapeHtml(l.name)}</h5>${l.holder === null ? '<span class="muted">free</span>' : chip(l.holder)}${l.waiters.length ? ` ← ${l.waiters.length} waiting` : ''}</div>`).join('')}
      ${q.counters.map((c) => `<div><h5>${escapeHtml(c.name)}</h5><b>${fmtInt(c.value)}</b></div>`).join('')}
      ${q.clients.sent ? `<div><h5>Clients</h5>${fmtInt(q.clients.sent)} sent · ${fmtInt(q.clients.answered)} answered · ${fmtInt(q.clients.in_flight)} in flight</div>` : ''}
    </div>`;
  // Playback asks eight times a second (main.js PANELS_EVERY_MS); unchanged, the panel is left alone (no relayout).
  if (drawnHtml.get(el) === html) return;
  el.innerHTML = html;
  drawnHtml.set(el, html);
}

/**
 * A traceback's frame in the page's program (`  File "experiment.py", line
 * 7, in f`: the file name `wasm.rs` gives the page's programs).
 */
const PROGRAM_FRAME = /^(\s*File "experiment\.py", )line (\d+)(, in .*)$/;

/** A printed line as HTML: a frame of the program's gets its line number as a button that shows the line. */
function lineHtml(l) {
  const m = l.stream === 'stderr' ? PROGRAM_FRAME.exec(l.text) : null;
  if (!m) return escapeHtml(l.text);
  const [, before, line, after] = m;
  return `${escapeHtml(before)}<button type="button" class="out-src" data-line="${line}" title="Show line ${line} in the editor">line ${line}</button>${escapeHtml(after)}`;
}

/** The program's printed lines; lines after the playhead are dimmed. */
export class OutputView {
  /** @param {{onSeek: (ms: number) => void, onLine?: (line: number) => void}} opts */
  constructor(el, { onSeek, onLine }) {
    this.el = el;
    this.lines = [];
    this.now = Infinity;
    el.addEventListener('click', (ev) => {
      // A traceback's line number shows that line; the rest of a line seeks to when it was printed.
      const src = ev.target.closest('.out-src');
      if (src && onLine) {
        onLine(Number(src.dataset.line));
        return;
      }
      const li = ev.target.closest('[data-t]');
      if (li) onSeek(Number(li.dataset.t));
    });
  }

  set(lines, color) {
    this.lines = lines;
    if (!lines.length) {
      this.el.innerHTML = '<p class="q-empty">This scenario prints nothing.</p>';
      return;
    }
    this.el.innerHTML = `<ol class="out-list">${lines
      .map(
        (l) => `<li data-t="${l.t_ms}"${l.stream === 'stderr' ? ' class="out-err" title="written to stderr"' : ''}><span class="out-t">${fmtMs(l.t_ms, 4)}</span><span class="out-x"><b class="out-th" style="color:${color(l.thread)}">${escapeHtml(l.name)}</b>${lineHtml(l)}</span></li>`,
      )
      .join('')}</ol>`;
    this.items = [...this.el.querySelectorAll('li')];
    this.now = Infinity;
    this.latest = undefined;
  }

  /** Dims the lines after `ms`; `follow` scrolls the latest printed line into view. */
  setNow(ms, { follow = false } = {}) {
    if (!this.items || ms === this.now) return;
    this.now = ms;
    let latest = -1;
    this.lines.forEach((l, i) => {
      if (l.t_ms <= ms + 1e-9) latest = i;
    });
    // Playback moves the playhead every frame; the lines change far less often.
    if (latest === this.latest) return;
    this.latest = latest;
    this.lines.forEach((l, i) => this.items[i].classList.toggle('future', l.t_ms > ms + 1e-9));
    if (follow && latest >= 0) {
      const item = this.items[latest];
      const box = this.el;
      if (item.offsetTop + item.offsetHeight > box.scrollTop + box.clientHeight || item.offsetTop < box.scrollTop) {
        box.scrollTop = item.offsetTop - box.clientHeight + item.offsetHeight + 8;
      }
    }
  }
}
