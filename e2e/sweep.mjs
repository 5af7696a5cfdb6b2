// Seed sweeps: K seeds of the program in workers on every core, charted one
// dot per seed, each dot a click from its run; the figures equal twine-sim's.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { open } from './tests.mjs';

export const tests = [
  {
    name: 'a sweep of 20 seeds of counter-race gives twine-sim explore --seeds 20 figures, one dot per seed, each a click from its run',
    async fn({ page, url, env }) {
      await open(page, url, '#program=counter-race/nogil-unlocked');
      await page.fill('[data-testid=sweep-count]', '20');
      await page.click('[data-testid=sweep]');
      const summary = await page.waitForSelector('[data-testid=sweep-summary][data-done=true]', { timeout: 40_000 });
      const shown = JSON.parse(await summary.getAttribute('data-results'));

      const file = path.join(env.root, 'www', 'presets', 'counter-race.py');
      const r = spawnSync(env.twineSim, ['explore', file, '--variant', 'nogil-unlocked', '--seeds', '20'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const native = JSON.parse(r.stdout).seeds;
      assert.equal(native.length, 20);
      assert.deepEqual(shown, native);
      assert.ok(new Set(native.map((s) => s.lost_updates)).size > 1, 'the seeds differ, so the chart has a spread');

      // The chart picked lost updates (it varies) and has a dot per seed.
      assert.equal(await page.inputValue('[data-testid=sweep-figure]'), 'lost_updates');
      const keys = await page.$$eval('[data-testid=sweep-panel] circle[data-key]', (els) => els.map((e) => Number(e.dataset.key)));
      assert.deepEqual([...keys].sort((a, b) => a - b), native.map((s) => s.seed));

      // A dot runs its seed: the seed knob says so, and the run is the dot's.
      const seed = 13;
      const before = await page.evaluate(() => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0));
      await page.click(`[data-testid=sweep-panel] circle[data-key="${seed}"]`);
      await page.waitForFunction((b) => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0) > b, before);
      assert.equal(await page.inputValue('[data-knob=seed] input'), String(seed));
      const shownRun = await page.evaluate(() => ({ seed: window.twine.run.seed, lastLine: window.twine.run.metrics.output.at(-1).t_ms }));
      assert.deepEqual(shownRun, { seed, lastLine: native[seed - 1].last_line_ms });
    },
  },
];
