// Exact attention of a group of query rows over one KV head: the dense baseline (prefill and decode) and
// SparQ's step 2 (the same computation over a gathered list of positions).
//
// Rows are processed in blocks of ROWS; for each block, positions are visited in chunks of CHUNK: each K row
// of the chunk is decoded once (if not f32) and dotted with every query row of the block, the chunk's scores
// are folded into a running softmax per row (running max m, running sum l, accumulator rescaled by
// e^(m_old - m_new)), then each V row is decoded once and added to every row's accumulator. So K and V are
// read once per block of query rows, and all scores of a chunk stay in a small scratch.
import { expf4 } from './simd_exp';
import { KV_F32, KV_Q8, kv_decode_row, kv_qblock } from './kv_cache';

const ROWS: i32 = 16;
const CHUNK: i32 = 64;

/** Scratch bytes attn_rows needs for head dimension d. */
export function attn_scratch_bytes(d: i32): i32 {
  const dp = (d + 3) & ~3;
  return 4 * (2 * ROWS * dp + ROWS * CHUNK + 3 * ROWS + 2 * dp) + 64;
}

@inline
function dot(a: usize, b: usize, d: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= d; i += 8) {
    const o = <usize>i << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  if (i + 4 <= d) {
    const o = <usize>i << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    i += 4;
  }
  s0 = f32x4.add(s0, s1);
  let s = f32x4.extract_lane(s0, 0) + f32x4.extract_lane(s0, 1) + f32x4.extract_lane(s0, 2) + f32x4.extract_lane(s0, 3);
  for (; i < d; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

// acc[0:d] += w·x[0:d]
@inline
function axpy(acc: usize, w: f32, x: usize, d: i32): void {
  const wv = f32x4.splat(w);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(wv, v128.load(x + o))));
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + w * load<f32>(x + o));
  }
}

@inline
function scaleRow(x: usize, c: f32, d: i32): void {
  const cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= d; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), cv));
  for (; i < d; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * c);
}

// q·row for a q8 row (codes then one f32 scale per block of qb), without decoding it first.
@inline
function dotQ8(q: usize, row: usize, d: i32, qb: i32): f32 {
  const scales = row + <usize>d;
  let tot = f32x4.splat(0);
  for (let b = 0, i = 0; i < d; b++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (const e = i + qb; i < e; i += 8) {
      const w = v128.load8x8_s(row + <usize>i);
      const o = q + (<usize>i << 2);
      a0 = f32x4.add(a0, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w)), v128.load(o)));
      a1 = f32x4.add(a1, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w)), v128.load(o, 16)));
    }
    tot = f32x4.add(tot, f32x4.mul(f32x4.add(a0, a1), f32x4.splat(load<f32>(scales + (<usize>b << 2)))));
  }
  return f32x4.extract_lane(tot, 0) + f32x4.extract_lane(tot, 1) + f32x4.extract_lane(tot, 2) + f32x4.extract_lane(tot, 3);
}

// acc += w·row for a q8 row, without decoding it first.
@inline
function axpyQ8(acc: usize, w: f32, row: usize, d: i32, qb: i32): void {
  const scales = row + <usize>d;
  for (let b = 0, i = 0; i < d; b++) {
    const ws = f32x4.splat(w * load<f32>(scales + (<usize>b << 2)));
    for (const e = i + qb; i < e; i += 8) {
      const x = v128.load8x8_s(row + <usize>i);
      const o = acc + (<usize>i << 2);
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(ws, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(x)))));
      v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(ws, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(x)))), 16);
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
 * Returns the bytes of K and V rows read.
 */
export function attn_rows(q: usize, qTok: i32, out: usize, outTok: i32, g: i32, nTok: i32, pos0: i32, d: i32, scale: f32,
  k: usize, kRow: i32, kType: i32, v: usize, vRow: i32, vType: i32, idx: usize, scratch: usize, softcap: f32): f64 {
  const dp = (d + 3) & ~3;
  const dBytes = <usize>dp << 2;
  const qs = (scratch + 15) & ~<usize>15;
  const acc = qs + <usize>ROWS * dBytes;
  const sc = acc + <usize>ROWS * dBytes;
  const mx = sc + (<usize>(ROWS * CHUNK) << 2);
  const sm = mx + (<usize>ROWS << 2);
  const lim = sm + (<usize>ROWS << 2);
  const kbuf = lim + (<usize>ROWS << 2);
  const vbuf = kbuf + dBytes;
  const kr = <usize>kRow;
  const vr = <usize>vRow;
  const total = nTok * g;
  const qb = kv_qblock(d);
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
    // a single row (MHA decode) reads q8 rows directly; several rows share one decoded copy per position
    const fusedK = nr == 1 && kType == KV_Q8;
    const fusedV = nr == 1 && vType == KV_Q8;
    for (let c0 = 0; c0 < maxLim; c0 += CHUNK) {
      const cn = min(CHUNK, maxLim - c0);
      // gathered rows: touch every cache line of the next chunk's K and V rows (the first chunk's before the
      // loop) in a tight loop of independent loads, so their misses overlap each other and this chunk's work
      if (idx != 0) {
        if (c0 == 0) sink += touchRows(k, kr, v, vr, idx, 0, cn);
        if (c0 + CHUNK < maxLim) sink += touchRows(k, kr, v, vr, idx, c0 + CHUNK, min(CHUNK, maxLim - c0 - CHUNK));
      }
      // scores of the chunk
      for (let p = 0; p < cn; p++) {
        const src = rowAt(k, kr, idx, c0 + p);
        if (fusedK) {
          store<f32>(sc + (<usize>p << 2), dotQ8(qs, src, d, qb));
          continue;
        }
        let row = src;
        if (kType != KV_F32) { kv_decode_row(src, kbuf, d, kType); row = kbuf; }
        for (let i = 0; i < nr; i++) {
          if (c0 + p < load<i32>(lim + (<usize>i << 2))) {
            store<f32>(sc + (<usize>(i * CHUNK + p) << 2), dot(qs + <usize>i * dBytes, row, d));
          }
        }
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
        let m: f32 = -Infinity;
        for (let p = 0; p < n; p++) m = max(m, load<f32>(srow + (<usize>p << 2)));
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
        let p = 0;
        for (; p + 4 <= n; p += 4) {
          const e = expf4(f32x4.sub(v128.load(srow + (<usize>p << 2)), mv));
          v128.store(srow + (<usize>p << 2), e);
          sv = f32x4.add(sv, e);
        }
        l += f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1) + f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3);
        for (; p < n; p++) {
          const e = f32x4.extract_lane(expf4(f32x4.splat(load<f32>(srow + (<usize>p << 2)) - mNew)), 0);
          store<f32>(srow + (<usize>p << 2), e);
          l += e;
        }
        for (; p < cn; p++) store<f32>(srow + (<usize>p << 2), 0);
        store<f32>(mx + (<usize>i << 2), mNew);
        store<f32>(sm + (<usize>i << 2), l);
      }
      // weighted V rows
      for (let p = 0; p < cn; p++) {
        const src = rowAt(v, vr, idx, c0 + p);
        if (fusedV) {
          const w = load<f32>(sc + (<usize>p << 2));
          if (w != 0) axpyQ8(acc, w, src, d, qb);
          continue;
        }
        let row = src;
        if (vType != KV_F32) { kv_decode_row(src, vbuf, d, vType); row = vbuf; }
        for (let i = 0; i < nr; i++) {
          const w = load<f32>(sc + (<usize>(i * CHUNK + p) << 2));
          if (w != 0) axpy(acc + <usize>i * dBytes, w, row, d);
        }
      }
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
