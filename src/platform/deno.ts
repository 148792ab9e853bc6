// The Deno host (dist/bundles/deno/): GGUF paths are streamed with Deno.open; the kernel modules sit next
// to the bundle.
import type { Host } from './host-api.js';
import { FOUR_GIB, fetchKernelModule, kernelFile, loadOnce, messageChannelTurn } from './host-api.js';
import { FormatError, UnsupportedError } from '../errors.js';
import { fileAccessError } from '../formats/file-errors.js';

/** The part of Deno's API used here. */
declare const Deno: {
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean; size: number }>;
  open(path: string, options: { read: true }): Promise<{ readable: ReadableStream<Uint8Array> }>;
  readFile(path: URL): Promise<Uint8Array<ArrayBuffer>>;
};

/** A kernel module next to the bundle, read from disk or fetched when the bundle was imported over https. */
const kernels = loadOnce((file: string) => {
  const url = new URL(`./${file}`, import.meta.url);
  return url.protocol === 'file:' ? Deno.readFile(url).then((bytes) => WebAssembly.compile(bytes)) : fetchKernelModule(url);
});

export const host: Host = {
  name: 'deno',
  defaultMemoryLimit: FOUR_GIB,
  threads: true,
  kernelModule: (variant = 'portable') => kernels(kernelFile(variant, false)),
  threadsKernelModule: (variant = 'portable') => kernels(kernelFile(variant, true)),
  nextTurn: messageChannelTurn,
  async openPath(path) {
    let info;
    try { info = await Deno.stat(path); } catch (e) { throw fileAccessError(e, path); }
    if (info.isDirectory) {
      throw new UnsupportedError('Hugging Face directories are read by the Node entry only; convert the model to GGUF (sparq convert) or pass a GGUF file', path);
    }
    if (!info.isFile) throw new FormatError('not a regular file', path);
    const file = await Deno.open(path, { read: true }).catch((e: unknown) => { throw fileAccessError(e, path); });
    return { kind: 'file', input: file.readable, size: info.size };
  },
};
