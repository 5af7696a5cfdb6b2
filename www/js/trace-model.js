// Trace events -> lanes of spans and markers in typed arrays, built once (or
// appended to, for the live feed) so the timeline draws only what is visible
// without touching event objects.
//
// A simulated run arrives in column slices while the simulation worker runs
// it (typed arrays from wasm's `takeColumns`, see web/src/columns.rs): the
// lanes are built from them without an object per event, and a whole event
// (for the log, a tooltip, the causes box) is fetched from the worker by
// index when first asked for, a chunk at a time: `event(i)` answers with
// what is here and `eventAsync(i)` / `loadRange` wait for the rest. The live
// feed appends objects.
//
// A lane per thread (reactor, pool threads, plain threads), per core, the GIL,
// timers, clients and counters. Times are milliseconds as float64. An event
// of the reactor itself (a call, a turn, a Deferred) goes on thread 0's lane,
// or on its `home` thread's when it says one: the live feed of a server with
// several reactors gives each reactor a thread of its own.

import { SpanList, MarkerList, LinkList, lowerBound } from './lists.js';

/** Span styles (what a bar means); the timeline maps them to colors. */
export const S = {
  RUN: 1, READY: 2, IO: 3, SLEEP: 4, LOCK_WAIT: 5, GIL_WAIT: 6, POLL: 7, IDLE: 8, BLOCKED: 9,
  CORE: 10, GIL: 11,
  CALL_TIMER: 20, CALL_INBOX: 21, CALL_IO: 22, CALL_TRIGGER: 23, CALL_TASK: 24,
  TURN: 30, JOB_OK: 31, JOB_FAIL: 32, JOB_OPEN: 33,
  LOCK_HOLD: 40, LOCK_WAIT_BAR: 41,
  REQUEST: 50, TIMER_LATE: 60, STALE_READ: 61,
};

/** Marker styles. */
export const M = {
  TIMER_DUE: 1, TIMER_FIRED: 2, TIMER_CANCEL: 3, PRINT: 4, DEF_CREATED: 5, DEF_OK: 6, DEF_FAIL: 7,
  DEF_RECOVER: 8, DEF_CHAIN: 9, DEF_CANCEL: 10, ERROR: 11, INBOX: 12, SYSTEM: 13, STOP: 14,
  JOB_QUEUED: 15, MESSAGE: 16, CONNECTION: 17, BYTES: 18, REQUEST_SENT: 19, LOST_UPDATE: 20,
};

/** Link styles: arrows between related things on different lanes. */
export const L = { JOB_START: 1, JOB_DONE: 2, CHAIN: 3, WAITS_FOR: 4 };

/** Lane groups, top to bottom. */
export const G = { REACTOR: 0, TIMERS: 1, POOL: 2, THREAD: 3, GIL: 4, CORE: 5, IO: 6, CLIENTS: 7, COUNTER: 8 };

const CALL_STYLE = { timer: S.CALL_TIMER, inbox: S.CALL_INBOX, io: S.CALL_IO, trigger: S.CALL_TRIGGER, task: S.CALL_TASK };
const BLOCK_STYLE = { io: S.IO, sleep: S.SLEEP, lock: S.LOCK_WAIT, gil: S.GIL_WAIT, poll: S.POLL, idle: S.IDLE };
const KIND_GROUP = { reactor: G.REACTOR, pool: G.POOL, thread: G.THREAD };

class Lane {
  constructor(key, group, order, title, thread = null) {
    this.key = key;
    this.group = group;
    this.order = order;
    this.title = title;
    this.thread = thread;
    this.state = new SpanList(); // a thread's run / ready / blocked
    this.spans = new SpanList(); // calls, jobs, locks, core and GIL holders, requests
    this.sub = new SpanList(); // the reactor's turns
    this.marks = new MarkerList();
    this.series = null; // counters: {t: [], v: []}
  }
}

/** A job's or Deferred's key: each reactor numbers its own, so another reactor's (`home` > 0) are told apart. */
function idOf(home, id) {
  return home === 0 ? id : `${home}/${id}`;
}

