// One row of legacy-quant or K-quant weights to f32 (embedding lookups), scalar, with ggml's formulas and
// operation order (see matmul_legacy.ts and matmul_kquant.ts for the block layouts). n values per row.
import { f16_to_f32_finite } from './f16';

// @ts-ignore: decorator
@inline function half(p: usize): f32 { return f16_to_f32_finite(<u32>load<u16>(p)); }

/** Legacy 32-value blocks; kind 0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1. */
// @ts-ignore: decorator
@inline function legacyRow(kind: i32, src: usize, dst: usize, n: i32): void {
  const bytes: usize = kind == 0 ? 18 : kind == 1 ? 20 : kind == 2 ? 22 : 24;
  const five = kind >= 2, withMin = kind == 1 || kind == 3;
  for (let b = 0; b < n >> 5; b++) {
    const p = src + (<usize>b) * bytes, out = dst + (<usize>b << 7);
    const d = half(p), m = withMin ? half(p + 2) : 0;
    const qh: u32 = five ? load<u32>(p + (withMin ? 4 : 2)) : 0;
    const qs = p + (kind == 0 ? 2 : kind == 1 ? 4 : kind == 2 ? 6 : 8);
    const off: i32 = withMin ? 0 : five ? 16 : 8;
    for (let j = 0; j < 16; j++) {
      const byte = <i32>load<u8>(qs + j);
      const q0 = ((byte & 15) | <i32>(((qh >> j) & 1) << 4)) - off;
      const q1 = ((byte >> 4) | <i32>(((qh >> (j + 16)) & 1) << 4)) - off;
      store<f32>(out + (<usize>j << 2), withMin ? <f32>q0 * d + m : <f32>q0 * d);
      store<f32>(out + (<usize>(j + 16) << 2), withMin ? <f32>q1 * d + m : <f32>q1 * d);
    }
  }
}

export function dequant_row_q4_0(src: usize, dst: usize, n: i32): void { legacyRow(0, src, dst, n); }
export function dequant_row_q4_1(src: usize, dst: usize, n: i32): void { legacyRow(1, src, dst, n); }
export function dequant_row_q5_0(src: usize, dst: usize, n: i32): void { legacyRow(2, src, dst, n); }
export function dequant_row_q5_1(src: usize, dst: usize, n: i32): void { legacyRow(3, src, dst, n); }

export function dequant_row_q2_k(src: usize, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 8; b++) {
    const p = src + (<usize>b) * 84, out = dst + (<usize>b << 10);
    const d = half(p + 80), dmin = half(p + 82);
    for (let i = 0; i < 256; i++) {
      const n128 = i >> 7, j = (i >> 5) & 3, l = i & 31;
      const sc = <i32>load<u8>(p + (<usize>(i >> 4)));
      const q = (<i32>load<u8>(p + 16 + (<usize>(32 * n128 + l))) >> (2 * j)) & 3;
      store<f32>(out + (<usize>i << 2), d * <f32>(sc & 15) * <f32>q - dmin * <f32>(sc >> 4));
    }
  }
}

export function dequant_row_q3_k(src: usize, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 8; b++) {
    const p = src + (<usize>b) * 110, out = dst + (<usize>b << 10);
    const d = half(p + 108);
    for (let i = 0; i < 256; i++) {
      const n128 = i >> 7, j = (i >> 5) & 3, l = i & 31, s = i >> 4;
      const low = s < 8 ? <i32>load<u8>(p + 96 + (<usize>s)) & 15 : <i32>load<u8>(p + 96 + (<usize>(s - 8))) >> 4;
      const sc = (low | (((<i32>load<u8>(p + 104 + (<usize>(s & 3))) >> (2 * (s >> 2))) & 3) << 4)) - 32;
      const q = ((<i32>load<u8>(p + 32 + (<usize>(32 * n128 + l))) >> (2 * j)) & 3)
        - (((<i32>load<u8>(p + (<usize>l)) >> (4 * n128 + j)) & 1) ? 0 : 4);
      store<f32>(out + (<usize>i << 2), d * <f32>sc * <f32>q);
    }
  }
}

/** Q4_K (five = false) or Q5_K (five = true). */
// @ts-ignore: decorator
@inline function k45Row(five: bool, src: usize, dst: usize, n: i32): void {
  const bytes: usize = five ? 176 : 144;
  for (let b = 0; b < n >> 8; b++) {
    const p = src + (<usize>b) * bytes, out = dst + (<usize>b << 10);
    const d = half(p), dmin = half(p + 2), s = p + 4;
    const qs = p + (five ? 48 : 16);
    for (let i = 0; i < 256; i++) {
      const sb = i >> 5, pair = i >> 6, l = i & 31, high = (i >> 5) & 1;
      let sc: i32, m: i32;
      if (sb < 4) {
        sc = <i32>load<u8>(s + sb) & 63;
        m = <i32>load<u8>(s + sb + 4) & 63;
      } else {
        sc = (<i32>load<u8>(s + sb + 4) & 15) | ((<i32>load<u8>(s + sb - 4) >> 6) << 4);
        m = (<i32>load<u8>(s + sb + 4) >> 4) | ((<i32>load<u8>(s + sb) >> 6) << 4);
      }
      const byte = <i32>load<u8>(qs + (<usize>(32 * pair + l)));
      let q = high ? byte >> 4 : byte & 15;
      if (five) q |= ((<i32>load<u8>(p + 16 + (<usize>l)) >> (2 * pair + high)) & 1) << 4;
      store<f32>(out + (<usize>i << 2), d * <f32>sc * <f32>q - dmin * <f32>m);
    }
  }
}

export function dequant_row_q4_k(src: usize, dst: usize, n: i32): void { k45Row(false, src, dst, n); }
export function dequant_row_q5_k(src: usize, dst: usize, n: i32): void { k45Row(true, src, dst, n); }

export function dequant_row_q6_k(src: usize, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 8; b++) {
    const p = src + (<usize>b) * 210, out = dst + (<usize>b << 10);
    const d = half(p + 208);
    for (let i = 0; i < 256; i++) {
      const n128 = i >> 7, k = (i >> 5) & 3, l = i & 31;
      const lowByte = <i32>load<u8>(p + (<usize>(64 * n128 + l + 32 * (k & 1))));
      const low = k < 2 ? lowByte & 15 : lowByte >> 4;
      const top = (<i32>load<u8>(p + 128 + (<usize>(32 * n128 + l))) >> (2 * k)) & 3;
      const sc = <i32>load<i8>(p + 192 + (<usize>(i >> 4)));
      store<f32>(out + (<usize>i << 2), d * <f32>sc * <f32>((low | (top << 4)) - 32));
    }
  }
}
