// SparQ step kernels against scalar references: the group's shared components and temperatures
// (sparq_query), the approximate scores and their log-sum-exp over f32 and q8 transposed tiles
// (sparq_scores, partial last tile included), the selection with the local window and attention sinks
// (sparq_select), and the adaptive budget (sparq_budget).
import { sparq_query, sparq_scores, sparq_scores_scratch_bytes, sparq_select, sparq_budget } from '../../assembly/sparq';
import { kv_store_t } from '../../assembly/kv_cache';
import { kv_tile_code_bytes, KT_TILE, KT_GROUP, KV_SCALE_BYTES } from '../../assembly/kv_layout';
import { F32, KV_Q8 } from '../../assembly/types';
import { topk_work_bytes } from '../../assembly/topk';

let seed: u32 = 4242;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5) * 2;
}
function fa(n: i32): usize { return heap.alloc(<usize>max(n, 1) << 2); }

describe('sparq_query', () => {
  it('I1 = top r of |q| summed over the group; qc = (1/g)·Σ_h q_h[I1]·scale/sqrt(cov_h)', () => {
    const g = 3, d = 20, r = 5;
    const q = fa(g * d), i1 = fa(d), qc = fa(d), work = fa(d);
    for (let i = 0; i < g * d; i++) store<f32>(q + (<usize>i << 2), rnd());
    const scale: f32 = 0.3;
    sparq_query(q, g, d, r, scale, i1, qc, work);
    // every chosen component has a group sum >= every other one, listed in increasing order
    let minIn: f32 = Infinity;
    let ok = 1;
    for (let m = 0; m < r; m++) {
      const c = load<i32>(i1 + (<usize>m << 2));
      if (m > 0 && c <= load<i32>(i1 + (<usize>(m - 1) << 2))) ok = 0;
      let a: f32 = 0;
      for (let h = 0; h < g; h++) a += abs(load<f32>(q + (<usize>(h * d + c) << 2)));
      minIn = min(minIn, a);
    }
    for (let c = 0; c < d; c++) {
      let chosen = false;
      for (let m = 0; m < r; m++) if (load<i32>(i1 + (<usize>m << 2)) == c) chosen = true;
      let a: f32 = 0;
      for (let h = 0; h < g; h++) a += abs(load<f32>(q + (<usize>(h * d + c) << 2)));
      if (!chosen && a > minIn) ok = 0;
    }
    expect(ok).toBe(1);
    let worst: f64 = 0;
    for (let m = 0; m < r; m++) {
      const c = load<i32>(i1 + (<usize>m << 2));
      let sum: f64 = 0;
      for (let h = 0; h < g; h++) {
        let all: f64 = 0, sel: f64 = 0;
        for (let i = 0; i < d; i++) all += Math.abs(<f64>load<f32>(q + (<usize>(h * d + i) << 2)));
        for (let j = 0; j < r; j++) sel += Math.abs(<f64>load<f32>(q + (<usize>(h * d + load<i32>(i1 + (<usize>j << 2))) << 2)));
        const x = <f64>load<f32>(q + (<usize>(h * d + c) << 2)) * <f64>scale / Math.sqrt(sel / all);
        sum += x;
      }
      worst = Math.max(worst, Math.abs(<f64>load<f32>(qc + (<usize>m << 2)) - sum / <f64>g));
    }
    expect(worst).toBeLessThan(1e-5);
  });
});

