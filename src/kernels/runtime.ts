// One linear memory shared by every kernel, a bump allocator over it, and typed calls of the kernels.
// Kernels take raw byte offsets into this memory; the host owns all allocation, and every allocation is
// logged by name so tests can hold it against the memory plan. With several threads, a Dispatcher (from
// src/threads) spreads kernel calls over them; without one every call runs on the calling thread.
import type { KernelExports, KernelName, KernelArgs } from './abi.js';
import { KERNEL_PARAMS, KERNEL_CALLS, KERNEL_PACK } from './abi.js';
import { ALIGN, alignUp, type Buffers } from './memory-plan.js';
import type { WeightKernels } from './weight-kernels.js';
import { OutOfMemoryError, InvalidArgumentError } from '../errors.js';
import { PAGE } from './instantiate.js';

/** A kernel parameter's name. */
export type ParamName<K extends KernelName> = (typeof KERNEL_PARAMS)[K][number];

/** Writes the positional arguments of task t at a[o], a[o + 1], ... */
export type FillArgs = (t: number, a: Float64Array, o: number) => void;

/** One weight of a shared-input call: rows of W at w, outputs at y ([n][rows] for n input rows). */
export interface WeightItem { w: number; y: number; rows: number }

/** What spreads kernel calls over threads (src/threads implements it). */
export interface Dispatcher {
  /** Threads that run kernels, the calling one included. */
  readonly threads: number;
  /** `raw` with the weight kernels (matvec, matmul) split by rows over the threads when a call is large enough. */
  splitKernels(raw: KernelExports): KernelExports;
  /**
   * `tasks` calls of `kernel` spread over the threads, argument j of the thread with id i being its value plus
   * i·strides[j]: each call's result (a view valid until the next job), or undefined when `work` (multiply-adds)
   * is too small for a hand-off or no thread is left, so that the caller runs the calls itself.
   */
  tasks(kernel: KernelName, tasks: number, work: number, nargs: number, fill: FillArgs, strides: readonly number[]): Float64Array | undefined;
  /** Several weights of one type applied to one input as one job; false when it ran nothing (too small, too many blocks). */
  weights(kernels: WeightKernels, x: number, cols: number, n: number, items: readonly WeightItem[]): boolean;
  dispose(): void;
}

export interface Allocation { name: string; ptr: number; bytes: number }

export interface TaskOptions<K extends KernelName> {
  /** The scratch parameter: thread i gets its value + i·bytes (allocate `threads` regions of `bytes`). */
  perThread?: { param: ParamName<K>; bytes: number };
  /** Receives each call's result, in call order. */
  out?: Float64Array;
}

type Fn = (...args: number[]) => number | void;

export class Runtime {
  /** The kernels on the calling thread. */
  readonly raw: KernelExports;
  private kernels: KernelExports;
  private dispatcher?: Dispatcher;
  private top: number;
  private log: Allocation[] = [];
  private buf: ArrayBuffer | SharedArrayBuffer;
  private u8view: Uint8Array;
  private f32view: Float32Array;
  private i32view: Int32Array;

