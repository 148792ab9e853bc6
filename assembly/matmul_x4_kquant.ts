// Q4_Kx4, Q5_Kx4 and Q6_Kx4 weight kernels (interleaved groups of 4 rows, blocks_x4.ts) against Q8PK
// activations (quantize_q8pk): matvec (decode) and matmul (prefill). Lane r of every vector is row r.
//
// Per (row, token, super-block) the integer sums are exact: R = Σ scale·S (S: a sub-block's Σ q·x), for Q6_K
// less 32·Σ scale·X (X: a sub-block's activation sum), and M = Σ min·X for Q4_K / Q5_K. Then, in f32,
// acc + f32(R)·(d·dx), and for Q4_K / Q5_K minus f32(M)·(dmin·dx). matvec and matmul share the code
// (groupKernel with T = 1 or 4 tokens), so each (row, token) has the same bits whichever kernel, row block
// or token group computes it.
//   matvec: one group at a time, all its super-blocks: one sequential weight stream.
//   matmul: one group against 4 tokens at a time, each chunk unpacked once for the 4; the last n % 4 tokens
//           one at a time.
import { Q4_K, Q5_K, Q6_K } from './types';
import { nibMask, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';
import { Q8PK_BLOCK_BYTES, Q8PK_D, Q8PK_SUMS16, Q8PK_SUMS32, Q8PK_QS } from './blocks_act';
import {
  Q4_KX4_BLOCK_BYTES, Q4_KX4_D, Q4_KX4_DMIN, Q4_KX4_SCALES, Q4_KX4_MINS, Q4_KX4_QS, Q5_KX4_BLOCK_BYTES, Q5_KX4_QH,
  Q6_KX4_BLOCK_BYTES, Q6_KX4_D, Q6_KX4_SCALES, Q6_KX4_QL, Q6_KX4_QH, CHUNK_BYTES,
} from './blocks_x4';
import { storeRows, halves4At, halfMaskV, halfScaleV, fence } from './x4_common';

// @ts-ignore: decorator
@inline function blockBytes(kind: i32): usize { return kind == Q4_K ? Q4_KX4_BLOCK_BYTES : kind == Q5_K ? Q5_KX4_BLOCK_BYTES : Q6_KX4_BLOCK_BYTES; }

/** acc + Σ plane·pair for the 4 planes (p0..p3: nibble planes 0..3, high bits included) of a chunk against the
 *  4 activation pairs at xa. */
// @ts-ignore: decorator
@inline function planesDot(acc: v128, p0: v128, p1: v128, p2: v128, p3: v128, xa: usize): v128 {
  const a = i32x4.add(i32x4.dot_i16x8_s(p0, v128.load32_splat(xa)), i32x4.dot_i16x8_s(p2, v128.load32_splat(xa, 4)));
  const b = i32x4.add(i32x4.dot_i16x8_s(p1, v128.load32_splat(xa, 8)), i32x4.dot_i16x8_s(p3, v128.load32_splat(xa, 12)));
  return i32x4.add(acc, i32x4.add(a, b));
}

/** The high bits of one plane's values (bit b of every lane of the high-bit piece h, and b + 1 for Q6_K)
 *  moved to bit 4 and masked (hm: lanes of 0x10 for Q5_K, 0x30 for Q6_K). */
// @ts-ignore: decorator
@inline function highBits(h: v128, b: i32, hm: v128): v128 {
  return v128.and(b < 4 ? i16x8.shl(h, 4 - b) : b > 4 ? i16x8.shr_u(h, b - 4) : h, hm);
}

/** One group (`blocks` super-blocks at w) against T (1 or 4) tokens' Q8PK rows at x (xStride apart):
 *  y[t·yStride + r] for the group's `valid` rows. */
// @ts-ignore: decorator
@inline function groupKernel(kind: i32, T: i32, w: usize, x: usize, xStride: usize, blocks: i32, y: usize, yStride: usize, valid: i32): void {
  const m = nibMask(), hmask = halfMaskV(), hscale = halfScaleV();
  const hm = i16x8.splat(kind == Q5_K ? 0x10 : 0x30), lo16 = i32x4.splat(0xffff);
  const wb = blockBytes(kind);
  const s1 = xStride, s2 = xStride << 1, s3 = xStride * 3;
  let f0 = f32x4.splat(0), f1 = f0, f2 = f0, f3 = f0;
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    let r0 = i32x4.splat(0), r1 = r0, r2 = r0, r3 = r0; // R
    const xq = xb + Q8PK_QS;
    // sub-block s: 32 values (4 chunks) for Q4_K / Q5_K, 16 values (2 chunks) for Q6_K
    const subs = kind == Q6_K ? 16 : 8;
    for (let s = 0; s < subs; s++) {
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0; // S
      if (kind == Q6_K) {
        // chunks 2s, 2s + 1; bits 2(4e + u) of the piece h hold the top two bits of plane u of chunk e
        const c0 = <usize>(2 * s), h = v128.load(p + Q6_KX4_QH + (<usize>s << 4)), xa = xq + (c0 << 4);
        let v = v128.load(p + Q6_KX4_QL + c0 * CHUNK_BYTES);
        let q0 = v128.or(nibLoEven(v, m), highBits(h, 0, hm)), q1 = v128.or(nibHiEven(v, m), highBits(h, 2, hm));
        let q2 = v128.or(nibLoOdd(v, m), highBits(h, 4, hm)), q3 = v128.or(nibHiOdd(v), highBits(h, 6, hm));
        a0 = planesDot(a0, q0, q1, q2, q3, xa); fence(y, a0);
        if (T > 1) {
          a1 = planesDot(a1, q0, q1, q2, q3, xa + s1); fence(y + yStride, a1);
          a2 = planesDot(a2, q0, q1, q2, q3, xa + s2); fence(y + 2 * yStride, a2);
          a3 = planesDot(a3, q0, q1, q2, q3, xa + s3); fence(y + 3 * yStride, a3);
        }
        v = v128.load(p + Q6_KX4_QL + (c0 + 1) * CHUNK_BYTES);
        q0 = v128.or(nibLoEven(v, m), highBits(h, 8, hm)); q1 = v128.or(nibHiEven(v, m), highBits(h, 10, hm));
        q2 = v128.or(nibLoOdd(v, m), highBits(h, 12, hm)); q3 = v128.or(nibHiOdd(v), highBits(h, 14, hm));
        const xb1 = xa + 16;
        a0 = planesDot(a0, q0, q1, q2, q3, xb1); fence(y, a0);
        if (T > 1) {
          a1 = planesDot(a1, q0, q1, q2, q3, xb1 + s1); fence(y + yStride, a1);
          a2 = planesDot(a2, q0, q1, q2, q3, xb1 + s2); fence(y + 2 * yStride, a2);
          a3 = planesDot(a3, q0, q1, q2, q3, xb1 + s3); fence(y + 3 * yStride, a3);
        }
      } else if (kind == Q5_K) {
        // chunks 4s..4s+3; bit 4e + u of the piece h is bit 4 of plane u of chunk e
        const c0 = <usize>(4 * s), xa = xq + (c0 << 4), h = v128.load(p + Q5_KX4_QH + (<usize>s << 4));
        const q = p + Q4_KX4_QS + c0 * CHUNK_BYTES;
        let v = v128.load(q);
        let q0 = v128.or(nibLoEven(v, m), highBits(h, 0, hm)); let q1 = v128.or(nibHiEven(v, m), highBits(h, 1, hm));
        let q2 = v128.or(nibLoOdd(v, m), highBits(h, 2, hm)); let q3 = v128.or(nibHiOdd(v), highBits(h, 3, hm));
        a0 = planesDot(a0, q0, q1, q2, q3, xa); fence(y, a0);
        if (T > 1) {
          a1 = planesDot(a1, q0, q1, q2, q3, xa + s1); fence(y + yStride, a1);
          a2 = planesDot(a2, q0, q1, q2, q3, xa + s2); fence(y + 2 * yStride, a2);
          a3 = planesDot(a3, q0, q1, q2, q3, xa + s3); fence(y + 3 * yStride, a3);
        }
        v = v128.load(q, 16);
        q0 = v128.or(nibLoEven(v, m), highBits(h, 4, hm)); q1 = v128.or(nibHiEven(v, m), highBits(h, 5, hm));
        q2 = v128.or(nibLoOdd(v, m), highBits(h, 6, hm)); q3 = v128.or(nibHiOdd(v), highBits(h, 7, hm));
        a0 = planesDot(a0, q0, q1, q2, q3, xa + 16); fence(y, a0);
        if (T > 1) {
          a1 = planesDot(a1, q0, q1, q2, q3, xa + 16 + s1); fence(y + yStride, a1);
          a2 = planesDot(a2, q0, q1, q2, q3, xa + 16 + s2); fence(y + 2 * yStride, a2);
          a3 = planesDot(a3, q0, q1, q2, q3, xa + 16 + s3); fence(y + 3 * yStride, a3);
        }
        v = v128.load(q, 32);
        q0 = v128.or(nibLoEven(v, m), highBits(h, 8, hm)); q1 = v128.or(nibHiEven(v, m), highBits(h, 9, hm));
        q2 = v128.or(nibLoOdd(v, m), highBits(h, 10, hm)); q3 = v128.or(nibHiOdd(v), highBits(h, 11, hm));
        a0 = planesDot(a0, q0, q1, q2, q3, xa + 32); fence(y, a0);
        if (T > 1) {
          a1 = planesDot(a1, q0, q1, q2, q3, xa + 32 + s1); fence(y + yStride, a1);
          a2 = planesDot(a2, q0, q1, q2, q3, xa + 32 + s2); fence(y + 2 * yStride, a2);
          a3 = planesDot(a3, q0, q1, q2, q3, xa + 32 + s3); fence(y + 3 * yStride, a3);
        }
        v = v128.load(q, 48);
        q0 = v128.or(nibLoEven(v, m), highBits(h, 12, hm)); q1 = v128.or(nibHiEven(v, m), highBits(h, 13, hm));
        q2 = v128.or(nibLoOdd(v, m), highBits(h, 14, hm)); q3 = v128.or(nibHiOdd(v), highBits(h, 15, hm));
        a0 = planesDot(a0, q0, q1, q2, q3, xa + 48); fence(y, a0);
        if (T > 1) {
          a1 = planesDot(a1, q0, q1, q2, q3, xa + 48 + s1); fence(y + yStride, a1);
          a2 = planesDot(a2, q0, q1, q2, q3, xa + 48 + s2); fence(y + 2 * yStride, a2);
          a3 = planesDot(a3, q0, q1, q2, q3, xa + 48 + s3); fence(y + 3 * yStride, a3);
        }
      } else {
        const c0 = <usize>(4 * s), xa = xq + (c0 << 4);
        for (let e = 0; e < 4; e++) {
          const v = v128.load(p + Q4_KX4_QS + (c0 + <usize>e) * CHUNK_BYTES), xc = xa + (<usize>e << 4);
          const q0 = nibLoEven(v, m), q1 = nibHiEven(v, m), q2 = nibLoOdd(v, m), q3 = nibHiOdd(v);
          a0 = planesDot(a0, q0, q1, q2, q3, xc); fence(y, a0);
          if (T > 1) {
            a1 = planesDot(a1, q0, q1, q2, q3, xc + s1); fence(y + yStride, a1);
            a2 = planesDot(a2, q0, q1, q2, q3, xc + s2); fence(y + 2 * yStride, a2);
            a3 = planesDot(a3, q0, q1, q2, q3, xc + s3); fence(y + 3 * yStride, a3);
          }
        }
      }
      // this sub-block's scales (lanes = rows) from the pair layout: the low or high i16 of each i32 lane
      const pairs = kind == Q6_K ? i16x8.extend_low_i8x16_s(v128.load64_zero(p + Q6_KX4_SCALES + (<usize>(s >> 1) << 3)))
        : i16x8.extend_low_i8x16_u(v128.load64_zero(p + Q4_KX4_SCALES + (<usize>(s >> 1) << 3)));
      const sc = kind == Q6_K ? i32x4.shr_s(i32x4.shl(pairs, 16 - 16 * (s & 1)), 16) : v128.and(i32x4.shr_u(pairs, 16 * (s & 1)), lo16);
      r0 = i32x4.add(r0, i32x4.mul(a0, sc));
      if (T > 1) { r1 = i32x4.add(r1, i32x4.mul(a1, sc)); r2 = i32x4.add(r2, i32x4.mul(a2, sc)); r3 = i32x4.add(r3, i32x4.mul(a3, sc)); }
    }
    const hd = halves4At(p + (kind == Q6_K ? Q6_KX4_D : Q4_KX4_D), hmask, hscale);
    f0 = superStep(kind, f0, r0, hd, p, xb, hmask, hscale);
    if (T > 1) {
      f1 = superStep(kind, f1, r1, hd, p, xb + s1, hmask, hscale);
      f2 = superStep(kind, f2, r2, hd, p, xb + s2, hmask, hscale);
      f3 = superStep(kind, f3, r3, hd, p, xb + s3, hmask, hscale);
    }
    p += wb; xb += Q8PK_BLOCK_BYTES;
  }
  storeRows(y, f0, valid);
  if (T > 1) {
    storeRows(y + yStride, f1, valid);
    storeRows(y + 2 * yStride, f2, valid);
    storeRows(y + 3 * yStride, f3, valid);
  }
}

