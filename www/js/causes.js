// Why did this happen? For a late timer or LoopingCall tick, a slow request
// or a lost update, the chain of causes the trace already holds: what the
// reactor was running while the thing waited, who held the GIL it waited
// for, which pool jobs were ahead, which threads wrote in between.
//
// Everything is derived from the run's events (a TraceModel's, fetched from
// the simulation worker as needed), scanning only the window the selected
// event covers.

import { fmtMs, fmtInt, nsToMs } from './format.js';

/** The most causes of one kind listed (the longest first). */
const TOP = 3;

/** How many events before a window to look for a reactor call running into it. */
const LOOKBACK = 5000;

/**
 * Event `i` of `model`: at once when it is here, else once fetched.
 * @returns {object | Promise<object>}
 */
const eventOf = (model, i) => model.event(i) ?? model.eventAsync(i);

/**
 * The causes of event `index`, as sentences (empty when the event is not one
 * that waits: a timer that fired on time, a fast request, ...).
 * @param {{event: (i: number) => object, eventAsync: (i: number) => Promise<object>, loadRange: (from: number, to: number) => Promise<void>, eventT: (i: number) => number, threadName: (id: number) => string}} model
 * @returns {Promise<string[]>}
 */
export async function causesOf(model, index) {
  const e = await eventOf(model, index);
  if (!e) return [];
  const name = (t) => model.threadName(t);
  switch (e.kind) {
    case 'timer_fired':
      return e.late > 0 ? lateWork(model, index, e.t - e.late, e.t, `timer #${e.timer} ran ${fmtMs(nsToMs(e.late))} late`) : [];
    case 'call':
      return e.source === 'timer' ? timerCall(model, index) : [];
    case 'client_response':
      return lateWork(model, index, e.t - e.latency, e.t, `request ${e.request} took ${fmtMs(nsToMs(e.latency))}`, { pool: true });
    case 'lost_update':
      return lostUpdate(model, index, name);
    default:
      return [];
  }
}

/** A timer call: the `timer_fired` just before it says how late it ran. */
async function timerCall(model, index) {
  await model.loadRange(index - 8, index + 1);
  for (let i = index - 1; i >= 0 && i >= index - 8; i--) {
    const f = model.event(i);
    if (f.kind === 'timer_fired' && f.timer === model.event(index).id) return causesOf(model, i);
  }
  return [];
}

/**
 * What kept the reactor from getting to something due at `from` until `to`:
 * the reactor calls that ran in between (the longest), the reactor thread's
 * waits for the GIL (and who held it), the pool jobs queued ahead.
 */
