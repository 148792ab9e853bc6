// Tokenizers: from GGUF metadata, from HF tokenizer.json, or from GPT-2 style encoder.json + vocab.bpe.
export type { Tokenizer, EncodeOptions, DecodeOptions, StreamingDecoder } from './types.js';
export { TokenType } from './types.js';
export { tokenizerFromGGUF } from './from-gguf.js';
export { tokenizerFromHF } from './from-hf.js';
export { tokenizerFromBPEFiles, type BPEFilesOptions } from './from-bpe-files.js';