// z over S positions from tiles built with kv_store_t, against Σ_m qc[m]·K[j][i1[m]] on the stored values.
function scoresError(type: i32, S: i32): f64 {
  const d = 32, r = 7, tiles = (S + KT_TILE * KT_GROUP - 1) / (KT_TILE * KT_GROUP) * KT_GROUP;
  const bytes = <usize>(tiles * d * (kv_tile_code_bytes(type) + KV_SCALE_BYTES));
  const kt = heap.alloc(bytes), k = fa(S * d), qc = fa(r), i1 = fa(r), z = fa(S), lse = fa(2);
  for (let i = 0; i < S * d; i++) store<f32>(k + (<usize>i << 2), rnd());
  kv_store_t(k, S, 1, d, kt, bytes, 0, type, tiles);
  for (let m = 0; m < r; m++) { store<i32>(i1 + (<usize>m << 2), 3 * m + 1); store<f32>(qc + (<usize>m << 2), rnd()); }
  const scratch = heap.alloc(<usize>sparq_scores_scratch_bytes());
  const read = sparq_scores(qc, i1, r, kt, type, tiles, d, S, z, lse, 0, scratch);
  expect(read).toBeGreaterThan(0);
  // the same positions in two calls, [0, p) and [p, S), each with its own (max, sum): the same scores bit
  // for bit, and the two sums merged give the log-sum-exp of the one call
  const p = (S / 2) / KT_TILE * KT_TILE, z2 = fa(S), lse2 = fa(4);
  sparq_scores(qc, i1, r, kt, type, tiles, d, p, z2, lse2, 0, scratch);
  sparq_scores(qc, i1, r, kt, type, tiles, d, S, z2, lse2 + 8, p, scratch);
  let same = 1;
  for (let j = 0; j < S; j++) if (load<f32>(z2 + (<usize>j << 2)) != load<f32>(z + (<usize>j << 2))) same = 0;
  expect(same).toBe(1);
  const ma = <f64>load<f32>(lse2), mb = <f64>load<f32>(lse2 + 8);
  const mm = Math.max(ma, mb);
  let merged = mm + Math.log((p > 0 ? <f64>load<f32>(lse2 + 4) * Math.exp(ma - mm) : 0) + <f64>load<f32>(lse2 + 12) * Math.exp(mb - mm));
  // q8 codes appended one position at a time stay within two steps (2·max|k|/127, |k| <= 1) of the value,
  // re-encodings included (see kv_cache.spec.ts), so allow Σ|qc|·2/127
  let tol: f64 = 2e-6;
  if (type == KV_Q8) { tol = 1e-5; for (let m = 0; m < r; m++) tol += Math.abs(<f64>load<f32>(qc + (<usize>m << 2))) * 2 / 127; }
  let worst: f64 = 0;
  let mx: f64 = -Infinity;
  for (let j = 0; j < S; j++) {
    let s: f64 = 0;
    for (let m = 0; m < r; m++) s += <f64>load<f32>(qc + (<usize>m << 2)) * <f64>load<f32>(k + (<usize>(j * d + load<i32>(i1 + (<usize>m << 2))) << 2));
    worst = Math.max(worst, Math.abs(<f64>load<f32>(z + (<usize>j << 2)) - s) / tol);
    mx = Math.max(mx, <f64>load<f32>(z + (<usize>j << 2)));
  }
  // log-sum-exp of the written scores
  let se: f64 = 0;
  for (let j = 0; j < S; j++) se += Math.exp(<f64>load<f32>(z + (<usize>j << 2)) - mx);
  const m0 = <f64>load<f32>(lse), s0 = <f64>load<f32>(lse + 4);
  const lseErr = Math.abs((m0 + Math.log(s0)) - (mx + Math.log(se)));
  const splitErr = Math.abs(merged - (mx + Math.log(se)));
  heap.free(kt); heap.free(k); heap.free(qc); heap.free(i1); heap.free(z); heap.free(lse); heap.free(scratch); heap.free(z2); heap.free(lse2);
  return lseErr > 1e-4 || splitErr > 1e-4 ? 1e9 : worst;
}

describe('sparq_scores', () => {
  it('f32 tiles: exact partial dot products; q8 tiles: within the code error; log-sum-exp within 1e-4, also from two position ranges', () => {
    const sizes: i32[] = [1, 63, 64, 65, 200, 1100];
    for (let i = 0; i < sizes.length; i++) {
      expect(scoresError(F32, sizes[i])).toBeLessThanOrEqual(1.0);
      expect(scoresError(KV_Q8, sizes[i])).toBeLessThanOrEqual(1.0);
    }
  });
});

