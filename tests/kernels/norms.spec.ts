// RMSNorm and LayerNorm against plain f64 references, on odd sizes and several rows.
import { rmsnorm, layernorm } from '../../assembly/norms';

const SIZES: i32[] = [1, 3, 4, 7, 64, 127, 4099];
const ROWS = 3;

let seed: u32 = 0x9e3779b9;
/** Uniform in [-1, 1) from a fixed-seed LCG. */
function rnd(): f64 {
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >>> 8) / 16777216.0 * 2.0 - 1.0;
}

function fill(p: usize, n: i32, scale: f64, offset: f64): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>(offset + scale * rnd()));
}

function copy(src: usize, n: i32): usize {
  const p = heap.alloc(<usize>n << 2);
  memory.copy(p, src, <usize>n << 2);
  return p;
}

function f(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }

// Largest relative error of rmsnorm(x) (written to y) against the f64 definition computed from x0.
function rmsError(x0: usize, w: usize, y: usize, n: i32, eps: f32): f64 {
  let worst = 0.0;
  for (let r = 0; r < ROWS; r++) {
    let ss = 0.0;
    for (let i = 0; i < n; i++) { const v = f(x0, r * n + i); ss += v * v; }
    const scale = 1.0 / Math.sqrt(ss / <f64>n + <f64>eps);
    for (let i = 0; i < n; i++) {
      const want = f(x0, r * n + i) * scale * f(w, i);
      const err = Math.abs(f(y, r * n + i) - want) / Math.max(Math.abs(want), 1e-30);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

// Largest error of layernorm relative to the size of the terms it adds: |w|·rstd·(|x| + |mean|) + |b|
// (x - mean cancels, so a purely relative bound on the result would be meaningless near the mean).
function lnError(x0: usize, w: usize, b: usize, y: usize, n: i32, eps: f32): f64 {
  let worst = 0.0;
  for (let r = 0; r < ROWS; r++) {
    let s = 0.0;
    for (let i = 0; i < n; i++) s += f(x0, r * n + i);
    const mean = s / <f64>n;
    let v = 0.0;
    for (let i = 0; i < n; i++) { const d = f(x0, r * n + i) - mean; v += d * d; }
    const rstd = 1.0 / Math.sqrt(v / <f64>n + <f64>eps);
    for (let i = 0; i < n; i++) {
      const xi = f(x0, r * n + i);
      const bi = b ? f(b, i) : 0.0;
      const want = (xi - mean) * rstd * f(w, i) + bi;
      const size = Math.abs(f(w, i)) * rstd * (Math.abs(xi) + Math.abs(mean)) + Math.abs(bi);
      worst = Math.max(worst, Math.abs(f(y, r * n + i) - want) / Math.max(size, 1e-30));
    }
  }
  return worst;
}

describe('rmsnorm', () => {
  it('matches the f64 reference within 1e-6 relative (separate output)', () => {
    let worst = 0.0;
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = heap.alloc(<usize>(n * ROWS) << 2), w = heap.alloc(<usize>n << 2), y = heap.alloc(<usize>(n * ROWS) << 2);
      fill(x, n * ROWS, 3.0, 0.25);
      fill(w, n, 2.0, 0.0);
      const x0 = copy(x, n * ROWS);
      rmsnorm(x, w, y, n, ROWS, 1e-5);
      const err = rmsError(x0, w, y, n, 1e-5);
      expect<f64>(err).toBeLessThanOrEqual(1e-6, 'n = ' + n.toString());
      // the input is left alone
      expect<i32>(memory.compare(x, x0, <usize>(n * ROWS) << 2)).toBe(0);
      worst = Math.max(worst, err);
      heap.free(x); heap.free(w); heap.free(y); heap.free(x0);
    }
    log<f64>(worst); // rmsnorm max relative error
  });

  it('works in place (y = x), including tiny eps and large magnitudes', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = heap.alloc(<usize>(n * ROWS) << 2), w = heap.alloc(<usize>n << 2);
      fill(x, n * ROWS, 1000.0, 0.0);
      fill(w, n, 1.0, 1.0);
      const x0 = copy(x, n * ROWS);
      rmsnorm(x, w, x, n, ROWS, 1e-6);
      expect<f64>(rmsError(x0, w, x, n, 1e-6)).toBeLessThanOrEqual(1e-6, 'n = ' + n.toString());
      heap.free(x); heap.free(w); heap.free(x0);
    }
  });

  it('an all-zero row gives zeros (eps keeps it finite)', () => {
    const n = 7;
    const x = heap.alloc(<usize>n << 2), w = heap.alloc(<usize>n << 2);
    memory.fill(x, 0, <usize>n << 2);
    fill(w, n, 1.0, 0.0);
    rmsnorm(x, w, x, n, 1, 1e-5);
    for (let i = 0; i < n; i++) expect<f64>(Math.abs(f(x, i))).toBe(0.0);
    heap.free(x); heap.free(w);
  });
});

describe('layernorm', () => {
  it('matches the f64 reference within 1e-6 (with bias, separate output)', () => {
    let worst = 0.0;
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = heap.alloc(<usize>(n * ROWS) << 2), w = heap.alloc(<usize>n << 2), b = heap.alloc(<usize>n << 2);
      const y = heap.alloc(<usize>(n * ROWS) << 2);
      fill(x, n * ROWS, 2.0, 5.0); // a mean well away from zero
      fill(w, n, 2.0, 0.0);
      fill(b, n, 1.0, 0.0);
      const x0 = copy(x, n * ROWS);
      layernorm(x, w, b, y, n, ROWS, 1e-5);
      const err = lnError(x0, w, b, y, n, 1e-5);
      expect<f64>(err).toBeLessThanOrEqual(1e-6, 'n = ' + n.toString());
      worst = Math.max(worst, err);
      heap.free(x); heap.free(w); heap.free(b); heap.free(y); heap.free(x0);
    }
    log<f64>(worst); // layernorm max error relative to the term size
  });

  it('b = 0 means no bias, in place', () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const x = heap.alloc(<usize>(n * ROWS) << 2), w = heap.alloc(<usize>n << 2);
      fill(x, n * ROWS, 1.0, -0.5);
      fill(w, n, 1.0, 1.0);
      const x0 = copy(x, n * ROWS);
      layernorm(x, w, 0, x, n, ROWS, 1e-5);
      expect<f64>(lnError(x0, w, 0, x, n, 1e-5)).toBeLessThanOrEqual(1e-6, 'n = ' + n.toString());
      heap.free(x); heap.free(w); heap.free(x0);
    }
  });
});
