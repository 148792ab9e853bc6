// BF16 weight kernels: matvec (decode) and matmul (prefill), row-major BF16 weights times f32 activations.
import { matvecCore, matmulCore, KIND_BF16 } from './matmul_float';

/** y[r] = W[r,:]·x, r < rows. */
export function matvec_bf16(w: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  matvecCore(w, x, y, rows, cols, KIND_BF16);
}

/** Y[t*ldy + r] = W[r,:]·X[t,:], r < rows, t < n; X rows are cols floats apart. */
export function matmul_bf16(w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  matmulCore(w, x, y, rows, cols, n, ldy, KIND_BF16);
}
