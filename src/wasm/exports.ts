// The kernel module's exports. Pointers are byte offsets into the runtime's memory; counts are i32.
// Each kernel family lives in its own file under assembly/ (named in the comments).

export interface KernelExports {
  /** assembly/index.ts: first free byte after the module's static data. */
  heap_base(): number;

  // assembly/bandwidth.ts: streaming-read kernel used as the bandwidth yardstick.
  read_sum_f32(ptr: number, n: number): number;

  // assembly/quant_act.ts: activations to 8-bit blocks (Q8A: f32 scale + 32 x i8 = 36 bytes per 32 values).
  quantize_q8a(x: number, xq: number, n: number): void;

  // assembly/matmul_*.ts: y[r] = W[r,:]·x  (matvec), Y[t*ldy + r] = W[r,:]·X[t,:]  (matmul, t < n).
  matvec_f32(w: number, x: number, y: number, rows: number, cols: number): void;
  matvec_f16(w: number, x: number, y: number, rows: number, cols: number): void;
  matvec_bf16(w: number, x: number, y: number, rows: number, cols: number): void;
  matvec_q8_0(w: number, xq: number, y: number, rows: number, cols: number): void;
  matmul_f32(w: number, x: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_f16(w: number, x: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_bf16(w: number, x: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q8_0(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;

  // assembly/dequant.ts: one row of weights to f32 (embedding lookup).
  dequant_row_f16(src: number, dst: number, n: number): void;
  dequant_row_bf16(src: number, dst: number, n: number): void;
  dequant_row_q8_0(src: number, dst: number, n: number): void;

  // assembly/norms.ts: y[r,:] = x[r,:] / rms(x[r,:]) * w  for r < rows (y may alias x).
  rmsnorm(x: number, w: number, y: number, n: number, rows: number, eps: number): void;

  // assembly/rope.ts: rotate x[t][h][0:rotDim] in place by angle (pos0+t)*invFreq[i];
  // neox=0: pairs (2i, 2i+1) (GGUF llama layout), neox=1: pairs (i, i+rotDim/2) (HF layout).
  rope(x: number, invFreq: number, nTokens: number, nHeads: number, headDim: number, rotDim: number, pos0: number, neox: number): void;

  // assembly/activations.ts
  silu_mul(gate: number, up: number, out: number, n: number): void;
  add_f32(x: number, y: number, n: number): void;
  softmax_f32(x: number, n: number): void;

  // assembly/kv_cache.ts, attention.ts, sparq.ts, topk.ts: see src/kv and src/attention.
  [name: string]: (...args: number[]) => number | void;
}
