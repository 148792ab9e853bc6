// One SparQ decode step over all KV heads of a layer (docs/sparq.md): per KV head, the group's shared
// components I1, approximate scores over the transposed K tiles, the selection with the local window, exact
// attention over the gathered rows, and optionally the mean-value reallocation.
import type { Runtime } from '../kernels/runtime.js';
import type { KernelArgs, KernelExports } from '../kernels/abi.js';
import type { Buffers } from '../kernels/memory-plan.js';
import type { KVCache, KVSpec } from '../kv/cache.js';
import { POSITION_PART, partsOf } from './parts.js';

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

type SparqBufferName = 'i1' | 'qc' | 'lse' | 'scoresScratch' | 'z' | 'idx' | 'attendScratch';

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
  private readonly scoresScratchBytes: number;
  /**
   * z and idx sets: one per KV head with several threads (the heads' steps 2 and 3 then run as parallel
   * tasks, one per head, after the scores of all heads), else one.
   */
  private readonly sets: number;
  private readonly attendBytes: number;
  /** Positions selected per KV head in the current step. */
  private readonly counts: Float64Array;

  /**
   * Per KV head: its components I1 (d i32), query row qc (d f32) and per part of step 1 the (max, sum) of the
   * scores (f32 [parts][2], merged into the first pair by sparq_attend); per set (sets()): the approximate
   * scores z (S f32: the group's mean approximate logits, also the ranking) and the selected indices; per
   * thread: sparq_scores' scratch and sparq_attend's (attn_rows' and the selection's work area; the first
   * also serves sparq_query).
   */
  static buffers(k: Pick<KernelExports, 'sparq_scores_scratch_bytes' | 'sparq_attend_scratch_bytes'>, s: SparqBuffersSpec): Buffers<SparqBufferName> {
    const d = s.headDim, S = s.capacity, nKV = s.nKVHeads;
    const sets = SparqStep.sets(s);
    return {
      i1: 4 * d * nKV,
      qc: 4 * d * nKV,
      lse: 8 * partsOf(S) * nKV,
      scoresScratch: k.sparq_scores_scratch_bytes() * s.threads,
      z: 4 * S * sets,
      idx: 4 * S * sets,
      attendScratch: k.sparq_attend_scratch_bytes(d, S) * s.threads,
    };
  }

  private static sets(s: SparqBuffersSpec): number { return s.threads > 1 ? s.nKVHeads : 1; }

  /** A step for the query heads (nHeads in all) of caches of spec `kv`. */
  constructor(readonly rt: Runtime, readonly kv: KVSpec, opts: { nHeads: number; reallocation: boolean },
    readonly scale: number, readonly softcap = 0) {
    const spec: SparqBuffersSpec = {
      nHeads: opts.nHeads, nKVHeads: kv.nKVHeads, headDim: kv.headDim, capacity: kv.capacity,
      threads: rt.threads,
    };
    this.ptr = rt.allocate('sparq', SparqStep.buffers(rt.raw, spec));
    this.group = spec.nHeads / spec.nKVHeads;
    this.reallocation = opts.reallocation;
    this.sets = SparqStep.sets(spec);
    this.maxParts = partsOf(kv.capacity);
    this.scoresScratchBytes = rt.raw.sparq_scores_scratch_bytes();
    this.attendBytes = rt.raw.sparq_attend_scratch_bytes(kv.headDim, kv.capacity);
    this.counts = new Float64Array(kv.nKVHeads);
  }

  /** KV head h's buffer set: its scores z and the selected indices idx. */
  private set(h: number): { z: number; idx: number } {
    const s = this.sets > 1 ? h : 0, S = this.kv.capacity, b = this.ptr;
    return { z: b.z + s * 4 * S, idx: b.idx + s * 4 * S };
  }

  /**
   * With a probe, every step also runs exact attention and records its distance from it (slow: eval only).
   * The probe's buffers (outputs, scores, ranking, query row, components, attn_rows' and the selection's
   * scratch) are allocated on first use (research only: not part of the memory plan).
   */
  setProbe(probe: SparqProbe | undefined): void {
    const c = this.kv, g = this.group, d = c.headDim;
    if (probe && !this.probeBuf) this.probeBuf = this.rt.alloc('sparq.probe', 4 * (g * d + 2 * c.capacity + 2 * d) + this.attendBytes);
    this.probe = probe;
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
    const lse = (h: number, p: number) => b0.lse + 8 * (h * this.maxParts + p);
    // step 1a on this thread (O(g·d) per head); 1b, part p of head h: positions [p·PART, min(S, (p + 1)·PART))
    for (let h = 0; h < nKV; h++) {
      rt.call('sparq_query', { q: q + 4 * h * g * d, g, d, r, scale: this.scale, i1: i1(h), qc: qc(h), work: b0.attendScratch });
    }
    const scores = (t: number): KernelArgs<'sparq_scores'> => {
      const h = Math.floor(t / parts), p = t % parts;
      return {
        qc: qc(h), i1: i1(h), r, kt: c.ktPtr(layer) + h * c.ktHeadStride, ktType: c.ktTypeId, tiles: c.ktTiles, d,
        S: Math.min(S, (p + 1) * POSITION_PART), z: this.set(h).z, lse: needLse ? lse(h, p) : 0, p0: p * POSITION_PART,
        scratch: b0.scoresScratch,
      };
    };
    // steps 2 and 3 of head h
    const attend = (h: number): KernelArgs<'sparq_attend'> => {
      const b = this.set(h);
      return {
        z: b.z, S, k: kTop, l, sinks, topP, kMin, lse: lse(h, 0), parts: needLse ? parts : 0, idx: b.idx,
        q: q + 4 * h * g * d, out: out + 4 * h * g * d, g, d, scale: this.scale,
        kp: c.kPtr(layer) + h * c.kHeadStride, kRow: c.kRowBytes, kType: c.kTypeId,
        vp: c.vPtr(layer) + h * c.vHeadStride, vRow: c.vRowBytes, vType: c.vTypeId,
        softcap: this.softcap, vsum: realloc ? c.vsumPtr(layer) + 4 * h * d : 0, scratch: b0.attendScratch,
      };
    };
    if (this.sets === 1) {
      for (let h = 0; h < nKV; h++) {
        for (let p = 0; p < parts; p++) bytes += rt.call('sparq_scores', scores(h * parts + p));
        this.counts[h] = rt.call('sparq_attend', attend(h));
        if (this.probe) this.compare(this.probe, c, layer, h, q + 4 * h * g * d, out + 4 * h * g * d, S, this.counts[h], this.set(h).idx);
      }
    } else {
      bytes += rt.runTasks('sparq_scores', nKV * parts, nKV * S * r, scores, { perThread: { param: 'scratch', bytes: this.scoresScratchBytes } });
      rt.runTasks('sparq_attend', nKV, nKV * (4 * S + 2 * g * (k + 1) * d), attend, { perThread: { param: 'scratch', bytes: this.attendBytes }, out: this.counts });
      for (let h = 0; h < nKV && this.probe; h++) this.compare(this.probe, c, layer, h, q + 4 * h * g * d, out + 4 * h * g * d, S, this.counts[h], this.set(h).idx);
    }
    // the gathered K and V rows with their index list, and the V sum
    for (let h = 0; h < nKV; h++) bytes += this.counts[h] * (c.kRowBytes + c.vRowBytes + 4) + (realloc ? 4 * d : 0);
    this.last = { r, k };
    return bytes;
  }

  /**
   * Probe of one KV head: exact attention over all S positions (attn_rows without a gather list) against the
   * SparQ output, and the exact ranking (all d components, so Eq. 9's factor is 1) against the selection.
   */
  private compare(p: SparqProbe, c: KVCache, layer: number, h: number, qh: number, oh: number, S: number, cnt: number, idx: number): void {
    const { rt, group: g } = this;
    const d = c.headDim;
    const exact = this.probeBuf, z = exact + 4 * g * d, top = z + 4 * c.capacity, qc = top + 4 * c.capacity, i1 = qc + 4 * d;
    const scratch = i1 + 4 * d, work = scratch + rt.raw.attn_scratch_bytes(d);
    rt.call('attn_rows', {
      q: qh, qTok: 0, out: exact, outTok: 0, g, nTok: 1, pos0: S - 1, d, scale: this.scale,
      k: c.kPtr(layer) + h * c.kHeadStride, kRow: c.kRowBytes, kType: c.kTypeId, v: c.vPtr(layer) + h * c.vHeadStride,
      vRow: c.vRowBytes, vType: c.vTypeId, idx: 0, scratch, softcap: this.softcap, lse: 0,
    });
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
