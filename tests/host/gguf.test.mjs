// GGUF reader/writer: the real files in ../shared/data parse to their end; writer -> reader round trips of
// every value type; every kind of malformed input fails with a typed error that names the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import { ByteReader, sourceFromUrl } from '../../dist/formats/source.js';
import { readGGUFHeader, readGGUFData, checkSupportedTypes, metaString, metaNumber, metaArray, GGUFValueType as T } from '../../dist/formats/gguf.js';
import { GGMLType, ggmlTypeName, tensorByteSize } from '../../dist/formats/ggml-types.js';
import { openFileInput } from '../../dist/platform/node.js';
import { writeGGUF, writeGGUFFile } from '../../dist/convert/index.js';
import { FormatError, UnsupportedError, AbortError, NotFoundError } from '../../dist/errors.js';

const data = new URL('../../../shared/data/', import.meta.url);
const dataPath = (p) => fileURLToPath(new URL(p, data));
const needs = (p) => (existsSync(p) ? false : 'needs ../shared/data (absent)');

async function* chunked(bytes, size) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function writeToBytes(spec) {
  const parts = [];
  await writeGGUF({ write: (c) => { parts.push(c.slice()); } }, spec);
  return Buffer.concat(parts);
}

async function parseAll(input, name, size) {
  const r = new ByteReader(input, name, size);
  const h = await readGGUFHeader(r);
  const dst = new Uint8Array(h.dataSize);
  await readGGUFData(r, h, dst);
  return { h, dst, end: r.position };
}

// ---------- real files ----------

const stories = dataPath('stories260K/stories260K.gguf');
test('stories260K.gguf parses to its end, from a file stream and in 7-byte chunks alike', { skip: needs(stories) }, async () => {
  const size = statSync(stories).size;
  const { input } = await openFileInput(stories);
  const a = await parseAll(input, stories, size);
  assert.equal(a.h.version, 3);
  assert.ok(a.h.tensors.length > 0);
  assert.equal(a.end, a.h.dataOffset + a.h.dataSize);
  assert.ok(size - a.end >= 0 && size - a.end < a.h.alignment, `trailing ${size - a.end} bytes`);
  assert.equal(a.h.dataOffset % a.h.alignment, 0);
  const embd = a.h.tensors.find((t) => t.name === 'token_embd.weight');
  assert.equal(embd.shape[1], metaArray(a.h.metadata, 'tokenizer.ggml.tokens').length);
  assert.equal(embd.shape[0], metaNumber(a.h.metadata, 'llama.embedding_length'));
  for (const t of a.h.tensors) assert.equal(t.byteSize, tensorByteSize(t.type, t.shape));
  // The same bytes through a stream of tiny chunks of unknown size: identical header and data.
  const b = await parseAll(chunked(readFileSync(stories), 7), 'chunks');
  assert.deepEqual([...b.h.metadata.keys()], [...a.h.metadata.keys()]);
  assert.deepEqual(b.h.tensors, a.h.tensors);
  assert.ok(Buffer.from(b.dst).equals(Buffer.from(a.dst)));
  const f = new Float32Array(a.dst.buffer, embd.offset, 4);
  assert.ok([...f].every(Number.isFinite));
});

