// The Dispatcher of a runtime with a worker pool. Weight kernels (matvec and matmul, of the file layouts and
// the interleaved forms) are split by output rows: each task is the same kernel over a contiguous block of
// rows (the weight pointer and the output pointer moved to its first row, a multiple of the interleaved
// forms' groups of rows), so each output row is computed by one thread. Results do not
// depend on the thread count as long as a kernel's value for a row does not depend on which other rows the
// call covers: rows sharing SIMD registers must stay in their own lanes, and a kernel with a separate path
// for the last rows % G rows (groups of G consecutive rows) is fine because blocks start at multiples of
// ROW_ALIGN (a multiple of G for G = 2, 4, 8, 16), so the same rows take that path.
// tests/host/threads.test.mjs checks this bitwise for every weight type.
import type { KernelExports, KernelName } from '../kernels/abi.js';
import type { Dispatcher, FillArgs, WeightItem } from '../kernels/runtime.js';
import { WEIGHT_KERNELS, INTERLEAVED_KERNELS, type WeightKernels } from '../kernels/weight-kernels.js';
import { MAX_TASKS } from './layout.js';
import type { ThreadPool } from './pool.js';

/** Rows per task are a multiple of this: of the kernels' row groups, and of 64 output bytes (no two threads write one cache line). */
const ROW_ALIGN = 16;
/**
 * Block sizes shrink as the rows run out (guided self-scheduling): each block is the rows left over
 * SHARE·threads, so the first blocks are large (few hand-offs) and the last ones small, and a thread that
 * finishes early, or was slowed by other work on its core, waits at most for one small block.
 */
const SHARE = 2;

type Fn = (...args: number[]) => number | void;

export class PoolDispatcher implements Dispatcher {
  private readonly blockCache = new Map<number, Int32Array>();
  private readonly item = new Int32Array(MAX_TASKS);
  private readonly first = new Int32Array(MAX_TASKS);
  private readonly count = new Int32Array(MAX_TASKS);

  /** Kernel calls with fewer multiply-adds than minWork run on the calling thread (a hand-off costs microseconds). */
  constructor(private readonly pool: ThreadPool, private readonly minWork: number) {}

  get threads(): number { return this.pool.threads; }

  /** First rows of the guided blocks of `rows` rows, with `rows` appended (cached per row count). */
  private guided(rows: number): Int32Array {
    let b = this.blockCache.get(rows);
    if (!b) {
      const starts = [0];
      for (let r = 0; r < rows;) {
        const left = rows - r;
        const size = starts.length >= MAX_TASKS ? left
          : Math.min(left, Math.max(ROW_ALIGN, Math.ceil(left / (SHARE * this.pool.threads) / ROW_ALIGN) * ROW_ALIGN));
        r += size;
        starts.push(r);
      }
      b = Int32Array.from(starts);
      this.blockCache.set(rows, b);
    }
    return b;
  }

  /** The blocks of a call over `rows` rows, or undefined to run it on the calling thread. */
  private blocks(rows: number, work: number): Int32Array | undefined {
    return work < this.minWork || rows < 2 * ROW_ALIGN || !this.pool.alive ? undefined : this.guided(rows);
  }

  splitKernels(raw: KernelExports): KernelExports {
    const k = { ...raw } as unknown as Record<KernelName, Fn>;
    const pool = this.pool;
    for (const w of [...WEIGHT_KERNELS.values(), ...INTERLEAVED_KERNELS.values()]) {
      const fv = raw[w.matvec] as unknown as Fn, fm = raw[w.matmul] as unknown as Fn;
      // y[r] = W[r,:]·x: rows [r0, r0 + m) read W from row r0 and write y from r0
      k[w.matvec] = (wp: number, x: number, y: number, rows: number, cols: number) => {
        const b = this.blocks(rows, rows * cols);
        if (!b) return fv(wp, x, y, rows, cols);
        const rb = w.rowBytes(cols);
        pool.call(w.matvec, b.length - 1, 5, (t, a, o) => {
          const r0 = b[t];
          a[o] = wp + r0 * rb; a[o + 1] = x; a[o + 2] = y + 4 * r0; a[o + 3] = b[t + 1] - r0; a[o + 4] = cols;
        });
      };
      // Y[t*ldy + r] = W[r,:]·X[t,:]: the same, every token row of Y keeping its stride ldy
      k[w.matmul] = (wp: number, x: number, y: number, rows: number, cols: number, n: number, ldy: number) => {
        const b = this.blocks(rows, rows * cols * n);
        if (!b) return fm(wp, x, y, rows, cols, n, ldy);
        const rb = w.rowBytes(cols);
        pool.call(w.matmul, b.length - 1, 7, (t, a, o) => {
          const r0 = b[t];
          a[o] = wp + r0 * rb; a[o + 1] = x; a[o + 2] = y + 4 * r0; a[o + 3] = b[t + 1] - r0;
          a[o + 4] = cols; a[o + 5] = n; a[o + 6] = ldy;
        });
      };
    }
    return k as unknown as KernelExports;
  }

  tasks(kernel: KernelName, tasks: number, work: number, nargs: number, fill: FillArgs, strides: readonly number[]): Float64Array | undefined {
    if (work < this.minWork || !this.pool.alive) return undefined;
    return this.pool.call(kernel, tasks, nargs, fill, strides);
  }

  /**
   * The tasks are the guided blocks of every weight: Y_i = W_i·X for n input rows (matvec for n = 1, else
   * matmul with each Y_i's rows ldy = rows_i apart).
   */
  weights(w: WeightKernels, x: number, cols: number, n: number, items: readonly WeightItem[]): boolean {
    let rows = 0;
    for (const it of items) rows += it.rows;
    if (rows * cols * n < this.minWork || !this.pool.alive) return false;
    const { item, first, count } = this;
    let tasks = 0;
    for (let i = 0; i < items.length; i++) {
      const b = this.guided(items[i].rows);
      if (tasks + b.length - 1 > MAX_TASKS) return false;
      for (let j = 0; j + 1 < b.length; j++, tasks++) { item[tasks] = i; first[tasks] = b[j]; count[tasks] = b[j + 1] - b[j]; }
    }
    const rb = w.rowBytes(cols);
    this.pool.call(n === 1 ? w.matvec : w.matmul, tasks, n === 1 ? 5 : 7, (t, a, o) => {
      const it = items[item[t]], r0 = first[t];
      a[o] = it.w + r0 * rb; a[o + 1] = x; a[o + 2] = it.y + 4 * r0; a[o + 3] = count[t]; a[o + 4] = cols;
      if (n !== 1) { a[o + 5] = n; a[o + 6] = it.rows; }
    });
    return true;
  }

  dispose(): void { this.pool.dispose(); }
}
