// SentencePiece-style BPE as llama.cpp runs it for 'llama' vocabularies: the text (spaces already written
// as '▁') starts as single characters; the adjacent pair whose concatenation is a vocabulary piece with
// the highest score merges first (leftmost on ties). Pieces left that are not in the vocabulary are
// written as <0xXX> byte tokens (or unk when the vocabulary has no byte tokens).
import { PairQueue } from './pair-queue.js';
import { TokenType } from './types.js';

const utf8 = new TextEncoder();

export class SpmModel {
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly queue = new PairQueue();

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    private readonly scores: ArrayLike<number>,
    private readonly types: Uint8Array,
    private readonly unkId: number | null,
  ) {
    for (let b = 0; b < 256; b++) {
      const id = tokenToId.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) this.byteIds[b] = id;
    }
  }

  /** A piece the merges may produce: control, unused, byte and unknown pieces never come out of text. */
  private usable(id: number | undefined): id is number {
    if (id === undefined) return false;
    const t = this.types[id];
    return t === TokenType.normal || t === TokenType.userDefined || t === 0;
  }

  encode(text: string, out: number[]): void {
    const sym: string[] = Array.from(text);
    const n = sym.length;
    if (n === 0) return;
    const next = new Int32Array(n), prev = new Int32Array(n);
    for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
    const q = this.queue;
    q.clear();
    const tryPair = (left: number) => {
      if (left < 0 || next[left] < 0) return;
      const id = this.tokenToId.get(sym[left] + sym[next[left]]);
      if (this.usable(id)) q.push(-this.scores[id], left);
    };
    for (let i = 0; i + 1 < n; i++) tryPair(i);
    while (q.size > 0) {
      const left = q.pop();
      const right = next[left];
      if (sym[left] === '' || right < 0) continue;
      const id = this.tokenToId.get(sym[left] + sym[right]);
      // stale entry: the pair at `left` changed since it was queued
      if (!this.usable(id) || -this.scores[id] !== q.lastPriority) continue;
      sym[left] += sym[right];
      sym[right] = '';
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      tryPair(prev[left]);
      tryPair(left);
    }
    for (let i = 0; i >= 0; i = next[i]) {
      const id = this.tokenToId.get(sym[i]);
      if (this.usable(id)) { out.push(id); continue; }
      for (const b of utf8.encode(sym[i])) {
        if (this.byteIds[b] >= 0) out.push(this.byteIds[b]);
        else if (this.unkId !== null) out.push(this.unkId);
      }
    }
  }
}
