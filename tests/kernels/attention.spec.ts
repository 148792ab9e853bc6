// attn_rows against a scalar f64 reference: GQA, MHA, MQA, odd head dims, S = 1..300, contiguous and
// gathered positions, f32, f16 and q8 rows (q8 against the decoded rows: the integer path rounds the
// queries and the V weights to i16, relative 2^-16 of each row's largest: outputs of size ~1 move by up to
// about 5e-5 here; the bound is 2e-4).
import { attn_rows, attn_scratch_bytes } from '../../assembly/attention';
import { kv_encode_row, kv_decode_row } from '../../assembly/kv_cache';
import { kv_row_bytes } from '../../assembly/kv_layout';
import { F32, F16, KV_Q8 } from '../../assembly/types';

let seed: u32 = 12345;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5) * 3;
}

function fill(p: usize, n: i32): void { for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), rnd()); }

// Reference for row (t, j): attends to entries [0, pos0+t+1) of the list (idx or identity) over decoded rows.
function refRow(q: usize, kd: usize, vd: usize, idx: usize, d: i32, lim: i32, scale: f64, o: usize): void {
  const s = new Array<f64>(lim);
  let m = -Infinity;
  for (let p = 0; p < lim; p++) {
    const r = idx != 0 ? load<i32>(idx + (<usize>p << 2)) : p;
    let dot: f64 = 0;
    for (let i = 0; i < d; i++) dot += <f64>load<f32>(q + (<usize>i << 2)) * <f64>load<f32>(kd + (<usize>(r * d + i) << 2));
    s[p] = dot * scale;
    if (s[p] > m) m = s[p];
  }
  let z: f64 = 0;
  for (let p = 0; p < lim; p++) { s[p] = Math.exp(s[p] - m); z += s[p]; }
  for (let i = 0; i < d; i++) {
    let y: f64 = 0;
    for (let p = 0; p < lim; p++) {
      const r = idx != 0 ? load<i32>(idx + (<usize>p << 2)) : p;
      y += s[p] / z * <f64>load<f32>(vd + (<usize>(r * d + i) << 2));
    }
    store<f64>(o + (<usize>i << 3), y);
  }
}

// Builds a cache of S positions for one KV head, runs nTok rows of g heads ending at S, compares.
function check(g: i32, d: i32, S: i32, nTok: i32, type: i32, gather: bool): f64 {
  const rb = kv_row_bytes(d, type);
  const k = heap.alloc(<usize>(S * rb) + 16);
  const v = heap.alloc(<usize>(S * rb) + 16);
  const kd = heap.alloc(<usize>(S * d) << 2);
  const vd = heap.alloc(<usize>(S * d) << 2);
  const tmp = heap.alloc(<usize>d << 2);
  for (let p = 0; p < S; p++) {
    fill(tmp, d); kv_encode_row(tmp, k + <usize>(p * rb), d, type); kv_decode_row(k + <usize>(p * rb), kd + (<usize>(p * d) << 2), d, type);
    fill(tmp, d); kv_encode_row(tmp, v + <usize>(p * rb), d, type); kv_decode_row(v + <usize>(p * rb), vd + (<usize>(p * d) << 2), d, type);
  }
  // a gather list: every other position backwards, then the rest
  let n = S;
  let idx: usize = 0;
  if (gather) {
    n = (S + 1) >> 1;
    idx = heap.alloc(<usize>n << 2);
    for (let p = 0; p < n; p++) store<i32>(idx + (<usize>p << 2), S - 1 - 2 * p);
    nTok = 1;
  }
  const pos0 = n - nTok;
  const q = heap.alloc(<usize>(nTok * g * d) << 2);
  const out = heap.alloc(<usize>(nTok * g * d) << 2);
  fill(q, nTok * g * d);
  const scratch = heap.alloc(<usize>attn_scratch_bytes(d));
  const scale: f32 = <f32>1 / Mathf.sqrt(<f32>d);
  const bytes = attn_rows(q, g * d * 4, out, g * d * 4, g, nTok, pos0, d, scale, k, rb, type, v, rb, type, idx, scratch, 0, 0);
  expect(bytes).toBeGreaterThan(0);
  const o = heap.alloc(<usize>d << 3);
  let worst: f64 = 0;
  for (let t = 0; t < nTok; t++) {
    for (let j = 0; j < g; j++) {
      const off = <usize>((t * g + j) * d) << 2;
      refRow(q + off, kd, vd, idx, d, pos0 + t + 1, <f64>scale, o);
      for (let i = 0; i < d; i++) {
        const e = Math.abs(<f64>load<f32>(out + off + (<usize>i << 2)) - load<f64>(o + (<usize>i << 3)));
        if (e > worst) worst = e;
      }
    }
  }
  heap.free(k); heap.free(v); heap.free(kd); heap.free(vd); heap.free(tmp); heap.free(q); heap.free(out); heap.free(scratch); heap.free(o);
  if (idx != 0) heap.free(idx);
  return worst;
}

/** Outputs whose bits differ between one call over nTok tokens (g heads each) ending at S and calls over
 *  blocks of `block` tokens (the same rows in other groupings: other partners in the register tiles). */
