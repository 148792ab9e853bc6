// Q4_0 / Q4_1 / Q5_0 / Q5_1 blocks (layouts in blocks_legacy.ts) against Q8W activations (blocks_act.ts):
// the per-block step of the one-row kernel (legacyStep1) and the one-row, four-token tile (legacyRowTokens4)
// of the shared row loops in matmul_quant.ts.
//
// The order of every (row, token) value is legacyStep1's: an f32x4 accumulator takes, for each block in
// turn, the 4 partial lanes of the block's integer dot (blockDot's lanes) times d·dx; Q4_1 / Q5_1 add
// m·(dx·sx) of each block to an f32 sum; the result is (l0 + l1) + (l2 + l3), plus that sum.
//
// Per block the unsigned integer dot S = Σ q·x is exact in i32; the offsets and mins use the activation sum sx:
//   Q4_0: d·dx·(S - 8·sx)   Q5_0: d·dx·(S - 16·sx)   Q4_1 / Q5_1: d·dx·S + m·dx·sx.
import { dot16, halfToF32, halfRescale, nibMask, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';
import { Q4_0 } from './types';
import { legacyD, legacyQs, legacyQh, legacyM, legacyHasQh, legacyHasMin, legacyOffset } from './blocks_legacy';
import { Q8W_BLOCK_BYTES, Q8W_D, Q8W_SUM, Q8W_QS, GROUP_BYTES } from './blocks_act';

/** Q5 bit masks, loaded once before a loop (V8 rebuilds v128 constants inside loops): the qh bit of each
 *  even value (lanes 0..7: values 0, 2, .., 14 of a half), of each odd value, and lanes of 16. */
const Q5_BITS: usize = memory.data<u16>([1, 4, 16, 64, 256, 1024, 4096, 16384,
  2, 8, 32, 128, 512, 2048, 8192, 32768, 16, 16, 16, 16, 16, 16, 16, 16], 16);

/** The loop constants of legacyStep1 and legacyRowTokens4 (i = 1, 2, 3: the rows of Q5_BITS). */
// @ts-ignore: decorator
@inline export function legacyLoopConst(i: i32): v128 {
  return i == 1 ? v128.load(Q5_BITS) : i == 2 ? v128.load(Q5_BITS, 16) : v128.load(Q5_BITS, 32);
}

/** Bit 4 of each value from the 16 qh bits in h (i16x8 splat): 16 where the lane's bit in mask bm is set. */
// @ts-ignore: decorator
@inline function highBit(h: v128, bm: v128, c16: v128): v128 {
  return v128.and(i16x8.eq(v128.and(h, bm), bm), c16);
}

/** Values 0..15 (lo = true) or 16..31 of the block at p as even (odd = false) or odd i16 lanes, bit 4 included:
 *  v = v128.load of qs, h = v128.load16_splat of qh's half (lo: bytes 0..1, else 2..3; unused by Q4_0/Q4_1);
 *  m is nibMask(), ev/od/c16 the Q5_BITS rows. */
// @ts-ignore: decorator
@inline function values(kind: i32, lo: bool, odd: bool, v: v128, h: v128, m: v128, ev: v128, od: v128, c16: v128): v128 {
  const q = lo ? (odd ? nibLoOdd(v, m) : nibLoEven(v, m)) : (odd ? nibHiOdd(v) : nibHiEven(v, m));
  return legacyHasQh(kind) ? v128.or(q, highBit(h, odd ? od : ev, c16)) : q;
}

/** Unsigned integer dot of one weight block at p with the Q8W block at x, as 4 partial i32 lanes; m is
 *  nibMask(), ev/od/c16 the Q5_BITS rows (unused by Q4_0/Q4_1). */
// @ts-ignore: decorator
@inline function blockDot(kind: i32, p: usize, x: usize, m: v128, ev: v128, od: v128, c16: v128): v128 {
  const v = v128.load(p + legacyQs(kind));
  const h0 = legacyHasQh(kind) ? v128.load16_splat(p + legacyQh(kind)) : v;
  const h1 = legacyHasQh(kind) ? v128.load16_splat(p + legacyQh(kind), 2) : v;
  return i32x4.add(dot16(values(kind, true, false, v, h0, m, ev, od, c16), values(kind, true, true, v, h0, m, ev, od, c16), x + Q8W_QS),
    dot16(values(kind, false, false, v, h1, m, ev, od, c16), values(kind, false, true, v, h1, m, ev, od, c16), x + Q8W_QS + GROUP_BYTES));
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

/** acc + d·dx·S' for one token's Q8W block x, the block's values (e0, o0, e1, o1) unpacked and d = its f32
 *  scale: legacyStep1's f32 steps. */
// @ts-ignore: decorator
@inline function tokenStep(kind: i32, acc: v128, e0: v128, o0: v128, e1: v128, o1: v128, x: usize, d: f32): v128 {
  let s = i32x4.add(dot16(e0, o0, x + Q8W_QS), dot16(e1, o1, x + Q8W_QS + GROUP_BYTES));
  if (legacyOffset(kind) != 0) s = i32x4.sub(s, i32x4.shl(v128.load32_splat(x, Q8W_SUM), kind == Q4_0 ? 1 : 2));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(x, Q8W_D))));
}

