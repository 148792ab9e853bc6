// The kernels that apply a weight matrix of each storage type (GGML type ids, as assembly/types.ts numbers
// them), what input they read, and the kernel that decodes one row (embedding lookup), with the block sizes
// the kernels export. One table for the file layouts (the decoder, the thread splitting, the loader's type
// check) and one for the interleaved forms the loader repacks the common quantised types into.
import type { KernelName } from './abi.js';
import * as abi from './abi.js';

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
const Q8A: ActivationFormat = { quantize: 'quantize_q8a', values: abi.Q8A_BLOCK_VALUES, bytes: abi.Q8A_BLOCK_BYTES };
/** Q8W: 32 values widened to i16 with their scale and sums (the legacy 32-value types). */
const Q8W: ActivationFormat = { quantize: 'quantize_q8w', values: abi.Q8W_BLOCK_VALUES, bytes: abi.Q8W_BLOCK_BYTES };
/** Q8KW: 256 values widened to i16 with per-16 sums (the K-quants). */
const Q8KW: ActivationFormat = { quantize: 'quantize_q8kw', values: abi.Q8KW_BLOCK_VALUES, bytes: abi.Q8KW_BLOCK_BYTES };
/** Q8P, Q8X, Q8XK: the same values in the pair order of the interleaved kernels (Q8_0x4, Q4_0x4, K-quants x4). */
const Q8P: ActivationFormat = { quantize: 'quantize_q8p', values: abi.Q8P_BLOCK_VALUES, bytes: abi.Q8P_BLOCK_BYTES };
const Q8X: ActivationFormat = { quantize: 'quantize_q8x', values: abi.Q8X_BLOCK_VALUES, bytes: abi.Q8X_BLOCK_BYTES };
const Q8XK: ActivationFormat = { quantize: 'quantize_q8xk', values: abi.Q8XK_BLOCK_VALUES, bytes: abi.Q8XK_BLOCK_BYTES };

export interface WeightKernels {
  /** y = W·x for one input row. */
  matvec: KernelName;
  /** Y = W·X for several input rows. */
  matmul: KernelName;
  /**
   * One row of W to f32 (absent for F32, which is copied): called with the row's address and the width, or
   * for grouped layouts with the address of its group of X4_ROWS rows, the row's place in it and the width.
   */
  dequantRow?: KernelName;
  input: ActivationFormat;
  /** Bytes of one row of `cols` values (grouped layouts: a group's bytes / X4_ROWS). */
  rowBytes(cols: number): number;
  /** Rows stored in groups of X4_ROWS (blocks_x4.ts): splits and row views start at a multiple of X4_ROWS. */
  grouped: boolean;
}

/** A block type's kernels; `block`: its values and bytes per block (the kernels' constants). */
function entry(type: number, block: [number, number], input: ActivationFormat, matvec: KernelName, matmul: KernelName,
  dequantRow?: KernelName): [number, WeightKernels] {
  const [values, bytes] = block;
  return [type, { matvec, matmul, dequantRow, input, rowBytes: (cols) => (cols / values) * bytes, grouped: false }];
}

/** An interleaved form: blocks of X4_ROWS rows x `values` columns of `groupBytes` bytes, and its repack kernel. */
function interleaved(type: number, values: number, groupBytes: number, input: ActivationFormat, repack: KernelName, matvec: KernelName,
  matmul: KernelName, dequantRow: KernelName): [number, InterleavedKernels] {
  return [type, { matvec, matmul, dequantRow, input, rowBytes: (cols) => (cols / values) * (groupBytes / abi.X4_ROWS), grouped: true, repack }];
}

