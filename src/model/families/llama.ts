// Llama 1/2/3, Mistral, SmolLM2, TinyLlama: RMSNorm and SwiGLU. llama.cpp's converter permutes the Q and K
// rows of llama only, to its interleaved rotary layout, and writes llama3 RoPE scaling as rope_freqs.weight.
import type { Family } from './family.js';
import { BASE_TRAITS, SILU, llamaStyleNames, everyLayer, ggufKeys } from './shared.js';
import { RUNTIME_LAYOUT } from '../weights.js';

export const llama: Family = {
  arch: 'llama',
  traits: BASE_TRAITS,
  gguf: { interleavedRope: true, slidingPattern: 0 },
  hf: {
    architectures: ['LlamaForCausalLM', 'MistralForCausalLM'],
    activation: SILU,
    // Mistral slides every layer when sliding_window is set
    layerWindows: (j, nLayers, window) => everyLayer(nLayers, window(null)),
    names: llamaStyleNames(),
    stored: RUNTIME_LAYOUT,
  },
  convert: {
    ropeFreqs: true,
    metadata(c) {
      const k = ggufKeys(c);
      return [k.u32('vocab_size', c.vocabSize), ...k.sizes, k.kvHeads, k.rmsEps, k.f32('rope.freq_base', c.rope.theta),
        k.u32('rope.dimension_count', c.headDim), ...(c.headDim !== c.dim / c.nHeads ? k.headLengths : []), ...k.linearScaling];
    },
  },
};
