// The Q8_0 quantiser, and one entry point for every quantised type (legacy types in quant-legacy.ts, K-quants
// in quant-kquants.ts), used by the converter, `sparq quantize` and the tests.
// Q8_0 block (ggml): f16 scale d, then 32 int8 q; x ≈ d·q with d = amax/127 and q = round(x/d).
import { GGMLType, ggmlTypeName, ggmlTypeInfo } from '../formats/ggml-types.js';
import { f32ToF16Bits, f16BitsToF32, toF32 } from '../formats/half-floats.js';
import { quantizeLegacy, dequantizeLegacy, type LegacyKind } from './quant-legacy.js';
import { quantizeK, dequantizeK, type KKind } from './quant-kquants.js';
import { UnsupportedError, InvalidArgumentError } from '../errors.js';

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;

/**
 * Quantise `rows` rows of `cols` f32 values (cols % 32 === 0) to Q8_0 blocks, as ggml's reference
 * quantiser does: d = amax/127 in f32, q = round-half-away(x·(1/d)), d stored as f16.
 */
export function quantizeQ8_0(src: ArrayLike<number>, rows: number, cols: number, dst = new Uint8Array(rows * (cols / Q8_0_BLOCK) * Q8_0_BYTES)): Uint8Array {
  if (cols % Q8_0_BLOCK !== 0) throw new InvalidArgumentError(`Q8_0 needs a row length divisible by 32, got ${cols}`);
  if (src.length < rows * cols) throw new InvalidArgumentError(`quantizeQ8_0: ${src.length} values for ${rows}x${cols}`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const nBlocks = (rows * cols) / Q8_0_BLOCK;
  for (let b = 0; b < nBlocks; b++) {
    const x0 = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) { const a = Math.abs(src[x0 + j]); if (a > amax) amax = a; }
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const o = b * Q8_0_BYTES;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const v = Math.fround(src[x0 + j] * id);
      view.setInt8(o + 2 + j, v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }
  }
  return dst;
}

/** Q8_0 blocks -> f32 (d·q per element). */
export function dequantizeQ8_0(src: Uint8Array, n: number, dst = new Float32Array(n)): Float32Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let b = 0; b < n / Q8_0_BLOCK; b++) {
    const o = b * Q8_0_BYTES;
    const d = f16BitsToF32(view.getUint16(o, true));
    for (let j = 0; j < Q8_0_BLOCK; j++) dst[b * Q8_0_BLOCK + j] = d * view.getInt8(o + 2 + j);
  }
  return dst;
}

/** Types `quantizeRows` / `dequantizeRows` make and read, by GGML id. */
export const QUANT_KINDS: ReadonlyMap<number, string> = new Map([
  [GGMLType.Q8_0, 'Q8_0'], [GGMLType.Q4_0, 'Q4_0'], [GGMLType.Q4_1, 'Q4_1'], [GGMLType.Q5_0, 'Q5_0'], [GGMLType.Q5_1, 'Q5_1'],
  [GGMLType.Q2_K, 'Q2_K'], [GGMLType.Q3_K, 'Q3_K'], [GGMLType.Q4_K, 'Q4_K'], [GGMLType.Q5_K, 'Q5_K'], [GGMLType.Q6_K, 'Q6_K'],
]);

/** `rows` rows of `cols` f32 values to blocks of `type` (Q8_0, legacy or K-quant), with ggml's reference rules. */
export function quantizeRows(type: number, src: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  const kind = QUANT_KINDS.get(type);
  const info = ggmlTypeInfo(type);
  if (!kind || !info) throw new UnsupportedError(`cannot quantise to ${ggmlTypeName(type)}`);
  if (cols % info.blockSize !== 0) throw new InvalidArgumentError(`${kind} needs a row length divisible by ${info.blockSize}, got ${cols}`);
  if (src.length < rows * cols) throw new InvalidArgumentError(`quantizeRows: ${src.length} values for ${rows}x${cols}`);
  if (type === GGMLType.Q8_0) return quantizeQ8_0(src, rows, cols);
  const dst = new Uint8Array((rows * cols / info.blockSize) * info.bytesPerBlock);
  if (info.blockSize === 32) quantizeLegacy(kind as LegacyKind, src, 0, rows * cols, dst);
  else quantizeK(kind as KKind, src, 0, rows * cols, dst);
  return dst;
}

/** `n` values stored as `type` (F32, F16, BF16 or a type of QUANT_KINDS) to f32, with ggml's formulas. */
export function dequantizeRows(type: number, src: Uint8Array, n: number): Float32Array {
  if (type === GGMLType.F32 || type === GGMLType.F16 || type === GGMLType.BF16) return toF32(src, type);
  const kind = QUANT_KINDS.get(type);
  if (!kind) throw new UnsupportedError(`cannot dequantise ${ggmlTypeName(type)}`);
  if (type === GGMLType.Q8_0) return dequantizeQ8_0(src, n);
  const out = new Float32Array(n);
  if (ggmlTypeInfo(type)!.blockSize === 32) dequantizeLegacy(kind as LegacyKind, src, n, out);
  else dequantizeK(kind as KKind, src, n, out);
  return out;
}
