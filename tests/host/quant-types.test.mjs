// Quantised weight types end to end: quantise -> dequantise error bounds (random and real weights), the
// `sparq quantize` file path (mixture rule, metadata kept), and whole models on the quantised kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GGMLType } from '../../dist/formats/ggml-types.js';
import { toF32 } from '../../dist/formats/half-floats.js';
import { useMoreBits } from '../../dist/convert/quant-mix.js';
import { convertHFToGGUF, quantizeGGUF, quantizeRows, dequantizeRows, planTypes } from '../../dist/convert/index.js';
import { ByteReader } from '../../dist/formats/source.js';
import { readGGUFHeader, readGGUFData } from '../../dist/formats/gguf.js';
import { openFileInput } from '../../dist/platform/node.js';
import { loadModel } from '../../dist/index.js';
import { greedyBySetting } from '../../dist/research/index.js';
import { decoderOf } from '../../dist/engine/model.js';

const STORIES = fileURLToPath(new URL('../../../shared/data/stories260K/stories260K.gguf', import.meta.url));
const GQA = fileURLToPath(new URL('../fixtures/llama-gqa', import.meta.url));
const needsShared = existsSync(STORIES) ? false : 'needs ../shared/data (absent)';

// Relative RMS error bounds (||x - deq(q(x))|| / ||x||) on N(0,1) data, about 10% above what the reference
// rules give (measured: Q8_0 .0051, Q4_0 .082, Q4_1 .075, Q5_0 .041, Q5_1 .037, Q2_K .284, Q3_K .145,
// Q4_K .069, Q5_K .035, Q6_K .017).
const BOUNDS = { Q8_0: 0.006, Q4_0: 0.09, Q4_1: 0.085, Q5_0: 0.045, Q5_1: 0.042, Q2_K: 0.31, Q3_K: 0.16, Q4_K: 0.076, Q5_K: 0.039, Q6_K: 0.019 };

let seed = 7;
const uni = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const gauss = () => { let u; do u = uni(); while (u === 0); return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uni()); };

function relErr(x, y) {
  let e = 0, n = 0;
  for (let i = 0; i < x.length; i++) { e += (x[i] - y[i]) ** 2; n += x[i] ** 2; }
  return Math.sqrt(e / n);
}

test('quantise -> dequantise error within the per-type bound on random N(0,1) rows', () => {
  const rows = 16, cols = 1024;
  const x = new Float32Array(rows * cols).map(gauss);
  for (const [name, bound] of Object.entries(BOUNDS)) {
    const q = quantizeRows(GGMLType[name], x, rows, cols);
    const err = relErr(x, dequantizeRows(GGMLType[name], q, x.length));
    assert.ok(err <= bound, `${name}: relative RMS error ${err.toFixed(4)} > ${bound}`);
  }
});

test('all-zero, constant and outlier blocks survive', () => {
  const cols = 256;
  const cases = [new Float32Array(cols), new Float32Array(cols).fill(0.5), new Float32Array(cols).map((_, i) => (i === 3 ? 100 : 0.01 * gauss()))];
  for (const name of Object.keys(BOUNDS)) {
    for (const x of cases) {
      const y = dequantizeRows(GGMLType[name], quantizeRows(GGMLType[name], x, 1, cols), cols);
      assert.ok(y.every(Number.isFinite), `${name}: non-finite output`);
      if (x.every((v) => v === 0)) assert.ok(y.every((v) => v === 0), `${name}: zeros do not stay zero`);
      const big = x.indexOf(100);
      if (big >= 0) assert.ok(Math.abs(y[big] - 100) < 1, `${name}: outlier 100 came back as ${y[big]}`);
    }
  }
});

test('the same bounds hold on the real stories260K weights (1.5x, real weights have heavier tails)', { skip: needsShared }, async () => {
  const { input, size } = await openFileInput(STORIES);
  const reader = new ByteReader(input, STORIES, size);
  const h = await readGGUFHeader(reader);
  const data = new Uint8Array(h.dataSize);
  await readGGUFData(reader, h, data);
  await reader.close();
  const all = [];
  for (const t of h.tensors) if (t.shape.length === 2) all.push(...toF32(data.subarray(t.offset, t.offset + t.byteSize), t.type));
  const x = Float32Array.from(all.slice(0, all.length - (all.length % 256)));
  for (const [name, bound] of Object.entries(BOUNDS)) {
    const err = relErr(x, dequantizeRows(GGMLType[name], quantizeRows(GGMLType[name], x, 1, x.length), x.length));
    assert.ok(err <= 1.5 * bound, `${name}: relative RMS error ${err.toFixed(4)} > ${1.5 * bound}`);
  }
});

test('Q4_K_M mixture follows llama.cpp: output Q6_K, attn_v / ffn_down Q6_K on the use_more_bits layers', () => {
  const n = 16, tensors = [{ name: 'token_embd.weight', shape: [2048, 1000] }, { name: 'output.weight', shape: [2048, 1000] }];
  for (let i = 0; i < n; i++) {
    tensors.push({ name: `blk.${i}.attn_norm.weight`, shape: [2048] }, { name: `blk.${i}.attn_v.weight`, shape: [2048, 512] },
      { name: `blk.${i}.attn_q.weight`, shape: [2048, 2048] }, { name: `blk.${i}.ffn_down.weight`, shape: [8192, 2048] });
  }
  const types = planTypes(tensors, 'Q4_K_M');
  const of = (name) => types[tensors.findIndex((t) => t.name === name)];
  assert.equal(of('output.weight'), GGMLType.Q6_K);
  assert.equal(of('token_embd.weight'), GGMLType.Q4_K);
  assert.equal(of('blk.0.attn_norm.weight'), GGMLType.F32);
  const six = [];
  for (let i = 0; i < n; i++) {
    if (of(`blk.${i}.attn_v.weight`) === GGMLType.Q6_K) six.push(i);
    assert.equal(of(`blk.${i}.attn_v.weight`), of(`blk.${i}.ffn_down.weight`));
    assert.equal(of(`blk.${i}.attn_q.weight`), GGMLType.Q4_K);
  }
  assert.deepEqual(six, [0, 1, 4, 7, 10, 13, 14, 15]);
  assert.deepEqual(six, [...Array(n).keys()].filter((i) => useMoreBits(i, n)));
  // Rows that K blocks cannot tile fall back as llama.cpp does (Q6_K -> Q8_0 for the output).
  const small = planTypes([{ name: 'output.weight', shape: [64, 512] }, { name: 'blk.0.attn_q.weight', shape: [64, 64] }], 'Q4_K_M');
  assert.deepEqual(small, [GGMLType.Q8_0, GGMLType.Q5_0]);
});

