// Every weight type's kernels give each (row, token) the same f32 bits whichever kernel computes it: matvec
// on that token alone, matmul over any number of tokens, and either of them over the whole matrix or over
// blocks of rows starting at multiples of 16 (how the thread splitter cuts a call). Odd row counts, tails of
// columns (float types), n = 1..9.
import { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from '../../assembly/types';
import { unit, isFloat, isK, rowBytes, inputBytes, fillWeights, prepareInput, matvecK, matmulK, name } from './weight_cases';

/** Row blocks as the thread splitter cuts them: [0, 16), [16, 32), .., the last one shorter. */
const SPLIT: i32 = 16;

/**
 * Number of (row, token) outputs whose bits differ from matvec on that token over all rows: matmul over
 * all rows and over row blocks, and matvec over row blocks.
 */
function mismatches(kind: i32, rows: i32, cols: i32, n: i32): i32 {
  const rb = rowBytes(kind, cols), ib = inputBytes(kind, cols);
  const w = heap.alloc(<usize>(rows * rb));
  const x = heap.alloc(<usize>(n * cols) << 2);
  const xi = heap.alloc(<usize>(n * ib));
  const want = heap.alloc(<usize>(n * rows) << 2), got = heap.alloc(<usize>(n * rows) << 2);
  fillWeights(kind, w, rows, cols);
  for (let i = 0; i < n * cols; i++) store<f32>(x + (<usize>i << 2), unit() * 4);
  prepareInput(kind, x, xi, cols, n);
  for (let t = 0; t < n; t++) matvecK(kind, w, xi + <usize>(t * ib), want + (<usize>(t * rows) << 2), rows, cols);
  let bad = 0;
  for (let pass = 0; pass < 3; pass++) {
    memory.fill(got, 0xff, <usize>(n * rows) << 2);
    if (pass == 0) matmulK(kind, w, xi, got, rows, cols, n, rows);
    for (let r0 = 0; pass > 0 && r0 < rows; r0 += SPLIT) {
      const m = min(SPLIT, rows - r0), wr = w + <usize>(r0 * rb), yr = got + (<usize>r0 << 2);
      if (pass == 1) matmulK(kind, wr, xi, yr, m, cols, n, rows);
      else for (let t = 0; t < n; t++) matvecK(kind, wr, xi + <usize>(t * ib), yr + (<usize>(t * rows) << 2), m, cols);
    }
    for (let i = 0; i < n * rows; i++) if (load<u32>(got + (<usize>i << 2)) != load<u32>(want + (<usize>i << 2))) bad++;
  }
  heap.free(w); heap.free(x); heap.free(xi); heap.free(want); heap.free(got);
  return bad;
}

const ROWS: i32[] = [1, 7, 37];

function checkKind(kind: i32): void {
  // floats: 8-column steps and a tail; quantised: 3 blocks (legacy, Q8_0) or 2 super-blocks (K-quants)
  const cols = isFloat(kind) ? 77 : isK(kind) ? 512 : 96;
  for (let i = 0; i < ROWS.length; i++) for (let n = 1; n <= 9; n++) {
    expect(mismatches(kind, ROWS[i], cols, n)).toBe(0, name(kind) + ' rows=' + ROWS[i].toString() + ' n=' + n.toString());
  }
}

describe('row consistency: matmul and matvec, whole and split by rows, give each (row, token) the same bits', () => {
  it('F32', () => { checkKind(F32); });
  it('F16', () => { checkKind(F16); });
  it('BF16', () => { checkKind(BF16); });
  it('Q8_0', () => { checkKind(Q8_0); });
  it('Q4_0', () => { checkKind(Q4_0); });
  it('Q4_1', () => { checkKind(Q4_1); });
  it('Q5_0', () => { checkKind(Q5_0); });
  it('Q5_1', () => { checkKind(Q5_1); });
  it('Q2_K', () => { checkKind(Q2_K); });
  it('Q3_K', () => { checkKind(Q3_K); });
  it('Q4_K', () => { checkKind(Q4_K); });
  it('Q5_K', () => { checkKind(Q5_K); });
  it('Q6_K', () => { checkKind(Q6_K); });
});
