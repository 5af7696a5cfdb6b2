// The metrics panel: each preset's key metric up top (the number that tells
// the story), then requests with a latency histogram, the reactor with its
// loop-lag plot, the pool queue, cores, GIL, locks, counters and threads.

import { fmtMs, fmtInt, fmtPct, escapeHtml, trim } from './format.js';
import { getIn, splitPath } from './jsontext.js';
import { histogram, series, bars } from './charts.js';

/**
 * The numbers each preset is about, by metrics path. The first is the
 * headline. Paths are the same in `twine-sim --metrics` output.
 */
export const KEY_METRICS = {
  'sleeping-threads': [
    { path: 'time_ms', label: 'all awake at', unit: 'ms', hint: (m) => `${plainThreads(m)} threads slept at once, not one after another` },
  ],
  'counter-race': [
    { path: 'counters[0].value', label: 'final count', unit: 'int', hint: (m) => `of ${fmtInt(m.counters[0]?.expected)} increments` },
    { path: 'counters[0].lost_updates', label: 'lost updates', unit: 'int' },
  ],
  'reactor-ordering': [
    { path: 'time_ms', label: 'reactor stopped at', unit: 'ms', hint: () => 'stop() ends the turn, then the shutdown trigger runs' },
    { path: 'reactor.turns', label: 'turns', unit: 'int' },
  ],
  'deferred-errback': [
    { path: 'time_ms', label: 'chain done at', unit: 'ms', hint: (m) => `${m.pool.jobs} thread jobs; failures handled by errbacks` },
    { path: 'reactor.unhandled_errors', label: 'unhandled errors', unit: 'int' },
  ],
  'echo-blocking': [
    { path: 'requests.p99_ms', label: 'p99 latency', unit: 'ms', hint: (m) => `${fmtInt(m.requests.completed)} requests, send to answer` },
    { path: 'requests.p50_ms', label: 'p50 latency', unit: 'ms' },
    { path: 'reactor.lag.p99_ms', label: 'p99 loop lag', unit: 'ms' },
  ],
  'pool-saturation': [
    { path: 'time_ms', label: 'last job done at', unit: 'ms', hint: (m) => `${m.pool.jobs} jobs on ${m.pool.max_threads} pool threads` },
    { path: 'pool.max_queue', label: 'deepest pool queue', unit: 'int' },
  ],
  'gil-cpu-bound': [
    { path: 'time_ms', label: 'all done at', unit: 'ms', hint: (m) => `${plainThreads(m)} thread(s), ${m.cores.length} core(s), ${m.gil ? 'with' : 'without'} the GIL` },
    { path: 'gil.wait_ms', label: 'GIL wait (total)', unit: 'ms' },
  ],
  'looping-call-drift': [
    { path: 'looping_calls[0].skipped', label: 'skipped intervals', unit: 'int', hint: () => 'ticks due while the reactor was busy' },
    { path: 'looping_calls[0].max_lag_ms', label: 'worst tick lag', unit: 'ms' },
  ],
};

const plainThreads = (m) => m.threads.filter((t) => t.kind === 'thread').length;

/** The key metrics for a run: its preset's, or a sensible pick for a custom scenario. */
export function keyMetricsFor(metrics) {
  const preset = (metrics.scenario || '').split('/')[0];
  if (KEY_METRICS[preset]) return KEY_METRICS[preset];
  if (metrics.requests.sent > 0) return KEY_METRICS['echo-blocking'];
  if (metrics.counters.length > 0) return KEY_METRICS['counter-race'];
  if (metrics.looping_calls.length > 0) return KEY_METRICS['looping-call-drift'];
  return [{ path: 'time_ms', label: 'finished at', unit: 'ms' }];
}

export function metricValue(metrics, path) {
  return getIn(metrics, splitPath(path));
}

function fmtValue(v, unit) {
  if (v === null || v === undefined) return '–';
  return unit === 'ms' ? fmtMs(v, 3) : fmtInt(v);
}

/**
 * A deadlock is the story of the run whatever the preset: it comes first,
 * named, with its wait-for cycle (who holds what and waits for what).
 */
