// The forward pass of a decoder-only transformer over a KV cache in Wasm memory, for every family: what
// differs (norm kind, biases, q/k norms, post-norms, parallel residual, MLP kind, embedding scale, soft-caps,
// sliding windows, local RoPE base) is read from the ModelConfig and from which weights exist.
// Prefill runs in batches of up to BATCH tokens with matrix-matrix kernels; decode (one token) with
// matrix-vector kernels. Every buffer is allocated once, at construction.
import type { Runtime } from '../kernels/runtime.js';
import type { KernelExports } from '../kernels/abi.js';
import type { BufferGroup, Buffers } from '../kernels/memory-plan.js';
import type { ModelConfig } from './config.js';
import type { Weights, Tensor } from './weights.js';
import type { ModelCore, AttentionStats } from './core.js';
import { KVCache, resolveKV, type KVSpec, type KType, type VType } from '../kv/cache.js';
import { Attention, type AttentionSetting, type SparqProbe } from '../attention/index.js';
import { defaultReallocation } from '../attention/policy.js';
import { linear, linearMany, embeddingRow } from './linear.js';
import { activationBytes } from '../kernels/weight-kernels.js';
import { ropeInvFreq } from './rope-freqs.js';
import { InvalidArgumentError } from '../errors.js';

/** Tokens per prefill batch: large enough to reuse each loaded weight many times, small enough for cache. */
export const BATCH = 32;

export interface DecoderOptions {
  contextLength: number;
  attention?: AttentionSetting;
  /** SparQ mean-value reallocation; default on for MHA models, off for GQA (as the paper found). */
  reallocation?: boolean;
  /** Default: q8 with the SparQ layout, else f32. */
  kType?: KType;
  vType?: VType;
  /** 'q4' stores the transposed K (read only to rank positions) in 4 bits; default: kType. */
  kTType?: 'q4';
  /** Keep the SparQ cache layout even when starting dense, so setAttention can switch to SparQ later. */
  sparqLayout?: boolean;
}

/** DecoderOptions with every default decided: the cache's spec, the attention setting and reallocation. */
export interface DecoderSpec {
  kv: KVSpec;
  attention: AttentionSetting;
  reallocation: boolean;
}

export function resolveDecoder(k: Pick<KernelExports, 'kv_qblock' | 'kv_row_bytes' | 'kv_t_tiles' | 'kv_t_head_bytes'>, c: ModelConfig,
  opts: DecoderOptions): DecoderSpec {
  const attention = opts.attention ?? 'dense';
  const sparq = opts.sparqLayout ?? attention !== 'dense';
  const kv = resolveKV(k, {
    nLayers: c.nLayers, nKVHeads: c.nKVHeads, headDim: c.headDim, capacity: opts.contextLength,
    kType: opts.kType ?? (sparq ? 'q8' : 'f32'), vType: opts.vType ?? (sparq ? 'q8' : 'f32'), sparqLayout: sparq, kTType: opts.kTType,
  });
  return { kv, attention, reallocation: opts.reallocation ?? defaultReallocation(c.nHeads, c.nKVHeads) };
}

type DecoderBufferName = 'x' | 'xb' | 'q' | 'k' | 'v' | 'att' | 'gate' | 'up' | 'xb2' | 'xq' | 'logits' | 'invFreq' | 'invFreqLocal';

export class Decoder implements ModelCore {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly cache: KVCache;
  private readonly attention: Attention;
  /**
   * Activations [BATCH][width] f32 (xb2: the MLP branch of a parallel-residual layer), the quantised
   * activations xq, the logits, and the RoPE inverse frequencies (invFreqLocal: of the sliding-window layers
   * when they have their own base, else 0 and invFreq serves them).
   */
  private readonly buf: Record<DecoderBufferName, number>;
  private statsBase = { bytesRead: 0, denseBytes: 0 };

