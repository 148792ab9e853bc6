// Q4_0x4 and Q8_0x4 weight kernels (interleaved groups of 4 rows, blocks_x4.ts) against Q8X (quantize_q8x) and
// Q8P (quantize_q8p) activations, which share a header and size: matvec (decode) and matmul (prefill). Lane r of every vector is row r of the group, so a
// block's integer sums come out one per lane, with no horizontal reduction.
//
// Every (row, token) value is computed in one order: per block in turn, the exact integer sum S (Q4_0: less
// 8·sx), then acc + f32(S)·(d·dx) in f32 (blockStep, the one f32 step of both kernels), so each (row, token)
// has the same bits whichever kernel, row block or token group computes it.
//   matvec: one group at a time, all its blocks (one sequential weight stream), a block's chunks written out.
//   matmul: one group against 4 tokens at a time, each chunk unpacked once for the 4; the last n % 4 tokens
//           one at a time.
import { Q4_0, Q8_0 } from './types';
import { nibMask, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd, byteMask0f } from './quant_simd';
import { Q8P_BLOCK_BYTES, Q8P_D, Q8P_SUM, Q8P_QS, X_VALUE_BYTES } from './blocks_act';
import { Q4_0X4_BLOCK_BYTES, Q4_0X4_D, Q4_0X4_QS, Q8_0X4_BLOCK_BYTES, Q8_0X4_D, Q8_0X4_QS, CHUNK_BYTES } from './blocks_x4';
import { storeRows, halves4At, halfMaskV, halfScaleV, fence } from './x4_common';

/** acc + the sums of one Q4 chunk v against the chunk's 8 Q8X activations at xa. Portable: Σ plane·pair over
 *  the 4 nibble planes (m = nibMask()) and the 4 activation pairs. Relaxed SIMD: the low and the high nibbles
 *  as bytes (m = byteMask0f()) against 4 activations each, by i32x4.relaxed_dot_i8x16_i7x16_add_s (its second
 *  operand is a nibble, 0..15, so the instruction's signed and unsigned readings agree). */
// @ts-ignore: decorator
@inline function nibbleChunkDot(acc: v128, v: v128, m: v128, xa: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    acc = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load32_splat(xa), v128.and(v, m), acc);
    return i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load32_splat(xa, 4), v128.and(i16x8.shr_u(v, 4), m), acc);
  }
  const a = i32x4.add(i32x4.dot_i16x8_s(nibLoEven(v, m), v128.load32_splat(xa)), i32x4.dot_i16x8_s(nibLoOdd(v, m), v128.load32_splat(xa, 4)));
  const b = i32x4.add(i32x4.dot_i16x8_s(nibHiEven(v, m), v128.load32_splat(xa, 8)), i32x4.dot_i16x8_s(nibHiOdd(v), v128.load32_splat(xa, 12)));
  return i32x4.add(acc, i32x4.add(a, b));
}

/** The nibble mask of nibbleChunkDot: i16 lanes of 0x0f (portable) or bytes of 0x0f (relaxed SIMD). */
// @ts-ignore: decorator
@inline function chunkMask(): v128 { return ASC_FEATURE_RELAXED_SIMD ? byteMask0f() : nibMask(); }

/** Bytes of a Q4 chunk's activations in a Q8X block (8 values). */
const X_CHUNK: usize = 8 * X_VALUE_BYTES;

/** acc + the dot of the widened Q8_0x4 chunk halves (lo, hi) against the 2 activation pairs at xa. */
// @ts-ignore: decorator
@inline function byteChunkDot(acc: v128, lo: v128, hi: v128, xa: usize): v128 {
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load32_splat(xa)), i32x4.dot_i16x8_s(hi, v128.load32_splat(xa, 4))));
}

/** acc + f32(S)·(d·dx) for the exact sums s (lanes = rows; Q4_0: 8·sx taken off here), d the 4 rows' scales. */
// @ts-ignore: decorator
@inline function blockStep(kind: i32, acc: v128, s: v128, d: v128, xb: usize): v128 {
  if (kind == Q4_0) s = i32x4.sub(s, i32x4.shl(v128.load32_splat(xb, Q8P_SUM), 3));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, v128.load32_splat(xb, Q8P_D))));
}

/** acc + the sums of chunk c (a constant) of the group block at p against the activation pairs of the Q8P
 *  values at xa; the partial sum is fenced at y. */
// @ts-ignore: decorator
@inline function chunkSum(kind: i32, acc: v128, p: usize, c: i32, xa: usize, y: usize, m: v128): v128 {
  const v = v128.load(p + (kind == Q4_0 ? Q4_0X4_QS : Q8_0X4_QS) + <usize>c * CHUNK_BYTES);
  acc = kind == Q4_0 ? nibbleChunkDot(acc, v, m, xa + (<usize>c) * X_CHUNK)
    : byteChunkDot(acc, i16x8.extend_low_i8x16_s(v), i16x8.extend_high_i8x16_s(v), xa + (<usize>c << 3));
  fence(y, acc);
  return acc;
}

/** One group (`blocks` blocks at w) · one token's Q8P row x: lanes = rows, stored for the group's `valid`
 *  rows at y. A block's chunks are written out. */
