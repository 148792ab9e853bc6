// One SparQ decode step over all KV heads of a layer (docs/sparq.md): per KV head, the group's shared
// components I1, approximate scores over the transposed K tiles, the selection with the local window, exact
// attention over the gathered rows, and optionally the mean-value reallocation.
import type { Runtime } from '../kernels/runtime.js';
import type { KernelArgs, KernelExports } from '../kernels/abi.js';
import type { Buffers } from '../kernels/memory-plan.js';
import type { KVCache, KVSpec } from '../kv/cache.js';
import { POSITION_PART, partsOf, weighParts } from './parts.js';

/** Accumulates, per layer, how far SparQ steps are from exact attention (for `sparq eval`). */
export interface SparqProbe {
  /** Sum over probed (step, KV head) of ||y_sparq - y_exact|| / ||y_exact|| over the group's heads. */
  relErr: Float64Array;
  /** Sum over probed (step, KV head) of |selected ∩ exact top-k| / k (group-summed exact logits). */
  recall: Float64Array;
  /** Probed (step, KV head) pairs per layer. */
  count: Float64Array;
}

/** What sizes a SparQ step's buffers. */
export interface SparqBuffersSpec {
  nHeads: number;
  nKVHeads: number;
  headDim: number;
  capacity: number;
  threads: number;
}

type SparqBufferName = 'i1' | 'qc' | 'lseParts' | 'scoresScratch' | 'z' | 'lse' | 'idx' | 'work';

/** Options of one step beside r and k (see AttentionSetting). */
export interface SparqStepOptions {
  /** Mean-value reallocation in this step (default: the step's `reallocation`). */
  reallocation?: boolean;
  /** First positions always attended exactly, inside the budget k (default 0). */
  sinks?: number;
  /** Adaptive budget: keep the fewest selected positions whose approximate softmax mass reaches topP. */
  topP?: number;
  /** With topP, the smallest and largest k, as multiples of k (defaults ADAPTIVE_MIN, ADAPTIVE_MAX). */
  kMin?: number;
  kMax?: number;
}

/** Default bounds of an adaptive budget, as multiples of the setting's k. */
export const ADAPTIVE_MIN = 0.25;
export const ADAPTIVE_MAX = 4;

export class SparqStep {
  /** r and k of the last step. */
  last?: { r: number; k: number };
  readonly group: number;
  readonly reallocation: boolean;
  private probe?: SparqProbe;
  private probeBuf = 0;
  private readonly ptr: Record<SparqBufferName, number>;
  private readonly maxParts: number;
  /** Per part, its weight in a merge (weighParts). */
  private readonly partWeights: Float64Array;
  private readonly scoresScratchBytes: number;
  /**
   * z, rank, lse and idx sets: one per KV head with several threads (the heads' selections and exact
   * attention then run as parallel jobs, a task per head, after the scores of all heads), else one.
   */
  private readonly sets: number;
  private readonly workBytes: number;
  private readonly attnBytes: number;
  /** Positions selected per KV head in the current step. */
  private readonly counts: Float64Array;

  /**
   * Per KV head: its components I1 (d i32), query row qc (d f32) and per part the (max, sum) of the scores
   * (f32 [parts][2]); per set (sets()): the approximate scores z (S f32: the group's mean approximate
   * logits, also the ranking), their merged (max, sum) and the selected indices; per thread: sparq_scores'
   * scratch and the selection's work area.
   */
  static buffers(k: Pick<KernelExports, 'sparq_scores_scratch_bytes' | 'topk_work_bytes'>, s: SparqBuffersSpec): Buffers<SparqBufferName> {
    const d = s.headDim, S = s.capacity, nKV = s.nKVHeads;
    const sets = SparqStep.sets(s);
    return {
      i1: 4 * d * nKV,
      qc: 4 * d * nKV,
      lseParts: 8 * partsOf(S) * nKV,
      scoresScratch: k.sparq_scores_scratch_bytes() * s.threads,
      z: 4 * S * sets,
      lse: 8 * sets,
      idx: 4 * S * sets,
      work: Math.max(4 * d, k.topk_work_bytes(S)) * s.threads,
    };
  }

  private static sets(s: SparqBuffersSpec): number { return s.threads > 1 ? s.nKVHeads : 1; }

