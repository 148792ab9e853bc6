// Q4_Kx4, Q5_Kx4 and Q6_Kx4 weight kernels (interleaved groups of 4 rows, blocks_x4.ts) against Q8XK
// activations (quantize_q8xk): matvec (decode) and matmul (prefill). Lane r of every vector is row r.
//
// Per (row, token, super-block) the integer sums are exact, however they are formed: R = Σ scale·S (S: a
// sub-block's Σ q·x), for Q6_K less 32·Σ scale·X (X: a sub-block's activation sum), and M = Σ min·X for Q4_K /
// Q5_K. Then, in f32, acc + f32(R)·(d·dx), and for Q4_K / Q5_K minus f32(M)·(dmin·dx) (superStep, the one f32
// step both kernels use). So each (row, token) has the same bits whichever kernel, row block or token group
// computes it, and the bits of the file-layout kernels (the same integers and the same f32 steps).
//   matvec: one group at a time, all its super-blocks (one sequential weight stream), a pair of sub-blocks
//           per loop iteration with its chunks written out.
//   matmul: one group against 4 tokens at a time, each chunk unpacked once for the 4; the last n % 4 tokens
//           with the matvec code.
import { Q4_K, Q5_K, Q6_K } from './types';
import { nibMask, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd, byteMask0f, byteMask30, evenByteMask } from './quant_simd';
import { Q8XK_BLOCK_BYTES, Q8XK_D, Q8XK_SUMS16, Q8XK_SUMS32, Q8XK_QS, X_VALUE_BYTES } from './blocks_act';
import {
  Q4_KX4_BLOCK_BYTES, Q4_KX4_D, Q4_KX4_DMIN, Q4_KX4_SCALES, Q4_KX4_MINS, Q4_KX4_QS, Q5_KX4_BLOCK_BYTES, Q5_KX4_QH,
  Q6_KX4_BLOCK_BYTES, Q6_KX4_D, Q6_KX4_SCALES, Q6_KX4_QL, Q6_KX4_QH, CHUNK_BYTES,
} from './blocks_x4';
import { storeRows, halves4At, halfMaskV, halfScaleV, fence } from './x4_common';

/** Bytes of a chunk's activations in a Q8XK block (8 values). */
const X_CHUNK: usize = 8 * X_VALUE_BYTES;

// @ts-ignore: decorator
@inline function blockBytes(kind: i32): usize { return kind == Q4_K ? Q4_KX4_BLOCK_BYTES : kind == Q5_K ? Q5_KX4_BLOCK_BYTES : Q6_KX4_BLOCK_BYTES; }
/** Offset of the low 4 bits (chunks) in a group block. */
// @ts-ignore: decorator
@inline function qsAt(kind: i32): usize { return kind == Q6_K ? Q6_KX4_QL : Q4_KX4_QS; }
/** Offset of the high-bit pieces (Q5_K, Q6_K). */
// @ts-ignore: decorator
@inline function qhAt(kind: i32): usize { return kind == Q6_K ? Q6_KX4_QH : Q5_KX4_QH; }
/** Chunks of one sub-block: 4 (32 values, Q4_K / Q5_K) or 2 (16 values, Q6_K). */
// @ts-ignore: decorator
@inline function subChunks(kind: i32): i32 { return kind == Q6_K ? 2 : 4; }

/** i32 lanes of 0xffff, and bytes of 0x10 (Q5_K's high-bit mask), as a table: V8 rebuilds a v128 constant
 *  at each use inside a loop, a vector loaded once before the loop stays in a register. */
const K_CONSTS: usize = memory.data<u32>([0xffff, 0xffff, 0xffff, 0xffff, 0x10101010, 0x10101010, 0x10101010, 0x10101010], 16);

/** acc + Σ plane·pair for the 4 planes of a chunk (q0..q3: nibble planes 0..3 with their high bits) against
 *  the 4 activation pairs at xa. */
