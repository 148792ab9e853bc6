// Helpers shared by the quantised weight kernels (matmul_quant.ts, dot_legacy.ts, dot_kquant.ts, matmul_q8_0.ts).
//
// Weight bytes are widened to i16 without an extend: 16 bytes loaded as i16x8 hold byte 2k in the low half
// and byte 2k+1 in the high half of lane k. Masking and shifting gives the even-indexed bytes' values and
// the odd-indexed bytes' values as i16 lanes. The activations (quant_act_wide.ts) are stored to match:
// every 16 consecutive values as i16 [x0, x2, .., x14] then [x1, x3, .., x15], so one dot_i16x8_s per half
// multiplies each weight with its own activation.
import { HALF_RESCALE, HALF_MASK } from './f16';

/** Sum of the 4 lanes of each of a, b, c, d (i32), as the 4 lanes of the result. */
// @ts-ignore: decorator
@inline export function hsum4i(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

/** The f16 values at p0..p3 as f32x4 (finite halves: each goes to the top of its i32 lane, then rebias). */
// @ts-ignore: decorator
@inline export function halves4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  let v = v128.load16_lane(p0, i32x4.splat(0), 1);
  v = v128.load16_lane(p1, v, 3);
  v = v128.load16_lane(p2, v, 5);
  v = v128.load16_lane(p3, v, 7);
  return f32x4.mul(v128.and(i32x4.shr_s(v, 3), i32x4.splat(<i32>HALF_MASK)), f32x4.splat(HALF_RESCALE));
}

/** i32x4 partial sums of (e · x_even) + (o · x_odd) for one 16-value activation group at xg. */
// @ts-ignore: decorator
@inline export function dot16(e: v128, o: v128, xg: usize): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(e, v128.load(xg)), i32x4.dot_i16x8_s(o, v128.load(xg, 16)));
}

/** i16 lanes of 0x0f, as a table: V8 rebuilds a v128 constant at every use inside a loop (three instructions),
 *  while a vector loaded once before the loop stays in a register. Read only (thread-safe). */
const NIB_MASK: usize = memory.data<u16>([15, 15, 15, 15, 15, 15, 15, 15], 16);
/** The 0x0f lane mask the nib* helpers take; load it before a loop. */
// @ts-ignore: decorator
@inline export function nibMask(): v128 { return v128.load(NIB_MASK); }

/** Low nibbles of the even bytes of v, as i16 lanes (m = nibMask()). */
// @ts-ignore: decorator
@inline export function nibLoEven(v: v128, m: v128): v128 { return v128.and(v, m); }
/** Low nibbles of the odd bytes. */
// @ts-ignore: decorator
@inline export function nibLoOdd(v: v128, m: v128): v128 { return v128.and(i16x8.shr_u(v, 8), m); }
/** High nibbles of the even bytes. */
// @ts-ignore: decorator
@inline export function nibHiEven(v: v128, m: v128): v128 { return v128.and(i16x8.shr_u(v, 4), m); }
/** High nibbles of the odd bytes. */
// @ts-ignore: decorator
@inline export function nibHiOdd(v: v128): v128 { return i16x8.shr_u(v, 12); }

/** Byte masks for the kernels' loops, loaded once before a loop like nibMask: lanes of 0x00ff (i16), then
 *  bytes of 0x0f and bytes of 0x30. */
const BYTE_MASKS: usize = memory.data<u8>([
  0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0,
  0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,
  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
  0x00, 0x00, 0x80, 0x77], 16); // and the f32 2^112 (f16.ts HALF_RESCALE)
/** i16 lanes of 0x00ff (the even bytes), for bytesDot. */
// @ts-ignore: decorator
@inline export function evenByteMask(): v128 { return v128.load(BYTE_MASKS); }
/** Bytes of 0x0f. */
// @ts-ignore: decorator
@inline export function byteMask0f(): v128 { return v128.load(BYTE_MASKS, 16); }
/** Bytes of 0x30. */
// @ts-ignore: decorator
@inline export function byteMask30(): v128 { return v128.load(BYTE_MASKS, 32); }
/** HALF_RESCALE (2^112) loaded from the table, so that a loop keeps it in a register. */
// @ts-ignore: decorator
@inline export function halfRescale(): f32 { return load<f32>(BYTE_MASKS, 48); }
/** f16_to_f32_finite(h) with the rescale factor passed in (k = halfRescale()): same bits, same rounding. */
// @ts-ignore: decorator
@inline export function halfToF32(h: u32, k: f32): f32 {
  return reinterpret<f32>(((<i32>(h << 16)) >> 3) & <i32>HALF_MASK) * k;
}

/** Dot of 16 small unsigned bytes (values < 128) with one activation group: even/odd split then dot16
 *  (eb = evenByteMask()). */
// @ts-ignore: decorator
@inline export function bytesDot(v: v128, xg: usize, eb: v128): v128 {
  return dot16(v128.and(v, eb), i16x8.shr_u(v, 8), xg);
}

/** Byte order of per-16 sums and scales in the K-quant kernels: for each half of 128 values, the sub-blocks
 *  0,2,4,6 then 1,3,5,7 (the order the kernels produce their partial sums in). */
// @ts-ignore: decorator
@inline export function permSub16(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
}

/** round-half-even(v / d) of four f32 lanes as i32 (activation quantisers; |v / d| <= 127 there). */
// @ts-ignore: decorator
@inline export function toInt(v: v128, d: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v, d)));
}
