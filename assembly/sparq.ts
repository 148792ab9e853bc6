// SparQ Attention's decode step kernels for one KV head and its group of g query heads: choose the r query
// components, approximate scores over the transposed K tiles, select the positions, and the mean-value
// reallocation. Exact attention over the selected rows is attn_rows with a gather list.
import { F32, KV_Q8, KV_Q4 } from './types';
import { KT_TILE, KT_GROUP, KV_SCALE_BYTES, KV_Q4_BIAS, kv_tile_code_bytes, ktScalePlane } from './kv_layout';
import { topk_select } from './topk';
import { f16x8_low, f16x8_high } from './f16';
import { laneMax, laneSum, interleaveLowI8, interleaveHighI8, dotPairsLowI8, dotPairsHighI8 } from './lanes';
import { exp4Coarse, expCoarse } from './exp';

/**
 * Step 1a. q: f32 [g][d] (the group's query heads). I1 = the r components with the largest |q| summed over
 * the group, written to i1 in increasing order. Per head, Eq. 9's temperature τ_h = sqrt(d·cov_h) with
 * cov_h = Σ_{I1}|q_h| / Σ|q_h| turns into the factor f_h = scale·sqrt(d)/τ_h = scale/sqrt(cov_h) (equal to
 * 1/τ_h for scale = 1/sqrt(d)). Writes qc = (1/g)·Σ_h f_h·q_h[I1]: its dot with K[:, I1] is the mean of the
 * group's approximate logits (docs/sparq.md §1.3, §3). work: d f32.
 */
export function sparq_query(q: usize, g: i32, d: i32, r: i32, scale: f32, i1: usize, qc: usize, work: usize): void {
  for (let i = 0; i < d; i++) {
    let a: f32 = 0;
    for (let h = 0; h < g; h++) a += abs(load<f32>(q + (<usize>(h * d + i) << 2)));
    store<f32>(work + (<usize>i << 2), a);
  }
  // pick r maxima (marking each with -1), then list the marked components in order
  for (let m = 0; m < r; m++) {
    let best = -1;
    let bv: f32 = -1;
    for (let i = 0; i < d; i++) {
      const a = load<f32>(work + (<usize>i << 2));
      if (a > bv) { bv = a; best = i; }
    }
    store<f32>(work + (<usize>best << 2), -2);
  }
  let m = 0;
  for (let i = 0; i < d; i++) if (load<f32>(work + (<usize>i << 2)) == -2) store<i32>(i1 + (<usize>(m++) << 2), i);
  memory.fill(qc, 0, <usize>r << 2);
  const invG: f32 = <f32>1 / <f32>g;
  for (let h = 0; h < g; h++) {
    const qh = q + (<usize>(h * d) << 2);
    let all: f32 = 0;
    for (let i = 0; i < d; i++) all += abs(load<f32>(qh + (<usize>i << 2)));
    let sel: f32 = 0;
    for (let j = 0; j < r; j++) sel += abs(load<f32>(qh + (<usize>load<i32>(i1 + (<usize>j << 2)) << 2)));
    const f: f32 = (sel > 0 ? scale / Mathf.sqrt(sel / all) : scale) * invG;
    for (let j = 0; j < r; j++) {
      const x = load<f32>(qh + (<usize>load<i32>(i1 + (<usize>j << 2)) << 2)) * f;
      store<f32>(qc + (<usize>j << 2), load<f32>(qc + (<usize>j << 2)) + x);
    }
  }
}

/** Bytes of the per-call scratch region sparq_scores needs (one per thread running it). */
export function sparq_scores_scratch_bytes(): i32 { return SCRATCH_BYTES; }

/**
 * Step 1b, one fused pass over the transposed K tiles of one KV head (kt, element type ktType, room for
 * `tiles` tiles, head dim d) for positions [p0, S), p0 a multiple of KT_TILE: for the query row qc (f32 [r],
 * paired with the components i1), z[j] = Σ_m qc[m]·K[j][i1[m]], written once. With lse != 0, also the
 * running max and sum of e^(z - max) over these positions (an f32 pair), folded in while the scores are still
 * in registers. Calls over disjoint position ranges can run at once (lse merged afterwards), each with its
 * own scratch (sparq_scores_scratch_bytes). Returns the bytes of K^T read.
 */
