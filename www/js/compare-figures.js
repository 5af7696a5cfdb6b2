// The figures Compare puts side by side, and how it judges a difference:
// which figures a run has at all (no loop lag for a program that never
// scheduled a timer), which direction is better for each (lower latency,
// higher throughput, fewer lost updates), and when a difference is too
// small to call.

import { fmtMs, fmtInt, fmtPct, trim } from './format.js';
import { metricValue } from './metrics-view.js';

/**
 * Differences within this factor either way are "about the same". The
 * simulation is deterministic, so the same seed gives the same figures;
 * but another seed moves them: on echo-blocking/deferred, seeds 1 to 6
 * spread throughput over 39.9 to 42.0 answers/s and the run's length over
 * 23.8 to 25.1 s (about ±2.6 % around their means). A difference inside
 * ±5 % is one another seed could make, not a finding.
 */
export const SAME_WITHIN = 1.05;

const requests = (m) => m.requests.sent > 0;
const reactorRan = (m) => m.reactor.calls > 0;
const lagSampled = (m) => m.reactor.lag.samples > 0;
const pooled = (m) => m.pool.jobs > 0;
const gil = (m) => !!m.gil;
const counted = (m) => m.counters.length > 0;
const looping = (m) => m.looping_calls.length > 0;

/**
 * The figures, named as the metrics panel and the key cards name them.
 * `applies(m)`: whether run `m` has this figure (a row shows when either
 * run does). `better`: 'lower', 'higher', or absent when neither direction
 * is a win (how many GIL switches, how busy the reactor was).
 */
export const FIGURES = [
  { path: 'time_ms', label: 'finished at', unit: 'ms', better: 'lower', applies: () => true },
  { path: 'requests.p50_ms', label: 'p50 latency', unit: 'ms', better: 'lower', applies: requests },
  { path: 'requests.p99_ms', label: 'p99 latency', unit: 'ms', better: 'lower', applies: requests },
  { path: 'requests.max_ms', label: 'worst latency', unit: 'ms', better: 'lower', applies: requests },
  { path: 'requests.throughput_per_s', label: 'throughput (answers /s)', unit: 'num', better: 'higher', applies: requests },
  { path: 'reactor.utilization', label: 'reactor busy', unit: 'pct', applies: reactorRan },
  { path: 'reactor.longest_call_ms', label: 'longest reactor call', unit: 'ms', better: 'lower', applies: reactorRan },
  { path: 'reactor.lag.p99_ms', label: 'p99 loop lag', unit: 'ms', better: 'lower', applies: lagSampled },
  { path: 'reactor.lag.max_ms', label: 'worst loop lag', unit: 'ms', better: 'lower', applies: lagSampled },
  { path: 'reactor.unhandled_errors', label: 'unhandled errors', unit: 'int', better: 'lower', applies: (m) => m.reactor.unhandled_errors > 0 },
  { path: 'pool.max_queue', label: 'deepest pool queue', unit: 'int', better: 'lower', applies: pooled },
  { path: 'gil.wait_ms', label: 'GIL wait (total)', unit: 'ms', better: 'lower', applies: gil },
  { path: 'gil.switches', label: 'GIL switches', unit: 'int', applies: gil },
  { path: 'counters[0].value', label: 'final count', unit: 'int', better: 'higher', applies: counted },
  { path: 'counters[0].lost_updates', label: 'lost updates', unit: 'int', better: 'lower', applies: counted },
  { path: 'looping_calls[0].skipped', label: 'skipped intervals', unit: 'int', better: 'lower', applies: looping },
  { path: 'looping_calls[0].max_lag_ms', label: 'worst tick lag', unit: 'ms', better: 'lower', applies: looping },
  { path: 'events', label: 'trace events', unit: 'int', applies: () => true },
];

/** A figure's value for people; `–` when the run has none. */
export function fmtFigure(v, unit) {
  if (v === undefined || v === null) return '–';
  if (unit === 'ms') return fmtMs(v);
  if (unit === 'pct') return fmtPct(v);
  if (unit === 'num') return trim(v, 3);
  return fmtInt(v);
}

/**
 * How B's figure stands against A's: `{ratio, verdict, text}`. `verdict` is
 * 'better' or 'worse' (for B, in the figure's better direction), 'same'
 * (within SAME_WITHIN), 'differs' (a figure with no better direction), or
 * 'none' (a side lacks the figure). `ratio` is B / A, null when A is 0.
 *
 * ```js
 * judge({ better: 'lower' }, 40, 10);      // {ratio: 0.25, verdict: 'better', text: '0.25×'}
 * judge({ better: 'higher' }, 41.8, 42);   // {ratio: 1.0048 (rounded), verdict: 'same', text: '1×'}
 * judge({ better: 'lower' }, 0, 5);        // {ratio: null, verdict: 'worse', text: 'from 0'}
 * ```
 */
export function judge(figure, a, b) {
  if (typeof a !== 'number' || typeof b !== 'number') return { ratio: null, verdict: 'none', text: '' };
  if (a === b) return { ratio: a === 0 ? null : 1, verdict: 'same', text: a === 0 ? 'both 0' : '1×' };
  const ratio = a === 0 ? null : b / a;
  const text = ratio === null ? 'from 0' : `${trim(ratio, 3)}×`;
  // Within the band either way (B / A or A / B) is about the same; 0 on one
  // side only is always a difference.
  const same = ratio !== null && ratio > 0 && ratio < SAME_WITHIN && ratio > 1 / SAME_WITHIN;
  if (same) return { ratio, verdict: 'same', text };
  if (!figure.better) return { ratio, verdict: 'differs', text };
  const bIsLower = b < a;
  const verdict = bIsLower === (figure.better === 'lower') ? 'better' : 'worse';
  return { ratio, verdict, text };
}

/** The figures that apply to at least one of the two runs, each with both values and the verdict. */
export function compareFigures(a, b) {
  return FIGURES.filter((f) => f.applies(a) || f.applies(b)).map((f) => {
    const va = f.applies(a) ? metricValue(a, f.path) : undefined;
    const vb = f.applies(b) ? metricValue(b, f.path) : undefined;
    return { figure: f, a: va, b: vb, ...judge(f, va, vb) };
  });
}
