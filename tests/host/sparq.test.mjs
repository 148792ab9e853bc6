// SparQ decode steps through the Runtime: full coverage equals dense, GQA sharing equals the per-head
// definition written out in f64, the top-k selection is exact, and bytes read follow the transfer model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KVCache } from '../../dist/kv/cache.js';
import { Attention, newCounters } from '../../dist/attention/index.js';
import { SparqStep } from '../../dist/attention/sparq.js';
import { POSITION_PART } from '../../dist/attention/parts.js';
import { resolveSparq, ratioLayerBudget, reallocatesByDefault, MIN_K, SPARQ_MIN_SEQ } from '../../dist/attention/policy.js';
import { runtime, lcg, randn, put, denseRef, maxAbsDiff } from './attention-ref.mjs';

/** A one-layer SparQ-layout cache of S random positions; returns the runtime pieces and the stored rows. */
async function setup({ nHeads, nKV, d, S, kType = 'f32', vType = 'f32', kTType = 'same', seed = 7, threads = 1 }) {
  const rt = await runtime({ threads, minParallelWork: 0 });
  const rand = lcg(seed);
  const cache = new KVCache(rt, { nLayers: 1, nKVHeads: nKV, headDim: d, capacity: S, kType, vType, sparqLayout: true, kTType });
  const k = randn(rand, S * nKV * d, 1.5), v = randn(rand, S * nKV * d);
  cache.store(0, 0, put(rt, k), put(rt, v), S);
  const K = [], V = [];
  for (let p = 0; p < S; p++) { K.push(k.slice(p * nKV * d, (p + 1) * nKV * d)); V.push(v.slice(p * nKV * d, (p + 1) * nKV * d)); }
  const q = randn(rand, nHeads * d, 2);
  return { rt, cache, K, V, q, qp: put(rt, q), op: rt.alloc('test', 4 * nHeads * d) };
}

/** The SparQ step by its per-head definition (sparq.md §1-3), f64, for one group; returns [g][d]. */
function sparqRef(q, K, V, { nHeads, nKV, d, S, r, k, realloc }) {
  const g = nHeads / nKV;
  const out = new Float64Array(nHeads * d);
  for (let kv = 0; kv < nKV; kv++) {
    const heads = Array.from({ length: g }, (_, j) => kv * g + j);
    const a = Array.from({ length: d }, (_, i) => heads.reduce((s, h) => s + Math.abs(q[h * d + i]), 0));
    const I1 = [...a.keys()].sort((x, y) => a[y] - a[x]).slice(0, r);
    const z = heads.map((h) => {
      const qh = Array.from({ length: d }, (_, i) => q[h * d + i]);
      const cov = I1.reduce((s, i) => s + Math.abs(qh[i]), 0) / qh.reduce((s, x) => s + Math.abs(x), 0);
      const tau = Math.sqrt(d * cov);
      return Array.from({ length: S }, (_, j) => I1.reduce((s, i) => s + qh[i] * K[j][kv * d + i], 0) / tau);
    });
    // the group's mean approximate logits: the ranking, and with reallocation the group's α
    const rank = Array.from({ length: S }, (_, j) => z.reduce((s, zh) => s + zh[j], 0) / g);
    const l = Math.floor(k / 4);
    const n = S - l - 1;
    const chosen = [...Array(n).keys()].sort((x, y) => rank[y] - rank[x]).slice(0, k - l);
    for (let p = n; p < S; p++) chosen.push(p);
    const zm = Math.max(...rank);
    const alpha = chosen.reduce((t, j) => t + Math.exp(rank[j] - zm), 0) / rank.reduce((t, x) => t + Math.exp(x - zm), 0);
    heads.forEach((h) => {
      const s = chosen.map((j) => { let t = 0; for (let i = 0; i < d; i++) t += q[h * d + i] * K[j][kv * d + i]; return t / Math.sqrt(d); });
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const Z = e.reduce((x, y) => x + y, 0);
      const y = new Float64Array(d);
      chosen.forEach((j, c) => { for (let i = 0; i < d; i++) y[i] += (e[c] / Z) * V[j][kv * d + i]; });
      if (realloc) {
        for (let i = 0; i < d; i++) {
          let mean = 0;
          for (let j = 0; j < S; j++) mean += V[j][kv * d + i];
          y[i] = alpha * y[i] + (1 - alpha) * (mean / S);
        }
      }
      out.set(y, h * d);
    });
  }
  return out;
}

