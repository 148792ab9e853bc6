// Attention over the KV cache: dense (prefill, and decode when chosen or cheaper) and SparQ decode steps.
import type { Runtime } from '../kernels/runtime.js';
import type { KernelArgs, KernelExports } from '../kernels/abi.js';
import type { BufferGroup, Buffers } from '../kernels/memory-plan.js';
import type { KVCache, KVSpec } from '../kv/cache.js';
import { InvalidArgumentError } from '../errors.js';
import { MAX_TASKS } from '../threads/layout.js';
import { SparqStep, type SparqProbe } from './sparq.js';
import { POSITION_PART, partsOf, weighParts } from './parts.js';
import { resolveSparq, reallocatesByDefault, type AttentionSetting } from './policy.js';

export type { AttentionSetting } from './policy.js';
export type { SparqProbe } from './sparq.js';

export interface AttentionOptions {
  nHeads: number;
  nKVHeads: number;
  headDim: number;
  /** Score scale, default 1/sqrt(headDim). */
  scale?: number;
  setting?: AttentionSetting;
  /** SparQ mean-value reallocation in every layer, or in none (default: reallocatesByDefault per layer). */
  reallocation?: boolean;
  /** Scores become softcap·tanh(score / softcap) (Gemma 2); 0 or absent: none. */
  softcap?: number;
  /** Per layer: a position attends to itself and the window - 1 positions before it; 0 or absent: all. */
  windows?: readonly number[];
}

/** What sizes the attention's buffers: the shape, the cache's capacity and layout, and the thread count. */
export interface AttentionBuffersSpec {
  nHeads: number;
  nKVHeads: number;
  headDim: number;
  capacity: number;
  sparqLayout: boolean;
  threads: number;
}

/** What one sequence's decode steps read, as the kernels count it. */
export interface AttentionCounters {
  /** Decode steps (single-token runs) so far. */
  steps: number;
  /** Cache bytes the decode steps read. */
  bytesRead: number;
  /** Cache bytes dense attention would have read for the same steps. */
  denseBytes: number;
  /** r and k of the last SparQ step (absent until one ran). */
  r?: number;
  k?: number;
}

export function newCounters(): AttentionCounters { return { steps: 0, bytesRead: 0, denseBytes: 0 }; }

/** One sequence as attention sees it: its KV cache, the attention of its decode steps and its counters. */
export interface AttentionSequence {
  cache: KVCache;
  setting: AttentionSetting;
  counters: AttentionCounters;
}

type AttnRows = KernelArgs<'attn_rows'>;

/** The attention of every sequence of a model: shared scratch, SparQ's step buffers, the probe. */
export class Attention {
  readonly nHeads: number;
  readonly nKVHeads: number;
  readonly headDim: number;
  readonly group: number;
  readonly scale: number;
  readonly softcap: number;
  readonly windows: readonly number[];
  /** The load option: reallocation in every layer or none; undefined: reallocatesByDefault. */
  readonly reallocation?: boolean;
  private readonly scratchBytes: number;
  private readonly sparq?: SparqStep;
  private readonly maxParts: number;
  private readonly partWeights: Float64Array;
  private readonly ptr: Record<'scratch' | 'partOut' | 'partLse', number>;

  /**
   * The buffers of an Attention and its SparQ step: per thread, attn_rows' scratch; per (KV head, decode
   * part), the part's outputs f32 [g][d] and softmax (max, sum) pairs f32 [g][2] when a step can span
   * several parts.
   */
  static buffers(k: Pick<KernelExports, 'attn_scratch_bytes' | 'sparq_scores_scratch_bytes' | 'sparq_attend_scratch_bytes'>,
    s: AttentionBuffersSpec): BufferGroup[] {
    const g = s.nHeads / s.nKVHeads, d = s.headDim, parts = partsOf(s.capacity);
    const own: Buffers<'scratch' | 'partOut' | 'partLse'> = {
      scratch: k.attn_scratch_bytes(d) * s.threads, // a region per thread (the first is the calling thread's)
      partOut: parts > 1 ? 4 * s.nKVHeads * parts * g * d : 0,
      partLse: parts > 1 ? 8 * s.nKVHeads * parts * g : 0,
    };
    const groups: BufferGroup[] = [{ owner: 'attention', buffers: own }];
    if (s.sparqLayout) groups.push({ owner: 'sparq', buffers: SparqStep.buffers(k, s) });
    return groups;
  }

