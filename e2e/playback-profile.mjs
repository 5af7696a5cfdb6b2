// A benchmark, not a test: where the page's thread spends playback of the
// largest preset, by source file, from Chromium's sampling profiler; and how
// many times a frame the editor dispatches and the log builds a row. Counts
// and shares, so a loaded machine moves them little.
//
//   node playback-profile.mjs [ROUNDS] [WWW...]     after building www/pkg and twine (as run.mjs)
//
// Each WWW is served without its bundle (pkg/app.js), so the page loads its
// modules from js/ and every sample names its file; with two, the rounds
// interleave them.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, serve, launchBrowser } from './bench-kit.mjs';

const rounds = Number(process.argv[2] || 2);
const roots = process.argv.length > 3 ? process.argv.slice(3).map((p) => path.resolve(p)) : [path.join(root, 'www')];
const PLAY_MS = 4000;

/** A copy of `www` without the bundle, so samples name js/ files. */
function unbundled(www) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twine-prof-'));
  fs.cpSync(www, dir, { recursive: true, filter: (src) => !/[/\\]pkg[/\\]app\.js/.test(src) });
  return dir;
}

async function measure(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}/#program=counter-race/nogil-locked`);
  await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state) && document.body.dataset.editor === 'code', null, { timeout: 60_000 });
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const before = Number(document.body.dataset.run || 0);
        document.querySelector('[data-testid=run]').click();
        const poll = () => (Number(document.body.dataset.run || 0) > before && document.body.dataset.state === 'ready' ? resolve() : setTimeout(poll, 5));
        poll();
      }),
  );
  // Counters: editor transactions and log rows made.
  await page.evaluate(() => {
    const { view } = window.twine.ui.editor.code;
    window.__count = { dispatches: 0, rows: 0 };
    const dispatch = view.dispatch.bind(view);
    view.dispatch = (...a) => {
      window.__count.dispatches += 1;
      return dispatch(...a);
    };
    new MutationObserver((ms) => {
      for (const m of ms) window.__count.rows += m.addedNodes.length;
    }).observe(document.querySelector('.log-rows'), { childList: true });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const frames = await page.evaluate(
    (playMs) =>
      new Promise((resolve) => {
        const play = document.querySelector('#play');
        if (play.getAttribute('aria-pressed') !== 'true') play.click();
        let n = 0;
        const t0 = performance.now();
        const frame = (now) => {
          n += 1;
          if (now - t0 < playMs && play.getAttribute('aria-pressed') === 'true') requestAnimationFrame(frame);
          else {
            if (play.getAttribute('aria-pressed') === 'true') play.click();
            resolve(n);
          }
        };
        requestAnimationFrame(frame);
      }),
    PLAY_MS,
  );
  const { profile } = await cdp.send('Profiler.stop');
  const count = await page.evaluate(() => window.__count);
  await page.close();
  // Self samples by file (the page's js/ modules, CodeMirror, wasm) or by V8's own names.
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const fns = new Map();
  for (const id of profile.samples) {
    const { callFrame } = byNode.get(id);
    const file = callFrame.url ? callFrame.url.replace(/^.*\/(js|pkg)\//, '$1/') : callFrame.functionName || '(anonymous)';
    self.set(file, (self.get(file) || 0) + 1);
    const fn = `${file} ${callFrame.functionName || '(anonymous)'}:${callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) || 0) + 1);
  }
  return { frames, count, self, fns, samples: profile.samples.length };
}

const copies = roots.map(unbundled);
process.on('exit', () => copies.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const urls = [];
for (const dir of copies) urls.push(await serve(dir));
const browser = await launchBrowser();
const results = roots.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < roots.length; i++) results[i].push(await measure(browser, urls[i]));
}
await browser.close();
const BUSY = (k) => k !== '(idle)' && k !== '(program)';
for (let i = 0; i < roots.length; i++) {
  console.log(roots[i]);
  for (const m of results[i]) {
    const busy = [...m.self].filter(([k]) => BUSY(k)).reduce((a, [, v]) => a + v, 0);
    const share = (pred) => [...m.self].filter(([k]) => pred(k)).reduce((a, [, v]) => a + v, 0) / busy;
    const pct = (x) => `${(100 * x).toFixed(1)}%`;
    console.log(
      `  ${m.frames} frames; per frame ${(m.count.dispatches / m.frames).toFixed(2)} editor dispatches, ${(m.count.rows / m.frames).toFixed(2)} log rows made;` +
        ` of busy samples (${busy}): editor ${pct(share((k) => k === 'pkg/editor.js' || k === 'js/editor.js'))}, event log ${pct(share((k) => k === 'js/event-log.js'))}, V8 and the browser's own (no script) ${pct(share((k) => BUSY(k) && !k.endsWith('.js')))}`,
    );
    const top = [...m.self].filter(([k]) => BUSY(k)).sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(`    top files: ${top.map(([k, v]) => `${k} ${pct(v / busy)}`).join(', ')}`);
    const topFns = [...m.fns].filter(([k]) => BUSY(k.split(' ')[0])).sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`    top functions: ${topFns.map(([k, v]) => `${k} ${pct(v / busy)}`).join(', ')}`);
  }
}
process.exit(0);
