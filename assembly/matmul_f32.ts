// F32 weight kernels: matvec (decode) and matmul (prefill), row-major F32 weights times f32 activations.
import { matvecCore, matmulCore } from './matmul_float';
import { F32 } from './types';

/** y[r] = W[r,:]·x, r < rows. */
export function matvec_f32(w: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  matvecCore(w, x, y, rows, cols, F32);
}

/** Y[t*ldy + r] = W[r,:]·X[t,:], r < rows, t < n; X rows are cols floats apart. */
export function matmul_f32(w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  matmulCore(w, x, y, rows, cols, n, ldy, F32);
}
