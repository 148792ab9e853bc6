// Byte layouts of GGML's K-quant super-blocks (256 values each): field offsets, block sizes, and the one
// decoding of their packed sub-block scales and mins (scalar for the reference decoder, all at once for the
// matmul kernels). All fields little-endian; f16 is an IEEE half; q is the stored unsigned integer of a value.
//
// Q2_K (84 bytes): 16 sub-blocks of 16 values
//   off  field   type     bytes
//   0    scales  u8[16]   16    sub-block s: low nibble scale, high nibble min (4-bit integers)
//   16   qs      u8[64]   64    2 bits a value: value 128n + 32j + l is bits 2j..2j+1 of qs[32n + l] (n < 2, j < 4, l < 32)
//   80   d       f16      2     scale of the scales
//   82   dmin    f16      2     scale of the mins
//   w = d·scale·q - dmin·min
//
// Q3_K (110 bytes): 16 sub-blocks of 16 values
//   0    hmask   u8[32]   32    bit 4n + j of hmask[l] is bit 2 of value 128n + 32j + l
//   32   qs      u8[64]   64    bits 0..1 of each value, placed as in Q2_K
//   96   scales  u8[12]   12    16 scales of 6 bits, stored plus 32 (q3kScale)
//   108  d       f16      2
//   w = d·(scale - 32)·(q - 4)
//
// Q4_K (144 bytes): 8 sub-blocks of 32 values
//   0    d       f16      2
//   2    dmin    f16      2
//   4    scales  u8[12]   12    8 scales and 8 mins of 6 bits (q4kScale, q4kMin)
//   16   qs      u8[128]  128   value 64p + l is the low nibble of qs[32p + l], value 64p + 32 + l its high nibble (p < 4)
//   w = d·scale·q - dmin·min
//
// Q5_K (176 bytes): as Q4_K with one more bit a value
//   0    d       f16      2
//   2    dmin    f16      2
//   4    scales  u8[12]   12    as Q4_K (Q4_K_SCALES serves both)
//   16   qh      u8[32]   32    bit 2p of qh[l] is bit 4 of value 64p + l, bit 2p + 1 that of value 64p + 32 + l
//   48   qs      u8[128]  128   bits 0..3 of each value, placed as in Q4_K
//   w = d·scale·q - dmin·min
//
// Q6_K (210 bytes): 16 sub-blocks of 16 values
//   0    ql      u8[128]  128   bits 0..3: value 128n + 32k + l (k < 4) in ql[64n + 32(k & 1) + l], low nibble for k < 2, high for k >= 2
//   128  qh      u8[64]   64    bits 4..5: bits 2k..2k+1 of qh[32n + l]
//   192  scales  i8[16]   16    signed scale of each sub-block
//   208  d       f16      2
//   w = d·scale·(q - 32)
import { Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from './types';

export const Q2_K_BLOCK_BYTES: usize = 84;
export const Q3_K_BLOCK_BYTES: usize = 110;
export const Q4_K_BLOCK_BYTES: usize = 144;
export const Q5_K_BLOCK_BYTES: usize = 176;
export const Q6_K_BLOCK_BYTES: usize = 210;
/** Values per super-block, the same for all five. */
export const Q2_K_BLOCK_VALUES: i32 = 256;
export const Q3_K_BLOCK_VALUES: i32 = 256;
export const Q4_K_BLOCK_VALUES: i32 = 256;
export const Q5_K_BLOCK_VALUES: i32 = 256;
export const Q6_K_BLOCK_VALUES: i32 = 256;

export const Q2_K_SCALES: usize = 0;
export const Q2_K_QS: usize = 16;
export const Q2_K_D: usize = 80;
export const Q2_K_DMIN: usize = 82;

export const Q3_K_HMASK: usize = 0;
export const Q3_K_QS: usize = 32;
export const Q3_K_SCALES: usize = 96;
export const Q3_K_D: usize = 108;

export const Q4_K_D: usize = 0;
export const Q4_K_DMIN: usize = 2;
export const Q4_K_SCALES: usize = 4;
export const Q4_K_QS: usize = 16;

export const Q5_K_D: usize = 0;
export const Q5_K_DMIN: usize = 2;
export const Q5_K_QH: usize = 16;
export const Q5_K_QS: usize = 48;

export const Q6_K_QL: usize = 0;
export const Q6_K_QH: usize = 128;
export const Q6_K_SCALES: usize = 192;
export const Q6_K_D: usize = 208;

// By type id (types.ts), for code shared by the five types; called with a constant type, they fold away.

// @ts-ignore: decorator
@inline export function kquantBlockBytes(type: i32): usize {
  return type == Q2_K ? Q2_K_BLOCK_BYTES : type == Q3_K ? Q3_K_BLOCK_BYTES : type == Q4_K ? Q4_K_BLOCK_BYTES
    : type == Q5_K ? Q5_K_BLOCK_BYTES : Q6_K_BLOCK_BYTES;
}
/** Offset of the f16 scale d. */
// @ts-ignore: decorator
@inline export function kquantD(type: i32): usize {
  return type == Q2_K ? Q2_K_D : type == Q3_K ? Q3_K_D : type == Q4_K ? Q4_K_D : type == Q5_K ? Q5_K_D : Q6_K_D;
}
/** Offset of the f16 dmin (types with mins). */
// @ts-ignore: decorator
@inline export function kquantDmin(type: i32): usize { return type == Q2_K ? Q2_K_DMIN : type == Q4_K ? Q4_K_DMIN : Q5_K_DMIN; }
/** Whether the type has mins (w = d·scale·q - dmin·min) rather than an offset (w = d·scale·(q - offset)). */
// @ts-ignore: decorator
@inline export function kquantHasMins(type: i32): bool { return type == Q2_K || type == Q4_K || type == Q5_K; }
/** The offset of the types without mins: 4 (Q3_K), 32 (Q6_K). */
// @ts-ignore: decorator
@inline export function kquantOffset(type: i32): i32 { return type == Q3_K ? 4 : type == Q6_K ? 32 : 0; }
/** Offset of the 4-bit fields qs (Q4_K, Q5_K). */
// @ts-ignore: decorator
@inline export function k45Qs(type: i32): usize { return type == Q4_K ? Q4_K_QS : Q5_K_QS; }
/** Offset of the 2-bit fields qs (Q2_K, Q3_K). */
// @ts-ignore: decorator
@inline export function k23Qs(type: i32): usize { return type == Q2_K ? Q2_K_QS : Q3_K_QS; }

// ---- Q3_K scales ----
// 12 bytes hold 16 scales of 6 bits: bits 0..3 of scale s are the low nibble of byte s (s < 8) or the high
// nibble of byte s - 8 (s >= 8); bits 4..5 are bits 2(s >> 2)..2(s >> 2)+1 of byte 8 + (s & 3).

/** Scale s (0..15) of the Q3_K block at p, 32 already taken off (-32..31). */
// @ts-ignore: decorator
@inline export function q3kScale(p: usize, s: i32): i32 {
  const sc = p + Q3_K_SCALES;
  const low = s < 8 ? <i32>load<u8>(sc + (<usize>s)) & 15 : <i32>load<u8>(sc + (<usize>(s - 8))) >> 4;
  return (low | (((<i32>load<u8>(sc + 8 + (<usize>(s & 3))) >> (2 * (s >> 2))) & 3) << 4)) - 32;
}

/** All 16 Q3_K scales (32 taken off) as i8 lanes in order, four at a time from the field's three u32 words
 *  (i32 lane w holds scales 4w..4w+3). */
// @ts-ignore: decorator
@inline export function q3kScales(p: usize): v128 {
  const a = load<u32>(p, Q3_K_SCALES), b = load<u32>(p, Q3_K_SCALES + 4), c = load<u32>(p, Q3_K_SCALES + 8);
  const lo: u32 = 0x0f0f0f0f, two: u32 = 0x03030303;
  let v = i32x4.splat((a & lo) | ((c & two) << 4));
  v = i32x4.replace_lane(v, 1, (b & lo) | (((c >> 2) & two) << 4));
  v = i32x4.replace_lane(v, 2, ((a >> 4) & lo) | (((c >> 4) & two) << 4));
  v = i32x4.replace_lane(v, 3, ((b >> 4) & lo) | (((c >> 6) & two) << 4));
  return i8x16.sub(v, i8x16.splat(32));
}

// ---- Q4_K / Q5_K scales and mins ----
// 12 bytes hold 8 scales and 8 mins of 6 bits. Sub-block j < 4: scale = bits 0..5 of byte j, min = bits 0..5
// of byte j + 4. Sub-block j >= 4: bits 0..3 of the scale are the low nibble of byte j + 4 and bits 4..5 are
// bits 6..7 of byte j - 4; bits 0..3 of the min are the high nibble of byte j + 4 and bits 4..5 are bits 6..7
// of byte j. The field sits at Q4_K_SCALES in both Q4_K and Q5_K.

/** Scale of sub-block j (0..7) of the Q4_K/Q5_K block at p. */
// @ts-ignore: decorator
@inline export function q4kScale(p: usize, j: i32): i32 {
  const s = p + Q4_K_SCALES;
  if (j < 4) return <i32>load<u8>(s + (<usize>j)) & 63;
  return (<i32>load<u8>(s + (<usize>(j + 4))) & 15) | ((<i32>load<u8>(s + (<usize>(j - 4))) >> 6) << 4);
}

/** Min of sub-block j (0..7) of the Q4_K/Q5_K block at p. */
// @ts-ignore: decorator
@inline export function q4kMin(p: usize, j: i32): i32 {
  const s = p + Q4_K_SCALES;
  if (j < 4) return <i32>load<u8>(s + (<usize>(j + 4))) & 63;
  return (<i32>load<u8>(s + (<usize>(j + 4))) >> 4) | ((<i32>load<u8>(s + (<usize>j)) >> 6) << 4);
}

/** The 8 scales (u8 lanes 0..7) and 8 mins (lanes 8..15) of the Q4_K/Q5_K block at p, a u32 word at a time. */
// @ts-ignore: decorator
@inline export function q4kScalesMins(p: usize): v128 {
  const a = load<u32>(p, Q4_K_SCALES), b = load<u32>(p, Q4_K_SCALES + 4), c = load<u32>(p, Q4_K_SCALES + 8);
  const six: u32 = 0x3f3f3f3f, lo: u32 = 0x0f0f0f0f, two: u32 = 0x03030303;
  let v = i32x4.splat(a & six);
  v = i32x4.replace_lane(v, 1, (c & lo) | (((a >> 6) & two) << 4));
  v = i32x4.replace_lane(v, 2, b & six);
  v = i32x4.replace_lane(v, 3, ((c >> 4) & lo) | (((b >> 6) & two) << 4));
  return v;
}
