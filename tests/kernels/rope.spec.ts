// RoPE against a plain reference: angle = f32(f32(pos) · invFreq[i]) as HF forms it, then f64 cos/sin and
// an f64 rotation. Both pair layouts, partial rotary, pos0 > 0, several tokens and heads, odd pair counts.
import { rope } from '../../assembly/rope';

let seed: u32 = 0x2545f491;
/** Uniform in [-1, 1) from a fixed-seed LCG. */
function rnd(): f64 {
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >>> 8) / 16777216.0 * 2.0 - 1.0;
}

function f(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }

// inv_freq[i] = 1 / theta^(2i/rotDim), each step rounded to f32 the way HF's float32 tensors round it.
function invFreqTable(rotDim: i32, theta: f64): usize {
  const half = rotDim >> 1;
  const p = heap.alloc(<usize>half << 2);
  for (let i = 0; i < half; i++) {
    const e = <f32>(<f64>(2 * i) / <f64>rotDim);
    const d = <f32>Math.pow(theta, <f64>e);
    store<f32>(p + (<usize>i << 2), <f32>(1.0 / <f64>d));
  }
  return p;
}

// Runs rope on random data and returns the largest error, relative to the pair's length, against the
// reference; components >= rotDim must come back bit-identical.
function check(nTokens: i32, nHeads: i32, headDim: i32, rotDim: i32, pos0: i32, neox: i32, theta: f64): f64 {
  const n = nTokens * nHeads * headDim;
  const half = rotDim >> 1;
  const x = heap.alloc(<usize>n << 2);
  for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), <f32>(4.0 * rnd()));
  const x0 = heap.alloc(<usize>n << 2);
  memory.copy(x0, x, <usize>n << 2);
  const inv = invFreqTable(rotDim, theta);
  rope(x, inv, nTokens, nHeads, headDim, rotDim, pos0, neox);

  let worst = 0.0;
  for (let t = 0; t < nTokens; t++) {
    const pos = <f32>(pos0 + t);
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const ang = <f64>(pos * load<f32>(inv + (<usize>i << 2)));
        const c = Math.cos(ang), s = Math.sin(ang);
        const ia = neox ? base + i : base + 2 * i;
        const ib = neox ? base + i + half : base + 2 * i + 1;
        const a = f(x0, ia), b = f(x0, ib);
        const wa = a * c - b * s, wb = b * c + a * s;
        const len = Math.max(Math.sqrt(a * a + b * b), 1e-30);
        worst = Math.max(worst, Math.max(Math.abs(f(x, ia) - wa), Math.abs(f(x, ib) - wb)) / len);
      }
      for (let j = rotDim; j < headDim; j++) {
        expect<u32>(load<u32>(x + (<usize>(base + j) << 2))).toBe(load<u32>(x0 + (<usize>(base + j) << 2)), 'untouched tail');
      }
    }
  }
  heap.free(x); heap.free(x0); heap.free(inv);
  return worst;
}

// (nTokens, nHeads, headDim, rotDim, pos0): full and partial rotary, pair counts with every remainder
// of the vector loops (half % 4 = 0..3), one pair, long positions.
const CASES: i32[][] = [
  [1, 1, 2, 2, 0],
  [1, 1, 2, 2, 9],
  [3, 4, 64, 64, 5],
  [2, 3, 80, 32, 100],
  [4, 2, 14, 10, 7],
  [2, 5, 12, 12, 1],
  [3, 2, 16, 14, 31],
  [5, 2, 128, 96, 16000],
  [2, 8, 128, 128, 16381],
  [1, 2, 256, 64, 4096],
];
const TOL = 3e-7;

describe('rope', () => {
  it('neox = 0 (pairs 2i, 2i+1) matches the reference within 3e-7 of the pair length', () => {
    let worst = 0.0;
    for (let k = 0; k < CASES.length; k++) {
      const c = CASES[k];
      const err = check(c[0], c[1], c[2], c[3], c[4], 0, k & 1 ? 500000.0 : 10000.0);
      expect<f64>(err).toBeLessThanOrEqual(TOL, 'case ' + k.toString());
      worst = Math.max(worst, err);
    }
    log<f64>(worst); // rope neox=0 max error / |pair|
  });

  it('neox = 1 (pairs i, i + rotDim/2) matches the reference within 3e-7 of the pair length', () => {
    let worst = 0.0;
    for (let k = 0; k < CASES.length; k++) {
      const c = CASES[k];
      const err = check(c[0], c[1], c[2], c[3], c[4], 1, k & 1 ? 10000.0 : 500000.0);
      expect<f64>(err).toBeLessThanOrEqual(TOL, 'case ' + k.toString());
      worst = Math.max(worst, err);
    }
    log<f64>(worst); // rope neox=1 max error / |pair|
  });

  it('the cos/sin it uses are the f32-rounded values of the f32 angle, at positions up to 16K', () => {
    // Rotating (1, 0) yields (cos θ, sin θ) exactly (1·c - 0·s = c, 0·c + 1·s = s), exposing the table.
    const rotDim = 128, half = 64, nTok = 64;
    const inv = invFreqTable(rotDim, 10000.0);
    const x = heap.alloc(<usize>(nTok * rotDim) << 2);
    let worst = 0.0;
    for (let pos0 = 0; pos0 <= 16384; pos0 += 4096 - nTok) {
      for (let neox = 0; neox < 2; neox++) {
        for (let t = 0; t < nTok; t++) {
          for (let i = 0; i < half; i++) {
            const ia = neox ? t * rotDim + i : t * rotDim + 2 * i;
            const ib = neox ? ia + half : ia + 1;
            store<f32>(x + (<usize>ia << 2), 1.0);
            store<f32>(x + (<usize>ib << 2), 0.0);
          }
        }
        rope(x, inv, nTok, 1, rotDim, rotDim, pos0, neox);
        for (let t = 0; t < nTok; t++) {
          const pos = <f32>(pos0 + t);
          for (let i = 0; i < half; i++) {
            const ang = <f64>(pos * load<f32>(inv + (<usize>i << 2)));
            const ia = neox ? t * rotDim + i : t * rotDim + 2 * i;
            const ib = neox ? ia + half : ia + 1;
            worst = Math.max(worst, Math.max(Math.abs(f(x, ia) - Math.cos(ang)), Math.abs(f(x, ib) - Math.sin(ang))));
          }
        }
      }
    }
    // half an f32 ulp of a value in [0.5, 1] is 2^-25 ≈ 3e-8
    expect<f64>(worst).toBeLessThanOrEqual(3.0e-8);
    log<f64>(worst); // rope cos/sin max abs error vs f64
    heap.free(x); heap.free(inv);
  });
});
