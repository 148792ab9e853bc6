// KV-cache sizes from the packaged kernel module's own layout functions (no model needed).
import { sizingKernels } from '../kernels/instantiate.js';
import { kvCacheSizesWith, type KVSize } from '../kv/sizes.js';
import type { KVShape } from '../kv/cache.js';
import { host } from '../platform/host.js';

/** Every K type x V type x layout for a model shape, in bytes per position (see KVSize). */
export async function kvCacheSizes(shape: KVShape): Promise<KVSize[]> {
  return kvCacheSizesWith(await sizingKernels(await host.kernelModule()), shape);
}
