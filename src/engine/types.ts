// Contracts between the generation loop and the public API. The model core's contract (BatchCore,
// AttentionStats) and the sampling options are defined by the layers that own them and re-exported here.
import type { AttentionStats } from '../model/core.js';
import type { SamplingOptions } from '../sample/options.js';
import type { AttentionSetting } from '../attention/index.js';

export type { AttentionStats } from '../model/core.js';
export type { SamplingOptions } from '../sample/options.js';

export interface GenerateOptions extends SamplingOptions {
  maxTokens?: number;
  /** This generation's decode-step attention (default: the model's, see setAttention); SparQ needs the SparQ layout. */
  attention?: AttentionSetting;
  /** Generation stops before any of these strings; the stop string itself is not emitted. */
  stop?: string[];
  signal?: AbortSignal;
  /** Add BOS as the model's metadata says (default true). */
  addSpecial?: boolean;
  /** Reuse the KV rows of a cached prefix of the prompt (default true); false computes the whole prompt. */
  cachePrompt?: boolean;
  /**
   * Report each generated token's log-probability under the model (log-softmax of its logits, before any
   * sampling stage) with this many most likely alternatives (0-20); absent: none.
   */
  logprobs?: number;
}

/** A token's log-probability (natural log) and, with logprobs > 0, the most likely tokens at its position. */
export interface TokenLogprob {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

/** Text that became final, the tokens that produced it, and their log-probabilities when asked for. */
export interface GenerationChunk {
  text: string;
  tokens: number[];
  logprobs?: TokenLogprob[];
}

export interface GenerateStats {
  promptTokens: number;
  /** Prompt tokens whose KV rows were already in the cache (a shared prefix with what ran before). */
  cachedTokens: number;
  generatedTokens: number;
  /** Time of the forward passes this generation took part in while prefilling, and while decoding. */
  prefillMs: number;
  decodeMs: number;
  /** From the start (the first pull of a chunk, or reading `result`) to the first sampled token, queueing included. */
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  stopReason: 'eos' | 'stop' | 'maxTokens' | 'contextFull' | 'aborted';
  attention: AttentionStats;
  /** Chat sessions: messages left out of this turn's prompt because the conversation outgrew the context. */
  droppedMessages?: number;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  /** With the logprobs option: one entry per generated token. */
  logprobs?: TokenLogprob[];
  stats: GenerateStats;
}

/**
 * Async iterable of text chunks; `result` resolves after the last chunk. `chunks()` iterates the same
 * generation with each chunk's tokens (and log-probabilities); a generation is iterated once, either way.
 */
export interface Generation extends AsyncIterable<string> {
  /** The outcome (reading it starts a generation that was not iterated yet). */
  readonly result: Promise<GenerationResult>;
  chunks(): AsyncIterable<GenerationChunk>;
  /** Stops the generation at the next pass; `result` then settles with stopReason 'aborted'. */
  cancel(): void;
}
