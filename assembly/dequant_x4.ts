// One row of an interleaved (x4) matrix to f32: the embedding lookup of a repacked table (a model whose
// output projection is its token embedding reads that table as x4 for the logits). Values are read from the
// layouts of blocks_x4.ts and computed with the same f32 steps as dequant_row_<type> on the file layout, so
// both give the same bits (tests/kernels/dequant_x4.spec.ts). Scalar: one row per token.
import { f16_to_f32_finite } from './f16';
import {
  Q4_0X4_BLOCK_BYTES, Q4_0X4_D, Q4_0X4_QS, Q8_0X4_BLOCK_BYTES, Q8_0X4_D, Q8_0X4_QS,
  Q4_KX4_BLOCK_BYTES, Q4_KX4_D, Q4_KX4_DMIN, Q4_KX4_SCALES, Q4_KX4_MINS, Q4_KX4_QS,
  Q5_KX4_BLOCK_BYTES, Q5_KX4_QH, Q6_KX4_BLOCK_BYTES, Q6_KX4_D, Q6_KX4_SCALES, Q6_KX4_QL, Q6_KX4_QH, CHUNK_BYTES,
} from './blocks_x4';

// @ts-ignore: decorator
@inline function half(p: usize): f32 { return f16_to_f32_finite(<u32>load<u16>(p)); }

/** The low 4 bits of value i (0..7) of row r in the nibble chunk at chunk. */
// @ts-ignore: decorator
@inline function nibble(chunk: usize, r: i32, i: i32): i32 {
  const b = <i32>load<u8>(chunk + <usize>(4 * r + (i & 3)));
  return i < 4 ? b & 15 : b >> 4;
}

/** Row r (0..3) of the group of 4 rows at group (n values each) of a Q8_0x4 matrix to f32 at dst. */
export function dequant_row_q8_0x4(group: usize, r: i32, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 5; b++) {
    const p = group + <usize>b * Q8_0X4_BLOCK_BYTES, out = dst + (<usize>b << 7);
    const d = half(p + Q8_0X4_D + <usize>(2 * r));
    for (let j = 0; j < 32; j++) {
      // chunk j >> 2 holds values (v0, v2) of each row in its first 8 bytes, (v1, v3) in the last 8
      const v = j & 3;
      const q = load<i8>(p + Q8_0X4_QS + <usize>(j >> 2) * CHUNK_BYTES + <usize>(((v & 1) << 3) + 2 * r + (v >> 1)));
      store<f32>(out + (<usize>j << 2), <f32>q * d);
    }
  }
}

/** Q4_0x4: w = d·(q - 8). */
export function dequant_row_q4_0x4(group: usize, r: i32, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 5; b++) {
    const p = group + <usize>b * Q4_0X4_BLOCK_BYTES, out = dst + (<usize>b << 7);
    const d = half(p + Q4_0X4_D + <usize>(2 * r));
    for (let j = 0; j < 32; j++) {
      const q = nibble(p + Q4_0X4_QS + <usize>(j >> 3) * CHUNK_BYTES, r, j & 7) - 8;
      store<f32>(out + (<usize>j << 2), <f32>q * d);
    }
  }
}

/** Q4_Kx4 and Q5_Kx4 (hasHigh): w = d·scale·q - dmin·min, scales and mins of sub-block s in the pair layout. */
// @ts-ignore: decorator
@inline function k45Row(blockBytes: usize, hasHigh: bool, group: usize, r: i32, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 8; b++) {
    const p = group + <usize>b * blockBytes, out = dst + (<usize>b << 10);
    const d = half(p + Q4_KX4_D + <usize>(2 * r)), dmin = half(p + Q4_KX4_DMIN + <usize>(2 * r));
    for (let j = 0; j < 256; j++) {
      const s = j >> 5, c = j >> 3, i = j & 7, pair = <usize>(8 * (s >> 1) + 2 * r + (s & 1));
      let q = nibble(p + Q4_KX4_QS + <usize>c * CHUNK_BYTES, r, i);
      // Q5_K: bit 4 in piece c >> 2, bit 2(c & 3) (values 0..3) or 2(c & 3) + 1 (values 4..7) of byte 4r + (i & 3)
      if (hasHigh) q |= ((<i32>load<u8>(p + Q5_KX4_QH + <usize>(16 * (c >> 2) + 4 * r + (i & 3))) >> (2 * (c & 3) + (i >> 2))) & 1) << 4;
      const sc = <i32>load<u8>(p + Q4_KX4_SCALES + pair), mn = <i32>load<u8>(p + Q4_KX4_MINS + pair);
      store<f32>(out + (<usize>j << 2), d * <f32>sc * <f32>q - dmin * <f32>mn);
    }
  }
}

export function dequant_row_q4_kx4(group: usize, r: i32, dst: usize, n: i32): void { k45Row(Q4_KX4_BLOCK_BYTES, false, group, r, dst, n); }
export function dequant_row_q5_kx4(group: usize, r: i32, dst: usize, n: i32): void { k45Row(Q5_KX4_BLOCK_BYTES, true, group, r, dst, n); }

/** Q6_Kx4: w = d·scale·(q - 32), 16 signed scales (sub-blocks of 16 values) in the pair layout. */
export function dequant_row_q6_kx4(group: usize, r: i32, dst: usize, n: i32): void {
  for (let b = 0; b < n >> 8; b++) {
    const p = group + <usize>b * Q6_KX4_BLOCK_BYTES, out = dst + (<usize>b << 10);
    const d = half(p + Q6_KX4_D + <usize>(2 * r));
    for (let j = 0; j < 256; j++) {
      const s = j >> 4, c = j >> 3, i = j & 7;
      let q = nibble(p + Q6_KX4_QL + <usize>c * CHUNK_BYTES, r, i);
      // bits 4..5 in piece c >> 1, bits 4(c & 1) (values 0..3) or 4(c & 1) + 2 (values 4..7) of byte 4r + (i & 3)
      q |= ((<i32>load<u8>(p + Q6_KX4_QH + <usize>(16 * (c >> 1) + 4 * r + (i & 3))) >> (4 * (c & 1) + 2 * (i >> 2))) & 3) << 4;
      const sc = <i32>load<i8>(p + Q6_KX4_SCALES + <usize>(8 * (s >> 1) + 2 * r + (s & 1)));
      store<f32>(out + (<usize>j << 2), d * <f32>sc * <f32>(q - 32));
    }
  }
}
