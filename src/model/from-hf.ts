// ModelConfig from a Hugging Face config.json (LlamaForCausalLM and compatible).
import type { ModelConfig, RopeScaling } from './config.js';
import { validateConfig } from './config.js';
import { FormatError, UnsupportedError } from '../errors.js';

const SUPPORTED_ARCHITECTURES: Record<string, string> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
};

export function configFromHF(json: unknown, file: string): ModelConfig {
  if (typeof json !== 'object' || json === null) throw new FormatError('config.json is not a JSON object', file);
  const j = json as Record<string, unknown>;
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`field ${key} must be a number, got ${JSON.stringify(j[key])}`, file, key);
    return v;
  };
  const archs = Array.isArray(j.architectures) ? j.architectures as unknown[] : [];
  const hfArch = archs.find((a): a is string => typeof a === 'string' && a in SUPPORTED_ARCHITECTURES);
  if (!hfArch) {
    throw new UnsupportedError(`architectures ${JSON.stringify(j.architectures)}: supported are ${Object.keys(SUPPORTED_ARCHITECTURES).join(', ')}`, file);
  }
  const dim = num('hidden_size');
  const nHeads = num('num_attention_heads');
  const headDim = num('head_dim', dim / nHeads);
  const rotaryFraction = num('partial_rotary_factor', 1);
  const c: ModelConfig = {
    arch: SUPPORTED_ARCHITECTURES[hfArch],
    name: typeof j._name_or_path === 'string' ? j._name_or_path : hfArch,
    nLayers: num('num_hidden_layers'),
    dim,
    nHeads,
    nKVHeads: num('num_key_value_heads', nHeads),
    headDim,
    ffnDim: num('intermediate_size'),
    vocabSize: num('vocab_size'),
    trainedContext: num('max_position_embeddings', 2048),
    normEps: num('rms_norm_eps', 1e-6),
    rope: { theta: num('rope_theta', 10000), dim: Math.round(headDim * rotaryFraction), neox: true, scaling: ropeScalingFromHF(j.rope_scaling, file) },
    tiedOutput: j.tie_word_embeddings === true,
  };
  validateConfig(c, (ok, field, expected) => { if (!ok) throw new FormatError(`${field} must be ${expected}`, file, field); });
  return c;
}

function ropeScalingFromHF(s: unknown, file: string): RopeScaling {
  if (s === undefined || s === null) return { kind: 'none' };
  if (typeof s !== 'object') throw new FormatError('rope_scaling must be an object or null', file, 'rope_scaling');
  const r = s as Record<string, unknown>;
  const kind = r.rope_type ?? r.type;
  const num = (key: string): number => {
    const v = r[key];
    if (typeof v !== 'number' || !(v > 0)) throw new FormatError(`rope_scaling.${key} must be a positive number, got ${JSON.stringify(v)}`, file, `rope_scaling.${key}`);
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
      throw new UnsupportedError(`rope_scaling type ${JSON.stringify(kind)} is not supported (supported: linear, llama3)`, file);
  }
}
