// The page's side of the live echo: the reactor and its WebSocket run in a
// worker (live-echo-worker.js), so a reply is timed when it arrives, however
// busy the page is drawing; the page times the rest, from its send to the
// frame that shows the reply. Each round trip is reported as
//
//   network + server   the probe's own round trip, in the worker
//   page               everything else until the reply is painted: the
//                      hops to and from the worker, the page's queue and
//                      its drawing (total - network + server)

/**
 * Calls `f` once the page has painted what it changed so far: a frame
 * callback runs just before the paint, and a message posted from it is
 * handled just after. A hidden tab paints nothing, hence the timeout.
 */
export function afterPaint(f) {
  let done = false;
  const once = (painted) => {
    if (done) return;
    done = true;
    f(painted);
  };
  const fallback = setTimeout(() => once(false), 1000);
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      clearTimeout(fallback);
      once(true);
    };
    channel.port2.postMessage(null);
  });
}

/** The `q` quantile of sorted `xs` (nearest rank). */
export const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];

const EMPTY = { sent: 0, received: 0, lost: 0, min_ms: 0, mean_ms: 0, p50_ms: 0, p90_ms: 0, p99_ms: 0, max_ms: 0 };

/**
 * A connection of the echo worker to `url`.
 *
 * ```js
 * const echo = new EchoClient('ws://127.0.0.1:8080/ws', {
 *   onOpen: () => echo.send('hello'),
 *   onTrip: ({ id, text, rtt_ms, sentAt }) => console.log(id, text, rtt_ms, sentAt),
 *   onClose: (reason) => console.log(reason),
 * });
 * ```
 */
export class EchoClient {
  constructor(url, { onOpen, onClose, onTrip, onSent, onError }) {
    this.state = 'connecting';
    this.summary = EMPTY; // the worker's LatencyProbe statistics, as of its last message
    this.next = 0;
    this.sentAt = new Map(); // id -> performance.now() at the page's send
    this.worker = new Worker('js/live-echo-worker.js', { type: 'module' });
    this.worker.onerror = (e) => {
      this.state = 'closed';
      onError?.(`the echo worker failed: ${e.message || 'it did not load'}`);
    };
    this.worker.onmessage = ({ data: m }) => {
      if (m.summary) this.summary = m.summary;
      switch (m.type) {
        case 'open':
          this.state = 'open';
          onOpen?.();
          break;
        case 'close':
          this.state = 'closed';
          onClose?.(m.reason);
          this.worker.terminate();
          break;
        case 'sent':
          onSent?.(m);
          break;
        case 'refused':
          this.sentAt.delete(m.id);
          onError?.(m.message);
          break;
        case 'trip': {
          const sentAt = this.sentAt.get(m.id);
          this.sentAt.delete(m.id);
          onTrip?.({ ...m, sentAt });
          break;
        }
        case 'error':
          onError?.(m.message);
          break;
        default:
          break;
      }
    };
    this.worker.postMessage({ type: 'connect', url });
  }

  /** Sends `text` as a probe; returns its id (the probe's sequence number). Throws unless open. */
  send(text) {
    if (this.state !== 'open') throw new Error(`the echo connection is ${this.state}`);
    const id = this.next++;
    this.sentAt.set(id, performance.now());
    this.worker.postMessage({ type: 'send', id, text });
    return id;
  }

  /** Closes the connection; the worker ends once it has closed. */
  close() {
    if (this.state === 'closed') {
      this.worker.terminate();
      return;
    }
    this.worker.postMessage({ type: 'close' });
  }
}
