// safetensors header checks and the Hugging Face directory reader (single file and sharded index).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors, parseSafetensorsHeader, safetensorsHeaderLength } from '../../dist/formats/safetensors.js';
import { readHFDir, readSafetensorsFile } from '../../dist/formats/hf-dir.js';
import { FormatError, UnsupportedError } from '../../dist/errors.js';

const f32 = (...v) => new Uint8Array(Float32Array.from(v).buffer);
const tensors = [
  { name: 'a', dtype: 'F32', shape: [2, 2], data: f32(1, 2, 3, 4) },
  { name: 'b', dtype: 'BF16', shape: [3], data: new Uint8Array([0, 0x3f, 0x80, 0x3f, 0, 0x40]) },
  { name: 'c', dtype: 'F16', shape: [1, 1], data: new Uint8Array([0, 0x3c]) },
];

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-st-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A file image whose JSON header is `header` verbatim (for malformed cases). */
function rawFile(header, dataBytes, declaredLength) {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLength ?? json.length));
  return new Uint8Array(Buffer.concat([len, json, Buffer.alloc(dataBytes)]));
}

function parse(bytes) {
  const n = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length, 'x.safetensors');
  return parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, 'x.safetensors');
}

test('encode -> parse gives names, dtypes, shapes, absolute offsets and metadata', () => {
  const bytes = encodeSafetensors(tensors, { format: 'pt' });
  const h = parse(bytes);
  assert.deepEqual(h.metadata, { format: 'pt' });
  assert.deepEqual(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteSize]), tensors.map((t) => [t.name, t.dtype, t.shape, t.data.length]));
  for (const [i, t] of h.tensors.entries()) assert.deepEqual(bytes.subarray(t.offset, t.offset + t.byteSize), tensors[i].data);
});

test('bad header length: too large, past the end of the file, too short a file', () => {
  const ok = encodeSafetensors(tensors);
  const big = ok.slice();
  new DataView(big.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.throws(() => parse(big), (e) => e instanceof FormatError && /header length 1099511627776 is not in/.test(e.message));
  const past = ok.slice();
  new DataView(past.buffer).setBigUint64(0, BigInt(ok.length), true);
  assert.throws(() => parse(past), /header length \d+ runs past the end of the file/);
  assert.throws(() => parse(ok.subarray(0, 5)), /too short/);
  assert.throws(() => parse(rawFile('{"a": ', 0)), /not valid UTF-8 JSON/);
});

test('offsets past the end, dtype/size mismatch, overlap, bad shape, unsupported dtype', () => {
  const entry = (o) => ({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...o } });
  assert.throws(() => parse(rawFile(entry({ data_offsets: [0, 16] }), 8)), (e) => e instanceof FormatError && /tensor w: data_offsets \[0, 16\] run past the end of the data \(8 bytes\)/.test(e.message));
  assert.throws(() => parse(rawFile(entry({ dtype: 'F16' }), 8)), /tensor w: data_offsets span 8 bytes but shape \[2\] of F16 needs 4/);
  assert.throws(() => parse(rawFile(entry({ data_offsets: [8, 4] }), 8)), /end before they begin/);
  assert.throws(() => parse(rawFile(entry({ shape: [-2] }), 8)), /shape must be a list of non-negative integers/);
  assert.throws(() => parse(rawFile(entry({ dtype: 'F7' }), 8)), /unknown dtype "F7"/);
  const two = { ...entry({}), v: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
  assert.throws(() => parse(rawFile(two, 12)), /overlaps tensor/);
  assert.throws(() => parse(rawFile(entry({ dtype: 'I32' }), 8)), (e) => e instanceof UnsupportedError && /tensor w has dtype I32/.test(e.message));
});

test('readHFDir: single file, sharded index, loadTensorInto, missing pieces', () => withDir(async (dir) => {
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'] }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] } }));
  await assert.rejects(readHFDir(dir), /no model\.safetensors or model\.safetensors\.index\.json/);
  writeFileSync(join(dir, 'model-1.safetensors'), encodeSafetensors(tensors.slice(0, 2)));
  writeFileSync(join(dir, 'model-2.safetensors'), encodeSafetensors(tensors.slice(2)));
  const index = { weight_map: { a: 'model-1.safetensors', b: 'model-1.safetensors', c: 'model-2.safetensors' } };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  const hf = await readHFDir(dir);
  assert.equal(hf.tokenizerConfig, undefined);
  assert.deepEqual(hf.tensors.map((t) => t.name).sort(), ['a', 'b', 'c']);
  assert.equal(hf.totalBytes, tensors.reduce((a, t) => a + t.data.length, 0));
  for (const t of hf.tensors) {
    const dst = new Uint8Array(t.byteSize);
    await hf.loadTensorInto(t, dst);
    assert.deepEqual(dst, tensors.find((x) => x.name === t.name).data);
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...index.weight_map, d: 'model-2.safetensors' } }));
  await assert.rejects(readHFDir(dir), /tensor d is listed in model-2\.safetensors but not found there/);
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../x.safetensors' } }));
  await assert.rejects(readHFDir(dir), /must name a file in the same directory/);
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors).subarray(0, 40));
  await assert.rejects(readSafetensorsFile(join(dir, 'model.safetensors')), FormatError);
}));
