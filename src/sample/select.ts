// Candidate selection over a full logits row without sorting the vocabulary.
// Order everywhere: higher logit first, lower id first among equal logits. NaN logits are never selected.

/** Index of the largest logit, lowest id on ties (-1 when every logit is NaN or -Infinity). */
export function argmax(l: Float32Array): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < l.length; i++) {
    if (l[i] > bv) { bv = l[i]; best = i; }
  }
  return best;
}

/**
 * The k best ids of `l` into out[0..k), best first, through a size-k min-heap: O(V log k) worst case, and
 * one comparison per id once the heap holds good values. Returns how many were written (< k only when
 * fewer than k logits are numbers).
 */
export function topKIds(l: Float32Array, k: number, out: Int32Array): number {
  const heap = out; // heap[0] is the worst kept id
  let n = 0;
  // "worse" = smaller logit, or the same logit and a larger id
  const worse = (a: number, b: number) => l[a] < l[b] || (l[a] === l[b] && a > b);
  for (let i = 0; i < l.length; i++) {
    const v = l[i];
    if (n < k) {
      if (v !== v) continue;
      let c = n++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(i, heap[p])) break;
        heap[c] = heap[p];
        c = p;
      }
      heap[c] = i;
    } else if (v > l[heap[0]]) {
      let c = 0;
      for (;;) {
        const a = 2 * c + 1;
        if (a >= n) break;
        const m = a + 1 < n && worse(heap[a + 1], heap[a]) ? a + 1 : a;
        if (!worse(heap[m], i)) break;
        heap[c] = heap[m];
        c = m;
      }
      heap[c] = i;
    }
  }
  sortIds(l, out, n);
  return n;
}

/**
 * The top-p nucleus over the whole vocabulary (the smallest best-first set whose probability reaches p)
 * into out, without sorting it: a histogram of probability mass over 1/16-nat bins below the maximum finds
 * the bin where the cumulative mass crosses p. Every id in a better bin is in the nucleus; only the ids of
 * the crossing bin are sorted to find where to cut. Returns the count (ids of better bins first, in id
 * order, then the crossing bin's best first).
 */
export function nucleus(l: Float32Array, lmax: number, p: number, out: Int32Array, hist: Float64Array): number {
  const bins = hist.length;
  hist.fill(0);
  let z = 0;
  for (let i = 0; i < l.length; i++) {
    const d = lmax - l[i];
    if (!(d >= 0)) continue; // NaN
    const w = Math.exp(-d);
    hist[bin(d, bins)] += w;
    z += w;
  }
  const target = p * z;
  let edge = bins - 1;
  let before = 0; // mass of the bins better than edge
  for (let b = 0; b < bins; b++) {
    if (before + hist[b] >= target) { edge = b; break; }
    before += hist[b];
  }
  let n = 0;
  for (let i = 0; i < l.length; i++) {
    const d = lmax - l[i];
    if (d >= 0 && bin(d, bins) < edge) out[n++] = i;
  }
  let m = n;
  for (let i = 0; i < l.length; i++) {
    const d = lmax - l[i];
    if (d >= 0 && bin(d, bins) === edge) out[m++] = i;
  }
  const tail = out.subarray(n, m);
  sortIds(l, tail, tail.length);
  return n + nucleusCut(l, lmax, tail, tail.length, target - before);
}

/** Length of the shortest best-first prefix of ids whose mass sum(exp(l - lmax)) reaches `target`. */
export function nucleusCut(l: Float32Array, lmax: number, ids: Int32Array, n: number, target: number): number {
  let cum = 0;
  for (let j = 0; j < n; j++) {
    cum += Math.exp(l[ids[j]] - lmax);
    if (cum >= target) return j + 1;
  }
  return n;
}

function bin(d: number, bins: number): number {
  const b = d * 16;
  return b < bins - 1 ? Math.floor(b) : bins - 1;
}

/** Sorts ids[0..n) best first. */
export function sortIds(l: Float32Array, ids: Int32Array, n: number): void {
  ids.subarray(0, n).sort((a, b) => l[b] - l[a] || a - b);
}