function blockMismatches(g: i32, d: i32, S: i32, nTok: i32, block: i32, type: i32): i32 {
  const rb = kv_row_bytes(d, type);
  const k = heap.alloc(<usize>(S * rb) + 16), v = heap.alloc(<usize>(S * rb) + 16), tmp = heap.alloc(<usize>d << 2);
  for (let p = 0; p < S; p++) {
    fill(tmp, d); kv_encode_row(tmp, k + <usize>(p * rb), d, type);
    fill(tmp, d); kv_encode_row(tmp, v + <usize>(p * rb), d, type);
  }
  const rowBytes = g * d * 4;
  const q = heap.alloc(<usize>(nTok * rowBytes)), a = heap.alloc(<usize>(nTok * rowBytes)), b = heap.alloc(<usize>(nTok * rowBytes));
  fill(q, nTok * g * d);
  const scratch = heap.alloc(<usize>attn_scratch_bytes(d));
  const scale: f32 = <f32>1 / Mathf.sqrt(<f32>d);
  attn_rows(q, rowBytes, a, rowBytes, g, nTok, S - nTok, d, scale, k, rb, type, v, rb, type, 0, scratch, 0, 0);
  for (let t0 = 0; t0 < nTok; t0 += block) {
    const off = <usize>(t0 * rowBytes);
    attn_rows(q + off, rowBytes, b + off, rowBytes, g, min(block, nTok - t0), S - nTok + t0, d, scale, k, rb, type, v, rb, type, 0, scratch, 0, 0);
  }
  let bad = 0;
  for (let i = 0; i < nTok * g * d; i++) if (load<u32>(a + (<usize>i << 2)) != load<u32>(b + (<usize>i << 2))) bad++;
  heap.free(k); heap.free(v); heap.free(tmp); heap.free(q); heap.free(a); heap.free(b); heap.free(scratch);
  return bad;
}

const sizes: i32[] = [1, 2, 3, 5, 63, 64, 65, 130, 300];

describe('attn_rows', () => {
  it('decode, GQA group of 4, d 64, f32, every S', () => {
    for (let i = 0; i < sizes.length; i++) expect(check(4, 64, sizes[i], 1, F32, false)).toBeLessThan(2e-6);
  });
  it('decode, MHA (group 1), d 20, f32 and f16, every S', () => {
    for (let i = 0; i < sizes.length; i++) {
      expect(check(1, 20, sizes[i], 1, F32, false)).toBeLessThan(2e-6);
      expect(check(1, 20, sizes[i], 1, F16, false)).toBeLessThan(2e-6);
    }
  });
  it('prefill: causal rows spanning several row blocks (MQA group of 6, d 36, 40 tokens)', () => {
    expect(check(6, 36, 40, 40, F32, false)).toBeLessThan(2e-6);
    expect(check(6, 36, 300, 21, F16, false)).toBeLessThan(2e-6);
  });
  it('a row has the same bits in any grouping of the call\'s rows (one call, blocks of 5 and of 3 tokens, token by token)', () => {
    const blocks: i32[] = [5, 3, 1];
    for (let i = 0; i < blocks.length; i++) {
      expect(blockMismatches(4, 64, 150, 21, blocks[i], F32)).toBe(0, 'GQA 4, d 64, f32, block ' + blocks[i].toString());
      expect(blockMismatches(3, 36, 90, 13, blocks[i], F16)).toBe(0, 'group 3, d 36, f16, block ' + blocks[i].toString());
      expect(blockMismatches(1, 22, 70, 9, blocks[i], F32)).toBe(0, 'MHA, d 22, f32, block ' + blocks[i].toString());
    }
  });
  it('q8 rows (integer path): GQA groups of 4 and 3, MHA, every S, blocks of 32, 16 and 8', () => {
    for (let i = 0; i < sizes.length; i++) {
      expect(check(4, 64, sizes[i], 1, KV_Q8, false)).toBeLessThan(2e-4);
      expect(check(3, 48, sizes[i], 1, KV_Q8, false)).toBeLessThan(2e-4);
      expect(check(1, 128, sizes[i], 1, KV_Q8, false)).toBeLessThan(2e-4);
      expect(check(1, 24, sizes[i], 1, KV_Q8, false)).toBeLessThan(2e-4);
    }
  });
  it('q8 prefill: causal rows in groups of 4 across row blocks (MQA group of 6, d 40; GQA 4, d 64)', () => {
    expect(check(6, 40, 40, 40, KV_Q8, false)).toBeLessThan(2e-4);
    expect(check(4, 64, 300, 21, KV_Q8, false)).toBeLessThan(2e-4);
    expect(check(1, 64, 130, 70, KV_Q8, false)).toBeLessThan(2e-4);
  });
  it('q8 rows give the same bits in any grouping of the call\'s tokens (blocks of 4 tokens, token by token)', () => {
    expect(blockMismatches(4, 64, 150, 21, 4, KV_Q8)).toBe(0, 'GQA 4, d 64, q8, block 4');
    expect(blockMismatches(4, 64, 150, 21, 1, KV_Q8)).toBe(0, 'GQA 4, d 64, q8, block 1');
  });
  it('gathered positions (SparQ step 2)', () => {
    expect(check(2, 64, 1, 1, F32, true)).toBeLessThan(2e-6);
    expect(check(2, 64, 257, 1, F32, true)).toBeLessThan(2e-6);
    expect(check(3, 20, 131, 1, F16, true)).toBeLessThan(2e-6);
    expect(check(4, 64, 257, 1, KV_Q8, true)).toBeLessThan(2e-4);
    expect(check(1, 128, 131, 1, KV_Q8, true)).toBeLessThan(2e-4);
  });
});
