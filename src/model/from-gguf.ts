// ModelConfig from GGUF metadata (llama.cpp's key names: `<arch>.block_count`, ...). What llama.cpp's
// converters leave out of the file, llama.cpp fixes per architecture, and so do we: Gemma's embedding scale
// and sliding-window layer pattern, Gemma 3's local RoPE base, the NeoX rotary layout of every family but
// llama, and the attention scale of the 27B Gemmas.
import type { ModelConfig, RopeScaling } from './config.js';
import { FAMILIES, familyDefaults, validateConfig } from './config.js';
import { FormatError, UnsupportedError } from '../errors.js';

/** Gemma 3's sliding-window layers rotate with this base (llama.cpp hard-codes it; the file does not say). */
const GEMMA3_LOCAL_THETA = 10000;
/** Layer counts of the 27B Gemma 2 and Gemma 3, which scale scores by 1/sqrt(dim / heads) instead of 1/sqrt(headDim). */
const GEMMA_27B_LAYERS: Record<string, number> = { gemma2: 46, gemma3: 62 };

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
  const fam = FAMILIES[arch];
  if (!fam) {
    throw new UnsupportedError(`architecture '${arch}' is not supported (supported: ${Object.keys(FAMILIES).join(', ')})`, file);
  }
  const dim = num(`${arch}.embedding_length`);
  const nHeads = num(`${arch}.attention.head_count`);
  const headDim = num(`${arch}.attention.key_length`, dim / nHeads);
  const nLayers = num(`${arch}.block_count`);
  const name = get('general.name');
  const c: ModelConfig = {
    arch,
    name: typeof name === 'string' ? name : arch,
    nLayers,
    dim,
    nHeads,
    nKVHeads: num(`${arch}.attention.head_count_kv`, nHeads),
    headDim,
    ffnDim: num(`${arch}.feed_forward_length`),
    vocabSize: num(`${arch}.vocab_size`, tokenCount),
    trainedContext: num(`${arch}.context_length`),
    normEps: fam.norm === 'layer' ? num(`${arch}.attention.layer_norm_epsilon`) : num(`${arch}.attention.layer_norm_rms_epsilon`),
    rope: {
      theta: num(`${arch}.rope.freq_base`, 10000), dim: num(`${arch}.rope.dimension_count`, headDim),
      neox: !fam.ggufInterleavedRope, scaling: ropeScaling(meta, arch, file),
    },
    ...familyDefaults(arch, dim, headDim, nLayers),
  };
  if (arch === 'gptneox') {
    const par = get('gptneox.use_parallel_residual');
    if (typeof par === 'boolean') c.parallelResidual = par;
  }
  if (GEMMA_27B_LAYERS[arch] !== undefined) {
    c.attnScale = 1 / Math.sqrt(nLayers === GEMMA_27B_LAYERS[arch] ? dim / nHeads : headDim);
  }
  c.attnSoftcap = num(`${arch}.attn_logit_softcapping`, 0);
  c.finalSoftcap = num(`${arch}.final_logit_softcapping`, 0);
  const window = num(`${arch}.attention.sliding_window`, 0);
  if (fam.ggufSwaPattern > 0 && window > 0) {
    const p = fam.ggufSwaPattern;
    c.layerWindows = c.layerWindows.map((_, l) => (l % p < p - 1 ? window : 0));
    if (arch === 'gemma3') c.rope.localTheta = GEMMA3_LOCAL_THETA;
  }
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