  /** Every buffer a decoder allocates, its own and its KV cache's and attention's, in allocation order. */
  static buffers(k: Parameters<typeof Attention.buffers>[0] & Parameters<typeof KVCache.buffers>[0], c: ModelConfig,
    spec: DecoderSpec, threads: number): BufferGroup[] {
    const f = (n: number) => 4 * n * BATCH;
    const own: Buffers<DecoderBufferName> = {
      x: f(c.dim),
      xb: f(Math.max(c.dim, c.nHeads * c.headDim)),
      q: f(c.nHeads * c.headDim),
      k: f(c.nKVHeads * c.headDim),
      v: f(c.nKVHeads * c.headDim),
      att: f(c.nHeads * c.headDim),
      gate: f(c.ffnDim),
      up: f(Math.max(c.ffnDim, c.dim)),
      xb2: f(c.dim),
      xq: activationBytes(Math.max(c.dim, c.ffnDim, c.nHeads * c.headDim), BATCH),
      logits: 4 * c.vocabSize * BATCH,
      invFreq: 4 * (c.rope.dim / 2),
      invFreqLocal: c.rope.localTheta === undefined ? 0 : 4 * (c.rope.dim / 2),
    };
    const s = spec.kv;
    return [
      { owner: 'kv', buffers: KVCache.buffers(k, s) },
      ...Attention.buffers(k, {
        nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: c.headDim, capacity: s.capacity, sparqLayout: s.sparqLayout,
        reallocation: spec.reallocation, threads,
      }),
      { owner: 'decoder', buffers: own },
    ];
  }

  constructor(readonly rt: Runtime, readonly config: ModelConfig, readonly weights: Weights, spec: DecoderSpec) {
    const c = config;
    this.vocabSize = c.vocabSize;
    this.contextLength = spec.kv.capacity;
    this.cache = new KVCache(rt, spec.kv);
    this.attention = new Attention(rt, this.cache, {
      nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: c.headDim, setting: spec.attention, reallocation: spec.reallocation,
      scale: c.attnScale, softcap: c.attnSoftcap, windows: c.layerWindows,
    });
    const own = Decoder.buffers(rt.raw, c, spec, rt.threads).find((g) => g.owner === 'decoder')!;
    this.buf = rt.allocate('decoder', own.buffers as Buffers<DecoderBufferName>);
    const freqFactors = weights.ropeFreqs ? rt.f32At(weights.ropeFreqs.ptr, c.rope.dim / 2).slice() : undefined;
    rt.f32At(this.buf.invFreq, c.rope.dim / 2).set(ropeInvFreq({ rotDim: c.rope.dim, theta: c.rope.theta, scaling: c.rope.scaling, freqFactors }));
    if (c.rope.localTheta !== undefined) {
      rt.f32At(this.buf.invFreqLocal, c.rope.dim / 2).set(ropeInvFreq({ rotDim: c.rope.dim, theta: c.rope.localTheta }));
    }
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
        const view = this.rt.f32At(this.buf.logits, rows * this.vocabSize);
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
    const b = this.buf;
    const invLocal = b.invFreqLocal || b.invFreq;
    for (let t = 0; t < m; t++) embeddingRow(rt, w.tokenEmbd, tokens[t], this.buf.x + 4 * t * c.dim);
    if (c.embedScale !== 1) k.scale_f32(this.buf.x, c.embedScale, c.dim * m);
    for (let l = 0; l < c.nLayers; l++) {
      const L = w.layers[l];
      const inv = c.layerWindows[l] > 0 ? invLocal : b.invFreq;
      this.norm(this.buf.x, L.attnNorm, L.attnNormB, this.buf.xb, m);
      linearMany(rt, [L.wq, L.wk, L.wv], this.buf.xb, [this.buf.q, this.buf.k, this.buf.v], m, this.buf.xq);
      this.bias(L.bq, this.buf.q, m);
      this.bias(L.bk, this.buf.k, m);
      this.bias(L.bv, this.buf.v, m);
      if (L.qNorm && L.kNorm) { // one RMSNorm per head: rows of headDim
        k.rmsnorm(this.buf.q, L.qNorm.ptr, this.buf.q, c.headDim, m * c.nHeads, c.normEps);
        k.rmsnorm(this.buf.k, L.kNorm.ptr, this.buf.k, c.headDim, m * c.nKVHeads, c.normEps);
      }
      rt.call('rope', { x: b.q, invFreq: inv, nTokens: m, nHeads: c.nHeads, headDim: c.headDim, rotDim: c.rope.dim, pos0: pos, neox });
      rt.call('rope', { x: b.k, invFreq: inv, nTokens: m, nHeads: c.nKVHeads, headDim: c.headDim, rotDim: c.rope.dim, pos0: pos, neox });
      this.cache.store(l, pos, this.buf.k, this.buf.v, m);
      this.attention.run(l, this.buf.q, this.buf.att, pos, m);
      this.project(L.wo, L.bo, this.buf.att, this.buf.xb, m);
      if (L.postAttnNorm) k.rmsnorm(this.buf.xb, L.postAttnNorm.ptr, this.buf.xb, c.dim, m, c.normEps);
      if (c.parallelResidual) {
        // x + attn(norm1(x)) + mlp(norm2(x)): the MLP reads x from before the attention branch is added
        this.norm(this.buf.x, L.ffnNorm, L.ffnNormB, this.buf.xb2, m);
        this.mlp(l, this.buf.xb2, m);
        k.add_f32(this.buf.x, this.buf.xb, c.dim * m);
        k.add_f32(this.buf.x, this.buf.xb2, c.dim * m);
      } else {
        k.add_f32(this.buf.x, this.buf.xb, c.dim * m);
        this.norm(this.buf.x, L.ffnNorm, L.ffnNormB, this.buf.xb, m);
        this.mlp(l, this.buf.xb, m);
        if (L.postFfnNorm) k.rmsnorm(this.buf.xb, L.postFfnNorm.ptr, this.buf.xb, c.dim, m, c.normEps);
        k.add_f32(this.buf.x, this.buf.xb, c.dim * m);
      }
    }
  }