for (const [name, shape] of [['MHA 4/4 d 32', { nHeads: 4, nKV: 4, d: 32 }], ['GQA 8/2 d 64', { nHeads: 8, nKV: 2, d: 64 }], ['MQA 3/1 d 20', { nHeads: 3, nKV: 1, d: 20 }]]) {
  for (const realloc of [false, true]) {
    test(`${name}, reallocation ${realloc}: r = d_h and k >= S equals dense within 1e-5 (f32 cache)`, async () => {
      const S = 333;
      const { rt, cache, K, V, q, qp, op } = await setup({ ...shape, S });
      const g = shape.nHeads / shape.nKV;
      const step = new SparqStep(rt, cache.spec, { nHeads: shape.nHeads, reallocation: realloc }, 1 / Math.sqrt(shape.d));
      step.run(0, cache, qp, op, S, shape.d, S);
      const want = denseRef(q, K, V, { nHeads: shape.nHeads, nKV: shape.nKV, d: shape.d, pos: S - 1, n: 1 });
      const err = maxAbsDiff(rt.f32At(op, shape.nHeads * shape.d), want);
      assert.ok(err < 1e-5, `max |Δ| = ${err}`);
    });

    test(`${name}, reallocation ${realloc}: sparse step (r < d_h, k < S) equals the per-head definition`, async () => {
      const S = 300, r = Math.max(2, shape.d / 4), k = 40;
      const { rt, cache, K, V, q, qp, op } = await setup({ ...shape, S, seed: 11 });
      const g = shape.nHeads / shape.nKV;
      const step = new SparqStep(rt, cache.spec, { nHeads: shape.nHeads, reallocation: realloc }, 1 / Math.sqrt(shape.d));
      const bytes = step.run(0, cache, qp, op, S, r, k);
      const want = sparqRef(q, K, V, { ...shape, S, r, k, realloc });
      const err = maxAbsDiff(rt.f32At(op, shape.nHeads * shape.d), want);
      assert.ok(err < 1e-5, `max |Δ| = ${err}`);
      // transfer: r rows of every K^T tile, k + 1 rows of K and V, the V sum with reallocation
      const tiles = Math.ceil(S / 64);
      const expect = shape.nKV * (r * tiles * 64 * 4 + (k + 1) * 2 * shape.d * 4 + (realloc ? 4 * shape.d : 0));
      assert.ok(Math.abs(bytes - expect) <= shape.nKV * r * 64 * 4, `bytes ${bytes}, model ${expect}`);
    });
  }
}

// Step 1 over more positions than one part (SparqStep runs a call per POSITION_PART positions, merging the
// parts' softmax sums): still the per-head definition, and bitwise the same on 1 and 2 threads, where the
// (head, part) calls are the tasks.
for (const [name, shape] of [['MQA 3/1 d 20', { nHeads: 3, nKV: 1, d: 20 }], ['GQA 4/2 d 16', { nHeads: 4, nKV: 2, d: 16 }]]) {
  test(`${name}, S = 2 parts + 300: sparse step equals the per-head definition, bitwise the same on 1 and 2 threads`, async () => {
    const S = 2 * POSITION_PART + 300, r = shape.d / 4, k = 256;
    const outs = [];
    for (const threads of [1, 2]) {
      const { rt, cache, K, V, q, qp, op } = await setup({ ...shape, S, seed: 5, threads });
      const g = shape.nHeads / shape.nKV;
      const step = new SparqStep(rt, cache.spec, { nHeads: shape.nHeads, reallocation: true }, 1 / Math.sqrt(shape.d));
      step.run(0, cache, qp, op, S, r, k);
      const got = Float32Array.from(rt.f32At(op, shape.nHeads * shape.d));
      if (threads === 1) {
        const err = maxAbsDiff(got, sparqRef(q, K, V, { ...shape, S, r, k, realloc: true }));
        assert.ok(err < 1e-5, `max |Δ| = ${err}`);
      } else assert.equal(rt.threads, 2, 'the test needs a pool of 2 threads');
      outs.push(got);
      rt.dispose();
    }
    assert.deepEqual(outs[1], outs[0]);
  });
}