const vocabDir = dataPath('gguf-vocab/');
test('every gguf-vocab/*.gguf parses to exactly its end', { skip: needs(vocabDir) }, async () => {
  const files = readdirSync(vocabDir).filter((f) => f.endsWith('.gguf'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const p = join(vocabDir, f);
    const size = statSync(p).size;
    const { input } = await openFileInput(p);
    const r = new ByteReader(input, p, size);
    const h = await readGGUFHeader(r);
    assert.equal(h.tensors.length, 0, f);
    assert.equal(r.position, size, `${f} ends at ${r.position} of ${size}`);
    const tokens = metaArray(h.metadata, 'tokenizer.ggml.tokens', p);
    assert.ok(tokens.length > 1000 && tokens.every((t) => typeof t === 'string'), f);
    assert.equal(typeof metaString(h.metadata, 'tokenizer.ggml.model', p), 'string');
    await r.close();
  }
});

// ---------- round trip ----------

const everyType = [
  { key: 'u8', type: T.UINT8, value: 255 }, { key: 'i8', type: T.INT8, value: -128 },
  { key: 'u16', type: T.UINT16, value: 65535 }, { key: 'i16', type: T.INT16, value: -32768 },
  { key: 'u32', type: T.UINT32, value: 4294967295 }, { key: 'i32', type: T.INT32, value: -2147483648 },
  { key: 'f32', type: T.FLOAT32, value: 0.1 }, { key: 'f64', type: T.FLOAT64, value: Math.PI },
  { key: 'bool.t', type: T.BOOL, value: true }, { key: 'bool.f', type: T.BOOL, value: false },
  { key: 'str', type: T.STRING, value: 'héllo ▁ 世界 🦙' }, { key: 'str.empty', type: T.STRING, value: '' },
  { key: 'u64.safe', type: T.UINT64, value: 2 ** 53 - 1 }, { key: 'u64.big', type: T.UINT64, value: 2n ** 64n - 1n },
  { key: 'i64.neg', type: T.INT64, value: -(2 ** 40) }, { key: 'i64.big', type: T.INT64, value: -(2n ** 63n) },
  { key: 'arr.u8', type: T.ARRAY, itemType: T.UINT8, value: [0, 1, 255] },
  { key: 'arr.i8', type: T.ARRAY, itemType: T.INT8, value: [-128, 0, 127] },
  { key: 'arr.u16', type: T.ARRAY, itemType: T.UINT16, value: [0, 65535] },
  { key: 'arr.i16', type: T.ARRAY, itemType: T.INT16, value: [-32768, 32767] },
  { key: 'arr.u32', type: T.ARRAY, itemType: T.UINT32, value: [0, 4294967295] },
  { key: 'arr.i32', type: T.ARRAY, itemType: T.INT32, value: [-5, 7] },
  { key: 'arr.f32', type: T.ARRAY, itemType: T.FLOAT32, value: [1.5, -0.25, Infinity] },
  { key: 'arr.f64', type: T.ARRAY, itemType: T.FLOAT64, value: [1e300, -1e-300] },
  { key: 'arr.bool', type: T.ARRAY, itemType: T.BOOL, value: [true, false, true] },
  { key: 'arr.str', type: T.ARRAY, itemType: T.STRING, value: ['a', '', 'Ġthe', '<0x0A>'] },
  // Larger than the writer's first buffer and its flush size: exercises growth and flushing mid-array.
  { key: 'arr.str.long', type: T.ARRAY, itemType: T.STRING, value: Array.from({ length: 60000 }, (_, i) => `tok${i}`) },
  { key: 'arr.u64', type: T.ARRAY, itemType: T.UINT64, value: [1, 2 ** 52] },
  { key: 'arr.u64.big', type: T.ARRAY, itemType: T.UINT64, value: [1n, 2n ** 63n] },
  { key: 'arr.i64', type: T.ARRAY, itemType: T.INT64, value: [-1, 3] },
  { key: 'arr.empty', type: T.ARRAY, itemType: T.FLOAT32, value: [] },
  { key: 'arr.nested', type: T.ARRAY, itemType: T.ARRAY, value: [
    { itemType: T.STRING, value: ['x', 'y'] },
    { itemType: T.ARRAY, value: [{ itemType: T.INT32, value: [1, 2, 3] }, { itemType: T.BOOL, value: [] }] },
  ] },
];

const smallMeta = everyType.filter((e) => e.key !== 'arr.str.long');

function expected(entry) {
  if (entry.type !== T.ARRAY) {
    if (entry.type === T.FLOAT32) return Math.fround(entry.value);
    return entry.value;
  }
  const v = entry.value;
  switch (entry.itemType) {
    case T.UINT8: return Uint8Array.from(v);
    case T.INT8: return Int8Array.from(v);
    case T.UINT16: return Uint16Array.from(v);
    case T.INT16: return Int16Array.from(v);
    case T.UINT32: return Uint32Array.from(v);
    case T.INT32: return Int32Array.from(v);
    case T.FLOAT32: return Float32Array.from(v);
    case T.FLOAT64: return Float64Array.from(v);
    case T.UINT64: return v.some((x) => typeof x === 'bigint') ? BigUint64Array.from(v.map(BigInt)) : v;
    case T.INT64: return v.some((x) => typeof x === 'bigint') ? BigInt64Array.from(v.map(BigInt)) : v;
    case T.ARRAY: return v.map((inner) => expected({ type: T.ARRAY, ...inner }));
    default: return v;
  }
}

function randomBytes(n, seed) {
  const b = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; b[i] = s >>> 24; }
  return b;
}

