// Which tensors of a GGUF a load reads: the ones the model binds (shapes checked before anything is
// allocated), in a type the kernels read in place; the rest are skipped (`sparq info` lists them).
import { GGMLType, ggmlTypeName } from '../formats/ggml-types.js';
import type { GGUFHeader, GGUFTensorInfo } from '../formats/gguf.js';
import { layoutWeights, type WeightsLayout } from './gguf-repack.js';
import { WEIGHT_KERNELS } from '../kernels/weight-kernels.js';
import type { ModelConfig } from '../model/config.js';
import { boundTensorNames, GGUF_NAMES, type Tensor } from '../model/weights.js';
import { UnsupportedError } from '../errors.js';

/** The tensors of `header` that `config` binds (kept, in file order) and the rest (ignored). */
export interface WeightSelection {
  readonly kept: readonly GGUFTensorInfo[];
  readonly ignored: readonly GGUFTensorInfo[];
}

export function selectGGUFWeights(header: GGUFHeader, config: ModelConfig, file: string): WeightSelection {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const used = boundTensorNames(config, (n) => tensorAt(byName.get(n), 0), GGUF_NAMES, file);
  for (const name of used) checkTensorType(byName.get(name)!, file);
  const inFileOrder = [...header.tensors].sort((a, b) => a.offset - b.offset);
  return { kept: inFileOrder.filter((t) => used.has(t.name)), ignored: inFileOrder.filter((t) => !used.has(t.name)) };
}

/** Where a load puts the kept tensors (gguf-repack.ts): a token embedding that is not the output projection keeps the file layout. */
export function ggufWeightsLayout(header: GGUFHeader, config: ModelConfig, selection: WeightSelection): WeightsLayout {
  return layoutWeights(selection.kept, weightsAlign(header), (n) => n === GGUF_NAMES.tokenEmbd && !config.tiedOutput);
}

/** Alignment of the weights buffer: the file's, at least a cache line. */
export function weightsAlign(header: Pick<GGUFHeader, 'alignment'>): number {
  return Math.max(64, header.alignment);
}

function tensorAt(t: GGUFTensorInfo | undefined, ptr: number): Tensor | undefined {
  return t && { name: t.name, ptr, type: t.type, shape: t.shape };
}

/** Vectors are read as f32 (or in a weight type); matrices only in a type a weight kernel reads in place. */
function checkTensorType(t: GGUFTensorInfo, file: string): void {
  const vector = t.shape.filter((d) => d > 1).length <= 1;
  const ok = vector ? t.type === GGMLType.F32 || WEIGHT_KERNELS.has(t.type) : WEIGHT_KERNELS.has(t.type);
  if (!ok) throw new UnsupportedError(`tensor ${t.name} has type ${ggmlTypeName(t.type)}; supported here: ${[...WEIGHT_KERNELS.keys()].map(ggmlTypeName).join(', ')}`, file);
}
