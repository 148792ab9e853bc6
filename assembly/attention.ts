// Exact attention of a group of query rows over one KV head: the dense baseline (prefill and decode) and
// SparQ's step 2 (the same computation over a gathered list of positions).
//
// Rows are processed in blocks of ROWS; for each block, positions are visited in chunks of CHUNK: the chunk's
// K rows (decoded once if not f32) are scored against the block's query rows, the chunk's scores are folded
// into a running softmax per row (running max m, running sum l, accumulator rescaled by e^(m_old - m_new)),
// then the chunk's V rows (decoded once) are added to every row's accumulator. So K and V are read once per
// block of query rows, and all scores of a chunk stay in a small scratch.
//
// f32 and f16 rows run as register tiles: scores for a query row against 4 positions at a time (each query
// vector loaded once for the 4), and the V sums for 4 query rows x 4 dimensions at a time in registers over
// the chunk's positions. Both keep the operation order of one dot product per (row, position) and one
// accumulator update per (row, position) in turn, so results have the bits of scoring and adding one
// position at a time (a masked position adds 0·v to a sum that is never -0, which changes no bits), and a
// row's result does not depend on the other rows of the call.
//
// q8 K and V (the usual decode cache) skip the decoding and run in integers, four query rows at a time
// sharing each code load (one at a time for a single row, MHA decode). The rows' scaled queries are rounded
// to i16 (one factor per row, relative error <= 2^-16, far below the codes' max|k|/254) and
// i32x4.dot_i16x8_s multiplies them with the sign-extended codes, one f32 multiply-add per block scale.
// V runs on pairs of positions: a row's weights times the block scales are rounded to i16 with one factor
// per (row, chunk), the two positions' codes are interleaved and dot_i16x8_s forms w_a·v_a + w_b·v_b per
// dimension into i32 sums (|sum| <= 64·127·32767 < 2^31 per chunk), added to the f32 accumulators once
// per chunk. Dimensions are the outer loop there, so a group's 8 i32x4 sums stay in registers.
import { F32, KV_Q8 } from './types';
import { kv_qblock, kvRowScales } from './kv_layout';
import { kv_decode_row } from './kv_cache';
import { laneMax, laneSum } from './lanes';
import { exp4Scores } from './exp';

const ROWS: i32 = 16;
const CHUNK: i32 = 64;

/** Scratch bytes attn_rows needs for head dimension d. */
export function attn_scratch_bytes(d: i32): i32 {
  const dp = (d + 3) & ~3;
  return 4 * (2 * ROWS * dp + ROWS * CHUNK + 3 * ROWS + 4 * dp + CHUNK * dp) + 64 + q8ScratchBytes(d);
}

// The q8 path's part: i16 query rows, their factors, the chunk's K and V row addresses, the packed pair
// coefficients of up to 4 rows (CHUNK/2 pairs, d/8 blocks at most) and their factors.
@inline
function q8ScratchBytes(d: i32): i32 {
  const d8 = (d + 7) & ~7;
  return 2 * ROWS * d8 + 4 * ROWS + 2 * 4 * CHUNK + 4 * 4 * (CHUNK >> 1) * (d8 >> 3) + 16 + 16 + 16;
}

// Row p's address, or its rows decoded into buf when the type is not f32.
@inline
function keyRow(base: usize, rowBytes: usize, idx: usize, p: i32, type: i32, buf: usize, d: i32): usize {
  const src = rowAt(base, rowBytes, idx, p);
  if (type == F32) return src;
  kv_decode_row(src, buf, d, type);
  return buf;
}

