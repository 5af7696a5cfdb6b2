// Live mode: talk to the `twine serve` this page came from. The echo console
// runs core's LatencyProbe on a real twine-core reactor in the page's worker
// (LiveEcho, wasm) over a WebSocket to /ws; the chat pane joins /ws/chat;
// and the server's own reactor trace (/ws/trace) is drawn on the same
// timeline as the simulations. A server started with --admin-token guards
// the trace: the page sends the token from its field (filled from
// `#token=TOKEN` in the address, which never leaves the browser) as
// `?token=`, since a browser cannot set headers on a WebSocket.
//
// The echo's reactor runs in a worker (live-echo.js), so each round trip
// is told as what the network and server took, timed off the page's
// thread, and what the page added until the reply was painted.

import { Timeline } from './timeline.js';
import { TraceModel } from './trace-model.js';
import { EventLog } from './event-log.js';
import { fmtMs, escapeHtml, trim } from './format.js';
import { EchoClient, afterPaint, quantile } from './live-echo.js';

const MAX_EVENTS = 150_000;

function wsUrl(path) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/** The admin token given in the address (`#token=` among the other fragment parameters). */
function tokenFromHash() {
  return new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '';
}

export class LiveView {
  constructor(root) {
    this.root = root;
    this.echo = null;
    this.chat = null;
    this.trace = null;
    this.pending = [];
    this.dropped = 0;
    // `twine serve --reactors N`: the feed names each event's reactor, and
    // every reactor is drawn at once, a lane each ("reactor 1", "reactor 2",
    // ...) on one time axis (the server's reactors share one clock), its
    // pool threads beside it. Each reactor numbers its threads, jobs and
    // Deferreds from its own start, so the page gives reactor r's threads
    // ids of their own (`threadId`) and tells the model which reactor
    // thread each event is `home` on.
    this.reactors = 1;
    this.threadIds = new Map(); // `${reactor}/${thread}` -> the model's thread id
    this.threadNames = new Map(); // the model's thread id -> [name, kind], kept across a Clear
    this.connected = false;
    this.pendingRows = new Map();
    this.pageMs = []; // per echo back: what the page added to its round trip, until the reply was painted
    root.innerHTML = `
      <div class="live-bar">
        <button class="btn primary" data-testid="live-connect" id="live-connect">Connect to this server</button>
        <span class="live-status" id="live-status" data-state="idle">Not connected.</span>
        <label class="check live-token" id="live-token-label" ${tokenFromHash() ? '' : 'hidden'}>admin token
          <input type="password" id="live-token" data-testid="live-token" autocomplete="off" size="18" value="${escapeHtml(tokenFromHash())}"></label>
        <span class="muted small live-host">${escapeHtml(location.host || '(no server: open the page from twine serve)')}</span>
      </div>
      <p class="live-intro">This page can talk to the <code>twine serve</code> it came from. The echo console runs a real
        twine-core reactor <em>inside this page</em> (compiled to WebAssembly, in a worker, driven by the browser's event loop) whose
        <code>LatencyProbe</code> protocol times each round trip to the server's <code>/ws</code> echo. The timeline below is the
        <em>server's</em> reactors, streamed from <code>/ws/trace</code>, a lane each: send a message and watch the server receive and answer it.</p>
      <section class="panel live-trace">
        <div class="panel-head"><h3>The server's reactor, live <small>/ws/trace</small></h3>
          <span class="muted small" id="live-stats"></span>
          <label class="check"><input type="checkbox" id="live-follow" checked> follow</label>
          <button class="btn ghost small" id="live-clear">Clear</button></div>
        <div class="tl-area">
          <div class="tl-wrap"><canvas id="live-timeline" tabindex="0" aria-label="The server's reactor timeline"></canvas><div class="tooltip" hidden></div>
            <div class="tl-empty" id="live-empty">Connect to see the server's reactor turns, calls and messages as they happen.</div></div>
          <div class="log" id="live-log"></div>
        </div>
      </section>
      <div class="live-grid">
        <section class="panel">
          <div class="panel-head"><h3>Echo <small>/ws · LatencyProbe in wasm</small></h3><span class="muted small" id="echo-summary"></span></div>
          <p class="echo-explain small muted" data-testid="echo-explain"><b>network + server</b>: the probe's round trip, timed by the reactor in a worker, off the page's thread;
            <b>+ page</b>: what this page added until the reply was painted (handing it over, its queue, its drawing).</p>
          <form class="live-form" id="echo-form">
            <input data-testid="echo-input" id="echo-input" placeholder="Type a message and press Enter" autocomplete="off" disabled>
            <button class="btn" disabled>Send</button>
            <button type="button" class="btn ghost" id="echo-burst" disabled title="Send 50 probes at once (the first three are listed; the summary counts all)">Send 50</button>
          </form>
          <ol data-testid="echo-output" class="echo-out" id="echo-output"></ol>
        </section>
        <section class="panel">
          <div class="panel-head"><h3>Chat <small>/ws/chat</small></h3><span class="muted small" id="chat-state"></span></div>
          <form class="live-form" id="chat-form">
            <input id="chat-input" placeholder="Say something to the room" autocomplete="off" disabled>
            <button class="btn" disabled>Send</button>
          </form>
          <ol class="chat-log" id="chat-log"><li class="muted small">Every message goes to every other member of the room: open this page in a second tab to talk to it.</li></ol>
        </section>
      </div>`;
    const $ = (s) => root.querySelector(s);
    this.$ = $;
    this.model = new TraceModel();
    this.timeline = new Timeline($('#live-timeline'), { follow: true, tooltip: $('.live-trace .tooltip') });
    this.timeline.setModel(this.model);
    this.log = new EventLog($('#live-log'), {
      empty: "The server's trace events appear here as they happen.",
      onPick: (i) => {
        const e = this.model.events[i];
        if (!e) return;
        this.setFollow(false);
        this.log.setSelected(i);
        this.timeline.setSelected(i);
        this.timeline.reveal(e.t / 1e6);
      },
    });
    this.log.setModel(this.model);
    $('#live-connect').addEventListener('click', () => (this.connected ? this.disconnect() : this.connect()));
    $('#echo-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('#echo-input');
      if (input.value === '') return;
      this.sendEcho(input.value);
      input.value = '';
    });
    $('#echo-burst').addEventListener('click', () => {
      for (let i = 1; i <= 50; i++) this.sendEcho(`probe ${i} of 50`, { quiet: i > 3 });
    });
    $('#chat-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('#chat-input');
      if (input.value === '' || !this.chat || this.chat.readyState !== WebSocket.OPEN) return;
      this.chat.send(input.value);
      this.chatLine('you', input.value, true);
      input.value = '';
    });
    // A token given in the address later (a pasted link) fills the field too.
    window.addEventListener('hashchange', () => {
      const token = tokenFromHash();
      if (!token) return;
      $('#live-token').value = token;
      $('#live-token-label').hidden = false;
    });
    $('#live-follow').addEventListener('change', (ev) => this.setFollow(ev.target.checked));
    $('#live-clear').addEventListener('click', () => this.resetModel([]));
    const canvas = $('#live-timeline');
    canvas.addEventListener('pointerdown', () => this.setFollow(false));
    canvas.addEventListener('wheel', () => this.setFollow(false), { passive: true });
    canvas.addEventListener('dblclick', () => this.setFollow(true));
  }

  show() {
    this.timeline.resize();
  }

  setFollow(on) {
    this.timeline.follow = on;
    this.$('#live-follow').checked = on;
  }

  status(text, state) {
    const el = this.$('#live-status');
    el.textContent = text;
    el.dataset.state = state;
  }

  /** `?token=…` for the admin routes, when a token was given. */
  tokenQuery() {
    const token = this.$('#live-token').value.trim();
    return token ? `?token=${encodeURIComponent(token)}` : '';
  }

  /**
   * Whether the server lets this page see its trace: asks /metrics, which
   * the same token guards (a refused WebSocket upgrade shows the page no
   * status). When refused, says why and how to give the token.
   */
  async traceAllowed() {
    let status;
    try {
      status = (await fetch(`/metrics${this.tokenQuery()}`, { cache: 'no-store' })).status;
    } catch {
      return true; // the trace's own connection will say what is wrong
    }
    if (status !== 401) return true;
    this.$('#live-token-label').hidden = false;
    const given = this.tokenQuery() !== '';
    this.status(
      given
        ? 'The server refused this admin token, so its reactor trace is not shown (echo and chat work without it). Check the token (twine serve --admin-token) and connect again.'
        : 'This server guards its reactor trace with an admin token (twine serve --admin-token): enter it in the field, or open the page with #token=TOKEN, and connect again. Echo and chat work without it.',
      'error',
    );
    this.$('#live-token').focus();
    return false;
  }

  async connect() {
    if (!location.host) {
      this.status('This page was not served by twine serve, so there is no server to talk to.', 'error');
      return;
    }
    this.connected = true;
    this.$('#live-connect').textContent = 'Disconnect';
    this.status('Connecting…', 'connecting');
    const trace = await this.traceAllowed();
    if (!this.connected) return;
    // The trace feed first, so the timeline sees the echo's first message.
    let rest = () => {
      rest = () => {};
      if (!this.connected) return;
      this.connectEcho({ trace });
      this.connectChat();
    };
    if (trace) {
      this.connectTrace(() => rest());
      setTimeout(() => rest(), 3000);
    } else {
      rest();
    }
    const flush = () => {
      if (!this.connected && this.pending.length === 0) return;
      this.flush();
      requestAnimationFrame(flush);
    };
    requestAnimationFrame(flush);
  }

  disconnect() {
    this.connected = false;
    this.$('#live-connect').textContent = 'Connect to this server';
    this.echo?.close();
    this.chat?.close(1000);
    this.trace?.close(1000);
    this.echo = null;
    this.chat = null;
    this.trace = null;
    this.enable(false);
    this.status('Disconnected.', 'idle');
  }

  enable(on) {
    for (const sel of ['#echo-input', '#echo-form button', '#echo-burst']) this.root.querySelectorAll(sel).forEach((el) => { el.disabled = !on; });
  }

  connectEcho({ trace = true } = {}) {
    this.pageMs = [];
    const echo = new EchoClient(wsUrl('/ws'), {
      onOpen: () => {
        this.enable(true);
        if (trace) this.status('Connected: echo, chat and the trace feed.', 'open');
        this.$('#echo-input').focus();
        this.updateSummary();
      },
      onClose: (reason) => {
        if (this.echo !== echo) return;
        this.enable(false);
        this.status(`Echo ${reason}.`, 'closed');
      },
      onSent: () => this.updateSummary(),
      onTrip: (trip) => this.onRoundTrip(echo, trip),
      onError: (message) => {
        if (this.echo === echo) this.status(`Echo: ${message}`, 'error');
      },
    });
    this.echo = echo;
  }

  sendEcho(text, { quiet = false } = {}) {
    if (!this.echo || this.echo.state !== 'open') return;
    let id;
    try {
      id = this.echo.send(text);
    } catch (e) {
      this.status(e.message, 'error');
      return;
    }
    if (quiet) return;
    const li = document.createElement('li');
    li.className = 'pending';
    li.dataset.seq = String(id);
    li.innerHTML = `<span class="echo-seq">#${id}</span><span class="echo-text">${escapeHtml(text)}</span><span class="echo-rtt">…</span>`;
    const out = this.$('#echo-output');
    out.prepend(li);
    while (out.children.length > 200) out.lastChild.remove();
    this.pendingRows.set(id, li);
  }

  /**
   * A reply: `rtt_ms` is the network and the server's part (timed in the
   * worker); the page's part is the rest of the time from the page's send
   * (`sentAt`) to the frame that shows the reply.
   */
  onRoundTrip(echo, { id, text, rtt_ms: rtt, sentAt }) {
    if (this.echo !== echo) return; // a new connection has its own figures
    const li = this.pendingRows.get(id);
    if (li) {
      this.pendingRows.delete(id);
      li.classList.remove('pending');
      li.dataset.rtt = String(rtt);
      li.querySelector('.echo-rtt').innerHTML = `<span class="echo-net" title="network + server, timed in the worker">${fmtMs(rtt, 3)}</span> <span class="echo-page" title="what the page added, until the reply was painted">+ …</span>`;
      li.querySelector('.echo-text').textContent = text;
    }
    afterPaint((painted) => {
      if (this.echo !== echo) return;
      const page = painted && sentAt !== undefined ? performance.now() - sentAt - rtt : null;
      if (page !== null) this.pageMs.push(page);
      if (li) {
        li.querySelector('.echo-page').textContent = page === null ? '(not painted: tab hidden)' : `+ ${fmtMs(Math.max(page, 0), 2)} page`;
        if (page !== null) {
          li.dataset.pageMs = String(page);
          li.dataset.totalMs = String(rtt + page);
        }
      }
      this.updateSummary();
    });
    this.updateSummary();
  }

  updateSummary() {
    if (!this.echo) return;
    const s = this.echo.summary;
    const page = [...this.pageMs].sort((a, b) => a - b);
    const pageText = page.length ? ` · page adds p50 ${fmtMs(quantile(page, 0.5), 2)}, max ${fmtMs(page[page.length - 1], 2)}` : '';
    this.$('#echo-summary').textContent = s.received
      ? `${s.received}/${s.sent} back · network + server p50 ${fmtMs(s.p50_ms)} · p99 ${fmtMs(s.p99_ms)} · max ${fmtMs(s.max_ms)}${pageText}`
      : `${s.sent} sent`;
  }

  connectChat() {
    const ws = new WebSocket(wsUrl('/ws/chat'));
    this.chat = ws;
    ws.addEventListener('open', () => {
      this.$('#chat-input').disabled = false;
      this.$('#chat-form button').disabled = false;
      this.$('#chat-state').textContent = 'in the room';
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data === 'string') this.chatLine('someone', ev.data, false);
    });
    ws.addEventListener('close', () => {
      this.$('#chat-input').disabled = true;
      this.$('#chat-form button').disabled = true;
      this.$('#chat-state').textContent = 'left the room';
    });
  }

  chatLine(who, text, mine) {
    const log = this.$('#chat-log');
    const li = document.createElement('li');
    li.className = mine ? 'mine' : 'theirs';
    li.innerHTML = `<b>${escapeHtml(who)}</b> ${escapeHtml(text)}`;
    log.append(li);
    while (log.children.length > 300) log.firstChild.remove();
    log.scrollTop = log.scrollHeight;
  }

  connectTrace(onReady) {
    const ws = new WebSocket(wsUrl(`/ws/trace${this.tokenQuery()}`));
    this.trace = ws;
    ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      switch (msg.type) {
        case 'hello': {
          this.reactors = Math.max(1, msg.reactors ?? 1);
          // Every reactor has its lane from the start, busy or not.
          for (let r = 0; r < this.reactors; r++) this.threadId(r, 0);
          this.timeline.invalidate();
          ws.send(JSON.stringify({ type: 'subscribe', kinds: 'all', max_rate: 5000 }));
          break;
        }
        case 'subscribed':
          onReady();
          break;
        case 'event': {
          const { type, seq, reactor = 0, ...event } = msg;
          this.pending.push(this.placed(reactor, event));
          break;
        }
        case 'dropped':
          this.dropped = msg.total ?? this.dropped + msg.count;
          break;
        case 'error':
          this.status(`Trace feed: ${msg.message}`, 'error');
          break;
        default:
          break;
      }
    });
    ws.addEventListener('close', () => {
      onReady();
      if (this.trace === ws && this.connected) this.status('The trace feed closed.', 'closed');
    });
  }

  /**
   * The model's id for reactor `r`'s thread `thread` (0 is the reactor's
   * own), named on first sight. With one reactor, the ids are the feed's.
   */
  threadId(r, thread) {
    const key = `${r}/${thread}`;
    let id = this.threadIds.get(key);
    if (id !== undefined) return id;
    // Reactor 0 keeps its ids; the others' threads are numbered from 1000
    // (far above any pool's size).
    id = r === 0 ? thread : 1000 + this.threadIds.size;
    this.threadIds.set(key, id);
    if (this.reactors > 1) {
      const kind = thread === 0 ? 'reactor' : 'pool';
      this.threadNames.set(id, [thread === 0 ? `reactor ${r + 1}` : `reactor ${r + 1} thread ${thread}`, kind]);
      this.nameThreads(this.model);
    }
    return id;
  }

  /** Gives `model` the names of every reactor and pool thread seen, and a lane to each reactor. */
  nameThreads(model) {
    for (const [id, [name, kind]] of this.threadNames) {
      model.nameThread(id, name, kind);
      if (kind === 'reactor') model.threadLane(id);
    }
  }

  /** A feed event of reactor `r`, on that reactor's lanes. */
  placed(r, event) {
    if (this.reactors === 1) return event;
    event.home = this.threadId(r, 0);
    if (event.thread !== undefined) event.thread = this.threadId(r, event.thread);
    return event;
  }

  resetModel(keep) {
    this.model = new TraceModel();
    this.nameThreads(this.model);
    this.model.append(keep);
    this.timeline.setModel(this.model, { keepView: true });
    this.log.setModel(this.model);
  }

  flush() {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    if (this.model.events.length + batch.length > MAX_EVENTS) {
      this.resetModel(this.model.events.slice(-MAX_EVENTS / 2));
    }
    this.model.append(batch);
    this.model.index();
    this.timeline.invalidate();
    this.log.appended();
    this.$('#live-empty').hidden = true;
    const canvas = this.$('#live-timeline');
    canvas.dataset.events = String(this.model.events.length);
    this.$('#live-stats').textContent = `${this.model.events.length.toLocaleString('en-US')} events${this.dropped ? ` · ${this.dropped} dropped (the server never waits for a viewer)` : ''} · ${trim(this.timeline.followWindow / 1000, 2)} s window`;
  }
}
