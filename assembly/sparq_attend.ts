// SparQ's steps 2 and 3 for one KV head in one call (docs/sparq.md §2): the merge of step 1's per-part
// softmax sums, the selection, exact attention over the gathered rows and the mean-value reallocation, so
// that a decode step hands each KV head to a thread once after step 1.
import { sparq_select, sparq_realloc } from './sparq';
import { attn_rows, attn_scratch_bytes } from './attention';
import { topk_work_bytes } from './topk';

// attn_rows' part of the scratch, rounded up so that the selection's work area after it stays aligned
@inline
function attnPart(d: i32): i32 { return (attn_scratch_bytes(d) + 15) & ~15; }

/** Scratch bytes of one sparq_attend call over up to `capacity` positions (attn_rows' and the selection's). */
export function sparq_attend_scratch_bytes(d: i32, capacity: i32): i32 {
  return attnPart(d) + max(4 * d, topk_work_bytes(capacity));
}

/**
 * One KV head's steps 2 and 3 over S positions. lse: `parts` (max, sum) pairs of step 1 (f32 [parts][2]),
 * merged in place into the first pair as M = max_p m_p and Σ_p s_p·e^(m_p - M) (a part with m_p = -Infinity
 * saw no position and weighs 0); parts = 0 when neither reallocation nor the adaptive budget needs them.
 * Then sparq_select over the scores z (k, l, sinks, topP, kMin as there) into idx, attn_rows for the g query
 * rows q (f32 [g][d]) over the gathered K and V rows (kp, kRow, kType; vp, vRow, vType; scale, softcap) into
 * out, and with vsum != 0 sparq_realloc with the V sum at vsum. scratch: sparq_attend_scratch_bytes.
 * Returns the count of selected positions (the cache bytes read follow from it).
 */
export function sparq_attend(z: usize, S: i32, k: i32, l: i32, sinks: i32, topP: f32, kMin: i32, lse: usize, parts: i32,
  idx: usize, q: usize, out: usize, g: i32, d: i32, scale: f32, kp: usize, kRow: i32, kType: i32, vp: usize, vRow: i32,
  vType: i32, softcap: f32, vsum: usize, scratch: usize): i32 {
  if (parts > 0) {
    let m: f32 = -Infinity;
    for (let p = 0; p < parts; p++) m = max(m, load<f32>(lse + (<usize>p << 3)));
    let sum: f32 = 0;
    for (let p = 0; p < parts; p++) {
      const mp = load<f32>(lse + (<usize>p << 3));
      if (mp > -Infinity) sum += load<f32>(lse + (<usize>p << 3), 4) * Mathf.exp(mp - m);
    }
    store<f32>(lse, m);
    store<f32>(lse, sum, 4);
  }
  const cnt = sparq_select(z, S, k, l, sinks, idx, scratch + <usize>attnPart(d), lse, topP, kMin);
  attn_rows(q, 0, out, 0, g, 1, cnt - 1, d, scale, kp, kRow, kType, vp, vRow, vType, idx, scratch, softcap, 0);
  if (vsum != 0) sparq_realloc(out, g, d, z, lse, idx, cnt, vsum, S);
  return cnt;
}
