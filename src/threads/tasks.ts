// What every thread of a pool runs, the main thread included: claim the tasks of the current job one at a
// time and run each as one kernel call. Which thread runs a task does not change its result: a task is a
// whole kernel call over its own outputs, and only its scratch region differs by thread.
import {
  type Views, MAX_ARGS, MESSAGE_BYTES, SEQ, OP, TASKS, NEXT, WAKE, ERROR, MESSAGE_LENGTH, NARGS, KERNEL, STOP, COMPLETED,
  HOLD0, OP_EXIT, TAG_SHIFT, TAG_MASK,
} from './layout.js';

export type KernelFn = (...args: number[]) => number | void;

/** The module's exported functions in a fixed order (sorted names), the same for every instance of it. */
export function kernelTable(module: WebAssembly.Module, exports: Record<string, unknown>): { names: string[]; fns: KernelFn[] } {
  const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
  return { names, fns: names.map((n) => exports[n] as KernelFn) };
}

/** The NEXT word of job `seq` before its first task is claimed. */
export function firstClaim(seq: number): number { return (seq & TAG_MASK) << TAG_SHIFT; }

/** Claims the next task of job `seq`: its index, or -1 when the job has none left (or is over). */
function claim(i32: Int32Array, seq: number, n: number): number {
  const tag = firstClaim(seq);
  for (;;) {
    const w = Atomics.load(i32, NEXT);
    const t = w - tag;
    if (t < 0 || t >= n) return -1; // another job's word (t < 0 or past the index bits), or no task left
    if (Atomics.compareExchange(i32, NEXT, w, w + 1) === w) return t;
  }
}

const a = new Float64Array(MAX_ARGS);

/**
 * Runs tasks of job `seq` on thread `tid` (0: the main thread) until none is left. A kernel's failure is
 * recorded (ERROR, message) and the task still counts as completed. `exit` ends the calling worker (OP_EXIT).
 * The job's fields may already belong to a later job when this thread is late; then no claim succeeds.
 */
export function runTasks(v: Views, fns: readonly KernelFn[], tid: number, seq: number, exit: () => void): void {
  const i32 = v.i32;
  const n = i32[TASKS], nargs = i32[NARGS], op = i32[OP];
  const f = fns[i32[KERNEL]];
  a.fill(0, nargs); // a kernel with more parameters than the job passes gets 0 for them, never an earlier job's value
  for (let t = claim(i32, seq, n); t >= 0; t = claim(i32, seq, n)) {
    if (op === OP_EXIT) { exit(); return; } // (the task is never completed: the thread's end is the signal)
    try {
      const o = t * MAX_ARGS;
      for (let j = 0; j < nargs; j++) a[j] = v.args[o + j] + tid * v.strides[j];
      // Extra arguments are ignored by a Wasm function with fewer parameters.
      const r = f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15],
        a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23]);
      v.results[t] = typeof r === 'number' ? r : 0;
    } catch (e) {
      recordFailure(v, tid, `thread ${tid}: ${(e as Error)?.message ?? String(e)}`);
    }
    if (Atomics.add(i32, COMPLETED, 1) + 1 === n) {
      Atomics.add(i32, WAKE, 1);
      Atomics.notify(i32, WAKE);
    }
  }
}

/** Records the first failure of a job: the thread id and its message. */
export function recordFailure(v: Views, tid: number, message: string): void {
  if (Atomics.compareExchange(v.i32, ERROR, 0, tid + 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
  v.message.set(bytes);
  Atomics.store(v.i32, MESSAGE_LENGTH, bytes.length);
}

/** The recorded failure message. */
export function failureMessage(v: Views): string {
  // slice copies out of the shared buffer, which TextDecoder does not read everywhere
  return new TextDecoder().decode(v.message.slice(0, Atomics.load(v.i32, MESSAGE_LENGTH)));
}

/** Polls of a word before a thread blocks on it: covers the short gaps between the kernels of a step. */
export const SPIN = 4000;

/**
 * A worker's loop: wait for a job (SEQ changing from `seen`, its value before this worker reported ready)
 * and take part in it, until STOP. `id` is the worker index; its thread id is id + 1.
 */
export function serve(v: Views, fns: readonly KernelFn[], id: number, seen: number, exit: () => void): void {
  const i32 = v.i32;
  for (;;) {
    for (let s = 0; s < SPIN && Atomics.load(i32, SEQ) === seen; s++);
    Atomics.wait(i32, SEQ, seen);
    seen = Atomics.load(i32, SEQ);
    if (Atomics.load(i32, STOP) !== 0) return;
    Atomics.store(i32, HOLD0 + id, seen);
    runTasks(v, fns, id + 1, seen, exit);
    Atomics.store(i32, HOLD0 + id, -1);
    // after a failure the main thread may be waiting for this worker to leave the job
    if (Atomics.load(i32, ERROR) !== 0) { Atomics.add(i32, WAKE, 1); Atomics.notify(i32, WAKE); }
  }
}
