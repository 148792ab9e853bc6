// The cache's element types as the API names them and as the kernels number them, and the layout
// questions the cache asks the kernels (row bytes, transposed-K tiles): assembly/kv_layout.ts holds the layout.
import type { KernelExports } from '../kernels/abi.js';
import { F32, F16, KV_Q8, KV_Q4 } from '../kernels/abi.js';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';

export type KType = 'f32' | 'f16' | 'q8';
export type VType = 'f32' | 'f16' | 'q8' | 'q4';
export type ElemType = KType | VType;

/** The kernels' id of each element type. */
export const TYPE_ID: Readonly<Record<ElemType, number>> = { f32: F32, f16: F16, q8: KV_Q8, q4: KV_Q4 };

/** The kernel functions that answer layout questions (pure: any instance of the module will do). */
export type LayoutKernels = Pick<KernelExports, 'kv_qblock' | 'kv_row_bytes' | 'kv_t_tiles' | 'kv_t_head_bytes'>;

export function checkType(k: LayoutKernels, type: string, allowed: readonly string[], field: string, d: number): void {
  if (!allowed.includes(type)) throw new InvalidArgumentError(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(type)}`);
  if ((type === 'q8' || type === 'q4') && k.kv_qblock(d) === 0) {
    throw new UnsupportedError(`${field} ${type} needs a head dimension that is a multiple of 8, got ${d}`);
  }
}
