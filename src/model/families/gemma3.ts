// Gemma 3 (text): Gemma 2's norms and score scale with q/k norms, no soft-capping by default, and five
// sliding-window layers per global one. The sliding layers rotate with their own RoPE base (10000, which
// llama.cpp fixes instead of reading it), the global ones with the scaled main base.
import type { Family } from './family.js';
import { gemma2 } from './gemma2.js';
import { everyLayer, ggufKeys, withoutUnusedLocalTheta } from './shared.js';
import { jsonNumber, softcap } from '../hf-json.js';
import { UnsupportedError } from '../../errors.js';

/** Layer count of the 27B model, which scales scores by 1/sqrt(hidden / heads). */
const LAYERS_27B = 62;
const LOCAL_THETA = 10000;

export const gemma3: Family = {
  arch: 'gemma3',
  traits: { ...gemma2.traits, qkNorm: true },
  gguf: {
    interleavedRope: false,
    slidingPattern: 6,
    adjust(c) {
      const scaled = c.nLayers === LAYERS_27B ? { ...c, attnScale: 1 / Math.sqrt(c.dim / c.nHeads) } : c;
      return c.layerWindows.some((w) => w > 0) ? { ...scaled, rope: { ...scaled.rope, localTheta: LOCAL_THETA } } : scaled;
    },
  },
  hf: {
    ...gemma2.hf,
    architectures: ['Gemma3ForCausalLM'],
    defaults: { ropeTheta: 1_000_000 },
    localRopeBase: true,
    layerWindows(j, nLayers, window) {
      const w = window(4096);
      const p = typeof j.sliding_window_pattern === 'number' ? j.sliding_window_pattern : 6;
      return everyLayer(nLayers, 0).map((_, i) => ((i + 1) % p !== 0 ? w : 0));
    },
    adjust: (c, j, file) => withoutUnusedLocalTheta({
      ...c,
      attnScale: 1 / Math.sqrt(jsonNumber(j, 'query_pre_attn_scalar', file, 256)),
      attnSoftcap: softcap(j, 'attn_logit_softcapping', 0, file),
      finalSoftcap: softcap(j, 'final_logit_softcapping', 0, file),
    }),
  },
  convert: {
    ...gemma2.convert,
    metadata(c, j, file) {
      if (c.attnSoftcap > 0) throw new UnsupportedError('gemma3 with attn_logit_softcapping does not convert (llama.cpp has no key for it)', file);
      const k = ggufKeys(c);
      return [...k.sizes, k.kvHeads, k.f32('rope.freq_base', c.rope.theta), k.rmsEps, ...k.headLengths, ...k.linearScaling,
        ...(c.finalSoftcap > 0 ? [k.f32('final_logit_softcapping', c.finalSoftcap)] : []),
        ...(k.slidingWindow > 0 ? [k.u32('attention.sliding_window', k.slidingWindow)] : [])];
    },
  },
};
