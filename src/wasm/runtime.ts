// One linear memory shared by every kernel, and a bump allocator over it.
// Kernels take raw byte offsets into this memory; the host owns all allocation.
// With `threads` > 1 the memory is shared and a pool of workers (src/threads) runs the heavy kernels
// with the main thread: `k` splits the weight kernels by rows, `runTasks` spreads independent calls.
import { instantiate } from '@assemblyscript/loader';
import type { KernelExports } from './exports.js';
import { OutOfMemoryError, InvalidArgumentError } from '../errors.js';
import { ThreadPool, warnOnce } from '../threads/pool.js';
import { BLOCK_BYTES, MAX_WORKERS } from '../threads/layout.js';
import { kernelTable } from '../threads/tasks.js';
import { parallelKernels, weightsJob, type WeightItem } from '../threads/parallel.js';
import { threadsProblem, packagedThreadsModule } from '../threads/support.js';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 ceiling
const ALIGN = 64;

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

export class Runtime {
  readonly memory: WebAssembly.Memory;
  readonly memoryLimit: number;
  /** The module's own exports (every call on the calling thread). */
  readonly raw: KernelExports;
  private kernels: KernelExports;
  private pool?: ThreadPool;
  private weightsOnPool?: ReturnType<typeof weightsJob>;
  private minParallelWork = DEFAULT_MIN_PARALLEL_WORK;
  private top: number;
  private buf: ArrayBuffer;
  private u8view: Uint8Array;
  private f32view: Float32Array;
  private i32view: Int32Array;

  constructor(memory: WebAssembly.Memory, exports: KernelExports, memoryLimit: number) {
    this.memory = memory;
    this.raw = exports;
    this.kernels = exports;
    this.memoryLimit = memoryLimit;
    this.top = alignUp(exports.heap_base(), ALIGN);
    this.buf = memory.buffer;
    this.u8view = new Uint8Array(this.buf);
    this.f32view = new Float32Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** The kernels; with a pool, the weight kernels are split across its threads. */
  get k(): KernelExports { return this.kernels; }

  /** Threads the kernels run on (1 without a pool). Per-thread scratch is this many regions. */
  get threads(): number { return this.pool?.threads ?? 1; }

  /** Run kernels on `pool` from now on (called once, by createRuntime). */
  useThreads(pool: ThreadPool, minParallelWork: number): void {
    this.pool = pool;
    this.minParallelWork = minParallelWork;
    this.kernels = parallelKernels(this.raw, pool, minParallelWork);
    this.weightsOnPool = weightsJob(pool, minParallelWork);
  }

  /**
   * Y_i = W_i·X for weights of one type (kernel suffix `s`: 'f32', 'q8_0', 'q4_k', ...) that share the input x
   * (already in the form their kernels read) and its `cols`: n = 1 runs matvec_s, n > 1 matmul_s with each Y_i
   * [n][rows_i]. With a pool, one job covers all of them (one hand-off instead of one per weight).
   */
  weights(s: string, x: number, cols: number, n: number, items: readonly WeightItem[]): void {
    if (this.weightsOnPool?.(s, x, cols, n, items)) return;
    for (const it of items) {
      if (n === 1) this.kernels[`matvec_${s}`](it.w, x, it.y, it.rows, cols);
      else this.kernels[`matmul_${s}`](it.w, x, it.y, it.rows, cols, n, it.rows);
    }
  }

  /**
   * `tasks` independent calls of kernel `name`, call t with the arguments argsOf(t), spread over the threads
   * when `work` (multiply-adds, all calls) is large enough, else in order here. With `perThread`, argument
   * perThread.arg is a scratch base: thread i gets base + i·perThread.bytes (allocate `threads` regions).
   * An argument left undefined (an optional one) reaches the kernel as it would from a direct call.
   * Returns the sum of the calls' results, in call order; `out`, if given, receives each call's result.
   */
  runTasks(name: string, tasks: number, work: number, argsOf: (t: number) => readonly (number | undefined)[],
    perThread?: { arg: number; bytes: number }, out?: Float64Array): number {
    const pool = this.pool;
    let sum = 0;
    if (pool && tasks > 1 && work >= this.minParallelWork && pool.alive) {
      const first = argsOf(0);
      const strides: number[] = new Array(first.length).fill(0);
      if (perThread) strides[perThread.arg] = perThread.bytes;
      // undefined is stored as NaN, which a Wasm parameter turns into what undefined gives (0 or NaN)
      const res = pool.call(name, tasks, first.length, (t, a, o) => a.set((t === 0 ? first : argsOf(t)) as ArrayLike<number>, o), strides);
      for (let t = 0; t < tasks; t++) {
        sum += res[t];
        if (out) out[t] = res[t];
      }
      return sum;
    }
    const f = this.raw[name];
    for (let t = 0; t < tasks; t++) {
      const r = (f(...(argsOf(t) as number[])) as number | undefined) ?? 0;
      sum += r;
      if (out) out[t] = r;
    }
    return sum;
  }

  /** Ends the worker threads, if any (the runtime must not be used afterwards). */
  dispose(): void {
    this.pool?.dispose();
  }

  /** Bytes currently handed out (including the module's static data). */
  get used(): number { return this.top; }

  /** Allocate `bytes` (aligned to 64), growing memory as needed. Returns a byte offset. */
  alloc(bytes: number, align = ALIGN): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`alloc: invalid size ${bytes}`);
    const ptr = alignUp(this.top, align);
    const end = ptr + bytes;
    if (end > this.memoryLimit) {
      throw new OutOfMemoryError(`out of Wasm memory: need ${end} bytes, limit is ${this.memoryLimit}`, end, this.memoryLimit);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return ptr;
  }

