// A server with several reactors: the live panel draws every reactor at
// once, a lane each, named, with what each of them did.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { open } from './tests.mjs';

/** Starts `twine serve ARGS` on free ports; resolves to [process, its http URL]. */
function serve(env, args) {
  const server = spawn(env.twine, ['serve', '--http', '127.0.0.1:0', '--tcp', 'off', '--www', env.www, '--log', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /http gateway listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`twine serve ${args.join(' ')} exited (${code}): ${out}`)));
  });
  return [server, url];
}

/** Per reactor lane of the live timeline: its title, and the names of the calls on it. */
function reactorLanes() {
  const live = window.twine.ui.live;
  return [...live.model.lanes.values()]
    .filter((lane) => lane.group === 0)
    .sort((a, b) => a.order - b.order)
    .map((lane) => ({
      title: lane.title,
      calls: Array.from({ length: lane.spans.n }, (_, k) => live.model.strings[lane.spans.label[k]]),
    }));
}

export const tests = [
  {
    name: 'live: with two reactors serving clients, the panel draws both reactors at once, a named lane each',
    async fn({ page, env }) {
      const [server, at] = serve(env, ['--reactors', '2']);
      try {
        await open(page, await at, '#view=live');
        await page.evaluate(`window.reactorLanesForTest = ${reactorLanes}`);
        await page.click('[data-testid=live-connect]');
        // The page's echo and chat connections are two WebSockets: the
        // gateway puts them on the two reactors (the least loaded first).
        await page.waitForSelector('[data-testid=echo-input]:not([disabled])');
        await page.waitForSelector('#chat-input:not([disabled])');
        await page.fill('[data-testid=echo-input]', 'to one reactor');
        await page.press('[data-testid=echo-input]', 'Enter');
        await page.fill('#chat-input', 'to the other');
        await page.press('#chat-input', 'Enter');
        await page.waitForFunction(() => {
          const lanes = window.reactorLanesForTest();
          return lanes.length === 2 && lanes.every((l) => l.calls.includes('message_received'));
        }, null, { timeout: 15_000 });
        const lanes = await page.evaluate(() => window.reactorLanesForTest());
        assert.deepEqual(lanes.map((l) => l.title), ['reactor 1', 'reactor 2']);
        // Drawn on the canvas, one above the other, at the same time.
        await page.waitForFunction(() => {
          const layout = window.twine.ui.live.timeline.layout ?? [];
          return layout.filter((row) => row.lane.group === 0).length === 2;
        });
        const drawn = await page.evaluate(() =>
          window.twine.ui.live.timeline.layout.filter((row) => row.lane.group === 0).map((row) => ({ title: row.lane.title, y: row.y, h: row.h })),
        );
        assert.deepEqual(drawn.map((d) => d.title), ['reactor 1', 'reactor 2']);
        assert.ok(drawn[1].y >= drawn[0].y + drawn[0].h, `two lanes, one below the other: ${JSON.stringify(drawn)}`);
        // The log names the reactor each event came from.
        assert.ok(await page.evaluate(() => window.twine.ui.live.model.events.some((e) => e.kind === 'message_received' && e.home !== 0)));
        await page.click('[data-testid=live-connect]'); // disconnect
      } finally {
        server.kill('SIGTERM');
      }
    },
  },
];
