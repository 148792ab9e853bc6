// Streaming-read yardstick: sums n f32 at ptr. The weight kernels are judged against its GB/s on a buffer much
// larger than the caches, so it reads as fast as a kernel can: the buffer as 4 streams a quarter of it apart
// (on some CPUs one core reads several far-apart streams faster than one), 128 bytes an iteration into 8
// independent accumulators (f32 adds take a few cycles each; 8 chains keep the loads, not the adds, the
// limit). The sum's value only keeps the reads from being optimised away.
import { laneSum } from './lanes';

export function read_sum_f32(ptr: usize, n: i32): f32 {
  const q = (<usize>n >> 6) << 4; // floats a stream, a multiple of 16
  const qb = q << 2, end = ptr + qb;
  let a = f32x4.splat(0), b = a, c = a, d = a, e = a, f = a, g = a, h = a;
  for (let p = ptr; p < end; p += 32) {
    a = f32x4.add(a, v128.load(p)); b = f32x4.add(b, v128.load(p, 16));
    c = f32x4.add(c, v128.load(p + qb)); d = f32x4.add(d, v128.load(p + qb, 16));
    e = f32x4.add(e, v128.load(p + 2 * qb)); f = f32x4.add(f, v128.load(p + 2 * qb, 16));
    g = f32x4.add(g, v128.load(p + 3 * qb)); h = f32x4.add(h, v128.load(p + 3 * qb, 16));
  }
  let t = laneSum(f32x4.add(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)), f32x4.add(f32x4.add(e, f), f32x4.add(g, h))));
  for (let i = <i32>(q << 2); i < n; i++) t += load<f32>(ptr + (<usize>i << 2));
  return t;
}
