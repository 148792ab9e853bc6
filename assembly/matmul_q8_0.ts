// Q8_0 weight kernels against Q8A activations (quantize_q8a; layouts in blocks_legacy.ts and blocks_act.ts).
// Per block the 32 products are summed exactly in i32 (i8 widened to i16, then i32x4.dot_i16x8_s), then
// y += d_w * d_x * isum in f32.
//
//   matvec: 4 rows per pass, a quarter of the matrix apart; the activation block is widened once for the
//           4 rows, the 4 row sums are folded into one i32x4 (one lane per row) and scaled by the 4 row
//           scales at once.
//   matmul: 4 rows x 4 tokens per pass; each widened weight vector serves 4 tokens.
import { hsum4i, halves4 } from './quant_simd';
import { Q8_0_BLOCK_BYTES, Q8_0_D, Q8_0_QS } from './blocks_legacy';
import { Q8A_BLOCK_BYTES, Q8A_D, Q8A_QS } from './blocks_act';

const WB = Q8_0_BLOCK_BYTES;
const XB = Q8A_BLOCK_BYTES;

/** The f16 scales of the Q8_0 blocks at p0..p3 as f32x4. */
// @ts-ignore: decorator
@inline function scales4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  return halves4(p0 + Q8_0_D, p1 + Q8_0_D, p2 + Q8_0_D, p3 + Q8_0_D);
}

/** Exact i32 dot of the 32 weights of block w with the widened activations (xl0, xh0, xl1, xh1), as 4 partial lanes. */
// @ts-ignore: decorator
@inline function blockDot(w: usize, xl0: v128, xh0: v128, xl1: v128, xh1: v128): v128 {
  const q0 = v128.load(w, Q8_0_QS), q1 = v128.load(w, Q8_0_QS + 16);
  const s0 = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(q0), xl0), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(q0), xh0));
  const s1 = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(q1), xl1), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(q1), xh1));
  return i32x4.add(s0, s1);
}

/** 4 rows (w0..w3, `blocks` Q8_0 blocks each) · one Q8A row x, as f32x4 (lane = row). */
// @ts-ignore: decorator
@inline function dot4rows(w0: usize, w1: usize, w2: usize, w3: usize, x: usize, blocks: i32): v128 {
  let acc = f32x4.splat(0);
  let p0 = w0, p1 = w1, p2 = w2, p3 = w3, xb = x;
  const end = x + (<usize>blocks) * XB;
  while (xb < end) {
    const x0 = v128.load(xb, Q8A_QS), x1 = v128.load(xb, Q8A_QS + 16);
    const xl0 = i16x8.extend_low_i8x16_s(x0), xh0 = i16x8.extend_high_i8x16_s(x0);
    const xl1 = i16x8.extend_low_i8x16_s(x1), xh1 = i16x8.extend_high_i8x16_s(x1);
    const s = hsum4i(blockDot(p0, xl0, xh0, xl1, xh1), blockDot(p1, xl0, xh0, xl1, xh1),
      blockDot(p2, xl0, xh0, xl1, xh1), blockDot(p3, xl0, xh0, xl1, xh1));
    const d = f32x4.mul(scales4(p0, p1, p2, p3), v128.load32_splat(xb, Q8A_D));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), d));
    p0 += WB; p1 += WB; p2 += WB; p3 += WB; xb += XB;
  }
  return acc;
}

/** y[r] = W[r,:]·x for r < rows; x is cols/32 Q8A blocks. The 4 rows of a pass are a quarter of the rows
 *  apart: a few hardware prefetch streams close together in memory (neighbouring rows) read much slower
 *  than the same streams far apart. */
export function matvec_q8_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 5;
  const rowBytes = (<usize>blocks) * WB;
  const q = rows >> 2;
  const qBytes = (<usize>q) * rowBytes;
  for (let r = 0; r < q; r++) {
    const w0 = w + (<usize>r) * rowBytes;
    const v = dot4rows(w0, w0 + qBytes, w0 + 2 * qBytes, w0 + 3 * qBytes, xq, blocks);
    const yr = y + (<usize>r << 2), qs = <usize>q << 2;
    v128.store32_lane(yr, v, 0);
    v128.store32_lane(yr + qs, v, 1);
    v128.store32_lane(yr + 2 * qs, v, 2);
    v128.store32_lane(yr + 3 * qs, v, 3);
  }
  // 0..3 rows left: lanes past the last row repeat it.
  const r0 = 4 * q;
  if (r0 < rows) {
    const last = <usize>(rows - 1);
    const w0 = w + (<usize>r0) * rowBytes;
    const v = dot4rows(w0, w + min(<usize>r0 + 1, last) * rowBytes, w + min(<usize>r0 + 2, last) * rowBytes, w0, xq, blocks);
    const yr = y + (<usize>r0 << 2);
    v128.store32_lane(yr, v, 0);
    if (r0 + 1 < rows) v128.store32_lane(yr + 4, v, 1);
    if (r0 + 2 < rows) v128.store32_lane(yr + 8, v, 2);
  }
}

