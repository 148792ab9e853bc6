// Dense attention through the Runtime against a scalar f64 reference: GQA, MHA, MQA, odd head dims, f32 and
// f16 caches, prefill in batches followed by single-token decode steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KVCache } from '../../dist/kv/cache.js';
import { Attention, newCounters } from '../../dist/attention/index.js';
import { POSITION_PART } from '../../dist/attention/parts.js';
import { InvalidArgumentError } from '../../dist/errors.js';
import { runtime, lcg, randn, put, denseRef, maxAbsDiff, f16round } from './attention-ref.mjs';

/** Runs prefill of `prefill` tokens in batches of `batch`, then decode steps to S; checks every output. */
async function check({ nHeads, nKV, d, S, prefill, batch, kType = 'f32', vType = 'f32', tol, seed = 1 }) {
  const rt = await runtime();
  const rand = lcg(seed);
  const cache = new KVCache(rt, { nLayers: 2, nKVHeads: nKV, headDim: d, capacity: S, kType, vType });
  const att = new Attention(rt, cache.spec, { nHeads, nKVHeads: nKV, headDim: d });
  const seq = { cache, setting: 'dense', counters: newCounters() };
  const layer = 1;
  const K = [], V = [];
  const round = (t) => (t === 'f16' ? (a) => a.map(f16round) : (a) => a);
  let worst = 0, singles = 0;
  for (let pos = 0; pos < S;) {
    const n = pos < prefill ? Math.min(batch, prefill - pos) : 1;
    if (n === 1) singles++;
    const q = randn(rand, n * nHeads * d, 1.5);
    const k = randn(rand, n * nKV * d, 1.5);
    const v = randn(rand, n * nKV * d);
    const m = rt.mark();
    const qp = put(rt, q), kp = put(rt, k), vp = put(rt, v), op = rt.alloc('test', 4 * n * nHeads * d);
    cache.store(layer, pos, kp, vp, n);
    att.run(layer, seq, qp, op, pos, n);
    const got = rt.f32At(op, n * nHeads * d).slice();
    rt.release(m);
    for (let t = 0; t < n; t++) {
      K.push(round(kType)(k.slice(t * nKV * d, (t + 1) * nKV * d)));
      V.push(round(vType)(v.slice(t * nKV * d, (t + 1) * nKV * d)));
    }
    const want = denseRef(q, K, V, { nHeads, nKV, d, pos, n });
    worst = Math.max(worst, maxAbsDiff(got, want));
    pos += n;
  }
  assert.ok(worst < tol, `max |Δ| = ${worst} (tolerance ${tol})`);
  const s = seq.counters;
  assert.equal(s.steps, singles, 'every single-token run is a decode step');
  assert.equal(s.bytesRead, s.denseBytes, 'dense decode reads exactly the dense bytes');
}

test('GQA (8 heads, 2 KV heads, d 64), f32 cache: prefill 70 in batches of 32 then decode to 300', () =>
  check({ nHeads: 8, nKV: 2, d: 64, S: 300, prefill: 70, batch: 32, tol: 2e-5 }));

test('MHA (4 heads, d 20): prefill of 1, decode to 140', () =>
  check({ nHeads: 4, nKV: 4, d: 20, S: 140, prefill: 1, batch: 1, tol: 2e-5 }));

test('MQA (6 heads, 1 KV head, d 36): one prefill batch of 97, decode to 130', () =>
  check({ nHeads: 6, nKV: 1, d: 36, S: 130, prefill: 97, batch: 97, tol: 2e-5 }));

test('f16 K and V (GQA 4/2, d 20): equals the reference on the f16-rounded cache', () =>
  check({ nHeads: 4, nKV: 2, d: 20, S: 150, prefill: 40, batch: 16, kType: 'f16', vType: 'f16', tol: 2e-5 }));

