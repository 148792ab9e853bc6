// Byte layouts of the activation blocks the quantised weight kernels read (not GGML types). In all of them,
// d = max|x| / 127 over the block and q = round-half-even(x / d), |q| <= 127; an all-zero block has d = 0
// and every other byte 0.
//
// Q8A (36 bytes, 32 values), for Q8_0 weights (quant_act.ts)
//   off  field  type      bytes
//   0    d      f32       4
//   4    qs     i8[32]    32     value j = qs[j]
//
// Q8W (80 bytes, 32 values), for Q4_0 / Q4_1 / Q5_0 / Q5_1 weights (quant_act_wide.ts)
//   0    d      f32       4
//   4    sum    i32       4      sum of the 32 q
//   8    -      -         8      unused (keeps qs 16-byte aligned)
//   16   qs     i16[32]   64     two groups of 16 values
//
// Q8KW (560 bytes, 256 values), for K-quant weights (quant_act_wide.ts)
//   0    d      f32       4
//   4    -      -         12     unused
//   16   sums   i16[16]   32     sum of the q of each 16 values, sub-blocks in the order 0, 2, 4, 6, 1, 3, 5, 7,
//                                8, 10, .., 15 (quant_simd.ts permSub16)
//   48   qs     i16[256]  512    sixteen groups of 16 values
//
// A group (32 bytes) stores its 16 values q0..q15 as i16 in the order q0, q2, .., q14, q1, q3, .., q15: the
// even-indexed values, then the odd-indexed ones (quant_simd.ts explains why).
//
// Q8P (72 bytes, 32 values), for the interleaved Q8_0x4 weights (quant_act_pair.ts)
//   0    d      f32       4
//   4    sum    i32       4      sum of the 32 q
//   8    qs     i16[32]   64     pair order
//
// Q8X (72 bytes, 32 values), for the interleaved Q4_0x4 weights (quant_act_pair.ts); the module's variant
// decides the qs field:
//   0    d      f32       4
//   4    sum    i32       4      sum of the 32 q
//   8    qs     i16[32]   64     pair order (the portable module: the bytes of Q8P)
//        qs     i8[32]    32     in order, then 32 unused bytes (the relaxed-SIMD module)
//
// Q8XK (576 bytes, 256 values), for the interleaved K-quant weights (quant_act_pair.ts)
//   0    d      f32       4
//   4    -      -         12     unused
//   16   sums16 i16[16]   32     sum of the q of each 16 values, in order
//   48   sums32 i16[8]    16     sum of the q of each 32 values, in order
//   64   qs     i16[256]  512    pair order (the portable module)
//        qs     i8[256]   256    in order, then 256 unused bytes (the relaxed-SIMD module)
//
// Pair order: each 8 values q0..q7 stored as q0, q2, q1, q3, q4, q6, q5, q7, so that the i32 at byte 4k
// holds the pair the portable interleaved kernels splat across a vector (blocks_x4.ts): (q0, q2), (q1, q3),
// (q4, q6), (q5, q7). The relaxed kernels splat 4 consecutive i8 values instead.

export const Q8A_BLOCK_BYTES: usize = 36;
export const Q8P_BLOCK_BYTES: usize = 72;
export const Q8X_BLOCK_BYTES: usize = 72;
export const Q8XK_BLOCK_BYTES: usize = 576;
export const Q8W_BLOCK_BYTES: usize = 80;
export const Q8KW_BLOCK_BYTES: usize = 560;
export const Q8A_BLOCK_VALUES: i32 = 32;
export const Q8W_BLOCK_VALUES: i32 = 32;
export const Q8KW_BLOCK_VALUES: i32 = 256;
export const Q8P_BLOCK_VALUES: i32 = 32;
export const Q8X_BLOCK_VALUES: i32 = 32;
export const Q8XK_BLOCK_VALUES: i32 = 256;

export const Q8A_D: usize = 0;
export const Q8A_QS: usize = 4;

export const Q8W_D: usize = 0;
export const Q8W_SUM: usize = 4;
export const Q8W_QS: usize = 16;

export const Q8KW_D: usize = 0;
export const Q8KW_SUMS: usize = 16;
export const Q8KW_QS: usize = 48;

export const Q8P_D: usize = 0;
export const Q8P_SUM: usize = 4;
export const Q8P_QS: usize = 8;

export const Q8X_D: usize = 0;
export const Q8X_SUM: usize = 4;
export const Q8X_QS: usize = 8;
/** Bytes of one activation value in the qs field of Q8X / Q8XK: 2 (i16, portable) or 1 (i8, relaxed SIMD). */
export const X_VALUE_BYTES: usize = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;

export const Q8XK_D: usize = 0;
export const Q8XK_SUMS16: usize = 16;
export const Q8XK_SUMS32: usize = 48;
export const Q8XK_QS: usize = 64;

/** Bytes of one group of 16 values (Q8W, Q8KW). */
export const GROUP_BYTES: usize = 32;
