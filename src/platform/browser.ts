// The browser host (dist/bundles/browser/: pages, Web Workers, Electron renderers): a string that is not
// an http(s) URL is a URL relative to the page (or worker script) and is streamed with fetch; the kernel
// modules (single-thread and shared-memory, portable and relaxed) sit next to the bundle and are compiled
// while they download.
import type { Host } from './host-api.js';
import { FOUR_GIB, fetchKernelModule, kernelFile, loadOnce, messageChannelTurn } from './host-api.js';
import { sourceFromUrl } from '../formats/source.js';

const kernels = loadOnce((file: string) => fetchKernelModule(new URL(`./${file}`, import.meta.url)));

export const host: Host = {
  name: 'browser',
  defaultMemoryLimit: FOUR_GIB,
  threads: true,
  kernelModule: (variant = 'portable') => kernels(kernelFile(variant, false)),
  threadsKernelModule: (variant = 'portable') => kernels(kernelFile(variant, true)),
  nextTurn: messageChannelTurn,
  async openPath(path, signal) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    const url = base ? new URL(path, base).href : path;
    const { input, size } = await sourceFromUrl(url, signal);
    return { kind: 'file', input, size };
  },
};
