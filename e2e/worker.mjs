// The simulation runs in a Web Worker: the page answers its user while a
// long run goes on, and what the run shows is still right.

import assert from 'node:assert/strict';
import { open, typeScenario } from './tests.mjs';

/** Iterations of the long program's loop: a few seconds of interpreting, few trace events. */
const LOOPS = 3_000_000;

/** A Python program that computes for seconds and prints what it got. */
const LONG = `"""A long loop: seconds of work, and a sum to check."""

total = 0
for i in range(${LOOPS}):
    total += i
print(total)
`;

/** Answers input while the run goes on: the input's delay (its handler's time minus the event's timestamp). */
function probeInput() {
  window.probe = { delays: [], running: [] };
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Shift') return;
    window.probe.delays.push(performance.now() - ev.timeStamp);
    window.probe.running.push(document.body.dataset.state === 'running');
  });
}

/** Counts the cursor moves the page sends its simulation worker. */
function countCursorMoves() {
  window.cursorMovesSent = [];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, ...rest) {
    if (message?.op === 'cursor') window.cursorMovesSent.push(message.move);
    return post.call(this, message, ...rest);
  };
}

/** Presses a key every 50 ms until `done()`; the presses' delays while `busy()` held. */
async function pressWhile(page, busy) {
  const delays = [];
  const started = Date.now();
  for (;;) {
    const before = await page.evaluate(() => window.probe.delays.length);
    const wasBusy = await page.evaluate(busy);
    if (!wasBusy) break;
    await page.keyboard.press('Shift');
    await page.waitForTimeout(50);
    const after = await page.evaluate(() => window.probe.delays.slice(0));
    if (after.length > before) delays.push(after[after.length - 1]);
    assert.ok(Date.now() - started < 100_000, 'the cursor did not get there in 100 s');
  }
  return delays;
}

export const tests = [
  {
    name: "the simulation runs off the page's thread: input is answered within 100 ms while a long run goes on, and its result is right",
    timeoutMs: 120_000,
    async fn({ page, url }) {
      await open(page, url, '#program=counter-race');
      await typeScenario(page, LONG);
      await page.evaluate(probeInput);
      const before = await page.evaluate(() => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0));
      const started = Date.now();
      await page.click('[data-testid=run]');
      // Press a key every 50 ms, as a person typing would, until the run is shown.
      const shown = () => page.evaluate((b) => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0) > b, before);
      while (!(await shown())) {
        await page.keyboard.press('Shift');
        await page.waitForTimeout(50);
        assert.ok(Date.now() - started < 100_000, 'the run did not end in 100 s');
      }
      const took = Date.now() - started;
      const { delays, running } = await page.evaluate(() => window.probe);
      const during = delays.filter((_, i) => running[i]);
      console.log(`        (run shown after ${took} ms; ${during.length} key presses meanwhile, slowest answered after ${Math.max(...during).toFixed(0)} ms)`);
      assert.ok(during.length >= 10, `only ${during.length} key presses while it ran: the run should take seconds`);
      // A simulation on the page's thread holds every key press for seconds; off it, nearly all are
      // answered at once (on a machine shared with builds, a rare one waits for a collection or the
      // page's own module load: one in ten may take longer than 100 ms, none longer than 500 ms).
      const slow = during.filter((d) => d > 100).length;
      const detail = `delays: ${during.map((d) => d.toFixed(0)).join(', ')}`;
      assert.ok(slow <= during.length / 10, `${slow} of ${during.length} key presses waited over 100 ms for the page (${detail})`);
      assert.ok(Math.max(...during) < 500, `a key press waited ${Math.max(...during).toFixed(0)} ms for the page (${detail})`);
      // What the run printed is the sum it computed.
      const printed = await page.evaluate(() => window.twine.run.metrics.output.map((o) => o.text));
      assert.deepEqual(printed, [String((LOOPS * (LOOPS - 1)) / 2)]);
    },
  },
  {
    name: "the playhead's cursor is in the worker: seeking a long run leaves the page answering, and a drag's stale seeks are dropped",
    timeoutMs: 150_000,
    async fn({ page, url }) {
      await page.addInitScript(countCursorMoves);
      await open(page, url, '#program=counter-race');
      await typeScenario(page, LONG);
      await page.evaluate(probeInput);
      const before = await page.evaluate(() => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0));
      await page.click('[data-testid=run]');
      await page.waitForFunction((b) => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0) > b, before, { timeout: 100_000 });
      // Home pauses at the start, where a fresh cursor needs no simulating.
      await page.evaluate(() => document.activeElement?.blur()); // keys typed into the editor are text
      await page.keyboard.press('Home');
      await page.evaluate(() => window.twine.cursorIdle());
      const end = await page.evaluate(() => window.twine.run.durationMs);
      await page.evaluate(() => {
        window.cursorMovesSent.length = 0;
      });
      // End: the cursor simulates the whole loop (seconds); then a drag back
      // over the seek bar, 60 positions, ending at the middle.
      await page.keyboard.press('End');
      const middle = await page.evaluate((endMs) => {
        const seek = document.querySelector('[data-testid=seek]');
        let t = 0;
        for (let i = 1; i <= 60; i++) {
          t = endMs * (1 - i / 120);
          seek.value = String(t);
          seek.dispatchEvent(new Event('input', { bubbles: true }));
        }
        window.cursorSettled = false;
        window.twine.cursorIdle().then(() => {
          window.cursorSettled = true;
        });
        return Number(seek.value);
      }, end);
      const delays = await pressWhile(page, () => !window.cursorSettled);
      console.log(`        (${delays.length} key presses while the cursor moved, slowest answered after ${Math.max(0, ...delays).toFixed(0)} ms)`);
      assert.ok(delays.length >= 5, `only ${delays.length} key presses while the cursor moved: a seek over the loop should take seconds`);
      const slow = delays.filter((d) => d > 100).length;
      const detail = `delays: ${delays.map((d) => d.toFixed(0)).join(', ')}`;
      assert.ok(slow <= delays.length / 10, `${slow} of ${delays.length} key presses waited over 100 ms for the page (${detail})`);
      assert.ok(Math.max(...delays) < 500, `a key press waited ${Math.max(...delays).toFixed(0)} ms for the page (${detail})`);
      // Latest wins: the worker got End, perhaps the drag's first seek, and its last, not all 61.
      const sent = await page.evaluate(() => window.cursorMovesSent);
      assert.ok(sent.length <= 3, `the worker was sent ${sent.length} cursor moves for 61 asked: ${JSON.stringify(sent)}`);
      assert.deepEqual(sent.at(-1), { to: 'seek', t: middle, endMs: sent.at(-1).endMs }, 'the last one sent is where the drag ended');
      // And the queues panel shows that place.
      const shown = await page.$eval('[data-testid=queues] [data-q-time]', (e) => Number(e.dataset.qTime));
      assert.ok(Math.abs(shown - middle) < 1e-6, `the queues panel shows t = ${shown}, the drag ended at ${middle}`);
    },
  },
];
