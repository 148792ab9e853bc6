// A loaded model: tokenizer + forward pass + generation, with no CLI or platform concerns.
import type { Tokenizer } from '../tokenizer/index.js';
import type { ModelConfig } from '../model/config.js';
import type { Decoder } from '../model/decoder.js';
import type { Generation, GenerateOptions } from './types.js';
import { generate } from './generate.js';
import { SparqError, InvalidArgumentError } from '../errors.js';

export interface ModelInfo {
  config: ModelConfig;
  /** Bytes of weights in Wasm memory. */
  weightBytes: number;
  /** KV-cache bytes per position (all layers, K and V, with the chosen layout and types). */
  kvBytesPerToken: number;
  contextLength: number;
  /** Total Wasm memory in use after loading. */
  memoryBytes: number;
}

export class Model {
  private busy = false;
  private disposed = false;

  constructor(readonly tokenizer: Tokenizer, private readonly decoder: Decoder, readonly info: ModelInfo) {}

  /** Stream text for `prompt`; iterate for chunks, then await `.result` for the text, ids and stats. */
  generate(prompt: string | number[], options: GenerateOptions = {}): Generation {
    this.checkAlive();
    if (this.busy) throw new InvalidArgumentError('a generation is already running on this model');
    this.busy = true;
    const gen = generate(this.decoder, this.tokenizer, prompt, options);
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
    this.checkAlive();
    if (this.busy) throw new InvalidArgumentError('a generation is running on this model');
    return this.decoder.evaluateAll(ids, 0);
  }

  /** Release the model's memory. The model cannot be used afterwards. */
  dispose(): void {
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new SparqError('the model was disposed');
  }
}