const roundTripTensors = [
  { name: 'a.f32', shape: [3, 5], type: GGMLType.F32 },
  { name: 'b.f16', shape: [7], type: GGMLType.F16 },
  { name: 'c.q8_0', shape: [64, 3], type: GGMLType.Q8_0 },
  { name: 'd.q4_k', shape: [256, 2], type: GGMLType.Q4_K },
  { name: 'e.bf16', shape: [2, 3, 4, 5], type: GGMLType.BF16 },
].map((t, i) => ({ ...t, data: randomBytes(tensorByteSize(t.type, t.shape), i + 1) }));

test('writer -> reader round trip of every value type, nested arrays and tensors (alignment 64)', async () => {
  const bytes = await writeToBytes({ metadata: everyType, tensors: roundTripTensors, alignment: 64 });
  const smallBytes = await writeToBytes({ metadata: smallMeta, tensors: roundTripTensors, alignment: 64 });
  for (const [input, meta] of [[bytes, everyType], [chunked(bytes, 4096), everyType], [chunked(smallBytes, 5), smallMeta]]) {
    const { h, dst, end } = await parseAll(input, 'rt', input === bytes ? bytes.length : undefined);
    assert.equal(h.version, 3);
    assert.equal(h.alignment, 64);
    assert.equal(h.metadata.get('general.alignment'), 64);
    assert.equal(h.metadata.size, meta.length + 1);
    for (const e of meta) assert.deepEqual(h.metadata.get(e.key), expected(e), e.key);
    assert.equal(h.tensors.length, roundTripTensors.length);
    for (const [i, t] of roundTripTensors.entries()) {
      const got = h.tensors[i];
      assert.equal(got.name, t.name);
      assert.deepEqual(got.shape, t.shape);
      assert.equal(got.type, t.type);
      assert.equal(got.offset % 64, 0);
      assert.ok(Buffer.from(dst.subarray(got.offset, got.offset + got.byteSize)).equals(Buffer.from(t.data)), t.name);
    }
    assert.equal(end, h.dataOffset + h.dataSize);
  }
});

test('writeGGUFFile writes atomically: a failing producer leaves no file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-gguf-'));
  try {
    const out = join(dir, 'x.gguf');
    const bad = { name: 't', shape: [4], type: GGMLType.F32, data: function* () { yield new Uint8Array(8); } };
    await assert.rejects(writeGGUFFile(out, { metadata: [], tensors: [bad] }), /producer gave 8 bytes, expected 16/);
    assert.deepEqual(readdirSync(dir), []);
    await writeGGUFFile(out, { metadata: everyType.slice(0, 3), tensors: roundTripTensors.slice(0, 2) });
    const { input, size } = await openFileInput(out);
    const { h } = await parseAll(input, out, size);
    assert.equal(h.tensors.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readGGUFData reports progress up to the total and honours an aborted signal', async () => {
  const bytes = await writeToBytes({ metadata: [], tensors: roundTripTensors });
  const r = new ByteReader(bytes, 'p', bytes.length);
  const h = await readGGUFHeader(r);
  const seen = [];
  await readGGUFData(r, h, new Uint8Array(h.dataSize), { onProgress: (a, b) => seen.push([a, b]) });
  assert.deepEqual(seen.at(-1), [h.dataSize, h.dataSize]);
  assert.ok(seen.every(([a], i) => i === 0 || a >= seen[i - 1][0]));
  const r2 = new ByteReader(bytes, 'p', bytes.length);
  const h2 = await readGGUFHeader(r2);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(readGGUFData(r2, h2, new Uint8Array(h2.dataSize), { signal: ac.signal }), AbortError);
});

