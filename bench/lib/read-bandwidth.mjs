// The yardstick every benchmark reports next to its own numbers: the streaming-read bound of one thread. Two
// reads of the same 256 MiB: the Wasm kernel read_sum_f32 of the module in `dist`, and, where gcc is present,
// a native C read (read-stream.c, built with gcc -O3 -march=native; one stream and 4 streams a quarter of the
// buffer apart). On some CPUs a Wasm weight kernel outruns the Wasm read, so the bound is the higher of them.
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BYTES = 256 * 2 ** 20;

/** The native read's best GB/s ({ one, four }, 7 passes each) over `bytes`, wall-clock or (cpu) CPU time of
 *  its thread; null where gcc is missing or the build fails. The binary is cached by the source's hash. */
export function nativeReadBandwidth(bytes = BYTES, { cpu = false } = {}) {
  const src = readFileSync(join(here, 'read-stream.c'));
  const dir = join(tmpdir(), 'sparq-bench');
  const bin = join(dir, `read-stream-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  try {
    if (!existsSync(bin)) {
      mkdirSync(dir, { recursive: true });
      execFileSync('gcc', ['-O3', '-march=native', '-o', bin, join(here, 'read-stream.c')], { stdio: 'pipe' });
    }
    const out = JSON.parse(execFileSync(bin, [String(Math.round(bytes / 2 ** 20)), ...(cpu ? ['cpu'] : [])], { encoding: 'utf8' }));
    return { one: out.one, four: out.four, gbps: Math.max(out.one, out.four) };
  } catch {
    return null;
  }
}

/**
 * Best and median of 7 Wasm reads of 256 MiB with the module built in `dist` (a dist/ folder or a copy of it),
 * the native read, and `gbps`: the bound, the higher of the Wasm best and the native best.
 */
export async function readBandwidth(dist) {
  const { createRuntime } = await import(join(dist, 'threads', 'create-runtime.js'));
  const rt = await createRuntime(readFileSync(join(dist, 'sparq.wasm')));
  const ptr = rt.alloc('test', BYTES);
  rt.u8At(ptr, BYTES).fill(1);
  const ms = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    rt.k.read_sum_f32(ptr, BYTES / 4);
    ms.push(performance.now() - t0);
  }
  rt.dispose?.();
  ms.sort((a, b) => a - b);
  const wasmGBps = BYTES / ms[0] / 1e6, native = nativeReadBandwidth(BYTES);
  return { bytes: BYTES, bestMs: ms[0], medianMs: ms[3], wasmGBps, medianGBps: BYTES / ms[3] / 1e6, native,
    gbps: Math.max(wasmGBps, native?.gbps ?? 0) };
}