const DEADLOCK = {
  path: 'time_ms',
  label: 'deadlock',
  unit: 'ms',
  text: (m) => `at ${fmtMs(m.time_ms, 3)}`,
  hint: (m) => {
    const cycle = m.deadlock?.cycle;
    if (cycle?.length) return cycle.map((e) => `${e.thread} holds lock ${e.holds} and waits for lock ${e.waits_for}`).join('; ');
    const stuck = m.threads.filter((t) => t.started_ms !== null && t.finished_ms === null).map((t) => t.name);
    return `${stuck.join(', ') || 'threads'} wait for locks held by each other: nothing can happen any more`;
  },
};

/**
 * A run stopped at a scheduling choice (play the scheduler) has not
 * finished: its headline says it waits for the player, not when it ended.
 */
const WAITING = {
  path: 'time_ms',
  label: 'waiting for your pick',
  unit: 'ms',
  text: (m) => `at ${fmtMs(m.time_ms, 3)}`,
  hint: () => 'the run stops at each choice until you pick who goes next',
};

/**
 * The key metric cards (also used by the compare view); `waiting` when the
 * run is stopped at a choice the player has to make.
 */
export function keyCards(metrics, { compact = false, waiting = false } = {}) {
  const keys = keyMetricsFor(metrics);
  const head = metrics.end_reason === 'deadlock' ? DEADLOCK : waiting ? WAITING : null;
  return (head ? [head, ...keys.filter((k) => k.path !== 'time_ms')] : keys)
    .map((k, i) => {
      const v = metricValue(metrics, k.path);
      if (v === undefined || (v === null && i > 0)) return '';
      return `<div class="km${i === 0 ? ' primary' : ''}${k === DEADLOCK ? ' bad' : ''}" data-metric="${k.path}" data-value="${escapeHtml(JSON.stringify(v))}">
        <span class="km-l">${escapeHtml(k.label)}</span>
        <span class="km-v">${k.text ? escapeHtml(k.text(metrics)) : fmtValue(v, k.unit)}</span>
        ${k.hint && i === 0 && !compact ? `<span class="km-h">${escapeHtml(k.hint(metrics))}</span>` : ''}
      </div>`;
    })
    .join('');
}

const row = (label, value) => `<dt>${label}</dt><dd>${value}</dd>`;

