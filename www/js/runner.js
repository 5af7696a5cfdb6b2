// Runs a scenario to the end in the simulation worker (sim-worker.js) and
// builds its timeline model from the trace in columns (typed arrays: no
// object per event) while the worker is still simulating: the run shows
// about when the slower of the two is done, not after both.
//
// The page builds in slices of a few tens of milliseconds and gets a turn in
// between, so it stays responsive; a run that a newer one superseded is
// stopped and freed in the worker.

import { TraceModel } from './trace-model.js';
import { startRun } from './sim-client.js';

/** Events added to the timeline's model between clock checks. */
const CHUNK = 25_000;
/** Wall time a slice of building may take before the page gets a turn. */
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
 * @param {object} wasm the loaded twine_web module to run it in (registered with sim-client.js)
 * @param {string} json the scenario
 * @param {number} seed
 * @param {{variant?: string, schedule?: string, play?: boolean, onProgress?: (p: {phase: string, events: number, nowMs: number}) => void, cancelled?: () => boolean}} [opts]
 *   `variant`: the one a Python program's `twine.variant(...)` returns (its first by default);
 *   `schedule`: follow this explored schedule instead of the seed;
 *   `play`: playing the scheduler, stop at the choice after `schedule` (the run then ends unfinished)
 * @returns {Promise<{remote, metrics, model, pythonError?: string, playState?: object, durationMs: number, millis: number} | null>}
 *   `remote` is the run in the worker (whole events, stacks, exports; free
 *   it when done with it); null when `cancelled()` said so. Rejects with the
 *   simulation's ScenarioError for a bad scenario.
 */
export async function runToEnd(wasm, json, seed, { variant, schedule, play, onProgress, cancelled = () => false } = {}) {
  const started = performance.now();
  const model = new TraceModel();
  const slices = [];
  let outcome = null; // {done} or {failed}
  let wake = null;
  const { run: remote, done } = startRun(wasm, { json, seed, variant, schedule, play }, (slice) => {
    slices.push(slice);
    wake?.();
  });
  done.then(
    (d) => {
      outcome = { done: d };
      wake?.();
    },
    (e) => {
      outcome = { failed: e };
      wake?.();
    },
  );
  // Typed arrays, not an object per event: whole events are fetched from
  // the worker by index when the log or a tooltip shows them.
  model.streamColumns((from, max) => remote.events(from, max));
  let sliceStart = performance.now();
  let lastProgress = 0;
  for (;;) {
    while (slices.length > 0) {
      const slice = slices.shift();
      model.appendColumns(slice.cols);
      if (performance.now() - lastProgress > SLICE_MS) {
        lastProgress = performance.now();
        onProgress?.({ phase: 'simulating', events: slice.events, nowMs: slice.nowMs });
      }
      while (model.addColumns(CHUNK) > 0) {
        if (performance.now() - sliceStart < SLICE_MS) continue;
        await yieldToPage();
        sliceStart = performance.now();
        if (cancelled()) {
          remote.free();
          return null;
        }
      }
    }
    if (outcome?.failed) throw outcome.failed;
    if (outcome?.done) break;
    await new Promise((resolve) => {
      wake = resolve;
    });
    wake = null;
    sliceStart = performance.now();
    if (cancelled()) {
      remote.free();
      return null;
    }
  }
  const { metrics, pythonError, playState } = outcome.done;
  model.ensureCores(metrics.cores.length);
  model.finish(metrics.time_ms);
  return {
    remote,
    metrics,
    model,
    pythonError,
    playState,
    durationMs: Math.max(model.endMs, metrics.time_ms),
    millis: performance.now() - started,
  };
}
