// ggml's importance-free reference quantisers and the dequantisers for the K-quants (super-blocks of 256
// values; layouts in assembly/matmul_kquant.ts). Scale searches, as in ggml-quants.c:
//   Q2_K: per 16 values, scale and min by a weighted least-squares search over 16 steps (|x| weights, absolute error),
//         both quantised to 4 bits against the super-block's largest;
//   Q3_K: per 16 values, a symmetric scale refined by coordinate descent (x^2 weights), 6-bit signed scales;
//   Q4_K/Q5_K: per 32 values, scale and min by the least-squares search (weights rms + |x|), 6-bit scales/mins;
//   Q6_K: per 16 values, the symmetric scale search over 19 candidates (x^2 weights), 8-bit signed scales.
// Then every value is re-rounded against the stored (f16 x integer) scales. f32 rounding where ggml uses f32.
import { f32ToF16Bits, f16BitsToF32 } from '../formats/half-floats.js';

const fr = Math.fround;
const QK = 256;
const GROUP_MAX_EPS = 1e-15;

export type KKind = 'Q2_K' | 'Q3_K' | 'Q4_K' | 'Q5_K' | 'Q6_K';
export const K_BYTES: Record<KKind, number> = { Q2_K: 84, Q3_K: 110, Q4_K: 144, Q5_K: 176, Q6_K: 210 };

/** Round to nearest, ties to even (ggml's nearest_int on an f32). */
function nearestInt(v: number): number {
  const f = Math.floor(v), diff = v - f;
  return diff > 0.5 ? f + 1 : diff < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
}
const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Asymmetric search (ggml make_qkx2_quants): returns [scale, -min]; L receives 0..nmax. */
function searchScaleMin(x: Float32Array, w: Float32Array, nmax: number, L: Uint8Array, rmin: number, rdelta: number, nstep: number, mad: boolean): [number, number] {
  const n = x.length;
  let min = x[0], max = x[0], sumW = w[0], sumX = fr(w[0] * x[0]);
  for (let i = 1; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sumW = fr(sumW + w[i]); sumX = fr(sumX + fr(w[i] * x[i]));
  }
  if (min > 0) min = 0;
  if (max === min) { L.fill(0); return [0, -min]; }
  let iscale = fr(nmax / fr(max - min)), scale = fr(1 / iscale);
  const err = (s: number, m: number, Q: ArrayLike<number>) => {
    let e = 0;
    for (let i = 0; i < n; i++) { const diff = fr(fr(fr(s * Q[i]) + m) - x[i]); e = fr(e + fr(w[i] * (mad ? Math.abs(diff) : fr(diff * diff)))); }
    return e;
  };
  for (let i = 0; i < n; i++) L[i] = clamp(nearestInt(fr(iscale * fr(x[i] - min))), 0, nmax);
  let best = err(scale, min, L);
  const aux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sl = 0, sl2 = 0, sxl = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(fr(iscale * fr(x[i] - min))), 0, nmax);
      aux[i] = l;
      sl = fr(sl + fr(w[i] * l)); sl2 = fr(sl2 + fr(fr(w[i] * l) * l)); sxl = fr(sxl + fr(fr(w[i] * l) * x[i]));
    }
    const D = fr(fr(sumW * sl2) - fr(sl * sl));
    if (D > 0) {
      let s = fr(fr(fr(sumW * sxl) - fr(sumX * sl)) / D), m = fr(fr(fr(sl2 * sumX) - fr(sl * sxl)) / D);
      if (m > 0) { m = 0; s = fr(sxl / sl2); }
      const e = err(s, m, aux);
      if (e < best) { L.set(aux); best = e; scale = s; min = m; }
    }
  }
  return [scale, -min];
}

