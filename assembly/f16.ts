// IEEE half <-> f32, scalar and 4 lanes at a time (shared by the F16, Q8_0 and KV cache kernels).
//
// Half bits s|eeeee|mmmmmmmmmm. Placing them at bits 31 | 27..23 | 22..13 of an f32 gives an f32 whose
// exponent field is eeeee (bias 127 instead of 15) and whose mantissa is exactly the half's mantissa, so
// the value is exactly half * 2^-112, for normals and subnormals alike (half subnormals land on f32
// subnormals with the same mantissa). Multiplying by 2^112 is then exact. Inf/NaN (eeeee = 31) would come
// out as large finite numbers; weights never hold them, and the scalar version handles them anyway.

/** 2^112: rescales an f32 built from half bits (exponent bias 15) to bias 127. */
export const HALF_RESCALE: f32 = reinterpret<f32>(<u32>(127 + 112) << 23);

/** Keeps the sign (bit 31) and exponent|mantissa (bits 27..13) of a half shifted into f32 position. */
export const HALF_MASK: u32 = 0x8fffe000;

/** Exact half to f32 for every bit pattern (inf and NaN included). */
// @ts-ignore: decorator
@inline export function f16_to_f32(h: u32): f32 {
  if ((h & 0x7c00) == 0x7c00) return reinterpret<f32>(((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13));
  return f16_to_f32_finite(h);
}

/** Half to f32 for finite halves (what weights and scales hold), branch-free. */
// @ts-ignore: decorator
@inline export function f16_to_f32_finite(h: u32): f32 {
  const b = ((<i32>(h << 16)) >> 3) & <i32>HALF_MASK;
  return reinterpret<f32>(b) * HALF_RESCALE;
}

/** Lanes of i32 each holding a sign-extended half (bits 15..0) to f32 lanes. */
// @ts-ignore: decorator
@inline export function f16x4_from_i32(e: v128): v128 {
  const b = v128.and(i32x4.shl(e, 13), i32x4.splat(<i32>HALF_MASK));
  return f32x4.mul(b, f32x4.splat(HALF_RESCALE));
}

/** Halves in lanes 0..3 of an i16x8 vector to f32x4. */
// @ts-ignore: decorator
@inline export function f16x8_low(v: v128): v128 {
  return f16x4_from_i32(i32x4.extend_low_i16x8_s(v));
}

/** Halves in lanes 4..7 of an i16x8 vector to f32x4. */
// @ts-ignore: decorator
@inline export function f16x8_high(v: v128): v128 {
  return f16x4_from_i32(i32x4.extend_high_i16x8_s(v));
}

/** f32 to IEEE half bits, round to nearest even; overflow gives ±inf, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function f32_to_f16(x: f32): u32 {
  const b = reinterpret<u32>(x);
  const sign = (b >> 16) & 0x8000;
  const ef = <i32>((b >> 23) & 0xff);
  let m = b & 0x7fffff;
  if (ef == 0xff) return sign | 0x7c00 | (m != 0 ? 0x200 : 0);
  const e = ef - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = <u32>(14 - e);
    let h = m >> shift;
    const rem = m & ((<u32>1 << shift) - 1);
    const half = <u32>1 << (shift - 1);
    if (rem > half || (rem == half && (h & 1) != 0)) h++;
    return sign | h;
  }
  let h = (<u32>e << 10) | (m >> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) h++; // a carry into the exponent is still correct
  return sign | h;
}
