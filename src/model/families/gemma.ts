// Gemma: RMSNorm by 1 + w, GeGLU (tanh GELU), embeddings scaled by sqrt(hidden), output tied to them. HF
// checkpoints store the norm weights as w, llama.cpp's converter as 1 + w, and it keeps no lm_head.
import type { Family } from './family.js';
import { BASE_TRAITS, GEMMA_GELU, llamaStyleNames, ggufKeys, withoutUnusedLocalTheta } from './shared.js';

export const gemma: Family = {
  arch: 'gemma',
  traits: { ...BASE_TRAITS, mlp: 'geglu', tied: true, embedScaled: true },
  gguf: { interleavedRope: false, slidingPattern: 0 },
  hf: {
    architectures: ['GemmaForCausalLM'],
    activation: GEMMA_GELU,
    adjust: (c) => withoutUnusedLocalTheta(c),
    names: llamaStyleNames(),
    stored: { normOffset: 1, qkvInterleaved: false },
  },
  convert: {
    dropsOutput: true,
    metadata(c) {
      const k = ggufKeys(c);
      return [...k.sizes, k.kvHeads, k.rmsEps, ...k.headLengths];
    },
  },
};