// @ts-ignore: decorator
@inline function planesDot(acc: v128, q0: v128, q1: v128, q2: v128, q3: v128, xa: usize): v128 {
  const a = i32x4.add(i32x4.dot_i16x8_s(q0, v128.load32_splat(xa)), i32x4.dot_i16x8_s(q2, v128.load32_splat(xa, 4)));
  const b = i32x4.add(i32x4.dot_i16x8_s(q1, v128.load32_splat(xa, 8)), i32x4.dot_i16x8_s(q3, v128.load32_splat(xa, 12)));
  return i32x4.add(acc, i32x4.add(a, b));
}

/** The bits at bit b of every byte of the high-bit piece h moved to bit 4 (the caller masks). */
// @ts-ignore: decorator
@inline function toBit4(h: v128, b: i32): v128 { return b < 4 ? i16x8.shl(h, 4 - b) : b > 4 ? i16x8.shr_u(h, b - 4) : h; }

/** acc + the sums of the chunk v (chunk e of its high-bit piece h; e a constant) against the chunk's 8 Q8XK
 *  activations at xa. Portable: Q4_K: the 4 nibble planes of v; Q5_K / Q6_K: the low and the high nibbles of v
 *  as bytes, each with its high bits from h or'ed in (blocks_x4.ts), split into even and odd bytes: the same 4
 *  planes, against the 4 activation pairs. Relaxed SIMD: those two byte vectors against 4 activations each,
 *  by i32x4.relaxed_dot_i8x16_i7x16_add_s. Called once per token with the same v, the planes are computed
 *  once (common subexpressions). m: nibMask; b0f: bytes of 0x0f; ff: i16 lanes of 0x00ff; hm: bytes of 0x10
 *  (Q5_K) or 0x30 (Q6_K). */
// @ts-ignore: decorator
@inline function planesSum(kind: i32, acc: v128, v: v128, h: v128, e: i32, xa: usize, m: v128, b0f: v128, ff: v128, hm: v128): v128 {
  if (kind == Q4_K && !ASC_FEATURE_RELAXED_SIMD) return planesDot(acc, nibLoEven(v, m), nibHiEven(v, m), nibLoOdd(v, m), nibHiOdd(v), xa);
  const bl = kind == Q5_K ? 2 * e : 4 * e, bh = kind == Q5_K ? 2 * e + 1 : 4 * e + 2; // the high bits' places in h
  let lo = v128.and(v, b0f), hi = v128.and(i16x8.shr_u(v, 4), b0f);
  if (kind != Q4_K) { lo = v128.or(lo, v128.and(toBit4(h, bl), hm)); hi = v128.or(hi, v128.and(toBit4(h, bh), hm)); }
  if (ASC_FEATURE_RELAXED_SIMD) {
    // values 0..63 in the second operand: the instruction's signed and unsigned readings agree
    acc = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load32_splat(xa), lo, acc);
    return i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load32_splat(xa, 4), hi, acc);
  }
  return planesDot(acc, v128.and(lo, ff), v128.and(hi, ff), i16x8.shr_u(lo, 8), i16x8.shr_u(hi, 8), xa);
}

/** acc + the sums of chunk c (chunk e of its high-bit piece h) of the group block at p against the activation
 *  pairs at xq + 16c; the partial sum is fenced at y. */
// @ts-ignore: decorator
@inline function chunkSum(kind: i32, acc: v128, p: usize, c: usize, h: v128, e: i32, xq: usize, y: usize, m: v128, b0f: v128, ff: v128, hm: v128): v128 {
  acc = planesSum(kind, acc, v128.load(p + qsAt(kind) + c * CHUNK_BYTES), h, e, xq + c * X_CHUNK, m, b0f, ff, hm);
  fence(y, acc);
  return acc;
}

