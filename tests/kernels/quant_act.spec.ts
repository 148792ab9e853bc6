// quantize_q8a against a scalar reference: d = amax/127 (f32), q = x/d rounded half to even.
import { quantize_q8a } from '../../assembly/quant_act';

let seed: u32 = 521288629;
function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed; }
function unit(): f32 { return <f32>(<i32>(nextU32() >> 8) - (1 << 23)) / <f32>(1 << 23); }

/** Round half to even, written out (no f32.nearest). */
function roundEven(v: f32): i32 {
  const f = Mathf.floor(v), diff = v - f;
  let r = <i32>f;
  if (diff > 0.5 || (diff == 0.5 && (r & 1) != 0)) r++;
  return r;
}

/** Quantizes n values at x and compares every block with the reference; returns mismatches. */
function check(x: usize, n: i32): i32 {
  const xq = heap.alloc(<usize>(n / 32 * 36 + 4));
  store<u32>(xq + <usize>(n / 32 * 36), 0xdeadbeef); // past the last block: must survive
  quantize_q8a(x, xq, n);
  let bad = 0;
  for (let b = 0; b < n / 32; b++) {
    const xb = x + <usize>(b * 128), qb = xq + <usize>(b * 36);
    let amax: f32 = 0;
    for (let i = 0; i < 32; i++) amax = Mathf.max(amax, Mathf.abs(load<f32>(xb + (<usize>i << 2))));
    const d: f32 = amax / 127;
    if (load<f32>(qb) != d) bad++;
    for (let i = 0; i < 32; i++) {
      const want = d == 0 ? 0 : roundEven(load<f32>(xb + (<usize>i << 2)) / d);
      if (<i32>load<i8>(qb + 4 + <usize>i) != want) bad++;
    }
  }
  if (load<u32>(xq + <usize>(n / 32 * 36)) != 0xdeadbeef) bad++;
  heap.free(xq);
  return bad;
}

describe('quantize_q8a', () => {
  it('random values at several magnitudes (n = 32, 64, 96, 4096), bit-exact', () => {
    const sizes: i32[] = [32, 64, 96, 4096];
    for (let s = 0; s < sizes.length; s++) {
      const n = sizes[s];
      const x = heap.alloc(<usize>(n * 4));
      for (let i = 0; i < n; i++) {
        const scale: f32 = (i >> 5) % 3 == 0 ? 1e-3 : (i >> 5) % 3 == 1 ? 1 : 3e4;
        store<f32>(x + (<usize>i << 2), unit() * scale);
      }
      expect(check(x, n)).toBe(0, 'n=' + n.toString());
      heap.free(x);
    }
  });

  it('zero blocks give d = 0 and q = 0; the amax value maps to +-127; exact halves round to even', () => {
    const x = heap.alloc(4 * 32 * 4);
    for (let i = 0; i < 32; i++) store<f32>(x + (<usize>i << 2), 0); // block 0: zeros
    for (let i = 0; i < 32; i++) store<f32>(x + 128 + (<usize>i << 2), unit()); // block 1: negative amax
    store<f32>(x + 128 + 40, -2.0);
    // block 2: amax 127, so d = 1 and q = x rounded: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2
    const halves: f32[] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5];
    for (let i = 0; i < 32; i++) store<f32>(x + 256 + (<usize>i << 2), i < 8 ? halves[i] : <f32>(i - 16) * 0.25);
    store<f32>(x + 256 + 31 * 4, 127);
    for (let i = 0; i < 32; i++) store<f32>(x + 384 + (<usize>i << 2), i == 5 ? 1e-30 : 0); // one tiny value
    expect(check(x, 128)).toBe(0);
    expect(load<f32>(x + 0)).toBe(0);
    // spot checks written by hand
    const xq = heap.alloc(4 * 36);
    quantize_q8a(x, xq, 128);
    expect(load<f32>(xq)).toBe(0);
    expect(load<i8>(xq + 36 + 4 + 10)).toBe(-127);
    expect(load<f32>(xq + 72)).toBe(1);
    expect(load<i8>(xq + 72 + 4 + 0)).toBe(0);
    expect(load<i8>(xq + 72 + 4 + 1)).toBe(2);
    expect(load<i8>(xq + 72 + 4 + 2)).toBe(2);
    expect(load<i8>(xq + 72 + 4 + 5)).toBe(-2);
    expect(load<i8>(xq + 72 + 4 + 6)).toBe(126);
    expect(load<i8>(xq + 108 + 4 + 5)).toBe(127);
    heap.free(xq);
    heap.free(x);
  });
});