export function sparq_scores(qc: usize, i1: usize, r: i32, kt: usize, ktType: i32, tiles: i32, d: i32, S: i32,
  z: usize, lse: usize, p0: i32, scratch: usize): f64 {
  const rowBytes = <usize>kv_tile_code_bytes(ktType);
  const quant = ktType == KV_Q8 || ktType == KV_Q4;
  const scales = ktScalePlane(kt, d, ktType, tiles);
  // inside a group, component i's codes for tile t are i·KT_GROUP rows after component 0's
  const compStride = <usize>KT_GROUP * rowBytes;
  const groupBytes = <usize>d * compStride;
  const nTiles = (S + KT_TILE - 1) / KT_TILE;
  const tmp = scratch, coef = scratch + TMP_BYTES, off = coef + COEF_BYTES, soff = off + OFF_BYTES;
  // the running (max, sum) lane by lane (lane l: the positions 4j + l), folded into the pair at lse at the end
  const st = lse != 0 ? soff + OFF_BYTES : 0;
  if (st != 0) {
    v128.store(st, f32x4.splat(-Infinity));
    v128.store(st, f32x4.splat(0), 16);
  }
  // per component (in pairs for the integer path): its code row offset inside a tile, its scale-plane offset
  const np = (r + 1) >> 1;
  for (let m = 0; m < r; m++) {
    const i = <usize>load<i32>(i1 + (<usize>m << 2));
    store<usize>(off + (<usize>m << 2), i * compStride);
    store<usize>(soff + (<usize>m << 2), (i * <usize>tiles) << 2);
  }
  if (r & 1) store<usize>(off + (<usize>r << 2), load<usize>(off + (<usize>(r - 1) << 2)));
  for (let m = r; m < ((r + 3) & ~3); m++) store<usize>(soff + (<usize>m << 2), 0);
  for (let t = p0 / KT_TILE; t < nTiles; t++) {
    const tile = kt + <usize>(t / KT_GROUP) * groupBytes + <usize>(t % KT_GROUP) * rowBytes;
    const n = min(KT_TILE, S - t * KT_TILE);
    const zt = z + (<usize>(t * KT_TILE) << 2);
    if (quant) intTile(qc, r, np, tile, scales + (<usize>t << 2), ktType, n, zt, st, tmp, coef, off, soff);
    else floatTile(qc, r, tile, ktType, n, zt, st, tmp, off);
  }
  if (st != 0) {
    // M = max_l m_l, sum = Σ_l s_l·e^(m_l - M) (a lane that saw no position weighs 0)
    const m = v128.load(st), M = laneMax(m);
    const w = v128.and(exp4Coarse(f32x4.sub(m, f32x4.splat(M))), f32x4.gt(m, f32x4.splat(-Infinity)));
    store<f32>(lse, M);
    store<f32>(lse, laneSum(f32x4.mul(v128.load(st, 16), w)), 4);
  }
  // codes, plus the scales: one 4-byte read per component and tile (a 64-byte line serves 16 tiles)
  return <f64>r * <f64>(nTiles - p0 / KT_TILE) * <f64>(<i32>rowBytes + (quant ? KV_SCALE_BYTES : 0));
}

/** Most query components one step may use (the scratch below and the i32 bound of the q8 path allow no more). */
export const SPARQ_MAX_R: i32 = 256;

// Scratch of one sparq_scores call: tmp, 256 f32 (per-tile coefficients as f32, or the scores of a partial
// tile); coef, up to 128 i32 coefficient pairs; off and soff, per component (r <= SPARQ_MAX_R, plus one) its
// code-row and scale-plane offsets; the lane-wise running max and sum (f32x4 each).
const TMP_BYTES: usize = 1024;
const COEF_BYTES: usize = 512;
const OFF_BYTES: usize = 4 * (SPARQ_MAX_R + 1);
const SCRATCH_BYTES: i32 = <i32>(TMP_BYTES + COEF_BYTES + 2 * OFF_BYTES + 32);

