// RoPE inverse frequencies, computed on the host once per model and handed to the rope kernel.
//
// inv_freq[i] = 1 / theta^(2i / rotDim), rounded the way HF's float32 tensors round it: the exponent
// 2i/rotDim, the power and the reciprocal each rounded to f32. Then, in this order:
//   linear scaling: inv_freq / factor;
//   llama3 scaling (HF `_compute_llama3_parameters`): with wavelength λ = 2π / inv_freq and the original
//     context C, λ < C/highFreqFactor keeps inv_freq, λ > C/lowFreqFactor divides it by factor, and in
//     between it blends the two, (1 - s)·inv_freq/factor + s·inv_freq with s = (C/λ - low) / (high - low);
//   GGUF `rope_freqs.weight`: inv_freq / freqFactors[i] (llama.cpp divides each frequency by its factor;
//     llama3 GGUFs carry their scaling this way, so it cannot be combined with llama3 scaling).
// Every step rounds to f32, as the f32 tensor arithmetic it mirrors does.
import type { RopeScaling } from './config.js';
import { InvalidArgumentError } from '../errors.js';

export interface RopeFreqOptions {
  /** Number of rotated components per head (even); the result has rotDim / 2 entries. */
  rotDim: number;
  /** Base of the geometric frequency series (rope_theta / rope.freq_base). */
  theta: number;
  scaling?: RopeScaling;
  /** Per-frequency divisors (GGUF rope_freqs.weight), rotDim / 2 entries. */
  freqFactors?: Float32Array;
}

const f32 = Math.fround;

export function ropeInvFreq(opts: RopeFreqOptions): Float32Array {
  const { rotDim, theta, freqFactors } = opts;
  const scaling = opts.scaling ?? { kind: 'none' };
  validate(opts, scaling);
  const half = rotDim / 2;
  const inv = new Float32Array(half);
  const base = f32(theta);
  for (let i = 0; i < half; i++) {
    const exponent = f32((2 * i) / rotDim);
    inv[i] = f32(1 / f32(Math.pow(base, exponent)));
  }

  if (scaling.kind === 'linear') {
    const factor = f32(scaling.factor);
    for (let i = 0; i < half; i++) inv[i] = f32(inv[i] / factor);
  } else if (scaling.kind === 'llama3') {
    const { factor, lowFreqFactor: low, highFreqFactor: high, originalContext: ctx } = scaling;
    const fac = f32(factor);
    const lowWavelen = f32(ctx / low);   // longer wavelengths than this are scaled fully
    const highWavelen = f32(ctx / high); // shorter wavelengths than this are kept
    const twoPi = f32(2 * Math.PI);
    const span = f32(high - low);
    for (let i = 0; i < half; i++) {
      const wavelen = f32(twoPi / inv[i]);
      if (wavelen > lowWavelen) {
        inv[i] = f32(inv[i] / fac);
      } else if (!(wavelen < highWavelen)) {
        const s = f32(f32(f32(f32(ctx) / wavelen) - f32(low)) / span);
        inv[i] = f32(f32(f32(f32(1 - s) * inv[i]) / fac) + f32(s * inv[i]));
      }
    }
  }

  if (freqFactors) {
    for (let i = 0; i < half; i++) inv[i] = f32(inv[i] / freqFactors[i]);
  }
  return inv;
}

function validate(opts: RopeFreqOptions, scaling: RopeScaling): void {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new InvalidArgumentError(`ropeInvFreq: ${field} must be ${expected}, got ${String(got)}`);
  };
  const positive = (field: string, v: number): void => {
    if (!(Number.isFinite(v) && v > 0)) bad(field, 'a positive finite number', v);
  };
  const { rotDim, theta, freqFactors } = opts;
  if (!(Number.isSafeInteger(rotDim) && rotDim >= 2 && rotDim % 2 === 0)) bad('rotDim', 'an even integer >= 2', rotDim);
  positive('theta', theta);
  if (scaling.kind === 'linear') positive('scaling.factor', scaling.factor);
  if (scaling.kind === 'llama3') {
    positive('scaling.factor', scaling.factor);
    positive('scaling.lowFreqFactor', scaling.lowFreqFactor);
    positive('scaling.highFreqFactor', scaling.highFreqFactor);
    positive('scaling.originalContext', scaling.originalContext);
    if (!(scaling.highFreqFactor > scaling.lowFreqFactor)) {
      bad('scaling.highFreqFactor', `greater than lowFreqFactor (${scaling.lowFreqFactor})`, scaling.highFreqFactor);
    }
    if (freqFactors) bad('freqFactors', 'absent with llama3 scaling (rope_freqs.weight already holds that scaling)', 'an array');
  }
  if (freqFactors) {
    if (freqFactors.length !== rotDim / 2) bad('freqFactors.length', `rotDim / 2 = ${rotDim / 2}`, freqFactors.length);
    freqFactors.forEach((v, i) => positive(`freqFactors[${i}]`, v));
  }
}
