// Min-priority queue of candidate merges (priority, left symbol position); ties go to the leftmost pair.
// Entries may go stale as symbols merge; callers re-check a popped entry against the current symbols.

export class PairQueue {
  private prio: number[] = [];
  private pos: number[] = [];

  get size(): number { return this.prio.length; }

  clear(): void { this.prio.length = 0; this.pos.length = 0; }

  push(priority: number, position: number): void {
    const p = this.prio, q = this.pos;
    let i = p.length;
    p.push(priority); q.push(position);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(priority, position, p[parent], q[parent])) break;
      p[i] = p[parent]; q[i] = q[parent];
      i = parent;
    }
    p[i] = priority; q[i] = position;
  }

  /** Removes the smallest entry; returns its position (its priority is in `lastPriority`). */
  pop(): number {
    const p = this.prio, q = this.pos;
    const topPos = q[0];
    this.lastPriority = p[0];
    const lastP = p.pop()!, lastQ = q.pop()!;
    const n = p.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && this.less(p[c + 1], q[c + 1], p[c], q[c])) c++;
        if (!this.less(p[c], q[c], lastP, lastQ)) break;
        p[i] = p[c]; q[i] = q[c];
        i = c;
      }
      p[i] = lastP; q[i] = lastQ;
    }
    return topPos;
  }

  lastPriority = 0;

  private less(pa: number, qa: number, pb: number, qb: number): boolean {
    return pa < pb || (pa === pb && qa < qb);
  }
}
