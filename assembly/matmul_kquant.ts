// Q2_K..Q6_K weight kernels: matvec (decode) and matmul (prefill) against Q8KW activations (quantize_q8kw).
// The row loops are matmul_quant.ts's, the block dot products dot_kquant.ts's.
import { quantMatvec, quantMatmul } from './matmul_quant';
import { Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from './types';

/** y[r] = W[r,:]·x for r < rows; xq is cols/256 Q8KW blocks. */
export function matvec_q2_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q2_K, w, xq, y, rows, cols); }
export function matvec_q3_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q3_K, w, xq, y, rows, cols); }
export function matvec_q4_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q4_K, w, xq, y, rows, cols); }
export function matvec_q5_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q5_K, w, xq, y, rows, cols); }
export function matvec_q6_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32): void { quantMatvec(Q6_K, w, xq, y, rows, cols); }

/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/256 Q8KW blocks apart. */
export function matmul_q2_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q2_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q3_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q3_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q4_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q4_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q5_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q5_K, w, xq, y, rows, cols, n, ldy); }
export function matmul_q6_k(w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void { quantMatmul(Q6_K, w, xq, y, rows, cols, n, ldy); }
