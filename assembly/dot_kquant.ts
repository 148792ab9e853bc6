// K-quant super-blocks (layouts in blocks_kquant.ts) against Q8KW activations (blocks_act.ts): the
// per-block step (kquantStep1) of the one-row loop in matmul_quant.ts, and the activation-sum terms (rowMin,
// sumsDot) that the prefill tile (tile_kquant.ts) shares.
//
// Per super-block and row, the integer sums of each sub-block are exact in i32 (unsigned weights) and
// multiplied by their integer scales: R = Σ scale·Σ q·x. The offsets of Q3_K/Q6_K and the mins of
// Q2_K/Q4_K/Q5_K use the activation sub-block sums: Q3_K/Q6_K take offset·Σ scale·Σ x off R, and
// Q2_K/Q4_K/Q5_K form M = Σ min·Σ x. One f32 step per super-block then: y += d·dx·R, y -= dmin·dx·M.
// kquantStep1 loops over the chunks of a super-block (rowIntK4Loop, rowInt16Loop), so that one iteration
// holds few loaded vectors; R and M stay 4 partial i32 lanes until they are summed for the f32 step.
import { hsum4i, dot16, bytesDot, permSub16, evenByteMask, byteMask0f, byteMask30, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd } from './quant_simd';
import { f16_to_f32_finite } from './f16';
import { laneSumI32, laneSumsI32ToF32 } from './lanes';
import { Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from './types';
import { Q3_K_HMASK, Q6_K_QL, Q6_K_QH, Q6_K_SCALES, Q2_K_SCALES, Q5_K_QH, k23Qs, k45Qs, kquantD, kquantDmin, kquantHasMins, q3kScales, q4kScalesMins } from './blocks_kquant';
import { Q8KW_D, Q8KW_SUMS, Q8KW_QS, GROUP_BYTES } from './blocks_act';

/** Activation group g of the Q8KW block x. */
// @ts-ignore: decorator
@inline function grp(x: usize, g: i32): usize { return x + Q8KW_QS + (<usize>g << 5); }

/** Dot of the per-16 scales (signed i8 lanes, permSub16 order) with the activation per-16 sums. */
// @ts-ignore: decorator
@inline export function sumsDot(v: v128, x: usize): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), v128.load(x, Q8KW_SUMS)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), v128.load(x, Q8KW_SUMS + 16)));
}

// ---- Q2_K / Q3_K: 2-bit fields of 16 bytes (values 128n + 32j + 16h + l' for j < 4) ----

/** Sub-block sums for one (n, h) of a 2-bit type, 4 partial lanes per j, reduced to [sb j=0..3]. */
// @ts-ignore: decorator
@inline function twoBitSums(kind: i32, p: usize, x: usize, n: i32, h: i32, eb: v128): v128 {
  const q = v128.load(p + k23Qs(kind) + (<usize>(32 * n + 16 * h)));
  const hm = kind == Q3_K ? v128.load(p + Q3_K_HMASK + (<usize>(16 * h))) : i32x4.splat(0);
  const m3 = i8x16.splat(3), m4 = i8x16.splat(4);
  const g = 8 * n + h;
  let s0: v128, s1: v128, s2: v128, s3: v128;
  // j = 0..3: bits 2j of each byte; Q3_K adds bit 4n+j of hmask as 4 (value + 4 = low2 | 4*hbit).
  if (kind == Q3_K) {
    // Bits 4n..4n+3 of each byte down to 0..3 (what comes in from the high byte lands above bit 3 of the low
    // byte and never reaches bit 2 below); then bit j to bit 2.
    const hn = i16x8.shr_u(hm, 4 * n);
    s0 = bytesDot(v128.or(v128.and(q, m3), v128.and(shiftBit(hn, 0), m4)), grp(x, g), eb);
    s1 = bytesDot(v128.or(v128.and(i16x8.shr_u(q, 2), m3), v128.and(shiftBit(hn, 1), m4)), grp(x, g + 2), eb);
    s2 = bytesDot(v128.or(v128.and(i16x8.shr_u(q, 4), m3), v128.and(shiftBit(hn, 2), m4)), grp(x, g + 4), eb);
    s3 = bytesDot(v128.or(v128.and(i16x8.shr_u(q, 6), m3), v128.and(shiftBit(hn, 3), m4)), grp(x, g + 6), eb);
  } else {
    s0 = bytesDot(v128.and(q, m3), grp(x, g), eb);
    s1 = bytesDot(v128.and(i16x8.shr_u(q, 2), m3), grp(x, g + 2), eb);
    s2 = bytesDot(v128.and(i16x8.shr_u(q, 4), m3), grp(x, g + 4), eb);
    s3 = bytesDot(v128.and(i16x8.shr_u(q, 6), m3), grp(x, g + 6), eb);
  }
  return hsum4i(s0, s1, s2, s3);
}

