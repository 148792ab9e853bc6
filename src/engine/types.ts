// Contracts between the generation loop and the public API. The model core's contract (ModelCore,
// AttentionStats) and the sampling options are defined by the layers that own them and re-exported here.
import type { AttentionStats } from '../model/core.js';
import type { SamplingOptions } from '../sample/options.js';

export type { ModelCore, AttentionStats } from '../model/core.js';
export type { SamplingOptions } from '../sample/options.js';

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
