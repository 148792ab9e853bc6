// One row of legacy-quant or K-quant weights to f32 (embedding lookups), scalar: value by value from the
// block layouts of blocks_legacy.ts and blocks_kquant.ts, with ggml's formulas and operation order. This is
// the reference decoding of these types, against which the kernel tests check the SIMD kernels. n values
// per row, a multiple of the block's.
import { f16_to_f32_finite } from './f16';
import { Q2_K, Q3_K, Q4_K, Q4_0, Q4_1, Q5_0, Q5_1, Q5_K, Q6_K } from './types';
import { legacyBlockBytes, legacyD, legacyM, legacyQs, legacyQh, legacyHasQh, legacyHasMin, legacyOffset } from './blocks_legacy';
import { Q2_K_SCALES, Q3_K_HMASK, Q5_K_QH, Q6_K_QL, Q6_K_QH, Q6_K_SCALES, kquantBlockBytes, kquantD, kquantDmin, kquantHasMins,
  kquantOffset, k23Qs, k45Qs, q3kScale, q4kScale, q4kMin } from './blocks_kquant';

// @ts-ignore: decorator
@inline function half(p: usize): f32 { return f16_to_f32_finite(<u32>load<u16>(p)); }
// @ts-ignore: decorator
@inline function byte(p: usize, i: i32): i32 { return <i32>load<u8>(p + <usize>i); }

/** Stored unsigned integer of value i (0..31) of a Q4_0..Q5_1 block at p, bit 4 included, offset not taken off. */
// @ts-ignore: decorator
@inline export function legacyQ(kind: i32, p: usize, i: i32): i32 {
  const qs = p + legacyQs(kind);
  const nib = i < 16 ? byte(qs, i) & 15 : byte(qs, i - 16) >> 4;
  if (!legacyHasQh(kind)) return nib;
  return nib | <i32>(((load<u32>(p + legacyQh(kind)) >> <u32>i) & 1) << 4);
}

/** Stored unsigned integer of value i (0..255) of a K-quant block at p, all its bits, offset not taken off. */
// @ts-ignore: decorator
@inline export function kquantQ(kind: i32, p: usize, i: i32): i32 {
  const n = i >> 7, l = i & 31;
  if (kind == Q2_K || kind == Q3_K) {
    const j = (i >> 5) & 3;
    const low = (byte(p + k23Qs(kind), 32 * n + l) >> (2 * j)) & 3;
    if (kind == Q2_K) return low;
    return low | (((byte(p + Q3_K_HMASK, l) >> (4 * n + j)) & 1) << 2);
  }
  if (kind == Q4_K || kind == Q5_K) {
    const pair = i >> 6, high = (i >> 5) & 1;
    const b = byte(p + k45Qs(kind), 32 * pair + l);
    const nib = high ? b >> 4 : b & 15;
    if (kind == Q4_K) return nib;
    return nib | (((byte(p + Q5_K_QH, l) >> (2 * pair + high)) & 1) << 4);
  }
  const k = (i >> 5) & 3;
  const lb = byte(p + Q6_K_QL, 64 * n + l + 32 * (k & 1));
  return (k < 2 ? lb & 15 : lb >> 4) | (((byte(p + Q6_K_QH, 32 * n + l) >> (2 * k)) & 3) << 4);
}

/** Integer scale of the sub-block holding value i of a K-quant block at p (Q3_K: 32 taken off; Q6_K: signed). */
// @ts-ignore: decorator
@inline export function kquantScale(kind: i32, p: usize, i: i32): i32 {
  if (kind == Q2_K) return byte(p + Q2_K_SCALES, i >> 4) & 15;
  if (kind == Q3_K) return q3kScale(p, i >> 4);
  if (kind == Q4_K || kind == Q5_K) return q4kScale(p, i >> 5);
  return <i32>load<i8>(p + Q6_K_SCALES + <usize>(i >> 4));
}

/** Integer min of the sub-block holding value i of a K-quant block with mins at p. */
// @ts-ignore: decorator
@inline export function kquantMin(kind: i32, p: usize, i: i32): i32 {
  if (kind == Q2_K) return byte(p + Q2_K_SCALES, i >> 4) >> 4;
  return q4kMin(p, i >> 5);
}

/** w = d·(q - offset) or d·q + m for each value of n / 32 blocks. */
// @ts-ignore: decorator
@inline function legacyRow(kind: i32, src: usize, dst: usize, n: i32): void {
  const bytes = legacyBlockBytes(kind), withMin = legacyHasMin(kind), off = legacyOffset(kind);
  for (let b = 0; b < n >> 5; b++) {
    const p = src + (<usize>b) * bytes, out = dst + (<usize>b << 7);
    const d = half(p + legacyD(kind)), m = withMin ? half(p + legacyM(kind)) : 0;
    for (let i = 0; i < 32; i++) {
      const q = legacyQ(kind, p, i) - off;
      store<f32>(out + (<usize>i << 2), withMin ? <f32>q * d + m : <f32>q * d);
    }
  }
}

/** w = d·scale·q - dmin·min or d·scale·(q - offset) for each value of n / 256 super-blocks. */
// @ts-ignore: decorator
@inline function kquantRow(kind: i32, src: usize, dst: usize, n: i32): void {
  const bytes = kquantBlockBytes(kind), off = kquantOffset(kind);
  for (let b = 0; b < n >> 8; b++) {
    const p = src + (<usize>b) * bytes, out = dst + (<usize>b << 10);
    const d = half(p + kquantD(kind)), dmin = kquantHasMins(kind) ? half(p + kquantDmin(kind)) : 0;
    for (let i = 0; i < 256; i++) {
      const sc = kquantScale(kind, p, i), q = kquantQ(kind, p, i);
      const w = kquantHasMins(kind) ? d * <f32>sc * <f32>q - dmin * <f32>kquantMin(kind, p, i) : d * <f32>sc * <f32>(q - off);
      store<f32>(out + (<usize>i << 2), w);
    }
  }
}

export function dequant_row_q4_0(src: usize, dst: usize, n: i32): void { legacyRow(Q4_0, src, dst, n); }
export function dequant_row_q4_1(src: usize, dst: usize, n: i32): void { legacyRow(Q4_1, src, dst, n); }
export function dequant_row_q5_0(src: usize, dst: usize, n: i32): void { legacyRow(Q5_0, src, dst, n); }
export function dequant_row_q5_1(src: usize, dst: usize, n: i32): void { legacyRow(Q5_1, src, dst, n); }
export function dequant_row_q2_k(src: usize, dst: usize, n: i32): void { kquantRow(Q2_K, src, dst, n); }
export function dequant_row_q3_k(src: usize, dst: usize, n: i32): void { kquantRow(Q3_K, src, dst, n); }
export function dequant_row_q4_k(src: usize, dst: usize, n: i32): void { kquantRow(Q4_K, src, dst, n); }
export function dequant_row_q5_k(src: usize, dst: usize, n: i32): void { kquantRow(Q5_K, src, dst, n); }
export function dequant_row_q6_k(src: usize, dst: usize, n: i32): void { kquantRow(Q6_K, src, dst, n); }
