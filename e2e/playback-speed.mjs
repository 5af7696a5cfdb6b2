// A benchmark, not a test: how long a run takes to appear on the page after
// Run, against how long its simulation alone takes, and how many frames a
// second the page paints while it plays the run back; in headless Chromium
// against a real `twine serve`.
//
//   node playback-speed.mjs [ROUNDS] [WWW...]     after building www/pkg and twine (as run.mjs)
//
// Each WWW is a copy of the page (default: this tree's www/), served by its
// own `twine serve`; with two (say a checkout of the old page beside the new
// one) the rounds interleave them, so both see the same machine load, and
// the figures are medians over the rounds. Two runs are measured:
//
// - `largest preset`: the biggest shipped program (counter-race, no GIL with
//   a lock: about 30 000 events);
// - `1.5M events`: a JSON scenario of 60 000 requests (about 1.5 million).
//
// Per run: `sim` is `new Simulation(text).run()` alone in the page's own
// wasm module; `show` is from the click on Run until the run is on screen
// (its metrics shown and a frame painted); `fps` is frames painted a second
// over PLAY_MS of playback at the speed the page picks.

import path from 'node:path';
import { root, serve, launchBrowser } from './bench-kit.mjs';

const rounds = Number(process.argv[2] || 3);
const roots = process.argv.length > 3 ? process.argv.slice(3).map((p) => path.resolve(p)) : [path.join(root, 'www')];
/** How long to play each run back. */
const PLAY_MS = 4000;

const BIG = JSON.stringify({
  duration_ms: 121000,
  machine: { cores: 4 },
  pool: { threads: 10 },
  server: { handler: [{ cpu: 0.2 }, { defer_to_thread: [{ io: 5 }] }, 'respond'] },
  clients: { open: { rate_per_s: 500, arrival: 'poisson', requests: 60000, connections: 50 } },
});
const CASES = [
  { name: 'largest preset', hash: '#program=counter-race/nogil-locked' },
  { name: '1.5M events', hash: '#preset=echo-blocking/deferred', text: BIG },
];

/** One measurement of `c` on the page at `url`. */
async function measure(browser, url, c) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/${c.hash}`);
  await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state) && document.body.dataset.editor, null, { timeout: 60_000 });
  if (c.text) {
    await page.evaluate((text) => {
      const { code, text: plain } = window.twine.ui.editor;
      if (code) code.view.dispatch({ changes: { from: 0, to: code.view.state.doc.length, insert: text } });
      else {
        plain.value = text;
        plain.dispatchEvent(new Event('input', { bubbles: true }));
      }
    }, c.text);
  }
  // The simulation alone, in the module the page runs it with.
  const sim = await page.evaluate(() => {
    const { wasm } = window.twine;
    const text = window.twine.ui.editor.value;
    const s = new wasm.Simulation(text, window.twine.seed);
    const t = performance.now();
    s.run();
    const ms = performance.now() - t;
    s.free();
    return ms;
  });
  // Run: from the click to the first frame painted after the run is shown (it then plays).
  const show = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const before = Number(document.body.dataset.run || 0);
        const t0 = performance.now();
        const poll = () => {
          if (Number(document.body.dataset.run || 0) > before && document.body.dataset.state === 'ready') {
            requestAnimationFrame(() => resolve(performance.now() - t0));
          } else setTimeout(poll, 1);
        };
        document.querySelector('[data-testid=run]').click();
        poll();
      }),
  );
  const events = await page.evaluate(() => window.twine.run.metrics.events);
  // Playback: frames painted a second while the page plays the run (from its start, as Run does).
  const fps = await page.evaluate(
    (playMs) =>
      new Promise((resolve) => {
        const play = document.querySelector('#play');
        if (play.getAttribute('aria-pressed') !== 'true') play.click();
        let frames = 0;
        const t0 = performance.now();
        const frame = (now) => {
          frames += 1;
          if (now - t0 < playMs && play.getAttribute('aria-pressed') === 'true') requestAnimationFrame(frame);
          else {
            if (play.getAttribute('aria-pressed') === 'true') play.click();
            resolve((frames * 1000) / (now - t0));
          }
        };
        requestAnimationFrame(frame);
      }),
    PLAY_MS,
  );
  await page.close();
  if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
  return { sim, show, fps, events };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const urls = [];
for (const www of roots) urls.push(await serve(www));
const browser = await launchBrowser();
const results = roots.map(() => CASES.map(() => []));
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < CASES.length; k++) {
    for (let i = 0; i < roots.length; i++) {
      const m = await measure(browser, urls[i], CASES[k]);
      results[i][k].push(m);
      console.error(`round ${r + 1} ${CASES[k].name} ${roots[i]}: ${JSON.stringify(m)}`);
    }
  }
}
await browser.close();
for (let i = 0; i < roots.length; i++) {
  console.log(roots[i]);
  CASES.forEach((c, k) => {
    const ms = results[i][k];
    const sim = median(ms.map((m) => m.sim));
    const show = median(ms.map((m) => m.show));
    const fps = median(ms.map((m) => m.fps));
    console.log(
      `  ${c.name.padEnd(15)} ${String(ms[0].events).padStart(8)} events  sim ${sim.toFixed(0).padStart(6)} ms  show ${show.toFixed(0).padStart(6)} ms (${(show / sim).toFixed(2)}x sim)  playback ${fps.toFixed(1).padStart(5)} frames/s`,
    );
  });
}
console.log(`medians of ${rounds} interleaved rounds; the machine was shared with other builds (load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')})`);
process.exit(0);
