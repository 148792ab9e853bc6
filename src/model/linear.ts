// y = W·x for one or many input rows, dispatched on the weight's storage type.
import type { Runtime } from '../wasm/runtime.js';
import type { Tensor } from './weights.js';
import { UnsupportedError } from '../errors.js';
import { GGMLType, ggmlTypeName } from '../formats/ggml-types.js';

/** Weight types the matvec/matmul kernels read in place. */
export const LINEAR_TYPES: ReadonlySet<number> = new Set([GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0]);

/** Bytes of Q8A scratch needed to quantise `n` rows of `cols` activations (36 bytes per 32 values). */
export function q8aBytes(cols: number, n: number): number { return (cols / 32) * 36 * n; }

/**
 * Y[t][r] = W[r,:]·X[t,:] for t < n. x: f32 [n][cols]; y: f32 [n][rows]; xq: Q8A scratch (q8aBytes(cols, n)),
 * used only for quantised weights.
 */
export function linear(rt: Runtime, w: Tensor, x: number, y: number, n: number, xq: number): void {
  const cols = w.shape[0];
  const rows = w.shape[1];
  const k = rt.k;
  switch (w.type) {
    case GGMLType.F32:
      if (n === 1) k.matvec_f32(w.ptr, x, y, rows, cols); else k.matmul_f32(w.ptr, x, y, rows, cols, n, rows);
      return;
    case GGMLType.F16:
      if (n === 1) k.matvec_f16(w.ptr, x, y, rows, cols); else k.matmul_f16(w.ptr, x, y, rows, cols, n, rows);
      return;
    case GGMLType.BF16:
      if (n === 1) k.matvec_bf16(w.ptr, x, y, rows, cols); else k.matmul_bf16(w.ptr, x, y, rows, cols, n, rows);
      return;
    case GGMLType.Q8_0:
      k.quantize_q8a(x, xq, cols * n);
      if (n === 1) k.matvec_q8_0(w.ptr, xq, y, rows, cols); else k.matmul_q8_0(w.ptr, xq, y, rows, cols, n, rows);
      return;
    default:
      throw new UnsupportedError(`tensor ${w.name} has type ${ggmlTypeName(w.type)}, which the matmul kernels do not read`);
  }
}

/** Write row `row` of an embedding table to f32 at `dst`. */
export function embeddingRow(rt: Runtime, table: Tensor, row: number, dst: number): void {
  const n = table.shape[0];
  switch (table.type) {
    case GGMLType.F32:
      rt.f32.copyWithin(dst >>> 2, (table.ptr >>> 2) + row * n, (table.ptr >>> 2) + (row + 1) * n);
      return;
    case GGMLType.F16: rt.k.dequant_row_f16(table.ptr + row * n * 2, dst, n); return;
    case GGMLType.BF16: rt.k.dequant_row_bf16(table.ptr + row * n * 2, dst, n); return;
    case GGMLType.Q8_0: rt.k.dequant_row_q8_0(table.ptr + row * (n / 32) * 34, dst, n); return;
    default:
      throw new UnsupportedError(`embedding ${table.name} has type ${ggmlTypeName(table.type)}, which has no row dequantiser`);
  }
}
