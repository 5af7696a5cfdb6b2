// Compare is fair: both runs on one time axis, only the figures that apply,
// and a difference judged in the direction that is better for its figure.

import assert from 'node:assert/strict';
import path from 'node:path';
import { open, simMetrics } from './tests.mjs';

/** Opens Compare on `a` against `b` (picked from the menus, as a person would) and waits for both runs. */
async function compare(page, a, b) {
  await page.selectOption('#cmp-a', a);
  await page.selectOption('#cmp-b', b);
  await page.waitForFunction(
    ([a, b]) => {
      const root = document.querySelector('#view-compare');
      const picked = root.querySelector('#cmp-a').value === a && root.querySelector('#cmp-b').value === b;
      const titled = root.querySelector('.cmp-col[data-side="B"]').dataset.endMs !== undefined;
      return picked && titled && root.dataset.state === 'ready' && root.querySelectorAll('.cmp-table tr').length > 1;
    },
    [a, b],
  );
  // The extents are placed as the timelines draw (the next frame).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Each side's run on the shared axis, as drawn under its timeline: [{left, width}] relative to its canvas. */
const extents = (page) =>
  page.$$eval('.cmp-col', (cols) =>
    cols.map((col) => {
      const canvas = col.querySelector('canvas').getBoundingClientRect();
      const bar = col.querySelector('.cmp-extent').getBoundingClientRect();
      const after = col.querySelector('.cmp-after').getBoundingClientRect();
      return { left: bar.left - canvas.left, width: bar.width, afterLeft: after.left - canvas.left, canvasWidth: canvas.width };
    }),
  );

const rows = (page) =>
  page.$$eval('.cmp-table tr[data-metric]', (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.dataset.metric, { verdict: tr.dataset.verdict, color: getComputedStyle(tr.querySelector('.ratio')).color, text: tr.textContent }])),
  );

