// f32 <-> f16 and bf16, bit-exact, and raw F32/F16/BF16 bytes -> f32: what the loader needs to widen HF
// norm vectors, and what the converter and the quantisers build on.
// f16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. bf16: the top 16 bits of an f32.
import { GGMLType, ggmlTypeName } from './ggml-types.js';
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
