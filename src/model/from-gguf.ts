// ModelConfig from GGUF metadata (llama.cpp's key names: `<arch>.block_count`, ...).
import type { ModelConfig, RopeScaling } from './config.js';
import { validateConfig } from './config.js';
import { FormatError, UnsupportedError } from '../errors.js';

const SUPPORTED_ARCHITECTURES = new Set(['llama']);

export function configFromGGUF(meta: Map<string, unknown>, tokenCount: number | undefined, file: string): ModelConfig {
  const get = (key: string): unknown => meta.get(key);
  const num = (key: string, fallback?: number): number => {
    const v = get(key) ?? fallback;
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new FormatError(`metadata ${key} must be a number, got ${describe(get(key))}`, file, key);
    }
    return v;
  };
  const arch = get('general.architecture');
  if (typeof arch !== 'string') throw new FormatError(`metadata general.architecture must be a string, got ${describe(arch)}`, file, 'general.architecture');
  if (!SUPPORTED_ARCHITECTURES.has(arch)) {
    throw new UnsupportedError(`architecture '${arch}' is not supported (supported: ${[...SUPPORTED_ARCHITECTURES].join(', ')})`, file);
  }
  const dim = num(`${arch}.embedding_length`);
  const nHeads = num(`${arch}.attention.head_count`);
  const headDim = num(`${arch}.attention.key_length`, dim / nHeads);
  const name = get('general.name');
  const c: ModelConfig = {
    arch,
    name: typeof name === 'string' ? name : arch,
    nLayers: num(`${arch}.block_count`),
    dim,
    nHeads,
    nKVHeads: num(`${arch}.attention.head_count_kv`, nHeads),
    headDim,
    ffnDim: num(`${arch}.feed_forward_length`),
    vocabSize: num(`${arch}.vocab_size`, tokenCount),
    trainedContext: num(`${arch}.context_length`),
    normEps: num(`${arch}.attention.layer_norm_rms_epsilon`),
    rope: { theta: num(`${arch}.rope.freq_base`, 10000), dim: num(`${arch}.rope.dimension_count`, headDim), neox: false, scaling: ropeScaling(meta, arch, file) },
    tiedOutput: false,
  };
  validateConfig(c, (ok, field, expected) => { if (!ok) throw new FormatError(`${field} must be ${expected}`, file, field); });
  return c;
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
