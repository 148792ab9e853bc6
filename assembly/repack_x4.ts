// Load-time repacks of GGML weight matrices into the interleaved layouts of blocks_x4.ts, and their sizes.
// Values are moved from the named fields of blocks_legacy.ts / blocks_kquant.ts, 8 nibbles at a time; scales
// and mins are the reference decoder's (dequant_quants.ts); f16 fields are copied bit for bit. So a repacked
// matrix holds exactly the file's integers (tests/kernels/x4.spec.ts reads it back against the reference
// decoder). Rows past the last one (up to a multiple of 4) are zero.
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

/** Value k of the Q8_0 block at p, 0 for a missing row (p = 0). */
// @ts-ignore: decorator
@inline function q8(p: usize, k: i32): i8 { return p == 0 ? 0 : load<i8>(p + Q8_0_QS + <usize>k); }

/** The f16 field at offset off of the block at p, 0 for a missing row. */
// @ts-ignore: decorator
@inline function half(p: usize, off: usize): u16 { return p == 0 ? 0 : load<u16>(p + off); }

/** Byte offset, in the file block, of the 8 consecutive bytes whose low (or high) nibbles hold the 4 low bits
 *  of values 8c..8c+7, and in bit 31 whether they are the high nibbles. */
// @ts-ignore: decorator
@inline function chunkSource(kind: i32, c: i32): i32 {
  if (kind == Q4_0) return <i32>Q4_0_QS + 8 * (c & 1) | ((c >> 1) << 31); // value j and j + 16 share byte j
  if (kind == Q6_K) return <i32>Q6_K_QL + 64 * (c >> 4) + 32 * ((c >> 2) & 1) + 8 * (c & 3) | ((c >> 3) << 31);
  return <i32>k45Qs(kind) + 32 * (c >> 3) + 8 * (c & 3) | ((c >> 2) << 31); // Q4_K / Q5_K: 64p + 32h + l in byte 32p + l
}

/** Writes `chunks` nibble chunks at dst from the low 4 bits of values 8c + i of the 4 rows' blocks p0..p3:
 *  per row, 4 bytes = values 8c..8c+3 in the low nibbles and 8c+4..8c+7 in the high ones. */
// @ts-ignore: decorator
@inline function nibbleChunks(kind: i32, dst: usize, p0: usize, p1: usize, p2: usize, p3: usize, chunks: i32): void {
  const lo: u32 = 0x0f0f0f0f;
  for (let c = 0; c < chunks; c++) {
    const src = chunkSource(kind, c), off = <usize>(src & 0x7fffffff), high = src < 0;
    for (let r = 0; r < 4; r++) {
      const p = r == 0 ? p0 : r == 1 ? p1 : r == 2 ? p2 : p3;
      let word: u32 = 0;
      if (p != 0) {
        const a = load<u32>(p + off), b = load<u32>(p + off, 4);
        word = high ? ((a >> 4) & lo) | (b & ~lo) : (a & lo) | ((b & lo) << 4);
      }
      store<u32>(dst + <usize>(16 * c + 4 * r), word);
    }
  }
}

/** The high bits of values 8c..8c+7 of the Q5_K / Q6_K block at p, one value per byte of a u64 (0 for a
 *  missing row). */
// @ts-ignore: decorator
@inline function highBits8(kind: i32, p: usize, c: i32): u64 {
  if (p == 0) return 0;
  // Q5_K: value i = 64p' + 32h + l has bit 4 at bit (i >> 5) of qh[l]; Q6_K: i = 128n + 32k + l has bits 4..5 at
  // bits 2k of qh[32n + l]
  if (kind == Q5_K) return (load<u64>(p + Q5_K_QH + <usize>(8 * (c & 3))) >> <u64>(c >> 2)) & 0x0101010101010101;
  return (load<u64>(p + Q6_K_QH + <usize>(32 * (c >> 4) + 8 * (c & 3))) >> <u64>(2 * ((c >> 2) & 3))) & 0x0303030303030303;
}

/** Writes the high-bit pieces at dst (Q5_K: 1 bit a value, 4 chunks a piece; Q6_K: 2 bits, 2 chunks a piece). */
// @ts-ignore: decorator
@inline function highPieces(kind: i32, dst: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  const perPiece = kind == Q5_K ? 4 : 2, bits = kind == Q5_K ? 1 : 2;
  for (let k = 0; k < 32 / perPiece; k++) {
    for (let r = 0; r < 4; r++) {
      const p = r == 0 ? p0 : r == 1 ? p1 : r == 2 ? p2 : p3;
      let word: u32 = 0;
      for (let e = 0; e < perPiece; e++) {
        const h = highBits8(kind, p, perPiece * k + e);
        // byte i: value i's bits, then value 4 + i's above them
        word |= (<u32>h | (<u32>(h >> 32) << bits)) << (2 * bits * e);
      }
      store<u32>(dst + <usize>(16 * k + 4 * r), word);
    }
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
      if (kind == Q4_0) nibbleChunks(kind, o + Q4_0X4_QS, p0, p1, p2, p3, 4);
      else if (kind == Q8_0) {
        for (let c = 0; c < 8; c++) for (let r = 0; r < 4; r++) {
          const p = r == 0 ? p0 : r == 1 ? p1 : r == 2 ? p2 : p3, d = o + Q8_0X4_QS + <usize>(c) * CHUNK_BYTES + <usize>(2 * r);
          store<i8>(d, q8(p, 4 * c)); store<i8>(d + 1, q8(p, 4 * c + 2));
          store<i8>(d + 8, q8(p, 4 * c + 1)); store<i8>(d + 9, q8(p, 4 * c + 3));
        }
      } else if (kind == Q4_K || kind == Q5_K) {
        pairs(kind, o + Q4_KX4_SCALES, p0, p1, p2, p3, 8, false);
        pairs(kind, o + Q4_KX4_MINS, p0, p1, p2, p3, 8, true);
        nibbleChunks(kind, o + Q4_KX4_QS, p0, p1, p2, p3, 32);
        if (kind == Q5_K) highPieces(kind, o + Q5_KX4_QH, p0, p1, p2, p3);
      } else {
        pairs(kind, o + Q6_KX4_SCALES, p0, p1, p2, p3, 16, false);
        nibbleChunks(kind, o + Q6_KX4_QL, p0, p1, p2, p3, 32);
        highPieces(kind, o + Q6_KX4_QH, p0, p1, p2, p3);
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
