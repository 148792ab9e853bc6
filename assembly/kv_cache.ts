// KV cache storage: encoding f32 rows into the cache's element types (F32, F16, KV_Q8, KV_Q4; layouts in
// kv_layout.ts), decoding them back, appending to the transposed K tiles of the SparQ layout, and the
// running sum of V.
// KV_Q8: s = max|x|/KV_Q8_MAX per block, so |x - s·c| <= max|x|/254; KV_Q4: s = max|x|/KV_Q4_MAX, so
// |x - s·(c - 8)| <= max|x|/14. A tile's scale only grows: when a new value does not fit, the tile's codes are
// re-encoded with the larger scale (each re-encoding adds at most half a step of the new scale).
import { f16_to_f32, f16x8_low, f16x8_high, f32_to_f16 } from './f16';
import { F32, F16, KV_Q8 } from './types';
import { KT_TILE, KV_Q8_MAX, KV_Q4_MAX, KV_Q4_BIAS, kv_qblock, kv_row_bytes, kvRowScales, kv_tile_codes_at, kv_tile_scale_at } from './kv_layout';

@inline
function absMax(x: usize, n: i32): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) m = max(m, abs(load<f32>(x + (<usize>i << 2))));
  return m;
}

/** Encode d f32 values at src as one row of `type` at dst. */
export function kv_encode_row(src: usize, dst: usize, d: i32, type: i32): void {
  if (type == F32) {
    memory.copy(dst, src, <usize>d << 2);
  } else if (type == F16) {
    for (let i = 0; i < d; i++) store<u16>(dst + (<usize>i << 1), <u16>f32_to_f16(load<f32>(src + (<usize>i << 2))));
  } else {
    const qb = kv_qblock(d);
    const nb = d / qb;
    const q8 = type == KV_Q8;
    const scales = kvRowScales(dst, d, type);
    for (let b = 0; b < nb; b++) {
      const x = src + (<usize>(b * qb) << 2);
      const amax = absMax(x, qb);
      const s: f32 = amax / (q8 ? <f32>KV_Q8_MAX : <f32>KV_Q4_MAX);
      const inv: f32 = s > 0 ? <f32>1 / s : 0;
      store<f32>(scales + (<usize>b << 2), s);
      if (q8) {
        for (let i = 0; i < qb; i++) {
          store<i8>(dst + <usize>(b * qb + i), <i8>(<i32>nearest(load<f32>(x + (<usize>i << 2)) * inv)));
        }
      } else {
        const h = qb >> 1;
        const base = dst + <usize>(b * h);
        for (let i = 0; i < h; i++) {
          const lo = <i32>nearest(load<f32>(x + (<usize>i << 2)) * inv) + KV_Q4_BIAS;
          const hi = <i32>nearest(load<f32>(x + (<usize>(i + h) << 2)) * inv) + KV_Q4_BIAS;
          store<u8>(base + <usize>i, <u8>(lo | (hi << 4)));
        }
      }
    }
  }
}

/** Decode one row of `type` at src into d f32 values at dst. */
export function kv_decode_row(src: usize, dst: usize, d: i32, type: i32): void {
  if (type == F32) {
    memory.copy(dst, src, <usize>d << 2);
    return;
  }
  if (type == F16) {
    let i = 0;
    for (; i + 8 <= d; i += 8) {
      const h = v128.load(src + (<usize>i << 1));
      v128.store(dst + (<usize>i << 2), f16x8_low(h));
      v128.store(dst + (<usize>i << 2), f16x8_high(h), 16);
    }
    for (; i < d; i++) store<f32>(dst + (<usize>i << 2), f16_to_f32(<u32>load<u16>(src + (<usize>i << 1))));
    return;
  }
  const qb = kv_qblock(d);
  const nb = d / qb;
  if (type == KV_Q8) {
    const scales = kvRowScales(src, d, KV_Q8);
    for (let b = 0; b < nb; b++) {
      const s = f32x4.splat(load<f32>(scales + (<usize>b << 2)));
      for (let i = b * qb, e = i + qb; i < e; i += 8) {
        const w = v128.load8x8_s(src + <usize>i);
        const o = dst + (<usize>i << 2);
        v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w)), s));
        v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w)), s), 16);
      }
    }
    return;
  }
  // KV_Q4
  const scales = kvRowScales(src, d, type);
  const h = qb >> 1;
  for (let b = 0; b < nb; b++) {
    const s = load<f32>(scales + (<usize>b << 2));
    const base = src + <usize>(b * h);
    const o = dst + (<usize>(b * qb) << 2);
    if (qb == 32) {
      const bytes = v128.load(base);
      const eight = i8x16.splat(<i8>KV_Q4_BIAS);
      const lo = i8x16.sub(v128.and(bytes, i8x16.splat(15)), eight);
      const hi = i8x16.sub(i8x16.shr_u(bytes, 4), eight);
      store16(o, lo, s);
      store16(o + 64, hi, s);
    } else {
      for (let i = 0; i < h; i++) {
        const c = <i32>load<u8>(base + <usize>i);
        store<f32>(o + (<usize>i << 2), <f32>((c & 15) - KV_Q4_BIAS) * s);
        store<f32>(o + (<usize>(i + h) << 2), <f32>((c >> 4) - KV_Q4_BIAS) * s);
      }
    }
  }
}

// 16 i8 lanes times s to 16 f32 at o.
@inline
function store16(o: usize, c: v128, s: f32): void {
  const sv = f32x4.splat(s);
  const a = i16x8.extend_low_i8x16_s(c);
  const b = i16x8.extend_high_i8x16_s(c);
  v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(a)), sv));
  v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(a)), sv), 16);
  v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(b)), sv), 32);
  v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(b)), sv), 48);
}

