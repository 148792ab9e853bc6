// Which attention a decode step runs: the setting, the paper's ratio recipe and the short-context switch-off.
import { SPARQ_MAX_R } from '../kernels/abi.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * `denseBelow` overrides SPARQ_MIN_SEQ, the sequence length under which a step runs dense because dense is
 * faster there (set 0 to measure SparQ's accuracy on short sequences). The other options (docs/sparq.md
 * section 8): `sinks`, the first positions always attended exactly (inside the budget k); `denseLayers`,
 * layers whose decode steps run dense; `layerBudget`, per layer a factor on k (1 where absent), to give the
 * layers whose attention is spread more rows and the others fewer; `topP`, an adaptive budget per KV head and
 * step: the fewest selected positions whose approximate softmax mass reaches topP, between kMin·k and kMax·k;
 * `reallocation`, mean-value reallocation on or off, or on in the listed layers only (default: the load
 * option, see defaultReallocation).
 */
export interface SparqOptions {
  denseBelow?: number;
  sinks?: number;
  denseLayers?: readonly number[];
  layerBudget?: readonly number[];
  topP?: number;
  reallocation?: boolean | readonly number[];
  kMin?: number;
  kMax?: number;
}

export type AttentionSetting = 'dense'
  | ({ kind: 'sparq'; r: number; k: number } & SparqOptions)
  | ({ kind: 'sparq'; ratio: number } & SparqOptions);

/** Smallest k a ratio setting uses (the paper's long-context sweeps use min_k = 128). */
export const MIN_K = 128;

/**
 * Below this many cached positions a SparQ step runs dense: the fixed costs of SparQ (component choice,
 * a pass over the transposed tiles, the selection, the gather) outweigh what it saves. Measured on the
 * development machine (AMD EPYC, shared, Node 20, one thread, q8 K/V, r = d_h/8, k = 128): one layer's
 * decode step with 32 query / 8 KV heads, d_h 64 breaks even at S ≈ 160 (192: SparQ 1.25x faster, 320:
 * 2.0x); with 32 heads MHA, d_h 128 at S ≈ 300 (256: 0.92x, 320: 1.08x, 512: 1.5x). 320 is the larger.
 */
export const SPARQ_MIN_SEQ = 320;

export interface SparqParams { r: number; k: number; sinks: number; topP: number; kMin?: number; kMax?: number; reallocation?: boolean }

/**
 * Whether SparQ steps apply mean-value reallocation when the caller does not say: on for MHA (a group of
 * one query head per KV head), off for GQA, where the paper found it does not help.
 */
export function defaultReallocation(nHeads: number, nKVHeads: number): boolean {
  return nHeads === nKVHeads;
}

/**
 * r, k and the options of a SparQ step over S positions of `layer`, or undefined when the step runs dense (S
 * below SPARQ_MIN_SEQ, k + 1 >= S: the k selected positions plus the current token cover the whole sequence,
 * or a layer of denseLayers).
 */
export function resolveSparq(setting: Exclude<AttentionSetting, 'dense'>, headDim: number, S: number, layer = -1): SparqParams | undefined {
  if (typeof setting !== 'object' || setting === null || setting.kind !== 'sparq') {
    throw new InvalidArgumentError(`attention setting must be 'dense' or { kind: 'sparq', ... }, got ${JSON.stringify(setting)}`);
  }
  let r: number, k: number;
  if ('ratio' in setting) {
    const c = setting.ratio;
    if (!(typeof c === 'number' && c > 0 && c <= 1)) throw new InvalidArgumentError(`SparQ ratio must be in (0, 1], got ${c}`);
    r = Math.max(1, Math.min(headDim, SPARQ_MAX_R, Math.round(c * headDim)));
    k = Math.max(MIN_K, Math.round((c * S) / 2));
  } else {
    ({ r, k } = setting);
    const most = Math.min(headDim, SPARQ_MAX_R);
    if (!Number.isInteger(r) || r < 1 || r > most) throw new InvalidArgumentError(`SparQ r must be an integer in [1, ${most}], got ${r}`);
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`SparQ k must be a positive integer, got ${k}`);
  }
  const denseBelow = setting.denseBelow ?? SPARQ_MIN_SEQ;
  if (!(Number.isInteger(denseBelow) && denseBelow >= 0)) throw new InvalidArgumentError(`SparQ denseBelow must be a non-negative integer, got ${denseBelow}`);
  const { sinks = 0, denseLayers = [], layerBudget = [], topP = 0, kMin, kMax, reallocation } = setting;
  if (!(reallocation === undefined || typeof reallocation === 'boolean' || Array.isArray(reallocation) && reallocation.every((l) => Number.isInteger(l) && l >= 0))) {
    throw new InvalidArgumentError(`SparQ reallocation must be true, false or a list of layer indices, got ${JSON.stringify(reallocation)}`);
  }
  if (!(Number.isInteger(sinks) && sinks >= 0)) throw new InvalidArgumentError(`SparQ sinks must be a non-negative integer, got ${sinks}`);
  if (!Array.isArray(denseLayers) || !denseLayers.every((l) => Number.isInteger(l) && l >= 0)) {
    throw new InvalidArgumentError(`SparQ denseLayers must be a list of layer indices, got ${JSON.stringify(denseLayers)}`);
  }
  if (!Array.isArray(layerBudget) || !layerBudget.every((f) => typeof f === 'number' && f > 0)) {
    throw new InvalidArgumentError(`SparQ layerBudget must be a list of positive factors, got ${JSON.stringify(layerBudget)}`);
  }
  k = Math.max(1, Math.round(k * (layerBudget[layer] ?? 1)));
  if (!(typeof topP === 'number' && topP >= 0 && topP <= 1)) throw new InvalidArgumentError(`SparQ topP must be in [0, 1], got ${topP}`);
  if (kMin !== undefined && !(kMin >= 0) || kMax !== undefined && !(kMax >= (kMin ?? 0) && kMax >= 1)) {
    throw new InvalidArgumentError(`SparQ kMin, kMax must satisfy 0 <= kMin <= kMax, kMax >= 1, got ${kMin}, ${kMax}`);
  }
  if (S < denseBelow || k + 1 >= S || denseLayers.includes(layer)) return undefined;
  return { r, k, sinks, topP, kMin, kMax, reallocation: Array.isArray(reallocation) ? reallocation.includes(layer) : reallocation };
}
