// topk_select against the definition: exactly min(k, n) distinct indices, every chosen value >= every value
// left out; random, all-equal and adversarial inputs (shared high bits, ties at the boundary, infinities).
import { topk_select, topk_work_bytes } from '../../assembly/topk';

let seed: u32 = 99;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5);
}

// 1 when the selection is exact, else 0.
function exact(x: usize, n: i32, k: i32): i32 {
  const out = heap.alloc(<usize>max(n, 1) << 2);
  const work = heap.alloc(<usize>topk_work_bytes(n));
  const mark = heap.alloc(<usize>max(n, 1));
  memory.fill(mark, 0, <usize>max(n, 1));
  const c = topk_select(x, n, k, out, work);
  let ok = c == min(max(k, 0), n) ? 1 : 0;
  let minIn: f32 = Infinity;
  for (let i = 0; i < c; i++) {
    const j = load<i32>(out + (<usize>i << 2));
    if (j < 0 || j >= n || load<u8>(mark + <usize>j) != 0) ok = 0;
    else store<u8>(mark + <usize>j, 1);
    minIn = min(minIn, load<f32>(x + (<usize>j << 2)));
  }
  for (let j = 0; j < n; j++) {
    if (load<u8>(mark + <usize>j) == 0 && load<f32>(x + (<usize>j << 2)) > minIn) ok = 0;
  }
  heap.free(out); heap.free(work); heap.free(mark);
  return ok;
}

const N: i32 = 3001;
const KS: i32[] = [0, 1, 2, 7, 100, 1500, 1501, 3000, 3001, 4000];

function allK(x: usize, n: i32): i32 {
  let ok = 1;
  for (let i = 0; i < KS.length; i++) ok &= exact(x, n, KS[i]);
  return ok;
}

describe('topk_select', () => {
  it('random values', () => {
    const x = heap.alloc(<usize>N << 2);
    for (let j = 0; j < N; j++) store<f32>(x + (<usize>j << 2), rnd() * 100);
    expect(allK(x, N)).toBe(1);
    heap.free(x);
  });
  it('all equal', () => {
    const x = heap.alloc(<usize>N << 2);
    for (let j = 0; j < N; j++) store<f32>(x + (<usize>j << 2), -3.5);
    expect(allK(x, N)).toBe(1);
    heap.free(x);
  });
  it('values sharing their top 21 bits, ties at the boundary, infinities, negatives', () => {
    const x = heap.alloc(<usize>N << 2);
    for (let j = 0; j < N; j++) store<f32>(x + (<usize>j << 2), reinterpret<f32>(0x3f800000 | <u32>(j % 211)));
    expect(allK(x, N)).toBe(1);
    for (let j = 0; j < N; j++) {
      const v: f32 = j % 9 == 0 ? 2 : j % 11 == 0 ? -Infinity : j == 5 ? Infinity : <f32>(j % 5 - 3);
      store<f32>(x + (<usize>j << 2), v);
    }
    expect(allK(x, N)).toBe(1);
    for (let j = 0; j < N; j++) store<f32>(x + (<usize>j << 2), <f32>-1e-30 * <f32>(j % 17 + 1));
    expect(allK(x, N)).toBe(1);
    heap.free(x);
  });
  it('tiny inputs', () => {
    const x = heap.alloc(16);
    store<f32>(x, 1); store<f32>(x, 3, 4); store<f32>(x, 2, 8);
    expect(exact(x, 1, 1)).toBe(1);
    expect(exact(x, 3, 2)).toBe(1);
    expect(exact(x, 3, 1)).toBe(1);
    heap.free(x);
  });
});
