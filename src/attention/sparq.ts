// One SparQ decode step over all KV heads of a layer (../shared/research/sparq.md §1.11): per KV head,
// the group's shared components I1, approximate scores over the transposed K tiles, the selection with the
// local window, exact attention over the gathered rows, and optionally the mean-value reallocation.
import type { Runtime } from '../wasm/runtime.js';
import type { KVCache } from '../kv/cache.js';
import { TYPE_CODE } from '../kv/layout.js';

export class SparqStep {
  /** r and k of the last step. */
  last?: { r: number; k: number };
  private readonly perHead: boolean;
  private readonly i1: number;
  private readonly qc: number;
  private readonly z: number;
  private readonly rank: number;
  private readonly lse: number;
  private readonly idx: number;
  private readonly work: number;

  constructor(readonly rt: Runtime, readonly cache: KVCache, readonly group: number, readonly scale: number,
    readonly reallocation: boolean, private readonly attnScratch: number) {
    const d = cache.headDim, g = group, S = cache.capacity;
    // per-head approximate logits are only needed for α with a group of several heads
    this.perHead = reallocation && g > 1;
    const zRows = this.perHead ? g : 1;
    this.i1 = rt.alloc(4 * d);
    this.qc = rt.alloc(4 * (g + 1) * d);
    this.z = rt.alloc(4 * zRows * S);
    this.rank = this.perHead ? rt.alloc(4 * S) : this.z;
    this.lse = rt.alloc(8 * g);
    this.idx = rt.alloc(4 * S);
    this.work = rt.alloc(Math.max(4 * d, rt.k.topk_work_bytes(S)));
  }

  /** SparQ attention of query q (f32 [nHeads][d]) at the last of S positions into out; returns cache bytes read. */
  run(layer: number, q: number, out: number, S: number, r: number, k: number): number {
    const { rt, cache: c, group: g } = this;
    const kx = rt.k;
    const d = c.headDim;
    const zRows = this.perHead ? g : 1;
    const qcRows = this.perHead ? this.qc + 4 * r : this.qc;
    const ktType = TYPE_CODE[c.ktType], kType = TYPE_CODE[c.kType], vType = TYPE_CODE[c.vType];
    let bytes = 0;
    for (let h = 0; h < c.nKVHeads; h++) {
      const qh = q + 4 * h * g * d;
      const oh = out + 4 * h * g * d;
      kx.sparq_query(qh, g, d, r, this.scale, this.perHead ? 1 : 0, this.i1, this.qc, this.work);
      bytes += kx.sparq_scores(qcRows, zRows, this.i1, r, c.ktPtr(layer) + h * c.ktHeadStride, ktType, c.ktTiles, d, S,
        this.z, S, this.reallocation ? this.lse : 0, this.perHead ? this.rank : 0);
      const cnt = kx.sparq_select(this.rank, S, k, this.idx, this.work);
      bytes += kx.attn_rows(qh, 0, oh, 0, g, 1, cnt - 1, d, this.scale,
        c.kPtr(layer) + h * c.kHeadStride, c.kRowBytes, kType, c.vPtr(layer) + h * c.vHeadStride, c.vRowBytes, vType, this.idx, this.attnScratch);
      if (this.reallocation) {
        bytes += kx.sparq_realloc(oh, g, d, this.z, S, this.lse, this.idx, cnt, c.vsumPtr(layer) + 4 * h * d, S);
      }
    }
    this.last = { r, k };
    return bytes;
  }
}
