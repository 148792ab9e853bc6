// A loaded model: tokenizer + forward pass + generation, with no CLI or platform concerns.
import type { Tokenizer } from '../tokenizer/index.js';
import type { ModelConfig } from '../model/config.js';
import type { Decoder } from '../model/decoder.js';
import type { Generation, GenerateOptions } from './types.js';
import type { AttentionSetting } from '../attention/index.js';
import type { ChatTemplates } from '../tokenizer/chat-templates.js';
import { generate } from './generate.js';
import { Scheduler, type PrefixStats } from './scheduler.js';
import { renderChat, selectTemplate, type ChatMessage, type ChatTemplateOptions } from './chat.js';
import { ChatSession, type SessionOptions, type SessionHost } from './session.js';
import { encodeSession, decodeSession } from './saved-session.js';
import { modelFingerprint } from './fingerprint.js';
import { SparqError, InvalidArgumentError, FormatError } from '../errors.js';

/**
 * Key of the method that hands an idle model's decoder to decoderOf. A registered symbol, so a model from one
 * copy of this module (a bundle) and decoderOf from another (the file-by-file build) agree on it.
 */
const DECODER = Symbol.for('sparq-wasm.model.decoder');

export interface ModelInfo {
  config: ModelConfig;
  /** Bytes of weights in Wasm memory. */
  weightBytes: number;
  /** KV-cache bytes per position (all layers, K and V, with the chosen layout and types). */
  kvBytesPerToken: number;
  /** KV-cache positions of each sequence. */
  contextLength: number;
  /** Generations that run at once (each with its own KV cache). */
  maxSequences: number;
  /** Wasm memory the model holds: in use after loading, or the loader's peak if that was more (memory does not shrink). */
  memoryBytes: number;
  /** Every buffer allocated at load, by name (`weights.*`, `kv.*`, `attention.*`, ...), with its bytes. */
  memoryPlan: readonly { name: string; bytes: number }[];
  /** Threads the kernels run on (1 where threads were not asked for or are not available). */
  threads: number;
  /** The kernel build that runs: 'relaxed' (relaxed-SIMD dot products, self-checked at startup) or 'portable'. */
  kernels: 'relaxed' | 'portable';
  /** Milliseconds loadModel took: reading the source, compiling the kernels, starting threads, allocating. */
  loadMs: number;
}

/** Options of model.chat: generation options and how the prompt is rendered. */
export interface ChatOptions extends GenerateOptions, ChatTemplateOptions {}

/** What the model is doing: generations running and waiting, and what prefix reuse saved so far. */
export interface ModelLoad {
  running: number;
  waiting: number;
  prefix: PrefixStats;
}

export class Model {
  private disposed = false;
  readonly #decoder: Decoder;
  readonly #scheduler: Scheduler;
  #attention: AttentionSetting;
  #fingerprint: string | undefined;

  /** chatTemplates: the model's own chat templates by name ('default' for the main one). */
  constructor(readonly tokenizer: Tokenizer, decoder: Decoder, readonly info: ModelInfo, readonly chatTemplates: ChatTemplates = new Map()) {
    this.#decoder = decoder;
    this.#scheduler = new Scheduler(decoder);
    this.#attention = decoder.attentionSetting;
  }

