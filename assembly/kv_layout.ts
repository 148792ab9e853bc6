// Byte layout of the KV cache: rows (one position of one KV head) and the transposed K tiles of the SparQ
// layout. Element types (types.ts): F32, F16, KV_Q8, KV_Q4.
//
// Row of d values, QB = kv_qblock(d) values per quantisation block, nb = d / QB blocks:
//   F32     f32[d]                                   4d bytes
//   F16     f16[d]                                   2d bytes
//   KV_Q8   codes i8[d],   then scales f32[nb]       d + 4nb bytes    x ≈ s·c, c in [-127, 127]
//   KV_Q4   codes u8[d/2], then scales f32[nb]       d/2 + 4nb bytes  x ≈ s·(c - 8), c - 8 in [-7, 7]
// KV_Q4 block b uses code bytes [b·QB/2, (b+1)·QB/2): byte j holds value j of the block in its low nibble and
// value j + QB/2 in its high nibble. The scale of block b is at scales + 4b.
//
// Transposed K: per KV head, room for `tiles` tiles of KT_TILE positions, grouped by KT_GROUP consecutive
// tiles (KT_GROUP·KT_TILE = 1024 positions). A group holds, for each component i in turn, the codes of its
// KT_GROUP tiles back to back: kv_tile_code_bytes(type) bytes per (tile, component), f32/f16 plain, KV_Q8 i8
// codes, KV_Q4 KT_TILE/2 bytes with byte j holding position j in its low nibble and position j + KT_TILE/2 in
// its high nibble. So SparQ's step 1 reads r sequential streams, and an append stays inside one group. The
// quantised types keep one f32 scale per (tile, component) in a plane after all groups, component-major:
// scale(i, t) at ktScalePlane(...) + (i·tiles + t)·4.
import { F32, F16, KV_Q8 } from './types';

export const KT_TILE: i32 = 64;
export const KT_GROUP: i32 = 16;

/** Bytes of one block scale (f32). */
export const KV_SCALE_BYTES: i32 = 4;
/** Largest |code| of KV_Q8 and KV_Q4. */
export const KV_Q8_MAX: i32 = 127;
export const KV_Q4_MAX: i32 = 7;
/** A KV_Q4 value c - KV_Q4_BIAS is stored as the unsigned nibble c. */
export const KV_Q4_BIAS: i32 = 8;

/** Values per quantisation block for head dimension d: 32 when it divides d, else 16, else 8 (0 when d is
 *  not a multiple of 8). */
export function kv_qblock(d: i32): i32 {
  return d % 32 == 0 ? 32 : d % 16 == 0 ? 16 : d % 8 == 0 ? 8 : 0;
}

/** Bytes of the codes of a KV_Q8 / KV_Q4 row of d values. */
// @ts-ignore: decorator
@inline export function kvCodeBytes(d: i32, type: i32): i32 { return type == KV_Q8 ? d : d >> 1; }

/** Address of the block scales of the KV_Q8 / KV_Q4 row at row. */
// @ts-ignore: decorator
@inline export function kvRowScales(row: usize, d: i32, type: i32): usize { return row + <usize>kvCodeBytes(d, type); }

/** Bytes of one cache row of d values of element type `type`. */
export function kv_row_bytes(d: i32, type: i32): i32 {
  if (type == F32) return 4 * d;
  if (type == F16) return 2 * d;
  const nb = d / kv_qblock(d);
  return kvCodeBytes(d, type) + KV_SCALE_BYTES * nb;
}

/** Code bytes of one component row of a transposed-K tile (scales are in their own plane). */
export function kv_tile_code_bytes(type: i32): i32 {
  if (type == F32) return 4 * KT_TILE;
  if (type == F16) return 2 * KT_TILE;
  return type == KV_Q8 ? KT_TILE : KT_TILE >> 1;
}

/** Transposed-K tiles a head needs for `capacity` positions: whole groups of KT_GROUP tiles. */
export function kv_t_tiles(capacity: i32): i32 {
  const group = KT_TILE * KT_GROUP;
  return (capacity + group - 1) / group * KT_GROUP;
}

/** Bytes of one head's transposed K with room for `tiles` tiles: the codes, then the scale plane of the quantised types. */
export function kv_t_head_bytes(d: i32, type: i32, tiles: i32): f64 {
  const scale = type == F32 || type == F16 ? 0 : KV_SCALE_BYTES;
  return <f64>tiles * <f64>d * <f64>(kv_tile_code_bytes(type) + scale);
}

/** Address of the scale plane of one head's transposed-K tiles at base (quantised types). */
// @ts-ignore: decorator
@inline export function ktScalePlane(base: usize, d: i32, type: i32, tiles: i32): usize {
  return base + <usize>tiles * <usize>d * <usize>kv_tile_code_bytes(type);
}

/** Address of the scale of component i in tile t (quantised types). */
// @ts-ignore: decorator
@inline export function kv_tile_scale_at(base: usize, d: i32, type: i32, tiles: i32, t: i32, i: i32): usize {
  return ktScalePlane(base, d, type, tiles) + (<usize>(i * tiles + t) << 2);
}

/** Address of the codes of component i in tile t. */
// @ts-ignore: decorator
@inline export function kv_tile_codes_at(base: usize, d: i32, type: i32, t: i32, i: i32): usize {
  const cb = <usize>kv_tile_code_bytes(type);
  return base + <usize>(t / KT_GROUP) * <usize>(d * KT_GROUP) * cb + (<usize>(i * KT_GROUP + t % KT_GROUP)) * cb;
}
