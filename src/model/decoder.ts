// The forward pass of a decoder-only transformer over a KV cache in Wasm memory, for every family: what
// differs (norm kind, biases, q/k norms, post-norms, parallel residual, MLP kind, embedding scale, soft-caps,
// sliding windows, local RoPE base) is read from the ModelConfig and from which weights exist.
// Prefill runs in batches of up to BATCH tokens with matrix-matrix kernels; decode (one token) with
// matrix-vector kernels. Every buffer is allocated once, at construction.
import type { Runtime } from '../wasm/runtime.js';
import type { ModelConfig } from './config.js';
import type { Weights, Tensor } from './weights.js';
import type { ModelCore, AttentionStats } from './core.js';
import { KVCache, type KType, type VType } from '../kv/cache.js';
import { Attention, type AttentionSetting, type SparqProbe } from '../attention/index.js';
import { linear, linearMany, embeddingRow, q8aBytes } from './linear.js';
import { ropeInvFreq } from './rope-freqs.js';
import { InvalidArgumentError } from '../errors.js';

/** Tokens per prefill batch: large enough to reuse each loaded weight many times, small enough for cache. */
export const BATCH = 32;

export interface DecoderOptions {
  contextLength: number;
  attention?: AttentionSetting;
  /** SparQ mean-value reallocation; default on for MHA models, off for GQA (as the paper found). */
  reallocation?: boolean;
  kType?: KType;
  vType?: VType;
  /** 'q4' stores the transposed K (read only to rank positions) in 4 bits; default: kType. */
  kTType?: 'q4';
  /** Keep the SparQ cache layout even when starting dense, so setAttention can switch to SparQ later. */
  sparqLayout?: boolean;
}

export class Decoder implements ModelCore {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly cache: KVCache;
  private readonly attention: Attention;
  private readonly invFreq: number;
  /** Inverse frequencies of the sliding-window layers when they have their own RoPE base (else invFreq). */
  private readonly invFreqLocal: number;
  // activations, [BATCH][width] f32
  private readonly x: number;
  private readonly xb: number;
  private readonly q: number;
  private readonly k: number;
  private readonly v: number;
  private readonly att: number;
  private readonly gate: number;
  private readonly up: number;
  /** The MLP branch of a parallel-residual layer. */
  private readonly xb2: number;
  private readonly xq: number;
  private readonly logits: number;
  private statsBase = { bytesRead: 0, denseBytes: 0 };

  constructor(readonly rt: Runtime, readonly config: ModelConfig, readonly weights: Weights, opts: DecoderOptions) {
    const c = config;
    this.vocabSize = c.vocabSize;
    this.contextLength = opts.contextLength;
    const setting = opts.attention ?? 'dense';
    const sparq = opts.sparqLayout ?? setting !== 'dense';
    this.cache = new KVCache(rt, {
      nLayers: c.nLayers, nKVHeads: c.nKVHeads, headDim: c.headDim, capacity: opts.contextLength,
      kType: opts.kType ?? (sparq ? 'q8' : 'f32'), vType: opts.vType ?? (sparq ? 'q8' : 'f32'), sparqLayout: sparq,
      kTType: opts.kTType,
    });
    this.attention = new Attention(rt, this.cache, {
      nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: c.headDim, setting,
      reallocation: opts.reallocation ?? c.nKVHeads === c.nHeads,
      scale: c.attnScale, softcap: c.attnSoftcap, windows: c.layerWindows,
    });
    const f = (n: number) => rt.alloc(4 * n * BATCH);
    this.x = f(c.dim);
    this.xb = f(Math.max(c.dim, c.nHeads * c.headDim));
    this.q = f(c.nHeads * c.headDim);
    this.k = f(c.nKVHeads * c.headDim);
    this.v = f(c.nKVHeads * c.headDim);
    this.att = f(c.nHeads * c.headDim);
    this.gate = f(c.ffnDim);
    this.up = f(Math.max(c.ffnDim, c.dim));
    this.xb2 = f(c.dim);
    this.xq = rt.alloc(q8aBytes(Math.ceil(Math.max(c.dim, c.ffnDim, c.nHeads * c.headDim) / 32) * 32, BATCH));
    this.logits = rt.alloc(4 * c.vocabSize * BATCH);
    const freqFactors = weights.ropeFreqs ? rt.f32At(weights.ropeFreqs.ptr, c.rope.dim / 2).slice() : undefined;
    const table = (inv: Float32Array): number => {
      const p = rt.alloc(4 * inv.length);
      rt.f32At(p, inv.length).set(inv);
      return p;
    };
    this.invFreq = table(ropeInvFreq({ rotDim: c.rope.dim, theta: c.rope.theta, scaling: c.rope.scaling, freqFactors }));
    this.invFreqLocal = c.rope.localTheta === undefined ? this.invFreq
      : table(ropeInvFreq({ rotDim: c.rope.dim, theta: c.rope.localTheta }));
  }

