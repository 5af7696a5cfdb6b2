// The light module's cold half. The build splits the light module
// (xtask/src/split.rs) by what a run of a preset calls: those functions stay
// in twine_web_bg.wasm, which Run waits for; the rest (the views' reads:
// events, stacks, queues, seeking; errors no preset raises...) move to
// twine_web_cold.wasm, fetched after Run is possible. Each moved function
// left a stub that calls the table's last slot first: the loader put there
// links the cold half, synchronously if it has not arrived yet, and then
// puts a no-op in its place. A module that was not split (the full one)
// has no `s:l` export and is left alone.

/**
 * A module of two functions for the table's loader slot: `l`, which calls
 * the JS function imported as `j.l`, and `n`, which does nothing (a table
 * holds wasm functions only, so the JS loader goes in re-exported).
 */
const SLOT_FUNCTIONS = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: [] -> []
  0x02, 0x07, 0x01, 0x01, 0x6a, 0x01, 0x6c, 0x00, 0x00, // import "j" "l": function of type 0
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x07, 0x09, 0x02, 0x01, 0x6c, 0x00, 0x00, 0x01, 0x6e, 0x00, 0x01, // export "l" = 0, "n" = 1
  0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // function 1: empty
]);

/**
 * Gives an instance of a split module (its exports, as the glue's `init`
 * returns them) the loader of its cold half at `url`. Returns `link(module)`,
 * for when the cold half was compiled ahead (`compileColdHalf`); null for a
 * module that was not split.
 *
 * @param {WebAssembly.Exports} exports
 * @param {string | URL} url
 * @param {(url: string | URL) => BufferSource} [readSync] the cold half's bytes, now
 */
export function attachColdHalf(exports, url, readSync = fetchSync) {
  const table = exports['s:l'];
  if (!table) return null;
  const slot = table.length - 1;
  // What the cold half imports: the primary's exports named `s:...`.
  const imports = {};
  for (const [name, value] of Object.entries(exports)) if (name.startsWith('s:')) imports[name] = value;
  let linked = false;
  const link = (module) => {
    if (linked) return;
    new WebAssembly.Instance(module, { p: imports });
    linked = true;
    table.set(slot, slots.exports.n);
  };
  const slots = new WebAssembly.Instance(new WebAssembly.Module(SLOT_FUNCTIONS), {
    j: { l: () => link(new WebAssembly.Module(readSync(url))) },
  });
  table.set(slot, slots.exports.l);
  return link;
}

/** The cold half at `url`, fetched and compiled in the background. */
export async function compileColdHalf(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

/** `url`'s bytes by a synchronous request: a moved function is being called. */
function fetchSync(url) {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', String(url), false);
  // A worker may ask for binary synchronously; a page may not, so there the
  // bytes come as text, one char each (charset x-user-defined).
  const inPage = typeof window !== 'undefined';
  if (inPage) xhr.overrideMimeType('text/plain; charset=x-user-defined');
  else xhr.responseType = 'arraybuffer';
  xhr.send();
  if (xhr.status !== 200) throw new Error(`${url}: HTTP ${xhr.status}`);
  if (!inPage) return xhr.response;
  const text = xhr.responseText;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