// Writes the n valid of the 32 scores in a0..a7 to o and, with st != 0, folds them into the running max and
// sum kept lane by lane at st (f32x4 max, then f32x4 sum): each lane's max rises to cover the set's, its sum
// is rescaled by e^(old max - new max), and the set's e^(x - max) are added (positions past n count as
// -Infinity). A set whose every lane lies more than LSE_SKIP below the running max is left out.
@inline
function put32(o: usize, n: i32, a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128, a7: v128, st: usize, tmp: usize): void {
  const dst = n >= 32 ? o : tmp;
  v128.store(dst, a0); v128.store(dst, a1, 16); v128.store(dst, a2, 32); v128.store(dst, a3, 48);
  v128.store(dst, a4, 64); v128.store(dst, a5, 80); v128.store(dst, a6, 96); v128.store(dst, a7, 112);
  if (n < 32) memory.copy(o, tmp, <usize>n << 2);
  if (st == 0) return;
  if (n < 32) {
    const ni = i32x4.splat(n), inf = f32x4.splat(-Infinity), p = i32x4(0, 1, 2, 3);
    a0 = v128.bitselect(a0, inf, i32x4.lt_s(p, ni)); a1 = v128.bitselect(a1, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(4)), ni));
    a2 = v128.bitselect(a2, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(8)), ni)); a3 = v128.bitselect(a3, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(12)), ni));
    a4 = v128.bitselect(a4, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(16)), ni)); a5 = v128.bitselect(a5, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(20)), ni));
    a6 = v128.bitselect(a6, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(24)), ni)); a7 = v128.bitselect(a7, inf, i32x4.lt_s(i32x4.add(p, i32x4.splat(28)), ni));
  }
  // pmax (b < a ? a : b) is one instruction; max's NaN and signed-zero rules cost several (scores are finite)
  const mb = f32x4.pmax(f32x4.pmax(f32x4.pmax(a0, a1), f32x4.pmax(a2, a3)), f32x4.pmax(f32x4.pmax(a4, a5), f32x4.pmax(a6, a7)));
  const mOld = v128.load(st);
  if (!v128.any_true(f32x4.ge(mb, f32x4.sub(mOld, f32x4.splat(LSE_SKIP))))) return;
  const m = f32x4.pmax(mOld, mb);
  let s = v128.load(st, 16);
  // a lane whose max rose: its sum times e^(old - new) (from -Infinity: 2^-126·s with s = 0)
  const rose = f32x4.gt(m, mOld);
  if (v128.any_true(rose)) s = f32x4.mul(s, v128.bitselect(exp4Coarse(f32x4.sub(mOld, m)), f32x4.splat(1), rose));
  const e = f32x4.add(
    f32x4.add(f32x4.add(exp4Coarse(f32x4.sub(a0, m)), exp4Coarse(f32x4.sub(a1, m))), f32x4.add(exp4Coarse(f32x4.sub(a2, m)), exp4Coarse(f32x4.sub(a3, m)))),
    f32x4.add(f32x4.add(exp4Coarse(f32x4.sub(a4, m)), exp4Coarse(f32x4.sub(a5, m))), f32x4.add(exp4Coarse(f32x4.sub(a6, m)), exp4Coarse(f32x4.sub(a7, m)))));
  // a lane that has seen no position yet (max -Infinity) adds nothing (its e^(x - max) are NaN)
  v128.store(st, m);
  v128.store(st, f32x4.add(s, v128.and(e, f32x4.gt(m, f32x4.splat(-Infinity)))), 16);
}