/** S of sub-block s (its chunks written out) of the group block at p against the Q8XK values at xq. */
// @ts-ignore: decorator
@inline function subSum(kind: i32, p: usize, s: i32, xq: usize, y: usize, m: v128, b0f: v128, ff: v128, hm: v128): v128 {
  const c = <usize>(subChunks(kind) * s);
  // high-bit piece: one per sub-block (Q5_K: 4 chunks, Q6_K: 2)
  const h = kind == Q4_K ? m : v128.load(p + qhAt(kind) + (<usize>s << 4));
  let a = chunkSum(kind, i32x4.splat(0), p, c, h, 0, xq, y, m, b0f, ff, hm);
  a = chunkSum(kind, a, p, c + 1, h, 1, xq, y, m, b0f, ff, hm);
  if (kind != Q6_K) {
    a = chunkSum(kind, a, p, c + 2, h, 2, xq, y, m, b0f, ff, hm);
    a = chunkSum(kind, a, p, c + 3, h, 3, xq, y, m, b0f, ff, hm);
  }
  return a;
}

/** The scales of sub-blocks 2k (odd = false) or 2k + 1 from their pair (8 bytes at p + SCALES + 8k, widened
 *  to i16): the low or high i16 of each i32 lane, signed for Q6_K. */
// @ts-ignore: decorator
@inline function scalesOf(kind: i32, pairs: v128, odd: bool, lo16: v128): v128 {
  if (kind == Q6_K) return odd ? i32x4.shr_s(pairs, 16) : i32x4.shr_s(i32x4.shl(pairs, 16), 16);
  return odd ? i32x4.shr_u(pairs, 16) : v128.and(pairs, lo16);
}

/** The scale pairs k (sub-blocks 2k, 2k + 1) of the group block at p, widened to i16. */
// @ts-ignore: decorator
@inline function scalePairs(kind: i32, p: usize, k: i32): v128 {
  const b = v128.load64_zero(p + (kind == Q6_K ? Q6_KX4_SCALES : Q4_KX4_SCALES) + (<usize>k << 3));
  return kind == Q6_K ? i16x8.extend_low_i8x16_s(b) : i16x8.extend_low_i8x16_u(b);
}

/** acc + f32(R)·(d·dx) (- f32(M)·(dmin·dx)) for one token's super-block: Q6_K takes 32·Σ scale·X off R first,
 *  Q4_K / Q5_K form M; both from the pair layout against the activation sums. */
// @ts-ignore: decorator
@inline function superStep(kind: i32, acc: v128, r: v128, d: v128, p: usize, xb: usize, hmask: v128, hscale: v128): v128 {
  const dx = v128.load32_splat(xb, Q8XK_D);
  if (kind == Q6_K) {
    let o = i32x4.splat(0);
    for (let k = 0; k < 8; k += 2) {
      const sc = v128.load(p + Q6_KX4_SCALES + (<usize>k << 3));
      o = i32x4.add(o, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(sc), v128.load32_splat(xb + Q8XK_SUMS16 + (<usize>k << 2))));
      o = i32x4.add(o, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(sc), v128.load32_splat(xb + Q8XK_SUMS16 + (<usize>k << 2), 4)));
    }
    r = i32x4.sub(r, i32x4.shl(o, 5));
    return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(r), f32x4.mul(d, dx)));
  }
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(r), f32x4.mul(d, dx)));
  const mn0 = v128.load(p + Q4_KX4_MINS), mn1 = v128.load(p + Q4_KX4_MINS, 16), x32 = xb + Q8XK_SUMS32;
  const mm = i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mn0), v128.load32_splat(x32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mn0), v128.load32_splat(x32, 4))),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mn1), v128.load32_splat(x32, 8)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mn1), v128.load32_splat(x32, 12))));
  const dmin = halves4At(p + Q4_KX4_DMIN, hmask, hscale);
  return f32x4.sub(acc, f32x4.mul(f32x4.convert_i32x4_s(mm), f32x4.mul(dmin, dx)));
}

/** One group (`blocks` super-blocks at w) · one token's Q8XK row x: lanes = rows, stored for the group's
 *  `valid` rows at y. */
