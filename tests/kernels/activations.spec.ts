// Activations, residual add and softmax against plain f64 references (the vector e^x: exp.spec.ts).
import { silu_mul, gelu_tanh_mul, add_f32, softmax_f32 } from '../../assembly/activations';

const SIZES: i32[] = [1, 3, 4, 7, 64, 127, 4099];

let seed: u32 = 0x6c078965;
/** Uniform in [-1, 1) from a fixed-seed LCG. */
function rnd(): f64 {
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >>> 8) / 16777216.0 * 2.0 - 1.0;
}

function fill(p: usize, n: i32, scale: f64): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>(scale * rnd()));
}
function copy(src: usize, n: i32): usize {
  const p = heap.alloc(<usize>n << 2);
  memory.copy(p, src, <usize>n << 2);
  return p;
}
function f(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }

// Largest error of out against want(i), relative to |want| plus `floor` times the size of the inputs.
function siluRef(g: f64, u: f64): f64 { return g / (1.0 + Math.exp(-g)) * u; }
function geluRef(g: f64, u: f64): f64 {
  return 0.5 * g * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (g + 0.044715 * g * g * g))) * u;
}

describe('silu_mul', () => {
  it('matches g·sigmoid(g)·u within 1e-6 relative, separate output and out = gate', () => {
    let worst = 0.0;
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const g = heap.alloc(<usize>n << 2), u = heap.alloc(<usize>n << 2), o = heap.alloc(<usize>n << 2);
      fill(g, n, 16.0);
      fill(u, n, 2.0);
      silu_mul(g, u, o, n);
      for (let i = 0; i < n; i++) {
        const want = siluRef(f(g, i), f(u, i));
        worst = Math.max(worst, Math.abs(f(o, i) - want) / Math.max(Math.abs(want), 1e-30));
      }
      const g0 = copy(g, n);
      silu_mul(g, u, g, n);
      expect<i32>(memory.compare(g, o, <usize>n << 2)).toBe(0, 'in place gives the same bits, n = ' + n.toString());
      heap.free(g); heap.free(u); heap.free(o); heap.free(g0);
    }
    expect<f64>(worst).toBeLessThanOrEqual(1e-6);
    log<f64>(worst); // silu_mul max relative error
  });

  it('large |gate| gives finite limits, no NaN', () => {
    const n = 8;
    const g = heap.alloc(<usize>n << 2), u = heap.alloc(<usize>n << 2), o = heap.alloc(<usize>n << 2);
    const gs: f32[] = [100, -100, 1e30, -1e30, 3e38, -3e38, 88.8, -88.8];
    for (let i = 0; i < n; i++) { store<f32>(g + (<usize>i << 2), gs[i]); store<f32>(u + (<usize>i << 2), 0.5); }
    silu_mul(g, u, o, n);
    for (let i = 0; i < n; i++) {
      const want = gs[i] > 0 ? <f64>gs[i] * 0.5 : 0.0;
      expect<f64>(Math.abs(f(o, i) - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-30, 'gate ' + gs[i].toString());
    }
    heap.free(g); heap.free(u); heap.free(o);
  });
});

describe('gelu_tanh_mul', () => {
  it('matches 0.5·g·(1 + tanh(√(2/π)(g + 0.044715g³)))·u within 1e-6·|ref| + 1e-9·|g·u|', () => {
    // The second term covers very negative g, where the result is ~1e-10 of |g·u| and the f32 rounding
    // of the tanh argument dominates its relative error.
    let worst = 0.0;
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const g = heap.alloc(<usize>n << 2), u = heap.alloc(<usize>n << 2), o = heap.alloc(<usize>n << 2);
      fill(g, n, 6.0);
      fill(u, n, 2.0);
      gelu_tanh_mul(g, u, o, n);
      for (let i = 0; i < n; i++) {
        const want = geluRef(f(g, i), f(u, i));
        const err = Math.abs(f(o, i) - want) / (Math.abs(want) + 1e-3 * Math.abs(f(g, i) * f(u, i)) + 1e-30);
        worst = Math.max(worst, err);
      }
      gelu_tanh_mul(g, u, g, n);
      expect<i32>(memory.compare(g, o, <usize>n << 2)).toBe(0, 'in place gives the same bits, n = ' + n.toString());
      heap.free(g); heap.free(u); heap.free(o);
    }
    expect<f64>(worst).toBeLessThanOrEqual(1e-6);
    log<f64>(worst); // gelu_tanh_mul max error
  });

  it('large |gate| gives finite limits, no NaN', () => {
    const n = 6;
    const g = heap.alloc(<usize>n << 2), u = heap.alloc(<usize>n << 2), o = heap.alloc(<usize>n << 2);
    const gs: f32[] = [50, -50, 1e20, -1e20, 3e38, -3e38];
    for (let i = 0; i < n; i++) { store<f32>(g + (<usize>i << 2), gs[i]); store<f32>(u + (<usize>i << 2), 0.5); }
    gelu_tanh_mul(g, u, o, n);
    for (let i = 0; i < n; i++) {
      const want = gs[i] > 0 ? <f64>gs[i] * 0.5 : 0.0;
      expect<f64>(Math.abs(f(o, i) - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-30, 'gate ' + gs[i].toString());
    }
    heap.free(g); heap.free(u); heap.free(o);
  });
});

