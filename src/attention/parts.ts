// Softmax over positions split in parts (flash-decoding style): each part p has its own max m_p and sum
// s_p = Σ e^(x - m_p) over its positions; with M the largest max, Σ_p s_p·e^(m_p - M) is the sum of e^(x - M)
// over all of them.

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