export const tests = [
  {
    name: 'compare: a 4 s run and a 1 s run on one time axis; only the figures that apply, judged by their better direction',
    timeoutMs: 90_000,
    async fn({ page, url, env }) {
      await open(page, url, '#preset=gil-cpu-bound/gil-4-cores');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.click('button[data-view=compare]');
      await page.waitForFunction(() => document.querySelector('#view-compare').dataset.state === 'ready');
      await compare(page, 'gil-cpu-bound/gil-4-cores', 'gil-cpu-bound/nogil-4-cores');

      // One axis: the bars' lengths are in the runs' ratio (twine-sim's
      // figures), from the same origin, and the shorter side is shaded
      // from where its run ended.
      const gil = simMetrics(env, ['gil-cpu-bound/gil-4-cores', '--seed', '1']).time_ms;
      const nogil = simMetrics(env, ['gil-cpu-bound/nogil-4-cores', '--seed', '1']).time_ms;
      assert.ok(gil > 3 * nogil, `the GIL run is the longer (${gil} against ${nogil} ms)`);
      const [a, b] = await extents(page);
      assert.ok(Math.abs(a.left - b.left) < 1, `both runs start at the same x (${a.left}, ${b.left})`);
      const drawn = a.width / b.width;
      assert.ok(Math.abs(drawn / (gil / nogil) - 1) < 0.02, `drawn lengths ${a.width}:${b.width} = ${drawn}, runs ${gil}:${nogil} = ${gil / nogil}`);
      assert.ok(a.width > 0.9 * (a.canvasWidth - 100), `the longer run fills the plot (${a.width} of ${a.canvasWidth} px)`);
      assert.ok(Math.abs(b.afterLeft - (b.left + b.width)) < 1.5, 'B is shaded from where its run ended');
      assert.ok(await page.isVisible('.cmp-col[data-side="B"] .cmp-after'));

      // Zooming one side zooms the other: the runs keep their ratio.
      const canvasA = await page.$('.cmp-col[data-side="A"] canvas');
      const box = await canvasA.boundingBox();
      await page.mouse.move(box.x + 112, box.y + box.height / 2);
      await page.mouse.wheel(0, -300);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const views = await page.evaluate(() => window.twine.ui.compare.timelines.map((t) => [t.t0, t.t1]));
      assert.deepEqual(views[0], views[1], 'both timelines show the same span');
      const [za, zb] = await extents(page);
      assert.ok(zb.width > b.width * 1.2, `zoomed in, B's run is drawn wider (${b.width} -> ${zb.width} px)`);
      assert.ok(Math.abs(za.left - zb.left) < 1);
      // A click on one puts the playhead on both.
      await page.mouse.click(box.x + 200, box.y + box.height - 6);
      const heads = await page.evaluate(() => window.twine.ui.compare.timelines.map((t) => t.playhead));
      assert.ok(Number.isFinite(heads[0]) && heads[0] === heads[1], `one playhead on both sides (${heads})`);

      // Figures: no requests, no timers, no pool, no counters in either
      // run: their rows are absent. The GIL applies to A only.
      const r = await rows(page);
      for (const absent of ['requests.p99_ms', 'requests.throughput_per_s', 'reactor.lag.p99_ms', 'pool.max_queue', 'counters[0].lost_updates']) {
        assert.equal(r[absent], undefined, `no "${absent}" row when neither run has it`);
      }
      assert.equal(r['gil.wait_ms'].verdict, 'none', 'GIL wait: only A has a GIL');
      assert.equal(r.time_ms.verdict, 'better', 'finishing in a quarter of the time is better for B');
      await page.screenshot({ path: path.join(env.screenshots, 'compare-one-axis.png') });

      // The echo server: same throughput either way (grey, not a win),
      // a far lower p99 latency with defer_to_thread (a win).
      await compare(page, 'echo-blocking/blocking', 'echo-blocking/deferred');
      const e = await rows(page);
      const green = await page.evaluate(() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--good)';
        document.body.append(probe);
        const c = getComputedStyle(probe).color;
        probe.remove();
        return c;
      });
      assert.equal(e['requests.throughput_per_s'].verdict, 'same', e['requests.throughput_per_s'].text);
      assert.notEqual(e['requests.throughput_per_s'].color, green, 'a neutral ratio is not coloured as a win');
      assert.match(e['requests.throughput_per_s'].text, /about the same/);
      assert.equal(e['requests.p99_ms'].verdict, 'better');
      assert.equal(e['requests.p99_ms'].color, green);
      assert.equal(e['reactor.lag.p99_ms'].verdict, 'better', 'the loop lag row applies to a server with timers');
      assert.equal(e['pool.max_queue'].verdict, 'none', 'the pool applies to the deferred side only');

      // The latency histograms: the same buckets on both sides, and one
      // count scale (a bar's height per request is the same on both).
      const bars = await page.$$eval('.cmp-col', (cols) =>
        cols.map((col) =>
          [...col.querySelectorAll('.cmp-hist rect')].map((r) => ({ title: r.querySelector('title').textContent, height: Number(r.getAttribute('height')) })),
        ),
      );
      const bounds = (side) => side.map((b) => b.title.split(':')[0]);
      assert.ok(bars[0].length > 1, `the blocking run spreads over several buckets (${bounds(bars[0])})`);
      assert.deepEqual(bounds(bars[0]), bounds(bars[1]), 'both histograms over the same buckets');
      // Heights are written to a tenth of a pixel.
      const all = bars.flat().map((b) => ({ ...b, count: Number(b.title.split(': ')[1]) }));
      const tallest = all.reduce((t, b) => (b.count > t.count ? b : t));
      const scale = tallest.height / tallest.count;
      for (const b of all) {
        assert.ok(Math.abs(b.height - b.count * scale) <= 0.06, `one count scale on both sides: ${b.title} drawn ${b.height} px, ${b.count * scale} on the tallest bar's scale`);
      }
    },
  },
];