// f32 and f16 tiles: per component, 32 positions at a time, f32 multiply-adds.
@inline
function floatTile(qw: usize, r: i32, tile: usize, ktType: i32, n: i32, zw: usize, st: usize, tmp: usize, off: usize): void {
  const H = KT_TILE >> 1;
  for (let half = 0; half * H < n; half++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    for (let m = 0; m < r; m++) {
      const row = tile + load<usize>(off + (<usize>m << 2));
      const cv = f32x4.splat(load<f32>(qw + (<usize>m << 2)));
      let x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128;
      if (ktType == F32) {
        const p = row + (<usize>(half * H) << 2);
        x0 = v128.load(p); x1 = v128.load(p, 16); x2 = v128.load(p, 32); x3 = v128.load(p, 48);
        x4 = v128.load(p, 64); x5 = v128.load(p, 80); x6 = v128.load(p, 96); x7 = v128.load(p, 112);
      } else {
        const p = row + (<usize>(half * H) << 1);
        const h0 = v128.load(p), h1 = v128.load(p, 16), h2 = v128.load(p, 32), h3 = v128.load(p, 48);
        x0 = f16x8_low(h0); x1 = f16x8_high(h0); x2 = f16x8_low(h1); x3 = f16x8_high(h1);
        x4 = f16x8_low(h2); x5 = f16x8_high(h2); x6 = f16x8_low(h3); x7 = f16x8_high(h3);
      }
      a0 = f32x4.add(a0, f32x4.mul(cv, x0)); a1 = f32x4.add(a1, f32x4.mul(cv, x1));
      a2 = f32x4.add(a2, f32x4.mul(cv, x2)); a3 = f32x4.add(a3, f32x4.mul(cv, x3));
      a4 = f32x4.add(a4, f32x4.mul(cv, x4)); a5 = f32x4.add(a5, f32x4.mul(cv, x5));
      a6 = f32x4.add(a6, f32x4.mul(cv, x6)); a7 = f32x4.add(a7, f32x4.mul(cv, x7));
    }
    put32(zw + (<usize>(half * H) << 2), n - half * H, a0, a1, a2, a3, a4, a5, a6, a7, st, tmp);
  }
}

// 16 codes of a tile row as i8 lanes: q8 bytes, or q4 nibbles (low nibbles hold positions 0..31, high 32..63).
@inline
function codes16(row: usize, ktType: i32, half: i32, u: i32): v128 {
  if (ktType == KV_Q8) return v128.load(row + <usize>(half * 32 + u * 16));
  const b = v128.load(row + <usize>(u * 16));
  const c = half == 0 ? v128.and(b, i8x16.splat(15)) : i8x16.shr_u(b, 4);
  return i8x16.sub(c, i8x16.splat(<i8>KV_Q4_BIAS));
}

/**
 * q8 and q4 tiles in integers. The coefficients qc[m]·scale(tile, i1[m]) are rounded to i16 with one
 * common factor per tile (largest magnitude 32767: relative error <= 2^-16, far below the codes' own);
 * two components at a time, their codes are interleaved into i16 pairs and i32x4.dot_i16x8_s does both
 * multiply-adds. |sum| <= 128·32767·r < 2^31 for r <= 256. An odd r pairs the last component with itself
 * and a zero coefficient.
 */
