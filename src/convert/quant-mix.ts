// Which type each tensor gets for a llama.cpp-style file type (LLAMA_FTYPE_*), following llama.cpp's
// llama_tensor_get_type (src/llama-quant.cpp) for dense Llama models without an importance matrix:
//   - 1-D tensors and rope_freqs stay F32; other 2-D weights get the base type;
//   - output.weight (token_embd.weight when the output is tied) becomes Q6_K, or Q8_0 when its rows are not
//     a multiple of 256; with Q8_0 as base it stays Q8_0;
//   - Q4_K_M / Q5_K_M: attn_v and ffn_down of the layers picked by useMoreBits become Q6_K;
//   - Q4_K_S: attn_v of the first 4 layers and ffn_down of the first n/8 layers become Q5_K;
//   - Q2_K: attn_v Q3_K (Q4_K when n_head/n_head_kv >= 4), ffn_down and attn_output Q3_K;
//   - rows not a multiple of the block: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0
//     (llama.cpp uses IQ4_NL there, which this runtime does not have), then F16 if still not a multiple.
// Not modelled: the 70B, mixture-of-experts and Falcon special cases. `pure` gives every 2-D weight the base type.
import { GGMLType, ggmlTypeInfo } from '../formats/ggml-types.js';
import { InvalidArgumentError } from '../errors.js';

export const FILE_TYPES = {
  Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K_S: 11, Q4_K_S: 14, Q4_K_M: 15, Q5_K_S: 16, Q5_K_M: 17, Q6_K: 18,
} as const;
export type FileTypeName = keyof typeof FILE_TYPES;

const BASE: Record<FileTypeName, number> = {
  Q4_0: GGMLType.Q4_0, Q4_1: GGMLType.Q4_1, Q8_0: GGMLType.Q8_0, Q5_0: GGMLType.Q5_0, Q5_1: GGMLType.Q5_1,
  Q2_K: GGMLType.Q2_K, Q3_K_S: GGMLType.Q3_K, Q4_K_S: GGMLType.Q4_K, Q4_K_M: GGMLType.Q4_K, Q5_K_S: GGMLType.Q5_K,
  Q5_K_M: GGMLType.Q5_K, Q6_K: GGMLType.Q6_K,
};

/** 'Q4_K_M' etc.; the plain K names (Q3_K, Q4_K, Q5_K) read as their _S variants. */
export function parseFileType(name: string): FileTypeName {
  const n = name.toUpperCase();
  const alias: Record<string, FileTypeName> = { Q3_K: 'Q3_K_S', Q4_K: 'Q4_K_S', Q5_K: 'Q5_K_S' };
  const t = (alias[n] ?? n) as FileTypeName;
  if (!(t in FILE_TYPES)) throw new InvalidArgumentError(`unknown quantisation type ${name} (one of ${[...Object.keys(FILE_TYPES), 'Q3_K', 'Q4_K', 'Q5_K'].join(', ')})`);
  return t;
}

/** llama.cpp's layer selection for extra bits: the first and last eighth, and every third layer between. */
export function useMoreBits(i: number, n: number): boolean {
  return i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;
}

export interface TensorDesc { name: string; shape: number[] }

/** Target type of every tensor of a model (in file order), given the file type. */
export function planTypes(tensors: readonly TensorDesc[], ftype: FileTypeName, opts: { pure?: boolean; nHead?: number; nHeadKV?: number } = {}): number[] {
  const base = BASE[ftype];
  const hasOutput = tensors.some((t) => t.name === 'output.weight');
  // llama.cpp counts attn_v / ffn_down tensors in layer order (it sorts by layer before quantising),
  // whatever order the file stores them in.
  const rankV = layerRanks(tensors, 'attn_v.weight'), rankDown = layerRanks(tensors, 'ffn_down');
  const nV = rankV.size, nDown = rankDown.size;
  const gqa = opts.nHead && opts.nHeadKV ? opts.nHead / opts.nHeadKV : 1;
  return tensors.map((t) => {
    const iV = rankV.get(t.name) ?? 0, iDown = rankDown.get(t.name) ?? 0;
    if (t.shape.filter((d) => d > 1).length < 2 || !t.name.endsWith('.weight') || t.name === 'rope_freqs.weight') return GGMLType.F32;
    let type = base;
    const nx = t.shape[0];
    if (!opts.pure) {
      if (t.name === 'output.weight' || (!hasOutput && t.name === 'token_embd.weight')) {
        type = nx % 256 !== 0 ? GGMLType.Q8_0 : base !== GGMLType.Q8_0 ? GGMLType.Q6_K : base;
        return type;
      }
      if (t.name.includes('attn_v.weight')) {
        if (ftype === 'Q2_K') type = gqa >= 4 ? GGMLType.Q4_K : GGMLType.Q3_K;
        else if ((ftype === 'Q4_K_M' || ftype === 'Q5_K_M') && useMoreBits(iV, nV)) type = GGMLType.Q6_K;
        else if (ftype === 'Q4_K_S' && iV < 4) type = GGMLType.Q5_K;
      } else if (t.name.includes('ffn_down')) {
        if (ftype === 'Q2_K') type = GGMLType.Q3_K;
        else if ((ftype === 'Q4_K_M' || ftype === 'Q5_K_M') && useMoreBits(iDown, nDown)) type = GGMLType.Q6_K;
        else if (ftype === 'Q4_K_S' && iDown < Math.floor(nDown / 8)) type = GGMLType.Q5_K;
      } else if (t.name.includes('attn_output.weight') && ftype === 'Q2_K') {
        type = GGMLType.Q3_K;
      }
    }
    return fallback(type, nx);
  });
}

function fallback(type: number, nx: number): number {
  if (nx % ggmlTypeInfo(type)!.blockSize === 0) return type;
  const next: Record<number, number> = {
    [GGMLType.Q2_K]: GGMLType.Q4_0, [GGMLType.Q3_K]: GGMLType.Q4_0, [GGMLType.Q4_K]: GGMLType.Q5_0,
    [GGMLType.Q5_K]: GGMLType.Q5_1, [GGMLType.Q6_K]: GGMLType.Q8_0,
  };
  const t = next[type];
  return t !== undefined && nx % ggmlTypeInfo(t)!.blockSize === 0 ? t : GGMLType.F16;
}

/** Rank by layer number (blk.N.) of the tensors whose name contains `part`. */
function layerRanks(tensors: readonly TensorDesc[], part: string): Map<string, number> {
  const layer = (n: string) => Number(/^blk\.(\d+)\./.exec(n)?.[1] ?? 0);
  const names = tensors.filter((t) => t.name.includes(part)).map((t) => t.name).sort((x, y) => layer(x) - layer(y));
  return new Map(names.map((n, i) => [n, i]));
}
