// Where each weight of the decoder lives in Wasm memory, found by name and checked by shape.
// Every family binds to one set of roles (LayerWeights); a file convention (GGUF, HF per family) names them.
// Fused tensors (QKV, gate+up) are split into row views, so the forward pass always sees separate matrices.
import type { ModelConfig } from './config.js';
import type { Runtime } from '../kernels/runtime.js';
import { FormatError, UnsupportedError } from '../errors.js';
import { GGMLType, tensorByteSize } from '../formats/ggml-types.js';

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
  attnNormB?: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  bq?: Tensor;
  bk?: Tensor;
  bv?: Tensor;
  /** A fused QKV as stored (wq, wk, wv, bq, bk, bv are then views of its rows). */
  wqkv?: Tensor;
  bqkv?: Tensor;
  qNorm?: Tensor;
  kNorm?: Tensor;
  wo: Tensor;
  bo?: Tensor;
  postAttnNorm?: Tensor;
  ffnNorm: Tensor;
  ffnNormB?: Tensor;
  /** Absent for the ungated GELU MLP. */
  wGate?: Tensor;
  wUp: Tensor;
  bUp?: Tensor;
  wDown: Tensor;
  bDown?: Tensor;
  postFfnNorm?: Tensor;
}

export interface Weights {
  tokenEmbd: Tensor;
  outputNorm: Tensor;
  outputNormB?: Tensor;
  output: Tensor;
  layers: LayerWeights[];
  /** GGUF llama3 rope: per-frequency divisors (rope_freqs.weight). */
  ropeFreqs?: Tensor;
}

/** Names of a layer's tensors in one convention, by role; a role the convention lacks is absent. */
export type LayerNames = { [K in keyof LayerWeights]?: string };

/** Tensor names of one file convention. */
export interface TensorNaming {
  tokenEmbd: string;
  outputNorm: string;
  outputNormB?: string;
  output: string;
  ropeFreqs?: string;
  layer(i: number): LayerNames;
  /** The convention's names for one architecture, where they differ by family (HF). */
  forArch?(arch: string): TensorNaming;
}

/** llama.cpp's names: one set for every architecture (a role's meaning is the family's, see LayerWeights). */
export const GGUF_NAMES: TensorNaming = {
  tokenEmbd: 'token_embd.weight',
  outputNorm: 'output_norm.weight',
  outputNormB: 'output_norm.bias',
  output: 'output.weight',
  ropeFreqs: 'rope_freqs.weight',
  layer: (i) => {
    const b = `blk.${i}.`;
    return {
      attnNorm: `${b}attn_norm.weight`, attnNormB: `${b}attn_norm.bias`,
      wq: `${b}attn_q.weight`, wk: `${b}attn_k.weight`, wv: `${b}attn_v.weight`,
      bq: `${b}attn_q.bias`, bk: `${b}attn_k.bias`, bv: `${b}attn_v.bias`,
      wqkv: `${b}attn_qkv.weight`, bqkv: `${b}attn_qkv.bias`,
      qNorm: `${b}attn_q_norm.weight`, kNorm: `${b}attn_k_norm.weight`,
      wo: `${b}attn_output.weight`, bo: `${b}attn_output.bias`,
      postAttnNorm: `${b}post_attention_norm.weight`,
      ffnNorm: `${b}ffn_norm.weight`, ffnNormB: `${b}ffn_norm.bias`,
      wGate: `${b}ffn_gate.weight`, wUp: `${b}ffn_up.weight`, bUp: `${b}ffn_up.bias`,
      wDown: `${b}ffn_down.weight`, bDown: `${b}ffn_down.bias`,
      postFfnNorm: `${b}post_ffw_norm.weight`,
    };
  },
};

/** HF names of the Llama-shaped families (model.layers.N...), with each family's module names. */
function hfLlamaLike(arch: string): TensorNaming {
  const gemmaNorms = arch === 'gemma2' || arch === 'gemma3';
  return {
    tokenEmbd: 'model.embed_tokens.weight',
    outputNorm: 'model.norm.weight',
    output: 'lm_head.weight',
    layer: (i) => {
      const b = `model.layers.${i}.`;
      const a = `${b}self_attn.`;
      return {
        attnNorm: `${b}input_layernorm.weight`,
        wq: `${a}q_proj.weight`, wk: `${a}k_proj.weight`, wv: `${a}v_proj.weight`,
        bq: `${a}q_proj.bias`, bk: `${a}k_proj.bias`, bv: `${a}v_proj.bias`,
        wqkv: `${a}qkv_proj.weight`,
        qNorm: `${a}q_norm.weight`, kNorm: `${a}k_norm.weight`,
        wo: `${a}o_proj.weight`, bo: `${a}o_proj.bias`,
        // Gemma 2/3 reuse the Llama name for the post-attention norm and call the pre-MLP one differently
        ...(gemmaNorms
          ? { postAttnNorm: `${b}post_attention_layernorm.weight`, ffnNorm: `${b}pre_feedforward_layernorm.weight`,
              postFfnNorm: `${b}post_feedforward_layernorm.weight` }
          : { ffnNorm: `${b}post_attention_layernorm.weight` }),
        wGate: `${b}mlp.gate_proj.weight`,
        wUp: arch === 'phi3' ? `${b}mlp.gate_up_proj.weight` : `${b}mlp.up_proj.weight`,
        wDown: `${b}mlp.down_proj.weight`,
      };
    },
  };
}