/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/32 Q8A blocks apart. */
export function matmul_q8_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> 5;
  const rowBytes = (<usize>blocks) * WB;
  const xStride = (<usize>blocks) * XB;
  const yStride = <usize>ldy << 2;
  const n4 = n & ~3;
  const rows4 = rows & ~3;
  for (let r = 0; r < rows4; r += 4) {
    const w0 = w + (<usize>r) * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    for (let t = 0; t < n4; t += 4) {
      const x0 = xq + (<usize>t) * xStride;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0; // lane = row, one accumulator per token
      for (let b = 0; b < blocks; b++) {
        const o = (<usize>b) * WB;
        const p0 = w0 + o, p1 = w1 + o, p2 = w2 + o, p3 = w3 + o;
        const q00 = v128.load(p0, Q8_0_QS), q01 = v128.load(p0, Q8_0_QS + 16);
        const q10 = v128.load(p1, Q8_0_QS), q11 = v128.load(p1, Q8_0_QS + 16);
        const q20 = v128.load(p2, Q8_0_QS), q21 = v128.load(p2, Q8_0_QS + 16);
        const q30 = v128.load(p3, Q8_0_QS), q31 = v128.load(p3, Q8_0_QS + 16);
        const e0 = i16x8.extend_low_i8x16_s(q00), f0 = i16x8.extend_high_i8x16_s(q00);
        const g0 = i16x8.extend_low_i8x16_s(q01), h0 = i16x8.extend_high_i8x16_s(q01);
        const e1 = i16x8.extend_low_i8x16_s(q10), f1 = i16x8.extend_high_i8x16_s(q10);
        const g1 = i16x8.extend_low_i8x16_s(q11), h1 = i16x8.extend_high_i8x16_s(q11);
        const e2 = i16x8.extend_low_i8x16_s(q20), f2 = i16x8.extend_high_i8x16_s(q20);
        const g2 = i16x8.extend_low_i8x16_s(q21), h2 = i16x8.extend_high_i8x16_s(q21);
        const e3 = i16x8.extend_low_i8x16_s(q30), f3 = i16x8.extend_high_i8x16_s(q30);
        const g3 = i16x8.extend_low_i8x16_s(q31), h3 = i16x8.extend_high_i8x16_s(q31);
        const dw = scales4(p0, p1, p2, p3);
        const xo = (<usize>b) * XB;
        a0 = f32x4.add(a0, tokenBlock(x0 + xo, dw, e0, f0, g0, h0, e1, f1, g1, h1, e2, f2, g2, h2, e3, f3, g3, h3));
        a1 = f32x4.add(a1, tokenBlock(x0 + xStride + xo, dw, e0, f0, g0, h0, e1, f1, g1, h1, e2, f2, g2, h2, e3, f3, g3, h3));
        a2 = f32x4.add(a2, tokenBlock(x0 + 2 * xStride + xo, dw, e0, f0, g0, h0, e1, f1, g1, h1, e2, f2, g2, h2, e3, f3, g3, h3));
        a3 = f32x4.add(a3, tokenBlock(x0 + 3 * xStride + xo, dw, e0, f0, g0, h0, e1, f1, g1, h1, e2, f2, g2, h2, e3, f3, g3, h3));
      }
      const yp = y + (<usize>t) * yStride + (<usize>r << 2);
      v128.store(yp, a0);
      v128.store(yp + yStride, a1);
      v128.store(yp + 2 * yStride, a2);
      v128.store(yp + 3 * yStride, a3);
    }
    for (let t = n4; t < n; t++) {
      v128.store(y + (<usize>t) * yStride + (<usize>r << 2), dot4rows(w0, w1, w2, w3, xq + (<usize>t) * xStride, blocks));
    }
  }
  for (let r = rows4; r < rows; r++) {
    const wr = w + (<usize>r) * rowBytes;
    for (let t = 0; t < n; t++) {
      v128.store32_lane(y + (<usize>t) * yStride + (<usize>r << 2), dot4rows(wr, wr, wr, wr, xq + (<usize>t) * xStride, blocks), 0);
    }
  }
}

/** One Q8A block at xb against 4 rows' widened weights (e,f,g,h per row), scaled: f32x4, lane = row. */
// @ts-ignore: decorator
@inline function tokenBlock(xb: usize, dw: v128,
  e0: v128, f0: v128, g0: v128, h0: v128, e1: v128, f1: v128, g1: v128, h1: v128,
  e2: v128, f2: v128, g2: v128, h2: v128, e3: v128, f3: v128, g3: v128, h3: v128): v128 {
  const x0 = v128.load(xb, Q8A_QS), x1 = v128.load(xb, Q8A_QS + 16);
  const xl0 = i16x8.extend_low_i8x16_s(x0), xh0 = i16x8.extend_high_i8x16_s(x0);
  const xl1 = i16x8.extend_low_i8x16_s(x1), xh1 = i16x8.extend_high_i8x16_s(x1);
  const s = hsum4i(dot4(e0, f0, g0, h0, xl0, xh0, xl1, xh1), dot4(e1, f1, g1, h1, xl0, xh0, xl1, xh1),
    dot4(e2, f2, g2, h2, xl0, xh0, xl1, xh1), dot4(e3, f3, g3, h3, xl0, xh0, xl1, xh1));
  return f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(dw, f32x4.splat(load<f32>(xb, Q8A_D))));
}

// @ts-ignore: decorator
@inline function dot4(e: v128, f: v128, g: v128, h: v128, xl0: v128, xh0: v128, xl1: v128, xh1: v128): v128 {
  return i32x4.add(i32x4.add(i32x4.dot_i16x8_s(e, xl0), i32x4.dot_i16x8_s(f, xh0)),
    i32x4.add(i32x4.dot_i16x8_s(g, xl1), i32x4.dot_i16x8_s(h, xh1)));
}
