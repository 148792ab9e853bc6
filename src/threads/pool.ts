// The main thread's side of a worker pool on one shared Wasm memory: start the workers (through the
// supervisor thread), hand out jobs and join them through the control block (layout.ts), end them.
import { SparqError } from '../errors.js';
import {
  type Views, views, MAX_TASKS, MAX_ARGS, MAX_WORKERS, SEQ, OP, TASKS, NEXT, WAKE, ERROR, NARGS, KERNEL, STOP, PROBE,
  COMPLETED, HOLD0, DEAD0, OP_CALL, OP_EXIT,
} from './layout.js';
import { type KernelFn, runTasks, failureMessage, firstClaim, SPIN } from './tasks.js';
import { spawn, type ThreadHandle } from './spawn.js';
import type { SupervisorData } from './supervisor.js';

/** Fills the arguments of task t: a[o], a[o + 1], ... */
export type TaskArgs = (t: number, a: Float64Array, o: number) => void;

let livePools = 0;
let allExited: (() => void)[] = [];

/** Resolves once every pool started in this process has ended all its threads. */
export function whenAllThreadsEnded(): Promise<void> {
  return livePools === 0 ? Promise.resolve() : new Promise((resolve) => allExited.push(resolve));
}

export class ThreadPool {
  /** Threads that run tasks: the workers and the main thread. */
  readonly threads: number;
  private readonly v: Views;
  private readonly index = new Map<string, number>();
  private broken?: string;
  private disposed = false;
  /** The main thread may block in Atomics.wait (not so on a browser page's main thread: it polls). */
  private readonly canBlock: boolean;

  private constructor(private readonly handle: ThreadHandle, memory: WebAssembly.Memory, block: number,
    readonly workers: number, private readonly names: readonly string[], private readonly fns: readonly KernelFn[]) {
    this.threads = workers + 1;
    this.v = views(memory.buffer, block);
    names.forEach((n, i) => this.index.set(n, i));
    this.canBlock = mayBlock(this.v.i32);
    handle.onMessage((m) => { if ((m as { type: string }).type === 'failed') this.break((m as { reason: string }).reason); });
    handle.onEnd((why) => this.break(`the supervisor thread ${why}`));
  }

  /**
   * Starts `workers` threads on `memory` (shared) running `module`, the control block at byte offset
   * `block` (layout.ts BLOCK_BYTES, zeroed). `names`/`fns`: the main thread's instance (kernelTable).
   * Rejects with the reason when a thread cannot start.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, block: number, workers: number,
    names: readonly string[], fns: readonly KernelFn[]): Promise<ThreadPool> {
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new RangeError(`workers must be 1..${MAX_WORKERS}, got ${workers}`);
    const data: SupervisorData = { module, memory, block, workers };
    const handle = await spawn(new URL('./supervisor.js', import.meta.url), data);
    livePools++;
    let ended = false;
    handle.onEnd(() => {
      if (ended) return;
      ended = true;
      if (--livePools === 0) { const cbs = allExited; allExited = []; cbs.forEach((cb) => cb()); }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        handle.onMessage((m) => {
          const msg = m as { type: string; reason?: string };
          if (msg.type === 'ready') resolve();
          else if (msg.type === 'failed') reject(new Error(msg.reason));
        });
        handle.onEnd((why) => reject(new Error(`the supervisor thread ${why}`)));
      });
    } catch (e) {
      const v = views(memory.buffer, block);
      Atomics.store(v.i32, STOP, 1);
      handle.terminate();
      throw e;
    }
    handle.unref();
    return new ThreadPool(handle, memory, block, workers, names, fns);
  }

  /** False once the pool was disposed or a thread died: callers then run kernels on the main thread. */
  get alive(): boolean {
    if (this.broken || this.disposed) return false;
    for (let i = 0; i < this.workers; i++) {
      if (Atomics.load(this.v.i32, DEAD0 + i) !== 0) { this.break(failureMessage(this.v)); return false; }
    }
    return true;
  }

