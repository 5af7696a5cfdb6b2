// The light module's profile, for splitting it (xtask/src/split.rs): runs
// what the page asks of the light module to boot and to run a preset (every
// compiled preset, in every variant, a few seeds, stepped as the worker
// steps it) in node's V8, the page's engine. What shows a finished run (its
// metrics; the views' events, stacks, queues, seeking) is left to the cold
// half, which the page fetches once Run is possible, as it fetches the
// run's views (main.js). Run with
//
//   node --wasm-lazy-compilation --trace-wasm-compilation-times profile-light.mjs PKG
//
// V8 then compiles each wasm function on its first call and prints one
// line per compilation ("Compiled function 0x...#INDEX using ..."): the
// functions named there are the ones called. xtask reads them off stdout.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = process.argv[2];
const wasm = await import(pathToFileURL(path.join(pkg, 'twine_web.js')).href);
wasm.initSync({ module: fs.readFileSync(path.join(pkg, 'twine_web_bg.wasm')) });
// The page's boot (main.js): the compiled files, the lists it shows.
wasm.addCompiled(fs.readFileSync(path.join(pkg, 'presets.compiled.bin')));
wasm.presets();
for (const p of wasm.programs()) wasm.addCompiled(fs.readFileSync(path.join(pkg, 'presets', `${p.name}.bin`)));
wasm.programs();
let runs = 0;
for (const p of wasm.programs()) {
  const text = wasm.presetProgram(p.name);
  wasm.isPrecompiled(text);
  wasm.checkScenario(text, undefined);
  const variants = [undefined, ...wasm.programVariants(text).map((v) => v.name)];
  for (const variant of variants) {
    wasm.checkScenario(text, variant);
    for (const seed of [1, 2, 3]) {
      // A run as the worker makes it (sim-worker.js): slices of steps,
      // each slice's columns taken.
      const sim = new wasm.Simulation(text, seed, variant);
      while (!sim.finished) {
        sim.step(4096);
        sim.takeColumns();
      }
      void [sim.nowMs, sim.eventCount];
      sim.free();
      runs += 1;
    }
  }
}
console.error(`profiled ${runs} runs of ${wasm.programs().length} presets`);