  /**
   * Stream text for `prompt`; iterate for chunks, then await `.result` for the text, ids and stats.
   * Generations run together, up to maxSequences at once (one forward pass per step for all of them), then
   * wait their turn. The prompt's longest common prefix with what a cache slot holds is not evaluated again.
   */
  generate(prompt: string | number[], options: GenerateOptions = {}): Generation {
    this.checkAlive();
    return generate(this.#scheduler, this.#decoder, this.tokenizer, prompt, options, this.#attention);
  }

  /** Generations running and waiting, and what prefix reuse saved so far. */
  get load(): ModelLoad {
    return { ...this.#scheduler.load, prefix: { ...this.#scheduler.prefix } };
  }

  /** The prompt text of `messages` rendered with the model's chat template (or opts.chatTemplate). */
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
    this.checkAlive();
    return renderChat(selectTemplate(this.chatTemplates, opts), this.tokenizer, messages, opts);
  }

  /**
   * The assistant's reply to `messages`, streamed like generate(). The prompt is the rendered chat template,
   * tokenized with special tokens parsed and nothing added (the template writes BOS where the model wants it);
   * generation stops at the model's end-of-turn tokens, which are not part of the text.
   */
  chat(messages: ChatMessage[], opts: ChatOptions = {}): Generation {
    return this.generate(this.chatIds(messages, opts), opts);
  }

  /** A conversation that keeps its history (and the KV rows of earlier turns) between messages. */
  createSession(opts: SessionOptions = {}): ChatSession {
    this.checkAlive();
    return new ChatSession(this.sessionHost(), opts);
  }

  /**
   * A session saved by session.save() (in this runtime or another), going on where it stopped: its KV rows go
   * into a free cache slot (when every slot is busy they are computed again at the next turn). A blob of
   * another model, another cache layout or format version, or a damaged one is a typed error, and the model
   * is unchanged.
   */
  restoreSession(bytes: Uint8Array): ChatSession {
    this.checkAlive();
    const { session: s, rows } = decodeSession(bytes);
    const where = 'saved session';
    if (s.fingerprint !== this.fingerprint) throw new FormatError(`it was saved by another model (fingerprint ${s.fingerprint}, this model's is ${this.fingerprint})`, where, 'fingerprint');
    const cache = this.#decoder.caches[0];
    if (s.layout !== cache.layoutKey) throw new FormatError(`its KV cache layout ${s.layout} differs from this model's ${cache.layoutKey}`, where, 'layout');
    if (s.length > this.info.contextLength) throw new FormatError(`it holds ${s.length} positions; this model's context is ${this.info.contextLength}`, where, 'length');
    if (s.ids.some((t) => t < 0 || t >= this.info.config.vocabSize)) throw new FormatError('it holds token ids outside the vocabulary', where, 'ids');
    if (rows.length !== cache.prefixBytes(s.length)) throw new FormatError(`${rows.length} bytes of KV rows; ${s.length} positions take ${cache.prefixBytes(s.length)}`, where, 'rows');
    this.#scheduler.place(s.ids, s.length, (slot) => this.#decoder.caches[slot].importPrefix(rows, s.length));
    return new ChatSession(this.sessionHost(), s.options, s.messages, s.ids);
  }

  /** Identifies the model's weights, vocabulary and configuration (saved sessions carry it). */
  get fingerprint(): string {
    this.#fingerprint ??= modelFingerprint(this.#decoder, this.tokenizer);
    return this.#fingerprint;
  }

  private sessionHost(): SessionHost {
    return {
      contextLength: this.info.contextLength,
      promptIds: (messages, o) => this.chatIds(messages, o),
      generateIds: (ids, o, dropped) => {
        const gen = this.generate(ids, o);
        if (dropped > 0) gen.result.then((r) => { r.stats.droppedMessages = dropped; }, () => {});
        return gen;
      },
      save: (ids, messages, options) => {
        this.checkAlive();
        const { slot, len } = this.#scheduler.cachedPrefix(ids);
        const cache = this.#decoder.caches[slot];
        const rows = cache.exportPrefix(len);
        return encodeSession({ fingerprint: this.fingerprint, layout: cache.layoutKey, length: len, ids: [...ids], messages, options }, rows);
      },
    };
  }

  private chatIds(messages: ChatMessage[], opts: ChatTemplateOptions): number[] {
    return this.tokenizer.encode(this.applyChatTemplate(messages, opts), { addSpecial: false, parseSpecial: true });
  }

  tokenize(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): number[] {
    this.checkAlive();
    return this.tokenizer.encode(text, opts);
  }

  detokenize(ids: readonly number[], opts?: { skipSpecial?: boolean }): string {
    this.checkAlive();
    return this.tokenizer.decode(ids, opts);
  }

  /**
   * Logits of every position of `ids` ([n][vocab] row-major) from a fresh cache: for scoring text and
   * checking against reference implementations.
   */
  logits(ids: readonly number[]): Float32Array {
    this.checkIdle();
    this.#scheduler.invalidate(); // slot 0's rows are rewritten
    return this.#decoder.evaluateAll(ids, 0);
  }

  /** The attention of decode steps in generations started from now on (each may also pass its own). */
  get attention(): AttentionSetting { return this.#attention; }

  /**
   * Switch the default decode-step attention between 'dense' and SparQ settings. SparQ needs the SparQ cache
   * layout: load with a SparQ `attention` setting or `sparqLayout: true`.
   */
  setAttention(setting: AttentionSetting): void {
    this.checkAlive();
    this.#decoder.checkAttention(setting);
    this.#attention = setting;
    this.#decoder.attentionSetting = setting;
  }

  /** Not public API: decoderOf is how the research tools call it. */
  [DECODER](): Decoder {
    this.checkIdle();
    this.#scheduler.invalidate(); // the caller may rewrite the caches
    return this.#decoder;
  }

  /**
   * Release the model's memory. Running and waiting generations end (stopReason 'aborted', their results
   * settle); the model cannot be used afterwards.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.#scheduler.dispose();
    this.#decoder.rt.dispose(); // ends the worker threads
  }

  private checkIdle(): void {
    this.checkAlive();
    if (!this.#scheduler.idle) throw new InvalidArgumentError('generations are running on this model');
  }

  private checkAlive(): void {
    if (this.disposed) throw new SparqError('the model was disposed');
  }
}

/**
 * The decoder of an idle model (InvalidArgumentError while a generation runs), for the research tools of
 * src/research and for benchmarks. The package entry does not export it.
 */
export function decoderOf(model: Model): Decoder {
  const get = (model as Partial<Pick<Model, typeof DECODER>>)[DECODER];
  if (typeof get !== 'function') throw new InvalidArgumentError('decoderOf: not a Model');
  return get.call(model);
}
