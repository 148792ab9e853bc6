// The fields of a ModelConfig both readers take from the family record, before the file's settings.
import type { ModelConfig } from './config.js';
import type { Family } from './families/family.js';

export function familyDefaults(f: Family, dim: number, headDim: number, nLayers: number): Pick<ModelConfig,
  'norm' | 'mlp' | 'parallelResidual' | 'postNorms' | 'qkNorm' | 'fusedGateUp' | 'embedScale' | 'attnScale' |
  'attnSoftcap' | 'finalSoftcap' | 'layerWindows' | 'tiedOutput'> {
  const t = f.traits;
  return {
    norm: t.norm, mlp: t.mlp, parallelResidual: t.parallelResidual, postNorms: t.postNorms, qkNorm: t.qkNorm,
    fusedGateUp: t.fusedGateUp, embedScale: t.embedScaled ? Math.fround(Math.sqrt(dim)) : 1, attnScale: 1 / Math.sqrt(headDim),
    attnSoftcap: 0, finalSoftcap: 0, layerWindows: new Array<number>(nLayers).fill(0), tiedOutput: t.tied,
  };
}