/**
 * `s` as V8's one shared copy of its text (property keys are interned). The
 * kinds and names in the columns come from wasm as fresh strings, and `add`
 * compares each event's kind with a switch and looks its reason and source
 * up by key: with interned strings those are pointer compares, not
 * character compares and string-table lookups a million times over.
 */
const interned = (s) => Object.keys({ [s]: 0 })[0];

/** Whole events fetched from the simulation per request, for the log and the causes box. */
const FETCH_CHUNK = 512;

/**
 * The fields the lane builder reads, filled from the columns in place (one
 * object reused for every event, so a million events make no garbage):
 * event `i` of column slice `s`, with the run's tables `c` (strings, kinds,
 * call sources). Which column holds which field is web/src/columns.rs's table.
 */
function decodeInto(e, c, s, i) {
  const text = s.text[i];
  const a = s.a[i];
  const id = s.id[i];
  const id2 = s.id2[i];
  e.t = s.t[i];
  e.kind = c.kinds[s.kind[i]];
  e.thread = s.thread[i];
  // A reactor call of a Python program is named after the function it ran.
  e.nameId = e.kind === 'call' && s.func[i] >= 0 ? s.func[i] : text;
  e.name = e.nameId >= 0 ? c.strings[e.nameId] : undefined;
  e.lock = e.reason = e.name;
  e.dur = e.due = e.late = e.latency = e.value = e.read_at = a;
  e.core = e.job = e.deferred = e.timer = e.request = id;
  // Only a call's id is a call source: reading the short table at a job's or
  // request's id (past its end) would take V8's slow path for every event.
  e.source = e.kind === 'call' ? c.callSources[id] : undefined;
  e.ok = id2 === 1;
  e.to = e.triggers = id2;
  return e;
}

/** Builds lanes from trace events. */
export class TraceModel {
  constructor() {
    /** The events as objects (the live feed's); null for a run given in columns. */
    this.events = [];
    /** A run given in columns: its slices as they came, and the tables they share ({n, slices, strings, kinds, callSources}). */
    this.cols = null;
    /** Fetches whole events `(from, max) => Promise<object[]>` for a run given in columns. */
    this.fetch = null;
    /** Whole events fetched so far, by chunk (FETCH_CHUNK events each). */
    this.fetched = new Map();
    /** Chunks being fetched: chunk -> promise of its events. */
    this.loading = new Map();
    this.count = 0;
    /** Bumped whenever the lanes change, so a cached drawing knows it is stale. */
    this.revision = 0;
    this.srcIndex = null;
    this.threadLanes = []; // by thread id, and the cores' by core: no key strings per event
    this.coreLanes = [];
    this.threadStrs = []; // string ids, by thread id
    this.threadKeys = []; // lane keys, by thread id
    this.colStrs = []; // string ids, by the columns' string id
    this.lanes = new Map();
    this.links = new LinkList();
    this.strings = [];
    this.stringIds = new Map();
    this.threadNames = new Map();
    this.threadKinds = new Map();
    this.threadColors = new Map();
    this.startMs = Infinity;
    this.endMs = 0;
    this.open = new Map(); // thread -> {style, since, ev}
    this.onCore = new Map(); // thread -> {core, since, ev}; core -1 while it is on none
    this.gilOpen = null; // {thread, since, ev}
    this.locksHeld = new Map(); // `${thread}/${lock}` -> {since, ev, waited}
    this.lockWaits = new Map();
    this.turnsOpen = new Map(); // reactor thread -> {since, ev} of its open turn; ev -1 between turns
    this.jobs = new Map(); // job id -> {queued, started, startEv, thread}
    this.deferreds = new Map(); // deferred id -> [{t, ev}] of the chains waiting for it
    this.palette = 0;
  }

