// Load-time repacks of GGML weight matrices into the interleaved layouts of blocks_x4.ts, and their sizes.
// Values are moved from the named fields of blocks_legacy.ts / blocks_kquant.ts with 128-bit shuffles (a row's
// words built in one vector, then 4x4 transposes across the group's rows; the 5th and 6th bits by bit-matrix
// transposes); scales and mins are the reference decoder's (dequant_quants.ts); f16 fields are copied bit for
// bit. So a repacked matrix holds exactly the file's integers (tests/kernels/x4.spec.ts reads it back against
// the reference decoder). Rows past the last one (up to a multiple of 4) are zero.
import { Q4_0, Q8_0, Q4_K, Q5_K, Q6_K } from './types';
import { Q4_0_BLOCK_BYTES, Q4_0_D, Q4_0_QS, Q8_0_BLOCK_BYTES, Q8_0_D, Q8_0_QS } from './blocks_legacy';
import { Q4_K_BLOCK_BYTES, Q4_K_D, Q4_K_DMIN, Q5_K_BLOCK_BYTES, Q5_K_D, Q5_K_DMIN, Q5_K_QH, Q6_K_BLOCK_BYTES, Q6_K_D, Q6_K_QL, Q6_K_QH, k45Qs } from './blocks_kquant';
import { kquantScale, kquantMin } from './dequant_quants';
import {
  Q4_0X4_BLOCK_BYTES, Q4_0X4_D, Q4_0X4_QS, Q8_0X4_BLOCK_BYTES, Q8_0X4_D, Q8_0X4_QS,
  Q4_KX4_BLOCK_BYTES, Q4_KX4_D, Q4_KX4_DMIN, Q4_KX4_SCALES, Q4_KX4_MINS, Q4_KX4_QS,
  Q5_KX4_BLOCK_BYTES, Q5_KX4_D, Q5_KX4_DMIN, Q5_KX4_SCALES, Q5_KX4_MINS, Q5_KX4_QS, Q5_KX4_QH,
  Q6_KX4_BLOCK_BYTES, Q6_KX4_D, Q6_KX4_SCALES, Q6_KX4_QL, Q6_KX4_QH, CHUNK_BYTES,
} from './blocks_x4';

// @ts-ignore: decorator
@inline function isK(kind: i32): bool { return kind == Q4_K || kind == Q5_K || kind == Q6_K; }
// @ts-ignore: decorator
@inline function fileBlockBytes(kind: i32): usize {
  return kind == Q4_0 ? Q4_0_BLOCK_BYTES : kind == Q8_0 ? Q8_0_BLOCK_BYTES : kind == Q4_K ? Q4_K_BLOCK_BYTES
    : kind == Q5_K ? Q5_K_BLOCK_BYTES : Q6_K_BLOCK_BYTES;
}
// @ts-ignore: decorator
@inline function x4BlockBytes(kind: i32): usize {
  return kind == Q4_0 ? Q4_0X4_BLOCK_BYTES : kind == Q8_0 ? Q8_0X4_BLOCK_BYTES : kind == Q4_K ? Q4_KX4_BLOCK_BYTES
    : kind == Q5_K ? Q5_KX4_BLOCK_BYTES : Q6_KX4_BLOCK_BYTES;
}

/** Bytes of the interleaved form of a rows x cols matrix of GGML type `type` (rows rounded up to a multiple
 *  of 4; cols a multiple of the type's block), or 0 for a type without one. */
export function x4_bytes(type: i32, rows: i32, cols: i32): usize {
  const groups = <usize>((rows + 3) >> 2);
  switch (type) {
    case Q4_0: return groups * <usize>(cols >> 5) * Q4_0X4_BLOCK_BYTES;
    case Q8_0: return groups * <usize>(cols >> 5) * Q8_0X4_BLOCK_BYTES;
    case Q4_K: return groups * <usize>(cols >> 8) * Q4_KX4_BLOCK_BYTES;
    case Q5_K: return groups * <usize>(cols >> 8) * Q5_KX4_BLOCK_BYTES;
    case Q6_K: return groups * <usize>(cols >> 8) * Q6_KX4_BLOCK_BYTES;
    default: return 0;
  }
}