  /**
   * Runs `tasks` calls of kernel `name` spread over the threads; `fill` writes task t's `nargs` arguments.
   * Argument j gets thread id · strides[j] added (per-thread scratch). Returns the calls' results (a view
   * valid until the next call). Throws SparqError when a thread dies during the job (the pool is then
   * ended) and rethrows a kernel's failure (the pool stays usable).
   */
  call(name: string, tasks: number, nargs: number, fill: TaskArgs, strides?: readonly number[]): Float64Array {
    const kernel = this.index.get(name);
    if (kernel === undefined) throw new RangeError(`no kernel named ${name}`);
    if (tasks < 1 || tasks > MAX_TASKS || nargs > MAX_ARGS) throw new RangeError(`a job has 1..${MAX_TASKS} tasks of up to ${MAX_ARGS} arguments`);
    for (let t = 0; t < tasks; t++) fill(t, this.v.args, t * MAX_ARGS);
    for (let j = 0; j < nargs; j++) this.v.strides[j] = strides?.[j] ?? 0;
    return this.job(OP_CALL, kernel, tasks, nargs);
  }

  /** Makes one worker end itself in the middle of a job (for tests of the crash path); throws as `call` does. */
  crashOneWorker(): void {
    this.job(OP_EXIT, 0, 1, 0);
  }

  /** Ends the threads. The pool cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.v.i32, STOP, 1);
    Atomics.add(this.v.i32, SEQ, 1);
    Atomics.notify(this.v.i32, SEQ);
    this.handle.terminate();
  }

  private job(op: number, kernel: number, tasks: number, nargs: number): Float64Array {
    if (!this.alive) throw new SparqError(`the worker pool is not running: ${this.broken ?? 'it was disposed'}`);
    const i32 = this.v.i32;
    i32[OP] = op;
    i32[KERNEL] = kernel;
    i32[TASKS] = tasks;
    i32[NARGS] = nargs;
    Atomics.store(i32, ERROR, 0);
    Atomics.store(i32, COMPLETED, 0);
    const seq = (Atomics.load(i32, SEQ) + 1) | 0;
    Atomics.store(i32, NEXT, firstClaim(seq));
    Atomics.store(i32, SEQ, seq);
    Atomics.notify(i32, SEQ);
    if (op !== OP_EXIT) runTasks(this.v, this.fns, 0, seq, () => {});
    const died = this.join(seq, tasks);
    if (died !== undefined) {
      this.break(died);
      throw new SparqError(`a worker thread died during a kernel call (${died}); the model goes on with one thread`);
    }
    if (Atomics.load(i32, ERROR) !== 0) throw new SparqError(`kernel ${this.names[kernel]} failed: ${failureMessage(this.v)}`);
    return this.v.results;
  }

  /**
   * Waits until the `tasks` tasks of job `seq` are completed. When a worker died inside the job (a task it
   * claimed would never complete), waits instead until the live workers have left the job (every task was
   * claimed before the join, so none can start one later) and returns the failure message.
   */
  private join(seq: number, tasks: number): string | undefined {
    const i32 = this.v.i32;
    for (let spin = 0; ; spin++) {
      const wake = Atomics.load(i32, WAKE);
      if (Atomics.load(i32, COMPLETED) >= tasks) return undefined;
      let died = false, busy = false;
      for (let i = 0; i < this.workers; i++) {
        if (Atomics.load(i32, HOLD0 + i) !== seq) continue;
        if (Atomics.load(i32, DEAD0 + i) !== 0) died = true;
        else busy = true;
      }
      if (died && !busy) return failureMessage(this.v);
      if (spin >= SPIN && this.canBlock) Atomics.wait(i32, WAKE, wake);
    }
  }

  private break(reason: string): void {
    if (this.broken || this.disposed) return;
    this.broken = reason;
    warnOnce(`sparq: the worker pool stopped (${reason}); going on with one thread`);
    Atomics.store(this.v.i32, STOP, 1);
    Atomics.add(this.v.i32, SEQ, 1);
    Atomics.notify(this.v.i32, SEQ);
    this.handle.terminate();
  }
}

/** Whether this thread may block in Atomics.wait. */
function mayBlock(i32: Int32Array): boolean {
  try {
    Atomics.wait(i32, PROBE, 1, 0);
    return true;
  } catch {
    return false;
  }
}

const warned = new Set<string>();
/** console.warn, once per message per process. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}