@inline
function intTile(qw: usize, r: i32, np: i32, tile: usize, scales: usize, ktType: i32, n: i32, zw: usize, st: usize,
  tmp: usize, coef: usize, off: usize, soff: usize): void {
  // scales: the plane entry of component 0 for this tile. Four components at a time (lanes past r: 0, their
  // scale offsets 0); the coefficient pairs come out of one i32 -> i16 narrowing per 8 components.
  let mv = f32x4.splat(0);
  const iota = i32x4(0, 1, 2, 3);
  for (let m = 0; m < r; m += 4) {
    const so = soff + (<usize>m << 2);
    let sv = v128.load32_zero(scales + load<usize>(so));
    sv = v128.load32_lane(scales + load<usize>(so, 4), sv, 1);
    sv = v128.load32_lane(scales + load<usize>(so, 8), sv, 2);
    sv = v128.load32_lane(scales + load<usize>(so, 12), sv, 3);
    const f = v128.and(f32x4.mul(v128.load(qw + (<usize>m << 2)), sv), i32x4.lt_s(i32x4.add(iota, i32x4.splat(m)), i32x4.splat(r)));
    v128.store(tmp + (<usize>m << 2), f);
    mv = f32x4.pmax(mv, f32x4.abs(f));
  }
  const fmax = laneMax(mv);
  const toI = f32x4.splat(fmax > 0 ? <f32>32767 / fmax : 0);
  const back = f32x4.splat(fmax > 0 ? fmax / <f32>32767 : 0);
  for (let j = 0; j < np; j += 4) {
    const t = tmp + (<usize>(2 * j) << 2);
    const ia = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(t), toI)));
    const ib = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(t, 16), toI)));
    v128.store(coef + (<usize>j << 2), i16x8.narrow_i32x4_s(ia, ib));
  }
  const H = KT_TILE >> 1;
  for (let half = 0; half * H < n; half++) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
    for (let j = 0; j < np; j++) {
      const ra = tile + load<usize>(off + (<usize>(2 * j) << 2));
      const rb = tile + load<usize>(off + (<usize>(2 * j + 1) << 2));
      const cv = v128.load32_splat(coef + (<usize>j << 2));
      // positions 0..15 of the half into a0..a3, 16..31 into a4..a7: the two components' codes interleaved
      let x = codes16(ra, ktType, half, 0), y = codes16(rb, ktType, half, 0);
      let lo = interleaveLowI8(x, y), hi = interleaveHighI8(x, y);
      a0 = dotPairsLowI8(a0, lo, cv); a1 = dotPairsHighI8(a1, lo, cv);
      a2 = dotPairsLowI8(a2, hi, cv); a3 = dotPairsHighI8(a3, hi, cv);
      x = codes16(ra, ktType, half, 1); y = codes16(rb, ktType, half, 1);
      lo = interleaveLowI8(x, y); hi = interleaveHighI8(x, y);
      a4 = dotPairsLowI8(a4, lo, cv); a5 = dotPairsHighI8(a5, lo, cv);
      a6 = dotPairsLowI8(a6, hi, cv); a7 = dotPairsHighI8(a7, hi, cv);
    }
    put32(zw + (<usize>(half * H) << 2), n - half * H,
      f32x4.mul(f32x4.convert_i32x4_s(a0), back), f32x4.mul(f32x4.convert_i32x4_s(a1), back),
      f32x4.mul(f32x4.convert_i32x4_s(a2), back), f32x4.mul(f32x4.convert_i32x4_s(a3), back),
      f32x4.mul(f32x4.convert_i32x4_s(a4), back), f32x4.mul(f32x4.convert_i32x4_s(a5), back),
      f32x4.mul(f32x4.convert_i32x4_s(a6), back), f32x4.mul(f32x4.convert_i32x4_s(a7), back), st, tmp);
  }
}

// Below the running max by more than this, a tile's terms (each < e^-20 ≈ 2e-9 of the max term) are skipped.
const LSE_SKIP: f32 = 20;

/**
 * Step 2a: positions for exact attention over S positions (the last one is the current token). The l
 * positions before the current token, the current token, and the first `sinks` positions (attention sinks)
 * are always taken; the other k - l - sinks come from topk_select over z[sinks, S - l - 1) (the group's mean
 * approximate logits). Writes the chosen positions, then the sinks, then the window to idx and returns their
 * count, k + 1 (needs k + 1 < S and sinks <= k - l). With topP > 0 the chosen positions are then trimmed by
 * sparq_budget (k is then the budget's upper bound; lse: z's (max, sum)). work: topk_work_bytes(S).
 */
export function sparq_select(z: usize, S: i32, k: i32, l: i32, sinks: i32, idx: usize, work: usize,
  lse: usize, topP: f32, kMin: i32): i32 {
  const n = S - l - 1;
  let c = topk_select(z + (<usize>sinks << 2), n - sinks, k - l - sinks, idx, work);
  for (let j = 0; j < c && sinks > 0; j++) store<i32>(idx + (<usize>j << 2), load<i32>(idx + (<usize>j << 2)) + sinks);
  const chosen = c;
  for (let p = 0; p < sinks; p++) store<i32>(idx + (<usize>(c++) << 2), p);
  for (let p = n; p < S; p++) store<i32>(idx + (<usize>(c++) << 2), p);
  return topP > 0 ? sparq_budget(z, lse, idx, chosen, c - chosen, topP, max(0, kMin - l - sinks), work) : c;
}

/**
 * Adaptive budget: keeps the fewest of the `chosen` positions in idx (followed by `fixed` always-taken ones)
 * that bring the approximate softmax mass of the kept set to topP, but at least kMin of them. The mass of
 * position j is w_j = e^(z[j] - max)/sum (the softmax of the group's mean approximate logits, Eq. 9's
 * temperature included; lse: their merged (max, sum)). The kept positions are those with w_j at or above a
 * threshold found by bisection on the f32 bit patterns (order-preserving for w >= 0); they move to the front
 * of idx in order, the fixed ones follow. Returns the new count. work: 4·chosen bytes.
 */
