// attn_rows' integer path for q8 K and V rows (the usual decode cache): no decoding, the codes are multiplied
// as they are stored.
//
// Queries: the rows' scaled queries are rounded to i16 (one factor per row, relative error <= 2^-16, far
// below the codes' max|k|/254) and i32x4.dot_i16x8_s multiplies them with the sign-extended codes; each
// block's i32 dot product (|dot| <= 32·127·32767 < 2^31) becomes f32 once and is multiplied by the block scale.
// Values: a row's softmax weights times the V block scales are rounded to i16 with one factor per (row,
// chunk), two positions' codes are interleaved and dot_i16x8_s forms w_a·v_a + w_b·v_b per dimension into
// i32 sums (|sum| <= 64·127·32767 < 2^31 per chunk), added to the f32 accumulators once per chunk.
//
// Rows come in groups of 4 (a GQA group's heads, or 4 prompt rows): each K and V row of a chunk is loaded
// once per group, two positions at a time, and a position's 4 scores and weights sit in the lanes of one
// vector (f32 [CHUNK][4] per group), so the running softmax, the exponentials and the packing of the V
// coefficients run on all 4 rows at once. A single row (MHA decode) keeps its positions in the lanes instead.
import { KV_Q8 } from './types';
import { kvRowScales } from './kv_layout';
import { laneMax, laneSum, interleaveLowI8, interleaveHighI8, dotPairsLowI8, dotPairsHighI8 } from './lanes';
import { exp4Scores, exp4Coarse } from './exp';

/** Positions per chunk (attn_rows' CHUNK). */
export const Q8_CHUNK: i32 = 64;

const NEG_INF = f32x4.splat(-Infinity);
// 1.5·2^23: adding it to a non-negative f32 below 2^22 rounds it to an integer held in the low mantissa bits
const MAGIC = f32x4.splat(<f32>12582912);
const MAGIC_BITS = i32x4.splat(0x4b400000);

/** Scratch bytes of the q8 path for head dimension d and `rows` query rows (laid out in attn_rows). */
export function q8ScratchBytes(d: i32, rows: i32): i32 {
  const d8 = (d + 7) & ~7;
  // i16 query rows and their factors, the chunk's V row addresses (+1 for an odd chunk), the packed pair
  // coefficients of one group (CHUNK/2 pairs, d/8 blocks at most, 4 rows), 16 bytes of slack, the group's 4
  // factors, and room to align the query rows and the coefficients to 16 bytes
  return 2 * rows * d8 + 4 * rows + 4 * (Q8_CHUNK + 1) + 16 * (Q8_CHUNK >> 1) * (d8 >> 3) + 16 + 16 + 48;
}

/**
 * i16 copies of nr scaled query rows (f32, rows dBytes apart) at qi (rows qiRow bytes apart, rows up to the
 * next multiple of 4 zeroed), each as x / f with f = max|x| / 32767 stored at fq.
 */
export function quantiseRows(qs: usize, dBytes: usize, nr: i32, d: i32, qi: usize, qiRow: usize, fq: usize): void {
  const n4 = (nr + 3) & ~3;
  for (let i = 0; i < n4; i++) {
    const dst = qi + <usize>i * qiRow;
    if (i >= nr) {
      memory.fill(dst, 0, qiRow);
      store<f32>(fq + (<usize>i << 2), 0);
      continue;
    }
    const src = qs + <usize>i * dBytes;
    let m: f32 = 0;
    for (let c = 0; c < d; c++) m = max(m, abs(load<f32>(src + (<usize>c << 2))));
    const toI: f32 = m > 0 ? <f32>32767 / m : 0;
    store<f32>(fq + (<usize>i << 2), m > 0 ? m / <f32>32767 : 0);
    for (let c = 0; c < d; c++) store<i16>(dst + (<usize>c << 1), <i16>(<i32>nearest(load<f32>(src + (<usize>c << 2)) * toI)));
  }
}

