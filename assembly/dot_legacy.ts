// Q4_0 / Q4_1 / Q5_0 / Q5_1 blocks (layouts in blocks_legacy.ts) against Q8W activations (blocks_act.ts):
// the per-block steps (legacyStep1, legacyStep4) of the shared row loops in matmul_quant.ts.
//
// Per block the unsigned integer dot S = Σ q·x is exact in i32; the offsets and mins use the activation sum sx:
//   Q4_0: d·dx·(S - 8·sx)   Q5_0: d·dx·(S - 16·sx)   Q4_1 / Q5_1: d·dx·S + m·dx·sx.
import { hsum4i, halves4, dot16, halfToF32, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';
import { Q4_0 } from './types';
import { legacyD, legacyQs, legacyQh, legacyM, legacyHasQh, legacyHasMin, legacyOffset } from './blocks_legacy';
import { Q8W_D, Q8W_SUM, Q8W_QS, GROUP_BYTES } from './blocks_act';

/** Q5 bit masks, loaded once before a loop (V8 rebuilds v128 constants inside loops): the qh bit of each
 *  even value (lanes 0..7: values 0, 2, .., 14 of a half), of each odd value, and lanes of 16. */
const Q5_BITS: usize = memory.data<u16>([1, 4, 16, 64, 256, 1024, 4096, 16384,
  2, 8, 32, 128, 512, 2048, 8192, 32768, 16, 16, 16, 16, 16, 16, 16, 16], 16);

/** The loop constants of legacyStep1 / legacyStep4 (i = 1, 2, 3: the rows of Q5_BITS). */
// @ts-ignore: decorator
@inline export function legacyLoopConst(i: i32): v128 {
  return i == 1 ? v128.load(Q5_BITS) : i == 2 ? v128.load(Q5_BITS, 16) : v128.load(Q5_BITS, 32);
}

/** Bit 4 of each value from the 16 qh bits in h (i16x8 splat): 16 where the lane's bit in mask bm is set. */
// @ts-ignore: decorator
@inline function highBit(h: v128, bm: v128, c16: v128): v128 {
  return v128.and(i16x8.eq(v128.and(h, bm), bm), c16);
}

/** Unsigned integer dot of one weight block at p with the Q8W block at x, as 4 partial i32 lanes; m is
 *  nibMask(), ev/od/c16 the Q5_BITS rows (unused by Q4_0/Q4_1). */
// @ts-ignore: decorator
@inline function blockDot(kind: i32, p: usize, x: usize, m: v128, ev: v128, od: v128, c16: v128): v128 {
  const q = p + legacyQs(kind);
  const v = v128.load(q);
  let e0 = nibLoEven(v, m), o0 = nibLoOdd(v, m), e1 = nibHiEven(v, m), o1 = nibHiOdd(v);
  if (legacyHasQh(kind)) {
    const qh = p + legacyQh(kind);
    const h0 = v128.load16_splat(qh), h1 = v128.load16_splat(qh, 2);
    e0 = v128.or(e0, highBit(h0, ev, c16));
    o0 = v128.or(o0, highBit(h0, od, c16));
    e1 = v128.or(e1, highBit(h1, ev, c16));
    o1 = v128.or(o1, highBit(h1, od, c16));
  }
  return i32x4.add(dot16(e0, o0, x + Q8W_QS), dot16(e1, o1, x + Q8W_QS + GROUP_BYTES));
}

/** acc + d·dx·S for the block at p and the Q8W block x, as 4 partial f32 lanes: S less offset·sx for
 *  Q4_0 / Q5_0, a quarter of it in each lane (m = nibMask(); ev, od, c16: the loop constants;
 *  k = halfRescale()). */
// @ts-ignore: decorator
@inline export function legacyStep1(kind: i32, acc: v128, p: usize, x: usize, m: v128, ev: v128, od: v128, c16: v128, k: f32): v128 {
  let s = blockDot(kind, p, x, m, ev, od, c16);
  const dx = load<f32>(x, Q8W_D);
  if (legacyOffset(kind) != 0) s = i32x4.sub(s, i32x4.shl(v128.load32_splat(x, Q8W_SUM), kind == Q4_0 ? 1 : 2)); // sx·offset/4
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(halfToF32(<u32>load<u16>(p + legacyD(kind)), k) * dx)));
}

/** m·dx·sx of the block at p (Q4_1 / Q5_1), for the one-row kernel's scalar sum of these terms. */
// @ts-ignore: decorator
@inline export function legacyMinTerm1(kind: i32, p: usize, x: usize, k: f32): f32 {
  return halfToF32(<u32>load<u16>(p + legacyM(kind)), k) * (load<f32>(x, Q8W_D) * <f32>load<i32>(x, Q8W_SUM));
}

/** acc + d·dx·S (+ m·dx·sx for Q4_1 / Q5_1) for the blocks at p0..p3 and the Q8W block x: lane i is row i's. */
// @ts-ignore: decorator
@inline export function legacyStep4(kind: i32, acc: v128, p0: usize, p1: usize, p2: usize, p3: usize, x: usize, m: v128, ev: v128, od: v128, c16: v128): v128 {
  const s = hsum4i(blockDot(kind, p0, x, m, ev, od, c16), blockDot(kind, p1, x, m, ev, od, c16), blockDot(kind, p2, x, m, ev, od, c16), blockDot(kind, p3, x, m, ev, od, c16));
  const dx = load<f32>(x, Q8W_D), sx = load<i32>(x, Q8W_SUM), dOff = legacyD(kind);
  const d = f32x4.mul(halves4(p0 + dOff, p1 + dOff, p2 + dOff, p3 + dOff), f32x4.splat(dx));
  if (!legacyHasMin(kind)) return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(s, i32x4.splat(sx * legacyOffset(kind)))), d));
  const mOff = legacyM(kind);
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), d));
  return f32x4.add(acc, f32x4.mul(halves4(p0 + mOff, p1 + mOff, p2 + mOff, p3 + mOff), f32x4.splat(dx * <f32>sx)));
}
