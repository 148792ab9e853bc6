// Mutations of a JSON file (config.json, tokenizer.json, tokenizer_config.json, a safetensors header): a value
// replaced by an edge number or a value of another type, a key removed or added, a value nested thousands
// deep, and for tokenizer.json the pipeline's Sequences nested deep and token ids made huge; or the text
// itself cut or garbled. `focus` (a RegExp over paths like `model.vocab.hello`) steers half of the value
// changes to the fields a loader sizes things by.
import { interestingJsonNumber, interestingString } from './values.mjs';

const utf8 = new TextEncoder();
/** Where a Sequence keeps its parts, by the tokenizer.json section it is in. */
const SEQUENCES = { normalizer: 'normalizers', pre_tokenizer: 'pretokenizers', decoder: 'decoders', post_processor: 'processors' };
const DEEP = '\u0000deep\u0000';

/** Paths ([key, key, ...]) of every value in `v`, in document order. */
function paths(v, at = [], out = []) {
  out.push(at);
  if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) paths(v[k], [...at, k], out);
  return out;
}

function get(v, path) { return path.reduce((x, k) => x[k], v); }

function set(v, path, value) {
  if (!path.length) return value;
  get(v, path.slice(0, -1))[path.at(-1)] = value;
  return v;
}

function otherType(rng, orig) {
  return rng.pick([null, true, false, 0, -1, '12', String(orig ?? ''), [], {}, [orig], { value: orig }, 1e300]);
}

/** `text` mutated: returns the new bytes and what was done. `tokenizer`: also the tokenizer.json mutations. */
export function mutateJson(rng, text, { focus, tokenizer = false } = {}) {
  if (rng.chance(0.08)) return mutateText(rng, text);
  const json = JSON.parse(text);
  const all = paths(json).filter((p) => p.length > 0);
  const focused = focus ? all.filter((p) => focus.test(p.join('.'))) : [];
  const pick = () => (focused.length && rng.chance(0.5) ? rng.pick(focused) : rng.pick(all));
  const op = rng.weighted([[45, 'value'], [10, 'remove'], [5, 'add'], [5, 'deep'], ...(tokenizer ? [[8, 'nest'], [10, 'id']] : [])]);
  let mutation;
  let out = json;
  if (op === 'value') {
    const p = pick();
    const orig = get(json, p);
    const value = typeof orig === 'number' && rng.chance(0.8) ? interestingJsonNumber(rng, orig)
      : typeof orig === 'string' && rng.chance(0.6) ? interestingString(rng, orig) : otherType(rng, orig);
    out = set(json, p, value);
    mutation = `${p.join('.')} = ${JSON.stringify(value)?.slice(0, 60)}`;
  } else if (op === 'remove') {
    const p = pick();
    const parent = get(json, p.slice(0, -1));
    if (Array.isArray(parent)) parent.splice(Number(p.at(-1)), 1); else delete parent[p.at(-1)];
    mutation = `${p.join('.')} removed`;
  } else if (op === 'add') {
    const p = pick();
    const target = get(json, p);
    const holder = typeof target === 'object' && target !== null ? target : get(json, p.slice(0, -1));
    if (Array.isArray(holder)) holder.push(otherType(rng, holder[0])); else holder[rng.pick(['type', 'id', 'extra', 'length'])] = otherType(rng, null);
    mutation = `added under ${p.join('.')}`;
  } else if (op === 'deep') {
    const p = pick();
    out = set(json, p, DEEP);
    mutation = `${p.join('.')} = an array nested 10000 deep`;
    return { bytes: utf8.encode(JSON.stringify(out).replace(JSON.stringify(DEEP), '['.repeat(10000) + ']'.repeat(10000))), mutation };
  } else if (op === 'nest') {
    const [section, key] = rng.pick(Object.entries(SEQUENCES));
    const depth = rng.pick([2, 33, 5000]);
    const inner = JSON.stringify(json[section] ?? null);
    json[section] = DEEP;
    const nested = `{"type":"Sequence","${key}":[`.repeat(depth) + inner + ']}'.repeat(depth);
    return { bytes: utf8.encode(JSON.stringify(json).replace(JSON.stringify(DEEP), nested)), mutation: `${section} nested in ${depth} Sequences` };
  } else {
    mutation = tokenId(rng, json);
  }
  return { bytes: utf8.encode(JSON.stringify(out)), mutation };
}

/** A vocabulary or added-token id set to an edge value (huge, fractional, negative, a string, a duplicate). */
function tokenId(rng, json) {
  const value = rng.pick([2 ** 28, 2 ** 22, 2 ** 31, 1e300, -1, 1.5, '12', 0, 2 ** 53]);
  const vocab = json.model?.vocab;
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  if (added.length && rng.chance(0.4)) {
    const a = rng.pick(added);
    a.id = value;
    return `added token ${JSON.stringify(a.content)} id = ${value}`;
  }
  if (vocab && typeof vocab === 'object') {
    const keys = Object.keys(vocab);
    const k = rng.pick(keys);
    vocab[k] = value;
    return `model.vocab[${JSON.stringify(k)}] = ${value}`;
  }
  return 'no ids to change';
}

/** `text` cut at a random place, or a few of its bytes replaced. */
export function mutateText(rng, text) {
  const bytes = utf8.encode(text);
  const what = rng.int(3);
  if (what === 0) {
    const at = rng.int(bytes.length);
    return { bytes: bytes.slice(0, at), mutation: `text cut at ${at}` };
  }
  const out = bytes.slice();
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) out[rng.int(out.length)] = what === 1 ? rng.int(256) : rng.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0xff]);
  return { bytes: out, mutation: `${n} bytes of the text replaced` };
}
