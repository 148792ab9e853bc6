// Mutations of a GGUF file: a numeric field overwritten (counts, lengths, value types, dims, tensor types and
// offsets), a cut at a structural boundary, a metadata value changed in value or type, a metadata array made
// shorter or longer, tensor infos changed, added or removed, the alignment or the version changed, or a few
// bytes of the header flipped. Each returns the new bytes and a line saying what was done.
import { T, SCALAR, alignmentOf, encodeGGUF, read, write } from './gguf-codec.mjs';
import { interesting, interestingString } from './values.mjs';

/** Metadata keys that size or index something: the ones a loader must check before using. */
const SIZING = /block_count|context_length|embedding_length|feed_forward_length|head_count|key_length|value_length|vocab_size|dimension_count|sliding_window|epsilon|freq_base|scaling|softcapping|token_id|alignment|tokenizer\.ggml\.(model|pre|tokens|scores|token_type|merges|add_)/;

export function mutateGGUF(rng, seed) {
  const op = rng.weighted([
    [30, overwriteField], [8, truncate], [3, flipBytes], [14, setValue], [10, retype], [3, removeKV], [1, duplicateKV],
    [6, resizeArray], [4, arrayItem], [6, tensorDims], [3, tensorType], [4, tensorOffset], [2, removeTensor],
    [2, addTensor], [1, renameTensor], [2, alignment], [1, version], [2, resizeData],
  ]);
  return op(rng, seed);
}

function overwriteField(rng, { encoded }) {
  const f = rng.pick(encoded.fields);
  const bytes = encoded.bytes.slice();
  const view = new DataView(bytes.buffer);
  const value = interesting(rng, f.kind, read(view, f.at, f.kind));
  write(view, f.at, f.kind, value);
  return { bytes, mutation: `field ${f.label} (${f.kind} at ${f.at}) = ${value}` };
}

function truncate(rng, { encoded }) {
  const b = rng.pick(encoded.boundaries);
  const at = Math.max(0, Math.min(encoded.bytes.length - 1, b + rng.pick([-2, -1, 0, 0, 1, 3])));
  return { bytes: encoded.bytes.slice(0, at), mutation: `cut at ${at} (boundary ${b})` };
}

function flipBytes(rng, { encoded, decoded }) {
  const bytes = encoded.bytes.slice();
  const header = bytes.length - decoded.data.length;
  const n = 1 + rng.int(8);
  for (let i = 0; i < n; i++) bytes[rng.int(Math.max(header, 1))] ^= 1 << rng.int(8);
  return { bytes, mutation: `${n} bits flipped in the first ${header} bytes` };
}

/** A shallow copy of the decoded file that a mutation may change without touching the seed. */
function copy(g) {
  return { ...g, kvs: g.kvs.slice(), tensors: g.tensors.map((t) => ({ ...t, dims: t.dims.slice() })) };
}

function pickKV(rng, g) {
  const all = g.kvs.map((kv, i) => [kv, i]);
  const sizing = all.filter(([kv]) => SIZING.test(kv.key));
  return rng.chance(0.7) && sizing.length ? rng.pick(sizing) : rng.pick(all);
}

function done(g, mutation) {
  return { bytes: encodeGGUF(g).bytes, mutation };
}

function setValue(rng, { decoded }) {
  const g = copy(decoded);
  const [kv, i] = pickKV(rng, g);
  let value;
  if (kv.type === T.STRING) value = interestingString(rng, kv.value);
  else if (kv.type === T.ARRAY) return arrayItem(rng, { decoded }, kv);
  else value = interesting(rng, SCALAR[kv.type]?.[0] ?? 'u32', kv.value);
  g.kvs[i] = { ...kv, value };
  return done(g, `${kv.key} = ${String(value).slice(0, 40)}`);
}

