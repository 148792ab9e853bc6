// ModelConfig from a Hugging Face config.json, for every family whose record lists the checkpoint's
// transformers class (families/). RoPE settings are read in both layouts transformers reads: the Hub's legacy
// keys (rope_theta + rope_scaling, rope_local_base_freq, rotary_pct, ...) and transformers 5's rope_parameters.
// Keys a checkpoint leaves out take the defaults of the family's transformers config class.
import type { ModelConfig, RopeScaling } from './config.js';
import { finishConfig, SIZE_LIMITS } from './config.js';
import { familyDefaults } from './config-defaults.js';
import type { Family } from './families/family.js';
import { familyOfHFClass, HF_ARCHITECTURES } from './families/index.js';
import { jsonNumber, jsonSize, type HFConfig } from './hf-json.js';
import { FormatError, UnsupportedError } from '../errors.js';
import { quoted } from '../formats/quoted.js';

export function configFromHF(json: unknown, file: string): ModelConfig {
  if (typeof json !== 'object' || json === null) throw new FormatError('config.json is not a JSON object', file);
  const j = json as HFConfig;
  const num = (key: string, fallback?: number): number => jsonNumber(j, key, file, fallback);
  const size = (key: string, max: number, fallback?: number): number => jsonSize(j, key, file, max, fallback);
  const archs = Array.isArray(j.architectures) ? j.architectures as unknown[] : [];
  const hfArch = archs.find((a): a is string => typeof a === 'string' && familyOfHFClass(a) !== undefined);
  if (!hfArch) {
    throw new UnsupportedError(`architectures ${quoted(j.architectures)}: supported are ${HF_ARCHITECTURES.join(', ')}`, file);
  }
  const fam = familyOfHFClass(hfArch)!;
  const dim = size('hidden_size', SIZE_LIMITS.width);
  const nHeads = size('num_attention_heads', SIZE_LIMITS.width);
  const nLayers = size('num_hidden_layers', SIZE_LIMITS.layers);
  const headDim = size('head_dim', SIZE_LIMITS.width, dim / nHeads);
  checkActivation(j, fam, file);
  const rope = ropeSettings(j, fam, file);
  const c: ModelConfig = {
    arch: fam.arch,
    name: typeof j._name_or_path === 'string' ? j._name_or_path : hfArch,
    nLayers,
    dim,
    nHeads,
    nKVHeads: size('num_key_value_heads', SIZE_LIMITS.width, nHeads),
    headDim,
    ffnDim: size('intermediate_size', SIZE_LIMITS.width),
    vocabSize: size('vocab_size', SIZE_LIMITS.width),
    trainedContext: size('max_position_embeddings', SIZE_LIMITS.context, 2048),
    normEps: fam.traits.norm === 'layer' ? num('layer_norm_eps', 1e-5) : num('rms_norm_eps', 1e-6),
    rope: { theta: rope.theta, dim: Math.floor(headDim * rope.partial), neox: true, scaling: rope.scaling, localTheta: rope.localTheta },
    ...familyDefaults(fam, dim, headDim, nLayers),
    layerWindows: layerWindows(j, fam, nLayers, file),
    tiedOutput: typeof j.tie_word_embeddings === 'boolean' ? j.tie_word_embeddings : fam.traits.tied,
    parallelResidual: typeof j.use_parallel_residual === 'boolean' ? j.use_parallel_residual : fam.traits.parallelResidual,
  };
  return finishConfig(fam.hf.adjust?.(c, j, file) ?? c, file);
}

function checkActivation(j: HFConfig, fam: Family, file: string): void {
  const { key, accepted, name } = fam.hf.activation;
  const act = j[key] ?? fam.hf.activation.default;
  if (!accepted.includes(act as string)) {
    throw new UnsupportedError(`${key} ${quoted(act)}: ${fam.arch} runs with ${name} only`, file);
  }
}

interface RopeSettings { theta: number; scaling: RopeScaling; partial: number; localTheta?: number }