const HF_GPTNEOX: TensorNaming = {
  tokenEmbd: 'gpt_neox.embed_in.weight',
  outputNorm: 'gpt_neox.final_layer_norm.weight',
  outputNormB: 'gpt_neox.final_layer_norm.bias',
  output: 'embed_out.weight',
  layer: (i) => {
    const b = `gpt_neox.layers.${i}.`;
    return {
      attnNorm: `${b}input_layernorm.weight`, attnNormB: `${b}input_layernorm.bias`,
      wqkv: `${b}attention.query_key_value.weight`, bqkv: `${b}attention.query_key_value.bias`,
      wo: `${b}attention.dense.weight`, bo: `${b}attention.dense.bias`,
      ffnNorm: `${b}post_attention_layernorm.weight`, ffnNormB: `${b}post_attention_layernorm.bias`,
      wUp: `${b}mlp.dense_h_to_4h.weight`, bUp: `${b}mlp.dense_h_to_4h.bias`,
      wDown: `${b}mlp.dense_4h_to_h.weight`, bDown: `${b}mlp.dense_4h_to_h.bias`,
    };
  },
};

/** HF names of one family. */
export function hfNames(arch: string): TensorNaming {
  return arch === 'gptneox' ? HF_GPTNEOX : hfLlamaLike(arch);
}

export const HF_NAMES: TensorNaming = { ...hfLlamaLike('llama'), forArch: hfNames };

/** Rows [r0, r0 + n) of a matrix (or elements of an f32 vector) as a tensor of its own, in place. */
function rowView(t: Tensor, r0: number, n: number, part: string): Tensor {
  if (t.shape.length === 1) {
    return { name: `${t.name}:${part}`, ptr: t.ptr + 4 * r0, type: t.type, shape: [n] };
  }
  const rowBytes = tensorByteSize(t.type, [t.shape[0]]);
  return { name: `${t.name}:${part}`, ptr: t.ptr + r0 * rowBytes, type: t.type, shape: [t.shape[0], n] };
}

/** Find every weight the config needs and check its shape (ggml order: [in, out]). */
export function bindWeights(c: ModelConfig, lookup: (name: string) => Tensor | undefined, convention: TensorNaming, file: string): Weights {
  const names = convention.forArch?.(c.arch) ?? convention;
  const check = (t: Tensor, name: string, shape: number[]): Tensor => {
    const got = t.shape.filter((d, i) => i < shape.length || d !== 1);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new FormatError(`tensor ${name} has shape [${t.shape}], expected [${shape}]`, file, name);
    }
    if (shape.length === 1 && t.type !== GGMLType.F32) {
      throw new FormatError(`tensor ${name} must be F32 (vectors are read as f32), got type ${t.type}`, file, name);
    }
    return t;
  };
  const need = (name: string | undefined, shape: number[], role: string): Tensor => {
    const t = name === undefined ? undefined : lookup(name);
    if (!t) throw new FormatError(`missing tensor ${name ?? `for ${role} (${c.arch} files have none)`}`, file, name ?? role);
    return check(t, name!, shape);
  };
  const opt = (name: string | undefined, shape: number[]): Tensor | undefined => {
    const t = name === undefined ? undefined : lookup(name);
    return t && check(t, name!, shape);
  };
  for (const longrope of ['rope_factors_long.weight', 'rope_factors_short.weight']) {
    if (lookup(longrope)) throw new UnsupportedError(`tensor ${longrope}: LongRoPE scaling (Phi-3 128k) is not supported`, file);
  }
  const q = c.nHeads * c.headDim;
  const kv = c.nKVHeads * c.headDim;
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const n = names.layer(i);
    const layerNorm = c.norm === 'layer';
    const attn = n.wqkv !== undefined && lookup(n.wqkv) ? fusedQKV(need(n.wqkv, [c.dim, q + 2 * kv], 'wqkv'), opt(n.bqkv, [q + 2 * kv]), q, kv)
      : {
        wq: need(n.wq, [c.dim, q], 'wq'), wk: need(n.wk, [c.dim, kv], 'wk'), wv: need(n.wv, [c.dim, kv], 'wv'),
        bq: opt(n.bq, [q]), bk: opt(n.bk, [kv]), bv: opt(n.bv, [kv]),
      };
    const L: LayerWeights = {
      attnNorm: need(n.attnNorm, [c.dim], 'attnNorm'),
      attnNormB: layerNorm ? need(n.attnNormB, [c.dim], 'attnNormB') : undefined,
      ...attn,
      qNorm: c.qkNorm ? need(n.qNorm, [c.headDim], 'qNorm') : undefined,
      kNorm: c.qkNorm ? need(n.kNorm, [c.headDim], 'kNorm') : undefined,
      wo: need(n.wo, [q, c.dim], 'wo'),
      bo: opt(n.bo, [c.dim]),
      postAttnNorm: c.postNorms ? need(n.postAttnNorm, [c.dim], 'postAttnNorm') : undefined,
      ffnNorm: need(n.ffnNorm, [c.dim], 'ffnNorm'),
      ffnNormB: layerNorm ? need(n.ffnNormB, [c.dim], 'ffnNormB') : undefined,
      postFfnNorm: c.postNorms ? need(n.postFfnNorm, [c.dim], 'postFfnNorm') : undefined,
      wUp: undefined as unknown as Tensor,
      wDown: need(n.wDown, [c.ffnDim, c.dim], 'wDown'),
      bDown: opt(n.bDown, [c.dim]),
    };
    if (c.mlp === 'gelu') {
      L.wUp = need(n.wUp, [c.dim, c.ffnDim], 'wUp');
      L.bUp = opt(n.bUp, [c.ffnDim]);
    } else if (c.fusedGateUp) {
      const gu = need(n.wUp, [c.dim, 2 * c.ffnDim], 'wUp');
      L.wGate = rowView(gu, 0, c.ffnDim, 'gate');
      L.wUp = rowView(gu, c.ffnDim, c.ffnDim, 'up');
    } else {
      L.wGate = need(n.wGate, [c.dim, c.ffnDim], 'wGate');
      L.wUp = need(n.wUp, [c.dim, c.ffnDim], 'wUp');
    }
    layers.push(L);
  }
  const tokenEmbd = need(names.tokenEmbd, [c.dim, c.vocabSize], 'tokenEmbd');
  const output = c.tiedOutput ? tokenEmbd : need(names.output, [c.dim, c.vocabSize], 'output');
  const ropeFreqs = opt(names.ropeFreqs, [c.rope.dim / 2]);
  const outputNorm = need(names.outputNorm, [c.dim], 'outputNorm');
  const outputNormB = c.norm === 'layer' ? need(names.outputNormB, [c.dim], 'outputNormB') : undefined;
  return { tokenEmbd, outputNorm, outputNormB, output, layers, ropeFreqs };
}

