// Byte layouts of the interleaved weights (load-time repacks of GGML blocks, repack_x4.ts): the same blocks of
// 4 consecutive rows ("a group") stored together, so that one SIMD lane holds one row and a row's sum never
// needs a horizontal reduction. Rows 4g..4g+3 form group g; a matrix of R rows has ceil(R / 4) groups (the
// missing rows of the last one zero), each a sequence of group blocks, one per 32 (Q4_0x4, Q8_0x4) or 256
// (K-quants) columns. A row block starting at a multiple of 4 rows starts at (first row)·(row bytes) as in
// the file layout, so the thread splitter cuts both alike.
//
// Chunk (16 bytes): 8 consecutive values v0..v7 of each of the 4 rows as nibbles. Byte 4r + i (r, i < 4)
// holds value i of row r in its low nibble and value 4 + i in its high nibble. Read as 8 i16 lanes (lane j =
// bytes 2j, 2j + 1, row j >> 1), its 4 nibble planes (bits 0..3, 4..7, 8..11, 12..15 of every lane) are
//   plane 0: (v0, v2) of each row    plane 2: (v1, v3)    plane 1: (v4, v6)    plane 3: (v5, v7)
// which is what i32x4.dot_i16x8_s needs against the activation pairs (x0, x2), (x1, x3), (x4, x6), (x5, x7)
// of Q8P / Q8XK (blocks_act.ts) splat across the vector: its lane r is row r's sum.
//
// Q5_Kx4 / Q6_Kx4 add the values' high bits byte for byte beside the chunk bytes that hold their low bits:
// the low nibbles of a chunk and the high nibbles, each with its high bits or'ed in, are 16 bytes of whole
// values, whose even and odd bytes (as i16 lanes: & 0x00ff, >> 8) are the same 4 planes.
//
// Pair layout (scales, mins): for sub-blocks 2k and 2k + 1, 8 bytes [r0: s(2k), s(2k+1)], [r1: ..], [r2], [r3]:
// widened to i16 they are the lanes that dot_i16x8_s takes against the activation sums (X(2k), X(2k+1)).
//
// Q4_0x4 (72 bytes: 4 rows x 32 values)
//   off  field   type     bytes
//   0    d       f16[4]   8      d of rows 0..3
//   8    qs      u8[64]   64     4 chunks; chunk c: values 8c..8c+7
//   w = d·(q - 8)
//
// Q8_0x4 (136 bytes: 4 rows x 32 values)
//   0    d       f16[4]   8
//   8    qs      i8[128]  128    8 chunks of 4 values; chunk c: values 4c..4c+3 (v0..v3): bytes 0..7 hold
//                                (v0, v2) of rows 0..3, bytes 8..15 (v1, v3), so each half widened to i16 is
//                                the lanes dot_i16x8_s takes against the pairs (x0, x2) and (x1, x3)
//   w = d·q
//
// Q4_Kx4 (592 bytes: 4 rows x 256 values; 144 bytes a row in the file, 148 here)
//   0    d       f16[4]   8
//   8    dmin    f16[4]   8
//   16   scales  u8[32]   32     the 8 scales of each row, pair layout
//   48   mins    u8[32]   32     the 8 mins of each row, pair layout
//   80   qs      u8[512]  512    32 chunks; chunk c: values 8c..8c+7 (sub-block c >> 2)
//   w = d·scale·q - dmin·min
//
// Q5_Kx4 (720 bytes: 4 rows x 256 values; 176 bytes a row in the file, 180 here)
//   0    d       f16[4]   8
//   8    dmin    f16[4]   8
//   16   scales  u8[32]   32     pair layout
//   48   mins    u8[32]   32     pair layout
//   80   qs      u8[512]  512    bits 0..3, chunks as Q4_Kx4
//   592  qh      u8[128]  128    bit 4: 8 pieces of 16 bytes, piece k for chunks 4k..4k+3 (sub-block k); bits
//                                2e and 2e + 1 of byte 4r + i are bit 4 of values i and 4 + i of row r in
//                                chunk 4k + e (the values whose low bits byte 4r + i of that chunk holds)
//   w = d·scale·q - dmin·min
//
// Q6_Kx4 (840 bytes: 4 rows x 256 values, as in the file)
//   0    d       f16[4]   8
//   8    scales  i8[64]   64     the 16 signed scales of each row (16 values each), pair layout
//   72   ql      u8[512]  512    bits 0..3, 32 chunks; chunk c: values 8c..8c+7 (sub-block c >> 1)
//   584  qh      u8[256]  256    bits 4..5: 16 pieces of 16 bytes, piece k for chunks 2k, 2k+1 (sub-block k);
//                                bits 4e..4e+1 and 4e+2..4e+3 of byte 4r + i are bits 4..5 of values i and
//                                4 + i of row r in chunk 2k + e
//   w = d·scale·(q - 32)

/** Rows per group. */
export const X4_ROWS: i32 = 4;
/** Bytes of one chunk (4 rows x 8 nibbles, or 4 rows x 4 bytes for Q8_0x4). */
export const CHUNK_BYTES: usize = 16;

export const Q4_0X4_BLOCK_BYTES: usize = 72;
export const Q4_0X4_D: usize = 0;
export const Q4_0X4_QS: usize = 8;

export const Q8_0X4_BLOCK_BYTES: usize = 136;
export const Q8_0X4_D: usize = 0;
export const Q8_0X4_QS: usize = 8;

export const Q4_KX4_BLOCK_BYTES: usize = 592;
export const Q4_KX4_D: usize = 0;
export const Q4_KX4_DMIN: usize = 8;
export const Q4_KX4_SCALES: usize = 16;
export const Q4_KX4_MINS: usize = 48;
export const Q4_KX4_QS: usize = 80;

export const Q5_KX4_BLOCK_BYTES: usize = 720;
export const Q5_KX4_D: usize = 0;
export const Q5_KX4_DMIN: usize = 8;
export const Q5_KX4_SCALES: usize = 16;
export const Q5_KX4_MINS: usize = 48;
export const Q5_KX4_QS: usize = 80;
export const Q5_KX4_QH: usize = 592;

export const Q6_KX4_BLOCK_BYTES: usize = 840;
export const Q6_KX4_D: usize = 0;
export const Q6_KX4_SCALES: usize = 8;
export const Q6_KX4_QL: usize = 72;
export const Q6_KX4_QH: usize = 584;
