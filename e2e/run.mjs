// The playground's end-to-end tests: a real `twine serve`, a real headless
// Chromium (Debian's, driven by playwright-core), the real page.
//
//   cargo xtask test            runs this as its `e2e` step
//   node run.mjs [FILTER]       by hand, after building www/pkg, twine and twine-sim
//
// Environment: TWINE_BIN, TWINE_SIM_BIN, TWINE_ROOT, CHROMIUM (defaults: the
// debug builds in target/, /usr/bin/chromium). Exits non-zero when a test
// fails; always stops the server; gives up after GLOBAL_TIMEOUT_MS.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tests as playground } from './tests.mjs';
import { tests as compare } from './compare.mjs';
import { tests as narrow } from './narrow.mjs';
import { tests as liveEcho } from './live-echo.mjs';
import { tests as liveLanes } from './live-lanes.mjs';
import { tests as onServer } from './onserver.mjs';
import { tests as worker } from './worker.mjs';
import { tests as timelineLod } from './timeline-lod.mjs';
import { tests as sweep } from './sweep.mjs';

const tests = [...playground, ...compare, ...narrow, ...liveEcho, ...liveLanes, ...onServer, ...worker, ...timelineLod, ...sweep];

const GLOBAL_TIMEOUT_MS = 600_000;
const TEST_TIMEOUT_MS = 45_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(process.env.TWINE_ROOT || path.join(here, '..'));
const env = {
  root,
  twine: process.env.TWINE_BIN || path.join(root, 'target', 'debug', 'twine'),
  twineSim: process.env.TWINE_SIM_BIN || path.join(root, 'target', 'debug', 'twine-sim'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  www: path.join(root, 'www'),
  screenshots: path.join(root, 'target', 'e2e-screenshots'),
};

const started = Date.now();
let server = null;
let browser = null;

const serverRunning = () => server && server.exitCode === null && server.signalCode === null;

function stopServer() {
  if (serverRunning()) server.kill('SIGTERM');
}

async function cleanup() {
  try {
    await browser?.close();
  } catch {
    // already gone
  }
  if (serverRunning()) {
    server.kill('SIGTERM');
    const exited = await Promise.race([
      new Promise((r) => server.once('exit', () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!exited) server.kill('SIGKILL');
  }
}

const globalTimer = setTimeout(async () => {
  console.error(`\ne2e: gave up after ${GLOBAL_TIMEOUT_MS / 1000} s`);
  await cleanup();
  process.exit(2);
}, GLOBAL_TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await cleanup();
    process.exit(130);
  });
}
process.on('exit', stopServer);

function need(file, what) {
  if (!fs.existsSync(file)) throw new Error(`${what} is missing: ${file}`);
}

/** Starts `twine serve` on free ports and returns the http URL it prints. */
function startServer() {
  return new Promise((resolve, reject) => {
    server = spawn(env.twine, ['serve', '--http', '127.0.0.1:0', '--tcp', '127.0.0.1:0', '--www', env.www, '--log', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`twine serve printed no http address in 15 s:\n${out}${err}`)), 15_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /http gateway listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.stderr.on('data', (d) => {
      err += d;
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    server.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`twine serve exited (${code ?? signal}):\n${out}${err}`));
    });
    server.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function main() {
  const filter = process.argv[2];
  need(path.join(env.www, 'pkg', 'twine_web.js'), 'The wasm package (built by the wasm-pkg step)');
  need(env.twine, 'twine');
  need(env.twineSim, 'twine-sim');
  need(env.chromium, 'Chromium');
  fs.mkdirSync(env.screenshots, { recursive: true });
  for (const f of fs.readdirSync(env.screenshots)) if (f.startsWith('FAILED-')) fs.rmSync(path.join(env.screenshots, f));

  const url = await startServer();
  console.log(`e2e: twine serve at ${url}`);
  // playwright-core starts Chromium with a fresh temporary profile (user-data-dir).
  browser = await chromium.launch({
    executablePath: env.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });

  const selected = tests.filter((t) => !filter || t.name.includes(filter));
  let failed = 0;
  for (const t of selected) {
    const t0 = Date.now();
    const errors = [];
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    page.on('requestfailed', (r) => {
      if (!r.url().startsWith('blob:')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    let timer;
    try {
      await Promise.race([
        t.fn({ page, url, env, context, errors }),
        new Promise((_, reject) => {
          const ms = t.timeoutMs ?? TEST_TIMEOUT_MS;
          timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms);
        }),
      ]);
      if (errors.length) throw new Error(`the page logged errors:\n  ${errors.join('\n  ')}`);
      console.log(`  ok    ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`  FAIL  ${t.name} (${Date.now() - t0} ms)\n        ${String(e.stack || e).split('\n').join('\n        ')}`);
      await page.screenshot({ path: path.join(env.screenshots, `FAILED-${t.name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
    } finally {
      clearTimeout(timer);
      await page.close().catch(() => {});
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\ne2e: ${selected.length - failed} passed, ${failed} failed in ${secs} s; screenshots in ${env.screenshots}`);
  return failed === 0;
}

let ok = false;
try {
  ok = await main();
} catch (e) {
  console.error(`e2e: ${e.stack || e}`);
}
clearTimeout(globalTimer);
await cleanup();
process.exit(ok ? 0 : 1);
