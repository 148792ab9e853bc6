// What the loader needs from the platform it runs on. Each bundle target links one implementation as
// `platform/host.js` (tools/bundle.mjs swaps the module; the file-by-file dist build uses the Node one),
// so code that only one platform can run (node:fs, Deno.*, a .wasm module import) stays out of the others.
import type { ByteInput } from '../formats/source.js';
import type { HFDir } from '../formats/hf-dir.js';

/** A local path opened for loading: a GGUF file as a byte stream, or a Hugging Face model directory. */
export type OpenedPath =
  | { kind: 'file'; input: ByteInput; size: number | undefined }
  | { kind: 'hf-dir'; hf: HFDir };

/**
 * A build of the kernel module: 'portable' (128-bit SIMD) or 'relaxed' (the same kernels, the interleaved
 * 4-, 5- and 6-bit ones on relaxed-SIMD dot products; engine/kernel-variant.ts decides where it is used).
 */
export type KernelVariant = 'portable' | 'relaxed';

/** The file of a kernel build: sparq.wasm, sparq-threads.wasm, sparq-relaxed.wasm, sparq-relaxed-threads.wasm. */
export function kernelFile(variant: KernelVariant, threads: boolean): string {
  return `sparq${variant === 'relaxed' ? '-relaxed' : ''}${threads ? '-threads' : ''}.wasm`;
}

export interface Host {
  readonly name: 'node' | 'deno' | 'workers' | 'browser';
  /** memoryLimit used when loadModel is given none. */
  readonly defaultMemoryLimit: number;
  /** The compiled kernel module shipped with this build (default 'portable'); rejects where it ships no such variant. */
  kernelModule(variant?: KernelVariant): Promise<WebAssembly.Module>;
  /** Whether this platform can start threads at all (if not, `threads` defaults to 1). */
  readonly threads: boolean;
  /** The kernel module built for shared memory (threads), or undefined where this build has no threads. */
  threadsKernelModule(variant?: KernelVariant): Promise<WebAssembly.Module | undefined>;
  /** Open a string source that is not an http(s) URL (a file path, or a relative URL in a browser). */
  openPath(path: string, signal?: AbortSignal): Promise<OpenedPath>;
  /**
   * Resolves on a later turn of the event loop, after pending timers and I/O: generation yields with it
   * between forward passes, so consumers, aborts and new requests get their turn.
   */
  nextTurn(): Promise<void>;
}

/** nextTurn through a MessageChannel: a task of its own, without the clamping of nested timers (browsers, Deno). */
export function messageChannelTurn(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}

export const FOUR_GIB = 4 * 1024 ** 3;

/** `load` run once per key; a failure is not kept, so a later call tries again. */
export function loadOnce<K>(load: (key: K) => Promise<WebAssembly.Module>): (key: K) => Promise<WebAssembly.Module> {
  const pending = new Map<K, Promise<WebAssembly.Module>>();
  return (key) => {
    let p = pending.get(key);
    if (!p) {
      p = load(key);
      pending.set(key, p);
      p.catch(() => { pending.delete(key); });
    }
    return p;
  };
}

/** Compile a .wasm fetched from `url`, streaming when the server sends application/wasm. */
export async function fetchKernelModule(url: URL): Promise<WebAssembly.Module> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch the kernel module ${url}: HTTP ${res.status}`);
  if (res.headers.get('content-type')?.split(';')[0].trim() === 'application/wasm') return WebAssembly.compileStreaming(res);
  return WebAssembly.compile(await res.arrayBuffer());
}
