// Where each weight of the decoder lives in Wasm memory, found by name and checked by shape.
import type { ModelConfig } from './config.js';
import { FormatError } from '../errors.js';

/** A tensor in Wasm memory, in its file's storage format. `shape` is ggml order: shape[0] is contiguous. */
export interface Tensor {
  name: string;
  ptr: number;
  /** GGML type id (F32 0, F16 1, Q8_0 8, BF16 30, ...). */
  type: number;
  shape: number[];
}

export interface LayerWeights {
  attnNorm: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  ffnNorm: Tensor;
  wGate: Tensor;
  wUp: Tensor;
  wDown: Tensor;
}

export interface Weights {
  tokenEmbd: Tensor;
  outputNorm: Tensor;
  output: Tensor;
  layers: LayerWeights[];
  /** GGUF llama3 rope: per-frequency divisors (rope_freqs.weight). */
  ropeFreqs?: Tensor;
}

/** Tensor names of one file convention. */
export interface TensorNaming {
  tokenEmbd: string;
  outputNorm: string;
  output: string;
  ropeFreqs?: string;
  layer(i: number): Record<keyof LayerWeights, string>;
}

export const GGUF_NAMES: TensorNaming = {
  tokenEmbd: 'token_embd.weight',
  outputNorm: 'output_norm.weight',
  output: 'output.weight',
  ropeFreqs: 'rope_freqs.weight',
  layer: (i) => ({
    attnNorm: `blk.${i}.attn_norm.weight`,
    wq: `blk.${i}.attn_q.weight`,
    wk: `blk.${i}.attn_k.weight`,
    wv: `blk.${i}.attn_v.weight`,
    wo: `blk.${i}.attn_output.weight`,
    ffnNorm: `blk.${i}.ffn_norm.weight`,
    wGate: `blk.${i}.ffn_gate.weight`,
    wUp: `blk.${i}.ffn_up.weight`,
    wDown: `blk.${i}.ffn_down.weight`,
  }),
};

export const HF_NAMES: TensorNaming = {
  tokenEmbd: 'model.embed_tokens.weight',
  outputNorm: 'model.norm.weight',
  output: 'lm_head.weight',
  layer: (i) => ({
    attnNorm: `model.layers.${i}.input_layernorm.weight`,
    wq: `model.layers.${i}.self_attn.q_proj.weight`,
    wk: `model.layers.${i}.self_attn.k_proj.weight`,
    wv: `model.layers.${i}.self_attn.v_proj.weight`,
    wo: `model.layers.${i}.self_attn.o_proj.weight`,
    ffnNorm: `model.layers.${i}.post_attention_layernorm.weight`,
    wGate: `model.layers.${i}.mlp.gate_proj.weight`,
    wUp: `model.layers.${i}.mlp.up_proj.weight`,
    wDown: `model.layers.${i}.mlp.down_proj.weight`,
  }),
};

/** Find every weight the config needs and check its shape (ggml order: [in, out]). */
export function bindWeights(c: ModelConfig, lookup: (name: string) => Tensor | undefined, names: TensorNaming, file: string): Weights {
  const need = (name: string, shape: number[]): Tensor => {
    const t = lookup(name);
    if (!t) throw new FormatError(`missing tensor ${name}`, file, name);
    const got = t.shape.filter((d, i) => i < shape.length || d !== 1);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new FormatError(`tensor ${name} has shape [${t.shape}], expected [${shape}]`, file, name);
    }
    return t;
  };
  const q = c.nHeads * c.headDim;
  const kv = c.nKVHeads * c.headDim;
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const n = names.layer(i);
    layers.push({
      attnNorm: need(n.attnNorm, [c.dim]),
      wq: need(n.wq, [c.dim, q]),
      wk: need(n.wk, [c.dim, kv]),
      wv: need(n.wv, [c.dim, kv]),
      wo: need(n.wo, [q, c.dim]),
      ffnNorm: need(n.ffnNorm, [c.dim]),
      wGate: need(n.wGate, [c.dim, c.ffnDim]),
      wUp: need(n.wUp, [c.dim, c.ffnDim]),
      wDown: need(n.wDown, [c.ffnDim, c.dim]),
    });
  }
  const tokenEmbd = need(names.tokenEmbd, [c.dim, c.vocabSize]);
  const output = c.tiedOutput ? tokenEmbd : need(names.output, [c.dim, c.vocabSize]);
  const ropeFreqs = names.ropeFreqs ? lookup(names.ropeFreqs) : undefined;
  if (ropeFreqs) need(names.ropeFreqs!, [c.rope.dim / 2]);
  return { tokenEmbd, outputNorm: need(names.outputNorm, [c.dim]), output, layers, ropeFreqs };
}
