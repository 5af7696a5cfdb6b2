// The tests run.mjs runs, in order. Each gets a fresh page; the runner fails
// a test whose page logged an error, failed a request or got an HTTP error.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// ---------------------------------------------------------------- helpers

/** `twine-sim ARGS --metrics`, parsed. */
export function simMetrics(env, args) {
  const r = spawnSync(env.twineSim, [...args, '--metrics'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`twine-sim ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every `preset` or `preset/variant` twine-sim knows. */
function simPresets(env) {
  const r = spawnSync(env.twineSim, ['--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`twine-sim --list failed: ${r.stderr}`);
  const specs = [];
  let current = null;
  let variants = [];
  const flush = () => {
    if (current) specs.push(...(variants.length ? variants.map((v) => `${current}/${v}`) : [current]));
  };
  for (const line of r.stdout.split('\n')) {
    const variant = /^\s+\/(\S+)/.exec(line);
    if (variant) variants.push(variant[1]);
    else if (/^\S/.test(line)) {
      flush();
      current = line.split(/\s+/)[0];
      variants = [];
    }
  }
  flush();
  return specs;
}

/**
 * The Python presets as twine-sim knows them: `{name, file, variants}`, the
 * variants listed by twine-sim's own error for a variant a program lacks.
 */
function simPrograms(env) {
  const dir = path.join(env.root, 'www', 'presets');
  return fs
    .readdirSync(dir)
    // A page preset is a pair: NAME.py with its JSON form NAME.json. A
    // program without one (client-server.py, connectTCP) is an example for
    // twine-sim and CPython that the page does not list.
    .filter((f) => f.endsWith('.py') && fs.existsSync(path.join(dir, f.replace(/\.py$/, '.json'))))
    .map((f) => {
      const file = path.join(dir, f);
      const r = spawnSync(env.twineSim, [file, '--variant', 'no-such-variant'], { encoding: 'utf8' });
      const listed = /this experiment has: (.*)/.exec(r.stderr);
      return { name: f.replace(/\.py$/, ''), file, variants: listed ? listed[1].trim().split(', ') : [] };
    });
}

/**
 * `twine-sim` on a program's text with `--metrics`, saved as the page names
 * a program it runs (`experiment.py`, which the metrics carry).
 */
function simProgramMetrics(env, text, args) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twine-e2e-'));
  fs.writeFileSync(path.join(dir, 'experiment.py'), text);
  const r = spawnSync(env.twineSim, ['experiment.py', ...args, '--metrics'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`twine-sim experiment.py ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** `a.b[0].c` in an object, as the page's key metrics name them. */
function pick(obj, p) {
  let v = obj;
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) v = v?.[m[2] !== undefined ? Number(m[2]) : m[1]];
  return v;
}

/** The editor's text. */
const editorText = (page) => page.evaluate(() => window.twine.ui.editor.value);

/** Replaces the scenario as a person would: select all in the code editor, type (paste) the text. */
export async function typeScenario(page, text) {
  if ((await page.getAttribute('body', 'data-editor')) !== 'code') {
    await page.fill('.ed-text', text);
    return;
  }
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

/** The line of the code editor's caret. */
const caretLine = (page) =>
  page.evaluate(() => {
    const { view } = window.twine.ui.editor.code;
    return view.state.doc.lineAt(view.state.selection.main.head).number;
  });

/** The lines the code editor underlines as errors. */
const underlinedLines = (page) =>
  page.evaluate(() => {
    const { view } = window.twine.ui.editor.code;
    const lines = [...document.querySelectorAll('.cm-error-range')].map((el) => view.state.doc.lineAt(view.posAtDOM(el)).number);
    return [...new Set(lines)];
  });

export async function open(page, url, hash = '') {
  await page.goto(`${url}/${hash}`);
  await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 15_000 });
  // The code editor arrives just after the page can run; the tests type into it.
  await page.waitForFunction(() => document.body.dataset.editor, null, { timeout: 15_000 });
}

/** Every whole event of the run shown (fetched from the simulation worker). */
const allEvents = (page) =>
  page.evaluate(async () => {
    const { model } = window.twine.run;
    await model.loadRange(0, model.eventCount);
    return Array.from({ length: model.eventCount }, (_, i) => model.event(i));
  });

const runId = (page) => page.evaluate(() => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0));

/** Clicks Run and waits for the new run's metrics. */
async function run(page) {
  // A run already in flight (one a preset pick or a knob started) could end
  // between reading the id and the click, and be taken for this one.
  await page.waitForFunction(() => document.body.dataset.state !== 'running');
  const before = await runId(page);
  await page.click('[data-testid=run]');
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0) > b, before);
  return runId(page);
}

async function keyMetrics(page) {
  return page.$$eval('[data-testid=metrics] .key-metrics .km', (els) =>
    els.map((e) => ({
      path: e.dataset.metric,
      value: JSON.parse(e.dataset.value),
      text: e.querySelector('.km-v').textContent.trim(),
      visible: e.getBoundingClientRect().height > 0,
      primary: e.classList.contains('primary'),
    })),
  );
}

