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
// q8 K and V (the usual decode cache) skip the decoding and run in integers (attention_q8.ts).
import { F32, KV_Q8 } from './types';
import { kv_qblock } from './kv_layout';
import { kv_decode_row } from './kv_cache';
import { laneMax, laneSum } from './lanes';
import { exp4Scores } from './exp';
import { Q8_CHUNK, q8ScratchBytes, quantiseRows, scoreGroupPair, scoreRow, foldGroup, scaleRow, packGroup, accumulateGroup,
  packRow, accumulateRow } from './attention_q8';

const ROWS: i32 = 16;
const CHUNK: i32 = Q8_CHUNK;

/** Scratch bytes attn_rows needs for head dimension d. */
export function attn_scratch_bytes(d: i32): i32 {
  const dp = (d + 3) & ~3;
  return 4 * (2 * ROWS * dp + ROWS * CHUNK + 3 * ROWS + 4 * dp + CHUNK * dp) + 64 + q8ScratchBytes(d, ROWS);
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
  // q8 path scratch (sized by q8ScratchBytes): i16 query rows and factors, V row addresses, packed coefficients
  const qb = kv_qblock(d);
  const q8 = kType == KV_Q8 && vType == KV_Q8 && qb > 0;
  const d8 = (d + 7) & ~7;
  const qiRow = <usize>d8 << 1;
  const qi = (vbuf + <usize>CHUNK * dBytes + 15) & ~<usize>15;
  const fq = qi + <usize>ROWS * qiRow;
  const va = fq + (<usize>ROWS << 2);
  const pc = (va + (<usize>(CHUNK + 1) << 2) + 15) & ~<usize>15;
  const fac = pc + (<usize>(16 * (CHUNK >> 1) * (d8 >> 3))) + 16; // 16 bytes of slack: packRow's last store may run past
  const kr = <usize>kRow;
  const vr = <usize>vRow;
  const total = nTok * g;
  let bytes: f64 = 0;
  let sink: u32 = 0;
  for (let r0 = 0; r0 < total; r0 += ROWS) {
    const nr = min(ROWS, total - r0);
    // q8 rows run in groups of 4 (one row alone runs by itself): padding rows score 0 and are never written
    const groups = q8 && nr > 1;
    const nr4 = groups ? (nr + 3) & ~3 : nr;
    for (let i = 0; i < nr4; i++) {
      const r = min(r0 + i, total - 1);
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
      bytes += <f64>cn * <f64>(kRow + vRow);
      if (q8) {
        for (let p = 0; p < cn; p++) store<usize>(va + (<usize>p << 2), rowAt(v, vr, idx, c0 + p));
        if (cn & 1) store<usize>(va + (<usize>cn << 2), load<usize>(va + (<usize>(cn - 1) << 2)));
        const np = (cn + 1) >> 1;
        if (groups) {
          // scores two positions at a time (an odd chunk's last position twice), group by group: f32 [CHUNK][4]
          for (let p = 0; p < cn; p += 2) {
            const ka = rowAt(k, kr, idx, c0 + p), kb = p + 1 < cn ? rowAt(k, kr, idx, c0 + p + 1) : ka;
            for (let i0 = 0; i0 < nr; i0 += 4) {
              scoreGroupPair(qi + <usize>i0 * qiRow, qiRow, fq + (<usize>i0 << 2), ka, kb, d, qb, sc + (<usize>(i0 * CHUNK + 4 * p) << 2));
            }
          }
          for (let i0 = 0; i0 < nr; i0 += 4) {
            const s4 = sc + (<usize>(i0 * CHUNK) << 2), a = acc + <usize>i0 * dBytes, o = <usize>i0 << 2;
            if (softcap > 0) capScores(s4, 4 * cn, softcap);
            foldGroup(s4, cn, c0, lim + o, mx + o, sm + o, a, dBytes, d);
            packGroup(s4, va, cn, d, qb, pc, fac);
            accumulateGroup(a, dBytes, fac, pc, va, np, d, qb);
          }
          continue;
        }
        for (let p = 0; p < cn; p++) store<f32>(sc + (<usize>p << 2), scoreRow(qi, rowAt(k, kr, idx, c0 + p), d, qb) * load<f32>(fq));
        foldRows(sc, 1, cn, c0, lim, mx, sm, acc, dBytes, d, softcap);
        packRow(sc, va, cn, d, qb, pc, fac);
        accumulateRow(acc, fac, pc, va, np, d, qb);
        continue;
      }
      // scores of the chunk (the positions past a row's limit are scored too: never read)
      for (let p = 0; p < cn; p += 4) {
        // 4 positions (the last one repeated past the chunk), decoded when not f32
        const np = min(4, cn - p);
        const k0 = keyRow(k, kr, idx, c0 + p, kType, kbuf, d);
        const k1 = np > 1 ? keyRow(k, kr, idx, c0 + p + 1, kType, kbuf + dBytes, d) : k0;
        const k2 = np > 2 ? keyRow(k, kr, idx, c0 + p + 2, kType, kbuf + 2 * dBytes, d) : k1;
        const k3 = np > 3 ? keyRow(k, kr, idx, c0 + p + 3, kType, kbuf + 3 * dBytes, d) : k2;
        const o = sc + (<usize>p << 2);
        for (let i = 0; i < nr; i++) scoreTile(qs + <usize>i * dBytes, k0, k1, k2, k3, d, o + (<usize>(i * CHUNK) << 2), np);
      }
      foldRows(sc, nr, cn, c0, lim, mx, sm, acc, dBytes, d, softcap);
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

// Folds the chunk's cn scores of nr rows (row i's at sc + i·CHUNK·4, positions in order) into each row's
// running softmax (max at mx, sum at sm, accumulator at acc + i·dBytes rescaled by e^(old max - new max)),
// leaving the weights e^(score - max) in place; positions at or past a row's limit get weight 0.
function foldRows(sc: usize, nr: i32, cn: i32, c0: i32, lim: usize, mx: usize, sm: usize, acc: usize, dBytes: usize, d: i32, softcap: f32): void {
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
