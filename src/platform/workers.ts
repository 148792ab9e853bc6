// The Cloudflare Workers host (dist/bundles/workers/): the kernel module is imported as a compiled
// WebAssembly.Module, as Workers require (no runtime compilation from bytes). There is no file system:
// models come from a URL, an R2 object, a static asset response, a stream or a buffer.
import type { Host } from './host-api.js';
import { UnsupportedError } from '../errors.js';
import kernels from './sparq.wasm';

/** The memory of a Workers isolate (weights, KV cache and scratch must fit beside the JS heap). */
const WORKERS_MEMORY = 128 * 1024 ** 2;

export const host: Host = {
  name: 'workers',
  defaultMemoryLimit: WORKERS_MEMORY,
  threads: false, // an isolate has no Worker
  // one build only: the bundle imports the portable module (Workers compile nothing at run time)
  kernelModule: async (variant = 'portable') => {
    if (variant !== 'portable') throw new UnsupportedError(`the Workers bundle ships the portable kernel module only, not the ${variant} one`);
    return kernels;
  },
  threadsKernelModule: async () => undefined,
  // a timer: workerd counts it as pending work, so a request waiting on generation is not taken for hung
  nextTurn: () => new Promise((resolve) => setTimeout(resolve, 0)),
  async openPath(path) {
    throw new UnsupportedError('Workers have no file system: pass an https URL, an R2 object (env.BUCKET.get(key)), a Response, a ReadableStream or an ArrayBuffer', path);
  },
};
