// Public API of sparq-wasm.
export * from './errors.js';
export { loadModel, type LoadOptions, type ModelSource } from './engine/load.js';
export { Model, type ModelInfo } from './engine/model.js';
export type { Generation, GenerateOptions, GenerationResult, GenerateStats, SamplingOptions, AttentionStats } from './engine/types.js';
export type { AttentionSetting } from './attention/index.js';
export type { KType, VType } from './kv/cache.js';
export { kvCacheSizes } from './engine/sizes.js';
export type { KVSize, KVLayout } from './kv/sizes.js';
export type { Tokenizer } from './tokenizer/index.js';
export type { ModelConfig } from './model/config.js';
