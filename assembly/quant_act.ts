// Activations to Q8A blocks (blocks_act.ts), the x side of the Q8_0 dot products. n must be a multiple of 32.
import { laneMax } from './lanes';
import { toInt } from './quant_simd';
import { Q8A_BLOCK_BYTES, Q8A_D, Q8A_QS } from './blocks_act';

export function quantize_q8a(x: usize, xq: usize, n: i32): void {
  const blocks = n >> 5;
  for (let b = 0; b < blocks; b++) {
    const src = x + (<usize>b << 7);
    const dst = xq + (<usize>b) * Q8A_BLOCK_BYTES;
    const v0 = v128.load(src), v1 = v128.load(src, 16), v2 = v128.load(src, 32), v3 = v128.load(src, 48);
    const v4 = v128.load(src, 64), v5 = v128.load(src, 80), v6 = v128.load(src, 96), v7 = v128.load(src, 112);
    const m = f32x4.max(
      f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
      f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))));
    const amax = laneMax(m);
    const d: f32 = amax / 127;
    store<f32>(dst, d, Q8A_D);
    if (d == 0) {
      v128.store(dst, i32x4.splat(0), Q8A_QS);
      v128.store(dst, i32x4.splat(0), Q8A_QS + 16);
      continue;
    }
    const dv = f32x4.splat(d);
    const q0 = i16x8.narrow_i32x4_s(toInt(v0, dv), toInt(v1, dv));
    const q1 = i16x8.narrow_i32x4_s(toInt(v2, dv), toInt(v3, dv));
    const q2 = i16x8.narrow_i32x4_s(toInt(v4, dv), toInt(v5, dv));
    const q3 = i16x8.narrow_i32x4_s(toInt(v6, dv), toInt(v7, dv));
    v128.store(dst, i8x16.narrow_i16x8_s(q0, q1), Q8A_QS);
    v128.store(dst, i8x16.narrow_i16x8_s(q2, q3), Q8A_QS + 16);
  }
}