/** Symmetric search (ggml make_qx_quants, rmse_type 1): returns the scale; L receives 0..2*nmax-1. */
function searchScaleSym(x: Float32Array, nmax: number, L: Int8Array): number {
  const n = x.length;
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) { const a = Math.abs(x[i]); if (a > amax) { amax = a; max = x[i]; } }
  if (amax < GROUP_MAX_EPS) { L.fill(0); return 0; }
  const pass = (iscale: number, store: boolean): [number, number] => {
    let slx = 0, sl2 = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(fr(iscale * x[i])), -nmax, nmax - 1);
      if (store) L[i] = l + nmax;
      const w = fr(x[i] * x[i]);
      slx = fr(slx + fr(fr(w * x[i]) * l)); sl2 = fr(sl2 + fr(fr(w * l) * l));
    }
    return [slx, sl2];
  };
  let [slx, sl2] = pass(fr(-nmax / max), true);
  let scale = sl2 ? fr(slx / sl2) : 0;
  let best = fr(scale * slx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    const iscale = fr(-fr(nmax + fr(0.1 * is)) / max);
    [slx, sl2] = pass(iscale, false);
    if (sl2 > 0 && fr(slx * slx) > fr(best * sl2)) { pass(iscale, true); scale = fr(slx / sl2); best = fr(scale * slx); }
  }
  return scale;
}

/** Q3_K's symmetric search with coordinate descent (ggml make_q3_quants, do_rmse): L receives 0..2*nmax-1. */
function searchScaleQ3(x: Float32Array, nmax: number, L: Int8Array): number {
  const n = x.length;
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) { const a = Math.abs(x[i]); if (a > amax) { amax = a; max = x[i]; } }
  if (amax < GROUP_MAX_EPS) { L.fill(0); return 0; }
  const iscale = fr(-nmax / max);
  let slx = 0, sl2 = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(fr(iscale * x[i])), -nmax, nmax - 1);
    L[i] = l;
    const w = fr(x[i] * x[i]);
    slx = fr(slx + fr(fr(w * x[i]) * l)); sl2 = fr(sl2 + fr(fr(w * l) * l));
  }
  for (let it = 0; it < 5; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const w = fr(x[i] * x[i]);
      let s1 = fr(slx - fr(fr(w * x[i]) * L[i]));
      if (s1 > 0) {
        let s2 = fr(sl2 - fr(fr(w * L[i]) * L[i]));
        const nl = clamp(nearestInt(fr(fr(x[i] * s2) / s1)), -nmax, nmax - 1);
        if (nl !== L[i]) {
          s1 = fr(s1 + fr(fr(w * x[i]) * nl)); s2 = fr(s2 + fr(fr(w * nl) * nl));
          if (s2 > 0 && fr(fr(s1 * s1) * sl2) > fr(fr(slx * slx) * s2)) { L[i] = nl; slx = s1; sl2 = s2; changed++; }
        }
      }
    }
    if (!changed) break;
  }
  for (let i = 0; i < n; i++) L[i] += nmax;
  return sl2 > 0 ? fr(slx / sl2) : 0;
}

/** The 6-bit scale and min of sub-block j from Q4_K/Q5_K's 12 packed bytes at s. */
function scaleMinK4(b: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [b[s + j] & 63, b[s + j + 4] & 63];
  return [(b[s + j + 4] & 15) | ((b[s + j - 4] >> 6) << 4), (b[s + j + 4] >> 4) | ((b[s + j] >> 6) << 4)];
}

