// Byte layout of the KV cache: element type codes and row sizes, mirroring assembly/kv_cache.ts.
import { InvalidArgumentError, UnsupportedError } from '../errors.js';

export type KType = 'f32' | 'f16' | 'q8';
export type VType = 'f32' | 'f16' | 'q8' | 'q4';
export type ElemType = KType | VType;

/** Type codes the kernels take. */
export const TYPE_CODE: Record<ElemType, number> = { f32: 0, f16: 1, q8: 256, q4: 257 };

/** Positions per transposed-K tile, and tiles per group (assembly/kv_cache.ts KT_TILE, KT_GROUP). */
export const KT_TILE = 64;
export const KT_GROUP = 16;

/** Values per quantisation block for head dimension d; 0 when d is not a multiple of 8. */
export function qblock(d: number): number {
  return d % 32 === 0 ? 32 : d % 16 === 0 ? 16 : d % 8 === 0 ? 8 : 0;
}

/** Bytes of one row (one position of one KV head) of d values. */
export function rowBytes(d: number, type: ElemType): number {
  if (type === 'f32') return 4 * d;
  if (type === 'f16') return 2 * d;
  const nb = d / qblock(d);
  return (type === 'q8' ? d : d / 2) + 4 * nb;
}

/** Bytes per component per transposed-K tile (KT_TILE positions): codes, plus the f32 scale of quantised types. */
export function tileRowBytes(type: ElemType): number {
  if (type === 'f32') return 4 * KT_TILE;
  if (type === 'f16') return 2 * KT_TILE;
  return (type === 'q8' ? KT_TILE : KT_TILE / 2) + 4;
}

export function checkType(type: string, allowed: readonly string[], field: string, d: number): void {
  if (!allowed.includes(type)) throw new InvalidArgumentError(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(type)}`);
  if ((type === 'q8' || type === 'q4') && qblock(d) === 0) {
    throw new UnsupportedError(`${field} ${type} needs a head dimension that is a multiple of 8, got ${d}`);
  }
}
