// A benchmark, not a test: what the playground transfers before Run is
// possible, in all, and how long after navigation Run becomes possible, on
// loopback against a real `twine serve` in headless Chromium (fresh profile
// per load, so nothing is cached).
//
//   node weight.mjs [LOADS] [PATH]     after building www/pkg and twine (as run.mjs)
//
// "Run possible" is the moment the page's body reaches data-state `loaded`
// or `ready` (boot done: the Run button works). Sizes are the resource
// timing's body sizes: encoded (as sent, compressed when the server
// compressed it) and decoded. Prints one line per file of the median load,
// then the median of each figure over the loads.

import path from 'node:path';
import { root, serve, launchBrowser } from './bench-kit.mjs';

const loads = Number(process.argv[2] || 5);
const page_path = process.argv[3] || '/';
/** How long after Run is possible to keep counting what the page fetches. */
const SETTLE_MS = 4000;

const url = await serve(path.join(root, 'www'));

const browser = await launchBrowser();
const results = [];
for (let i = 0; i < loads; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    new MutationObserver(() => {
      if (window.__runAt === undefined && ['loaded', 'ready'].includes(document.body.dataset.state)) window.__runAt = performance.now();
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
  await page.goto(url + page_path);
  await page.waitForFunction(() => window.__runAt !== undefined, null, { timeout: 30_000 });
  await page.waitForTimeout(SETTLE_MS);
  results.push(
    await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const entries = [nav, ...performance.getEntriesByType('resource')].map((e) => ({
        name: e === nav ? new URL(e.name).pathname : new URL(e.name).pathname,
        end: e.responseEnd,
        encoded: e.encodedBodySize,
        decoded: e.decodedBodySize,
      }));
      return { runAt: window.__runAt, entries };
    }),
  );
  await context.close();
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const sum = (es, f) => es.reduce((s, e) => s + e[f], 0);
const figures = results.map((r) => {
  const before = r.entries.filter((e) => e.end <= r.runAt);
  return { ...r, before, beforeEnc: sum(before, 'encoded'), beforeDec: sum(before, 'decoded'), allEnc: sum(r.entries, 'encoded'), allDec: sum(r.entries, 'decoded') };
});
const mid = figures.find((f) => f.runAt === median(figures.map((f) => f.runAt)));
for (const e of mid.entries.sort((a, b) => a.end - b.end)) {
  console.log(`${e.end <= mid.runAt ? 'before Run' : 'after     '} ${e.name.padEnd(36)} ${kb(e.encoded).padStart(10)} sent ${kb(e.decoded).padStart(10)} raw  done at ${e.end.toFixed(0)} ms`);
}
console.log(`loads: ${loads} of ${url}${page_path}; Run possible after (ms): ${figures.map((f) => f.runAt.toFixed(0)).join(', ')}`);
console.log(`median: Run possible ${median(figures.map((f) => f.runAt)).toFixed(0)} ms after navigation`);
console.log(`median: before Run ${kb(median(figures.map((f) => f.beforeEnc)))} sent (${kb(median(figures.map((f) => f.beforeDec)))} raw)`);
console.log(`median: everything within ${SETTLE_MS / 1000} s after ${kb(median(figures.map((f) => f.allEnc)))} sent (${kb(median(figures.map((f) => f.allDec)))} raw)`);
process.exit(0);
