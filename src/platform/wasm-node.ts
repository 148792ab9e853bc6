// The packaged kernel module, read from disk next to the compiled JS (Node and Deno).
import { readFile } from 'node:fs/promises';

let cached: Promise<WebAssembly.Module> | undefined;

export function readKernelModule(): Promise<WebAssembly.Module> {
  cached ??= readFile(new URL('../sparq.wasm', import.meta.url)).then((bytes) => WebAssembly.compile(bytes));
  return cached;
}
