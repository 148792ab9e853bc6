// Weight-kernel test cases shared by the specs: random weights of every type, their kernels by type id, and
// the kernels' input for each type.
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
export function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed ^ (seed >> 13); }
/** Uniform in [-1, 1). */
export function unit(): f32 { return <f32>(<i32>(nextU32() >> 8) - (1 << 23)) / <f32>(1 << 23); }
/** A half of magnitude 2^-9 .. 2^-5 with random mantissa and sign. */
export function smallHalf(): u16 { return <u16>((((nextU32() % 5) + 6) << 10) | (nextU32() & 0x3ff) | (nextU32() & 0x8000)); }

export function isFloat(kind: i32): bool { return kind == F32 || kind == F16 || kind == BF16; }
export function isK(kind: i32): bool { return kind >= Q2_K && kind <= Q6_K; }
export function blockValues(kind: i32): i32 { return isFloat(kind) ? 1 : isK(kind) ? 256 : 32; }
export function blockBytes(kind: i32): i32 {
  if (kind == F32) return 4;
  if (isFloat(kind)) return 2;
  if (kind == Q8_0) return <i32>Q8_0_BLOCK_BYTES;
  return <i32>(isK(kind) ? kquantBlockBytes(kind) : legacyBlockBytes(kind));
}
export function rowBytes(kind: i32, cols: i32): i32 { return cols / blockValues(kind) * blockBytes(kind); }
/** Bytes of one token's input: f32 values or activation blocks. */
export function inputBytes(kind: i32, cols: i32): i32 {
  if (isFloat(kind)) return cols * 4;
  if (kind == Q8_0) return cols / 32 * <i32>Q8A_BLOCK_BYTES;
  return isK(kind) ? cols / 256 * <i32>Q8KW_BLOCK_BYTES : cols / 32 * <i32>Q8W_BLOCK_BYTES;
}

/** Random weights: floats in [-1, 1), or random block bytes with small finite f16 scale fields. */
export function fillWeights(kind: i32, w: usize, rows: i32, cols: i32): void {
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
export function prepareInput(kind: i32, x: usize, xi: usize, cols: i32, n: i32): void {
  if (isFloat(kind)) memory.copy(xi, x, <usize>(n * cols) << 2);
  else if (kind == Q8_0) quantize_q8a(x, xi, n * cols);
  else if (isK(kind)) quantize_q8kw(x, xi, n * cols);
  else quantize_q8w(x, xi, n * cols);
}

export function matvecK(kind: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32): void {
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
export function matmulK(kind: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
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

export function name(kind: i32): string {
  switch (kind) {
    case F32: return 'F32'; case F16: return 'F16'; case BF16: return 'BF16'; case Q8_0: return 'Q8_0';
    case Q4_0: return 'Q4_0'; case Q4_1: return 'Q4_1'; case Q5_0: return 'Q5_0'; case Q5_1: return 'Q5_1';
    case Q2_K: return 'Q2_K'; case Q3_K: return 'Q3_K'; case Q4_K: return 'Q4_K'; case Q5_K: return 'Q5_K';
    default: return 'Q6_K';
  }
}
