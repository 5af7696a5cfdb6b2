// Play the scheduler: the run goes on to the next point where more than one
// thread could perform its next visible operation (a shared global or
// attribute, a lock, a print) and stops; the user picks who goes. Undo and
// redo walk the picks; the run so far is a schedule string (`hits/1.2`),
// replayed from the start after every pick, and shared in the URL.
//
// Challenges (www/challenges/NAME.py, listed in index.json with a goal)
// are programs to play to a goal, checked on how the run ends; or, with
// `"mode": "edit"`, programs to change until a run's metrics meet the goal.
// The ones met are kept in localStorage.
//
// The stopping and the options are twine_web's (`Simulation.playing` and
// `play()` in the wasm module); this file shows them and keeps the picks.

import { escapeHtml } from './format.js';

const PROGRESS_KEY = 'twine.challenges';

/**
 * The challenges and their goals (www/challenges/index.json), each with
 * its program's `text` and `title` (its docstring's first line).
 */
export async function loadChallenges() {
  const res = await fetch(new URL('../challenges/index.json', import.meta.url));
  if (!res.ok) throw new Error(`the challenges did not load: HTTP ${res.status}`);
  const list = await res.json();
  return Promise.all(
    list.map(async (c) => {
      const text = await challengeProgram(c.name);
      const title = /^\s*(?:"{3}|'{3})\s*([^\n]*)/.exec(text)?.[1].trim();
      return { ...c, text, title: title || c.name };
    }),
  );
}

/** A challenge's program text. */
export async function challengeProgram(name) {
  const res = await fetch(new URL(`../challenges/${encodeURIComponent(name)}.py`, import.meta.url));
  if (!res.ok) throw new Error(`challenge ${name} did not load: HTTP ${res.status}`);
  return res.text();
}

/** The challenges met so far, by name. */
export function progress() {
  try {
    return JSON.parse(localStorage.getItem(PROGRESS_KEY)) || {};
  } catch {
    return {};
  }
}

function markMet(name) {
  const done = progress();
  done[name] = true;
  try {
    localStorage.setItem(PROGRESS_KEY, JSON.stringify(done));
  } catch {
    // Storage off (a private window): the success still shows.
  }
}

/**
 * Whether a played run meets `check`: `{end}` how it must end, and
 * optionally `{global, below}` a shared value it must end under.
 */
export function goalMet(check, state) {
  if (!state.end || state.pending) return false;
  if (check.end && state.end !== check.end) return false;
  if (check.global !== undefined) {
    const v = state.values[check.global];
    if (typeof v !== 'number' || !(v < check.below)) return false;
  }
  return true;
}

/** A metric by its dotted path (`requests.p99_ms`). */
const metricAt = (metrics, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), metrics);

/**
 * Whether a run's `metrics` meet `check.metrics`: `{path: {below}}` or
 * `{path: {atLeast}}` for each metric named.
 */
export function metricsMet(check, metrics) {
  return Object.entries(check.metrics).every(([path, want]) => {
    const v = metricAt(metrics, path);
    if (typeof v !== 'number') return false;
    return (want.below === undefined || v < want.below) && (want.atLeast === undefined || v >= want.atLeast);
  });
}

/** `keys/1.2` plus one more pick. */
export function withPick(schedule, thread) {
  const [keys, picks = ''] = schedule.split('/');
  return `${keys}/${picks ? `${picks}.` : ''}${thread}`;
}

/** Trims a source line for showing beside its thread. */
function lineText(source, line) {
  const text = source.split('\n')[line - 1];
  return text === undefined ? '' : text.trim();
}

const ENDS = { quiet: 'The run ended: every thread finished.', deadlock: 'The run ended in a deadlock: threads wait for locks nobody will release.', error: 'The run ended in an error.' };

