// Activations to Q8A blocks, the x side of the Q8_0 dot products.
// Q8A block (36 bytes) for 32 values: f32 d = amax/127, then 32 x i8 q = round-half-even(x/d).
// An all-zero block gets d = 0 and q = 0. n must be a multiple of 32.
import { laneMax } from './lanes';

/** Bytes of one Q8A block. */
export const Q8A_BLOCK_BYTES: i32 = 36;

export function quantize_q8a(x: usize, xq: usize, n: i32): void {
  const blocks = n >> 5;
  for (let b = 0; b < blocks; b++) {
    const src = x + (<usize>b << 7);
    const dst = xq + (<usize>b) * 36;
    const v0 = v128.load(src), v1 = v128.load(src, 16), v2 = v128.load(src, 32), v3 = v128.load(src, 48);
    const v4 = v128.load(src, 64), v5 = v128.load(src, 80), v6 = v128.load(src, 96), v7 = v128.load(src, 112);
    const m = f32x4.max(
      f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
      f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))));
    const amax = laneMax(m);
    const d: f32 = amax / 127;
    store<f32>(dst, d);
    if (d == 0) {
      v128.store(dst, i32x4.splat(0), 4);
      v128.store(dst, i32x4.splat(0), 20);
      continue;
    }
    const dv = f32x4.splat(d);
    const q0 = i16x8.narrow_i32x4_s(toInt(v0, dv), toInt(v1, dv));
    const q1 = i16x8.narrow_i32x4_s(toInt(v2, dv), toInt(v3, dv));
    const q2 = i16x8.narrow_i32x4_s(toInt(v4, dv), toInt(v5, dv));
    const q3 = i16x8.narrow_i32x4_s(toInt(v6, dv), toInt(v7, dv));
    v128.store(dst, i8x16.narrow_i16x8_s(q0, q1), 4);
    v128.store(dst, i8x16.narrow_i16x8_s(q2, q3), 20);
  }
}

// @ts-ignore: decorator
@inline function toInt(v: v128, d: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v, d)));
}