/** The value of kv stored under another type (a size as f32 8.5 or i32 -8, a string, an array, an unknown type id). */
function retype(rng, { decoded }) {
  const g = copy(decoded);
  const [kv, i] = pickKV(rng, g);
  const [type, value] = rng.pick([
    [T.F32, rng.pick([8.5, 0.5, -1, NaN, 1e30])], [T.F64, rng.pick([1e300, 2 ** 53, 8.5])], [T.I32, rng.pick([-8, -1, 0])],
    [T.U32, rng.pick([2 ** 31, 2 ** 32 - 1, 0])], [T.U64, rng.pick([2n ** 53n + 1n, 2n ** 64n - 1n, 2n ** 31n])],
    [T.I64, rng.pick([-1n, -(2n ** 63n)])], [T.U8, 200], [T.BOOL, rng.pick([0, 1, 2])], [T.STRING, rng.pick(['12', 'x', ''])],
    [T.ARRAY, { itemType: T.U32, items: [1, 2, 3] }], [T.ARRAY, { itemType: T.STRING, items: [] }],
    [T.ARRAY, { itemType: T.ARRAY, items: [{ itemType: T.I8, items: [1] }] }], [13 + rng.int(40), null],
  ]);
  g.kvs[i] = { ...kv, type, value };
  return done(g, `${kv.key} retyped to type ${type} = ${typeof value === 'object' ? JSON.stringify(value, (k, v) => (typeof v === 'bigint' ? String(v) : v)) : String(value)}`);
}

function removeKV(rng, { decoded }) {
  const g = copy(decoded);
  const [kv, i] = pickKV(rng, g);
  g.kvs.splice(i, 1);
  return done(g, `${kv.key} removed`);
}

function duplicateKV(rng, { decoded }) {
  const g = copy(decoded);
  const [kv] = pickKV(rng, g);
  g.kvs.push({ ...kv });
  return done(g, `${kv.key} duplicated`);
}

function arrays(g) {
  return g.kvs.map((kv, i) => [kv, i]).filter(([kv]) => kv.type === T.ARRAY);
}

/** A metadata array (tokens, scores, token types, merges) cut short or grown. */
function resizeArray(rng, { decoded }) {
  const g = copy(decoded);
  const list = arrays(g);
  if (!list.length) return removeKV(rng, { decoded });
  const [kv, i] = rng.pick(list);
  const items = kv.value.items;
  const n = rng.pick([0, 1, items.length - 1, items.length - rng.int(64), items.length + 1, items.length + rng.int(300), Math.floor(items.length / 2)]);
  const next = items.slice(0, Math.max(0, n));
  while (next.length < n) next.push(items.length ? items[rng.int(items.length)] : 0);
  g.kvs[i] = { ...kv, value: { itemType: kv.value.itemType, items: next } };
  return done(g, `${kv.key} resized from ${items.length} to ${next.length} items`);
}

function arrayItem(rng, { decoded }, chosen) {
  const g = copy(decoded);
  const list = arrays(g);
  if (!list.length) return removeKV(rng, { decoded });
  const [kv, i] = chosen ? [chosen, g.kvs.indexOf(chosen)] : rng.pick(list);
  const items = kv.value.items.slice();
  if (!items.length) return done(g, `${kv.key} left empty`);
  const k = rng.pick([0, items.length - 1, rng.int(items.length)]);
  const t = kv.value.itemType;
  items[k] = t === T.STRING ? interestingString(rng, items[k]) : t === T.ARRAY ? items[k] : interesting(rng, SCALAR[t]?.[0] ?? 'u32', items[k]);
  g.kvs[i] = { ...kv, value: { itemType: t, items } };
  return done(g, `${kv.key}[${k}] = ${String(items[k]).slice(0, 40)}`);
}

function pickTensor(rng, g) {
  return g.tensors.length ? rng.int(g.tensors.length) : -1;
}

function tensorDims(rng, { decoded }) {
  const g = copy(decoded);
  const i = pickTensor(rng, g);
  if (i < 0) return addTensor(rng, { decoded });
  const t = g.tensors[i];
  const what = rng.int(4);
  if (what === 0) t.dims.push(rng.pick([1, 2, 0]));
  else if (what === 1 && t.dims.length) t.dims.pop();
  else if (what === 2) t.nDims = rng.pick([0, 5, 2 ** 31, t.dims.length + 1]);
  else if (t.dims.length) t.dims[rng.int(t.dims.length)] = interesting(rng, 'u64', t.dims[0]);
  return done(g, `tensor ${t.name} dims [${t.dims}] n_dims ${t.nDims ?? t.dims.length}`);
}