/** Q3_K's scale j (signed, minus 32) from the 12 packed bytes at s. */
function scaleQ3(b: Uint8Array, s: number, j: number): number {
  const low = j < 8 ? b[s + j] & 15 : b[s + j - 8] >> 4;
  return (low | (((b[s + 8 + (j & 3)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
}

function quantizeQ4Q5K(five: boolean, x: Float32Array, b: Uint8Array, o: number, view: DataView): void {
  const nmax = five ? 31 : 15;
  const L = new Uint8Array(QK), sub = new Uint8Array(32), w = new Float32Array(32);
  const scales = new Float32Array(8), mins = new Float32Array(8);
  let maxScale = 0, maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const xs = x.subarray(32 * j, 32 * j + 32);
    let s2 = 0;
    for (let l = 0; l < 32; l++) s2 = fr(s2 + fr(xs[l] * xs[l]));
    const av = fr(Math.sqrt(fr(s2 / 32)));
    for (let l = 0; l < 32; l++) w[l] = fr(av + Math.abs(xs[l]));
    [scales[j], mins[j]] = five ? searchScaleMin(xs, w, nmax, sub, -0.5, 0.1, 15, false) : searchScaleMin(xs, w, nmax, sub, -1, 0.1, 20, false);
    L.set(sub, 32 * j);
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invS = maxScale > 0 ? fr(63 / maxScale) : 0, invM = maxMin > 0 ? fr(63 / maxMin) : 0;
  const s = o + 4;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fr(invS * scales[j])) & 255), lm = Math.min(63, nearestInt(fr(invM * mins[j])) & 255);
    if (j < 4) { b[s + j] = ls; b[s + j + 4] = lm; } else {
      b[s + j + 4] = (ls & 15) | ((lm & 15) << 4);
      b[s + j - 4] |= (ls >> 4) << 6;
      b[s + j] |= (lm >> 4) << 6;
    }
  }
  view.setUint16(o, f32ToF16Bits(fr(maxScale / 63)), true);
  view.setUint16(o + 2, f32ToF16Bits(fr(maxMin / 63)), true);
  const d = f16BitsToF32(view.getUint16(o, true)), dmin = f16BitsToF32(view.getUint16(o + 2, true));
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinK4(b, s, j);
    const dj = fr(d * sc);
    if (!dj) continue;
    const dm = fr(dmin * m);
    for (let i = 0; i < 32; i++) L[32 * j + i] = clamp(nearestInt(fr(fr(x[32 * j + i] + dm) / dj)), 0, nmax);
  }
  const qs = o + (five ? 48 : 16);
  for (let p = 0; p < 4; p++) {
    for (let l = 0; l < 32; l++) {
      const lo = L[64 * p + l], hi = L[64 * p + 32 + l];
      b[qs + 32 * p + l] = (lo & 15) | ((hi & 15) << 4);
      if (five) b[o + 16 + l] |= ((lo >> 4) << (2 * p)) | ((hi >> 4) << (2 * p + 1));
    }
  }
}

function quantizeQ6K(x: Float32Array, b: Uint8Array, o: number, view: DataView): void {
  const L = new Int8Array(QK), sub = new Int8Array(16), scales = new Float32Array(16);
  let maxScale = 0, maxAbs = 0;
  for (let j = 0; j < 16; j++) {
    scales[j] = searchScaleSym(x.subarray(16 * j, 16 * j + 16), 32, sub);
    L.set(sub, 16 * j);
    if (Math.abs(scales[j]) > maxAbs) { maxAbs = Math.abs(scales[j]); maxScale = scales[j]; }
  }
  if (maxAbs < GROUP_MAX_EPS) return; // block stays all zero
  const iscale = fr(-128 / maxScale);
  view.setUint16(o + 208, f32ToF16Bits(fr(1 / iscale)), true);
  for (let j = 0; j < 16; j++) view.setInt8(o + 192 + j, Math.min(127, nearestInt(fr(iscale * scales[j]))));
  const d = f16BitsToF32(view.getUint16(o + 208, true));
  for (let j = 0; j < 16; j++) {
    const dj = fr(d * view.getInt8(o + 192 + j));
    if (!dj) continue;
    for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(fr(x[16 * j + i] / dj)), -32, 31) + 32;
  }
  for (let n = 0; n < 2; n++) {
    for (let l = 0; l < 32; l++) {
      const v = [L[128 * n + l], L[128 * n + 32 + l], L[128 * n + 64 + l], L[128 * n + 96 + l]];
      b[o + 64 * n + l] = (v[0] & 15) | ((v[2] & 15) << 4);
      b[o + 64 * n + 32 + l] = (v[1] & 15) | ((v[3] & 15) << 4);
      b[o + 128 + 32 * n + l] = (v[0] >> 4) | ((v[1] >> 4) << 2) | ((v[2] >> 4) << 4) | ((v[3] >> 4) << 6);
    }
  }
}

