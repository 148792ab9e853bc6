// The generation loop: prefill the prompt, then sample and evaluate one token at a time, streaming text.
// Lazy: nothing runs until the consumer pulls the first chunk, and each token waits for the next pull.
// Between tokens the loop yields to the event loop, so an AbortSignal fired by a timer is seen.
import type { Tokenizer } from '../tokenizer/index.js';
import type { ModelCore, Generation, GenerateOptions, GenerationResult, GenerateStats, GenerationChunk, TokenLogprob } from './types.js';
import { Sampler } from '../sample/sampler.js';
import { InvalidArgumentError } from '../errors.js';

/** What generation needs from a tokenizer. */
export type GenerationTokenizer = Pick<Tokenizer, 'encode' | 'decoder' | 'stopIds'>;

/**
 * The token ids whose KV rows the model's cache holds, in order from position 0 (a generation reuses the
 * longest common prefix with its prompt and keeps this up to date as it evaluates).
 */
export interface PrefixCache { ids: number[] }

const DEFAULT_MAX_TOKENS = 256;
/** Prompt tokens per evaluate call during prefill, with a yield to the event loop between calls. */
const PREFILL_CHUNK = 256;
const MAX_TOP_LOGPROBS = 20;

/**
 * Streams the continuation of `prompt` (text, or token ids used as given). The KV cache is reused: with
 * `cache`, the prompt's longest common prefix with the cached ids is not evaluated again (at least its last
 * token is, for its logits); without, it starts at position 0. Bad options or a prompt that does not fit the
 * context throw InvalidArgumentError here, before anything runs. Iterate the result once; breaking out of
 * the loop stops generation (stopReason 'aborted').
 */
export function generate(core: ModelCore, tokenizer: GenerationTokenizer, prompt: string | number[], options: GenerateOptions = {},
  cache: PrefixCache = { ids: [] }): Generation {
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
  const sampler = new Sampler(core.vocabSize, options);
  const ids = typeof prompt === 'string' ? tokenizer.encode(prompt, { addSpecial: options.addSpecial ?? true }) : [...prompt];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= core.vocabSize) throw new InvalidArgumentError(`prompt token id ${id} is outside the vocabulary [0, ${core.vocabSize})`);
  }
  if (ids.length === 0) throw new InvalidArgumentError('the prompt is empty (no tokens to evaluate)');
  if (ids.length > core.contextLength) throw new InvalidArgumentError(`prompt has ${ids.length} tokens, context is ${core.contextLength}`);
  return new Run(core, tokenizer, ids, sampler, { maxTokens, stop, signal: options.signal, top }, cache);
}

interface RunOptions { maxTokens: number; stop: string[]; signal: AbortSignal | undefined; top: number | undefined }

/** Length of the common prefix of a and b. */
function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

class Run implements Generation {
  readonly result: Promise<GenerationResult>;
  private settle!: (r: GenerationResult) => void;
  private fail!: (e: unknown) => void;
  private iterated = false;

  constructor(
    private readonly core: ModelCore, private readonly tokenizer: GenerationTokenizer, private readonly prompt: number[],
    private readonly sampler: Sampler, private readonly o: RunOptions, private readonly cache: PrefixCache,
  ) {
    this.result = new Promise((resolve, reject) => { this.settle = resolve; this.fail = reject; });
    this.result.catch(() => {}); // the iterator throws the same error; do not also report it as unhandled
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
    const run = this.run();
    return { [Symbol.asyncIterator]: () => run };
  }

