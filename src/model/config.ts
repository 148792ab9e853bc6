// One description of a decoder-only transformer. Architectures differ by these fields, not by code.
export type RopeScaling =
  | { kind: 'none' }
  | { kind: 'linear'; factor: number }
  | { kind: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number };

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
  };
  /** The output projection reuses the token embedding. */
  tiedOutput: boolean;
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
}