  /** Current allocation mark, for releasing scratch with `release`. */
  mark(): number { return this.top; }
  release(mark: number): void { this.top = mark; }

  private refresh(): void {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.u8view = new Uint8Array(this.buf);
      this.f32view = new Float32Array(this.buf);
      this.i32view = new Int32Array(this.buf);
    }
  }
  get u8(): Uint8Array { this.refresh(); return this.u8view; }
  get f32(): Float32Array { this.refresh(); return this.f32view; }
  get i32(): Int32Array { this.refresh(); return this.i32view; }

  /** A Float32Array view of `n` floats at byte offset `ptr` (invalid after memory grows). */
  f32At(ptr: number, n: number): Float32Array { this.refresh(); return new Float32Array(this.buf, ptr, n); }
  u8At(ptr: number, n: number): Uint8Array { this.refresh(); return new Uint8Array(this.buf, ptr, n); }
  i32At(ptr: number, n: number): Int32Array { this.refresh(); return new Int32Array(this.buf, ptr, n); }
}

export function alignUp(x: number, a: number): number { return Math.ceil(x / a) * a; }

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
  const exports = await instantiateKernels(source, memory);
  return new Runtime(memory, exports, memoryLimit);
}

/** A runtime on shared memory with a pool of threads - 1 workers, or why there cannot be one. */
async function createThreaded(source: WebAssembly.Module | Uint8Array | undefined, threads: number, memoryLimit: number,
  minWork: number): Promise<Runtime | string> {
  const problem = await threadsProblem();
  if (problem) return problem;
  try {
    const mod = await compile(source ?? await packagedThreadsModule() ?? missing());
    const maximum = Math.ceil(memoryLimit / PAGE);
    const memory = new WebAssembly.Memory({ initial: Math.min(16, maximum), maximum, shared: true });
    const exports = await instantiateKernels(mod, memory);
    const rt = new Runtime(memory, exports, memoryLimit);
    const block = rt.alloc(BLOCK_BYTES);
    const { names, fns } = kernelTable(mod, exports as unknown as Record<string, unknown>);
    const workers = Math.min(threads - 1, MAX_WORKERS);
    rt.useThreads(await ThreadPool.start(mod, memory, block, workers, names, fns), minWork);
    return rt;
  } catch (e) {
    return (e as Error)?.message ?? String(e);
  }
}

function missing(): never {
  throw new Error('no kernel module built for shared memory was given (threadsModule)');
}

async function compile(source: WebAssembly.Module | Uint8Array): Promise<WebAssembly.Module> {
  return source instanceof WebAssembly.Module ? source : WebAssembly.compile(source as BufferSource);
}

async function instantiateKernels(source: WebAssembly.Module | Uint8Array, memory: WebAssembly.Memory): Promise<KernelExports> {
  const imports = {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`kernel abort at ${line}:${col}`);
      },
    },
  };
  const { exports } = await instantiate<Record<string, unknown>>(await compile(source), imports);
  return exports as unknown as KernelExports;
}
