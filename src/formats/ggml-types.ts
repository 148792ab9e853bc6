// GGML tensor type ids as stored in GGUF tensor infos, with each type's block layout
// (elements per block, bytes per block). Ids 4, 5, 31-33 and 36-38 were retired upstream and stay unused.
import { FormatError } from '../errors.js';

export const GGMLType = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q8_1: 9,
  Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q8_K: 15,
  IQ2_XXS: 16, IQ2_XS: 17, IQ3_XXS: 18, IQ1_S: 19, IQ4_NL: 20, IQ3_S: 21, IQ2_S: 22, IQ4_XS: 23,
  I8: 24, I16: 25, I32: 26, I64: 27, F64: 28, IQ1_M: 29, BF16: 30,
  TQ1_0: 34, TQ2_0: 35, MXFP4: 39, NVFP4: 40, Q1_0: 41,
} as const;

export type GGMLTypeId = (typeof GGMLType)[keyof typeof GGMLType];

export interface GGMLTypeInfo { name: string; blockSize: number; bytesPerBlock: number }

const QK_K = 256;
const LAYOUT: Record<number, [number, number]> = {
  [GGMLType.F32]: [1, 4], [GGMLType.F16]: [1, 2], [GGMLType.BF16]: [1, 2], [GGMLType.F64]: [1, 8],
  [GGMLType.I8]: [1, 1], [GGMLType.I16]: [1, 2], [GGMLType.I32]: [1, 4], [GGMLType.I64]: [1, 8],
  [GGMLType.Q4_0]: [32, 18], [GGMLType.Q4_1]: [32, 20], [GGMLType.Q5_0]: [32, 22], [GGMLType.Q5_1]: [32, 24],
  [GGMLType.Q8_0]: [32, 34], [GGMLType.Q8_1]: [32, 36],
  [GGMLType.Q2_K]: [QK_K, 84], [GGMLType.Q3_K]: [QK_K, 110], [GGMLType.Q4_K]: [QK_K, 144],
  [GGMLType.Q5_K]: [QK_K, 176], [GGMLType.Q6_K]: [QK_K, 210], [GGMLType.Q8_K]: [QK_K, 292],
  [GGMLType.IQ2_XXS]: [QK_K, 66], [GGMLType.IQ2_XS]: [QK_K, 74], [GGMLType.IQ3_XXS]: [QK_K, 98],
  [GGMLType.IQ1_S]: [QK_K, 50], [GGMLType.IQ4_NL]: [32, 18], [GGMLType.IQ3_S]: [QK_K, 110],
  [GGMLType.IQ2_S]: [QK_K, 82], [GGMLType.IQ4_XS]: [QK_K, 136], [GGMLType.IQ1_M]: [QK_K, 56],
  [GGMLType.TQ1_0]: [QK_K, 54], [GGMLType.TQ2_0]: [QK_K, 66],
  [GGMLType.MXFP4]: [32, 17], [GGMLType.NVFP4]: [64, 36], [GGMLType.Q1_0]: [128, 18],
};

const INFO = new Map<number, GGMLTypeInfo>();
for (const [name, id] of Object.entries(GGMLType)) {
  const [blockSize, bytesPerBlock] = LAYOUT[id];
  INFO.set(id, { name, blockSize, bytesPerBlock });
}

/** Layout of a type id, or undefined for an id this table does not know. */
export function ggmlTypeInfo(type: number): GGMLTypeInfo | undefined { return INFO.get(type); }

export function isKnownGGMLType(type: number): boolean { return INFO.has(type); }

/** 'Q8_0', 'F16', ...; unknown ids read as 'type#<id>'. */
export function ggmlTypeName(type: number): string { return INFO.get(type)?.name ?? `type#${type}`; }

/**
 * Bytes a tensor of `shape` (ne[0] first) takes in `type`. Throws FormatError for an unknown type, a
 * dimension that is not a non-negative safe integer, an element count or byte size beyond 2^53, or ne[0]
 * not a multiple of the type's block size (blocks never straddle rows).
 */
export function tensorByteSize(type: number, shape: readonly number[], file?: string, field = 'shape'): number {
  const info = INFO.get(type);
  if (!info) throw new FormatError(`${field}: unknown GGML type id ${type}`, file, field);
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${field}: dimension ${d} is not a non-negative integer`, file, field);
    count *= d;
    if (!Number.isSafeInteger(count)) {
      throw new FormatError(`${field}: element count of shape [${shape.join(', ')}] overflows 2^53`, file, field);
    }
  }
  const ne0 = shape.length > 0 ? shape[0] : 1;
  if (ne0 % info.blockSize !== 0) {
    throw new FormatError(`${field}: ne[0] = ${ne0} is not a multiple of the ${info.name} block size ${info.blockSize}`, file, field);
  }
  const bytes = (count / info.blockSize) * info.bytesPerBlock;
  if (!Number.isSafeInteger(bytes)) {
    throw new FormatError(`${field}: byte size of shape [${shape.join(', ')}] in ${info.name} overflows 2^53`, file, field);
  }
  return bytes;
}