/** acc + f32(R)·(d·dx) (- f32(M)·(dmin·dx)) for one token's super-block: Q6_K takes 32·Σ scale·X off R first,
 *  Q4_K / Q5_K form M; both from the pair layout against the activation sums. */
// @ts-ignore: decorator
@inline function superStep(kind: i32, acc: v128, r: v128, d: v128, p: usize, xb: usize, hmask: v128, hscale: v128): v128 {
  const dx = v128.load32_splat(xb, Q8PK_D);
  if (kind == Q6_K) {
    let o = i32x4.splat(0);
    for (let k = 0; k < 8; k += 2) {
      const sc = v128.load(p + Q6_KX4_SCALES + (<usize>k << 3));
      o = i32x4.add(o, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(sc), v128.load32_splat(xb + Q8PK_SUMS16 + (<usize>k << 2))));
      o = i32x4.add(o, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(sc), v128.load32_splat(xb + Q8PK_SUMS16 + (<usize>k << 2), 4)));
    }
    r = i32x4.sub(r, i32x4.shl(o, 5));
    return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(r), f32x4.mul(d, dx)));
  }
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(r), f32x4.mul(d, dx)));
  const mn0 = v128.load(p + Q4_KX4_MINS), mn1 = v128.load(p + Q4_KX4_MINS, 16), x32 = xb + Q8PK_SUMS32;
  const mm = i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mn0), v128.load32_splat(x32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mn0), v128.load32_splat(x32, 4))),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mn1), v128.load32_splat(x32, 8)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mn1), v128.load32_splat(x32, 12))));
  const dmin = halves4At(p + Q4_KX4_DMIN, hmask, hscale);
  return f32x4.sub(acc, f32x4.mul(f32x4.convert_i32x4_s(mm), f32x4.mul(dmin, dx)));
}

