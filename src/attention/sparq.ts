// One SparQ decode step over all KV heads of a layer (../shared/research/sparq.md §1.11): per KV head,
// the group's shared components I1, approximate scores over the transposed K tiles, the selection with the
// local window, exact attention over the gathered rows, and optionally the mean-value reallocation.
import type { Runtime } from '../wasm/runtime.js';
import type { KernelExports } from '../wasm/exports.js';
import type { KVCache } from '../kv/cache.js';
import { TYPE_CODE } from '../kv/layout.js';
import { weighParts } from './parts.js';

/**
 * Step 1 of a KV head runs as one sparq_scores call per PART positions (the last part shorter), each with
 * its own running (max, sum), merged afterwards. The parts are the same for any thread count, so the
 * result is too; with several threads the (head, part) calls are the tasks. A multiple of the K^T tile.
 */
export const SPARQ_PART = 4096;

/** Accumulates, per layer, how far SparQ steps are from exact attention (for `sparq eval`). */
export interface SparqProbe {
  /** Sum over probed (step, KV head) of ||y_sparq - y_exact|| / ||y_exact|| over the group's heads. */
  relErr: Float64Array;
  /** Sum over probed (step, KV head) of |selected ∩ exact top-k| / k (group-summed exact logits). */
  recall: Float64Array;
  /** Probed (step, KV head) pairs per layer. */
  count: Float64Array;
}

export class SparqStep {
  /** r and k of the last step. */
  last?: { r: number; k: number };
  private probe?: SparqProbe;
  private probeBuf = 0;
  private readonly perHead: boolean;
  /** Per KV head: its components I1 (d i32) and query rows qc ((g + 1)·d f32). */
  private readonly i1: number;
  private readonly qc: number;
  private readonly z: number;
  private readonly rank: number;
  private readonly lse: number;
  /** Per KV head and part: the part's (max, sum) per query row, f32 [nKV][parts][g][2]. */
  private readonly lseParts: number;
  private readonly maxParts: number;
  /** Per part, its weight in a merge (weighParts). */
  private readonly partWeights: Float64Array;
  private readonly idx: number;
  private readonly work: number;
  private readonly scoresScratch: number;
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

  /** attnScratch: rt.threads regions of attn_scratch_bytes(headDim) bytes, one per thread. */
  constructor(readonly rt: Runtime, readonly cache: KVCache, readonly group: number, readonly scale: number,
    readonly reallocation: boolean, private readonly attnScratch: number, readonly softcap = 0) {
    const d = cache.headDim, g = group, S = cache.capacity;
    // per-head approximate logits are only needed for α with a group of several heads
    this.perHead = reallocation && g > 1;
    const zRows = this.perHead ? g : 1;
    this.sets = rt.threads > 1 ? cache.nKVHeads : 1;
    const nKV = cache.nKVHeads;
    this.i1 = rt.alloc(4 * d * nKV);
    this.qc = rt.alloc(4 * (g + 1) * d * nKV);
    this.maxParts = Math.ceil(S / SPARQ_PART);
    this.partWeights = new Float64Array(this.maxParts);
    this.lseParts = rt.alloc(8 * g * this.maxParts * nKV);
    this.scoresScratchBytes = rt.k.sparq_scores_scratch_bytes();
    this.scoresScratch = rt.alloc(this.scoresScratchBytes * rt.threads); // a region per thread
    this.z = rt.alloc(4 * zRows * S * this.sets);
    this.rank = this.perHead ? rt.alloc(4 * S * this.sets) : this.z;
    this.lse = rt.alloc(8 * g * this.sets);
    this.idx = rt.alloc(4 * S * this.sets);
    this.workBytes = Math.max(4 * d, rt.k.topk_work_bytes(S));
    this.work = rt.alloc(this.workBytes * rt.threads); // a region per thread
    this.attnBytes = rt.k.attn_scratch_bytes(d) as number;
    this.counts = new Float64Array(cache.nKVHeads);
  }

  /** KV head h's buffer set (z rows zStride = S apart, rank, lse, idx). */
  private set(h: number): { z: number; rank: number; lse: number; idx: number } {
    const s = this.sets > 1 ? h : 0, S = this.cache.capacity;
    const zBytes = 4 * (this.perHead ? this.group : 1) * S;
    return { z: this.z + s * zBytes, rank: this.rank + s * (this.perHead ? 4 * S : zBytes), lse: this.lse + s * 8 * this.group, idx: this.idx + s * 4 * S };
  }

  /**
   * With a probe, every step also runs exact attention and records its distance from it (slow: eval only).
   * The probe's scratch is allocated on first use, so set it outside any rt.mark()/release() scope.
   */
  setProbe(probe: SparqProbe | undefined): void {
    const c = this.cache, g = this.group, d = c.headDim;
    if (probe && !this.probeBuf) this.probeBuf = this.rt.alloc(4 * (2 * g * d + 2 * c.capacity + d));
    this.probe = probe;
  }

