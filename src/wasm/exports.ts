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

  // assembly/quant_act_wide.ts: activations to 8-bit values stored as i16 for the legacy and K-quant kernels
  // (Q8W: 80 bytes per 32 values; Q8KW: 560 bytes per 256 values).
  quantize_q8w(x: number, xq: number, n: number): void;
  quantize_q8kw(x: number, xq: number, n: number): void;
  // assembly/matmul_legacy.ts (xq: Q8W) and matmul_kquant.ts (xq: Q8KW): as matvec_q8_0 / matmul_q8_0.
  matvec_q4_0(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q4_1(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q5_0(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q5_1(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q2_k(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q3_k(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q4_k(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q5_k(w: number, xq: number, y: number, rows: number, cols: number): void;
  matvec_q6_k(w: number, xq: number, y: number, rows: number, cols: number): void;
  matmul_q4_0(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q4_1(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q5_0(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q5_1(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q2_k(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q3_k(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q4_k(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q5_k(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  matmul_q6_k(w: number, xq: number, y: number, rows: number, cols: number, n: number, ldy: number): void;
  // assembly/dequant_quants.ts: one row of legacy-quant or K-quant weights to f32 (ggml's formulas).
  dequant_row_q4_0(src: number, dst: number, n: number): void;
  dequant_row_q4_1(src: number, dst: number, n: number): void;
  dequant_row_q5_0(src: number, dst: number, n: number): void;
  dequant_row_q5_1(src: number, dst: number, n: number): void;
  dequant_row_q2_k(src: number, dst: number, n: number): void;
  dequant_row_q3_k(src: number, dst: number, n: number): void;
  dequant_row_q4_k(src: number, dst: number, n: number): void;
  dequant_row_q5_k(src: number, dst: number, n: number): void;
  dequant_row_q6_k(src: number, dst: number, n: number): void;

  // assembly/norms.ts: y[r,:] = x[r,:] / rms(x[r,:]) * w  for r < rows (y may alias x).
  rmsnorm(x: number, w: number, y: number, n: number, rows: number, eps: number): void;
  // y[r,:] = (x[r,:] - mean) / sqrt(var + eps) * w + b  (b = 0: no bias; y may alias x).
  layernorm(x: number, w: number, b: number, y: number, n: number, rows: number, eps: number): void;

  // assembly/rope.ts: rotate x[t][h][0:rotDim] in place by angle (pos0+t)*invFreq[i];
  // neox=0: pairs (2i, 2i+1) (GGUF llama layout), neox=1: pairs (i, i+rotDim/2) (HF layout).
  rope(x: number, invFreq: number, nTokens: number, nHeads: number, headDim: number, rotDim: number, pos0: number, neox: number): void;

  // assembly/activations.ts
  silu_mul(gate: number, up: number, out: number, n: number): void;
  gelu_tanh_mul(gate: number, up: number, out: number, n: number): void;
  add_f32(x: number, y: number, n: number): void;
  /** x[r·n + i] += b[i] for r < rows. */
  add_rows(x: number, b: number, n: number, rows: number): void;
  scale_f32(x: number, s: number, n: number): void;
  /** x[i] = cap·tanh(x[i] / cap). */
  softcap_f32(x: number, cap: number, n: number): void;
  /** Exact (erf) GELU; out may alias x. */
  gelu(x: number, out: number, n: number): void;
  softmax_f32(x: number, n: number): void;

  // assembly/kv_cache.ts, attention.ts, sparq.ts, topk.ts: see src/kv and src/attention.
  // Element types: 0 f32, 1 f16, 2 q8, 3 q4 (see assembly/kv_cache.ts for the row and tile layouts).
  kv_qblock(d: number): number;
  kv_row_bytes(d: number, type: number): number;
  kv_tile_code_bytes(type: number): number;
  kv_tile(): number;
  kv_encode_row(src: number, dst: number, d: number, type: number): void;
  kv_decode_row(src: number, dst: number, d: number, type: number): void;
  kv_store(src: number, n: number, nKV: number, d: number, dst: number, headStride: number, pos: number, type: number, vsum: number, tmp: number): void;
  kv_vsum(v: number, headStride: number, nKV: number, d: number, type: number, len: number, vsum: number, tmp: number): void;
  kv_store_t(src: number, n: number, nKV: number, d: number, dst: number, headStride: number, pos: number, type: number, tiles: number): void;
  kv_t_get(base: number, d: number, type: number, tiles: number, p: number, i: number): number;
  attn_scratch_bytes(d: number): number;
  /** Returns the K and V bytes read. lse (optional): per row, the softmax (max, sum) as an f32 pair. */
  attn_rows(q: number, qTok: number, out: number, outTok: number, g: number, nTok: number, pos0: number, d: number, scale: number,
    k: number, kRow: number, kType: number, v: number, vRow: number, vType: number, idx: number, scratch: number, softcap: number,
    lse?: number): number;
  topk_work_bytes(n: number): number;
  /** Indices of the k largest of x[0, n) into out; returns min(k, n). */
  topk_select(x: number, n: number, k: number, out: number, work: number): number;
  sparq_query(q: number, g: number, d: number, r: number, scale: number, perHead: number, i1: number, qc: number, work: number): void;
  sparq_scores_scratch_bytes(): number;
  /** Positions [p0, S); returns the K^T bytes read. */
  sparq_scores(qc: number, nrow: number, i1: number, r: number, kt: number, ktType: number, tiles: number, d: number, S: number,
    z: number, zStride: number, lse: number, sum: number, p0: number, scratch: number): number;
  sparq_select(rank: number, S: number, k: number, idx: number, work: number): number;
  sparq_realloc(out: number, g: number, d: number, z: number, zStride: number, lse: number, idx: number, cnt: number, vsum: number, S: number): number;
  [name: string]: (...args: number[]) => number | void;
}
