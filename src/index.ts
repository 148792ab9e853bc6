// Public API of sparq-wasm.
export * from './errors.js';
export { loadModel, type LoadOptions, type ModelSource } from './engine/load.js';
export { loadTokenizer, type LoadTokenizerOptions } from './engine/load-tokenizer.js';
export { Model, type ModelInfo, type ChatOptions } from './engine/model.js';
export type {
  Generation, GenerateOptions, GenerationResult, GenerationChunk, GenerateStats, SamplingOptions, AttentionStats, TokenLogprob,
} from './engine/types.js';
export type { ChatMessage, ChatTemplateOptions } from './engine/chat.js';
export { ChatSession, type SessionOptions } from './engine/session.js';
export { createOpenAIHandler, type OpenAIHandlerOptions, type Handler } from './serve/handler.js';
export type { AttentionSetting } from './attention/index.js';
export type { KType, VType } from './kv/cache.js';
export { kvCacheSizes } from './engine/sizes.js';
export type { KVSize, KVLayout } from './kv/sizes.js';
export type { Tokenizer, EncodeOptions, DecodeOptions, StreamingDecoder } from './tokenizer/index.js';
export type { ModelConfig } from './model/config.js';
