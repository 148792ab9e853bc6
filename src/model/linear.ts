// y = W·x for one or many input rows, dispatched on the weight's storage type.
import type { Runtime } from '../wasm/runtime.js';
import type { Tensor } from './weights.js';
import { UnsupportedError } from '../errors.js';
import { GGMLType, ggmlTypeName, ggmlTypeInfo } from '../formats/ggml-types.js';

/** Legacy 32-value block types: activations quantised to Q8W (80 bytes per 32 values). */
const LEGACY = new Set<number>([GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1]);
/** K-quant types: activations quantised to Q8KW (560 bytes per 256 values). */
const KQUANT = new Set<number>([GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]);

/** Weight types the matvec/matmul kernels read in place. */
export const LINEAR_TYPES: ReadonlySet<number> = new Set([GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, ...LEGACY, ...KQUANT]);

/**
 * Bytes of activation scratch needed to quantise `n` rows of `cols` activations for any weight type: the
 * largest of Q8A (36 bytes per 32), Q8W (80 per 32) and Q8KW (560 per 256, rounded up to whole blocks).
 */
export function q8aBytes(cols: number, n: number): number {
  return Math.max(Math.ceil(cols / 32) * 80, Math.ceil(cols / 256) * 560) * n;
}

/** Kernel name suffix of a quantised type: 'q4_0', 'q4_k', ... */
function suffix(type: number): string { return ggmlTypeName(type).toLowerCase(); }

/**
 * Y[t][r] = W[r,:]·X[t,:] for t < n. x: f32 [n][cols]; y: f32 [n][rows]; xq: activation scratch
 * (q8aBytes(cols, n)), used only for quantised weights.
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
    default: {
      const legacy = LEGACY.has(w.type);
      if (!legacy && !KQUANT.has(w.type)) {
        throw new UnsupportedError(`tensor ${w.name} has type ${ggmlTypeName(w.type)}, which the matmul kernels do not read`);
      }
      if (legacy) k.quantize_q8w(x, xq, cols * n); else k.quantize_q8kw(x, xq, cols * n);
      const s = suffix(w.type);
      if (n === 1) k[`matvec_${s}`](w.ptr, xq, y, rows, cols); else k[`matmul_${s}`](w.ptr, xq, y, rows, cols, n, rows);
    }
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
    default: {
      const info = ggmlTypeInfo(table.type);
      if (!info || !(LEGACY.has(table.type) || KQUANT.has(table.type))) {
        throw new UnsupportedError(`embedding ${table.name} has type ${ggmlTypeName(table.type)}, which has no row dequantiser`);
      }
      rt.k[`dequant_row_${suffix(table.type)}`](table.ptr + row * (n / info.blockSize) * info.bytesPerBlock, dst, n);
    }
  }
}