  /** Scratch bytes a decoder allocates besides its KV cache (for memory planning). */
  static scratchBytes(c: ModelConfig): number {
    const widths = c.dim + Math.max(c.dim, c.nHeads * c.headDim) + 2 * c.nHeads * c.headDim + 2 * c.nKVHeads * c.headDim
      + c.ffnDim + Math.max(c.ffnDim, c.dim) + c.dim + c.vocabSize;
    return 4 * widths * BATCH + q8aBytes(Math.ceil(Math.max(c.dim, c.ffnDim, c.nHeads * c.headDim) / 32) * 32, BATCH) + 4 * c.rope.dim + 4096;
  }

  get length(): number { return this.cache.length; }

  truncate(pos: number): void {
    if (pos < this.cache.length) this.cache.truncate(pos);
  }

  evaluate(tokens: readonly number[], pos: number): Float32Array {
    const all = this.run(tokens, pos, false);
    return all;
  }

  /** Logits for every position of `tokens` ([n][vocab], a fresh array): for scoring and reference tests. */
  evaluateAll(tokens: readonly number[], pos: number): Float32Array {
    return this.run(tokens, pos, true);
  }

  /** The decode-step attention of later steps ('dense' or SparQ; SparQ needs the SparQ cache layout). */
  get attentionSetting(): AttentionSetting { return this.attention.setting; }
  set attentionSetting(setting: AttentionSetting) { this.attention.setting = setting; }

  /** Record each SparQ step's distance from exact attention into `probe` (eval only); undefined stops. */
  setAttentionProbe(probe: SparqProbe | undefined): void { this.attention.setProbe(probe); }

  attentionStats(): AttentionStats {
    if (this.attention.setting === 'dense') return { kind: 'dense' };
    const s = this.attention.stats();
    const read = s.bytesRead - this.statsBase.bytesRead;
    const dense = s.denseBytes - this.statsBase.denseBytes;
    return { kind: 'sparq', r: s.r, k: s.k, fractionRead: dense > 0 ? read / dense : undefined };
  }

  resetStats(): void {
    const s = this.attention.stats();
    this.statsBase = { bytesRead: s.bytesRead, denseBytes: s.denseBytes };
  }

