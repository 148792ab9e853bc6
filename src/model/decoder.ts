// The forward pass of a decoder-only transformer over KV caches in Wasm memory, for every family: what
// differs (norm kind, biases, q/k norms, post-norms, parallel residual, MLP kind, embedding scale, soft-caps,
// sliding windows, local RoPE base) is read from the ModelConfig and from which weights exist.
// One pass runs up to BATCH rows, which may belong to several sequences (spans of consecutive positions, each
// in its own KV cache slot): the weights are read once for all rows (matrix-matrix kernels; one row runs the
// matrix-vector ones), while RoPE, the cache and attention run per span. Every buffer is allocated once, at
// construction.
import type { Runtime } from '../kernels/runtime.js';
import type { KernelExports } from '../kernels/abi.js';
import type { BufferGroup, Buffers } from '../kernels/memory-plan.js';
import type { ModelConfig } from './config.js';
import type { Weights, Tensor } from './weights.js';
import type { BatchCore, AttentionStats, SequenceState, Span } from './core.js';
import { KVCache, resolveKV, type KVSpec, type KType, type VType } from '../kv/cache.js';
import { Attention, newCounters, type AttentionSetting, type SparqProbe } from '../attention/index.js';
import { linear, linearMany, embeddingRow } from './linear.js';
import { activationBytes } from '../kernels/weight-kernels.js';
import { ropeInvFreq } from './rope-freqs.js';
import { InvalidArgumentError } from '../errors.js';

/** Rows per forward pass: large enough to reuse each loaded weight many times, small enough for cache. */
export const BATCH = 32;

export interface DecoderOptions {
  /** KV-cache capacity of each sequence, in positions. */
  contextLength: number;
  /** Sequences that can be in the caches at once (each its own slot of contextLength positions; default 1). */
  maxSequences?: number;
  attention?: AttentionSetting;
  /** SparQ mean-value reallocation in every layer, or in none; default: every layer but the first (reallocatesByDefault). */
  reallocation?: boolean;
  /** Default: q8 with the SparQ layout, else f32. */
  kType?: KType;
  vType?: VType;
  /** 'q4' stores the transposed K (read only to rank positions) in 4 bits; default: kType. */
  kTType?: 'q4';
  /** Keep the SparQ cache layout even when starting dense, so setAttention can switch to SparQ later. */
  sparqLayout?: boolean;
}

/** DecoderOptions with the defaults decided: each cache's spec, the sequence count, attention (reallocation stays per layer). */
export interface DecoderSpec {
  kv: KVSpec;
  sequences: number;
  attention: AttentionSetting;
  reallocation?: boolean;
}

/** Most sequences at once: every decode step gives each one a row, and a prefill chunk needs the rest. */
export const MAX_SEQUENCES = BATCH / 2;

export function resolveDecoder(k: Pick<KernelExports, 'kv_qblock' | 'kv_row_bytes' | 'kv_t_tiles' | 'kv_t_head_bytes'>, c: ModelConfig,
  opts: DecoderOptions): DecoderSpec {
  const attention = opts.attention ?? 'dense';
  const sparq = opts.sparqLayout ?? attention !== 'dense';
  const sequences = opts.maxSequences ?? 1;
  if (!Number.isInteger(sequences) || sequences < 1 || sequences > MAX_SEQUENCES) {
    throw new InvalidArgumentError(`maxSequences must be an integer in [1, ${MAX_SEQUENCES}], got ${sequences}`);
  }
  const kv = resolveKV(k, {
    nLayers: c.nLayers, nKVHeads: c.nKVHeads, headDim: c.headDim, capacity: opts.contextLength,
    kType: opts.kType ?? (sparq ? 'q8' : 'f32'), vType: opts.vType ?? (sparq ? 'q8' : 'f32'), sparqLayout: sparq, kTType: opts.kTType,
  });
  return { kv, sequences, attention, reallocation: opts.reallocation };
}

export type { SequenceState, Span } from './core.js';

type DecoderBufferName = 'x' | 'xb' | 'q' | 'k' | 'v' | 'att' | 'gate' | 'up' | 'xb2' | 'xq' | 'logits' | 'invFreq' | 'invFreqLocal';

