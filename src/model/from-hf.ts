// ModelConfig from a Hugging Face config.json: the Llama-shaped families (Llama, Mistral, Qwen2, Qwen3, Gemma
// 1/2/3, Phi-3) and GPT-NeoX. RoPE settings are read in both layouts transformers reads: the Hub's legacy
// keys (rope_theta + rope_scaling, rope_local_base_freq, rotary_pct, ...) and transformers 5's rope_parameters.
// Keys a checkpoint leaves out take the defaults of the family's transformers config class.
import type { ModelConfig, RopeScaling } from './config.js';
import { FAMILIES, familyDefaults, validateConfig } from './config.js';
import { FormatError, UnsupportedError } from '../errors.js';

/** HF architecture class -> GGUF architecture name of its family. */
export const HF_ARCHITECTURES: Readonly<Record<string, string>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  GemmaForCausalLM: 'gemma',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3',
  Phi3ForCausalLM: 'phi3',
  GPTNeoXForCausalLM: 'gptneox',
};

const TANH_GELU = new Set(['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast', 'gelu_tanh']);

type Json = Record<string, unknown>;

export function configFromHF(json: unknown, file: string): ModelConfig {
  if (typeof json !== 'object' || json === null) throw new FormatError('config.json is not a JSON object', file);
  const j = json as Json;
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`field ${key} must be a number, got ${JSON.stringify(j[key])}`, file, key);
    return v;
  };
  const archs = Array.isArray(j.architectures) ? j.architectures as unknown[] : [];
  const hfArch = archs.find((a): a is string => typeof a === 'string' && a in HF_ARCHITECTURES);
  if (!hfArch) {
    throw new UnsupportedError(`architectures ${JSON.stringify(j.architectures)}: supported are ${Object.keys(HF_ARCHITECTURES).join(', ')}`, file);
  }
  const arch = HF_ARCHITECTURES[hfArch];
  const fam = FAMILIES[arch];
  const gemma = arch.startsWith('gemma');
  const dim = num('hidden_size');
  const nHeads = num('num_attention_heads');
  const nLayers = num('num_hidden_layers');
  const headDim = num('head_dim', dim / nHeads);
  checkActivation(j, arch, file);
  const rope = ropeSettings(j, arch, file);
  const c: ModelConfig = {
    arch,
    name: typeof j._name_or_path === 'string' ? j._name_or_path : hfArch,
    nLayers,
    dim,
    nHeads,
    nKVHeads: num('num_key_value_heads', nHeads),
    headDim,
    ffnDim: num('intermediate_size'),
    vocabSize: num('vocab_size'),
    trainedContext: num('max_position_embeddings', 2048),
    normEps: fam.norm === 'layer' ? num('layer_norm_eps', 1e-5) : num('rms_norm_eps', 1e-6),
    rope: { theta: rope.theta, dim: Math.floor(headDim * rope.partial), neox: true, scaling: rope.scaling, localTheta: rope.localTheta },
    ...familyDefaults(arch, dim, headDim, nLayers),
  };
  if (typeof j.tie_word_embeddings === 'boolean') c.tiedOutput = j.tie_word_embeddings;
  if (typeof j.use_parallel_residual === 'boolean') c.parallelResidual = j.use_parallel_residual;
  if (fam.normPlusOne) c.normOffset = 1;
  c.qkvInterleaved = arch === 'gptneox';
  if (arch === 'gemma2' || arch === 'gemma3') c.attnScale = 1 / Math.sqrt(num('query_pre_attn_scalar', 256));
  if (arch === 'gemma2') {
    c.attnSoftcap = softcap(j, 'attn_logit_softcapping', 50, file);
    c.finalSoftcap = softcap(j, 'final_logit_softcapping', 30, file);
  } else if (arch === 'gemma3') {
    c.attnSoftcap = softcap(j, 'attn_logit_softcapping', 0, file);
    c.finalSoftcap = softcap(j, 'final_logit_softcapping', 0, file);
  }
  c.layerWindows = layerWindows(j, arch, nLayers, file);
  if (gemma && c.layerWindows.every((w) => w === 0)) c.rope.localTheta = undefined;
  validateConfig(c, (ok, field, expected) => { if (!ok) throw new FormatError(`${field} must be ${expected}`, file, field); });
  return c;
}

