// A benchmark, not a test: how fast the built light module (www/pkg, the one
// the page runs first) simulates the precompiled presets, in node's wasm
// engine, the same V8 as Chromium. This is what an opt-level or wasm-opt
// change to the module costs in speed (a native build says nothing about it).
//
//   node wasm-speed.mjs [REPEATS] [PRESET...]    after building www/pkg
//
// Per preset: the median wall time of REPEATS runs of `new Simulation(text,
// 1).run()` (after one warm-up run), and the events simulated.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { attachColdHalf } from '../www/js/cold-half.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(process.env.TWINE_ROOT || path.join(here, '..'), 'www', 'pkg');
const repeats = Number(process.argv[2] || 5);
const names = process.argv.slice(3);

const wasm = await import(pathToFileURL(path.join(pkg, 'twine_web.js')).href);
// The light module's functions no preset run calls are in its cold half
// (www/js/cold-half.js), linked here on first call as in the page.
attachColdHalf(wasm.initSync({ module: fs.readFileSync(path.join(pkg, 'twine_web_bg.wasm')) }), path.join(pkg, 'twine_web_cold.wasm'), fs.readFileSync);
wasm.addCompiled(fs.readFileSync(path.join(pkg, 'presets.compiled.bin')));
for (const p of wasm.programs()) wasm.addCompiled(fs.readFileSync(path.join(pkg, 'presets', `${p.name}.bin`)));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let total = 0;
for (const p of wasm.programs()) {
  if (names.length && !names.includes(p.name)) continue;
  const text = wasm.presetProgram(p.name);
  const once = () => {
    const sim = new wasm.Simulation(text, 1);
    const t = performance.now();
    sim.run();
    const ms = performance.now() - t;
    const events = sim.eventCount;
    sim.free();
    return { ms, events };
  };
  const { events } = once();
  const ms = median(Array.from({ length: repeats }, () => once().ms));
  total += ms;
  console.log(`${p.name.padEnd(22)} ${String(events).padStart(8)} events  ${ms.toFixed(2).padStart(8)} ms`);
}
console.log(`sum of medians: ${total.toFixed(2)} ms (${repeats} runs each)`);
