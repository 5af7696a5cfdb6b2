// A benchmark, not a test: what the page's thread does per frame while it
// plays back the runs of bench-kit.mjs's PLAYBACK_CASES (the largest preset,
// 1.5M events): its busy time, style recalcs and layouts (Chromium's
// Performance metrics), where its script time goes by source file (the
// sampling profiler), and how many times a frame the editor dispatches,
// CodeMirror measures the layout, the log builds a row, the queues panel is
// redrawn, and the page asks the worker to move the cursor or for stacks.
// Counts and shares, so a loaded machine moves them little.
//
//   node playback-profile.mjs [ROUNDS] [WWW...]     after building www/pkg and twine (as run.mjs)
//
// Each WWW is served without its bundle (pkg/app.js), so the page loads its
// modules from js/ and every sample names its file; with two, the rounds
// interleave them.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, serve, launchBrowser, PLAYBACK_CASES as CASES, openCase, playFrames } from './bench-kit.mjs';

const rounds = Number(process.argv[2] || 2);
const roots = process.argv.length > 3 ? process.argv.slice(3).map((p) => path.resolve(p)) : [path.join(root, 'www')];
const PLAY_MS = 4000;

/** A copy of `www` without the bundle, so samples name js/ files. */
function unbundled(www) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twine-prof-'));
  fs.cpSync(www, dir, { recursive: true, filter: (src) => !/[/\\]pkg[/\\]app\.js/.test(src) });
  return dir;
}

/** What the page's thread did per frame while it played `c` (PLAYBACK_CASES) for PLAY_MS. */
async function measure(browser, url, c) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await openCase(page, url, c);
  await page.waitForFunction(() => document.body.dataset.editor === 'code');
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const before = Number(document.body.dataset.run || 0);
        document.querySelector('[data-testid=run]').click();
        const poll = () => (Number(document.body.dataset.run || 0) > before && document.body.dataset.state === 'ready' ? resolve() : setTimeout(poll, 5));
        poll();
      }),
  );
  // Counters: editor transactions, CodeMirror's measure cycles (each reads the
  // page's layout), log rows made, queues panel redraws, and the requests to
  // the worker (cursor moves, stacks).
  await page.evaluate(() => {
    const { view } = window.twine.ui.editor.code;
    const count = { dispatches: 0, measures: 0, rows: 0, queues: 0, moves: 0, stacks: 0 };
    window.__count = count;
    const counted = (obj, method, key) => {
      const f = obj[method].bind(obj);
      obj[method] = (...a) => {
        count[key] += 1;
        return f(...a);
      };
    };
    counted(view, 'dispatch', 'dispatches');
    counted(view, 'measure', 'measures');
    counted(window.twine.run.remote, 'moveCursor', 'moves');
    counted(window.twine.run.remote, 'stacks', 'stacks');
    new MutationObserver((ms) => {
      for (const m of ms) count.rows += m.addedNodes.length;
    }).observe(document.querySelector('.log-rows'), { childList: true });
    new MutationObserver((ms) => (count.queues += ms.length)).observe(document.querySelector('#queues'), { childList: true });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const m0 = await metrics();
  const { frames } = await playFrames(page, PLAY_MS);
  const m1 = await metrics();
  const { profile } = await cdp.send('Profiler.stop');
  const count = await page.evaluate(() => window.__count);
  await page.close();
  const delta = (k) => m1[k] - m0[k];
  // The main thread's work per frame: all of it, and style and layout (counts and time).
  const perFrame = {
    taskMs: (1000 * delta('TaskDuration')) / frames,
    scriptMs: (1000 * delta('ScriptDuration')) / frames,
    layoutMs: (1000 * (delta('LayoutDuration') + delta('RecalcStyleDuration'))) / frames,
    layouts: delta('LayoutCount') / frames,
    styles: delta('RecalcStyleCount') / frames,
  };
  // Self samples by file (the page's js/ modules, CodeMirror, wasm) or by V8's own names.
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const fns = new Map();
  profile.samples.forEach((id, k) => {
    const { callFrame } = byNode.get(id);
    const file = callFrame.url ? callFrame.url.replace(/^.*\/(js|pkg)\//, '$1/') : callFrame.functionName || '(anonymous)';
    const us = profile.timeDeltas[k] || 0;
    self.set(file, (self.get(file) || 0) + us);
    const fn = `${file} ${callFrame.functionName || '(anonymous)'}:${callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) || 0) + us);
  });
  return { frames, count, perFrame, self, fns };
}

const copies = roots.map(unbundled);
process.on('exit', () => copies.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const urls = [];
for (const dir of copies) urls.push(await serve(dir));
const browser = await launchBrowser();
const results = roots.map(() => CASES.map(() => []));
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < CASES.length; k++) {
    for (let i = 0; i < roots.length; i++) results[i][k].push(await measure(browser, urls[i], CASES[k]));
  }
}
await browser.close();
const BUSY = (k) => k !== '(idle)' && k !== '(program)';
const f2 = (x) => x.toFixed(2);
for (let i = 0; i < roots.length; i++) {
  console.log(roots[i]);
  CASES.forEach((c, k) => {
    for (const m of results[i][k]) {
      const busy = [...m.self].filter(([key]) => BUSY(key)).reduce((a, [, v]) => a + v, 0);
      const share = (pred) => [...m.self].filter(([key]) => pred(key)).reduce((a, [, v]) => a + v, 0) / busy;
      const pct = (x) => `${(100 * x).toFixed(1)}%`;
      const per = (n) => f2(n / m.frames);
      const p = m.perFrame;
      console.log(
        `  ${c.name}: ${m.frames} frames; per frame: main thread busy ${f2(p.taskMs)} ms (script ${f2(p.scriptMs)}, style and layout ${f2(p.layoutMs)}), ` +
          `${f2(p.layouts)} layouts, ${f2(p.styles)} style recalcs, sampled script ${f2(busy / 1000 / m.frames)} ms; ` +
          `${per(m.count.dispatches)} editor dispatches, ${per(m.count.measures)} CodeMirror measures, ${per(m.count.rows)} log rows made, ` +
          `${per(m.count.queues)} queues redraws, ${per(m.count.moves)} cursor moves, ${per(m.count.stacks)} stacks requests`,
      );
      console.log(
        `    of sampled script: editor ${pct(share((key) => key === 'pkg/editor.js' || key === 'js/editor.js'))}, event log ${pct(share((key) => key === 'js/event-log.js'))}, V8 and the browser's own (no script) ${pct(share((key) => BUSY(key) && !key.endsWith('.js')))}`,
      );
      const top = [...m.self].filter(([key]) => BUSY(key)).sort((a, b) => b[1] - a[1]).slice(0, 6);
      console.log(`    top files: ${top.map(([key, v]) => `${key} ${pct(v / busy)}`).join(', ')}`);
      const topFns = [...m.fns].filter(([key]) => BUSY(key.split(' ')[0])).sort((a, b) => b[1] - a[1]).slice(0, 8);
      console.log(`    top functions: ${topFns.map(([key, v]) => `${key} ${pct(v / busy)}`).join(', ')}`);
    }
  });
}
console.log(`${rounds} interleaved rounds; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
process.exit(0);
