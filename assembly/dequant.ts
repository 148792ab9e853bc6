// One row of weights to f32 (embedding lookup). n is the number of values; for Q8_0 a multiple of 32.
import { f16x8_low, f16x8_high, f16_to_f32_finite } from './f16';
import { Q8_0_BLOCK_BYTES, Q8_0_D, Q8_0_QS } from './blocks_legacy';

export function dequant_row_f16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    const d = dst + (<usize>i << 2);
    v128.store(d, f16x8_low(v));
    v128.store(d, f16x8_high(v), 16);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), f16_to_f32_finite(<u32>load<u16>(src + (<usize>i << 1))));
}

export function dequant_row_bf16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    const d = dst + (<usize>i << 2);
    v128.store(d, i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(d, i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), reinterpret<f32>(<u32>load<u16>(src + (<usize>i << 1)) << 16));
}

/** Q8_0 blocks (blocks_legacy.ts) to d * q. */
export function dequant_row_q8_0(src: usize, dst: usize, n: i32): void {
  const blocks = n >> 5;
  for (let b = 0; b < blocks; b++) {
    const s = src + (<usize>b) * Q8_0_BLOCK_BYTES;
    const d = dst + (<usize>b << 7);
    const dv = f32x4.splat(f16_to_f32_finite(<u32>load<u16>(s, Q8_0_D)));
    const q0 = v128.load(s, Q8_0_QS), q1 = v128.load(s, Q8_0_QS + 16);
    const a = i16x8.extend_low_i8x16_s(q0), b8 = i16x8.extend_high_i8x16_s(q0);
    const c = i16x8.extend_low_i8x16_s(q1), e = i16x8.extend_high_i8x16_s(q1);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(a)), dv));
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(a)), dv), 16);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(b8)), dv), 32);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(b8)), dv), 48);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(c)), dv), 64);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(c)), dv), 80);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(e)), dv), 96);
    v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(e)), dv), 112);
  }
}