function tensorType(rng, { decoded }) {
  const g = copy(decoded);
  const i = pickTensor(rng, g);
  if (i < 0) return addTensor(rng, { decoded });
  g.tensors[i].type = rng.pick([0, 1, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 16, 20, 23, 30, 31, 39, 40, 255, 2 ** 31]);
  return done(g, `tensor ${g.tensors[i].name} type ${g.tensors[i].type}`);
}

function tensorOffset(rng, { decoded }) {
  const g = copy(decoded);
  const i = pickTensor(rng, g);
  if (i < 0) return addTensor(rng, { decoded });
  const t = g.tensors[i];
  const a = alignmentOf(g.kvs);
  t.offset = rng.pick([0, t.offset + a, t.offset - a, t.offset + 1, decoded.data.length, decoded.data.length - a, interesting(rng, 'u64', t.offset)]);
  return done(g, `tensor ${t.name} offset ${t.offset}`);
}

function removeTensor(rng, { decoded }) {
  const g = copy(decoded);
  const i = pickTensor(rng, g);
  if (i < 0) return addTensor(rng, { decoded });
  const [t] = g.tensors.splice(i, 1);
  return done(g, `tensor ${t.name} removed`);
}

/** A tensor info no model binds, over existing data, past the end, or at a huge offset. */
function addTensor(rng, { decoded }) {
  const g = copy(decoded);
  const a = alignmentOf(g.kvs);
  const name = rng.pick(['extra.weight', 'rope_factors_long.weight', 'blk.0.attn_qkv.weight', 'output.weight', 'blk.999.ffn_up.weight']);
  const dims = rng.pick([[16], [32, 4], [0], [2 ** 31, 2], [4, 4, 4, 4]]);
  const offset = rng.pick([0, Math.floor(decoded.data.length / a) * a, Math.ceil(decoded.data.length / a) * a, 2 ** 40]);
  g.tensors.push({ name, dims, type: rng.pick([0, 1, 8, 99]), offset });
  return done(g, `tensor ${name} [${dims}] added at ${offset}`);
}

function renameTensor(rng, { decoded }) {
  const g = copy(decoded);
  const i = pickTensor(rng, g);
  if (i < 0) return addTensor(rng, { decoded });
  const name = rng.chance(0.5) && g.tensors.length > 1 ? g.tensors[(i + 1) % g.tensors.length].name : interestingString(rng, g.tensors[i].name);
  g.tensors[i].name = name;
  return done(g, `tensor #${i} renamed ${JSON.stringify(name.slice(0, 40))}`);
}

function alignment(rng, { decoded }) {
  const g = copy(decoded);
  const value = rng.pick([0, 1, 3, 8, 16, 64, 4096, 2 ** 30, 2 ** 31, 2 ** 32 - 1]);
  const at = g.kvs.findIndex((kv) => kv.key === 'general.alignment');
  const kv = { key: 'general.alignment', type: rng.pick([T.U32, T.U32, T.U64, T.I32, T.F32]), value };
  if (kv.type === T.U64) kv.value = BigInt(value);
  if (at >= 0) g.kvs[at] = kv; else g.kvs.push(kv);
  return done(g, `general.alignment = ${value} (type ${kv.type})`);
}

function version(rng, { decoded }) {
  const g = copy(decoded);
  g.version = rng.pick([0, 1, 2, 4, 0x03000000, 2 ** 32 - 1]);
  return done(g, `version ${g.version}`);
}

/** The data section cut short or grown. */
function resizeData(rng, { decoded }) {
  const g = copy(decoded);
  const n = rng.pick([0, 1, decoded.data.length - 1, decoded.data.length - rng.int(1 << 16), decoded.data.length + 4096]);
  const data = new Uint8Array(Math.max(0, n));
  data.set(decoded.data.subarray(0, data.length));
  g.data = data;
  return done(g, `data section ${decoded.data.length} -> ${data.length} bytes`);
}

