// model.generate: a prompt and options checked here, before anything runs, then a Sequence for the scheduler.
// Lazy: nothing is queued until the consumer first pulls a chunk or reads `result`. Breaking out of the loop,
// cancel() and the AbortSignal end the generation at the next pass (stopReason 'aborted') and free its slot.
import type { Tokenizer } from '../tokenizer/index.js';
import type { BatchCore } from '../model/core.js';
import type { AttentionSetting } from '../attention/index.js';
import type { Generation, GenerateOptions, GenerationResult, GenerationChunk } from './types.js';
import { Sampler } from '../sample/sampler.js';
import { InvalidArgumentError } from '../errors.js';
import { Sequence } from './sequence.js';
import type { Scheduler } from './scheduler.js';

/** What generation needs from a tokenizer. */
export type GenerationTokenizer = Pick<Tokenizer, 'encode' | 'decoder' | 'stopIds'>;

const DEFAULT_MAX_TOKENS = 256;
const MAX_TOP_LOGPROBS = 20;

/**
 * Streams the continuation of `prompt` (text, or token ids used as given) on `scheduler`. The KV cache is
 * reused: a prompt that starts with what a cache slot holds is not evaluated again there (at least its last
 * token is, for its logits). Bad options or a prompt that does not fit the context throw
 * InvalidArgumentError here. Iterate the result once.
 */
export function generate(scheduler: Scheduler, core: Pick<BatchCore, 'vocabSize' | 'contextLength' | 'checkAttention'>,
  tokenizer: GenerationTokenizer, prompt: string | number[], options: GenerateOptions, defaultAttention: AttentionSetting): Generation {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw new InvalidArgumentError(`maxTokens must be an integer >= 0, got ${maxTokens}`);
  const stop = options.stop ?? [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new InvalidArgumentError('stop must be an array of non-empty strings');
  }
  const top = options.logprobs;
  if (top !== undefined && !(Number.isInteger(top) && top >= 0 && top <= MAX_TOP_LOGPROBS)) {
    throw new InvalidArgumentError(`logprobs must be an integer in [0, ${MAX_TOP_LOGPROBS}], got ${top}`);
  }
  const attention = options.attention ?? defaultAttention;
  core.checkAttention(attention);
  const sampler = new Sampler(core.vocabSize, options);
  const ids = typeof prompt === 'string' ? tokenizer.encode(prompt, { addSpecial: options.addSpecial ?? true }) : [...prompt];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= core.vocabSize) throw new InvalidArgumentError(`prompt token id ${id} is outside the vocabulary [0, ${core.vocabSize})`);
  }
  if (ids.length === 0) throw new InvalidArgumentError('the prompt is empty (no tokens to evaluate)');
  if (ids.length > core.contextLength) throw new InvalidArgumentError(`prompt has ${ids.length} tokens, context is ${core.contextLength}`);
  const seq = new Sequence(ids, tokenizer, sampler, { maxTokens, stop, logprobs: top, attention, signal: options.signal, reuse: options.cachePrompt ?? true });
  return new Run(seq, scheduler);
}

class Run implements Generation {
  private started = false;
  private iterated = false;

  constructor(private readonly seq: Sequence, private readonly scheduler: Scheduler) {}

  get result(): Promise<GenerationResult> {
    this.start();
    return this.seq.result;
  }

  cancel(): void {
    if (!this.started) { this.started = true; this.seq.finish('aborted'); return; }
    this.scheduler.cancel(this.seq);
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    const chunks = this.chunks()[Symbol.asyncIterator]();
    return {
      next: async () => {
        for (;;) {
          const r = await chunks.next();
          if (r.done) return { done: true, value: undefined };
          if (r.value.text !== '') return { done: false, value: r.value.text }; // a chunk of tokens without text
        }
      },
      return: async () => { await chunks.return?.(); return { done: true, value: undefined }; },
    };
  }

  chunks(): AsyncIterable<GenerationChunk> {
    if (this.iterated) throw new InvalidArgumentError('a Generation can be iterated only once');
    this.iterated = true;
    this.start();
    const seq = this.seq;
    const it: AsyncIterableIterator<GenerationChunk> = {
      next: async () => {
        const c = await seq.next();
        return c === undefined ? { done: true, value: undefined } : { done: false, value: c };
      },
      // leaving the loop early ends the generation
      return: async () => { this.cancel(); return { done: true, value: undefined }; },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.scheduler.submit(this.seq);
  }
}
