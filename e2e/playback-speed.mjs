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
// the figures are medians over the rounds. The two runs measured are
// bench-kit.mjs's PLAYBACK_CASES (the largest preset, 1.5M events).
//
// Per run: `sim` is `new Simulation(text).run()` alone in the page's own
// wasm module; `show` is from the click on Run until the run is on screen
// (its metrics shown and a frame painted); `fps` is frames painted a second
// over PLAY_MS of playback at the speed the page picks.

import path from 'node:path';
import { root, serve, launchBrowser, PLAYBACK_CASES as CASES, openCase, playFrames } from './bench-kit.mjs';

const rounds = Number(process.argv[2] || 3);
const roots = process.argv.length > 3 ? process.argv.slice(3).map((p) => path.resolve(p)) : [path.join(root, 'www')];
/** How long to play each run back. */
const PLAY_MS = 4000;

/** One measurement of `c` on the page at `url`. */
async function measure(browser, url, c) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openCase(page, url, c);
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
  const played = await playFrames(page, PLAY_MS);
  const fps = (played.frames * 1000) / played.ms;
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
