// The live echo's reactor, off the page's thread: a dedicated worker runs
// the wasm LiveEcho (core's LatencyProbe over a WebSocket to /ws), so the
// handler that times a reply runs when the reply arrives, not after the
// page has drawn its next frame. The page (live.js) sends it commands and
// gets back what happened:
//
//   page -> worker  {type: 'connect', url} | {type: 'send', id, text} | {type: 'close'}
//   worker -> page  {type: 'open'} | {type: 'close', reason}
//                   {type: 'sent', id, seq, summary} | {type: 'refused', id, message}
//                   {type: 'trip', id, seq, text, rtt_ms, summary} | {type: 'error', message}

// The full module's: the light one (the first load) leaves LiveEcho out.
import init, { LiveEcho } from '../pkg/py/twine_web.js';

const ready = init();
let echo = null;
const ids = new Map(); // probe seq -> the page's id for it

const post = (message) => self.postMessage(message);

function connect(url) {
  echo?.close();
  ids.clear();
  const mine = new LiveEcho(url);
  echo = mine;
  mine.onOpen(() => post({ type: 'open' }));
  mine.onClose((reason) => {
    if (echo === mine) post({ type: 'close', reason });
  });
  mine.onRoundTrip(({ seq, text, rtt_ms }) => {
    const id = ids.get(seq);
    ids.delete(seq);
    post({ type: 'trip', id, seq, text, rtt_ms, summary: mine.summary() });
  });
}

self.onmessage = async ({ data }) => {
  try {
    await ready;
  } catch (e) {
    post({ type: 'error', message: `the echo's WebAssembly did not load: ${e.message}` });
    return;
  }
  switch (data.type) {
    case 'connect':
      try {
        connect(data.url);
      } catch (e) {
        post({ type: 'error', message: String(e.message ?? e) });
      }
      break;
    case 'send':
      try {
        const seq = echo.send(data.text);
        ids.set(seq, data.id);
        post({ type: 'sent', id: data.id, seq, summary: echo.summary() });
      } catch (e) {
        post({ type: 'refused', id: data.id, message: String(e.message ?? e) });
      }
      break;
    case 'close':
      echo?.close();
      break;
    default:
      break;
  }
};