// Scores of the query row q (f32) against the f32 rows k0..k3, stored (lanes 0..np-1) at out: for each
// position two f32x4 sums over the dimensions, s0 taking dimensions 8m..8m+3 and s1 dimensions 8m+4..8m+7 for
// m in turn (and s0 the last 4 when d % 8 >= 4), then the lanes of s0 + s1 as ((l0 + l1) + l2) + l3 (the four
// positions' lanes transposed so that each add serves all four), then the last d % 4 dimensions in turn: the
// order of a plain per-position dot product, so the tile changes no bits.
@inline
function scoreTile(q: usize, k0: usize, k1: usize, k2: usize, k3: usize, d: i32, out: usize, np: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  let c = 0;
  for (; c + 8 <= d; c += 8) {
    const o = <usize>c << 2, qa = v128.load(q + o), qb = v128.load(q + o, 16);
    a0 = f32x4.add(a0, f32x4.mul(qa, v128.load(k0 + o))); b0 = f32x4.add(b0, f32x4.mul(qb, v128.load(k0 + o, 16)));
    a1 = f32x4.add(a1, f32x4.mul(qa, v128.load(k1 + o))); b1 = f32x4.add(b1, f32x4.mul(qb, v128.load(k1 + o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(qa, v128.load(k2 + o))); b2 = f32x4.add(b2, f32x4.mul(qb, v128.load(k2 + o, 16)));
    a3 = f32x4.add(a3, f32x4.mul(qa, v128.load(k3 + o))); b3 = f32x4.add(b3, f32x4.mul(qb, v128.load(k3 + o, 16)));
  }
  if (c + 4 <= d) {
    const o = <usize>c << 2, qa = v128.load(q + o);
    a0 = f32x4.add(a0, f32x4.mul(qa, v128.load(k0 + o))); a1 = f32x4.add(a1, f32x4.mul(qa, v128.load(k1 + o)));
    a2 = f32x4.add(a2, f32x4.mul(qa, v128.load(k2 + o))); a3 = f32x4.add(a3, f32x4.mul(qa, v128.load(k3 + o)));
    c += 4;
  }
  // u_p = s0 + s1 of position p; transposed: t_l holds lane l of every position
  const u0 = f32x4.add(a0, b0), u1 = f32x4.add(a1, b1), u2 = f32x4.add(a2, b2), u3 = f32x4.add(a3, b3);
  const e01 = v128.shuffle<f32>(u0, u1, 0, 4, 1, 5), f01 = v128.shuffle<f32>(u0, u1, 2, 6, 3, 7);
  const e23 = v128.shuffle<f32>(u2, u3, 0, 4, 1, 5), f23 = v128.shuffle<f32>(u2, u3, 2, 6, 3, 7);
  const t0 = v128.shuffle<f32>(e01, e23, 0, 1, 4, 5), t1 = v128.shuffle<f32>(e01, e23, 2, 3, 6, 7);
  const t2 = v128.shuffle<f32>(f01, f23, 0, 1, 4, 5), t3 = v128.shuffle<f32>(f01, f23, 2, 3, 6, 7);
  let s = f32x4.add(f32x4.add(f32x4.add(t0, t1), t2), t3);
  for (; c < d; c++) {
    const o = <usize>c << 2;
    let x = f32x4.splat(load<f32>(k0 + o));
    x = f32x4.replace_lane(x, 1, load<f32>(k1 + o));
    x = f32x4.replace_lane(x, 2, load<f32>(k2 + o));
    x = f32x4.replace_lane(x, 3, load<f32>(k3 + o));
    s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(q + o)), x));
  }
  storeLanes(out, s, np);
}

// Lanes 0..n-1 (n 1..4) of v as the f32 at out, out + 4, ..
@inline
function storeLanes(out: usize, v: v128, n: i32): void {
  if (n == 4) { v128.store(out, v); return; }
  v128.store32_lane(out, v, 0);
  if (n > 1) v128.store32_lane(out, v, 1, 4);
  if (n > 2) v128.store32_lane(out, v, 2, 8);
}

