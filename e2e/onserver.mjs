// "Run on this server": the page asks the real `twine serve` it came from to
// run the experiment for real and puts the measurement beside the
// simulation's prediction. run.mjs runs these after tests.mjs's.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

async function open(page, url, hash = '') {
  await page.goto(`${url}/${hash}`);
  await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 15_000 });
  await page.waitForFunction(() => document.body.dataset.editor, null, { timeout: 15_000 });
}

/** `twine-sim ARGS --metrics`, parsed. */
function simMetrics(env, args) {
  const r = spawnSync(env.twineSim, [...args, '--metrics'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`twine-sim ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The comparison table: per metric path, the raw values and the cells as shown. */
function table(page) {
  return page.$$eval('[data-testid=onserver-table] tr[data-metric]', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        r.dataset.metric,
        {
          predicted: r.dataset.predicted === '' ? null : Number(r.dataset.predicted),
          measured: r.dataset.measured === '' ? null : Number(r.dataset.measured),
          cells: [...r.querySelectorAll('td')].map((td) => td.textContent.trim()),
        },
      ]),
    ),
  );
}

const panelState = (page) => page.getAttribute('[data-testid=onserver]', 'data-state');

/**
 * Drops the runner's "request failed ... /api/run net::ERR_ABORTED" for an
 * answer the page read to its end (its panel says `done`): Chromium reports
 * a streamed body read through `getReader()` as aborted when it came in
 * several writes, though the page got every byte and the end
 * (microsoft/playwright#42742, open). Anything else stays an error.
 */
async function forgiveStreamReport(page, errors) {
  assert.equal(await panelState(page), 'done', 'only an answer read to its end');
  const report = (e) => /^request failed: http:\/\/[^ ]+\/api\/run net::ERR_ABORTED$/.test(e);
  errors.splice(0, errors.length, ...errors.filter((e) => !report(e)));
}

async function pickExperiment(page, spec) {
  await page.selectOption('[data-testid=preset-picker]', spec);
  await page.waitForFunction((s) => window.twine.spec === s, spec);
}

export const tests = [
  {
    name: 'run on this server: a short preset runs for real beside its prediction, each figure with its ratio, on one time axis',
    timeoutMs: 60_000,
    async fn({ page, url, env, errors }) {
      await open(page, url);
      const button = page.locator('[data-testid=run-on-server]');
      await button.waitFor({ state: 'visible' });
      await pickExperiment(page, 'pool-saturation/four-threads');
      await button.click();
      await page.waitForFunction(() => ['done', 'error', 'refused'].includes(document.querySelector('[data-testid=onserver]').dataset.state), null, { timeout: 40_000 });
      assert.equal(await panelState(page), 'done', await page.textContent('[data-testid=onserver-status]'));
      await forgiveStreamReport(page, errors);

      const rows = await table(page);
      // The prediction is the simulation of the JSON form the server ran: twine-sim's figures.
      const sim = simMetrics(env, ['pool-saturation/four-threads', '--seed', '1']);
      const finished = rows.time_ms;
      assert.ok(finished, `a "finished at" row: ${JSON.stringify(rows)}`);
      assert.equal(finished.predicted, sim.time_ms);
      // Twelve 100 ms jobs on four real threads: three waves, and a real sleep never ends early.
      assert.ok(finished.measured >= 300, `measured ${finished.measured} ms`);
      const ratio = finished.measured / finished.predicted;
      assert.match(finished.cells[3], /^\d+(\.\d+)?×$/);
      assert.ok(Math.abs(Number(finished.cells[3].replace('×', '')) - ratio) < 0.01 * ratio + 0.001, `${finished.cells[3]} against ${ratio}`);
      for (const [metric, r] of Object.entries(rows)) {
        assert.equal(r.cells.length, 4, metric);
        assert.ok(r.cells[1] !== '' && r.cells[2] !== '', `${metric}: both columns filled (${r.cells})`);
      }
      assert.equal(rows['pool.max_queue'].predicted, 8);
      assert.ok(Number.isInteger(rows['pool.max_queue'].measured), 'the real pool queue measured');
      // Both timelines are drawn, the real one from the server's trace, on one axis.
      assert.ok(Number(await page.getAttribute('[data-onserver=measured]', 'data-events')) > 0);
      const views = await page.evaluate(() => {
        const tls = [...document.querySelectorAll('[data-testid=onserver] canvas')];
        return tls.map((c) => c.getBoundingClientRect().height);
      });
      assert.ok(views.every((h) => h > 100), `both timelines visible: ${views}`);
      // Twelve jobs print when they start and end. At 100 ms a job ends and the next starts at
      // the same instant, so which line comes first is the machine's race: the note says
      // either that the lines match or where they part, naming both.
      assert.match(
        await page.textContent('[data-testid=onserver-output]'),
        /^Printed: the same 24 lines in the same order|^Printed lines part at line \d+: the simulation printed “.+” \(.+\), this server “.+” \(.+\)\.$/,
      );
      await page.locator('[data-testid=onserver]').screenshot({ path: path.join(env.screenshots, 'run-on-this-server.png') });
    },
  },

  {
    name: 'run on this server: the page shows the real run as it goes (progress, events, the timeline growing), then the figures',
    timeoutMs: 60_000,
    async fn({ page, url, env, errors }) {
      await open(page, url);
      const button = page.locator('[data-testid=run-on-server]');
      await button.waitFor({ state: 'visible' });
      // A LoopingCall ticking every 100 ms, for 2.05 s of real time.
      await pickExperiment(page, 'looping-call-drift/idle');
      await button.click();
      const seen = () =>
        page.evaluate(() => {
          const panel = document.querySelector('[data-testid=onserver]');
          return {
            state: panel.dataset.state,
            elapsedMs: Number(panel.dataset.elapsedMs ?? -1),
            received: Number(panel.dataset.eventsReceived ?? -1),
            drawn: Number(document.querySelector('[data-onserver=measured]').dataset.events ?? -1),
            bar: !document.querySelector('[data-testid=onserver-progress]').hidden,
            status: document.querySelector('[data-testid=onserver-status]').textContent,
          };
        });
      // While the run goes: how far it is, and the trace drawn as it arrives.
      await page.waitForFunction(
        () => {
          const panel = document.querySelector('[data-testid=onserver]');
          return panel.dataset.state === 'running' && Number(panel.dataset.eventsReceived) > 0;
        },
        null,
        { timeout: 30_000, polling: 20 },
      );
      const early = await seen();
      assert.equal(early.state, 'running', JSON.stringify(early));
      assert.ok(early.elapsedMs > 0 && early.elapsedMs < 2050, `progress before the end: ${JSON.stringify(early)}`);
      assert.ok(early.bar, 'the progress bar shows');
      assert.equal(early.drawn, early.received, 'the measured timeline holds what arrived');
      assert.match(early.status, /^Running it for real on .+: \d+(\.\d+)? s of real time so far; the prediction ends at 2\.05 s, and the server stops a run at 10 s\. [\d,]+ trace events made, [\d,]+ received\.$/);
      // It moves on while the run goes.
      await page.waitForFunction(
        (before) => {
          const panel = document.querySelector('[data-testid=onserver]');
          return panel.dataset.state === 'running' && Number(panel.dataset.elapsedMs) >= before + 300;
        },
        early.elapsedMs,
        { timeout: 20_000, polling: 20 },
      );
      const later = await seen();
      assert.ok(later.received > early.received, `more events arrived: ${early.received} then ${later.received}`);

      await page.waitForFunction(() => ['done', 'error', 'refused'].includes(document.querySelector('[data-testid=onserver]').dataset.state), null, { timeout: 40_000 });
      const end = await seen();
      assert.equal(end.state, 'done', end.status);
      await forgiveStreamReport(page, errors);
      assert.ok(!end.bar, 'the progress bar goes when the run is over');
      assert.ok(end.drawn >= later.received, `${end.drawn} events drawn`);
      const rows = await table(page);
      const sim = simMetrics(env, ['looping-call-drift/idle', '--seed', '1']);
      assert.equal(rows.time_ms.predicted, sim.time_ms);
      assert.ok(rows.time_ms.measured >= 2050, `measured ${rows.time_ms.measured} ms`);
      assert.match(rows.time_ms.cells[3], /^\d+(\.\d+)?×$/);
      assert.match(await page.textContent('[data-testid=onserver-output]'), /^Printed: the same 16 lines in the same order/);
    },
  },

  {
    name: 'run on this server: an answer that reports an error, or breaks off, mid-run is said plainly',
    async fn({ page, url }) {
      await open(page, url);
      await page.locator('[data-testid=run-on-server]').waitFor({ state: 'visible' });
      await pickExperiment(page, 'pool-saturation/four-threads');
      const answers = [
        [
          { type: 'started', scenario: 'pool-saturation', max_real_time_ms: 10000, max_trace_events: 100000 },
          { type: 'progress', elapsed_ms: 100, events: 0 },
          { type: 'error', field: 'clients', message: 'clients: cannot connect to the server on 127.0.0.1:9: refused' },
        ],
        [
          { type: 'started', scenario: 'pool-saturation', max_real_time_ms: 10000, max_trace_events: 100000 },
          { type: 'progress', elapsed_ms: 100, events: 3 },
        ],
      ];
      let next = 0;
      await page.route('**/api/run', (route) =>
        route.request().method() === 'POST'
          ? route.fulfill({ status: 200, contentType: 'application/x-ndjson', body: answers[next++].map((l) => JSON.stringify(l) + '\n').join('') })
          : route.continue(),
      );
      const finished = () => page.waitForFunction(() => ['done', 'error', 'refused'].includes(document.querySelector('[data-testid=onserver]').dataset.state), null, { timeout: 30_000 });
      await page.click('[data-testid=run-on-server]');
      await finished();
      assert.equal(await panelState(page), 'error');
      assert.equal(await page.textContent('[data-testid=onserver-status]'), 'The server could not run it: clients: cannot connect to the server on 127.0.0.1:9: refused');
      assert.ok(await page.locator('[data-testid=onserver-progress]').isHidden());

      await page.keyboard.press('Escape'); // the panel lies over the button
      await page.click('[data-testid=run-on-server]');
      await finished();
      assert.equal(await panelState(page), 'error');
      assert.match(await page.textContent('[data-testid=onserver-status]'), /^The server ended the answer before the run's metrics/);
    },
  },

  {
    name: 'run on this server: a run too long for the server is refused with the field, and a shorter one offered runs',
    timeoutMs: 60_000,
    async fn({ page, url, errors }) {
      await open(page, url);
      await page.locator('[data-testid=run-on-server]').waitFor({ state: 'visible' });
      await pickExperiment(page, 'echo-blocking/deferred');
      await page.click('[data-testid=run-on-server]');
      await page.waitForFunction(() => document.querySelector('[data-testid=onserver]').dataset.state === 'refused', null, { timeout: 30_000 });
      assert.match(await page.textContent('[data-testid=onserver-status]'), /clients\.open\.requests: 1000 requests at this rate take 25\.0 s of real time, more than 10 s/);
      // The browser reports the 422 (the runner counts it): expected here, and nothing else.
      const expected = errors.filter((e) => /422/.test(e));
      assert.equal(expected.length, 2, errors.join('\n'));
      errors.splice(0, errors.length, ...errors.filter((e) => !expected.includes(e)));

      await page.click('[data-testid=onserver-shorter]');
      await page.waitForFunction(() => ['done', 'error', 'refused'].includes(document.querySelector('[data-testid=onserver]').dataset.state), null, { timeout: 40_000 });
      assert.equal(await panelState(page), 'done', await page.textContent('[data-testid=onserver-status]'));
      await forgiveStreamReport(page, errors);
      assert.match(await page.textContent('[data-testid=onserver-status]'), /Both ran the first 320 requests/);
      const rows = await table(page);
      assert.equal(rows['requests.completed'].predicted, 320);
      assert.equal(rows['requests.completed'].measured, 320, 'every request the real clients sent was answered');
      assert.ok(rows['requests.p99_ms'].measured >= 20, 'each request waits 20 ms of real I/O at least');
    },
  },

  {
    name: 'run on this server: an edited program has no JSON form, and the panel says how to run it for real',
    async fn({ page, url }) {
      await open(page, url);
      await page.locator('[data-testid=run-on-server]').waitFor({ state: 'visible' });
      await page.click('.cm-content');
      await page.keyboard.press('Control+End');
      await page.keyboard.insertText('\n# my own change\n');
      await page.click('[data-testid=run-on-server]');
      await page.waitForFunction(() => document.querySelector('[data-testid=onserver]').dataset.state === 'refused');
      const said = await page.textContent('[data-testid=onserver-status]');
      assert.match(said, /This server runs JSON scenarios/);
      assert.match(said, /python3 experiment\.py --metrics/);
    },
  },
];
