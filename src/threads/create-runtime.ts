// A runtime for the kernel module: on one thread, or with a pool of workers on shared memory when more
// threads are asked for and the platform allows them.
import { Runtime } from '../kernels/runtime.js';
import { compileKernels, instantiateKernels, MAX_PAGES, PAGE } from '../kernels/instantiate.js';
import { InvalidArgumentError } from '../errors.js';
import { ThreadPool, warnOnce } from './pool.js';
import { PoolDispatcher } from './dispatch.js';
import { BLOCK_BYTES, MAX_WORKERS } from './layout.js';
import { kernelTable } from './tasks.js';
import { threadsProblem, packagedThreadsModule } from './support.js';

/** Kernel calls with fewer multiply-adds than this run on the calling thread (a hand-off costs microseconds). */
export const DEFAULT_MIN_PARALLEL_WORK = 1 << 18;

export interface RuntimeOptions {
  /** Upper bound on linear memory in bytes (default 4 GiB). */
  memoryLimit?: number;
  /**
   * Threads the kernels run on, the calling thread included (default 1). Where shared memory, Atomics.wait
   * or workers are missing, or a worker cannot start, the runtime runs on one thread and logs why once.
   * At most 64 (MAX_WORKERS + 1).
   */
  threads?: number;
  /** The kernel module built for shared memory (dist/sparq-threads.wasm) or its bytes (default: the packaged one, Node). */
  threadsModule?: WebAssembly.Module | Uint8Array;
  /** Kernel calls below this many multiply-adds are not split (default DEFAULT_MIN_PARALLEL_WORK). */
  minParallelWork?: number;
}

/**
 * Instantiate the kernel module on a fresh memory. `source` is the compiled module or its bytes; with
 * options.threads > 1, the shared-memory module (options.threadsModule) is used instead where it can be.
 */
export async function createRuntime(source: WebAssembly.Module | Uint8Array, options: RuntimeOptions = {}): Promise<Runtime> {
  const memoryLimit = Math.min(options.memoryLimit ?? MAX_PAGES * PAGE, MAX_PAGES * PAGE);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidArgumentError(`threads must be a positive integer, got ${threads}`);
  const minWork = options.minParallelWork ?? DEFAULT_MIN_PARALLEL_WORK;
  if (!(minWork >= 0)) throw new InvalidArgumentError(`minParallelWork must be a number >= 0, got ${minWork}`);
  if (threads > 1) {
    const rt = await createThreaded(options.threadsModule, threads, memoryLimit, minWork);
    if (rt instanceof Runtime) return rt;
    warnOnce(`sparq: running on one thread: ${rt}`);
  }
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES });
  return new Runtime(memory, await instantiateKernels(source, memory), memoryLimit);
}

/** A runtime on shared memory with a pool of threads - 1 workers, or why there cannot be one. */
async function createThreaded(source: WebAssembly.Module | Uint8Array | undefined, threads: number, memoryLimit: number,
  minWork: number): Promise<Runtime | string> {
  const problem = await threadsProblem();
  if (problem) return problem;
  try {
    const mod = await compileKernels(source ?? await packagedThreadsModule() ?? missing());
    const maximum = Math.ceil(memoryLimit / PAGE);
    const memory = new WebAssembly.Memory({ initial: Math.min(16, maximum), maximum, shared: true });
    const exports = await instantiateKernels(mod, memory);
    const rt = new Runtime(memory, exports, memoryLimit);
    const block = rt.alloc('threads.control', BLOCK_BYTES);
    const { names, fns } = kernelTable(mod, exports as unknown as Record<string, unknown>);
    const workers = Math.min(threads - 1, MAX_WORKERS);
    rt.attach(new PoolDispatcher(await ThreadPool.start(mod, memory, block, workers, names, fns), minWork));
    return rt;
  } catch (e) {
    return (e as Error)?.message ?? String(e);
  }
}

function missing(): never {
  throw new Error('no kernel module built for shared memory was given (threadsModule)');
}
