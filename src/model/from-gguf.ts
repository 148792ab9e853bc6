// ModelConfig from a GGUF header (llama.cpp's key names: `<arch>.block_count`, ...). What llama.cpp's
// converters leave out of the file, llama.cpp fixes per architecture, and so does each family record here
// (families/): the rotary layout, the sliding-window layer pattern and the family's own adjustments.
import type { ModelConfig, RopeScaling } from './config.js';
import { finishConfig, checkedSize, SIZE_LIMITS } from './config.js';
import { familyDefaults } from './config-defaults.js';
import { familyOf } from './families/index.js';
import { GGUF_NAMES } from './weights.js';
import type { GGUFHeader } from '../formats/gguf.js';
import { FormatError, UnsupportedError } from '../errors.js';

/** The config a GGUF describes: its metadata, and its tensor list for what only that tells (a tied output). */
export function configFromGGUF(header: Pick<GGUFHeader, 'metadata' | 'tensors'>, file: string): ModelConfig {
  const meta = header.metadata;
  const get = (key: string): unknown => meta.get(key);
  const num = (key: string, fallback?: number): number => {
    const v = get(key) ?? fallback;
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new FormatError(`metadata ${key} must be a number, got ${describe(get(key))}`, file, key);
    }
    return v;
  };
  /** A size field, checked before anything is sized by it (`max`: a SIZE_LIMITS bound). */
  const size = (key: string, max: number, fallback?: number): number => checkedSize(num(key, fallback), max, file, key, !meta.has(key));
  const arch = get('general.architecture');
  if (typeof arch !== 'string') throw new FormatError(`metadata general.architecture must be a string, got ${describe(arch)}`, file, 'general.architecture');
  const fam = familyOf(arch, file);
  const tokens = get('tokenizer.ggml.tokens');
  const dim = size(`${arch}.embedding_length`, SIZE_LIMITS.width);
  const nHeads = size(`${arch}.attention.head_count`, SIZE_LIMITS.width);
  const headDim = size(`${arch}.attention.key_length`, SIZE_LIMITS.width, dim / nHeads);
  const nLayers = size(`${arch}.block_count`, SIZE_LIMITS.layers);
  const vocabKey = `${arch}.vocab_size`;
  if (!meta.has(vocabKey) && !Array.isArray(tokens)) {
    throw new FormatError(`metadata tokenizer.ggml.tokens must be an array of strings (it gives the vocabulary size when ${vocabKey} is absent), got ${describe(tokens)}`, file, 'tokenizer.ggml.tokens');
  }
  const name = get('general.name');
  const c: ModelConfig = {
    arch,
    name: typeof name === 'string' ? name : arch,
    nLayers,
    dim,
    nHeads,
    nKVHeads: size(`${arch}.attention.head_count_kv`, SIZE_LIMITS.width, nHeads),
    headDim,
    ffnDim: size(`${arch}.feed_forward_length`, SIZE_LIMITS.width),
    vocabSize: size(vocabKey, SIZE_LIMITS.width, Array.isArray(tokens) ? tokens.length : undefined),
    trainedContext: size(`${arch}.context_length`, SIZE_LIMITS.context),
    normEps: fam.traits.norm === 'layer' ? num(`${arch}.attention.layer_norm_epsilon`) : num(`${arch}.attention.layer_norm_rms_epsilon`),
    rope: {
      theta: num(`${arch}.rope.freq_base`, 10000), dim: num(`${arch}.rope.dimension_count`, headDim),
      neox: !fam.gguf.interleavedRope, scaling: ropeScaling(meta, arch, file),
    },
    ...familyDefaults(fam, dim, headDim, nLayers),
    tiedOutput: !header.tensors.some((t) => t.name === GGUF_NAMES.output),
    attnSoftcap: num(`${arch}.attn_logit_softcapping`, 0),
    finalSoftcap: num(`${arch}.final_logit_softcapping`, 0),
    layerWindows: slidingLayers(num(`${arch}.attention.sliding_window`, 0), fam.gguf.slidingPattern, nLayers),
  };
  return finishConfig(fam.gguf.adjust?.(c, (key) => get(`${arch}.${key}`)) ?? c, file);
}

/** llama.cpp's pattern: with a window, layer l slides when l % pattern < pattern - 1 (pattern 0: none does). */
function slidingLayers(window: number, pattern: number, nLayers: number): number[] {
  return Array.from({ length: nLayers }, (_, l) => (pattern > 0 && window > 0 && l % pattern < pattern - 1 ? window : 0));
}

function ropeScaling(meta: Map<string, unknown>, arch: string, file: string): RopeScaling {
  const type = meta.get(`${arch}.rope.scaling.type`);
  if (type === undefined || type === 'none') return { kind: 'none' };
  if (type === 'linear') {
    const factor = meta.get(`${arch}.rope.scaling.factor`);
    if (typeof factor !== 'number' || !(factor > 0)) throw new FormatError(`metadata ${arch}.rope.scaling.factor must be a positive number`, file, `${arch}.rope.scaling.factor`);
    return { kind: 'linear', factor };
  }
  throw new UnsupportedError(`rope scaling type ${describe(type)} is not supported (supported: linear; llama3 comes as rope_freqs.weight)`, file);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (key absent)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return `an array`;
  return String(v);
}
