// The Deno host (dist/bundles/deno/): GGUF paths are streamed with Deno.open; the kernel module sits next
// to the bundle, with the one built for threads (read from disk, or fetched when the bundle was imported over https).
import type { Host } from './host-api.js';
import { FOUR_GIB, fetchKernelModule, loadOnce, messageChannelTurn } from './host-api.js';
import { FormatError, UnsupportedError } from '../errors.js';
import { fileAccessError } from '../formats/file-errors.js';

/** The part of Deno's API used here. */
declare const Deno: {
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean; size: number }>;
  open(path: string, options: { read: true }): Promise<{ readable: ReadableStream<Uint8Array> }>;
  readFile(path: URL): Promise<Uint8Array<ArrayBuffer>>;
};

const kernelUrl = new URL('./sparq.wasm', import.meta.url);
const threadsKernelUrl = new URL('./sparq-threads.wasm', import.meta.url);

function compileFile(url: URL): Promise<WebAssembly.Module> {
  return url.protocol === 'file:' ? Deno.readFile(url).then((bytes) => WebAssembly.compile(bytes)) : fetchKernelModule(url);
}

export const host: Host = {
  name: 'deno',
  defaultMemoryLimit: FOUR_GIB,
  threads: true,
  kernelModule: loadOnce(() => compileFile(kernelUrl)),
  threadsKernelModule: loadOnce(() => compileFile(threadsKernelUrl)),
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