export function renderMetrics(el, m, { waiting = false } = {}) {
  const parts = [];
  parts.push(`<div class="key-metrics">${keyCards(m, { waiting })}</div>`);
  const r = m.requests;
  if (r.sent > 0) {
    parts.push(`<section class="m-sec"><h4>Requests</h4>
      <dl class="m-dl">
        ${row('answered', `${fmtInt(r.completed)} / ${fmtInt(r.sent)}`)}
        ${row('throughput', `${trim(r.throughput_per_s, 3)} /s`)}
        ${row('p50 · p90', `${fmtMs(r.p50_ms)} · ${fmtMs(r.p90_ms)}`)}
        ${row('p99 · max', `${fmtMs(r.p99_ms)} · ${fmtMs(r.max_ms)}`)}
      </dl>
      <div class="m-chart"><div class="m-chart-t">latency histogram</div>${histogram(r.histogram)}</div>
    </section>`);
  }
  const re = m.reactor;
  const reactorPart = `<section class="m-sec"><h4>Reactor</h4>
    <dl class="m-dl">
      ${row('turns · calls', `${fmtInt(re.turns)} · ${fmtInt(re.calls)}`)}
      ${row('busy', `${fmtMs(re.busy_ms)} (${fmtPct(re.utilization)})`)}
      ${row('longest call', `${fmtMs(re.longest_call_ms)}${re.slow_calls ? ` · ${re.slow_calls} slow` : ''}`)}
      ${row('loop lag p50 · p99', `${fmtMs(re.lag.p50_ms)} · ${fmtMs(re.lag.p99_ms)}`)}
      ${row('worst lag', fmtMs(re.lag.max_ms))}
      ${re.unhandled_errors ? row('unhandled errors', `<b class="bad">${re.unhandled_errors}</b>`) : ''}
    </dl>
    <div class="m-chart"><div class="m-chart-t">loop lag over time</div>${series(re.lag.series, { color: '#e5484d', endMs: m.time_ms, label: 'loop lag samples' })}</div>
  </section>`;
  // When the reactor barely ran (thread experiments), its numbers go last.
  const reactorMatters = re.calls > 0 && (re.busy_ms > 0 || re.lag.samples > 0 || m.looping_calls.length > 0);
  if (reactorMatters) parts.push(reactorPart);
  const p = m.pool;
  if (p.jobs > 0) {
    parts.push(`<section class="m-sec"><h4>Thread pool</h4>
      <dl class="m-dl">
        ${row('jobs', `${fmtInt(p.completed)} / ${fmtInt(p.jobs)} done`)}
        ${row('threads', `${p.threads_started} started of ${p.max_threads}`)}
        ${row('queue max · mean', `${p.max_queue} · ${trim(p.mean_queue, 3)}`)}
      </dl>
      <div class="m-chart"><div class="m-chart-t">pool queue depth</div>${series(p.queue_series, { color: '#1f8f5f', step: true, unit: '', endMs: m.time_ms, label: 'queue samples' })}</div>
    </section>`);
  }
  parts.push(`<section class="m-sec"><h4>Cores</h4>${bars(m.cores.map((c) => ({ label: `core ${c.core}`, value: c.utilization, text: fmtPct(c.utilization) })))}</section>`);
  if (m.gil) {
    const g = m.gil;
    const maxWait = Math.max(...g.threads.map((t) => t.wait_ms), 1e-9);
    parts.push(`<section class="m-sec"><h4>GIL</h4>
      <dl class="m-dl">
        ${row('switches', `${fmtInt(g.switches)} (${fmtInt(g.forced_switches)} forced)`)}
        ${row('held · waited', `${fmtMs(g.hold_ms)} · ${fmtMs(g.wait_ms)}`)}
      </dl>
      ${g.wait_ms > 0 ? bars(g.threads.filter((t) => t.wait_ms > 0).map((t) => ({ label: escapeHtml(t.name), value: t.wait_ms / maxWait, text: fmtMs(t.wait_ms), color: '#f0a020' }))) : ''}
    </section>`);
  }
  if (m.locks.length) {
    parts.push(`<section class="m-sec"><h4>Locks</h4><table class="m-tab"><tr><th>lock</th><th>taken</th><th>contended</th><th>waited</th><th>max wait</th></tr>
      ${m.locks.map((l) => `<tr><td>${escapeHtml(l.name)}</td><td>${fmtInt(l.acquisitions)}</td><td>${fmtInt(l.contended)}</td><td>${fmtMs(l.wait_ms)}</td><td>${fmtMs(l.max_wait_ms)}</td></tr>`).join('')}
    </table></section>`);
  }
  if (m.counters.length) {
    parts.push(`<section class="m-sec"><h4>Counters</h4><table class="m-tab"><tr><th>counter</th><th>value</th><th>expected</th><th>lost</th></tr>
      ${m.counters.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td>${fmtInt(c.value)}</td><td>${fmtInt(c.expected)}</td><td class="${c.lost_updates ? 'bad' : 'good'}">${fmtInt(c.lost_updates)}</td></tr>`).join('')}
    </table></section>`);
  }
  if (m.looping_calls.length) {
    parts.push(`<section class="m-sec"><h4>Looping calls</h4><table class="m-tab"><tr><th>step</th><th>calls</th><th>skipped</th></tr>
      ${m.looping_calls.map((l) => `<tr><td>${escapeHtml(l.step)}</td><td>${l.calls}</td><td class="${l.skipped ? 'bad' : ''}">${l.skipped}</td></tr>`).join('')}
    </table></section>`);
  }
  const threads = m.threads.filter((t) => t.kind !== 'reactor' || t.cpu_ms > 0);
  if (threads.length) {
    parts.push(`<section class="m-sec m-wide"><h4>Threads</h4><table class="m-tab"><tr><th>thread</th><th>CPU</th><th>started</th><th>finished</th></tr>
      ${threads.map((t) => `<tr><td>${escapeHtml(t.name)}</td><td>${fmtMs(t.cpu_ms)}</td><td>${fmtMs(t.started_ms)}</td><td>${t.finished_ms === null ? '–' : fmtMs(t.finished_ms)}</td></tr>`).join('')}
    </table></section>`);
  }
  if (!reactorMatters) parts.push(reactorPart);
  parts.push(`<p class="m-foot">Ended: <b>${escapeHtml(m.end_reason || 'still running')}</b> at ${fmtMs(m.time_ms)} of virtual time · ${fmtInt(m.events)} events · seed ${m.seed}</p>`);
  el.innerHTML = parts.join('');
}