test('sourceFromUrl streams a GGUF over http with its Content-Length; HTTP errors are FormatErrors', async () => {
  const bytes = await writeToBytes({ metadata: smallMeta, tensors: roundTripTensors });
  const server = createServer((req, res) => {
    if (req.url !== '/m.gguf') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const base = `http://127.0.0.1:${server.address().port}`;
    const { input, size } = await sourceFromUrl(`${base}/m.gguf`);
    assert.equal(size, bytes.length);
    const { h, dst } = await parseAll(input, 'url', size);
    const t = h.tensors[2];
    assert.deepEqual(dst.subarray(t.offset, t.offset + t.byteSize), roundTripTensors[2].data);
    await assert.rejects(sourceFromUrl(`${base}/missing`), (e) => e instanceof NotFoundError && /HTTP 404/.test(e.message));
  } finally {
    server.close();
  }
});

// ---------- malformed input ----------

/** Hand-built GGUF bytes, so that every field can be set to a bad value. */
function rawGGUF({ magic = 'GGUF', version = 3, kv = [], tensors = [], tensorCount, kvCount, pad = true, data = 0 }) {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s, len) => { const b = Buffer.from(s); u64(len ?? b.length); parts.push(b); };
  parts.push(Buffer.from(magic, 'latin1'));
  u32(version);
  u64(tensorCount ?? tensors.length);
  u64(kvCount ?? kv.length);
  for (const e of kv) { str(e.key); u32(e.type); parts.push(e.raw); }
  for (const t of tensors) {
    str(t.name);
    u32(t.nDims ?? t.shape.length);
    for (const d of t.shape) u64(d);
    u32(t.type);
    u64(t.offset);
  }
  let len = parts.reduce((a, p) => a + p.length, 0);
  if (pad) { parts.push(Buffer.alloc((32 - (len % 32)) % 32)); len += (32 - (len % 32)) % 32; }
  parts.push(Buffer.alloc(data));
  return Buffer.concat(parts);
}
const leU32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };

