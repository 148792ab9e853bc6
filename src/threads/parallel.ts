// The kernel table of a runtime with a pool: the weight kernels (matvec_<type>, matmul_<type>, for every
// GGML type the module has kernels for) split by output rows, everything else as the module exports it.
// Each task is the same kernel over a contiguous block of rows (the weight pointer and the output pointer
// moved to its first row), so each output row is computed by one thread. Results do not depend on the
// thread count as long as a kernel's value for a row does not depend on which other rows the call covers:
// rows sharing SIMD registers must stay in their own lanes, and a kernel with a separate path for the last
// rows % G rows (groups of G consecutive rows) is fine because blocks start at multiples of ROW_ALIGN (a
// multiple of G for G = 2, 4, 8, 16), so the same rows take that path. tests/host/threads.test.mjs checks
// this bitwise for every weight type.
import type { KernelExports } from '../wasm/exports.js';
import { GGMLType, ggmlTypeInfo } from '../formats/ggml-types.js';
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

/** Bytes of one weight row of `cols` values, by kernel name suffix ('f32', 'q8_0', 'q4_k', ...). */
const ROW_BYTES = new Map<string, (cols: number) => number>();
for (const id of Object.values(GGMLType)) {
  const info = ggmlTypeInfo(id);
  if (info) ROW_BYTES.set(info.name.toLowerCase(), (cols) => (cols / info.blockSize) * info.bytesPerBlock);
}

type Fn = (...args: number[]) => number | void;

/** One weight of a shared-input job: rows of W at w, outputs at y ([n][rows] for n input rows). */
export interface WeightItem { w: number; y: number; rows: number }

/** First rows of the guided blocks of `rows` rows for `pool`, with `rows` appended (cached per row count). */
function guidedBlocks(pool: ThreadPool): (rows: number) => Int32Array {
  const cache = new Map<number, Int32Array>();
  return (rows: number): Int32Array => {
    let b = cache.get(rows);
    if (!b) {
      const starts = [0];
      for (let r = 0; r < rows;) {
        const left = rows - r;
        const size = starts.length >= MAX_TASKS ? left : Math.min(left, Math.max(ROW_ALIGN, Math.ceil(left / (SHARE * pool.threads) / ROW_ALIGN) * ROW_ALIGN));
        r += size;
        starts.push(r);
      }
      b = Int32Array.from(starts);
      cache.set(rows, b);
    }
    return b;
  };
}

/** `raw` with its weight kernels split over `pool` when a call has at least `minWork` multiply-adds. */
export function parallelKernels(raw: KernelExports, pool: ThreadPool, minWork: number): KernelExports {
  const k: KernelExports = { ...raw };
  const guided = guidedBlocks(pool);
  /** The blocks of a call over `rows` rows, or undefined to run it on this thread. */
  const blocks = (rows: number, work: number): Int32Array | undefined =>
    (work < minWork || rows < 2 * ROW_ALIGN || !pool.alive ? undefined : guided(rows));
  for (const [type, rowBytes] of ROW_BYTES) {
    const mv = `matvec_${type}`, mm = `matmul_${type}`;
    const fv = raw[mv] as Fn | undefined, fm = raw[mm] as Fn | undefined;
    // y[r] = W[r,:]·x: rows [r0, r0 + m) read W from row r0 and write y from r0
    if (fv) {
      k[mv] = (w: number, x: number, y: number, rows: number, cols: number) => {
        const b = blocks(rows, rows * cols);
        if (!b) return fv(w, x, y, rows, cols);
        const rb = rowBytes(cols);
        pool.call(mv, b.length - 1, 5, (t, a, o) => {
          const r0 = b[t];
          a[o] = w + r0 * rb; a[o + 1] = x; a[o + 2] = y + 4 * r0; a[o + 3] = b[t + 1] - r0; a[o + 4] = cols;
        });
      };
    }
    // Y[t*ldy + r] = W[r,:]·X[t,:]: the same, every token row of Y keeping its stride ldy
    if (fm) {
      k[mm] = (w: number, x: number, y: number, rows: number, cols: number, n: number, ldy: number) => {
        const b = blocks(rows, rows * cols * n);
        if (!b) return fm(w, x, y, rows, cols, n, ldy);
        const rb = rowBytes(cols);
        pool.call(mm, b.length - 1, 7, (t, a, o) => {
          const r0 = b[t];
          a[o] = w + r0 * rb; a[o + 1] = x; a[o + 2] = y + 4 * r0; a[o + 3] = b[t + 1] - r0;
          a[o + 4] = cols; a[o + 5] = n; a[o + 6] = ldy;
        });
      };
    }
  }
  return k;
}

/**
 * Several weights of one type (kernel suffix `s`) applied to the same input in one job: Y_i = W_i·X for
 * n input rows (matvec for n = 1, else matmul with each Y_i's rows ldy = rows_i apart), the tasks being
 * the guided blocks of every weight. Returns false, having run nothing, when the job is too small to split
 * or has too many blocks; the caller then runs the weights one by one.
 */
export function weightsJob(pool: ThreadPool, minWork: number):
  (s: string, x: number, cols: number, n: number, items: readonly WeightItem[]) => boolean {
  const guided = guidedBlocks(pool);
  const item = new Int32Array(MAX_TASKS), first = new Int32Array(MAX_TASKS), count = new Int32Array(MAX_TASKS);
  return (s, x, cols, n, items) => {
    const rowBytes = ROW_BYTES.get(s);
    let rows = 0;
    for (const it of items) rows += it.rows;
    if (!rowBytes || rows * cols * n < minWork || !pool.alive) return false;
    let tasks = 0;
    for (let i = 0; i < items.length; i++) {
      const b = guided(items[i].rows);
      if (tasks + b.length - 1 > MAX_TASKS) return false;
      for (let j = 0; j + 1 < b.length; j++, tasks++) { item[tasks] = i; first[tasks] = b[j]; count[tasks] = b[j + 1] - b[j]; }
    }
    const rb = rowBytes(cols);
    const name = n === 1 ? `matvec_${s}` : `matmul_${s}`;
    pool.call(name, tasks, n === 1 ? 5 : 7, (t, a, o) => {
      const it = items[item[t]], r0 = first[t];
      a[o] = it.w + r0 * rb; a[o + 1] = x; a[o + 2] = it.y + 4 * r0; a[o + 3] = count[t]; a[o + 4] = cols;
      if (n !== 1) { a[o + 5] = n; a[o + 6] = it.rows; }
    });
    return true;
  };
}