export class Decoder implements BatchCore {
  readonly vocabSize: number;
  readonly contextLength: number;
  /** One KV cache per sequence slot. */
  readonly caches: readonly KVCache[];
  private readonly attention: Attention;
  /**
   * Activations [BATCH][width] f32 (xb2: the MLP branch of a parallel-residual layer, and the gathered rows
   * of the head), the quantised activations xq, the logits of up to BATCH rows, and the RoPE inverse
   * frequencies (invFreqLocal: of the sliding-window layers when they have their own base, else 0 and
   * invFreq serves them).
   */
  private readonly buf: Record<DecoderBufferName, number>;
  /** Logits row of each span of the last forward pass that asked for them (-1: none). */
  private logitRows: number[] = [];
  /** The state evaluate() and evaluateAll() run sequence 0 with (the single-sequence interface of the research tools). */
  private readonly solo: SequenceState;
  private statsBase = { bytesRead: 0, denseBytes: 0 };

  /** Every buffer a decoder allocates, its own and its KV caches' and attention's, in allocation order. */
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
      ...Array.from({ length: spec.sequences }, (_, i) => ({ owner: `kv${i}`, buffers: KVCache.buffers(k, s) })),
      ...Attention.buffers(k, {
        nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: c.headDim, capacity: s.capacity, sparqLayout: s.sparqLayout,
        threads,
      }),
      { owner: 'decoder', buffers: own },
    ];
  }

  constructor(readonly rt: Runtime, readonly config: ModelConfig, readonly weights: Weights, spec: DecoderSpec) {
    const c = config;
    this.vocabSize = c.vocabSize;
    this.contextLength = spec.kv.capacity;
    this.caches = Array.from({ length: spec.sequences }, (_, i) => new KVCache(rt, spec.kv, `kv${i}`));
    this.attention = new Attention(rt, spec.kv, {
      nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: c.headDim, reallocation: spec.reallocation,
      scale: c.attnScale, softcap: c.attnSoftcap, windows: c.layerWindows,
    });
    this.attention.check(spec.attention);
    this.solo = { setting: spec.attention, counters: newCounters() };
    const own = Decoder.buffers(rt.raw, c, spec, rt.threads).find((g) => g.owner === 'decoder')!;
    this.buf = rt.allocate('decoder', own.buffers as Buffers<DecoderBufferName>);
    const freqFactors = weights.ropeFreqs ? rt.f32At(weights.ropeFreqs.ptr, c.rope.dim / 2).slice() : undefined;
    rt.f32At(this.buf.invFreq, c.rope.dim / 2).set(ropeInvFreq({ rotDim: c.rope.dim, theta: c.rope.theta, scaling: c.rope.scaling, freqFactors }));
    if (c.rope.localTheta !== undefined) {
      rt.f32At(this.buf.invFreqLocal, c.rope.dim / 2).set(ropeInvFreq({ rotDim: c.rope.dim, theta: c.rope.localTheta }));
    }
  }

  /** Sequence 0's cache (the single-sequence interface). */
  get cache(): KVCache { return this.caches[0]; }

  /** Sequence slots. */
  get sequences(): number { return this.caches.length; }

  get batchRows(): number { return BATCH; }

  exactLength(seq: number, len: number): number { return this.caches[seq].exactLength(len); }

  get length(): number { return this.caches[0].length; }

  truncate(pos: number, seq = 0): void {
    const c = this.caches[seq];
    if (pos < c.length) c.truncate(pos);
  }

  /** Checks that `setting` can run on these caches (SparQ needs the SparQ layout). */
  checkAttention(setting: AttentionSetting): void { this.attention.check(setting); }

  evaluate(tokens: readonly number[], pos: number): Float32Array {
    return this.runSolo(tokens, pos, false);
  }

  /** Logits for every position of `tokens` ([n][vocab], a fresh array): for scoring and reference tests. */
  evaluateAll(tokens: readonly number[], pos: number): Float32Array {
    return this.runSolo(tokens, pos, true);
  }

  /** The decode-step attention of evaluate() ('dense' or SparQ; SparQ needs the SparQ cache layout). */
  get attentionSetting(): AttentionSetting { return this.solo.setting; }
  set attentionSetting(setting: AttentionSetting) {
    this.attention.check(setting);
    this.solo.setting = setting;
  }

  /** Record each SparQ step's distance from exact attention into `probe` (eval only); undefined stops. */
  setAttentionProbe(probe: SparqProbe | undefined): void { this.attention.setProbe(probe); }

  attentionStats(): AttentionStats {
    return attentionStatsOf(this.solo, this.statsBase);
  }

  resetStats(): void {
    const s = this.solo.counters;
    this.statsBase = { bytesRead: s.bytesRead, denseBytes: s.denseBytes };
  }

  /**
   * One forward pass over `spans` (at most BATCH rows in all; each span's pos at most its cache's length, and
   * positions from pos on are overwritten). logitsOf(i) then holds the last-token logits of span i where it
   * asked for them.
   */
  forward(spans: readonly Span[]): void {
    let rows = 0;
    for (const s of spans) {
      this.checkSpan(s);
      rows += s.tokens.length;
    }
    if (rows === 0 || rows > BATCH) throw new InvalidArgumentError(`a forward pass takes 1 to ${BATCH} rows, got ${rows}`);
    for (const s of spans) this.truncate(s.pos, s.seq);
    this.layers(spans, rows);
    this.head(spans.map((s, i) => (s.logits ? this.lastRow(spans, i) : -1)));
  }

  /** Logits of span i of the last forward pass (a view, valid until the next pass). */
  logitsOf(i: number): Float32Array {
    const row = this.logitRows[i];
    if (row === undefined || row < 0) throw new InvalidArgumentError(`span ${i} of the last forward pass asked for no logits`);
    return this.rt.f32At(this.buf.logits + 4 * row * this.vocabSize, this.vocabSize);
  }

  /**
   * Copy positions [0, len) of sequence `from`'s cache to sequence `to`'s (for a prompt that starts with
   * what another sequence holds); `to` then holds exactly those positions.
   */
  copyPrefix(from: number, to: number, len: number): void {
    this.caches[to].copyFrom(this.caches[from], len);
  }

  private checkSpan(s: Span): void {
    const c = this.caches[s.seq];
    if (!c) throw new InvalidArgumentError(`sequence slot ${s.seq} is outside [0, ${this.caches.length})`);
    const n = s.tokens.length;
    if (n === 0) throw new InvalidArgumentError('a span needs at least one token');
    if (!Number.isInteger(s.pos) || s.pos < 0 || s.pos > c.length) {
      throw new InvalidArgumentError(`evaluate at position ${s.pos}: the cache holds ${c.length} positions`);
    }
    if (s.pos + n > this.contextLength) throw new InvalidArgumentError(`${s.pos + n} positions do not fit the context of ${this.contextLength}`);
    for (const t of s.tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize) throw new InvalidArgumentError(`token id ${t} is outside the vocabulary [0, ${this.vocabSize})`);
    }
  }

  /** Row of span i's last token in the pass. */
  private lastRow(spans: readonly Span[], i: number): number {
    let row = -1;
    for (let j = 0; j <= i; j++) row += spans[j].tokens.length;
    return row;
  }

  /** evaluate()/evaluateAll(): sequence 0 in passes of up to BATCH tokens. */
  private runSolo(tokens: readonly number[], pos: number, allLogits: boolean): Float32Array {
    const n = tokens.length;
    if (n === 0) throw new InvalidArgumentError('evaluate needs at least one token');
    this.checkSpan({ seq: 0, pos, tokens, state: this.solo, logits: false, decode: false });
    const out = allLogits ? new Float32Array(n * this.vocabSize) : undefined;
    let last: Float32Array | undefined;
    for (let i = 0; i < n; i += BATCH) {
      const m = Math.min(BATCH, n - i);
      // a single token is a decode step (the research tools' teacher-forced steps)
      const span: Span = { seq: 0, pos: pos + i, tokens: tokens.slice(i, i + m), state: this.solo, logits: false, decode: n === 1 };
      this.truncate(span.pos);
      this.layers([span], m);
      const isLast = i + m === n;
      if (allLogits) {
        this.head(Array.from({ length: m }, (_, r) => r));
        out!.set(this.rt.f32At(this.buf.logits, m * this.vocabSize), i * this.vocabSize);
      } else if (isLast) {
        this.head([m - 1]);
        last = this.logitsOf(0);
      }
    }
    return out ?? last!;
  }

  /** All layers for the spans' `m` rows (span after span); leaves the residual stream in x. */
  private layers(spans: readonly Span[], m: number): void {
    const { rt, config: c, weights: w } = this;
    const k = rt.k;
    const neox = c.rope.neox ? 1 : 0;
    const b = this.buf;
    const invLocal = b.invFreqLocal || b.invFreq;
    const qRow = 4 * c.nHeads * c.headDim, kvRow = 4 * c.nKVHeads * c.headDim;
    const seqs = spans.map((s) => ({ cache: this.caches[s.seq], setting: s.state.setting, counters: s.state.counters }));
    let row = 0;
    for (const s of spans) {
      for (const t of s.tokens) embeddingRow(rt, w.tokenEmbd, t, b.x + 4 * row++ * c.dim);
    }
    if (c.embedScale !== 1) k.scale_f32(b.x, c.embedScale, c.dim * m);
    for (let l = 0; l < c.nLayers; l++) {
      const L = w.layers[l];
      const inv = c.layerWindows[l] > 0 ? invLocal : b.invFreq;
      this.norm(b.x, L.attnNorm, L.attnNormB, b.xb, m);
      linearMany(rt, [L.wq, L.wk, L.wv], b.xb, [b.q, b.k, b.v], m, b.xq);
      this.bias(L.bq, b.q, m);
      this.bias(L.bk, b.k, m);
      this.bias(L.bv, b.v, m);
      if (L.qNorm && L.kNorm) { // one RMSNorm per head: rows of headDim
        k.rmsnorm(b.q, L.qNorm.ptr, b.q, c.headDim, m * c.nHeads, c.normEps);
        k.rmsnorm(b.k, L.kNorm.ptr, b.k, c.headDim, m * c.nKVHeads, c.normEps);
      }
      // per span: its positions, its cache, its attention
      row = 0;
      spans.forEach((s, i) => {
        const n = s.tokens.length, q = b.q + row * qRow, kk = b.k + row * kvRow, v = b.v + row * kvRow;
        rt.call('rope', { x: q, invFreq: inv, nTokens: n, nHeads: c.nHeads, headDim: c.headDim, rotDim: c.rope.dim, pos0: s.pos, neox });
        rt.call('rope', { x: kk, invFreq: inv, nTokens: n, nHeads: c.nKVHeads, headDim: c.headDim, rotDim: c.rope.dim, pos0: s.pos, neox });
        seqs[i].cache.store(l, s.pos, kk, v, n);
        this.attention.run(l, seqs[i], q, b.att + row * qRow, s.pos, n, s.decode);
        row += n;
      });
      this.project(L.wo, L.bo, b.att, b.xb, m);
      if (L.postAttnNorm) k.rmsnorm(b.xb, L.postAttnNorm.ptr, b.xb, c.dim, m, c.normEps);
      if (c.parallelResidual) {
        // x + attn(norm1(x)) + mlp(norm2(x)): the MLP reads x from before the attention branch is added
        this.norm(b.x, L.ffnNorm, L.ffnNormB, b.xb2, m);
        this.mlp(l, b.xb2, m);
        k.add_f32(b.x, b.xb, c.dim * m);
        k.add_f32(b.x, b.xb2, c.dim * m);
      } else {
        k.add_f32(b.x, b.xb, c.dim * m);
        this.norm(b.x, L.ffnNorm, L.ffnNormB, b.xb, m);
        this.mlp(l, b.xb, m);
        if (L.postFfnNorm) k.rmsnorm(b.xb, L.postFfnNorm.ptr, b.xb, c.dim, m, c.normEps);
        k.add_f32(b.x, b.xb, c.dim * m);
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

  /**
   * Final norm and output projection of the rows of x listed in `rows` (-1: none) into consecutive logits
   * rows; logitsOf(i) finds entry i's. Rows that are already consecutive are read in place, others gathered.
   */
  private head(rows: readonly number[]): void {
    const { rt, config: c, weights: w } = this;
    const wanted = rows.filter((r) => r >= 0);
    let next = 0;
    this.logitRows = rows.map((r) => (r >= 0 ? next++ : -1));
    if (wanted.length === 0) return;
    const n = wanted.length, rowBytes = 4 * c.dim;
    let src = this.buf.x + wanted[0] * rowBytes;
    if (wanted.some((r, i) => r !== wanted[0] + i)) {
      src = this.buf.xb2;
      wanted.forEach((r, i) => rt.u8.copyWithin(src + i * rowBytes, this.buf.x + r * rowBytes, this.buf.x + (r + 1) * rowBytes));
    }
    this.norm(src, w.outputNorm, w.outputNormB, this.buf.xb, n);
    linear(rt, w.output, this.buf.xb, this.buf.logits, n, this.buf.xq);
    if (c.finalSoftcap > 0) rt.k.softcap_f32(this.buf.logits, c.finalSoftcap, n * c.vocabSize);
  }
}

/** A sequence's attention statistics since `base` (its counters' values at the last reset). */
export function attentionStatsOf(state: SequenceState, base = { bytesRead: 0, denseBytes: 0 }): AttentionStats {
  if (state.setting === 'dense') return { kind: 'dense' };
  const s = state.counters;
  const read = s.bytesRead - base.bytesRead, dense = s.denseBytes - base.denseBytes;
  return { kind: 'sparq', r: s.r, k: s.k, fractionRead: dense > 0 ? read / dense : undefined };
}