// @ts-ignore: decorator
@inline function matvecX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 8, groupBytes = (<usize>blocks) * blockBytes(kind);
  for (let r = 0; r < rows; r += 4) {
    groupKernel(kind, 1, w + (<usize>(r >> 2)) * groupBytes, xq, 0, blocks, y + (<usize>r << 2), 0, min(4, rows - r));
  }
}

// @ts-ignore: decorator
@inline function matmulX4(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> 8, groupBytes = (<usize>blocks) * blockBytes(kind);
  const xStride = (<usize>blocks) * Q8PK_BLOCK_BYTES, yStride = <usize>ldy << 2;
  for (let r = 0; r < rows; r += 4) {
    const wg = w + (<usize>(r >> 2)) * groupBytes, yr = y + (<usize>r << 2), valid = min(4, rows - r);
    let t = 0;
    for (; t + 4 <= n; t += 4) groupKernel(kind, 4, wg, xq + (<usize>t) * xStride, xStride, blocks, yr + (<usize>t) * yStride, yStride, valid);
    for (; t < n; t++) groupKernel(kind, 1, wg, xq + (<usize>t) * xStride, 0, blocks, yr + (<usize>t) * yStride, 0, valid);
  }
}

/** y[r] = W[r,:]·x for r < rows; w: x4_bytes(type, rows, cols) bytes (repack_<type>x4); xq: cols/256 Q8PK blocks. */
export function matvec_q4_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q4_K, w, xq, y, rows, cols); }
export function matvec_q5_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q5_K, w, xq, y, rows, cols); }
export function matvec_q6_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvecX4(Q6_K, w, xq, y, rows, cols); }
/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/256 Q8PK blocks apart. */
export function matmul_q4_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q4_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q5_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q6_kx4(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmulX4(Q6_K, w, xq, y, rows, cols, n, ldy); }
