// Which tensors of a GGUF a load reads: the ones the model binds (shapes checked before anything is
// allocated), in a type the kernels read in place; the rest are skipped (`sparq info` lists them).
import { GGMLType, ggmlTypeName } from '../formats/ggml-types.js';
import type { GGUFHeader } from '../formats/gguf.js';
import { selectTensors, type TensorSelection } from '../formats/gguf-select.js';
import { WEIGHT_KERNELS } from '../kernels/weight-kernels.js';
import type { ModelConfig } from '../model/config.js';
import { boundTensorNames, GGUF_NAMES, type Tensor } from '../model/weights.js';
import { UnsupportedError } from '../errors.js';

/** The tensors of `header` that config binds, laid out for one weights buffer aligned to max(64, alignment). */
export function selectGGUFWeights(header: GGUFHeader, config: ModelConfig, file: string): TensorSelection {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const used = boundTensorNames(config, (n) => tensorAt(byName.get(n), 0), GGUF_NAMES, file);
  for (const name of used) checkTensorType(byName.get(name)!, file);
  return selectTensors(header, (n) => used.has(n), weightsAlign(header));
}

/** Alignment of the weights buffer: the file's, at least a cache line. */
export function weightsAlign(header: Pick<GGUFHeader, 'alignment'>): number {
  return Math.max(64, header.alignment);
}

/** The kept tensors once their runs are in Wasm memory at `base`, by name. */
export function keptTensors(header: GGUFHeader, selection: TensorSelection, base: number): (name: string) => Tensor | undefined {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  return (name) => {
    const offset = selection.offsets.get(name);
    return offset === undefined ? undefined : tensorAt(byName.get(name), base + offset);
  };
}

function tensorAt(t: GGUFHeader['tensors'][number] | undefined, ptr: number): Tensor | undefined {
  return t && { name: t.name, ptr, type: t.type, shape: t.shape };
}

/** Vectors are read as f32 (or in a weight type); matrices only in a type a weight kernel reads in place. */
function checkTensorType(t: GGUFHeader['tensors'][number], file: string): void {
  const vector = t.shape.filter((d) => d > 1).length <= 1;
  const ok = vector ? t.type === GGMLType.F32 || WEIGHT_KERNELS.has(t.type) : WEIGHT_KERNELS.has(t.type);
  if (!ok) throw new UnsupportedError(`tensor ${t.name} has type ${ggmlTypeName(t.type)}; supported here: ${[...WEIGHT_KERNELS.keys()].map(ggmlTypeName).join(', ')}`, file);
}
