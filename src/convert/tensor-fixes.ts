// The tensor rewrites llama.cpp's converter applies on the way to GGUF, on f32 values: Q/K rows to the
// interleaved rotary layout, llama3 RoPE scaling as per-frequency divisors, a per-head fused QKV regrouped.
import { InvalidArgumentError } from '../errors.js';
import { regroupQKV } from '../model/weights.js';

/**
 * Reorder the rows of a Q or K projection ([nHead·headDim] rows of `cols`) as llama.cpp's converter does:
 * within each head, viewed as [2][headDim/2] rows, swap to [headDim/2][2], so that output row 2i+j is input
 * row j·headDim/2 + i.
 */
export function permuteQK(w: Float32Array, nHead: number, cols: number): Float32Array {
  const rows = w.length / cols;
  if (!Number.isInteger(rows) || rows % nHead !== 0 || (rows / nHead) % 2 !== 0) {
    throw new InvalidArgumentError(`permuteQK: ${rows} rows do not split into ${nHead} heads of even size`);
  }
  const half = rows / nHead / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * 2 * half + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), (h * 2 * half + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

export interface Llama3Scaling { factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number }

/**
 * Per-frequency divisors of llama3 rope scaling, as llama.cpp's converter writes them into rope_freqs.weight:
 * wavelengths shorter than original/high_freq_factor keep 1, longer than original/low_freq_factor get `factor`,
 * and the band between interpolates smoothly in 1/factor. The converter computes in float32 tensors, so
 * every step here is rounded to f32 (fround) to give the same bits.
 */
export function llama3RopeFactors(headDim: number, theta: number, s: Llama3Scaling): Float32Array {
  const f = Math.fround;
  const lowWavelen = s.originalContext / s.lowFreqFactor;
  const highWavelen = s.originalContext / s.highFreqFactor;
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const freq = f(1 / f(theta ** f((2 * i) / headDim)));
    const wavelen = f(f(2 * Math.PI) / freq);
    if (wavelen < f(highWavelen)) out[i] = 1;
    else if (wavelen > f(lowWavelen)) out[i] = s.factor;
    else {
      const smooth = f(f(f(f(s.originalContext) / wavelen) - f(s.lowFreqFactor)) / f(s.highFreqFactor - s.lowFreqFactor));
      out[i] = f(1 / f(f(f(1 - smooth) / f(s.factor)) + smooth));
    }
  }
  return out;
}

/** GPT-NeoX query_key_value rows [head][q|k|v][headDim] (of `cols` values) -> [q|k|v][head][headDim] (llama.cpp's layout). */
export function regroupQKVValues(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  if (w.length !== 3 * nHeads * headDim * cols) {
    throw new InvalidArgumentError(`regroupQKV: ${w.length} values are not 3 x ${nHeads} heads x ${headDim} rows of ${cols}`);
  }
  return regroupQKV(w, new Float32Array(w.length), nHeads, headDim * cols);
}
