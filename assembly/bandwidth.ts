// Streaming-read yardstick: sums n f32 at ptr with 4 independent v128 accumulators (64 bytes a step).
// The weight kernels are judged against its GB/s on a buffer much larger than the caches.
import { laneSum } from './lanes';

export function read_sum_f32(ptr: usize, n: i32): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = ptr + (<usize>i << 2);
    a = f32x4.add(a, v128.load(p));
    b = f32x4.add(b, v128.load(p, 16));
    c = f32x4.add(c, v128.load(p, 32));
    d = f32x4.add(d, v128.load(p, 48));
  }
  const s = f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
  let t = laneSum(s);
  for (; i < n; i++) t += load<f32>(ptr + (<usize>i << 2));
  return t;
}
