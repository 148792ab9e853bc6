// Stop strings in streamed text: what could still become a stop string is held back until it cannot.

/**
 * Holds back text that could be the start of a stop string; reports a match and drops it and all after it.
 */
export class StopFilter {
  stopped = false;
  private pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds decoded text; returns what is now safe to emit. */
  push(piece: string): string {
    if (this.stopped) return '';
    const p = this.pending + piece;
    let cut = -1;
    for (const s of this.stops) {
      const i = p.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.pending = '';
      return p.slice(0, cut);
    }
    const hold = this.heldLength(p);
    this.pending = p.slice(p.length - hold);
    return p.slice(0, p.length - hold);
  }

  /** Generation ended: everything held back is safe unless the last piece completes a stop string. */
  end(piece: string): string {
    const out = this.push(piece);
    if (this.stopped) return out;
    const rest = this.pending;
    this.pending = '';
    return out + rest;
  }

  /** Length of the longest suffix of p that is a proper prefix of a stop string. */
  private heldLength(p: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, p.length); n > best; n--) {
        if (p.endsWith(s.slice(0, n))) { best = n; break; }
      }
    }
    return best;
  }
}
