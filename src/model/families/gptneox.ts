// Pythia (GPT-NeoX): LayerNorm with bias, parallel residual, rotary on the first 25% of each head, exact-erf
// GELU MLP with biases, untied output. HF stores query_key_value interleaved per head ([head][q|k|v][d]);
// llama.cpp's converter regroups it to [q; k; v].
import type { Family } from './family.js';
import { BASE_TRAITS, ggufKeys } from './shared.js';
import { UnsupportedError } from '../../errors.js';

/** The rotary base of every Pythia, which llama.cpp's converter leaves out of the file. */
const THETA = 10000;

export const gptneox: Family = {
  arch: 'gptneox',
  traits: { ...BASE_TRAITS, norm: 'layer', mlp: 'gelu', parallelResidual: true },
  gguf: {
    interleavedRope: false,
    slidingPattern: 0,
    adjust(c, meta) {
      const parallel = meta('use_parallel_residual');
      return typeof parallel === 'boolean' ? { ...c, parallelResidual: parallel } : c;
    },
  },
  hf: {
    architectures: ['GPTNeoXForCausalLM'],
    activation: { key: 'hidden_act', default: 'gelu', accepted: ['gelu'], name: 'gelu' },
    defaults: { partialRotary: 0.25 },
    names: {
      tokenEmbd: 'gpt_neox.embed_in.weight',
      outputNorm: 'gpt_neox.final_layer_norm.weight',
      outputNormB: 'gpt_neox.final_layer_norm.bias',
      output: 'embed_out.weight',
      layer: (i) => {
        const b = `gpt_neox.layers.${i}.`;
        return {
          attnNorm: `${b}input_layernorm.weight`, attnNormB: `${b}input_layernorm.bias`,
          wqkv: `${b}attention.query_key_value.weight`, bqkv: `${b}attention.query_key_value.bias`,
          wo: `${b}attention.dense.weight`, bo: `${b}attention.dense.bias`,
          ffnNorm: `${b}post_attention_layernorm.weight`, ffnNormB: `${b}post_attention_layernorm.bias`,
          wUp: `${b}mlp.dense_h_to_4h.weight`, bUp: `${b}mlp.dense_h_to_4h.bias`,
          wDown: `${b}mlp.dense_4h_to_h.weight`, bDown: `${b}mlp.dense_4h_to_h.bias`,
        };
      },
    },
    stored: { normOffset: 0, qkvInterleaved: true },
  },
  convert: {
    metadata(c, j, file) {
      if (c.rope.scaling.kind !== 'none') throw new UnsupportedError(`gptneox rope scaling ${c.rope.scaling.kind} does not convert`, file);
      const k = ggufKeys(c);
      return [...k.sizes, k.u32('rope.dimension_count', c.rope.dim), k.bool('use_parallel_residual', c.parallelResidual),
        k.f32('attention.layer_norm_epsilon', c.normEps), ...(c.rope.theta !== THETA ? [k.f32('rope.freq_base', c.rope.theta)] : [])];
    },
  },
};