  /**
   * A step for the query heads (nHeads in all) of caches of spec `kv`; attnScratch: the threads' attn_rows
   * scratch regions.
   */
  constructor(readonly rt: Runtime, readonly kv: KVSpec, opts: { nHeads: number; reallocation: boolean },
    readonly scale: number, private readonly attnScratch: number, readonly softcap = 0) {
    const spec: SparqBuffersSpec = {
      nHeads: opts.nHeads, nKVHeads: kv.nKVHeads, headDim: kv.headDim, capacity: kv.capacity,
      threads: rt.threads,
    };
    const ptr = rt.allocate('sparq', SparqStep.buffers(rt.raw, spec));
    const d = kv.headDim;
    this.group = spec.nHeads / spec.nKVHeads;
    this.reallocation = opts.reallocation;
    this.sets = SparqStep.sets(spec);
    this.ptr = ptr;
    this.maxParts = partsOf(kv.capacity);
    this.partWeights = new Float64Array(this.maxParts);
    this.scoresScratchBytes = rt.raw.sparq_scores_scratch_bytes();
    this.workBytes = Math.max(4 * d, rt.raw.topk_work_bytes(kv.capacity));
    this.attnBytes = rt.raw.attn_scratch_bytes(d);
    this.counts = new Float64Array(kv.nKVHeads);
  }

  /** KV head h's buffer set: its scores z, their (max, sum) lse and the selected indices idx. */
  private set(h: number): { z: number; lse: number; idx: number } {
    const s = this.sets > 1 ? h : 0, S = this.kv.capacity, b = this.ptr;
    return { z: b.z + s * 4 * S, lse: b.lse + s * 8, idx: b.idx + s * 4 * S };
  }

  /**
   * With a probe, every step also runs exact attention and records its distance from it (slow: eval only).
   * The probe's scratch is allocated on first use (research only: it is not part of the memory plan).
   */
  setProbe(probe: SparqProbe | undefined): void {
    const c = this.kv, g = this.group, d = c.headDim;
    if (probe && !this.probeBuf) this.probeBuf = this.rt.alloc('sparq.probe', 4 * (2 * g * d + 2 * c.capacity + d));
    this.probe = probe;
  }

  /** attn_rows' arguments for one query row group of KV head h over the whole cache of `layer`, or the rows in idx. */
  private attnArgs(c: KVCache, layer: number, h: number, q: number, out: number, S: number, idx: number): KernelArgs<'attn_rows'> {
    return {
      q, qTok: 0, out, outTok: 0, g: this.group, nTok: 1, pos0: S - 1, d: c.headDim, scale: this.scale,
      k: c.kPtr(layer) + h * c.kHeadStride, kRow: c.kRowBytes, kType: c.kTypeId,
      v: c.vPtr(layer) + h * c.vHeadStride, vRow: c.vRowBytes, vType: c.vTypeId,
      idx, scratch: this.attnScratch, softcap: this.softcap, lse: 0,
    };
  }