// acc row j (f32, R rows rowStride apart) += Σ_p w_j[p]·v_p over the chunk's cn positions, each element taking
// the positions in turn: w_j at w + j·CHUNK·4, v_p (f32) at the address va[p]. Dimensions 4 at a time with the R
// rows' sums in registers, then the last d % 4 one at a time.
@inline
function valueTile(R: i32, acc: usize, rowStride: usize, w: usize, va: usize, cn: i32, d: i32): void {
  const wr = <usize>CHUNK << 2, d4 = d & ~3;
  for (let c = 0; c < d4; c += 4) {
    const o = <usize>c << 2;
    let a0 = v128.load(acc + o), a1 = a0, a2 = a0, a3 = a0;
    if (R > 1) a1 = v128.load(acc + rowStride + o);
    if (R > 2) a2 = v128.load(acc + 2 * rowStride + o);
    if (R > 3) a3 = v128.load(acc + 3 * rowStride + o);
    for (let p = 0; p < cn; p++) {
      const x = v128.load(load<usize>(va + (<usize>p << 2)) + o), wp = w + (<usize>p << 2);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(wp), x));
      if (R > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(wp + wr), x));
      if (R > 2) a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(wp + 2 * wr), x));
      if (R > 3) a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(wp + 3 * wr), x));
    }
    v128.store(acc + o, a0);
    if (R > 1) v128.store(acc + rowStride + o, a1);
    if (R > 2) v128.store(acc + 2 * rowStride + o, a2);
    if (R > 3) v128.store(acc + 3 * rowStride + o, a3);
  }
  for (let c = d4; c < d; c++) {
    const o = <usize>c << 2;
    for (let j = 0; j < R; j++) {
      const a = acc + <usize>j * rowStride + o;
      let s = load<f32>(a);
      for (let p = 0; p < cn; p++) s += load<f32>(w + <usize>j * wr + (<usize>p << 2)) * load<f32>(load<usize>(va + (<usize>p << 2)) + o);
      store<f32>(a, s);
    }
  }
}

@inline
function scaleRow(x: usize, c: f32, d: i32): void {
  const cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= d; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), cv));
  for (; i < d; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * c);
}

// Sum of each of four f32x4 vectors, as the four lanes of one.
@inline
function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const v01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 2, 6), v128.shuffle<f32>(a0, a1, 1, 5, 3, 7));
  const v23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 2, 6), v128.shuffle<f32>(a2, a3, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(v01, v23, 0, 1, 4, 5), v128.shuffle<f32>(v01, v23, 2, 3, 6, 7));
}

// Scores of R (1 or 4) i16 query rows qi, qi + qStride, ... against the q8 row at `row` (d codes, then one
// f32 scale per block of qb), in units of the rows' factors: lane i of the result is row i's.
@inline
function dotQ8(R: i32, qi: usize, qStride: usize, row: usize, d: i32, qb: i32): v128 {
  const scales = kvRowScales(row, d, KV_Q8);
  let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
  for (let b = 0, i = 0; i < d; b++) {
    let t0 = i32x4.splat(0), t1 = i32x4.splat(0), t2 = i32x4.splat(0), t3 = i32x4.splat(0);
    for (const e = i + qb; i < e; i += 8) {
      const c = v128.load8x8_s(row + <usize>i);
      const o = qi + (<usize>i << 1);
      t0 = i32x4.add(t0, i32x4.dot_i16x8_s(c, v128.load(o)));
      if (R > 1) {
        t1 = i32x4.add(t1, i32x4.dot_i16x8_s(c, v128.load(o + qStride)));
        t2 = i32x4.add(t2, i32x4.dot_i16x8_s(c, v128.load(o + 2 * qStride)));
        t3 = i32x4.add(t3, i32x4.dot_i16x8_s(c, v128.load(o + 3 * qStride)));
      }
    }
    const s = v128.load32_splat(scales + (<usize>b << 2));
    f0 = f32x4.add(f0, f32x4.mul(f32x4.convert_i32x4_s(t0), s));
    if (R > 1) {
      f1 = f32x4.add(f1, f32x4.mul(f32x4.convert_i32x4_s(t1), s));
      f2 = f32x4.add(f2, f32x4.mul(f32x4.convert_i32x4_s(t2), s));
      f3 = f32x4.add(f3, f32x4.mul(f32x4.convert_i32x4_s(t3), s));
    }
  }
  if (R == 1) {
    return f32x4.splat(laneSum(f0));
  }
  return hsum4(f0, f1, f2, f3);
}

