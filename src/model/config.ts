// One description of a decoder-only transformer. Architectures differ by these fields, not by code: the
// loaders fill them from each family's traits (FAMILIES) and its file's settings, and the decoder reads them.
export type RopeScaling =
  | { kind: 'none' }
  | { kind: 'linear'; factor: number }
  | { kind: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number };

/** 'rms': RMSNorm, x / rms(x) · w. 'layer': LayerNorm with bias, (x - mean) / std · w + b. */
export type NormKind = 'rms' | 'layer';
/** 'swiglu': silu(gate)·up. 'geglu': gelu_tanh(gate)·up. 'gelu': erf GELU of up (no gate), with biases. */
export type MlpKind = 'swiglu' | 'geglu' | 'gelu';

export interface ModelConfig {
  /** Architecture name as GGUF writes it (general.architecture), e.g. 'llama'. */
  arch: string;
  name: string;
  nLayers: number;
  /** Model (residual stream) width. */
  dim: number;
  nHeads: number;
  nKVHeads: number;
  headDim: number;
  ffnDim: number;
  vocabSize: number;
  /** Context length the model was trained for (from its metadata). */
  trainedContext: number;
  normEps: number;
  rope: {
    theta: number;
    /** Number of leading components of each head that are rotated. */
    dim: number;
    /** false: rotate pairs (2i, 2i+1) (GGUF llama layout); true: pairs (i, i + dim/2) (HF layout). */
    neox: boolean;
    scaling: RopeScaling;
    /** Base of the sliding-window layers, which rotate without scaling (Gemma 3); absent: as the others. */
    localTheta?: number;
  };
  /** The output projection reuses the token embedding. */
  tiedOutput: boolean;
  norm: NormKind;
  /**
   * Added to every norm weight once, when the decoder is built: HF Gemma checkpoints store w where the norm
   * multiplies by 1 + w (GGUF converters store 1 + w, so 0 there).
   */
  normOffset: number;
  mlp: MlpKind;
  /** x + attn(norm1(x)) + mlp(norm2(x)) instead of two sequential residual blocks (GPT-NeoX). */
  parallelResidual: boolean;
  /** RMSNorm of the attention output and of the MLP output before each residual add (Gemma 2, 3). */
  postNorms: boolean;
  /** Per-head RMSNorm of q and k before RoPE (Qwen3, Gemma 3). */
  qkNorm: boolean;
  /** The Q, K, V rows of an HF fused query_key_value are interleaved per head ([head][q|k|v][headDim], GPT-NeoX). */
  qkvInterleaved: boolean;
  /** The up projection holds [gate; up] rows (Phi-3's gate_up_proj, stored as GGUF ffn_up). */
  fusedGateUp: boolean;
  /** Token embeddings are multiplied by this (Gemma: sqrt(dim)); 1 elsewhere. */
  embedScale: number;
  /** Attention score scale (1/sqrt(headDim) for most; Gemma 2/3 use query_pre_attn_scalar). */
  attnScale: number;
  /** score → cap·tanh(score/cap) before the softmax; 0: none (Gemma 2). */
  attnSoftcap: number;
  /** logit → cap·tanh(logit/cap); 0: none (Gemma 2, some Gemma 3). */
  finalSoftcap: number;
  /** Per layer: sliding-window length (a position sees itself and the window - 1 before it), 0 = full. */
  layerWindows: number[];
}

/** What a family fixes, whatever its file says. Everything else comes from the file's settings. */
export interface FamilyTraits {
  norm: NormKind;
  mlp: MlpKind;
  /** Default when the file does not say (HF tie_word_embeddings, GPT-NeoX use_parallel_residual). */
  tied: boolean;
  parallelResidual: boolean;
  postNorms: boolean;
  qkNorm: boolean;
  fusedGateUp: boolean;
  embedScaled: boolean;
  /** HF RMSNorm multiplies by 1 + w. */
  normPlusOne: boolean;
  /** GGUF Q/K rows in llama.cpp's interleaved rotary layout (only 'llama': its converter permutes them). */
  ggufInterleavedRope: boolean;
  /** llama.cpp's sliding-window layer pattern: layer l slides when l % n < n - 1 (0: no sliding layers). */
  ggufSwaPattern: number;
}

