// Decode steps over long sequences split the positions into parts of POSITION_PART: each (KV head, part)
// is one task, so threads share a step even with one KV head, and the parts are the same for any thread
// count (so is the result). Dense decode (attn_rows per part) and SparQ step 1 (sparq_scores per part) both
// merge their parts' softmax sums, flash-decoding style: each part p has its own max m_p and sum
// s_p = Σ e^(x - m_p) over its positions; with M the largest max, Σ_p s_p·e^(m_p - M) is the sum of e^(x - M)
// over all of them. A multiple of the transposed-K tile (KT_TILE).

export const POSITION_PART = 4096;

/** Parts of a sequence of `positions` positions. */
export function partsOf(positions: number): number { return Math.ceil(positions / POSITION_PART); }

/**
 * pairs: f32 (max, sum) pairs, part p's at index at(p). Writes w[p] = s_p·e^(m_p - M) (0 for a part that saw no
 * position: max -Infinity) and returns M.
 */
export function weighParts(pairs: Float32Array, at: (p: number) => number, parts: number, w: Float64Array): number {
  let m = -Infinity;
  for (let p = 0; p < parts; p++) m = Math.max(m, pairs[at(p)]);
  for (let p = 0; p < parts; p++) {
    const i = at(p);
    w[p] = pairs[i] > -Infinity ? pairs[i + 1] * Math.exp(pairs[i] - m) : 0;
  }
  return m;
}
