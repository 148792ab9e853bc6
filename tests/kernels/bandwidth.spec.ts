// read_sum_f32 reads every value once: small integers (exact in f32 in any order) summed over sizes around
// its 4-stream, 32-value steps, with a value outside the range that must not be read.
import { read_sum_f32 } from '../../assembly/bandwidth';

describe('read_sum_f32', () => {
  it('sums each of n values once (n = 0, 1, 63, 64, 65, 127, 128, 1000, 4099)', () => {
    const sizes: i32[] = [0, 1, 63, 64, 65, 127, 128, 1000, 4099];
    for (let s = 0; s < sizes.length; s++) {
      const n = sizes[s];
      const p = heap.alloc(<usize>(n + 1) << 2);
      let want = 0;
      for (let i = 0; i < n; i++) { const v = (i * 7) % 13; store<f32>(p + (<usize>i << 2), <f32>v); want += v; }
      store<f32>(p + (<usize>n << 2), 1e6); // past the end
      expect(read_sum_f32(p, n)).toBe(<f32>want, 'n=' + n.toString());
      heap.free(p);
    }
  });
});
