// SparQ against an independent implementation: tests/fixtures/sparq-reference.json holds a small GQA case
// and the outputs of tools/sparq_reference.py (numpy, f64, Algorithm 1 with the GQA rules of docs/sparq.md)
// for several settings: with and without mean-value reallocation, attention sinks, the adaptive budget.
// Regenerate with `python3 tools/sparq_reference.py fixture tests/fixtures/sparq-reference.json`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KVCache } from '../../dist/kv/cache.js';
import { SparqStep } from '../../dist/attention/sparq.js';
import { runtime, put, maxAbsDiff } from './attention-ref.mjs';

const fx = JSON.parse(readFileSync(new URL('../fixtures/sparq-reference.json', import.meta.url), 'utf8'));

for (const { y, reallocation, ...opts } of fx.settings) {
  test(`GQA ${fx.nHeads}/${fx.nKVHeads} d ${fx.headDim}, reallocation ${reallocation} ${JSON.stringify(opts)}: equals the numpy reference within 1e-5`, async () => {
    const { nHeads, nKVHeads, headDim: d, S, r, k } = fx;
    const rt = await runtime();
    const cache = new KVCache(rt, { nLayers: 1, nKVHeads, headDim: d, capacity: S, kType: 'f32', vType: 'f32', sparqLayout: true });
    cache.store(0, 0, put(rt, Float32Array.from(fx.K)), put(rt, Float32Array.from(fx.V)), S);
    const step = new SparqStep(rt, cache.spec, { nHeads, reallocation }, 1 / Math.sqrt(d));
    const out = rt.alloc('test', 4 * nHeads * d);
    step.run(0, cache, put(rt, Float32Array.from(fx.q)), out, S, r, k, opts);
    const err = maxAbsDiff(rt.f32At(out, nHeads * d), y);
    assert.ok(err < 1e-5, `max |Δ| = ${err}`);
    rt.dispose();
  });
}
