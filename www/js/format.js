// Numbers, times and one-line descriptions of trace events, for people.

/** A duration or time in milliseconds, in the unit that reads best. */
export function fmtMs(ms, digits = 3) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const a = Math.abs(ms);
  if (a === 0) return '0';
  if (a < 0.001) return `${trim(ms * 1e6, digits)} ns`;
  if (a < 1) return `${trim(ms * 1e3, digits)} µs`;
  if (a < 1000) return `${trim(ms, digits)} ms`;
  return `${trim(ms / 1e3, digits)} s`;
}

/** `n` with at most `digits` significant digits, no trailing zeros. */
export function trim(n, digits = 3) {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  // Below 1, significant digits: 0.00098, not 0.
  if (a > 0 && a < 1) return String(Number(n.toPrecision(digits)));
  const decimals = a >= 100 ? Math.max(0, digits - 3) : a >= 10 ? Math.max(0, digits - 2) : Math.max(0, digits - 1);
  return String(Number(n.toFixed(Math.min(decimals, 6))));
}

/** Integers with thin-space thousands. */
export function fmtInt(n) {
  if (n === null || n === undefined) return '–';
  return Math.round(n).toLocaleString('en-US').replace(/,/g, '\u2009');
}

export function fmtPct(x) {
  return `${(x * 100).toFixed(x >= 0.995 || x === 0 ? 0 : 1)}%`;
}

/** Nanoseconds to milliseconds. */
export const nsToMs = (ns) => ns / 1e6;

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** The thread (or pseudo-lane) an event belongs to, for the log's second column. */
export function eventThread(e) {
  if (e.thread !== undefined) return e.thread;
  switch (e.kind) {
    case 'client_request':
    case 'client_response':
      return 'clients';
    case 'counter':
      return 'counter';
    default:
      return e.home ?? 0; // the reactor's own events (on its own thread, when a live feed has several)
  }
}

/** One line saying what an event means. `name(thread)` names threads. */
export function describeEvent(e, name = (t) => `thread ${t}`) {
  const th = () => name(e.thread);
  switch (e.kind) {
    case 'thread_spawned': return `${e.name} started`;
    case 'thread_run': return `${th()} runs on core ${e.core}`;
    case 'thread_preempt': return `${th()} taken off core ${e.core}`;
    case 'thread_block': return `${th()} blocks: ${blockReason(e.reason)}`;
    case 'thread_exit': return `${th()} exits`;
    case 'gil_acquire': return `${th()} takes the GIL`;
    case 'gil_release': return `${th()} drops the GIL`;
    case 'lock_wait': return `${th()} waits for lock ${e.lock}`;
    case 'lock_acquire': return `${th()} gets lock ${e.lock}${e.waited ? ` after ${fmtMs(nsToMs(e.waited))}` : ''}`;
    case 'lock_release': return `${th()} releases lock ${e.lock}`;
    case 'lock_timeout': return `${th()} stops waiting for lock ${e.lock}: its timeout ran out`;
    case 'turn_start': return `turn ${e.turn} begins${e.inbox ? `, ${e.inbox} call(s) from the inbox` : ''}`;
    case 'turn_end': return `turn ${e.turn} ends`;
    case 'call': return `${e.name} (${e.source}${e.id ? ` #${e.id}` : ''}) ${e.dur ? `ran ${fmtMs(nsToMs(e.dur))}` : 'ran'}`;
    case 'callback_panicked': return `callback ${e.name} panicked: ${e.message}`;
    case 'timer_scheduled': return `call_later: timer #${e.timer} ${e.name ? `${e.name} ` : ''}due at ${fmtMs(nsToMs(e.due))}`;
    case 'timer_reset': return `timer #${e.timer} moved to ${fmtMs(nsToMs(e.due))}`;
    case 'timer_cancelled': return `timer #${e.timer} cancelled`;
    case 'timer_fired': return `timer #${e.timer} fires${e.late ? `, ${fmtMs(nsToMs(e.late))} late` : ''}`;
    case 'inbox_delivery': return `inbox delivers a call (${e.depth} left)`;
    case 'stop_requested': return 'reactor.stop() called';
    case 'system_event_phase': return `${e.event} triggers, ${e.phase} phase (${e.triggers})`;
    case 'stopped': return 'the reactor stopped';
    case 'deferred_created': return `Deferred #${e.deferred} created (${e.label})`;
    case 'deferred_fired': return `Deferred #${e.deferred} fires ${e.ok ? 'with a result' : 'with a failure'}`;
    case 'deferred_chained': return `Deferred #${e.deferred} waits for Deferred #${e.to}`;
    case 'deferred_failed': return `Deferred #${e.deferred} callback failed: ${e.message}`;
    case 'deferred_recovered': return `Deferred #${e.deferred} recovered in an errback`;
    case 'deferred_cancelled': return `Deferred #${e.deferred} cancelled`;
    case 'unhandled_error': return `Unhandled error in Deferred #${e.deferred}: ${e.message}`;
    case 'job_queued': return `job #${e.job} queued for the pool (${e.name})`;
    case 'job_started': return `job #${e.job} starts on ${th()}`;
    case 'job_finished': return `job #${e.job} ${e.ok ? 'done' : 'failed'} on ${th()}`;
    case 'listening': return `listening on ${e.addr}`;
    case 'listener_closed': return `listener #${e.listener} closed`;
    case 'connection_made': return `connection #${e.conn} from ${e.peer}`;
    case 'connection_lost': return `connection #${e.conn} lost: ${e.reason}`;
    case 'bytes_in': return `${e.n} bytes in on #${e.conn}`;
    case 'bytes_out': return `${e.n} bytes out on #${e.conn}`;
    case 'message_received': return `message of ${e.len} bytes on #${e.conn}`;
    case 'input_rejected': return `input rejected on #${e.conn}: ${e.reason}`;
    case 'producer_paused': return `#${e.conn} paused (write buffer full)`;
    case 'producer_resumed': return `#${e.conn} resumed`;
    case 'client_request': return `client ${e.client} sends request ${e.request}`;
    case 'client_response': return `client ${e.client} gets answer ${e.request} after ${fmtMs(nsToMs(e.latency))}`;
    case 'print': return `${th()}: ${e.text}`;
    case 'counter': return `${e.name} = ${e.value}`;
    case 'lost_update': return describeLostUpdate(e, th());
    default: {
      const { t, kind, ...rest } = e;
      return `${kind} ${JSON.stringify(rest)}`;
    }
  }
}

/**
 * A write computed from a stale read: who read what and when, what it wrote
 * over, and how many other updates that erased (negative: an earlier stale
 * write had set the value back, and this one restores that many).
 */
function describeLostUpdate(e, who) {
  const n = e.overwritten;
  const head = `${who} read ${e.name} = ${fmtInt(e.read)} at ${fmtMs(nsToMs(e.read_at), 4)}, wrote ${fmtInt(e.wrote)} over ${fmtInt(e.read + n)}`;
  return n > 0
    ? `${head}: lost update, ${fmtInt(n)} ${n === 1 ? 'update' : 'updates'} by other threads overwritten`
    : `${head}: restores ${fmtInt(-n)} lost ${n === -1 ? 'update' : 'updates'} an earlier stale write erased`;
}

export function blockReason(reason) {
  return (
    {
      io: 'blocking I/O',
      sleep: 'sleeping',
      lock: 'waiting for a lock',
      gil: 'waiting for the GIL',
      poll: 'in poll (idle)',
      idle: 'idle, waiting for work',
    }[reason] || reason
  );
}