  private run(tokens: readonly number[], pos: number, allLogits: boolean): Float32Array {
    const n = tokens.length;
    if (n === 0) throw new InvalidArgumentError('evaluate needs at least one token');
    if (!Number.isInteger(pos) || pos < 0 || pos > this.cache.length) {
      throw new InvalidArgumentError(`evaluate at position ${pos}: the cache holds ${this.cache.length} positions`);
    }
    if (pos + n > this.contextLength) {
      throw new InvalidArgumentError(`${pos + n} positions do not fit the context of ${this.contextLength}`);
    }
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize) throw new InvalidArgumentError(`token id ${t} is outside the vocabulary [0, ${this.vocabSize})`);
    }
    this.truncate(pos);
    const out = allLogits ? new Float32Array(n * this.vocabSize) : undefined;
    let last: Float32Array | undefined;
    for (let i = 0; i < n; i += BATCH) {
      const m = Math.min(BATCH, n - i);
      this.batch(tokens.slice(i, i + m), pos + i);
      const isLast = i + m === n;
      if (allLogits || isLast) {
        const rows = allLogits ? m : 1;
        const from = allLogits ? 0 : m - 1;
        this.head(from, rows);
        const view = this.rt.f32At(this.logits, rows * this.vocabSize);
        if (out) out.set(view, i * this.vocabSize);
        else last = view;
      }
    }
    return out ?? last!;
  }

  /** All layers for m tokens at positions [pos, pos+m); leaves the residual stream in x. */
  private batch(tokens: readonly number[], pos: number): void {
    const { rt, config: c, weights: w } = this;
    const k = rt.k;
    const m = tokens.length;
    const neox = c.rope.neox ? 1 : 0;
    for (let t = 0; t < m; t++) embeddingRow(rt, w.tokenEmbd, tokens[t], this.x + 4 * t * c.dim);
    if (c.embedScale !== 1) k.scale_f32(this.x, c.embedScale, c.dim * m);
    for (let l = 0; l < c.nLayers; l++) {
      const L = w.layers[l];
      const inv = c.layerWindows[l] > 0 ? this.invFreqLocal : this.invFreq;
      this.norm(this.x, L.attnNorm, L.attnNormB, this.xb, m);
      linearMany(rt, [L.wq, L.wk, L.wv], this.xb, [this.q, this.k, this.v], m, this.xq);
      this.bias(L.bq, this.q, m);
      this.bias(L.bk, this.k, m);
      this.bias(L.bv, this.v, m);
      if (L.qNorm && L.kNorm) { // one RMSNorm per head: rows of headDim
        k.rmsnorm(this.q, L.qNorm.ptr, this.q, c.headDim, m * c.nHeads, c.normEps);
        k.rmsnorm(this.k, L.kNorm.ptr, this.k, c.headDim, m * c.nKVHeads, c.normEps);
      }
      k.rope(this.q, inv, m, c.nHeads, c.headDim, c.rope.dim, pos, neox);
      k.rope(this.k, inv, m, c.nKVHeads, c.headDim, c.rope.dim, pos, neox);
      this.cache.store(l, pos, this.k, this.v, m);
      this.attention.run(l, this.q, this.att, pos, m);
      this.project(L.wo, L.bo, this.att, this.xb, m);
      if (L.postAttnNorm) k.rmsnorm(this.xb, L.postAttnNorm.ptr, this.xb, c.dim, m, c.normEps);
      if (c.parallelResidual) {
        // x + attn(norm1(x)) + mlp(norm2(x)): the MLP reads x from before the attention branch is added
        this.norm(this.x, L.ffnNorm, L.ffnNormB, this.xb2, m);
        this.mlp(l, this.xb2, m);
        k.add_f32(this.x, this.xb, c.dim * m);
        k.add_f32(this.x, this.xb2, c.dim * m);
      } else {
        k.add_f32(this.x, this.xb, c.dim * m);
        this.norm(this.x, L.ffnNorm, L.ffnNormB, this.xb, m);
        this.mlp(l, this.xb, m);
        if (L.postFfnNorm) k.rmsnorm(this.xb, L.postFfnNorm.ptr, this.xb, c.dim, m, c.normEps);
        k.add_f32(this.x, this.xb, c.dim * m);
      }
    }
  }

  /** y = norm(x) for m rows of dim: RMSNorm or LayerNorm (with bias b) as the family uses. */
  private norm(x: number, wt: Tensor, b: Tensor | undefined, y: number, m: number): void {
    const c = this.config;
    if (c.norm === 'layer') this.rt.k.layernorm(x, wt.ptr, b ? b.ptr : 0, y, c.dim, m, c.normEps);
    else this.rt.k.rmsnorm(x, wt.ptr, y, c.dim, m, c.normEps);
  }

  /** y = W·x (+ b) for m rows. */
  private project(wt: Tensor, b: Tensor | undefined, x: number, y: number, m: number): void {
    linear(this.rt, wt, x, y, m, this.xq);
    this.bias(b, y, m);
  }

  /** y += b on each of m rows, when there is a bias. */
  private bias(b: Tensor | undefined, y: number, m: number): void {
    if (b) this.rt.k.add_rows(y, b.ptr, b.shape[0], m);
  }

  /** The MLP of layer l on m rows, in place in io (dim wide): gated (SwiGLU, GeGLU) or GELU with biases. */
  private mlp(l: number, io: number, m: number): void {
    const { rt, config: c } = this;
    const L = this.weights.layers[l];
    const n = c.ffnDim * m;
    if (c.mlp === 'gelu') {
      this.project(L.wUp, L.bUp, io, this.gate, m);
      rt.k.gelu(this.gate, this.gate, n);
    } else {
      linearMany(rt, [L.wGate!, L.wUp], io, [this.gate, this.up], m, this.xq);
      if (c.mlp === 'geglu') rt.k.gelu_tanh_mul(this.gate, this.up, this.gate, n);
      else rt.k.silu_mul(this.gate, this.up, this.gate, n);
    }
    this.project(L.wDown, L.bDown, this.gate, io, m);
  }

  /** Final norm and output projection for rows [from, from+rows) of the current batch into `logits`. */
  private head(from: number, rows: number): void {
    const { rt, config: c, weights: w } = this;
    const src = this.x + 4 * from * c.dim;
    this.norm(src, w.outputNorm, w.outputNormB, this.xb, rows);
    linear(rt, w.output, this.xb, this.logits, rows, this.xq);
    if (c.finalSoftcap > 0) rt.k.softcap_f32(this.logits, c.finalSoftcap, rows * c.vocabSize);
  }
}