async function seekTo(page, ms) {
  await page.$eval(
    '[data-testid=seek]',
    (el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    ms,
  );
  // The queues and the log follow once the worker's cursor is there.
  await page.evaluate(() => window.twine.cursorIdle());
}

/** How many events the cursor at the playhead shows, once it has followed the last move asked of it. */
export const cursorCount = (page) =>
  page.evaluate(async () => {
    await window.twine.cursorIdle();
    return window.twine.cursor.eventCount;
  });

/** Clicks Step and waits for the worker's cursor to answer: a click before that would overtake the step, whose answer is then dropped (latest wins). */
const clickStep = async (page) => {
  await page.click('#step-btn');
  await page.evaluate(() => window.twine.cursorIdle());
};

/** What the queues panel shows, once the worker's cursor has followed the playhead. */
const queuesPanel = async (page, selector, read) => {
  await page.evaluate(() => window.twine.cursorIdle());
  return page.$eval(`[data-testid=queues] ${selector}`, read);
};
const queuesTime = (page) => queuesPanel(page, '[data-q-time]', (e) => Number(e.dataset.qTime));
const queuesCount = (page, key) => queuesPanel(page, `[data-q="${key}"]`, (e) => Number(e.textContent));

async function setKnob(page, knob, value) {
  const input = `[data-knob="${knob}"] input`;
  await page.fill(input, String(value));
  await page.$eval(input, (el) => el.dispatchEvent(new Event('change', { bubbles: true })));
}

function lineOf(text, needle) {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the scenario`);
  return text.slice(0, at).split('\n').length;
}

// ---------------------------------------------------------------- tests

export const tests = [
  {
    name: 'the first screen explains itself: a preset, its story, a Run button, a legend',
    async fn({ page, url, env }) {
      await open(page, url);
      assert.equal(await page.getAttribute('body', 'data-state'), 'loaded');
      const spec = await page.inputValue('[data-testid=preset-picker]');
      assert.ok(spec.length > 0, 'a preset is selected');
      assert.ok((await page.textContent('#title')).length > 10, 'the preset has a title');
      assert.ok((await page.textContent('#explanation')).length > 200, 'and its one-paragraph explanation');
      assert.ok(await page.isVisible('[data-testid=run]'));
      assert.ok(await page.isVisible('#tl-empty'), 'the empty timeline says to press Run');
      assert.ok((await page.textContent('.legend')).includes('waiting for the GIL'));
      const program = await page.evaluate(() => window.twine.ui.editor.value);
      assert.match(program, /^"""/, 'a Python program is in the editor, its docstring first');
      assert.match(program, /\ntwine\.clients\(/, 'with its clients');
      for (const id of ['preset-picker', 'run', 'step', 'seek', 'timeline', 'metrics', 'event-log', 'queues', 'share-link']) {
        assert.equal(await page.locator(`[data-testid="${id}"]`).count(), 1, `one ${id}`);
      }
      assert.equal(await page.evaluate(() => document.querySelector('[data-testid=timeline]').tagName), 'CANVAS');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at 1280×800 (${overflow}px too wide)`);
      await page.screenshot({ path: path.join(env.screenshots, '00-first-screen.png') });
    },
  },

  {
    name: "the picker lists the Python presets and their variants; each one's key metric shows and equals twine-sim's",
    // Two dozen runs in the page and in a debug twine-sim: about 30 s on an idle machine.
    timeoutMs: 150_000,
    async fn({ page, url, env }) {
      await open(page, url);
      const options = await page.$$eval('[data-testid=preset-picker] option', (os) => os.map((o) => o.value));
      const programs = simPrograms(env);
      const expected = programs.flatMap((p) => (p.variants.length ? p.variants.map((v) => `${p.name}/${v}`) : [p.name]));
      const python = options.filter((o) => !o.startsWith('json:'));
      assert.deepEqual([...python].sort(), [...expected].sort(), 'the picker offers exactly the Python presets and the variants each declares');
      const json = options.filter((o) => o.startsWith('json:')).map((o) => o.slice('json:'.length));
      assert.deepEqual([...json].sort(), [...simPresets(env)].sort(), 'and, apart, the JSON scenarios twine-sim knows');
      for (const spec of python) {
        await page.selectOption('[data-testid=preset-picker]', spec);
        const text = await editorText(page);
        const [name, variant] = spec.split('/');
        assert.equal(text, fs.readFileSync(programs.find((p) => p.name === name).file, 'utf8'), `${spec}: the editor holds the preset's program`);
        const title = text.split('\n')[0].replace(/^"""/, '').trim();
        assert.equal(await page.textContent('#title'), title, `${spec}: its docstring is the title`);
        await run(page);
        await page.keyboard.press('End');
        const seed = Number(await page.inputValue('[data-knob="seed"] input'));
        const native = simProgramMetrics(env, text, [...(variant ? ['--variant', variant] : []), '--seed', String(seed)]);
        const shown = await keyMetrics(page);
        assert.ok(shown.length > 0 && shown[0].primary, `${spec}: a key metric is shown`);
        for (const k of shown) {
          assert.ok(k.visible && k.text && k.text !== '–', `${spec}: ${k.path} is visible with a value`);
          assert.deepEqual(k.value, pick(native, k.path), `${spec}: ${k.path} in the page equals twine-sim --seed ${seed}`);
        }
        const page_metrics = await page.evaluate(() => window.twine.run.metrics);
        assert.deepEqual(page_metrics, native, `${spec}: every metric equals twine-sim's`);
        await page.screenshot({ path: path.join(env.screenshots, `${spec.replace('/', '--')}.png`) });
      }
    },
  },

  {
    name: "a variant changes the program's result: the counter race's lock makes the count exact",
    async fn({ page, url }) {
      await open(page, url);
      const lastLine = () => page.evaluate(() => window.twine.run.metrics.output.at(-1).text);
      await page.selectOption('[data-testid=preset-picker]', 'counter-race/nogil-unlocked');
      const text = await editorText(page);
      await run(page);
      const unlocked = await lastLine();
      assert.match(unlocked, /^hits = \d+ of 10000 \((\d+) lost\)$/);
      assert.notEqual(unlocked, 'hits = 10000 of 10000 (0 lost)', 'without the GIL or a lock, updates are lost');
      assert.ok(await page.isVisible('#variant-title'));
      await page.selectOption('[data-testid=preset-picker]', 'counter-race/nogil-locked');
      assert.equal(await editorText(page), text, 'the same program: the variant is what its twine.variant(...) returns');
      await run(page);
      assert.equal(await lastLine(), 'hits = 10000 of 10000 (0 lost)', 'with the lock, none');
      assert.match(await page.textContent('#variant-title'), /with a lock/);
      // The share link names the program and its variant; it reproduces the run.
      const href = await page.getAttribute('[data-testid=share-link]', 'href');
      assert.match(href, /#program=counter-race\/nogil-locked/);
      // A knob edits a literal in the program's settings; one it does not write as a literal is not offered.
      assert.ok(await page.isVisible('[data-knob="cores"]'));
      assert.ok(!(await page.isVisible('[data-knob="gil"]')), 'gil= is computed from the variant: no knob');
      assert.ok(!(await page.isVisible('[data-knob="pool"]')), 'no pool size in the program: no knob');
      await setKnob(page, 'cores', 1);
      assert.match(await editorText(page), /\ntwine\.machine\(cores=1, gil=VARIANT\.startswith\("gil"\)\)/);
      await run(page);
      assert.deepEqual(await page.evaluate(() => window.twine.run.metrics.cores.length), 1, 'the run has one core');
      assert.equal(await lastLine(), 'hits = 10000 of 10000 (0 lost)', 'still the locked variant');
    },
  },

  {
    name: 'a Run clicked as soon as the page can run waits for the run views and the runner (chunks fetched after boot, held back here) and shows the run',
    async fn({ page, url }) {
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const served = new Set();
      await page.route(/\/pkg\/app-(views|runner|trace-model)-[^/]*\.js$/, async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        served.add(/app-([a-z-]+)-/.exec(route.request().url())[1]);
        await route.continue();
      });
      await page.goto(`${url}/`);
      await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 15_000 });
      assert.ok(served.size === 0 && !(await page.evaluate(() => window.twine.ui.timeline)), 'Run is possible before the views and the runner are');
      await page.click('#run-btn');
      await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 15_000 });
      assert.deepEqual([...served].sort(), ['runner', 'trace-model', 'views'], 'the run waited for them');
      assert.equal(await page.evaluate(() => document.querySelector('#metrics').dataset.run), '1');
      assert.ok(await page.evaluate(() => window.twine.ui.timeline.model), 'the timeline shows the run');
      assert.deepEqual(errors, []);
    },
  },

  {
    name: "the light module's cold half comes after Run is possible; a run that needs it before it arrives fetches it then, in the worker and on the page",
    async fn({ page, url }) {
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      // The page's own fetch of the cold half (started once Run is
      // possible) is held back for the whole test; any later request for it
      // is a moved function's first call fetching it at once.
      const asked = [];
      let release;
      const held = new Promise((resolve) => (release = resolve));
      const cold = /\/pkg\/twine_web_cold\.wasm$/;
      await page.context().route(cold, async (route) => {
        asked.push(route.request().url());
        if (asked.length === 1) await held.then(() => route.abort().catch(() => {}));
        else await route.continue();
      });
      await page.goto(`${url}/`);
      await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 15_000 });
      await page.waitForFunction(() => window.twine?.ui, null, { timeout: 15_000 });
      assert.equal(asked.length <= 1, true, 'Run is possible with the cold half at most asked for, not here');
      // The run's metrics are the cold half's: the worker fetches it when
      // the run ends.
      await page.click('#run-btn');
      await page.waitForFunction(() => document.querySelector('#metrics').dataset.run === '1', null, { timeout: 15_000 });
      assert.ok(asked.length >= 2, `the worker fetched the cold half for the run's metrics (${asked.length} requests)`);
      const workerMetrics = await page.evaluate(() => document.querySelector('#metrics').textContent);
      assert.match(workerMetrics, /\d/, 'the metrics show');
      // The page's own copy of the module: a moved function called there
      // fetches it too, and computes what the unsplit module computes.
      const onPage = await page.evaluate(() => {
        const { wasm, ui } = window.twine;
        const sim = new wasm.Simulation(ui.editor.value, 1);
        sim.run();
        const metrics = sim.metrics();
        const first = sim.events(0, 1)[0];
        const out = { events: metrics.events, simulated: sim.eventCount, first: first?.kind };
        sim.free();
        return out;
      });
      assert.ok(asked.length >= 3, `the page fetched the cold half for its own call (${asked.length} requests)`);
      assert.ok(onPage.events > 100 && onPage.events === onPage.simulated && onPage.first, JSON.stringify(onPage));
      release();
      await page.context().unroute(cold);
      assert.deepEqual(errors, []);
    },
  },

  {
    name: "the light module's cold half is fetched once, after Run is possible, for the page and its worker",
    async fn({ page, url }) {
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const asked = [];
      page.on('request', (r) => /\/pkg\/twine_web_cold\.wasm$/.test(r.url()) && asked.push(r.url()));
      await page.goto(`${url}/`);
      await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 15_000 });
      await page.waitForTimeout(1000);
      await page.click('#run-btn');
      await page.waitForFunction(() => document.querySelector('#metrics').dataset.run === '1', null, { timeout: 15_000 });
      // Stepping reads the queues and stacks at the playhead: the cold half's.
      await page.click('#step-btn');
      await page.waitForTimeout(300);
      assert.equal(asked.length, 1, 'the worker was handed the page\'s compiled copy (no fetch of its own)');
      assert.deepEqual(errors, []);
    },
  },

  {
    name: 'the default program runs before the parser arrives (light module, precompiled presets); an edit loads the parser and runs',
    async fn({ page, url, env }) {
      const fetched = [];
      page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
      const py = () => fetched.filter((p) => p.startsWith('/pkg/py/'));
      await page.goto(`${url}/`);
      await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 15_000 });
      assert.deepEqual(py(), [], 'Run is possible before anything of pkg/py/ is asked for');
      assert.ok(fetched.includes('/pkg/twine_web_bg.wasm') && fetched.includes('/pkg/presets.compiled.bin'), 'the light module and the compiled presets came');
      // The wasm glue and the code editor's bundle aside, the page's code is
      // the one bundle, the simulation worker's own build beside it and the
      // run's views (views.js's chunks, fetched after boot): none of js/
      // itself, nor the chunks of the parts loaded on first use
      // (pkg/app-compare-*, app-live-*...).
      const code = fetched.filter((p) => p.endsWith('.js') && !['/pkg/twine_web.js', '/pkg/editor.js'].includes(p));
      const onFirstUse = /^\/pkg\/app-(compare|live|onserver|explore|sweep|play)-/;
      assert.ok(
        code.includes('/pkg/app.js') && code.every((p) => p.startsWith('/pkg/') && !onFirstUse.test(p)),
        `the page's code came as the bundle and its worker, none of js/ itself (${code.join(', ')})`,
      );
      await page.waitForFunction(() => document.body.dataset.editor, null, { timeout: 15_000 });
      const spec = await page.inputValue('[data-testid=preset-picker]');
      const [name, variant] = spec.split('/');
      assert.ok(variant, `the default program's variants are listed without the parser (${spec})`);
      const text = await editorText(page);
      assert.equal(text, fs.readFileSync(path.join(env.root, 'www', 'presets', `${name}.py`), 'utf8'));
      await run(page);
      assert.deepEqual(py(), [], 'the run needed no parser');
      assert.equal(await page.evaluate(() => window.twine.wasmIsFull), false, 'it ran in the light module');
      const seed = String(await page.evaluate(() => window.twine.run.seed));
      const native = simProgramMetrics(env, text, ['--variant', variant, '--seed', seed]);
      assert.deepEqual(await page.evaluate(() => window.twine.run.metrics), native, "the run is twine-sim's");

      // An edit is a program of its own: the full module compiles it.
      const edited = text.replace(/\ntwine\.machine\(([^)]*)\)\n/, '\ntwine.machine($1)\nprint("edited")\n');
      assert.notEqual(edited, text);
      await typeScenario(page, edited);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      await run(page);
      assert.ok(py().includes('/pkg/py/twine_web_bg.wasm'), 'the full module came for the edit');
      const metrics = await page.evaluate(() => window.twine.run.metrics);
      assert.equal(metrics.output[0].text, 'edited', 'and ran the edited program');
      assert.deepEqual(metrics, simProgramMetrics(env, edited, ['--variant', variant, '--seed', seed]), "as twine-sim runs it");
    },
  },

  {
    name: 'without the compiled presets (the light module has the preset programs only from them) the page starts on the full module and runs them',
    async fn({ page, url, errors }) {
      await page.route('**/pkg/presets.compiled.bin', (r) => r.fulfill({ status: 404, body: 'gone' }));
      await page.goto(`${url}/`);
      await page.waitForFunction(() => ['loaded', 'ready'].includes(document.body.dataset.state), null, { timeout: 30_000 });
      assert.equal(await page.evaluate(() => window.twine.wasmIsFull), true, 'the full module');
      const specs = await page.$$eval('[data-testid=preset-picker] option', (options) => options.map((o) => o.value));
      assert.ok(specs.includes('counter-race/nogil-locked'), `the programs are listed (${specs.join(', ')})`);
      await page.selectOption('[data-testid=preset-picker]', 'counter-race/nogil-locked');
      assert.match(await editorText(page), /^"""Ten threads count/);
      await run(page);
      assert.equal(await page.evaluate(() => window.twine.run.metrics.output.at(-1).text), 'hits = 10000 of 10000 (0 lost)');
      // The missing file was this test's doing (the browser's console line
      // names no file: any other 404 is still reported by its "HTTP 404: URL").
      const others = errors.filter((e) => !e.includes('/pkg/presets.compiled.bin') && !e.includes('status of 404 (Not Found)'));
      errors.splice(0, errors.length, ...others);
    },
  },

  {
    name: "before Run only the opening preset's compiled program comes; one picked before its program arrived waits for it and runs in the light module",
    async fn({ page, url }) {
      // Each compiled program the page asks for, and whether Run was possible then.
      await page.addInitScript(() => {
        const fetch = window.fetch;
        window.__asked = [];
        window.fetch = function (input, init) {
          const name = String(input);
          const state = document.body?.dataset.state;
          if (name.includes('/pkg/presets/')) window.__asked.push({ name: name.replace(/.*\/pkg\/presets\//, ''), beforeRun: !['loaded', 'ready'].includes(state) });
          return fetch.call(this, input, init);
        };
      });
      const asked = () => page.evaluate(() => window.__asked);
      // counter-race's program takes its time.
      let released = false;
      await page.route('**/pkg/presets/counter-race.bin', async (r) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        released = true;
        await r.continue();
      });
      await open(page, url);
      const early = (await asked()).filter((e) => e.beforeRun).map((e) => e.name);
      assert.deepEqual(early, ['echo-blocking.bin'], 'before Run: the default preset only');
      const specs = await page.$$eval('[data-testid=preset-picker] option', (options) => options.map((o) => o.value));
      for (const spec of ['sleeping-threads', 'counter-race/nogil-locked', 'looping-call-drift']) {
        assert.ok(specs.some((s) => s === spec || s.startsWith(`${spec}/`)), `${spec} is listed at boot (${specs.join(', ')})`);
      }
      const group = await page.$eval('[data-testid=preset-picker] option[value="counter-race/nogil-locked"]', (o) => o.parentElement.label);
      assert.match(group, /^Ten threads count/, 'with its title');
      await page.selectOption('[data-testid=preset-picker]', 'counter-race/nogil-locked');
      assert.equal(released, false, 'picked before its program arrived');
      await page.waitForFunction(() => window.twine.ui.editor.value.includes('Ten threads count'));
      assert.ok(released);
      // Its explanation came with its program.
      assert.match(await page.textContent('#explanation'), /^Ten threads each add one to a shared counter 1000 times/);
      await run(page);
      assert.equal(await page.evaluate(() => window.twine.run.metrics.output.at(-1).text), 'hits = 10000 of 10000 (0 lost)');
      assert.equal(await page.evaluate(() => window.twine.wasmIsFull), false, 'it ran in the light module');
      const all = (await asked()).map((e) => e.name);
      assert.equal(new Set(all).size, 8, `every preset's program came after Run was possible (${all.join(', ')})`);
    },
  },

  {
    name: "a link to a preset fetches that preset's compiled program before Run and runs it in the light module",
    async fn({ page, url }) {
      const fetched = [];
      page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
      await open(page, url, '#program=sleeping-threads/no-gil&seed=4');
      assert.ok(fetched.includes('/pkg/presets/sleeping-threads.bin'), fetched.join(', '));
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.equal(await page.inputValue('[data-testid=preset-picker]'), 'sleeping-threads/no-gil');
      assert.equal(await page.evaluate(() => window.twine.run.seed), 4);
      assert.equal(await page.evaluate(() => window.twine.wasmIsFull), false, 'it ran in the light module');
      assert.ok(!fetched.some((p) => p.startsWith('/pkg/py/')), 'no parser needed');
    },
  },

  {
    name: 'an old share link to a JSON preset still loads it, as before',
    async fn({ page, url, env }) {
      await open(page, url, '#preset=gil-cpu-bound/nogil-2-cores&seed=3');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.equal(await page.inputValue('[data-testid=preset-picker]'), 'json:gil-cpu-bound/nogil-2-cores');
      const text = await editorText(page);
      assert.equal(JSON.parse(text).name, 'gil-cpu-bound/nogil-2-cores', 'the JSON scenario is in the editor');
      assert.ok(await page.isVisible('[data-knob="work"]'), 'with the JSON knobs');
      // The light module's list of the JSON presets has titles only; the story comes with the full module.
      assert.match(await page.textContent('#explanation'), /^Four threads each compute for one second/, 'and its explanation');
      const native = simMetrics(env, ['gil-cpu-bound/nogil-2-cores', '--seed', '3']);
      assert.deepEqual(await page.evaluate(() => window.twine.run.metrics), native, 'the run is twine-sim\'s');
      const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname));
      assert.ok(fetched.includes('/pkg/py/twine_web_bg.wasm'), 'a JSON scenario runs in the full module (the light one runs the compiled presets only)');
      assert.match(await page.getAttribute('[data-testid=share-link]', 'href'), /#preset=gil-cpu-bound\/nogil-2-cores&seed=3/);
    },
  },

  {
    name: 'step and seek change the queues panel (pool saturation: 8, then 4, then 0 queued)',
    async fn({ page, url }) {
      await open(page, url, '#preset=pool-saturation/four-threads');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.keyboard.press('Home');
      assert.equal(await queuesTime(page), 0);
      // Seek: the pool's queue as the preset's explanation says.
      for (const [t, queued] of [[50, 8], [150, 4], [250, 0], [50, 8]]) {
        await seekTo(page, t);
        assert.equal(await queuesTime(page), t, `the queues panel shows t = ${t} ms`);
        assert.equal(await queuesCount(page, 'pool'), queued, `${queued} jobs queued at ${t} ms`);
      }
      // Step from the start: the panel follows, one event at a time.
      await page.keyboard.press('Home');
      await page.evaluate(() => window.twine.cursorIdle());
      const seen = [await page.innerHTML('[data-testid=queues]')];
      let changed = 0;
      let lastCursor = await cursorCount(page);
      for (let i = 0; i < 12; i++) {
        await page.click('[data-testid=step]');
        const cursor = await cursorCount(page);
        assert.ok(cursor > lastCursor, 'each step shows at least one more event');
        lastCursor = cursor;
        const selected = await page.$eval('[data-testid=event-log] .log-row.selected', (e) => Number(e.dataset.index));
        assert.equal(selected, cursor - 1, 'the event log highlights the event just reached');
        const html = await page.innerHTML('[data-testid=queues]');
        if (html !== seen[seen.length - 1]) changed++;
        seen.push(html);
      }
      assert.ok(changed >= 3, `stepping changed the queues panel (${changed} of 12 steps)`);
      assert.ok((await queuesCount(page, 'pool')) > 0, 'by now jobs wait in the pool queue');
    },
  },

  {
    name: 'step walks the events of one instant one step at a time, back and forth, and from a clicked row',
    async fn({ page, url }) {
      await open(page, url, '#preset=reactor-ordering');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      const state = () =>
        page.evaluate(async () => {
          await window.twine.cursorIdle();
          return { count: window.twine.cursor.eventCount, t: window.twine.playhead };
        });
      const atZero = (await allEvents(page)).filter((e) => e.t === 0).length;
      assert.ok(atZero >= 5, `this preset has ${atZero} events at time 0`);
      await page.keyboard.press('Home');
      const fresh = await page.evaluate(() => {
        const sim = new window.twine.wasm.Simulation(window.twine.run.json, window.twine.run.seed);
        const n = sim.eventCount;
        sim.free();
        return n;
      });
      assert.deepEqual(await state(), { count: fresh, t: 0 }, 'at the start only what a new simulation shows has happened');
      const counts = [];
      for (let i = 0; i < 4; i++) {
        await page.click('[data-testid=step]');
        counts.push((await state()).count);
      }
      assert.ok(counts[0] > fresh && counts.every((c, i) => i === 0 || c > counts[i - 1]), `counts grow: ${counts}`);
      assert.ok(counts[3] <= atZero, `four steps stay within time 0 (${counts} of ${atZero})`);
      assert.equal((await state()).t, 0);
      // Back: exactly where the previous step was.
      await page.click('#back-btn');
      assert.equal((await state()).count, counts[2]);
      await page.click('#back-btn');
      assert.equal((await state()).count, counts[1]);
      // A clicked row: the step that shows it, and Step goes on from there.
      await page.evaluate(() => { window.twine.ui.log.view.scrollTop = 0; }); // the log draws only the rows in view
      const row = page.locator('[data-testid=event-log] .log-row[data-index="2"]');
      await row.click();
      const picked = await state();
      assert.ok(picked.count >= 3 && picked.count <= counts[3], `row 2 shows at count ${picked.count}`);
      await page.click('[data-testid=step]');
      const next = await state();
      assert.ok(next.count > picked.count && next.t === 0, `Step from the row goes to the next step at time 0 (${next.count})`);

      // The end: Step stays at the last event, says so, and does not start over.
      await page.keyboard.press('End');
      const total = await page.evaluate(() => window.twine.run.model.eventCount);
      for (let i = 0; i < 400 && (await state()).count < total; i++) await page.keyboard.press('ArrowRight');
      const end = await state();
      assert.equal(end.count, total, 'stepping reaches the last event');
      assert.ok(await page.isDisabled('[data-testid=step]'), 'Step is disabled at the end');
      assert.match(await page.getAttribute('[data-testid=step]', 'title'), /end of the run/);
      await page.keyboard.press('ArrowRight');
      assert.deepEqual(await state(), end, 'a Step past the end stays at the end');
      await page.keyboard.press('Home');
      await page.evaluate(() => window.twine.cursorIdle());
      assert.ok(!(await page.isDisabled('[data-testid=step]')), 'Home starts over, and Step works again');
    },
  },

  {
    name: 'a shared URL reproduces the run (an edited program and its variant, seed and playhead)',
    async fn({ page, url, env, context }) {
      await open(page, url);
      await page.selectOption('[data-testid=preset-picker]', 'echo-blocking/deferred');
      await setKnob(page, 'cores', 2);
      await setKnob(page, 'rate', 120);
      await setKnob(page, 'seed', 7);
      const json = await editorText(page);
      assert.match(json, /\ntwine\.machine\(cores=2, gil=True\)/);
      assert.match(json, /\ntwine\.clients\(rate_per_s=120, /);
      await run(page);
      await page.keyboard.press('Home');
      await seekTo(page, 1234.5);
      const metrics = await page.evaluate(() => window.twine.run.metrics);
      await page.waitForFunction(() => document.querySelector('[data-testid=share-link]').href.includes('t=1234.5'));
      const href = await page.getAttribute('[data-testid=share-link]', 'href');
      assert.match(href, /#scenario=z[\w-]+/);
      assert.match(href, /variant=deferred/);
      assert.match(href, /seed=7/);

      const other = await context.newPage();
      const errors = [];
      other.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await other.goto(href);
      await other.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.equal(await editorText(other), json, 'the same scenario text');
      assert.equal(await other.inputValue('[data-knob="seed"] input'), '7');
      assert.deepEqual(await other.evaluate(() => window.twine.run.metrics), metrics, 'the same metrics');
      assert.equal(await queuesTime(other), 1234.5, 'the same playhead');
      assert.deepEqual(await keyMetrics(other), await keyMetrics(page));
      await other.close();
      assert.deepEqual(errors, []);

      // And twine-sim agrees on the edited program, as the same variant.
      assert.deepEqual(simProgramMetrics(env, json, ['--variant', 'deferred', '--seed', '7']), metrics);
    },
  },

  {
    name: 'a shared scenario of its own tells no preset\'s story',
    async fn({ page, url, context }) {
      await open(page, url);
      const json = JSON.stringify({ machine: { cores: 2 }, threads: [{ name: 'solo', steps: [{ cpu: 5 }, { print: 'done' }] }] });
      const hash = await page.evaluate(async (text) => {
        const share = await import('/js/share.js');
        return `#scenario=${await share.encodeScenario(text)}`;
      }, json);
      const other = await context.newPage();
      await open(other, url, hash);
      await other.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.equal(await other.textContent('#title'), 'Your scenario');
      assert.match(await other.textContent('#explanation'), /not one of the presets/);
      assert.equal(JSON.parse(await editorText(other)).threads[0].name, 'solo');
      assert.deepEqual(await other.evaluate(() => window.twine.run.metrics.output.map((o) => o.text)), ['done']);
      await other.close();
    },
  },

  {
    name: 'a Python program typed in the page: its error underlined at its line, fixed, run, its docstring the story',
    async fn({ page, url }) {
      // From a preset program, which needs only the light module.
      await open(page, url, '#program=reactor-ordering');
      await page.waitForFunction(() => document.body.dataset.editor === 'code');
      const program = [
        '"""Two threads say hello',
        '',
        'Each thread prints its own name, then the main thread says done.',
        '"""',
        'import threading',
        '',
        'def hello():',
        '    print(f"hello from {threading.current_thread().name}")',
        '',
        'threads = [threading.Thread(target=hello, name=f"t{i}") for i in range(2)]',
        'for t in threads:',
        '    t.start()',
        'for t in threads:',
        '    t.join()',
        'print("done")',
      ].join('\n');
      const fetched = () => page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname));
      assert.ok((await fetched()).includes('/pkg/twine_web_bg.wasm'), 'the light module loads first');
      assert.ok(!(await fetched()).some((p) => p.startsWith('/pkg/py/')), 'the Python compiler only when a program needs it');
      // A `match` statement, which the subset refuses: the error names the line and says what to write.
      const bad = program.replace('print("done")', 'match len(threads):\n    case 2:\n        print("two")\nprint("done")');
      await typeScenario(page, bad);
      await page.waitForSelector('.ed-error:not([hidden])');
      assert.match(await page.textContent('.ed-error'), /`match` is not supported: use if\/elif\/else/);
      assert.ok((await fetched()).includes('/pkg/py/twine_web_bg.wasm'), 'the full module came for the program');
      assert.deepEqual(await underlinedLines(page), [lineOf(bad, 'match len(threads):')]);
      assert.equal(await page.textContent('#title'), 'Two threads say hello', 'the docstring is the title');
      assert.match(await page.textContent('#explanation'), /prints its own name/);
      assert.ok(!(await page.isVisible('[data-knob="cores"]')), 'the JSON knobs do not apply to a program');
      assert.ok(await page.isVisible('[data-knob="seed"]'));

      await typeScenario(page, program);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      await run(page);
      const printed = await page.evaluate(() => window.twine.run.metrics.output.map((o) => o.text));
      assert.deepEqual([...printed].sort(), ['done', 'hello from t0', 'hello from t1']);
      assert.equal(printed[printed.length - 1], 'done', 'join waits for both threads');

      // An exception nobody catches ends the program; it shows at the line that raised it.
      const raising = program.replace('print("done")', 'print("done")\ntotal = 1 / 0');
      await typeScenario(page, raising);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      await run(page);
      await page.waitForSelector('.ed-error:not([hidden])');
      assert.match(await page.textContent('.ed-error'), /ZeroDivisionError/);
      assert.deepEqual(await underlinedLines(page), [lineOf(raising, 'total = 1 / 0')]);
    },
  },

  {
    name: 'explore finds both outcomes of two read-then-write threads (6 schedules: 4 lose an update, 2 do not), each one click from its replay',
    async fn({ page, url }) {
      await open(page, url);
      const program = [
        'import threading',
        'import twine',
        '',
        'twine.machine(gil=False)',
        'counter = 0',
        '',
        'def work():',
        '    global counter',
        '    seen = counter',
        '    counter = seen + 1',
        '',
        'threads = [threading.Thread(target=work) for _ in range(2)]',
        'for t in threads:',
        '    t.start()',
        'for t in threads:',
        '    t.join()',
        'print(f"counter = {counter}")',
      ].join('\n');
      await typeScenario(page, program);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      await page.click('[data-testid=explore]');
      const summary = await page.waitForSelector('[data-testid=explore-summary]');
      assert.equal(await summary.getAttribute('data-schedules'), '6');
      assert.equal(await summary.getAttribute('data-complete'), 'true');
      assert.match(await summary.textContent(), /6 schedules, 2 distinct outcomes/);
      const outcomes = await page.$$eval('[data-testid=explore-outcome]', (els) =>
        els.map((e) => ({ schedules: Number(e.dataset.schedules), text: e.querySelector('.x-vals').textContent.trim() })),
      );
      assert.deepEqual(outcomes, [
        { schedules: 4, text: 'counter = 1' },
        { schedules: 2, text: 'counter = 2' },
      ]);

      // The outcome the seed's own run does not reach, replayed on the
      // timeline: its run prints what the outcome says.
      await run(page);
      const [seeded] = await page.evaluate(() => window.twine.run.metrics.output.map((o) => o.text));
      const other = outcomes.findIndex((o) => o.text !== seeded);
      const want = outcomes[other].text;
      const before = await runId(page);
      await page.click(`[data-testid=explore-outcome]:nth-child(${other + 1}) [data-testid=explore-replay]`);
      await page.waitForFunction((b) => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0) > b, before);
      const printed = await page.evaluate(() => window.twine.run.metrics.output.map((o) => o.text));
      assert.deepEqual(printed, [want]);
      assert.notEqual(want, seeded);
      assert.match(await page.textContent('#run-info'), /schedule counter\//);
      // Seeking back replays the same schedule, not the seed's run: at each
      // point, walking backwards from the end, the queues panel shows what
      // a simulation of that schedule has there (and the seed's run differs
      // at some of them).
      const end = await page.evaluate(() => window.twine.run.durationMs);
      await seekTo(page, end);
      let differs = 0;
      for (let k = 9; k >= 1; k--) {
        await seekTo(page, (end * k) / 10);
        const { shown, replayed, seededThere } = await page.evaluate((t) => {
          const { wasm, run } = window.twine;
          const at = (sim) => {
            sim.seek(t);
            const q = JSON.stringify(sim.queues());
            sim.free();
            return q;
          };
          return {
            shown: JSON.stringify(window.twine.cursor.queues),
            replayed: at(wasm.Simulation.withSchedule(run.json, run.variant, run.schedule)),
            seededThere: at(new wasm.Simulation(run.json, run.seed, run.variant)),
          };
        }, (end * k) / 10);
        assert.equal(shown, replayed, `the queues at ${k}/10 of the run are the schedule's`);
        if (seededThere !== replayed) differs++;
      }
      assert.ok(differs > 0, "the seed's run has other queues somewhere, so the check can tell them apart");
    },
  },
  {
    name: 'play the scheduler: the lose-an-update challenge played to its goal by clicking threads, undo and redo, the shared link replays the schedule',
    async fn({ page, url, context }) {
      await open(page, url);
      await page.evaluate(() => localStorage.removeItem('twine.challenges'));
      const playing = async (click) => {
        const before = await runId(page);
        await click();
        await page.waitForFunction((b) => Number(document.querySelector('[data-testid=metrics]').dataset.run || 0) > b, before);
      };
      // The scheduler's first run (of the program shown) lands before a challenge is picked.
      await playing(() => page.click('[data-testid=play-scheduler]'));
      await playing(() => page.click('[data-testid=challenge][data-challenge=lost-update]'));
      const program = await editorText(page);
      assert.match(program, /^"""Lose an update with two threads/);
      const options = () =>
        page.$$eval('[data-testid=play-option]', (els) =>
          els.map((e) => ({ name: e.dataset.name, op: e.dataset.op, line: e.closest('li').querySelector('code').textContent })),
        );
      const schedule = () => page.textContent('[data-testid=play-schedule]');
      const pickThread = (name) => playing(() => page.click(`[data-testid=play-option][data-name="${name}"]`));

      // Both threads are about to read the counter.
      const first = [
        { name: 'counter-1', op: 'read hits', line: 'seen = hits' },
        { name: 'counter-2', op: 'read hits', line: 'seen = hits' },
      ];
      assert.deepEqual(await options(), first);
      assert.equal(await schedule(), 'hits/');
      // The run has not finished: its headline says it waits for a pick.
      assert.match(await page.textContent('[data-testid=metrics] .km.primary'), /waiting for your pick/);
      await pickThread('counter-1');
      // counter-1 has read and stops before its write; counter-2 has not read yet.
      assert.deepEqual(
        (await options()).sort((a, b) => a.name.localeCompare(b.name)),
        [
          { name: 'counter-1', op: 'write hits', line: 'hits = seen + 1' },
          { name: 'counter-2', op: 'read hits', line: 'seen = hits' },
        ],
      );
      const afterOne = await schedule();
      assert.match(afterOne, /^hits\/\d+$/);

      // Undo goes back to the first choice; redo to the pick again.
      await playing(() => page.click('[data-testid=play-undo]'));
      assert.deepEqual(await options(), first);
      assert.equal(await schedule(), 'hits/');
      await playing(() => page.click('[data-testid=play-redo]'));
      assert.equal(await schedule(), afterOne);

      // counter-2 reads the same value before counter-1 writes: one update is lost.
      await pickThread('counter-2');
      while (await page.$('[data-testid=play-option]')) await pickThread(await page.getAttribute('[data-testid=play-option]', 'data-name'));
      assert.equal(await page.getAttribute('[data-testid=play-end]', 'data-end'), 'quiet');
      assert.doesNotMatch(await page.textContent('[data-testid=metrics] .km.primary'), /waiting/);
      assert.match(await page.textContent('[data-testid=challenge-success]'), /Goal met: Lose an update with two threads/);
      assert.deepEqual(await page.evaluate(() => window.twine.run.metrics.output.map((o) => o.text)), ['hits = 1']);
      assert.equal(await page.getAttribute('[data-testid=challenge][data-challenge=lost-update]', 'data-met'), 'true');
      assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('twine.challenges'))), { 'lost-update': true });
      const played = await schedule();

      // The link replays the same schedule to the same end.
      await page.waitForFunction((s) => document.querySelector('[data-testid=share-link]').href.endsWith(`schedule=${s}`), played);
      const href = await page.getAttribute('[data-testid=share-link]', 'href');
      assert.match(href, /#challenge=lost-update&/);
      const other = await context.newPage();
      await other.goto(href);
      await other.waitForSelector('[data-testid=play-end]');
      assert.equal(await other.textContent('[data-testid=play-schedule]'), played);
      assert.deepEqual(await other.evaluate(() => window.twine.run.metrics.output.map((o) => o.text)), ['hits = 1']);
      assert.match(await other.textContent('[data-testid=challenge-success]'), /Goal met/);
      await other.close();
    },
  },
  {
    name: 'play the scheduler: an edit challenge is checked on each run\'s metrics (p99 under 30 ms at 200 requests a second)',
    async fn({ page, url }) {
      await open(page, url);
      await page.evaluate(() => localStorage.removeItem('twine.challenges'));
      await page.click('[data-testid=play-scheduler]');
      const before = await runId(page);
      await page.click('[data-testid=challenge][data-challenge=fast-echo]');
      await page.waitForSelector('[data-testid=challenge-miss]');
      assert.ok((await runId(page)) > before);
      const p99 = () => page.$eval('[data-testid=play-panel] [data-metric="requests.p99_ms"]', (e) => Number(e.textContent));
      assert.ok((await p99()) > 30, 'the program as given misses the goal');
      // The fix: the database call on a pool thread.
      const program = await editorText(page);
      const fixed = program.replace(
        '        query_database()\n        self.sendLine(line)',
        '        d = threads.deferToThread(query_database)\n        d.addCallback(lambda _: self.sendLine(line))',
      );
      assert.notEqual(fixed, program);
      await typeScenario(page, fixed);
      await run(page);
      await page.waitForSelector('[data-testid=challenge-success]');
      assert.ok((await p99()) < 30);
      assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('twine.challenges'))), { 'fast-echo': true });
    },
  },
  {
    name: 'stepping a Python program highlights the line each thread is at; a clicked event highlights its line',
    async fn({ page, url }) {
      await open(page, url);
      await page.waitForFunction(() => document.body.dataset.editor === 'code');
      const program = [
        'import threading, time',
        'lock = threading.Lock()',
        'def work(n):',
        '    time.sleep(0.01 * n)',
        '    with lock:',
        '        print("worker", n)',
        'ts = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in (1, 2)]',
        'for t in ts:',
        '    t.start()',
        'for t in ts:',
        '    t.join()',
        'print("done")',
      ].join('\n');
      await typeScenario(page, program);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      await run(page);
      await seekTo(page, 0);
      // What the page shows: the selected event, its source, and the editor's highlighted lines.
      const shown = () =>
        page.evaluate(async () => {
          // What the next frame paints: the editor draws its highlights just before it.
          await new Promise(requestAnimationFrame);
          const { view } = window.twine.ui.editor.code;
          // A highlight's line, if it lies over that line's text as drawn (else `misplaced`).
          const lineOfEl = (el) => {
            const n = Number(el.dataset.line);
            const { node } = view.domAtPos(view.state.doc.line(n).from);
            const line = (node.nodeType === 1 ? node : node.parentElement).closest('.cm-line').getBoundingClientRect();
            const band = el.getBoundingClientRect();
            return Math.abs(band.top - line.top) <= 1 && Math.abs(band.bottom - line.bottom) <= 1 ? n : `misplaced over line ${n}`;
          };
          const row = document.querySelector('.log-row.selected');
          const index = row ? Number(row.dataset.index) : -1;
          const e = await window.twine.run.model.eventAsync(index);
          return {
            index,
            src: e?.src ?? null,
            thread: e?.src ? window.twine.run.model.threadName(e.src.thread) : null,
            current: [...document.querySelectorAll('.cm-step-current')].map(lineOfEl),
            soft: [...document.querySelectorAll('.cm-step:not(.cm-step-current)')].map((el) => ({ line: lineOfEl(el), threads: el.dataset.threads })),
            currentThreads: [...document.querySelectorAll('.cm-step-current')].map((el) => el.dataset.threads),
          };
        });
      const threadsSeen = new Set();
      let sawOthers = false;
      for (let n = 0; n < 200 && !(await page.isDisabled('#step-btn')); n++) {
        await clickStep(page);
        const s = await shown();
        if (!s.src) continue;
        assert.deepEqual(s.current, [s.src.line], `event #${s.index} (${s.thread}) is at line ${s.src.line}`);
        assert.ok(s.currentThreads[0].split(', ').includes(s.thread), `the strong line names ${s.thread}`);
        threadsSeen.add(s.thread);
        if (s.soft.some((x) => !x.threads.includes(s.thread))) sawOthers = true;
      }
      // The main program's thread, then w1 and w2.
      assert.ok(threadsSeen.has('w1') && threadsSeen.has('w2') && threadsSeen.size >= 3, `the highlight moved between threads: ${[...threadsSeen]}`);
      assert.ok(sawOthers, 'the other threads\' lines show softly');

      // The log rows say where each event came from; clicking one highlights its line.
      const rows = await page.$$eval('.log-row[data-line]', (els) => els.map((el) => ({ index: Number(el.dataset.index), line: Number(el.dataset.line), src: el.querySelector('.log-src')?.textContent })));
      assert.ok(rows.length > 0, 'rows with a source');
      const current = (await shown()).current[0];
      const target = rows.find((r) => r.line !== current) ?? rows[0];
      assert.match(target.src, new RegExp(`:${target.line}$`));
      await page.click(`.log-row[data-index="${target.index}"]`);
      await page.waitForFunction((i) => document.querySelector('.log-row.selected')?.dataset.index === String(i), target.index);
      assert.deepEqual((await shown()).current, [target.line]);
    },
  },

  {
    name: 'while a Python program plays, the queues, stacks and highlighted line follow the playhead; paused, they show where it stopped',
    async fn({ page, url }) {
      await open(page, url, '#program=counter-race/nogil-locked');
      await page.waitForFunction(() => document.body.dataset.editor === 'code');
      // The link runs the program and plays it from the start.
      await page.waitForFunction(() => document.body.classList.contains('playing'), null, { timeout: 20_000 });
      // While it plays, the panels move on with it (several times a second, not every frame).
      const seen = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const times = new Set();
            const lines = new Set();
            const t0 = performance.now();
            const frame = () => {
              times.add(document.querySelector('[data-testid=queues] [data-q-time]')?.dataset.qTime);
              lines.add(document.querySelector('.cm-step-current')?.dataset.line);
              if (performance.now() - t0 < 1500 && document.body.classList.contains('playing')) requestAnimationFrame(frame);
              else resolve({ times: times.size, lines: lines.size });
            };
            requestAnimationFrame(frame);
          }),
      );
      assert.ok(seen.times >= 4, `the queues panel showed ${seen.times} times in 1.5 s of playback`);
      assert.ok(seen.lines >= 2, `the highlighted line moved ${seen.lines - 1} times`);
      await page.click('#play');
      const shown = await page.evaluate(async () => {
        await window.twine.cursorIdle();
        await new Promise(requestAnimationFrame);
        const { run, cursor, playhead } = window.twine;
        const last = cursor.eventCount - 1;
        return {
          playhead,
          queuesT: Number(document.querySelector('[data-testid=queues] [data-q-time]').dataset.qTime),
          last,
          stacksIndex: Number(document.querySelector('[data-testid=stacks]').dataset.index),
          stackThreads: document.querySelectorAll('[data-testid=stacks] .stk-thread').length,
          src: run.model.eventSrc(last) ?? null,
          band: document.querySelector('.cm-step-current')?.dataset.line ?? null,
          future: document.querySelectorAll('[data-testid=event-log] .log-row.future').length,
          rows: document.querySelectorAll('[data-testid=event-log] .log-row').length,
        };
      });
      assert.ok(shown.playhead > 0, 'it had played on from the start');
      // The simulation's clock counts nanoseconds.
      assert.ok(Math.abs(shown.queuesT - shown.playhead) < 1e-6, `the queues are at the playhead where it stopped (${shown.queuesT} against ${shown.playhead} ms)`);
      assert.equal(shown.stacksIndex, shown.last, 'the stacks are at the last event shown');
      assert.ok(shown.stackThreads > 0, 'and name the threads\' functions');
      if (shown.src) assert.equal(Number(shown.band), shown.src.line, 'the strong line is the last event\'s');
      assert.ok(shown.rows > 0 && shown.future < shown.rows, 'the log shows the events up to the playhead');
    },
  },

  {
    name: 'the stack panel names the callback, the errback and its Deferred, and each thread\'s functions, while stepping',
    timeoutMs: 90_000,
    async fn({ page, url }) {
      await open(page, url);
      await page.selectOption('[data-testid=preset-picker]', 'deferred-errback');
      await run(page);
      await page.keyboard.press('Home');
      // The stacks come from the simulation worker: read them once they are the ones last asked for.
      const panel = async () => {
        await page.waitForFunction(() => {
          const el = document.querySelector('[data-testid=stacks]');
          return el.dataset.index === el.dataset.asked;
        });
        return page.$$eval('[data-testid=stacks] .stk-thread', (els) =>
          els.map((el) => ({
            thread: el.dataset.thread,
            frames: [...el.querySelectorAll('.stk-frame')].map((f) => ({ func: f.dataset.func, role: f.dataset.role, deferred: Number(f.dataset.deferred || 0), text: f.textContent.replace(/\s+/g, ' ').trim() })),
          })),
        );
      };
      const seen = new Map(); // function -> {thread, role, deferred, text}
      for (let n = 0; n < 300 && !(await page.isDisabled('#step-btn')); n++) {
        await clickStep(page);
        for (const s of await panel()) {
          const top = s.frames.at(-1);
          if (top && !seen.has(top.func)) seen.set(top.func, { thread: s.thread, ...top });
        }
        if (seen.has('parse')) break;
      }
      assert.ok(seen.has('parse'), `stepping reached the first callback (saw ${[...seen.keys()]})`);
      // A step can show several events at once (a whole chain runs in one reactor call): a clicked event shows its own.
      const count = await page.evaluate(() => window.twine.run.model.eventCount);
      for (let i = 0; i < count; i++) {
        await page.evaluate((k) => window.twine.ui.log.opts.onPick(k), i);
        for (const s of await panel()) {
          const top = s.frames.at(-1);
          if (top && !seen.has(top.func)) seen.set(top.func, { thread: s.thread, ...top });
        }
        if (['recover', 'retry_later', 'write_to_database'].every((f) => seen.has(f))) break;
      }
      const parse = seen.get('parse');
      assert.ok(parse, `the panel named parse (saw ${[...seen.keys()]})`);
      assert.equal(parse.thread, 'reactor');
      assert.equal(parse.role, 'callback');
      assert.match(parse.text, /^parse line \d+ callback of Deferred #\d+$/);
      const recover = seen.get('recover');
      assert.ok(recover, 'and recover');
      assert.equal(recover.role, 'errback');
      assert.equal(recover.deferred, parse.deferred, 'the errback runs in the same Deferred\'s chain');
      assert.equal(seen.get('retry_later')?.role, 'errback');
      // The number is the event log's: that Deferred was created, fired and waited on its callbacks there.
      const kinds = (await allEvents(page)).filter((e) => e.deferred === parse.deferred).map((e) => e.kind);
      assert.deepEqual(kinds.slice(0, 2), ['deferred_created', 'deferred_fired'], `Deferred #${parse.deferred} in the log: ${kinds}`);
      assert.ok(kinds.includes('deferred_chained'), `Deferred #${parse.deferred} waits for its callbacks' work: ${kinds}`);
      // A pool thread's job: the function handed to deferToThread, called by no Deferred.
      const job = seen.get('write_to_database');
      assert.ok(job && job.thread !== 'reactor' && !job.role, `write_to_database on a pool thread: ${JSON.stringify(job)}`);

      // A method calling a function: both frames, the program's names, outermost first.
      await page.selectOption('[data-testid=preset-picker]', 'echo-blocking/blocking');
      await run(page);
      const index = (await allEvents(page)).findIndex((e) => e.src?.func === 'query_database');
      assert.ok(index >= 0, 'an event in query_database');
      await page.evaluate((i) => window.twine.ui.log.opts.onPick(i), index);
      const reactor = (await panel()).find((s) => s.thread === 'reactor');
      assert.deepEqual(reactor.frames.map((f) => f.func), ['Echo.lineReceived', 'query_database']);
    },
  },

  {
    name: 'a deadlock is the run\'s headline with its wait-for cycle, for JSON and Python locks',
    async fn({ page, url }) {
      await open(page, url);
      const json = JSON.stringify({
        threads: [
          { name: 'ab', steps: [{ lock: { name: 'a', steps: [{ sleep: 1 }, { lock: { name: 'b', steps: [] } }] } }] },
          { name: 'ba', steps: [{ lock: { name: 'b', steps: [{ sleep: 1 }, { lock: { name: 'a', steps: [] } }] } }] },
        ],
      });
      await typeScenario(page, json);
      await run(page);
      const card = page.locator('.key-metrics .km.primary');
      assert.match(await card.locator('.km-l').textContent(), /^deadlock$/i);
      assert.doesNotMatch(await card.textContent(), /finished/i);
      assert.ok(await card.evaluate((e) => e.classList.contains('bad')), 'marked as a problem');
      // The wait-for cycle, in words on the card and as arrows on the timeline.
      assert.match(await card.textContent(), /ab holds lock a and waits for lock b; ba holds lock b and waits for lock a/);
      const arrows = await page.evaluate(() => {
        const { model } = window.twine.run;
        const out = [];
        for (let i = 0; i < model.links.n; i++) {
          if (model.links.style[i] === 4) out.push(`${model.links.lane1[i]}->${model.links.lane2[i]}`);
        }
        return out.sort();
      });
      assert.deepEqual(arrows, ['t1->t2', 't2->t1'], 'each waiter points at the holder');

      // The same with Python's threading.Lock: the locks take their variables' names.
      const program = [
        'import threading',
        'import time',
        '',
        'a = threading.Lock()',
        'b = threading.Lock()',
        '',
        'def one():',
        '    with a:',
        '        time.sleep(0.001)',
        '        with b:',
        '            pass',
        '',
        'def two():',
        '    with b:',
        '        time.sleep(0.001)',
        '        with a:',
        '            pass',
        '',
        't1 = threading.Thread(target=one, name="thread-1")',
        't2 = threading.Thread(target=two, name="thread-2")',
        't1.start()',
        't2.start()',
        't1.join()',
        't2.join()',
      ].join('\n');
      await typeScenario(page, program);
      await run(page);
      const text = await page.locator('.key-metrics .km.primary').textContent();
      assert.match(text, /deadlock/i);
      assert.match(text, /thread-1 holds lock a and waits for lock b/);
      assert.match(text, /thread-2 holds lock b and waits for lock a/);
    },
  },

  {
    name: 'a lost update is marked where it happens and explained: who read what, which write overwrote how many',
    async fn({ page, url }) {
      await open(page, url);
      await page.selectOption('[data-testid=preset-picker]', 'counter-race/nogil-unlocked');
      await run(page);
      const last = await page.evaluate(() => window.twine.run.metrics.output.at(-1).text);
      const printed = Number(/\((\d+) lost\)/.exec(last)?.[1]);
      assert.ok(printed > 0, `updates are lost: ${last}`);

      // Filtering the log for "lost" finds each one, in words.
      await page.fill('.log-filter', 'lost');
      await page.waitForFunction(() => / of /.test(document.querySelector('.log-count').textContent));
      const row = page.locator('[data-testid=event-log] .log-row').first();
      assert.match(
        await row.textContent(),
        /counter-\d+ read hits = [\d\u2009]+ at .+, wrote [\d\u2009]+ over [\d\u2009]+: lost update, [\d\u2009]+ updates? by other threads overwritten/,
      );
      // The marks add up to what the program prints it lost.
      const { sum, events, marks } = await page.evaluate(async () => {
        const { model } = window.twine.run;
        await model.loadRange(0, model.eventCount);
        const lost = Array.from({ length: model.eventCount }, (_, i) => model.event(i)).filter((e) => e.kind === 'lost_update');
        let marks = 0;
        for (const lane of model.lanes.values()) for (let i = 0; i < lane.marks.n; i++) marks += lane.marks.style[i] === 20;
        return { sum: lost.reduce((a, e) => a + e.overwritten, 0), events: lost.length, marks };
      });
      assert.equal(sum, printed, 'the overwritten counts add up to the updates lost');
      assert.equal(marks, events, 'each is marked on its thread\'s lane');

      // Picking one (a click on its row; the rows redraw while the run plays) explains it.
      const index = Number(await row.getAttribute('data-index'));
      await page.evaluate((i) => window.twine.ui.log.opts.onPick(i), index);
      await page.waitForSelector('[data-testid=causes]:not([hidden])');
      const why = await page.textContent('[data-testid=causes]');
      assert.match(why, /counter-\d+ read hits = [\d\u2009]+ at /);
      assert.match(why, /meanwhile other threads took hits to [\d\u2009]+/);
      assert.match(why, /counter-\d+ wrote [\d\u2009]+ at .+: [\d\u2009]+ increments? by other threads overwritten/);
    },
  },

  {
    name: 'an unhandled error is printed as Twisted logs it, its {error} filled in',
    async fn({ page, url }) {
      await open(page, url);
      const json = JSON.stringify({
        main: [
          { call_later: { ms: 1, steps: [{ fail: 'timeout' }, { errback: [{ fail: 'giving up after {error}' }] }] } },
          { call_later: { ms: 2, steps: [{ defer_to_thread: [{ fail: 'lost in a thread' }] }] } },
          { call_later: { ms: 10, steps: ['stop'] } },
        ],
      });
      await typeScenario(page, json);
      await run(page);
      await seekTo(page, 1e9);
      const lines = await page.$$eval('#output li .out-x', (els) => els.map((e) => e.lastChild.textContent));
      assert.deepEqual(lines, ['Unhandled Error: giving up after timeout', 'Unhandled error in Deferred:', 'Failure: Error: lost in a thread']);
      // Error reports went to stderr: the panel marks them so.
      const marked = await page.$$eval('#output li', (els) => els.map((e) => e.classList.contains('out-err')));
      assert.deepEqual(marked, [true, true, true]);
    },
  },

  {
    name: "a thread's traceback prints as CPython's, and its line numbers show those lines in the editor",
    async fn({ page, url }) {
      await open(page, url);
      await page.waitForFunction(() => document.body.dataset.editor === 'code');
      const program = [
        'import threading',
        '',
        '',
        'def work(d):',
        '    return d["missing"] + 1',
        '',
        '',
        't = threading.Thread(target=work, args=({},))',
        't.start()',
        't.join()',
        'print("joined")',
      ].join('\n');
      await typeScenario(page, program);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      await run(page);
      await seekTo(page, 1e9);
      const lines = await page.$$eval('#output li.out-err .out-x', (els) => els.map((e) => e.textContent.replace(/^Thread-1 \(work\)/, '')));
      // CPython 3.11's report, less the two frames inside threading.py; its spaces kept, so the carets line up.
      assert.deepEqual(lines, [
        'Exception in thread Thread-1 (work):',
        'Traceback (most recent call last):',
        '  File "experiment.py", line 5, in work',
        '    return d["missing"] + 1',
        '           ~^^^^^^^^^^^',
        "KeyError: 'missing'",
      ]);
      const carets = await page.$eval('#output li.out-err .out-x', (e) => getComputedStyle(e).whiteSpace);
      assert.equal(carets, 'pre-wrap');
      // The frame's line number shows that line: the caret goes there.
      await page.click('#output .out-src[data-line="5"]');
      assert.equal(await caretLine(page), 5);
    },
  },

  {
    name: 'a bad edit shows the error at its field, underlined in the code editor',
    async fn({ page, url }) {
      await open(page, url);
      await page.waitForFunction(() => document.body.dataset.editor === 'code');
      await page.selectOption('[data-testid=preset-picker]', 'json:echo-blocking/blocking');
      // The JSON scenario arrives with the full module, which reads it.
      await page.waitForFunction(() => window.twine.ui.editor.value.trimStart().startsWith('{'));
      const good = await editorText(page);
      const colors = await page.$$eval('.cm-line span', (els) => new Set(els.map((e) => getComputedStyle(e).color)).size);
      assert.ok(colors >= 2, `the JSON is highlighted (${colors} colours)`);

      // A bad value: the field, the line, the knob.
      const bad = good.replace('"cores": 4', '"cores": 0');
      await typeScenario(page, bad);
      await page.waitForSelector('.ed-error:not([hidden])');
      assert.equal(await page.getAttribute('.ed-error', 'data-field'), 'machine.cores');
      assert.match(await page.textContent('.ed-error'), /machine\.cores.*between 1 and 64/);
      assert.deepEqual(await underlinedLines(page), [lineOf(bad, '"cores": 0')]);
      assert.ok(await page.$eval('[data-knob="cores"]', (e) => e.classList.contains('bad')), 'the cores knob is marked');
      const before = await runId(page);
      await page.click('[data-testid=run]');
      assert.equal(await runId(page), before, 'Run refuses a bad scenario');

      // An unknown step: the step's own line.
      const unknown = good.replace('"respond"', '"respnd"');
      await typeScenario(page, unknown);
      await page.waitForFunction(() => document.querySelector('.ed-error').dataset.field === 'server.handler[2]');
      assert.match(await page.textContent('.ed-error'), /respnd/);
      assert.deepEqual(await underlinedLines(page), [lineOf(unknown, '"respnd"')]);

      // Broken JSON: the line the parser stopped at.
      const broken = good.replace('"cores": 4,', '"cores": 4');
      await typeScenario(page, broken);
      await page.waitForFunction(() => /expected `,` or `}`/.test(document.querySelector('.ed-error').textContent));
      const stopped = Number(/at line (\d+)/.exec(await page.textContent('.ed-error'))[1]);
      assert.equal(stopped, lineOf(broken, '"cores": 4') + 1, 'the parser stopped on the line after the missing comma');
      assert.deepEqual(await underlinedLines(page), [stopped]);

      // Clicking the error puts the caret on its line.
      await page.click('.ed-error');
      assert.equal(await caretLine(page), stopped);

      // Fixed: the error goes away and it runs.
      await typeScenario(page, good);
      await page.waitForSelector('.ed-error', { state: 'hidden' });
      assert.deepEqual(await underlinedLines(page), []);
      await run(page);

      // Keys typed in the editor are text, not the playback shortcuts (Space plays, → steps).
      if (await page.evaluate(() => window.twine.playing)) await page.click('#play');
      await page.click('.cm-content');
      await page.keyboard.press('Control+End');
      await page.keyboard.type(' ');
      await page.keyboard.press('ArrowRight');
      assert.ok(!(await page.evaluate(() => window.twine.playing)), 'Space in the editor does not play');
      assert.ok((await editorText(page)).endsWith(' '), 'the space went into the text');
    },
  },

  {
    name: 'the timeline a run hands over in columns is the one its events as objects draw (every lane, mark and arrow)',
    async fn({ page, url }) {
      for (const program of ['echo-blocking/deferred', 'counter-race/gil-read-then-write', 'pool-saturation/four-threads']) {
        await open(page, url, `#program=${program}`);
        await run(page);
        const diff = await page.evaluate(async () => {
          const { TraceModel } = await import('./js/trace-model.js');
          const { metrics, model, json, seed, variant } = window.twine.run;
          // The events as objects, with their Python positions, as the page took them before
          // columns, from a simulation of the same run on the page (the shown one ran in the worker).
          const sim = new window.twine.wasm.Simulation(json, seed, variant);
          sim.run();
          const events = sim.events(0);
          for (const p of sim.positions()) {
            events[p.i].src = { thread: p.thread, line: p.line, func: p.func };
            if (events[p.i].kind === 'call') events[p.i].name = p.func;
          }
          const objects = new TraceModel();
          objects.ensureCores(metrics.cores.length);
          objects.append(events);
          objects.finish(metrics.time_ms);
          const problems = [];
          const label = (m, id) => (id >= 0 ? m.strings[id] : null);
          const same = (what, a, b) => {
            if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) problems.push(`${what}: ${a} (columns) vs ${b} (objects)`);
          };
          same('events', model.eventCount, objects.eventCount);
          same('lanes', [...model.lanes.keys()].sort().join(), [...objects.lanes.keys()].sort().join());
          for (const [key, lane] of objects.lanes) {
            const mine = model.lanes.get(key);
            if (!mine) continue;
            same(`${key} title`, mine.title, lane.title);
            for (const list of ['state', 'spans', 'sub']) {
              same(`${key}.${list} n`, mine[list].n, lane[list].n);
              for (let i = 0; i < lane[list].n && problems.length < 10; i++) {
                for (const col of ['start', 'end', 'style', 'color', 'ev', 'row']) same(`${key}.${list}[${i}].${col}`, mine[list][col][i], lane[list][col][i]);
                same(`${key}.${list}[${i}] label`, label(model, mine[list].label[i]), label(objects, lane[list].label[i]));
              }
            }
            same(`${key}.marks n`, mine.marks.n, lane.marks.n);
            for (let i = 0; i < lane.marks.n && problems.length < 10; i++) {
              for (const col of ['t', 'style', 'ev']) same(`${key}.marks[${i}].${col}`, mine.marks[col][i], lane.marks[col][i]);
            }
            same(`${key} series`, JSON.stringify(mine.series), JSON.stringify(lane.series));
          }
          same('links n', model.links.n, objects.links.n);
          for (let i = 0; i < objects.links.n && problems.length < 10; i++) {
            for (const col of ['t1', 't2', 'lane1', 'lane2', 'style', 'ev']) same(`links[${i}].${col}`, model.links[col][i], objects.links[col][i]);
          }
          // Whole events by index: what the log shows.
          for (const i of [0, Math.floor(events.length / 2), events.length - 1]) same(`event ${i}`, JSON.stringify(await model.eventAsync(i)), JSON.stringify(events[i]));
          sim.free();
          return { problems, events: events.length };
        });
        assert.ok(diff.events > 100, `${program}: ${diff.events} events`);
        assert.deepEqual(diff.problems, [], program);
      }
    },
  },
  {
    name: 'a run of 750 000 events shows its progress without freezing the page, and a newer run replaces it',
    async fn({ page, url }) {
      await open(page, url, '#preset=echo-blocking/deferred');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      const small = await editorText(page);
      const big = JSON.stringify({
        duration_ms: 61000,
        machine: { cores: 4 },
        pool: { threads: 10 },
        server: { handler: [{ cpu: 0.2 }, { defer_to_thread: [{ io: 5 }] }, 'respond'] },
        clients: { open: { rate_per_s: 500, arrival: 'poisson', requests: 30000, connections: 50 } },
      }, null, 2);
      await typeScenario(page, big);
      // Count the page's timer turns and the progress it shows while the run goes on.
      await page.evaluate(() => {
        window.probe = { ticks: 0, frames: 0, progress: [] };
        window.probe.timer = setInterval(() => {
          if (document.body.dataset.state !== 'running') return;
          window.probe.ticks += 1;
          window.probe.progress.push(document.querySelector('#run-info').textContent);
        }, 5);
        const frame = () => {
          if (document.body.dataset.state === 'running') window.probe.frames += 1;
          if (window.probe.timer) requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      });
      const done = await run(page);
      const probe = await page.evaluate(() => {
        clearInterval(window.probe.timer);
        window.probe.timer = 0;
        return { ...window.probe, sent: window.twine.run.metrics.requests.sent, events: window.twine.run.metrics.events };
      });
      assert.equal(probe.sent, 30000);
      assert.ok(probe.events > 500_000, `${probe.events} events`);
      assert.ok(probe.ticks >= 3, `the page had ${probe.ticks} turns while it ran`);
      assert.ok(probe.frames >= 3, `the page painted ${probe.frames} frames while it ran`);
      assert.ok(probe.progress.some((t) => /simulating… .* virtual · [\d,]+ events/.test(t)), `progress shown: ${probe.progress.slice(0, 3)}`);
      const info = await page.textContent('#run-info');
      assert.match(info, /events · simulated in/);
      console.log(`        (${info})`);

      // Start the big run again, then a small one before it ends: the small one is what shows.
      await page.click('[data-testid=run]');
      // In one task of the page, so the big run cannot land in between.
      await page.evaluate(
        (text) =>
          new Promise((resolve) => {
            const poll = () => {
              if (!/(simulating|building the timeline)… .*events$/.test(document.querySelector('#run-info').textContent)) {
                setTimeout(poll, 1);
                return;
              }
              // An edit of the whole text, as a paste into the editor makes it.
              const { code, text: plain } = window.twine.ui.editor;
              if (code) {
                code.view.dispatch({ changes: { from: 0, to: code.view.state.doc.length, insert: text } });
              } else {
                plain.value = text;
                plain.dispatchEvent(new Event('input', { bubbles: true }));
              }
              document.querySelector('[data-testid=run]').click();
              resolve();
            };
            poll();
          }),
        small,
      );
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.waitForTimeout(200); // a superseded run would land within a slice or two
      const shown = await page.evaluate(() => ({ id: window.twine.run.id, sent: window.twine.run.metrics.requests.sent }));
      assert.equal(shown.sent, JSON.parse(small).clients.open.requests, 'the small run is the one shown');
      assert.equal(shown.id, done + 1, 'the superseded run never landed');
    },
  },

  {
    name: 'the timeline: hover explains, the event log jumps, the keyboard plays and steps',
    async fn({ page, url }) {
      await open(page, url, '#preset=echo-blocking/blocking&seed=3');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.keyboard.press('Home');
      // Zoom onto the first long reactor call and hover it.
      const spot = await page.evaluate(() => {
        const tl = window.twine.ui.timeline;
        const lane = tl.model.lanes.get('t0');
        let i = 0;
        while (i < lane.spans.n && lane.spans.end[i] - lane.spans.start[i] < 1) i++;
        const [a, b] = [lane.spans.start[i], lane.spans.end[i]];
        tl.setView(a - (b - a), b + (b - a));
        tl.draw();
        const row = tl.layout.find((r) => r.lane.key === 't0');
        const box = tl.canvas.getBoundingClientRect();
        return { x: box.left + tl.xAt((a + b) / 2), y: box.top + row.y + 12 + (row.h - 24) / 2 };
      });
      await page.mouse.move(spot.x, spot.y);
      await page.waitForSelector('#tl-tip:not([hidden])');
      assert.match(await page.textContent('#tl-tip'), /reactor call: message_received/);

      // Click a row of the event log: the playhead goes to its time.
      const row = page.locator('[data-testid=event-log] .log-row').nth(12);
      const index = Number(await row.getAttribute('data-index'));
      await row.click();
      const t = await page.evaluate((i) => window.twine.run.model.eventT(i) / 1e6, index);
      assert.equal(await queuesTime(page), t);
      assert.equal(await page.evaluate(() => window.twine.ui.timeline.selected), index);
      assert.ok(await page.$eval(`[data-testid=event-log] .log-row[data-index="${index}"]`, (e) => e.classList.contains('selected')));
      // Every one of the first rows, including events inside a reactor call that blocks for 20 ms.
      const off = await page.evaluate(async () => {
        const wrong = [];
        for (let i = 0; i < 60; i++) {
          window.twine.ui.log.opts.onPick(i); // what a click on row i does
          await window.twine.cursorIdle();
          const t = window.twine.run.model.eventT(i) / 1e6;
          const shown = Number(document.querySelector('[data-testid=queues] [data-q-time]').dataset.qTime);
          if (Math.abs(shown - t) > 1e-9) wrong.push({ i, t, shown });
        }
        return wrong;
      });
      assert.deepEqual(off, [], 'each row puts the playhead at its own time');

      // Keyboard: Space plays and pauses, → steps.
      await page.locator('body').click({ position: { x: 5, y: 790 } });
      await page.keyboard.press('Space');
      await page.waitForFunction(() => document.body.classList.contains('playing'));
      await page.keyboard.press('Space');
      assert.equal(await page.evaluate(() => document.body.classList.contains('playing')), false);
      const before = await cursorCount(page);
      await page.keyboard.press('ArrowRight');
      assert.ok((await cursorCount(page)) > before);
    },
  },

  {
    name: 'compare puts two variants side by side with their metrics',
    async fn({ page, url, env }) {
      await open(page, url, '#preset=echo-blocking/blocking');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.click('button[data-view=compare]');
      await page.waitForFunction(() => document.querySelector('#view-compare').dataset.state === 'ready');
      assert.equal(await page.inputValue('#cmp-a'), 'echo-blocking/blocking');
      assert.equal(await page.inputValue('#cmp-b'), 'echo-blocking/deferred');
      const p99 = (side) => page.$eval(`.cmp-col[data-side="${side}"] .km[data-metric="requests.p99_ms"]`, (e) => JSON.parse(e.dataset.value));
      const [a, b] = [await p99('A'), await p99('B')];
      assert.equal(a, simMetrics(env, ['echo-blocking/blocking', '--seed', '1']).requests.p99_ms);
      assert.equal(b, simMetrics(env, ['echo-blocking/deferred', '--seed', '1']).requests.p99_ms);
      assert.ok(a > 3 * b, `blocking p99 (${a} ms) is many times defer_to_thread's (${b} ms)`);
      assert.match(await page.textContent('.cmp-table tr[data-metric="requests.p99_ms"]'), /×/);
      await page.screenshot({ path: path.join(env.screenshots, 'compare-echo-blocking.png') });
      // GIL against no GIL, picked from the menus.
      await page.selectOption('#cmp-a', 'gil-cpu-bound/gil-4-cores');
      await page.selectOption('#cmp-b', 'gil-cpu-bound/nogil-4-cores');
      await page.waitForFunction(() => document.querySelector('.cmp-col[data-side="B"] .cmp-title').textContent.includes('No GIL'));
      const done = (side) => page.$eval(`.cmp-col[data-side="${side}"] .km[data-metric="time_ms"]`, (e) => JSON.parse(e.dataset.value));
      const [gil, nogil] = [await done('A'), await done('B')];
      assert.ok(gil > 3 * nogil, `with the GIL four threads take ~4× as long (${gil} vs ${nogil} ms)`);
      // Running again, or a click elsewhere on the page, keeps the pair; the share link carries it.
      await page.click('#cmp-run');
      await page.click('#cmp-info');
      await page.waitForFunction(() => document.querySelector('#view-compare').dataset.state === 'ready');
      assert.equal(await page.inputValue('#cmp-a'), 'gil-cpu-bound/gil-4-cores');
      assert.equal(await page.inputValue('#cmp-b'), 'gil-cpu-bound/nogil-4-cores');
      await page.waitForFunction(() => decodeURIComponent(document.querySelector('[data-testid=share-link]').href).includes('nogil-4-cores'));
      await page.screenshot({ path: path.join(env.screenshots, 'compare-gil.png') });
    },
  },

  {
    name: 'compare runs an edited program as the variant the editor runs it as',
    async fn({ page, url, env }) {
      await open(page, url);
      await page.selectOption('[data-testid=preset-picker]', 'counter-race/nogil-locked');
      const text = `${await editorText(page)}\n# edited\n`;
      await typeScenario(page, text);
      await run(page);
      assert.equal(await page.evaluate(() => window.twine.run.metrics.output.at(-1).text), 'hits = 10000 of 10000 (0 lost)');
      await page.click('button[data-view=compare]');
      await page.waitForFunction(() => document.querySelector('#view-compare').dataset.state === 'ready');
      assert.equal(await page.inputValue('#cmp-a'), '@edited');
      assert.match(await page.textContent('.cmp-col[data-side="A"] .cmp-sub'), /variant nogil-locked/);
      // The edited side is the editor's run: twine-sim's, as the same variant (not the first, unlocked one).
      const cards = await page.$$eval('.cmp-col[data-side="A"] .km', (els) => els.map((e) => [e.dataset.metric, JSON.parse(e.dataset.value)]));
      assert.ok(cards.length > 0);
      const seed = await page.evaluate(() => window.twine.run.seed);
      const asVariant = (v) => {
        const m = simProgramMetrics(env, text, ['--variant', v, '--seed', String(seed)]);
        return cards.map(([path]) => [path, pick(m, path)]);
      };
      assert.deepEqual(cards, asVariant('nogil-locked'));
      assert.notDeepEqual(cards, asVariant('nogil-unlocked'));
    },
  },

  {
    name: 'exports: Chrome Trace JSON and JSONL downloads',
    async fn({ page, url }) {
      await open(page, url, '#preset=deferred-errback');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      const events = await page.evaluate(() => window.twine.run.model.eventCount);
      const [chrome] = await Promise.all([page.waitForEvent('download'), page.click('#export-chrome')]);
      assert.match(chrome.suggestedFilename(), /^twine-deferred-errback-seed1\.trace\.json$/);
      const trace = JSON.parse(fs.readFileSync(await chrome.path(), 'utf8'));
      assert.ok(Array.isArray(trace.traceEvents) && trace.traceEvents.length > 0, 'a Chrome trace with events');
      const [jsonl] = await Promise.all([page.waitForEvent('download'), page.click('#export-jsonl')]);
      const lines = fs.readFileSync(await jsonl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines[0].schema, 'twine-trace');
      assert.equal(lines.length - 1, events, 'one line per event after the header');

      // A preset program runs in the light module, which has no exports: the
      // worker runs the same run again in the full one for them. (A fresh
      // document: a change of hash alone keeps the full module loaded above.)
      await page.goto('about:blank');
      await open(page, url, '#program=deferred-errback');
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.equal(await page.evaluate(() => window.twine.wasmIsFull), false, 'the program ran in the light module');
      const programEvents = await page.evaluate(() => window.twine.run.model.eventCount);
      const [again] = await Promise.all([page.waitForEvent('download'), page.click('#export-jsonl')]);
      const programLines = fs.readFileSync(await again.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(programLines.length - 1, programEvents, "the full module's export is the light module's run, event for event");
    },
  },

  {
    name: 'live: the echo round-trips through the server and its reactor shows on the timeline; chat reaches a second tab',
    async fn({ page, url, context, env }) {
      await open(page, url, '#view=live');
      assert.ok(await page.isVisible('#view-live'));
      await page.click('[data-testid=live-connect]');
      await page.waitForSelector('[data-testid=echo-input]:not([disabled])');
      await page.fill('[data-testid=echo-input]', 'hello, reactor');
      await page.press('[data-testid=echo-input]', 'Enter');
      const trip = page.locator('[data-testid=echo-output] li[data-rtt]').first();
      await trip.waitFor();
      assert.match(await trip.textContent(), /hello, reactor/);
      const rtt = Number(await trip.getAttribute('data-rtt'));
      assert.ok(rtt > 0 && rtt < 5000, `a round-trip time (${rtt} ms)`);
      // The server's reactor received that message: the live timeline has it.
      await page.waitForFunction(() => window.twine.ui.live.model.events.some((e) => e.kind === 'message_received'));
      assert.ok(Number(await page.getAttribute('#live-timeline', 'data-events')) > 0);
      assert.ok(await page.evaluate(() => window.twine.ui.live.model.lanes.get('t0').spans.n > 0), 'reactor calls drawn on the live timeline');

      // Chat: a second tab hears the first.
      const other = await context.newPage();
      await open(other, url, '#view=live');
      await other.click('[data-testid=live-connect]');
      await other.waitForSelector('#chat-input:not([disabled])');
      await page.waitForSelector('#chat-input:not([disabled])');
      await page.fill('#chat-input', 'anyone there?');
      await page.press('#chat-input', 'Enter');
      await other.waitForSelector('#chat-log li.theirs');
      assert.match(await other.textContent('#chat-log li.theirs'), /anyone there\?/);
      await page.click('#echo-burst');
      await page.waitForFunction(() => {
        const m = /(\d+)\/(\d+) back/.exec(document.querySelector('#echo-summary').textContent);
        return m && Number(m[2]) === 51 && m[1] === m[2];
      });
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(env.screenshots, 'live.png') });
      await other.close();
      await page.click('[data-testid=live-connect]'); // disconnect
    },
  },

  {
    name: 'live: a server that needs the admin token says so in the panel, and #token= in the address opens its trace',
    async fn({ page, env, errors }) {
      const token = 'e2e-admin-token-0123456789';
      const guarded = spawn(env.twine, ['serve', '--http', '127.0.0.1:0', '--tcp', 'off', '--www', env.www, '--admin-token', token, '--log', 'warn'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const at = await new Promise((resolve, reject) => {
          let out = '';
          guarded.stdout.on('data', (d) => {
            out += d;
            const m = /http gateway listening on (http:\/\/\S+)/.exec(out);
            if (m) resolve(m[1]);
          });
          guarded.on('exit', (code) => reject(new Error(`twine serve --admin-token exited (${code}): ${out}`)));
        });
        // Without the token: the panel says the trace needs it; echo still works.
        await open(page, at, '#view=live');
        await page.click('[data-testid=live-connect]');
        await page.waitForSelector('[data-testid=echo-input]:not([disabled])');
        await page.waitForFunction(() => /admin token/.test(document.querySelector('#live-status').textContent));
        assert.match(await page.textContent('#live-status'), /enter it in the field, or open the page with #token=TOKEN/);
        assert.ok(await page.isVisible('[data-testid=live-token]'));
        await page.click('[data-testid=live-connect]'); // disconnect
        // A wrong token is refused, and the panel says that instead.
        await page.fill('[data-testid=live-token]', 'not-the-right-token-at-all');
        await page.click('[data-testid=live-connect]');
        await page.waitForFunction(() => /refused this admin token/.test(document.querySelector('#live-status').textContent));
        await page.click('[data-testid=live-connect]');
        // The page's probe of /metrics was answered 401 twice (and the
        // browser logs each): expected here, and nothing else.
        const refusals = errors.filter((e) => /HTTP 401: .*\/metrics/.test(e));
        const logged = errors.filter((e) => /status of 401/.test(e));
        assert.equal(refusals.length, 2, errors.join('\n'));
        assert.equal(logged.length, 2, errors.join('\n'));
        errors.splice(0, errors.length, ...errors.filter((e) => !refusals.includes(e) && !logged.includes(e)));
        // With #token= the trace feed opens and shows the server's reactor.
        // Only the hash changes, so this is a same-document navigation: the
        // page's hashchange handler fills the field, after goto returns.
        await open(page, at, `#view=live&token=${token}`);
        await page.waitForFunction((t) => document.querySelector('[data-testid=live-token]').value === t, token);
        await page.click('[data-testid=live-connect]');
        await page.waitForFunction(() => /Connected: echo, chat and the trace feed/.test(document.querySelector('#live-status').textContent));
        await page.waitForSelector('[data-testid=echo-input]:not([disabled])');
        await page.fill('[data-testid=echo-input]', 'with the token');
        await page.press('[data-testid=echo-input]', 'Enter');
        await page.waitForFunction(() => window.twine.ui.live.model.events.some((e) => e.kind === 'message_received'));
        assert.match(await page.textContent('#live-status'), /Connected: echo, chat and the trace feed/);
        await page.click('[data-testid=live-connect]');
      } finally {
        guarded.kill('SIGTERM');
      }
    },
  },
];