function ropeSettings(j: HFConfig, fam: Family, file: string): RopeSettings {
  const defaultTheta = fam.hf.defaults?.ropeTheta ?? 10000;
  const defaultPartial = fam.hf.defaults?.partialRotary ?? 1;
  const pos = (v: unknown, key: string): number => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new FormatError(`${key} must be a positive number, got ${quoted(v)}`, file, key);
    return v;
  };
  const rp = j.rope_parameters;
  if (typeof rp === 'object' && rp !== null) {
    // transformers 5: one dict, or one per layer type (Gemma 3: full_attention and sliding_attention)
    const r = rp as HFConfig;
    const perType = typeof r.full_attention === 'object' && r.full_attention !== null;
    const global = (perType ? r.full_attention : r) as HFConfig;
    const local = perType ? r.sliding_attention as HFConfig | undefined : undefined;
    if (local && ropeScalingFromHF(local, file, 'rope_parameters.sliding_attention').kind !== 'none') {
      throw new UnsupportedError('rope_parameters.sliding_attention: scaled local RoPE is not supported', file);
    }
    return {
      theta: pos(global.rope_theta ?? defaultTheta, 'rope_parameters.rope_theta'),
      scaling: ropeScalingFromHF(global, file, 'rope_parameters'),
      partial: pos(global.partial_rotary_factor ?? j.partial_rotary_factor ?? j.rotary_pct ?? defaultPartial, 'partial_rotary_factor'),
      localTheta: local ? pos(local.rope_theta ?? 10000, 'rope_parameters.sliding_attention.rope_theta') : undefined,
    };
  }
  return {
    theta: pos(j.rope_theta ?? j.rotary_emb_base ?? defaultTheta, 'rope_theta'),
    scaling: ropeScalingFromHF(j.rope_scaling, file, 'rope_scaling'),
    partial: pos(j.partial_rotary_factor ?? j.rotary_pct ?? defaultPartial, 'partial_rotary_factor'),
    localTheta: fam.hf.localRopeBase ? pos(j.rope_local_base_freq ?? 10000, 'rope_local_base_freq') : undefined,
  };
}

/** Per-layer sliding windows as transformers builds its masks: from layer_types, else by the family's rule. */
function layerWindows(j: HFConfig, fam: Family, nLayers: number, file: string): number[] {
  const win = (fallback: number | null): number => {
    const v = 'sliding_window' in j ? j.sliding_window : fallback;
    if (v === null || v === undefined) return 0;
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new FormatError(`sliding_window must be null or a positive integer, got ${quoted(v)}`, file, 'sliding_window');
    return v as number;
  };
  const types = j.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== nLayers) throw new FormatError(`layer_types has ${types.length} entries for ${nLayers} layers`, file, 'layer_types');
    const w = types.includes('sliding_attention') ? win(4096) : 0;
    return types.map((t, i) => {
      if (t === 'sliding_attention') return w;
      if (t === 'full_attention') return 0;
      throw new UnsupportedError(`layer_types[${i}] ${quoted(t)} is not supported (full_attention, sliding_attention)`, file);
    });
  }
  return fam.hf.layerWindows?.(j, nLayers, win) ?? new Array<number>(nLayers).fill(0);
}

function ropeScalingFromHF(s: unknown, file: string, field: string): RopeScaling {
  if (s === undefined || s === null) return { kind: 'none' };
  if (typeof s !== 'object') throw new FormatError(`${field} must be an object or null`, file, field);
  const r = s as HFConfig;
  const kind = r.rope_type ?? r.type ?? 'default';
  const num = (key: string): number => {
    const v = r[key];
    if (typeof v !== 'number' || !(v > 0)) throw new FormatError(`${field}.${key} must be a positive number, got ${quoted(v)}`, file, `${field}.${key}`);
    return v;
  };
  switch (kind) {
    case 'default': return { kind: 'none' };
    case 'linear': return { kind: 'linear', factor: num('factor') };
    case 'llama3':
      return {
        kind: 'llama3', factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'),
        originalContext: num('original_max_position_embeddings'),
      };
    default:
      throw new UnsupportedError(`${field} type ${quoted(kind)} is not supported (supported: linear, llama3)`, file);
  }
}
