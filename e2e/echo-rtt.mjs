// A benchmark, not a test: the live echo's figures against a plain client.
// A real `twine serve`, headless Chromium on the Live server view, and a
// plain WebSocket client in this process (nothing drawn) on the same /ws,
// taking turns: a plain round trip, then one typed into the page's echo.
// Prints the medians of the plain client's round trips, of the page's
// "network + server" (timed in its worker) and of what the page added
// until the reply was painted.
//
//   node --experimental-websocket echo-rtt.mjs [ROUNDS]   (Node 22 needs no flag)
//
// after building www/pkg and twine (as run.mjs). TWINE_BIN as in run.mjs.

import path from 'node:path';
import { root, serve, launchBrowser } from './bench-kit.mjs';

if (typeof WebSocket !== 'function') {
  console.error('echo-rtt: this Node has no WebSocket client; run it with node --experimental-websocket (Node 20) or Node 22');
  process.exit(2);
}

const rounds = Number(process.argv[2] || 21);

const url = await serve(path.join(root, 'www'));

const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`${url}/#view=live`);
await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 30_000 });
await page.click('[data-testid=live-connect]');
await page.waitForSelector('[data-testid=echo-input]:not([disabled])');

const plain = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
await new Promise((resolve) => plain.addEventListener('open', resolve));
const plainTrip = () =>
  new Promise((resolve) => {
    const t = performance.now();
    plain.addEventListener('message', () => resolve(performance.now() - t), { once: true });
    plain.send('plain probe');
  });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figures = { plain: [], net: [], page: [], total: [] };
for (let i = 0; i < rounds; i++) {
  figures.plain.push(await plainTrip());
  await page.fill('[data-testid=echo-input]', `round ${i}`);
  await page.press('[data-testid=echo-input]', 'Enter');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=echo-output] li[data-total-ms]').length === n, i + 1);
  const row = await page.$eval('[data-testid=echo-output] li[data-total-ms]', (li) => ({ net: Number(li.dataset.rtt), page: Number(li.dataset.pageMs), total: Number(li.dataset.totalMs) }));
  figures.net.push(row.net);
  figures.page.push(row.page);
  figures.total.push(row.total);
  await page.waitForTimeout(100);
}
const m = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v)]));
console.log(`${rounds} interleaved rounds, medians:`);
console.log(`  plain client (this process)    ${m.plain.toFixed(2)} ms`);
console.log(`  page: network + server         ${m.net.toFixed(2)} ms  (${(m.net / m.plain).toFixed(2)}x the plain client)`);
console.log(`  page: added until painted      ${m.page.toFixed(2)} ms`);
console.log(`  page: total, send to painted   ${m.total.toFixed(2)} ms`);
plain.close();
await browser.close();