  /** SparQ attention of query q (f32 [nHeads][d]) at the last of S positions into out; returns cache bytes read. */
  run(layer: number, q: number, out: number, S: number, r: number, k: number): number {
    const { rt, cache: c, group: g } = this;
    const kx = rt.k;
    const d = c.headDim;
    const zRows = this.perHead ? g : 1;
    const ktType = TYPE_CODE[c.ktType], kType = TYPE_CODE[c.kType], vType = TYPE_CODE[c.vType];
    const nKV = c.nKVHeads;
    let bytes = 0;
    const parts = Math.ceil(S / SPARQ_PART);
    const i1 = (h: number) => this.i1 + 4 * d * h, qc = (h: number) => this.qc + 4 * (g + 1) * d * h;
    const lsePart = (h: number, p: number) => this.lseParts + 8 * g * (h * this.maxParts + p);
    // step 1a on this thread (O(g·d) per head); 1b, part p of head h: positions [p·PART, min(S, (p + 1)·PART))
    for (let h = 0; h < nKV; h++) kx.sparq_query(q + 4 * h * g * d, g, d, r, this.scale, this.perHead ? 1 : 0, i1(h), qc(h), this.work);
    const scores = (t: number): Parameters<KernelExports['sparq_scores']> => {
      const h = Math.floor(t / parts), p = t % parts, b = this.set(h);
      return [this.perHead ? qc(h) + 4 * r : qc(h), zRows, i1(h), r, c.ktPtr(layer) + h * c.ktHeadStride, ktType, c.ktTiles, d,
        Math.min(S, (p + 1) * SPARQ_PART), b.z, S, this.reallocation ? lsePart(h, p) : 0, this.perHead ? b.rank : 0, p * SPARQ_PART,
        this.scoresScratch];
    };
    const mergeLse = (h: number) => {
      if (!this.reallocation) return;
      const dst = rt.f32At(this.set(h).lse, 2 * g), src = rt.f32At(lsePart(h, 0), 2 * g * parts), pw = this.partWeights;
      for (let w = 0; w < zRows; w++) {
        dst[2 * w] = weighParts(src, (p) => 2 * (p * g + w), parts, pw);
        let sum = 0;
        for (let p = 0; p < parts; p++) sum += pw[p];
        dst[2 * w + 1] = sum;
      }
    };
    const select = (h: number): Parameters<KernelExports['sparq_select']> => [this.set(h).rank, S, k, this.set(h).idx, this.work];
    const attend = (h: number): Parameters<KernelExports['attn_rows']> => [q + 4 * h * g * d, 0, out + 4 * h * g * d, 0, g, 1,
      this.counts[h] - 1, d, this.scale, c.kPtr(layer) + h * c.kHeadStride, c.kRowBytes, kType, c.vPtr(layer) + h * c.vHeadStride,
      c.vRowBytes, vType, this.set(h).idx, this.attnScratch, this.softcap, 0];
    const finish = (h: number) => {
      const b = this.set(h), oh = out + 4 * h * g * d, cnt = this.counts[h];
      if (this.reallocation) bytes += kx.sparq_realloc(oh, g, d, b.z, S, b.lse, b.idx, cnt, c.vsumPtr(layer) + 4 * h * d, S);
      if (this.probe) this.compare(this.probe, layer, h, q + 4 * h * g * d, oh, S, cnt, b.idx);
    };
    if (this.sets === 1) {
      for (let h = 0; h < nKV; h++) {
        for (let p = 0; p < parts; p++) bytes += kx.sparq_scores(...scores(h * parts + p));
        mergeLse(h);
        this.counts[h] = kx.sparq_select(...select(h));
        bytes += kx.attn_rows(...attend(h)) as number;
        finish(h);
      }
    } else {
      bytes += rt.runTasks('sparq_scores', nKV * parts, nKV * S * r * zRows, scores, { arg: 14, bytes: this.scoresScratchBytes });
      for (let h = 0; h < nKV; h++) mergeLse(h);
      rt.runTasks('sparq_select', nKV, 4 * nKV * S, select, { arg: 4, bytes: this.workBytes }, this.counts);
      bytes += rt.runTasks('attn_rows', nKV, 2 * nKV * g * (k + 1) * d, attend, { arg: 16, bytes: this.attnBytes });
      for (let h = 0; h < nKV; h++) finish(h);
    }
    this.last = { r, k };
    return bytes;
  }

  /**
   * Probe of one KV head: exact attention over all S positions (attn_rows without a gather list) against the
   * SparQ output, and the exact ranking (all d components, so Eq. 9's factor is 1) against the selection.
   */
  private compare(p: SparqProbe, layer: number, h: number, qh: number, oh: number, S: number, cnt: number, idx: number): void {
    const { rt, cache: c, group: g } = this;
    const kx = rt.k;
    const d = c.headDim;
    const exact = this.probeBuf, z = exact + 4 * g * d, top = z + 4 * c.capacity, qc = top + 4 * c.capacity, i1 = qc + 4 * g * d;
    kx.attn_rows(qh, 0, exact, 0, g, 1, S - 1, d, this.scale, c.kPtr(layer) + h * c.kHeadStride, c.kRowBytes, TYPE_CODE[c.kType],
      c.vPtr(layer) + h * c.vHeadStride, c.vRowBytes, TYPE_CODE[c.vType], 0, this.attnScratch, this.softcap);
    const y = rt.f32At(oh, g * d), ref = rt.f32At(exact, g * d);
    let num = 0, den = 0;
    for (let i = 0; i < g * d; i++) { num += (y[i] - ref[i]) ** 2; den += ref[i] ** 2; }
    kx.sparq_query(qh, g, d, d, this.scale, 0, i1, qc, this.work);
    kx.sparq_scores(qc, 1, i1, d, c.ktPtr(layer) + h * c.ktHeadStride, TYPE_CODE[c.ktType], c.ktTiles, d, S, z, S, 0, 0, 0, this.scoresScratch);
    const n = kx.topk_select(z, S, cnt, top, this.work);
    const chosen = new Set(rt.i32At(idx, cnt));
    let hit = 0;
    for (const j of rt.i32At(top, n)) if (chosen.has(j)) hit++;
    p.relErr[layer] += den > 0 ? Math.sqrt(num / den) : 0;
    p.recall[layer] += hit / n;
    p.count[layer]++;
  }
}