async function rejects(bytes, errorClass, pattern, sized = true) {
  const r = new ByteReader(bytes, 'bad.gguf', sized ? bytes.length : undefined);
  await assert.rejects(readGGUFHeader(r), (e) => {
    assert.ok(e instanceof errorClass, `expected ${errorClass.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    assert.match(e.message, /bad\.gguf/);
    return true;
  });
}

test('a file cut at any point fails with a FormatError, sized or streamed', async () => {
  const bytes = await writeToBytes({ metadata: smallMeta, tensors: roundTripTensors });
  const r0 = new ByteReader(bytes, 'x', bytes.length);
  const h = await readGGUFHeader(r0);
  const cuts = [];
  for (let c = 0; c < h.dataOffset; c += c < 64 ? 1 : 7) cuts.push(c);
  cuts.push(h.dataOffset, h.dataOffset + 1, h.dataOffset + h.dataSize - 1);
  for (const cut of cuts) {
    const part = bytes.subarray(0, cut);
    for (const sized of [true, false]) {
      const r = new ByteReader(sized ? part : chunked(part, 3), 'cut.gguf', sized ? part.length : undefined);
      await assert.rejects((async () => {
        const hh = await readGGUFHeader(r);
        await readGGUFData(r, hh, new Uint8Array(hh.dataSize));
      })(), (e) => e instanceof FormatError && /cut\.gguf/.test(e.message) && /truncated|past the end|cannot fit/.test(e.message), `cut at ${cut}, sized ${sized}`);
    }
  }
});

test('wrong magic, version 1, unknown version', async () => {
  await rejects(rawGGUF({ magic: 'GGML' }), FormatError, /magic.*"GGML".*expected "GGUF"/);
  await rejects(rawGGUF({ version: 1 }), UnsupportedError, /version 1/);
  await rejects(rawGGUF({ version: 7 }), FormatError, /unknown GGUF version 7/);
});

test('tensor data past the end of the file, overlapping or misaligned', async () => {
  const t = (o) => ({ name: 'w', shape: [8], type: GGMLType.F32, offset: o });
  await rejects(rawGGUF({ tensors: [t(0)], data: 16 }), FormatError, /tensor w.*runs past the end of the file/);
  await rejects(rawGGUF({ tensors: [t(64)], data: 32 }), FormatError, /runs past the end/);
  await rejects(rawGGUF({ tensors: [t(0), { ...t(0), name: 'v' }], data: 64 }), FormatError, /overlaps tensor/);
  await rejects(rawGGUF({ tensors: [t(4)], data: 64 }), FormatError, /offset 4 is not a multiple of the alignment 32/);
  await rejects(rawGGUF({ tensors: [t(0), t(32)], data: 64 }), FormatError, /duplicate tensor name 'w'/);
});

test('shapes: element count overflow, huge dimension, too many dims, block size, unknown type', async () => {
  await rejects(rawGGUF({ tensors: [{ name: 'big', shape: [2 ** 31, 2 ** 31, 2 ** 31, 4], type: 0, offset: 0 }] }), FormatError, /tensor big.*overflows/);
  await rejects(rawGGUF({ tensors: [{ name: 'huge', shape: [2n ** 60n], type: 0, offset: 0 }] }), FormatError, /ne\[0\].*too large/);
  await rejects(rawGGUF({ tensors: [{ name: 'd5', shape: [1, 1, 1, 1, 1], type: 0, offset: 0 }] }), FormatError, /n_dims = 5, expected at most 4/);
  await rejects(rawGGUF({ tensors: [{ name: 'q', shape: [33], type: GGMLType.Q8_0, offset: 0 }], data: 64 }), FormatError, /ne\[0\] = 33 is not a multiple of the Q8_0 block size 32/);
  await rejects(rawGGUF({ tensors: [{ name: 'u', shape: [4], type: 99, offset: 0 }], data: 32 }), FormatError, /tensor u type.*unknown tensor type id 99|unknown tensor type id 99/);
});

test('metadata: bad alignment, string past the end, bad value type, bad bool, absurd counts, duplicate key', async () => {
  const al = (v) => ({ key: 'general.alignment', type: T.UINT32, raw: leU32(v) });
  await rejects(rawGGUF({ kv: [al(3)] }), FormatError, /general\.alignment: must be a power of two/);
  await rejects(rawGGUF({ kv: [al(0)] }), FormatError, /general\.alignment: must be a power of two/);
  const longStr = Buffer.concat([Buffer.from([0x40, 0x42, 0x0f, 0, 0, 0, 0, 0]), Buffer.from('abc')]);
  await rejects(rawGGUF({ kv: [{ key: 's', type: T.STRING, raw: longStr }], pad: false }), FormatError, /string length 1000000 runs past the end/);
  await rejects(rawGGUF({ kv: [{ key: 'k', type: 13, raw: Buffer.alloc(4) }] }), FormatError, /unknown metadata value type 13/);
  await rejects(rawGGUF({ kv: [{ key: 'b', type: T.BOOL, raw: Buffer.from([2]) }] }), FormatError, /bool value 2/);
  await rejects(rawGGUF({ kvCount: 2 ** 40 }), FormatError, /metadata_kv_count.*cannot fit/);
  await rejects(rawGGUF({ tensorCount: 2 ** 40 }), FormatError, /tensor_count.*cannot fit/);
  const arr = Buffer.concat([leU32(T.UINT32), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0])]);
  await rejects(rawGGUF({ kv: [{ key: 'a', type: T.ARRAY, raw: arr }] }), FormatError, /a \(array length\).*cannot fit/);
  const dup = { key: 'x', type: T.UINT8, raw: Buffer.from([1]) };
  await rejects(rawGGUF({ kv: [dup, dup] }), FormatError, /duplicate metadata key 'x'/);
  // The same string-length problem on a stream of unknown size ends in a truncation error, not an allocation.
  await rejects(rawGGUF({ kv: [{ key: 's', type: T.STRING, raw: longStr }], pad: false }), FormatError, /truncated/, false);
});

test('checkSupportedTypes and the meta* helpers name the tensor, key and expectation', async () => {
  const bytes = await writeToBytes({ metadata: everyType, tensors: roundTripTensors });
  const h = await readGGUFHeader(new ByteReader(bytes, 'm.gguf', bytes.length));
  const ok = new Set([GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0]);
  assert.throws(() => checkSupportedTypes(h, ok, 'm.gguf'), (e) => e instanceof UnsupportedError && /d\.q4_k/.test(e.message) && /Q4_K/.test(e.message));
  checkSupportedTypes({ ...h, tensors: h.tensors.filter((t) => ok.has(t.type)) }, ok, 'm.gguf');
  assert.equal(metaString(h.metadata, 'str', 'm.gguf'), 'héllo ▁ 世界 🦙');
  assert.equal(metaNumber(h.metadata, 'missing', 'm.gguf', 7), 7);
  assert.throws(() => metaNumber(h.metadata, 'str', 'm.gguf'), (e) => e instanceof FormatError && /metadata str must be a finite number, got string/.test(e.message));
  assert.throws(() => metaString(h.metadata, 'nope', 'm.gguf'), /metadata nope must be a string, got nothing/);
  assert.throws(() => metaArray(h.metadata, 'u8', 'm.gguf'), /metadata u8 must be an array/);
  assert.equal(ggmlTypeName(GGMLType.IQ4_XS), 'IQ4_XS');
  assert.equal(tensorByteSize(GGMLType.Q6_K, [512, 3]), 2 * 3 * 210);
  assert.throws(() => tensorByteSize(GGMLType.F32, [2 ** 27, 2 ** 27]), FormatError);
});

// ---------- random-access inputs (local files) ----------

/** A random-access input over `bytes` that claims `size` bytes and returns at most `most` bytes a read. */
function randomAccess(bytes, size = bytes.length, most = 3 << 20) {
  return {
    size,
    closed: false,
    async read(dst, position) {
      const n = Math.max(0, Math.min(dst.length, most, bytes.length - position));
      dst.set(bytes.subarray(position, position + n));
      return n;
    },
    async close() { this.closed = true; },
  };
}

test('a random-access input: small reads, skips and large reads straight into the destination give the bytes in order', async () => {
  const bytes = new Uint8Array(13 << 20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  const input = randomAccess(bytes);
  const r = new ByteReader(input, 'ra', bytes.length);
  await r.need(4);
  assert.equal(r.u32(), new DataView(bytes.buffer).getUint32(0, true));
  await r.skip(5 << 20); // past the first chunk: the cursor moves without reading
  const big = new Uint8Array((6 << 20) + 12345); // several pieces read at once, each in short reads
  await r.readInto(big);
  assert.ok(Buffer.from(big).equals(Buffer.from(bytes.subarray(4 + (5 << 20), 4 + (5 << 20) + big.length))));
  await r.need(3);
  const at = 4 + (5 << 20) + big.length;
  assert.deepEqual([r.u8(), r.u8(), r.u8()], [bytes[at], bytes[at + 1], bytes[at + 2]]);
  const rest = new Uint8Array(bytes.length - at - 3);
  await r.readInto(rest);
  assert.ok(Buffer.from(rest).equals(Buffer.from(bytes.subarray(at + 3))));
  assert.equal(r.position, bytes.length);
  await r.close();
  assert.ok(input.closed);
});

test('a random-access input that ends before its size: a large read is a FormatError naming the offset', async () => {
  const bytes = new Uint8Array(10 << 20).fill(7);
  const r = new ByteReader(randomAccess(bytes, 12 << 20), 'short.gguf', 12 << 20);
  await r.need(16);
  r.bytes(16);
  await assert.rejects(r.readInto(new Uint8Array(11 << 20), 'tensor data'), (e) => e instanceof FormatError && /short\.gguf/.test(e.message) && /ends at byte 10485760/.test(e.message));
});