export function sparq_budget(z: usize, lse: usize, idx: usize, chosen: i32, fixed: i32, topP: f32, kMin: i32, work: usize): i32 {
  const m = load<f32>(lse), sum = load<f32>(lse, 4);
  let covered: f32 = 0;
  for (let c = 0; c < chosen + fixed; c++) {
    const w = expCoarse(load<f32>(z + (<usize>load<i32>(idx + (<usize>c << 2)) << 2)) - m) / sum;
    if (c < chosen) store<f32>(work + (<usize>c << 2), w);
    else covered += w;
  }
  const need = topP - covered;
  // largest threshold T whose kept set (w >= T) holds `need` and at least kMin positions
  let lo: u32 = 0, hi: u32 = 0x7f800000;
  while (lo < hi) {
    const mid = lo + ((hi - lo + 1) >> 1);
    let mass: f32 = 0, count = 0;
    for (let c = 0; c < chosen; c++) {
      const w = load<f32>(work + (<usize>c << 2));
      if (reinterpret<u32>(w) >= mid) { mass += w; count++; }
    }
    if (mass >= need && count >= kMin) lo = mid; else hi = mid - 1;
  }
  let kept = 0;
  for (let c = 0; c < chosen; c++) {
    if (reinterpret<u32>(load<f32>(work + (<usize>c << 2))) >= lo) store<i32>(idx + (<usize>(kept++) << 2), load<i32>(idx + (<usize>c << 2)));
  }
  memory.copy(idx + (<usize>kept << 2), idx + (<usize>chosen << 2), <usize>fixed << 2);
  return kept + fixed;
}

/**
 * Step 3: mean-value reallocation for the g heads of a group, y_h = α·y_h + (1 - α)·vsum/S with one
 * α = Σ_{j in idx} e^(z[j] - max) / sum per group: the approximate softmax mass of the selected positions
 * under the group's mean approximate logits z (docs/sparq.md §2 step 3), with the same e^x as the
 * normaliser, so full coverage gives α = 1 up to rounding. out: f32 [g][d]; lse: z's (max, sum). Returns
 * bytes read from the cache (the V sum).
 */
export function sparq_realloc(out: usize, g: i32, d: i32, z: usize, lse: usize, idx: usize, cnt: i32, vsum: usize, S: i32): f64 {
  const invS: f32 = <f32>1 / <f32>S;
  const m = load<f32>(lse);
  // four gathered scores per e^x
  const mv = f32x4.splat(m);
  let nv = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= cnt; p += 4) {
    const ip = idx + (<usize>p << 2);
    let x = f32x4.splat(load<f32>(z + (<usize>load<i32>(ip) << 2)));
    x = f32x4.replace_lane(x, 1, load<f32>(z + (<usize>load<i32>(ip, 4) << 2)));
    x = f32x4.replace_lane(x, 2, load<f32>(z + (<usize>load<i32>(ip, 8) << 2)));
    x = f32x4.replace_lane(x, 3, load<f32>(z + (<usize>load<i32>(ip, 12) << 2)));
    nv = f32x4.add(nv, exp4Coarse(f32x4.sub(x, mv)));
  }
  let num = laneSum(nv);
  for (; p < cnt; p++) num += expCoarse(load<f32>(z + (<usize>load<i32>(idx + (<usize>p << 2)) << 2)) - m);
  const alpha = min(<f32>1, num / load<f32>(lse, 4));
  const a = f32x4.splat(alpha);
  const b = f32x4.splat((<f32>1 - alpha) * invS);
  for (let h = 0; h < g; h++) {
    const o = out + (<usize>(h * d) << 2);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const p = <usize>i << 2;
      v128.store(o + p, f32x4.add(f32x4.mul(a, v128.load(o + p)), f32x4.mul(b, v128.load(vsum + p))));
    }
    for (; i < d; i++) {
      const p = <usize>i << 2;
      store<f32>(o + p, alpha * load<f32>(o + p) + (<f32>1 - alpha) * invS * load<f32>(vsum + p));
    }
  }
  return <f64>(d * 4);
}