  /** For caches of spec `kv` (every sequence's cache has the same shape, capacity and layout). */
  constructor(readonly rt: Runtime, readonly kv: KVSpec, opts: AttentionOptions) {
    const { nHeads, nKVHeads, headDim } = opts;
    if (!Number.isInteger(nHeads) || !Number.isInteger(nKVHeads) || nKVHeads < 1 || nHeads < nKVHeads || nHeads % nKVHeads !== 0) {
      throw new InvalidArgumentError(`attention needs nHeads a positive multiple of nKVHeads, got ${nHeads} and ${nKVHeads}`);
    }
    if (nKVHeads !== kv.nKVHeads || headDim !== kv.headDim) {
      throw new InvalidArgumentError(`attention shape (${nKVHeads} KV heads, head dim ${headDim}) does not match the cache (${kv.nKVHeads}, ${kv.headDim})`);
    }
    this.nHeads = nHeads;
    this.nKVHeads = nKVHeads;
    this.headDim = headDim;
    this.group = nHeads / nKVHeads;
    this.scale = opts.scale ?? 1 / Math.sqrt(headDim);
    this.softcap = opts.softcap ?? 0;
    this.windows = opts.windows ?? [];
    this.reallocation = opts.reallocation;
    this.scratchBytes = rt.raw.attn_scratch_bytes(headDim);
    this.maxParts = partsOf(kv.capacity);
    this.partWeights = new Float64Array(this.maxParts);
    const spec: AttentionBuffersSpec = {
      nHeads, nKVHeads, headDim, capacity: kv.capacity, sparqLayout: kv.sparqLayout, threads: rt.threads,
    };
    const own = Attention.buffers(rt.raw, spec)[0];
    this.ptr = rt.allocate(own.owner, own.buffers as Buffers<'scratch' | 'partOut' | 'partLse'>);
    if (kv.sparqLayout) this.sparq = new SparqStep(rt, kv, { nHeads, reallocation: false }, this.scale, this.softcap);
  }

  /** Checks that `setting` can run on these caches: SparQ needs the SparQ layout. */
  check(setting: AttentionSetting): void {
    if (setting === 'dense') return;
    resolveSparq(setting, this.headDim, 1); // validates the setting
    if (!this.sparq) throw new InvalidArgumentError('SparQ attention needs a KV cache created with sparqLayout: true');
  }

  /** Record how far each SparQ step is from exact attention (see SparqStep.setProbe); undefined stops it. */
  setProbe(probe: SparqProbe | undefined): void {
    if (!this.sparq) throw new InvalidArgumentError('a SparQ probe needs a KV cache created with sparqLayout: true');
    this.sparq.setProbe(probe);
  }

  /**
   * Causal attention of sequence `seq` for n query rows at positions [pos, pos+n) over its cache[0, pos+n) of
   * `layer` (the rows were already stored). q, out: f32 [n][nHeads*headDim]. Prompt rows are always dense;
   * a decode step (`decode`, one row) runs the sequence's setting and is counted in its counters.
   */
  run(layer: number, seq: AttentionSequence, q: number, out: number, pos: number, n: number, decode = n === 1): void {
    const c = seq.cache;
    if (!Number.isInteger(pos) || !Number.isInteger(n) || pos < 0 || n < 1 || pos + n > c.layerLength(layer)) {
      throw new InvalidArgumentError(`attention over positions [${pos}, ${pos + n}) of layer ${layer}: the cache holds ${c.layerLength(layer)}`);
    }
    const S = pos + n;
    if (decode && n !== 1) throw new InvalidArgumentError(`a decode step is one row, got ${n}`);
    const counters = seq.counters;
    if (decode) {
      counters.steps++;
      counters.denseBytes += S * (c.kRowBytes + c.vRowBytes) * c.nKVHeads;
      const setting = seq.setting;
      // a step whose window cuts the sequence runs dense over the window (W positions at most)
      const clipped = (this.windows[layer] ?? 0) > 0 && S > this.windows[layer];
      const p = this.sparq && setting !== 'dense' && !clipped ? resolveSparq(setting, this.headDim, S, layer, this.kv.nLayers) : undefined;
      if (p && this.sparq) {
        const reallocation = p.reallocation ?? this.reallocation ?? reallocatesByDefault(layer);
        counters.bytesRead += this.sparq.run(layer, c, q, out, S, p.r, p.k, { ...p, reallocation });
        counters.r = p.r;
        counters.k = p.k;
        return;
      }
    }
    const read = this.dense(layer, c, q, out, pos, n);
    if (decode) counters.bytesRead += read;
  }

  /** Dense causal attention of all KV heads, one task per KV head (spread over the threads); returns the cache bytes read. */
  private dense(layer: number, c: KVCache, q: number, out: number, pos: number, n: number): number {
    const W = this.windows[layer] ?? 0;
    if (W === 0 || pos + n <= W) return this.denseFrom(layer, c, q, out, pos, n, 0);
    // Sliding window: tokens at positions < W still see the whole prefix (one call); each later token at P
    // sees positions [P - W + 1, P], a slice of the cache starting at its own row.
    const rowStride = this.nHeads * this.headDim * 4;
    const n0 = Math.max(0, W - pos);
    let read = n0 > 0 ? this.denseFrom(layer, c, q, out, pos, n0, 0) : 0;
    for (let t = n0; t < n; t++) {
      read += this.denseFrom(layer, c, q + t * rowStride, out + t * rowStride, W - 1, 1, pos + t - W + 1);
    }
    return read;
  }

