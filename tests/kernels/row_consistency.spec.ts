// Every weight type's kernels give each (row, token) the same f32 bits whichever kernel computes it: matvec
// on that token alone, matmul over any number of tokens, and either of them over the whole matrix or over
// blocks of rows starting at multiples of 16 (how the thread splitter cuts a call). Odd row counts, tails of
// columns (float types), n = 1..9.
import { matvec_f32, matmul_f32 } from '../../assembly/matmul_f32';
import { matvec_f16, matmul_f16 } from '../../assembly/matmul_f16';
import { matvec_bf16, matmul_bf16 } from '../../assembly/matmul_bf16';
import { matvec_q8_0, matmul_q8_0 } from '../../assembly/matmul_q8_0';
import { matvec_q4_0, matvec_q4_1, matvec_q5_0, matvec_q5_1, matmul_q4_0, matmul_q4_1, matmul_q5_0, matmul_q5_1 } from '../../assembly/matmul_legacy';
import { matvec_q2_k, matvec_q3_k, matvec_q4_k, matvec_q5_k, matvec_q6_k, matmul_q2_k, matmul_q3_k, matmul_q4_k, matmul_q5_k, matmul_q6_k } from '../../assembly/matmul_kquant';
import { quantize_q8a } from '../../assembly/quant_act';
import { quantize_q8w, quantize_q8kw } from '../../assembly/quant_act_wide';
import { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from '../../assembly/types';
import { Q8_0_BLOCK_BYTES, Q8_0_D, legacyBlockBytes, legacyD, legacyM, legacyHasMin } from '../../assembly/blocks_legacy';
import { kquantBlockBytes, kquantD, kquantDmin, kquantHasMins } from '../../assembly/blocks_kquant';
import { Q8A_BLOCK_BYTES, Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES } from '../../assembly/blocks_act';

let seed: u32 = 1234567;
function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed ^ (seed >> 13); }
/** Uniform in [-1, 1). */
function unit(): f32 { return <f32>(<i32>(nextU32() >> 8) - (1 << 23)) / <f32>(1 << 23); }
/** A half of magnitude 2^-9 .. 2^-5 with random mantissa and sign. */
function smallHalf(): u16 { return <u16>((((nextU32() % 5) + 6) << 10) | (nextU32() & 0x3ff) | (nextU32() & 0x8000)); }

function isFloat(kind: i32): bool { return kind == F32 || kind == F16 || kind == BF16; }
function isK(kind: i32): bool { return kind >= Q2_K && kind <= Q6_K; }
function blockValues(kind: i32): i32 { return isFloat(kind) ? 1 : isK(kind) ? 256 : 32; }
function blockBytes(kind: i32): i32 {
  if (kind == F32) return 4;
  if (isFloat(kind)) return 2;
  if (kind == Q8_0) return <i32>Q8_0_BLOCK_BYTES;
  return <i32>(isK(kind) ? kquantBlockBytes(kind) : legacyBlockBytes(kind));
}
function rowBytes(kind: i32, cols: i32): i32 { return cols / blockValues(kind) * blockBytes(kind); }
/** Bytes of one token's input: f32 values or activation blocks. */
function inputBytes(kind: i32, cols: i32): i32 {
  if (isFloat(kind)) return cols * 4;
  if (kind == Q8_0) return cols / 32 * <i32>Q8A_BLOCK_BYTES;
  return isK(kind) ? cols / 256 * <i32>Q8KW_BLOCK_BYTES : cols / 32 * <i32>Q8W_BLOCK_BYTES;
}

