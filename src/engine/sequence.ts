// One generation as the scheduler runs it: its prompt and how much of it is in its cache slot, sampling,
// the streamed text with stop strings held back, the chunks waiting for the consumer, and its result.
import type { Tokenizer } from '../tokenizer/index.js';
import type { SequenceState } from '../model/core.js';
import { attentionStatsOf } from '../model/decoder.js';
import { newCounters, type AttentionSetting } from '../attention/index.js';
import type { Sampler } from '../sample/sampler.js';
import type { GenerateStats, GenerationChunk, GenerationResult, TokenLogprob } from './types.js';
import { StopFilter } from './stop-filter.js';
import { tokenLogprob } from './logprobs.js';

export type StopReason = GenerateStats['stopReason'];

export interface SequenceOptions {
  maxTokens: number;
  stop: string[];
  /** Alternatives per token when log-probabilities are reported. */
  logprobs: number | undefined;
  attention: AttentionSetting;
  signal: AbortSignal | undefined;
  /** Reuse a cached prefix of the prompt. */
  reuse: boolean;
}

export class Sequence {
  /** Cache slot while admitted, else -1. */
  slot = -1;
  /** Prompt tokens whose rows are in the slot. */
  prefilled = 0;
  /** The sampled token that the next decode step feeds (undefined while prefilling). */
  pending: number | undefined;
  /** Decode steps run (forward passes that fed a sampled token). */
  decodeSteps = 0;
  readonly state: SequenceState;
  readonly stats: GenerateStats;
  readonly result: Promise<GenerationResult>;
  private readonly history: number[];
  private readonly tokens: number[] = [];
  private readonly logprobs: TokenLogprob[] | undefined;
  private readonly text: string[] = [];
  private readonly decode: ReturnType<Tokenizer['decoder']>;
  private readonly filter: StopFilter;
  private readonly queue: GenerationChunk[] = [];
  private waiter: (() => void) | undefined;
  private failure: unknown;
  private ended = false;
  private submitted = 0;
  private pendingTokens: number[] = [];
  private pendingLogprobs: TokenLogprob[] = [];
  private settle!: (r: GenerationResult) => void;
  private reject!: (e: unknown) => void;

  constructor(readonly prompt: readonly number[], private readonly tokenizer: Pick<Tokenizer, 'decoder' | 'stopIds'>,
    private readonly sampler: Sampler, readonly options: SequenceOptions) {
    this.history = [...prompt];
    this.logprobs = options.logprobs === undefined ? undefined : [];
    this.decode = tokenizer.decoder();
    this.filter = new StopFilter(options.stop);
    this.state = { setting: options.attention, counters: newCounters() };
    this.stats = {
      promptTokens: prompt.length, cachedTokens: 0, generatedTokens: 0, prefillMs: 0, decodeMs: 0, timeToFirstTokenMs: 0,
      prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, stopReason: 'aborted', attention: { kind: 'dense' },
    };
    this.result = new Promise((resolve, reject) => { this.settle = resolve; this.reject = reject; });
    this.result.catch(() => {}); // the iterator throws the same error; do not also report it as unhandled
  }

  get done(): boolean { return this.ended; }

  /** True when the generation should stop before its next step (its signal fired). */
  get aborted(): boolean { return this.options.signal?.aborted === true; }

  /** The scheduler took it (for the time to the first token). */
  markSubmitted(): void { this.submitted = performance.now(); }

  /** Admitted into `slot` with its first `cached` prompt tokens already there. */
  admit(slot: number, cached: number): void {
    this.slot = slot;
    this.prefilled = cached;
    this.stats.cachedTokens = cached;
  }

  /**
   * The logits after the last evaluated position: samples the next token, streams its text, and decides
   * whether to go on. Returns the reason to stop, or undefined to feed `pending` in the next step.
   */
  onLogits(logits: Float32Array, contextLength: number): StopReason | undefined {
    if (this.tokens.length >= this.options.maxTokens) return 'maxTokens';
    const id = this.sampler.sample(logits, this.history);
    if (this.tokens.length === 0) this.stats.timeToFirstTokenMs = performance.now() - this.submitted;
    if (this.tokenizer.stopIds.has(id)) return 'eos';
    this.tokens.push(id);
    this.pendingTokens.push(id);
    if (this.logprobs) {
      const lp = tokenLogprob(logits, id, this.options.logprobs!);
      this.logprobs.push(lp);
      this.pendingLogprobs.push(lp);
    }
    this.history.push(id);
    const safe = this.filter.push(this.decode.push(id));
    if (safe) this.emit(safe);
    if (this.filter.stopped) return 'stop';
    if (this.tokens.length >= this.options.maxTokens) return 'maxTokens';
    if (this.history.length - 1 >= contextLength) return 'contextFull';
    this.pending = id;
    return undefined;
  }

  /** Position of the pending token (it follows the prompt and the tokens before it). */
  get pendingPos(): number { return this.history.length - 1; }

  /** Ends the generation: the text held back, the result, the end of the stream. */
  finish(reason: StopReason): void {
    if (this.ended) return;
    if (reason !== 'stop') {
      const rest = this.filter.end(this.decode.flush());
      if (this.filter.stopped) reason = 'stop';
      if (rest || this.pendingTokens.length > 0) this.emit(rest);
    } else if (this.pendingTokens.length > 0) {
      this.emit('');
    }
    const s = this.stats;
    s.stopReason = reason;
    s.generatedTokens = this.tokens.length;
    s.prefillTokensPerSecond = rate(this.prompt.length - s.cachedTokens, s.prefillMs);
    s.decodeTokensPerSecond = rate(this.decodeSteps, s.decodeMs);
    s.attention = attentionStatsOf(this.state);
    this.ended = true;
    this.settle({ text: this.text.join(''), tokens: this.tokens, logprobs: this.logprobs, stats: s });
    this.wake();
  }

  /** Ends the generation with an error (the iterator throws it, the result rejects). */
  fail(e: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = e;
    this.reject(e);
    this.wake();
  }

  /** The next chunk for the consumer, or undefined once the generation has ended and every chunk was read. */
  async next(): Promise<GenerationChunk | undefined> {
    for (;;) {
      const c = this.queue.shift();
      if (c) return c;
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return undefined;
      }
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }

  private emit(text: string): void {
    this.text.push(text);
    const chunk: GenerationChunk = { text, tokens: this.pendingTokens };
    if (this.logprobs) chunk.logprobs = this.pendingLogprobs;
    this.pendingTokens = [];
    this.pendingLogprobs = [];
    this.queue.push(chunk);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

function rate(tokens: number, ms: number): number {
  return ms > 0 ? (tokens * 1000) / ms : 0;
}
