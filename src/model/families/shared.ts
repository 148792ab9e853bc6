// Building blocks the family records share: the common traits, the activations, the HF names of the
// Llama-shaped checkpoints, and the GGUF metadata entries llama.cpp's converter writes for most families.
import type { FamilyTraits, HFRules } from './family.js';
import type { ModelConfig } from '../config.js';
import type { TensorNaming } from '../weights.js';
import { GGUFValueType as T, type GGUFMetadataEntry } from '../../formats/gguf.js';

/** RMSNorm, SwiGLU, untied, sequential residual: what a family is unless it says otherwise. */
export const BASE_TRAITS: FamilyTraits = {
  norm: 'rms', mlp: 'swiglu', tied: false, parallelResidual: false, postNorms: false, qkNorm: false,
  fusedGateUp: false, embedScaled: false,
};

export const SILU: HFRules['activation'] = { key: 'hidden_act', default: 'silu', accepted: ['silu'], name: 'silu' };

/**
 * transformers runs Gemma's MLP with hidden_activation (the tanh GELU when unset), whatever hidden_act says.
 */
export const GEMMA_GELU: HFRules['activation'] = {
  key: 'hidden_activation', default: 'gelu_pytorch_tanh', accepted: ['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast', 'gelu_tanh'],
  name: 'the tanh GELU',
};

/**
 * HF names of the Llama-shaped checkpoints (model.layers.N...). Gemma 2 and 3 reuse the Llama name of the
 * pre-MLP norm for their post-attention norm and call the pre-MLP one differently; Phi-3 stores [gate; up]
 * as one gate_up_proj.
 */
export function llamaStyleNames(opts: { gemmaNorms?: boolean; fusedGateUp?: boolean } = {}): TensorNaming {
  return {
    tokenEmbd: 'model.embed_tokens.weight',
    outputNorm: 'model.norm.weight',
    output: 'lm_head.weight',
    layer: (i) => {
      const b = `model.layers.${i}.`;
      const a = `${b}self_attn.`;
      return {
        attnNorm: `${b}input_layernorm.weight`,
        wq: `${a}q_proj.weight`, wk: `${a}k_proj.weight`, wv: `${a}v_proj.weight`,
        bq: `${a}q_proj.bias`, bk: `${a}k_proj.bias`, bv: `${a}v_proj.bias`,
        wqkv: `${a}qkv_proj.weight`,
        qNorm: `${a}q_norm.weight`, kNorm: `${a}k_norm.weight`,
        wo: `${a}o_proj.weight`, bo: `${a}o_proj.bias`,
        ...(opts.gemmaNorms
          ? { postAttnNorm: `${b}post_attention_layernorm.weight`, ffnNorm: `${b}pre_feedforward_layernorm.weight`,
              postFfnNorm: `${b}post_feedforward_layernorm.weight` }
          : { ffnNorm: `${b}post_attention_layernorm.weight` }),
        wGate: `${b}mlp.gate_proj.weight`,
        wUp: opts.fusedGateUp ? `${b}mlp.gate_up_proj.weight` : `${b}mlp.up_proj.weight`,
        wDown: `${b}mlp.down_proj.weight`,
      };
    },
  };
}

/** The same window on every layer. */
export function everyLayer(nLayers: number, window: number): number[] {
  return new Array<number>(nLayers).fill(window);
}

/** Without the sliding layers' RoPE base when no layer slides (transformers then never builds it). */
export function withoutUnusedLocalTheta(c: ModelConfig): ModelConfig {
  return c.layerWindows.every((w) => w === 0) ? { ...c, rope: { ...c.rope, localTheta: undefined } } : c;
}

/** The `<arch>.<key>` metadata entries of config c that llama.cpp's converter writes, by value type and in groups. */
export function ggufKeys(c: ModelConfig) {
  const u32 = (key: string, value: number): GGUFMetadataEntry => ({ key: `${c.arch}.${key}`, type: T.UINT32, value });
  const f32 = (key: string, value: number): GGUFMetadataEntry => ({ key: `${c.arch}.${key}`, type: T.FLOAT32, value });
  const bool = (key: string, value: boolean): GGUFMetadataEntry => ({ key: `${c.arch}.${key}`, type: T.BOOL, value });
  const s = c.rope.scaling;
  return {
    u32, f32, bool,
    /** Context, width, depth, MLP width and head count, which every family writes first. */
    sizes: [
      u32('context_length', c.trainedContext), u32('embedding_length', c.dim), u32('block_count', c.nLayers),
      u32('feed_forward_length', c.ffnDim), u32('attention.head_count', c.nHeads),
    ],
    kvHeads: u32('attention.head_count_kv', c.nKVHeads),
    rmsEps: f32('attention.layer_norm_rms_epsilon', c.normEps),
    headLengths: [u32('attention.key_length', c.headDim), u32('attention.value_length', c.headDim)],
    /** Linear RoPE scaling, where the config has it. */
    linearScaling: s.kind === 'linear'
      ? [{ key: `${c.arch}.rope.scaling.type`, type: T.STRING, value: 'linear' }, f32('rope.scaling.factor', s.factor)] : [],
    /** The sliding window of the sliding layers (0: none slides). */
    slidingWindow: c.layerWindows.find((w) => w > 0) ?? 0,
  };
}
