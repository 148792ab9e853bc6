// Phi-3 / Phi-3.5 / Phi-4-mini: the Llama shape with a fused qkv_proj and a fused gate_up_proj (GGUF
// attn_qkv and ffn_up holding [gate; up]). LongRoPE (the 128k models) is refused when the weights bind.
import type { Family } from './family.js';
import { BASE_TRAITS, SILU, llamaStyleNames, everyLayer, ggufKeys } from './shared.js';
import { RUNTIME_LAYOUT } from '../weights.js';
import { FormatError, UnsupportedError } from '../../errors.js';

export const phi3: Family = {
  arch: 'phi3',
  traits: { ...BASE_TRAITS, fusedGateUp: true },
  gguf: { interleavedRope: false, slidingPattern: 0 },
  hf: {
    architectures: ['Phi3ForCausalLM'],
    activation: SILU,
    // transformers applies sliding_window to every layer (llama.cpp ignores it in GGUF)
    layerWindows: (j, nLayers, window) => everyLayer(nLayers, window(null)),
    names: llamaStyleNames({ fusedGateUp: true }),
    stored: RUNTIME_LAYOUT,
  },
  convert: {
    metadata(c, j, file) {
      const orig = j.original_max_position_embeddings;
      if (typeof orig !== 'number') throw new FormatError('original_max_position_embeddings must be a number (llama.cpp writes it for phi3)', file, 'original_max_position_embeddings');
      if (c.rope.scaling.kind !== 'none') throw new UnsupportedError(`phi3 rope scaling ${c.rope.scaling.kind} does not convert`, file);
      const k = ggufKeys(c);
      return [...k.sizes, k.u32('rope.scaling.original_context_length', orig), k.kvHeads, k.rmsEps,
        k.u32('rope.dimension_count', c.rope.dim), k.f32('rope.freq_base', c.rope.theta), k.u32('attention.sliding_window', k.slidingWindow)];
    },
  },
};
