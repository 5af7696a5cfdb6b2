// The page from 800 px wide: every control within the window's width, no
// horizontal scrolling, the log and metrics there after a run.

import assert from 'node:assert/strict';
import path from 'node:path';
import { open, cursorCount } from './tests.mjs';

const WIDTH = 800;

/** The controls a person uses, by what they are called on the page. */
const CONTROLS = {
  Run: '[data-testid=run]',
  Step: '[data-testid=step]',
  'seek bar': '[data-testid=seek]',
  'experiment and variant picker': '[data-testid=preset-picker]',
  Compare: 'button[data-view=compare]',
  Explore: '[data-testid=explore]',
  Scheduler: '[data-testid=play-scheduler]',
  'event log': '[data-testid=event-log]',
  metrics: '[data-testid=metrics]',
  editor: '#editor',
};

/** Whether what is at the middle of `sel` (scrolled into view) is that element, not something laid over it. */
const onTop = (page, sel) =>
  page.$eval(sel, (el) => {
    const r = el.getBoundingClientRect();
    // A point in the part of it the window shows (a tall editor may start above it).
    const top = Math.max(r.top, 0);
    const bottom = Math.min(r.bottom, window.innerHeight);
    const hit = document.elementFromPoint(r.left + r.width / 2, top + Math.min((bottom - top) / 2, 12));
    return !!hit && (el === hit || el.contains(hit));
  });

/** Whether the page scrolls sideways (something wider than the window). */
const scrollsSideways = (page) => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

export const tests = [
  {
    name: 'narrow: at 800×600 every control is on the page within its width, and the log and metrics show after a run',
    async fn({ page, url, env }) {
      await page.setViewportSize({ width: WIDTH, height: 600 });
      await open(page, url, '#preset=echo-blocking/blocking');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      for (const [what, sel] of Object.entries(CONTROLS)) {
        const el = page.locator(sel);
        await el.scrollIntoViewIfNeeded();
        assert.ok(await el.isVisible(), `${what} is visible`);
        const box = await el.boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= WIDTH, `${what} is within the ${WIDTH} px width (x ${box.x} to ${box.x + box.width})`);
        assert.ok(box.width >= 16 && box.height >= 16, `${what} has room (${box.width}×${box.height})`);
        assert.ok(await onTop(page, sel), `nothing covers the ${what}`);
      }
      assert.equal(await scrollsSideways(page), false, 'no horizontal page scroll');
      // The log lists the run's events and the metrics show its figures.
      await page.locator('[data-testid=event-log]').scrollIntoViewIfNeeded();
      assert.ok(await page.locator('[data-testid=event-log] .log-row').first().isVisible(), 'log rows are shown');
      const rowInView = await page.$eval('[data-testid=event-log] .log-view', (view) => {
        const r = view.getBoundingClientRect();
        return !!document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest('.log-row');
      });
      assert.ok(rowInView, 'the middle of the log shows an event, not something laid over it');
      await page.locator('[data-testid=metrics]').scrollIntoViewIfNeeded();
      const card = page.locator('[data-testid=metrics] .km').first();
      assert.ok(await card.isVisible(), 'the metrics show the key figure');
      const cardBox = await card.boundingBox();
      assert.ok(cardBox.x + cardBox.width <= WIDTH);
      assert.ok(await onTop(page, '[data-testid=metrics] .km'), 'nothing covers the metrics');

      // Seeking and stepping work from the narrow page.
      const seek = page.locator('[data-testid=seek]');
      await seek.scrollIntoViewIfNeeded();
      await seek.focus();
      await page.keyboard.press('Home');
      await page.waitForFunction(() => !document.querySelector('[data-testid=step]').disabled);
      const before = await cursorCount(page);
      await page.click('[data-testid=step]');
      assert.ok((await cursorCount(page)) > before);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(env.screenshots, 'narrow-800.png'), fullPage: true });

      // Compare and the live view fit too.
      await page.click('button[data-view=compare]');
      await page.waitForFunction(() => document.querySelector('#view-compare').dataset.state === 'ready');
      for (const sel of ['#cmp-a', '#cmp-b', '#cmp-run', '.cmp-col[data-side="B"] canvas', '.cmp-table']) {
        const box = await page.locator(sel).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= WIDTH, `${sel} within the width`);
      }
      assert.equal(await scrollsSideways(page), false, 'compare: no horizontal page scroll');
      await page.screenshot({ path: path.join(env.screenshots, 'narrow-800-compare.png'), fullPage: true });
      await page.click('button[data-view=live]');
      for (const sel of ['[data-testid=live-connect]', '[data-testid=echo-input]', '#live-timeline', '#chat-input']) {
        const box = await page.locator(sel).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= WIDTH, `${sel} within the width`);
      }
      assert.equal(await scrollsSideways(page), false, 'live: no horizontal page scroll');
    },
  },
];