/** 16 bytes at offset off of the block at p, 0 for a missing row. */
// @ts-ignore: decorator
@inline function bytes16(p: usize, off: usize): v128 { return p == 0 ? i32x4.splat(0) : v128.load(p + off); }

/**
 * Writes the 4 chunks of values k..k+15 of 4 rows' Q8_0 blocks at dst. Chunk c holds, for row r, values
 * k+4c and k+4c+2 in bytes 2r, 2r+1 and values k+4c+1, k+4c+3 in bytes 8+2r, 8+2r+1: a 4x4 transpose of the
 * rows' 32-bit groups (group c of every row in one vector), then one byte shuffle a chunk.
 */
// @ts-ignore: decorator
@inline function q8Chunks(dst: usize, p0: usize, p1: usize, p2: usize, p3: usize, k: usize): void {
  const r0 = bytes16(p0, Q8_0_QS + k), r1 = bytes16(p1, Q8_0_QS + k), r2 = bytes16(p2, Q8_0_QS + k), r3 = bytes16(p3, Q8_0_QS + k);
  const s0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), s1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const s2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), s3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  q8Chunk(dst, v128.shuffle<i64>(s0, s1, 0, 2));
  q8Chunk(dst + CHUNK_BYTES, v128.shuffle<i64>(s0, s1, 1, 3));
  q8Chunk(dst + 2 * CHUNK_BYTES, v128.shuffle<i64>(s2, s3, 0, 2));
  q8Chunk(dst + 3 * CHUNK_BYTES, v128.shuffle<i64>(s2, s3, 1, 3));
}

