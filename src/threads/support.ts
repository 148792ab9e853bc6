// Whether kernels can run on several threads here, the default thread count, and the packaged kernel
// module built for shared memory (Node: dist/sparq-threads.wasm next to the compiled JS).
import { spawnProblem } from './spawn.js';

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Why this platform cannot run a pool, or undefined when it can (worker start-up can still fail). */
export async function threadsProblem(): Promise<string | undefined> {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available (a browser page must be cross-origin isolated)';
  if (typeof Atomics !== 'object' || typeof Atomics.wait !== 'function' || typeof Atomics.notify !== 'function') return 'Atomics.wait is not available';
  return spawnProblem();
}

/** The number of cores (os.availableParallelism in Node, navigator.hardwareConcurrency elsewhere), at least 1. */
export async function defaultThreadCount(): Promise<number> {
  if (isNode()) {
    const os = await import('node:os');
    return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

let packaged: Promise<WebAssembly.Module> | undefined;

/** dist/sparq-threads.wasm, compiled once (Node); undefined elsewhere, where the caller must pass it. */
export async function packagedThreadsModule(): Promise<WebAssembly.Module | undefined> {
  if (!isNode()) return undefined;
  if (!packaged) {
    const { readFile } = await import('node:fs/promises');
    packaged = readFile(new URL('../sparq-threads.wasm', import.meta.url)).then((b) => WebAssembly.compile(b));
    packaged.catch(() => { packaged = undefined; });
  }
  return packaged;
}