/** Weight types the kernels read in place, by type id (GGML's, as the kernels number them). */
export const WEIGHT_KERNELS: ReadonlyMap<number, WeightKernels> = new Map([
  entry(abi.F32, [1, 4], F32_INPUT, 'matvec_f32', 'matmul_f32'),
  entry(abi.F16, [1, 2], F32_INPUT, 'matvec_f16', 'matmul_f16', 'dequant_row_f16'),
  entry(abi.BF16, [1, 2], F32_INPUT, 'matvec_bf16', 'matmul_bf16', 'dequant_row_bf16'),
  entry(abi.Q8_0, [abi.Q8_0_BLOCK_VALUES, abi.Q8_0_BLOCK_BYTES], Q8A, 'matvec_q8_0', 'matmul_q8_0', 'dequant_row_q8_0'),
  entry(abi.Q4_0, [abi.Q4_0_BLOCK_VALUES, abi.Q4_0_BLOCK_BYTES], Q8W, 'matvec_q4_0', 'matmul_q4_0', 'dequant_row_q4_0'),
  entry(abi.Q4_1, [abi.Q4_1_BLOCK_VALUES, abi.Q4_1_BLOCK_BYTES], Q8W, 'matvec_q4_1', 'matmul_q4_1', 'dequant_row_q4_1'),
  entry(abi.Q5_0, [abi.Q5_0_BLOCK_VALUES, abi.Q5_0_BLOCK_BYTES], Q8W, 'matvec_q5_0', 'matmul_q5_0', 'dequant_row_q5_0'),
  entry(abi.Q5_1, [abi.Q5_1_BLOCK_VALUES, abi.Q5_1_BLOCK_BYTES], Q8W, 'matvec_q5_1', 'matmul_q5_1', 'dequant_row_q5_1'),
  entry(abi.Q2_K, [abi.Q2_K_BLOCK_VALUES, abi.Q2_K_BLOCK_BYTES], Q8KW, 'matvec_q2_k', 'matmul_q2_k', 'dequant_row_q2_k'),
  entry(abi.Q3_K, [abi.Q3_K_BLOCK_VALUES, abi.Q3_K_BLOCK_BYTES], Q8KW, 'matvec_q3_k', 'matmul_q3_k', 'dequant_row_q3_k'),
  entry(abi.Q4_K, [abi.Q4_K_BLOCK_VALUES, abi.Q4_K_BLOCK_BYTES], Q8KW, 'matvec_q4_k', 'matmul_q4_k', 'dequant_row_q4_k'),
  entry(abi.Q5_K, [abi.Q5_K_BLOCK_VALUES, abi.Q5_K_BLOCK_BYTES], Q8KW, 'matvec_q5_k', 'matmul_q5_k', 'dequant_row_q5_k'),
  entry(abi.Q6_K, [abi.Q6_K_BLOCK_VALUES, abi.Q6_K_BLOCK_BYTES], Q8KW, 'matvec_q6_k', 'matmul_q6_k', 'dequant_row_q6_k'),
]);

export interface InterleavedKernels extends WeightKernels {
  /** repack(src, dst, rows, cols): file-layout rows at src to the interleaved form at dst. */
  repack: KernelName;
}

/**
 * The interleaved forms (blocks_x4.ts) the loader repacks matrices of these GGML types into, by the file's
 * type id: the same quantised values (bytes per weight: Q4_K 148/144, Q5_K 180/176 of the file's, the rest
 * equal), read by kernels that keep one row per SIMD lane.
 */
export const INTERLEAVED_KERNELS: ReadonlyMap<number, InterleavedKernels> = new Map([
  interleaved(abi.Q8_0, 32, abi.Q8_0X4_BLOCK_BYTES, Q8P, 'repack_q8_0x4', 'matvec_q8_0x4', 'matmul_q8_0x4', 'dequant_row_q8_0x4'),
  interleaved(abi.Q4_0, 32, abi.Q4_0X4_BLOCK_BYTES, Q8X, 'repack_q4_0x4', 'matvec_q4_0x4', 'matmul_q4_0x4', 'dequant_row_q4_0x4'),
  interleaved(abi.Q4_K, 256, abi.Q4_KX4_BLOCK_BYTES, Q8XK, 'repack_q4_kx4', 'matvec_q4_kx4', 'matmul_q4_kx4', 'dequant_row_q4_kx4'),
  interleaved(abi.Q5_K, 256, abi.Q5_KX4_BLOCK_BYTES, Q8XK, 'repack_q5_kx4', 'matvec_q5_kx4', 'matmul_q5_kx4', 'dequant_row_q5_kx4'),
  interleaved(abi.Q6_K, 256, abi.Q6_KX4_BLOCK_BYTES, Q8XK, 'repack_q6_kx4', 'matvec_q6_kx4', 'matmul_q6_kx4', 'dequant_row_q6_kx4'),
]);

/** The kernels of a weight stored as `type` (GGML id), in the interleaved form or the file's layout. */
export function weightKernels(type: number, interleavedForm = false): WeightKernels | undefined {
  return interleavedForm ? INTERLEAVED_KERNELS.get(type) : WEIGHT_KERNELS.get(type);
}

/** Bytes of activation scratch that holds `n` rows of `cols` values in any weight type's input format. */
export function activationBytes(cols: number, n: number): number {
  let most = 0;
  for (const { input } of [...WEIGHT_KERNELS.values(), ...INTERLEAVED_KERNELS.values()]) {
    if (input.quantize) most = Math.max(most, Math.ceil(cols / input.values) * input.bytes);
  }
  return most * n;
}
