// Q4_0x4 and Q8_0x4 weight kernels (interleaved groups of 4 rows, blocks_x4.ts) against Q8P activations
// (quantize_q8p): matvec (decode) and matmul (prefill). Lane r of every vector is row r of the group, so a
// block's integer sums come out one per lane, with no horizontal reduction.
//
// Every (row, token) value is computed in one order: per block in turn, the exact integer sum S (Q4_0: less
// 8·sx), then acc + f32(S)·(d·dx) in f32. matvec and matmul share the code (groupKernel with T = 1 or 4
// tokens), so each (row, token) has the same bits whichever kernel, row block or token group computes it.
//   matvec: one group at a time, all its blocks: one sequential weight stream.
//   matmul: one group against 4 tokens at a time, each chunk unpacked once for the 4; the last n % 4 tokens
//           one at a time.
import { Q4_0, Q8_0 } from './types';
import { nibMask, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';
import { Q8P_BLOCK_BYTES, Q8P_D, Q8P_SUM, Q8P_QS } from './blocks_act';
import { Q4_0X4_BLOCK_BYTES, Q4_0X4_D, Q4_0X4_QS, Q8_0X4_BLOCK_BYTES, Q8_0X4_D, Q8_0X4_QS, CHUNK_BYTES } from './blocks_x4';
import { storeRows, halves4At, halfMaskV, halfScaleV, fence } from './x4_common';

/** acc + Σ plane·pair over one Q4 chunk v against the 4 activation pairs at xa (Q8P pair order). */
// @ts-ignore: decorator
@inline function nibbleChunkDot(acc: v128, v: v128, m: v128, xa: usize): v128 {
  const a = i32x4.add(i32x4.dot_i16x8_s(nibLoEven(v, m), v128.load32_splat(xa)), i32x4.dot_i16x8_s(nibLoOdd(v, m), v128.load32_splat(xa, 4)));
  const b = i32x4.add(i32x4.dot_i16x8_s(nibHiEven(v, m), v128.load32_splat(xa, 8)), i32x4.dot_i16x8_s(nibHiOdd(v), v128.load32_splat(xa, 12)));
  return i32x4.add(acc, i32x4.add(a, b));
}

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

/** One group (`blocks` blocks at w) against T (1 or 4) tokens' Q8P rows at x (xStride apart): y[t·yStride + r]
 *  for the group's `valid` rows. */
// @ts-ignore: decorator
@inline function groupKernel(kind: i32, T: i32, w: usize, x: usize, xStride: usize, blocks: i32, y: usize, yStride: usize, valid: i32): void {
  const m = nibMask(), hm = halfMaskV(), hs = halfScaleV();
  const wb = kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES;
  let f0 = f32x4.splat(0), f1 = f0, f2 = f0, f3 = f0;
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    let s0 = i32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    const xa = xb + Q8P_QS;
    if (kind == Q4_0) {
      for (let c = 0; c < 4; c += 2) {
        const q = p + Q4_0X4_QS + (<usize>c) * CHUNK_BYTES, xc = xa + (<usize>c << 4);
        let v = v128.load(q);
        s0 = nibbleChunkDot(s0, v, m, xc);
        fence(y, s0);
        if (T > 1) {
          s1 = nibbleChunkDot(s1, v, m, xc + xStride); fence(y + yStride, s1);
          s2 = nibbleChunkDot(s2, v, m, xc + 2 * xStride); fence(y + 2 * yStride, s2);
          s3 = nibbleChunkDot(s3, v, m, xc + 3 * xStride); fence(y + 3 * yStride, s3);
        }
        v = v128.load(q, 16);
        s0 = nibbleChunkDot(s0, v, m, xc + 16);
        fence(y, s0);
        if (T > 1) {
          s1 = nibbleChunkDot(s1, v, m, xc + xStride + 16); fence(y + yStride, s1);
          s2 = nibbleChunkDot(s2, v, m, xc + 2 * xStride + 16); fence(y + 2 * yStride, s2);
          s3 = nibbleChunkDot(s3, v, m, xc + 3 * xStride + 16); fence(y + 3 * yStride, s3);
        }
      }
    } else {
      for (let c = 0; c < 8; c += 2) {
        const q = p + Q8_0X4_QS + (<usize>c) * CHUNK_BYTES, xc = xa + (<usize>c << 3);
        let v = v128.load(q), lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
        s0 = byteChunkDot(s0, lo, hi, xc);
        fence(y, s0);
        if (T > 1) {
          s1 = byteChunkDot(s1, lo, hi, xc + xStride); fence(y + yStride, s1);
          s2 = byteChunkDot(s2, lo, hi, xc + 2 * xStride); fence(y + 2 * yStride, s2);
          s3 = byteChunkDot(s3, lo, hi, xc + 3 * xStride); fence(y + 3 * yStride, s3);
        }
        v = v128.load(q, 16); lo = i16x8.extend_low_i8x16_s(v); hi = i16x8.extend_high_i8x16_s(v);
        s0 = byteChunkDot(s0, lo, hi, xc + 8);
        fence(y, s0);
        if (T > 1) {
          s1 = byteChunkDot(s1, lo, hi, xc + xStride + 8); fence(y + yStride, s1);
          s2 = byteChunkDot(s2, lo, hi, xc + 2 * xStride + 8); fence(y + 2 * yStride, s2);
          s3 = byteChunkDot(s3, lo, hi, xc + 3 * xStride + 8); fence(y + 3 * yStride, s3);
        }
      }
    }
    const d = halves4At(p + (kind == Q4_0 ? Q4_0X4_D : Q8_0X4_D), hm, hs);
    f0 = blockStep(kind, f0, s0, d, xb);
    if (T > 1) {
      f1 = blockStep(kind, f1, s1, d, xb + xStride);
      f2 = blockStep(kind, f2, s2, d, xb + 2 * xStride);
      f3 = blockStep(kind, f3, s3, d, xb + 3 * xStride);
    }
    p += wb; xb += Q8P_BLOCK_BYTES;
  }
  storeRows(y, f0, valid);
  if (T > 1) {
    storeRows(y + yStride, f1, valid);
    storeRows(y + 2 * yStride, f2, valid);
    storeRows(y + 3 * yStride, f3, valid);
  }
}

// @ts-ignore: decorator
@inline function matvecX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 5, groupBytes = (<usize>blocks) * (kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES);
  for (let r = 0; r < rows; r += 4) {
    groupKernel(kind, 1, w + (<usize>(r >> 2)) * groupBytes, xq, 0, blocks, y + (<usize>r << 2), 0, min(4, rows - r));
  }
}

// @ts-ignore: decorator
@inline function matmulX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> 5, groupBytes = (<usize>blocks) * (kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : Q8_0X4_BLOCK_BYTES);
  const xStride = (<usize>blocks) * Q8P_BLOCK_BYTES, yStride = <usize>ldy << 2;
  for (let r = 0; r < rows; r += 4) {
    const wg = w + (<usize>(r >> 2)) * groupBytes, yr = y + (<usize>r << 2), valid = min(4, rows - r);
    let t = 0;
    for (; t + 4 <= n; t += 4) groupKernel(kind, 4, wg, xq + (<usize>t) * xStride, xStride, blocks, yr + (<usize>t) * yStride, yStride, valid);
    for (; t < n; t++) groupKernel(kind, 1, wg, xq + (<usize>t) * xStride, 0, blocks, yr + (<usize>t) * yStride, 0, valid);
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
