// The live echo says what the network and server took apart from what the
// page added: both figures for each echo, the first never above the sum,
// and a page that is busy when the reply comes back does not make the
// network look slow.

import assert from 'node:assert/strict';
import { open } from './tests.mjs';

export const tests = [
  {
    name: 'live echo: each round trip shows network + server and what the page added, explained in one line',
    async fn({ page, url }) {
      await open(page, url, '#view=live');
      await page.click('[data-testid=live-connect]');
      await page.waitForSelector('[data-testid=echo-input]:not([disabled])');
      assert.match(await page.textContent('[data-testid=echo-explain]'), /network \+ server.*\+ page/s);
      for (const text of ['one', 'two', 'three']) {
        await page.fill('[data-testid=echo-input]', text);
        await page.press('[data-testid=echo-input]', 'Enter');
      }
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=echo-output] li[data-total-ms]').length === 3);
      const trips = await page.$$eval('[data-testid=echo-output] li[data-total-ms]', (lis) =>
        lis.map((li) => ({
          net: Number(li.dataset.rtt),
          page: Number(li.dataset.pageMs),
          total: Number(li.dataset.totalMs),
          shown: li.querySelector('.echo-rtt').textContent,
        })),
      );
      for (const t of trips) {
        assert.ok(t.net > 0 && t.net < 5000, `a network + server time (${t.net} ms)`);
        assert.ok(t.page >= 0, `a page time (${t.page} ms)`);
        assert.ok(t.net <= t.total, `network + server (${t.net} ms) within the total (${t.total} ms)`);
        // Both figures are on the row, as the row says them.
        assert.match(t.shown, /^\s*[\d.]+ (ms|µs)\s+\+ [\d.]+ (ms|µs) page\s*$/, t.shown);
      }
      assert.match(await page.textContent('#echo-summary'), /3\/3 back · network \+ server p50 .* · page adds p50 /);

      // The page's thread busy for a second right after a send: the reply
      // waits for the page, and that second is the page's, not the network's.
      const BUSY_MS = 1000;
      await page.evaluate((busy) => {
        window.twine.ui.live.sendEcho('while the page is busy');
        const t = performance.now();
        while (performance.now() - t < busy) {
          // the page's own work: nothing else runs on its thread meanwhile
        }
      }, BUSY_MS);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=echo-output] li[data-total-ms]').length === 4);
      const busy = await page.$eval('[data-testid=echo-output] li[data-total-ms]', (li) => ({ net: Number(li.dataset.rtt), page: Number(li.dataset.pageMs), text: li.textContent }));
      assert.match(busy.text, /while the page is busy/);
      assert.ok(busy.net < BUSY_MS / 2, `network + server (${busy.net} ms) is not the page's busy second`);
      assert.ok(busy.page >= BUSY_MS - busy.net - 5, `the page's part (${busy.page} ms) holds its busy second`);
      await page.click('[data-testid=live-connect]'); // disconnect
    },
  },
];
