// The browser host (dist/bundles/browser/: pages, Web Workers, Electron renderers): a string that is not
// an http(s) URL is a URL relative to the page (or worker script) and is streamed with fetch; the kernel
// modules (single-thread and shared-memory, portable and relaxed) sit next to the bundle and are compiled
// while they download.
import type { Host } from './host-api.js';
import { FOUR_GIB, fetchKernelModule, loadOnce, messageChannelTurn, type KernelVariant } from './host-api.js';
import { sourceFromUrl } from '../formats/source.js';

/** Written out literally, so that bundlers which copy `new URL('./file', import.meta.url)` assets find each module. */
const KERNEL_URLS: Record<KernelVariant, { single: URL; threads: URL }> = {
  portable: { single: new URL('./sparq.wasm', import.meta.url), threads: new URL('./sparq-threads.wasm', import.meta.url) },
  relaxed: { single: new URL('./sparq-relaxed.wasm', import.meta.url), threads: new URL('./sparq-relaxed-threads.wasm', import.meta.url) },
};
const kernels = loadOnce((url: URL) => fetchKernelModule(url));

export const host: Host = {
  name: 'browser',
  defaultMemoryLimit: FOUR_GIB,
  threads: true,
  kernelModule: (variant = 'portable') => kernels(KERNEL_URLS[variant].single),
  threadsKernelModule: (variant = 'portable') => kernels(KERNEL_URLS[variant].threads),
  nextTurn: messageChannelTurn,
  async openPath(path, signal) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    const url = base ? new URL(path, base).href : path;
    const { input, size } = await sourceFromUrl(url, signal);
    return { kind: 'file', input, size };
  },
};