// Lane r = the sum of the lanes of t_r (exact in i32).
@inline
function sumsI32(t0: v128, t1: v128, t2: v128, t3: v128): v128 {
  const x = i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  const y = i32x4.add(i32x4.shuffle(t2, t3, 0, 1, 4, 5), i32x4.shuffle(t2, t3, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(x, y, 0, 2, 4, 6), i32x4.shuffle(x, y, 1, 3, 5, 7));
}

/**
 * Scores of 4 i16 query rows (qi, rows qiRow apart, factors f32 [4] at fq) against the q8 rows ka and kb (d
 * codes, then one f32 scale per block of qb): out = position a's 4 scores, out + 16 = position b's.
 */
@inline
export function scoreGroupPair(qi: usize, qiRow: usize, fq: usize, ka: usize, kb: usize, d: i32, qb: i32, out: usize): void {
  const sa = kvRowScales(ka, d, KV_Q8), sb = kvRowScales(kb, d, KV_Q8);
  let fa = f32x4.splat(0), fb = f32x4.splat(0);
  for (let b = 0, i = 0; i < d; b++) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (const e = i + qb; i < e; i += 8) {
      const ca = v128.load8x8_s(ka + <usize>i), cb = v128.load8x8_s(kb + <usize>i);
      const o = qi + (<usize>i << 1);
      let q = v128.load(o);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(ca, q)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(cb, q));
      q = v128.load(o + qiRow);
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(ca, q)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(cb, q));
      q = v128.load(o + 2 * qiRow);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(ca, q)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(cb, q));
      q = v128.load(o + 3 * qiRow);
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(ca, q)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(cb, q));
    }
    const bo = <usize>b << 2;
    fa = f32x4.add(fa, f32x4.mul(f32x4.convert_i32x4_s(sumsI32(a0, a1, a2, a3)), v128.load32_splat(sa + bo)));
    fb = f32x4.add(fb, f32x4.mul(f32x4.convert_i32x4_s(sumsI32(b0, b1, b2, b3)), v128.load32_splat(sb + bo)));
  }
  const f = v128.load(fq);
  v128.store(out, f32x4.mul(fa, f));
  v128.store(out, f32x4.mul(fb, f), 16);
}

/** Score of one i16 query row qi against the q8 row k, in units of the row's factor. */
@inline
export function scoreRow(qi: usize, k: usize, d: i32, qb: i32): f32 {
  const s = kvRowScales(k, d, KV_Q8);
  let f = f32x4.splat(0);
  for (let b = 0, i = 0; i < d; b++) {
    let t = i32x4.splat(0);
    for (const e = i + qb; i < e; i += 8) t = i32x4.add(t, i32x4.dot_i16x8_s(v128.load8x8_s(k + <usize>i), v128.load(qi + (<usize>i << 1))));
    f = f32x4.add(f, f32x4.mul(f32x4.convert_i32x4_s(t), v128.load32_splat(s + (<usize>b << 2))));
  }
  return laneSum(f);
}

/**
 * The running softmax of a group of 4 rows over a chunk's cn scores (f32 [cn][4] at s, in place: the scores
 * become the weights e^(score - max), within 1e-5 relative). Running max and sum per row at mx and sm (f32 [4] each), the rows'
 * accumulators at acc (rows dBytes apart, d values) rescaled by e^(old max - new max) when the max rises.
 * Positions p with c0 + p >= lim[row] (i32 [4]) get weight 0.
 */
