// Float conversions, the Q8_0 quantiser, and one entry point for every quantised type (legacy types in
// quant-legacy.ts, K-quants in quant-kquants.ts), used by the converter, `sparq quantize`, the HF loader and the tests.
// f16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. bf16: the top 16 bits of an f32.
// Q8_0 block (ggml): f16 scale d, then 32 int8 q; x ≈ d·q with d = amax/127 and q = round(x/d).
import { GGMLType, ggmlTypeName, ggmlTypeInfo } from './ggml-types.js';
import { quantizeLegacy, dequantizeLegacy, type LegacyKind } from './quant-legacy.js';
import { quantizeK, dequantizeK, type KKind } from './quant-kquants.js';
import { UnsupportedError, InvalidArgumentError } from '../errors.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> f16 bits, round to nearest even; overflow goes to ±Inf, tiny values to (signed) subnormals or zero. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00; // NaN stays NaN (quiet)
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half m·2^-24: m = significand·2^(e-14), so shift the 24-bit significand right by 14-e.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h; // a carry out of the subnormal range lands exactly on the smallest normal
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may bump the exponent, up to Inf
  return h;
}

/** f16 bits -> number (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** f32 -> bf16 bits, round to nearest even (NaN kept quiet). */
export function f32ToBF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

export function f32ToF16Array(src: ArrayLike<number>, dst = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16Bits(src[i]);
  return dst;
}

export function f16ToF32Array(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) dst[i] = f16BitsToF32(src[i]);
  return dst;
}

export function bf16ToF32Array(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
  return dst;
}

/** Raw little-endian bytes of F32, F16 or BF16 values -> a new Float32Array. */
export function toF32(raw: Uint8Array, type: number): Float32Array {
  const width = type === GGMLType.F32 ? 4 : type === GGMLType.F16 || type === GGMLType.BF16 ? 2 : 0;
  if (width === 0) throw new UnsupportedError(`cannot convert ${ggmlTypeName(type)} to f32 (F32, F16, BF16 only)`);
  if (raw.length % width !== 0) throw new InvalidArgumentError(`toF32: ${raw.length} bytes is not a whole number of ${ggmlTypeName(type)} values`);
  // Copy so the typed views start aligned whatever raw's offset is.
  const bytes = raw.byteOffset % width === 0 ? raw : raw.slice();
  if (type === GGMLType.F32) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return type === GGMLType.F16 ? f16ToF32Array(halves) : bf16ToF32Array(halves);
}

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;

/**
 * Quantise `rows` rows of `cols` f32 values (cols % 32 === 0) to Q8_0 blocks, as ggml's reference
 * quantiser does: d = amax/127 in f32, q = round-half-away(x·(1/d)), d stored as f16.
 */
export function quantizeQ8_0(src: ArrayLike<number>, rows: number, cols: number, dst = new Uint8Array(rows * (cols / Q8_0_BLOCK) * Q8_0_BYTES)): Uint8Array {
  if (cols % Q8_0_BLOCK !== 0) throw new InvalidArgumentError(`Q8_0 needs a row length divisible by 32, got ${cols}`);
  if (src.length < rows * cols) throw new InvalidArgumentError(`quantizeQ8_0: ${src.length} values for ${rows}x${cols}`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const nBlocks = (rows * cols) / Q8_0_BLOCK;
  for (let b = 0; b < nBlocks; b++) {
    const x0 = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) { const a = Math.abs(src[x0 + j]); if (a > amax) amax = a; }
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const o = b * Q8_0_BYTES;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const v = Math.fround(src[x0 + j] * id);
      view.setInt8(o + 2 + j, v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }
  }
  return dst;
}

/** Q8_0 blocks -> f32 (d·q per element). */
export function dequantizeQ8_0(src: Uint8Array, n: number, dst = new Float32Array(n)): Float32Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let b = 0; b < n / Q8_0_BLOCK; b++) {
    const o = b * Q8_0_BYTES;
    const d = f16BitsToF32(view.getUint16(o, true));
    for (let j = 0; j < Q8_0_BLOCK; j++) dst[b * Q8_0_BLOCK + j] = d * view.getInt8(o + 2 + j);
  }
  return dst;
}

/** Types `quantizeRows` / `dequantizeRows` make and read, by GGML id. */
export const QUANT_KINDS: ReadonlyMap<number, string> = new Map([
  [GGMLType.Q8_0, 'Q8_0'], [GGMLType.Q4_0, 'Q4_0'], [GGMLType.Q4_1, 'Q4_1'], [GGMLType.Q5_0, 'Q5_0'], [GGMLType.Q5_1, 'Q5_1'],
  [GGMLType.Q2_K, 'Q2_K'], [GGMLType.Q3_K, 'Q3_K'], [GGMLType.Q4_K, 'Q4_K'], [GGMLType.Q5_K, 'Q5_K'], [GGMLType.Q6_K, 'Q6_K'],
]);

/** `rows` rows of `cols` f32 values to blocks of `type` (Q8_0, legacy or K-quant), with ggml's reference rules. */
export function quantizeRows(type: number, src: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  const kind = QUANT_KINDS.get(type);
  const info = ggmlTypeInfo(type);
  if (!kind || !info) throw new UnsupportedError(`cannot quantise to ${ggmlTypeName(type)}`);
  if (cols % info.blockSize !== 0) throw new InvalidArgumentError(`${kind} needs a row length divisible by ${info.blockSize}, got ${cols}`);
  if (src.length < rows * cols) throw new InvalidArgumentError(`quantizeRows: ${src.length} values for ${rows}x${cols}`);
  if (type === GGMLType.Q8_0) return quantizeQ8_0(src, rows, cols);
  const dst = new Uint8Array((rows * cols / info.blockSize) * info.bytesPerBlock);
  if (info.blockSize === 32) quantizeLegacy(kind as LegacyKind, src, 0, rows * cols, dst);
  else quantizeK(kind as KKind, src, 0, rows * cols, dst);
  return dst;
}

/** `n` values stored as `type` (F32, F16, BF16 or a type of QUANT_KINDS) to f32, with ggml's formulas. */
export function dequantizeRows(type: number, src: Uint8Array, n: number): Float32Array {
  if (type === GGMLType.F32 || type === GGMLType.F16 || type === GGMLType.BF16) return toF32(src, type);
  const kind = QUANT_KINDS.get(type);
  if (!kind) throw new UnsupportedError(`cannot dequantise ${ggmlTypeName(type)}`);
  if (type === GGMLType.Q8_0) return dequantizeQ8_0(src, n);
  const out = new Float32Array(n);
  if (ggmlTypeInfo(type)!.blockSize === 32) dequantizeLegacy(kind as LegacyKind, src, n, out);
  else dequantizeK(kind as KKind, src, n, out);
  return out;
}
