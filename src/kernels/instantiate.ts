// Instantiating the kernel module on a memory: the calling thread's instance of a runtime, or a small
// throwaway one whose size functions (kv_row_bytes, attn_scratch_bytes, ...) answer layout questions before
// a runtime exists (memory estimates, `sparq info`).
import { instantiate } from '@assemblyscript/loader';
import type { KernelExports } from './abi.js';

/** The wasm32 ceiling: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
export const PAGE = 65536;

export async function compileKernels(source: WebAssembly.Module | Uint8Array): Promise<WebAssembly.Module> {
  return source instanceof WebAssembly.Module ? source : WebAssembly.compile(source as BufferSource);
}

export async function instantiateKernels(source: WebAssembly.Module | Uint8Array, memory: WebAssembly.Memory): Promise<KernelExports> {
  const imports = {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`kernel abort at ${line}:${col}`);
      },
    },
  };
  const { exports } = await instantiate<Record<string, unknown>>(await compileKernels(source), imports);
  return exports as unknown as KernelExports;
}

/** An instance on its own one-page memory, for the kernels' size functions and the relaxed build's self-check. */
export function sizingKernels(source: WebAssembly.Module | Uint8Array): Promise<KernelExports> {
  return instantiateKernels(source, new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES }));
}