  /** y = norm(x) for m rows of dim: RMSNorm or LayerNorm (with bias b) as the family uses. */
  private norm(x: number, wt: Tensor, b: Tensor | undefined, y: number, m: number): void {
    const c = this.config;
    if (c.norm === 'layer') this.rt.call('layernorm', { x, w: wt.ptr, b: b ? b.ptr : 0, y, n: c.dim, rows: m, eps: c.normEps });
    else this.rt.k.rmsnorm(x, wt.ptr, y, c.dim, m, c.normEps);
  }

  /** y = W·x (+ b) for m rows. */
  private project(wt: Tensor, b: Tensor | undefined, x: number, y: number, m: number): void {
    linear(this.rt, wt, x, y, m, this.buf.xq);
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
      this.project(L.wUp, L.bUp, io, this.buf.gate, m);
      rt.k.gelu(this.buf.gate, this.buf.gate, n);
    } else {
      linearMany(rt, [L.wGate!, L.wUp], io, [this.buf.gate, this.buf.up], m, this.buf.xq);
      if (c.mlp === 'geglu') rt.k.gelu_tanh_mul(this.buf.gate, this.buf.up, this.buf.gate, n);
      else rt.k.silu_mul(this.buf.gate, this.buf.up, this.buf.gate, n);
    }
    this.project(L.wDown, L.bDown, this.buf.gate, io, m);
  }

  /** Final norm and output projection for rows [from, from+rows) of the current batch into `logits`. */
  private head(from: number, rows: number): void {
    const { rt, config: c, weights: w } = this;
    const src = this.buf.x + 4 * from * c.dim;
    this.norm(src, w.outputNorm, w.outputNormB, this.buf.xb, rows);
    linear(rt, w.output, this.buf.xb, this.buf.logits, rows, this.buf.xq);
    if (c.finalSoftcap > 0) rt.k.softcap_f32(this.buf.logits, c.finalSoftcap, rows * c.vocabSize);
  }
}