// @ts-ignore: decorator
@inline function groupToken(kind: i32, w: usize, x: usize, blocks: i32, y: usize, valid: i32): void {
  const m = nibMask(), hmask = halfMaskV(), hscale = halfScaleV();
  const b0f = byteMask0f(), ff = evenByteMask(), hm = kind == Q5_K ? v128.load(K_CONSTS, 16) : byteMask30(), lo16 = v128.load(K_CONSTS);
  let f = f32x4.splat(0);
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    const xq = xb + Q8XK_QS;
    let r = i32x4.splat(0);
    for (let k = 0; k < (kind == Q6_K ? 8 : 4); k++) {
      const pairs = scalePairs(kind, p, k);
      r = i32x4.add(r, i32x4.mul(subSum(kind, p, 2 * k, xq, y, m, b0f, ff, hm), scalesOf(kind, pairs, false, lo16)));
      r = i32x4.add(r, i32x4.mul(subSum(kind, p, 2 * k + 1, xq, y, m, b0f, ff, hm), scalesOf(kind, pairs, true, lo16)));
    }
    f = superStep(kind, f, r, halves4At(p + (kind == Q6_K ? Q6_KX4_D : Q4_KX4_D), hmask, hscale), p, xb, hmask, hscale);
    p += blockBytes(kind); xb += Q8XK_BLOCK_BYTES;
  }
  storeRows(y, f, valid);
}

/** One group (`blocks` super-blocks at w) against 4 tokens' Q8XK rows at x (xStride apart): y[t·yStride + r]
 *  for the group's `valid` rows. Each chunk is unpacked once for the 4 tokens. */
// @ts-ignore: decorator
@inline function groupTokens4(kind: i32, w: usize, x: usize, xStride: usize, blocks: i32, y: usize, yStride: usize, valid: i32): void {
  const m = nibMask(), hmask = halfMaskV(), hscale = halfScaleV();
  const b0f = byteMask0f(), ff = evenByteMask(), hm = kind == Q5_K ? v128.load(K_CONSTS, 16) : byteMask30(), lo16 = v128.load(K_CONSTS);
  const s1 = xStride, s2 = xStride << 1, s3 = xStride * 3, y1 = y + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
  const sub = subChunks(kind);
  let f0 = f32x4.splat(0), f1 = f0, f2 = f0, f3 = f0;
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    let r0 = i32x4.splat(0), r1 = r0, r2 = r0, r3 = r0;
    const xq = xb + Q8XK_QS;
    for (let s = 0; s < 256 / (8 * sub); s++) {
      const h = kind == Q4_K ? m : v128.load(p + qhAt(kind) + (<usize>s << 4));
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      const c0 = <usize>(sub * s), q = p + qsAt(kind) + c0 * CHUNK_BYTES, xa = xq + c0 * X_CHUNK;
      let v = v128.load(q);
      a0 = planesSum(kind, a0, v, h, 0, xa, m, b0f, ff, hm); fence(y, a0);
      a1 = planesSum(kind, a1, v, h, 0, xa + s1, m, b0f, ff, hm); fence(y1, a1);
      a2 = planesSum(kind, a2, v, h, 0, xa + s2, m, b0f, ff, hm); fence(y2, a2);
      a3 = planesSum(kind, a3, v, h, 0, xa + s3, m, b0f, ff, hm); fence(y3, a3);
      v = v128.load(q, 16);
      a0 = planesSum(kind, a0, v, h, 1, xa + X_CHUNK, m, b0f, ff, hm); fence(y, a0);
      a1 = planesSum(kind, a1, v, h, 1, xa + X_CHUNK + s1, m, b0f, ff, hm); fence(y1, a1);
      a2 = planesSum(kind, a2, v, h, 1, xa + X_CHUNK + s2, m, b0f, ff, hm); fence(y2, a2);
      a3 = planesSum(kind, a3, v, h, 1, xa + X_CHUNK + s3, m, b0f, ff, hm); fence(y3, a3);
      if (sub > 2) {
        v = v128.load(q, 32);
        a0 = planesSum(kind, a0, v, h, 2, xa + 2 * X_CHUNK, m, b0f, ff, hm); fence(y, a0);
        a1 = planesSum(kind, a1, v, h, 2, xa + 2 * X_CHUNK + s1, m, b0f, ff, hm); fence(y1, a1);
        a2 = planesSum(kind, a2, v, h, 2, xa + 2 * X_CHUNK + s2, m, b0f, ff, hm); fence(y2, a2);
        a3 = planesSum(kind, a3, v, h, 2, xa + 2 * X_CHUNK + s3, m, b0f, ff, hm); fence(y3, a3);
        v = v128.load(q, 48);
        a0 = planesSum(kind, a0, v, h, 3, xa + 3 * X_CHUNK, m, b0f, ff, hm); fence(y, a0);
        a1 = planesSum(kind, a1, v, h, 3, xa + 3 * X_CHUNK + s1, m, b0f, ff, hm); fence(y1, a1);
        a2 = planesSum(kind, a2, v, h, 3, xa + 3 * X_CHUNK + s2, m, b0f, ff, hm); fence(y2, a2);
        a3 = planesSum(kind, a3, v, h, 3, xa + 3 * X_CHUNK + s3, m, b0f, ff, hm); fence(y3, a3);
      }
      const sc = scalesOf(kind, scalePairs(kind, p, s >> 1), (s & 1) != 0, lo16);
      r0 = i32x4.add(r0, i32x4.mul(a0, sc)); r1 = i32x4.add(r1, i32x4.mul(a1, sc));
      r2 = i32x4.add(r2, i32x4.mul(a2, sc)); r3 = i32x4.add(r3, i32x4.mul(a3, sc));
    }
    const d = halves4At(p + (kind == Q6_K ? Q6_KX4_D : Q4_KX4_D), hmask, hscale);
    f0 = superStep(kind, f0, r0, d, p, xb, hmask, hscale);
    f1 = superStep(kind, f1, r1, d, p, xb + s1, hmask, hscale);
    f2 = superStep(kind, f2, r2, d, p, xb + s2, hmask, hscale);
    f3 = superStep(kind, f3, r3, d, p, xb + s3, hmask, hscale);
    p += blockBytes(kind); xb += Q8XK_BLOCK_BYTES;
  }
  storeRows(y, f0, valid); storeRows(y1, f1, valid); storeRows(y2, f2, valid); storeRows(y3, f3, valid);
}