/** Moves bit b (0..7) of every byte of v to bit 2 of that byte (other bits are garbage, masked by the caller). */
// @ts-ignore: decorator
@inline function shiftBit(v: v128, b: i32): v128 {
  return b < 2 ? i16x8.shl(v, 2 - b) : i16x8.shr_u(v, b - 2);
}

// ---- Q4_K / Q5_K: 8 sub-blocks of 32, 6-bit scales and mins packed in 12 bytes ----

// ---- Q6_K ----

/** Sub-block sums for half n, chunk h of Q6_K: [sb 8n+h, 8n+h+2, 8n+h+4, 8n+h+6]. */
// @ts-ignore: decorator
@inline function q6Sums(p: usize, x: usize, n: i32, h: i32, eb: v128, lo: v128, top: v128): v128 {
  const qa = v128.load(p + Q6_K_QL + (<usize>(64 * n + 16 * h))), qb = v128.load(p + Q6_K_QL + (<usize>(64 * n + 32 + 16 * h)));
  const qh = v128.load(p + Q6_K_QH + (<usize>(32 * n + 16 * h)));
  const g = 8 * n + h;
  const s0 = bytesDot(v128.or(v128.and(qa, lo), v128.and(i16x8.shl(qh, 4), top)), grp(x, g), eb);
  const s1 = bytesDot(v128.or(v128.and(qb, lo), v128.and(i16x8.shl(qh, 2), top)), grp(x, g + 2), eb);
  const s2 = bytesDot(v128.or(v128.and(i16x8.shr_u(qa, 4), lo), v128.and(qh, top)), grp(x, g + 4), eb);
  const s3 = bytesDot(v128.or(v128.and(i16x8.shr_u(qb, 4), lo), v128.and(i16x8.shr_u(qh, 2), top)), grp(x, g + 6), eb);
  return hsum4i(s0, s1, s2, s3);
}

/** Pair k of a Q4_K/Q5_K super-block (sub-block 2k in the low nibbles of 32 bytes, 2k+1 in the high ones)
 *  against activation groups 4k..4k+3: partial sums [2k, 2k, 2k+1, 2k+1]. Each byte is loaded once. */
// @ts-ignore: decorator
@inline function pairSums2(kind: i32, p: usize, x: usize, k: i32, m: v128): v128 {
  const qs = p + k45Qs(kind) + (<usize>k << 5);
  const v0 = v128.load(qs), v1 = v128.load(qs, 16);
  let e0 = nibLoEven(v0, m), o0 = nibLoOdd(v0, m), e1 = nibLoEven(v1, m), o1 = nibLoOdd(v1, m);
  let f0 = nibHiEven(v0, m), h0 = nibHiOdd(v0), f1 = nibHiEven(v1, m), h1 = nibHiOdd(v1);
  if (kind == Q5_K) {
    // Bit b of qh byte l: even bytes sit at bits 0..7 of a lane (shifted left 4 first), odd at 8..15.
    const b = 2 * k;
    const q0 = v128.load(p, Q5_K_QH), q1 = v128.load(p, Q5_K_QH + 16), s = i16x8.splat(16);
    const q0e = i16x8.shl(q0, 4), q1e = i16x8.shl(q1, 4);
    e0 = v128.or(e0, v128.and(i16x8.shr_u(q0e, b), s));
    o0 = v128.or(o0, v128.and(i16x8.shr_u(q0, b + 4), s));
    e1 = v128.or(e1, v128.and(i16x8.shr_u(q1e, b), s));
    o1 = v128.or(o1, v128.and(i16x8.shr_u(q1, b + 4), s));
    f0 = v128.or(f0, v128.and(i16x8.shr_u(q0e, b + 1), s));
    h0 = v128.or(h0, v128.and(i16x8.shr_u(q0, b + 5), s));
    f1 = v128.or(f1, v128.and(i16x8.shr_u(q1e, b + 1), s));
    h1 = v128.or(h1, v128.and(i16x8.shr_u(q1, b + 5), s));
  }
  const g = grp(x, 4 * k);
  const lo = i32x4.add(dot16(e0, o0, g), dot16(e1, o1, g + GROUP_BYTES));
  const hi = i32x4.add(dot16(f0, h0, g + 2 * GROUP_BYTES), dot16(f1, h1, g + 3 * GROUP_BYTES));
  return i32x4.add(i32x4.shuffle(lo, hi, 0, 1, 4, 5), i32x4.shuffle(lo, hi, 2, 3, 6, 7));
}

/** R of one Q4_K/Q5_K super-block for the one-row kernel (4 partial i32 lanes): a loop over the 4 pairs of
 *  sub-blocks, so that one iteration holds few loaded vectors (a fully unrolled super-block spills). The
 *  integer scales ride in scA (sub-blocks 2k..2k+3) and scB (the rest), moving down two lanes per pair. */
