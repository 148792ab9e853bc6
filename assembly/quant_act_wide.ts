// Activations to 8-bit integers stored widened to i16 for the legacy-quant and K-quant kernels: Q8W and Q8KW
// blocks (blocks_act.ts). The values and rounding are Q8A's (quant_act.ts).
import { laneMax, laneSumI32 } from './lanes';
import { toInt } from './quant_simd';
import { Q8W_BLOCK_BYTES, Q8W_D, Q8W_SUM, Q8W_QS, Q8KW_BLOCK_BYTES, Q8KW_D, Q8KW_SUMS, Q8KW_QS, GROUP_BYTES } from './blocks_act';

/** 16 f32 at src quantised with scale dv and stored as an even/odd i16 group at dst; returns the i32x4 lane sums. */
// @ts-ignore: decorator
@inline function group16(src: usize, dv: v128, dst: usize): v128 {
  const q0 = toInt(v128.load(src), dv), q1 = toInt(v128.load(src, 16), dv);
  const q2 = toInt(v128.load(src, 32), dv), q3 = toInt(v128.load(src, 48), dv);
  const a = i16x8.narrow_i32x4_s(q0, q1), b = i16x8.narrow_i32x4_s(q2, q3);
  v128.store(dst, i16x8.shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14));
  v128.store(dst, i16x8.shuffle(a, b, 1, 3, 5, 7, 9, 11, 13, 15), 16);
  return i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3));
}

/** Largest |x| over n f32 at src (n a multiple of 16). */
// @ts-ignore: decorator
@inline function absMax(src: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  for (let i = 0; i < n; i += 16) {
    const p = src + (<usize>i << 2);
    m = f32x4.max(m, f32x4.max(f32x4.max(f32x4.abs(v128.load(p)), f32x4.abs(v128.load(p, 16))),
      f32x4.max(f32x4.abs(v128.load(p, 32)), f32x4.abs(v128.load(p, 48)))));
  }
  return laneMax(m);
}

/** n values (a multiple of 32) at x to Q8W blocks at xq. */
export function quantize_q8w(x: usize, xq: usize, n: i32): void {
  for (let b = 0; b < n >> 5; b++) {
    const src = x + (<usize>b << 7), dst = xq + (<usize>b) * Q8W_BLOCK_BYTES;
    const d: f32 = absMax(src, 32) / 127;
    store<f32>(dst, d, Q8W_D);
    if (d == 0) {
      memory.fill(dst + 4, 0, Q8W_BLOCK_BYTES - 4);
      continue;
    }
    const dv = f32x4.splat(d);
    const s = i32x4.add(group16(src, dv, dst + Q8W_QS), group16(src + 64, dv, dst + Q8W_QS + GROUP_BYTES));
    store<i32>(dst, laneSumI32(s), Q8W_SUM);
  }
}

/** n values (a multiple of 256) at x to Q8KW blocks at xq. */
export function quantize_q8kw(x: usize, xq: usize, n: i32): void {
  for (let b = 0; b < n >> 8; b++) {
    const src = x + (<usize>b << 10), dst = xq + (<usize>b) * Q8KW_BLOCK_BYTES;
    const d: f32 = absMax(src, 256) / 127;
    store<f32>(dst, d, Q8KW_D);
    if (d == 0) {
      memory.fill(dst + 4, 0, Q8KW_BLOCK_BYTES - 4);
      continue;
    }
    const dv = f32x4.splat(d);
    for (let g = 0; g < 16; g++) {
      const s = laneSumI32(group16(src + (<usize>g << 6), dv, dst + Q8KW_QS + (<usize>g) * GROUP_BYTES));
      const lane = ((g & 1) << 2) + ((g & 7) >> 1) + (g & 8); // position of sub-block g in permSub16 order
      store<i16>(dst + Q8KW_SUMS + (<usize>lane << 1), <i16>s);
    }
  }
}
