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
  linearMany(rt, [w], x, [y], n, xq);
}

/**
 * linear() for several weights applied to the same x (Q, K and V; gate and up). When they share a type and
 * a width, x is quantised once and, with threads, one job covers all of them.
 */
export function linearMany(rt: Runtime, ws: readonly Tensor[], x: number, ys: readonly number[], n: number, xq: number): void {
  const w0 = ws[0], cols = w0.shape[0];
  if (ws.some((w) => w.type !== w0.type || w.shape[0] !== cols)) {
    ws.forEach((w, i) => linearMany(rt, [w], x, [ys[i]], n, xq));
    return;
  }
  const { s, input } = kernelInput(rt, w0, x, n, xq);
  rt.weights(s, input, cols, n, ws.map((w, i) => ({ w: w.ptr, y: ys[i], rows: w.shape[1] })));
}

/** The kernel suffix for w's type and what its kernels read: x itself (float weights), or x quantised into xq. */
function kernelInput(rt: Runtime, w: Tensor, x: number, n: number, xq: number): { s: string; input: number } {
  const cols = w.shape[0];
  const k = rt.k;
  switch (w.type) {
    case GGMLType.F32: return { s: 'f32', input: x };
    case GGMLType.F16: return { s: 'f16', input: x };
    case GGMLType.BF16: return { s: 'bf16', input: x };
    case GGMLType.Q8_0:
      k.quantize_q8a(x, xq, cols * n);
      return { s: 'q8_0', input: xq };
    default: {
      const legacy = LEGACY.has(w.type);
      if (!legacy && !KQUANT.has(w.type)) {
        throw new UnsupportedError(`tensor ${w.name} has type ${ggmlTypeName(w.type)}, which the matmul kernels do not read`);
      }
      if (legacy) k.quantize_q8w(x, xq, cols * n); else k.quantize_q8kw(x, xq, cols * n);
      return { s: suffix(w.type), input: xq };
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