/**
 * Store n positions [pos, pos+n) of nKV heads: src is f32 [n][nKV·d]; the row of head h at position p goes
 * to dst + h·headStride + p·kv_row_bytes(d, type). When vsum != 0 (f32 [nKV][d]) the decoded stored rows
 * are added to it, so the running sum matches what the cache holds. `tmp` holds d f32.
 */
export function kv_store(src: usize, n: i32, nKV: i32, d: i32, dst: usize, headStride: usize, pos: i32, type: i32, vsum: usize, tmp: usize): void {
  const rowBytes = <usize>kv_row_bytes(d, type);
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < nKV; h++) {
      const s = src + (<usize>(t * nKV + h) * <usize>d << 2);
      const o = dst + <usize>h * headStride + <usize>(pos + t) * rowBytes;
      kv_encode_row(s, o, d, type);
      if (vsum != 0) {
        kv_decode_row(o, tmp, d, type);
        addRow(vsum + (<usize>(h * d) << 2), tmp, d);
      }
    }
  }
}

@inline
function addRow(acc: usize, x: usize, d: i32): void {
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    v128.store(acc + o, f32x4.add(v128.load(acc + o), v128.load(x + o)));
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + load<f32>(x + o));
  }
}

/** vsum[h][:] = sum of the decoded rows [0, len) of each of nKV heads (recomputed exactly after truncation). */
export function kv_vsum(v: usize, headStride: usize, nKV: i32, d: i32, type: i32, len: i32, vsum: usize, tmp: usize): void {
  const rowBytes = <usize>kv_row_bytes(d, type);
  for (let h = 0; h < nKV; h++) {
    const acc = vsum + (<usize>(h * d) << 2);
    memory.fill(acc, 0, <usize>d << 2);
    for (let p = 0; p < len; p++) {
      kv_decode_row(v + <usize>h * headStride + <usize>p * rowBytes, tmp, d, type);
      addRow(acc, tmp, d);
    }
  }
}

/**
 * Store n positions [pos, pos+n) of nKV heads (src f32 [n][nKV·d]) into the transposed-K tiles of head h at
 * dst + h·headStride (room for `tiles` tiles, layout above).
 */
export function kv_store_t(src: usize, n: i32, nKV: i32, d: i32, dst: usize, headStride: usize, pos: i32, type: i32, tiles: i32): void {
  for (let t = 0; t < n; t++) {
    const p = pos + t;
    const off = p % KT_TILE;
    const ti = p / KT_TILE;
    for (let h = 0; h < nKV; h++) {
      const s = src + (<usize>(t * nKV + h) * <usize>d << 2);
      const base = dst + <usize>h * headStride;
      for (let i = 0; i < d; i++) {
        const x = load<f32>(s + (<usize>i << 2));
        const row = kv_tile_codes_at(base, d, type, ti, i);
        if (type == F32) store<f32>(row + (<usize>off << 2), x);
        else if (type == F16) store<u16>(row + (<usize>off << 1), <u16>f32_to_f16(x));
        else storeTileQ(row, kv_tile_scale_at(base, d, type, tiles, ti, i), off, x, type == KV_Q8);
      }
    }
  }
}

@inline
function tileGet(row: usize, j: i32, q8: bool): i32 {
  if (q8) return <i32>load<i8>(row + <usize>j);
  const h = KT_TILE >> 1;
  const b = <i32>load<u8>(row + <usize>(j % h));
  return (j < h ? b & 15 : b >> 4) - KV_Q4_BIAS;
}

@inline
function tileSet(row: usize, j: i32, c: i32, q8: bool): void {
  if (q8) { store<i8>(row + <usize>j, <i8>c); return; }
  const h = KT_TILE >> 1;
  const p = row + <usize>(j % h);
  const b = <i32>load<u8>(p);
  const u = c + KV_Q4_BIAS;
  store<u8>(p, <u8>(j < h ? (b & 0xf0) | u : (b & 15) | (u << 4)));
}

// One value into a q8/q4 tile row with its scale at sp; a new tile (off 0) starts a fresh scale.
@inline
function storeTileQ(row: usize, sp: usize, off: i32, x: f32, q8: bool): void {
  let s = off == 0 ? <f32>0 : load<f32>(sp);
  const need: f32 = abs(x) / (q8 ? <f32>KV_Q8_MAX : <f32>KV_Q4_MAX);
  if (need > s) {
    if (s > 0) {
      const f: f32 = s / need;
      for (let j = 0; j < off; j++) tileSet(row, j, <i32>nearest(<f32>tileGet(row, j, q8) * f), q8);
    }
    s = need;
    store<f32>(sp, s);
  }
  tileSet(row, off, s > 0 ? <i32>nearest(x / s) : 0, q8);
}

/** Value of component i at position p of one head's transposed-K tiles (for tests and checks). */
export function kv_t_get(base: usize, d: i32, type: i32, tiles: i32, p: i32, i: i32): f32 {
  const row = kv_tile_codes_at(base, d, type, p / KT_TILE, i);
  const off = p % KT_TILE;
  if (type == F32) return load<f32>(row + (<usize>off << 2));
  if (type == F16) return f16_to_f32(<u32>load<u16>(row + (<usize>off << 1)));
  return <f32>tileGet(row, off, type == KV_Q8) * load<f32>(kv_tile_scale_at(base, d, type, tiles, p / KT_TILE, i));
}