  str(s) {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  lane(key, group, order, title, thread = null) {
    let l = this.lanes.get(key);
    if (!l) {
      l = new Lane(key, group, order, title, thread);
      this.lanes.set(key, l);
    }
    return l;
  }

  /** Thread `id`'s lane key (made once: links name lanes by key, several per job). */
  threadKey(id) {
    return (this.threadKeys[id] ??= `t${id}`);
  }

  threadLane(id) {
    let l = this.threadLanes[id];
    if (l) return l;
    const key = this.threadKey(id);
    l = this.lanes.get(key) ?? this.lane(key, KIND_GROUP[this.threadKind(id)], id, this.threadName(id), id);
    this.threadLanes[id] = l;
    return l;
  }

  /** The string id of an event's `name`: by the columns' own ids when it came in columns (no lookup by text). */
  nameStr(e) {
    if (e.nameId === undefined || !this.cols) return this.str(e.name);
    if (e.nameId < 0) return this.str(undefined);
    return (this.colStrs[e.nameId] ??= this.str(e.name));
  }

  /** The string id of a thread's name. */
  threadStr(id) {
    return (this.threadStrs[id] ??= this.str(this.threadName(id)));
  }

  coreLane(c) {
    return (this.coreLanes[c] ??= this.lane(`c${c}`, G.CORE, c, `core ${c}`));
  }

  // ---- the events, whichever way they came

  /** How many events the model holds. */
  get eventCount() {
    return this.count;
  }

  /**
   * Event `i` as an object (`{t, kind, ...}`, `src` for a Python program's)
   * if it is here; otherwise undefined, and it is being fetched (`loadRange`
   * or `eventAsync` say when it is here).
   */
  event(i) {
    if (!(i >= 0 && i < this.count)) return undefined;
    if (!this.cols) return this.events[i];
    const list = this.fetched.get(Math.floor(i / FETCH_CHUNK));
    if (list) return list[i % FETCH_CHUNK];
    this.loadChunk(Math.floor(i / FETCH_CHUNK));
    return undefined;
  }

  /** Resolves to event `i` as an object (undefined past the end). */
  async eventAsync(i) {
    if (!(i >= 0 && i < this.count)) return undefined;
    return this.event(i) ?? (await this.loadChunk(Math.floor(i / FETCH_CHUNK)))[i % FETCH_CHUNK];
  }

  /** Fetches events `from..to` (exclusive) that are not here yet; resolves when they are. */
  async loadRange(from, to) {
    if (!this.cols) return;
    const first = Math.floor(Math.max(0, from) / FETCH_CHUNK);
    const last = Math.floor((Math.min(to, this.count) - 1) / FETCH_CHUNK);
    const waits = [];
    for (let k = first; k <= last; k++) if (!this.fetched.has(k)) waits.push(this.loadChunk(k));
    await Promise.all(waits);
  }

  /** Chunk `k` of whole events, fetched once (concurrent askers share the request). */
  loadChunk(k) {
    let loading = this.loading.get(k);
    if (loading) return loading;
    const from = k * FETCH_CHUNK;
    const take = (list) => {
      for (let j = 0; j < list.length; j++) {
        const e = list[j];
        const src = this.eventSrc(from + j);
        if (src) e.src = src;
        if (src && e.kind === 'call') e.name = src.func;
      }
      this.fetched.set(k, list);
      this.loading.delete(k);
      return list;
    };
    loading = this.fetch(from, FETCH_CHUNK).then(take, () =>
      // The run is gone (a newer one freed it): what the columns know.
      take(Array.from({ length: Math.min(FETCH_CHUNK, this.count - from) }, (_, j) => this.decodedEvent(from + j))),
    );
    this.loading.set(k, loading);
    return loading;
  }

  /**
   * The column slice holding event `i` of a run given in columns. Reads come
   * in runs of nearby events, so the last slice found is tried first.
   */
  sliceOf(i) {
    const c = this.cols;
    const last = c.slices[c.lastSlice];
    if (last && i >= last.first && i < last.first + last.n) return last;
    c.lastSlice = lowerBound(c.slices.length, (k) => c.slices[k].first + c.slices[k].n <= i);
    return c.slices[c.lastSlice];
  }

  /** Column `key` of event `i`, for a run given in columns. */
  column(key, i) {
    const s = this.sliceOf(i);
    return s[key][i - s.first];
  }

  /** Event `i` as the columns tell it (a new object). */
  decodedEvent(i) {
    const s = this.sliceOf(i);
    return decodeInto({}, this.cols, s, i - s.first);
  }

  /** Event `i`'s time in nanoseconds. */
  eventT(i) {
    return this.cols ? this.column('t', i) : this.events[i].t;
  }

  /** Event `i`'s kind. */
  eventKind(i) {
    return this.cols ? this.cols.kinds[this.column('kind', i)] : this.events[i].kind;
  }

  /** Event `i`'s thread. */
  eventThread(i) {
    return this.cols ? this.column('thread', i) : this.events[i].thread;
  }

  /** Where in the Python program event `i` came from: `{thread, line, func}`, or undefined. */
  eventSrc(i) {
    const c = this.cols;
    if (!c) return this.events[i]?.src;
    const s = this.sliceOf(i);
    const j = i - s.first;
    if (!(s.line[j] > 0)) return undefined;
    return { thread: s.srcThread[j], line: s.line[j], func: s.func[j] >= 0 ? c.strings[s.func[j]] : '' };
  }

  /**
   * Where each thread of a Python program is at event `index`: a map from
   * thread to its latest `src` so far, or null once it has exited. Binary
   * searches in per-thread indexes, so it costs the same at the end of a
   * million events as at the start.
   */
  threadsAt(index) {
    if (!this.srcIndex) this.buildSrcIndex();
    const { events, exits } = this.srcIndex;
    const current = this.eventSrc(index);
    // Each thread's latest event so far (its line, or its exit), newest first.
    const latest = [];
    for (const thread of new Set([...events.keys(), ...exits.keys()])) {
      if (current && thread === current.thread) continue;
      const e = events.get(thread);
      const k = e ? lowerBound(e.n, (j) => e.list[j] <= index) - 1 : -1;
      const last = k >= 0 ? e.list[k] : -1;
      const exit = exits.get(thread) ?? Infinity;
      if (exit <= index && exit >= last) latest.push({ thread, i: exit, src: null });
      else if (last >= 0) latest.push({ thread, i: last, src: this.eventSrc(last) });
    }
    latest.sort((a, b) => b.i - a.i);
    const at = new Map(current ? [[current.thread, current]] : []);
    for (const { thread, src } of latest) at.set(thread, src);
    return at;
  }

  buildSrcIndex() {
    const events = new Map();
    const exits = new Map();
    for (let i = 0; i < this.count; i++) {
      if (this.eventKind(i) === 'thread_exit') {
        const th = this.eventThread(i);
        if (!exits.has(th)) exits.set(th, i);
      }
      const src = this.cols ? (this.column('line', i) > 0 ? this.column('srcThread', i) : -1) : (this.events[i].src?.thread ?? -1);
      if (src < 0) continue;
      let e = events.get(src);
      if (!e) events.set(src, (e = { list: new Int32Array(64), n: 0 }));
      if (e.n === e.list.length) {
        const next = new Int32Array(e.n * 2);
        next.set(e.list);
        e.list = next;
      }
      e.list[e.n++] = i;
    }
    this.srcIndex = { events, exits };
  }

  /** Declares the cores, so idle ones get a lane too. */
  ensureCores(n) {
    for (let c = 0; c < n; c++) this.coreLane(c);
  }

  threadName(id) {
    return this.threadNames.get(id) ?? (id === 0 ? 'reactor' : `thread ${id}`);
  }

  /** `reactor`, `pool` or `thread`. */
  threadKind(id) {
    return this.threadKinds.get(id) ?? (id === 0 ? 'reactor' : 'thread');
  }

  /**
   * Names thread `id` and says what it is (`reactor`, `pool` or `thread`),
   * before or after its lane exists: a live feed from several reactors
   * names each reactor's thread (`home`) and the threads of its pool.
   */
  nameThread(id, name, kind) {
    this.threadNames.set(id, name);
    this.threadKinds.set(id, kind);
    this.threadStrs[id] = undefined;
    const lane = this.threadLanes[id];
    if (lane) {
      lane.title = name;
      lane.group = KIND_GROUP[kind];
    }
  }

  threadColor(id) {
    let c = this.threadColors.get(id);
    if (c) return c;
    if (this.threadKind(id) === 'reactor') c = '#4f46e5';
    else {
      // Hues away from red and amber, which mean waiting for a lock or the GIL.
      const hues = [205, 160, 265, 188, 318, 140, 228, 292, 175, 245, 336, 120];
      const k = this.palette++;
      const h = hues[k % hues.length];
      const l = 44 + ((Math.floor(k / hues.length) * 9) % 18);
      c = `hsl(${h} 58% ${l}%)`;
    }
    this.threadColors.set(id, c);
    return c;
  }

  /** Adds events (objects with `t` in ns and `kind`). */
  append(events) {
    for (const e of events) {
      this.events.push(e);
      this.add(e);
    }
    this.srcIndex = null;
  }

  /**
   * Makes this the model of a run that arrives in column slices
   * (`appendColumns`), with `fetch(from, max)` resolving to whole events by
   * index (the worker's `events`); `addColumns` builds the lanes from what
   * has arrived, in as many slices as suits.
   */
  streamColumns(fetch) {
    this.cols = { n: 0, slices: [], lastSlice: 0, strings: [], kinds: [], callSources: [] };
    this.fetch = fetch;
    this.events = null;
  }

  /**
   * Appends a slice of columns (wasm's `takeColumns`: the events after the
   * last slice, and the strings new in it) to the run. The slices are kept
   * as they came, not copied into one set of columns: for a million events
   * that copy (and the large arrays it grows into, which invite full
   * garbage collections) cost the page more than any other step of taking
   * a slice in.
   */
  appendColumns(slice) {
    const c = this.cols;
    if (slice.first !== c.n) throw new Error(`column slice at ${slice.first}, expected ${c.n}`);
    if (slice.n > 0) c.slices.push(slice);
    for (const s of slice.strings) c.strings.push(interned(s));
    c.kinds = slice.kinds.map(interned);
    c.callSources = slice.callSources.map(interned);
    c.n += slice.n;
  }

  /** Adds the next `n` events of the columns (or the rest); returns how many are left. */
  addColumns(n = Infinity) {
    const c = this.cols;
    const end = Math.min(c.n, this.count + n);
    const e = {};
    while (this.count < end) {
      const s = this.sliceOf(this.count);
      const stop = Math.min(end, s.first + s.n);
      for (let j = this.count - s.first; this.count < stop; j++) this.add(decodeInto(e, c, s, j));
    }
    return c.n - end;
  }

  add(e) {
    const ev = this.count++;
    // The thread of the reactor the event belongs to: 0, unless a live feed
    // from a server with several reactors says otherwise (`home`).
    const home = e.home ?? 0;
    this.revision++;
    const t = e.t / 1e6;
    if (t < this.startMs) this.startMs = t;
    if (t > this.endMs) this.endMs = t;
    switch (e.kind) {
      case 'thread_spawned': {
        this.threadNames.set(e.thread, e.name);
        this.threadStrs[e.thread] = undefined;
        const kind = e.thread === 0 || e.name === 'reactor' ? 'reactor' : /^pool/.test(e.name) ? 'pool' : 'thread';
        this.threadKinds.set(e.thread, kind);
        const lane = this.threadLane(e.thread);
        lane.title = e.name;
        lane.group = KIND_GROUP[kind];
        this.threadColor(e.thread);
        this.setState(e.thread, t, S.READY, ev);
        break;
      }
      case 'thread_run': {
        this.setState(e.thread, t, S.RUN, ev);
        // Reused, as a thread's state is (setState).
        const stay = this.onCore.get(e.thread);
        if (stay) {
          stay.core = e.core;
          stay.since = t;
          stay.ev = ev;
        } else this.onCore.set(e.thread, { core: e.core, since: t, ev });
        this.coreLane(e.core);
        break;
      }
      case 'thread_preempt':
        this.setState(e.thread, t, S.READY, ev);
        break;
      case 'thread_block':
        this.setState(e.thread, t, BLOCK_STYLE[e.reason] ?? S.BLOCKED, ev);
        break;
      case 'thread_exit':
        this.setState(e.thread, t, 0, ev);
        break;
      case 'gil_acquire':
        this.closeGil(t);
        this.gilOpen = { thread: e.thread, since: t, ev };
        this.lane('gil', G.GIL, 0, 'GIL');
        break;
      case 'gil_release':
        this.closeGil(t);
        break;
      case 'lock_wait':
        this.lockWaits.set(`${e.thread}/${e.lock}`, { since: t, ev });
        break;
      case 'lock_timeout': {
        // A timed wait that ran out: its bar ends here, and the thread no
        // longer waits (no arrow to the holder, no bar to a later acquire).
        const k = `${e.thread}/${e.lock}`;
        const w = this.lockWaits.get(k);
        if (w) this.threadLane(e.thread).spans.push(w.since, t, S.LOCK_WAIT_BAR, e.thread, w.ev, this.str(e.lock));
        this.lockWaits.delete(k);
        break;
      }
      case 'lock_acquire': {
        const k = `${e.thread}/${e.lock}`;
        const w = this.lockWaits.get(k);
        if (w) {
          this.threadLane(e.thread).spans.push(w.since, t, S.LOCK_WAIT_BAR, e.thread, w.ev, this.str(e.lock));
          this.lockWaits.delete(k);
        }
        this.locksHeld.set(k, { since: t, ev });
        break;
      }
      case 'lock_release': {
        const k = `${e.thread}/${e.lock}`;
        const h = this.locksHeld.get(k);
        if (h) {
          this.threadLane(e.thread).spans.push(h.since, t, S.LOCK_HOLD, e.thread, h.ev, this.str(e.lock));
          this.locksHeld.delete(k);
        }
        break;
      }
      case 'turn_start': {
        const open = this.turnsOpen.get(home);
        if (open) {
          open.since = t;
          open.ev = ev;
        } else this.turnsOpen.set(home, { since: t, ev });
        break;
      }
      case 'turn_end': {
        const open = this.turnsOpen.get(home);
        if (open && open.ev >= 0) this.threadLane(home).sub.push(open.since, t, S.TURN, home, open.ev);
        if (open) open.ev = -1;
        break;
      }
      case 'call': {
        const end = t + e.dur / 1e6;
        if (end > this.endMs) this.endMs = end;
        this.threadLane(home).spans.push(t, end, CALL_STYLE[e.source] ?? S.CALL_TASK, home, ev, this.nameStr(e));
        break;
      }
      case 'timer_scheduled':
      case 'timer_reset':
        this.timerLane().marks.push(e.due / 1e6, M.TIMER_DUE, ev);
        break;
      case 'timer_cancelled':
        this.timerLane().marks.push(t, M.TIMER_CANCEL, ev);
        break;
      case 'timer_fired': {
        const lane = this.timerLane();
        lane.marks.push(t, M.TIMER_FIRED, ev);
        const late = e.late / 1e6;
        if (late > 0) lane.spans.push(t - late, t, S.TIMER_LATE, 0, ev);
        break;
      }
      case 'job_queued':
        this.jobs.set(idOf(home, e.job), { queued: t });
        this.threadLane(home).marks.push(t, M.JOB_QUEUED, ev);
        break;
      case 'job_started': {
        const job = this.jobs.get(idOf(home, e.job)) ?? { queued: t };
        job.started = t;
        job.startEv = ev;
        job.thread = e.thread;
        this.jobs.set(idOf(home, e.job), job);
        if (!this.threadKinds.has(e.thread)) this.threadKinds.set(e.thread, 'pool');
        this.links.push(job.queued, this.threadKey(home), t, this.threadKey(e.thread), L.JOB_START, ev);
        this.threadLane(e.thread);
        break;
      }
      case 'job_finished': {
        const job = this.jobs.get(idOf(home, e.job));
        const since = job?.started ?? t;
        this.threadLane(e.thread).spans.push(since, t, e.ok ? S.JOB_OK : S.JOB_FAIL, e.thread, job?.startEv ?? ev, this.str(`job #${e.job}`));
        this.jobs.delete(idOf(home, e.job));
        break;
      }
      case 'deferred_created':
        this.threadLane(home).marks.push(t, M.DEF_CREATED, ev);
        break;
      case 'deferred_fired': {
        this.threadLane(home).marks.push(t, e.ok ? M.DEF_OK : M.DEF_FAIL, ev);
        // A pool job's result fires its Deferred: link the job's end to it.
        if (ev > 0 && this.eventKind(ev - 1) === 'job_finished') {
          const prevThread = this.eventThread(ev - 1);
          this.links.push(this.eventT(ev - 1) / 1e6, this.threadKey(prevThread), t, this.threadKey(home), L.JOB_DONE, ev);
        }
        const waiting = this.deferreds.get(idOf(home, e.deferred));
        if (waiting) {
          for (const w of waiting) this.links.push(w.t, this.threadKey(home), t, this.threadKey(home), L.CHAIN, w.ev);
          this.deferreds.delete(idOf(home, e.deferred));
        }
        break;
      }
      case 'deferred_chained': {
        this.threadLane(home).marks.push(t, M.DEF_CHAIN, ev);
        const list = this.deferreds.get(idOf(home, e.to)) ?? [];
        list.push({ t, ev });
        this.deferreds.set(idOf(home, e.to), list);
        break;
      }
      case 'deferred_failed':
        this.threadLane(home).marks.push(t, M.DEF_FAIL, ev);
        break;
      case 'deferred_recovered':
        this.threadLane(home).marks.push(t, M.DEF_RECOVER, ev);
        break;
      case 'deferred_cancelled':
        this.threadLane(home).marks.push(t, M.DEF_CANCEL, ev);
        break;
      case 'unhandled_error':
      case 'callback_panicked':
        this.threadLane(home).marks.push(t, M.ERROR, ev);
        break;
      case 'inbox_delivery':
        this.threadLane(home).marks.push(t, M.INBOX, ev);
        break;
      case 'stop_requested':
      case 'stopped':
        this.threadLane(home).marks.push(t, M.STOP, ev);
        break;
      case 'system_event_phase':
        if (e.triggers > 0) this.threadLane(home).marks.push(t, M.SYSTEM, ev);
        break;
      case 'print':
        this.threadLane(e.thread).marks.push(t, M.PRINT, ev);
        break;
      case 'client_request':
        this.lane('clients', G.CLIENTS, 0, 'clients').marks.push(t, M.REQUEST_SENT, ev);
        break;
      case 'client_response': {
        const sent = t - e.latency / 1e6;
        // The color is a latency bucket (half powers of two of microseconds).
        const bucket = Math.max(0, Math.min(80, Math.round(Math.log2(1 + e.latency / 1e3) * 2)));
        this.lane('clients', G.CLIENTS, 0, 'clients').spans.push(sent, t, S.REQUEST, bucket, ev, -1, e.request % 4);
        break;
      }
      case 'counter': {
        const lane = this.lane(`n:${e.name}`, G.COUNTER, this.lanes.size, e.name);
        if (!lane.series) lane.series = { t: [], v: [], max: 0 };
        lane.series.t.push(t);
        lane.series.v.push(e.value);
        if (e.value > lane.series.max) lane.series.max = e.value;
        break;
      }
      case 'lost_update': {
        // The stale read's window on the writer's lane, the write marked
        // there and on the counter's lane (a scenario counter has one).
        const lane = this.threadLane(e.thread);
        lane.spans.push(e.read_at / 1e6, t, S.STALE_READ, e.thread, ev, this.str(`read ${e.name}`));
        lane.marks.push(t, M.LOST_UPDATE, ev);
        this.lanes.get(`n:${e.name}`)?.marks.push(t, M.LOST_UPDATE, ev);
        break;
      }
      case 'message_received':
      case 'connection_made':
      case 'connection_lost':
      case 'input_rejected':
        this.lane('io', G.IO, 0, 'connections').marks.push(t, e.kind === 'message_received' ? M.MESSAGE : M.CONNECTION, ev);
        break;
      case 'bytes_in':
      case 'bytes_out':
        this.lane('io', G.IO, 0, 'connections').marks.push(t, M.BYTES, ev);
        break;
      // Drawn on no lane: the event log lists them.
      case 'listening':
      case 'listener_closed':
      case 'producer_paused':
      case 'producer_resumed':
        break;
      default:
        break;
    }
  }

  timerLane() {
    return this.lane('timers', G.TIMERS, 0, 'timers');
  }

  setState(thread, t, style, ev) {
    const lane = this.threadLane(thread);
    const cur = this.open.get(thread);
    if (cur) lane.state.push(cur.since, t, cur.style, thread, cur.ev);
    // Any change ends the thread's stay on its core (thread_run opens a new one).
    const core = this.onCore.get(thread);
    if (core && core.core >= 0) {
      this.coreLane(core.core).spans.push(core.since, t, S.CORE, thread, core.ev, this.threadStr(thread));
      core.core = -1;
    }
    if (!style) this.open.delete(thread);
    else if (cur) {
      // Reused: a million state changes need not make a million objects.
      cur.style = style;
      cur.since = t;
      cur.ev = ev;
    } else this.open.set(thread, { style, since: t, ev });
  }

  closeGil(t) {
    const g = this.gilOpen;
    if (!g) return;
    this.lanes.get('gil')?.spans.push(g.since, t, S.GIL, g.thread, g.ev, this.threadStr(g.thread));
    this.gilOpen = null;
  }

  /** Closes what is still open at `endMs` (a finished run's end). */
  finish(endMs) {
    const end = Math.max(endMs, this.endMs);
    for (const [thread, cur] of this.open) {
      this.threadLane(thread).state.push(cur.since, end, cur.style, thread, cur.ev);
    }
    this.open.clear();
    for (const [thread, core] of this.onCore) {
      if (core.core < 0) continue;
      this.coreLane(core.core).spans.push(core.since, end, S.CORE, thread, core.ev, this.str(this.threadName(thread)));
    }
    this.onCore.clear();
    this.closeGil(end);
    for (const [k, h] of this.locksHeld) {
      const [thread, lock] = [Number(k.split('/')[0]), k.slice(k.indexOf('/') + 1)];
      this.threadLane(thread).spans.push(h.since, end, S.LOCK_HOLD, thread, h.ev, this.str(lock));
    }
    // Who still waits for a lock waits for its holder: an arrow from the
    // waiter to the holder where the wait began. In a deadlock the arrows
    // close a cycle.
    for (const [k, w] of this.lockWaits) {
      const [thread, lock] = [Number(k.split('/')[0]), k.slice(k.indexOf('/') + 1)];
      const holder = [...this.locksHeld.keys()].find((h) => h.slice(h.indexOf('/') + 1) === lock);
      if (holder !== undefined) this.links.push(w.since, `t${thread}`, w.since, `t${holder.split('/')[0]}`, L.WAITS_FOR, w.ev);
    }
    this.locksHeld.clear();
    for (const [, job] of this.jobs) {
      if (job.started !== undefined) {
        this.threadLane(job.thread).spans.push(job.started, end, S.JOB_OPEN, job.thread, job.startEv, this.str('job (running)'));
      }
    }
    this.jobs.clear();
    for (const [home, open] of this.turnsOpen) if (open.ev >= 0) this.threadLane(home).sub.push(open.since, end, S.TURN, home, open.ev);
    this.turnsOpen.clear();
    this.endMs = end;
    this.index();
    this.revision++;
  }

  index() {
    for (const lane of this.lanes.values()) {
      lane.state.index();
      lane.spans.index();
      lane.sub.index();
      lane.marks.index();
    }
  }

  /** Lanes in display order. */
  orderedLanes() {
    return [...this.lanes.values()].sort((a, b) => a.group - b.group || a.order - b.order);
  }
}
