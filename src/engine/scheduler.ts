// Continuous batching: every generation of a model runs here, in forward passes shared by all of them. A pass
// holds one row for each sequence that is decoding (its pending token) and fills the rest of the batch with
// the next chunks of prompts being prefilled, the shortest rest first; so the weights are read once for all
// of them, a long prompt delays running streams by one chunk per pass at most (a pass is at most batchRows
// rows), and a short request that arrives meanwhile gets its first token after a few passes.
// Sequences join between passes, up to one per cache slot; the others wait, first come first served.
//
// There is no loop of its own: each started generation pumps (pump()), one pass per turn of the event loop
// among all the pumps, and stops pumping when it ends. So the work always runs on behalf of a waiting caller,
// in that caller's context (a Worker's request may not keep timers of another request alive).
//
// Prefixes: each slot remembers the token ids whose rows it holds. A new sequence takes the free slot whose
// ids share the longest prefix with its prompt; when another slot (busy or free) shares a longer one, those
// rows are copied over instead of being computed again (rows a busy sequence already holds never change).
import type { BatchCore, Span } from '../model/core.js';
import { SparqError } from '../errors.js';
import type { Sequence } from './sequence.js';
import { host } from '../platform/host.js';

interface Slot {
  /** The ids whose KV rows the slot holds, from position 0. */
  ids: number[];
  /** The sequence running in it. */
  owner: Sequence | undefined;
  /** When it was last given out (for choosing among slots with no prefix to offer). */
  used: number;
}

/** Prefix reuse so far: sequences that found part of their prompt cached, and the prompt tokens not computed. */
export interface PrefixStats { hits: number; tokensSaved: number; copies: number }

export class Scheduler {
  private readonly slots: Slot[];
  private readonly waiting: Sequence[] = [];
  /** Running sequences in admission order. */
  private readonly running: Sequence[] = [];
  private disposed = false;
  /** Passes run so far: a pump runs the next one only when no other pump did since its last turn. */
  private passes = 0;
  private clock = 0;
  readonly prefix: PrefixStats = { hits: 0, tokensSaved: 0, copies: 0 };

  constructor(private readonly core: BatchCore) {
    this.slots = Array.from({ length: core.sequences }, () => ({ ids: [], owner: undefined, used: 0 }));
  }

  /** Sequences running and waiting now. */
  get load(): { running: number; waiting: number } { return { running: this.running.length, waiting: this.waiting.length }; }

  get idle(): boolean { return this.running.length === 0 && this.waiting.length === 0; }

  /** Starts `seq` as soon as a slot is free, and drives the passes until it ends. */
  submit(seq: Sequence): void {
    if (this.disposed) { seq.fail(new SparqError('the model was disposed')); return; }
    seq.markSubmitted();
    this.waiting.push(seq);
    this.admitWaiting();
    void this.pump(seq);
  }

  /** Runs passes, one per turn of the event loop among all pumps, until `seq` has ended. */
  private async pump(seq: Sequence): Promise<void> {
    let seen = -1;
    while (!seq.done && !this.disposed) {
      if (seen === this.passes) this.step();
      seen = this.passes;
      if (seq.done) return;
      await host.nextTurn();
    }
  }

  /** Ends aborted sequences, then one pass when any sequence is running. */
  private step(): void {
    for (const s of [...this.running]) if (s.aborted) this.end(s, 'aborted');
    for (const s of [...this.waiting]) if (s.aborted) this.cancel(s);
    if (this.running.length > 0) this.pass();
    this.passes++;
  }

  /** Ends `seq` as aborted at the next pass boundary (at once when it is still waiting). */
  cancel(seq: Sequence): void {
    const w = this.waiting.indexOf(seq);
    if (w >= 0) {
      this.waiting.splice(w, 1);
      seq.finish('aborted');
      return;
    }
    if (this.running.includes(seq)) this.end(seq, 'aborted');
  }

  /** The slot whose rows hold the longest prefix of `ids` that equals a fresh computation, and that length. */
  cachedPrefix(ids: readonly number[]): { slot: number; len: number } {
    let best = { slot: 0, len: 0 };
    this.slots.forEach((s, i) => {
      const len = this.core.exactLength(i, commonPrefix(s.ids, ids));
      if (len > best.len) best = { slot: i, len };
    });
    return best;
  }

  /**
   * Rows of ids[0, len) written into the least recently used free slot by `write(slot)`; false (nothing
   * written) when every slot is busy.
   */
  place(ids: readonly number[], len: number, write: (slot: number) => void): boolean {
    const free = this.slots.map((s, i) => i).filter((i) => this.slots[i].owner === undefined);
    if (free.length === 0) return false;
    const slot = free.reduce((a, b) => (this.slots[b].used < this.slots[a].used ? b : a));
    this.slots[slot].ids = [];
    write(slot);
    this.slots[slot].ids = ids.slice(0, len);
    this.slots[slot].used = ++this.clock;
    return true;
  }