// V step of the q8 path for R (1 or 4) rows: acc row j (f32, rows dBytes apart) += fac[j]·Σ_pairs of the
// chunk, from the packed pair coefficients pc (row j's at pc + j·pcRow, pair pp's blocks at pp·nb·4) and
// the chunk's V row addresses va (an even count; an odd chunk's last pair repeats a row with weight 0).
@inline
function accumulateQ8(R: i32, acc: usize, dBytes: usize, fac: usize, pc: usize, pcRow: usize, va: usize, np: i32, d: i32, qb: i32): void {
  const nb = d / qb;
  for (let i = 0; i < d; i += 8) {
    const b = i / qb;
    let l0 = i32x4.splat(0), h0 = i32x4.splat(0), l1 = i32x4.splat(0), h1 = i32x4.splat(0);
    let l2 = i32x4.splat(0), h2 = i32x4.splat(0), l3 = i32x4.splat(0), h3 = i32x4.splat(0);
    let cp = pc + (<usize>b << 2);
    for (let pp = 0; pp < np; pp++) {
      const ra = load<usize>(va + (<usize>(2 * pp) << 2));
      const rb = load<usize>(va + (<usize>(2 * pp + 1) << 2));
      const x = i8x16.shuffle(v128.load64_zero(ra + <usize>i), v128.load64_zero(rb + <usize>i),
        0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const lo = i16x8.extend_low_i8x16_s(x);
      const hi = i16x8.extend_high_i8x16_s(x);
      const c0 = v128.load32_splat(cp);
      l0 = i32x4.add(l0, i32x4.dot_i16x8_s(lo, c0)); h0 = i32x4.add(h0, i32x4.dot_i16x8_s(hi, c0));
      if (R > 1) {
        const c1 = v128.load32_splat(cp + pcRow);
        const c2 = v128.load32_splat(cp + 2 * pcRow);
        const c3 = v128.load32_splat(cp + 3 * pcRow);
        l1 = i32x4.add(l1, i32x4.dot_i16x8_s(lo, c1)); h1 = i32x4.add(h1, i32x4.dot_i16x8_s(hi, c1));
        l2 = i32x4.add(l2, i32x4.dot_i16x8_s(lo, c2)); h2 = i32x4.add(h2, i32x4.dot_i16x8_s(hi, c2));
        l3 = i32x4.add(l3, i32x4.dot_i16x8_s(lo, c3)); h3 = i32x4.add(h3, i32x4.dot_i16x8_s(hi, c3));
      }
      cp += <usize>nb << 2;
    }
    const o = acc + (<usize>i << 2);
    flush8(o, l0, h0, load<f32>(fac));
    if (R > 1) {
      flush8(o + dBytes, l1, h1, load<f32>(fac, 4));
      flush8(o + 2 * dBytes, l2, h2, load<f32>(fac, 8));
      flush8(o + 3 * dBytes, l3, h3, load<f32>(fac, 12));
    }
  }
}

// accumulateQ8 for one row and blocks of 16 or more: 16 dimensions per pass (one 16-byte load per row).
@inline
function accumulateQ8Wide(acc: usize, fac: usize, pc: usize, va: usize, np: i32, d: i32, qb: i32): void {
  const nb = d / qb;
  const f = load<f32>(fac);
  for (let i = 0; i < d; i += 16) {
    const b = i / qb;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let cp = pc + (<usize>b << 2);
    for (let pp = 0; pp < np; pp++) {
      const x = v128.load(load<usize>(va + (<usize>(2 * pp) << 2)) + <usize>i);
      const y = v128.load(load<usize>(va + (<usize>(2 * pp + 1) << 2)) + <usize>i);
      const lo = i8x16.shuffle(x, y, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const hi = i8x16.shuffle(x, y, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      const c = v128.load32_splat(cp);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(lo), c));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(lo), c));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(hi), c));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(hi), c));
      cp += <usize>nb << 2;
    }
    const o = acc + (<usize>i << 2);
    flush8(o, a0, a1, f);
    flush8(o + 32, a2, a3, f);
  }
}

// o[0:8] += f·(lo, hi) as f32.
@inline
function flush8(o: usize, lo: v128, hi: v128, f: f32): void {
  const fv = f32x4.splat(f);
  v128.store(o, f32x4.add(v128.load(o), f32x4.mul(f32x4.convert_i32x4_s(lo), fv)));
  v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(f32x4.convert_i32x4_s(hi), fv)), 16);
}