describe('add_f32', () => {
  it('gives the correctly rounded f32 sum of every pair', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = heap.alloc(<usize>n << 2), y = heap.alloc(<usize>n << 2);
      fill(x, n, 100.0);
      fill(y, n, 1.0);
      const x0 = copy(x, n);
      add_f32(x, y, n);
      // f64 holds the exact sum of two f32, so one rounding to f32 is the correctly rounded result
      for (let i = 0; i < n; i++) expect<f32>(load<f32>(x + (<usize>i << 2))).toBe(<f32>(f(x0, i) + f(y, i)));
      heap.free(x); heap.free(y); heap.free(x0);
    }
  });
});

// Largest error of softmax(x0) (in x) against f64, relative to the tolerance 5e-7 + 2^-24·|x - max|:
// the f32 difference x - max is rounded by up to half an ulp of |x - max|, which e^(x - max) turns into that
// much relative error (the definition in f32 has it; HF's f32 softmax too). Masked entries must be exactly 0.
function softmaxError(x0: usize, x: usize, n: i32): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, f(x0, i));
  let s = 0.0;
  for (let i = 0; i < n; i++) s += Math.exp(f(x0, i) - m);
  let worst = 0.0;
  for (let i = 0; i < n; i++) {
    const want = Math.exp(f(x0, i) - m) / s;
    const tol = 5e-7 + Math.abs(f(x0, i) - m) * 5.960464477539063e-8;
    if (want == 0) expect<f64>(f(x, i)).toBe(0.0, 'masked entry');
    else worst = Math.max(worst, Math.abs(f(x, i) - want) / want / tol);
  }
  return worst;
}

describe('softmax_f32', () => {
  it('matches the f64 softmax within 5e-7 + 2^-24·|x - max| relative, with and without masked entries', () => {
    let worst = 0.0;
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      for (let masked = 0; masked < 2; masked++) {
        const x = heap.alloc(<usize>n << 2);
        fill(x, n, 12.0);
        if (masked) for (let i = 1; i < n; i += 3) store<f32>(x + (<usize>i << 2), -Infinity);
        const x0 = copy(x, n);
        softmax_f32(x, n);
        let total = 0.0;
        for (let i = 0; i < n; i++) total += f(x, i);
        expect<f64>(Math.abs(total - 1.0)).toBeLessThanOrEqual(1e-6, 'sum, n = ' + n.toString());
        worst = Math.max(worst, softmaxError(x0, x, n));
        heap.free(x); heap.free(x0);
      }
    }
    expect<f64>(worst).toBeLessThanOrEqual(1.0);
    log<f64>(worst); // softmax max error / tolerance
  });

  it('subtracts the max: huge logits do not overflow', () => {
    const n = 7;
    const x = heap.alloc(<usize>n << 2);
    for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), <f32>(1e4 + <f64>i));
    const x0 = copy(x, n);
    softmax_f32(x, n);
    expect<f64>(softmaxError(x0, x, n)).toBeLessThanOrEqual(1.0);
    heap.free(x); heap.free(x0);
  });

  it('n = 1 gives 1; a row with every entry masked gives zeros, not NaN', () => {
    const x = heap.alloc(4 * 5);
    store<f32>(x, -3.5);
    softmax_f32(x, 1);
    expect<f32>(load<f32>(x)).toBe(1);
    for (let i = 0; i < 5; i++) store<f32>(x + (<usize>i << 2), -Infinity);
    softmax_f32(x, 1);
    expect<f32>(load<f32>(x)).toBe(0);
    store<f32>(x, -Infinity);
    softmax_f32(x, 5);
    for (let i = 0; i < 5; i++) expect<f32>(load<f32>(x + (<usize>i << 2))).toBe(0);
    heap.free(x);
  });
});