test('GQA 4/2 d 16, S = 2 parts + 300, sinks and an adaptive budget: bitwise the same on 1 and 2 threads', async () => {
  const shape = { nHeads: 4, nKV: 2, d: 16 }, S = 2 * POSITION_PART + 300;
  const outs = [];
  for (const threads of [1, 2]) {
    const { rt, cache, qp, op } = await setup({ ...shape, S, seed: 9, threads, kType: 'q8', vType: 'q8' });
    const step = new SparqStep(rt, cache.spec, { nHeads: shape.nHeads, reallocation: false }, 1 / Math.sqrt(shape.d));
    step.run(0, cache, qp, op, S, 4, 256, { sinks: 4, topP: 0.8 });
    outs.push(Float32Array.from(rt.f32At(op, shape.nHeads * shape.d)));
    rt.dispose();
  }
  assert.deepEqual(outs[1], outs[0]);
});

test('the decode policy: ratio recipe, the k floor, dense below the switch-off, when k covers S and in dense layers', () => {
  const rk = (p) => p && { r: p.r, k: p.k };
  assert.deepEqual(rk(resolveSparq({ kind: 'sparq', ratio: 1 / 8 }, 128, 16384)), { r: 16, k: 1024 });
  assert.deepEqual(rk(resolveSparq({ kind: 'sparq', ratio: 1 / 8 }, 64, 2048)), { r: 8, k: MIN_K });
  assert.equal(resolveSparq({ kind: 'sparq', ratio: 1 / 8, denseLayers: [0, 3] }, 64, 4096, 3), undefined);
  assert.deepEqual(rk(resolveSparq({ kind: 'sparq', ratio: 1 / 8, denseLayers: [0, 3] }, 64, 4096, 1)), { r: 8, k: 256 });
  assert.equal(resolveSparq({ kind: 'sparq', ratio: 1 / 8, sinks: 4, topP: 0.9 }, 64, 4096).sinks, 4);
  assert.throws(() => resolveSparq({ kind: 'sparq', ratio: 1 / 8, sinks: -1 }, 64, 4000), /sinks/);
  assert.throws(() => resolveSparq({ kind: 'sparq', ratio: 1 / 8, topP: 1.5 }, 64, 4000), /topP/);
  assert.throws(() => resolveSparq({ kind: 'sparq', ratio: 1 / 8, denseLayers: [-1] }, 64, 4000), /denseLayers/);
  assert.throws(() => resolveSparq({ kind: 'sparq', ratio: 1 / 8, topP: 0.9, kMin: 2, kMax: 1 }, 64, 4000), /kMin/);
  // a ratio setting's defaults: sinks, three times the rows in the first layer and the rest shared by the others
  const at = (layer, setting = { kind: 'sparq', ratio: 1 / 8 }) => resolveSparq(setting, 64, 4096, layer, 8);
  assert.deepEqual([at(0).k, at(1).k, at(7).k, at(1).sinks], [768, 183, 183, 4]);
  assert.deepEqual([at(0, { kind: 'sparq', ratio: 1 / 8, layerBudget: [], sinks: 0 }).k, at(0, { kind: 'sparq', ratio: 1 / 8, sinks: 0 }).sinks], [256, 0]);
  assert.equal(ratioLayerBudget(0, 8) + 7 * ratioLayerBudget(3, 8), 8);
  assert.equal(ratioLayerBudget(0, 5), 1);
  // the per-layer share never takes a ratio setting's k below MIN_K (at 2K, 1/8: 128 * 5/7 would be 91)
  assert.deepEqual([0, 1].map((l) => resolveSparq({ kind: 'sparq', ratio: 1 / 8 }, 64, 2048, l, 8).k), [3 * MIN_K, MIN_K]);
  // an {r, k} setting means what it says
  assert.deepEqual([at(0, { kind: 'sparq', r: 8, k: 256 }).k, at(0, { kind: 'sparq', r: 8, k: 256 }).sinks], [256, 0]);
  assert.deepEqual([0, 1, 7].map(reallocatesByDefault), [false, true, true]);
  assert.deepEqual([0, 2].map((l) => at(l, { kind: 'sparq', ratio: 1 / 8, reallocation: [2] }).reallocation), [false, true]);
  assert.equal(at(2).reallocation, undefined);
  assert.equal(resolveSparq({ kind: 'sparq', ratio: 1 / 8 }, 64, SPARQ_MIN_SEQ - 1), undefined);
  assert.equal(resolveSparq({ kind: 'sparq', r: 8, k: 4000 }, 64, 4000), undefined);
  assert.throws(() => resolveSparq({ kind: 'sparq', ratio: 0 }, 64, 4000));
  assert.throws(() => resolveSparq({ kind: 'sparq', r: 65, k: 10 }, 64, 4000));
  // the kernels' scratch holds at most SPARQ_MAX_R (256) components, whatever the head dimension
  assert.throws(() => resolveSparq({ kind: 'sparq', r: 257, k: 10 }, 512, 4000), /\[1, 256\]/);
  assert.equal(resolveSparq({ kind: 'sparq', ratio: 1 }, 512, 4000).r, 256);
});

