// Checks at load: the tokenizer's ids against the embedding rows, and the settings worth a warning.
import type { ModelConfig } from '../model/config.js';
import { defaultThreadCount } from '../threads/support.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { FormatError } from '../errors.js';

/**
 * Every token id the tokenizer can produce must have an embedding row, and every row a model can pick must
 * decode. A GGUF lists one token per row (llama.cpp pads its list to the rows); an HF checkpoint's embedding
 * may have more rows than the tokenizer has ids (padding), never fewer.
 */
export function checkVocabulary(tokenizer: Tokenizer, config: ModelConfig, file: string, format: 'gguf' | 'hf'): void {
  const tokens = tokenizer.vocabSize, rows = config.vocabSize;
  if (format === 'gguf' && tokens !== rows) {
    throw new FormatError(`tokenizer.ggml.tokens has ${tokens} tokens but the model has ${rows} embedding rows (${config.arch}.vocab_size, token_embd.weight); they must be equal`, file, 'tokenizer.ggml.tokens');
  }
  if (format === 'hf' && tokens > rows) {
    throw new FormatError(`tokenizer.json has token ids up to ${tokens - 1} but config.json vocab_size is ${rows}: ids past the embedding rows`, file, 'vocab_size');
  }
}

/**
 * Settings a load accepts but says a word about: a context past the one the model was trained on (its
 * output degrades there), and more threads than cores (the threads wait on each other at every step).
 */
export async function settingWarnings(config: ModelConfig, o: { contextLength?: number | 'auto'; threads?: number }): Promise<string[]> {
  const out: string[] = [];
  if (typeof o.contextLength === 'number' && o.contextLength > config.trainedContext) {
    out.push(`context ${o.contextLength} is above the ${config.trainedContext} positions ${config.name} was trained on; its output past position ${config.trainedContext} degrades`);
  }
  if (o.threads !== undefined && o.threads > 1) {
    const cores = await defaultThreadCount();
    if (o.threads > cores) out.push(`${o.threads} threads on ${cores} cores: the threads wait on each other at every step, which is slower than ${cores}`);
  }
  return out;
}
