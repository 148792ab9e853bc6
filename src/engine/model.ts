// A loaded model: tokenizer + forward pass + generation, with no CLI or platform concerns.
import type { Tokenizer } from '../tokenizer/index.js';
import type { ModelConfig } from '../model/config.js';
import type { Decoder } from '../model/decoder.js';
import type { Generation, GenerateOptions } from './types.js';
import type { AttentionSetting } from '../attention/index.js';
import { generate } from './generate.js';
import { SparqError, InvalidArgumentError } from '../errors.js';

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
  contextLength: number;
  /** Total Wasm memory in use after loading. */
  memoryBytes: number;
  /** Every buffer allocated at load, by name (`weights.*`, `kv.*`, `attention.*`, ...), with its bytes. */
  memoryPlan: readonly { name: string; bytes: number }[];
  /** Threads the kernels run on (1 where threads were not asked for or are not available). */
  threads: number;
}

export class Model {
  private busy = false;
  private disposed = false;
  readonly #decoder: Decoder;

  constructor(readonly tokenizer: Tokenizer, decoder: Decoder, readonly info: ModelInfo) {
    this.#decoder = decoder;
  }

  /** Stream text for `prompt`; iterate for chunks, then await `.result` for the text, ids and stats. */
  generate(prompt: string | number[], options: GenerateOptions = {}): Generation {
    this.checkAlive();
    if (this.busy) throw new InvalidArgumentError('a generation is already running on this model');
    this.busy = true;
    const gen = generate(this.#decoder, this.tokenizer, prompt, options);
    const release = () => { this.busy = false; };
    gen.result.then(release, release);
    return gen;
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
    return this.#decoder.evaluateAll(ids, 0);
  }

  /** The attention of decode steps in later generations. */
  get attention(): AttentionSetting { return this.#decoder.attentionSetting; }

  /**
   * Switch decode-step attention between 'dense' and SparQ settings. SparQ needs the SparQ cache layout:
   * load with a SparQ `attention` setting or `sparqLayout: true`.
   */
  setAttention(setting: AttentionSetting): void {
    this.checkIdle();
    this.#decoder.attentionSetting = setting;
  }

  /** Not public API: decoderOf is how the research tools call it. */
  [DECODER](): Decoder {
    this.checkIdle();
    return this.#decoder;
  }

  /** Release the model's memory. The model cannot be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.#decoder.rt.dispose(); // ends the worker threads
  }

  private checkIdle(): void {
    this.checkAlive();
    if (this.busy) throw new InvalidArgumentError('a generation is running on this model');
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
