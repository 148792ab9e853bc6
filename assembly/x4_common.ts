// Helpers shared by the interleaved (x4) weight kernels (matmul_x4_legacy.ts, matmul_x4_kquant.ts).
import { HALF_MASK, HALF_RESCALE } from './f16';

/** The f16-to-f32 constants as a table (V8 rebuilds a v128 constant at each use inside a loop; a vector
 *  loaded once before the loop stays in a register): i32 lanes of HALF_MASK, then f32 lanes of HALF_RESCALE. */
const HALF_CONSTS: usize = memory.data<u32>([HALF_MASK, HALF_MASK, HALF_MASK, HALF_MASK,
  reinterpret<u32>(HALF_RESCALE), reinterpret<u32>(HALF_RESCALE), reinterpret<u32>(HALF_RESCALE), reinterpret<u32>(HALF_RESCALE)], 16);
/** i32 lanes of HALF_MASK, for halves4At. */
// @ts-ignore: decorator
@inline export function halfMaskV(): v128 { return v128.load(HALF_CONSTS); }
/** f32 lanes of HALF_RESCALE, for halves4At. */
// @ts-ignore: decorator
@inline export function halfScaleV(): v128 { return v128.load(HALF_CONSTS, 16); }

/** The 4 consecutive f16 at p as f32x4 (f16.ts f16x4_from_i32 with its constants passed in). */
// @ts-ignore: decorator
@inline export function halves4At(p: usize, mask: v128, scale: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), 13), mask), scale);
}

/** Stores lanes 0..valid-1 (valid 1..4) of v as the f32 at y, y + 4, ..: the rows of a group that exist. */
// @ts-ignore: decorator
@inline export function storeRows(y: usize, v: v128, valid: i32): void {
  if (valid == 4) { v128.store(y, v); return; }
  v128.store32_lane(y, v, 0);
  if (valid > 1) v128.store32_lane(y, v, 1, 4);
  if (valid > 2) v128.store32_lane(y, v, 2, 8);
}

/** Stores lane 0 of v at y, a slot the kernel writes its result to later. TurboFan places a loop body's loads
 *  (which follow the memory effect order) ahead of its arithmetic (placed late, next to its uses), so a body
 *  with many loads spills most of them; a store of a partial result between two steps makes the first step's
 *  arithmetic come before the next step's loads, which keeps each step's values in registers. */
// @ts-ignore: decorator
@inline export function fence(y: usize, v: v128): void { v128.store32_lane(y, v, 0); }