  /** attn_rows' arguments for KV head h of `layer` over cache rows from `lo` on; the caller sets the query side. */
  private rows(c: KVCache, layer: number, h: number, lo: number): Pick<AttnRows, 'd' | 'scale' | 'k' | 'kRow' | 'kType' | 'v' | 'vRow' | 'vType' | 'scratch' | 'softcap'> {
    return {
      d: this.headDim, scale: this.scale,
      k: c.kPtr(layer) + h * c.kHeadStride + lo * c.kRowBytes, kRow: c.kRowBytes, kType: c.kTypeId,
      v: c.vPtr(layer) + h * c.vHeadStride + lo * c.vRowBytes, vRow: c.vRowBytes, vType: c.vTypeId,
      scratch: this.ptr.scratch, softcap: this.softcap,
    };
  }

  /**
   * dense() over the cache rows from `lo` on, as if they were positions 0, 1, ... A task per (KV head, block
   * of query tokens): the blocks let several threads share a prefill even with one KV head. Blocks are a
   * multiple of 16 tokens, so each block's g·tokens query rows start on attn_rows' 16-row groups and every
   * row is computed as in one call over all tokens (the same blocks for any thread count). Causal rows
   * grow longer, so the last block's tasks go first.
   */
  private denseFrom(layer: number, c: KVCache, q: number, out: number, pos: number, n: number, lo: number): number {
    if (n === 1 && pos + 1 > POSITION_PART) return this.decodeByParts(layer, c, q, out, pos + 1, lo);
    const d = this.headDim, g = this.group, nKV = this.nKVHeads;
    const rowStride = this.nHeads * d * 4;
    const work = 2 * n * this.nHeads * (pos + n) * d;
    const block = 16 * Math.ceil(Math.ceil(n / 16) * nKV / MAX_TASKS);
    const blocks = Math.ceil(n / block);
    return this.rt.runTasks('attn_rows', nKV * blocks, work, (t) => {
      const h = t % nKV, t0 = (blocks - 1 - Math.floor(t / nKV)) * block; // the longest rows first
      const off = h * g * d * 4 + t0 * rowStride;
      return { q: q + off, qTok: rowStride, out: out + off, outTok: rowStride, g, nTok: Math.min(block, n - t0), pos0: pos + t0,
        ...this.rows(c, layer, h, lo), idx: 0, lse: 0 };
    }, { perThread: { param: 'scratch', bytes: this.scratchBytes } });
  }

  /** A dense decode step over S positions (cache rows from `lo` on) as tasks per (KV head, part), merged. */
  private decodeByParts(layer: number, c: KVCache, q: number, out: number, S: number, lo: number): number {
    const rt = this.rt;
    const d = this.headDim, g = this.group, nKV = this.nKVHeads;
    const parts = partsOf(S);
    const slot = (h: number, p: number) => h * this.maxParts + p;
    const { partOut, partLse } = this.ptr;
    const read = rt.runTasks('attn_rows', nKV * parts, 2 * this.nHeads * S * d, (t) => {
      const h = t % nKV, p = Math.floor(t / nKV), p0 = p * POSITION_PART, len = Math.min(POSITION_PART, S - p0);
      return { q: q + h * g * d * 4, qTok: 0, out: partOut + slot(h, p) * g * d * 4, outTok: 0, g, nTok: 1, pos0: len - 1,
        ...this.rows(c, layer, h, lo + p0), idx: 0, lse: partLse + slot(h, p) * g * 8 };
    }, { perThread: { param: 'scratch', bytes: this.scratchBytes } });
    // y = Σ_p w_p·y_p / Σ_p w_p with w_p the part's weight (weighParts): each part's y_p is its own
    // softmax-weighted mean, so this is the softmax over all S positions
    const ys = rt.f32At(partOut, nKV * this.maxParts * g * d), lse = rt.f32At(partLse, nKV * this.maxParts * g * 2);
    const y = rt.f32At(out, this.nHeads * d), w = this.partWeights, acc = new Float64Array(d);
    for (let h = 0; h < nKV; h++) {
      for (let j = 0; j < g; j++) {
        weighParts(lse, (p) => 2 * (slot(h, p) * g + j), parts, w);
        let total = 0;
        for (let p = 0; p < parts; p++) total += w[p];
        acc.fill(0);
        for (let p = 0; p < parts; p++) {
          const at = (slot(h, p) * g + j) * d;
          for (let i = 0; i < d; i++) acc[i] += w[p] * ys[at + i];
        }
        for (let i = 0; i < d; i++) y[(h * g + j) * d + i] = acc[i] / total;
      }
    }
    return read;
  }
}
