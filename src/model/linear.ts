// y = W·x for one or many input rows, dispatched on the weight's storage type and layout (weight-kernels.ts).
import type { Runtime } from '../kernels/runtime.js';
import type { KernelName } from '../kernels/abi.js';
import { weightKernels, type WeightKernels } from '../kernels/weight-kernels.js';
import { X4_ROWS } from '../kernels/abi.js';
import type { Tensor } from './weights.js';
import { UnsupportedError } from '../errors.js';
import { GGMLType, ggmlTypeName } from '../formats/ggml-types.js';

type Fn = (...args: number[]) => number | void;

function kernelsOf(w: Tensor, what: string): WeightKernels {
  const k = weightKernels(w.type, w.interleaved);
  if (!k) throw new UnsupportedError(`${what} ${w.name} has type ${ggmlTypeName(w.type)}${w.interleaved ? ' (interleaved)' : ''}, which the kernels do not read`);
  return k;
}

/**
 * Y[t][r] = W[r,:]·X[t,:] for t < n. x: f32 [n][cols]; y: f32 [n][rows]; xq: activation scratch
 * (activationBytes(cols, n)), used only for quantised weights.
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
  if (ws.some((w) => w.type !== w0.type || w.interleaved !== w0.interleaved || w.shape[0] !== cols)) {
    ws.forEach((w, i) => linearMany(rt, [w], x, [ys[i]], n, xq));
    return;
  }
  const kernels = kernelsOf(w0, 'tensor');
  const quantize = kernels.input.quantize;
  if (quantize) (rt.k[quantize] as unknown as Fn)(x, xq, cols * n);
  rt.weights(kernels, quantize ? xq : x, cols, n, ws.map((w, i) => ({ w: w.ptr, y: ys[i], rows: w.shape[1] })));
}

/** Write row `row` of an embedding table to f32 at `dst`. */
export function embeddingRow(rt: Runtime, table: Tensor, row: number, dst: number): void {
  const n = table.shape[0];
  const kernels = kernelsOf(table, 'embedding');
  if (table.type === GGMLType.F32) {
    rt.f32.copyWithin(dst >>> 2, (table.ptr >>> 2) + row * n, (table.ptr >>> 2) + (row + 1) * n);
    return;
  }
  const dequant = rt.k[kernels.dequantRow as KernelName] as unknown as Fn;
  if (kernels.grouped) {
    const first = row - (row % X4_ROWS); // the row's group starts at its first row
    dequant(table.ptr + first * kernels.rowBytes(n), row - first, dst, n);
  } else {
    dequant(table.ptr + row * kernels.rowBytes(n), dst, n);
  }
}