export class PlayView {
  /**
   * @param {HTMLElement} panel the section to show and hide
   * @param {{run: (schedule: string) => Promise<object|null>, source: () => string, startChallenge: (c: object) => void}} hooks
   *   `run` replays `schedule` and stops at the next choice, resolving to
   *   the wasm `play()` state (null if another run took its place);
   *   `source` is the program's text; `startChallenge` loads one to play
   */
  constructor(panel, hooks) {
    this.panel = panel;
    this.hooks = hooks;
    this.body = panel.querySelector('[data-testid=play-panel]');
    this.list = panel.querySelector('[data-testid=challenges]');
    this.challenges = [];
    this.challenge = null;
    this.state = null;
    this.back = [];
    this.forward = [];
    this.body.addEventListener('click', (ev) => {
      const option = ev.target.closest('[data-thread]');
      if (option) this.pick(Number(option.dataset.thread));
      else if (ev.target.closest('[data-testid=play-undo]')) this.undo();
      else if (ev.target.closest('[data-testid=play-redo]')) this.redo();
    });
    this.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('[data-challenge]');
      const c = button && this.challenges.find((x) => x.name === button.dataset.challenge);
      if (c) hooks.startChallenge(c);
    });
  }

  /** Lists the challenges (once loaded). */
  setChallenges(list) {
    this.challenges = list;
    this.renderList();
  }

  get active() {
    return !this.panel.hidden;
  }

  /** Starts playing at `schedule` (empty: afresh), for `challenge` if one is being played. */
  async start(schedule = '', challenge = null) {
    this.challenge = challenge;
    this.back = [];
    this.forward = [];
    this.panel.hidden = false;
    await this.go(schedule);
  }

  hide() {
    this.panel.hidden = true;
    this.state = null;
    this.challenge = null;
  }

  /** Starts an edit challenge: the goal shows, and each run is checked ([`afterRun`]). */
  startEdit(challenge) {
    this.challenge = challenge;
    this.state = null;
    this.panel.hidden = false;
    this.body.innerHTML = `<p class="p-goal"><b>Goal:</b> ${escapeHtml(challenge.goal)}</p><p class="muted">Change the program and Run it: each run is checked.</p>`;
    this.renderList();
  }

  /** After a run that did not play the scheduler: checks an edit challenge on its metrics, else leaves. */
  afterRun(metrics) {
    const c = this.challenge;
    if (c?.mode !== 'edit') {
      this.hide();
      return;
    }
    const shown = Object.keys(c.check.metrics)
      .map((path) => {
        const v = metricAt(metrics, path);
        return `${escapeHtml(path)} = <b data-metric="${escapeHtml(path)}">${typeof v === 'number' ? Number(v.toFixed(2)) : '–'}</b>`;
      })
      .join(', ');
    const met = metricsMet(c.check, metrics);
    if (met) markMet(c.name);
    this.body.innerHTML = `<p class="p-goal"><b>Goal:</b> ${escapeHtml(c.goal)}</p><p class="p-values">This run: ${shown}</p>${
      met
        ? `<p class="p-success" data-testid="challenge-success">Goal met: ${escapeHtml(c.title)}.</p>`
        : '<p class="p-miss" data-testid="challenge-miss">Not yet: change the program and Run again.</p>'
    }`;
    this.renderList();
  }

  async go(schedule) {
    const state = await this.hooks.run(schedule);
    if (state) this.show(state);
  }

  async pick(thread) {
    if (!this.state?.pending) return;
    this.back.push(this.state.schedule);
    this.forward = [];
    await this.go(withPick(this.state.schedule, thread));
  }

  async undo() {
    if (!this.back.length) return;
    this.forward.push(this.state.schedule);
    await this.go(this.back.pop());
  }

  async redo() {
    if (!this.forward.length) return;
    this.back.push(this.state.schedule);
    await this.go(this.forward.pop());
  }

  /** Shows `state` (what wasm `play()` returns). */
  show(state) {
    this.state = state;
    this.panel.hidden = false;
    const source = this.hooks.source();
    const parts = [];
    if (this.challenge) parts.push(`<p class="p-goal"><b>Goal:</b> ${escapeHtml(this.challenge.goal)}</p>`);
    if (state.misfit) parts.push(`<p class="p-misfit">That schedule does not fit this program: ${escapeHtml(state.misfit)}.</p>`);
    if (state.pending) {
      const options = state.pending.options
        .map((o) => {
          const text = o.line ? `<code>${escapeHtml(lineText(source, o.line))}</code> <span class="muted">line ${o.line}</span>` : '';
          return `<li><button class="btn small p-opt" data-testid="play-option" data-thread="${o.thread}" data-name="${escapeHtml(o.name)}" data-op="${escapeHtml(o.op)}">${escapeHtml(o.name)}</button>
            ${text} <span class="p-op">(${escapeHtml(o.op)})</span></li>`;
        })
        .join('');
      parts.push(`<p class="p-head" data-testid="play-choice">Who goes next? <span class="muted">at ${state.pending.t_ms.toFixed(3)} ms</span></p><ul class="p-options">${options}</ul>`);
    } else {
      parts.push(`<p class="p-head" data-testid="play-end" data-end="${escapeHtml(state.end || '')}">${escapeHtml(ENDS[state.end] || `The run ended (${state.end}).`)}</p>`);
    }
    if (this.challenge && goalMet(this.challenge.check, state)) {
      markMet(this.challenge.name);
      parts.push(`<p class="p-success" data-testid="challenge-success">Goal met: ${escapeHtml(this.challenge.title)}. Share the link to show how.</p>`);
    } else if (this.challenge && !state.pending) {
      parts.push('<p class="p-miss">Not this time: undo and pick differently.</p>');
    }
    const values = Object.entries(state.values).map(([k, v]) => `${escapeHtml(k)} = <b>${escapeHtml(String(v))}</b>`);
    if (values.length) parts.push(`<p class="p-values muted">${values.join(', ')}</p>`);
    parts.push(`<div class="p-bar">
      <button class="btn small" data-testid="play-undo" ${this.back.length ? '' : 'disabled'}>Undo</button>
      <button class="btn small" data-testid="play-redo" ${this.forward.length ? '' : 'disabled'}>Redo</button>
      <span class="muted">schedule</span> <code data-testid="play-schedule">${escapeHtml(state.schedule)}</code></div>`);
    this.body.innerHTML = parts.join('');
    this.renderList();
  }

  renderList() {
    const done = progress();
    this.list.innerHTML = this.challenges
      .map((c) => {
        const met = done[c.name] ? '<span class="p-done" title="Goal met">✓</span>' : '';
        const on = this.challenge?.name === c.name ? ' active' : '';
        return `<li><button class="link${on}" data-testid="challenge" data-challenge="${escapeHtml(c.name)}" data-met="${Boolean(done[c.name])}">${escapeHtml(c.title || c.name)}</button>${met}</li>`;
      })
      .join('');
  }
}