// @ts-ignore: decorator
@inline function matvecX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 8, groupBytes = (<usize>blocks) * blockBytes(kind);
  for (let r = 0; r < rows; r += 4) groupToken(kind, w + (<usize>(r >> 2)) * groupBytes, xq, blocks, y + (<usize>r << 2), min(4, rows - r));
}

// @ts-ignore: decorator
@inline function matmulX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> 8, groupBytes = (<usize>blocks) * blockBytes(kind);
  const xStride = (<usize>blocks) * Q8XK_BLOCK_BYTES, yStride = <usize>ldy << 2;
  for (let r = 0; r < rows; r += 4) {
    const wg = w + (<usize>(r >> 2)) * groupBytes, yr = y + (<usize>r << 2), valid = min(4, rows - r);
    let t = 0;
    for (; t + 4 <= n; t += 4) groupTokens4(kind, wg, xq + (<usize>t) * xStride, xStride, blocks, yr + (<usize>t) * yStride, yStride, valid);
    for (; t < n; t++) groupToken(kind, wg, xq + (<usize>t) * xStride, blocks, yr + (<usize>t) * yStride, valid);
  }
}

/** y[r] = W[r,:]·x for r < rows; w: x4_bytes(type, rows, cols) bytes (repack_<type>x4); xq: cols/256 Q8XK blocks. */
export function matvec_q4_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q4_K, w, xq, y, rows, cols); }
export function matvec_q5_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q5_K, w, xq, y, rows, cols); }
export function matvec_q6_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q6_K, w, xq, y, rows, cols); }
/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/256 Q8XK blocks apart. */
export function matmul_q4_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q4_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q5_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q6_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q6_K, w, xq, y, rows, cols, n, ldy); }
