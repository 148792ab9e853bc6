// The packaged kernel module, read from disk (Node and Deno); by default dist/sparq.wasm next to the compiled JS.
import { readFile } from 'node:fs/promises';

const cached = new Map<string, Promise<WebAssembly.Module>>();

export function readKernelModule(url = new URL('../sparq.wasm', import.meta.url)): Promise<WebAssembly.Module> {
  let m = cached.get(url.href);
  if (!m) {
    m = readFile(url).then((bytes) => WebAssembly.compile(bytes));
    cached.set(url.href, m);
  }
  return m;
}
