// The control block the threads of a pool share, in the kernel module's shared memory: i32 words for the
// hand-off, then per task the f64 arguments of one kernel call and its result, then a failure message.
//
// A job: the main thread writes the kernel, the task count and every task's arguments, resets COMPLETED
// and NEXT and bumps SEQ (waking the workers); every thread, the main thread too, claims tasks from NEXT
// until none is left. NEXT holds the job's number with the next task index, so a worker that wakes late
// cannot claim a task of a later job for the one it saw. A thread that completes the last task bumps WAKE,
// which the main thread waits on, so it never waits for workers that found nothing left to claim. A worker
// that dies is marked in its DEAD word by the thread watching it, which also bumps WAKE; its HOLD word says
// whether it was inside the job (and may have taken a task with it).

/** Workers beside the main thread, at most. */
export const MAX_WORKERS = 63;
/** Tasks in one job, at most. */
export const MAX_TASKS = 256;
/** Arguments of one kernel call, at most. */
export const MAX_ARGS = 24;
/** Bytes of the failure message. */
export const MESSAGE_BYTES = 512;

// i32 word indices
export const SEQ = 0;
export const OP = 1;
export const TASKS = 2;
/** (SEQ & TAG_MASK) << TAG_SHIFT | the next task index. */
export const NEXT = 3;
export const WAKE = 4;
/** 0, or 1 + the id of the first thread whose task threw. */
export const ERROR = 5;
export const MESSAGE_LENGTH = 6;
export const NARGS = 7;
export const KERNEL = 8;
/** 1: the workers leave their loop. */
export const STOP = 9;
/** A word nobody writes (for the Atomics.wait capability check). */
export const PROBE = 10;
/** Tasks of the current job completed. */
export const COMPLETED = 11;
/** HOLD0 + i: the job worker i is claiming or running tasks of (-1: none). */
export const HOLD0 = 16;
/** DEAD0 + i: 1 once worker i died. */
export const DEAD0 = HOLD0 + MAX_WORKERS;
const WORDS = DEAD0 + MAX_WORKERS;

export const TAG_SHIFT = 10;
export const TAG_MASK = (1 << 21) - 1;

// ops
/** Call kernel KERNEL once per task. */
export const OP_CALL = 1;
/** End the worker thread that claims the task (tests use it to check that a dead worker fails the call). */
export const OP_EXIT = 2;

// byte offsets from the start of the block (all 8-aligned)
export const ARGS_AT = WORDS * 4;
/** Per argument, the bytes added for each thread id (per-thread scratch: base + id · stride). */
export const STRIDES_AT = ARGS_AT + MAX_TASKS * MAX_ARGS * 8;
export const RESULTS_AT = STRIDES_AT + MAX_ARGS * 8;
export const MESSAGE_AT = RESULTS_AT + MAX_TASKS * 8;
export const BLOCK_BYTES = MESSAGE_AT + MESSAGE_BYTES;

/** Typed views of a control block at byte offset `at` of `buffer`. */
export interface Views {
  i32: Int32Array;
  args: Float64Array;
  strides: Float64Array;
  results: Float64Array;
  message: Uint8Array;
}

export function views(buffer: ArrayBufferLike, at: number): Views {
  return {
    i32: new Int32Array(buffer, at, WORDS),
    args: new Float64Array(buffer, at + ARGS_AT, MAX_TASKS * MAX_ARGS),
    strides: new Float64Array(buffer, at + STRIDES_AT, MAX_ARGS),
    results: new Float64Array(buffer, at + RESULTS_AT, MAX_TASKS),
    message: new Uint8Array(buffer, at + MESSAGE_AT, MESSAGE_BYTES),
  };
}
