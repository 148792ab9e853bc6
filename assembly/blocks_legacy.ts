// Byte layouts of GGML's 32-value weight blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): field offsets and block sizes.
// All fields little-endian; f16 is an IEEE half. q is the stored unsigned integer of a value (Q8_0: signed).
//
// Q4_0 (18 bytes)                     Q4_1 (20 bytes)
//   off  field  type     bytes         off  field  type     bytes
//   0    d      f16      2             0    d      f16      2
//   2    qs     u8[16]   16            2    m      f16      2
//                                      4    qs     u8[16]   16
//   w = d·(q - 8)                       w = d·q + m
//
// Q5_0 (22 bytes)                     Q5_1 (24 bytes)
//   0    d      f16      2             0    d      f16      2
//   2    qh     u32      4             2    m      f16      2
//   6    qs     u8[16]   16            4    qh     u32      4
//                                      8    qs     u8[16]   16
//   w = d·(q - 16)                      w = d·q + m
//
// qs (4-bit types): byte j holds the low 4 bits of value j in its low nibble and those of value j + 16 in its
// high nibble. qh (5-bit types): bit j is bit 4 of value j.
//
// Q8_0 (34 bytes)
//   0    d      f16      2
//   2    qs     i8[32]   32      value j = qs[j]
//   w = d·q
import { Q4_0, Q4_1, Q5_0, Q5_1 } from './types';

export const Q4_0_BLOCK_BYTES: usize = 18;
export const Q4_1_BLOCK_BYTES: usize = 20;
export const Q5_0_BLOCK_BYTES: usize = 22;
export const Q5_1_BLOCK_BYTES: usize = 24;
export const Q8_0_BLOCK_BYTES: usize = 34;
/** Values per block, the same for all five. */
export const Q4_0_BLOCK_VALUES: i32 = 32;
export const Q4_1_BLOCK_VALUES: i32 = 32;
export const Q5_0_BLOCK_VALUES: i32 = 32;
export const Q5_1_BLOCK_VALUES: i32 = 32;
export const Q8_0_BLOCK_VALUES: i32 = 32;

export const Q4_0_D: usize = 0;
export const Q4_0_QS: usize = 2;

export const Q4_1_D: usize = 0;
export const Q4_1_M: usize = 2;
export const Q4_1_QS: usize = 4;

export const Q5_0_D: usize = 0;
export const Q5_0_QH: usize = 2;
export const Q5_0_QS: usize = 6;

export const Q5_1_D: usize = 0;
export const Q5_1_M: usize = 2;
export const Q5_1_QH: usize = 4;
export const Q5_1_QS: usize = 8;

export const Q8_0_D: usize = 0;
export const Q8_0_QS: usize = 2;

// By type id (types.ts), for code shared by the four 4- and 5-bit types; called with a constant type, they fold away.

// @ts-ignore: decorator
@inline export function legacyBlockBytes(type: i32): usize {
  return type == Q4_0 ? Q4_0_BLOCK_BYTES : type == Q4_1 ? Q4_1_BLOCK_BYTES : type == Q5_0 ? Q5_0_BLOCK_BYTES : Q5_1_BLOCK_BYTES;
}
/** Offset of d. */
// @ts-ignore: decorator
@inline export function legacyD(type: i32): usize {
  return type == Q4_0 ? Q4_0_D : type == Q4_1 ? Q4_1_D : type == Q5_0 ? Q5_0_D : Q5_1_D;
}
/** Offset of m (types with a min). */
// @ts-ignore: decorator
@inline export function legacyM(type: i32): usize { return type == Q4_1 ? Q4_1_M : Q5_1_M; }
/** Offset of qs. */
// @ts-ignore: decorator
@inline export function legacyQs(type: i32): usize {
  return type == Q4_0 ? Q4_0_QS : type == Q4_1 ? Q4_1_QS : type == Q5_0 ? Q5_0_QS : Q5_1_QS;
}
/** Offset of qh (5-bit types). */
// @ts-ignore: decorator
@inline export function legacyQh(type: i32): usize { return type == Q5_0 ? Q5_0_QH : Q5_1_QH; }
/** Whether the type has 5-bit values (a qh field). */
// @ts-ignore: decorator
@inline export function legacyHasQh(type: i32): bool { return type == Q5_0 || type == Q5_1; }
/** Whether the type has a min m (w = d·q + m) rather than an offset (w = d·(q - offset)). */
// @ts-ignore: decorator
@inline export function legacyHasMin(type: i32): bool { return type == Q4_1 || type == Q5_1; }
/** The offset of the types without a min: 8 (Q4_0), 16 (Q5_0). */
// @ts-ignore: decorator
@inline export function legacyOffset(type: i32): i32 { return type == Q4_0 ? 8 : type == Q5_0 ? 16 : 0; }