  private async *run(): AsyncGenerator<GenerationChunk> {
    const { core, prompt, cache, o } = this;
    const signal = o.signal;
    // positions [0, start) are reused; at least the last prompt token runs, for its logits
    const start = Math.min(commonPrefix(cache.ids, prompt), prompt.length - 1, core.length);
    const stats: GenerateStats = {
      promptTokens: prompt.length, cachedTokens: start, generatedTokens: 0, prefillMs: 0, decodeMs: 0,
      prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, stopReason: 'aborted', attention: { kind: 'dense' },
    };
    const tokens: number[] = [];
    const logprobs: TokenLogprob[] | undefined = o.top === undefined ? undefined : [];
    let text = '';
    let settled = false;
    let evals = 0; // decode-step forward passes
    const finish = (reason: GenerateStats['stopReason']) => {
      stats.stopReason = reason;
      stats.generatedTokens = tokens.length;
      stats.prefillTokensPerSecond = rate(prompt.length - start, stats.prefillMs);
      stats.decodeTokensPerSecond = rate(evals, stats.decodeMs);
      stats.attention = core.attentionStats();
      settled = true;
      this.settle({ text, tokens, logprobs, stats });
    };
    try {
      core.resetStats();
      cache.ids.length = start; // rows past here are overwritten: only what each evaluate completes is claimed
      let logits: Float32Array | undefined;
      for (let pos = start; pos < prompt.length && !signal?.aborted; pos += PREFILL_CHUNK) {
        const t0 = performance.now();
        const part = prompt.slice(pos, pos + PREFILL_CHUNK);
        logits = core.evaluate(part, pos);
        cache.ids.push(...part);
        stats.prefillMs += performance.now() - t0;
        if (pos + PREFILL_CHUNK < prompt.length) await nextTurn();
      }
      const history = [...prompt];
      const decoder = this.tokenizer.decoder();
      const filter = new StopFilter(o.stop);
      let reason: GenerateStats['stopReason'] | undefined;
      let pending: number[] = [];
      let pendingLogprobs: TokenLogprob[] = [];
      const emit = (piece: string): GenerationChunk => {
        const chunk: GenerationChunk = { text: piece, tokens: pending };
        if (logprobs) chunk.logprobs = pendingLogprobs;
        pending = [];
        pendingLogprobs = [];
        return chunk;
      };
      while (reason === undefined) {
        if (signal?.aborted || logits === undefined) { reason = 'aborted'; break; }
        if (tokens.length >= o.maxTokens) { reason = 'maxTokens'; break; }
        const t0 = performance.now();
        const id = this.sampler.sample(logits, history);
        if (this.tokenizer.stopIds.has(id)) { reason = 'eos'; break; }
        tokens.push(id);
        pending.push(id);
        if (logprobs) {
          const lp = tokenLogprob(logits, id, o.top!);
          logprobs.push(lp);
          pendingLogprobs.push(lp);
        }
        history.push(id);
        const safe = filter.push(decoder.push(id));
        const pos = history.length - 1;
        if (filter.stopped) reason = 'stop';
        else if (tokens.length >= o.maxTokens) reason = 'maxTokens';
        else if (pos >= core.contextLength) reason = 'contextFull';
        else {
          logits = core.evaluate([id], pos);
          cache.ids.push(id);
          evals++;
        }
        stats.decodeMs += performance.now() - t0;
        if (safe) { text += safe; yield emit(safe); }
        if (reason === undefined) await nextTurn();
      }
      if (reason !== 'stop') {
        const rest = filter.end(decoder.flush());
        if (filter.stopped) reason = 'stop';
        if (rest) text += rest;
        if (rest || pending.length > 0) yield emit(rest);
      } else if (pending.length > 0) yield emit('');
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

/** log softmax(logits)[id], and the `top` most likely tokens with theirs (ties: lower id first). */
function tokenLogprob(logits: Float32Array, id: number, top: number): TokenLogprob {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - m);
  const lse = m + Math.log(z);
  const best: number[] = [];
  for (let i = 0; i < logits.length && top > 0; i++) {
    if (best.length === top && logits[i] <= logits[best[top - 1]]) continue;
    let j = Math.min(best.length, top - 1);
    best[j] = i;
    while (j > 0 && logits[best[j - 1]] < logits[i]) { best[j] = best[j - 1]; best[--j] = i; }
  }
  return { token: id, logprob: logits[id] - lse, top: best.map((t) => ({ token: t, logprob: logits[t] - lse })) };
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