// @ts-ignore: decorator
@inline function rowIntK4Loop(kind: i32, p: usize, x: usize, m: v128): v128 {
  const sc16 = i16x8.extend_low_i8x16_u(q4kScalesMins(p));
  let scA = i32x4.extend_low_i16x8_u(sc16), scB = i32x4.extend_high_i16x8_u(sc16);
  let r = i32x4.splat(0);
  for (let k = 0; k < 4; k++) {
    r = i32x4.add(r, i32x4.mul(pairSums2(kind, p, x, k, m), i32x4.shuffle(scA, scA, 0, 0, 1, 1)));
    scA = i32x4.shuffle(scA, scB, 2, 3, 4, 5);
    scB = i32x4.shuffle(scB, scB, 2, 3, 2, 3);
  }
  return r;
}

/** R of one Q2_K/Q3_K/Q6_K super-block for the one-row kernel: a loop over the 4 chunks (n, h) of 16-byte
 *  fields (4 sub-blocks of 16 each, q6Sums/twoBitSums order), so that one iteration holds few loaded vectors;
 *  the permuted i8 scales move down 4 lanes per chunk. Q3_K/Q6_K subtract their offset (4, 32) times the
 *  scale-weighted activation sums. */
// @ts-ignore: decorator
@inline function rowInt16Loop(kind: i32, p: usize, x: usize, eb: v128, lo: v128, top: v128): v128 {
  const sc0 = kind == Q6_K ? permSub16(v128.load(p, Q6_K_SCALES))
    : kind == Q3_K ? permSub16(q3kScales(p)) : v128.and(permSub16(v128.load(p, Q2_K_SCALES)), lo); // Q2_K: low nibbles
  let sc = sc0;
  let r = i32x4.splat(0);
  for (let k = 0; k < 4; k++) {
    const n = k >> 1, h = k & 1;
    const t = kind == Q6_K ? q6Sums(p, x, n, h, eb, lo, top) : twoBitSums(kind, p, x, n, h, eb);
    r = i32x4.add(r, i32x4.mul(t, i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(sc))));
    sc = i32x4.shuffle(sc, sc, 1, 2, 3, 0);
  }
  if (kind == Q6_K) return i32x4.sub(r, i32x4.shl(sumsDot(sc0, x), 5));
  if (kind == Q3_K) return i32x4.sub(r, i32x4.shl(sumsDot(sc0, x), 2));
  return r;
}

/** Min-weighted activation sum M of one super-block (types with mins), 4 partial i32 lanes. */
// @ts-ignore: decorator
@inline export function rowMin(kind: i32, p: usize, x: usize): v128 {
  if (kind == Q2_K) return sumsDot(v128.and(i16x8.shr_u(permSub16(v128.load(p, Q2_K_SCALES)), 4), i8x16.splat(0x0f)), x);
  // Per-32 activation sums from the per-16 ones: lanes k and k+4 of each permuted half are sub-blocks 2k, 2k+1.
  const lo = v128.load(x, Q8KW_SUMS), hi = v128.load(x, Q8KW_SUMS + 16);
  const s32 = i16x8.add(i16x8.shuffle(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11), i16x8.shuffle(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15));
  return i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(q4kScalesMins(p)), s32);
}

/** The loop constants of kquantStep1 (i = 1, 2, 3: evenByteMask, byteMask0f, byteMask30). */
// @ts-ignore: decorator
@inline export function kquantLoopConst(i: i32): v128 { return i == 1 ? evenByteMask() : i == 2 ? byteMask0f() : byteMask30(); }

/** acc + d·dx·R (- dmin·dx·M for the types with mins) for the super-block at p and the Q8KW block x, with R and
 *  M summed exactly first (m = nibMask(); eb, lo, top: the loop constants). */
// @ts-ignore: decorator
@inline export function kquantStep1(kind: i32, acc: f32, p: usize, x: usize, m: v128, eb: v128, lo: v128, top: v128): f32 {
  const dx = load<f32>(x, Q8KW_D);
  const r = kind == Q4_K || kind == Q5_K ? rowIntK4Loop(kind, p, x, m) : rowInt16Loop(kind, p, x, eb, lo, top);
  const d = f16_to_f32_finite(<u32>load<u16>(p + kquantD(kind))) * dx;
  if (!kquantHasMins(kind)) return acc + <f32>laneSumI32(r) * d;
  const rm = laneSumsI32ToF32(r, rowMin(kind, p, x));
  acc += f32x4.extract_lane(rm, 0) * d;
  return acc - f32x4.extract_lane(rm, 2) * (f16_to_f32_finite(<u32>load<u16>(p + kquantDmin(kind))) * dx);
}
