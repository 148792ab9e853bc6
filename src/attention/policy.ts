// Which attention a decode step runs: the setting, the ratio recipe (the paper's, with this package's
// defaults for sinks, per-layer budgets and reallocation) and the short-context switch-off.
import { SPARQ_MAX_R } from '../kernels/abi.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * `denseBelow` overrides SPARQ_MIN_SEQ, the sequence length under which a step runs dense because dense is
 * faster there (set 0 to measure SparQ's accuracy on short sequences). The other options (docs/sparq.md
 * section 8): `sinks`, the first positions always attended exactly (inside the budget k; a ratio setting's
 * default is RATIO_SINKS, an {r, k} setting's 0); `denseLayers`, layers whose decode steps run dense;
 * `layerBudget`, per layer a factor on k (1 where absent; a ratio setting's default is ratioLayerBudget);
 * `topP`, an adaptive budget per KV head and step: the fewest selected positions whose approximate softmax
 * mass reaches topP, between kMin·k and kMax·k; `reallocation`, mean-value reallocation on or off, or on in
 * the listed layers only (default: the load option, else reallocatesByDefault).
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

/**
 * Smallest k a ratio setting uses in any layer (the paper's long-context sweeps use min_k = 128), also after
 * the per-layer budget: a layer given fewer rows than this loses the far positions that copying needs (on the
 * default model at 2K, SparQ 1/8 with 91 rows in layers 1-7 copied 32 tokens exactly in 2 of 20 trials,
 * with 128 in 7, dense in 13).
 */
export const MIN_K = 128;

/**
 * Below this many cached positions a SparQ step runs dense: the fixed costs of SparQ (component choice,
 * a pass over the transposed tiles, the selection, the gather) outweigh what it saves. Measured on the
 * development machine (AMD EPYC, shared, Node 20, one thread, q8 K/V, r = d_h/8, k = 128, reallocation on):
 * one layer's decode step with 32 query / 8 KV heads, d_h 64 breaks even at S ≈ 240 (192: SparQ 0.79x,
 * 256: 1.08x, 320: 1.20x, 512: 1.67x); with 32 heads MHA, d_h 128 at S ≈ 320 (256: 0.88x, 320: 0.99x,
 * 384: 1.11x, 512: 1.30x). 320 is the larger.
 */
export const SPARQ_MIN_SEQ = 320;

export interface SparqParams { r: number; k: number; sinks: number; topP: number; kMin?: number; kMax?: number; reallocation?: boolean }

/** Attention sinks of a ratio setting: the first positions, always attended exactly. */
export const RATIO_SINKS = 4;

/**
 * Whether a layer's SparQ steps apply mean-value reallocation when neither the setting nor the load option
 * says: every layer but the first, whose attention is spread so thinly that the mean V drowns its output
 * (docs/sparq.md section 8: on the default model, reallocation in layer 0 alone costs +51% perplexity at
 * 1/8, in layers 1-7 it takes the cost from +5.1% to +1.9%).
 */
export function reallocatesByDefault(layer: number): boolean {
  return layer > 0;
}

/** A ratio setting's factor on k in the first layer (of models with FIRST_LAYER_MIN_LAYERS layers or more). */
export const FIRST_LAYER_BUDGET = 3;
const FIRST_LAYER_MIN_LAYERS = 6;

/**
 * A ratio setting's factor on k in `layer` of nLayers: FIRST_LAYER_BUDGET times the rows in the first layer,
 * whose attention is spread the most, and the others share what is left, (nLayers - 3)/(nLayers - 1) each,
 * so a step reads as many rows in all; 1 in models of fewer than 6 layers.
 */
export function ratioLayerBudget(layer: number, nLayers: number): number {
  if (nLayers < FIRST_LAYER_MIN_LAYERS || layer < 0) return 1;
  return layer === 0 ? FIRST_LAYER_BUDGET : (nLayers - FIRST_LAYER_BUDGET) / (nLayers - 1);
}

/**
 * r, k and the options of a SparQ step over S positions of `layer` (of nLayers), or undefined when the step
 * runs dense (S below SPARQ_MIN_SEQ, k + 1 >= S: the k selected positions plus the current token cover the
 * whole sequence, or a layer of denseLayers). Without a layer, no per-layer default applies.
 */
export function resolveSparq(setting: Exclude<AttentionSetting, 'dense'>, headDim: number, S: number, layer = -1, nLayers = 0): SparqParams | undefined {
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
  const byRatio = 'ratio' in setting;
  const { sinks = byRatio ? RATIO_SINKS : 0, denseLayers = [], layerBudget, topP = 0, kMin, kMax, reallocation } = setting;
  if (!(reallocation === undefined || typeof reallocation === 'boolean' || Array.isArray(reallocation) && reallocation.every((l) => Number.isInteger(l) && l >= 0))) {
    throw new InvalidArgumentError(`SparQ reallocation must be true, false or a list of layer indices, got ${JSON.stringify(reallocation)}`);
  }
  if (!(Number.isInteger(sinks) && sinks >= 0)) throw new InvalidArgumentError(`SparQ sinks must be a non-negative integer, got ${sinks}`);
  if (!Array.isArray(denseLayers) || !denseLayers.every((l) => Number.isInteger(l) && l >= 0)) {
    throw new InvalidArgumentError(`SparQ denseLayers must be a list of layer indices, got ${JSON.stringify(denseLayers)}`);
  }
  if (layerBudget !== undefined && !(Array.isArray(layerBudget) && layerBudget.every((f) => typeof f === 'number' && f > 0))) {
    throw new InvalidArgumentError(`SparQ layerBudget must be a list of positive factors, got ${JSON.stringify(layerBudget)}`);
  }
  const factor = layerBudget ? layerBudget[layer] ?? 1 : byRatio ? ratioLayerBudget(layer, nLayers) : 1;
  k = Math.max(byRatio ? MIN_K : 1, Math.round(k * factor));
  if (!(typeof topP === 'number' && topP >= 0 && topP <= 1)) throw new InvalidArgumentError(`SparQ topP must be in [0, 1], got ${topP}`);
  if (kMin !== undefined && !(kMin >= 0) || kMax !== undefined && !(kMax >= (kMin ?? 0) && kMax >= 1)) {
    throw new InvalidArgumentError(`SparQ kMin, kMax must satisfy 0 <= kMin <= kMax, kMax >= 1, got ${kMin}, ${kMax}`);
  }
  if (S < denseBelow || k + 1 >= S || denseLayers.includes(layer)) return undefined;
  return { r, k, sinks, topP, kMin, kMax, reallocation: Array.isArray(reallocation) ? reallocation.includes(layer) : reallocation };
}
