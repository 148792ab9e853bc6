// KV-cache bytes per position for every type combination and layout, for `sparq info` and the API.
import { KVCache, type KVShape } from './cache.js';
import type { KType, VType, LayoutKernels } from './layout.js';

export type KVLayout = 'dense' | 'sparq' | 'sparq, 4-bit K^T';

export interface KVSize {
  kType: KType;
  vType: VType;
  layout: KVLayout;
  /** Bytes per position over all layers and KV heads. */
  bytesPerToken: number;
  /** bytesPerToken over a dense q8 K / q8 V cache's. */
  vsDenseQ8: number;
}

const K_TYPES: readonly KType[] = ['f32', 'f16', 'q8'];
const V_TYPES: readonly VType[] = ['f32', 'f16', 'q8', 'q4'];

/** Every K type x V type x layout for a model shape (the SparQ layout adds K transposed and a V sum). */
export function kvCacheSizesWith(k: LayoutKernels, shape: KVShape): KVSize[] {
  const base = { nLayers: shape.nLayers, nKVHeads: shape.nKVHeads, headDim: shape.headDim };
  const denseQ8 = KVCache.bytesPerToken(k, { ...base, kType: 'q8', vType: 'q8' });
  const out: KVSize[] = [];
  for (const kType of K_TYPES) {
    for (const vType of V_TYPES) {
      const layouts: [KVLayout, object][] = [['dense', {}], ['sparq', { sparqLayout: true }], ['sparq, 4-bit K^T', { sparqLayout: true, kTType: 'q4' }]];
      for (const [layout, extra] of layouts) {
        const bytesPerToken = KVCache.bytesPerToken(k, { ...base, kType, vType, ...extra });
        out.push({ kType, vType, layout, bytesPerToken, vsDenseQ8: bytesPerToken / denseQ8 });
      }
    }
  }
  return out;
}
