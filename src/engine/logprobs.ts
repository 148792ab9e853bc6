// A generated token's log-probability under the model and the most likely alternatives at its position.
import type { TokenLogprob } from './types.js';

/** log softmax(logits)[id], and the `top` most likely tokens with theirs (ties: lower id first). */
export function tokenLogprob(logits: Float32Array, id: number, top: number): TokenLogprob {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - m);
  const lse = m + Math.log(z);
  const best: number[] = [];
  for (let i = 0; i < logits.length && top > 0; i++) {
    if (best.length === top && logits[i] <= logits[best[top - 1]]) continue;
    let j = Math.min(best.length, top - 1);
    best[j] = i;
    while (j > 0 && logits[best[j - 1]] < logits[i]) { best[j] = best[j - 1]; best[--j] = i; }
  }
  return { token: id, logprob: logits[id] - lse, top: best.map((t) => ({ token: t, logprob: logits[t] - lse })) };
}
