// ggml's reference quantisers and dequantisers for the legacy 32-value blocks Q4_0, Q4_1, Q5_0, Q5_1.
// Layouts (little-endian): Q4_0 f16 d, 16 B nibbles | Q4_1 f16 d, f16 m, 16 B | Q5_0 f16 d, u32 qh, 16 B |
// Q5_1 f16 d, f16 m, u32 qh, 16 B. Byte j: value j in the low nibble, value j+16 in the high nibble; bit j of qh
// is bit 4 of value j. Symmetric types: d = (signed value of largest |x|) / -8 (or -16), q = trunc(x/d + 8.5)
// clamped to 15 (31). Min types: d = (max - min) / 15 (31), m = min, q = trunc((x - min)/d + 0.5).
// Arithmetic is rounded to f32 where ggml computes in f32.
import { f32ToF16Bits, f16BitsToF32 } from '../formats/half-floats.js';

const fr = Math.fround;

export type LegacyKind = 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1';
export const LEGACY_BYTES: Record<LegacyKind, number> = { Q4_0: 18, Q4_1: 20, Q5_0: 22, Q5_1: 24 };

/** Quantise `count` values (a multiple of 32) of src from index `at` into dst (blocks back to back). */
export function quantizeLegacy(kind: LegacyKind, src: ArrayLike<number>, at: number, count: number, dst: Uint8Array): void {
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const bytes = LEGACY_BYTES[kind];
  const five = kind === 'Q5_0' || kind === 'Q5_1';
  const withMin = kind === 'Q4_1' || kind === 'Q5_1';
  const levels = five ? 31 : 15;
  const q = new Int32Array(32);
  for (let b = 0; b < count / 32; b++) {
    const x0 = at + 32 * b, o = b * bytes;
    if (withMin) {
      let min = Infinity, max = -Infinity;
      for (let j = 0; j < 32; j++) { const v = src[x0 + j]; if (v < min) min = v; if (v > max) max = v; }
      const d = fr((max - min) / levels), id = d !== 0 ? fr(1 / d) : 0;
      view.setUint16(o, f32ToF16Bits(d), true);
      view.setUint16(o + 2, f32ToF16Bits(min), true);
      for (let j = 0; j < 32; j++) q[j] = Math.min(levels, Math.trunc(fr(fr(fr(src[x0 + j] - min) * id) + 0.5)));
    } else {
      let amax = 0, max = 0;
      for (let j = 0; j < 32; j++) { const v = src[x0 + j]; if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; } }
      const d = fr(max / (five ? -16 : -8)), id = d !== 0 ? fr(1 / d) : 0;
      view.setUint16(o, f32ToF16Bits(d), true);
      const bias = five ? 16.5 : 8.5;
      for (let j = 0; j < 32; j++) q[j] = Math.min(levels, Math.trunc(fr(fr(src[x0 + j] * id) + bias)));
    }
    const qs = o + (kind === 'Q4_0' ? 2 : kind === 'Q4_1' ? 4 : kind === 'Q5_0' ? 6 : 8);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      dst[qs + j] = (q[j] & 15) | ((q[j + 16] & 15) << 4);
      qh |= ((q[j] >> 4) & 1) << j;
      qh |= ((q[j + 16] >> 4) & 1) << (j + 16);
    }
    if (five) view.setUint32(o + (withMin ? 4 : 2), qh >>> 0, true);
  }
}

/** Dequantise `count` values from blocks at src into dst from index `at` (ggml's formulas, f32). */
export function dequantizeLegacy(kind: LegacyKind, src: Uint8Array, count: number, dst: Float32Array, at = 0): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const bytes = LEGACY_BYTES[kind];
  const five = kind === 'Q5_0' || kind === 'Q5_1';
  const withMin = kind === 'Q4_1' || kind === 'Q5_1';
  const off = withMin ? 0 : five ? 16 : 8;
  for (let b = 0; b < count / 32; b++) {
    const o = b * bytes;
    const d = f16BitsToF32(view.getUint16(o, true)), m = withMin ? f16BitsToF32(view.getUint16(o + 2, true)) : 0;
    const qh = five ? view.getUint32(o + (withMin ? 4 : 2), true) : 0;
    const qs = o + (kind === 'Q4_0' ? 2 : kind === 'Q4_1' ? 4 : kind === 'Q5_0' ? 6 : 8);
    for (let j = 0; j < 16; j++) {
      const q0 = ((src[qs + j] & 15) | (((qh >>> j) & 1) << 4)) - off;
      const q1 = ((src[qs + j] >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - off;
      dst[at + 32 * b + j] = withMin ? fr(fr(q0 * d) + m) : fr(q0 * d);
      dst[at + 32 * b + j + 16] = withMin ? fr(fr(q1 * d) + m) : fr(q1 * d);
    }
  }
}
