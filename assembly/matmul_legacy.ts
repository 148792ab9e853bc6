// Q4_0 / Q4_1 / Q5_0 / Q5_1 weight kernels: matvec (decode) and matmul (prefill) against Q8W activations
// (quantize_q8w). The row loops are matmul_quant.ts's, the block dot products dot_legacy.ts's.
import { quantMatvec, quantMatmul } from './matmul_quant';
import { Q4_0, Q4_1, Q5_0, Q5_1 } from './types';

/** y[r] = W[r,:]·x for r < rows; xq is cols/32 Q8W blocks. */
export function matvec_q4_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q4_0, w, xq, y, rows, cols); }
export function matvec_q4_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q4_1, w, xq, y, rows, cols); }
export function matvec_q5_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q5_0, w, xq, y, rows, cols); }
export function matvec_q5_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q5_1, w, xq, y, rows, cols); }

/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/32 Q8W blocks apart. */
export function matmul_q4_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q4_0, w, xq, y, rows, cols, n, ldy); }
export function matmul_q4_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q4_1, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_0(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q5_0, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_1(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q5_1, w, xq, y, rows, cols, n, ldy); }
