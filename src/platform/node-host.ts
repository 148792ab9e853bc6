// The Node host: paths are files (GGUF, streamed) or Hugging Face directories; the kernel modules are read
// from disk in the folder `kernelDir` (host-api.ts kernelFile names them).
import type { Host } from './host-api.js';
import { FOUR_GIB, kernelFile } from './host-api.js';
import { isDirectory, openFileInput } from './node.js';
import { readKernelModule } from './wasm-node.js';

export function nodeHost(kernelDir: URL): Host {
  return {
    name: 'node',
    defaultMemoryLimit: FOUR_GIB,
    threads: true,
    kernelModule: (variant = 'portable') => readKernelModule(new URL(kernelFile(variant, false), kernelDir)),
    threadsKernelModule: (variant = 'portable') => readKernelModule(new URL(kernelFile(variant, true), kernelDir)),
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
