// Contracts between the model core, the generation loop and the public API.

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

export interface SamplingOptions {
  /** 0 means greedy (argmax). Default 0.8. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  /** How many recent tokens the repetition penalty looks at (default 64). */
  repeatLastN?: number;
  /** RNG seed; the same seed, prompt and options give the same text. */
  seed?: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxTokens?: number;
  /** Generation stops before any of these strings; the stop string itself is not emitted. */
  stop?: string[];
  signal?: AbortSignal;
  /** Add BOS as the model's metadata says (default true). */
  addSpecial?: boolean;
}

export interface GenerateStats {
  promptTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  stopReason: 'eos' | 'stop' | 'maxTokens' | 'contextFull' | 'aborted';
  attention: AttentionStats;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  stats: GenerateStats;
}

/** Async iterable of text chunks; `result` resolves after the last chunk. */
export interface Generation extends AsyncIterable<string> {
  readonly result: Promise<GenerationResult>;
}
