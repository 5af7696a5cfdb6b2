// What the benchmark scripts (weight, echo-rtt, playback-speed) share: a
// real `twine serve` on a free port for a www folder, and headless
// Chromium. The test runner (run.mjs) has its own, stricter start-up (time
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
