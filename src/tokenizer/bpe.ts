// Byte-pair encoding of one pre-token: start from single characters and repeatedly merge the adjacent
// pair with the lowest merge rank (leftmost on ties) until no listed pair remains.
import { FormatError } from '../errors.js';
import { PairQueue } from './pair-queue.js';

export interface BpeOptions {
  /** a pre-token found whole in the vocabulary is emitted directly (Llama 3, tekken) */
  ignoreMerges?: boolean;
  /** characters missing from the vocabulary become <0xXX> byte tokens */
  byteFallback?: boolean;
  /** id emitted for characters that are missing and have no byte fallback */
  unkId?: number | null;
  /** consecutive unknown characters give one unk token */
  fuseUnk?: boolean;
}

const CACHE_LIMIT = 1 << 16;
const CACHE_MAX_KEY = 64;
const utf8 = new TextEncoder();

export class BpeModel {
  /** (left id * vocabSize + right id) -> merge rank */
  private readonly rank = new Map<number, number>();
  /** merge rank -> id of the merged token */
  private readonly result: Int32Array;
  private readonly byteIds: Int32Array | null;
  private readonly cache = new Map<string, number[]>();
  private readonly queue = new PairQueue();
  private ids = new Int32Array(64);
  private next = new Int32Array(64);
  private prev = new Int32Array(64);

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    private readonly vocabSize: number,
    merges: Iterable<readonly [string, string]>,
    private readonly opts: BpeOptions,
    file: string | undefined,
    mergesField: string,
  ) {
    const results: number[] = [];
    let r = 0;
    for (const [a, b] of merges) {
      const ia = tokenToId.get(a), ib = tokenToId.get(b), im = tokenToId.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new FormatError(`merge ${r} ("${a} ${b}") refers to "${missing}", which is not in the vocabulary`, file, mergesField);
      }
      const key = ia * vocabSize + ib;
      if (!this.rank.has(key)) this.rank.set(key, r); // a repeated pair keeps its first (best) rank
      results.push(im);
      r++;
    }
    this.result = Int32Array.from(results);
    if (opts.byteFallback) {
      this.byteIds = new Int32Array(256).fill(-1);
      for (let b = 0; b < 256; b++) {
        const id = tokenToId.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (id !== undefined) this.byteIds[b] = id;
      }
    } else this.byteIds = null;
  }

  /** Appends the ids of one pre-token (already in the vocabulary's alphabet) to `out`. */
  encode(word: string, out: number[]): void {
    if (word.length === 0) return;
    const cached = this.cache.get(word);
    if (cached) { for (const id of cached) out.push(id); return; }
    const res: number[] = [];
    const whole = this.opts.ignoreMerges ? this.tokenToId.get(word) : undefined;
    if (whole !== undefined) res.push(whole);
    else this.merge(word, res);
    if (word.length <= CACHE_MAX_KEY) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, res);
    }
    for (const id of res) out.push(id);
  }

  private initialSymbols(word: string): number {
    // a UTF-16 unit yields at most 3 byte-fallback symbols (4 for a surrogate pair of 2 units)
    if (this.ids.length < word.length * 3 + 4) {
      const n = word.length * 3 + 4;
      this.ids = new Int32Array(n); this.next = new Int32Array(n); this.prev = new Int32Array(n);
    }
    const ids = this.ids, byteIds = this.byteIds;
    const unk = this.opts.unkId ?? -1;
    let n = 0;
    for (const ch of word) {
      const id = this.tokenToId.get(ch);
      if (id !== undefined) { ids[n++] = id; continue; }
      if (byteIds) {
        const bytes = utf8.encode(ch);
        if (bytes.every((b) => byteIds[b] >= 0)) {
          for (const b of bytes) ids[n++] = byteIds[b];
          continue;
        }
      }
      if (unk < 0) continue; // nothing can stand for this character; HF drops it the same way
      if (this.opts.fuseUnk && n > 0 && ids[n - 1] === unk) continue;
      ids[n++] = unk;
    }
    return n;
  }

  private pairRank(a: number, b: number): number {
    return this.rank.get(a * this.vocabSize + b) ?? -1;
  }

  private merge(word: string, res: number[]): void {
    const n = this.initialSymbols(word);
    const { ids, next, prev, queue } = this;
    for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
    queue.clear();
    for (let i = 0; i + 1 < n; i++) {
      const r = this.pairRank(ids[i], ids[i + 1]);
      if (r >= 0) queue.push(r, i);
    }
    while (queue.size > 0) {
      const left = queue.pop();
      const r = queue.lastPriority;
      const right = next[left];
      // stale entry: the left symbol was absorbed or its right neighbour changed since the push
      if (ids[left] < 0 || right < 0 || this.pairRank(ids[left], ids[right]) !== r) continue;
      ids[left] = this.result[r];
      ids[right] = -1;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      const p = prev[left];
      if (p >= 0) { const rp = this.pairRank(ids[p], ids[left]); if (rp >= 0) queue.push(rp, p); }
      const q = next[left];
      if (q >= 0) { const rq = this.pairRank(ids[left], ids[q]); if (rq >= 0) queue.push(rq, left); }
    }
    for (let i = 0; i >= 0 && i < n; i = next[i]) res.push(ids[i]);
  }
}