describe('sparq_select', () => {
  it('k - l - sinks best of positions [sinks, S - l - 1), then the sinks, the l = k/4 newest and the current token', () => {
    const S = 500, k = 40, l = k / 4;
    const sinkCases: i32[] = [0, 3];
    for (let c = 0; c < sinkCases.length; c++) {
      const sinks = sinkCases[c];
      const rank = fa(S), idx = fa(S), work = heap.alloc(<usize>topk_work_bytes(S));
      for (let j = 0; j < S; j++) store<f32>(rank + (<usize>j << 2), <f32>((j * 7919) % 1000));
      const cnt = sparq_select(rank, S, k, l, sinks, idx, work, 0, 0, 0);
      expect(cnt).toBe(k + 1);
      const n = S - l - 1, top = k - l - sinks;
      let ok = 1;
      for (let p = 0; p < sinks; p++) if (load<i32>(idx + (<usize>(top + p) << 2)) != p) ok = 0;
      for (let p = 0; p <= l; p++) if (load<i32>(idx + (<usize>(top + sinks + p) << 2)) != n + p) ok = 0;
      let minIn: f32 = Infinity;
      for (let m = 0; m < top; m++) {
        const j = load<i32>(idx + (<usize>m << 2));
        if (j < sinks || j >= n) ok = 0;
        minIn = min(minIn, load<f32>(rank + (<usize>j << 2)));
      }
      let above = 0;
      for (let j = sinks; j < n; j++) if (load<f32>(rank + (<usize>j << 2)) > minIn) above++;
      expect(ok).toBe(1);
      expect(above).toBeLessThan(top);
      heap.free(rank); heap.free(idx); heap.free(work);
    }
  });
});

// The mass of position j as sparq_budget defines it, in f64.
function massOf(z: usize, lse: usize, j: i32): f64 {
  return Math.exp(<f64>load<f32>(z + (<usize>j << 2)) - <f64>load<f32>(lse)) / <f64>load<f32>(lse + 4);
}

describe('sparq_budget', () => {
  it('keeps the fewest highest-mass candidates reaching topP (at least kMin), then the fixed positions', () => {
    const S = 600, chosen = 200, fixed = 5;
    const z = fa(S), lse = fa(2), idx = fa(S), work = fa(S);
    let m: f64 = -Infinity, sum: f64 = 0;
    for (let j = 0; j < S; j++) { const x = rnd() * 4; store<f32>(z + (<usize>j << 2), x); m = Math.max(m, x); }
    for (let j = 0; j < S; j++) sum += Math.exp(<f64>load<f32>(z + (<usize>j << 2)) - m);
    store<f32>(lse, <f32>m);
    store<f32>(lse + 4, <f32>sum);
    const tops: f32[] = [0.05, 0.3, 0.6, 0.99];
    const mins: i32[] = [0, 0, 10, 0];
    for (let c = 0; c < tops.length; c++) {
      // candidates: every third position; fixed: the last five
      for (let m = 0; m < chosen; m++) store<i32>(idx + (<usize>m << 2), 3 * m);
      for (let m = 0; m < fixed; m++) store<i32>(idx + (<usize>(chosen + m) << 2), S - fixed + m);
      let fixedMass: f64 = 0;
      for (let m = 0; m < fixed; m++) fixedMass += massOf(z, lse, S - fixed + m);
      const cnt = sparq_budget(z, lse, idx, chosen, fixed, tops[c], mins[c], work);
      const kept = cnt - fixed;
      let ok = 1;
      for (let m = 0; m < fixed; m++) if (load<i32>(idx + (<usize>(kept + m) << 2)) != S - fixed + m) ok = 0;
      // kept: distinct candidates, each with at least the mass of every dropped candidate
      let keptMass: f64 = 0, minKept: f64 = Infinity;
      const isKept = new StaticArray<bool>(S);
      for (let m = 0; m < kept; m++) {
        const j = load<i32>(idx + (<usize>m << 2));
        if (j % 3 != 0 || isKept[j]) ok = 0;
        isKept[j] = true;
        const w = massOf(z, lse, j);
        keptMass += w; minKept = Math.min(minKept, w);
      }
      let maxDropped: f64 = 0;
      for (let m = 0; m < chosen; m++) if (!isKept[3 * m]) maxDropped = Math.max(maxDropped, massOf(z, lse, 3 * m));
      expect(ok).toBe(1);
      expect(kept).toBeGreaterThanOrEqual(mins[c]);
      expect(maxDropped).toBeLessThanOrEqual(minKept);
      const need = <f64>tops[c] - fixedMass;
      // enough mass (or all candidates), and without the smallest kept one it would not be (unless kMin binds)
      expect(keptMass >= need - 1e-5 || kept == chosen).toBe(true);
      expect(kept <= mins[c] || keptMass - minKept < need + 1e-5).toBe(true);
    }
    heap.free(z); heap.free(lse); heap.free(idx); heap.free(work);
  });
});
