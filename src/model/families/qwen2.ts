// Qwen2 / Qwen2.5: the Llama shape with Q/K/V biases (bound where the checkpoint has them) and NeoX rotary.
import type { Family } from './family.js';
import { BASE_TRAITS, SILU, llamaStyleNames, everyLayer, ggufKeys } from './shared.js';
import { RUNTIME_LAYOUT } from '../weights.js';

export const qwen2: Family = {
  arch: 'qwen2',
  traits: BASE_TRAITS,
  gguf: { interleavedRope: false, slidingPattern: 0 },
  hf: {
    architectures: ['Qwen2ForCausalLM'],
    activation: SILU,
    // with use_sliding_window, the layers from max_window_layers on slide
    layerWindows(j, nLayers, window) {
      if (j.use_sliding_window !== true) return everyLayer(nLayers, 0);
      const w = window(4096);
      const from = typeof j.max_window_layers === 'number' ? j.max_window_layers : nLayers;
      return everyLayer(nLayers, 0).map((_, i) => (i >= from ? w : 0));
    },
    names: llamaStyleNames(),
    stored: RUNTIME_LAYOUT,
  },
  convert: {
    metadata(c, j) {
      const k = ggufKeys(c);
      return [...k.sizes, k.kvHeads, k.f32('rope.freq_base', c.rope.theta), k.rmsEps,
        ...(typeof j.head_dim === 'number' ? k.headLengths : []), ...k.linearScaling];
    },
  },
};
