// A benchmark, not a test: simulated Python operations per second, in
// Chromium (the full wasm module, www/pkg/py, the one the page loads for an
// edited program) against the native build (twine-sim --bench-ops), in
// interleaved rounds so both see the same machine load.
//
//   node python-ops.mjs [ROUNDS] [FILE.py]    after building www/pkg and
//                                             target/release/twine-sim
//
// Each round runs the program once natively and once in the page, each
// timed from `new Simulation` (compiling the program) to the end of `run()`.
// The operations are the interpreter's instructions, counted by the native
// run (the count is the program's, the same in both builds). Prints each
// side's median and the ratio wasm / native.
//
// Environment: TWINE_ROOT, TWINE_SIM_BIN (default target/release/twine-sim),
// CHROMIUM (default /usr/bin/chromium).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(process.env.TWINE_ROOT || path.join(here, '..'));
const rounds = Number(process.argv[2] || 7);
const file = path.resolve(process.argv[3] || path.join(here, 'python-ops.py'));
const sim = process.env.TWINE_SIM_BIN || path.join(root, 'target', 'release', 'twine-sim');
const www = path.join(root, 'www');
const source = fs.readFileSync(file, 'utf8');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
try {
  const page = await browser.newPage();
  // The files straight from www/, under an origin of their own.
  await page.route('http://bench.twine/**', (route) => {
    const rel = new URL(route.request().url()).pathname;
    if (rel === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' });
    const f = path.join(www, rel);
    if (!f.startsWith(www) || !fs.existsSync(f)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ contentType: types[path.extname(f)] || 'application/octet-stream', body: fs.readFileSync(f) });
  });
  await page.goto('http://bench.twine/');
  await page.evaluate(async () => {
    const m = await import('/pkg/py/twine_web.js');
    await m.default();
    window.twine = m;
  });
  const wasmRun = () =>
    page.evaluate((text) => {
      const t = performance.now();
      const s = new window.twine.Simulation(text, 1);
      s.run();
      const ms = performance.now() - t;
      const error = s.pythonError;
      s.free();
      if (error) throw new Error(error);
      return ms;
    }, source);
  const nativeRun = () => JSON.parse(execFileSync(sim, [file, '--seed', '1', '--bench-ops', '1'], { encoding: 'utf8' }));

  // One of each to warm up (page JIT, file cache), not counted.
  const { instructions } = nativeRun();
  await wasmRun();
  const native = [];
  const wasm = [];
  for (let i = 0; i < rounds; i++) {
    native.push(nativeRun().ms[0]);
    wasm.push(await wasmRun());
  }
  const n = median(native);
  const w = median(wasm);
  const mops = (ms) => (instructions / (ms / 1e3) / 1e6).toFixed(2);
  console.log(`${path.basename(file)}: ${instructions} Python operations, ${rounds} interleaved rounds`);
  console.log(`native   median ${n.toFixed(1).padStart(8)} ms  ${mops(n).padStart(6)} M ops/s   (${native.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`wasm     median ${w.toFixed(1).padStart(8)} ms  ${mops(w).padStart(6)} M ops/s   (${wasm.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`wasm / native speed: ${(n / w).toFixed(2)}`);
} finally {
  await browser.close();
}
