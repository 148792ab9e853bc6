// The thread between the main thread and the compute workers. It starts the workers and watches them: the
// main thread blocks in Atomics.wait during a job and cannot run event handlers, so a worker that dies is
// reported through memory instead (its DEAD word, the failure message, a WAKE bump), which wakes it.
import { parent, spawn } from './spawn.js';
import { views, STOP, WAKE, DEAD0 } from './layout.js';
import { recordFailure } from './tasks.js';
import type { WorkerData } from './worker.js';

export interface SupervisorData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  block: number;
  workers: number;
}

const p = await parent();
const d = p.data as SupervisorData;
const v = views(d.memory.buffer, d.block);
let ready = 0;
let failed = false;
const fail = (reason: string) => {
  if (!failed) p.post({ type: 'failed', reason });
  failed = true;
};
for (let id = 0; id < d.workers; id++) {
  const data: WorkerData = { module: d.module, memory: d.memory, block: d.block, id };
  const w = await spawn(new URL('./worker.js', import.meta.url), data);
  let dead = false;
  w.onMessage((m) => {
    const msg = m as { type: string; reason?: string };
    if (msg.type === 'ready' && ++ready === d.workers && !failed) p.post({ type: 'ready' });
    if (msg.type === 'failed') fail(msg.reason ?? `worker ${id + 1} failed to start`);
  });
  w.onEnd((why) => {
    if (dead || Atomics.load(v.i32, STOP) !== 0) return;
    dead = true;
    recordFailure(v, id + 1, `worker thread ${id + 1} ${why}`);
    Atomics.store(v.i32, DEAD0 + id, 1);
    Atomics.add(v.i32, WAKE, 1);
    Atomics.notify(v.i32, WAKE);
    fail(`worker thread ${id + 1} ${why}`);
  });
}