function quantizeQ2K(x: Float32Array, b: Uint8Array, o: number, view: DataView): void {
  const L = new Uint8Array(QK), sub = new Uint8Array(16), w = new Float32Array(16);
  const scales = new Float32Array(16), mins = new Float32Array(16);
  let maxScale = 0, maxMin = 0;
  for (let j = 0; j < 16; j++) {
    const xs = x.subarray(16 * j, 16 * j + 16);
    for (let l = 0; l < 16; l++) w[l] = Math.abs(xs[l]);
    [scales[j], mins[j]] = searchScaleMin(xs, w, 3, sub, -0.5, 0.1, 15, true);
    L.set(sub, 16 * j);
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  if (maxScale > 0) {
    const is = fr(15 / maxScale);
    for (let j = 0; j < 16; j++) b[o + j] = nearestInt(fr(is * scales[j]));
    view.setUint16(o + 80, f32ToF16Bits(fr(maxScale / 15)), true);
  }
  if (maxMin > 0) {
    const im = fr(15 / maxMin);
    for (let j = 0; j < 16; j++) b[o + j] |= nearestInt(fr(im * mins[j])) << 4;
    view.setUint16(o + 82, f32ToF16Bits(fr(maxMin / 15)), true);
  }
  const d = f16BitsToF32(view.getUint16(o + 80, true)), dmin = f16BitsToF32(view.getUint16(o + 82, true));
  for (let j = 0; j < 16; j++) {
    const dj = fr(d * (b[o + j] & 15));
    if (!dj) continue;
    const dm = fr(dmin * (b[o + j] >> 4));
    for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(fr(fr(x[16 * j + i] + dm) / dj)), 0, 3);
  }
  packTwoBits(L, b, o + 16);
}

/** Values 128n + 32j + l at bits 2j of byte 32n + l. */
function packTwoBits(L: ArrayLike<number>, b: Uint8Array, at: number): void {
  for (let n = 0; n < 2; n++) {
    for (let l = 0; l < 32; l++) {
      b[at + 32 * n + l] = (L[128 * n + l] & 3) | ((L[128 * n + 32 + l] & 3) << 2) | ((L[128 * n + 64 + l] & 3) << 4) | ((L[128 * n + 96 + l] & 3) << 6);
    }
  }
}

function quantizeQ3K(x: Float32Array, b: Uint8Array, o: number, view: DataView): void {
  const L = new Int8Array(QK), sub = new Int8Array(16), scales = new Float32Array(16);
  let maxScale = 0, amax = 0;
  for (let j = 0; j < 16; j++) {
    scales[j] = searchScaleQ3(x.subarray(16 * j, 16 * j + 16), 4, sub);
    L.set(sub, 16 * j);
    if (Math.abs(scales[j]) > amax) { amax = Math.abs(scales[j]); maxScale = scales[j]; }
  }
  const s = o + 96;
  if (maxScale) {
    const iscale = fr(-32 / maxScale);
    for (let j = 0; j < 16; j++) {
      const l = clamp(nearestInt(fr(iscale * scales[j])), -32, 31) + 32;
      if (j < 8) b[s + j] = l & 15; else b[s + j - 8] |= (l & 15) << 4;
      b[s + 8 + (j & 3)] |= (l >> 4) << (2 * (j >> 2));
    }
    view.setUint16(o + 108, f32ToF16Bits(fr(1 / iscale)), true);
  }
  const d = f16BitsToF32(view.getUint16(o + 108, true));
  for (let j = 0; j < 16; j++) {
    const dj = fr(d * scaleQ3(b, s, j));
    if (!dj) continue;
    for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(fr(x[16 * j + i] / dj)), -4, 3) + 4;
  }
  // Bit 2 of value 128n + 32j + l goes to bit 4n + j of hmask[l]; the low 2 bits as Q2_K.
  for (let i = 0; i < QK; i++) {
    if (L[i] > 3) { b[o + (i & 31)] |= 1 << (i >> 5); L[i] -= 4; }
  }
  packTwoBits(L, b, o + 32);
}