/** (l0 + l1) + (l2 + l3) of each of a, b, c, d (laneSumPairs' order), as the 4 lanes of the result. */
// @ts-ignore: decorator
@inline function laneSumPairs4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 2, 4, 6), i32x4.shuffle(c, d, 1, 3, 5, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

/** One row (`blocks` blocks at w) · 4 tokens' Q8W rows (at x, xStride bytes apart), each (row, token) value
 *  with the one-row kernel's steps (legacyStep1, legacyMinTerm1): lane t is token t's. Each block's values are
 *  unpacked once for the 4 tokens. */
// @ts-ignore: decorator
@inline export function legacyRowTokens4(kind: i32, w: usize, wb: usize, x: usize, xStride: usize, blocks: i32): v128 {
  const m = nibMask(), ev = legacyLoopConst(1), od = legacyLoopConst(2), c16 = legacyLoopConst(3), k = halfRescale();
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let accM = f32x4.splat(0); // Q4_1 / Q5_1: Σ m·dx·sx per token (lane t)
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    const v = v128.load(p + legacyQs(kind));
    const h0 = legacyHasQh(kind) ? v128.load16_splat(p + legacyQh(kind)) : v;
    const h1 = legacyHasQh(kind) ? v128.load16_splat(p + legacyQh(kind), 2) : v;
    const e0 = values(kind, true, false, v, h0, m, ev, od, c16), o0 = values(kind, true, true, v, h0, m, ev, od, c16);
    const e1 = values(kind, false, false, v, h1, m, ev, od, c16), o1 = values(kind, false, true, v, h1, m, ev, od, c16);
    const d = halfToF32(<u32>load<u16>(p + legacyD(kind)), k);
    a0 = tokenStep(kind, a0, e0, o0, e1, o1, xb, d);
    a1 = tokenStep(kind, a1, e0, o0, e1, o1, xb + xStride, d);
    a2 = tokenStep(kind, a2, e0, o0, e1, o1, xb + 2 * xStride, d);
    a3 = tokenStep(kind, a3, e0, o0, e1, o1, xb + 3 * xStride, d);
    if (legacyHasMin(kind)) {
      const mm = f32x4.splat(halfToF32(<u32>load<u16>(p + legacyM(kind)), k));
      let dx = v128.load32_zero(xb + Q8W_D), sx = v128.load32_zero(xb + Q8W_SUM);
      dx = v128.load32_lane(xb + xStride + Q8W_D, dx, 1); sx = v128.load32_lane(xb + xStride + Q8W_SUM, sx, 1);
      dx = v128.load32_lane(xb + 2 * xStride + Q8W_D, dx, 2); sx = v128.load32_lane(xb + 2 * xStride + Q8W_SUM, sx, 2);
      dx = v128.load32_lane(xb + 3 * xStride + Q8W_D, dx, 3); sx = v128.load32_lane(xb + 3 * xStride + Q8W_SUM, sx, 3);
      accM = f32x4.add(accM, f32x4.mul(mm, f32x4.mul(dx, f32x4.convert_i32x4_s(sx))));
    }
    p += wb; xb += Q8W_BLOCK_BYTES;
  }
  const s = laneSumPairs4(a0, a1, a2, a3);
  return legacyHasMin(kind) ? f32x4.add(s, accM) : s;
}
