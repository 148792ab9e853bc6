// Activations to 8-bit integers for the interleaved (x4) weight kernels: Q8P, Q8X and Q8XK blocks
// (blocks_act.ts). The values and rounding are Q8A's (quant_act.ts). Q8P stores them as i16 in pair order;
// Q8X and Q8XK do too in the portable module, and as i8 in order in the relaxed-SIMD module, whose kernels
// splat 4 consecutive i8 values (X_VALUE_BYTES).
import { laneMax, laneSumI32 } from './lanes';
import { toInt } from './quant_simd';
import { Q8P_BLOCK_BYTES, Q8P_D, Q8P_SUM, Q8P_QS, Q8XK_BLOCK_BYTES, Q8XK_D, Q8XK_SUMS16, Q8XK_SUMS32, Q8XK_QS,
  X_VALUE_BYTES } from './blocks_act';

/** 8 f32 at src quantised with scale dv, stored at dst as i16 in pair order (bytes = 2) or as i8 in order
 *  (bytes = 1); returns the i32x4 lane sums. */
// @ts-ignore: decorator
@inline function eight(src: usize, dv: v128, dst: usize, bytes: usize): v128 {
  const q0 = toInt(v128.load(src), dv), q1 = toInt(v128.load(src, 16), dv);
  const a = i16x8.narrow_i32x4_s(q0, q1);
  if (bytes == 2) v128.store(dst, i16x8.shuffle(a, a, 0, 2, 1, 3, 4, 6, 5, 7));
  else v128.store64_lane(dst, i8x16.narrow_i16x8_s(a, a), 0);
  return i32x4.add(q0, q1);
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

/** n values (a multiple of 32) at x to blocks of 32 at xq with Q8P's header and size (Q8X's too), `bytes`
 *  bytes a value. */
// @ts-ignore: decorator
@inline function blocks32(x: usize, xq: usize, n: i32, bytes: usize): void {
  for (let b = 0; b < n >> 5; b++) {
    const src = x + (<usize>b << 7), dst = xq + (<usize>b) * Q8P_BLOCK_BYTES, qs = dst + Q8P_QS;
    const d: f32 = absMax(src, 32) / 127;
    store<f32>(dst, d, Q8P_D);
    if (d == 0) {
      memory.fill(dst + 4, 0, Q8P_BLOCK_BYTES - 4);
      continue;
    }
    const dv = f32x4.splat(d);
    const s = i32x4.add(i32x4.add(eight(src, dv, qs, bytes), eight(src + 32, dv, qs + 8 * bytes, bytes)),
      i32x4.add(eight(src + 64, dv, qs + 16 * bytes, bytes), eight(src + 96, dv, qs + 24 * bytes, bytes)));
    store<i32>(dst, laneSumI32(s), Q8P_SUM);
  }
}

/** n values (a multiple of 32) at x to Q8P blocks at xq (the Q8_0x4 kernels' input). */
export function quantize_q8p(x: usize, xq: usize, n: i32): void { blocks32(x, xq, n, 2); }

/** n values (a multiple of 32) at x to Q8X blocks at xq (the Q4_0x4 kernels' input). */
export function quantize_q8x(x: usize, xq: usize, n: i32): void { blocks32(x, xq, n, X_VALUE_BYTES); }

/** n values (a multiple of 256) at x to Q8XK blocks at xq (the K-quant x4 kernels' input). */
export function quantize_q8xk(x: usize, xq: usize, n: i32): void {
  const vb = X_VALUE_BYTES;
  for (let b = 0; b < n >> 8; b++) {
    const src = x + (<usize>b << 10), dst = xq + (<usize>b) * Q8XK_BLOCK_BYTES;
    const d: f32 = absMax(src, 256) / 127;
    store<f32>(dst, d, Q8XK_D);
    if (d == 0) {
      memory.fill(dst + 4, 0, Q8XK_BLOCK_BYTES - 4);
      continue;
    }
    const dv = f32x4.splat(d);
    for (let g = 0; g < 16; g += 2) {
      const p = src + (<usize>g << 6), q = dst + Q8XK_QS + (<usize>g << 4) * vb;
      const s0 = laneSumI32(i32x4.add(eight(p, dv, q, vb), eight(p + 32, dv, q + 8 * vb, vb)));
      const s1 = laneSumI32(i32x4.add(eight(p + 64, dv, q + 16 * vb, vb), eight(p + 96, dv, q + 24 * vb, vb)));
      store<i16>(dst + Q8XK_SUMS16 + (<usize>g << 1), <i16>s0);
      store<i16>(dst + Q8XK_SUMS16 + (<usize>g << 1), <i16>s1, 2);
      store<i16>(dst + Q8XK_SUMS32 + (<usize>g), <i16>(s0 + s1));
    }
  }
}
