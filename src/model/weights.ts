// Where each weight of the decoder lives in Wasm memory, found by name and checked by shape.
// Every family binds to one set of roles (LayerWeights); a file convention (GGUF, HF per family) names them.
// Fused tensors (QKV, gate+up) are split into row views, so the forward pass always sees separate matrices.
import type { ModelConfig } from './config.js';
import type { Runtime } from '../kernels/runtime.js';
import { FormatError, UnsupportedError } from '../errors.js';
import { GGMLType, tensorByteSize } from '../formats/ggml-types.js';
import { weightKernels } from '../kernels/weight-kernels.js';
import { X4_ROWS } from '../kernels/abi.js';

/** A tensor in Wasm memory, in its file's storage format. `shape` is ggml order: shape[0] is contiguous. */
export interface Tensor {
  name: string;
  ptr: number;
  /** GGML type id (F32 0, F16 1, Q8_0 8, BF16 30, ...). */
  type: number;
  shape: number[];
  /** Repacked at load into the type's interleaved form (weight-kernels.ts INTERLEAVED_KERNELS). */
  interleaved?: boolean;
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
}

/** How a file stores weights where that differs from what the forward pass reads (prepareWeights undoes it). */
export interface StoredLayout {
  /** Norm weights are stored as w where the norm multiplies by normOffset + w (HF Gemma: 1). */
  readonly normOffset: number;
  /** A fused QKV's rows are interleaved per head, [head][q|k|v][headDim] (HF GPT-NeoX). */
  readonly qkvInterleaved: boolean;
}

/** The layout the forward pass reads, and every GGUF holds. */
export const RUNTIME_LAYOUT: StoredLayout = Object.freeze({ normOffset: 0, qkvInterleaved: false });

/**
 * llama.cpp's names: one set for every architecture (a role's meaning is the family's, see LayerWeights).
 * HF names differ by family: each family record holds its own (families/).
 */
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

/** Rows [r0, r0 + n) of a matrix (or elements of an f32 vector) as a tensor of its own, in place. */
function rowView(t: Tensor, r0: number, n: number, part: string): Tensor {
  if (t.shape.length === 1) {
    return { name: `${t.name}:${part}`, ptr: t.ptr + 4 * r0, type: t.type, shape: [n] };
  }
  const name = `${t.name}:${part}`;
  if (t.interleaved) {
    // a view of an interleaved matrix starts at a group of X4_ROWS rows
    if (r0 % X4_ROWS !== 0) throw new UnsupportedError(`${name} starts at row ${r0} of an interleaved matrix (groups of ${X4_ROWS} rows)`);
    return { name, ptr: t.ptr + r0 * weightKernels(t.type, true)!.rowBytes(t.shape[0]), type: t.type, shape: [t.shape[0], n], interleaved: true };
  }
  const rowBytes = tensorByteSize(t.type, [t.shape[0]]);
  return { name, ptr: t.ptr + r0 * rowBytes, type: t.type, shape: [t.shape[0], n] };
}

/** Find every weight the config needs and check its shape (ggml order: [in, out]). */
export function bindWeights(c: ModelConfig, lookup: (name: string) => Tensor | undefined, names: TensorNaming, file: string): Weights {
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

/** Names of the tensors bindWeights binds for config c (their shapes checked): what a load must read. */
export function boundTensorNames(c: ModelConfig, lookup: (name: string) => Tensor | undefined, names: TensorNaming, file: string): Set<string> {
  const used = new Set<string>();
  bindWeights(c, (name) => {
    const t = lookup(name);
    if (t) used.add(name);
    return t;
  }, names, file);
  return used;
}

function fusedQKV(w: Tensor, b: Tensor | undefined, q: number, kv: number): Pick<LayerWeights, 'wq' | 'wk' | 'wv' | 'bq' | 'bk' | 'bv' | 'wqkv' | 'bqkv'> {
  return {
    wqkv: w, bqkv: b,
    wq: rowView(w, 0, q, 'q'), wk: rowView(w, q, kv, 'k'), wv: rowView(w, q + kv, kv, 'v'),
    bq: b && rowView(b, 0, q, 'q'), bk: b && rowView(b, q, kv, 'k'), bv: b && rowView(b, q + kv, kv, 'v'),
  };
}

/**
 * Weights stored in `stored` layout brought, in Wasm memory and once, to the layout the forward pass reads:
 * the norm offset (HF Gemma's 1 + w) is added to every norm weight, and a per-head interleaved fused QKV
 * (HF GPT-NeoX) is regrouped to [q; k; v] so the row views of bindWeights are right. Returns the weights,
 * which from then on are in RUNTIME_LAYOUT; the config is not touched.
 */
export function prepareWeights(rt: Runtime, c: ModelConfig, w: Weights, stored: StoredLayout): Weights {
  if (stored.normOffset !== 0) {
    const norms = [w.outputNorm, ...w.layers.flatMap((L) => [L.attnNorm, L.ffnNorm, L.postAttnNorm, L.postFfnNorm, L.qNorm, L.kNorm])];
    for (const t of norms) {
      if (!t) continue;
      const v = rt.f32At(t.ptr, t.shape[0]);
      for (let i = 0; i < v.length; i++) v[i] += stored.normOffset;
    }
  }
  if (stored.qkvInterleaved) {
    for (const L of w.layers) {
      for (const t of [L.wqkv, L.bqkv]) {
        if (!t) continue;
        const bytes = tensorByteSize(t.type, t.shape);
        regroupQKV(rt.u8At(t.ptr, bytes).slice(), rt.u8At(t.ptr, bytes), c.nHeads, bytes / (3 * c.nHeads));
      }
    }
  }
  return w;
}

/**
 * The rows of a fused QKV stored per head, [head][q|k|v][block], copied from src to dst as [q|k|v][head][block],
 * where a block is one head's part (headDim rows) in elements of src.
 */
export function regroupQKV<T extends Uint8Array | Float32Array>(src: T, dst: T, nHeads: number, block: number): T {
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) {
      const from = (h * 3 + part) * block;
      dst.set(src.subarray(from, from + block), (part * nHeads + h) * block);
    }
  }
  return dst;
}