  /**
   * SparQ attention of query q (f32 [nHeads][d]) at the last of S positions of `c` into out, selecting k + 1
   * positions (or, with opts.topP, between kMin·k and kMax·k of them, capped below S); returns the cache
   * bytes read, the gather's index lists included.
   */
  run(layer: number, c: KVCache, q: number, out: number, S: number, r: number, k: number, opts: SparqStepOptions = {}): number {
    const { rt, group: g, ptr: b0 } = this;
    const d = c.headDim;
    const topP = opts.topP ?? 0;
    const l = k >> 2;
    const sinks = Math.min(opts.sinks ?? 0, k - l);
    const kTop = topP > 0 ? Math.min(S - 2, Math.round(k * (opts.kMax ?? ADAPTIVE_MAX))) : k;
    const kMin = topP > 0 ? Math.round(k * (opts.kMin ?? ADAPTIVE_MIN)) : 0;
    const realloc = opts.reallocation ?? this.reallocation;
    const needLse = realloc || topP > 0;
    const nKV = c.nKVHeads;
    let bytes = 0;
    const parts = partsOf(S);
    const i1 = (h: number) => b0.i1 + 4 * d * h, qc = (h: number) => b0.qc + 4 * d * h;
    const lsePart = (h: number, p: number) => b0.lseParts + 8 * (h * this.maxParts + p);
    // step 1a on this thread (O(g·d) per head); 1b, part p of head h: positions [p·PART, min(S, (p + 1)·PART))
    for (let h = 0; h < nKV; h++) {
      rt.call('sparq_query', { q: q + 4 * h * g * d, g, d, r, scale: this.scale, i1: i1(h), qc: qc(h), work: b0.work });
    }
    const scores = (t: number): KernelArgs<'sparq_scores'> => {
      const h = Math.floor(t / parts), p = t % parts;
      return {
        qc: qc(h), i1: i1(h), r, kt: c.ktPtr(layer) + h * c.ktHeadStride, ktType: c.ktTypeId, tiles: c.ktTiles, d,
        S: Math.min(S, (p + 1) * POSITION_PART), z: this.set(h).z, lse: needLse ? lsePart(h, p) : 0, p0: p * POSITION_PART,
        scratch: b0.scoresScratch,
      };
    };
    const mergeLse = (h: number) => {
      if (!needLse) return;
      const dst = rt.f32At(this.set(h).lse, 2), src = rt.f32At(lsePart(h, 0), 2 * parts), pw = this.partWeights;
      dst[0] = weighParts(src, (p) => 2 * p, parts, pw);
      let sum = 0;
      for (let p = 0; p < parts; p++) sum += pw[p];
      dst[1] = sum;
    };
    const select = (h: number): KernelArgs<'sparq_select'> => {
      const b = this.set(h);
      return { z: b.z, S, k: kTop, l, sinks, idx: b.idx, work: b0.work, lse: b.lse, topP, kMin };
    };
    const attend = (h: number) => this.attnArgs(c, layer, h, q + 4 * h * g * d, out + 4 * h * g * d, this.counts[h], this.set(h).idx);
    const finish = (h: number) => {
      const b = this.set(h), oh = out + 4 * h * g * d, cnt = this.counts[h];
      bytes += 4 * cnt; // the index list the gather reads
      if (realloc) {
        bytes += rt.call('sparq_realloc', { out: oh, g, d, z: b.z, lse: b.lse, idx: b.idx, cnt, vsum: c.vsumPtr(layer) + 4 * h * d, S });
      }
      if (this.probe) this.compare(this.probe, c, layer, h, q + 4 * h * g * d, oh, S, cnt, b.idx);
    };
    if (this.sets === 1) {
      for (let h = 0; h < nKV; h++) {
        for (let p = 0; p < parts; p++) bytes += rt.call('sparq_scores', scores(h * parts + p));
        mergeLse(h);
        this.counts[h] = rt.call('sparq_select', select(h));
        bytes += rt.call('attn_rows', attend(h));
        finish(h);
      }
    } else {
      bytes += rt.runTasks('sparq_scores', nKV * parts, nKV * S * r, scores, { perThread: { param: 'scratch', bytes: this.scoresScratchBytes } });
      for (let h = 0; h < nKV; h++) mergeLse(h);
      rt.runTasks('sparq_select', nKV, 4 * nKV * S, select, { perThread: { param: 'work', bytes: this.workBytes }, out: this.counts });
      bytes += rt.runTasks('attn_rows', nKV, 2 * nKV * g * (k + 1) * d, attend, { perThread: { param: 'scratch', bytes: this.attnBytes } });
      for (let h = 0; h < nKV; h++) finish(h);
    }
    this.last = { r, k };
    return bytes;
  }

  /**
   * Probe of one KV head: exact attention over all S positions (attn_rows without a gather list) against the
   * SparQ output, and the exact ranking (all d components, so Eq. 9's factor is 1) against the selection.
   */
  private compare(p: SparqProbe, c: KVCache, layer: number, h: number, qh: number, oh: number, S: number, cnt: number, idx: number): void {
    const { rt, group: g } = this;
    const d = c.headDim, work = this.ptr.work;
    const exact = this.probeBuf, z = exact + 4 * g * d, top = z + 4 * c.capacity, qc = top + 4 * c.capacity, i1 = qc + 4 * g * d;
    rt.call('attn_rows', this.attnArgs(c, layer, h, qh, exact, S, 0));
    const y = rt.f32At(oh, g * d), ref = rt.f32At(exact, g * d);
    let num = 0, den = 0;
    for (let i = 0; i < g * d; i++) { num += (y[i] - ref[i]) ** 2; den += ref[i] ** 2; }
    rt.call('sparq_query', { q: qh, g, d, r: d, scale: this.scale, i1, qc, work });
    rt.call('sparq_scores', { qc, i1, r: d, kt: c.ktPtr(layer) + h * c.ktHeadStride, ktType: c.ktTypeId, tiles: c.ktTiles, d, S,
      z, lse: 0, p0: 0, scratch: this.ptr.scoresScratch });
    const n = rt.call('topk_select', { x: z, n: S, k: cnt, out: top, work });
    const chosen = new Set(rt.i32At(idx, cnt));
    let hit = 0;
    for (const j of rt.i32At(top, n)) if (chosen.has(j)) hit++;
    p.relErr[layer] += den > 0 ? Math.sqrt(num / den) : 0;
    p.recall[layer] += hit / n;
    p.count[layer]++;
  }
}