// A prefill runs as a task per (KV head, block of 16 query tokens): with one KV head, two threads share it,
// and every output row is bitwise what one thread computes (q8 cache: the integer dot product path).
test('MQA prefill of 200 tokens on a q8 cache: bitwise the same on 1 and 2 threads', async () => {
  const nHeads = 4, nKV = 1, d = 64, n = 200;
  const outs = [];
  for (const threads of [1, 2]) {
    const rt = await runtime({ threads, minParallelWork: 0 });
    const rand = lcg(3);
    const cache = new KVCache(rt, { nLayers: 1, nKVHeads: nKV, headDim: d, capacity: n, kType: 'q8', vType: 'q8' });
    const att = new Attention(rt, cache.spec, { nHeads, nKVHeads: nKV, headDim: d });
    const seq = { cache, setting: 'dense', counters: newCounters() };
    const qp = put(rt, randn(rand, n * nHeads * d, 1.5)), kp = put(rt, randn(rand, n * nKV * d, 1.5)), vp = put(rt, randn(rand, n * nKV * d));
    const op = rt.alloc('test', 4 * n * nHeads * d);
    cache.store(0, 0, kp, vp, n);
    att.run(0, seq, qp, op, 0, n);
    assert.equal(rt.threads, threads);
    outs.push(Float32Array.from(rt.f32At(op, n * nHeads * d)));
    rt.dispose();
  }
  assert.deepEqual(outs[1], outs[0]);
});

// A decode step over more than POSITION_PART positions runs as parts merged by their softmax sums: it still
// matches the reference, and is bitwise the same on 1 and 2 threads (where the parts are the tasks).
test('MQA decode steps over 2 parts + 900 positions (q8 and f32 caches): within 2e-5 of the reference (f32), bitwise the same on 1 and 2 threads', async () => {
  const nHeads = 3, nKV = 1, d = 32, S = 2 * POSITION_PART + 900;
  for (const kType of ['f32', 'q8']) {
    const outs = [];
    for (const threads of [1, 2]) {
      const rt = await runtime({ threads, minParallelWork: 0 });
      const rand = lcg(9);
      const cache = new KVCache(rt, { nLayers: 1, nKVHeads: nKV, headDim: d, capacity: S, kType, vType: kType });
      const att = new Attention(rt, cache.spec, { nHeads, nKVHeads: nKV, headDim: d });
      const seq = { cache, setting: 'dense', counters: newCounters() };
      const q = randn(rand, nHeads * d, 2), k = randn(rand, S * nKV * d, 1.5), v = randn(rand, S * nKV * d);
      cache.store(0, 0, put(rt, k), put(rt, v), S);
      const op = rt.alloc('test', 4 * nHeads * d);
      att.run(0, seq, put(rt, q), op, S - 1, 1);
      const got = Float32Array.from(rt.f32At(op, nHeads * d));
      if (threads === 1 && kType === 'f32') {
        const K = [], V = [];
        for (let p = 0; p < S; p++) { K.push(k.slice(p * nKV * d, (p + 1) * nKV * d)); V.push(v.slice(p * nKV * d, (p + 1) * nKV * d)); }
        const err = maxAbsDiff(got, denseRef(q, K, V, { nHeads, nKV, d, pos: S - 1, n: 1 }));
        assert.ok(err < 2e-5, `max |Δ| = ${err}`);
      }
      outs.push(got);
      rt.dispose();
    }
    assert.deepEqual(outs[1], outs[0], `${kType}: 1 and 2 threads differ`);
  }
});

test('run rejects positions the cache does not hold', async () => {
  const rt = await runtime();
  const cache = new KVCache(rt, { nLayers: 1, nKVHeads: 1, headDim: 8, capacity: 4 });
  const att = new Attention(rt, cache.spec, { nHeads: 2, nKVHeads: 1, headDim: 8 });
  assert.throws(() => att.run(0, { cache, setting: 'dense', counters: newCounters() }, 0, 0, 0, 1), InvalidArgumentError);
  assert.throws(() => new Attention(rt, cache.spec, { nHeads: 3, nKVHeads: 2, headDim: 8 }), InvalidArgumentError);
});