// @ts-ignore: decorator
@inline function groupToken(kind: i32, w: usize, x: usize, blocks: i32, y: usize, valid: i32): void {
  const m = chunkMask(), hm = halfMaskV(), hs = halfScaleV();
  let f = f32x4.splat(0);
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    const xa = xb + Q8P_QS;
    let s = chunkSum(kind, i32x4.splat(0), p, 0, xa, y, m);
    s = chunkSum(kind, s, p, 1, xa, y, m);
    s = chunkSum(kind, s, p, 2, xa, y, m);
    s = chunkSum(kind, s, p, 3, xa, y, m);
    if (kind != Q4_0) {
      s = chunkSum(kind, s, p, 4, xa, y, m);
      s = chunkSum(kind, s, p, 5, xa, y, m);
      s = chunkSum(kind, s, p, 6, xa, y, m);
      s = chunkSum(kind, s, p, 7, xa, y, m);
    }
    f = blockStep(kind, f, s, halves4At(p + (kind == Q4_0 ? Q4_0X4_D : Q8_0X4_D), hm, hs), xb);
    p += kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES; xb += Q8P_BLOCK_BYTES;
  }
  storeRows(y, f, valid);
}

/** One group (`blocks` blocks at w) against 4 tokens' Q8P rows at x (xStride apart): y[t·yStride + r] for the
 *  group's `valid` rows. Each chunk is unpacked once for the 4 tokens. */
// @ts-ignore: decorator
@inline function groupTokens4(kind: i32, w: usize, x: usize, xStride: usize, blocks: i32, y: usize, yStride: usize, valid: i32): void {
  const m = chunkMask(), hm = halfMaskV(), hs = halfScaleV();
  const s1 = xStride, s2 = xStride << 1, s3 = xStride * 3, y1 = y + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
  let f0 = f32x4.splat(0), f1 = f0, f2 = f0, f3 = f0;
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    const xa = xb + Q8P_QS;
    if (kind == Q4_0) {
      for (let c = 0; c < 4; c++) {
        const v = v128.load(p + Q4_0X4_QS + (<usize>c) * CHUNK_BYTES), xc = xa + (<usize>c) * X_CHUNK;
        a0 = nibbleChunkDot(a0, v, m, xc); fence(y, a0);
        a1 = nibbleChunkDot(a1, v, m, xc + s1); fence(y1, a1);
        a2 = nibbleChunkDot(a2, v, m, xc + s2); fence(y2, a2);
        a3 = nibbleChunkDot(a3, v, m, xc + s3); fence(y3, a3);
      }
    } else {
      for (let c = 0; c < 8; c++) {
        const v = v128.load(p + Q8_0X4_QS + (<usize>c) * CHUNK_BYTES), xc = xa + (<usize>c << 3);
        const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
        a0 = byteChunkDot(a0, lo, hi, xc); fence(y, a0);
        a1 = byteChunkDot(a1, lo, hi, xc + s1); fence(y1, a1);
        a2 = byteChunkDot(a2, lo, hi, xc + s2); fence(y2, a2);
        a3 = byteChunkDot(a3, lo, hi, xc + s3); fence(y3, a3);
      }
    }
    const d = halves4At(p + (kind == Q4_0 ? Q4_0X4_D : Q8_0X4_D), hm, hs);
    f0 = blockStep(kind, f0, a0, d, xb);
    f1 = blockStep(kind, f1, a1, d, xb + s1);
    f2 = blockStep(kind, f2, a2, d, xb + s2);
    f3 = blockStep(kind, f3, a3, d, xb + s3);
    p += kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES; xb += Q8P_BLOCK_BYTES;
  }
  storeRows(y, f0, valid); storeRows(y1, f1, valid); storeRows(y2, f2, valid); storeRows(y3, f3, valid);
}

// @ts-ignore: decorator
@inline function matvecX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 5, groupBytes = (<usize>blocks) * (kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES);
  for (let r = 0; r < rows; r += 4) {
    groupToken(kind, w + (<usize>(r >> 2)) * groupBytes, xq, blocks, y + (<usize>r << 2), min(4, rows - r));
  }
}

// @ts-ignore: decorator
@inline function matmulX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> 5, groupBytes = (<usize>blocks) * (kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES);
  const xStride = (<usize>blocks) * Q8P_BLOCK_BYTES, yStride = <usize>ldy << 2;
  for (let r = 0; r < rows; r += 4) {
    const wg = w + (<usize>(r >> 2)) * groupBytes, yr = y + (<usize>r << 2), valid = min(4, rows - r);
    let t = 0;
    for (; t + 4 <= n; t += 4) groupTokens4(kind, wg, xq + (<usize>t) * xStride, xStride, blocks, yr + (<usize>t) * yStride, yStride, valid);
    for (; t < n; t++) groupToken(kind, wg, xq + (<usize>t) * xStride, blocks, yr + (<usize>t) * yStride, valid);
  }
}

/** y[r] = W[r,:]·x for r < rows; w: x4_bytes(Q4_0, rows, cols) bytes (repack_q4_0x4); xq: cols/32 Q8P blocks. */
export function matvec_q4_0x4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q4_0, w, xq, y, rows, cols); }
/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/32 Q8P blocks apart. */
export function matmul_q4_0x4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q4_0, w, xq, y, rows, cols, n, ldy); }
/** y[r] = W[r,:]·x for r < rows; w: x4_bytes(Q8_0, rows, cols) bytes (repack_q8_0x4); xq: cols/32 Q8P blocks. */
export function matvec_q8_0x4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q8_0, w, xq, y, rows, cols); }
/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/32 Q8P blocks apart. */
export function matmul_q8_0x4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q8_0, w, xq, y, rows, cols, n, ldy); }