function checkActivation(j: Json, arch: string, file: string): void {
  if (arch.startsWith('gemma')) {
    // transformers runs Gemma's MLP with hidden_activation (tanh GELU when unset), whatever hidden_act says
    const act = j.hidden_activation ?? 'gelu_pytorch_tanh';
    if (typeof act !== 'string' || !TANH_GELU.has(act)) {
      throw new UnsupportedError(`hidden_activation ${JSON.stringify(act)}: ${arch} runs with the tanh GELU only`, file);
    }
    return;
  }
  const want = arch === 'gptneox' ? 'gelu' : 'silu';
  const act = j.hidden_act ?? want;
  if (act !== want) throw new UnsupportedError(`hidden_act ${JSON.stringify(act)}: ${arch} runs with ${want} only`, file);
}

function softcap(j: Json, key: string, fallback: number, file: string): number {
  const v = key in j ? j[key] : fallback;
  if (v === null) return 0;
  if (typeof v !== 'number' || !(v >= 0)) throw new FormatError(`field ${key} must be null or a positive number, got ${JSON.stringify(v)}`, file, key);
  return v;
}

interface RopeSettings { theta: number; scaling: RopeScaling; partial: number; localTheta?: number }

function ropeSettings(j: Json, arch: string, file: string): RopeSettings {
  const defaultTheta = arch === 'gemma3' ? 1_000_000 : 10000;
  const defaultPartial = arch === 'gptneox' ? 0.25 : 1;
  const pos = (v: unknown, key: string): number => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new FormatError(`${key} must be a positive number, got ${JSON.stringify(v)}`, file, key);
    return v;
  };
  const rp = j.rope_parameters;
  if (typeof rp === 'object' && rp !== null) {
    // transformers 5: one dict, or one per layer type (Gemma 3: full_attention and sliding_attention)
    const r = rp as Json;
    const perType = typeof r.full_attention === 'object' && r.full_attention !== null;
    const global = (perType ? r.full_attention : r) as Json;
    const local = perType ? r.sliding_attention as Json | undefined : undefined;
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
    localTheta: arch === 'gemma3' ? pos(j.rope_local_base_freq ?? 10000, 'rope_local_base_freq') : undefined,
  };
}

/** Per-layer sliding windows as transformers builds its masks for each family. */
function layerWindows(j: Json, arch: string, nLayers: number, file: string): number[] {
  const win = (fallback: number | null): number => {
    const v = 'sliding_window' in j ? j.sliding_window : fallback;
    if (v === null || v === undefined) return 0;
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new FormatError(`sliding_window must be null or a positive integer, got ${JSON.stringify(v)}`, file, 'sliding_window');
    return v as number;
  };
  const types = j.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== nLayers) throw new FormatError(`layer_types has ${types.length} entries for ${nLayers} layers`, file, 'layer_types');
    const w = types.includes('sliding_attention') ? win(4096) : 0;
    return types.map((t, i) => {
      if (t === 'sliding_attention') return w;
      if (t === 'full_attention') return 0;
      throw new UnsupportedError(`layer_types[${i}] ${JSON.stringify(t)} is not supported (full_attention, sliding_attention)`, file);
    });
  }
  const all = (w: number) => new Array<number>(nLayers).fill(w);
  switch (arch) {
    case 'gemma2': { const w = win(4096); return all(0).map((_, i) => (i % 2 === 0 ? w : 0)); }
    case 'gemma3': {
      const w = win(4096);
      const p = typeof j.sliding_window_pattern === 'number' ? j.sliding_window_pattern : 6;
      return all(0).map((_, i) => ((i + 1) % p !== 0 ? w : 0));
    }
    case 'qwen2': case 'qwen3': {
      if (j.use_sliding_window !== true) return all(0);
      const w = win(4096);
      const from = typeof j.max_window_layers === 'number' ? j.max_window_layers : nLayers;
      return all(0).map((_, i) => (i >= from ? w : 0));
    }
    case 'llama': case 'phi3': return all(win(null)); // Mistral and Phi-3 slide every layer when sliding_window is set
    default: return all(0);
  }
}

function ropeScalingFromHF(s: unknown, file: string, field: string): RopeScaling {
  if (s === undefined || s === null) return { kind: 'none' };
  if (typeof s !== 'object') throw new FormatError(`${field} must be an object or null`, file, field);
  const r = s as Json;
  const kind = r.rope_type ?? r.type ?? 'default';
  const num = (key: string): number => {
    const v = r[key];
    if (typeof v !== 'number' || !(v > 0)) throw new FormatError(`${field}.${key} must be a positive number, got ${JSON.stringify(v)}`, file, `${field}.${key}`);
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
      throw new UnsupportedError(`${field} type ${JSON.stringify(kind)} is not supported (supported: linear, llama3)`, file);
  }
}
