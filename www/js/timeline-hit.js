// What is under the pointer on a Timeline, and a tooltip saying what it means.

import { S, G } from './trace-model.js';
import { lowerBound } from './lists.js';
import { fmtMs, describeEvent, escapeHtml, blockReason } from './format.js';
import { AXIS_H } from './timeline-draw.js';

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

function rowAt(tl, y) {
  return tl.layout.find((r) => y >= r.y && y < r.y + r.h) || null;
}

/** What is under (x, y) on `tl`: {ev, t, kind, ...} (a mark, a span, a counter's value) or null. */
export function hitTest(tl, x, y) {
  if (!tl.model || x < tl.plotX || y < AXIS_H) return null;
  const row = rowAt(tl, y);
  if (!row) return null;
  const { lane } = row;
  const t = tl.timeAt(x);
  const tol = (4 * (tl.t1 - tl.t0)) / tl.plotW;
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

/** The tooltip's HTML for a hit. */
export function describeHit(tl, hit) {
  const model = tl.model;
  const name = (t) => model.threadName(t);
  if (hit.kind === 'counter') {
    return `<b>${escapeHtml(hit.counter.name)} = ${hit.counter.value}</b><span>at ${fmtMs(hit.counter.at)}</span>`;
  }
  const e = model.event(hit.ev);
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
    else if (st === S.STALE_READ) title = `${name(list.color[i])} ${lbl}, then wrote it from a stale value`;
    else title = lbl || 'span';
    return `<b>${title}</b><span>${fmtMs(a, 6)} → ${fmtMs(b, 6)} · ${dur}</span>${e ? `<small>${escapeHtml(describeEvent(e, name))}</small>` : ''}`;
  }
  // A marker whose whole event is still on its way from the worker: what the columns say.
  if (!e) return `<b>${escapeHtml(model.eventKind(hit.ev))}</b><span>at ${fmtMs(model.eventT(hit.ev) / 1e6, 6)}</span>`;
  return `<b>${escapeHtml(describeEvent(e, name))}</b><span>at ${fmtMs(e.t / 1e6, 6)}</span><small>${escapeHtml(e.kind)}</small>`;
}