/** Quantise `count` values (a multiple of 256) of src from index `at` into dst (super-blocks back to back). */
export function quantizeK(kind: KKind, src: ArrayLike<number>, at: number, count: number, dst: Uint8Array): void {
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const x = new Float32Array(QK);
  for (let blk = 0; blk < count / QK; blk++) {
    for (let i = 0; i < QK; i++) x[i] = src[at + QK * blk + i];
    const o = blk * K_BYTES[kind];
    dst.fill(0, o, o + K_BYTES[kind]);
    switch (kind) {
      case 'Q2_K': quantizeQ2K(x, dst, o, view); break;
      case 'Q3_K': quantizeQ3K(x, dst, o, view); break;
      case 'Q4_K': quantizeQ4Q5K(false, x, dst, o, view); break;
      case 'Q5_K': quantizeQ4Q5K(true, x, dst, o, view); break;
      case 'Q6_K': quantizeQ6K(x, dst, o, view); break;
    }
  }
}

/** Dequantise `count` values from super-blocks at src into dst from index `at` (ggml's formulas, f32). */
export function dequantizeK(kind: KKind, src: Uint8Array, count: number, dst: Float32Array, at = 0): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let blk = 0; blk < count / QK; blk++) {
    const o = blk * K_BYTES[kind], y = at + QK * blk;
    for (let i = 0; i < QK; i++) {
      const n = i >> 7, j = (i >> 5) & 3, l = i & 31;
      let v: number;
      if (kind === 'Q2_K' || kind === 'Q3_K') {
        const low = (src[o + (kind === 'Q2_K' ? 16 : 32) + 32 * n + l] >> (2 * j)) & 3;
        if (kind === 'Q2_K') {
          const sc = src[o + (i >> 4)];
          const d = f16BitsToF32(view.getUint16(o + 80, true)), dmin = f16BitsToF32(view.getUint16(o + 82, true));
          v = fr(fr(fr(d * (sc & 15)) * low) - fr(dmin * (sc >> 4)));
        } else {
          const q = low - ((src[o + l] >> (4 * n + j)) & 1 ? 0 : 4);
          v = fr(fr(f16BitsToF32(view.getUint16(o + 108, true)) * scaleQ3(src, o + 96, i >> 4)) * q);
        }
      } else if (kind === 'Q4_K' || kind === 'Q5_K') {
        const five = kind === 'Q5_K', pair = i >> 6, high = (i >> 5) & 1;
        const byte = src[o + (five ? 48 : 16) + 32 * pair + l];
        let q = high ? byte >> 4 : byte & 15;
        if (five) q |= ((src[o + 16 + l] >> (2 * pair + high)) & 1) << 4;
        const [sc, m] = scaleMinK4(src, o + 4, i >> 5);
        const d = f16BitsToF32(view.getUint16(o, true)), dmin = f16BitsToF32(view.getUint16(o + 2, true));
        v = fr(fr(fr(d * sc) * q) - fr(dmin * m));
      } else {
        const lb = src[o + 64 * n + l + 32 * (j & 1)];
        const q = ((j < 2 ? lb & 15 : lb >> 4) | (((src[o + 128 + 32 * n + l] >> (2 * j)) & 3) << 4)) - 32;
        v = fr(fr(f16BitsToF32(view.getUint16(o + 208, true)) * view.getInt8(o + 192 + (i >> 4))) * q);
      }
      dst[y + i] = v;
    }
  }
}
