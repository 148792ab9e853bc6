// One description of a decoder-only transformer. Architectures differ by these fields, not by code: the
// readers (from-gguf.ts, from-hf.ts) fill them from the family record (families/) and the file's settings,
// and the decoder reads them. A config is frozen once read: it means the same thing for its whole life.
import { FormatError } from '../errors.js';
import { quoted } from '../formats/quoted.js';

export type RopeScaling =
  | { readonly kind: 'none' }
  | { readonly kind: 'linear'; readonly factor: number }
  | {
    readonly kind: 'llama3'; readonly factor: number; readonly lowFreqFactor: number; readonly highFreqFactor: number;
    readonly originalContext: number;
  };

/** 'rms': RMSNorm, x / rms(x) · w. 'layer': LayerNorm with bias, (x - mean) / std · w + b. */
export type NormKind = 'rms' | 'layer';
/** 'swiglu': silu(gate)·up. 'geglu': gelu_tanh(gate)·up. 'gelu': erf GELU of up (no gate), with biases. */
export type MlpKind = 'swiglu' | 'geglu' | 'gelu';

export interface RopeConfig {
  readonly theta: number;
  /** Number of leading components of each head that are rotated. */
  readonly dim: number;
  /** false: rotate pairs (2i, 2i+1) (GGUF llama layout); true: pairs (i, i + dim/2) (HF layout). */
  readonly neox: boolean;
  readonly scaling: RopeScaling;
  /** Base of the sliding-window layers, which rotate without scaling (Gemma 3); absent: as the others. */
  readonly localTheta?: number;
}

export interface ModelConfig {
  /** Architecture name as GGUF writes it (general.architecture), e.g. 'llama'. */
  readonly arch: string;
  readonly name: string;
  readonly nLayers: number;
  /** Model (residual stream) width. */
  readonly dim: number;
  readonly nHeads: number;
  readonly nKVHeads: number;
  readonly headDim: number;
  readonly ffnDim: number;
  readonly vocabSize: number;
  /** Context length the model was trained for (from its metadata). */
  readonly trainedContext: number;
  readonly normEps: number;
  readonly rope: RopeConfig;
  /** The output projection reuses the token embedding. */
  readonly tiedOutput: boolean;
  readonly norm: NormKind;
  readonly mlp: MlpKind;
  /** x + attn(norm1(x)) + mlp(norm2(x)) instead of two sequential residual blocks (GPT-NeoX). */
  readonly parallelResidual: boolean;
  /** RMSNorm of the attention output and of the MLP output before each residual add (Gemma 2, 3). */
  readonly postNorms: boolean;
  /** Per-head RMSNorm of q and k before RoPE (Qwen3, Gemma 3). */
  readonly qkNorm: boolean;
  /** The up projection holds [gate; up] rows (Phi-3's gate_up_proj, stored as GGUF ffn_up). */
  readonly fusedGateUp: boolean;
  /** Token embeddings are multiplied by this (Gemma: sqrt(dim)); 1 elsewhere. */
  readonly embedScale: number;
  /** Attention score scale (1/sqrt(headDim) for most; Gemma 2/3 use query_pre_attn_scalar). */
  readonly attnScale: number;
  /** score → cap·tanh(score/cap) before the softmax; 0: none (Gemma 2). */
  readonly attnSoftcap: number;
  /** logit → cap·tanh(logit/cap); 0: none (Gemma 2, some Gemma 3). */
  readonly finalSoftcap: number;
  /** Per layer: sliding-window length (a position sees itself and the window - 1 before it), 0 = full. */
  readonly layerWindows: readonly number[];
}

/**
 * Upper bounds of the sizes a file states, checked as the readers read them, before anything is sized by
 * them: far above any real model, low enough that the per-layer arrays and the memory plan stay cheap.
 */
export const SIZE_LIMITS = { layers: 1 << 12, width: 1 << 24, context: 2 ** 32 } as const;

/**
 * A size stated by a file: a positive integer up to `max`; FormatError naming the file's field otherwise.
 * `absent`: the field is not in the file and `v` is the default derived from other sizes.
 */
export function checkedSize(v: unknown, max: number, file: string, field: string, absent = false): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max) return v;
  const got = absent ? `absent, and the value it defaults to is ${quoted(v)}` : `got ${quoted(v)}`;
  throw new FormatError(`${field} must be an integer in [1, ${max}]; ${got}`, file, field);
}

/**
 * The readers' last step: the checks the forward pass relies on (a failure names the field of `file`), then
 * the config frozen, its nested objects included.
 */
export function finishConfig(c: ModelConfig, file: string): ModelConfig {
  const check = (ok: boolean, field: string, expected: string) => { if (!ok) throw new FormatError(`${field} must be ${expected}`, file, field); };
  for (const [field, v] of [
    ['nLayers', c.nLayers], ['dim', c.dim], ['nHeads', c.nHeads], ['nKVHeads', c.nKVHeads],
    ['headDim', c.headDim], ['ffnDim', c.ffnDim], ['vocabSize', c.vocabSize],
  ] as const) {
    check(Number.isSafeInteger(v) && v > 0 && v <= (field === 'nLayers' ? SIZE_LIMITS.layers : SIZE_LIMITS.width), field, `a positive integer, got ${v}`);
  }
  check(Number.isSafeInteger(c.trainedContext) && c.trainedContext > 0 && c.trainedContext <= SIZE_LIMITS.context, 'trainedContext', `a positive integer, got ${c.trainedContext}`);
  check(c.nHeads % c.nKVHeads === 0, 'nKVHeads', `a divisor of the head count ${c.nHeads}, got ${c.nKVHeads}`);
  check(c.rope.dim > 0 && c.rope.dim <= c.headDim && c.rope.dim % 2 === 0, 'rope.dim', `an even number <= head dim ${c.headDim}, got ${c.rope.dim}`);
  check(c.rope.theta > 0 && Number.isFinite(c.rope.theta), 'rope.theta', `a positive number, got ${c.rope.theta}`);
  check(c.normEps > 0 && c.normEps < 1, 'normEps', `a small positive number, got ${c.normEps}`);
  check(c.attnScale > 0 && Number.isFinite(c.attnScale), 'attnScale', `a positive number, got ${c.attnScale}`);
  check(c.attnSoftcap >= 0 && Number.isFinite(c.attnSoftcap), 'attnSoftcap', `0 or a positive number, got ${c.attnSoftcap}`);
  check(c.finalSoftcap >= 0 && Number.isFinite(c.finalSoftcap), 'finalSoftcap', `0 or a positive number, got ${c.finalSoftcap}`);
  check(c.layerWindows.length === c.nLayers && c.layerWindows.every((w) => Number.isSafeInteger(w) && w >= 0),
    'layerWindows', `one non-negative integer per layer (${c.nLayers})`);
  Object.freeze(c.rope.scaling);
  Object.freeze(c.rope);
  Object.freeze(c.layerWindows);
  return Object.freeze(c);
}