test('Attention with a SparQ setting: decode steps use SparQ and read less than dense', async () => {
  const S = 2048, nHeads = 4, nKV = 2, d = 64;
  const { rt, cache, qp, op } = await setup({ nHeads, nKV, d, S, kType: 'q8', vType: 'q8' });
  const att = new Attention(rt, cache.spec, { nHeads, nKVHeads: nKV, headDim: d });
  const seq = { cache, setting: { kind: 'sparq', ratio: 1 / 8 }, counters: newCounters() };
  att.run(0, seq, qp, op, S - 1, 1);
  const s = seq.counters;
  assert.equal(s.steps, 1);
  assert.deepEqual([s.r, s.k], [8, MIN_K]);
  assert.ok(s.bytesRead < s.denseBytes / 4, `read ${s.bytesRead} of ${s.denseBytes}`);
  for (const x of rt.f32At(op, nHeads * d)) assert.ok(Number.isFinite(x));
});

/** Checks out[0..cnt) are exactly the indices of the k largest of x. */
function checkTopk(rt, x, k) {
  const m = rt.mark();
  const xp = put(rt, x), out = rt.alloc('test', 4 * x.length), work = rt.alloc('test', rt.k.topk_work_bytes(x.length));
  const cnt = rt.k.topk_select(xp, x.length, k, out, work);
  const idx = Array.from(rt.i32At(out, cnt));
  rt.release(m);
  assert.equal(cnt, Math.min(k, x.length));
  const chosen = new Set(idx);
  assert.equal(chosen.size, cnt, 'indices are distinct');
  let minIn = Infinity, maxOut = -Infinity;
  x.forEach((v, j) => { if (chosen.has(j)) minIn = Math.min(minIn, v); else maxOut = Math.max(maxOut, v); });
  assert.ok(cnt === 0 || cnt === x.length || minIn >= maxOut, `k=${k}: smallest chosen ${minIn} < largest left ${maxOut}`);
  // the same multiset of values as a full sort (-0 and +0 count as equal values)
  const want = Array.from(x).sort((a, b) => b - a).slice(0, cnt).map((v) => v + 0);
  assert.deepEqual(idx.map((j) => x[j] + 0).sort((a, b) => b - a), want);
}

test('topk_select returns exactly the k largest: random, all-equal and adversarial inputs', async () => {
  const rt = await runtime();
  const rand = lcg(3);
  const n = 5000;
  const inputs = {
    random: randn(rand, n, 10),
    allEqual: new Float32Array(n).fill(0.25),
    allZeroSigned: Float32Array.from({ length: n }, (_, j) => (j % 2 ? 0 : -0)),
    ascending: Float32Array.from({ length: n }, (_, j) => j - 2500),
    descending: Float32Array.from({ length: n }, (_, j) => 2500 - j),
    // equal top 21 bits everywhere, differing only in the low mantissa bits
    lowBitsOnly: Float32Array.from({ length: n }, (_, j) => 1 + (j % 977) * 2 ** -23),
    // ties exactly at the boundary and a few infinities
    boundaryTies: Float32Array.from({ length: n }, (_, j) => (j % 10 === 0 ? 5 : j % 7 === 0 ? -Infinity : j === 17 ? Infinity : (j % 13) - 6)),
    negatives: Float32Array.from({ length: n }, () => -1e-30 - rand() * 1e-30),
  };
  for (const [name, x] of Object.entries(inputs)) {
    for (const k of [0, 1, 2, 31, 500, 501, 4999, 5000, 6000]) {
      try { checkTopk(rt, x, k); } catch (e) { e.message = `${name}: ${e.message}`; throw e; }
    }
  }
  checkTopk(rt, Float32Array.of(3), 1);
  checkTopk(rt, Float32Array.of(1, 2, 3), 2);
});
