// Share links (the scenario and seed in the URL's fragment) and downloads.
//
//   #program=echo-blocking/deferred&seed=7&t=120.5     a Python preset as shipped, as a variant
//   #scenario=z<base64url of deflate-raw text>&variant=deferred&seed=7
//                                                       an edited program (or JSON scenario)
//   #preset=echo-blocking/deferred&seed=7              a JSON preset (older links)
//   #program=counter-race/...&schedule=hits/1.2         playing the scheduler: the picks so far
//   #challenge=lost-update&schedule=hits/1.2           a challenge (www/challenges/) being played
//
// The fragment never reaches the server, so a link works on any copy of the page.

function toBase64Url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** Scenario JSON -> a short URL-safe string ('z' compressed, 'j' plain). */
export async function encodeScenario(json) {
  const bytes = new TextEncoder().encode(json);
  if (typeof CompressionStream === 'function') {
    return `z${toBase64Url(await pipe(bytes, new CompressionStream('deflate-raw')))}`;
  }
  return `j${toBase64Url(bytes)}`;
}

export async function decodeScenario(text) {
  const body = fromBase64Url(text.slice(1));
  const bytes = text[0] === 'z' ? await pipe(body, new DecompressionStream('deflate-raw')) : body;
  return new TextDecoder().decode(bytes);
}

/** The fragment's parameters. */
export function readHash(hash = location.hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const num = (k) => (p.has(k) && p.get(k) !== '' && Number.isFinite(Number(p.get(k))) ? Number(p.get(k)) : undefined);
  return {
    preset: p.get('preset') || undefined,
    program: p.get('program') || undefined,
    scenario: p.get('scenario') || undefined,
    challenge: p.get('challenge') || undefined,
    schedule: p.get('schedule') ?? undefined,
    variant: p.get('variant') || undefined,
    seed: num('seed'),
    t: num('t'),
    view: p.get('view') || undefined,
    a: p.get('a') || undefined,
    b: p.get('b') || undefined,
  };
}

/** A full URL for `state` ({challenge | program | preset | scenario and variant, seed, schedule, t, view, a, b}). */
export function buildUrl(state) {
  const p = new URLSearchParams();
  if (state.view && state.view !== 'experiment') p.set('view', state.view);
  if (state.challenge) p.set('challenge', state.challenge);
  else if (state.scenario) {
    p.set('scenario', state.scenario);
    if (state.variant) p.set('variant', state.variant);
  } else if (state.program) p.set('program', state.program);
  else if (state.preset) p.set('preset', state.preset);
  if (state.seed !== undefined) p.set('seed', String(state.seed));
  if (state.schedule !== undefined) p.set('schedule', state.schedule);
  if (state.t !== undefined && state.t !== null) p.set('t', String(Number(state.t.toFixed(6))));
  if (state.a) p.set('a', state.a);
  if (state.b) p.set('b', state.b);
  return `${location.origin}${location.pathname}#${p.toString().replace(/%2F/g, '/').replace(/%2C/g, ',')}`;
}

/** Saves `text` as a file. */
export function download(filename, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
