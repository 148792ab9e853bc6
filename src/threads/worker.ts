// A compute thread of a pool: instantiates the kernel module on the pool's shared memory (the module's
// data segments hold only constants, so instantiating again rewrites the bytes already there), checks that
// it may block in Atomics.wait, reports ready and then serves jobs until the pool stops.
import { parent } from './spawn.js';
import { views, PROBE, SEQ } from './layout.js';
import { kernelTable, serve } from './tasks.js';

export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block. */
  block: number;
  /** Worker index (thread id - 1). */
  id: number;
}

const p = await parent();
const d = p.data as WorkerData;
let started = false;
try {
  const instance = await WebAssembly.instantiate(d.module, {
    env: {
      memory: d.memory,
      abort(_msg: number, _file: number, line: number, col: number) { throw new Error(`kernel abort at ${line}:${col}`); },
    },
  });
  const v = views(d.memory.buffer, d.block);
  Atomics.wait(v.i32, PROBE, 1, 0); // throws where this thread may not block
  const { fns } = kernelTable(d.module, instance.exports as Record<string, unknown>);
  const seen = Atomics.load(v.i32, SEQ); // no job starts before every worker is ready
  p.post({ type: 'ready' });
  started = true;
  serve(v, fns, d.id, seen, () => p.exit(1));
} catch (e) {
  if (!started) p.post({ type: 'failed', reason: `worker ${d.id + 1}: ${(e as Error)?.message ?? String(e)}` });
  else throw e;
}
