// The kernels that apply a weight matrix of each storage type (GGML type ids), what input they read, and
// the kernel that decodes one row (embedding lookup). One table for the decoder, the thread splitting and the
// loader's type check.
import type { KernelName } from './abi.js';
import { Q8A_BLOCK_BYTES, Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES } from './abi.js';
import { GGMLType, ggmlTypeInfo } from '../formats/ggml-types.js';

/**
 * The input a weight kernel reads: the f32 activations themselves, or the activations quantised once per
 * call by `quantize` into 8-bit blocks of `values` values and `bytes` bytes.
 */
export interface ActivationFormat {
  quantize?: KernelName;
  values: number;
  bytes: number;
}

const F32_INPUT: ActivationFormat = { values: 1, bytes: 4 };
/** Q8A: an f32 scale and 32 i8 values (Q8_0 weights). */
const Q8A: ActivationFormat = { quantize: 'quantize_q8a', values: 32, bytes: Q8A_BLOCK_BYTES };
/** Q8W: 32 values widened to i16 with their scale and sums (the legacy 32-value types). */
const Q8W: ActivationFormat = { quantize: 'quantize_q8w', values: 32, bytes: Q8W_BLOCK_BYTES };
/** Q8KW: 256 values widened to i16 with per-16 sums (the K-quants). */
const Q8KW: ActivationFormat = { quantize: 'quantize_q8kw', values: 256, bytes: Q8KW_BLOCK_BYTES };

export interface WeightKernels {
  /** y = W·x for one input row. */
  matvec: KernelName;
  /** Y = W·X for several input rows. */
  matmul: KernelName;
  /** One row of W to f32 (absent for F32, which is copied). */
  dequantRow?: KernelName;
  input: ActivationFormat;
  /** Bytes of one row of `cols` values. */
  rowBytes(cols: number): number;
}

function entry(type: number, input: ActivationFormat, matvec: KernelName, matmul: KernelName, dequantRow?: KernelName): [number, WeightKernels] {
  const info = ggmlTypeInfo(type)!;
  return [type, { matvec, matmul, dequantRow, input, rowBytes: (cols) => (cols / info.blockSize) * info.bytesPerBlock }];
}

/** Weight types the kernels read in place, by GGML type id. */
export const WEIGHT_KERNELS: ReadonlyMap<number, WeightKernels> = new Map([
  entry(GGMLType.F32, F32_INPUT, 'matvec_f32', 'matmul_f32'),
  entry(GGMLType.F16, F32_INPUT, 'matvec_f16', 'matmul_f16', 'dequant_row_f16'),
  entry(GGMLType.BF16, F32_INPUT, 'matvec_bf16', 'matmul_bf16', 'dequant_row_bf16'),
  entry(GGMLType.Q8_0, Q8A, 'matvec_q8_0', 'matmul_q8_0', 'dequant_row_q8_0'),
  entry(GGMLType.Q4_0, Q8W, 'matvec_q4_0', 'matmul_q4_0', 'dequant_row_q4_0'),
  entry(GGMLType.Q4_1, Q8W, 'matvec_q4_1', 'matmul_q4_1', 'dequant_row_q4_1'),
  entry(GGMLType.Q5_0, Q8W, 'matvec_q5_0', 'matmul_q5_0', 'dequant_row_q5_0'),
  entry(GGMLType.Q5_1, Q8W, 'matvec_q5_1', 'matmul_q5_1', 'dequant_row_q5_1'),
  entry(GGMLType.Q2_K, Q8KW, 'matvec_q2_k', 'matmul_q2_k', 'dequant_row_q2_k'),
  entry(GGMLType.Q3_K, Q8KW, 'matvec_q3_k', 'matmul_q3_k', 'dequant_row_q3_k'),
  entry(GGMLType.Q4_K, Q8KW, 'matvec_q4_k', 'matmul_q4_k', 'dequant_row_q4_k'),
  entry(GGMLType.Q5_K, Q8KW, 'matvec_q5_k', 'matmul_q5_k', 'dequant_row_q5_k'),
  entry(GGMLType.Q6_K, Q8KW, 'matvec_q6_k', 'matmul_q6_k', 'dequant_row_q6_k'),
]);

/** Bytes of activation scratch that holds `n` rows of `cols` values in any weight type's input format. */
export function activationBytes(cols: number, n: number): number {
  let most = 0;
  for (const { input } of WEIGHT_KERNELS.values()) {
    if (input.quantize) most = Math.max(most, Math.ceil(cols / input.values) * input.bytes);
  }
  return most * n;
}
