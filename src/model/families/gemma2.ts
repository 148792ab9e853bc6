// Gemma 2: Gemma with post-attention and post-MLP norms, attention-logit and final-logit soft-capping,
// scores scaled by query_pre_attn_scalar, and a sliding window on every other layer (llama.cpp fixes that
// pattern, and the 27B model's score scale 1/sqrt(hidden / heads), instead of reading them from the file).
import type { Family } from './family.js';
import { gemma } from './gemma.js';
import { llamaStyleNames, everyLayer, ggufKeys, withoutUnusedLocalTheta } from './shared.js';
import { jsonNumber, softcap } from '../hf-json.js';

/** Layer count of the 27B model. */
const LAYERS_27B = 46;

export const gemma2: Family = {
  arch: 'gemma2',
  traits: { ...gemma.traits, postNorms: true },
  gguf: {
    interleavedRope: false,
    slidingPattern: 2,
    adjust: (c) => (c.nLayers === LAYERS_27B ? { ...c, attnScale: 1 / Math.sqrt(c.dim / c.nHeads) } : c),
  },
  hf: {
    ...gemma.hf,
    architectures: ['Gemma2ForCausalLM'],
    layerWindows(j, nLayers, window) {
      const w = window(4096);
      return everyLayer(nLayers, 0).map((_, i) => (i % 2 === 0 ? w : 0));
    },
    adjust: (c, j, file) => withoutUnusedLocalTheta({
      ...c,
      attnScale: 1 / Math.sqrt(jsonNumber(j, 'query_pre_attn_scalar', file, 256)),
      attnSoftcap: softcap(j, 'attn_logit_softcapping', 50, file),
      finalSoftcap: softcap(j, 'final_logit_softcapping', 30, file),
    }),
    names: llamaStyleNames({ gemmaNorms: true }),
  },
  convert: {
    ...gemma.convert,
    metadata(c) {
      const k = ggufKeys(c);
      return [...k.sizes, k.kvHeads, k.rmsEps, ...k.headLengths,
        ...(c.attnSoftcap > 0 ? [k.f32('attn_logit_softcapping', c.attnSoftcap)] : []),
        ...(c.finalSoftcap > 0 ? [k.f32('final_logit_softcapping', c.finalSoftcap)] : []),
        k.u32('attention.sliding_window', k.slidingWindow)];
    },
  },
};