/** Stores the 4 rows' 32-bit groups g (row r in bytes 4r..4r+3) as a chunk: bytes 0, 2 of each, then 1, 3. */
// @ts-ignore: decorator
@inline function q8Chunk(dst: usize, g: v128): void {
  v128.store(dst, v128.shuffle<i8>(g, g, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
}

/** The f16 field at offset off of the block at p, 0 for a missing row. */
// @ts-ignore: decorator
@inline function half(p: usize, off: usize): u16 { return p == 0 ? 0 : load<u16>(p + off); }

// @ts-ignore: decorator
@inline function lowNibbles(q: v128): v128 { return v128.and(q, i8x16.splat(0x0f)); }
// @ts-ignore: decorator
@inline function highNibbles(q: v128): v128 { return v128.and(i16x8.shr_u(q, 4), i8x16.splat(0x0f)); }

/**
 * The chunk words of 32 4-bit values, a holding values 0..15 and b values 16..31 (one a byte): lane l holds
 * values 8l..8l+3 in its bytes' low nibbles and 8l+4..8l+7 in their high nibbles.
 */
// @ts-ignore: decorator
@inline function packWords(a: v128, b: v128): v128 {
  const first = v128.shuffle<i8>(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  const second = v128.shuffle<i8>(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  return v128.or(first, i16x8.shl(second, 4)); // second's bytes are below 16: no bits cross into the next byte
}

/** Stores 4 chunks at dst + l * stride, chunk l holding lane l of w0..w3 (rows 0..3): a 4x4 transpose of 32-bit lanes. */
// @ts-ignore: decorator
@inline function storeTransposed(dst: usize, w0: v128, w1: v128, w2: v128, w3: v128, stride: usize): void {
  const s0 = v128.shuffle<i32>(w0, w1, 0, 4, 1, 5), s1 = v128.shuffle<i32>(w2, w3, 0, 4, 1, 5);
  const s2 = v128.shuffle<i32>(w0, w1, 2, 6, 3, 7), s3 = v128.shuffle<i32>(w2, w3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i64>(s0, s1, 0, 2));
  v128.store(dst + stride, v128.shuffle<i64>(s0, s1, 1, 3));
  v128.store(dst + 2 * stride, v128.shuffle<i64>(s2, s3, 0, 2));
  v128.store(dst + 3 * stride, v128.shuffle<i64>(s2, s3, 1, 3));
}

/** The 4 chunks of 4 rows' Q4_0 blocks at dst: values j and j + 16 share byte j of qs. */
// @ts-ignore: decorator
@inline function q4Chunks(dst: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  const q0 = bytes16(p0, Q4_0_QS), q1 = bytes16(p1, Q4_0_QS), q2 = bytes16(p2, Q4_0_QS), q3 = bytes16(p3, Q4_0_QS);
  storeTransposed(dst, packWords(lowNibbles(q0), highNibbles(q0)), packWords(lowNibbles(q1), highNibbles(q1)),
    packWords(lowNibbles(q2), highNibbles(q2)), packWords(lowNibbles(q3), highNibbles(q3)), CHUNK_BYTES);
}

/**
 * The chunks of 64 K-quant values whose 4 low bits sit in 32 bytes at offset off of 4 rows' blocks (value i < 32
 * in byte i's low nibble, 32 + i in its high nibble): 4 chunks at lo (values 0..31), 4 at hi (32..63).
 */
// @ts-ignore: decorator
@inline function nibbleGroup(lo: usize, hi: usize, p0: usize, p1: usize, p2: usize, p3: usize, off: usize): void {
  const a0 = bytes16(p0, off), b0 = bytes16(p0, off + 16), a1 = bytes16(p1, off), b1 = bytes16(p1, off + 16);
  const a2 = bytes16(p2, off), b2 = bytes16(p2, off + 16), a3 = bytes16(p3, off), b3 = bytes16(p3, off + 16);
  storeTransposed(lo, packWords(lowNibbles(a0), lowNibbles(b0)), packWords(lowNibbles(a1), lowNibbles(b1)),
    packWords(lowNibbles(a2), lowNibbles(b2)), packWords(lowNibbles(a3), lowNibbles(b3)), CHUNK_BYTES);
  storeTransposed(hi, packWords(highNibbles(a0), highNibbles(b0)), packWords(highNibbles(a1), highNibbles(b1)),
    packWords(highNibbles(a2), highNibbles(b2)), packWords(highNibbles(a3), highNibbles(b3)), CHUNK_BYTES);
}

/** Q4_K / Q5_K: qs byte 32g + l holds values 64g + l (low nibble) and 64g + 32 + l; chunk 8g + 4h + l. */
// @ts-ignore: decorator
@inline function k45Chunks(kind: i32, dst: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  for (let g = 0; g < 4; g++) {
    const at = dst + <usize>(8 * g) * CHUNK_BYTES;
    nibbleGroup(at, at + 4 * CHUNK_BYTES, p0, p1, p2, p3, k45Qs(kind) + <usize>(32 * g));
  }
}

/** Q6_K: ql byte 64n + 32j + l holds the low bits of values 128n + 32j + l and 128n + 64 + 32j + l; chunk 16n + 8h + 4j + l. */
// @ts-ignore: decorator
@inline function q6Chunks(dst: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  for (let n = 0; n < 2; n++) for (let j = 0; j < 2; j++) {
    const at = dst + <usize>(16 * n + 4 * j) * CHUNK_BYTES;
    nibbleGroup(at, at + 8 * CHUNK_BYTES, p0, p1, p2, p3, Q6_K_QL + <usize>(64 * n + 32 * j));
  }
}

/** The 8x8 bit matrix in each i64 lane transposed: bit k of byte m moves to bit m of byte k (Hacker's Delight 7-3). */
// @ts-ignore: decorator
@inline function transposeBits8(x: v128): v128 {
  let t = v128.and(v128.xor(x, i64x2.shr_u(x, 7)), i64x2.splat(0x00aa00aa00aa00aa));
  x = v128.xor(x, v128.xor(t, i64x2.shl(t, 7)));
  t = v128.and(v128.xor(x, i64x2.shr_u(x, 14)), i64x2.splat(0x0000cccc0000cccc));
  x = v128.xor(x, v128.xor(t, i64x2.shl(t, 14)));
  t = v128.and(v128.xor(x, i64x2.shr_u(x, 28)), i64x2.splat(0x00000000f0f0f0f0));
  return v128.xor(x, v128.xor(t, i64x2.shl(t, 28)));
}

/**
 * Q5_K's high bits: bit 4 of value 32g + 8e + 4s + i (e < 4, s < 2, i < 4) is bit g of qh byte m = 2e + s at
 * 4m + i; piece g holds it in bit m of byte i of the row's word. For each i, byte m of a u64 gathers qh[4m + i]
 * and an 8x8 bit transpose turns it into byte g: lanes i = 0, 1 here (half 0), 2, 3 (half 1).
 */
// @ts-ignore: decorator
@inline function q5HighHalf(p: usize, half: i32): v128 {
  const q0 = bytes16(p, Q5_K_QH), q1 = bytes16(p, Q5_K_QH + 16);
  return transposeBits8(half == 0
    ? v128.shuffle<i8>(q0, q1, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29)
    : v128.shuffle<i8>(q0, q1, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31));
}

/** The rows' words of pieces 0..3 (second: 4..7), lane g: byte i of piece g, from q5HighHalf's (i, g) bytes. */
// @ts-ignore: decorator
@inline function q5Words(a: v128, b: v128, second: bool): v128 {
  return second
    ? v128.shuffle<i8>(a, b, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31)
    : v128.shuffle<i8>(a, b, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
}

/** Writes Q5_K's 8 high-bit pieces of 4 rows at dst (piece g: row r's word at 16g + 4r). */
// @ts-ignore: decorator
@inline function q5HighPieces(dst: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  const a0 = q5HighHalf(p0, 0), b0 = q5HighHalf(p0, 1), a1 = q5HighHalf(p1, 0), b1 = q5HighHalf(p1, 1);
  const a2 = q5HighHalf(p2, 0), b2 = q5HighHalf(p2, 1), a3 = q5HighHalf(p3, 0), b3 = q5HighHalf(p3, 1);
  storeTransposed(dst, q5Words(a0, b0, false), q5Words(a1, b1, false), q5Words(a2, b2, false), q5Words(a3, b3, false), CHUNK_BYTES);
  storeTransposed(dst + 4 * CHUNK_BYTES, q5Words(a0, b0, true), q5Words(a1, b1, true), q5Words(a2, b2, true), q5Words(a3, b3, true), CHUNK_BYTES);
}

/** The 4x4 matrix of 2-bit fields in each i32 lane transposed: field q of byte f moves to field f of byte q. */
// @ts-ignore: decorator
@inline function transposeFields2(x: v128): v128 {
  let t = v128.and(v128.xor(x, i32x4.shr_u(x, 6)), i32x4.splat(0x00cc00cc));
  x = v128.xor(x, v128.xor(t, i32x4.shl(t, 6)));
  t = v128.and(v128.xor(x, i32x4.shr_u(x, 12)), i32x4.splat(0x0000f0f0));
  return v128.xor(x, v128.xor(t, i32x4.shl(t, 12)));
}

/**
 * Q6_K's high bits of the 64 values of qh bytes 32n + 16h .. + 15, as words of pieces k = 8n + 2q + h (q < 4):
 * field q (bits 2q, 2q + 1) of qh byte 32n + 16h + 4f + i holds bits 4..5 of a value that piece k keeps in
 * field f of byte i. Lane i gathers bytes 4f + i, the 2-bit transpose moves field q to byte q, and the last
 * shuffle makes lane q the row's word of piece 8n + 2q + h.
 */
// @ts-ignore: decorator
@inline function q6HighWords(p: usize, off: usize): v128 {
  const q = bytes16(p, Q6_K_QH + off);
  const t = transposeFields2(v128.shuffle<i8>(q, q, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  return v128.shuffle<i8>(t, t, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

/** Writes Q6_K's 16 high-bit pieces of 4 rows at dst (piece k: row r's word at 16k + 4r). */
// @ts-ignore: decorator
@inline function q6HighPieces(dst: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  for (let n = 0; n < 2; n++) for (let h = 0; h < 2; h++) {
    const off = <usize>(32 * n + 16 * h);
    // lane q of each row's words is piece 8n + 2q + h: pieces two chunks apart
    storeTransposed(dst + <usize>(8 * n + h) * CHUNK_BYTES, q6HighWords(p0, off), q6HighWords(p1, off), q6HighWords(p2, off),
      q6HighWords(p3, off), 2 * CHUNK_BYTES);
  }
}

/** Writes the pair layout of a per-sub-block quantity (get: 0 scale, 1 min) of `subs` sub-blocks at dst. */
// @ts-ignore: decorator
@inline function pairs(kind: i32, dst: usize, p0: usize, p1: usize, p2: usize, p3: usize, subs: i32, mins: bool): void {
  const width = 256 / subs;
  for (let k = 0; k < subs / 2; k++) {
    for (let r = 0; r < 4; r++) {
      const p = r == 0 ? p0 : r == 1 ? p1 : r == 2 ? p2 : p3;
      for (let i = 0; i < 2; i++) {
        const v = p == 0 ? 0 : mins ? kquantMin(kind, p, (2 * k + i) * width) : kquantScale(kind, p, (2 * k + i) * width);
        store<u8>(dst + <usize>(8 * k + 2 * r + i), <u8>v);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function repack(kind: i32, src: usize, dst: usize, rows: i32, cols: i32): void {
  const blocks = isK(kind) ? cols >> 8 : cols >> 5;
  const fb = fileBlockBytes(kind), xb = x4BlockBytes(kind), rowBytes = <usize>blocks * fb;
  for (let g = 0; g < (rows + 3) >> 2; g++) {
    for (let b = 0; b < blocks; b++) {
      const o = dst + (<usize>(g * blocks + b)) * xb, bo = <usize>b * fb, r0 = 4 * g;
      const p0 = src + <usize>r0 * rowBytes + bo;
      const p1 = r0 + 1 < rows ? p0 + rowBytes : 0, p2 = r0 + 2 < rows ? p0 + 2 * rowBytes : 0, p3 = r0 + 3 < rows ? p0 + 3 * rowBytes : 0;
      for (let r = 0; r < 4; r++) {
        const p = r == 0 ? p0 : r == 1 ? p1 : r == 2 ? p2 : p3, ro = <usize>(2 * r);
        if (kind == Q4_0) store<u16>(o + Q4_0X4_D + ro, half(p, Q4_0_D));
        else if (kind == Q8_0) store<u16>(o + Q8_0X4_D + ro, half(p, Q8_0_D));
        else if (kind == Q4_K) { store<u16>(o + Q4_KX4_D + ro, half(p, Q4_K_D)); store<u16>(o + Q4_KX4_DMIN + ro, half(p, Q4_K_DMIN)); }
        else if (kind == Q5_K) { store<u16>(o + Q5_KX4_D + ro, half(p, Q5_K_D)); store<u16>(o + Q5_KX4_DMIN + ro, half(p, Q5_K_DMIN)); }
        else store<u16>(o + Q6_KX4_D + ro, half(p, Q6_K_D));
      }
      if (kind == Q4_0) q4Chunks(o + Q4_0X4_QS, p0, p1, p2, p3);
      else if (kind == Q8_0) {
        q8Chunks(o + Q8_0X4_QS, p0, p1, p2, p3, 0);
        q8Chunks(o + Q8_0X4_QS + 4 * CHUNK_BYTES, p0, p1, p2, p3, 16);
      } else if (kind == Q4_K || kind == Q5_K) {
        pairs(kind, o + Q4_KX4_SCALES, p0, p1, p2, p3, 8, false);
        pairs(kind, o + Q4_KX4_MINS, p0, p1, p2, p3, 8, true);
        k45Chunks(kind, o + Q4_KX4_QS, p0, p1, p2, p3);
        if (kind == Q5_K) q5HighPieces(o + Q5_KX4_QH, p0, p1, p2, p3);
      } else {
        pairs(kind, o + Q6_KX4_SCALES, p0, p1, p2, p3, 16, false);
        q6Chunks(o + Q6_KX4_QL, p0, p1, p2, p3);
        q6HighPieces(o + Q6_KX4_QH, p0, p1, p2, p3);
      }
    }
  }
}

/** src: rows x cols in the file layout (rows of cols/32 blocks); dst: x4_bytes(type, rows, cols) bytes. */
export function repack_q4_0x4(src: usize, dst: usize, rows: i32, cols: i32): void { repack(Q4_0, src, dst, rows, cols); }
export function repack_q8_0x4(src: usize, dst: usize, rows: i32, cols: i32): void { repack(Q8_0, src, dst, rows, cols); }
/** src: rows x cols in the file layout (rows of cols/256 super-blocks); dst: x4_bytes(type, rows, cols) bytes. */
export function repack_q4_kx4(src: usize, dst: usize, rows: i32, cols: i32): void { repack(Q4_K, src, dst, rows, cols); }
export function repack_q5_kx4(src: usize, dst: usize, rows: i32, cols: i32): void { repack(Q5_K, src, dst, rows, cols); }
export function repack_q6_kx4(src: usize, dst: usize, rows: i32, cols: i32): void { repack(Q6_K, src, dst, rows, cols); }
