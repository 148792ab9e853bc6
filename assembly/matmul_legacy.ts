// Legacy 32-value block weights (ggml layouts) against Q8W activations (quant_act_wide.ts).
//   Q4_0 (18 B): f16 d, 16 B nibbles; w = d*(q-8).       Q4_1 (20 B): f16 d, f16 m, 16 B nibbles; w = d*q + m.
//   Q5_0 (22 B): f16 d, u32 qh, 16 B nibbles; w = d*(q-16). Q5_1 (24 B): f16 d, f16 m, u32 qh, 16 B; w = d*q + m.
// Byte j holds value j in its low nibble and value j+16 in its high nibble; bit j of qh is bit 4 of value j.
// Per block the unsigned integer dot S = sum q*x is exact in i32; the offsets use the activation sum sx:
//   Q4_0: d*dx*(S - 8 sx)   Q5_0: d*dx*(S - 16 sx)   Q4_1/Q5_1: d*dx*S + m*dx*sx.
// matvec and matmul take 4 rows at a time (one f32 lane per row); a tail row runs as 4 copies of itself.
import { hsum4i, halves4, dot16, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';

const Q4_0: i32 = 0, Q4_1: i32 = 1, Q5_0: i32 = 2, Q5_1: i32 = 3;
const XB: usize = 80; // Q8W block bytes

// @ts-ignore: decorator
@inline function blockBytes(kind: i32): usize { return kind == Q4_0 ? 18 : kind == Q4_1 ? 20 : kind == Q5_0 ? 22 : 24; }

/** Bit 4 of each value from the 16 qh bits in h (i16x8 splat): 16 where the lane's bit in mask m is set. */
// @ts-ignore: decorator
@inline function highBit(h: v128, m: v128): v128 {
  return v128.and(i16x8.ne(v128.and(h, m), i16x8.splat(0)), i16x8.splat(16));
}

/** Unsigned integer dot of one weight block at p with the Q8W block at x, as 4 partial i32 lanes. */
// @ts-ignore: decorator
@inline function blockDot(kind: i32, p: usize, x: usize): v128 {
  const q = p + (kind == Q4_0 ? 2 : kind == Q4_1 ? 4 : kind == Q5_0 ? 6 : 8);
  const v = v128.load(q);
  let e0 = nibLoEven(v), o0 = nibLoOdd(v), e1 = nibHiEven(v), o1 = nibHiOdd(v);
  if (kind == Q5_0 || kind == Q5_1) {
    const qh = load<u32>(p + (kind == Q5_0 ? 2 : 4));
    const h0 = i16x8.splat(<i16>qh), h1 = i16x8.splat(<i16>(qh >> 16));
    const even = i16x8(1, 4, 16, 64, 256, 1024, 4096, 16384), odd = i16x8.shl(even, 1);
    e0 = v128.or(e0, highBit(h0, even));
    o0 = v128.or(o0, highBit(h0, odd));
    e1 = v128.or(e1, highBit(h1, even));
    o1 = v128.or(o1, highBit(h1, odd));
  }
  return i32x4.add(dot16(e0, o0, x + 16), dot16(e1, o1, x + 48));
}

/** Rows w0..w3 (`blocks` blocks each) · one Q8W row x: f32x4, lane = row. */
// @ts-ignore: decorator
@inline function dot4(kind: i32, w0: usize, w1: usize, w2: usize, w3: usize, x: usize, blocks: i32): v128 {
  const wb = blockBytes(kind);
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const xb = x + (<usize>b) * XB, o = (<usize>b) * wb;
    const p0 = w0 + o, p1 = w1 + o, p2 = w2 + o, p3 = w3 + o;
    const s = hsum4i(blockDot(kind, p0, xb), blockDot(kind, p1, xb), blockDot(kind, p2, xb), blockDot(kind, p3, xb));
    const dx = load<f32>(xb), sx = load<i32>(xb, 4);
    const d = f32x4.mul(halves4(p0, p1, p2, p3), f32x4.splat(dx));
    if (kind == Q4_0 || kind == Q5_0) {
      const off = i32x4.splat(sx * (kind == Q4_0 ? 8 : 16));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(s, off)), d));
    } else {
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), d));
      acc = f32x4.add(acc, f32x4.mul(halves4(p0 + 2, p1 + 2, p2 + 2, p3 + 2), f32x4.splat(dx * <f32>sx)));
    }
  }
  return acc;
}

// @ts-ignore: decorator
@inline function matvec(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 5;
  const rowBytes = (<usize>blocks) * blockBytes(kind);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + (<usize>r) * rowBytes;
    v128.store(y + (<usize>r << 2), dot4(kind, w0, w0 + rowBytes, w0 + 2 * rowBytes, w0 + 3 * rowBytes, xq, blocks));
  }
  for (; r < rows; r++) {
    const wr = w + (<usize>r) * rowBytes;
    store<f32>(y + (<usize>r << 2), f32x4.extract_lane(dot4(kind, wr, wr, wr, wr, xq, blocks), 0));
  }
}

/** Token-major: every group of 4 rows (a few KiB, cache-resident) is applied to every token in turn. */
// @ts-ignore: decorator
@inline function matmul(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> 5;
  const rowBytes = (<usize>blocks) * blockBytes(kind);
  const xStride = (<usize>blocks) * XB, yStride = <usize>ldy << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + (<usize>r) * rowBytes;
    for (let t = 0; t < n; t++) {
      v128.store(y + (<usize>t) * yStride + (<usize>r << 2),
        dot4(kind, w0, w0 + rowBytes, w0 + 2 * rowBytes, w0 + 3 * rowBytes, xq + (<usize>t) * xStride, blocks));
    }
  }
  for (; r < rows; r++) {
    const wr = w + (<usize>r) * rowBytes;
    for (let t = 0; t < n; t++) {
      store<f32>(y + (<usize>t) * yStride + (<usize>r << 2), f32x4.extract_lane(dot4(kind, wr, wr, wr, wr, xq + (<usize>t) * xStride, blocks), 0));
    }
  }
}

/** y[r] = W[r,:]·x for r < rows; xq is cols/32 Q8W blocks. */
export function matvec_q4_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvec(Q4_0, w, xq, y, rows, cols); }
export function matvec_q4_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvec(Q4_1, w, xq, y, rows, cols); }
export function matvec_q5_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvec(Q5_0, w, xq, y, rows, cols); }
export function matvec_q5_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { matvec(Q5_1, w, xq, y, rows, cols); }

/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/32 Q8W blocks apart. */
export function matmul_q4_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmul(Q4_0, w, xq, y, rows, cols, n, ldy); }
export function matmul_q4_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmul(Q4_1, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmul(Q5_0, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { matmul(Q5_1, w, xq, y, rows, cols, n, ldy); }