export function foldGroup(s: usize, cn: i32, c0: i32, lim: usize, mx: usize, sm: usize, acc: usize, dBytes: usize, d: i32): void {
  const limv = v128.load(lim);
  const masked = i32x4.extract_lane(limv, 0) < c0 + cn || i32x4.extract_lane(limv, 1) < c0 + cn
    || i32x4.extract_lane(limv, 2) < c0 + cn || i32x4.extract_lane(limv, 3) < c0 + cn;
  if (masked) {
    for (let p = 0; p < cn; p++) {
      const a = s + (<usize>p << 4);
      v128.store(a, v128.bitselect(v128.load(a), NEG_INF, i32x4.lt_s(i32x4.splat(c0 + p), limv)));
    }
  }
  let m = NEG_INF;
  for (let p = 0; p < cn; p++) m = f32x4.pmax(m, v128.load(s + (<usize>p << 4)));
  const mOld = v128.load(mx);
  const mNew = f32x4.pmax(mOld, m);
  let l = v128.load(sm);
  const grow = f32x4.gt(mNew, mOld);
  if (v128.any_true(grow)) {
    // e^(old - new) where the max rose (an empty row's -Infinity gives 0 against an accumulator of 0), else 1
    const c = v128.bitselect(exp4Scores(f32x4.sub(mOld, mNew)), f32x4.splat(1), grow);
    l = f32x4.mul(l, c);
    scaleRow(acc, f32x4.extract_lane(c, 0), d);
    scaleRow(acc + dBytes, f32x4.extract_lane(c, 1), d);
    scaleRow(acc + 2 * dBytes, f32x4.extract_lane(c, 2), d);
    scaleRow(acc + 3 * dBytes, f32x4.extract_lane(c, 3), d);
  }
  // e^x within 1e-5 relative (exp4Coarse): the weights are rounded to 2^-15 of their largest for the V step.
  // Positions past a row's limit and an empty row (max still -Infinity: e^(-Infinity + Infinity) = NaN)
  // get weight 0.
  const live = f32x4.gt(mNew, NEG_INF);
  let sum = f32x4.splat(0);
  for (let p = 0; p < cn; p++) {
    const a = s + (<usize>p << 4);
    let keep = live;
    if (masked) keep = v128.and(keep, i32x4.lt_s(i32x4.splat(c0 + p), limv));
    const e = v128.and(exp4Coarse(f32x4.sub(v128.load(a), mNew)), keep);
    v128.store(a, e);
    sum = f32x4.add(sum, e);
  }
  v128.store(mx, mNew);
  v128.store(sm, f32x4.add(l, sum));
}

/** x[0:d] *= c. */
@inline
export function scaleRow(x: usize, c: f32, d: i32): void {
  if (c == 1) return;
  const cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= d; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), cv));
  for (; i < d; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * c);
}

/**
 * Packs the V coefficients of a group of 4 rows for the chunk's cn positions (weights f32 [cn][4] at w, V row
 * addresses at va, an odd chunk's last pair repeating its row with weight 0): for pair pp and block b, the
 * 4 rows' i16 pairs (w[2pp]·s(2pp, b), w[2pp+1]·s(2pp+1, b)) times each row's factor 32767 / max, as the 4
 * i32 lanes at pc + (pp·nb + b)·16; the inverse factors go to fac (f32 [4]).
 */
export function packGroup(w: usize, va: usize, cn: i32, d: i32, qb: i32, pc: usize, fac: usize): void {
  const nb = d / qb;
  let mv = f32x4.splat(0);
  for (let p = 0; p < cn; p++) {
    const wv = v128.load(w + (<usize>p << 4));
    const sp = kvRowScales(load<usize>(va + (<usize>p << 2)), d, KV_Q8);
    for (let b = 0; b < nb; b++) mv = f32x4.pmax(mv, f32x4.mul(wv, v128.load32_splat(sp + (<usize>b << 2))));
  }
  const pos = f32x4.gt(mv, f32x4.splat(0));
  const toI = v128.and(f32x4.div(f32x4.splat(32767), mv), pos);
  v128.store(fac, v128.and(f32x4.div(mv, f32x4.splat(32767)), pos));
  const np = (cn + 1) >> 1;
  for (let pp = 0; pp < np; pp++) {
    const p = 2 * pp;
    const wa = f32x4.mul(v128.load(w + (<usize>p << 4)), toI);
    const wb = p + 1 < cn ? f32x4.mul(v128.load(w + (<usize>(p + 1) << 4)), toI) : f32x4.splat(0);
    const sa = kvRowScales(load<usize>(va + (<usize>p << 2)), d, KV_Q8);
    const sb = kvRowScales(load<usize>(va + (<usize>(p + 1) << 2)), d, KV_Q8);
    const o = pc + (<usize>(pp * nb) << 4);
    for (let b = 0; b < nb; b++) {
      const bo = <usize>b << 2;
      const ia = i32x4.sub(f32x4.add(f32x4.mul(wa, v128.load32_splat(sa + bo)), MAGIC), MAGIC_BITS);
      const ib = i32x4.sub(f32x4.add(f32x4.mul(wb, v128.load32_splat(sb + bo)), MAGIC), MAGIC_BITS);
      v128.store(o + (<usize>b << 4), i8x16.shuffle(ia, ib, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29));
    }
  }
}

