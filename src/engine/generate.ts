// The generation loop: prefill the prompt, then sample and evaluate one token at a time, streaming text.
// Lazy: nothing runs until the consumer pulls the first chunk, and each token waits for the next pull.
// Between tokens the loop yields to the event loop, so an AbortSignal fired by a timer is seen.
import type { Tokenizer } from '../tokenizer/index.js';
import type { ModelCore, Generation, GenerateOptions, GenerationResult, GenerateStats } from './types.js';
import { Sampler } from '../sample/sampler.js';
import { InvalidArgumentError } from '../errors.js';

/** What generation needs from a tokenizer. */
export type GenerationTokenizer = Pick<Tokenizer, 'encode' | 'decoder' | 'stopIds'>;

const DEFAULT_MAX_TOKENS = 256;
/** Prompt tokens per evaluate call during prefill, with a yield to the event loop between calls. */
const PREFILL_CHUNK = 256;

/**
 * Streams the continuation of `prompt` (text, or token ids used as given). Always starts at position 0;
 * the KV cache is reused and overwritten. Bad options or a prompt that does not fit the context throw
 * InvalidArgumentError here, before anything runs. Iterate the result once; breaking out of the loop stops
 * generation (stopReason 'aborted').
 */
export function generate(core: ModelCore, tokenizer: GenerationTokenizer, prompt: string | number[], options: GenerateOptions = {}): Generation {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw new InvalidArgumentError(`maxTokens must be an integer >= 0, got ${maxTokens}`);
  const stop = options.stop ?? [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new InvalidArgumentError('stop must be an array of non-empty strings');
  }
  const sampler = new Sampler(core.vocabSize, options);
  const ids = typeof prompt === 'string' ? tokenizer.encode(prompt, { addSpecial: options.addSpecial ?? true }) : [...prompt];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= core.vocabSize) throw new InvalidArgumentError(`prompt token id ${id} is outside the vocabulary [0, ${core.vocabSize})`);
  }
  if (ids.length === 0) throw new InvalidArgumentError('the prompt is empty (no tokens to evaluate)');
  if (ids.length > core.contextLength) throw new InvalidArgumentError(`prompt has ${ids.length} tokens, context is ${core.contextLength}`);
  return new Run(core, tokenizer, ids, sampler, maxTokens, stop, options.signal);
}

class Run implements Generation {
  readonly result: Promise<GenerationResult>;
  private settle!: (r: GenerationResult) => void;
  private fail!: (e: unknown) => void;
  private iterated = false;

  constructor(
    private readonly core: ModelCore, private readonly tokenizer: GenerationTokenizer, private readonly prompt: number[],
    private readonly sampler: Sampler, private readonly maxTokens: number, private readonly stop: string[],
    private readonly signal: AbortSignal | undefined,
  ) {
    this.result = new Promise((resolve, reject) => { this.settle = resolve; this.fail = reject; });
    this.result.catch(() => {}); // the iterator throws the same error; do not also report it as unhandled
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.iterated) throw new InvalidArgumentError('a Generation can be iterated only once');
    this.iterated = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<string> {
    const { core, prompt, signal } = this;
    const stats: GenerateStats = {
      promptTokens: prompt.length, generatedTokens: 0, prefillMs: 0, decodeMs: 0,
      prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, stopReason: 'aborted', attention: { kind: 'dense' },
    };
    const tokens: number[] = [];
    let text = '';
    let settled = false;
    let evals = 0; // decode-step forward passes
    const finish = (reason: GenerateStats['stopReason']) => {
      stats.stopReason = reason;
      stats.generatedTokens = tokens.length;
      stats.prefillTokensPerSecond = rate(prompt.length, stats.prefillMs);
      stats.decodeTokensPerSecond = rate(evals, stats.decodeMs);
      stats.attention = core.attentionStats();
      settled = true;
      this.settle({ text, tokens, stats });
    };
    try {
      core.resetStats();
      let logits: Float32Array | undefined;
      for (let pos = 0; pos < prompt.length && !signal?.aborted; pos += PREFILL_CHUNK) {
        const t0 = performance.now();
        logits = core.evaluate(prompt.slice(pos, pos + PREFILL_CHUNK), pos);
        stats.prefillMs += performance.now() - t0;
        if (pos + PREFILL_CHUNK < prompt.length) await nextTurn();
      }
      const history = [...prompt];
      const decoder = this.tokenizer.decoder();
      const filter = new StopFilter(this.stop);
      let reason: GenerateStats['stopReason'] | undefined;
      while (reason === undefined) {
        if (signal?.aborted || logits === undefined) { reason = 'aborted'; break; }
        if (tokens.length >= this.maxTokens) { reason = 'maxTokens'; break; }
        const t0 = performance.now();
        const id = this.sampler.sample(logits, history);
        if (this.tokenizer.stopIds.has(id)) { reason = 'eos'; break; }
        tokens.push(id);
        history.push(id);
        const safe = filter.push(decoder.push(id));
        const pos = history.length - 1;
        if (filter.stopped) reason = 'stop';
        else if (tokens.length >= this.maxTokens) reason = 'maxTokens';
        else if (pos >= core.contextLength) reason = 'contextFull';
        else {
          logits = core.evaluate([id], pos);
          evals++;
        }
        stats.decodeMs += performance.now() - t0;
        if (safe) { text += safe; yield safe; }
        if (reason === undefined) await nextTurn();
      }
      if (reason !== 'stop') {
        const rest = filter.end(decoder.flush());
        if (filter.stopped) reason = 'stop';
        if (rest) { text += rest; yield rest; }
      }
      finish(reason);
    } catch (e) {
      settled = true;
      this.fail(e);
      throw e;
    } finally {
      // The consumer left the loop early: the generation ends as if aborted.
      if (!settled) finish('aborted');
    }
  }
}

/**
 * Holds back text that could be the start of a stop string; reports a match and drops it and all after it.
 */
class StopFilter {
  stopped = false;
  private pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds decoded text; returns what is now safe to emit. */
  push(piece: string): string {
    if (this.stopped) return '';
    const p = this.pending + piece;
    let cut = -1;
    for (const s of this.stops) {
      const i = p.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.pending = '';
      return p.slice(0, cut);
    }
    const hold = this.heldLength(p);
    this.pending = p.slice(p.length - hold);
    return p.slice(0, p.length - hold);
  }

  /** Generation ended: everything held back is safe unless the last piece completes a stop string. */
  end(piece: string): string {
    const out = this.push(piece);
    if (this.stopped) return out;
    const rest = this.pending;
    this.pending = '';
    return out + rest;
  }

  /** Length of the longest suffix of p that is a proper prefix of a stop string. */
  private heldLength(p: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, p.length); n > best; n--) {
        if (p.endsWith(s.slice(0, n))) { best = n; break; }
      }
    }
    return best;
  }
}

function rate(tokens: number, ms: number): number {
  return ms > 0 ? (tokens * 1000) / ms : 0;
}

/** Resolves on a later turn of the event loop (after pending timers and I/O), portably. */
function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { ch.port1.close(); r(); };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}