  /** Forget what every slot holds (its rows may have been changed outside the scheduler). */
  invalidate(): void {
    for (const s of this.slots) s.ids.length = 0;
  }

  /** Ends every sequence (aborted) and refuses new ones. */
  dispose(): void {
    this.disposed = true;
    for (const seq of [...this.waiting]) this.cancel(seq);
    for (const seq of [...this.running]) this.end(seq, 'aborted');
  }

  /** One forward pass: the decoding sequences' pending tokens, then prompt chunks to fill the batch. */
  private pass(): void {
    const spans: Span[] = [], owners: Sequence[] = [];
    let rows = 0;
    for (const seq of this.running) {
      if (seq.pending === undefined) continue;
      spans.push({ seq: seq.slot, pos: seq.pendingPos, tokens: [seq.pending], state: seq.state, logits: true, decode: true });
      owners.push(seq);
      rows++;
    }
    // prompts: the shortest rest first, so a short request is not held up by a long document being read
    const prefilling = this.running.filter((q) => q.pending === undefined)
      .sort((a, b) => (a.prompt.length - a.prefilled) - (b.prompt.length - b.prefilled));
    for (const seq of prefilling) {
      if (rows >= this.core.batchRows) break;
      const n = Math.min(this.core.batchRows - rows, seq.prompt.length - seq.prefilled);
      const end = seq.prefilled + n;
      spans.push({ seq: seq.slot, pos: seq.prefilled, tokens: seq.prompt.slice(seq.prefilled, end), state: seq.state, logits: end === seq.prompt.length, decode: false });
      owners.push(seq);
      rows += n;
    }
    const t0 = performance.now();
    try {
      this.core.forward(spans);
    } catch (e) {
      for (const seq of owners) this.fail(seq, e);
      return;
    }
    spans.forEach((span, i) => {
      const seq = owners[i], slot = this.slots[span.seq];
      slot.ids.push(...span.tokens);
      if (seq.pending !== undefined) seq.decodeSteps++;
      else seq.prefilled += span.tokens.length;
      if (!span.logits) return;
      seq.pending = undefined;
      const reason = seq.onLogits(this.core.logitsOf(i), this.core.contextLength);
      if (reason !== undefined) this.end(seq, reason);
    });
    const ms = performance.now() - t0;
    spans.forEach((span, i) => {
      const s = owners[i].stats;
      if (span.decode) s.decodeMs += ms; else s.prefillMs += ms;
    });
  }

  /** Gives waiting sequences the free slots, first come first served. */
  private admitWaiting(): void {
    while (this.waiting.length > 0) {
      const free = this.slots.map((s, i) => i).filter((i) => this.slots[i].owner === undefined);
      if (free.length === 0) return;
      const seq = this.waiting.shift()!;
      if (seq.aborted) { seq.finish('aborted'); continue; }
      this.admit(seq, free);
    }
  }

  /** Puts `seq` in the best of the free slots, reusing the longest cached prefix of its prompt. */
  private admit(seq: Sequence, free: number[]): void {
    const shared = this.slots.map((s) => (seq.options.reuse ? commonPrefix(s.ids, seq.prompt) : 0));
    // the free slot that already holds the most of the prompt; among equals, the least recently used
    const slot = free.reduce((a, b) => (shared[b] > shared[a] || (shared[b] === shared[a] && this.slots[b].used < this.slots[a].used) ? b : a));
    const source = shared.reduce((best, n, i) => (n > shared[best] ? i : best), slot);
    // at least the last prompt token runs again, for its logits
    const cap = (n: number, s: number) => Math.min(this.core.exactLength(s, Math.min(n, this.slots[s].ids.length)), seq.prompt.length - 1);
    let cached = cap(shared[slot], slot);
    if (source !== slot && cap(shared[source], source) > cached) {
      cached = cap(shared[source], source);
      this.core.copyPrefix(source, slot, cached);
      this.slots[slot].ids = this.slots[source].ids.slice(0, cached);
      this.prefix.copies++;
    }
    const s = this.slots[slot];
    s.ids.length = cached;
    this.core.truncate(cached, slot);
    s.owner = seq;
    s.used = ++this.clock;
    if (cached > 0) { this.prefix.hits++; this.prefix.tokensSaved += cached; }
    seq.admit(slot, cached);
    this.running.push(seq);
  }

  private end(seq: Sequence, reason: Parameters<Sequence['finish']>[0]): void {
    this.release(seq);
    seq.finish(reason);
  }

  private fail(seq: Sequence, e: unknown): void {
    if (seq.slot >= 0) this.slots[seq.slot].ids.length = 0; // its rows may be half written
    this.release(seq);
    seq.fail(e);
  }

  private release(seq: Sequence): void {
    const i = this.running.indexOf(seq);
    if (i >= 0) this.running.splice(i, 1);
    if (seq.slot >= 0 && this.slots[seq.slot].owner === seq) this.slots[seq.slot].owner = undefined;
    this.admitWaiting();
  }
}

/** Length of the common prefix of a and b. */
function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