function fusedQKV(w: Tensor, b: Tensor | undefined, q: number, kv: number): Pick<LayerWeights, 'wq' | 'wk' | 'wv' | 'bq' | 'bk' | 'bv' | 'wqkv' | 'bqkv'> {
  return {
    wqkv: w, bqkv: b,
    wq: rowView(w, 0, q, 'q'), wk: rowView(w, q, kv, 'k'), wv: rowView(w, q + kv, kv, 'v'),
    bq: b && rowView(b, 0, q, 'q'), bk: b && rowView(b, q, kv, 'k'), bv: b && rowView(b, q + kv, kv, 'v'),
  };
}

/**
 * Layout fixes applied once to the weights in Wasm memory before the first forward pass, after which the
 * config records them as done: the norm offset (HF Gemma's 1 + w) is added to every norm weight, and a
 * per-head interleaved fused QKV (HF GPT-NeoX, rows [head][q|k|v][headDim]) is regrouped to [q; k; v] so the
 * row views of bindWeights are right.
 */
export function prepareWeights(rt: Runtime, c: ModelConfig, w: Weights): void {
  if (c.normOffset !== 0) {
    const norms = [w.outputNorm, ...w.layers.flatMap((L) => [L.attnNorm, L.ffnNorm, L.postAttnNorm, L.postFfnNorm, L.qNorm, L.kNorm])];
    for (const t of norms) {
      if (!t) continue;
      const v = rt.f32At(t.ptr, t.shape[0]);
      for (let i = 0; i < v.length; i++) v[i] += c.normOffset;
    }
    c.normOffset = 0;
  }
  if (c.qkvInterleaved) {
    for (const L of w.layers) {
      if (L.wqkv) regroupQKV(rt, L.wqkv.ptr, tensorByteSize(L.wqkv.type, [L.wqkv.shape[0]]), c.nHeads, c.headDim);
      if (L.bqkv) regroupQKV(rt, L.bqkv.ptr, 4, c.nHeads, c.headDim);
    }
    c.qkvInterleaved = false;
  }
}

/** Rows [head][part][d] -> [part][head][d] in place (part: q, k, v), for rows of rowBytes bytes. */
function regroupQKV(rt: Runtime, ptr: number, rowBytes: number, nHeads: number, d: number): void {
  const bytes = 3 * nHeads * d * rowBytes;
  const src = rt.u8At(ptr, bytes).slice();
  const dst = rt.u8At(ptr, bytes);
  const block = d * rowBytes;
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) {
      const from = (h * 3 + part) * block;
      dst.set(src.subarray(from, from + block), (part * nHeads + h) * block);
    }
  }
}