const BASE: FamilyTraits = {
  norm: 'rms', mlp: 'swiglu', tied: false, parallelResidual: false, postNorms: false, qkNorm: false,
  fusedGateUp: false, embedScaled: false, normPlusOne: false, ggufInterleavedRope: false, ggufSwaPattern: 0,
};

/** Traits of each supported family, by GGUF architecture name. */
export const FAMILIES: Readonly<Record<string, FamilyTraits>> = {
  llama: { ...BASE, ggufInterleavedRope: true },
  qwen2: { ...BASE },
  qwen3: { ...BASE, qkNorm: true },
  gemma: { ...BASE, mlp: 'geglu', tied: true, embedScaled: true, normPlusOne: true },
  gemma2: { ...BASE, mlp: 'geglu', tied: true, embedScaled: true, normPlusOne: true, postNorms: true, ggufSwaPattern: 2 },
  gemma3: { ...BASE, mlp: 'geglu', tied: true, embedScaled: true, normPlusOne: true, postNorms: true, qkNorm: true, ggufSwaPattern: 6 },
  phi3: { ...BASE, fusedGateUp: true },
  gptneox: { ...BASE, norm: 'layer', mlp: 'gelu', parallelResidual: true },
};

/** The fields every family shares a default for; loaders spread this and override what the file says. */
export function familyDefaults(arch: string, dim: number, headDim: number, nLayers: number): Pick<ModelConfig,
  'norm' | 'normOffset' | 'mlp' | 'parallelResidual' | 'postNorms' | 'qkNorm' | 'qkvInterleaved' | 'fusedGateUp' |
  'embedScale' | 'attnScale' | 'attnSoftcap' | 'finalSoftcap' | 'layerWindows' | 'tiedOutput'> {
  const f = FAMILIES[arch];
  return {
    norm: f.norm, normOffset: 0, mlp: f.mlp, parallelResidual: f.parallelResidual, postNorms: f.postNorms,
    qkNorm: f.qkNorm, qkvInterleaved: false, fusedGateUp: f.fusedGateUp,
    embedScale: f.embedScaled ? Math.fround(Math.sqrt(dim)) : 1, attnScale: 1 / Math.sqrt(headDim),
    attnSoftcap: 0, finalSoftcap: 0, layerWindows: new Array<number>(nLayers).fill(0), tiedOutput: f.tied,
  };
}

/** Sanity checks shared by every loader: what the forward pass relies on. */
export function validateConfig(c: ModelConfig, check: (ok: boolean, field: string, expected: string) => void): void {
  for (const [field, v] of [
    ['nLayers', c.nLayers], ['dim', c.dim], ['nHeads', c.nHeads], ['nKVHeads', c.nKVHeads],
    ['headDim', c.headDim], ['ffnDim', c.ffnDim], ['vocabSize', c.vocabSize],
  ] as const) {
    check(Number.isSafeInteger(v) && v > 0 && v <= 1 << 24, field, `a positive integer, got ${v}`);
  }
  check(c.nHeads % c.nKVHeads === 0, 'nKVHeads', `a divisor of the head count ${c.nHeads}, got ${c.nKVHeads}`);
  check(c.rope.dim > 0 && c.rope.dim <= c.headDim && c.rope.dim % 2 === 0, 'rope.dim', `an even number <= head dim ${c.headDim}, got ${c.rope.dim}`);
  check(c.rope.theta > 0 && Number.isFinite(c.rope.theta), 'rope.theta', `a positive number, got ${c.rope.theta}`);
  check(c.normEps > 0 && c.normEps < 1, 'normEps', `a small positive number, got ${c.normEps}`);
  check(c.attnScale > 0 && Number.isFinite(c.attnScale), 'attnScale', `a positive number, got ${c.attnScale}`);
  check(c.attnSoftcap >= 0 && Number.isFinite(c.attnSoftcap), 'attnSoftcap', `0 or a positive number, got ${c.attnSoftcap}`);
  check(c.finalSoftcap >= 0 && Number.isFinite(c.finalSoftcap), 'finalSoftcap', `0 or a positive number, got ${c.finalSoftcap}`);
  check(c.layerWindows.length === c.nLayers && c.layerWindows.every((w) => Number.isSafeInteger(w) && w >= 0),
    'layerWindows', `one non-negative integer per layer (${c.nLayers})`);
}
