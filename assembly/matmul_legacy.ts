// Legacy 32-value block weights (ggml layouts) against Q8W activations (quant_act_wide.ts).
//   Q4_0 (18 B): f16 d, 16 B nibbles; w = d*(q-8).       Q4_1 (20 B): f16 d, f16 m, 16 B nibbles; w = d*q + m.
//   Q5_0 (22 B): f16 d, u32 qh, 16 B nibbles; w = d*(q-16). Q5_1 (24 B): f16 d, f16 m, u32 qh, 16 B; w = d*q + m.
// Byte j holds value j in its low nibble and value j+16 in its high nibble; bit j of qh is bit 4 of value j.
// Per block the unsigned integer dot S = sum q*x is exact in i32; the offsets use the activation sum sx:
//   Q4_0: d*dx*(S - 8 sx)   Q5_0: d*dx*(S - 16 sx)   Q4_1/Q5_1: d*dx*S + m*dx*sx.
// matvec takes one row at a time (dot1); matmul 4 rows at a time (one f32 lane per row), a tail row as 4 copies of itself.
import { hsum4i, halves4, dot16, nibMask, halfRescale, halfToF32, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';
import { laneSumPairs } from './lanes';

const Q4_0: i32 = 0, Q4_1: i32 = 1, Q5_0: i32 = 2, Q5_1: i32 = 3;
const XB: usize = 80; // Q8W block bytes

// @ts-ignore: decorator
@inline function blockBytes(kind: i32): usize { return kind == Q4_0 ? 18 : kind == Q4_1 ? 20 : kind == Q5_0 ? 22 : 24; }

/** Q5 bit masks, loaded once before a loop (V8 rebuilds v128 constants inside loops): the qh bit of each
 *  even value (lanes 0..7: values 0, 2, .., 14 of a half), of each odd value, and lanes of 16. */
const Q5_BITS: usize = memory.data<u16>([1, 4, 16, 64, 256, 1024, 4096, 16384,
  2, 8, 32, 128, 512, 2048, 8192, 32768, 16, 16, 16, 16, 16, 16, 16, 16], 16);

/** Bit 4 of each value from the 16 qh bits in h (i16x8 splat): 16 where the lane's bit in mask bm is set. */
// @ts-ignore: decorator
@inline function highBit(h: v128, bm: v128, c16: v128): v128 {
  return v128.and(i16x8.eq(v128.and(h, bm), bm), c16);
}

/** Unsigned integer dot of one weight block at p with the Q8W block at x, as 4 partial i32 lanes; m is
 *  nibMask(), ev/od/c16 the Q5_BITS rows (unused by Q4_0/Q4_1). */
// @ts-ignore: decorator
@inline function blockDot(kind: i32, p: usize, x: usize, m: v128, ev: v128, od: v128, c16: v128): v128 {
  const q = p + (kind == Q4_0 ? 2 : kind == Q4_1 ? 4 : kind == Q5_0 ? 6 : 8);
  const v = v128.load(q);
  let e0 = nibLoEven(v, m), o0 = nibLoOdd(v, m), e1 = nibHiEven(v, m), o1 = nibHiOdd(v);
  if (kind == Q5_0 || kind == Q5_1) {
    const qh = p + (kind == Q5_0 ? 2 : 4);
    const h0 = v128.load16_splat(qh), h1 = v128.load16_splat(qh, 2);
    e0 = v128.or(e0, highBit(h0, ev, c16));
    o0 = v128.or(o0, highBit(h0, od, c16));
    e1 = v128.or(e1, highBit(h1, ev, c16));
    o1 = v128.or(o1, highBit(h1, od, c16));
  }
  return i32x4.add(dot16(e0, o0, x + 16), dot16(e1, o1, x + 48));
}

/** Rows w0..w3 (`blocks` blocks each) · one Q8W row x: f32x4, lane = row. */
// @ts-ignore: decorator
@inline function dot4(kind: i32, w0: usize, w1: usize, w2: usize, w3: usize, x: usize, blocks: i32): v128 {
  const wb = blockBytes(kind), m = nibMask();
  const ev = v128.load(Q5_BITS), od = v128.load(Q5_BITS, 16), c16 = v128.load(Q5_BITS, 32);
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const xb = x + (<usize>b) * XB, o = (<usize>b) * wb;
    const p0 = w0 + o, p1 = w1 + o, p2 = w2 + o, p3 = w3 + o;
    const s = hsum4i(blockDot(kind, p0, xb, m, ev, od, c16), blockDot(kind, p1, xb, m, ev, od, c16), blockDot(kind, p2, xb, m, ev, od, c16), blockDot(kind, p3, xb, m, ev, od, c16));
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

/** One row (`blocks` blocks at w) · one Q8W row x, for matvec. Per block the 4 partial i32 lanes of S (less
 *  a quarter of the offset term each) are converted and scaled by d*dx as f32 lanes; Q4_1/Q5_1 add m*dx*sx
 *  to a scalar. One row per pass: one sequential weight stream (neighbouring rows read side by side stream
 *  much slower) and a loop body small enough that nothing spills. */
// @ts-ignore: decorator
@inline function dot1(kind: i32, w: usize, x: usize, blocks: i32): f32 {
  const wb = blockBytes(kind), m = nibMask(), k = halfRescale();
  const ev = v128.load(Q5_BITS), od = v128.load(Q5_BITS, 16), c16 = v128.load(Q5_BITS, 32);
  let acc = f32x4.splat(0);
  let accM: f32 = 0;
  let p = w, xb = x;
  const end = x + (<usize>blocks) * XB;
  while (xb < end) {
    let s = blockDot(kind, p, xb, m, ev, od, c16);
    const dx = load<f32>(xb);
    // Q4_0/Q5_0: S - off*sx, a quarter of it in each lane (off = 8, 16)
    if (kind == Q4_0 || kind == Q5_0) s = i32x4.sub(s, i32x4.shl(v128.load32_splat(xb, 4), kind == Q4_0 ? 1 : 2));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(halfToF32(<u32>load<u16>(p), k) * dx)));
    if (kind == Q4_1 || kind == Q5_1) accM += halfToF32(<u32>load<u16>(p, 2), k) * (dx * <f32>load<i32>(xb, 4));
    p += wb; xb += XB;
  }
  return (laneSumPairs(acc)) + accM;
}

// @ts-ignore: decorator
@inline function matvec(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> 5;
  const rowBytes = (<usize>blocks) * blockBytes(kind);
  for (let r = 0; r < rows; r++) store<f32>(y + (<usize>r << 2), dot1(kind, w + (<usize>r) * rowBytes, xq, blocks));
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
