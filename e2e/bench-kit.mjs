// What the benchmark scripts (weight, echo-rtt, playback-speed and -profile)
// share: a real `twine serve` on a free port for a www folder, headless
// Chromium, and the runs played back. The test runner (run.mjs) has its own, stricter start-up (time
// limit, stderr kept for failures).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The checkout (TWINE_ROOT overrides). */
export const root = path.resolve(process.env.TWINE_ROOT || path.join(here, '..'));
/** The `twine` binary (TWINE_BIN overrides; as run.mjs). */
export const twine = process.env.TWINE_BIN || path.join(root, 'target', 'debug', 'twine');

const servers = [];
process.on('exit', () => servers.forEach((s) => s.kill('SIGTERM')));

/** Starts `twine serve` for `www` (no line echo) and resolves to its http URL; killed when this process exits. */
export function serve(www = path.join(root, 'www')) {
  const server = spawn(twine, ['serve', '--http', '127.0.0.1:0', '--tcp', 'off', '--www', www, '--log', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /http gateway listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('exit', (c) => reject(new Error(`twine serve exited (${c}): ${out}`)));
  });
}

/** Headless Chromium (CHROMIUM overrides the Debian path). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}

/**
 * The runs the playback benchmarks play back: `largest preset`, the biggest
 * shipped program (counter-race, no GIL with a lock: about 22 000 events),
 * and `1.5M events`, a JSON scenario of 60 000 requests typed into the editor.
 */
export const PLAYBACK_CASES = [
  { name: 'largest preset', hash: '#program=counter-race/nogil-locked' },
  {
    name: '1.5M events',
    hash: '#preset=echo-blocking/deferred',
    text: JSON.stringify({
      duration_ms: 121000,
      machine: { cores: 4 },
      pool: { threads: 10 },
      server: { handler: [{ cpu: 0.2 }, { defer_to_thread: [{ io: 5 }] }, 'respond'] },
      clients: { open: { rate_per_s: 500, arrival: 'poisson', requests: 60000, connections: 50 } },
    }),
  },
];

/** Opens the page at `url` on case `c` (PLAYBACK_CASES), once it can run and has its code editor. */
export async function openCase(page, url, c) {
  await page.goto(`${url}/${c.hash}`);
  await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state) && document.body.dataset.editor, null, { timeout: 60_000 });
  if (!c.text) return;
  await page.evaluate((text) => {
    const { code, text: plain } = window.twine.ui.editor;
    if (code) code.view.dispatch({ changes: { from: 0, to: code.view.state.doc.length, insert: text } });
    else {
      plain.value = text;
      plain.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }, c.text);
}

/** Presses Play and resolves to the frames painted while it plays for `playMs` (then pauses). */
export function playFrames(page, playMs) {
  return page.evaluate(
    (ms) =>
      new Promise((resolve) => {
        const play = document.querySelector('#play');
        if (play.getAttribute('aria-pressed') !== 'true') play.click();
        let frames = 0;
        const t0 = performance.now();
        const frame = (now) => {
          frames += 1;
          if (now - t0 < ms && play.getAttribute('aria-pressed') === 'true') requestAnimationFrame(frame);
          else {
            if (play.getAttribute('aria-pressed') === 'true') play.click();
            resolve({ frames, ms: now - t0 });
          }
        };
        requestAnimationFrame(frame);
      }),
    playMs,
  );
}