  constructor(readonly memory: WebAssembly.Memory, exports: KernelExports, readonly memoryLimit: number) {
    this.raw = exports;
    this.kernels = exports;
    this.top = alignUp(exports.heap_base(), ALIGN);
    this.buf = memory.buffer;
    this.u8view = new Uint8Array(this.buf);
    this.f32view = new Float32Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** The kernels; with threads, the weight kernels split by rows. */
  get k(): KernelExports { return this.kernels; }

  /** Threads the kernels run on (1 without a dispatcher). Per-thread scratch is this many regions. */
  get threads(): number { return this.dispatcher?.threads ?? 1; }

  /** Spread kernel calls with `d` from now on (once, when the runtime is created). */
  attach(d: Dispatcher): void {
    this.dispatcher = d;
    this.kernels = d.splitKernels(this.raw);
  }

  /** One call of `kernel` on the calling thread, its arguments by name. */
  call<K extends KernelName>(kernel: K, args: KernelArgs<K>): number {
    const r = (KERNEL_CALLS[kernel] as (k: KernelExports, a: KernelArgs<K>) => number | void)(this.raw, args);
    return typeof r === 'number' ? r : 0;
  }

  /**
   * `tasks` independent calls of `kernel`, call t with the arguments argsOf(t), spread over the threads when
   * `work` (multiply-adds, all calls) is large enough, else in order here. Returns the sum of the results.
   */
  runTasks<K extends KernelName>(kernel: K, tasks: number, work: number, argsOf: (t: number) => KernelArgs<K>,
    opts: TaskOptions<K> = {}): number {
    const params = KERNEL_PARAMS[kernel] as readonly string[];
    const { perThread, out } = opts;
    let sum = 0;
    if (this.dispatcher && tasks > 1) {
      const strides = params.map((p) => (p === perThread?.param ? perThread.bytes : 0));
      const pack = KERNEL_PACK[kernel] as (a: KernelArgs<K>, out: Float64Array, at: number) => void;
      const res = this.dispatcher.tasks(kernel, tasks, work, params.length, (t, a, o) => pack(argsOf(t), a, o), strides);
      if (res) {
        for (let t = 0; t < tasks; t++) {
          sum += res[t];
          if (out) out[t] = res[t];
        }
        return sum;
      }
    }
    for (let t = 0; t < tasks; t++) {
      const r = this.call(kernel, argsOf(t));
      sum += r;
      if (out) out[t] = r;
    }
    return sum;
  }

  /**
   * Y_i = W_i·X for weights of one type (kernels `w`) that share the input x (in the form their kernels read)
   * and its `cols`: n = 1 runs matvec, n > 1 matmul with each Y_i [n][rows_i]. With threads, one job covers
   * all of them (one hand-off instead of one per weight).
   */
  weights(w: WeightKernels, x: number, cols: number, n: number, items: readonly WeightItem[]): void {
    if (this.dispatcher?.weights(w, x, cols, n, items)) return;
    const k = this.kernels as unknown as Record<KernelName, Fn>;
    for (const it of items) {
      if (n === 1) k[w.matvec](it.w, x, it.y, it.rows, cols);
      else k[w.matmul](it.w, x, it.y, it.rows, cols, n, it.rows);
    }
  }

  /** Ends the worker threads, if any (the runtime must not be used afterwards). */
  dispose(): void {
    this.dispatcher?.dispose();
  }

  /** Bytes in use (the module's static data included). */
  get used(): number { return this.top; }

  /** Every allocation so far that was not released, in order. */
  get allocations(): readonly Allocation[] { return this.log; }

  /** Allocate `bytes` (aligned to `align`), growing memory as needed; logged as `name`. Returns a byte offset. */
  alloc(name: string, bytes: number, align = ALIGN): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InvalidArgumentError(`alloc ${name}: invalid size ${bytes}`);
    const ptr = alignUp(this.top, align);
    const end = ptr + bytes;
    if (end > this.memoryLimit) {
      throw new OutOfMemoryError(`out of Wasm memory: ${name} needs memory up to ${end} bytes, the limit is ${this.memoryLimit}`, end, this.memoryLimit);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    this.log.push({ name, ptr, bytes });
    return ptr;
  }

  /** An owner's declared buffers, allocated in order: name -> byte offset (0 for a 0-byte buffer). */
  allocate<K extends string>(owner: string, buffers: Buffers<K>, align = ALIGN): Record<K, number> {
    const ptrs = {} as Record<K, number>;
    for (const name of Object.keys(buffers) as K[]) {
      ptrs[name] = buffers[name] > 0 ? this.alloc(`${owner}.${name}`, buffers[name], align) : 0;
    }
    return ptrs;
  }

  /** Current allocation mark, for releasing scratch with `release`. */
  mark(): number { return this.top; }
  release(mark: number): void {
    this.top = mark;
    while (this.log.length > 0 && this.log[this.log.length - 1].ptr >= mark) this.log.pop();
  }

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