/**
 * The V step of a group of 4 rows: acc row j (f32, rows dBytes apart) += fac[j]·Σ_pairs, from packGroup's
 * coefficients pc and the chunk's V row addresses va (np pairs). Dimensions are the outer loop, so the
 * group's 8 i32x4 sums stay in registers.
 */
export function accumulateGroup(acc: usize, dBytes: usize, fac: usize, pc: usize, va: usize, np: i32, d: i32, qb: i32): void {
  const pairStride = <usize>(d / qb) << 4;
  for (let i = 0; i < d; i += 8) {
    let l0 = i32x4.splat(0), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
    let cp = pc + (<usize>(i / qb) << 4);
    for (let pp = 0; pp < np; pp++) {
      const ra = load<usize>(va + (<usize>(2 * pp) << 2));
      const rb = load<usize>(va + (<usize>(2 * pp + 1) << 2));
      const x = interleaveLowI8(v128.load64_zero(ra + <usize>i), v128.load64_zero(rb + <usize>i));
      const lo = i16x8.extend_low_i8x16_s(x);
      const hi = i16x8.extend_high_i8x16_s(x);
      let c = v128.load32_splat(cp);
      l0 = i32x4.add(l0, i32x4.dot_i16x8_s(lo, c)); h0 = i32x4.add(h0, i32x4.dot_i16x8_s(hi, c));
      c = v128.load32_splat(cp, 4);
      l1 = i32x4.add(l1, i32x4.dot_i16x8_s(lo, c)); h1 = i32x4.add(h1, i32x4.dot_i16x8_s(hi, c));
      c = v128.load32_splat(cp, 8);
      l2 = i32x4.add(l2, i32x4.dot_i16x8_s(lo, c)); h2 = i32x4.add(h2, i32x4.dot_i16x8_s(hi, c));
      c = v128.load32_splat(cp, 12);
      l3 = i32x4.add(l3, i32x4.dot_i16x8_s(lo, c)); h3 = i32x4.add(h3, i32x4.dot_i16x8_s(hi, c));
      cp += pairStride;
    }
    const o = acc + (<usize>i << 2);
    flush8(o, l0, h0, load<f32>(fac));
    flush8(o + dBytes, l1, h1, load<f32>(fac, 4));
    flush8(o + 2 * dBytes, l2, h2, load<f32>(fac, 8));
    flush8(o + 3 * dBytes, l3, h3, load<f32>(fac, 12));
  }
}

/**
 * Packs the V coefficients of one row for the chunk's cn positions (weights f32 [cn] at w): for pair pp and
 * block b, the i16 pair (w[2pp]·s(2pp, b), w[2pp+1]·s(2pp+1, b)) times the factor 32767 / max as the i32 at
 * pc + (pp·nb + b)·4; the inverse factor goes to fac. Four blocks at a time in f32 lanes (weights and scales
 * are >= 0). A last group of fewer than 4 blocks still stores 16 bytes: the next pair's entries overwrite the
 * excess, and the scratch has 16 bytes of slack after the end.
 */