/** Logits of every prompt position and 24 greedy tokens. */
async function run(model, prompt) {
  const logits = model.logits(prompt);
  const greedy = greedyBySetting(model, prompt, 24, [{ label: 'dense', setting: 'dense' }])[0];
  return { logits, greedy };
}

/** Replace every 2-D weight of an F32-loaded model by dequant(quant(w)) in `type` (the model's kernel then sees the same weights). */
function dequantizeInPlace(model, type) {
  const dec = decoderOf(model), w = dec.weights;
  const mats = [w.tokenEmbd, w.output, ...w.layers.flatMap((L) => [L.wq, L.wk, L.wv, L.wo, L.wGate, L.wUp, L.wDown])];
  for (const t of new Set(mats)) {
    const [cols, rows] = t.shape;
    const v = dec.rt.f32At(t.ptr, rows * cols);
    v.set(dequantizeRows(type, quantizeRows(type, v, rows, cols), rows * cols));
  }
}

// Bound on the relative RMS difference of all prompt logits between the model running on the quantised
// kernels and the F32 model holding the same (dequantised) weights: only the 8-bit activations differ.
// Measured 0.043-0.049 (legacy, activation scale per 32), 0.062-0.070 (K-quants, per 256); the existing
// Q8_0 path gives 0.055 (this random fixture amplifies any rounding: its logits reach 34 and greedy gaps 0.18).
const KERNEL_BOUND = 0.09;
// Bound on the relative RMS difference from the F32 model (weights and activations quantised), about 1.25x
// measured: the random fixture is far more sensitive than trained weights, so these are loose by nature.
const F32_BOUND = { Q8_0: 0.09, Q4_0: 0.87, Q4_1: 0.83, Q5_0: 0.48, Q5_1: 0.45, Q2_K: 1.55, Q3_K: 1.26, Q4_K: 0.75, Q5_K: 0.46, Q6_K: 0.23 };

test('llama-gqa (HF fixture) quantised to every type: kernels match the dequantised-F32 model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-qt-'));
  try {
    const f32 = join(dir, 'f32.gguf');
    await convertHFToGGUF(GQA, f32, 'F32', { warn: () => {} });
    const ref = await loadModel(f32);
    const prompt = ref.tokenize('Once upon a time, a little fox');
    const base = await run(ref, prompt);
    ref.dispose();
    const errs = [];
    for (const name of ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']) {
      const out = join(dir, `${name}.gguf`);
      await quantizeGGUF(f32, out, name === 'Q3_K' ? 'Q3_K_S' : name === 'Q4_K' ? 'Q4_K_S' : name === 'Q5_K' ? 'Q5_K_S' : name, { pure: true });
      const q = await loadModel(out);
      assert.equal(decoderOf(q).weights.layers[0].wq.type, GGMLType[name], `${name}: stored type`);
      const got = await run(q, prompt);
      q.dispose();
      const deq = await loadModel(f32);
      dequantizeInPlace(deq, GGMLType[name]);
      const want = await run(deq, prompt);
      deq.dispose();
      errs.push([name, relErr(want.logits, got.logits), relErr(base.logits, got.logits)]);
    }
    const table = errs.map(([n, k, f]) => `${n} kernel ${k.toFixed(4)} f32 ${f.toFixed(4)}`).join('; ');
    for (const [name, kernelErr, fromF32] of errs) {
      assert.ok(kernelErr <= KERNEL_BOUND, `${name}: logits differ from the dequantised model by more than ${KERNEL_BOUND} (${table})`);
      assert.ok(fromF32 <= F32_BOUND[name], `${name}: logits differ from F32 by more than ${F32_BOUND[name]} (${table})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stories260K quantised: greedy tokens stay close to F32', { skip: needsShared }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-qt-'));
  try {
    const ref = await loadModel(STORIES);
    const prompt = ref.tokenize('Once upon a time, there was a little');
    const base = await run(ref, prompt);
    ref.dispose();
    // Minimum matching prefix of 24 greedy tokens per type (dims 64/172: K types fall back per llama.cpp's rule).
    const MIN_PREFIX = { Q8_0: 24, Q6_K: 24, Q5_K_M: 8, Q4_K_M: 8, Q5_0: 8, Q4_0: 4 };
    for (const [name, minPrefix] of Object.entries(MIN_PREFIX)) {
      const out = join(dir, `${name}.gguf`);
      await quantizeGGUF(STORIES, out, name);
      const q = await loadModel(out);
      const got = await run(q, prompt);
      q.dispose();
      let same = 0;
      while (same < got.greedy.length && got.greedy[same] === base.greedy[same]) same++;
      assert.ok(same >= minPrefix, `${name}: first ${same} greedy tokens match F32, wanted ${minPrefix}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
