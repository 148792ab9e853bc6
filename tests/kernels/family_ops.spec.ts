// The element-wise kernels the model families use (bias add, scaling, soft-capping, exact GELU) against f64
// references, on odd sizes and tails.
import { add_rows, scale_f32, softcap_f32, gelu } from '../../assembly/activations';

const SIZES: i32[] = [1, 3, 4, 7, 64, 127, 1027];

let seed: u32 = 0x2545f491;
/** Uniform in [-1, 1) from a fixed-seed LCG. */
function rnd(): f64 {
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >>> 8) / 16777216.0 * 2.0 - 1.0;
}
function filled(n: i32, scale: f64): usize {
  const p = heap.alloc(<usize>n << 2);
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>(scale * rnd()));
  return p;
}
function copy(src: usize, n: i32): usize {
  const p = heap.alloc(<usize>n << 2);
  memory.copy(p, src, <usize>n << 2);
  return p;
}
function f(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }

/** erf(z) = 2/√π ∫_0^z e^(-t²) dt by composite Simpson's rule (a different method from the kernel's). */
function erfRef(z: f64): f64 {
  const n = 2000;
  const h = z / <f64>n;
  let s = 1.0 + Math.exp(-z * z);
  for (let i = 1; i < n; i++) {
    const t = h * <f64>i;
    s += (i & 1 ? 4.0 : 2.0) * Math.exp(-t * t);
  }
  return s * h / 3.0 * 2.0 / Math.sqrt(Math.PI);
}

describe('family element-wise kernels', () => {
  it('add_rows adds the bias to every row exactly', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const rows = 3;
      const x = filled(n * rows, 4.0), b = filled(n, 1.0), x0 = copy(x, n * rows);
      add_rows(x, b, n, rows);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < n; i++) expect<f32>(<f32>f(x, r * n + i)).toBe(<f32>(<f32>f(x0, r * n + i) + <f32>f(b, i)));
      }
    }
  });

  it('scale_f32 multiplies every element exactly', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = filled(n, 10.0), x0 = copy(x, n);
      scale_f32(x, 0.0883883461356163, n);
      for (let i = 0; i < n; i++) expect<f32>(<f32>f(x, i)).toBe(<f32>(<f32>f(x0, i) * <f32>0.0883883461356163));
    }
  });

  it('softcap_f32 is cap·tanh(x/cap) within an f32 rounding step, and saturates at ±cap', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = filled(n, 120.0), x0 = copy(x, n);
      softcap_f32(x, 30.0, n);
      for (let i = 0; i < n; i++) {
        const want = 30.0 * Math.tanh(f(x0, i) / 30.0);
        expect<f64>(Math.abs(f(x, i) - want)).toBeLessThanOrEqual(4e-6);
        expect<f64>(Math.abs(f(x, i))).toBeLessThanOrEqual(30.0);
      }
    }
  });

  it('gelu matches x/2·(1 + erf(x/√2)) within 2e-7·(1 + |x|), in place too', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = filled(n, 6.0), out = heap.alloc(<usize>n << 2);
      gelu(x, out, n);
      let worst = 0.0;
      for (let i = 0; i < n; i++) {
        const v = f(x, i);
        const want = 0.5 * v * (1.0 + erfRef(v / Math.SQRT2));
        worst = Math.max(worst, Math.abs(f(out, i) - want) / (1.0 + Math.abs(v)));
      }
      expect<f64>(worst).toBeLessThan(2e-7);
      gelu(x, x, n);
      for (let i = 0; i < n; i++) expect<f32>(<f32>f(x, i)).toBe(<f32>f(out, i));
    }
  });
});
