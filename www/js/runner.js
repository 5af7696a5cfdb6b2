// Runs a scenario to the end in the wasm simulation and builds its timeline
// model from the trace in columns (typed arrays: no object per event).
//
// The work is done in slices of a few tens of milliseconds with the page
// given a turn in between, so a scenario of millions of events shows its
// progress and leaves the page responsive instead of freezing it; a run
// that a newer one superseded stops at the next slice.

import { TraceModel } from './trace-model.js';
import { newSimulation } from './explore.js';

/** Events added to the timeline's model between clock checks. */
const CHUNK = 100_000;
/** Events simulated per call into wasm between clock checks. */
const STEP = 4_096;
/** Wall time a slice may take before the page gets a turn. */
const SLICE_MS = 50;

/**
 * Lets the page handle input and paint. A zero-delay timeout alone lets
 * input in but not always a frame, so the progress would not show; a
 * hidden tab gets no frames at all, hence the timeout beside it.
 */
const yieldToPage = () =>
  new Promise((resolve) => {
    const fallback = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(fallback);
      setTimeout(resolve, 0);
    });
  });

/**
 * @param {object} wasm the loaded twine_web module
 * @param {string} json the scenario
 * @param {number} seed
 * @param {{variant?: string, schedule?: string, onProgress?: (p: {phase: string, events: number, nowMs: number}) => void, cancelled?: () => boolean}} [opts]
 *   `variant`: the one a Python program's `twine.variant(...)` returns (its first by default);
 *   `schedule`: follow this explored schedule instead of the seed;
 *   `play`: playing the scheduler, stop at the choice after `schedule` (the run then ends unfinished)
 * @returns {Promise<{sim, metrics, model, durationMs: number, millis: number} | null>}
 *   null when `cancelled()` said so between slices. Rejects with the
 *   simulation's ScenarioError for a bad scenario.
 */
export async function runToEnd(wasm, json, seed, { variant, schedule, play, onProgress, cancelled = () => false } = {}) {
  const started = performance.now();
  const sim = newSimulation(wasm, json, seed, variant, schedule, play);
  let sliceStart = performance.now();
  // True when the caller wants the run stopped: then the simulation is freed.
  const breathe = async (phase) => {
    if (performance.now() - sliceStart < SLICE_MS) return false;
    onProgress?.({ phase, events: sim.eventCount, nowMs: sim.nowMs });
    await yieldToPage();
    sliceStart = performance.now();
    if (!cancelled()) return false;
    sim.free();
    return true;
  };
  while (!sim.finished) {
    if (sim.step(STEP) === 0 && !sim.finished) break;
    if (await breathe('simulating')) return null;
  }
  const metrics = sim.metrics();
  const model = new TraceModel();
  model.ensureCores(metrics.cores.length);
  // Typed arrays, not an object per event: whole events are fetched by
  // index when the log or a tooltip shows them.
  model.useColumns(sim.eventColumns(), (from, max) => sim.events(from, max));
  while (model.addColumns(CHUNK) > 0) {
    if (await breathe('drawing')) return null;
  }
  model.finish(metrics.time_ms);
  return { sim, metrics, model, durationMs: Math.max(model.endMs, metrics.time_ms), millis: performance.now() - started };
}