export function packRow(w: usize, va: usize, cn: i32, d: i32, qb: i32, pc: usize, fac: usize): void {
  const nb = d / qb;
  const np = (cn + 1) >> 1;
  let mv = f32x4.splat(0);
  for (let p = 0; p < cn; p++) {
    const wv = v128.load32_splat(w + (<usize>p << 2));
    const sp = kvRowScales(load<usize>(va + (<usize>p << 2)), d, KV_Q8);
    for (let b = 0; b < nb; b += 4) mv = f32x4.pmax(mv, f32x4.mul(wv, scales4(sp, b, nb)));
  }
  const m = laneMax(mv);
  const toI: f32 = m > 0 ? <f32>32767 / m : 0;
  store<f32>(fac, m > 0 ? m / <f32>32767 : 0);
  for (let pp = 0; pp < np; pp++) {
    const p = 2 * pp;
    const wa = f32x4.splat(load<f32>(w + (<usize>p << 2)) * toI);
    const wb = f32x4.splat(p + 1 < cn ? load<f32>(w + (<usize>(p + 1) << 2)) * toI : <f32>0);
    const sa = kvRowScales(load<usize>(va + (<usize>p << 2)), d, KV_Q8);
    const sb = kvRowScales(load<usize>(va + (<usize>(p + 1) << 2)), d, KV_Q8);
    const o = pc + (<usize>(pp * nb) << 2);
    for (let b = 0; b < nb; b += 4) {
      const ia = i32x4.sub(f32x4.add(f32x4.mul(wa, scales4(sa, b, nb)), MAGIC), MAGIC_BITS);
      const ib = i32x4.sub(f32x4.add(f32x4.mul(wb, scales4(sb, b, nb)), MAGIC), MAGIC_BITS);
      v128.store(o + (<usize>b << 2), i8x16.shuffle(ia, ib, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29));
    }
  }
}

// Block scales b.. b+3 of a row (lanes past nb are 0, and nothing past the row is read).
@inline
function scales4(sp: usize, b: i32, nb: i32): v128 {
  const a = sp + (<usize>b << 2);
  if (b + 4 <= nb) return v128.load(a);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(a));
  if (b + 1 < nb) v = f32x4.replace_lane(v, 1, load<f32>(a, 4));
  if (b + 2 < nb) v = f32x4.replace_lane(v, 2, load<f32>(a, 8));
  return v;
}

/**
 * The V step of one row: acc[0:d] += fac·Σ_pairs, from packRow's coefficients pc and the chunk's V row
 * addresses va (np pairs). Blocks of 16 or more: 16 dimensions per pass (one 16-byte load per row), else 8.
 */
export function accumulateRow(acc: usize, fac: usize, pc: usize, va: usize, np: i32, d: i32, qb: i32): void {
  const nb = d / qb;
  const f = load<f32>(fac);
  const step = qb >= 16 ? 16 : 8;
  for (let i = 0; i < d; i += step) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let cp = pc + (<usize>(i / qb) << 2);
    for (let pp = 0; pp < np; pp++) {
      const ra = load<usize>(va + (<usize>(2 * pp) << 2)) + <usize>i;
      const rb = load<usize>(va + (<usize>(2 * pp + 1) << 2)) + <usize>i;
      const c = v128.load32_splat(cp);
      if (step == 16) {
        const x = v128.load(ra), y = v128.load(rb);
        const lo = interleaveLowI8(x, y), hi = interleaveHighI8(x, y);
        a0 = dotPairsLowI8(a0, lo, c); a1 = dotPairsHighI8(a1, lo, c);
        a2 = dotPairsLowI8(a2, hi, c); a3 = dotPairsHighI8(a3, hi, c);
      } else {
        const x = interleaveLowI8(v128.load64_zero(ra), v128.load64_zero(rb));
        a0 = dotPairsLowI8(a0, x, c); a1 = dotPairsHighI8(a1, x, c);
      }
      cp += <usize>nb << 2;
    }
    const o = acc + (<usize>i << 2);
    flush8(o, a0, a1, f);
    if (step == 16) flush8(o + 32, a2, a3, f);
  }
}

// o[0:8] += f·(lo, hi) as f32.
@inline
function flush8(o: usize, lo: v128, hi: v128, f: f32): void {
  const fv = f32x4.splat(f);
  v128.store(o, f32x4.add(v128.load(o), f32x4.mul(f32x4.convert_i32x4_s(lo), fv)));
  v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(f32x4.convert_i32x4_s(hi), fv)), 16);
}