// Packs the V coefficients of `rows` query rows (rows < 4 leave the rest zero) for the chunk's cn positions:
// for row j, pair pp and block b, the i16 pair (w_j[2pp]·s(2pp, b), w_j[2pp+1]·s(2pp+1, b)) times the row's
// factor 32767 / max; the inverse factor goes to fac[j]. w_j: the chunk's weights at sc + j·CHUNK·4.
// Four blocks at a time in f32 lanes (weights and scales are >= 0); adding 1.5·2^23 rounds to the nearest
// integer and leaves it in the low mantissa bits. A last group of fewer than 4 blocks still stores 16 bytes:
// the next pair's (or row's) entries overwrite the excess, and the scratch has 16 bytes of slack after the end.
function packQ8(sc: usize, rows: i32, va: usize, cn: i32, d: i32, qb: i32, pc: usize, pcRow: usize, fac: usize): void {
  const nb = d / qb;
  const np = (cn + 1) >> 1;
  const magic = f32x4.splat(<f32>12582912);
  const magicBits = i32x4.splat(0x4b400000);
  for (let j = 0; j < 4; j++) {
    const pr = pc + <usize>j * pcRow;
    if (j >= rows) {
      memory.fill(pr, 0, <usize>(np * nb) << 2);
      store<f32>(fac + (<usize>j << 2), 0);
      continue;
    }
    const w = sc + (<usize>(j * CHUNK) << 2);
    let mv = f32x4.splat(0);
    for (let p = 0; p < cn; p++) {
      const wv = v128.load32_splat(w + (<usize>p << 2));
      const sp = kvRowScales(load<usize>(va + (<usize>p << 2)), d, KV_Q8);
      for (let b = 0; b < nb; b += 4) mv = f32x4.pmax(mv, f32x4.mul(wv, scales4(sp, b, nb)));
    }
    const m = laneMax(mv);
    const toI: f32 = m > 0 ? <f32>32767 / m : 0;
    store<f32>(fac + (<usize>j << 2), m > 0 ? m / <f32>32767 : 0);
    for (let pp = 0; pp < np; pp++) {
      const p = 2 * pp;
      const wa = f32x4.splat(load<f32>(w + (<usize>p << 2)) * toI);
      const wb = f32x4.splat(p + 1 < cn ? load<f32>(w + (<usize>(p + 1) << 2)) * toI : <f32>0);
      const sa = kvRowScales(load<usize>(va + (<usize>p << 2)), d, KV_Q8);
      const sb = kvRowScales(load<usize>(va + (<usize>(p + 1) << 2)), d, KV_Q8);
      const o = pr + (<usize>(pp * nb) << 2);
      for (let b = 0; b < nb; b += 4) {
        const ia = i32x4.sub(f32x4.add(f32x4.mul(wa, scales4(sa, b, nb)), magic), magicBits);
        const ib = i32x4.sub(f32x4.add(f32x4.mul(wb, scales4(sb, b, nb)), magic), magicBits);
        v128.store(o + (<usize>b << 2), i8x16.shuffle(ia, ib, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29));
      }
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

// i16 copies of nr scaled query rows (f32, rows dBytes apart) at qi (rows qiRow bytes apart, rows up to the
// next multiple of 4 zeroed), each as x / f with f = max|x| / 32767 stored at fq.
function quantiseRows(qs: usize, dBytes: usize, nr: i32, d: i32, qi: usize, qiRow: usize, fq: usize): void {
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

// Row p's address: position p itself, or idx[p] when a gather list is given.
@inline
function rowAt(base: usize, rowBytes: usize, idx: usize, p: i32): usize {
  const r = idx != 0 ? load<i32>(idx + (<usize>p << 2)) : p;
  return base + <usize>r * rowBytes;
}

/**
 * Causal attention of nTok·g query rows over one KV head. Row (t, j) (token t < nTok, head j < g of the
 * group) reads q + t·qTok + j·d·4 (f32, bytes strides) and writes out + t·outTok + j·d·4; it attends to
 * list entries [0, pos0 + t + 1), where entry p is position p (idx = 0) or position idx[p] (i32 list).
 * K rows start at k (row stride kRow bytes, element type kType), V rows at v. Scores are q·k·scale, then
 * softcap·tanh(score / softcap) when softcap > 0 (Gemma 2; 0, or NaN from a caller that omits it: none).
 * With lse != 0, row r also writes its softmax max and sum (f32 pair at lse + 8r: m = max score, s = Σ e^(score - m)),
 * so that calls over disjoint position ranges can be merged (flash-decoding). Returns the bytes of K and V rows read.
 */
export function attn_rows(q: usize, qTok: i32, out: usize, outTok: i32, g: i32, nTok: i32, pos0: i32, d: i32, scale: f32,
  k: usize, kRow: i32, kType: i32, v: usize, vRow: i32, vType: i32, idx: usize, scratch: usize, softcap: f32, lse: usize): f64 {
  const dp = (d + 3) & ~3;
  const dBytes = <usize>dp << 2;
  const qs = (scratch + 15) & ~<usize>15;
  const acc = qs + <usize>ROWS * dBytes;
  const sc = acc + <usize>ROWS * dBytes;
  const mx = sc + (<usize>(ROWS * CHUNK) << 2);
  const sm = mx + (<usize>ROWS << 2);
  const lim = sm + (<usize>ROWS << 2);
  const kbuf = lim + (<usize>ROWS << 2); // 4 decoded K rows
  const vbuf = kbuf + 4 * dBytes; // the chunk's decoded V rows
  // q8 path scratch (layout in q8ScratchBytes)
  const qb = kv_qblock(d);
  const q8 = kType == KV_Q8 && vType == KV_Q8 && qb > 0;
  const nb = q8 ? d / qb : 0;
  const qiRow = <usize>((d + 7) & ~7) << 1;
  const qi = (vbuf + <usize>CHUNK * dBytes + 15) & ~<usize>15;
  const fq = qi + <usize>ROWS * qiRow;
  const va = fq + (<usize>ROWS << 2);
  const pcRow = <usize>((CHUNK >> 1) * nb) << 2;
  const pc = va + (<usize>(2 * CHUNK) << 2);
  const fac = pc + 4 * pcRow + 16; // 16 bytes of slack: packQ8's last 4-block store may run past its row
  const kr = <usize>kRow;
  const vr = <usize>vRow;
  const total = nTok * g;
  let bytes: f64 = 0;
  let sink: u32 = 0;
  for (let r0 = 0; r0 < total; r0 += ROWS) {
    const nr = min(ROWS, total - r0);
    for (let i = 0; i < nr; i++) {
      const r = r0 + i;
      const t = r / g;
      const j = r - t * g;
      const dst = qs + <usize>i * dBytes;
      const src = q + <usize>t * <usize>qTok + (<usize>(j * d) << 2);
      for (let c = 0; c < d; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) * scale);
      memory.fill(acc + <usize>i * dBytes, 0, dBytes);
      store<f32>(mx + (<usize>i << 2), -Infinity);
      store<f32>(sm + (<usize>i << 2), 0);
      store<i32>(lim + (<usize>i << 2), pos0 + t + 1);
    }
    const maxLim = load<i32>(lim + (<usize>(nr - 1) << 2));
    if (q8) quantiseRows(qs, dBytes, nr, d, qi, qiRow, fq);
    for (let c0 = 0; c0 < maxLim; c0 += CHUNK) {
      const cn = min(CHUNK, maxLim - c0);
      // gathered rows: touch every cache line of the next chunk's K and V rows (the first chunk's before the
      // loop) in a tight loop of independent loads, so their misses overlap each other and this chunk's work
      if (idx != 0) {
        if (c0 == 0) sink += touchRows(k, kr, v, vr, idx, 0, cn);
        if (c0 + CHUNK < maxLim) sink += touchRows(k, kr, v, vr, idx, c0 + CHUNK, min(CHUNK, maxLim - c0 - CHUNK));
      }
      // scores of the chunk (the padding rows of a last group of 4 (q8) and the positions past a row's limit
      // are scored too: never read)
      for (let p = 0; q8 && p < cn; p++) {
        const src = rowAt(k, kr, idx, c0 + p);
        {
          if (nr == 1) {
            store<f32>(sc + (<usize>p << 2), f32x4.extract_lane(dotQ8(1, qi, qiRow, src, d, qb), 0) * load<f32>(fq));
            continue;
          }
          for (let i0 = 0; i0 < nr; i0 += 4) {
            const s4 = f32x4.mul(dotQ8(4, qi + <usize>i0 * qiRow, qiRow, src, d, qb), v128.load(fq + (<usize>i0 << 2)));
            const o = sc + (<usize>(i0 * CHUNK + p) << 2);
            store<f32>(o, f32x4.extract_lane(s4, 0));
            store<f32>(o + (<usize>CHUNK << 2), f32x4.extract_lane(s4, 1));
            store<f32>(o + (<usize>(2 * CHUNK) << 2), f32x4.extract_lane(s4, 2));
            store<f32>(o + (<usize>(3 * CHUNK) << 2), f32x4.extract_lane(s4, 3));
          }
          continue;
        }
      }
      for (let p = 0; !q8 && p < cn; p += 4) {
        // 4 positions (the last one repeated past the chunk), decoded when not f32
        const np = min(4, cn - p);
        const k0 = keyRow(k, kr, idx, c0 + p, kType, kbuf, d);
        const k1 = np > 1 ? keyRow(k, kr, idx, c0 + p + 1, kType, kbuf + dBytes, d) : k0;
        const k2 = np > 2 ? keyRow(k, kr, idx, c0 + p + 2, kType, kbuf + 2 * dBytes, d) : k1;
        const k3 = np > 3 ? keyRow(k, kr, idx, c0 + p + 3, kType, kbuf + 3 * dBytes, d) : k2;
        const o = sc + (<usize>p << 2);
        for (let i = 0; i < nr; i++) scoreTile(qs + <usize>i * dBytes, k0, k1, k2, k3, d, o + (<usize>(i * CHUNK) << 2), np);
      }
      bytes += <f64>cn * <f64>kRow;
      // fold into the running softmax; masked entries get weight 0
      for (let i = 0; i < nr; i++) {
        const n = min(cn, load<i32>(lim + (<usize>i << 2)) - c0);
        const srow = sc + (<usize>(i * CHUNK) << 2);
        if (n <= 0) {
          memory.fill(srow, 0, <usize>cn << 2);
          continue;
        }
        if (softcap > 0) capScores(srow, n, softcap);
        // pmax is one instruction (max's NaN and signed-zero rules cost several); a NaN score still ends as NaN
        let mq = f32x4.splat(-Infinity);
        let p = 0;
        for (; p + 4 <= n; p += 4) mq = f32x4.pmax(mq, v128.load(srow + (<usize>p << 2)));
        let m = laneMax(mq);
        for (; p < n; p++) m = max(m, load<f32>(srow + (<usize>p << 2)));
        const mOld = load<f32>(mx + (<usize>i << 2));
        const mNew = max(mOld, m);
        let l = load<f32>(sm + (<usize>i << 2));
        if (mNew > mOld && mOld != -Infinity) {
          const c = Mathf.exp(mOld - mNew);
          scaleRow(acc + <usize>i * dBytes, c, d);
          l *= c;
        }
        const mv = f32x4.splat(mNew);
        let sv = f32x4.splat(0);
        p = 0;
        for (; p + 4 <= n; p += 4) {
          const e = exp4Scores(f32x4.sub(v128.load(srow + (<usize>p << 2)), mv));
          v128.store(srow + (<usize>p << 2), e);
          sv = f32x4.add(sv, e);
        }
        l += laneSum(sv);
        for (; p < n; p++) {
          const e = f32x4.extract_lane(exp4Scores(f32x4.splat(load<f32>(srow + (<usize>p << 2)) - mNew)), 0);
          store<f32>(srow + (<usize>p << 2), e);
          l += e;
        }
        for (; p < cn; p++) store<f32>(srow + (<usize>p << 2), 0);
        store<f32>(mx + (<usize>i << 2), mNew);
        store<f32>(sm + (<usize>i << 2), l);
      }
      // weighted V rows
      if (q8) {
        for (let p = 0; p < cn; p++) store<usize>(va + (<usize>p << 2), rowAt(v, vr, idx, c0 + p));
        if (cn & 1) store<usize>(va + (<usize>cn << 2), load<usize>(va + (<usize>(cn - 1) << 2)));
        const np = (cn + 1) >> 1;
        for (let i0 = 0; i0 < nr; i0 += 4) {
          const rows = min(4, nr - i0);
          packQ8(sc + (<usize>(i0 * CHUNK) << 2), rows, va, cn, d, qb, pc, pcRow, fac);
          if (rows == 1 && qb >= 16) accumulateQ8Wide(acc + <usize>i0 * dBytes, fac, pc, va, np, d, qb);
          else if (rows == 1) accumulateQ8(1, acc + <usize>i0 * dBytes, dBytes, fac, pc, pcRow, va, np, d, qb);
          else accumulateQ8(4, acc + <usize>i0 * dBytes, dBytes, fac, pc, pcRow, va, np, d, qb);
        }
        bytes += <f64>cn * <f64>vRow;
        continue;
      }
      // the chunk's V rows (decoded when not f32), then their weighted sums 4 query rows at a time
      for (let p = 0; p < cn; p++) {
        const src = rowAt(v, vr, idx, c0 + p);
        let row = src;
        if (vType != F32) { row = vbuf + <usize>p * dBytes; kv_decode_row(src, row, d, vType); }
        store<usize>(va + (<usize>p << 2), row);
      }
      let i = 0;
      for (; i + 4 <= nr; i += 4) valueTile(4, acc + <usize>i * dBytes, dBytes, sc + (<usize>(i * CHUNK) << 2), va, cn, d);
      if (nr - i == 3) valueTile(3, acc + <usize>i * dBytes, dBytes, sc + (<usize>(i * CHUNK) << 2), va, cn, d);
      else if (nr - i == 2) valueTile(2, acc + <usize>i * dBytes, dBytes, sc + (<usize>(i * CHUNK) << 2), va, cn, d);
      else if (nr - i == 1) valueTile(1, acc + <usize>i * dBytes, dBytes, sc + (<usize>(i * CHUNK) << 2), va, cn, d);
      bytes += <f64>cn * <f64>vRow;
    }
    for (let i = 0; i < nr; i++) {
      const r = r0 + i;
      const t = r / g;
      const j = r - t * g;
      const o = out + <usize>t * <usize>outTok + (<usize>(j * d) << 2);
      const inv: f32 = <f32>1 / load<f32>(sm + (<usize>i << 2));
      const a = acc + <usize>i * dBytes;
      for (let c = 0; c < d; c++) store<f32>(o + (<usize>c << 2), load<f32>(a + (<usize>c << 2)) * inv);
      if (lse != 0) {
        store<f32>(lse + (<usize>r << 3), load<f32>(mx + (<usize>i << 2)));
        store<f32>(lse + (<usize>r << 3), load<f32>(sm + (<usize>i << 2)), 4);
      }
    }
  }
  store<u32>(scratch, sink); // keeps the touching loads observable
  return bytes;
}

// s -> cap·tanh(s / cap) for n scores (tanh in f64, rounded once).
function capScores(s: usize, n: i32, cap: f32): void {
  const c = <f64>cap;
  for (let p = 0; p < n; p++) {
    const a = s + (<usize>p << 2);
    store<f32>(a, <f32>(c * NativeMath.tanh(<f64>load<f32>(a) / c)));
  }
}

// Sum of one byte per 64-byte line of the K and V rows of list entries [c0, c0+cn).
@inline
function touchRows(k: usize, kr: usize, v: usize, vr: usize, idx: usize, c0: i32, cn: i32): u32 {
  let s: u32 = 0;
  for (let p = c0; p < c0 + cn; p++) {
    const r = <usize>load<i32>(idx + (<usize>p << 2));
    const a = k + r * kr;
    const b = v + r * vr;
    for (let o: usize = 0; o < kr; o += 64) s += load<u8>(a + o);
    s += load<u8>(a + kr - 1);
    for (let o: usize = 0; o < vr; o += 64) s += load<u8>(b + o);
    s += load<u8>(b + vr - 1);
  }
  return s;
}
