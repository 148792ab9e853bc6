// The Node host: paths are files (GGUF, streamed) or Hugging Face directories; the kernel module is read
// from disk at `kernelUrl` (and `threadsKernelUrl`, the one built for shared memory).
import type { Host } from './host-api.js';
import { FOUR_GIB } from './host-api.js';
import { isDirectory, openFileInput } from './node.js';
import { readKernelModule } from './wasm-node.js';

export function nodeHost(kernelUrl: URL, threadsKernelUrl: URL): Host {
  return {
    name: 'node',
    defaultMemoryLimit: FOUR_GIB,
    threads: true,
    kernelModule: () => readKernelModule(kernelUrl),
    threadsKernelModule: () => readKernelModule(threadsKernelUrl),
    nextTurn: () => new Promise((resolve) => setImmediate(resolve)),
    async openPath(path) {
      if (await isDirectory(path)) {
        const { readHFDir } = await import('../formats/hf-dir.js');
        return { kind: 'hf-dir', hf: await readHFDir(path) };
      }
      const { input, size } = await openFileInput(path);
      return { kind: 'file', input, size };
    },
  };
}
