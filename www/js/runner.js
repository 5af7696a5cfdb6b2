// Runs a scenario to the end in the wasm simulation and builds its timeline model.

import { TraceModel } from './trace-model.js';

const CHUNK = 25_000;

/**
 * @returns {{sim, metrics, model, durationMs: number, millis: number}}
 * Throws the simulation's ScenarioError for a bad scenario.
 */
export function runToEnd(wasm, json, seed) {
  const started = performance.now();
  const sim = new wasm.Simulation(json, seed);
  sim.run();
  const metrics = sim.metrics();
  const model = new TraceModel();
  model.ensureCores(metrics.cores.length);
  const n = sim.eventCount;
  for (let at = 0; at < n; at += CHUNK) model.append(sim.events(at, CHUNK));
  model.finish(metrics.time_ms);
  return { sim, metrics, model, durationMs: Math.max(model.endMs, metrics.time_ms), millis: performance.now() - started };
}
