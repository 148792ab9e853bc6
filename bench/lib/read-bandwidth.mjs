// The yardstick every benchmark reports next to its own numbers: the Wasm streaming read (read_sum_f32 over
// 256 MiB, 7 runs) of the kernel module in `dist`, on one thread.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Best and median of 7 reads of 256 MiB with the module built in `dist` (a dist/ folder or a copy of it). */
export async function readBandwidth(dist) {
  const { createRuntime } = await import(join(dist, 'threads', 'create-runtime.js'));
  const rt = await createRuntime(readFileSync(join(dist, 'sparq.wasm')));
  const bytes = 256 * 2 ** 20;
  const ptr = rt.alloc('test', bytes);
  rt.u8At(ptr, bytes).fill(1);
  const ms = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    rt.k.read_sum_f32(ptr, bytes / 4);
    ms.push(performance.now() - t0);
  }
  rt.dispose?.();
  ms.sort((a, b) => a - b);
  return { bytes, bestMs: ms[0], medianMs: ms[3], gbps: bytes / ms[0] / 1e6, medianGBps: bytes / ms[3] / 1e6 };
}
