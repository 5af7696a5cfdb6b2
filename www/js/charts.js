// Small SVG charts for the metrics panel: a latency histogram and time series.

import { fmtMs, trim, fmtInt } from './format.js';

/**
 * A bar per latency bucket. `buckets` are [{le_ms, count}]; `maxCount`, when
 * given, is the count a full-height bar stands for (so two histograms drawn
 * side by side share one scale).
 */
export function histogram(buckets, { width = 300, height = 110, color = '#5b5bd6', maxCount } = {}) {
  if (!buckets || buckets.every((b) => b.count === 0)) return '<p class="muted small">No requests in this run.</p>';
  const padB = 18;
  const padT = 12;
  const max = Math.max(maxCount ?? 0, ...buckets.map((b) => b.count), 1);
  const bw = width / buckets.length;
  let bars = '';
  buckets.forEach((b, i) => {
    const h = ((height - padB - padT) * b.count) / max;
    const x = i * bw + 2;
    const y = height - padB - h;
    bars += `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 4).toFixed(1)}" height="${h.toFixed(1)}" rx="2" fill="${color}"><title>≤ ${fmtMs(b.le_ms)}: ${b.count}</title></rect>`;
    bars += `<text x="${(x + bw / 2 - 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" class="c-val">${fmtInt(b.count)}</text>`;
    bars += `<text x="${(x + bw / 2 - 2).toFixed(1)}" y="${height - 5}" class="c-lab">≤${fmtMs(b.le_ms, 2)}</text>`;
  });
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="none" role="img" aria-label="latency histogram">${bars}</svg>`;
}

/**
 * A time series ([[t_ms, value], ...]) as a filled line.
 * `step` draws it as steps (queue depth), `unit` formats the y label;
 * `maxValue` sets the top of the y axis at least that high (two charts
 * side by side on one scale).
 */
export function series(points, { width = 300, height = 90, color = '#5b5bd6', step = false, unit = 'ms', endMs, label = '', maxValue = 0 } = {}) {
  if (!points || points.length === 0) return `<p class="muted small">No ${label || 'samples'} in this run.</p>`;
  const padL = 34;
  const padB = 14;
  const padT = 6;
  const t0 = 0;
  const t1 = Math.max(endMs ?? 0, points[points.length - 1][0], 1e-9);
  const vmax = Math.max(...points.map((p) => p[1]), maxValue, unit === 'ms' ? 1e-3 : 1);
  const x = (t) => padL + ((t - t0) / (t1 - t0)) * (width - padL - 4);
  const y = (v) => height - padB - (v / vmax) * (height - padB - padT);
  let d = `M${x(points[0][0]).toFixed(1)},${y(step ? 0 : points[0][1]).toFixed(1)}`;
  let prev = step ? 0 : points[0][1];
  for (const [t, v] of points) {
    if (step) d += `L${x(t).toFixed(1)},${y(prev).toFixed(1)}`;
    d += `L${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    prev = v;
  }
  if (step) d += `L${x(t1).toFixed(1)},${y(prev).toFixed(1)}`;
  const area = `${d}L${x(step ? t1 : points[points.length - 1][0]).toFixed(1)},${y(0)}L${x(points[0][0]).toFixed(1)},${y(0)}Z`;
  const fmtV = (v) => (unit === 'ms' ? fmtMs(v, 2) : trim(v, 3));
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="none" role="img" aria-label="${label}">
    <line x1="${padL}" x2="${width - 4}" y1="${y(0)}" y2="${y(0)}" class="c-axis"/>
    <line x1="${padL}" x2="${width - 4}" y1="${y(vmax)}" y2="${y(vmax)}" class="c-grid"/>
    <text x="${padL - 4}" y="${y(vmax) + 3}" class="c-tick" text-anchor="end">${fmtV(vmax)}</text>
    <text x="${padL - 4}" y="${y(0) + 3}" class="c-tick" text-anchor="end">0</text>
    <text x="${padL}" y="${height - 2}" class="c-tick">0</text>
    <text x="${width - 4}" y="${height - 2}" class="c-tick" text-anchor="end">${fmtMs(t1, 3)}</text>
    <path d="${area}" fill="${color}" opacity="0.14"/>
    <path d="${d}" fill="none" stroke="${color}" stroke-width="1.5" vector-effect="non-scaling-stroke"/>
  </svg>`;
}

/** Horizontal bars, values in [0, 1]. */
export function bars(items, { color = '#5b5bd6' } = {}) {
  return `<div class="hbars">${items
    .map(
      (it) => `<div class="hbar"><span class="hbar-l">${it.label}</span><span class="hbar-track"><span class="hbar-fill" style="width:${(Math.min(1, Math.max(0, it.value)) * 100).toFixed(1)}%;background:${it.color || color}"></span></span><span class="hbar-v">${it.text}</span></div>`,
    )
    .join('')}</div>`;
}

/**
 * A dot plot: one dot per point (`[{value, key, label}]`), stacked in
 * columns by value, so a spread of seeds shows its shape and each seed stays
 * a dot (`data-key` on each, for a click to open it).
 */
export function dots(points, { width = 420, height = 120, color = '#5b5bd6', columns = 24, fmt = (v) => trim(v, 3), label = '' } = {}) {
  if (!points.length) return '<p class="muted small">Nothing yet.</p>';
  const padB = 16;
  const values = points.map((p) => p.value);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const col = (v) => Math.min(columns - 1, Math.floor(((v - lo) / span) * columns));
  const cw = (width - 8) / columns;
  const r = Math.max(2, Math.min(6, cw / 2 - 1));
  // Tall enough for the highest column: no dot hides another.
  const tallest = Math.max(...points.reduce((n, p) => (n[col(p.value)]++, n), new Array(columns).fill(0)));
  height = Math.max(height, padB + tallest * (2 * r + 1) + 4);
  const heights = new Array(columns).fill(0);
  let marks = '';
  for (const p of points) {
    const c = col(p.value);
    const cx = 4 + c * cw + cw / 2;
    const cy = height - padB - r - heights[c] * (2 * r + 1);
    heights[c] += 1;
    marks += `<circle class="c-dot" data-key="${p.key}" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(1)}" fill="${color}"><title>${p.label}</title></circle>`;
  }
  return `<svg class="chart dots" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${label}">
    <line x1="4" x2="${width - 4}" y1="${height - padB}" y2="${height - padB}" class="c-axis"/>
    <text x="4" y="${height - 3}" class="c-tick">${fmt(lo)}</text>
    <text x="${width - 4}" y="${height - 3}" class="c-tick" text-anchor="end">${fmt(hi)}</text>
    ${marks}
  </svg>`;
}

/**
 * Histograms of several runs over the same buckets: every bound any of them
 * uses, in order (the runs' buckets are all from one fixed 1-2-5 series),
 * each run counting 0 where it has none. Returns the bucket lists and the
 * largest count, for `histogram`'s `maxCount`.
 */
export function sharedBuckets(histograms) {
  const bounds = [...new Set(histograms.flatMap((h) => (h ?? []).map((b) => b.le_ms)))].sort((a, b) => a - b);
  const lists = histograms.map((h) => {
    const counts = new Map((h ?? []).map((b) => [b.le_ms, b.count]));
    return bounds.map((le_ms) => ({ le_ms, count: counts.get(le_ms) ?? 0 }));
  });
  const maxCount = Math.max(1, ...lists.flat().map((b) => b.count));
  return { lists, maxCount };
}