/** Random weights: floats in [-1, 1), or random block bytes with small finite f16 scale fields. */
function fillWeights(kind: i32, w: usize, rows: i32, cols: i32): void {
  if (isFloat(kind)) {
    for (let i = 0; i < rows * cols; i++) {
      const v = unit();
      if (kind == F32) store<f32>(w + (<usize>i << 2), v);
      else if (kind == F16) store<u16>(w + (<usize>i << 1), smallHalf());
      else store<u16>(w + (<usize>i << 1), <u16>(reinterpret<u32>(v) >> 16));
    }
    return;
  }
  const bb = blockBytes(kind), blocks = rows * cols / blockValues(kind);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>(b * bb);
    for (let i = 0; i < bb; i++) store<u8>(p + <usize>i, <u8>(nextU32() >> 24));
    if (kind == Q8_0) { store<u16>(p + Q8_0_D, smallHalf()); continue; }
    if (isK(kind)) {
      store<u16>(p + kquantD(kind), smallHalf());
      if (kquantHasMins(kind)) store<u16>(p + kquantDmin(kind), smallHalf());
    } else {
      store<u16>(p + legacyD(kind), smallHalf());
      if (legacyHasMin(kind)) store<u16>(p + legacyM(kind), smallHalf());
    }
  }
}

/** n tokens of cols f32 at x in the kind's input form at xi. */
function prepareInput(kind: i32, x: usize, xi: usize, cols: i32, n: i32): void {
  if (isFloat(kind)) memory.copy(xi, x, <usize>(n * cols) << 2);
  else if (kind == Q8_0) quantize_q8a(x, xi, n * cols);
  else if (isK(kind)) quantize_q8kw(x, xi, n * cols);
  else quantize_q8w(x, xi, n * cols);
}

function matvecK(kind: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  switch (kind) {
    case F32: matvec_f32(w, x, y, rows, cols); break;
    case F16: matvec_f16(w, x, y, rows, cols); break;
    case BF16: matvec_bf16(w, x, y, rows, cols); break;
    case Q8_0: matvec_q8_0(w, x, y, rows, cols); break;
    case Q4_0: matvec_q4_0(w, x, y, rows, cols); break;
    case Q4_1: matvec_q4_1(w, x, y, rows, cols); break;
    case Q5_0: matvec_q5_0(w, x, y, rows, cols); break;
    case Q5_1: matvec_q5_1(w, x, y, rows, cols); break;
    case Q2_K: matvec_q2_k(w, x, y, rows, cols); break;
    case Q3_K: matvec_q3_k(w, x, y, rows, cols); break;
    case Q4_K: matvec_q4_k(w, x, y, rows, cols); break;
    case Q5_K: matvec_q5_k(w, x, y, rows, cols); break;
    default: matvec_q6_k(w, x, y, rows, cols);
  }
}
function matmulK(kind: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  switch (kind) {
    case F32: matmul_f32(w, x, y, rows, cols, n, ldy); break;
    case F16: matmul_f16(w, x, y, rows, cols, n, ldy); break;
    case BF16: matmul_bf16(w, x, y, rows, cols, n, ldy); break;
    case Q8_0: matmul_q8_0(w, x, y, rows, cols, n, ldy); break;
    case Q4_0: matmul_q4_0(w, x, y, rows, cols, n, ldy); break;
    case Q4_1: matmul_q4_1(w, x, y, rows, cols, n, ldy); break;
    case Q5_0: matmul_q5_0(w, x, y, rows, cols, n, ldy); break;
    case Q5_1: matmul_q5_1(w, x, y, rows, cols, n, ldy); break;
    case Q2_K: matmul_q2_k(w, x, y, rows, cols, n, ldy); break;
    case Q3_K: matmul_q3_k(w, x, y, rows, cols, n, ldy); break;
    case Q4_K: matmul_q4_k(w, x, y, rows, cols, n, ldy); break;
    case Q5_K: matmul_q5_k(w, x, y, rows, cols, n, ldy); break;
    default: matmul_q6_k(w, x, y, rows, cols, n, ldy);
  }
}

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

function name(kind: i32): string {
  switch (kind) {
    case F32: return 'F32'; case F16: return 'F16'; case BF16: return 'BF16'; case Q8_0: return 'Q8_0';
    case Q4_0: return 'Q4_0'; case Q4_1: return 'Q4_1'; case Q5_0: return 'Q5_0'; case Q5_1: return 'Q5_1';
    case Q2_K: return 'Q2_K'; case Q3_K: return 'Q3_K'; case Q4_K: return 'Q4_K'; case Q5_K: return 'Q5_K';
    default: return 'Q6_K';
  }
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
