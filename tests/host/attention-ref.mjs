// Shared by the KV/attention/SparQ host tests: a deterministic generator, the runtime, and scalar f64
// references written from the definitions (independent of the kernels).
import { readFileSync } from 'node:fs';
import { createRuntime } from '../../dist/threads/create-runtime.js';

export async function runtime(options = {}) {
  return createRuntime(readFileSync(new URL('../../dist/sparq.wasm', import.meta.url)), options);
}

export function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

export function randn(rand, n, scale = 1) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() + rand() + rand() + rand() - 2) * scale;
  return a;
}

/** Write a Float32Array into fresh runtime memory; returns its offset. */
export function put(rt, arr) {
  const p = rt.alloc('test', arr.length * 4);
  rt.f32At(p, arr.length).set(arr);
  return p;
}

/**
 * Dense causal attention, f64: K, V as arrays of per-position Float32Array rows [S][nKV*d] (what the cache
 * holds), q [n][nHeads*d] for positions [pos, pos+n). Returns Float64Array [n][nHeads*d].
 */
export function denseRef(q, K, V, { nHeads, nKV, d, pos, n, scale = 1 / Math.sqrt(d) }) {
  const g = nHeads / nKV;
  const out = new Float64Array(n * nHeads * d);
  for (let t = 0; t < n; t++) {
    const S = pos + t + 1;
    for (let h = 0; h < nHeads; h++) {
      const kv = Math.floor(h / g);
      const s = new Float64Array(S);
      let m = -Infinity;
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[(t * nHeads + h) * d + i] * K[j][kv * d + i];
        s[j] = dot * scale;
        m = Math.max(m, s[j]);
      }
      let z = 0;
      for (let j = 0; j < S; j++) { s[j] = Math.exp(s[j] - m); z += s[j]; }
      for (let j = 0; j < S; j++) {
        const w = s[j] / z;
        for (let i = 0; i < d; i++) out[(t * nHeads + h) * d + i] += w * V[j][kv * d + i];
      }
    }
  }
  return out;
}

export function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Round an f32 to the nearest half (what an f16 cache holds), via Math.f16round when present. */
export function f16round(x) {
  if (Math.f16round) return Math.f16round(x);
  if (x === 0 || !Number.isFinite(x)) return x;
  const e = Math.max(Math.floor(Math.log2(Math.abs(x))), -14);
  const ulp = 2 ** (e - 10);
  const q = x / ulp;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q)) === 0.5 && r % 2 !== 0) r -= Math.sign(q); // ties to even
  return r * ulp;
}
