// The contract between a forward pass (model/decoder.ts) and the generation loop (engine/generate.ts).

/** What the generation loop needs from a loaded model: a forward pass over a KV cache. */
export interface ModelCore {
  readonly vocabSize: number;
  /** KV-cache capacity in positions. */
  readonly contextLength: number;
  /** Positions currently in the KV cache. */
  readonly length: number;
  /**
   * Run `tokens` at positions [pos, pos + tokens.length) (pos <= length; positions >= pos are overwritten),
   * prefill in batches, and return the logits of the last token: a view valid until the next call.
   */
  evaluate(tokens: readonly number[], pos: number): Float32Array;
  /** Drop positions >= pos from the KV cache. */
  truncate(pos: number): void;
  /** Attention statistics since the last reset (for the final stats). */
  attentionStats(): AttentionStats;
  resetStats(): void;
}

export interface AttentionStats {
  kind: 'dense' | 'sparq';
  /** SparQ parameters of the last decode step, if SparQ ran. */
  r?: number;
  k?: number;
  /** Attention bytes read divided by what dense attention would have read, over all decode steps. */
  fractionRead?: number;
}