async function lateWork(model, index, from, to, headline, { pool = false } = {}) {
  const out = [headline];
  const calls = [];
  const gilWaits = [];
  let gilHolder = null;
  let waitSince = null;
  let queued = 0;
  let first = index;
  while (first > 0 && model.eventT(first - 1) >= from) first--;
  await model.loadRange(first - LOOKBACK, index + 1);
  // A reactor call recorded before the window (at its start) may run into it.
  for (let i = first - 1; i >= 0 && i >= first - LOOKBACK; i--) {
    const x = model.event(i);
    if (x.kind === 'call' && x.t + x.dur > from) calls.push(x);
  }
  // Who held the GIL when the window opened.
  for (let i = first - 1; i >= 0 && gilHolder === null; i--) {
    const x = await eventOf(model, i);
    if (x.kind === 'gil_acquire') gilHolder = x.thread;
    if (x.kind === 'gil_release') break;
  }
  for (let i = first; i < index; i++) {
    const x = model.event(i);
    switch (x.kind) {
      case 'call':
        if (x.dur > 0) calls.push(x);
        break;
      case 'gil_acquire':
        if (x.thread === 0 && waitSince !== null) {
          gilWaits.push({ ms: nsToMs(x.t - waitSince.t), holder: waitSince.holder });
          waitSince = null;
        }
        gilHolder = x.thread;
        break;
      case 'gil_release':
        if (gilHolder === x.thread) gilHolder = null;
        break;
      case 'thread_block':
        if (x.thread === 0 && x.reason === 'gil') waitSince = { t: x.t, holder: gilHolder };
        break;
      case 'job_queued':
        queued++;
        break;
      case 'job_started':
        queued = Math.max(0, queued - 1);
        break;
      default:
        break;
    }
  }
  // The reactor's calls in the window, by name, the most time first.
  const byName = new Map();
  for (const c of calls) {
    const g = byName.get(c.name) ?? { name: c.name, source: c.source, n: 0, ns: 0, first: c };
    g.n++;
    g.ns += Math.min(c.t + c.dur, to) - Math.max(c.t, from);
    if (c.t < g.first.t) g.first = c;
    byName.set(c.name, g);
  }
  const groups = [...byName.values()].sort((a, b) => b.ns - a.ns);
  for (const g of groups.slice(0, TOP)) {
    out.push(
      g.n === 1
        ? `the reactor was in \`${g.name}\` for ${fmtMs(nsToMs(g.first.dur))} (from ${fmtMs(nsToMs(g.first.t), 4)}, ${g.source} call)`
        : `the reactor ran \`${g.name}\` ${fmtInt(g.n)} times, ${fmtMs(nsToMs(g.ns))} of this wait (${g.source} calls)`,
    );
  }
  if (groups.length > TOP) out.push(`and ${fmtInt(groups.length - TOP)} other reactor calls`);
  gilWaits.sort((a, b) => b.ms - a.ms);
  for (const w of gilWaits.slice(0, TOP)) {
    out.push(`the reactor thread waited ${fmtMs(w.ms)} for the GIL${w.holder !== null && w.holder !== undefined ? ` held by ${model.threadName(w.holder)}` : ''}`);
  }
  if (pool && queued > 0) out.push(`queued behind ${fmtInt(queued)} pool ${queued === 1 ? 'job' : 'jobs'}`);
  if (out.length === 1) out.push('nothing ran on the reactor in between: it was waiting for a core or the OS woke it late');
  return out;
}

/**
 * A lost update: the writer's read, what took it off its core or the GIL
 * between the read and the write, the other threads that ran meanwhile, and
 * the write that erased their updates.
 */
async function lostUpdate(model, index, name) {
  const e = model.event(index);
  const who = name(e.thread);
  const out = [`${who} read ${e.name} = ${fmtInt(e.read)} at ${fmtMs(nsToMs(e.read_at), 4)}`];
  const others = new Set();
  let paused = null;
  let i = index;
  while (i > 0 && model.eventT(i - 1) >= e.read_at) i--;
  await model.loadRange(i, index);
  for (; i < index; i++) {
    const x = model.event(i);
    if (x.thread === e.thread && paused === null) {
      if (x.kind === 'gil_release') paused = `the GIL switched away from ${who} at ${fmtMs(nsToMs(x.t))}`;
      else if (x.kind === 'thread_preempt') paused = `${who} was taken off core ${x.core} at ${fmtMs(nsToMs(x.t))}`;
      else if (x.kind === 'thread_block') paused = `${who} blocked (${x.reason}) at ${fmtMs(nsToMs(x.t))}`;
    }
    if ((x.kind === 'thread_run' || x.kind === 'gil_acquire') && x.thread !== e.thread) others.add(x.thread);
  }
  if (paused) out.push(paused);
  const n = e.overwritten;
  const ran = [...others].map(name);
  const meanwhile = ran.length ? ` (${ran.slice(0, 4).join(', ')}${ran.length > 4 ? `, +${ran.length - 4}` : ''} ran meanwhile)` : ' (on other cores)';
  out.push(`meanwhile other threads took ${e.name} to ${fmtInt(e.read + n)}${meanwhile}`);
  out.push(
    n > 0
      ? `${who} wrote ${fmtInt(e.wrote)} at ${fmtMs(nsToMs(e.t), 4)}: ${fmtInt(n)} ${n === 1 ? 'increment' : 'increments'} by other threads overwritten`
      : `${who} wrote ${fmtInt(e.wrote)} at ${fmtMs(nsToMs(e.t), 4)}, bringing back ${fmtInt(-n)} updates an earlier stale write had erased`,
  );
  return out;
}
